/*
 * The OAuth flow of a CARTO user: authorization code with PKCE (S256,
 * pkce.h) in the browser (browser.h, callback.h) or in paste mode
 * (paste.h), and the refresh-token grant. The pure helpers are exported
 * for the unit tests and fuzzers.
 */
#ifndef CA_AUTH_OAUTH_H
#define CA_AUTH_OAUTH_H

#include <stddef.h>

#include "auth/config.h"
#include "token/token.h"

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
 * {cfg->auth_url}/authorize?client_id=...&response_type=code&audience=...
 * &redirect_uri=...&code_challenge_method=S256&code_challenge=...&state=...
 * [&scope=cfg->scope][&organization=cfg->org], URL-encoded.
 */
int ca_oauth_authorize_url(char **out, const struct ca_config *cfg,
	const char *redirect_uri, const char *challenge, const char *state);

/* The "sub" claim of a JWT access token (not verified), or CA_ENOTFOUND. */
int ca_oauth_jwt_subject(char **out, const char *jwt);

/*
 * What every OAuth grant does with a new token: the API base URL as given
 * (or, with discover, found through the accounts endpoint: a login) and the
 * account from the token's subject. A login's token without a refresh
 * token is noted in the debug trace.
 */
int ca_oauth_finish(struct ca_token *tok, const struct ca_config *cfg, int discover);

/* The seconds a login may take (cfg's, or the default). */
int ca_oauth_login_timeout(const struct ca_config *cfg);

/* The last error as a sentence for the person at the terminal, then then. */
void ca_oauth_notice_error(const char *then);

#endif
