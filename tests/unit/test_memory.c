/*
 * Secrets in memory: the wiping allocator (util/mem.c) wipes every block
 * before giving it back, and in the executable, which installs it
 * (ca_mem_install_hooks() in main, ca_http_init_executable() in the
 * network module), cJSON and libcurl allocate through it. This test plays
 * the executable. (The library installs nothing: test_json_scrub.c.)
 *
 * How this is observed without undefined behaviour: the test links with
 * -Wl,--wrap=malloc,--wrap=free (tests/CMakeLists.txt), so the calls to
 * malloc() and free() made by our own objects (util/mem.c) come to
 * __wrap_malloc/__wrap_free below. They count the calls and, on free,
 * check that the block, still allocated at that moment, is all zero.
 * cJSON and libcurl are shared libraries whose own calls to malloc are not
 * wrapped: the counts move while they alone run only when they call
 * ca_malloc/ca_free, i.e. when their allocator hooks are ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/net/http.h"
#include "token/token.h"
#include "util/error.h"
#include "util/mem.h"

void *__real_malloc(size_t size);
void __real_free(void *ptr);
void *__wrap_malloc(size_t size);
void __wrap_free(void *ptr);

#define MAX_BLOCKS 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void *ptr;
	size_t size;
} blocks[MAX_BLOCKS];
static size_t mallocs, frees, unwiped;

static void remember(void *ptr, size_t size)
{
	size_t i;

	for (i = 0; i < MAX_BLOCKS; i++) {
		if (!blocks[i].ptr) {
			blocks[i].ptr = ptr;
			blocks[i].size = size;
			return;
		}
	}
}

/* The size of a block remembered by __wrap_malloc, or 0 (and forgets it). */
static size_t forget(void *ptr)
{
	size_t i, size;

	for (i = 0; i < MAX_BLOCKS; i++) {
		if (blocks[i].ptr == ptr) {
			size = blocks[i].size;
			blocks[i].ptr = NULL;
			return size;
		}
	}
	return 0;
}

void *__wrap_malloc(size_t size)
{
	void *ptr = __real_malloc(size);

	pthread_mutex_lock(&lock);
	mallocs++;
	if (ptr)
		remember(ptr, size);
	pthread_mutex_unlock(&lock);
	return ptr;
}

void __wrap_free(void *ptr)
{
	const unsigned char *bytes = ptr;
	size_t size, i;

	if (!ptr)
		return;
	pthread_mutex_lock(&lock);
	frees++;
	size = forget(ptr);
	for (i = 0; i < size; i++) {
		if (bytes[i]) {
			unwiped++;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	__real_free(ptr);
}

/* Starts a window of observation. */
static void window_start(void)
{
	pthread_mutex_lock(&lock);
	memset(blocks, 0, sizeof(blocks));
	mallocs = frees = unwiped = 0;
	pthread_mutex_unlock(&lock);
}

static void own_allocator_wipes(void **state)
{
	char *s, *grown;

	(void)state;
	window_start();
	s = ca_strdup("client_secret=s3cr3t-value");
	assert_non_null(s);
	grown = ca_realloc(s, 4096); /* the old copy is wiped, not left behind */
	assert_non_null(grown);
	assert_string_equal("client_secret=s3cr3t-value", grown);
	ca_free(grown);
	ca_free(NULL);
	assert_int_equal(2, mallocs);
	assert_int_equal(2, frees);
	assert_int_equal(0, unwiped);
}

static void cjson_allocates_through_it(void **state)
{
	static const char body[] = "{\"access_token\":\"eyJ-secret-access\",\"expires_in\":3600,"
		"\"refresh_token\":\"v1.secret-refresh\",\"token_type\":\"Bearer\"}";
	struct ca_token tok;
	cJSON *root;
	char *printed;

	(void)state;
	/* As the executable's main() does; then the production parser. */
	ca_mem_install_hooks();
	window_start();
	ca_token_init(&tok);
	assert_int_equal(0, ca_token_parse_response(&tok, body, strlen(body), 200, 1000));
	ca_token_clear(&tok);
	assert_true(mallocs > 4);
	assert_int_equal(mallocs, frees);
	assert_int_equal(0, unwiped);

	/* cJSON alone, after that: every node and string is ours, and wiped. */
	window_start();
	root = cJSON_Parse(body);
	assert_non_null(root);
	printed = cJSON_PrintUnformatted(root);
	assert_non_null(printed);
	cJSON_free(printed);
	cJSON_Delete(root);
	assert_true(mallocs >= 9); /* the object, 4 items, their keys and strings */
	assert_int_equal(mallocs, frees);
	assert_int_equal(0, unwiped);
}

static void curl_allocates_through_it(void **state)
{
	struct http_request req = { .method = "POST", .url = "http://127.0.0.1:99999/oauth/token",
		.form_body = "client_secret=s3cr3t", .what = "token request" };
	struct http_response res;
	CURLU *u;
	CURL *h;
	char *escaped;

	(void)state;
	/*
	 * As the executable's network module does (curl_global_init_mem). The
	 * port is out of range, so the URL is refused at once: no network.
	 */
	assert_int_equal(0, ca_http_init_executable());
	window_start();
	assert_int_equal(CA_EINVAL, ca_http_perform(&res, &req));
	ca_http_response_clear(&res);
	/* libcurl's URL API, which checks each request URL, allocates through it. */
	u = curl_url();
	assert_non_null(u);
	assert_int_equal(CURLUE_OK, curl_url_set(u, CURLUPART_URL, "https://auth.carto.com/oauth/token", 0));
	curl_url_cleanup(u);
	assert_true(mallocs > 0);
	assert_int_equal(mallocs, frees);
	assert_int_equal(0, unwiped);

	/* libcurl alone, after that. */
	window_start();
	h = curl_easy_init();
	assert_non_null(h);
	assert_int_equal(CURLE_OK, curl_easy_setopt(h, CURLOPT_URL, "https://auth.carto.com/oauth/token"));
	assert_int_equal(CURLE_OK, curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS,
		"grant_type=client_credentials&client_secret=s3cr3t"));
	escaped = curl_easy_escape(h, "s3cr3t value", 0);
	assert_non_null(escaped);
	curl_free(escaped);
	curl_easy_cleanup(h);
	assert_true(mallocs > 3);
	assert_int_equal(mallocs, frees);
	assert_int_equal(0, unwiped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_allocator_wipes),
		cmocka_unit_test(cjson_allocates_through_it),
		cmocka_unit_test(curl_allocates_through_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
