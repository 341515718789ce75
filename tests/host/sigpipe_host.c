/*
 * sigpipe_host.c: a host program that owns its SIGPIPE disposition (a
 * handler here; a command-line tool relying on the default, so that
 * `prog | head` ends it, is the same case). docs/c-api.md: the library
 * installs no signal handler and changes nothing process-wide that its
 * host owns. After a token through the library (the store chosen by
 * CARTO_AUTH_STORE), is the host's SIGPIPE handler still in place?
 *
 *   sigpipe_host CREDENTIALS_FILE   exit 0 when kept, 3 when changed
 */
#include <carto-auth/carto_auth.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void host_handler(int sig)
{
	(void)sig;
}

static const char *name(void (*h)(int))
{
	return h == SIG_IGN ? "SIG_IGN" : h == SIG_DFL ? "SIG_DFL" :
	       h == host_handler ? "host handler" : "other";
}

int main(int argc, char **argv)
{
	struct carto_auth_options opts;
	struct carto_auth *auth = NULL;
	struct sigaction sa, now;
	const char *token;

	if (argc != 2)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = host_handler;
	sigaction(SIGPIPE, &sa, NULL);
	memset(&opts, 0, sizeof(opts));
	if (carto_auth_from_m2m(&auth, argv[1], &opts) ||
	    carto_auth_access_token(auth, &token, NULL)) {
		fprintf(stderr, "sigpipe_host: %s\n", carto_auth_last_error());
		return 1;
	}
	carto_auth_free(auth);
	sigaction(SIGPIPE, NULL, &now);
	printf("SIGPIPE after the library: %s\n", name(now.sa_handler));
	return now.sa_handler == host_handler ? 0 : 3;
}
