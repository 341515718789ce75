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

/* Whether the token has at least min_ttl seconds left at now. */
int ca_token_valid(const struct ca_token *tok, int64_t now, int min_ttl);

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
