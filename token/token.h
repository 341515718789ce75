/* An access token and what comes with it. */
#ifndef CA_AUTH_TOKEN_H
#define CA_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

struct ca_token {
	char *access_token;  /* secret */
	int64_t expiration;  /* Unix seconds */
	char *api_base_url;
	char *refresh_token; /* secret, or NULL */
	char *account;       /* the user id (OAuth) or client id (M2M), or NULL */
	int64_t lifetime;    /* seconds the server granted (expires_in, or the
	                      * claims' exp - iat); 0 when unknown */
};

void ca_token_init(struct ca_token *tok);
/* Wipes and frees every field; accepts a cleared token. */
void ca_token_clear(struct ca_token *tok);
/* Moves src into dst (dst cleared first), leaving src empty. */
void ca_token_move(struct ca_token *dst, struct ca_token *src);

/*
 * A time in Unix seconds from a JSON number (a token file's expiration):
 * 0 when it is finite and within +-CA_TIME_LIMIT, so converting it and
 * subtracting times stays defined; CA_EINVAL otherwise (*out untouched).
 */
#define CA_TIME_LIMIT 1e15
int ca_time_from_double(int64_t *out, double seconds);

/*
 * The renewal margin (SPEC, Protocol: min_ttl). CA_MIN_TTL_AUTO (no
 * explicit min_ttl): CA_MIN_TTL_DEFAULT seconds or half the token's
 * lifetime, whichever is less (CA_MIN_TTL_DEFAULT when the lifetime is
 * unknown); an explicit min_ttl (>= 0) is honoured as given.
 */
#define CA_MIN_TTL_AUTO (-1)
#define CA_MIN_TTL_DEFAULT 300
int64_t ca_token_margin(const struct ca_token *tok, int min_ttl);

/* Whether the token has at least its margin (ca_token_margin) left at now. */
int ca_token_valid(const struct ca_token *tok, int64_t now, int min_ttl);

/*
 * The Python reference's time frame for the `expiration` of its files
 * (token_oauth.json, token_m2m.json, a shared cache_file): it computes
 * datetime.utcnow().timestamp(), the UTC wall-clock time read as local
 * time, so shifted by the local UTC offset. ca_time_to_reference() turns a
 * true Unix time into that frame (mktime of the UTC broken-down time),
 * ca_time_from_reference() back (timegm of the local broken-down time).
 * Per-identity records and the keyring keep true Unix time.
 */
int64_t ca_time_to_reference(int64_t t);
int64_t ca_time_from_reference(int64_t ref);

/*
 * Whether a token from a server is made of RFC 6750's b64token characters
 * only (letters, digits, -._~+/ and =), as JWTs and Auth0's opaque tokens
 * are: nothing that could break a protocol line, a header or a terminal.
 */
int ca_token_chars_valid(const char *token);

/*
 * Parses an Auth0 token response body. access_token (non-empty string)
 * and expires_in (positive number) are required; refresh_token is taken
 * when present. An Auth0 error body ({"error","error_description"})
 * becomes CA_EREFUSED with its text; anything else malformed is CA_ENET.
 * http_status is the answer's status code (for messages).
 */
int ca_token_parse_response(struct ca_token *out, const char *body, size_t len,
	long http_status, int64_t now);

/*
 * Formats an Auth0 style error body into the last error: "server refused:
 * invalid_grant (Unknown or invalid refresh token.)", with the typed
 * reason of its "error" (ca_error_reason(), CA_REASON_INVALID_GRANT);
 * CA_REASON_NONE when the body has no "error". Returns code.
 */
int ca_token_error_from_body(int code, const char *what, const char *body,
	size_t len, long http_status);

#endif
