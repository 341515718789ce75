/*
 * Unit tests of the OAuth pieces: SHA-256, base64url, PKCE, state, the
 * authorize URL, the loopback callback (parser and server), pasted codes,
 * the tenant config.yaml and the accounts answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "auth/net/callback.h"
#include "auth/config.h"
#include "auth/net/discover.h"
#include "auth/net/oauth.h"
#include "auth/net/paste.h"
#include "auth/net/pkce.h"
#include "auth/net/peer.h"
#include "util/base64url.h"
#include "util/sha256.h"
#include "util/error.h"
#include "util/mem.h"

/* --- SHA-256 (FIPS 180-4 / NIST CAVS examples) --- */

static void hex(char *out, const unsigned char *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_sha(const char *msg, size_t len, const char *want)
{
	unsigned char d[SHA256_DIGEST_LEN];
	char h[2 * SHA256_DIGEST_LEN + 1];

	ca_sha256(d, msg, len);
	hex(h, d, sizeof(d));
	assert_string_equal(h, want);
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	check_sha("", 0,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
		"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_million_a(void **state)
{
	struct sha256_ctx ctx;
	unsigned char d[SHA256_DIGEST_LEN];
	char block[1000], h[65];
	int i;

	(void)state;
	memset(block, 'a', sizeof(block));
	ca_sha256_init(&ctx);
	for (i = 0; i < 1000; i++)
		ca_sha256_update(&ctx, block, sizeof(block));
	ca_sha256_final(&ctx, d);
	hex(h, d, sizeof(d));
	assert_string_equal(h,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length around the block and padding edges, fed in odd pieces. */
static void test_sha256_incremental(void **state)
{
	unsigned char buf[200], one[32], inc[32];
	size_t len, i, step;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (len = 0; len <= sizeof(buf); len++) {
		ca_sha256(one, buf, len);
		for (step = 1; step <= 65; step += 16) {
			struct sha256_ctx ctx;

			ca_sha256_init(&ctx);
			for (i = 0; i < len; i += step)
				ca_sha256_update(&ctx, buf + i, len - i < step ? len - i : step);
			ca_sha256_final(&ctx, inc);
			assert_memory_equal(one, inc, sizeof(one));
		}
	}
}

/* --- base64url --- */

static void check_b64(const char *in, const char *want)
{
	unsigned char *back = NULL;
	size_t back_len = 0;
	char *s = NULL;

	assert_int_equal(ca_base64url_encode(&s, (const unsigned char *)in, strlen(in)), 0);
	assert_string_equal(s, want);
	assert_int_equal(ca_base64url_decode(&back, &back_len, s, strlen(s)), 0);
	assert_int_equal(back_len, strlen(in));
	assert_memory_equal(back, in, back_len);
	ca_free(s);
	ca_free(back);
}

static void test_base64url(void **state)
{
	static const unsigned char url_chars[] = { 0xfb, 0xff, 0xbf };
	unsigned char *back = NULL;
	size_t n;
	char *s = NULL;

	(void)state;
	/* RFC 4648 section 10, without padding */
	check_b64("", "");
	check_b64("f", "Zg");
	check_b64("fo", "Zm8");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg");
	check_b64("fooba", "Zm9vYmE");
	check_b64("foobar", "Zm9vYmFy");
	/* the URL-safe alphabet: '-' and '_' instead of '+' and '/' */
	assert_int_equal(ca_base64url_encode(&s, url_chars, sizeof(url_chars)), 0);
	assert_string_equal(s, "-_-_");
	ca_free(s);
	/* padding is accepted on decoding; bad characters are not */
	assert_int_equal(ca_base64url_decode(&back, &n, "Zm8=", 4), 0);
	assert_int_equal(n, 2);
	ca_free(back);
	assert_int_equal(ca_base64url_decode(&back, &n, "Zm+v", 4), CA_EINVAL);
	assert_int_equal(ca_base64url_decode(&back, &n, "Z", 1), CA_EINVAL);
}

/* --- PKCE and state --- */

static int all_unreserved(const char *s)
{
	for (; *s; s++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-._~", *s))
			return 0;
	return 1;
}

static void test_pkce_verifier(void **state)
{
	char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(ca_oauth_pkce_verifier(&a), 0);
	assert_int_equal(ca_oauth_pkce_verifier(&b), 0);
	assert_in_range(strlen(a), 43, 128);
	assert_true(all_unreserved(a));
	assert_true(all_unreserved(b));
	assert_string_not_equal(a, b);
	ca_free(a);
	ca_free(b);
}

static void test_pkce_challenge_rfc7636(void **state)
{
	char *c = NULL;

	(void)state;
	/* RFC 7636 appendix B */
	assert_int_equal(ca_oauth_pkce_challenge(&c,
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), 0);
	assert_string_equal(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	ca_free(c);
}

static void test_random_state(void **state)
{
	char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(ca_oauth_random_state(&a), 0);
	assert_int_equal(ca_oauth_random_state(&b), 0);
	assert_true(strlen(a) >= 22); /* at least 128 bits */
	assert_true(all_unreserved(a));
	assert_string_not_equal(a, b);
	ca_free(a);
	ca_free(b);
}

/* --- the authorize URL --- */

static void test_config(struct ca_config *cfg, const char *org, const char *scope)
{
	ca_config_init(cfg);
	ca_free(cfg->auth_url);
	ca_free(cfg->oauth_client_id);
	ca_free(cfg->scope);
	ca_free(cfg->org);
	cfg->auth_url = ca_strdup("https://auth.example.com");
	cfg->oauth_client_id = ca_strdup("client-1");
	cfg->scope = scope ? ca_strdup(scope) : NULL;
	cfg->org = org ? ca_strdup(org) : NULL;
}

static void test_authorize_url(void **state)
{
	struct ca_config cfg;
	char *url = NULL;

	(void)state;
	test_config(&cfg, "acme corp", "offline_access");
	assert_int_equal(ca_oauth_authorize_url(&url, &cfg, "http://localhost:10000/callback/",
		"CHALLENGE", "STATE"), 0);
	assert_string_equal(url, "https://auth.example.com/authorize?client_id=client-1"
		"&response_type=code&audience=carto-cloud-native-api"
		"&redirect_uri=http%3A%2F%2Flocalhost%3A10000%2Fcallback%2F"
		"&code_challenge_method=S256&code_challenge=CHALLENGE&state=STATE"
		"&scope=offline_access&organization=acme%20corp");
	ca_free(url);
	ca_config_clear(&cfg);

	/* no scope, no organization */
	test_config(&cfg, NULL, "");
	assert_int_equal(ca_oauth_authorize_url(&url, &cfg, CA_PASTE_REDIRECT_URI, "C", "S"), 0);
	assert_null(strstr(url, "scope="));
	assert_null(strstr(url, "organization="));
	assert_non_null(strstr(url, "redirect_uri=https%3A%2F%2Fapp.carto.com%2Fauth%2Ftoken&"));
	ca_free(url);
	ca_config_clear(&cfg);
}

/* --- the callback request parser --- */

#define REQ(s) s, sizeof(s) - 1

static const struct callback_paths PATHS = { "/callback/", "/start/n0nce", "carto_auth_1" };

static void test_callback_good(void **state)
{
	struct callback_result r;

	(void)state;
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?code=abc-123&state=xyz HTTP/1.1\r\nHost: localhost\r\n\r\n"),
		&PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_CODE);
	assert_string_equal(r.code, "abc-123");
	assert_string_equal(r.state, "xyz");
	assert_null(r.error);
	ca_callback_result_clear(&r);

	/* the trailing slash may differ; extra parameters are ignored */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback?foo=1&state=s&code=c HTTP/1.0\n\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_CODE);
	assert_string_equal(r.code, "c");
	ca_callback_result_clear(&r);

	/* absolute-form target */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET http://localhost:10000/callback/?code=c&state=s HTTP/1.1\r\n\r\n"),
		&PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_CODE);
	ca_callback_result_clear(&r);
}

static void test_callback_other_paths(void **state)
{
	struct callback_result r;

	(void)state;
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /favicon.ico HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_NOT_FOUND);
	ca_callback_result_clear(&r);
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callbackx/?code=c&state=s HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_NOT_FOUND);
	ca_callback_result_clear(&r);
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET / HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_NOT_FOUND);
	ca_callback_result_clear(&r);
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"POST /callback/?code=c&state=s HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_BAD_METHOD);
	ca_callback_result_clear(&r);
}

static void test_callback_error(void **state)
{
	struct callback_result r;

	(void)state;
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?error=access_denied&error_description=User%20cancelled"
		"&state=s HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_ERROR);
	assert_string_equal(r.error, "access_denied");
	assert_string_equal(r.error_description, "User cancelled");
	ca_callback_result_clear(&r);

	/* '+' is a space too */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?error=e&error_description=a+b&state=s HTTP/1.1\r\n\r\n"),
		&PATHS), 0);
	assert_string_equal(r.error_description, "a b");
	ca_callback_result_clear(&r);
}

