/*
 * Which identity a stored token serves: HMAC-SHA256, the salted fingerprint
 * of a client secret, a JWT's claims, and how token files without identity
 * fields (the Python reference's) and with them are matched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/config.h"
#include "token/jwt.h"
#include "token/token.h"
#include "keyring/secret/secret_store.h"
#include "keyring/store.h"
#include "util/base64url.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/sha256.h"

/* An M2M identity holding the digest of secret (none when NULL). */
static const struct ca_identity *secret_id(struct ca_identity *id, const char *secret)
{
	ca_identity_init(id);
	id->mode = CA_MODE_M2M;
	if (secret)
		ca_identity_set_secret(id, secret);
	return id;
}
#define SECRET(s) secret_id(&(struct ca_identity){ 0 }, s)

/* The identity of a configuration, as the stores get it. */
static const struct ca_identity *config_id(struct ca_identity *id, const struct ca_config *cfg)
{
	ca_config_identity(id, cfg);
	return id;
}
#define ID(cfg) config_id(&(struct ca_identity){ 0 }, cfg)

static void hex(char *out, const unsigned char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than a block). */
static void hmac_sha256_vectors(void **state)
{
	unsigned char key[131], mac[SHA256_DIGEST_LEN];
	char out[2 * SHA256_DIGEST_LEN + 1];
	static const char big[] = "Test Using Larger Than Block-Size Key - Hash Key First";

	(void)state;
	memset(key, 0x0b, 20);
	ca_sha256_hmac(mac, key, 20, "Hi There", 8);
	hex(out, mac, sizeof(mac));
	assert_string_equal("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", out);
	ca_sha256_hmac(mac, "Jefe", 4, "what do ya want for nothing?", 28);
	hex(out, mac, sizeof(mac));
	assert_string_equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", out);
	memset(key, 0xaa, sizeof(key));
	ca_sha256_hmac(mac, key, sizeof(key), big, strlen(big));
	hex(out, mac, sizeof(mac));
	assert_string_equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", out);
}

static void fingerprints(void **state)
{
	struct store_fp a, b;
	char bad[STORE_FP_SALT_HEX + 1];

	(void)state;
	assert_int_equal(0, ca_store_fp_new(&a, SECRET("the-secret")));
	assert_int_equal(0, ca_store_fp_new(&b, SECRET("the-secret")));
	assert_int_equal(STORE_FP_SALT_HEX, strlen(a.salt));
	assert_int_equal(STORE_FP_HMAC_HEX, strlen(a.hmac));
	/* Salted: the same secret twice gives two fingerprints. */
	assert_string_not_equal(a.salt, b.salt);
	assert_string_not_equal(a.hmac, b.hmac);
	assert_null(strstr(a.hmac, "the-secret"));
	assert_true(ca_store_fp_matches(a.salt, a.hmac, SECRET("the-secret")));
	assert_true(ca_store_fp_matches(b.salt, b.hmac, SECRET("the-secret")));
	assert_false(ca_store_fp_matches(a.salt, a.hmac, SECRET("the-secreT")));
	assert_false(ca_store_fp_matches(a.salt, a.hmac, SECRET("the-secret ")));
	assert_false(ca_store_fp_matches(a.salt, a.hmac, SECRET("")));
	assert_false(ca_store_fp_matches(a.salt, b.hmac, SECRET("the-secret")));
	assert_false(ca_store_fp_matches(NULL, a.hmac, SECRET("the-secret")));
	assert_false(ca_store_fp_matches(a.salt, NULL, SECRET("the-secret")));
	assert_false(ca_store_fp_matches(a.salt, a.hmac, SECRET(NULL)));
	assert_false(ca_store_fp_matches("", "", SECRET("the-secret")));
	/* A salt that is not exactly 32 lower-case hex digits. */
	memcpy(bad, a.salt, sizeof(bad));
	bad[0] = 'G';
	assert_false(ca_store_fp_matches(bad, a.hmac, SECRET("the-secret")));
	assert_false(ca_store_fp_matches("00", a.hmac, SECRET("the-secret")));
	assert_int_not_equal(0, ca_store_fp_new(&a, SECRET(NULL)));
}

/* A JWT with these claims (JSON text), unsigned; ca_free it. */
static char *jwt(const char *claims)
{
	char *payload = NULL, *token;
	size_t n;

	assert_int_equal(0, ca_base64url_encode(&payload, (const unsigned char *)claims,
		strlen(claims)));
	n = strlen(payload);
	token = ca_malloc(n + 32);
	assert_non_null(token);
	snprintf(token, n + 32, "eyJhbGciOiJSUzI1NiJ9.%s.c2ln", payload);
	ca_free(payload);
	return token;
}

