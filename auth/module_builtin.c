/* In libcarto-auth the heavy half is linked in: no loading needed. */
#include "auth/module.h"

extern const struct ca_module ca_module_table;

const struct ca_module *ca_module_get(void)
{
	return &ca_module_table;
}
