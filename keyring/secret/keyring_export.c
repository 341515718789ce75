/*
 * The entry point of carto-auth-keyring.so, the Secret Service store the
 * carto-auth executable loads when the keyring is used
 * (helper/module_loader.c). It maps libsecret and GLib, not libcurl. The
 * head tells the loader which build and layouts this module has
 * (auth/module.h).
 */
#include "keyring/module.h"

extern const struct ca_keyring_module ca_keyring_table;

static const size_t layout[] = CA_KEYRING_LAYOUT;

static const struct ca_module_head head = {
	.magic = CA_MODULE_MAGIC,
	.version = CA_BUILD_VERSION,
	.layout = layout,
	.layout_len = sizeof(layout) / sizeof(layout[0]),
	.table = &ca_keyring_table,
};

__attribute__((visibility("default")))
const struct ca_module_head *carto_auth_keyring_entry(void)
{
	return &head;
}
