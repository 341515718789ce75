#include "auth/net/device.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "auth/net/http.h"
#include "auth/net/oauth.h"
#include "auth/net/qr.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/text.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define DEVICE_DEFAULT_EXPIRES 600

static int oom(void)
{
	return ca_error(CA_ERR, "out of memory");
}

void ca_device_auth_clear(struct ca_device_auth *da)
{
	ca_clear_ptr(&da->device_code);
	ca_clear_ptr(&da->user_code);
	ca_clear_ptr(&da->verification_uri);
	ca_clear_ptr(&da->verification_uri_complete);
	da->expires_in = da->interval = 0;
}

/* A required (or optional) bounded string field; 0, or -1 when bad. */
static int take_string(char **out, const cJSON *root, const char *name, size_t max,
	int required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!v || cJSON_IsNull(v))
		return required ? -1 : 0;
	if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > max)
		return -1;
	*out = ca_strdup(v->valuestring);
	return *out ? 0 : -2;
}

static int seconds_field(int *out, const cJSON *root, const char *name, int dflt, int min,
	int max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	double d;

	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return -1;
	d = v->valuedouble;
	*out = d < min ? min : d > max ? max : (int)d;
	return 0;
}

int ca_device_parse_auth(struct ca_device_auth *out, const char *body, size_t len)
{
	struct ca_device_auth da = { 0 };
	cJSON *root;
	int rc = 0, r;
	const char *bad = NULL;

	root = body ? cJSON_ParseWithLength(body, len) : NULL;
	if (!root || !cJSON_IsObject(root)) {
		ca_json_delete(root);
		return ca_error(CA_ENET, "device login failed: the answer is not JSON");
	}
	if ((r = take_string(&da.device_code, root, "device_code", DEVICE_MAX_CODE, 1)))
		bad = "device_code";
	else if (!ca_text_printable(da.device_code) || strchr(da.device_code, ' '))
		bad = "device_code";
	else if ((r = take_string(&da.user_code, root, "user_code", DEVICE_MAX_USER_CODE, 1)))
		bad = "user_code";
	else if ((r = take_string(&da.verification_uri, root, "verification_uri",
			DEVICE_MAX_URI, 1)))
		bad = "verification_uri";
	else if ((r = take_string(&da.verification_uri_complete, root,
			"verification_uri_complete", DEVICE_MAX_URI, 0)))
		bad = "verification_uri_complete";
	else if (seconds_field(&da.expires_in, root, "expires_in", DEVICE_DEFAULT_EXPIRES, 1,
			24 * 3600))
		bad = "expires_in";
	else if (seconds_field(&da.interval, root, "interval", DEVICE_DEFAULT_INTERVAL, 1,
			DEVICE_MAX_INTERVAL))
		bad = "interval";
	if (bad && r == -2)
		rc = oom();
	else if (bad)
		rc = ca_error(CA_ENET, "device login failed: the answer has no valid %s", bad);
	ca_json_delete(root);
	if (rc == 0) {
		*out = da;
		return 0;
	}
	ca_device_auth_clear(&da);
	return rc;
}

enum ca_device_poll ca_device_poll_kind(const char *body, size_t len)
{
	static const struct { const char *error; enum ca_device_poll kind; } kinds[] = {
		{ "authorization_pending", DEVICE_POLL_PENDING },
		{ "slow_down", DEVICE_POLL_SLOW_DOWN },
		{ "expired_token", DEVICE_POLL_EXPIRED },
		{ "access_denied", DEVICE_POLL_DENIED },
		{ "unauthorized_client", DEVICE_POLL_REFUSED },
		{ "unsupported_grant_type", DEVICE_POLL_REFUSED },
	};
	enum ca_device_poll kind = DEVICE_POLL_OTHER;
	const cJSON *error;
	cJSON *root;
	size_t i;

	root = body ? cJSON_ParseWithLength(body, len) : NULL;
	error = root ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
	for (i = 0; cJSON_IsString(error) && i < sizeof(kinds) / sizeof(*kinds); i++)
		if (!strcmp(error->valuestring, kinds[i].error))
			kind = kinds[i].kind;
	ca_json_delete(root);
	return kind;
}

static char *endpoint(const struct ca_config *cfg, const char *path)
{
	size_t a = strlen(cfg->auth_url), b = strlen(path);
	char *url = ca_malloc(a + b + 1);

	if (url) {
		memcpy(url, cfg->auth_url, a);
		memcpy(url + a, path, b + 1);
	}
	return url;
}

static int refused_grant(const char *detail)
{
	return ca_error(CA_EREFUSED, "this CARTO login server does not allow the device login "
		"for this client (%s); log in with `carto-auth login --no-browser` instead "
		"(open the URL on any device, paste the code back)", detail);
}

