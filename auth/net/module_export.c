/*
 * The entry point of carto-auth-net.so, the network half the carto-auth
 * executable loads when it must talk to a server (helper/module_loader.c).
 */
#include "auth/module.h"

extern const struct ca_module ca_module_table;

__attribute__((visibility("default")))
const struct ca_module *carto_auth_net_entry(void)
{
	return &ca_module_table;
}
