/*
 * The Secret Service store when there is none: the answers auto mode and
 * an explicit keyring rely on, without starting any daemon. (The store
 * itself is exercised against a real gnome-keyring by
 * tests/integration/test_keyring.sh and test_git_conformance.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "keyring/secret/secret_store.h"
#include "keyring/store.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/carto-auth-unit.XXXXXX";

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The stores are opened with their options alone, never a configuration. */
static void config(struct ca_store_options *opts, enum ca_store_kind kind)
{
	memset(opts, 0, sizeof(*opts));
	opts->kind = kind;
	opts->interactive = 0;
	opts->home = tmpdir;
}

/* No DBUS_SESSION_BUS_ADDRESS, and no $XDG_RUNTIME_DIR/bus socket. */
static int no_bus(void **state)
{
	(void)state;
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	setenv("XDG_RUNTIME_DIR", tmpdir, 1);
	return 0;
}

static void test_no_bus_is_keyring_error(void **state)
{
	struct store *s = NULL;
	struct ca_store_options cfg;
	int64_t start = now_ms();

	(void)state;
	config(&cfg, CA_STORE_KEYRING);
	assert_int_equal(ca_secret_store_open(&s, &cfg), CA_EKEYRING);
	assert_null(s);
	assert_int_equal(ca_error_code(), CA_EKEYRING);
	assert_non_null(strstr(ca_error_message(), "no session bus"));
	assert_true(now_ms() - start < 200);
}

static void test_no_bus_auto_takes_file_store(void **state)
{
	struct store *s = NULL;
	struct ca_store_options cfg;

	(void)state;
	config(&cfg, CA_STORE_AUTO);
	assert_int_equal(ca_store_open(&s, &cfg), 0);
	assert_non_null(s);
	assert_string_equal(s->ops->name, "file");
	ca_store_free(s);
}

static void test_no_bus_explicit_keyring_fails(void **state)
{
	struct store *s = NULL;
	struct ca_store_options cfg;

	(void)state;
	config(&cfg, CA_STORE_KEYRING);
	assert_int_equal(ca_store_open(&s, &cfg), CA_EKEYRING);
	assert_null(s);
}

/* A bus address whose socket does not exist: fails at once, not in 25 s. */
static void test_dead_bus_is_keyring_error(void **state)
{
	struct store *s = NULL;
	struct ca_store_options cfg;
	char address[128];
	int64_t start = now_ms();

	(void)state;
	snprintf(address, sizeof(address), "unix:path=%s/no-such-bus", tmpdir);
	setenv("DBUS_SESSION_BUS_ADDRESS", address, 1);
	config(&cfg, CA_STORE_KEYRING);
	assert_int_equal(ca_secret_store_open(&s, &cfg), CA_EKEYRING);
	assert_null(s);
	assert_non_null(strstr(ca_error_message(), "session bus"));
	assert_true(now_ms() - start < 1000);

	/* auto mode: the file store, never an error or "not found". */
	config(&cfg, CA_STORE_AUTO);
	assert_int_equal(ca_store_open(&s, &cfg), 0);
	assert_string_equal(s->ops->name, "file");
	ca_store_free(s);
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_bus_is_keyring_error, no_bus),
		cmocka_unit_test_setup(test_no_bus_auto_takes_file_store, no_bus),
		cmocka_unit_test_setup(test_no_bus_explicit_keyring_fails, no_bus),
		cmocka_unit_test_setup(test_dead_bus_is_keyring_error, no_bus),
	};
	int failed;

	if (!mkdtemp(tmpdir))
		return 1;
	failed = cmocka_run_group_tests_name("secret_store", tests, NULL, NULL);
	rmdir(tmpdir);
	return failed;
}
