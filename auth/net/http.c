#include "auth/net/http.h"

#include "auth/config.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/text.h"
#include "util/url.h"
#include "util/clock.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CONNECT_TIMEOUT_MS 10000L
#define REQUEST_TIMEOUT_MS 30000L
#define MIN_TIMEOUT_MS 100L

/*
 * The total timeout of one attempt: REQUEST_TIMEOUT_MS, or less when
 * CARTO_AUTH_HTTP_TIMEOUT_MS asks for less (tests, impatient callers); it
 * can never raise the bounds.
 */
static long request_timeout_ms(void)
{
	const char *v = getenv("CARTO_AUTH_HTTP_TIMEOUT_MS");
	char *end;
	long ms;

	if (!v || !*v)
		return REQUEST_TIMEOUT_MS;
	ms = strtol(v, &end, 10);
	if (*end || ms <= 0 || ms > REQUEST_TIMEOUT_MS)
		return REQUEST_TIMEOUT_MS;
	return ms < MIN_TIMEOUT_MS ? MIN_TIMEOUT_MS : ms;
}

/* The network budget belongs to the running call (util/clock.h). */
void ca_http_budget_reset(void)
{
	ca_call_restart();
}

static int64_t budget_left_ms(void)
{
	return HTTP_BUDGET_MS - (ca_clock_ms() - ca_call_started_ms());
}

/*
 * libcurl's process-wide initialisation, once (pthread_once: any thread
 * may make the first request). In a host program (libcarto-auth) it is the
 * plain, reference-counted curl_global_init, thread-safe since libcurl
 * 7.84, which leaves the host's allocator alone; only the executable's
 * network module hands libcurl the wiping allocator, before any request.
 */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_wiping;
static CURLcode curl_init_code;

static void *curl_malloc(size_t size)
{
	return ca_malloc(size);
}

static char *curl_strdup(const char *s)
{
	return ca_strdup(s);
}

