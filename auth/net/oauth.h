/*
 * The OAuth flows of a CARTO user: authorization code with PKCE (S256) in
 * the browser or in paste mode, the refresh-token grant, and the CARTO
 * Data Warehouse credentials. The pure helpers are exported for the unit
 * tests and fuzzers.
 */
#ifndef CA_AUTH_OAUTH_H
#define CA_AUTH_OAUTH_H

#include <stddef.h>

#include "auth/config.h"
#include "token/token.h"

#define OAUTH_VERIFIER_BYTES 48 /* 64 characters, within RFC 7636's 43..128 */
#define OAUTH_STATE_BYTES 24    /* 32 characters */
#define OAUTH_MAX_PASTE 8192

/*
 * Logs in: the browser with the loopback callback server, or paste mode
 * (no browser wanted or none could be started) reading the code from
 * /dev/tty. Then the token request, and the API base URL (given or
 * discovered). CA_ELOGIN when cfg does not allow interaction, when there
 * is neither browser nor terminal, or on timeout.
 */
int ca_oauth_login(struct ca_token *out, const struct ca_config *cfg);

/*
 * The refresh-token grant. out gets the new access token and the rotated
 * refresh token (the old one when the server did not rotate it), the
 * account, and cfg->api_base_url when set. An Auth0 invalid_grant is
 * CA_EREFUSED with "invalid_grant" in the message.
 */
int ca_oauth_refresh(struct ca_token *out, const struct ca_config *cfg,
	const char *refresh_token);

/*
 * GET {api_base_url}/v3/connections/carto-dw/token with the bearer token:
 * the project id and a token for the CARTO Data Warehouse (both for the
 * caller to ca_free).
 */
int ca_dw_credentials(char **out_project, char **out_token,
	const struct ca_config *cfg, const char *api_base_url,
	const char *access_token);

/* --- pure helpers --- */

/* A code verifier: 64 characters of [A-Za-z0-9_-] from getrandom(). */
int ca_oauth_pkce_verifier(char **out);

/* The S256 challenge: base64url(SHA-256(verifier)). */
int ca_oauth_pkce_challenge(char **out, const char *verifier);

/* A random state: 32 characters of [A-Za-z0-9_-]. */
int ca_oauth_random_state(char **out);

/*
 * {cfg->auth_url}/authorize?client_id=...&response_type=code&audience=...
 * &redirect_uri=...&code_challenge_method=S256&code_challenge=...&state=...
 * [&scope=cfg->scope][&organization=cfg->org], URL-encoded.
 */
int ca_oauth_authorize_url(char **out, const struct ca_config *cfg,
	const char *redirect_uri, const char *challenge, const char *state);

/*
 * What a user pasted: the bare code, or a whole redirect URL carrying
 * code= (whose state, when present, must be expected_state). Surrounding
 * blanks are ignored. CA_EREFUSED for a URL with error=, CA_EINVAL for
 * anything else that is not a code.
 */
int ca_oauth_parse_pasted(char **out_code, const char *line, const char *expected_state);

/* The "sub" claim of a JWT access token (not verified), or CA_ENOTFOUND. */
int ca_oauth_jwt_subject(char **out, const char *jwt);

#endif
