/*
 * Starting the user's browser for a login: $BROWSER (as xdg-open reads
 * it) or the system's opener, detached from the terminal and from the
 * protocol's standard streams.
 */
#include "auth/net/browser.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"
#include "util/mem.h"

extern char **environ;

/*
 * Starts one browser command line (words split on blanks, "%s" replaced
 * by the URL, else the URL appended), detached: its own session (Ctrl-C
 * in the terminal is not for it), standard input and output on /dev/null
 * (they are the protocol's), no inherited descriptors.
 */
static int spawn_one(pid_t *out_pid, const char *command, const char *url)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char *copy, *word, *save = NULL;
	char *argv[34];
	int argc = 0, has_url = 0, err;
	sigset_t none, dfl;
	pid_t pid;

	copy = ca_strdup(command);
	if (!copy)
		return ENOMEM;
	for (word = strtok_r(copy, " \t", &save); word && argc < 32;
	     word = strtok_r(NULL, " \t", &save)) {
		if (strcmp(word, "%s") == 0) {
			argv[argc++] = (char *)url;
			has_url = 1;
		} else {
			argv[argc++] = word;
		}
	}
	if (argc == 0) {
		ca_free(copy);
		return ENOENT;
	}
	if (!has_url)
		argv[argc++] = (char *)url;
	argv[argc] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	/* Browsers chatter on stderr; keep it only for --debug. */
	if (!ca_debug_enabled())
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
#ifdef POSIX_SPAWN_SETSID
		| POSIX_SPAWN_SETSID
#endif
		);
	err = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (err == 0) {
		ca_debug("started the browser: %s", argv[0]);
		*out_pid = pid;
	} else {
		ca_debug("cannot start the browser %s: %s", argv[0], strerror(err));
	}
	ca_free(copy);
	return err;
}

/*
 * Whether there is a browser to try: $BROWSER, or a graphical session for
 * xdg-open. Without a display, xdg-open would start a text browser in our
 * terminal, where paste mode serves better.
 */
int ca_browser_available(void)
{
	const char *browser = getenv("BROWSER");

#ifdef __APPLE__
	(void)browser;
	return 1;
#else
	return (browser && *browser) || getenv("DISPLAY") || getenv("WAYLAND_DISPLAY");
#endif
}

/*
 * Opens url in a browser: each entry of $BROWSER (':'-separated, as
 * xdg-open reads it) until one starts, else the system's opener.
 * CA_ENOTFOUND when nothing started.
 */
int ca_browser_open(pid_t *out_pid, const char *url)
{
	const char *browser = getenv("BROWSER");
	char *list, *entry, *save = NULL;
	int rc = CA_ENOTFOUND;

	if (browser && *browser) {
		list = ca_strdup(browser);
		if (!list)
			return ca_error(CA_ERR, "out of memory");
		for (entry = strtok_r(list, ":", &save); entry;
		     entry = strtok_r(NULL, ":", &save)) {
			if (spawn_one(out_pid, entry, url) == 0) {
				rc = 0;
				break;
			}
		}
		ca_free(list);
		return rc;
	}
#ifdef __APPLE__
	return spawn_one(out_pid, "open", url) == 0 ? 0 : CA_ENOTFOUND;
#else
	return spawn_one(out_pid, "xdg-open", url) == 0 ? 0 : CA_ENOTFOUND;
#endif
}

void ca_browser_reap(pid_t pid)
{
	if (pid > 0)
		waitpid(pid, NULL, WNOHANG);
}

