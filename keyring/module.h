/*
 * The keyring half of the library (keyring/secret/, libsecret), behind a
 * table of entry points like the network half's (auth/module.h): linked
 * into libcarto-auth, loaded by the executable only when the keyring is
 * used. It sees the store options, never the configuration.
 */
#ifndef CA_KEYRING_MODULE_H
#define CA_KEYRING_MODULE_H

#include "keyring/store.h"
#include "token/identity.h"
#include "token/layout.h"

struct ca_keyring_module {
	/* The Secret Service store; CA_EKEYRING when it cannot be reached. */
	int (*open)(struct store **out, const struct ca_store_options *opts);
	/*
	 * Routes libsecret's GLib log messages to the debug log. GLib's log
	 * handlers are the process's: only the executable calls this (its
	 * loader, after loading), never the library, whose host owns them.
	 */
	void (*quiet_logs)(void);
};

#define CA_LAYOUT_STORE(S, F) S(struct store) F(struct store, ops) \
	S(struct store_ops) F(struct store_ops, name) F(struct store_ops, token_load) \
	F(struct store_ops, token_save) F(struct store_ops, token_erase) \
	F(struct store_ops, token_list) F(struct store_ops, token_erase_info) \
	F(struct store_ops, cred_get) F(struct store_ops, cred_store) \
	F(struct store_ops, cred_erase) F(struct store_ops, free)

#define CA_LAYOUT_STORE_INFO(S, F) S(struct store_token_info) \
	F(struct store_token_info, mode) F(struct store_token_info, auth_url) \
	F(struct store_token_info, client_id) F(struct store_token_info, org) \
	F(struct store_token_info, api_base_url) F(struct store_token_info, account) \
	F(struct store_token_info, location) F(struct store_token_info, expiration) \
	F(struct store_token_info, has_refresh_token)

#define CA_LAYOUT_CRED(S, F) S(struct cred) \
	F(struct cred, protocol) F(struct cred, host) F(struct cred, path) \
	F(struct cred, username) F(struct cred, password) \
	F(struct cred, oauth_refresh_token) F(struct cred, password_expiry_utc)

#define CA_LAYOUT_KEYRING_TABLE(S, F) S(struct ca_keyring_module) \
	F(struct ca_keyring_module, open) F(struct ca_keyring_module, quiet_logs)

/* What carto-auth-keyring.so shares with its loader (token/layout.h). */
#define CA_KEYRING_LAYOUT { CA_LAYOUT_IDENTITY(CA_ABI_S, CA_ABI_F) \
	CA_LAYOUT_STORE_OPTIONS(CA_ABI_S, CA_ABI_F) \
	CA_LAYOUT_TOKEN(CA_ABI_S, CA_ABI_F) CA_LAYOUT_STORE(CA_ABI_S, CA_ABI_F) \
	CA_LAYOUT_STORE_INFO(CA_ABI_S, CA_ABI_F) CA_LAYOUT_CRED(CA_ABI_S, CA_ABI_F) \
	CA_LAYOUT_KEYRING_TABLE(CA_ABI_S, CA_ABI_F) }

/*
 * The keyring half (carto-auth-keyring.so), loaded on first use. NULL
 * with the last error set when it cannot be loaded.
 */
const struct ca_keyring_module *ca_keyring_module_get(void);

#endif
