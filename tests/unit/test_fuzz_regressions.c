/*
 * Inputs the fuzzers (tests/fuzz) found mishandled, kept as unit tests so
 * every build checks them, not only the clang fuzz build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "auth/config.h"
#include "token/token.h"
#include "keyring/secret/secret_store.h"
#include "keyring/store.h"
#include "util/error.h"

/* fuzz_token_file: a float-to-integer conversion out of range (UB). */
static void expiration_out_of_range(void **state)
{
	static const char *const files[] = {
		"{\"api_base_url\":\"https://h\",\"access_token\":\"t\",\"expiration\":1e300}",
		"{\"api_base_url\":\"https://h\",\"access_token\":\"t\",\"expiration\":-1e300}",
		"{\"api_base_url\":\"https://h\",\"access_token\":\"t\",\"expiration\":9.3e18}",
	};
	static const char python[] =
		"{\"api_base_url\":\"https://h\",\"access_token\":\"t\",\"expiration\":1767225600.75}";
	struct ca_token tok;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		ca_token_init(&tok);
		assert_int_equal(CA_EINVAL, ca_file_store_token_parse(&tok, files[i], strlen(files[i]), NULL));
		assert_null(tok.access_token);
		assert_int_equal(CA_EINVAL, ca_secret_store_token_parse(&tok, files[i], strlen(files[i]), NULL, NULL));
		assert_null(tok.access_token);
	}
	/* Real expirations, also the Python reference's fractional ones, still parse. */
	ca_token_init(&tok);
	assert_int_equal(0, ca_file_store_token_parse(&tok, python, strlen(python), NULL));
	assert_int_equal(1767225600, tok.expiration);
	ca_token_clear(&tok);
}

/* fuzz_credentials: "https://" and slashes was taken as an API base URL. */
static void https_without_host(void **state)
{
	static const char creds[] =
		"{\"api_base_url\":\"https://///\",\"client_id\":\"a\",\"client_secret\":\"b\"}";
	struct ca_config cfg;

	(void)state;
	ca_config_init(&cfg);
	assert_int_equal(CA_EINVAL, ca_config_parse_credentials(&cfg, creds, strlen(creds), "c.json"));
	assert_null(cfg.client_secret);
	ca_config_clear(&cfg);

	assert_false(ca_url_allowed("https://"));
	assert_false(ca_url_allowed("https:///x"));
	assert_false(ca_url_allowed("https://?x"));
	assert_false(ca_url_allowed("https://#x"));
	assert_true(ca_url_allowed("https://gcp-us-east1.api.carto.com"));
	assert_true(ca_url_allowed("http://127.0.0.1:8080"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(expiration_out_of_range),
		cmocka_unit_test(https_without_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
