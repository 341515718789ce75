/* Token responses, token files and identities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auth/config.h"
#include "token/token.h"
#include "keyring/store.h"
#include "util/error.h"
#include "util/mem.h"

static int parse_response(struct ca_token *tok, const char *body, long status)
{
	ca_token_init(tok);
	return ca_token_parse_response(tok, body, strlen(body), status, 1000);
}

static void good_response(void **state)
{
	struct ca_token tok;

	(void)state;
	assert_int_equal(0, parse_response(&tok,
		"{\"access_token\":\"eyJx\",\"expires_in\":86400,\"token_type\":\"Bearer\",\"refresh_token\":\"r1\"}", 200));
	assert_string_equal("eyJx", tok.access_token);
	assert_int_equal(87400, tok.expiration);
	assert_string_equal("r1", tok.refresh_token);
	ca_token_clear(&tok);
}

static void bad_responses(void **state)
{
	static const char *const bodies[] = {
		"<html>oops</html>", "[]", "{}", "{\"access_token\":12345,\"expires_in\":\"soon\"}",
		"{\"access_token\":\"\",\"expires_in\":10}", "{\"access_token\":\"a\",\"expires_in\":-5}",
		"{\"access_token\":\"a\\nb\",\"expires_in\":5}", "{\"access_token\":\"a\",\"expires_in\":1e300}",
		/* Only RFC 6750's token characters: no control, space, quote or separator. */
		"{\"access_token\":\"a\\u000bb\",\"expires_in\":5}",
		"{\"access_token\":\"a\\u001b]0;x\\u0007\",\"expires_in\":5}",
		"{\"access_token\":\"a b\",\"expires_in\":5}", "{\"access_token\":\"a'b\",\"expires_in\":5}",
		"{\"access_token\":\"a\\u2028b\",\"expires_in\":5}", "{\"access_token\":\"a\\u0085\",\"expires_in\":5}",
	};
	struct ca_token tok;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
		assert_int_equal(CA_ENET, parse_response(&tok, bodies[i], 200));
		assert_null(tok.access_token);
	}
}

static void token_characters(void **state)
{
	struct ca_token tok;

	(void)state;
	assert_true(ca_token_chars_valid("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/=="));
	assert_false(ca_token_chars_valid(""));
	assert_false(ca_token_chars_valid(NULL));
	assert_false(ca_token_chars_valid("a;b"));
	assert_false(ca_token_chars_valid("a\x7f"));
	assert_false(ca_token_chars_valid("\xc2\x85"));
	/* A refresh token that could not be printed is dropped, the token kept. */
	assert_int_equal(0, parse_response(&tok,
		"{\"access_token\":\"abc\",\"expires_in\":60,\"refresh_token\":\"r\\u001b[2J\"}", 200));
	assert_string_equal("abc", tok.access_token);
	assert_null(tok.refresh_token);
	ca_token_clear(&tok);
}

static void auth0_errors(void **state)
{
	struct ca_token tok;

	(void)state;
	assert_int_equal(CA_EREFUSED, parse_response(&tok,
		"{\"error\":\"invalid_grant\",\"error_description\":\"Unknown or invalid refresh token.\"}", 403));
	assert_string_equal("token request refused: invalid_grant (Unknown or invalid refresh token.)",
		ca_error_message());
	assert_int_equal(CA_REASON_INVALID_GRANT, ca_error_reason());
	assert_int_equal(CA_EREFUSED, parse_response(&tok, "not json", 401));
	assert_non_null(strstr(ca_error_message(), "HTTP 401"));
	assert_int_equal(CA_REASON_NONE, ca_error_reason());
}

/* The reason is the "error" code, never a word of the description. */
static void error_reasons(void **state)
{
	struct ca_token tok;

	(void)state;
	assert_int_equal(CA_EREFUSED, parse_response(&tok,
		"{\"error\":\"access_denied\",\"error_description\":\"not an invalid_grant\"}", 403));
	assert_non_null(strstr(ca_error_message(), "invalid_grant"));
	assert_int_equal(CA_REASON_ACCESS_DENIED, ca_error_reason());
	assert_int_equal(CA_EREFUSED, parse_response(&tok,
		"{\"error\":\"Invalid_Grant\"}", 400));
	assert_int_equal(CA_REASON_OTHER, ca_error_reason());
	assert_int_equal(CA_EREFUSED, parse_response(&tok,
		"{\"error\":\"invalid_grant\"}", 400));
	/* a prefix keeps the reason; a new error or a clear resets it */
	ca_error_prefix("token renewal");
	assert_int_equal(CA_REASON_INVALID_GRANT, ca_error_reason());
	ca_error(CA_ENET, "something else");
	assert_int_equal(CA_REASON_NONE, ca_error_reason());
	ca_error_set_reason(CA_REASON_INVALID_GRANT);
	ca_error_clear();
	assert_int_equal(CA_REASON_NONE, ca_error_reason());
	assert_int_equal(CA_REASON_NONE, ca_error_reason_parse(NULL));
	assert_int_equal(CA_REASON_TEMPORARILY_UNAVAILABLE,
		ca_error_reason_parse("temporarily_unavailable"));
}

/* Every reason has a name that parses back; a server names no local cause. */
static void reason_names(void **state)
{
	enum ca_error_reason r;

	(void)state;
	assert_null(ca_error_reason_name(CA_REASON_NONE));
	assert_string_equal("other", ca_error_reason_name(CA_REASON_OTHER));
	for (r = CA_REASON_INVALID_REQUEST; r <= CA_REASON_TEMPORARILY_UNAVAILABLE; r++)
		assert_int_equal(r, ca_error_reason_parse(ca_error_reason_name(r)));
	for (r = CA_REASON_UNREACHABLE; r <= CA_REASON_MISSING_VALUE; r++) {
		assert_non_null(ca_error_reason_name(r));
		assert_int_equal(CA_REASON_OTHER, ca_error_reason_parse(ca_error_reason_name(r)));
	}
	assert_string_equal("unreachable", ca_error_reason_name(CA_REASON_UNREACHABLE));
	assert_string_equal("credentials_not_found",
		ca_error_reason_name(CA_REASON_CREDENTIALS_NOT_FOUND));
}

