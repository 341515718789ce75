/*
 * The file store's general git credentials (keyring/file_store.c,
 * credentials.json): what git's store/get/erase see, git's matching rule,
 * expiry, replacement, and the failure paths (a damaged, planted, oversized
 * or misplaced file), where nothing is lost and nothing is "not found".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "keyring/store.h"
#include "util/error.h"
#include "util/mem.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fixture {
	char home[64];
	char path[128]; /* home/credentials.json */
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ca_store_options opts = { 0 };

	if (!f)
		return -1;
	snprintf(f->home, sizeof(f->home), "/tmp/carto-auth-fs.XXXXXX");
	if (!mkdtemp(f->home))
		return -1;
	chmod(f->home, 0700);
	snprintf(f->path, sizeof(f->path), "%s/credentials.json", f->home);
	opts.home = f->home;
	opts.kind = CA_STORE_FILE;
	if (ca_file_store_open(&f->store, &opts))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	ca_store_free(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->home);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A credential from literal fields (NULL: absent); password may be NULL. */
static struct cred cred(const char *protocol, const char *host, const char *path,
	const char *username, const char *password)
{
	struct cred c = { 0 };

	c.protocol = (char *)protocol;
	c.host = (char *)host;
	c.path = (char *)path;
	c.username = (char *)username;
	c.password = (char *)password;
	return c;
}

static void put(struct fixture *f, struct cred c)
{
	assert_int_equal(0, f->store->ops->cred_store(f->store, &c));
}

/* The password get answers for the query, or NULL when CA_ENOTFOUND. */
static char *get(struct fixture *f, struct cred query)
{
	struct cred out = { 0 };
	char *password;
	int rc = f->store->ops->cred_get(f->store, &out, &query);

	if (rc == CA_ENOTFOUND)
		return NULL;
	assert_int_equal(0, rc);
	password = strdup(out.password);
	ca_cred_clear(&out);
	return password;
}

static void assert_get(struct fixture *f, struct cred query, const char *want)
{
	char *got = get(f, query);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(want, got);
	free(got);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(strlen(text), fwrite(text, 1, strlen(text), fp));
	assert_int_equal(0, fclose(fp));
	assert_int_equal(0, chmod(path, mode));
}

static char *read_file(const char *path)
{
	static char buf[65536];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void store_then_get(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	put(f, cred("https", "git.example.com", "team/repo.git", "alice", "pw-alice"));
	assert_get(f, cred("https", "git.example.com", "team/repo.git", "alice", NULL), "pw-alice");
	/* git's rule: fields the query leaves out match anything. */
	assert_get(f, cred("https", "git.example.com", NULL, NULL, NULL), "pw-alice");
	/* Every field the query sets must be equal. */
	assert_get(f, cred("https", "git.example.com", "team/repo.git", "bob", NULL), NULL);
	assert_get(f, cred("http", "git.example.com", NULL, NULL, NULL), NULL);
	assert_get(f, cred("https", "git.example.com:8443", NULL, NULL, NULL), NULL);
	assert_get(f, cred("https", "git.example.com", "other/repo.git", NULL, NULL), NULL);
	/* A stored field the query lacks does not match a query that sets it empty. */
	assert_get(f, cred("https", "git.example.com", "", NULL, NULL), NULL);
	/* On disk: private, and the password is there for git to get back. */
	assert_int_equal(0, stat(f->path, &st));
	assert_int_equal(0600, st.st_mode & 0777);
	assert_non_null(strstr(read_file(f->path), "\"pw-alice\""));
}

static void same_key_replaces(void **state)
{
	struct fixture *f = *state;

	put(f, cred("https", "git.example.com", NULL, "alice", "old"));
	put(f, cred("https", "git.example.com", NULL, "bob", "bobs"));
	put(f, cred("https", "git.example.com", NULL, "alice", "new"));
	assert_get(f, cred("https", "git.example.com", NULL, "alice", NULL), "new");
	assert_get(f, cred("https", "git.example.com", NULL, "bob", NULL), "bobs");
	assert_null(strstr(read_file(f->path), "\"old\""));
}

static void expired_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct cred c = cred("https", "expired.example.com", NULL, NULL, "stale");
	struct cred out = { 0 };

	c.password_expiry_utc = (int64_t)time(NULL) - 10;
	put(f, c);
	assert_get(f, cred("https", "expired.example.com", NULL, NULL, NULL), NULL);
	c = cred("https", "fresh.example.com", NULL, NULL, "fresh");
	c.password_expiry_utc = (int64_t)time(NULL) + 3600;
	c.oauth_refresh_token = "refresh-1";
	put(f, c);
	assert_int_equal(0, f->store->ops->cred_get(f->store, &out,
		&(struct cred){ .host = "fresh.example.com" }));
	assert_string_equal("fresh", out.password);
	assert_string_equal("refresh-1", out.oauth_refresh_token);
	assert_int_equal(c.password_expiry_utc, out.password_expiry_utc);
	ca_cred_clear(&out);
}