static void init_curl_once(void)
{
	if (curl_wiping)
		curl_init_code = curl_global_init_mem(CURL_GLOBAL_DEFAULT, curl_malloc, ca_free,
			ca_realloc, curl_strdup, ca_calloc);
	else
		curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int init_curl(void)
{
	pthread_once(&curl_once, init_curl_once);
	if (curl_init_code != CURLE_OK)
		return ca_error(CA_ERR, "cannot initialise libcurl");
	return 0;
}

int ca_http_init_executable(void)
{
	curl_wiping = 1;
	return init_curl();
}

void ca_http_response_clear(struct http_response *res)
{
	if (!res)
		return;
	ca_free(res->body);
	memset(res, 0, sizeof(*res));
}

struct sink {
	char *data;
	size_t len, alloc;
	int too_large;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata)
{
	struct sink *sink = userdata;
	size_t add = size * n;

	if (sink->len + add > HTTP_MAX_BODY) {
		sink->too_large = 1;
		return 0; /* aborts the transfer */
	}
	if (sink->len + add + 1 > sink->alloc) {
		size_t alloc = sink->alloc ? sink->alloc : 4096;
		char *grown;

		while (alloc < sink->len + add + 1)
			alloc *= 2;
		grown = ca_realloc(sink->data, alloc);
		if (!grown)
			return 0;
		sink->data = grown;
		sink->alloc = alloc;
	}
	memcpy(sink->data + sink->len, ptr, add);
	sink->len += add;
	sink->data[sink->len] = '\0';
	return add;
}

/*
 * The host[:port] of a URL for messages, as the core parser reads it: never
 * user-info (which may hold a password), never the path.
 */
static void url_host(char *out, size_t size, const char *url)
{
	if (ca_url_host(out, size, url) < 0)
		snprintf(out, size, "%s", "a URL that does not parse");
}

/*
 * libcurl's own reading of url, made right before each attempt: no
 * user-info, the scheme https (http only to a loopback host) and the very
 * host and port the core parser (util/url.h) reads. The request is then
 * made from this handle (CURLOPT_CURLU), so what was checked is what is
 * used.
 */
static int curl_url_check(CURLU **out, const char *url, const char *what)
{
	struct ca_url core;
	CURLU *h = NULL;
	char *part = NULL, *scheme = NULL, *host = NULL;
	CURLUcode uc;
	int rc = 0;

	*out = NULL;
	if (ca_url_parse(&core, url) < 0) {
		rc = ca_error_prefix("refusing to send %s", what); /* the parser's reason */
		goto out;
	}
	if (!(h = curl_url())) {
		rc = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	/* No default or guessed scheme: the URL must name it. */
	if ((uc = curl_url_set(h, CURLUPART_URL, url, CURLU_DISALLOW_USER)) != CURLUE_OK) {
		rc = ca_error(CA_EINVAL, "refusing to send %s: libcurl cannot parse the URL (%s)",
			what, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(h, CURLUPART_USER, &part, 0) != CURLUE_NO_USER ||
	    curl_url_get(h, CURLUPART_PASSWORD, &part, 0) != CURLUE_NO_PASSWORD ||
	    curl_url_get(h, CURLUPART_OPTIONS, &part, 0) != CURLUE_NO_OPTIONS ||
	    curl_url_get(h, CURLUPART_ZONEID, &part, 0) != CURLUE_NO_ZONEID) {
		rc = ca_error(CA_EINVAL, "refusing to send %s: the URL has user-info", what);
		goto out;
	}
	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = ca_error(CA_EINVAL, "refusing to send %s: the URL has no scheme or host", what);
		goto out;
	}
	uc = curl_url_get(h, CURLUPART_PORT, &part, 0);
	if (strcasecmp(scheme, core.scheme) != 0 || !ca_url_same_host(host, core.host) ||
	    (uc == CURLUE_OK ? !part || atoi(part) != core.port :
	     uc != CURLUE_NO_PORT || core.port != 0)) {
		rc = ca_error(CA_EINVAL, "refusing to send %s: libcurl and carto-auth read the "
			"URL's host differently", what);
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0 &&
	    (strcasecmp(scheme, "http") != 0 || !ca_url_is_loopback_host(host))) {
		rc = ca_error(CA_EINVAL, "refusing to send %s: only https:// (or http:// to "
			"loopback)", what);
		goto out;
	}
	*out = h;
	h = NULL;
out:
	curl_free(part);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Trust named by the environment, as the curl tool reads it. */
static const char *ca_bundle(void)
{
	const char *v = getenv("CURL_CA_BUNDLE");

	if (v && *v)
		return v;
	v = getenv("SSL_CERT_FILE");
	return v && *v ? v : NULL;
}

/*
 * The answer's Retry-After in seconds (a number, or an HTTP date as libcurl
 * reads it), -1 when there is none: then our own backoff.
 */
static long retry_after_s(CURL *curl)
{
	curl_off_t v = 0;

	if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &v) != CURLE_OK || v <= 0)
		return -1;
	return v > LONG_MAX ? LONG_MAX : (long)v;
}

/*
 * One attempt. 0 with an HTTP status, or a curl error in *curl_error;
 * *connected: whether a connection was made (to the server or a proxy),
 * after which the request may have reached the server.
 */
static int attempt(struct http_response *res, CURLcode *curl_error, int *connected,
	long *retry_after, char detail[CURL_ERROR_SIZE], const struct http_request *req,
	long timeout_ms)
{
	curl_off_t connect_us = 0, pretransfer_us = 0;
	struct curl_slist *headers = NULL;
	struct sink sink = { 0 };
	char *auth = NULL;
	CURLU *url = NULL;
	CURL *curl;
	int error = 0;

	detail[0] = '\0';
	if ((error = curl_url_check(&url, req->url, req->what)))
		return error;
	curl = curl_easy_init();
	if (!curl) {
		curl_url_cleanup(url);
		return ca_error(CA_ERR, "cannot initialise libcurl");
	}
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(curl, CURLOPT_CURLU, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 0L);
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_bundle())
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca_bundle());
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
		timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_BODY);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "carto-auth/" CARTO_AUTH_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (req->bearer) {
		auth = ca_malloc(strlen(req->bearer) + 32);
		if (!auth) {
			error = ca_error(CA_ERR, "out of memory");
			goto out;
		}
		sprintf(auth, "Authorization: Bearer %s", req->bearer);
		headers = curl_slist_append(headers, auth);
	}
	if (req->form_body) {
		headers = curl_slist_append(headers,
			"Content-Type: application/x-www-form-urlencoded");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->form_body);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

	*retry_after = -1;
	*connected = 0;
	*curl_error = curl_easy_perform(curl);
	/* Unknown counts as connected: the safe side for a single-use secret. */
	if (curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connect_us) != CURLE_OK ||
	    curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us) != CURLE_OK ||
	    connect_us > 0 || pretransfer_us > 0)
		*connected = 1;
	if (sink.too_large || *curl_error == CURLE_FILESIZE_EXCEEDED) {
		error = ca_error(CA_ENET, "%s failed: the answer is larger than %d bytes (1 MiB); refused without parsing it",
			req->what, HTTP_MAX_BODY);
		goto out;
	}
	if (*curl_error == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
		res->body = sink.data ? sink.data : ca_strdup("");
		res->len = sink.len;
		sink.data = NULL;
		*retry_after = retry_after_s(curl);
	}
