#include "auth/net/oauth.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/net/callback.h"
#include "auth/net/discover.h"
#include "auth/net/http.h"
#include "token/jwt.h"
#include "auth/net/m2m.h"
#include "util/base64url.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/random.h"
#include "util/sha256.h"
#include "util/clock.h"

extern char **environ;

#define PASTE_ATTEMPTS 3
#define MAX_CODE 2048

static int oom(void)
{
	return ca_error(CA_ERR, "out of memory");
}

/* --- randomness --- */

static int random_token(char **out, size_t bytes)
{
	unsigned char buf[64];
	int rc;

	if (bytes > sizeof(buf))
		return ca_error(CA_ERR, "random token too long");
	rc = ca_random_bytes(buf, bytes);
	if (rc == 0)
		rc = ca_base64url_encode(out, buf, bytes);
	ca_wipe(buf, sizeof(buf));
	return rc;
}

int ca_oauth_pkce_verifier(char **out)
{
	return random_token(out, OAUTH_VERIFIER_BYTES);
}

int ca_oauth_random_state(char **out)
{
	return random_token(out, OAUTH_STATE_BYTES);
}

int ca_oauth_pkce_challenge(char **out, const char *verifier)
{
	unsigned char digest[SHA256_DIGEST_LEN];
	int rc;

	ca_sha256(digest, verifier, strlen(verifier));
	rc = ca_base64url_encode(out, digest, sizeof(digest));
	ca_wipe(digest, sizeof(digest));
	return rc;
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

static int is_code_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int ca_oauth_parse_pasted(char **out_code, const char *line, const char *expected_state)
{
	struct callback_result r;
	const char *start = line, *end, *q, *qend;
	char *code = NULL;
	size_t i;
	int rc;

	ca_callback_result_init(&r);
	while (*start == ' ' || *start == '\t')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
			end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end == start) {
		rc = ca_error(CA_EINVAL, "nothing was pasted");
		goto out;
	}

	q = memchr(start, '?', (size_t)(end - start));
	if (q || ((size_t)(end - start) > 5 && memcmp(start, "code=", 5) == 0)) {
		/* A whole URL, or its query alone. */
		q = q ? q + 1 : start;
		qend = memchr(q, '#', (size_t)(end - q));
		if (!qend)
			qend = end;
		if (ca_callback_parse_query(&r, q, (size_t)(qend - q)) < 0) {
			rc = ca_error(CA_EINVAL, "the pasted URL is malformed; paste the code alone");
			goto out;
		}
		if (r.error && *r.error) {
			char err[201];

			for (i = 0; r.error[i] && i < sizeof(err) - 1; i++)
				err[i] = (r.error[i] >= 0x20 && r.error[i] < 0x7f) ? r.error[i] : '?';
			err[i] = '\0';
			rc = ca_error(CA_EREFUSED, "login failed: %s", err);
			goto out;
		}
		if (!r.code || !*r.code) {
			rc = ca_error(CA_EINVAL, "the pasted URL carries no code");
			goto out;
		}
		if (r.state && !ca_streq_ct(r.state, expected_state)) {
			rc = ca_error(CA_EINVAL, "the pasted URL belongs to another login attempt "
				"(wrong state); use the URL shown for this one");
			goto out;
		}
		code = r.code;
		r.code = NULL;
	} else {
		code = ca_strndup(start, (size_t)(end - start));
		if (!code) {
			rc = oom();
			goto out;
		}
	}
	if (strlen(code) > MAX_CODE) {
		rc = ca_error(CA_EINVAL, "the pasted code is too long");
		goto out;
	}
	for (i = 0; code[i]; i++) {
		if (!is_code_char(code[i])) {
			rc = ca_error(CA_EINVAL, "that is not a login code; paste the code "
				"shown on the page, or the page's whole URL");
			goto out;
		}
	}
	*out_code = code;
	code = NULL;
	rc = 0;
out:
	ca_free(code);
	ca_callback_result_clear(&r);
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

/* --- the browser --- */

/*
 * Starts one browser command line (words split on blanks, "%s" replaced
 * by the URL, else the URL appended), detached: its own session (Ctrl-C
 * in the terminal is not for it), standard input and output on /dev/null
 * (they are the protocol's), no inherited descriptors.
 */
static int spawn_one(pid_t *out_pid, const char *command, const char *url)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *copy, *word, *save = NULL;
	char *argv[34];
	int argc = 0, has_url = 0, err;
	sigset_t none, dfl;
	pid_t pid;

	copy = ca_strdup(command);
	if (!copy)
		return ENOMEM;
	for (word = strtok_r(copy, " \t", &save); word && argc < 32;
	     word = strtok_r(NULL, " \t", &save)) {
		if (strcmp(word, "%s") == 0) {
			argv[argc++] = (char *)url;
			has_url = 1;
		} else {
			argv[argc++] = word;
		}
	}
	if (argc == 0) {
		ca_free(copy);
		return ENOENT;
	}
	if (!has_url)
		argv[argc++] = (char *)url;
	argv[argc] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	/* Browsers chatter on stderr; keep it only for --debug. */
	if (!ca_debug_enabled())
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
#ifdef POSIX_SPAWN_SETSID
		| POSIX_SPAWN_SETSID
#endif
		);
	err = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (err == 0) {
		ca_debug("started the browser: %s", argv[0]);
		*out_pid = pid;
	} else {
		ca_debug("cannot start the browser %s: %s", argv[0], strerror(err));
	}
	ca_free(copy);
	return err;
}

