/*
 * The broker (auth/broker.c) over a stub store and a stub network module:
 * a stored token that is valid, expiring or expired; the lock and the
 * re-read under it; the renewal paths (refresh token, client credentials,
 * login) and what a refusal does to the refresh token. This test provides
 * its own ca_module_get() and ca_keyring_module_get() instead of
 * lib/module_builtin.c (tests/CMakeLists.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/broker.h"
#include "auth/module.h"
#include "keyring/module.h"
#include "keyring/store.h"
#include "util/error.h"
#include "util/mem.h"

/* --- the stub store: one token in memory ------------------------------- */

static struct {
	struct ca_token tok;  /* what is stored (access_token NULL: nothing) */
	struct ca_token next; /* stored by "another process" after the first load */
	int loads, saves, fail_save;
} st;

static void copy_token(struct ca_token *dst, const struct ca_token *src)
{
	ca_token_init(dst);
	dst->access_token = src->access_token ? ca_strdup(src->access_token) : NULL;
	dst->refresh_token = src->refresh_token ? ca_strdup(src->refresh_token) : NULL;
	dst->api_base_url = src->api_base_url ? ca_strdup(src->api_base_url) : NULL;
	dst->account = src->account ? ca_strdup(src->account) : NULL;
	dst->expiration = src->expiration;
}

static int stub_load(struct store *s, struct ca_token *out, const struct ca_identity *id)
{
	(void)s;
	(void)id;
	if (++st.loads == 2 && st.next.access_token) {
		ca_token_move(&st.tok, &st.next);
	}
	if (!st.tok.access_token)
		return ca_error(CA_ENOTFOUND, "nothing stored");
	copy_token(out, &st.tok);
	return 0;
}

static int stub_save(struct store *s, const struct ca_identity *id, const struct ca_token *tok)
{
	(void)s;
	(void)id;
	st.saves++;
	if (st.fail_save)
		return ca_error(CA_ERR, "the disk is full");
	ca_token_clear(&st.tok);
	copy_token(&st.tok, tok);
	return 0;
}

static const struct store_ops stub_ops = {
	.name = "stub", .token_load = stub_load, .token_save = stub_save,
};
static struct store stub_store = { &stub_ops };

/* --- the stub network module ------------------------------------------- */

static struct {
	int m2m, login, refresh;
	char refresh_seen[64];
	int refresh_error;          /* 0: success */
	enum ca_error_reason refresh_reason;
	const char *refresh_message;
	const char *rotated;        /* the new refresh token, or NULL */
} net;

static int fill(struct ca_token *out, const char *access, int64_t ttl)
{
	ca_token_init(out);
	out->access_token = ca_strdup(access);
	out->expiration = ca_now() + ttl;
	return 0;
}

static int stub_m2m(struct ca_token *out, const struct ca_config *cfg)
{
	(void)cfg;
	net.m2m++;
	return fill(out, "m2m-new", 3600);
}

static int stub_login(struct ca_token *out, const struct ca_config *cfg)
{
	(void)cfg;
	net.login++;
	fill(out, "login-new", 3600);
	out->refresh_token = ca_strdup("rt-login");
	out->api_base_url = ca_strdup("https://api.example");
	return 0;
}

static int stub_refresh(struct ca_token *out, const struct ca_config *cfg, const char *rt)
{
	(void)cfg;
	net.refresh++;
	snprintf(net.refresh_seen, sizeof(net.refresh_seen), "%s", rt);
	if (net.refresh_error) {
		ca_error(net.refresh_error, "%s", net.refresh_message);
		return ca_error_set_reason(net.refresh_reason);
	}
	fill(out, "refreshed", 3600);
	out->refresh_token = ca_strdup(net.rotated ? net.rotated : rt);
	return 0;
}

static const struct ca_module stub_module = {
	.m2m_token = stub_m2m, .oauth_login = stub_login, .oauth_refresh = stub_refresh,
};

const struct ca_module *ca_module_get(void)
{
	return &stub_module;
}

const struct ca_keyring_module *ca_keyring_module_get(void)
{
	ca_error(CA_EKEYRING, "no keyring in this test");
	return NULL;
}

/* --- fixtures ------------------------------------------------------------ */

static char home[] = "/tmp/ca-test-broker-XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(home));
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return system(cmd) == 0 ? 0 : -1;
}

static int reset(void **state)
{
	(void)state;
	ca_token_clear(&st.tok);
	ca_token_clear(&st.next);
	memset(&st, 0, sizeof(st));
	memset(&net, 0, sizeof(net));
	return 0;
}

static void config(struct ca_config *cfg, enum ca_mode mode)
{
	ca_config_init(cfg);
	cfg->mode = mode;
	cfg->home = ca_strdup(home);
	cfg->auth_url = ca_strdup("https://auth.example");
	cfg->oauth_client_id = ca_strdup("client");
	cfg->client_id = ca_strdup("m2m-client");
	cfg->api_base_url = mode == CA_MODE_M2M ? ca_strdup("https://api.example") : NULL;
	cfg->interactive = 0;
	cfg->min_ttl = 300;
}

