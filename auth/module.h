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
#include "token/layout.h"
#include "token/token.h"

#include <stddef.h>
#include <stdint.h>

#define CA_LAYOUT_CONFIG(S, F) S(struct ca_config) \
	F(struct ca_config, mode) F(struct ca_config, auth_url) \
	F(struct ca_config, accounts_url) F(struct ca_config, redirect_uri) \
	F(struct ca_config, oauth_client_id) F(struct ca_config, scope) \
	F(struct ca_config, home) F(struct ca_config, cache_file) \
	F(struct ca_config, store) F(struct ca_config, credentials_file) \
	F(struct ca_config, client_id) F(struct ca_config, client_secret) \
	F(struct ca_config, api_base_url) F(struct ca_config, org) \
	F(struct ca_config, use_cache) F(struct ca_config, open_browser) \
	F(struct ca_config, interactive) F(struct ca_config, min_ttl) \
	F(struct ca_config, login_timeout) F(struct ca_config, carto_dw)

#define CA_LAYOUT_NET_TABLE(S, F) S(struct ca_module) \
	F(struct ca_module, m2m_token) F(struct ca_module, oauth_login) \
	F(struct ca_module, oauth_refresh) F(struct ca_module, discover_api_base_url) \
	F(struct ca_module, dw_credentials) F(struct ca_module, device_login) \
	F(struct ca_module, oauth_revoke)

/* What carto-auth-net.so shares with its loader. */
#define CA_NET_LAYOUT { CA_LAYOUT_CONFIG(CA_ABI_S, CA_ABI_F) \
	CA_LAYOUT_TOKEN(CA_ABI_S, CA_ABI_F) CA_LAYOUT_NET_TABLE(CA_ABI_S, CA_ABI_F) }

struct ca_module {
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
