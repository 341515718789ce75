/*
 * Everything one request needs to know, resolved once from the protocol
 * keys, the options before the action and the environment.
 */
#ifndef CA_AUTH_CONFIG_H
#define CA_AUTH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "token/identity.h"
#include "util/clock.h" /* ca_now() */
#include "util/url.h" /* ca_url_allowed() */

struct proto_msg;

#define CA_DEFAULT_ACCOUNTS_URL "https://accounts.app.carto.com/accounts"
#define CA_DEFAULT_REDIRECT_URI "http://localhost:10000/callback/"
#define CA_PASTE_REDIRECT_URI "https://app.carto.com/auth/token"
#define CA_SUCCESS_PAGE "https://app.carto.com/auth/success"
#define CA_ERROR_PAGE "https://app.carto.com/auth/error"
#define CA_AUDIENCE "carto-cloud-native-api"
#define CA_DEFAULT_SCOPE "offline_access"
#define CA_DEFAULT_MIN_TTL 300
#define CA_DEFAULT_LOGIN_TIMEOUT 300

struct ca_config {
	enum ca_mode mode;
	char *auth_url;         /* authorization server base, no trailing '/' */
	char *accounts_url;     /* account discovery endpoint */
	char *redirect_uri;     /* loopback redirect URI */
	char *oauth_client_id;  /* the public OAuth client */
	char *scope;            /* OAuth scope, "offline_access" by default */
	char *home;             /* $CARTO_AUTH_HOME or ~/.carto-auth */
	char *cache_file;       /* explicit token file, or NULL */
	enum ca_store_kind store;

	char *credentials_file; /* m2m: where the credentials came from */
	char *client_id;        /* m2m client id */
	char *client_secret;    /* m2m secret: wiped on clear */
	char *api_base_url;     /* given or from the credentials file */
	char *org;              /* OAuth SSO organization */

	int use_cache;
	int open_browser;
	int interactive;
	int min_ttl;
	int login_timeout;      /* seconds */
	int carto_dw;
};

void ca_config_init(struct ca_config *cfg);
void ca_config_clear(struct ca_config *cfg);

/*
 * Resolves a configuration from request keys and the environment, reading
 * and validating an M2M credentials file when one is named. CA_EINVAL with
 * a message naming the key or file on bad input.
 */
int ca_config_from_msg(struct ca_config *cfg, const struct proto_msg *msg);

/* Reads an M2M credentials file into cfg (client_id, secret, api_base_url). */
int ca_config_read_credentials(struct ca_config *cfg, const char *path);

/* The same on the file's text; path is only for messages (and fuzzing). */
int ca_config_parse_credentials(struct ca_config *cfg, const char *text, size_t len,
	const char *path);

/*
 * The identity of cfg's token (token/identity.h): its strings are cfg's,
 * and an M2M identity holds the digest of cfg's client secret. Clear it
 * with ca_identity_clear() when done.
 */
void ca_config_identity(struct ca_identity *out, const struct ca_config *cfg);

/* What opening cfg's store needs; the strings are cfg's. */
void ca_config_store_options(struct ca_store_options *out, const struct ca_config *cfg);

/* The lock and file name part of this identity: "m2m-0123456789abcdef". */
void ca_config_identity_tag(const struct ca_config *cfg, char out[40]);

#endif
