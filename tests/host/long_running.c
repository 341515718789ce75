/*
 * A long-running host program, as an IDE plugin or a service is: it uses
 * cJSON (with its own allocator hooks) and libcurl itself, initialised
 * before the library, and runs THREADS threads for SECONDS seconds, each
 * with its own handle, asking for a token again and again while the
 * stand-in hands out tokens that live a few seconds: renewals happen all
 * the time, well past the first minute of the process (the library's
 * network budget is per call). Between calls each thread builds, prints
 * and frees JSON of its own, and now and then makes its own request.
 *
 * usage: long_running SECONDS MIN_TTL URL CREDENTIALS_FILE...
 *   thread i uses CREDENTIALS_FILE number i % count; MIN_TTL is passed as
 *   opts.min_ttl; URL is fetched by the host's own requests.
 * Every call must succeed. Prints "calls=N renewals=R host_requests=H"
 * and exits 0, or says what failed and exits 1.
 */
#include <carto-auth/carto_auth.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 8
#define MAGIC 0x686f7374u

static atomic_long live_blocks, calls, renewals, host_requests, failures;
static int seconds, min_ttl, ncreds;
static const char *url;
static char **creds;

static void *host_malloc(size_t size)
{
	unsigned *block = malloc(size + 16);

	if (!block)
		return NULL;
	block[0] = MAGIC;
	atomic_fetch_add(&live_blocks, 1);
	return (char *)block + 16;
}

static void host_free(void *ptr)
{
	unsigned *block;

	if (!ptr)
		return;
	block = (unsigned *)((char *)ptr - 16);
	if (block[0] != MAGIC) {
		fprintf(stderr, "long_running: cJSON freed a block the host did not give\n");
		abort();
	}
	block[0] = 0;
	atomic_fetch_sub(&live_blocks, 1);
	free(block);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(long id, const char *what, const char *why)
{
	fprintf(stderr, "long_running: thread %ld: %s: %s\n", id, what, why);
	atomic_fetch_add(&failures, 1);
}

/* The host's own work between two calls: JSON, and now and then a request. */
static int host_work(long id, long round)
{
	cJSON *obj = cJSON_CreateObject(), *back;
	char *text;
	int ok;

	cJSON_AddNumberToObject(obj, "thread", (double)id);
	cJSON_AddNumberToObject(obj, "round", (double)round);
	cJSON_AddStringToObject(obj, "what", "the host's own JSON");
	text = cJSON_PrintUnformatted(obj);
	back = text ? cJSON_Parse(text) : NULL;
	ok = back && cJSON_GetObjectItem(back, "round") &&
		cJSON_GetObjectItem(back, "round")->valuedouble == (double)round;
	cJSON_free(text);
	cJSON_Delete(back);
	cJSON_Delete(obj);
	if (!ok) {
		fail(id, "host JSON", "cJSON no longer works");
		return -1;
	}
	if (round % 50 == 0) {
		CURL *curl = curl_easy_init();
		CURLcode code;

		if (!curl) {
			fail(id, "host request", "curl_easy_init failed");
			return -1;
		}
		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
		code = curl_easy_perform(curl);
		curl_easy_cleanup(curl);
		if (code != CURLE_OK) {
			fail(id, "host request", curl_easy_strerror(code));
			return -1;
		}
		atomic_fetch_add(&host_requests, 1);
	}
	return 0;
}

static void *run(void *arg)
{
	long id = (long)(intptr_t)arg, round = 0;
	struct carto_auth_options opts;
	struct carto_auth *auth = NULL;
	struct timespec pause = { 0, 20 * 1000000L };
	int64_t expiration, last = 0;
	const char *token;
	double end = now_s() + seconds;

	memset(&opts, 0, sizeof(opts));
	opts.min_ttl = min_ttl;
	if (carto_auth_from_m2m(&auth, creds[id % ncreds], &opts)) {
		fail(id, "carto_auth_from_m2m", carto_auth_last_error());
		return NULL;
	}
	while (now_s() < end) {
		if (carto_auth_access_token(auth, &token, &expiration)) {
			fail(id, "carto_auth_access_token", carto_auth_last_error());
			break;
		}
		atomic_fetch_add(&calls, 1);
		if (strncmp(token, "eyJ", 3) != 0) {
			fail(id, "carto_auth_access_token", "not a token");
			break;
		}
		if (expiration != last) {
			if (last)
				atomic_fetch_add(&renewals, 1);
			last = expiration;
		}
		if (host_work(id, ++round))
			break;
		nanosleep(&pause, NULL);
	}
	carto_auth_free(auth);
	return NULL;
}

int main(int argc, char **argv)
{
	cJSON_Hooks hooks = { host_malloc, host_free };
	pthread_t threads[THREADS];
	long i;

	if (argc < 5) {
		fprintf(stderr, "usage: long_running SECONDS MIN_TTL URL CREDENTIALS_FILE...\n");
		return 2;
	}
	seconds = atoi(argv[1]);
	min_ttl = atoi(argv[2]);
	url = argv[3];
	creds = argv + 4;
	ncreds = argc - 4;

	/* The host's process-wide state first. */
	cJSON_InitHooks(&hooks);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "long_running: curl_global_init failed\n");
		return 1;
	}
	for (i = 0; i < THREADS; i++) {
		if (pthread_create(&threads[i], NULL, run, (void *)(intptr_t)i)) {
			fprintf(stderr, "long_running: cannot start a thread\n");
			return 1;
		}
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	curl_global_cleanup();
	printf("calls=%ld renewals=%ld host_requests=%ld\n", atomic_load(&calls),
		atomic_load(&renewals), atomic_load(&host_requests));
	if (atomic_load(&live_blocks) != 0) {
		fprintf(stderr, "long_running: %ld blocks of the host's cJSON allocator are unaccounted for\n",
			atomic_load(&live_blocks));
		return 1;
	}
	return atomic_load(&failures) ? 1 : 0;
}
