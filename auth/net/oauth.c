/*
 * The OAuth flow of a CARTO user: the authorization code with PKCE in the
 * browser (browser.c, callback.c) or in paste mode (paste.c), the token
 * request, and the refresh-token grant.
 */
#include "auth/net/oauth.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "auth/net/browser.h"
#include "auth/net/callback.h"
#include "auth/net/discover.h"
#include "auth/net/http.h"
#include "auth/net/m2m.h"
#include "auth/net/paste.h"
#include "auth/net/pkce.h"
#include "token/jwt.h"
#include "util/error.h"
#include "util/mem.h"

static int oom(void)
{
	return ca_error(CA_ERR, "out of memory");
}

static char *concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = ca_malloc(la + lb + lc + 1);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

int ca_oauth_authorize_url(char **out, const struct ca_config *cfg,
	const char *redirect_uri, const char *challenge, const char *state)
{
	char *query = NULL, *url = NULL;
	int rc;

	if ((rc = ca_http_form_add(&query, "client_id", cfg->oauth_client_id)) < 0 ||
	    (rc = ca_http_form_add(&query, "response_type", "code")) < 0 ||
	    (rc = ca_http_form_add(&query, "audience", CA_AUDIENCE)) < 0 ||
	    (rc = ca_http_form_add(&query, "redirect_uri", redirect_uri)) < 0 ||
	    (rc = ca_http_form_add(&query, "code_challenge_method", "S256")) < 0 ||
	    (rc = ca_http_form_add(&query, "code_challenge", challenge)) < 0 ||
	    (rc = ca_http_form_add(&query, "state", state)) < 0)
		goto out;
	if (cfg->scope && *cfg->scope &&
	    (rc = ca_http_form_add(&query, "scope", cfg->scope)) < 0)
		goto out;
	if (cfg->org && *cfg->org &&
	    (rc = ca_http_form_add(&query, "organization", cfg->org)) < 0)
		goto out;
	url = concat3(cfg->auth_url, "/authorize?", query);
	if (!url) {
		rc = oom();
		goto out;
	}
	*out = url;
	rc = 0;
out:
	ca_free(query);
	return rc;
}

int ca_oauth_jwt_subject(char **out, const char *jwt)
{
	struct ca_jwt_claims claims;
	const char *sub;
	int rc = CA_ENOTFOUND;

	if (ca_jwt_claims_parse(&claims, jwt))
		return CA_ENOTFOUND;
	sub = claims.sub;
	if (sub && *sub && strlen(sub) < 256 && !strpbrk(sub, "\r\n")) {
		*out = ca_strdup(sub);
		rc = *out ? 0 : oom();
	}
	ca_jwt_claims_clear(&claims);
	return rc;
}

/* The last error as a sentence for the person at the terminal. */
void ca_oauth_notice_error(const char *then)
{
	const char *msg = ca_error_message();

	ca_notice("%c%s.%s", toupper((unsigned char)msg[0]), msg[0] ? msg + 1 : "", then);
}

int ca_oauth_login_timeout(const struct ca_config *cfg)
{
	return cfg->login_timeout > 0 ? cfg->login_timeout : CA_DEFAULT_LOGIN_TIMEOUT;
}

/*
 * The browser login. CA_ENOTFOUND when no browser could be started (the
 * caller turns to paste mode); other errors end the login.
 */
static int browser_code(char **out_code, const struct ca_config *cfg,
	const char *challenge, const char *state)
{
	struct callback_server srv;
	struct callback_wait w = { 0 };
	char *url = NULL;
	pid_t pid = 0;
	int rc;

	memset(&srv, 0, sizeof(srv));
	if (!ca_browser_available()) {
		ca_notice("No browser here ($BROWSER is not set and there is no graphical "
			"session).");
		return CA_ENOTFOUND;
	}
	/* Listen first, so the browser finds the port open. */
	rc = ca_callback_server_open(&srv, cfg->redirect_uri);
	if (rc < 0)
		return rc;
	rc = ca_oauth_authorize_url(&url, cfg, cfg->redirect_uri, challenge, state);
	if (rc < 0)
		goto out;
	ca_notice("Opening the browser to log in to CARTO (Ctrl-C to cancel)...");
	/*
	 * The browser gets the one-time loopback start page, never the
	 * authorize URL: any local user can read a command line, and the
	 * state and challenge in it would let them finish this login with a
	 * code for their own account (docs/oauth.md).
	 */
	rc = ca_browser_open(&pid, srv.start_url);
	if (rc < 0) {
		if (rc == CA_ENOTFOUND)
			ca_notice("No browser could be opened.");
		goto out;
	}
	ca_notice("If the browser does not open, visit (once, in this computer's browser): %s",
		srv.start_url);
	ca_notice("Waiting for the login in the browser (%d s left)...", ca_oauth_login_timeout(cfg));
	w.expected_state = state;
	w.authorize_url = url;
	w.timeout_s = ca_oauth_login_timeout(cfg);
	w.browser_pid = pid;
	rc = ca_callback_server_wait(&srv, out_code, &w);
	pid = w.browser_pid;
	if (rc < 0 && w.browser_failed) {
		ca_oauth_notice_error("");
		rc = CA_ENOTFOUND;
	}
out:
	ca_browser_reap(pid);
	ca_callback_server_close(&srv);
	ca_free(url);
	return rc;
}

