/*
 * handles_host.c: a long-lived host that asks the library for a token N
 * times, a new handle each time (as a service handling requests does),
 * with the store chosen by CARTO_AUTH_STORE. "get" reads the stored token
 * (the keyring's fast path); "store" asks the server for a new one each
 * time (no_cache) and stores it (libsecret's path). Prints the open
 * descriptors and threads after the 10th call and after the last, and with
 * HANDLES_HOST_LIST set, what each descriptor is.
 *
 *   handles_host CREDENTIALS_FILE N get|store
 */
#include <carto-auth/carto_auth.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n - 1;  /* opendir's own */
}

static int count_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Threads:", 8))
			n = atoi(line + 8);
	if (f)
		fclose(f);
	return n;
}

static void list_fds(void)
{
	char path[64], target[256];
	ssize_t len;
	int fd;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if ((len = readlink(path, target, sizeof(target) - 1)) > 0) {
			target[len] = '\0';
			printf("fd %d: %s\n", fd, target);
		}
	}
}

/*
 * GDBus's worker thread closes a handle's sockets a moment after the handle
 * is freed: wait until the counts hold still for 0.3 s (at most 5 s), so a
 * slow machine is not read as a leak.
 */
static void settle(int *fds, int *threads)
{
	int k, same = 0;

	*fds = count_fds();
	*threads = count_threads();
	for (k = 0; k < 50 && same < 3; k++) {
		int f, t;

		usleep(100000);
		f = count_fds();
		t = count_threads();
		same = (f == *fds && t == *threads) ? same + 1 : 0;
		*fds = f;
		*threads = t;
	}
}

int main(int argc, char **argv)
{
	int i, n, store, fds10 = 0, thr10 = 0, fds = 0, thr = 0;

	if (argc != 4 || (strcmp(argv[3], "get") && strcmp(argv[3], "store")))
		return 2;
	n = atoi(argv[2]);
	store = !strcmp(argv[3], "store");
	for (i = 1; i <= n; i++) {
		struct carto_auth_options opts;
		struct carto_auth *auth = NULL;
		const char *token;

		memset(&opts, 0, sizeof(opts));
		opts.no_cache = store;
		if (carto_auth_from_m2m(&auth, argv[1], &opts) ||
		    carto_auth_access_token(auth, &token, NULL)) {
			fprintf(stderr, "handles_host: call %d: %s\n", i, carto_auth_last_error());
			return 1;
		}
		carto_auth_free(auth);
		if (i == 10)
			settle(&fds10, &thr10);
	}
	settle(&fds, &thr);
	printf("after 10 calls: fds=%d threads=%d\n", fds10, thr10);
	printf("after %d calls: fds=%d threads=%d\n", n, fds, thr);
	if (getenv("HANDLES_HOST_LIST"))
		list_fds();
	return 0;
}