static void claims_of_tokens(void **state)
{
	static const char *const unreadable[] = {
		"{\"sub\":12}", "{\"azp\":[\"x\"]}", "[1]", "\"sub\"", "not json", "",
		"{\"sub\":\"a\\u0000@clients\"}",
		"{\"sub\":\"a@clients\",\"sub\":\"b@clients\"}", "{\"azp\":\"a\",\"azp\":\"b\"}",
		"{\"sub\":\"u\",\"org_id\":\"o\",\"org_id\":null}",
	};
	struct ca_jwt_claims c;
	char *t;
	size_t i;

	(void)state;
	t = jwt("{\"sub\":\"cid@clients\",\"azp\":\"cid\",\"exp\":1800000000,\"iat\":1700000000}");
	assert_int_equal(0, ca_jwt_claims_parse(&c, t));
	assert_string_equal("cid@clients", c.sub);
	assert_string_equal("cid", c.azp);
	assert_null(c.org_id);
	assert_false(c.has_org_id);
	assert_int_equal(1800000000, c.exp);
	assert_int_equal(1700000000, c.iat);
	ca_jwt_claims_clear(&c);
	ca_free(t);

	t = jwt("{\"sub\":\"auth0|u\",\"org_id\":\"org_1\"}");
	assert_int_equal(0, ca_jwt_claims_parse(&c, t));
	assert_string_equal("org_1", c.org_id);
	assert_true(c.has_org_id);
	ca_jwt_claims_clear(&c);
	ca_free(t);
	/* org_id of any type, null included, is an organization's token. */
	t = jwt("{\"sub\":\"auth0|u\",\"org_id\":null,\"exp\":\"soon\"}");
	assert_int_equal(0, ca_jwt_claims_parse(&c, t));
	assert_null(c.org_id);
	assert_true(c.has_org_id);
	assert_int_equal(0, c.exp);
	ca_jwt_claims_clear(&c);
	ca_free(t);

	for (i = 0; i < sizeof(unreadable) / sizeof(*unreadable); i++) {
		t = jwt(unreadable[i]);
		assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, t));
		assert_null(c.sub);
		assert_null(c.azp);
		ca_free(t);
	}
	assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, NULL));
	assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, "opaque-token"));
	assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, "a.b"));
	assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, "a.e30.c.d"));
	assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, ".e30.c"));
	assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, "a..c"));
	assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, "a.e3+0.c"));
	/* {} is readable and names nobody; an empty signature is allowed. */
	assert_int_equal(0, ca_jwt_claims_parse(&c, "a.e30."));
	assert_null(c.sub);
	ca_jwt_claims_clear(&c);
}

static void long_tokens_are_not_read(void **state)
{
	struct ca_jwt_claims c;
	char *t = ca_malloc(CA_JWT_MAX + 64);

	(void)state;
	assert_non_null(t);
	memset(t, 'A', CA_JWT_MAX + 63);
	t[CA_JWT_MAX + 63] = '\0';
	memcpy(t, "eyJhbGciOiJSUzI1NiJ9.e30.", 25);
	assert_int_equal(CA_EINVAL, ca_jwt_claims_parse(&c, t));
	ca_free(t);
}

static void m2m_id(struct ca_config *id, const char *client, const char *secret)
{
	ca_config_init(id);
	id->mode = CA_MODE_M2M;
	id->auth_url = ca_strdup(CA_DEFAULT_AUTH_URL);
	id->client_id = ca_strdup(client);
	id->client_secret = secret ? ca_strdup(secret) : NULL;
	id->api_base_url = ca_strdup("https://x.api.carto.com");
	id->oauth_client_id = ca_strdup(CA_DEFAULT_CLIENT_ID);
}

static void oauth_id(struct ca_config *id, const char *auth_url, const char *org)
{
	ca_config_init(id);
	id->mode = CA_MODE_OAUTH;
	id->auth_url = ca_strdup(auth_url);
	id->oauth_client_id = ca_strdup(CA_DEFAULT_CLIENT_ID);
	id->org = org ? ca_strdup(org) : NULL;
}

/* Whether a file as the Python reference writes it, with this token, serves id. */
static int reference_serves(const char *claims, const struct ca_config *id)
{
	struct ca_token tok;
	char file[4096], *t = claims ? jwt(claims) : ca_strdup("opaque-token");
	int rc;

	snprintf(file, sizeof(file), "{\"api_base_url\": \"https://x.api.carto.com\", "
		"\"access_token\": \"%s\", \"expiration\": 1800000000}", t);
	ca_free(t);
	ca_token_init(&tok);
	rc = ca_file_store_token_parse(&tok, file, strlen(file), ID(id));
	ca_token_clear(&tok);
	assert_true(rc == 0 || rc == CA_ENOTFOUND);
	return rc == 0;
}

