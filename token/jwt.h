/*
 * The claims of a JWT access token, decoded without checking its
 * signature. They only tell which identity a stored token was issued to
 * (a token file the Python reference wrote carries nothing else); whether
 * a token is good is for the server to say.
 */
#ifndef CA_AUTH_JWT_H
#define CA_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

/* The longest token whose claims are read. */
#define CA_JWT_MAX 16384

struct ca_jwt_claims {
	char *sub;      /* "<client id>@clients" for M2M, the user id for OAuth */
	char *azp;      /* the client the token was issued to */
	char *org_id;   /* the SSO organization, when it is a string */
	int has_org_id; /* an org_id claim of any type, null included */
	int64_t exp;    /* 0 when absent or not a number */
	int64_t iat;
};

/*
 * Decodes the payload of a compact JWT (three base64url parts, the
 * signature ignored) of at most CA_JWT_MAX bytes. sub and azp, when
 * present, must be strings. CA_EINVAL when the claims cannot be read (not a
 * JWT, not JSON, a NUL in it, wrong types, sub, azp or org_id twice); *out
 * is then left cleared.
 */
int ca_jwt_claims_parse(struct ca_jwt_claims *out, const char *jwt);

/* Frees the claims; accepts cleared ones. */
void ca_jwt_claims_clear(struct ca_jwt_claims *claims);

#endif
