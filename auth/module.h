/*
 * The heavy halves of the library, each behind a table of entry points:
 *
 *   struct ca_module          the network (auth/net/, here): libcurl and
 *                             its TLS stack, libyaml (M2M, OAuth,
 *                             discovery, Data Warehouse);
 *   struct ca_keyring_module  the Secret Service store (keyring/secret/,
 *                             keyring/module.h): libsecret, GLib, D-Bus.
 *
 * The shared library links both directly (module_builtin.c). The carto-auth
 * executable loads each one only when it needs it (helper/module_loader.c):
 * a token answered from the file store loads neither, and one answered from
 * the keyring loads only the keyring half, never libcurl or TLS.
 */
#ifndef CA_AUTH_MODULE_H
#define CA_AUTH_MODULE_H

#include "auth/config.h"
#include "token/token.h"

/* Bumped whenever a table changes; the loader refuses another value. */
#define CA_MODULE_ABI 2

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
	/* The device authorization grant (RFC 8628); fills api_base_url. */
	int (*device_login)(struct ca_token *out, const struct ca_config *cfg);
	/* {auth_url}/oauth/revoke for a refresh token (logout). */
	int (*oauth_revoke)(const struct ca_config *cfg, const char *refresh_token);
};


/*
 * The network half (carto-auth-net.so), loaded on first use. NULL with the
 * last error set when it cannot be loaded.
 */
const struct ca_module *ca_module_get(void);


#endif
