/*
 * The entry point of carto-auth-module.so, the heavy half loaded by the
 * carto-auth executable on a cache miss (helper/module_loader.c).
 */
#include "auth/module.h"

extern const struct ca_module ca_module_table;

__attribute__((visibility("default")))
const struct ca_module *carto_auth_module_entry(void)
{
	return &ca_module_table;
}
