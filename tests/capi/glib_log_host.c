/*
 * glib_log_host.c: a host program that owns GLib's log handlers. It
 * installs its own handler for the "libsecret" domain, gets a token
 * through libcarto-auth with the keyring as the store (stored, then read
 * back by a second handle), and checks that a "libsecret" message still
 * reaches its own handler: the library must not have replaced it.
 *
 *   glib_log_host CREDENTIALS_FILE    prints "host handler kept" and exits 0
 */
#include <carto-auth/carto_auth.h>

#include <glib.h>
#include <stdio.h>
#include <string.h>

static int host_calls;

static void host_handler(const gchar *domain, GLogLevelFlags level, const gchar *message,
	gpointer data)
{
	(void)domain;
	(void)level;
	(void)data;
	if (!strcmp(message, "probe from the host"))
		host_calls++;
}

static int one_token(const char *credentials_file)
{
	struct carto_auth_options opts;
	struct carto_auth *auth = NULL;
	const char *token;
	int64_t expiration;
	int error;

	memset(&opts, 0, sizeof(opts));
	error = carto_auth_from_m2m(&auth, credentials_file, &opts);
	if (!error)
		error = carto_auth_access_token(auth, &token, &expiration);
	if (error)
		fprintf(stderr, "glib_log_host: %s (code %d)\n", carto_auth_last_error(),
			carto_auth_last_error_code());
	carto_auth_free(auth);
	return error;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: glib_log_host CREDENTIALS_FILE\n");
		return 2;
	}
	g_log_set_handler("libsecret", G_LOG_LEVEL_MASK & ~G_LOG_LEVEL_ERROR, host_handler, NULL);
	/* The first call stores a new token in the keyring, the second reads it. */
	if (one_token(argv[1]) || one_token(argv[1]))
		return 1;
	g_log("libsecret", G_LOG_LEVEL_WARNING, "probe from the host");
	if (host_calls != 1) {
		fprintf(stderr, "glib_log_host: the host's \"libsecret\" log handler was replaced\n");
		return 1;
	}
	printf("host handler kept\n");
	return 0;
}
