/*
 * glib_fork_host.c: a GLib host program that used D-Bus itself (GLib's
 * shared session bus connection, not through libcarto-auth), then forks;
 * the child is the first to use the library. GDBus's worker thread, which
 * every connection of the process needs, is not in the child: the
 * library cannot tell, and its keyring call must end within its own
 * deadline (CARTO_AUTH_EKEYRING), never hang.
 *
 *   glib_fork_host CREDENTIALS_FILE
 *
 * FORK_HOST_ALARM=N: the child is killed after N s (default 60).
 * Prints "child: rc=N after T s[: message]"; exits with the child's
 * status (1 when it failed or was killed).
 */
#include <carto-auth/carto_auth.h>

#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv)
{
	const char *alarm_s = getenv("FORK_HOST_ALARM");
	struct carto_auth_options opts;
	struct carto_auth *auth = NULL;
	GDBusConnection *bus;
	GVariant *reply;
	const char *token;
	double t0;
	pid_t pid;
	int status, error;

	if (argc != 2)
		return 2;
	bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
	if (!bus)
		return 1;
	reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "GetId", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
	if (!reply)
		return 1;
	g_variant_unref(reply);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		alarm(alarm_s ? (unsigned)atoi(alarm_s) : 60);
		t0 = now();
		memset(&opts, 0, sizeof(opts));
		error = carto_auth_from_m2m(&auth, argv[1], &opts);
		if (!error)
			error = carto_auth_access_token(auth, &token, NULL);
		printf("child: rc=%d after %.2f s%s%s\n", error, now() - t0,
			error ? ": " : "", error ? carto_auth_last_error() : "");
		fflush(stdout);
		_exit(error ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	g_object_unref(bus);
	if (WIFSIGNALED(status)) {
		printf("child: killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status);
}
