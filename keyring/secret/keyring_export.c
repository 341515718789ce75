/*
 * The entry point of carto-auth-keyring.so, the Secret Service store the
 * carto-auth executable loads when the keyring is used
 * (helper/module_loader.c). It maps libsecret and GLib, not libcurl.
 */
#include "keyring/module.h"

extern const struct ca_keyring_module ca_keyring_table;

__attribute__((visibility("default")))
const struct ca_keyring_module *carto_auth_keyring_entry(void)
{
	return &ca_keyring_table;
}