static void reference_files_m2m(void **state)
{
	struct ca_config a, other_api;

	(void)state;
	m2m_id(&a, "client-a", "secret-a");
	assert_true(reference_serves("{\"sub\":\"client-a@clients\",\"azp\":\"client-a\"}", &a));
	assert_true(reference_serves("{\"sub\":\"client-a@clients\"}", &a));
	assert_true(reference_serves("{\"azp\":\"client-a\"}", &a));
	assert_false(reference_serves("{\"sub\":\"client-b@clients\",\"azp\":\"client-b\"}", &a));
	assert_false(reference_serves("{\"sub\":\"client-a@clients\",\"azp\":\"client-b\"}", &a));
	assert_false(reference_serves("{\"sub\":\"client-b@clients\",\"azp\":\"client-a\"}", &a));
	assert_false(reference_serves("{\"sub\":\"auth0|user\",\"azp\":\"client-a\"}", &a));
	assert_false(reference_serves("{\"sub\":\"client-a\"}", &a));
	assert_false(reference_serves("{\"sub\":\"client-a@clientsX\"}", &a));
	assert_false(reference_serves("{\"sub\":\"client-@clients\"}", &a));
	assert_false(reference_serves("{\"sub\":\"xclient-a@clients\"}", &a));
	assert_false(reference_serves("{\"azp\":\"client-a \"}", &a));
	assert_false(reference_serves("{\"exp\":1800000000}", &a));
	assert_false(reference_serves(NULL, &a));
	m2m_id(&other_api, "client-a", "secret-a");
	ca_free(other_api.api_base_url);
	other_api.api_base_url = ca_strdup("https://y.api.carto.com");
	assert_false(reference_serves("{\"sub\":\"client-a@clients\"}", &other_api));
	ca_config_clear(&a);
	ca_config_clear(&other_api);
}

static void reference_files_oauth(void **state)
{
	struct ca_config def, org, other_server, other_client;

	(void)state;
	oauth_id(&def, CA_DEFAULT_AUTH_URL, NULL);
	oauth_id(&org, CA_DEFAULT_AUTH_URL, "acme");
	oauth_id(&other_server, "https://auth.example.com", NULL);
	oauth_id(&other_client, CA_DEFAULT_AUTH_URL, NULL);
	ca_free(other_client.oauth_client_id);
	other_client.oauth_client_id = ca_strdup("another-public-client");

	assert_true(reference_serves("{\"sub\":\"auth0|u\",\"azp\":\"" CA_DEFAULT_CLIENT_ID "\"}", &def));
	assert_true(reference_serves("{\"sub\":\"auth0|u\"}", &def));
	assert_false(reference_serves("{\"sub\":\"auth0|u\",\"org_id\":\"org_1\"}", &def));
	assert_false(reference_serves("{\"sub\":\"auth0|u\",\"org_id\":null}", &def));
	assert_false(reference_serves("{\"sub\":\"auth0|u\",\"azp\":\"someone-else\"}", &def));
	assert_false(reference_serves(NULL, &def));
	assert_false(reference_serves("{\"sub\":\"auth0|u\"}", &org));
	assert_false(reference_serves("{\"sub\":\"auth0|u\",\"org_id\":\"acme\"}", &org));
	assert_false(reference_serves("{\"sub\":\"auth0|u\"}", &other_server));
	assert_false(reference_serves("{\"sub\":\"auth0|u\",\"azp\":\"" CA_DEFAULT_CLIENT_ID "\"}",
		&other_client));
	assert_false(reference_serves("{\"sub\":\"auth0|u\"}", &other_client));
	ca_config_clear(&def);
	ca_config_clear(&org);
	ca_config_clear(&other_server);
	ca_config_clear(&other_client);
}

static void our_files_need_the_secret(void **state)
{
	struct ca_config a, wrong, none;
	struct ca_token tok, back;
	char *json;

	(void)state;
	m2m_id(&a, "client-a", "secret-a");
	m2m_id(&wrong, "client-a", "secret-b");
	m2m_id(&none, "client-a", NULL);
	ca_token_init(&tok);
	tok.access_token = ca_strdup("opaque-but-ours");
	tok.api_base_url = ca_strdup("https://x.api.carto.com");
	tok.expiration = 1800000000;
	json = ca_file_store_token_json(ID(&a), &tok);
	assert_non_null(json);
	assert_null(strstr(json, "secret-a"));
	assert_non_null(strstr(json, "\"secret_hmac\""));
	ca_token_init(&back);
	assert_int_equal(0, ca_file_store_token_parse(&back, json, strlen(json), ID(&a)));
	ca_token_clear(&back);
	assert_int_equal(CA_ENOTFOUND, ca_file_store_token_parse(&back, json, strlen(json), ID(&wrong)));
	assert_int_equal(CA_ENOTFOUND, ca_file_store_token_parse(&back, json, strlen(json), ID(&none)));
	/* Without an identity (status, listing) it still reads. */
	assert_int_equal(0, ca_file_store_token_parse(&back, json, strlen(json), NULL));
	ca_token_clear(&back);
	ca_free(json);
	ca_token_clear(&tok);
	ca_config_clear(&a);
	ca_config_clear(&wrong);
	ca_config_clear(&none);
}

