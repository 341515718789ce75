/*
 * The Secret Service store (org.freedesktop.secrets through libsecret):
 * GNOME Keyring, KWallet, KeePassXC. Lives in the keyring half (GLib),
 * carto-auth-keyring.so, reached through ca_keyring_module->open, which is
 * secret_fast_open: a front that reads a stored token in a few direct D-Bus
 * calls and hands everything else to secret_store.c.
 */
#ifndef CA_KEYRING_SECRET_STORE_H
#define CA_KEYRING_SECRET_STORE_H

#include "token/identity.h"
#include "token/token.h"

#include <glib.h>
#include <stddef.h>

struct store;

/* libsecret schema names: what a keyring app shows as the item's kind. */
#define SECRET_STORE_TOKEN_SCHEMA "com.carto.auth.Token"
#define SECRET_STORE_CRED_SCHEMA "com.carto.auth.Credential"

/*
 * Connects to the Secret Service on the session bus, in bounded time.
 * CA_EKEYRING with a message when there is no session bus, nothing
 * provides org.freedesktop.secrets, the service does not answer, or
 * (when no unlock prompt may be shown) the default collection is locked
 * or missing.
 */
int ca_secret_store_open(struct store **out, const struct ca_store_options *opts);

/*
 * The same store behind the fast path for token reads (secret_fast.c):
 * opening costs one round trip of direct calls when the service runs with
 * its default collection unlocked (and asks in advance for the encrypted
 * session and the search a read of a token will want), and
 * secret_store_open otherwise.
 */
int ca_secret_fast_open(struct store **out, const struct ca_store_options *opts);

/* The attributes naming a token's identity (a new table; unref it). */
GHashTable *ca_secret_store_token_identity(const struct ca_identity *id);

/*
 * A token from an item's secret (JSON) and attributes; CA_EINVAL if not
 * ours, CA_ENOTFOUND when id (may be NULL: no check) is an M2M identity
 * and the item was stored for another client secret.
 */
int ca_secret_store_token_parse(struct ca_token *out, const char *data, size_t len,
	GHashTable *attrs, const struct ca_identity *id);

/*
 * Routes libsecret's GLib warnings to the debug log (the keyring table's
 * quiet_logs): for the executable only, which owns the process.
 */
void ca_secret_quiet_logs(void);

#endif