/* POST /oauth/device/code. */
static int request_code(struct ca_device_auth *da, const struct ca_config *cfg)
{
	struct http_request req = { .method = "POST", .what = "device login request" };
	struct http_response res = { 0 };
	char *form = NULL, *url = endpoint(cfg, "/oauth/device/code");
	int rc;

	if (!url)
		return oom();
	if ((rc = ca_http_form_add(&form, "client_id", cfg->oauth_client_id)) < 0 ||
	    (cfg->scope && *cfg->scope &&
	     (rc = ca_http_form_add(&form, "scope", cfg->scope)) < 0) ||
	    (rc = ca_http_form_add(&form, "audience", CA_AUDIENCE)) < 0 ||
	    (cfg->org && *cfg->org &&
	     (rc = ca_http_form_add(&form, "organization", cfg->org)) < 0))
		goto out;
	req.url = url;
	req.form_body = form;
	if ((rc = ca_http_perform(&res, &req)) < 0)
		goto out;
	if (res.status == 404)
		rc = refused_grant("HTTP 404 for /oauth/device/code");
	else if (res.status >= 400 && ca_device_poll_kind(res.body, res.len) == DEVICE_POLL_REFUSED)
		rc = refused_grant("unauthorized_client");
	else if (res.status >= 400)
		rc = ca_token_error_from_body(CA_EREFUSED, "device login request", res.body,
			res.len, res.status);
	else if (res.status != 200)
		rc = ca_error(CA_ENET, "device login request failed: unexpected HTTP %ld",
			res.status);
	else
		rc = ca_device_parse_auth(da, res.body, res.len);
out:
	ca_http_response_clear(&res);
	ca_free(form);
	ca_free(url);
	return rc;
}

#define QR_QUIET 2

/*
 * The URL as a QR code on standard error, when that is a terminal that
 * can show it: not TERM=dumb, and wide and tall enough. Never in a pipe
 * or a file (scripts, logs, the tests' captured output). A URL with
 * anything unsafe in it is not drawn.
 */
static void show_qr(const char *url)
{
	static struct ca_qr qr;
	const char *term = getenv("TERM");
	struct winsize ws;

	if (!isatty(STDERR_FILENO) || !term || !*term || !strcmp(term, "dumb") ||
	    !ca_text_printable(url))
		return;
	if (ca_qr_encode(&qr, url, strlen(url), QR_ECC_M) &&
	    ca_qr_encode(&qr, url, strlen(url), QR_ECC_L)) {
		ca_error_clear();
		ca_debug("device login: the URL is too long for a QR code");
		return;
	}
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) || ws.ws_col < qr.size + 2 * QR_QUIET ||
	    ws.ws_row < (qr.size + 2 * QR_QUIET + 1) / 2 + 4) {
		ca_debug("device login: the terminal is too small for the QR code");
		return;
	}
	ca_notice("Or scan this code with a phone:");
	ca_qr_print(stderr, &qr, QR_QUIET);
}

/* The code and where to enter it, escaped: both come from the server. */
static void show_code(const struct ca_device_auth *da, int timeout_s)
{
	char uri[DEVICE_MAX_URI * 4 + 1], code[DEVICE_MAX_USER_CODE * 4 + 1];
	const char *complete = da->verification_uri_complete;

	ca_text_escape(code, sizeof(code), da->user_code);
	ca_text_escape(uri, sizeof(uri), complete ? complete : da->verification_uri);
	ca_notice("To log in to CARTO, open this URL in a browser on any device:");
	ca_notice("  %s", uri);
	if (complete) {
		ca_text_escape(uri, sizeof(uri), da->verification_uri);
		ca_notice("and check that it shows the code %s (or open %s and enter it).",
			code, uri);
	} else {
		ca_notice("and enter the code: %s", code);
	}
	show_qr(complete ? complete : da->verification_uri);
	ca_notice("Waiting for the login to be approved (%d s left; Ctrl-C cancels)...",
		timeout_s < da->expires_in ? timeout_s : da->expires_in);
}

static void sleep_until(int64_t when_ms)
{
	for (;;) {
		int64_t left = when_ms - ca_clock_ms();
		struct timespec ts;

		if (left <= 0)
			return;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		if (nanosleep(&ts, NULL) == 0)
			return;
		if (errno != EINTR)
			return;
	}
}

#define POLL_NO_ANSWER 2

/*
 * One poll of the token endpoint: 0 with a token, 1 to poll again,
 * POLL_NO_ANSWER when no usable answer came (the error is set).
 */