static void test_callback_missing_and_encoded(void **state)
{
	struct callback_result r;

	(void)state;
	/* no state: the parser reports it absent, the server refuses it */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?code=c HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_CODE);
	assert_null(r.state);
	ca_callback_result_clear(&r);
	/* neither code nor error */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?state=s HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_INCOMPLETE);
	ca_callback_result_clear(&r);
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/ HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_INCOMPLETE);
	ca_callback_result_clear(&r);
	/* percent-encoding */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?code=a%2Fb%3D&state=%7Ex HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_string_equal(r.code, "a/b=");
	assert_string_equal(r.state, "~x");
	ca_callback_result_clear(&r);
	/* a fragment is not part of the query */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?code=c&state=s#frag HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_string_equal(r.state, "s");
	ca_callback_result_clear(&r);
}

static void test_callback_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"GET",
		"GET /callback/?code=c&state=s",            /* no line end */
		"GET /callback/?code=c&state=s\r\n",        /* no version */
		"GET  HTTP/1.1\r\n",
		"GET callback HTTP/1.1\r\n",
		"GET /callback/?code=c HTTP/2\r\n",
		" /callback/?code=c HTTP/1.1\r\n",
		"GET /callback/?code=%zz&state=s HTTP/1.1\r\n",   /* bad escape */
		"GET /callback/?code=%00&state=s HTTP/1.1\r\n",   /* NUL */
		"GET /callback/?code=%4&state=s HTTP/1.1\r\n",
		"GET /callback/?code=a&code=b&state=s HTTP/1.1\r\n", /* repeated */
		"GET /callback/?code=a&state=s&state=t HTTP/1.1\r\n",
		"GET http://localhost HTTP/1.1\r\n",
	};
	struct callback_result r;
	char with_nul[] = "GET /callback/?code=c\0&state=s HTTP/1.1\r\n\r\n";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ca_callback_parse_request(&r, bad[i], strlen(bad[i]),
			&PATHS), 0);
		if (r.kind != CALLBACK_BAD_REQUEST)
			fail_msg("accepted: %s", bad[i]);
		assert_null(r.code);
		ca_callback_result_clear(&r);
	}
	assert_int_equal(ca_callback_parse_request(&r, with_nul, sizeof(with_nul) - 1,
		&PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_BAD_REQUEST);
	ca_callback_result_clear(&r);
}

