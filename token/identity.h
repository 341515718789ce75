/*
 * What a stored token is keyed on, and what opening a store needs: the two
 * small records the stores (keyring/) take, defined below them so that the
 * stores never see the whole configuration (auth/config.h), which carries
 * the client secret and the timeouts. auth/config.c fills both from a
 * configuration (ca_config_identity(), ca_config_store_options()).
 */
#ifndef CA_TOKEN_IDENTITY_H
#define CA_TOKEN_IDENTITY_H

#include <stdint.h>

/* The Python reference's own identity (its token files carry no fields). */
#define CA_DEFAULT_AUTH_URL "https://auth.carto.com"
#define CA_DEFAULT_CLIENT_ID "0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u"

enum ca_mode {
	CA_MODE_OAUTH,
	CA_MODE_M2M
};

enum ca_store_kind {
	CA_STORE_AUTO,
	CA_STORE_KEYRING,
	CA_STORE_FILE
};

#define CA_IDENTITY_DIGEST_LEN 32

/*
 * The identity of a token. The strings are borrowed (from the
 * configuration, or from a stored record). An M2M identity holds the
 * SHA-256 digest of its client secret, never the secret: the stores keep
 * HMAC-SHA256(salt, digest) beside the token (keyring/fingerprint.c).
 */
struct ca_identity {
	enum ca_mode mode;
	const char *auth_url;      /* authorization server, no trailing '/' */
	const char *client_id;     /* M2M client id, or the OAuth client id */
	const char *org;           /* OAuth SSO organization, or NULL */
	const char *api_base_url;  /* part of an M2M identity */
	int has_secret;            /* secret_digest is set */
	unsigned char secret_digest[CA_IDENTITY_DIGEST_LEN];
};

/* What opening a store needs (keyring/store.h, keyring/module.h). */
struct ca_store_options {
	const char *home;       /* $CARTO_AUTH_HOME or ~/.carto-auth */
	const char *cache_file; /* an explicit token file, or NULL */
	enum ca_store_kind kind;
	int interactive;        /* the keyring may show an unlock prompt */
	/* The identity a first read will ask for, or NULL: the keyring's
	 * fast path asks for its search while it connects. */
	const struct ca_identity *prefetch;
};

/* An identity with no fields (OAuth, nothing set). */
void ca_identity_init(struct ca_identity *id);
/* Wipes the secret digest; the strings are borrowed and stay. */
void ca_identity_clear(struct ca_identity *id);
/* Sets the digest of an M2M client secret. */
void ca_identity_set_secret(struct ca_identity *id, const char *secret);

/* The lock and file name part of an identity: "m2m-0123456789abcdef". */
void ca_identity_tag(const struct ca_identity *id, char out[40]);

const char *ca_mode_name(enum ca_mode mode);

#endif
