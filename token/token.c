#include "token/token.h"

#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/text.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <time.h>

void ca_token_init(struct ca_token *tok)
{
	memset(tok, 0, sizeof(*tok));
}

void ca_token_clear(struct ca_token *tok)
{
	if (!tok)
		return;
	ca_free(tok->access_token);
	ca_free(tok->api_base_url);
	ca_free(tok->refresh_token);
	ca_free(tok->account);
	ca_token_init(tok);
}

void ca_token_move(struct ca_token *dst, struct ca_token *src)
{
	ca_token_clear(dst);
	*dst = *src;
	ca_token_init(src);
}

int64_t ca_token_margin(const struct ca_token *tok, int min_ttl)
{
	if (min_ttl >= 0)
		return min_ttl;
	if (tok->lifetime > 0 && tok->lifetime / 2 < CA_MIN_TTL_DEFAULT)
		return tok->lifetime / 2;
	return CA_MIN_TTL_DEFAULT;
}

int ca_token_valid(const struct ca_token *tok, int64_t now, int min_ttl)
{
	return tok->access_token && tok->access_token[0] &&
		tok->expiration - now >= ca_token_margin(tok, min_ttl) && tok->expiration > now;
}

/*
 * The local UTC offset in force at t (east positive). localtime_r, not
 * mktime: glibc's mktime re-reads the time zone on every call, which a
 * host's other threads may be doing at the same moment.
 */
static int gmt_offset(int64_t t, long *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		return -1;
	*out = tm.tm_gmtoff;
	return 0;
}

int64_t ca_time_to_reference(int64_t t)
{
	long off, at_ref;

	/* The reference's value r is the instant whose local wall time is t's
	 * UTC wall time: r = t - offset(r). The offset at t is right except
	 * across a clock change, where the one at the first guess is. */
	if (gmt_offset(t, &off))
		return t;
	if (!gmt_offset(t - off, &at_ref) && at_ref != off)
		off = at_ref;
	return t - off;
}

int64_t ca_time_from_reference(int64_t ref)
{
	long off;

	return gmt_offset(ref, &off) ? ref : ref + off;
}

int ca_time_from_double(int64_t *out, double seconds)
{
	if (!isfinite(seconds) || seconds > CA_TIME_LIMIT || seconds < -CA_TIME_LIMIT)
		return CA_EINVAL;
	*out = (int64_t)seconds;
	return 0;
}

int ca_token_error_from_body(int code, const char *what, const char *body,
	size_t len, long http_status)
{
	char error[128], description[256];
	cJSON *root;

	root = body ? cJSON_ParseWithLength(body, len) : NULL;
	if (root && ca_json_str(root, "error")) {
		enum ca_error_reason reason = ca_error_reason_parse(ca_json_str(root, "error"));

		/* A server's text, escaped by util/text.h's one rule: one line. */
		ca_text_escape(error, sizeof(error), ca_json_str(root, "error"));
		ca_text_escape(description, sizeof(description), ca_json_str(root, "error_description"));
		ca_json_delete(root);
		if (description[0])
			ca_error(code, "%s refused: %s (%s)", what, error, description);
		else
			ca_error(code, "%s refused: %s", what, error);
		return ca_error_set_reason(reason);
	}
	ca_json_delete(root);
	return ca_error(code, "%s failed: the server answered HTTP %ld", what, http_status);
}

static int dup_optional(char **dst, const cJSON *root, const char *name)
{
	const char *v = ca_json_str(root, name);

	if (!v || !*v)
		return 0;
	*dst = ca_strdup(v);
	return *dst ? 0 : ca_error(CA_ERR, "out of memory");
}

int ca_token_chars_valid(const char *token)
{
	static const char extra[] = "-._~+/=";
	const char *p;

	if (!token || !*token)
		return 0;
	for (p = token; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return 0;
	return 1;
}

int ca_token_parse_response(struct ca_token *out, const char *body, size_t len,
	long http_status, int64_t now)
{
	struct ca_token tok;
	const cJSON *expires;
	const char *access;
	cJSON *root = NULL;
	int error = 0;

	ca_token_init(&tok);
	if (http_status >= 400)
		return ca_token_error_from_body(CA_EREFUSED, "token request", body, len, http_status);
	if (http_status != 200)
		return ca_error(CA_ENET, "token request failed: unexpected HTTP %ld", http_status);

	root = cJSON_ParseWithLength(body, len);
	if (!root || !cJSON_IsObject(root)) {
		error = ca_error(CA_ENET, "token request failed: the answer is not JSON");
		goto out;
	}
	if (ca_json_str(root, "error")) {
		error = ca_token_error_from_body(CA_EREFUSED, "token request", body, len, http_status);
		goto out;
	}
	access = ca_json_str(root, "access_token");
	expires = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
	if (!access || !ca_token_chars_valid(access)) {
		error = ca_error(CA_ENET, "token request failed: the answer has no valid access_token");
		goto out;
	}
	if (!cJSON_IsNumber(expires) || !isfinite(expires->valuedouble) ||
	    expires->valuedouble <= 0 || expires->valuedouble > 10.0 * 365 * 86400) {
		error = ca_error(CA_ENET, "token request failed: the answer has no valid expires_in");
		goto out;
	}
	tok.access_token = ca_strdup(access);
	tok.expiration = now + (int64_t)expires->valuedouble;
	tok.lifetime = (int64_t)expires->valuedouble;
	if (!tok.access_token || (error = dup_optional(&tok.refresh_token, root, "refresh_token"))) {
		error = error ? error : ca_error(CA_ERR, "out of memory");
		goto out;
	}
	if (tok.refresh_token && !ca_token_chars_valid(tok.refresh_token)) {
		ca_warn("the server's refresh token is not a valid token; it is not kept");
		ca_clear_ptr(&tok.refresh_token);
	}
	ca_token_move(out, &tok);
out:
	ca_token_clear(&tok);
	ca_json_delete(root);
	return error;
}
