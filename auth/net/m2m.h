/* Machine to machine: the client credentials grant. */
#ifndef CA_AUTH_M2M_H
#define CA_AUTH_M2M_H

#include "auth/config.h"
#include "token/token.h"

int ca_m2m_token(struct ca_token *out, const struct ca_config *cfg);

/*
 * POSTs a urlencoded form (a secret) to {auth_url}/oauth/token and parses
 * the answer; what names the request in messages. Shared by every grant.
 */
int ca_token_endpoint_request(struct ca_token *out, const struct ca_config *cfg,
	const char *form, const char *what);

#endif
