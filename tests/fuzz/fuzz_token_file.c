/*
 * file_store_token_parse: a token file in the store (written by us, by the
 * Python reference, or damaged). Parsed without an identity, then against
 * an M2M and an OAuth identity; a token that parses is written back with
 * file_store_token_json and must parse again to the same token. The same
 * bytes are also read as a keyring item's secret (secret_store_token_parse).
 * The M2M identity has a client secret, so a written-back token carries
 * its salted fingerprint and must match it again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token/identity.h"
#include "token/token.h"
#include "keyring/secret/secret_store.h"
#include "keyring/store.h"
#include "util/mem.h"

static void identity_m2m(struct ca_identity *id)
{
	ca_identity_init(id);
	id->mode = CA_MODE_M2M;
	id->auth_url = CA_DEFAULT_AUTH_URL;
	id->client_id = "fuzz-client";
	ca_identity_set_secret(id, "fuzz-secret");
	id->api_base_url = "https://gcp-us-east1.api.carto.com";
}

static void identity_oauth(struct ca_identity *id, int with_org)
{
	ca_identity_init(id);
	id->mode = CA_MODE_OAUTH;
	id->auth_url = CA_DEFAULT_AUTH_URL;
	id->client_id = CA_DEFAULT_CLIENT_ID;
	if (with_org)
		id->org = "acme";
}

static void check_roundtrip(const struct ca_token *tok)
{
	struct ca_identity id;
	struct ca_token again;
	char *json;

	identity_m2m(&id);
	id.api_base_url = tok->api_base_url;
	json = ca_file_store_token_json(&id, tok);
	if (json) {
		ca_token_init(&again);
		if (ca_file_store_token_parse(&again, json, strlen(json), &id) != 0)
			abort();
		if (strcmp(again.access_token, tok->access_token) ||
		    strcmp(again.api_base_url, tok->api_base_url) ||
		    again.expiration != tok->expiration)
			abort();
		ca_token_clear(&again);
		ca_free(json);
	}
	ca_identity_clear(&id);
}

/* The keyring's copy: the JSON secret of an item, with and without attributes. */
static void check_keyring(const char *json, size_t size, const struct ca_identity *id)
{
	struct ca_token tok;
	GHashTable *attrs;

	ca_token_init(&tok);
	if (ca_secret_store_token_parse(&tok, json, size, NULL, NULL) == 0) {
		if (!tok.access_token || strpbrk(tok.access_token, "\r\n"))
			abort();
		(void)ca_token_valid(&tok, 1700000000, 300);
	}
	ca_token_clear(&tok);
	attrs = ca_secret_store_token_identity(id);
	if (attrs) {
		/* With id: only a token stored for id's client secret. */
		(void)ca_secret_store_token_parse(&tok, json, size, attrs, id);
		ca_token_clear(&tok);
		g_hash_table_unref(attrs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	struct ca_identity id;
	struct ca_token tok;
	int rc, with;

	ca_token_init(&tok);
	rc = ca_file_store_token_parse(&tok, json, size, NULL);
	if (rc == 0) {
		if (!tok.access_token || !tok.access_token[0] || !tok.api_base_url ||
		    strpbrk(tok.access_token, "\r\n"))
			abort();
		(void)ca_token_valid(&tok, 1700000000, 300);
		(void)ca_token_valid(&tok, INT64_MAX / 2, 0);
		check_roundtrip(&tok);
	} else if (tok.access_token) {
		abort();
	}
	ca_token_clear(&tok);

	identity_m2m(&id);
	(void)ca_file_store_token_parse(&tok, json, size, &id);
	ca_token_clear(&tok);
	check_keyring(json, size, &id);
	ca_identity_clear(&id);

	for (with = 0; with < 2; with++) {
		identity_oauth(&id, with);
		(void)ca_file_store_token_parse(&tok, json, size, &id);
		ca_token_clear(&tok);
		ca_identity_clear(&id);
	}
	return 0;
}
