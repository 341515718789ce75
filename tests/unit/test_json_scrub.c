/*
 * The library's secrets in cJSON, with the host's allocator in place:
 * libcarto-auth never installs cJSON hooks (the host owns them), so it
 * wipes what it hands back to cJSON itself (util/mem.h: ca_json_delete,
 * ca_json_print).
 *
 * This test is the host: it installs cJSON hooks of its own that, on each
 * free, look for the secrets in the block. The production parsers and
 * printers then run; no block may go back to the host with a secret in it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "token/token.h"
#include "util/mem.h"

#define HEADER 16

static const char *const secrets[] = { "eyJ-secret-access", "v1.secret-refresh", "s3cr3t-key" };
static long host_blocks, host_frees, dirty_frees;

static void *host_malloc(size_t size)
{
	char *block = malloc(size + HEADER);

	if (!block)
		return NULL;
	memcpy(block, &size, sizeof(size));
	host_blocks++;
	return block + HEADER;
}

static void host_free(void *ptr)
{
	char *block;
	size_t size, i, j;

	if (!ptr)
		return;
	block = (char *)ptr - HEADER;
	memcpy(&size, block, sizeof(size));
	for (i = 0; i < sizeof(secrets) / sizeof(*secrets); i++) {
		size_t n = strlen(secrets[i]);

		for (j = 0; j + n <= size; j++) {
			if (!memcmp((char *)ptr + j, secrets[i], n)) {
				dirty_frees++;
				break;
			}
		}
	}
	host_frees++;
	free(block);
}

static int setup(void **state)
{
	cJSON_Hooks hooks = { host_malloc, host_free };

	(void)state;
	cJSON_InitHooks(&hooks);
	host_blocks = host_frees = dirty_frees = 0;
	return 0;
}

static void parsed_tokens_are_scrubbed(void **state)
{
	static const char body[] = "{\"access_token\":\"eyJ-secret-access\",\"expires_in\":3600,"
		"\"refresh_token\":\"v1.secret-refresh\",\"token_type\":\"Bearer\","
		"\"s3cr3t-key\":\"a key is a string too\"}";
	struct ca_token tok;

	(void)state;
	ca_token_init(&tok);
	assert_int_equal(0, ca_token_parse_response(&tok, body, strlen(body), 200, 1000));
	assert_string_equal("eyJ-secret-access", tok.access_token);
	ca_token_clear(&tok);
	/* The host's allocator did the work: the library installed nothing. */
	assert_true(host_blocks > 5);
	assert_int_equal(host_blocks, host_frees);
	assert_int_equal(0, dirty_frees);
}

static void trees_and_printed_text_are_scrubbed(void **state)
{
	cJSON *root, *list, *item;
	char *text;

	(void)state;
	root = cJSON_CreateObject();
	list = cJSON_CreateArray();
	item = cJSON_CreateObject();
	assert_non_null(root);
	cJSON_AddStringToObject(item, "password", "eyJ-secret-access");
	cJSON_AddStringToObject(item, "s3cr3t-key", "x");
	cJSON_AddItemToArray(list, item);
	/* A constant key is not ours to wipe; a reference's value is another tree's. */
	cJSON_AddItemToObjectCS(root, "refresh", cJSON_CreateString("v1.secret-refresh"));
	cJSON_AddItemReferenceToObject(root, "list", list);

	text = ca_json_print(root, 1);
	assert_non_null(text);
	assert_non_null(strstr(text, "v1.secret-refresh"));
	assert_non_null(strstr(text, "eyJ-secret-access"));
	ca_free(text);
	text = ca_json_print(root, 0);
	assert_non_null(text);
	ca_free(text);

	ca_json_delete(root);
	/* The referenced list is intact after its referrer is gone. */
	assert_string_equal("eyJ-secret-access",
		cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "password")->valuestring);
	ca_json_delete(list);
	ca_json_delete(NULL);
	assert_int_equal(host_blocks, host_frees);
	assert_int_equal(0, dirty_frees);
}

static void a_plain_delete_would_leave_them(void **state)
{
	cJSON *root = cJSON_Parse("{\"access_token\":\"eyJ-secret-access\"}");

	(void)state;
	/* The check above can fail: cJSON alone frees the secret as it is. */
	assert_non_null(root);
	cJSON_Delete(root);
	assert_true(dirty_frees > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(parsed_tokens_are_scrubbed, setup),
		cmocka_unit_test_setup(trees_and_printed_text_are_scrubbed, setup),
		cmocka_unit_test_setup(a_plain_delete_would_leave_them, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
