/*
 * The entry point of carto-auth-net.so, the network half the carto-auth
 * executable loads when it must talk to a server (helper/module_loader.c).
 */
#include "auth/module.h"
#include "auth/net/http.h"

extern const struct ca_module ca_module_table;

__attribute__((visibility("default")))
const struct ca_module *carto_auth_net_entry(void)
{
	/*
	 * Only the executable loads this module: libcurl may get its wiping
	 * allocator here (a failure shows at the first request).
	 */
	(void)ca_http_init_executable();
	return &ca_module_table;
}