static int poll_once(struct ca_token *tok, const struct ca_config *cfg,
	const struct ca_device_auth *da, int *interval)
{
	struct http_request req = {
		.method = "POST", .what = "device login poll",
		/* RFC 8628: a 429 slow_down is an answer, not a reason to retry. */
		.no_retry_429 = 1,
		/*
		 * No quick retry once the poll may have reached the server: it
		 * would come within the interval, which Auth0 counts as polling
		 * too fast, and once the login is approved the first poll that
		 * arrives redeems the device code, so a re-send cannot get a lost
		 * answer back. ca_device_login polls again instead, at a doubled
		 * interval (RFC 8628 3.5). A poll that never connected is retried.
		 */
		.single_use = 1,
	};
	struct http_response res = { 0 };
	char *form = NULL, *url = endpoint(cfg, "/oauth/token");
	int rc;

	if (!url)
		return oom();
	if ((rc = ca_http_form_add(&form, "grant_type", DEVICE_GRANT)) < 0 ||
	    (rc = ca_http_form_add(&form, "device_code", da->device_code)) < 0 ||
	    (rc = ca_http_form_add(&form, "client_id", cfg->oauth_client_id)) < 0)
		goto out;
	req.url = url;
	req.form_body = form;
	/* Each poll has the whole network budget: the wait is the person's. */
	ca_http_budget_reset();
	if ((rc = ca_http_perform(&res, &req)) < 0) {
		if (rc == CA_ENET)
			rc = POLL_NO_ANSWER;
		goto out;
	}
	if (res.status < 400) {
		rc = ca_token_parse_response(tok, res.body, res.len, res.status, ca_now());
		goto out;
	}
	switch (ca_device_poll_kind(res.body, res.len)) {
	case DEVICE_POLL_PENDING:
		rc = 1;
		break;
	case DEVICE_POLL_SLOW_DOWN:
		*interval += DEVICE_SLOW_DOWN_STEP;
		if (*interval > DEVICE_MAX_INTERVAL)
			*interval = DEVICE_MAX_INTERVAL;
		ca_debug("device login: slow_down, polling every %d s now", *interval);
		rc = 1;
		break;
	case DEVICE_POLL_EXPIRED:
		rc = ca_error(CA_ELOGIN, "the login code expired before the login was approved "
			"(expired_token); run `carto-auth login --device` again");
		break;
	case DEVICE_POLL_DENIED:
		rc = ca_error(CA_EREFUSED, "the login was denied on the verification page "
			"(access_denied)");
		break;
	case DEVICE_POLL_REFUSED:
		rc = refused_grant("unauthorized_client");
		break;
	default:
		rc = ca_token_error_from_body(CA_EREFUSED, "device login", res.body, res.len,
			res.status);
		break;
	}
out:
	ca_http_response_clear(&res);
	ca_free(form);
	ca_free(url);
	return rc;
}

int ca_device_login(struct ca_token *out, const struct ca_config *cfg)
{
	struct ca_device_auth da = { 0 };
	struct ca_token tok;
	int timeout_s = cfg->login_timeout > 0 ? cfg->login_timeout : CA_DEFAULT_LOGIN_TIMEOUT;
	int64_t start, login_deadline, code_deadline;
	int interval, rc, no_answer = 0;

	ca_token_init(&tok);
	if (!cfg->interactive) {
		rc = ca_error(CA_ELOGIN, "a login is needed, but this caller does not allow "
			"one (interactive=false); run `carto-auth login --device` in a terminal");
		goto out;
	}
	if ((rc = request_code(&da, cfg)) < 0)
		goto out;
	start = ca_clock_ms();
	login_deadline = start + (int64_t)timeout_s * 1000;
	code_deadline = start + (int64_t)da.expires_in * 1000;
	interval = da.interval;
	show_code(&da, timeout_s);
	for (;;) {
		int64_t next = ca_clock_ms() + (int64_t)interval * 1000;

		if (next >= login_deadline) {
			sleep_until(login_deadline);
			rc = ca_error(CA_ELOGIN, "timed out after %d s waiting for the device login "
				"to be approved; run `carto-auth login --device` again (or raise "
				"--timeout)", timeout_s);
			goto out;
		}
		if (next >= code_deadline) {
			sleep_until(code_deadline);
			rc = ca_error(CA_ELOGIN, "the login code expired after %d s before the login "
				"was approved; run `carto-auth login --device` again", da.expires_in);
			goto out;
		}
		sleep_until(next);
		rc = poll_once(&tok, cfg, &da, &interval);
		if (rc == POLL_NO_ANSWER) {
			if (++no_answer > DEVICE_POLL_NO_ANSWER_MAX) {
				rc = CA_ENET; /* the last poll's error */
				break;
			}
			/* RFC 8628 3.5: after a time-out, poll less often. */
			interval = interval * 2 > DEVICE_MAX_INTERVAL ? DEVICE_MAX_INTERVAL : interval * 2;
			ca_debug("device login: the poll got no answer; polling again in %d s", interval);
			ca_error_clear();
			continue;
		}
		if (rc <= 0)
			break;
		no_answer = 0;
	}
	if (rc < 0)
		goto out;
	ca_notice("Login approved; getting the account's details...");
	ca_http_budget_reset();
	if ((rc = ca_oauth_finish(&tok, cfg, 1)) < 0)
		goto out;
	ca_token_move(out, &tok);
out:
	ca_token_clear(&tok);
	ca_device_auth_clear(&da);
	return rc;
}