static void erase_by_query_and_password(void **state)
{
	struct fixture *f = *state;
	struct cred q;

	put(f, cred("https", "a.example.com", NULL, "alice", "pw-a"));
	put(f, cred("https", "a.example.com", NULL, "bob", "pw-b"));
	put(f, cred("https", "b.example.com", NULL, "alice", "pw-c"));
	/* git's erase with a password that differs from the stored one keeps it. */
	q = cred("https", "a.example.com", NULL, "alice", "not-the-password");
	assert_int_equal(0, f->store->ops->cred_erase(f->store, &q));
	assert_get(f, cred("https", "a.example.com", NULL, "alice", NULL), "pw-a");
	/* A query for a host erases every user's credential there, only there. */
	q = cred("https", "a.example.com", NULL, NULL, NULL);
	assert_int_equal(0, f->store->ops->cred_erase(f->store, &q));
	assert_get(f, cred("https", "a.example.com", NULL, NULL, NULL), NULL);
	assert_get(f, cred("https", "b.example.com", NULL, "alice", NULL), "pw-c");
	/* Erasing what is not there is no error. */
	q = cred("https", "c.example.com", NULL, NULL, NULL);
	assert_int_equal(0, f->store->ops->cred_erase(f->store, &q));
}

static void nothing_stored_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct ca_store_options opts = { 0 };
	struct store *s = NULL;
	struct cred out = { 0 }, q = cred("https", "x.example.com", NULL, NULL, NULL);
	char missing[128];

	assert_get(f, q, NULL);
	/* A store folder that does not exist yet: nothing stored, not an error. */
	snprintf(missing, sizeof(missing), "%s/not-yet", f->home);
	opts.home = missing;
	assert_int_equal(0, ca_file_store_open(&s, &opts));
	assert_int_equal(CA_ENOTFOUND, s->ops->cred_get(s, &out, &q));
	ca_store_free(s);
}

/* A damaged file is an error, never "not found", and is never overwritten. */
static void damaged_file_is_kept(void **state)
{
	struct fixture *f = *state;
	static const char *damaged[] = {
		"{\"version\": 1, \"credentials\": [",
		"{\"version\": 1}",
		"{\"version\": 1, \"credentials\": {}}",
		"[]",
		"",
	};
	struct cred out = { 0 }, q = cred("https", "x.example.com", NULL, NULL, NULL);
	struct cred c = cred("https", "x.example.com", NULL, NULL, "pw");
	size_t i;

	for (i = 0; i < sizeof(damaged) / sizeof(*damaged); i++) {
		write_file(f->path, damaged[i], 0600);
		ca_error_clear();
		assert_int_equal(CA_ERR, f->store->ops->cred_get(f->store, &out, &q));
		assert_non_null(strstr(ca_error_message(), "damaged"));
		assert_int_equal(CA_ERR, f->store->ops->cred_store(f->store, &c));
		assert_int_equal(CA_ERR, f->store->ops->cred_erase(f->store, &q));
		assert_string_equal(damaged[i], read_file(f->path));
	}
}

