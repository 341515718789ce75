#include "util/fs.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *ca_fs_join(const char *dir, const char *name)
{
	size_t ld = strlen(dir), ln = strlen(name);
	char *path = ca_malloc(ld + ln + 2);

	if (!path)
		return NULL;
	memcpy(path, dir, ld);
	path[ld] = '/';
	memcpy(path + ld + 1, name, ln + 1);
	return path;
}

static int check_dir(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return ca_error(CA_ERR, "cannot use %s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return ca_error(CA_ERR, "refusing to use %s: it is a symbolic link", path);
	if (!S_ISDIR(st.st_mode))
		return ca_error(CA_ERR, "cannot use %s: not a folder", path);
	if (st.st_uid != geteuid())
		return ca_error(CA_ERR, "refusing to use %s: owned by another user", path);
	if (st.st_mode & 077) {
		if (chmod(path, 0700) < 0)
			return ca_error(CA_ERR, "cannot make %s private: %s", path, strerror(errno));
		ca_warn("%s was open to other users (mode %04o); made it private (0700)",
			path, (unsigned)(st.st_mode & 07777));
	}
	return 0;
}

int ca_fs_check_private_dir(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 && errno == ENOENT)
		return CA_ENOTFOUND;
	return check_dir(path);
}

int ca_fs_private_dir(const char *path)
{
	char *copy, *slash;
	int error = 0;

	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return check_dir(path);
	if (errno != ENOENT)
		return ca_error(CA_ERR, "cannot create %s: %s", path, strerror(errno));

	/* Create the missing parents, then the folder itself. */
	copy = ca_strdup(path);
	if (!copy)
		return ca_error(CA_ERR, "out of memory");
	for (slash = strchr(copy + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
			error = ca_error(CA_ERR, "cannot create %s: %s", copy, strerror(errno));
			goto out;
		}
		*slash = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		error = ca_error(CA_ERR, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	error = check_dir(path);
out:
	ca_free(copy);
	return error;
}

static int read_file(char **out, size_t *out_len, int *out_repaired, const char *path,
	size_t max, int private)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, error = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return CA_ENOTFOUND;
		if (errno == ELOOP)
			return ca_error(CA_EINVAL, "refusing to read %s: it is a symbolic link", path);
		return ca_error(CA_EINVAL, "cannot read %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error = ca_error(CA_EINVAL, "cannot read %s: not a regular file", path);
		goto out;
	}
	if (private && st.st_uid != geteuid()) {
		error = ca_error(CA_EINVAL, "refusing to read %s: owned by another user", path);
		goto out;
	}
	if (private && (st.st_mode & 077)) {
		if (fchmod(fd, 0600) < 0) {
			error = ca_error(CA_EINVAL, "refusing to read %s: open to other users and %s",
				path, strerror(errno));
			goto out;
		}
		*out_repaired = 1;
	}
	if ((size_t)st.st_size > max) {
		error = ca_error(CA_EINVAL, "cannot read %s: larger than %zu bytes", path, max);
		goto out;
	}
	buf = ca_malloc((size_t)st.st_size + 1);
	if (!buf) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ca_error(CA_EINVAL, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	ca_free(buf);
	close(fd);
	return error;
}

int ca_fs_read_file(char **out, size_t *out_len, const char *path, size_t max)
{
	return read_file(out, out_len, NULL, path, max, 0);
}

int ca_fs_read_private(char **out, size_t *out_len, int *out_repaired, const char *path,
	size_t max)
{
	int repaired = 0, error;

	error = read_file(out, out_len, &repaired, path, max, 1);
	if (!error && out_repaired)
		*out_repaired = repaired;
	return error;
}

static int write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sync_parent(const char *path)
{
	char *dir = ca_strdup(path), *slash;
	int fd;

	if (!dir)
		return;
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		fd = open(slash == dir ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	ca_free(dir);
}

/*
 * Temporary files and the folder lock.
 *
 * A write creates "<name>.tmp.XXXXXX" beside its file and renames it over
 * the file. Every writer holds an exclusive flock on the folder itself from
 * before it creates its temporary file until after the rename, so whoever
 * holds that lock knows that any "<name>.tmp.XXXXXX" it sees was left by a
 * writer that died (kill -9, power loss) and removes it. The lock is held
 * for the few milliseconds of one write; the kernel drops it when its
 * holder dies. Where folders cannot be locked (some network file systems),
 * writes go ahead unlocked and stray files stay until a locked write.
 *
 * Only a folder the user owns and nobody else may write is locked: any
 * user who can open a shared folder (/tmp, a group folder holding a
 * cache_file) can hold a lock on it, and would hold up every save there.
 * In such a folder writes go ahead unlocked, and stray files are left.
 */
#define DIR_LOCK_TIMEOUT_MS 30000

static int lock_dir(int dfd)
{
	struct timespec nap = { 0, 1000 * 1000 };
	struct stat st;
	int waited_ms = 0;

	if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		errno = EPERM;
		return -1;
	}

	while (flock(dfd, LOCK_EX | LOCK_NB) < 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || waited_ms >= DIR_LOCK_TIMEOUT_MS)
			return -1;
		nanosleep(&nap, NULL);
		waited_ms += (int)(nap.tv_nsec / 1000000);
		if (nap.tv_nsec < 16 * 1000 * 1000)
			nap.tv_nsec *= 2;
	}
	return 0;
}

/* Whether name is "<base>.tmp." followed by mkstemp's six characters. */
static int is_temp_of(const char *name, const char *base)
{
	size_t lb = strlen(base), i;

	if (strncmp(name, base, lb) || strncmp(name + lb, ".tmp.", 5) || strlen(name + lb + 5) != 6)
		return 0;
	for (i = lb + 5; name[i]; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

/* With the folder locked: removes temporary files of base left by dead writers. */
static void remove_stray_temps(int dfd, const char *dir, const char *base)
{
	struct dirent *entry;
	struct stat st;
	int fd = dup(dfd);
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((entry = readdir(d))) {
		if (!is_temp_of(entry->d_name, base) ||
		    fstatat(dfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (unlinkat(dfd, entry->d_name, 0) == 0)
			ca_debug("fs: removed %s/%s, left by an interrupted write", dir, entry->d_name);
	}
	closedir(d);
}

int ca_fs_write_atomic(const char *path, const char *data, size_t len)
{
	size_t lp = strlen(path);
	const char *slash = strrchr(path, '/');
	char *tmp = ca_malloc(lp + 16), *dir = NULL;
	int fd = -1, dfd = -1, error = 0;

	if (!tmp)
		return ca_error(CA_ERR, "out of memory");
	dir = slash ? ca_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : ca_strdup(".");
	if (!dir) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0 && lock_dir(dfd) == 0)
		remove_stray_temps(dfd, dir, slash ? slash + 1 : path);
	else
		ca_debug("fs: cannot lock folder %s (%s); writing without it", dir,
			dfd < 0 ? strerror(errno) : errno == EPERM ? "others may write to it" :
			"busy or unsupported");
	memcpy(tmp, path, lp);
	memcpy(tmp + lp, ".tmp.XXXXXX", 12);
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		error = ca_error(CA_ERR, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		error = ca_error(CA_ERR, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		error = ca_error(CA_ERR, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		error = ca_error(CA_ERR, "cannot replace %s: %s", path, strerror(errno));
		goto out;
	}
	if (dfd >= 0)
		fsync(dfd);
out:
	if (fd >= 0)
		close(fd);
	if (error)
		unlink(tmp);
	if (dfd >= 0)
		close(dfd); /* releases the folder lock */
	ca_free(tmp);
	ca_free(dir);
	return error;
}

int ca_fs_remove(const char *path)
{
	if (unlink(path) == 0) {
		sync_parent(path);
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	return ca_error(CA_ERR, "cannot remove %s: %s", path, strerror(errno));
}

/* Drops the queued inotify events; only their arrival matters. */
static void drain(int in)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(in, buf, sizeof(buf)) > 0)
		;
}

/*
 * Waiting does not poll blindly: the holder closing the lock file (or
 * dying, which closes it) makes an inotify IN_CLOSE event that wakes the
 * waiter at once, so 32 callers queued behind one renewal each get the lock
 * as soon as it is free. The event can come a moment before the kernel
 * drops the lock, hence the short naps after one; without inotify (limits,
 * network filesystems) the naps alone do it, doubling up to 64 ms.
 */
int ca_fs_lock(int *out_fd, const char *path, int timeout_ms)
{
	int64_t deadline = ca_clock_ms() + timeout_ms, left;
	int fd, in = -1, nap_ms = 1, error = 0;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ELOOP)
		return ca_error(CA_ERR, "refusing to use lock %s: it is a symbolic link", path);
	if (fd < 0)
		return ca_error(CA_ERR, "cannot open lock %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error = ca_error(CA_ERR, "cannot lock %s: %s", path, strerror(errno));
			goto out;
		}
		if (in == -1) {
			/* Watch first, then try again: no close can slip between. */
			in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			if (in >= 0 && inotify_add_watch(in, path, IN_CLOSE) < 0) {
				close(in);
				in = -2;
			}
			if (in < 0)
				in = -2;
			continue;
		}
		left = deadline - ca_clock_ms();
		if (left <= 0) {
			error = ca_error(CA_ERR, "timed out after %d s waiting for another carto-auth (lock %s)",
				timeout_ms / 1000, path);
			goto out;
		}
		if (nap_ms > left)
			nap_ms = (int)left;
		if (in >= 0) {
			struct pollfd p = { .fd = in, .events = POLLIN, .revents = 0 };

			if (poll(&p, 1, nap_ms) > 0) {
				drain(in);
				nap_ms = 1;
				continue;
			}
		} else {
			struct timespec nap = { nap_ms / 1000, (long)(nap_ms % 1000) * 1000000 };

			nanosleep(&nap, NULL);
		}
		if (nap_ms < 64)
			nap_ms *= 2;
	}
	*out_fd = fd;
	fd = -1;
out:
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	return error;
}

void ca_fs_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing releases the flock */
}

int ca_fs_lock_named(int *out_fd, const char *home, const char *name, int timeout_ms)
{
	char *locks = NULL, *path = NULL;
	int error;

	if ((error = ca_fs_private_dir(home)))
		return error;
	locks = ca_fs_join(home, "locks");
	if (!locks) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	if ((error = ca_fs_private_dir(locks)))
		goto out;
	path = ca_fs_join(locks, name);
	error = path ? ca_fs_lock(out_fd, path, timeout_ms) : ca_error(CA_ERR, "out of memory");
out:
	ca_free(locks);
	ca_free(path);
	return error;
}
