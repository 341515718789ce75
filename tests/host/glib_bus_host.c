/*
 * glib_bus_host.c: a GLib host program that uses the shared session bus
 * connection (g_bus_get_sync), as GApplication does. GLib makes that
 * connection end the process when the bus goes away (exit-on-close TRUE):
 * the host's choice, which the library must leave as it is
 * (docs/c-api.md: nothing process-wide that the host owns is changed).
 *
 *   glib_bus_host CREDENTIALS_FILE   exit 0 when the setting is kept, 3 when changed
 */
#include <carto-auth/carto_auth.h>

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct carto_auth_options opts;
	struct carto_auth *auth = NULL;
	GDBusConnection *bus;
	const char *token;
	gboolean before, after;
	int error;

	if (argc != 2)
		return 2;
	bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
	if (!bus)
		return 1;
	before = g_dbus_connection_get_exit_on_close(bus);
	memset(&opts, 0, sizeof(opts));
	error = carto_auth_from_m2m(&auth, argv[1], &opts);
	if (!error)
		error = carto_auth_access_token(auth, &token, NULL);
	if (error) {
		fprintf(stderr, "glib_bus_host: %s\n", carto_auth_last_error());
		return 1;
	}
	carto_auth_free(auth);
	after = g_dbus_connection_get_exit_on_close(bus);
	printf("exit-on-close before: %d, after: %d\n", before, after);
	g_object_unref(bus);
	return before == after ? 0 : 3;
}
