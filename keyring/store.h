/*
 * Token stores behind one interface: the file store (file_store.c, always
 * there) and the Secret Service (secret_store.c, loaded on demand).
 *
 * A store keeps two kinds of things:
 *  - CARTO tokens, keyed by an identity (token/identity.h: mode, auth
 *    server, client id, organization, API base URL, and for M2M the
 *    digest of the client secret);
 *  - general git credentials (protocol, host, path, username).
 * Every function returns 0, CA_ENOTFOUND, or another negative code with
 * the last error set. An unreachable or locked keyring is CA_EKEYRING,
 * never CA_ENOTFOUND.
 */
#ifndef CA_KEYRING_STORE_H
#define CA_KEYRING_STORE_H

#include <stdint.h>

#include "token/identity.h"
#include "token/token.h"

/* A stored token's description, without its secrets (for status/logout). */
struct store_token_info {
	enum ca_mode mode;
	const char *auth_url;
	const char *client_id;    /* m2m client id, or NULL */
	const char *org;          /* OAuth organization, or NULL */
	const char *api_base_url;
	const char *account;
	const char *location;     /* file path or "keyring" */
	int64_t expiration;
	int has_refresh_token;
};

typedef int (*store_token_cb)(const struct store_token_info *info, void *payload);

/* A general git credential. NULL fields are absent. */
struct cred {
	char *protocol;
	char *host;
	char *path;
	char *username;
	char *password;            /* secret */
	char *oauth_refresh_token; /* secret */
	int64_t password_expiry_utc; /* 0: none */
};

void ca_cred_clear(struct cred *c);
/* git's rule: every field set in want equals the one in have. */
int ca_cred_matches(const struct cred *want, const struct cred *have);

struct store;

struct store_ops {
	const char *name; /* "file" or "keyring" */
	int (*token_load)(struct store *s, struct ca_token *out, const struct ca_identity *id);
	int (*token_save)(struct store *s, const struct ca_identity *id, const struct ca_token *tok);
	int (*token_erase)(struct store *s, const struct ca_identity *id);
	/* Calls cb for every stored CARTO token; cb returning non-zero stops. */
	int (*token_list)(struct store *s, store_token_cb cb, void *payload);
	/* Erases a token described by info (logout of a listed entry). */
	int (*token_erase_info)(struct store *s, const struct store_token_info *info);
	/* The first unexpired credential matching query. */
	int (*cred_get)(struct store *s, struct cred *out, const struct cred *query);
	/* Replaces the credential with the same protocol/host/path/username. */
	int (*cred_store)(struct store *s, const struct cred *c);
	/* Removes every credential matching query (and its password, if set). */
	int (*cred_erase)(struct store *s, const struct cred *query);
	void (*free)(struct store *s);
};

struct store {
	const struct store_ops *ops;
};

/* The file store rooted at opts->home (or the single file opts->cache_file). */
int ca_file_store_open(struct store **out, const struct ca_store_options *opts);

/*
 * Serialises and parses a token file in the reference's format plus the
 * identity fields (exported for the fuzzers and tests).
 */
char *ca_file_store_token_json(const struct ca_identity *id, const struct ca_token *tok);
int ca_file_store_token_parse(struct ca_token *out, const char *json, size_t len,
	const struct ca_identity *id);

/*
 * The salted fingerprint of an M2M client secret (fingerprint.c): stored
 * beside the token as "secret_salt" and "secret_hmac", never the secret.
 * It is taken of the secret's SHA-256 digest (struct ca_identity), so
 * that the stores never hold the secret itself.
 */
#define STORE_FP_SALT_HEX 32
#define STORE_FP_HMAC_HEX 64

struct store_fp {
	char salt[STORE_FP_SALT_HEX + 1]; /* 16 random bytes, hex */
	char hmac[STORE_FP_HMAC_HEX + 1]; /* HMAC-SHA256(salt, SHA-256(secret)), hex */
};

/* A fingerprint of id's secret digest under a fresh random salt. */
int ca_store_fp_new(struct store_fp *out, const struct ca_identity *id);

/*
 * Whether salt_hex and hmac_hex (as stored; NULL when absent) are the
 * fingerprint of id's secret digest. Compared in constant time; anything
 * malformed or absent (an identity without a secret too) is no match.
 */
int ca_store_fp_matches(const char *salt_hex, const char *hmac_hex, const struct ca_identity *id);

/*
 * Opens the store opts asks for: the file store, the keyring, or (auto) the
 * keyring when a Secret Service answers and the file store otherwise.
 * An explicit keyring that cannot be reached is an error.
 */
int ca_store_open(struct store **out, const struct ca_store_options *opts);
void ca_store_free(struct store *s);

/*
 * The Secret Service store alone, loading the keyring half when needed;
 * CA_EKEYRING when it cannot be reached.
 */
int ca_store_keyring_open(struct store **out, const struct ca_store_options *opts);

/* Whether a session bus could be there at all (no connection attempted). */
int ca_store_session_bus_present(void);

#endif