static void test_callback_start_and_cookies(void **state)
{
	struct callback_result r;
	char nul_cookie[] = "GET /callback/?code=c&state=s HTTP/1.1\r\n"
		"Cookie: carto_auth_1=a\0b\r\n\r\n";
	char many[1024];
	int i, n;

	(void)state;
	/* the start page, whatever its query; its cookies are read too */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /start/n0nce HTTP/1.1\r\nHost: localhost\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_START);
	assert_int_equal(r.ncookies, 0);
	ca_callback_result_clear(&r);
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /start/n0nce/?x=1 HTTP/1.1\r\nCookie: carto_auth_1=old\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_START);
	assert_int_equal(r.ncookies, 1);
	ca_callback_result_clear(&r);
	/* another nonce, or none: not the start page */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /start/other HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_NOT_FOUND);
	ca_callback_result_clear(&r);
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /start/ HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_NOT_FOUND);
	ca_callback_result_clear(&r);
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"POST /start/n0nce HTTP/1.1\r\n\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_BAD_METHOD);
	ca_callback_result_clear(&r);

	/* the callback's cookies: every value of ours, trimmed, in order */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?code=c&state=s HTTP/1.1\r\n"
		"Host: localhost:1\r\n"
		"cookie:  other=1; carto_auth_1=v1 ;carto_auth_10=x\r\n"
		"Cookie: carto_auth_1=v2\r\n"
		"X-Cookie: carto_auth_1=no\r\n"
		"\r\n"
		"Cookie: carto_auth_1=after-the-head\r\n"), &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_CODE);
	assert_int_equal(r.ncookies, 2);
	assert_string_equal(r.cookies[0], "v1");
	assert_string_equal(r.cookies[1], "v2");
	ca_callback_result_clear(&r);
	/* an empty value, and no cookie name asked for */
	assert_int_equal(ca_callback_parse_request(&r, REQ(
		"GET /callback/?code=c HTTP/1.1\nCookie: carto_auth_1=\n\n"), &PATHS), 0);
	assert_int_equal(r.ncookies, 1);
	assert_string_equal(r.cookies[0], "");
	ca_callback_result_clear(&r);
	{
		const struct callback_paths bare = { "/callback/", NULL, NULL };

		assert_int_equal(ca_callback_parse_request(&r, REQ(
			"GET /callback/?code=c HTTP/1.1\r\nCookie: carto_auth_1=v\r\n\r\n"),
			&bare), 0);
		assert_int_equal(r.kind, CALLBACK_CODE);
		assert_int_equal(r.ncookies, 0);
		ca_callback_result_clear(&r);
		assert_int_equal(ca_callback_parse_request(&r, REQ(
			"GET /start/n0nce HTTP/1.1\r\n\r\n"), &bare), 0);
		assert_int_equal(r.kind, CALLBACK_NOT_FOUND);
		ca_callback_result_clear(&r);
	}
	/* a NUL in a Cookie header: refused */
	assert_int_equal(ca_callback_parse_request(&r, nul_cookie, sizeof(nul_cookie) - 1,
		&PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_BAD_REQUEST);
	assert_null(r.code);
	assert_int_equal(r.ncookies, 0);
	ca_callback_result_clear(&r);
	/* more values than kept: the first ones count, the rest are ignored */
	n = snprintf(many, sizeof(many), "GET /callback/?code=c HTTP/1.1\r\nCookie: ");
	for (i = 0; i < CALLBACK_MAX_COOKIES + 4; i++)
		n += snprintf(many + n, sizeof(many) - (size_t)n, "carto_auth_1=%d; ", i);
	n += snprintf(many + n, sizeof(many) - (size_t)n, "\r\n\r\n");
	assert_int_equal(ca_callback_parse_request(&r, many, (size_t)n, &PATHS), 0);
	assert_int_equal(r.kind, CALLBACK_CODE);
	assert_int_equal(r.ncookies, CALLBACK_MAX_COOKIES);
	assert_string_equal(r.cookies[0], "0");
	ca_callback_result_clear(&r);
}

static void test_redirect_uri(void **state)
{
	char *host = NULL, *path = NULL;
	unsigned port = 0;

	(void)state;
	assert_int_equal(ca_callback_parse_redirect_uri(&host, &port, &path,
		"http://localhost:10000/callback/"), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 10000);
	assert_string_equal(path, "/callback/");
	ca_free(host);
	ca_free(path);
	assert_int_equal(ca_callback_parse_redirect_uri(&host, &port, &path,
		"http://[::1]:8080"), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	assert_string_equal(path, "/");
	ca_free(host);
	ca_free(path);
	assert_int_equal(ca_callback_parse_redirect_uri(&host, &port, &path,
		"http://127.0.0.1/cb?x=1"), 0);
	assert_int_equal(port, 80);
	assert_string_equal(path, "/cb");
	ca_free(host);
	ca_free(path);
	assert_int_equal(ca_callback_parse_redirect_uri(&host, &port, &path,
		"https://localhost:10000/callback/"), CA_EINVAL);
	assert_int_equal(ca_callback_parse_redirect_uri(&host, &port, &path,
		"http://example.com:10000/callback/"), CA_EINVAL);
	assert_int_equal(ca_callback_parse_redirect_uri(&host, &port, &path,
		"http://localhost:0/"), CA_EINVAL);
	assert_int_equal(ca_callback_parse_redirect_uri(&host, &port, &path,
		"http://localhost:99999/"), CA_EINVAL);
	assert_int_equal(ca_callback_parse_redirect_uri(&host, &port, &path,
		"http://localhost:12ab/"), CA_EINVAL);
}

/* --- the callback server, with a client in a child process --- */

static unsigned free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static int connect_to(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The child's browser state: the cookie it sends, the last one it was set. */
static char client_cookie[256];
static char client_set_cookie[512];

/* Sends one request; returns the status code of the answer (0 on failure). */
static int client_get(unsigned port, const char *target, char *loc, size_t loc_size)
{
	char req[CALLBACK_MAX_REQUEST + 1024], ans[4096];
	ssize_t n, total = 0;
	int fd = connect_to(port), status = 0;
	char *p;

	if (fd < 0)
		return 0;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n%s%s%s\r\n",
		target, *client_cookie ? "Cookie: " : "", client_cookie,
		*client_cookie ? "\r\n" : "");
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return 0;
	}
	while ((n = read(fd, ans + total, sizeof(ans) - 1 - (size_t)total)) > 0)
		total += n;
	ans[total] = '\0';
	close(fd);
	sscanf(ans, "HTTP/1.1 %d", &status);
	if (loc && (p = strstr(ans, "Location: "))) {
		p += 10;
		snprintf(loc, loc_size, "%.*s", (int)strcspn(p, "\r\n"), p);
	}
	client_set_cookie[0] = '\0';
	if ((p = strstr(ans, "Set-Cookie: "))) {
		p += 12;
		snprintf(client_set_cookie, sizeof(client_set_cookie), "%.*s",
			(int)strcspn(p, "\r\n"), p);
	}
	return status;
}