/* --- token requests --- */

/* The user id from the token, when it is a JWT with "sub". */
int ca_oauth_finish(struct ca_token *tok, const struct ca_config *cfg, int discover)
{
	int rc;

	if (discover && !tok->refresh_token)
		ca_debug("the server issued no refresh token (scope \"%s\")",
			cfg->scope ? cfg->scope : "");
	if (cfg->api_base_url && *cfg->api_base_url) {
		if (!(tok->api_base_url = ca_strdup(cfg->api_base_url)))
			return oom();
	} else if (discover &&
		   (rc = ca_discover_api_base_url(&tok->api_base_url, cfg, tok->access_token)) < 0) {
		return rc;
	}
	if (tok->account)
		return 0;
	rc = ca_oauth_jwt_subject(&tok->account, tok->access_token);
	return rc == CA_ENOTFOUND ? 0 : rc;
}

int ca_oauth_login(struct ca_token *out, const struct ca_config *cfg)
{
	struct ca_token tok;
	char *verifier = NULL, *challenge = NULL, *state = NULL, *code = NULL;
	char *form = NULL;
	const char *redirect = CA_PASTE_REDIRECT_URI;
	int rc;

	ca_token_init(&tok);
	if (!cfg->interactive) {
		rc = ca_error(CA_ELOGIN, "a login is needed, but this caller does not allow "
			"one (interactive=false); run `carto-auth login` in a terminal");
		goto out;
	}
	if ((rc = ca_oauth_pkce_verifier(&verifier)) < 0 ||
	    (rc = ca_oauth_pkce_challenge(&challenge, verifier)) < 0 ||
	    (rc = ca_oauth_random_state(&state)) < 0)
		goto out;

	if (cfg->open_browser) {
		rc = browser_code(&code, cfg, challenge, state);
		if (rc == 0)
			redirect = cfg->redirect_uri;
		else if (rc != CA_ENOTFOUND)
			goto out;
	}
	if (!code) {
		rc = ca_paste_code(&code, cfg, challenge, state);
		if (rc < 0)
			goto out;
	}
	ca_notice("Login received; getting the token...");
	/* The wait for the person does not count against the network budget. */
	ca_http_budget_reset();

	if ((rc = ca_http_form_add(&form, "client_id", cfg->oauth_client_id)) < 0 ||
	    (rc = ca_http_form_add(&form, "grant_type", "authorization_code")) < 0 ||
	    (rc = ca_http_form_add(&form, "audience", CA_AUDIENCE)) < 0 ||
	    (rc = ca_http_form_add(&form, "code", code)) < 0 ||
	    (rc = ca_http_form_add(&form, "redirect_uri", redirect)) < 0 ||
	    (rc = ca_http_form_add(&form, "code_verifier", verifier)) < 0)
		goto out;
	/* The code is redeemed once: no retry after it may have reached the server. */
	rc = ca_token_endpoint_request(&tok, cfg, form, "token request", 1);
	if (rc < 0) {
		ca_error_prefix("login");
		goto out;
	}
	if ((rc = ca_oauth_finish(&tok, cfg, 1)) < 0)
		goto out;
	ca_token_move(out, &tok);
out:
	ca_token_clear(&tok);
	ca_free(verifier);
	ca_free(challenge);
	ca_free(state);
	ca_free(code);
	ca_free(form);
	return rc;
}

int ca_oauth_refresh(struct ca_token *out, const struct ca_config *cfg,
	const char *refresh_token)
{
	struct ca_token tok;
	char *form = NULL;
	int rc;

	ca_token_init(&tok);
	if (!refresh_token || !*refresh_token) {
		rc = ca_error(CA_EINVAL, "no refresh token");
		goto out;
	}
	if ((rc = ca_http_form_add(&form, "grant_type", "refresh_token")) < 0 ||
	    (rc = ca_http_form_add(&form, "client_id", cfg->oauth_client_id)) < 0 ||
	    (rc = ca_http_form_add(&form, "refresh_token", refresh_token)) < 0)
		goto out;
	/*
	 * A rotating refresh token is good once: a retry after the server may
	 * have rotated it is reuse, which revokes the whole family (Auth0). On
	 * a time-out the broker keeps the stored token for the next call.
	 */
	rc = ca_token_endpoint_request(&tok, cfg, form, "token renewal", 1);
	if (rc < 0)
		goto out;
	if (!tok.refresh_token) {
		/* Not rotated: the old one stays good. */
		tok.refresh_token = ca_strdup(refresh_token);
		if (!tok.refresh_token) {
			rc = oom();
			goto out;
		}
	}
	if ((rc = ca_oauth_finish(&tok, cfg, 0)) < 0)
		goto out;
	ca_token_move(out, &tok);
out:
	ca_token_clear(&tok);
	ca_free(form);
	return rc;
}
