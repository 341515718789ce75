/*
 * Files that hold secrets (util/fs.c): private folders, reads that refuse
 * symbolic links and other owners, atomic writes and their leftovers,
 * locks with a timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/mem.h"

static char root[] = "/tmp/ca-test-fs-XXXXXX";
/* root/name, in one of four buffers (two may be used in one call). */
static const char *at(const char *name)
{
	static char paths[4][512];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", root, name);
	return p;
}

static void put(const char *name, const char *text, mode_t mode)
{
	int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal((ssize_t)strlen(text), write(fd, text, strlen(text)));
	close(fd);
	chmod(at(name), mode);
}

static mode_t mode_of(const char *name)
{
	struct stat st;

	assert_int_equal(0, lstat(at(name), &st));
	return st.st_mode & 07777;
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(root) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void private_dirs(void **state)
{
	(void)state;
	/* created with its parents, 0700 */
	assert_int_equal(0, ca_fs_private_dir(at("a/b/c")));
	assert_int_equal(0700, mode_of("a/b/c"));
	assert_int_equal(0700, mode_of("a/b"));
	/* an existing open folder is made private */
	assert_int_equal(0, mkdir(at("open"), 0755));
	chmod(at("open"), 0755);
	assert_int_equal(0, ca_fs_private_dir(at("open")));
	assert_int_equal(0700, mode_of("open"));
	chmod(at("open"), 0750);
	assert_int_equal(0, ca_fs_check_private_dir(at("open")));
	assert_int_equal(0700, mode_of("open"));
	/* missing: check says so, without creating */
	assert_int_equal(CA_ENOTFOUND, ca_fs_check_private_dir(at("missing")));
	assert_int_equal(-1, access(at("missing"), F_OK));
	/* a symbolic link to a folder is refused */
	assert_int_equal(0, symlink(at("open"), at("link")));
	assert_int_equal(CA_ERR, ca_fs_private_dir(at("link")));
	assert_non_null(strstr(ca_error_message(), "symbolic link"));
	assert_int_equal(CA_ERR, ca_fs_check_private_dir(at("link")));
	/* a file is not a folder */
	put("file", "x", 0600);
	assert_int_equal(CA_ERR, ca_fs_private_dir(at("file")));
	assert_non_null(strstr(ca_error_message(), "not a folder"));
}

static void reads(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	int repaired = 0;

	(void)state;
	put("secret", "hello", 0600);
	assert_int_equal(0, ca_fs_read_private(&buf, &len, &repaired, at("secret"), 100));
	assert_string_equal("hello", buf);
	assert_int_equal(5, len);
	assert_int_equal(0, repaired);
	ca_free(buf);
	/* too large */
	assert_int_equal(CA_EINVAL, ca_fs_read_file(&buf, &len, at("secret"), 4));
	assert_non_null(strstr(ca_error_message(), "larger than 4 bytes"));
	/* missing */
	assert_int_equal(CA_ENOTFOUND, ca_fs_read_file(&buf, &len, at("nothing"), 100));
	/* open to others: made 0600 and said so */
	put("loose", "x", 0644);
	assert_int_equal(0, ca_fs_read_private(&buf, &len, &repaired, at("loose"), 100));
	assert_int_equal(1, repaired);
	assert_int_equal(0600, mode_of("loose"));
	ca_free(buf);
	/* never through a symbolic link */
	assert_int_equal(0, symlink(at("secret"), at("secret-link")));
	buf = NULL;
	assert_int_equal(CA_EINVAL, ca_fs_read_file(&buf, &len, at("secret-link"), 100));
	assert_non_null(strstr(ca_error_message(), "symbolic link"));
	assert_null(buf);
	/* not a regular file */
	assert_int_equal(CA_EINVAL, ca_fs_read_file(&buf, &len, root, 100));
	assert_non_null(strstr(ca_error_message(), "not a regular file"));
}

/* Files and folders of another user (needs root to make them). */
static void other_owner(void **state)
{
	char *buf = NULL;
	size_t len;

	(void)state;
	if (geteuid() != 0)
		skip();
	put("theirs", "x", 0600);
	assert_int_equal(0, chown(at("theirs"), 65534, 65534));
	assert_int_equal(CA_EINVAL, ca_fs_read_private(&buf, &len, NULL, at("theirs"), 100));
	assert_non_null(strstr(ca_error_message(), "owned by another user"));
	/* a plain read does not ask who owns it */
	assert_int_equal(0, ca_fs_read_file(&buf, &len, at("theirs"), 100));
	ca_free(buf);
	assert_int_equal(0, mkdir(at("their-dir"), 0700));
	assert_int_equal(0, chown(at("their-dir"), 65534, 65534));
	assert_int_equal(CA_ERR, ca_fs_private_dir(at("their-dir")));
	assert_non_null(strstr(ca_error_message(), "owned by another user"));
}

static void atomic_writes(void **state)
{
	struct stat st;
	char *buf = NULL;
	size_t len;
	int fd;

	(void)state;
	assert_int_equal(0, ca_fs_private_dir(at("w")));
	assert_int_equal(0, ca_fs_write_atomic(at("w/tok.json"), "one", 3));
	assert_int_equal(0600, mode_of("w/tok.json"));
	assert_int_equal(0, ca_fs_write_atomic(at("w/tok.json"), "two!", 4));
	assert_int_equal(0, ca_fs_read_private(&buf, &len, NULL, at("w/tok.json"), 100));
	assert_string_equal("two!", buf);
	ca_free(buf);
	/* a symbolic link at the path is replaced, its target untouched */
	put("target", "keep", 0600);
	assert_int_equal(0, symlink(at("target"), at("w/linked.json")));
	assert_int_equal(0, ca_fs_write_atomic(at("w/linked.json"), "new", 3));
	assert_int_equal(0, lstat(at("w/linked.json"), &st));
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(0, ca_fs_read_file(&buf, &len, at("target"), 100));
	assert_string_equal("keep", buf);
	ca_free(buf);
	/* the temporary file a killed writer left is removed by the next */
	fd = open(at("w/tok.json.tmp.AbC123"), O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(0, ca_fs_write_atomic(at("w/tok.json"), "three", 5));
	assert_int_equal(-1, access(at("w/tok.json.tmp.AbC123"), F_OK));
	/* remove: a missing file is fine */
	assert_int_equal(0, ca_fs_remove(at("w/tok.json")));
	assert_int_equal(0, ca_fs_remove(at("w/tok.json")));
	assert_int_equal(-1, access(at("w/tok.json"), F_OK));
}

static void locks(void **state)
{
	int fd = -1, fd2 = -1, status;
	pid_t pid;

	(void)state;
	assert_int_equal(0, ca_fs_lock_named(&fd, at("home"), "id.lock", 1000));
	assert_true(fd >= 0);
	assert_int_equal(0700, mode_of("home/locks"));
	assert_int_equal(0600, mode_of("home/locks/id.lock"));
	/* another process waits, then times out with a clear message */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int e = ca_fs_lock_named(&fd2, at("home"), "id.lock", 300);

		_exit(e == CA_ERR && strstr(ca_error_message(), "timed out") ? 0 : 1);
	}
	assert_int_equal(pid, waitpid(pid, &status, 0));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* released: the other process gets it */
	ca_fs_unlock(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(ca_fs_lock_named(&fd2, at("home"), "id.lock", 300) == 0 ? 0 : 1);
	assert_int_equal(pid, waitpid(pid, &status, 0));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ca_fs_unlock(-1); /* accepts "no lock" */
	/* a symbolic link as the lock file is refused */
	assert_int_equal(0, symlink(at("target"), at("home/locks/evil.lock")));
	assert_int_equal(CA_ERR, ca_fs_lock_named(&fd, at("home"), "evil.lock", 100));
	assert_non_null(strstr(ca_error_message(), "symbolic link"));
}

static void join(void **state)
{
	char *p;

	(void)state;
	p = ca_fs_join("/a/b", "c.json");
	assert_string_equal("/a/b/c.json", p);
	ca_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(private_dirs),
		cmocka_unit_test(reads),
		cmocka_unit_test(other_owner),
		cmocka_unit_test(atomic_writes),
		cmocka_unit_test(locks),
		cmocka_unit_test(join),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
