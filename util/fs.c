#include "util/fs.h"

#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *fs_join(const char *dir, const char *name)
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
	if ((st.st_mode & 077) && chmod(path, 0700) < 0)
		return ca_error(CA_ERR, "cannot make %s private: %s", path, strerror(errno));
	return 0;
}

int fs_private_dir(const char *path)
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

int fs_read_file(char **out, size_t *out_len, const char *path, size_t max)
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

int fs_write_atomic(const char *path, const char *data, size_t len)
{
	size_t lp = strlen(path);
	char *tmp = ca_malloc(lp + 16);
	int fd = -1, error = 0;

	if (!tmp)
		return ca_error(CA_ERR, "out of memory");
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
	sync_parent(path);
out:
	if (fd >= 0)
		close(fd);
	if (error)
		unlink(tmp);
	ca_free(tmp);
	return error;
}

int fs_remove(const char *path)
{
	if (unlink(path) == 0) {
		sync_parent(path);
		return 0;
	}
	if (errno == ENOENT)
		return 0;
	return ca_error(CA_ERR, "cannot remove %s: %s", path, strerror(errno));
}

int fs_lock(int *out_fd, const char *path, int timeout_ms)
{
	struct timespec nap = { 0, 2 * 1000 * 1000 };
	int fd, waited_ms = 0;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ca_error(CA_ERR, "cannot open lock %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return ca_error(CA_ERR, "cannot lock %s: %s", path, strerror(errno));
		}
		if (waited_ms >= timeout_ms) {
			close(fd);
			return ca_error(CA_ERR, "timed out after %d s waiting for another carto-auth (lock %s)",
				timeout_ms / 1000, path);
		}
		nanosleep(&nap, NULL);
		waited_ms += (int)(nap.tv_nsec / 1000000);
		if (nap.tv_nsec < 50 * 1000 * 1000)
			nap.tv_nsec *= 2;
	}
	*out_fd = fd;
	return 0;
}

void fs_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing releases the flock */
}