/*
 * Whether there is a browser to try: $BROWSER, or a graphical session for
 * xdg-open. Without a display, xdg-open would start a text browser in our
 * terminal, where paste mode serves better.
 */
static int browser_available(void)
{
	const char *browser = getenv("BROWSER");

#ifdef __APPLE__
	(void)browser;
	return 1;
#else
	return (browser && *browser) || getenv("DISPLAY") || getenv("WAYLAND_DISPLAY");
#endif
}

/*
 * Opens url in a browser: each entry of $BROWSER (':'-separated, as
 * xdg-open reads it) until one starts, else the system's opener.
 * CA_ENOTFOUND when nothing started.
 */
static int open_browser(pid_t *out_pid, const char *url)
{
	const char *browser = getenv("BROWSER");
	char *list, *entry, *save = NULL;
	int rc = CA_ENOTFOUND;

	if (browser && *browser) {
		list = ca_strdup(browser);
		if (!list)
			return oom();
		for (entry = strtok_r(list, ":", &save); entry;
		     entry = strtok_r(NULL, ":", &save)) {
			if (spawn_one(out_pid, entry, url) == 0) {
				rc = 0;
				break;
			}
		}
		ca_free(list);
		return rc;
	}
#ifdef __APPLE__
	return spawn_one(out_pid, "open", url) == 0 ? 0 : CA_ENOTFOUND;
#else
	return spawn_one(out_pid, "xdg-open", url) == 0 ? 0 : CA_ENOTFOUND;
#endif
}

/* The last error as a sentence for the person at the terminal. */
static void notice_error(const char *then)
{
	const char *msg = ca_error_message();

	ca_notice("%c%s.%s", toupper((unsigned char)msg[0]), msg[0] ? msg + 1 : "", then);
}

static void reap(pid_t pid)
{
	if (pid > 0)
		waitpid(pid, NULL, WNOHANG);
}

static int login_timeout(const struct ca_config *cfg)
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
	if (!browser_available()) {
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
	rc = open_browser(&pid, srv.start_url);
	if (rc < 0) {
		if (rc == CA_ENOTFOUND)
			ca_notice("No browser could be opened.");
		goto out;
	}
	ca_notice("If the browser does not open, visit (once, in this computer's browser): %s",
		srv.start_url);
	ca_notice("Waiting for the login in the browser (%d s left)...", login_timeout(cfg));
	w.expected_state = state;
	w.authorize_url = url;
	w.timeout_s = login_timeout(cfg);
	w.browser_pid = pid;
	rc = ca_callback_server_wait(&srv, out_code, &w);
	pid = w.browser_pid;
	if (rc < 0 && w.browser_failed) {
		notice_error("");
		rc = CA_ENOTFOUND;
	}
out:
	reap(pid);
	ca_callback_server_close(&srv);
	ca_free(url);
	return rc;
}

/*
 * Reads one line from the terminal before deadline (monotonic ms). 0 with
 * the line (without its end) in buf; CA_ELOGIN on end of input or timeout.
 */
static int tty_read_line(int fd, char *buf, size_t size, int64_t deadline, int timeout_s)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - ca_clock_ms();
		ssize_t got;
		char *nl;
		int ready;

		if (left <= 0)
			return ca_error(CA_ELOGIN, "timed out after %d s waiting for the code; "
				"run the login again", timeout_s);
		ready = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (ready < 0 && errno != EINTR)
			return ca_error(CA_ELOGIN, "cannot read the terminal: %s", strerror(errno));
		if (ready <= 0)
			continue;
		got = read(fd, buf + len, size - 1 - len);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return ca_error(CA_ELOGIN, "cannot read the terminal: %s", strerror(errno));
		if (got == 0)
			return ca_error(CA_ELOGIN, "login cancelled (end of input)");
		len += (size_t)got;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (len == size - 1)
			return ca_error(CA_EINVAL, "the pasted line is too long");
	}
}

static void tty_write(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t w = write(fd, s, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		len -= (size_t)w;
	}
}

