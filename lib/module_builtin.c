/* In libcarto-auth both heavy halves are linked in: no loading needed. */
#include "auth/module.h"
#include "keyring/module.h"

extern const struct ca_module ca_module_table;
extern const struct ca_keyring_module ca_keyring_table;

const struct ca_module *ca_module_get(void)
{
	return &ca_module_table;
}

const struct ca_keyring_module *ca_keyring_module_get(void)
{
	return &ca_keyring_table;
}