#define TEST_AUTHORIZE "https://auth.example/authorize?state=st"

/*
 * Opens the start page as the browser would: a 302 to the authorize URL
 * that sets the login's cookie, which the child then sends. 1 when all of
 * it was as expected.
 */
static int open_start(unsigned port, const struct callback_server *srv)
{
	char loc[256] = "", want[128];
	int ok;

	ok = client_get(port, srv->start_path, loc, sizeof(loc)) == 302;
	ok &= strcmp(loc, TEST_AUTHORIZE) == 0;
	snprintf(want, sizeof(want), "%s=%s; Path=/callback; Max-Age=", srv->cookie_name,
		srv->cookie);
	ok &= strncmp(client_set_cookie, want, strlen(want)) == 0;
	ok &= strstr(client_set_cookie, "; HttpOnly; SameSite=Lax") != NULL;
	snprintf(client_cookie, sizeof(client_cookie), "%.*s",
		(int)strcspn(client_set_cookie, ";"), client_set_cookie);
	return ok;
}

/*
 * The child's script: a silent connection, a favicon request, the right
 * state without the cookie, the start page, a wrong state, a forged
 * cookie, then the callback. It exits 0 when every answer was as expected.
 */
static void client_script(unsigned port, const char *state,
	const struct callback_server *srv)
{
	char target[256], loc[256] = "";
	int silent, ok = 1;

	usleep(100 * 1000);
	silent = connect_to(port);           /* a preconnect that says nothing */
	ok &= silent >= 0;
	ok &= client_get(port, "/favicon.ico", NULL, 0) == 404;
	snprintf(target, sizeof(target), "/callback/?code=c0&state=%s", state);
	ok &= client_get(port, target, NULL, 0) == 400;     /* no cookie yet */
	ok &= client_get(port, "/start/not-the-nonce", NULL, 0) == 404;
	ok &= open_start(port, srv);
	ok &= client_get(port, "/callback/?code=c1&state=wrong", NULL, 0) == 400;
	ok &= client_get(port, "/callback/?code=c1", NULL, 0) == 400;
	{
		char saved[sizeof(client_cookie)];

		memcpy(saved, client_cookie, sizeof(saved));
		snprintf(client_cookie, sizeof(client_cookie), "%s=forged", srv->cookie_name);
		ok &= client_get(port, target, NULL, 0) == 400;
		memcpy(client_cookie, saved, sizeof(saved));
	}
	{
		/* a request head over 8 KiB */
		char big[CALLBACK_MAX_REQUEST + 100];

		memset(big, 'a', sizeof(big));
		memcpy(big, "/x?", 3);
		big[sizeof(big) - 1] = '\0';
		ok &= client_get(port, big, NULL, 0) == 431;
	}
	snprintf(target, sizeof(target), "/callback/?code=the-code&state=%s", state);
	ok &= client_get(port, target, loc, sizeof(loc)) == 302;
	ok &= strcmp(loc, CA_SUCCESS_PAGE) == 0;
	ok &= strstr(client_set_cookie, "=; Path=/callback; Max-Age=0;") != NULL;
	_exit(ok ? 0 : 1);
}

