/*
 * Unit tests of the HTTP retry decision (auth/net/http.c): which failed
 * attempts are made again, for a plain request and for one that carries a
 * single-use secret (an authorization code, a rotating refresh token), and
 * the same against a loopback server: a refused connection is retried, a
 * connection closed after the request is not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/net/http.h"
#include "util/error.h"

/* --- the decision --- */

static const struct http_request plain = { .method = "POST", .what = "token request" };
static const struct http_request once = { .method = "POST", .what = "token renewal",
	.single_use = 1 };
static const struct http_request poll_req = { .method = "POST", .what = "device login poll",
	.no_retry_429 = 1, .single_use = 1 };

static int allowed(const struct http_request *req, CURLcode code, long status, int connected,
	const char **why)
{
	return ca_http_retry_allowed(req, (int)code, status, connected, why);
}

static void test_plain_request(void **state)
{
	const char *why = "x";

	(void)state;
	assert_int_equal(1, allowed(&plain, CURLE_COULDNT_RESOLVE_HOST, 0, 0, &why));
	assert_null(why);
	assert_int_equal(1, allowed(&plain, CURLE_COULDNT_CONNECT, 0, 0, &why));
	assert_int_equal(1, allowed(&plain, CURLE_OPERATION_TIMEDOUT, 0, 1, &why));
	assert_int_equal(1, allowed(&plain, CURLE_RECV_ERROR, 0, 1, &why));
	assert_int_equal(1, allowed(&plain, CURLE_SEND_ERROR, 0, 1, &why));
	assert_int_equal(1, allowed(&plain, CURLE_GOT_NOTHING, 0, 1, &why));
	assert_int_equal(1, allowed(&plain, CURLE_PARTIAL_FILE, 0, 1, &why));
	assert_int_equal(1, allowed(&plain, CURLE_OK, 429, 1, &why));
	assert_int_equal(1, allowed(&plain, CURLE_OK, 500, 1, &why));
	assert_int_equal(1, allowed(&plain, CURLE_OK, 503, 1, &why));
	/* Answers the caller judges, and failures a retry does not mend. */
	assert_int_equal(0, allowed(&plain, CURLE_OK, 200, 1, &why));
	assert_int_equal(0, allowed(&plain, CURLE_OK, 400, 1, &why));
	assert_int_equal(0, allowed(&plain, CURLE_OK, 403, 1, &why));
	assert_int_equal(0, allowed(&plain, CURLE_PEER_FAILED_VERIFICATION, 0, 1, &why));
	assert_int_equal(0, allowed(&plain, CURLE_SSL_CONNECT_ERROR, 0, 1, &why));
	assert_null(why);
}

static void test_single_use_never_reached(void **state)
{
	const char *why = "x";

	(void)state;
	/* No connection was made: the server never saw the secret. */
	assert_int_equal(1, allowed(&once, CURLE_COULDNT_RESOLVE_HOST, 0, 0, &why));
	assert_null(why);
	assert_int_equal(1, allowed(&once, CURLE_COULDNT_CONNECT, 0, 0, &why));
	assert_null(why);
	/* A connect time-out (nothing connected) is the same. */
	assert_int_equal(1, allowed(&once, CURLE_OPERATION_TIMEDOUT, 0, 0, &why));
	assert_null(why);
	/* Rate limited: the grant was not processed (Retry-After honoured). */
	assert_int_equal(1, allowed(&once, CURLE_OK, 429, 1, &why));
	assert_null(why);
}

static void test_single_use_may_have_reached(void **state)
{
	static const CURLcode after_connect[] = { CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR,
		CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE };
	static const long statuses[] = { 500, 502, 503, 504 };
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(after_connect) / sizeof(after_connect[0]); i++) {
		why = NULL;
		assert_int_equal(0, allowed(&once, after_connect[i], 0, 1, &why));
		assert_non_null(why);
		assert_non_null(strstr(why, "single-use"));
	}
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		why = NULL;
		assert_int_equal(0, allowed(&once, CURLE_OK, statuses[i], 1, &why));
		assert_non_null(why);
	}
	/* Not retried for any request: no single-use reason given. */
	why = "x";
	assert_int_equal(0, allowed(&once, CURLE_OK, 400, 1, &why));
	assert_null(why);
	assert_int_equal(0, allowed(&once, CURLE_PEER_FAILED_VERIFICATION, 0, 1, &why));
	assert_null(why);
	/* why_not may be left out. */
	assert_int_equal(0, allowed(&once, CURLE_OPERATION_TIMEDOUT, 0, 1, NULL));
}

