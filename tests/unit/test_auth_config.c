/*
 * Configuration resolution (auth/config.c): the protocol's keys and the
 * library's typed options meet one set of rules. Precedence (environment,
 * keys or options, defaults), the defaults, and every bad-input error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/config.h"
#include "protocol/proto.h"
#include "util/error.h"

static char dir[] = "/tmp/ca-test-config-XXXXXX";
static char creds[256];

static const char *env_names[] = {
	"CARTO_AUTH_URL", "CARTO_ACCOUNTS_URL", "CARTO_AUTH_REDIRECT_URI",
	"CARTO_AUTH_CLIENT_ID", "CARTO_AUTH_HOME", "CARTO_AUTH_STORE",
	"CARTO_AUTH_LOGIN_TIMEOUT", "DATABRICKS_RUNTIME_VERSION", "GIT_TERMINAL_PROMPT",
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

static int setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	assert_non_null(mkdtemp(dir));
	setenv("CARTO_AUTH_HOME", dir, 1);
	snprintf(creds, sizeof(creds), "%s/creds.json", dir);
	write_file(creds, "{\"api_base_url\": \"https://gcp-us-east1.api.carto.com/\", "
		"\"client_id\": \"id-1\", \"client_secret\": \"secret-1\"}");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(creds);
	rmdir(dir);
	return 0;
}

/* Resolves protocol text; the return code, cfg filled on success. */
static int from_keys(struct ca_config *cfg, const char *text)
{
	struct proto_msg msg;
	int error;

	ca_proto_msg_init(&msg);
	assert_int_equal(0, ca_proto_parse(&msg, text, strlen(text)));
	error = ca_config_from_msg(cfg, &msg);
	ca_proto_msg_clear(&msg);
	return error;
}

static void defaults(void **state)
{
	struct ca_config cfg;
	char home[300];

	(void)state;
	assert_int_equal(0, from_keys(&cfg, "\n"));
	assert_int_equal(CA_MODE_OAUTH, cfg.mode);
	assert_string_equal(CA_DEFAULT_AUTH_URL, cfg.auth_url);
	assert_string_equal(CA_DEFAULT_ACCOUNTS_URL, cfg.accounts_url);
	assert_string_equal(CA_DEFAULT_REDIRECT_URI, cfg.redirect_uri);
	assert_string_equal(CA_DEFAULT_CLIENT_ID, cfg.oauth_client_id);
	assert_string_equal(CA_DEFAULT_SCOPE, cfg.scope);
	assert_string_equal(dir, cfg.home);
	assert_int_equal(CA_STORE_AUTO, cfg.store);
	assert_null(cfg.cache_file);
	assert_null(cfg.api_base_url);
	assert_null(cfg.org);
	assert_int_equal(1, cfg.use_cache);
	assert_int_equal(1, cfg.open_browser);
	assert_int_equal(1, cfg.interactive);
	assert_int_equal(0, cfg.carto_dw);
	/* not given: min(300 s, half the token's lifetime) */
	assert_int_equal(CA_MIN_TTL_AUTO, cfg.min_ttl);
	assert_int_equal(CA_DEFAULT_LOGIN_TIMEOUT, cfg.login_timeout);
	ca_config_clear(&cfg);

	/* without CARTO_AUTH_HOME: $HOME/.carto-auth */
	unsetenv("CARTO_AUTH_HOME");
	setenv("HOME", "/home/someone", 1);
	assert_int_equal(0, from_keys(&cfg, "\n"));
	snprintf(home, sizeof(home), "%s", "/home/someone/.carto-auth");
	assert_string_equal(home, cfg.home);
	ca_config_clear(&cfg);
	setenv("CARTO_AUTH_HOME", dir, 1);
}

static void mode_inferred(void **state)
{
	struct ca_config cfg;
	char text[400];

	(void)state;
	snprintf(text, sizeof(text), "credentials_file=%s\n", creds);
	assert_int_equal(0, from_keys(&cfg, text));
	assert_int_equal(CA_MODE_M2M, cfg.mode);
	assert_string_equal("id-1", cfg.client_id);
	assert_string_equal("secret-1", cfg.client_secret);
	assert_string_equal("https://gcp-us-east1.api.carto.com", cfg.api_base_url);
	ca_config_clear(&cfg);
	assert_int_equal(0, from_keys(&cfg, "client_id=a\nclient_secret=b\nhost=x.example\n"));
	assert_int_equal(CA_MODE_M2M, cfg.mode);
	assert_string_equal("https://x.example", cfg.api_base_url);
	ca_config_clear(&cfg);
	/* the key's api_base_url wins over the file's */
	snprintf(text, sizeof(text), "credentials_file=%s\napi_base_url=https://other.example/\n", creds);
	assert_int_equal(0, from_keys(&cfg, text));
	assert_string_equal("https://other.example", cfg.api_base_url);
	ca_config_clear(&cfg);
}

