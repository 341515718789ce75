/*
 * A host program whose own functions and data are named as the
 * library's internals are (or were): with a library that exports only
 * carto_auth_*, it links statically and dynamically, its own definitions
 * are the ones called, and the library still gets a token.
 *
 * usage: host_clash CREDENTIALS_FILE
 * Prints "host: ok" and exits 0, or says what went wrong and exits 1.
 */
#include <carto-auth/carto_auth.h>

#include <stdio.h>
#include <string.h>

/* Not static on purpose: each is a global symbol of the host. */
int calls;
int store_open(void);
int sha256(void);
int http_perform(void);
int ca_store_open(void);
int ca_sha256(void);
int ca_http_perform(void);
int proto_get(void);
int ca_proto_get(void);
int ca_malloc(void);
int ca_free(void);
int ca_error(void);
int ca_module_get(void);
int ca_config_from_msg(void);
int ca_token_valid(void);

int store_open(void) { return calls += 1; }
int sha256(void) { return calls += 2; }
int http_perform(void) { return calls += 4; }
int ca_store_open(void) { return calls += 8; }
int ca_sha256(void) { return calls += 16; }
int ca_http_perform(void) { return calls += 32; }
int proto_get(void) { return calls += 64; }
int ca_proto_get(void) { return calls += 128; }
int ca_malloc(void) { return calls += 256; }
int ca_free(void) { return calls += 512; }
int ca_error(void) { return calls += 1024; }
int ca_module_get(void) { return calls += 2048; }
int ca_config_from_msg(void) { return calls += 4096; }
int ca_token_valid(void) { return calls += 8192; }

int main(int argc, char **argv)
{
	struct carto_auth *auth = NULL;
	const char *token;

	if (argc != 2) {
		fprintf(stderr, "usage: host_clash CREDENTIALS_FILE\n");
		return 2;
	}
	if (carto_auth_from_m2m(&auth, argv[1], NULL) ||
	    carto_auth_access_token(auth, &token, NULL)) {
		fprintf(stderr, "host: the library failed: %s\n", carto_auth_last_error());
		return 1;
	}
	if (strncmp(token, "eyJ", 3) != 0) {
		fprintf(stderr, "host: not a token\n");
		return 1;
	}
	carto_auth_free(auth);
	if (calls != 0) {
		fprintf(stderr, "host: the library called the host's functions (%d)\n", calls);
		return 1;
	}
	store_open(); sha256(); http_perform(); ca_store_open(); ca_sha256(); ca_http_perform();
	proto_get(); ca_proto_get(); ca_malloc(); ca_free(); ca_error(); ca_module_get();
	ca_config_from_msg(); ca_token_valid();
	if (calls != 16383) {
		fprintf(stderr, "host: not all of the host's own functions ran (%d)\n", calls);
		return 1;
	}
	printf("host: ok\n");
	return 0;
}
