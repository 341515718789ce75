/* The strict URL parser (util/url.h) and the rule built on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/config.h"
#include "auth/net/http.h"
#include "util/error.h"
#include "util/url.h"

static void parses_parts(void **state)
{
	struct ca_url u;

	(void)state;
	assert_int_equal(0, ca_url_parse(&u, "https://gcp-us-east1.api.carto.com"));
	assert_string_equal("https", u.scheme);
	assert_string_equal("gcp-us-east1.api.carto.com", u.host);
	assert_int_equal(0, u.port);
	assert_int_equal(0, u.ipv6);
	assert_string_equal("", u.rest);

	assert_int_equal(0, ca_url_parse(&u, "HTTP://LocalHost:10000/callback/?x=1#f"));
	assert_string_equal("http", u.scheme);
	assert_string_equal("localhost", u.host);
	assert_int_equal(10000, u.port);
	assert_string_equal("/callback/?x=1#f", u.rest);

	assert_int_equal(0, ca_url_parse(&u, "http://[::1]:99/x"));
	assert_string_equal("::1", u.host);
	assert_int_equal(1, u.ipv6);
	assert_int_equal(99, u.port);
	assert_string_equal("/x", u.rest);

	/* the long forms of an IPv6 address come out in the short one */
	assert_int_equal(0, ca_url_parse(&u, "http://[0:0:0:0:0:0:0:1]"));
	assert_string_equal("::1", u.host);
	assert_int_equal(0, ca_url_parse(&u, "https://[2001:DB8::A]:443"));
	assert_string_equal("2001:db8::a", u.host);

	assert_int_equal(0, ca_url_parse(&u, "https://h?q"));
	assert_string_equal("h", u.host);
	assert_string_equal("?q", u.rest);
	assert_int_equal(0, ca_url_parse(&u, "https://h:65535#f"));
	assert_int_equal(65535, u.port);
	assert_int_equal(0, ca_url_parse(&u, "https://my_host.example:1"));
	assert_int_equal(1, u.port);
}

static void refuses_bad_forms(void **state)
{
	static const char *const bad[] = {
		NULL, "", "auth.carto.com", "//auth.carto.com", "ftp://x", "file:///etc/passwd",
		"httpx://h", "http:/h", "http:h", "https:", "https://", "https:///x",
		"https://?x", "https://#x", "https://:443", "javascript://h",
		/* user-info anywhere in the authority */
		"http://localhost:@other:1", "http://127.0.0.1@other", "http://[::1]@other",
		"https://user:pw@api.carto.com", "https://@api.carto.com", "http://a@b@c",
		"http://localhost:1@other:2", "https://x@", "HTTP://LOCALHOST:@192.0.2.10:1",
		/* ports */
		"https://h:", "https://h:0", "https://h:65536", "https://h:99999", "https://h:-1",
		"https://h:1a", "https://h:+1", "https://h:123456", "https://h:1:2",
		/* hosts */
		"https://a..b", "https://.a", "https://a.", "https://a$b",
		"https://a%2eb", "https://%31%32%37.0.0.1", "https://a,b", "https://a;b",
		"https://a!b", "https://a*b", "https://a'b", "https://[::1", "https://::1",
		"https://[::1]x", "https://[::1]:", "https://[fe80::1%25eth0]", "https://[]",
		"https://[g::1]", "https://[1:2:3]", "https://[::1]]",
		/* numbers that are not dotted quads */
		"http://127.1", "http://0x7f.1", "http://0x7f.0.0.1", "http://0177.0.0.1",
		"http://2130706433", "http://127.0.0.01", "http://127.0.0.256", "http://1.2.3.4.5",
		"http://127.0.0", "https://example.0x1", "https://example.123", "https://0x",
		/* white space, control characters, backslashes, non-ASCII */
		"https://h x", " https://h", "https://h\t", "https://h\r\n", "https://h/\x7f",
		"http://127.0.0.1\\@evil", "https://h\\x", "https://\xc3\xa9.example",
		"https://h/\x01",
	};
	struct ca_url u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&u, 0x5a, sizeof(u));
		if (ca_url_parse(&u, bad[i]) != CA_EINVAL)
			fail_msg("accepted: %s", bad[i] ? bad[i] : "(null)");
		assert_int_equal(0x5a, (unsigned char)u.host[0]); /* untouched */
		assert_false(ca_url_allowed(bad[i]));
	}
}

