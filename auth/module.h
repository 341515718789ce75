/*
 * The heavy half of the library: everything that talks to the network
 * (libcurl, TLS) or to the keyring (libsecret, GLib, D-Bus).
 *
 * The shared library links it directly (module_builtin.c). The carto-auth
 * executable loads it only when a request cannot be answered from the file
 * store (helper/module_loader.c), so that a cached answer never pays for
 * loading libcurl, TLS or GLib.
 */
#ifndef CA_AUTH_MODULE_H
#define CA_AUTH_MODULE_H

#include "auth/config.h"
#include "auth/token.h"

struct store;

#define CA_MODULE_ABI 1

struct ca_module {
	int abi;
	/* Client-credentials grant. */
	int (*m2m_token)(struct ca_token *out, const struct ca_config *cfg);
	/* Authorization code with PKCE in the browser or paste mode; fills
	 * api_base_url (given or discovered). */
	int (*oauth_login)(struct ca_token *out, const struct ca_config *cfg);
	/* Refresh-token grant; a rotated refresh token lands in out. */
	int (*oauth_refresh)(struct ca_token *out, const struct ca_config *cfg,
		const char *refresh_token);
	/* Accounts endpoint + tenant config.yaml -> apis.baseUrl. */
	int (*discover_api_base_url)(char **out, const struct ca_config *cfg,
		const char *access_token);
	/* {api_base_url}/v3/connections/carto-dw/token. */
	int (*dw_credentials)(char **out_project, char **out_token,
		const struct ca_config *cfg, const char *api_base_url,
		const char *access_token);
	/* The Secret Service store; CA_EKEYRING when it cannot be reached. */
	int (*keyring_open)(struct store **out, const struct ca_config *cfg);
};

/*
 * The module, loaded on first use. NULL with the last error set when it
 * cannot be loaded.
 */
const struct ca_module *ca_module_get(void);

#endif
