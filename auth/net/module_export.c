/*
 * The entry point of carto-auth-net.so, the network half the carto-auth
 * executable loads when it must talk to a server (helper/module_loader.c).
 * The head tells the loader which build and layouts this module has
 * (auth/module.h).
 */
#include "auth/module.h"
#include "auth/net/http.h"

extern const struct ca_module ca_module_table;

#ifdef CA_TEST_ABI_SKEW_VERSION
/* tests: a module from another version of the same layouts */
#undef CA_BUILD_VERSION
#define CA_BUILD_VERSION CA_TEST_ABI_SKEW_VERSION
#endif

static const size_t layout[] = CA_NET_LAYOUT;

static const struct ca_module_head head = {
	.magic = CA_MODULE_MAGIC,
	.version = CA_BUILD_VERSION,
	.layout = layout,
	.layout_len = sizeof(layout) / sizeof(layout[0]),
	.table = &ca_module_table,
};

__attribute__((visibility("default")))
const struct ca_module_head *carto_auth_net_entry(void)
{
	/*
	 * Only the executable loads this module: libcurl may get its wiping
	 * allocator here (a failure shows at the first request).
	 */
	(void)ca_http_init_executable();
	return &head;
}