static void long_host(void **state)
{
	char url[600], label[64];
	struct ca_url u;

	(void)state;
	memset(label, 'a', 63);
	label[63] = '\0';
	/* 4 labels of 63 + 3 dots = 255 > 253 */
	snprintf(url, sizeof(url), "https://%s.%s.%s.%s", label, label, label, label);
	assert_int_equal(CA_EINVAL, ca_url_parse(&u, url));
	snprintf(url, sizeof(url), "https://%s.%s.%s.%.61s", label, label, label, label);
	assert_int_equal(0, ca_url_parse(&u, url));
	assert_int_equal(253, strlen(u.host));
	snprintf(url, sizeof(url), "https://%sa.example", label);
	assert_int_equal(CA_EINVAL, ca_url_parse(&u, url));
}

static void messages_never_echo_the_url(void **state)
{
	struct ca_url u;

	(void)state;
	assert_int_equal(CA_EINVAL, ca_url_parse(&u, "https://user:hunter2@api.carto.com"));
	assert_non_null(strstr(ca_error_message(), "user-info"));
	assert_null(strstr(ca_error_message(), "hunter2"));
	assert_int_equal(CA_EINVAL, ca_url_parse(&u, "http://127.1"));
	assert_non_null(strstr(ca_error_message(), "dotted quad"));
}

