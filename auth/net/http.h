/*
 * HTTP for the CARTO flows, on libcurl: HTTPS with certificate checks
 * always on (plain http:// only to loopback), connect and total timeouts,
 * retries with backoff on 429, 5xx and connection failures (Retry-After
 * honoured up to a cap; a request with a single-use secret only when it
 * certainly never reached the server), no redirects followed, answers over 1 MiB
 * refused, and one time budget for all network work of one call (a library
 * call, or a run of the executable: util/clock.h).
 */
#ifndef CA_AUTH_HTTP_H
#define CA_AUTH_HTTP_H

#include <stddef.h>

#define HTTP_MAX_BODY (1024 * 1024)
#define HTTP_ATTEMPTS 3
#define HTTP_BUDGET_MS 60000
#define HTTP_RETRY_AFTER_CAP_S 10

struct http_request {
	const char *method;    /* "GET" or "POST" */
	const char *url;
	const char *form_body; /* POST: application/x-www-form-urlencoded; secret */
	const char *bearer;    /* Authorization: Bearer; secret */
	const char *what;      /* for messages: "token request", "account discovery" */
	int no_retry_429;      /* a 429 is the caller's answer (an RFC 8628 device
	                          poll's slow_down), returned, not retried */
	int single_use;        /* the form carries a secret the server accepts
	                          once (an authorization code, a rotating refresh
	                          token): retried only when the attempt certainly
	                          never reached the server (no connection made) or
	                          was answered 429; never after a time-out, a reset
	                          or a 5xx, as the server may have used it */
};

struct http_response {
	long status;
	char *body; /* NUL-terminated; wiped on clear */
	size_t len;
};

void ca_http_response_clear(struct http_response *res);

/*
 * Performs the request with retries. Returns 0 with any HTTP status in
 * res (the caller judges 4xx), or CA_ENET with a message when no answer
 * came (timeout, connection, TLS, too large, redirect, retries used up on
 * 429/5xx).
 */
int ca_http_perform(struct http_response *res, const struct http_request *req);

/*
 * Whether an attempt that got no usable answer is made again (1) or not
 * (0); the retry decision of ca_http_perform, apart for tests. curl_code is
 * the attempt's libcurl result (CURLE_OK when the server answered status);
 * connected tells whether a connection to the server (or a proxy) was made,
 * after which the request may have reached it. When a single-use request is
 * not retried for that reason, *why_not (when given) says so for messages;
 * otherwise it is set to NULL.
 */
int ca_http_retry_allowed(const struct http_request *req, int curl_code, long status,
	int connected, const char **why_not);

/* Appends "key=value" URL-encoded to a form or query (with '&' between). */
int ca_http_form_add(char **form, const char *key, const char *value);

/* Percent-decodes src[0..len) into a new string; NULL on bad input. */
char *ca_http_url_decode(const char *src, size_t len);

/* Starts the running call's network time budget again, now (after the
 * browser wait of a login, which does not count). */
void ca_http_budget_reset(void);

/*
 * For the executable only (its network module's entry point): libcurl's
 * process-wide initialisation with the wiping allocator (util/mem.h). A
 * host program of the library keeps its own; the library then calls plain
 * curl_global_init, once.
 */
int ca_http_init_executable(void);

#endif