static void m2m_config(struct ca_config *cfg, const char *client, const char *api)
{
	ca_config_init(cfg);
	cfg->mode = CA_MODE_M2M;
	cfg->auth_url = ca_strdup("https://auth.carto.com");
	cfg->client_id = ca_strdup(client);
	cfg->client_secret = ca_strdup("secret-of-the-client");
	cfg->api_base_url = ca_strdup(api);
	cfg->oauth_client_id = ca_strdup(CA_DEFAULT_CLIENT_ID);
}

/* The identity of a configuration, as the stores get it. */
static const struct ca_identity *config_id(struct ca_identity *id, const struct ca_config *cfg)
{
	ca_config_identity(id, cfg);
	return id;
}
#define ID(cfg) config_id(&(struct ca_identity){ 0 }, cfg)

static void token_file_round_trip_and_identity(void **state)
{
	struct ca_config a, b;
	struct ca_token tok, back;
	char *json;

	(void)state;
	m2m_config(&a, "client-a", "https://gcp-us-east1.api.carto.com");
	m2m_config(&b, "client-b", "https://gcp-us-east1.api.carto.com");
	ca_token_init(&tok);
	tok.access_token = ca_strdup("tok-a");
	tok.api_base_url = ca_strdup("https://gcp-us-east1.api.carto.com");
	tok.expiration = 1234567890;
	json = ca_file_store_token_json(ID(&a), &tok);
	assert_non_null(json);
	ca_token_init(&back);
	assert_int_equal(0, ca_file_store_token_parse(&back, json, strlen(json), ID(&a)));
	assert_string_equal("tok-a", back.access_token);
	assert_int_equal(1234567890, back.expiration);
	ca_token_clear(&back);
	/* Another client's token is not handed out. */
	assert_int_equal(CA_ENOTFOUND, ca_file_store_token_parse(&back, json, strlen(json), ID(&b)));
	ca_free(json);
	ca_token_clear(&tok);
	ca_config_clear(&a);
	ca_config_clear(&b);
}

static void python_file_matches_by_api_base_url(void **state)
{
	/* The token's claims: {"sub":"any@clients","azp":"any"}. */
	static const char py[] = "{\"api_base_url\": \"https://x.api.carto.com\", \"access_token\": "
		"\"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbnlAY2xpZW50cyIsImF6cCI6ImFueSJ9.c2ln\", \"expiration\": 99}";
	struct ca_config same, other;
	struct ca_token back;

	(void)state;
	m2m_config(&same, "any", "https://x.api.carto.com");
	m2m_config(&other, "any", "https://y.api.carto.com");
	ca_token_init(&back);
	assert_int_equal(0, ca_file_store_token_parse(&back, py, sizeof(py) - 1, ID(&same)));
	ca_token_clear(&back);
	assert_int_equal(CA_ENOTFOUND, ca_file_store_token_parse(&back, py, sizeof(py) - 1, ID(&other)));
	ca_config_clear(&same);
	ca_config_clear(&other);
}

static void damaged_token_files(void **state)
{
	static const char *const files[] = {
		"", "{", "[]", "{\"api_base_url\":\"u\",\"access_token\":\"t\"}",
		"{\"api_base_url\":\"u\",\"access_token\":5,\"expiration\":1}",
		"{\"api_base_url\":\"\",\"access_token\":\"t\",\"expiration\":1}",
		"{\"api_base_url\":\"u\",\"access_token\":\"t\",\"expiration\":1,\"mode\":\"saml\"}",
	};
	struct ca_token back;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		ca_token_init(&back);
		assert_int_equal(CA_EINVAL, ca_file_store_token_parse(&back, files[i], strlen(files[i]), NULL));
		assert_null(back.access_token);
	}
}

static void validity_margin(void **state)
{
	struct ca_token tok = { .access_token = "t", .expiration = 1000 };

	(void)state;
	assert_true(ca_token_valid(&tok, 600, 300));
	assert_false(ca_token_valid(&tok, 701, 300));
	assert_false(ca_token_valid(&tok, 1000, 0));
	assert_true(ca_token_valid(&tok, 999, 0));
}

static void urls(void **state)
{
	(void)state;
	assert_true(ca_url_allowed("https://auth.carto.com"));
	assert_true(ca_url_allowed("http://127.0.0.1:8080"));
	assert_true(ca_url_allowed("http://localhost:10000/callback/"));
	assert_true(ca_url_allowed("http://[::1]:99"));
	assert_false(ca_url_allowed("http://auth.carto.com"));
	assert_false(ca_url_allowed("http://localhost.evil.com"));
	assert_false(ca_url_allowed("ftp://x"));
	assert_false(ca_url_allowed("https://"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_response),
		cmocka_unit_test(bad_responses),
		cmocka_unit_test(token_characters),
		cmocka_unit_test(auth0_errors),
		cmocka_unit_test(token_file_round_trip_and_identity),
		cmocka_unit_test(python_file_matches_by_api_base_url),
		cmocka_unit_test(damaged_token_files),
		cmocka_unit_test(validity_margin),
		cmocka_unit_test(error_reasons),
		cmocka_unit_test(reason_names),
		cmocka_unit_test(urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
