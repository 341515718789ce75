/*
 * A host program that is itself a user of cJSON and libcurl, as an IDE
 * plugin or a service is: it installs its own cJSON allocator (one that
 * counts its blocks) and initialises libcurl before it ever calls
 * libcarto-auth. Then one carto_auth_* call against the stand-in, and the
 * host goes on with its own JSON and its own request.
 *
 * What it checks: the library changed none of the host's process-wide
 * state. A library that installs cJSON hooks of its own makes the host's
 * blocks go through two allocators (a crash: a free of a block the other
 * allocated); one that re-initialises libcurl with its allocator leaves
 * libcurl handing the host blocks from the wrong heap.
 *
 * usage: host_guest CREDENTIALS_FILE URL
 *   URL: any http(s) address the host itself fetches (the stand-in's).
 * Prints "host: ok" and exits 0, or says what went wrong and exits 1.
 */
#include <carto-auth/carto_auth.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The host's allocator: a magic word in front of each block it hands out. */
#define MAGIC 0x686f7374u /* "host" */
static long live;

static void *host_malloc(size_t size)
{
	unsigned *block = malloc(size + 16);

	if (!block)
		return NULL;
	block[0] = MAGIC;
	live++;
	return (char *)block + 16;
}

static void host_free(void *ptr)
{
	unsigned *block;

	if (!ptr)
		return;
	block = (unsigned *)((char *)ptr - 16);
	if (block[0] != MAGIC) {
		fprintf(stderr, "host: cJSON freed a block the host's allocator did not give\n");
		abort();
	}
	block[0] = 0;
	live--;
	free(block);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

int main(int argc, char **argv)
{
	cJSON_Hooks hooks = { host_malloc, host_free };
	struct carto_auth *auth = NULL;
	const char *token;
	cJSON *mine, *parsed;
	char *text;
	CURL *curl;
	CURLcode code;
	long status = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: host_guest CREDENTIALS_FILE URL\n");
		return 2;
	}
	/* The host's process-wide state, set up before the library is used. */
	cJSON_InitHooks(&hooks);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "host: curl_global_init failed\n");
		return 1;
	}
	/* The host's JSON before: a tree that lives across the library's call. */
	mine = cJSON_CreateObject();
	cJSON_AddStringToObject(mine, "before", "the library");

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

	/* The host's JSON after: its allocator must still be the one in use. */
	cJSON_AddStringToObject(mine, "after", "the library");
	text = cJSON_PrintUnformatted(mine);
	parsed = text ? cJSON_Parse(text) : NULL;
	if (!parsed || !cJSON_GetObjectItem(parsed, "after")) {
		fprintf(stderr, "host: cJSON no longer works\n");
		return 1;
	}
	cJSON_free(text);
	cJSON_Delete(parsed);
	cJSON_Delete(mine);
	if (live != 0) {
		fprintf(stderr, "host: %ld blocks of the host's cJSON allocator are unaccounted for\n",
			live);
		return 1;
	}

	/* The host's own request. */
	curl = curl_easy_init();
	if (!curl) {
		fprintf(stderr, "host: curl_easy_init failed\n");
		return 1;
	}
	curl_easy_setopt(curl, CURLOPT_URL, argv[2]);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	code = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (code != CURLE_OK || status == 0) {
		fprintf(stderr, "host: the host's request failed: %s\n", curl_easy_strerror(code));
		return 1;
	}
	curl_global_cleanup();
	printf("host: ok\n");
	return 0;
}
