/*
 * example.c: a CARTO access token from a native program, with libcarto-auth.
 *
 *   cc example.c $(pkg-config --cflags --libs carto-auth) -o example
 *   ./example carto-credentials.json
 *
 * It reads an M2M credentials file, gets a token (from the store when one
 * is still valid, else from CARTO), prints the account's API base URL and
 * the Data Warehouse project, and never prints a whole secret.
 * docs/c-api.md walks through it.
 */
#include <carto-auth/carto_auth.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what)
{
	fprintf(stderr, "example: %s: %s (code %d)\n", what, carto_auth_last_error(),
		carto_auth_last_error_code());
	return 1;
}

int main(int argc, char **argv)
{
	struct carto_auth_options opts;
	struct carto_auth *auth = NULL;
	const char *token;
	char *dw_project = NULL, *dw_token = NULL;
	int64_t expiration;
	int status = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: example CREDENTIALS_FILE\n");
		return 2;
	}
	printf("library: %s\n", carto_auth_version());

	/* Zero the options: every field then takes its default. */
	memset(&opts, 0, sizeof(opts));
	opts.min_ttl = 600; /* hand out tokens valid for 10 more minutes */

	if (carto_auth_from_m2m(&auth, argv[1], &opts) != CARTO_AUTH_OK)
		return fail("reading the credentials file");

	if (carto_auth_access_token(auth, &token, &expiration) != CARTO_AUTH_OK) {
		status = fail("getting a token");
		goto out;
	}
	/* token stays valid until the next call on auth or carto_auth_free(). */
	printf("token: %.8s... (%zu bytes)\n", token, strlen(token));
	printf("expiration: %" PRId64 "\n", expiration);
	printf("api_base_url: %s\n", carto_auth_api_base_url(auth));

	if (carto_auth_dw_credentials(auth, &dw_project, &dw_token) != CARTO_AUTH_OK) {
		status = fail("getting the Data Warehouse credentials");
		goto out;
	}
	printf("dw_project: %s\n", dw_project);
	printf("dw_token: %zu bytes\n", strlen(dw_token));
	status = 0;
out:
	/* Both strings belong to us: wipe and free them. */
	carto_auth_secret_free(dw_project);
	carto_auth_secret_free(dw_token);
	carto_auth_free(auth);
	return status;
}
