/* Machine to machine: the client credentials grant. */
#ifndef CA_AUTH_M2M_H
#define CA_AUTH_M2M_H

#include "auth/config.h"
#include "token/token.h"

int ca_m2m_token(struct ca_token *out, const struct ca_config *cfg);

/*
 * POSTs a urlencoded form (a secret) to {auth_url}/oauth/token and parses
 * the answer; what names the request in messages. Shared by every grant.
 * single_use: the form holds a secret the server takes once (an
 * authorization code, a rotating refresh token), so the request is not
 * retried once it may have reached the server (struct http_request).
 */
int ca_token_endpoint_request(struct ca_token *out, const struct ca_config *cfg,
	const char *form, const char *what, int single_use);

#endif