static void loopback_hosts(void **state)
{
	static const char *const yes[] = {
		"localhost", "LOCALHOST", "127.0.0.1", "127.255.255.254", "127.0.0.0",
		"::1", "[::1]", "0:0:0:0:0:0:0:1", "[0000:0000::0001]",
	};
	static const char *const no[] = {
		NULL, "", "127.1", "0x7f.1", "0177.0.0.1", "2130706433", "127.0.0.1.evil",
		"127.evil.example", "localhost.", "localhost.evil.com", "localhostx", "xlocalhost",
		"128.0.0.1", "126.255.255.255", "::", "::2", "::ffff:127.0.0.1", "[::1",
		"1.2.3.4", "0.0.0.0", "127.0.0.1:80", "[::1]:80", "127.00.0.1",
		"[localhost]", "[127.0.0.1]", "[]", "[[::1]]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!ca_url_is_loopback_host(yes[i]))
			fail_msg("not loopback: %s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (ca_url_is_loopback_host(no[i]))
			fail_msg("loopback: %s", no[i] ? no[i] : "(null)");
}

static void allowed(void **state)
{
	static const char *const yes[] = {
		"https://auth.carto.com", "HTTPS://AUTH.CARTO.COM/x", "https://1.2.3.4:8443",
		"https://[2001:db8::1]", "http://127.0.0.1:8080", "http://localhost",
		"http://localhost:10000/callback/", "http://[::1]:99", "HTTP://LOCALHOST:1",
		"http://127.42.0.9/x?y#z", "http://[0:0:0:0:0:0:0:1]:5",
	};
	static const char *const no[] = {
		"http://auth.carto.com", "http://localhost.evil.com", "http://127.evil.example",
		"http://127.0.0.1.evil.example:80", "http://192.0.2.10:1", "http://[::2]",
		"http://[::ffff:127.0.0.1]", "http://localhost:@192.0.2.10:1",
		"http://127.0.0.1@192.0.2.10", "http://[::1]@192.0.2.10", "http://127.1",
		"https://user@auth.carto.com", "ftp://127.0.0.1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!ca_url_allowed(yes[i]))
			fail_msg("refused: %s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (ca_url_allowed(no[i]))
			fail_msg("allowed: %s", no[i]);
}

static void host_lines(void **state)
{
	char out[300];

	(void)state;
	assert_int_equal(0, ca_url_host(out, sizeof(out), "https://API.carto.com/v3"));
	assert_string_equal("api.carto.com", out);
	assert_int_equal(0, ca_url_host(out, sizeof(out), "http://127.0.0.1:8080/x"));
	assert_string_equal("127.0.0.1:8080", out);
	assert_int_equal(0, ca_url_host(out, sizeof(out), "http://[0::1]:99"));
	assert_string_equal("[::1]:99", out);
	assert_int_equal(0, ca_url_host(out, sizeof(out), "https://[2001:db8::1]"));
	assert_string_equal("[2001:db8::1]", out);

	strcpy(out, "kept");
	assert_int_equal(CA_EINVAL, ca_url_host(out, sizeof(out), "http://127.0.0.1@evil:1"));
	assert_string_equal("kept", out);
	assert_int_equal(CA_EINVAL, ca_url_host(out, sizeof(out), "https://user:pw@h"));
	assert_string_equal("kept", out);
	/* too small a buffer: refused, not cut */
	assert_int_equal(CA_EINVAL, ca_url_host(out, 5, "https://api.carto.com"));
	assert_string_equal("kept", out);
	assert_int_equal(0, ca_url_host(out, 6, "https://a.com"));
	assert_string_equal("a.com", out);
}

static void same_host(void **state)
{
	(void)state;
	assert_true(ca_url_same_host("api.carto.com", "API.Carto.COM"));
	assert_true(ca_url_same_host("[::1]", "::1"));
	assert_true(ca_url_same_host("[0:0::1]", "::1"));
	assert_true(ca_url_same_host("127.0.0.1", "127.0.0.1"));
	assert_false(ca_url_same_host("127.0.0.1", "127.0.0.2"));
	assert_false(ca_url_same_host("::1", "::2"));
	assert_false(ca_url_same_host("localhost", "127.0.0.1"));
	assert_false(ca_url_same_host("a", "a.b"));
	assert_false(ca_url_same_host(NULL, "a"));
	assert_false(ca_url_same_host("::1", "localhost"));
	assert_false(ca_url_same_host("[localhost]", "localhost"));
}

/* The network module refuses such URLs itself, before anything is sent. */
static void http_refuses(void **state)
{
	static const char *const urls[] = {
		"http://localhost:hunter2@192.0.2.10:1/oauth/token",
		"http://127.0.0.1@192.0.2.10:1", "http://[::1]@192.0.2.10:1",
		"HTTP://LOCALHOST:hunter2@192.0.2.10:1", "http://127.evil.example:1",
		"http://192.0.2.10:1", "https://user:hunter2@192.0.2.10:1", "http://127.1:1",
		"ftp://127.0.0.1:1", "127.0.0.1:1", "//127.0.0.1:1",
	};
	struct http_response res;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(*urls); i++) {
		struct http_request req = { .method = "POST", .url = urls[i],
			.form_body = "client_secret=hunter2", .what = "token request" };

		if (ca_http_perform(&res, &req) != CA_EINVAL)
			fail_msg("not refused: %s", urls[i]);
		assert_null(res.body);
		assert_null(strstr(ca_error_message(), "hunter2"));
		assert_null(strstr(ca_error_message(), "@192")); /* no user-info echoed */
		assert_non_null(strstr(ca_error_message(), "refusing to send token request"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_parts),
		cmocka_unit_test(refuses_bad_forms),
		cmocka_unit_test(long_host),
		cmocka_unit_test(messages_never_echo_the_url),
		cmocka_unit_test(loopback_hosts),
		cmocka_unit_test(allowed),
		cmocka_unit_test(host_lines),
		cmocka_unit_test(same_host),
		cmocka_unit_test(http_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