static void store_token(const char *access, int64_t ttl, const char *refresh)
{
	fill(&st.tok, access, ttl);
	st.tok.refresh_token = refresh ? ca_strdup(refresh) : NULL;
	st.tok.api_base_url = ca_strdup("https://stored-api.example");
	st.tok.account = ca_strdup("user-1");
}

/* --- the cases ----------------------------------------------------------- */

static void valid_token_from_store(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;
	int fresh = -1;

	(void)state;
	config(&cfg, CA_MODE_OAUTH);
	store_token("stored", 3600, "rt-1");
	ca_token_init(&tok);
	assert_int_equal(0, ca_broker_token(&tok, &fresh, &stub_store, &cfg, 0));
	assert_string_equal("stored", tok.access_token);
	assert_int_equal(0, fresh);
	assert_int_equal(1, st.loads);
	assert_int_equal(0, net.refresh + net.m2m + net.login);
	assert_int_equal(0, st.saves);
	ca_token_clear(&tok);
	ca_config_clear(&cfg);
}

static void expiring_token_renewed_by_refresh(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;
	int fresh = -1;

	(void)state;
	config(&cfg, CA_MODE_OAUTH);
	store_token("stored", 100, "rt-1"); /* under min_ttl 300 */
	net.rotated = "rt-2";
	ca_token_init(&tok);
	assert_int_equal(0, ca_broker_token(&tok, &fresh, &stub_store, &cfg, 0));
	assert_string_equal("refreshed", tok.access_token);
	assert_int_equal(1, fresh);
	assert_int_equal(1, net.refresh);
	assert_string_equal("rt-1", net.refresh_seen);
	/* what the refresh answer lacks is kept from the stored token */
	assert_string_equal("https://stored-api.example", tok.api_base_url);
	assert_string_equal("user-1", tok.account);
	assert_int_equal(1, st.saves);
	assert_string_equal("refreshed", st.tok.access_token);
	assert_string_equal("rt-2", st.tok.refresh_token);
	assert_int_equal(2, st.loads); /* once before the lock, once under it */
	ca_token_clear(&tok);
	ca_config_clear(&cfg);
}

static void expired_m2m_token_renewed(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;
	int fresh = -1;

	(void)state;
	config(&cfg, CA_MODE_M2M);
	store_token("stored", -10, NULL);
	ca_token_init(&tok);
	assert_int_equal(0, ca_broker_token(&tok, &fresh, &stub_store, &cfg, 0));
	assert_string_equal("m2m-new", tok.access_token);
	assert_string_equal("https://api.example", tok.api_base_url);
	assert_string_equal("m2m-client", tok.account);
	assert_int_equal(1, net.m2m);
	assert_int_equal(0, net.refresh);
	assert_int_equal(1, fresh);
	ca_token_clear(&tok);
	ca_config_clear(&cfg);
}

/* Another process renewed the token while this one waited for the lock. */
static void renewed_meanwhile_under_the_lock(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;
	int fresh = -1;

	(void)state;
	config(&cfg, CA_MODE_OAUTH);
	store_token("stale", 100, "rt-1");
	fill(&st.next, "renewed-by-another", 3600);
	ca_token_init(&tok);
	assert_int_equal(0, ca_broker_token(&tok, &fresh, &stub_store, &cfg, 0));
	assert_string_equal("renewed-by-another", tok.access_token);
	assert_int_equal(0, fresh);
	assert_int_equal(0, net.refresh + net.m2m + net.login);
	assert_int_equal(0, st.saves);
	ca_token_clear(&tok);
	ca_config_clear(&cfg);

	/* one renewal serves all: even under min_ttl, a new token is used */
	reset(NULL);
	config(&cfg, CA_MODE_OAUTH);
	store_token("stale", 100, "rt-1");
	fill(&st.next, "short-but-new", 60);
	assert_int_equal(0, ca_broker_token(&tok, &fresh, &stub_store, &cfg, 0));
	assert_string_equal("short-but-new", tok.access_token);
	assert_int_equal(0, net.refresh);
	ca_token_clear(&tok);

	/* the same stale token under the lock: renewed here */
	reset(NULL);
	store_token("stale", 100, "rt-1");
	fill(&st.next, "stale", 100);
	st.next.refresh_token = ca_strdup("rt-1");
	assert_int_equal(0, ca_broker_token(&tok, &fresh, &stub_store, &cfg, 0));
	assert_string_equal("refreshed", tok.access_token);
	assert_int_equal(1, net.refresh);
	ca_token_clear(&tok);
	ca_config_clear(&cfg);
}

