/*
 * The check that a loadable module comes from the same build as the
 * program that loads it (helper/module_loader.c), kept below both module
 * tables (auth/module.h, keyring/module.h), with the layouts of the
 * records they share.
 */
#ifndef CA_TOKEN_LAYOUT_H
#define CA_TOKEN_LAYOUT_H

#include "token/identity.h"
#include "token/token.h"

#include <stddef.h>
#include <stdint.h>

/*
 * What a module and the program that loads it must share: the same build
 * (CA_BUILD_VERSION, the project's version from CMake) and the same
 * layouts of every struct that crosses the boundary. Each module's entry
 * point returns this head; the layout is the list of sizeof, _Alignof and
 * offsetof values below, made by the compiler on each side, so a change to
 * any of these structs is caught without bumping anything by hand.
 * helper/module_loader.c refuses a module whose head differs.
 *
 * The head's own layout never changes: magic first, so that a module from
 * before this head (whose table began with an int) is refused unread.
 */
#define CA_MODULE_MAGIC UINT64_C(0x63612d6d6f643031) /* "ca-mod01" */

struct ca_module_head {
	uint64_t magic;          /* CA_MODULE_MAGIC */
	const char *version;     /* CA_BUILD_VERSION */
	const size_t *layout;    /* CA_*_LAYOUT values */
	size_t layout_len;
	const void *table;       /* struct ca_module or ca_keyring_module */
};

/*
 * The layouts, as X-macro lists: S(type) for a struct, F(type, member)
 * for each member. A struct that starts crossing the boundary gets a list
 * here, in auth/module.h or in keyring/module.h and joins CA_NET_LAYOUT
 * (auth/module.h) or CA_KEYRING_LAYOUT (keyring/module.h).
 */
#define CA_ABI_S(type) sizeof(type), _Alignof(type),
#define CA_ABI_F(type, member) offsetof(type, member), sizeof(((type *)0)->member),

#define CA_LAYOUT_TOKEN(S, F) S(struct ca_token) \
	F(struct ca_token, access_token) F(struct ca_token, expiration) \
	F(struct ca_token, api_base_url) F(struct ca_token, refresh_token) \
	F(struct ca_token, account) F(struct ca_token, lifetime)

#define CA_LAYOUT_IDENTITY(S, F) S(struct ca_identity) \
	F(struct ca_identity, mode) F(struct ca_identity, auth_url) \
	F(struct ca_identity, client_id) F(struct ca_identity, org) \
	F(struct ca_identity, api_base_url) F(struct ca_identity, has_secret) \
	F(struct ca_identity, secret_digest)

#define CA_LAYOUT_STORE_OPTIONS(S, F) S(struct ca_store_options) \
	F(struct ca_store_options, home) F(struct ca_store_options, cache_file) \
	F(struct ca_store_options, kind) F(struct ca_store_options, interactive) \
	F(struct ca_store_options, prefetch)

#endif