static void keyring_items_need_the_secret(void **state)
{
	struct ca_config a, wrong;
	struct ca_token back;
	struct store_fp fp;
	char secret[512];

	(void)state;
	m2m_id(&a, "client-a", "secret-a");
	m2m_id(&wrong, "client-a", "secret-b");
	assert_int_equal(0, ca_store_fp_new(&fp, SECRET("secret-a")));
	snprintf(secret, sizeof(secret), "{\"access_token\":\"t\",\"expiration\":1800000000,"
		"\"secret_salt\":\"%s\",\"secret_hmac\":\"%s\"}", fp.salt, fp.hmac);
	ca_token_init(&back);
	assert_int_equal(0, ca_secret_store_token_parse(&back, secret, strlen(secret), NULL, ID(&a)));
	assert_string_equal("t", back.access_token);
	ca_token_clear(&back);
	assert_int_equal(CA_ENOTFOUND,
		ca_secret_store_token_parse(&back, secret, strlen(secret), NULL, ID(&wrong)));
	assert_null(back.access_token);
	assert_int_equal(0, ca_secret_store_token_parse(&back, secret, strlen(secret), NULL, NULL));
	ca_token_clear(&back);
	/* An item stored without a fingerprint (an older helper): renewed. */
	snprintf(secret, sizeof(secret), "{\"access_token\":\"t\",\"expiration\":1}");
	assert_int_equal(CA_ENOTFOUND,
		ca_secret_store_token_parse(&back, secret, strlen(secret), NULL, ID(&a)));
	ca_config_clear(&a);
	ca_config_clear(&wrong);
}

/*
 * The stores get an identity, never the configuration: the M2M secret
 * only as its SHA-256 digest. The identity's tag names token files and
 * locks, so it must not change from one version to the next.
 */
static void identity_from_config(void **state)
{
	struct ca_config m2m, oauth;
	struct ca_identity id;
	unsigned char digest[SHA256_DIGEST_LEN];
	char tag[40];

	(void)state;
	m2m_id(&m2m, "client-a", "secret-a");
	ca_config_identity(&id, &m2m);
	assert_int_equal(CA_MODE_M2M, id.mode);
	assert_string_equal("client-a", id.client_id);
	assert_string_equal("https://x.api.carto.com", id.api_base_url);
	assert_true(id.has_secret);
	ca_sha256(digest, "secret-a", strlen("secret-a"));
	assert_memory_equal(digest, id.secret_digest, sizeof(digest));
	assert_null(memmem(&id, sizeof(id), "secret-a", strlen("secret-a")));
	ca_identity_tag(&id, tag);
	assert_string_equal("m2m-0b2c24f525ea754a", tag);
	ca_config_identity_tag(&m2m, tag);
	assert_string_equal("m2m-0b2c24f525ea754a", tag);
	ca_identity_clear(&id);
	assert_false(id.has_secret);
	assert_memory_not_equal(digest, id.secret_digest, sizeof(digest));

	oauth_id(&oauth, CA_DEFAULT_AUTH_URL, NULL);
	ca_config_identity(&id, &oauth);
	assert_int_equal(CA_MODE_OAUTH, id.mode);
	assert_string_equal(CA_DEFAULT_CLIENT_ID, id.client_id);
	assert_false(id.has_secret);
	ca_identity_tag(&id, tag);
	assert_string_equal("oauth-1f4e758eef5b0855", tag);
	ca_identity_clear(&id);
	ca_config_clear(&m2m);
	ca_config_clear(&oauth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_sha256_vectors),
		cmocka_unit_test(fingerprints),
		cmocka_unit_test(identity_from_config),
		cmocka_unit_test(claims_of_tokens),
		cmocka_unit_test(long_tokens_are_not_read),
		cmocka_unit_test(reference_files_m2m),
		cmocka_unit_test(reference_files_oauth),
		cmocka_unit_test(our_files_need_the_secret),
		cmocka_unit_test(keyring_items_need_the_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