out:
	curl_slist_free_all(headers); /* the Authorization line goes with it */
	ca_free(auth);
	ca_free(sink.data);
	curl_easy_cleanup(curl);
	curl_url_cleanup(url); /* after the easy handle, which used it */
	return error;
}

static int retryable(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	default:
		return 0;
	}
}

#define SINGLE_USE_WHY "it carries a single-use secret the server may already have used"

int ca_http_retry_allowed(const struct http_request *req, int curl_code, long status,
	int connected, const char **why_not)
{
	if (why_not)
		*why_not = NULL;
	if (curl_code == CURLE_OK) {
		if (status == 429)
			return !req->no_retry_429; /* rate limited: the grant was not processed */
		if (status < 500)
			return 0;
	} else if (!retryable((CURLcode)curl_code)) {
		return 0;
	}
	/*
	 * A time-out, a reset or a 5xx once connected: the server may have
	 * redeemed the code or rotated the refresh token, and a second use is
	 * refused (and, for a refresh token, revokes its whole family).
	 */
	if (req->single_use && (curl_code == CURLE_OK || connected)) {
		if (why_not)
			*why_not = SINGLE_USE_WHY;
		return 0;
	}
	return 1;
}

int ca_http_perform(struct http_response *res, const struct http_request *req)
{
	struct ca_url parsed;
	char host[CA_URL_HOST_MAX + 8];
	long backoff_ms = 500, retry_after = -1, wait, timeout_ms = request_timeout_ms();
	char detail[CURL_ERROR_SIZE] = "";
	const char *why, *why_not = NULL;
	CURLcode code = CURLE_OK;
	int i, error, connected = 0;
	int64_t started;

	memset(res, 0, sizeof(*res));
	if ((error = init_curl()))
		return error;
	if (ca_url_parse(&parsed, req->url) < 0)
		return ca_error_prefix("refusing to send %s", req->what); /* the parser's reason */
	url_host(host, sizeof(host), req->url);
	if (!ca_url_allowed(req->url))
		return ca_error(CA_EINVAL, "refusing to send %s to %s: only https:// (or http:// to loopback)",
			req->what, host);

	for (i = 1; i <= HTTP_ATTEMPTS; i++) {
		int64_t left = budget_left_ms();

		if (left <= 0) {
			ca_error(CA_ENET, "%s to %s failed: no answer within %d s",
				req->what, host, HTTP_BUDGET_MS / 1000);
			return ca_error_set_reason(CA_REASON_UNREACHABLE);
		}
		started = ca_clock_ms();
		ca_http_response_clear(res);
		error = attempt(res, &code, &connected, &retry_after, detail, req,
			left < timeout_ms ? (long)left : timeout_ms);
		if (code == CURLE_OK)
			ca_debug("http: %s %s -> HTTP %ld (%lld ms, attempt %d)", req->method, host,
				res->status, (long long)(ca_clock_ms() - started), i);
		else
			ca_debug("http: %s %s -> %s (%lld ms, attempt %d)", req->method, host,
				detail[0] ? detail : curl_easy_strerror(code),
				(long long)(ca_clock_ms() - started), i);
		if (error)
			return error;
		if (code == CURLE_OK && res->status >= 300 && res->status < 400) {
			long status = res->status;

			ca_http_response_clear(res);
			return ca_error(CA_ENET, "%s to %s failed: unexpected redirect (HTTP %ld), not followed",
				req->what, host, status);
		}
		if (code == CURLE_OK && (res->status != 429 || req->no_retry_429) &&
		    res->status < 500)
			return 0;
		if (!ca_http_retry_allowed(req, (int)code, code == CURLE_OK ? res->status : 0,
			connected, &why_not)) {
			if (why_not)
				ca_debug("http: no retry of the %s, as %s", req->what, why_not);
			break;
		}
		if (i == HTTP_ATTEMPTS)
			break;
		wait = backoff_ms;
		if (retry_after >= 0)
			wait = (retry_after > HTTP_RETRY_AFTER_CAP_S ? HTTP_RETRY_AFTER_CAP_S : retry_after) * 1000;
		if (wait >= budget_left_ms()) {
			ca_debug("http: no time left in the %d s budget for another attempt",
				HTTP_BUDGET_MS / 1000);
			break;
		}
		ca_debug("http: waiting %ld ms before attempt %d%s", wait, i + 1,
			retry_after >= 0 ? " (Retry-After)" : "");
		sleep_ms(wait);
		backoff_ms *= 2;
	}
	if (code != CURLE_OK) {
		ca_http_response_clear(res);
		/* curl's detail names the cause ("Connection reset by peer"). */
		why = detail[0] ? detail : curl_easy_strerror(code);
		if (why_not)
			ca_error(CA_ENET, "%s to %s failed: %s; not retried, as %s", req->what, host,
				why, why_not);
		else if (!retryable(code) || i == 1)
			ca_error(CA_ENET, "%s to %s failed: %s", req->what, host, why);
		else
			ca_error(CA_ENET, "%s to %s failed: %s (tried %d times)", req->what, host,
				why, i > HTTP_ATTEMPTS ? HTTP_ATTEMPTS : i);
		/* No answer, as the reference's ConnectionError. */
		return ca_error_set_reason(CA_REASON_UNREACHABLE);
	}
	{
		long status = res->status;

		ca_http_response_clear(res);
		if (why_not)
			return ca_error(CA_ENET, "%s to %s failed: the server answered HTTP %ld; not retried, as %s",
				req->what, host, status, why_not);
		return ca_error(CA_ENET, "%s to %s failed: the server answered HTTP %ld (tried %d times)",
			req->what, host, status, i > HTTP_ATTEMPTS ? HTTP_ATTEMPTS : i);
	}
}