static void environment_over_keys(void **state)
{
	struct ca_config cfg;

	(void)state;
	setenv("CARTO_AUTH_URL", "https://env-auth.example", 1);
	setenv("CARTO_AUTH_LOGIN_TIMEOUT", "7", 1);
	assert_int_equal(0, from_keys(&cfg, "auth_url=https://key-auth.example\nlogin_timeout=9\n"));
	assert_string_equal("https://env-auth.example", cfg.auth_url);
	assert_int_equal(7, cfg.login_timeout);
	ca_config_clear(&cfg);
	unsetenv("CARTO_AUTH_URL");
	unsetenv("CARTO_AUTH_LOGIN_TIMEOUT");
	assert_int_equal(0, from_keys(&cfg, "auth_url=https://key-auth.example/\nlogin_timeout=9\n"));
	assert_string_equal("https://key-auth.example", cfg.auth_url);
	assert_int_equal(9, cfg.login_timeout);
	ca_config_clear(&cfg);
}

static void keys_over_environment(void **state)
{
	struct ca_config cfg;

	(void)state;
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	setenv("DATABRICKS_RUNTIME_VERSION", "15.4", 1);
	assert_int_equal(0, from_keys(&cfg, "\n"));
	assert_int_equal(0, cfg.interactive);
	assert_int_equal(0, cfg.open_browser);
	ca_config_clear(&cfg);
	assert_int_equal(0, from_keys(&cfg, "interactive=true\nopen_browser=yes\n"));
	assert_int_equal(1, cfg.interactive);
	assert_int_equal(1, cfg.open_browser);
	ca_config_clear(&cfg);
	unsetenv("GIT_TERMINAL_PROMPT");
	unsetenv("DATABRICKS_RUNTIME_VERSION");
}

/* The library's typed options resolve as the same keys do. */
static void typed_request_matches_keys(void **state)
{
	struct ca_config a, b;
	struct ca_config_request req;

	(void)state;
	ca_config_request_init(&req);
	req.mode = CA_MODE_OAUTH;
	req.cache_file = "/tmp/tok.json";
	req.use_cache = 0;
	req.api_base_url = "https://api.example/";
	req.org = "acme";
	req.min_ttl = 42;
	req.open_browser = 0;
	req.interactive = 0;
	assert_int_equal(0, ca_config_resolve(&a, &req));
	assert_int_equal(0, from_keys(&b, "mode=oauth\ncache_file=/tmp/tok.json\nuse_cache=false\n"
		"api_base_url=https://api.example/\norg=acme\nmin_ttl=42\nopen_browser=false\n"
		"interactive=false\n"));
	assert_int_equal(a.mode, b.mode);
	assert_string_equal(a.cache_file, b.cache_file);
	assert_string_equal("https://api.example", a.api_base_url);
	assert_string_equal(a.api_base_url, b.api_base_url);
	assert_string_equal(a.org, b.org);
	assert_int_equal(0, a.use_cache);
	assert_int_equal(a.use_cache, b.use_cache);
	assert_int_equal(42, a.min_ttl);
	assert_int_equal(a.min_ttl, b.min_ttl);
	assert_int_equal(a.open_browser, b.open_browser);
	assert_int_equal(a.interactive, b.interactive);
	ca_config_clear(&a);
	ca_config_clear(&b);

	/* "" is "not given", as an empty key is */
	ca_config_request_init(&req);
	req.api_base_url = "";
	req.org = "";
	assert_int_equal(0, ca_config_resolve(&a, &req));
	assert_null(a.api_base_url);
	assert_null(a.org);
	ca_config_clear(&a);

	/* the environment rules apply to the typed path too */
	setenv("CARTO_AUTH_URL", "http://127.0.0.1:9", 1);
	ca_config_request_init(&req);
	req.auth_url = "https://ignored.example";
	assert_int_equal(0, ca_config_resolve(&a, &req));
	assert_string_equal("http://127.0.0.1:9", a.auth_url);
	ca_config_clear(&a);
	unsetenv("CARTO_AUTH_URL");
}