/* Entries that are not credentials are skipped; the others still answer. */
static void odd_entries_are_skipped(void **state)
{
	struct fixture *f = *state;

	write_file(f->path, "{\"version\": 1, \"credentials\": [1, \"x\", null, "
		"{\"host\": \"x.example.com\"}, "
		"{\"host\": \"x.example.com\", \"password\": 7}, "
		"{\"protocol\": \"https\", \"host\": \"x.example.com\", \"password\": \"pw\"}]}", 0600);
	assert_get(f, cred("https", "x.example.com", NULL, NULL, NULL), "pw");
}

/*
 * The get's fast path (a byte search before any parse) answers as the full
 * parse does: escaped values, braces and quotes inside strings, other keys
 * before "credentials", nested values, the first of several matches.
 */
static void fast_path_matches_full_parse(void **state)
{
	struct fixture *f = *state;

	write_file(f->path, "{\"note\": {\"credentials\": [\"}{\"]}, \"version\": 1,\n"
		"\"credentials\" : [\n"
		"  {\"protocol\": \"https\", \"host\": \"\\u0078.example.com\", \"password\": \"esc\"},\n"
		"  {\"x\": \"}{\\\"[\", \"protocol\": \"https\", \"host\": \"y.example.com\", "
		"\"username\": \"u\", \"password\": \"brace\", \"extra\": [1, {\"a\": null}]},\n"
		"  {\"protocol\": \"https\", \"host\": \"y.example.com\", \"username\": \"u\", \"password\": \"second\"},\n"
		"  {\"protocol\": \"https\", \"host\": \"z.example.com\", \"username\": \"a\\\"b\", \"password\": \"quote\"},\n"
		"  {\"protocol\": \"https\", \"host\": \"host.example.com\", \"password\": \"plain\"}\n"
		"]}", 0600);
	assert_get(f, cred("https", "x.example.com", NULL, NULL, NULL), "esc");
	assert_get(f, cred("https", "y.example.com", NULL, "u", NULL), "brace");
	assert_get(f, cred("https", "z.example.com", NULL, "a\"b", NULL), "quote");
	assert_get(f, cred("https", "host.example.com", NULL, NULL, NULL), "plain");
	/* A value that is only part of a string does not match. */
	assert_get(f, cred("https", "example.com", NULL, NULL, NULL), NULL);
	assert_get(f, cred("http", "host.example.com", NULL, NULL, NULL), NULL);
}

/*
 * A top-level key spelled with an escape ("credential\u0073") is
 * "credentials" to the parser, which takes the first of two: the fast path
 * leaves such a file to the full parse instead of answering from the other.
 */
static void escaped_top_key_is_left_to_full_parse(void **state)
{
	struct fixture *f = *state;

	write_file(f->path, "{\"version\": 1, \"credential\\u0073\": [{\"protocol\": \"https\", "
		"\"host\": \"x.example.com\", \"password\": \"first\"}],\n"
		"\"credentials\": [{\"protocol\": \"https\", \"host\": \"x.example.com\", "
		"\"password\": \"second\"}]}", 0600);
	assert_get(f, cred("https", "x.example.com", NULL, NULL, NULL), "first");
	write_file(f->path, "{\"\\u0076ersion\": 1, \"credentials\": [{\"protocol\": \"https\", "
		"\"host\": \"x.example.com\", \"password\": \"only\"}]}", 0600);
	assert_get(f, cred("https", "x.example.com", NULL, NULL, NULL), "only");
}