static void test_callback_server_flow(void **state)
{
	struct callback_server srv;
	struct callback_wait w = { .authorize_url = TEST_AUTHORIZE, .expected_state = "st4te", .timeout_s = 10 };
	char uri[128], *code = NULL;
	unsigned port = free_port();
	struct timespec t0, t1;
	int status;
	pid_t pid;

	(void)state;
	snprintf(uri, sizeof(uri), "http://localhost:%u/callback/", port);
	assert_int_equal(ca_callback_server_open(&srv, uri), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		client_script(port, "st4te", &srv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ca_callback_server_wait(&srv, &code, &w), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_string_equal(code, "the-code");
	/* the silent connection did not hold the others up */
	assert_true(t1.tv_sec - t0.tv_sec < CALLBACK_CLIENT_TIMEOUT_MS / 1000);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ca_free(code);
	ca_callback_server_close(&srv);
}

static void error_script(unsigned port, const struct callback_server *srv)
{
	char loc[256] = "";
	int ok;

	usleep(100 * 1000);
	ok = open_start(port, srv);
	ok &= client_get(port, "/callback/?error=access_denied&error_description="
		"User%20cancelled&state=s", loc, sizeof(loc)) == 302;
	ok &= strcmp(loc, CA_ERROR_PAGE) == 0;
	_exit(ok ? 0 : 1);
}

static void test_callback_server_error(void **state)
{
	struct callback_server srv;
	struct callback_wait w = { .authorize_url = TEST_AUTHORIZE, .expected_state = "s", .timeout_s = 10 };
	char uri[128], *code = NULL;
	unsigned port = free_port();
	int status;
	pid_t pid;

	(void)state;
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%u/callback/", port);
	assert_int_equal(ca_callback_server_open(&srv, uri), 0);
	pid = fork();
	if (pid == 0)
		error_script(port, &srv);
	assert_int_equal(ca_callback_server_wait(&srv, &code, &w), CA_EREFUSED);
	assert_string_equal(ca_error_message(), "login failed: access_denied (User cancelled)");
	assert_null(code);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ca_callback_server_close(&srv);
}

/* Browsers resolve localhost to ::1 as well: the server must answer there. */
static void ipv6_script(unsigned port, const struct callback_server *srv)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	char req[512], ans[512];
	int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;
	ssize_t n;

	usleep(100 * 1000);
	ok = open_start(port, srv);
	snprintf(req, sizeof(req), "GET /callback/?code=six&state=s HTTP/1.1\r\n"
		"Cookie: %s\r\n\r\n", client_cookie);
	sin6.sin6_port = htons((uint16_t)port);
	sin6.sin6_addr = in6addr_loopback;
	ok = ok && connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0 &&
		write(fd, req, strlen(req)) == (ssize_t)strlen(req) &&
		(n = read(fd, ans, sizeof(ans) - 1)) > 0 &&
		strncmp(ans, "HTTP/1.1 302", 12) == 0;
	_exit(ok ? 0 : 1);
}

static void test_callback_server_ipv6(void **state)
{
	struct sockaddr_in6 probe = { .sin6_family = AF_INET6 };
	struct callback_server srv;
	struct callback_wait w = { .authorize_url = TEST_AUTHORIZE, .expected_state = "s", .timeout_s = 10 };
	char uri[128], *code = NULL;
	unsigned port = free_port();
	int fd, status, have_v6;
	pid_t pid;

	(void)state;
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	probe.sin6_addr = in6addr_loopback;
	have_v6 = fd >= 0 && bind(fd, (struct sockaddr *)&probe, sizeof(probe)) == 0;
	if (fd >= 0)
		close(fd);
	if (!have_v6)
		skip();
	snprintf(uri, sizeof(uri), "http://localhost:%u/callback/", port);
	assert_int_equal(ca_callback_server_open(&srv, uri), 0);
	assert_int_equal(srv.nfds, 2);
	pid = fork();
	if (pid == 0)
		ipv6_script(port, &srv);
	assert_int_equal(ca_callback_server_wait(&srv, &code, &w), 0);
	assert_string_equal(code, "six");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ca_free(code);
	ca_callback_server_close(&srv);
}

/* The start page asked for twice (by anyone): the login stops. */
static void twice_script(unsigned port, const struct callback_server *srv)
{
	int ok;

	usleep(100 * 1000);
	ok = open_start(port, srv);
	ok &= client_get(port, srv->start_path, NULL, 0) == 409;
	_exit(ok ? 0 : 1);
}

static void test_callback_server_start_twice(void **state)
{
	struct callback_server srv;
	struct callback_wait w = { .authorize_url = TEST_AUTHORIZE, .expected_state = "s",
		.timeout_s = 10 };
	char uri[128], *code = NULL;
	unsigned port = free_port();
	int status;
	pid_t pid;

	(void)state;
	snprintf(uri, sizeof(uri), "http://localhost:%u/callback/", port);
	assert_int_equal(ca_callback_server_open(&srv, uri), 0);
	/* the start page is on the redirect URI's host and port, with a nonce */
	snprintf(uri, sizeof(uri), "http://localhost:%u/start/", port);
	assert_int_equal(strncmp(srv.start_url, uri, strlen(uri)), 0);
	assert_true(strlen(srv.start_url + strlen(uri)) >= 32);
	assert_null(strstr(srv.start_url, "state"));
	pid = fork();
	if (pid == 0)
		twice_script(port, &srv);
	assert_int_equal(ca_callback_server_wait(&srv, &code, &w), CA_ELOGIN);
	assert_string_equal(ca_error_message(), "the login page was opened twice; "
		"someone else may be trying to use this login");
	assert_true(w.started);
	assert_null(code);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ca_callback_server_close(&srv);
}

/* Another user's request for the start page (a child that became uid 65534). */
static void test_callback_server_other_user(void **state)
{
	struct callback_server srv;
	struct callback_wait w = { .authorize_url = TEST_AUTHORIZE, .expected_state = "s",
		.timeout_s = 10 };
	char uri[128], *code = NULL;
	unsigned port = free_port();
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0 || !PEER_UID_SUPPORTED)
		skip();
	snprintf(uri, sizeof(uri), "http://localhost:%u/callback/", port);
	assert_int_equal(ca_callback_server_open(&srv, uri), 0);
	pid = fork();
	if (pid == 0) {
		int ok;

		usleep(100 * 1000);
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		ok = client_get(port, srv.start_path, NULL, 0) == 403;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(ca_callback_server_wait(&srv, &code, &w), CA_ELOGIN);
	assert_string_equal(ca_error_message(), "the login page was opened by another user "
		"(uid 65534); someone else may be trying to use this login");
	assert_false(w.started);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ca_callback_server_close(&srv);
}

/* A start URL for [::1], and a cookie per port. */
static void test_callback_server_start_url_v6(void **state)
{
	struct callback_server a, b;
	char uri[128], want[128];
	unsigned port = free_port(), port2 = free_port();
	int fd;
	struct sockaddr_in6 probe = { .sin6_family = AF_INET6 };

	(void)state;
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	probe.sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *)&probe, sizeof(probe)) != 0) {
		if (fd >= 0)
			close(fd);
		skip();
	}
	close(fd);
	snprintf(uri, sizeof(uri), "http://[::1]:%u/cb", port);
	assert_int_equal(ca_callback_server_open(&a, uri), 0);
	snprintf(want, sizeof(want), "http://[::1]:%u/start/", port);
	assert_int_equal(strncmp(a.start_url, want, strlen(want)), 0);
	assert_string_equal(a.cookie_path, "/cb");
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%u/", port2 == port ? port + 1 : port2);
	assert_int_equal(ca_callback_server_open(&b, uri), 0);
	assert_string_equal(b.cookie_path, "/");
	assert_string_not_equal(a.cookie_name, b.cookie_name);
	assert_string_not_equal(a.cookie, b.cookie);
	assert_string_not_equal(a.start_path, b.start_path);
	ca_callback_server_close(&a);
	ca_callback_server_close(&b);
}