static void invalid_grant_forgets_refresh_token(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;

	(void)state;
	config(&cfg, CA_MODE_OAUTH);
	store_token("stored", -10, "rt-dead");
	net.refresh_error = CA_EREFUSED;
	net.refresh_reason = CA_REASON_INVALID_GRANT;
	net.refresh_message = "token renewal refused: invalid_grant (Unknown or invalid refresh token.)";
	ca_token_init(&tok);
	/* not interactive: no login, a clear error */
	assert_int_equal(CA_ELOGIN, ca_broker_token(&tok, NULL, &stub_store, &cfg, 0));
	assert_non_null(strstr(ca_error_message(), "carto-auth login"));
	assert_null(tok.access_token);
	assert_null(st.tok.refresh_token);
	assert_int_equal(0, net.login);
	/* interactive: straight on to the login */
	cfg.interactive = 1;
	assert_int_equal(0, ca_broker_token(&tok, NULL, &stub_store, &cfg, 0));
	assert_string_equal("login-new", tok.access_token);
	assert_int_equal(1, net.refresh); /* no refresh token left to try */
	assert_int_equal(1, net.login);
	assert_string_equal("rt-login", st.tok.refresh_token);
	ca_token_clear(&tok);
	ca_config_clear(&cfg);
}

/* The attack: the word in the message, another reason. */
static void other_refusal_keeps_refresh_token(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;

	(void)state;
	config(&cfg, CA_MODE_OAUTH);
	store_token("stored", -10, "rt-alive");
	net.refresh_error = CA_EREFUSED;
	net.refresh_reason = CA_REASON_ACCESS_DENIED;
	net.refresh_message = "token renewal refused: access_denied (not an invalid_grant)";
	ca_token_init(&tok);
	assert_int_equal(CA_EREFUSED, ca_broker_token(&tok, NULL, &stub_store, &cfg, 0));
	assert_string_equal("rt-alive", st.tok.refresh_token);
	assert_int_equal(0, st.saves);
	/* nor does a network failure forget it */
	net.refresh_error = CA_ENET;
	net.refresh_reason = CA_REASON_NONE;
	net.refresh_message = "token renewal to auth.example failed: timeout";
	assert_int_equal(CA_ENET, ca_broker_token(&tok, NULL, &stub_store, &cfg, 0));
	assert_string_equal("rt-alive", st.tok.refresh_token);
	ca_config_clear(&cfg);
}

static void nothing_stored(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;
	int fresh = -1;

	(void)state;
	config(&cfg, CA_MODE_OAUTH);
	ca_token_init(&tok);
	assert_int_equal(CA_ELOGIN, ca_broker_token(&tok, &fresh, &stub_store, &cfg, 0));
	assert_int_equal(-1, fresh); /* not written on failure */
	cfg.interactive = 1;
	assert_int_equal(0, ca_broker_token(&tok, &fresh, &stub_store, &cfg, 0));
	assert_string_equal("login-new", tok.access_token);
	assert_int_equal(1, fresh);
	ca_token_clear(&tok);
	ca_config_clear(&cfg);
}

static void force_and_no_cache(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;

	(void)state;
	config(&cfg, CA_MODE_M2M);
	store_token("stored", 3600, NULL);
	ca_token_init(&tok);
	assert_int_equal(0, ca_broker_token(&tok, NULL, &stub_store, &cfg, BROKER_FORCE));
	assert_string_equal("m2m-new", tok.access_token);
	assert_int_equal(1, net.m2m);
	ca_token_clear(&tok);
	/* use_cache=false: a valid stored token is not used */
	reset(NULL);
	store_token("stored", 3600, NULL);
	cfg.use_cache = 0;
	assert_int_equal(0, ca_broker_token(&tok, NULL, &stub_store, &cfg, 0));
	assert_string_equal("m2m-new", tok.access_token);
	assert_int_equal(1, net.m2m);
	ca_token_clear(&tok);
	ca_config_clear(&cfg);
}

static void failed_save_still_answers(void **state)
{
	struct ca_config cfg;
	struct ca_token tok;

	(void)state;
	config(&cfg, CA_MODE_M2M);
	st.fail_save = 1;
	ca_token_init(&tok);
	assert_int_equal(0, ca_broker_token(&tok, NULL, &stub_store, &cfg, 0));
	assert_string_equal("m2m-new", tok.access_token);
	assert_int_equal(1, st.saves);
	assert_int_equal(0, ca_error_code()); /* the warning is not an error */
	ca_token_clear(&tok);
	ca_config_clear(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(valid_token_from_store, reset),
		cmocka_unit_test_setup(expiring_token_renewed_by_refresh, reset),
		cmocka_unit_test_setup(expired_m2m_token_renewed, reset),
		cmocka_unit_test_setup(renewed_meanwhile_under_the_lock, reset),
		cmocka_unit_test_setup(invalid_grant_forgets_refresh_token, reset),
		cmocka_unit_test_setup(other_refusal_keeps_refresh_token, reset),
		cmocka_unit_test_setup(nothing_stored, reset),
		cmocka_unit_test_setup(force_and_no_cache, reset),
		cmocka_unit_test_setup(failed_save_still_answers, reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
