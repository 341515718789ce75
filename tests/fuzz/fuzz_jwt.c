/*
 * ca_jwt_claims_parse: the claims of an access token, read to match a token
 * file without identity fields (the Python reference's) to its identity.
 * Input starting with 'J' is a payload: the rest is base64url-encoded into
 * a JWT, so the fuzzer explores the JSON (with json.dict); any other input
 * is a whole token. The token is then put in a reference-style file and
 * matched against an M2M and an OAuth identity: a match must agree with
 * the claims (sub "<client>@clients" or azp, never naming another client;
 * for OAuth no org_id).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "token/identity.h"
#include "token/jwt.h"
#include "token/token.h"
#include "keyring/store.h"
#include "util/base64url.h"
#include "util/mem.h"

#define CLIENT "fuzz-client"
#define API "https://gcp-us-east1.api.carto.com"

static char *make_token(const uint8_t *data, size_t size)
{
	char *payload = NULL, *token;
	size_t n;

	if (size && data[0] == 'J') {
		if (ca_base64url_encode(&payload, data + 1, size - 1))
			return NULL;
		n = strlen(payload);
		token = malloc(n + 32);
		if (token) {
			memcpy(token, "eyJhbGciOiJSUzI1NiJ9.", 21);
			memcpy(token + 21, payload, n);
			memcpy(token + 21 + n, ".c2ln", 6);
		}
		ca_free(payload);
		return token;
	}
	token = malloc(size + 1);
	if (token) {
		memcpy(token, data, size);
		token[size] = '\0';
	}
	return token;
}

static void check_claims(const char *token)
{
	struct ca_jwt_claims c;

	if (ca_jwt_claims_parse(&c, token)) {
		if (c.sub || c.azp || c.org_id || c.has_org_id || c.exp || c.iat)
			abort(); /* a failure leaves nothing behind */
		return;
	}
	if (c.org_id && !c.has_org_id)
		abort();
	if (c.exp > CA_TIME_LIMIT || c.exp < -CA_TIME_LIMIT)
		abort();
	ca_jwt_claims_clear(&c);
}

/* Whether the claims name CLIENT, as the M2M rule says. */
static int names_client(const char *token)
{
	struct ca_jwt_claims c;
	int yes;

	if (ca_jwt_claims_parse(&c, token))
		return 0;
	yes = (c.sub || c.azp) && (!c.sub || !strcmp(c.sub, CLIENT "@clients")) &&
		(!c.azp || !strcmp(c.azp, CLIENT));
	ca_jwt_claims_clear(&c);
	return yes;
}

static int has_org(const char *token)
{
	struct ca_jwt_claims c;
	int yes;

	if (ca_jwt_claims_parse(&c, token))
		return 1; /* unreadable: never shared */
	yes = c.has_org_id;
	ca_jwt_claims_clear(&c);
	return yes;
}

static int matches(const char *file, const struct ca_identity *id)
{
	struct ca_token tok;
	int rc;

	ca_token_init(&tok);
	rc = ca_file_store_token_parse(&tok, file, strlen(file), id);
	ca_token_clear(&tok);
	return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_identity id;
	cJSON *root;
	char *token, *file;

	if (size > CA_JWT_MAX + 1)
		return 0;
	token = make_token(data, size);
	if (!token)
		return 0;
	check_claims(token);

	/* The token in a file as the Python reference writes it. */
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "api_base_url", API);
	cJSON_AddStringToObject(root, "access_token", token);
	cJSON_AddNumberToObject(root, "expiration", 1800000000);
	file = ca_json_print(root, 0);
	ca_json_delete(root);
	if (file && *token && !strpbrk(token, "\r\n")) {
		ca_identity_init(&id);
		id.mode = CA_MODE_M2M;
		id.auth_url = CA_DEFAULT_AUTH_URL;
		id.client_id = CLIENT;
		ca_identity_set_secret(&id, "fuzz-secret");
		id.api_base_url = API;
		if (matches(file, &id) != names_client(token))
			abort();
		ca_identity_clear(&id);

		ca_identity_init(&id);
		id.mode = CA_MODE_OAUTH;
		id.auth_url = CA_DEFAULT_AUTH_URL;
		id.client_id = CA_DEFAULT_CLIENT_ID;
		if (matches(file, &id) && has_org(token))
			abort();
		id.org = "acme";
		if (matches(file, &id))
			abort(); /* an organization never gets a file without identity */
		ca_identity_clear(&id);
	}
	ca_free(file);
	free(token);
	return 0;
}