static void expect_bad(const char *text, const char *message)
{
	struct ca_config cfg;

	assert_int_equal(CA_EINVAL, from_keys(&cfg, text));
	if (!strstr(ca_error_message(), message))
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", text, ca_error_message(), message);
	/* cfg is left cleared */
	assert_null(cfg.auth_url);
	assert_null(cfg.client_secret);
}

static void expect_bad_env(const char *name, const char *value, const char *message)
{
	setenv(name, value, 1);
	expect_bad("\n", message);
	unsetenv(name);
}

static void bad_input(void **state)
{
	struct ca_config cfg;
	struct ca_config_request req;
	char text[400];

	(void)state;
	expect_bad("mode=sso\n", "mode must be oauth or m2m");
	expect_bad("use_cache=maybe\n", "use_cache must be true or false");
	expect_bad("open_browser=2\n", "open_browser must be true or false");
	expect_bad("interactive=\n", "interactive must be true or false");
	expect_bad("carto_dw=x\n", "carto_dw must be true or false");
	expect_bad("min_ttl=-1\n", "min_ttl must be a number of seconds");
	expect_bad("min_ttl=10s\n", "min_ttl must be a number of seconds");
	expect_bad("min_ttl=99999999999\n", "min_ttl must be a number of seconds");
	expect_bad("login_timeout=x\n", "login_timeout must be a number of seconds");
	expect_bad("auth_url=http://auth.example\n", "auth_url must be an https:// URL");
	expect_bad("auth_url=https://u:hunter2@auth.example\n", "auth_url must be an https:// URL");
	assert_null(strstr(ca_error_message(), "hunter2"));
	expect_bad("api_base_url=ftp://x.example\n", "api_base_url must be an https:// URL");
	expect_bad("mode=m2m\n", "m2m needs credentials_file, or client_id and client_secret");
	expect_bad("client_id=a\n", "client_id given without client_secret");
	expect_bad("client_id=a\nclient_secret=b\n", "client_id given without api_base_url");
	expect_bad("credentials_file=/nonexistent/creds.json\n",
		"cannot read credentials file /nonexistent/creds.json: no such file");
	snprintf(text, sizeof(text), "%s/bad.json", dir);
	write_file(text, "{\"client_id\": \"a\", \"client_secret\": \"b\"}");
	snprintf(text, sizeof(text), "credentials_file=%s/bad.json\n", dir);
	expect_bad(text, "missing attribute api_base_url");
	snprintf(text, sizeof(text), "%s/bad.json", dir);
	unlink(text);
	expect_bad_env("CARTO_AUTH_STORE", "cloud", "bad CARTO_AUTH_STORE");
	expect_bad_env("CARTO_AUTH_URL", "http://auth.example", "auth_url must be an https:// URL");
	expect_bad_env("CARTO_ACCOUNTS_URL", "https://", "CARTO_ACCOUNTS_URL must be an https:// URL");
	expect_bad_env("CARTO_AUTH_REDIRECT_URI", "http://example.com:10000/cb",
		"CARTO_AUTH_REDIRECT_URI must be an http:// URL to a loopback address");
	expect_bad_env("CARTO_AUTH_LOGIN_TIMEOUT", "soon", "login_timeout must be a number of seconds");

	/* the typed request's own bad values */
	ca_config_request_init(&req);
	req.mode = 7;
	assert_int_equal(CA_EINVAL, ca_config_resolve(&cfg, &req));
	assert_non_null(strstr(ca_error_message(), "mode must be oauth or m2m"));
	ca_config_request_init(&req);
	req.min_ttl = -5;
	assert_int_equal(CA_EINVAL, ca_config_resolve(&cfg, &req));
	assert_non_null(strstr(ca_error_message(), "min_ttl"));
	ca_config_request_init(&req);
	req.login_timeout = -5;
	assert_int_equal(CA_EINVAL, ca_config_resolve(&cfg, &req));
	assert_non_null(strstr(ca_error_message(), "login_timeout"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(mode_inferred),
		cmocka_unit_test(environment_over_keys),
		cmocka_unit_test(keys_over_environment),
		cmocka_unit_test(typed_request_matches_keys),
		cmocka_unit_test(bad_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