static void test_device_poll(void **state)
{
	const char *why = "x";

	(void)state;
	/* A 429 (slow_down) is the caller's answer; a refused connect is retried. */
	assert_int_equal(0, allowed(&poll_req, CURLE_OK, 429, 1, &why));
	assert_null(why);
	assert_int_equal(1, allowed(&poll_req, CURLE_COULDNT_CONNECT, 0, 0, &why));
	assert_int_equal(0, allowed(&poll_req, CURLE_OPERATION_TIMEDOUT, 0, 1, &why));
	assert_non_null(why);
}

/* --- against a loopback server --- */

struct server {
	int fd;
	int listen_after_ms; /* a bound socket that does not listen refuses */
	int answer;          /* 1: HTTP 200; 0: read the request, close */
	int accepted;        /* connections taken */
	int requests;        /* requests read (their bytes reached the server) */
	pthread_t thread;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *serve(void *arg)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: 2\r\nConnection: close\r\n\r\n{}";
	struct server *srv = arg;
	/* Long enough for 3 attempts and their backoff (0.5 s, 1 s). */
	int64_t end = now_ms() + 3000;

	if (srv->listen_after_ms) {
		usleep((useconds_t)srv->listen_after_ms * 1000);
		if (listen(srv->fd, 8) < 0)
			return NULL;
	}
	while (now_ms() < end) {
		struct pollfd p = { .fd = srv->fd, .events = POLLIN };
		char buf[4096];
		ssize_t n;
		int c;

		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept(srv->fd, NULL, NULL);
		if (c < 0)
			continue;
		srv->accepted++;
		n = recv(c, buf, sizeof(buf), 0);
		if (n > 0)
			srv->requests++;
		if (n > 0 && srv->answer)
			(void)!send(c, ok, sizeof(ok) - 1, MSG_NOSIGNAL);
		close(c);
		if (srv->answer)
			break;
	}
	return NULL;
}

static void server_start(struct server *srv, char *url, size_t size, int listen_after_ms,
	int answer)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	memset(srv, 0, sizeof(*srv));
	srv->listen_after_ms = listen_after_ms;
	srv->answer = answer;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(srv->fd >= 0);
	assert_int_equal(0, bind(srv->fd, (struct sockaddr *)&a, sizeof(a)));
	assert_int_equal(0, getsockname(srv->fd, (struct sockaddr *)&a, &len));
	snprintf(url, size, "http://127.0.0.1:%u/oauth/token", ntohs(a.sin_port));
	if (!listen_after_ms)
		assert_int_equal(0, listen(srv->fd, 8));
	assert_int_equal(0, pthread_create(&srv->thread, NULL, serve, srv));
}

static void server_stop(struct server *srv)
{
	pthread_join(srv->thread, NULL);
	close(srv->fd);
}

static void test_refused_connect_is_retried(void **state)
{
	struct http_request req = once;
	struct http_response res;
	struct server srv;
	char url[64];

	(void)state;
	/* The first attempt finds the port closed; the retry (0.5 s on) an answer. */
	server_start(&srv, url, sizeof(url), 200, 1);
	req.url = url;
	req.form_body = "grant_type=refresh_token&refresh_token=v1.test";
	ca_http_budget_reset();
	assert_int_equal(0, ca_http_perform(&res, &req));
	assert_int_equal(200, res.status);
	ca_http_response_clear(&res);
	server_stop(&srv);
	assert_int_equal(1, srv.accepted);
	assert_int_equal(1, srv.requests);
}

static void test_closed_after_request_is_not_retried(void **state)
{
	struct http_request req = once;
	struct http_response res;
	struct server srv;
	char url[64];

	(void)state;
	server_start(&srv, url, sizeof(url), 0, 0);
	req.url = url;
	req.form_body = "grant_type=refresh_token&refresh_token=v1.test";
	ca_http_budget_reset();
	assert_int_equal(CA_ENET, ca_http_perform(&res, &req));
	assert_non_null(strstr(ca_error_message(), "not retried, as it carries a single-use secret"));
	assert_null(strstr(ca_error_message(), "v1.test"));
	ca_http_response_clear(&res);
	server_stop(&srv);
	assert_int_equal(1, srv.requests);

	/* The same request without the flag: 3 attempts. */
	server_start(&srv, url, sizeof(url), 0, 0);
	req.single_use = 0;
	ca_http_budget_reset();
	assert_int_equal(CA_ENET, ca_http_perform(&res, &req));
	assert_non_null(strstr(ca_error_message(), "(tried 3 times)"));
	ca_http_response_clear(&res);
	server_stop(&srv);
	assert_int_equal(3, srv.requests);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_request),
		cmocka_unit_test(test_single_use_never_reached),
		cmocka_unit_test(test_single_use_may_have_reached),
		cmocka_unit_test(test_device_poll),
		cmocka_unit_test(test_refused_connect_is_retried),
		cmocka_unit_test(test_closed_after_request_is_not_retried),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
