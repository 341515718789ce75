/*
 * The device login: the OAuth 2.0 device authorization grant (RFC 8628)
 * at Auth0's {auth_url}/oauth/device/code, for a machine without a
 * browser. The person opens the verification URL on any device and
 * confirms the user code; this process polls {auth_url}/oauth/token.
 */
#ifndef CA_AUTH_DEVICE_H
#define CA_AUTH_DEVICE_H

#include <stddef.h>

#include "auth/config.h"
#include "token/token.h"

#define DEVICE_DEFAULT_INTERVAL 5 /* s, RFC 8628 3.2 */
#define DEVICE_SLOW_DOWN_STEP 5   /* s added on slow_down, RFC 8628 3.5 */
#define DEVICE_MAX_INTERVAL 300
#define DEVICE_POLL_NO_ANSWER_MAX 2 /* polls again after this many without an answer */
#define DEVICE_MAX_CODE 2048
#define DEVICE_MAX_USER_CODE 64
#define DEVICE_MAX_URI 2048

/* The answer of the device authorization endpoint. */
struct ca_device_auth {
	char *device_code;      /* secret: it is the login until it is used */
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete; /* or NULL */
	int expires_in;         /* s */
	int interval;           /* s */
};

void ca_device_auth_clear(struct ca_device_auth *da);

/*
 * Parses a 200 answer of /oauth/device/code. device_code, user_code and
 * verification_uri are required strings (bounded, no control characters
 * in the device code); expires_in a positive number (600 when absent);
 * interval defaults to 5 s and is kept within 1..300 s. CA_ENET with a
 * message otherwise. Pure, for the unit tests and fuzzers.
 */
int ca_device_parse_auth(struct ca_device_auth *out, const char *body, size_t len);

/* What a poll of the token endpoint said. */
enum ca_device_poll {
	DEVICE_POLL_PENDING,
	DEVICE_POLL_SLOW_DOWN,
	DEVICE_POLL_EXPIRED,
	DEVICE_POLL_DENIED,
	DEVICE_POLL_REFUSED, /* unauthorized_client / unsupported_grant_type */
	DEVICE_POLL_OTHER    /* any other error, or no error at all */
};

/* Classifies an error answer's body ({"error": "..."}); pure. */
enum ca_device_poll ca_device_poll_kind(const char *body, size_t len);

/*
 * The whole device login: the device authorization request (client_id,
 * scope, audience and the organization, as the browser login sends them),
 * the code and URL on standard error (escaped), the polling within
 * interval (slow_down adds 5 s), and on success the same as a browser
 * login: the API base URL (given or discovered) and the account. Stops
 * with CA_ELOGIN on expired_token or the login timeout, CA_EREFUSED on
 * access_denied and when the server refuses the grant (naming
 * --no-browser).
 */
int ca_device_login(struct ca_token *out, const struct ca_config *cfg);

#endif