/* --- who is at the other end of a loopback connection --- */

static void test_peer_proc_net(void **state)
{
	static const char v4[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
		"   uid  timeout inode\n"
		"   0: 0100007F:2710 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
		"  1000        0 11111 1 0000000000000000 100 0 0 10 0\n"
		"   1: 0200007F:D431 0100007F:2710 01 00000000:00000000 00:00000000 00000000"
		" 65534        0 22222 1 0000000000000000 20 4 30 10 -1\n"
		"   2: 0100007F:D432 0100007F:2710 01 00000000:00000000 00:00000000 00000000"
		"  1000        0 33333 1 0000000000000000 20 4 30 10 -1\n"
		"   3: 0100007F:D433 0100007F:2710 06 00000000:00000000 03:00001770 00000000"
		"     0        0 0 3 0000000000000000\n";
	static const char v6[] =
		"  sl  local_address                         remote_address                        "
		"st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 00000000000000000000000001000000:D434 00000000000000000000000001000000:2710 "
		"01 00000000:00000000 00:00000000 00000000  1001        0 44444 1 0 20 4 30 10 -1\n";
	struct sockaddr_in peer = { .sin_family = AF_INET }, self = { .sin_family = AF_INET };
	struct sockaddr_in6 peer6 = { .sin6_family = AF_INET6 }, self6 = { .sin6_family = AF_INET6 };
	unsigned long inode = 0;
	uid_t uid = 0;

	(void)state;
	self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	self.sin_port = htons(10000);
	/* another user's connection from 127.0.0.2 */
	peer.sin_addr.s_addr = htonl(0x7f000002);
	peer.sin_port = htons(0xD431);
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, v4, sizeof(v4) - 1,
		(struct sockaddr *)&peer, (struct sockaddr *)&self), 0);
	assert_int_equal(uid, 65534);
	assert_int_equal(inode, 22222);
	/* the user's own */
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	peer.sin_port = htons(0xD432);
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, v4, sizeof(v4) - 1,
		(struct sockaddr *)&peer, (struct sockaddr *)&self), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(inode, 33333);
	/* closed (TIME_WAIT): uid 0 and no inode, which peer_uid refuses */
	peer.sin_port = htons(0xD433);
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, v4, sizeof(v4) - 1,
		(struct sockaddr *)&peer, (struct sockaddr *)&self), 0);
	assert_int_equal(inode, 0);
	/* not there; the listener does not match a connection */
	peer.sin_port = htons(0xD499);
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, v4, sizeof(v4) - 1,
		(struct sockaddr *)&peer, (struct sockaddr *)&self), CA_ENOTFOUND);
	/* the other direction (our own socket) is not the peer's */
	peer.sin_port = htons(0xD432);
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, v4, sizeof(v4) - 1,
		(struct sockaddr *)&self, (struct sockaddr *)&peer), CA_ENOTFOUND);
	/* IPv6, and families that do not match */
	self6.sin6_addr = in6addr_loopback;
	self6.sin6_port = htons(10000);
	peer6.sin6_addr = in6addr_loopback;
	peer6.sin6_port = htons(0xD434);
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, v6, sizeof(v6) - 1,
		(struct sockaddr *)&peer6, (struct sockaddr *)&self6), 0);
	assert_int_equal(uid, 1001);
	assert_int_equal(inode, 44444);
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, v6, sizeof(v6) - 1,
		(struct sockaddr *)&peer, (struct sockaddr *)&self6), CA_ENOTFOUND);
	/* garbage and truncation */
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, v4, 200,
		(struct sockaddr *)&peer, (struct sockaddr *)&self), CA_ENOTFOUND);
	assert_int_equal(ca_peer_parse_proc_net(&uid, &inode, "0: zz:zz\n", 9,
		(struct sockaddr *)&peer, (struct sockaddr *)&self), CA_ENOTFOUND);
}

