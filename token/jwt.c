#include "token/jwt.h"

#include "token/token.h"
#include "util/base64url.h"
#include "util/error.h"
#include "util/mem.h"

#include <cjson/cJSON.h>
#include <string.h>

void ca_jwt_claims_clear(struct ca_jwt_claims *claims)
{
	if (!claims)
		return;
	ca_free(claims->sub);
	ca_free(claims->azp);
	ca_free(claims->org_id);
	memset(claims, 0, sizeof(*claims));
}

/*
 * A string claim: 0 with *out NULL when absent, a copy when a string,
 * CA_EINVAL for another type (or required and absent).
 */
static int string_claim(char **out, const cJSON *root, const char *name, int required)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);

	*out = NULL;
	if (!item)
		return 0;
	if (!cJSON_IsString(item))
		return required ? CA_EINVAL : 0;
	*out = ca_strdup(item->valuestring);
	return *out ? 0 : ca_error(CA_ERR, "out of memory");
}

static int64_t time_claim(const cJSON *root, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
	int64_t t = 0;

	if (cJSON_IsNumber(item) && ca_time_from_double(&t, item->valuedouble))
		t = 0;
	return t;
}

/*
 * JSON's \u0000 would end a claim early in cJSON's C strings ("a\u0000b"
 * read as "a"): a payload that spells it is refused, as is a raw NUL.
 */
static int has_nul(const unsigned char *payload, size_t len)
{
	size_t i;

	if (memchr(payload, '\0', len))
		return 1;
	for (i = 0; i + 6 <= len; i++)
		if (payload[i] == '\\' && (payload[i + 1] == 'u' || payload[i + 1] == 'U') &&
		    !memcmp(payload + i + 2, "0000", 4))
			return 1;
	return 0;
}

/*
 * Whether a claim that decides an identity appears twice: JSON parsers
 * disagree on which one counts (cJSON takes the first, Python the last).
 */
static int has_duplicates(const cJSON *root)
{
	static const char *const names[] = { "sub", "azp", "org_id" };
	const cJSON *item;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		int seen = 0;

		cJSON_ArrayForEach(item, root)
			if (item->string && !strcmp(item->string, names[i]) && ++seen > 1)
				return 1;
	}
	return 0;
}

int ca_jwt_claims_parse(struct ca_jwt_claims *out, const char *jwt)
{
	struct ca_jwt_claims c;
	const char *dot1, *dot2;
	unsigned char *payload = NULL;
	size_t len = 0, total;
	cJSON *root = NULL;
	int error = CA_EINVAL;

	memset(&c, 0, sizeof(c));
	memset(out, 0, sizeof(*out));
	if (!jwt)
		return CA_EINVAL;
	total = strnlen(jwt, CA_JWT_MAX + 1);
	if (total > CA_JWT_MAX)
		return CA_EINVAL;
	dot1 = memchr(jwt, '.', total);
	dot2 = dot1 ? memchr(dot1 + 1, '.', total - (size_t)(dot1 + 1 - jwt)) : NULL;
	if (!dot1 || !dot2 || dot1 == jwt || dot2 == dot1 + 1 ||
	    memchr(dot2 + 1, '.', total - (size_t)(dot2 + 1 - jwt)))
		return CA_EINVAL;
	if (ca_base64url_decode(&payload, &len, dot1 + 1, (size_t)(dot2 - dot1 - 1))) {
		ca_error_clear();
		return CA_EINVAL;
	}
	if (!len || has_nul(payload, len))
		goto out;
	root = cJSON_ParseWithLength((const char *)payload, len);
	if (!cJSON_IsObject(root) || has_duplicates(root))
		goto out;
	if ((error = string_claim(&c.sub, root, "sub", 1)) ||
	    (error = string_claim(&c.azp, root, "azp", 1)) ||
	    (error = string_claim(&c.org_id, root, "org_id", 0)))
		goto out;
	c.has_org_id = cJSON_GetObjectItemCaseSensitive(root, "org_id") != NULL;
	c.exp = time_claim(root, "exp");
	c.iat = time_claim(root, "iat");
	*out = c;
	memset(&c, 0, sizeof(c));
	error = 0;
out:
	ca_jwt_claims_clear(&c);
	ca_json_delete(root);
	ca_free(payload);
	return error;
}
