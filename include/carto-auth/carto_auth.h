/*
 * carto-auth: CARTO access tokens for native programs.
 *
 * This header is the whole public C API of libcarto-auth. It mirrors the
 * Python package carto-auth: CartoAuth.from_oauth(), CartoAuth.from_m2m(),
 * get_access_token(), get_api_base_url() and get_carto_dw_credentials().
 *
 * Conventions:
 *  - Functions return 0 on success or a negative CARTO_AUTH_E* code.
 *    On failure no output parameter is written, and
 *    carto_auth_last_error() describes what went wrong in one line that
 *    never contains a secret.
 *  - Objects returned through a pointer-to-pointer belong to the caller.
 *  - Strings returned as "char **" are allocated by the library and must be
 *    released with carto_auth_secret_free(), which wipes them first.
 *  - A struct carto_auth is not thread safe; use one per thread, or lock.
 *    Separate objects and separate processes may share the same token
 *    store: renewals are serialised on a per-identity lock.
 *  - The library never prints, with one exception: when opts->interactive
 *    allows a login in the browser, its progress ("Opening the browser...",
 *    the URL to visit) goes to standard error, and paste mode reads the
 *    code from the terminal (/dev/tty).
 */
#ifndef CARTO_AUTH_H
#define CARTO_AUTH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CARTO_AUTH_EXTERN __attribute__((visibility("default")))
#else
#define CARTO_AUTH_EXTERN
#endif

#define CARTO_AUTH_VERSION "0.1.0"

/* Error codes. */
enum {
	CARTO_AUTH_OK = 0,
	CARTO_AUTH_ERROR = -1,     /* anything else (out of memory, I/O) */
	CARTO_AUTH_ENOTFOUND = -2, /* nothing stored for this identity */
	CARTO_AUTH_EINVAL = -3,    /* bad input: arguments, files, options */
	CARTO_AUTH_ENET = -4,      /* network failure, timeout, bad answer */
	CARTO_AUTH_EREFUSED = -5,  /* the server refused (4xx, Auth0 error) */
	CARTO_AUTH_EKEYRING = -6,  /* keyring unavailable or locked */
	CARTO_AUTH_ELOGIN = -7     /* a login is needed but not allowed */
};

/*
 * Options shared by both flows. Zero-initialise the struct and set what
 * you need; NULL/0 fields take the documented defaults. Environment
 * variables (CARTO_AUTH_URL, CARTO_AUTH_HOME, CARTO_AUTH_STORE, ...) are
 * honoured as by the carto-auth command.
 */
struct carto_auth_options {
	const char *cache_file;   /* token file (file store); default per mode */
	int no_cache;             /* 1: do not read a stored token (use_cache=False) */
	const char *api_base_url; /* OAuth: skips discovery */
	const char *org;          /* OAuth: SSO organization */
	int no_browser;           /* OAuth: paste mode instead of a browser */
	int interactive;          /* OAuth: 1 allows a browser login or prompt;
	                           * 0 (default) fails with CARTO_AUTH_ELOGIN */
	int min_ttl;              /* seconds a returned token must still be
	                           * valid; 0 means the default: 300 or half
	                           * the token's lifetime, whichever is less */
};

struct carto_auth;

/*
 * Machine-to-machine credentials from a JSON credentials file with
 * api_base_url, client_id and client_secret. Reads and validates the file;
 * obtains no token yet. opts may be NULL.
 */
CARTO_AUTH_EXTERN int carto_auth_from_m2m(struct carto_auth **out,
	const char *credentials_file, const struct carto_auth_options *opts);

/*
 * A user's OAuth login (authorization code with PKCE). No login happens
 * here; the first carto_auth_access_token() uses a stored token, renews it
 * with a refresh token, or (interactive only) logs in. opts may be NULL.
 */
CARTO_AUTH_EXTERN int carto_auth_from_oauth(struct carto_auth **out,
	const struct carto_auth_options *opts);

/*
 * A valid access token, renewed when it has less than min_ttl seconds
 * left. *out_token stays valid until the next call on auth or
 * carto_auth_free(); out_expiration (may be NULL) receives its expiry in
 * Unix seconds.
 */
CARTO_AUTH_EXTERN int carto_auth_access_token(struct carto_auth *auth,
	const char **out_token, int64_t *out_expiration);

/*
 * The account's API base URL, e.g. "https://gcp-us-east1.api.carto.com".
 * For OAuth without opts->api_base_url it is known only after the first
 * successful carto_auth_access_token(); NULL before.
 */
CARTO_AUTH_EXTERN const char *carto_auth_api_base_url(
	const struct carto_auth *auth);

/*
 * CARTO Data Warehouse credentials: the project id and a token for it.
 * Both strings belong to the caller: release them with
 * carto_auth_secret_free().
 */
CARTO_AUTH_EXTERN int carto_auth_dw_credentials(struct carto_auth *auth,
	char **out_project, char **out_token);

/* Wipes and frees everything; accepts NULL. */
CARTO_AUTH_EXTERN void carto_auth_free(struct carto_auth *auth);

/* Wipes and frees a string returned by the library; accepts NULL. */
CARTO_AUTH_EXTERN void carto_auth_secret_free(char *secret);

/*
 * The message of the last failure in this thread, one line, no secret.
 * Never NULL; "" when nothing failed yet.
 */
CARTO_AUTH_EXTERN const char *carto_auth_last_error(void);

/* The code of the last failure in this thread (0 when none). */
CARTO_AUTH_EXTERN int carto_auth_last_error_code(void);

/* The library's version string, e.g. "0.1.0". */
CARTO_AUTH_EXTERN const char *carto_auth_version(void);

#ifdef __cplusplus
}
#endif

#endif /* CARTO_AUTH_H */