/* Paste mode: the URL on the terminal, the code (or the URL) read back. */
static int paste_code(char **out_code, const struct ca_config *cfg,
	const char *challenge, const char *state)
{
	char *url = NULL, *line = NULL;
	int64_t deadline;
	int fd, attempt, rc;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return ca_error(CA_ELOGIN, "%s; run `carto-auth login` in a terminal",
			cfg->open_browser ? "no browser could be opened and there is no "
			"terminal to paste a login code in" : "a login without a browser needs "
			"a terminal to paste the code in");
	rc = ca_oauth_authorize_url(&url, cfg, CA_PASTE_REDIRECT_URI, challenge, state);
	if (rc < 0)
		goto out;
	line = ca_malloc(OAUTH_MAX_PASTE);
	if (!line) {
		rc = oom();
		goto out;
	}
	ca_notice("To log in to CARTO, open this URL in a browser (on any device):");
	ca_notice("%s", url);
	ca_notice("After logging in, paste the code shown on the page (or the page's "
		"whole URL) here. Ctrl-C cancels.");
	deadline = ca_clock_ms() + (int64_t)login_timeout(cfg) * 1000;
	for (attempt = 1; ; attempt++) {
		tty_write(fd, "Code: ");
		rc = tty_read_line(fd, line, OAUTH_MAX_PASTE, deadline, login_timeout(cfg));
		if (rc == 0)
			rc = ca_oauth_parse_pasted(out_code, line, state);
		ca_wipe(line, OAUTH_MAX_PASTE);
		if (rc != CA_EINVAL || attempt == PASTE_ATTEMPTS)
			break;
		notice_error(" Try again.");
	}
out:
	ca_free(line);
	ca_free(url);
	close(fd);
	return rc;
}

/* --- token requests --- */

/* The user id from the token, when it is a JWT with "sub". */
static int take_account(struct ca_token *tok)
{
	int rc;

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
		rc = paste_code(&code, cfg, challenge, state);
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
	rc = ca_token_endpoint_request(&tok, cfg, form, "token request");
	if (rc < 0) {
		ca_error_prefix("login");
		goto out;
	}
	if (!tok.refresh_token)
		ca_debug("the server issued no refresh token (scope \"%s\")",
			cfg->scope ? cfg->scope : "");

	if (cfg->api_base_url && *cfg->api_base_url) {
		tok.api_base_url = ca_strdup(cfg->api_base_url);
		if (!tok.api_base_url) {
			rc = oom();
			goto out;
		}
	} else {
		rc = ca_discover_api_base_url(&tok.api_base_url, cfg, tok.access_token);
		if (rc < 0)
			goto out;
	}
	rc = take_account(&tok);
	if (rc < 0)
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
	rc = ca_token_endpoint_request(&tok, cfg, form, "token renewal");
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
	if (cfg->api_base_url && *cfg->api_base_url) {
		tok.api_base_url = ca_strdup(cfg->api_base_url);
		if (!tok.api_base_url) {
			rc = oom();
			goto out;
		}
	}
	rc = take_account(&tok);
	if (rc < 0)
		goto out;
	ca_token_move(out, &tok);
out:
	ca_token_clear(&tok);
	ca_free(form);
	return rc;
}

/* --- CARTO Data Warehouse --- */

int ca_dw_credentials(char **out_project, char **out_token,
	const struct ca_config *cfg, const char *api_base_url,
	const char *access_token)
{
	static const char path[] = "/v3/connections/carto-dw/token";
	cJSON *json = NULL;
	const cJSON *project, *token;
	char *base = NULL, *url = NULL, *p = NULL, *t = NULL;
	size_t n;
	int rc;

	(void)cfg;
	if (!api_base_url || !*api_base_url || !ca_url_allowed(api_base_url)) {
		rc = ca_error(CA_EINVAL, "the CARTO Data Warehouse needs the account's API "
			"base URL (https://...); pass api_base_url");
		goto out;
	}
	base = ca_strdup(api_base_url);
	if (!base) {
		rc = oom();
		goto out;
	}
	for (n = strlen(base); n > 0 && base[n - 1] == '/'; )
		base[--n] = '\0';
	url = concat3(base, path, "");
	if (!url) {
		rc = oom();
		goto out;
	}
	rc = ca_api_get_json(&json, url, access_token, "CARTO Data Warehouse token request");
	if (rc == CA_EREFUSED) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", ca_error_message());
		rc = ca_error(rc, "%s; check that api_base_url is your account's and that "
			"it has a CARTO Data Warehouse", msg);
	}
	if (rc < 0)
		goto out;
	project = cJSON_GetObjectItemCaseSensitive(json, "projectId");
	token = cJSON_GetObjectItemCaseSensitive(json, "token");
	if (!cJSON_IsString(project) || !*project->valuestring ||
	    !cJSON_IsString(token) || !*token->valuestring ||
	    strpbrk(project->valuestring, "\r\n") || strpbrk(token->valuestring, "\r\n")) {
		rc = ca_error(CA_ENET, "the CARTO Data Warehouse answer has no projectId and "
			"token; check that api_base_url is your account's");
		goto out;
	}
	p = ca_strdup(project->valuestring);
	t = ca_strdup(token->valuestring);
	if (!p || !t) {
		rc = oom();
		goto out;
	}
	*out_project = p;
	*out_token = t;
	p = t = NULL;
	rc = 0;
out:
	ca_json_delete(json);
	ca_free(base);
	ca_free(url);
	ca_free(p);
	ca_free(t);
	return rc;
}