/* A symbolic link at credentials.json is refused, its target untouched. */
static void symlink_is_refused(void **state)
{
	struct fixture *f = *state;
	struct cred out = { 0 }, q = cred("https", "x.example.com", NULL, NULL, NULL);
	struct cred c = cred("https", "x.example.com", NULL, NULL, "pw");
	char target[160];
	static const char planted[] = "{\"version\": 1, \"credentials\": [{\"protocol\": \"https\", "
		"\"host\": \"x.example.com\", \"password\": \"planted\"}]}";

	snprintf(target, sizeof(target), "%s/elsewhere.json", f->home);
	write_file(target, planted, 0600);
	assert_int_equal(0, symlink(target, f->path));
	ca_error_clear();
	assert_int_equal(CA_ERR, f->store->ops->cred_get(f->store, &out, &q));
	assert_null(out.password);
	assert_int_equal(CA_ERR, f->store->ops->cred_store(f->store, &c));
	assert_string_equal(planted, read_file(target));
}

/* A file open to others is made private, with its credentials kept. */
static void open_file_is_made_private(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	write_file(f->path, "{\"version\": 1, \"credentials\": [{\"protocol\": \"https\", "
		"\"host\": \"x.example.com\", \"password\": \"pw\"}]}", 0644);
	assert_get(f, cred("https", "x.example.com", NULL, NULL, NULL), "pw");
	assert_int_equal(0, stat(f->path, &st));
	assert_int_equal(0600, st.st_mode & 0777);
}

/* Not a file at all, or a file larger than any credentials file. */
static void wrong_kind_of_file_fails(void **state)
{
	struct fixture *f = *state;
	struct cred out = { 0 }, q = cred("https", "x.example.com", NULL, NULL, NULL);
	char *big;
	size_t n = 5 * 1024 * 1024;
	FILE *fp;

	assert_int_equal(0, mkdir(f->path, 0700));
	assert_int_not_equal(0, f->store->ops->cred_get(f->store, &out, &q));
	assert_int_not_equal(CA_ENOTFOUND, f->store->ops->cred_get(f->store, &out, &q));
	assert_int_equal(0, rmdir(f->path));

	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(n, fwrite(big, 1, n, fp));
	fclose(fp);
	free(big);
	chmod(f->path, 0600);
	assert_int_not_equal(0, f->store->ops->cred_get(f->store, &out, &q));
	assert_int_not_equal(CA_ENOTFOUND, f->store->ops->cred_get(f->store, &out, &q));
}

/* A store folder that is a file, or a symbolic link: nothing is written. */
static void bad_store_folder_fails(void **state)
{
	struct fixture *f = *state;
	struct ca_store_options opts = { 0 };
	struct store *s = NULL;
	struct cred c = cred("https", "x.example.com", NULL, NULL, "pw");
	struct cred out = { 0 };
	char file[128], link[128];

	snprintf(file, sizeof(file), "%s/a-file", f->home);
	write_file(file, "x", 0600);
	opts.home = file;
	assert_int_equal(0, ca_file_store_open(&s, &opts));
	assert_int_not_equal(0, s->ops->cred_store(s, &c));
	assert_int_not_equal(0, s->ops->cred_get(s, &out, &c));
	assert_int_not_equal(CA_ENOTFOUND, s->ops->cred_get(s, &out, &c));
	ca_store_free(s);
	assert_string_equal("x", read_file(file));

	snprintf(link, sizeof(link), "%s/a-link", f->home);
	assert_int_equal(0, symlink(f->home, link));
	opts.home = link;
	assert_int_equal(0, ca_file_store_open(&s, &opts));
	assert_int_not_equal(0, s->ops->cred_store(s, &c));
	ca_store_free(s);
	assert_int_equal(-1, access(f->path, F_OK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(store_then_get, setup, teardown),
		cmocka_unit_test_setup_teardown(fast_path_matches_full_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(escaped_top_key_is_left_to_full_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(same_key_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(expired_is_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(erase_by_query_and_password, setup, teardown),
		cmocka_unit_test_setup_teardown(nothing_stored_is_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_file_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(odd_entries_are_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(open_file_is_made_private, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_kind_of_file_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_store_folder_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
