/*
 * Unit tests of the device login's pure pieces: the device authorization
 * answer (required fields, defaults, bounds) and the classification of a
 * poll's error answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "auth/net/device.h"
#include "util/error.h"

static int parse(struct ca_device_auth *da, const char *json)
{
	memset(da, 0, sizeof(*da));
	return ca_device_parse_auth(da, json, strlen(json));
}

static void test_parse_full(void **state)
{
	struct ca_device_auth da;

	(void)state;
	assert_int_equal(0, parse(&da, "{\"device_code\":\"Ag_EE-abc\",\"user_code\":\"BDFG-HJKL\","
		"\"verification_uri\":\"https://a.example/activate\","
		"\"verification_uri_complete\":\"https://a.example/activate?user_code=BDFG-HJKL\","
		"\"expires_in\":900,\"interval\":7}"));
	assert_string_equal("Ag_EE-abc", da.device_code);
	assert_string_equal("BDFG-HJKL", da.user_code);
	assert_string_equal("https://a.example/activate", da.verification_uri);
	assert_string_equal("https://a.example/activate?user_code=BDFG-HJKL",
		da.verification_uri_complete);
	assert_int_equal(900, da.expires_in);
	assert_int_equal(7, da.interval);
	ca_device_auth_clear(&da);
	assert_null(da.device_code);
}

static void test_parse_defaults_and_bounds(void **state)
{
	struct ca_device_auth da;

	(void)state;
	/* No interval: RFC 8628's 5 s; no expires_in: 600 s; no complete URI. */
	assert_int_equal(0, parse(&da, "{\"device_code\":\"d\",\"user_code\":\"u\","
		"\"verification_uri\":\"https://a/\"}"));
	assert_int_equal(DEVICE_DEFAULT_INTERVAL, da.interval);
	assert_int_equal(600, da.expires_in);
	assert_null(da.verification_uri_complete);
	ca_device_auth_clear(&da);
	/* An interval of 0 or 1e9 is kept within 1..300 s. */
	assert_int_equal(0, parse(&da, "{\"device_code\":\"d\",\"user_code\":\"u\","
		"\"verification_uri\":\"https://a/\",\"interval\":0,\"expires_in\":1e12}"));
	assert_int_equal(1, da.interval);
	assert_int_equal(24 * 3600, da.expires_in);
	ca_device_auth_clear(&da);
	assert_int_equal(0, parse(&da, "{\"device_code\":\"d\",\"user_code\":\"u\","
		"\"verification_uri\":\"https://a/\",\"interval\":1e9}"));
	assert_int_equal(DEVICE_MAX_INTERVAL, da.interval);
	ca_device_auth_clear(&da);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"not json",
		"{\"user_code\":\"u\",\"verification_uri\":\"https://a/\"}",
		"{\"device_code\":\"\",\"user_code\":\"u\",\"verification_uri\":\"https://a/\"}",
		"{\"device_code\":\"d\\n\",\"user_code\":\"u\",\"verification_uri\":\"https://a/\"}",
		"{\"device_code\":\"d e\",\"user_code\":\"u\",\"verification_uri\":\"https://a/\"}",
		"{\"device_code\":5,\"user_code\":\"u\",\"verification_uri\":\"https://a/\"}",
		"{\"device_code\":\"d\",\"verification_uri\":\"https://a/\"}",
		"{\"device_code\":\"d\",\"user_code\":\"u\"}",
		"{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":\"https://a/\","
			"\"interval\":\"5\"}",
		"{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":\"https://a/\","
			"\"verification_uri_complete\":7}",
		"{\"device_code\":\"d\",\"user_code\":"
			"\"0123456789012345678901234567890123456789012345678901234567890123456789\","
			"\"verification_uri\":\"https://a/\"}",
	};
	struct ca_device_auth da;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(CA_ENET, parse(&da, bad[i]));
		assert_null(da.device_code);
		assert_null(da.user_code);
	}
}

static void test_poll_kind(void **state)
{
	static const struct { const char *body; enum ca_device_poll kind; } cases[] = {
		{ "{\"error\":\"authorization_pending\"}", DEVICE_POLL_PENDING },
		{ "{\"error\":\"slow_down\",\"error_description\":\"x\"}", DEVICE_POLL_SLOW_DOWN },
		{ "{\"error\":\"expired_token\"}", DEVICE_POLL_EXPIRED },
		{ "{\"error\":\"access_denied\"}", DEVICE_POLL_DENIED },
		{ "{\"error\":\"unauthorized_client\"}", DEVICE_POLL_REFUSED },
		{ "{\"error\":\"unsupported_grant_type\"}", DEVICE_POLL_REFUSED },
		{ "{\"error\":\"invalid_grant\"}", DEVICE_POLL_OTHER },
		{ "{\"error\":5}", DEVICE_POLL_OTHER },
		{ "{\"error\":\"slow_down_please\"}", DEVICE_POLL_OTHER },
		{ "Too Many Requests", DEVICE_POLL_OTHER },
		{ "", DEVICE_POLL_OTHER },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		assert_int_equal(cases[i].kind,
			ca_device_poll_kind(cases[i].body, strlen(cases[i].body)));
	assert_int_equal(DEVICE_POLL_OTHER, ca_device_poll_kind(NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_defaults_and_bounds),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_poll_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
