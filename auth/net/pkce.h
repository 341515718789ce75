/* PKCE for the OAuth login (RFC 7636): verifier, S256 challenge, state. */
#ifndef CA_AUTH_NET_PKCE_H
#define CA_AUTH_NET_PKCE_H

#define OAUTH_VERIFIER_BYTES 48 /* 64 characters, within RFC 7636's 43..128 */
#define OAUTH_STATE_BYTES 24    /* 32 characters */

/* A code verifier: 64 characters of [A-Za-z0-9_-] from getrandom(). */
int ca_oauth_pkce_verifier(char **out);

/* The S256 challenge: base64url(SHA-256(verifier)), SHA-256 from libcrypto. */
int ca_oauth_pkce_challenge(char **out, const char *verifier);

/* A random state: 32 characters of [A-Za-z0-9_-]. */
int ca_oauth_random_state(char **out);

#endif
