/*
 * fork_host.c: a host program that uses libcarto-auth (the store chosen by
 * CARTO_AUTH_STORE), then forks, as a pre-forking server or a plugin host
 * spawning workers does, and the child asks for the token with a handle of
 * its own. GLib's D-Bus cannot work in a child forked after it was used
 * (its worker thread is not there): the child's keyring call must fail at
 * once with a clear message (auto mode then uses the file store), never
 * hang.
 *
 *   fork_host CREDENTIALS_FILE
 *
 * FORK_HOST_PARENT=0: the parent forks without using the library first.
 * FORK_HOST_ALARM=N: the child is killed after N s (default 60).
 * Prints "WHO: rc=N after T s[: message]" for each call; exits with the
 * child's status (1 when it failed or was killed).
 */
#include <carto-auth/carto_auth.h>

#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int one_token(const char *who, const char *credentials_file)
{
	struct carto_auth_options opts;
	struct carto_auth *auth = NULL;
	const char *token;
	int64_t expiration;
	double t0 = now();
	int error;

	memset(&opts, 0, sizeof(opts));
	error = carto_auth_from_m2m(&auth, credentials_file, &opts);
	if (!error)
		error = carto_auth_access_token(auth, &token, &expiration);
	printf("%s: rc=%d after %.2f s%s%s\n", who, error, now() - t0,
		error ? ": " : "", error ? carto_auth_last_error() : "");
	fflush(stdout);
	carto_auth_free(auth);
	return error;
}

int main(int argc, char **argv)
{
	const char *parent = getenv("FORK_HOST_PARENT");
	const char *alarm_s = getenv("FORK_HOST_ALARM");
	pid_t pid;
	int status;

	if (argc != 2) {
		fprintf(stderr, "usage: fork_host CREDENTIALS_FILE\n");
		return 2;
	}
	/* The parent stores a token, then reads it back. */
	if (!(parent && !strcmp(parent, "0")) &&
	    (one_token("parent-1", argv[1]) || one_token("parent-2", argv[1])))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		alarm(alarm_s ? (unsigned)atoi(alarm_s) : 60);
		_exit(one_token("child", argv[1]) ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	if (WIFSIGNALED(status)) {
		printf("child: killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status);
}