int ca_http_form_add(char **form, const char *key, const char *value)
{
	size_t old = *form ? strlen(*form) : 0, need;
	char *escaped, *out;

	/* Everything but A-Z a-z 0-9 - . _ ~ as %XX (RFC 3986's unreserved). */
	escaped = curl_easy_escape(NULL, value, 0);
	if (!escaped)
		return ca_error(CA_ERR, "out of memory");
	need = old + strlen(key) + strlen(escaped) + 3;
	out = ca_malloc(need);
	if (out)
		snprintf(out, need, "%s%s%s=%s", old ? *form : "", old ? "&" : "", key, escaped);
	/* libcurl's copy may hold a secret and its free does not wipe. */
	ca_wipe(escaped, strlen(escaped));
	curl_free(escaped);
	if (!out)
		return ca_error(CA_ERR, "out of memory");
	ca_free(*form);
	*form = out;
	return 0;
}

char *ca_http_url_decode(const char *src, size_t len)
{
	char *out = ca_malloc(len + 1), *p = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (src[i] == '%') {
			int hi = len - i >= 3 ? ca_hex_digit(src[i + 1]) : -1;
			int lo = len - i >= 3 ? ca_hex_digit(src[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				ca_free(out);
				return NULL;
			}
			*p++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (src[i] == '+') {
			*p++ = ' ';
		} else {
			*p++ = src[i];
		}
	}
	*p = '\0';
	return out;
}