/* A real loopback connection: its peer is this process's user. */
static void test_peer_uid_self(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd, cfd, afd;
	uid_t uid = (uid_t)-1;

	(void)state;
	if (!PEER_UID_SUPPORTED)
		skip();
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	cfd = connect_to(ntohs(sin.sin_port));
	assert_true(cfd >= 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(ca_peer_uid(&uid, afd), 0);
	assert_int_equal(uid, geteuid());
	/* each source alone agrees */
	{
		unsigned long inode = 0;
		uid_t u = (uid_t)-1;

		/* a sandbox may lack sock_diag; /proc/net then serves alone */
		if (ca_peer_lookup(&u, &inode, afd, PEER_NETLINK) == 0) {
			assert_int_equal(u, geteuid());
			assert_true(inode != 0);
		} else {
			print_message("no NETLINK_SOCK_DIAG here: %s\n", ca_error_message());
		}
		u = (uid_t)-1;
		inode = 0;
		assert_int_equal(ca_peer_lookup(&u, &inode, afd, PEER_PROC), 0);
		assert_int_equal(u, geteuid());
		assert_true(inode != 0);
	}
	/* once the other end has closed, its socket has no owner any more */
	close(cfd);
	usleep(50 * 1000);
	assert_int_equal(ca_peer_uid(&uid, afd), CA_ENOTFOUND);
	close(afd);
	close(lfd);
}

static void test_callback_server_timeout(void **state)
{
	struct callback_server srv;
	struct callback_wait w = { .authorize_url = TEST_AUTHORIZE, .expected_state = "s", .timeout_s = 1 };
	char uri[128], *code = NULL;

	(void)state;
	snprintf(uri, sizeof(uri), "http://localhost:%u/callback/", free_port());
	assert_int_equal(ca_callback_server_open(&srv, uri), 0);
	assert_int_equal(ca_callback_server_wait(&srv, &code, &w), CA_ELOGIN);
	assert_non_null(strstr(ca_error_message(), "timed out after 1 s"));
	ca_callback_server_close(&srv);
}

static void test_callback_server_browser_failed(void **state)
{
	struct callback_server srv;
	struct callback_wait w = { .authorize_url = TEST_AUTHORIZE, .expected_state = "s", .timeout_s = 10 };
	char uri[128], *code = NULL;
	pid_t pid;

	(void)state;
	snprintf(uri, sizeof(uri), "http://localhost:%u/callback/", free_port());
	assert_int_equal(ca_callback_server_open(&srv, uri), 0);
	pid = fork();
	if (pid == 0)
		_exit(3);
	w.browser_pid = pid;
	assert_int_equal(ca_callback_server_wait(&srv, &code, &w), CA_ELOGIN);
	assert_true(w.browser_failed);
	assert_non_null(strstr(ca_error_message(), "status 3"));
	ca_callback_server_close(&srv);
}

static void test_callback_server_port_in_use(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct callback_server srv;
	char uri[128];
	unsigned port = free_port();
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	snprintf(uri, sizeof(uri), "http://localhost:%u/callback/", port);
	assert_int_equal(ca_callback_server_open(&srv, uri), CA_ERR);
	snprintf(uri, sizeof(uri), "port %u is in use", port);
	assert_non_null(strstr(ca_error_message(), uri));
	close(fd);
	ca_callback_server_close(&srv);
}

/* --- pasted codes --- */

static void test_paste(void **state)
{
	char *code = NULL;

	(void)state;
	assert_int_equal(ca_oauth_parse_pasted(&code, "  abcDEF-123_x.y~z \n", "st"), 0);
	assert_string_equal(code, "abcDEF-123_x.y~z");
	ca_free(code);
	assert_int_equal(ca_oauth_parse_pasted(&code,
		"https://app.carto.com/auth/token?code=C0de&state=st", "st"), 0);
	assert_string_equal(code, "C0de");
	ca_free(code);
	/* a URL without state is accepted (the page may drop it) */
	assert_int_equal(ca_oauth_parse_pasted(&code,
		"https://app.carto.com/auth/token?code=C0de", "st"), 0);
	assert_string_equal(code, "C0de");
	ca_free(code);
	/* the query alone */
	assert_int_equal(ca_oauth_parse_pasted(&code, "code=abc&state=st", "st"), 0);
	assert_string_equal(code, "abc");
	ca_free(code);
	code = NULL;
	assert_int_equal(ca_oauth_parse_pasted(&code,
		"https://app.carto.com/auth/token?code=C0de&state=other", "st"), CA_EINVAL);
	assert_non_null(strstr(ca_error_message(), "another login attempt"));
	assert_int_equal(ca_oauth_parse_pasted(&code,
		"https://app.carto.com/auth/token?error=access_denied&state=st", "st"),
		CA_EREFUSED);
	assert_int_equal(ca_oauth_parse_pasted(&code,
		"https://app.carto.com/auth/token?state=st", "st"), CA_EINVAL);
	assert_int_equal(ca_oauth_parse_pasted(&code, "", "st"), CA_EINVAL);
	assert_int_equal(ca_oauth_parse_pasted(&code, "   \n", "st"), CA_EINVAL);
	assert_int_equal(ca_oauth_parse_pasted(&code, "two words", "st"), CA_EINVAL);
	assert_int_equal(ca_oauth_parse_pasted(&code, "a&b", "st"), CA_EINVAL);
	assert_null(code);
}

/* --- JWT subject --- */

static void test_jwt_subject(void **state)
{
	char *sub = NULL;

	(void)state;
	/* {"alg":"none"} . {"sub":"auth0|u1","exp":1} . sig */
	assert_int_equal(ca_oauth_jwt_subject(&sub,
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhdXRoMHx1MSIsImV4cCI6MX0.c2ln"), 0);
	assert_string_equal(sub, "auth0|u1");
	ca_free(sub);
	sub = NULL;
	assert_int_equal(ca_oauth_jwt_subject(&sub, "opaque-token"), CA_ENOTFOUND);
	assert_int_equal(ca_oauth_jwt_subject(&sub, "a.!!.c"), CA_ENOTFOUND);
	assert_int_equal(ca_oauth_jwt_subject(&sub, "eyJhbGciOiJub25lIn0.e30.c2ln"), CA_ENOTFOUND);
	assert_null(sub);
}

/* --- config.yaml and accounts --- */

static void test_config_yaml_good(void **state)
{
	static const char yaml[] =
		"# tenant\n"
		"workspace:\n"
		"  baseUrl: https://workspace.invalid\n"
		"apis:\n"
		"  # the API\n"
		"  mapsUrl: https://x/v3/maps\n"
		"  baseUrl: https://gcp-us-east1.api.carto.com/\n"
		"limits: {rpm: 600}\n";
	static const char flow[] = "{apis: {baseUrl: 'http://127.0.0.1:8080'}}";
	char *url = NULL;

	(void)state;
	assert_int_equal(ca_discover_parse_config_yaml(&url, yaml, sizeof(yaml) - 1), 0);
	assert_string_equal(url, "https://gcp-us-east1.api.carto.com");
	ca_free(url);
	assert_int_equal(ca_discover_parse_config_yaml(&url, flow, sizeof(flow) - 1), 0);
	assert_string_equal(url, "http://127.0.0.1:8080");
	ca_free(url);
}

static void test_config_yaml_bad(void **state)
{
	static const char *const bad[] = {
		"",                                       /* empty document */
		"apis:\n  mapsUrl: https://x\n",          /* missing key */
		"workspace:\n  baseUrl: https://x\n",     /* no apis */
		"- apis\n- baseUrl\n",                    /* not a mapping */
		"just a string\n",
		"apis: [https://x]\n",                    /* apis not a mapping */
		"apis:\n  baseUrl: [https://x]\n",        /* baseUrl not a scalar */
		"apis:\n  baseUrl: ''\n",
		"apis:\n  baseUrl: http://example.com\n", /* not https */
		"apis:\n  baseUrl: ftp://x\n",
		"apis: {baseUrl: https://x\n",            /* invalid YAML */
		"apis:\n\tbaseUrl: https://x\n",          /* tabs: invalid */
		"apis:\n  baseUrl: \"https://x\\0y\"\n",  /* NUL in the value */
	};
	char *url = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ca_discover_parse_config_yaml(&url, bad[i], strlen(bad[i]));

		if (rc != CA_ENET)
			fail_msg("case %zu: rc %d for: %s", i, rc, bad[i]);
		assert_null(url);
	}
}

/*
 * Deep nesting and many anchors (where libyaml's loader turns quadratic)
 * are refused quickly; a document within the limits still parses.
 */
static void test_config_yaml_limits(void **state)
{
	size_t n = 500000, i, k = 0;
	char *big = malloc(2 * n + 64), *url = NULL;
	struct timespec t0, t1;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		big[i] = '[';
		big[n + i] = ']';
	}
	assert_int_equal(ca_discover_parse_config_yaml(&url, big, 2 * n), CA_ENET);
	assert_non_null(strstr(ca_error_message(), "too deep"));
	for (i = 0; k + 40 < 2 * n; i++)
		k += (size_t)sprintf(big + k, "a%zu: &x%zu [*x%zu]\n", i, i, i ? i - 1 : 0);
	assert_int_equal(ca_discover_parse_config_yaml(&url, big, k), CA_ENET);
	assert_non_null(strstr(ca_error_message(), "anchors"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	k = (size_t)sprintf(big, "base: &b https://a.example.com\napis:\n  baseUrl: *b\n");
	assert_int_equal(ca_discover_parse_config_yaml(&url, big, k), 0);
	assert_string_equal(url, "https://a.example.com");
	ca_free(url);
	free(big);
}

static void test_accounts(void **state)
{
	char *d = NULL;

	(void)state;
	assert_int_equal(ca_discover_parse_accounts(&d, REQ(
		"{\"tenant_domain\": \"clausa.app.carto.com\"}")), 0);
	assert_string_equal(d, "clausa.app.carto.com");
	ca_free(d);
	assert_int_equal(ca_discover_parse_accounts(&d, REQ(
		"{\"tenant_domain\": \"127.0.0.1:8080\"}")), 0);
	assert_string_equal(d, "127.0.0.1:8080");
	ca_free(d);
	d = NULL;
	assert_int_equal(ca_discover_parse_accounts(&d, REQ(
		"{\"error\": \"Account not found\"}")), CA_EREFUSED);
	assert_non_null(strstr(ca_error_message(), "Account not found"));
	assert_int_equal(ca_discover_parse_accounts(&d, REQ("{}")), CA_ENET);
	assert_int_equal(ca_discover_parse_accounts(&d, REQ("[]")), CA_ENET);
	assert_int_equal(ca_discover_parse_accounts(&d, REQ("not json")), CA_ENET);
	assert_int_equal(ca_discover_parse_accounts(&d, REQ(
		"{\"tenant_domain\": \"evil.com/path?x\"}")), CA_ENET);
	assert_int_equal(ca_discover_parse_accounts(&d, REQ(
		"{\"tenant_domain\": \"user@evil.com\"}")), CA_ENET);
	assert_int_equal(ca_discover_parse_accounts(&d, REQ(
		"{\"tenant_domain\": \"host:port\"}")), CA_ENET);
	assert_int_equal(ca_discover_parse_accounts(&d, REQ(
		"{\"tenant_domain\": 42}")), CA_ENET);
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sha256_million_a),
		cmocka_unit_test(test_sha256_incremental),
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_pkce_verifier),
		cmocka_unit_test(test_pkce_challenge_rfc7636),
		cmocka_unit_test(test_random_state),
		cmocka_unit_test(test_authorize_url),
		cmocka_unit_test(test_callback_good),
		cmocka_unit_test(test_callback_other_paths),
		cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_callback_missing_and_encoded),
		cmocka_unit_test(test_callback_garbage),
		cmocka_unit_test(test_callback_start_and_cookies),
		cmocka_unit_test(test_redirect_uri),
		cmocka_unit_test(test_callback_server_flow),
		cmocka_unit_test(test_callback_server_error),
		cmocka_unit_test(test_callback_server_ipv6),
		cmocka_unit_test(test_callback_server_start_twice),
		cmocka_unit_test(test_callback_server_other_user),
		cmocka_unit_test(test_callback_server_start_url_v6),
		cmocka_unit_test(test_peer_proc_net),
		cmocka_unit_test(test_peer_uid_self),
		cmocka_unit_test(test_callback_server_timeout),
		cmocka_unit_test(test_callback_server_browser_failed),
		cmocka_unit_test(test_callback_server_port_in_use),
		cmocka_unit_test(test_paste),
		cmocka_unit_test(test_jwt_subject),
		cmocka_unit_test(test_config_yaml_good),
		cmocka_unit_test(test_config_yaml_bad),
		cmocka_unit_test(test_config_yaml_limits),
		cmocka_unit_test(test_accounts),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
