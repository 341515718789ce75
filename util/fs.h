/* Files that hold secrets: private folders, safe reads, atomic writes, locks. */
#ifndef CA_UTIL_FS_H
#define CA_UTIL_FS_H

#include <stddef.h>

/*
 * Creates path (and missing parents) with mode 0700. An existing folder
 * must be a real folder owned by this user, not a symbolic link; group or
 * other permissions on it are removed.
 */
int ca_fs_private_dir(const char *path);

/*
 * The same checks (and repair) on an existing folder, without creating it:
 * CA_ENOTFOUND when it does not exist.
 */
int ca_fs_check_private_dir(const char *path);

/*
 * Reads a whole regular file of at most max bytes, never through a
 * symbolic link. CA_ENOTFOUND when it does not exist. The buffer is
 * NUL-terminated and belongs to the caller (ca_free).
 */
int ca_fs_read_file(char **out, size_t *out_len, const char *path, size_t max);

/*
 * fs_read_file for a file of the store: it must also be owned by this
 * user; a file open to group or others is made 0600 before it is read, and
 * *out_repaired (may be NULL) tells the caller so it can warn.
 */
int ca_fs_read_private(char **out, size_t *out_len, int *out_repaired, const char *path,
	size_t max);

/*
 * Replaces path with data: a temporary file in the same folder, mode 0600,
 * fsync, rename, fsync of the folder. A symbolic link at path is replaced,
 * never followed. Writers in one folder serialise on a lock of the folder,
 * and each removes the temporary files of path that writers killed before
 * their rename left behind ("<path>.tmp.XXXXXX").
 */
int ca_fs_write_atomic(const char *path, const char *data, size_t len);

/* Removes path; a missing file is not an error. */
int ca_fs_remove(const char *path);

/*
 * Takes an exclusive lock on the lock file path (created 0600), waiting at
 * most timeout_ms. The kernel releases it when the process dies.
 */
int ca_fs_lock(int *out_fd, const char *path, int timeout_ms);
void ca_fs_unlock(int fd);

/* fs_lock on <home>/locks/<name>, creating the private folders first. */
int ca_fs_lock_named(int *out_fd, const char *home, const char *name, int timeout_ms);

/* Joins a folder and a file name into a new string (ca_free). */
char *ca_fs_join(const char *dir, const char *name);

#endif
