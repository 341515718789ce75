/*
 * Hands out a valid token for an identity: from the store when it has at
 * least min_ttl seconds left; otherwise, under the identity's lock (so one
 * renewal serves every waiting caller), by a refresh token, the client
 * credentials grant, or a login in the browser.
 */
#ifndef CA_AUTH_BROKER_H
#define CA_AUTH_BROKER_H

#include "auth/config.h"
#include "token/token.h"

struct store;

enum {
	BROKER_FORCE = 1 << 0, /* obtain a new token even if one is stored */
	BROKER_DEVICE = 1 << 1 /* log in with the device grant (RFC 8628) */
};

/* *out_fresh (may be NULL) tells whether the token came from the server. */
int ca_broker_token(struct ca_token *out, int *out_fresh, struct store *store,
	const struct ca_config *cfg, unsigned flags);

/*
 * Opens the store cfg asks for (keyring/store.h), telling it the identity
 * whose token a first read will want.
 */
int ca_broker_store_open(struct store **out, const struct ca_config *cfg);

/* Locks the identity of cfg (a file under $CARTO_AUTH_HOME/locks). */
int ca_broker_lock(int *out_fd, const struct ca_config *cfg, int timeout_ms);

#endif
