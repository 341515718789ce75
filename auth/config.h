/*
 * Everything one request needs to know, resolved once from the protocol
 * keys, the options before the action and the environment.
 */
#ifndef CA_AUTH_CONFIG_H
#define CA_AUTH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "token/identity.h"
#include "token/token.h" /* CA_MIN_TTL_AUTO */
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
	int min_ttl;            /* seconds, or CA_MIN_TTL_AUTO: min(300, lifetime/2) */
	int login_timeout;      /* seconds */
	int carto_dw;
#ifdef CA_TEST_ABI_SKEW
	int test_abi_skew;      /* tests: a module built with another layout */
#endif
};

void ca_config_init(struct ca_config *cfg);
void ca_config_clear(struct ca_config *cfg);

/*
 * What a caller asks for, typed: the protocol's keys once parsed
 * (ca_config_from_msg) or the library's options (lib/api.c). NULL or ""
 * strings and CA_UNSET numbers are "not given": the environment or the
 * default decides. ca_config_resolve applies the one set of rules both
 * paths share:
 *
 *   - auth_url, login_timeout: the environment (CARTO_AUTH_URL,
 *     CARTO_AUTH_LOGIN_TIMEOUT) wins over the request, the request over
 *     the default;
 *   - open_browser, interactive: the request wins over the environment
 *     (DATABRICKS_RUNTIME_VERSION, GIT_TERMINAL_PROMPT=0), the environment
 *     over the default (1);
 *   - accounts URL, redirect URI, OAuth client id, home, store kind: the
 *     environment only;
 *   - every URL is checked (https://, or http:// to a loopback host).
 */
#define CA_UNSET (-1)

struct ca_config_request {
	int mode;                     /* enum ca_mode, or CA_UNSET: m2m when
	                                 credentials_file or client_id is given */
	const char *credentials_file; /* m2m: a JSON credentials file */
	const char *client_id;        /* m2m without a file */
	const char *client_secret;    /* secret */
	const char *host;             /* m2m without a file: https://host is
	                                 the API when api_base_url is not given */
	const char *auth_url;
	const char *scope;
	const char *cache_file;
	const char *api_base_url;
	const char *org;
	int use_cache;                /* 0, 1 or CA_UNSET */
	int open_browser;
	int interactive;
	int carto_dw;
	int min_ttl;                  /* seconds >= 0, or CA_UNSET */
	int login_timeout;            /* seconds >= 0, or CA_UNSET */
};

/* Every field "not given". */
void ca_config_request_init(struct ca_config_request *req);

/*
 * Resolves a configuration from a request and the environment, reading and
 * validating an M2M credentials file when one is named. CA_EINVAL with a
 * message naming the key, variable or file on bad input; cfg is left
 * cleared on error.
 */
int ca_config_resolve(struct ca_config *cfg, const struct ca_config_request *req);

/*
 * The same from protocol keys: parses them into a request ("bad input:
 * use_cache must be true or false", "bad input: mode must be oauth or
 * m2m", ...) and resolves it.
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
