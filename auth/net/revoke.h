/*
 * Revocation of a refresh token at logout: Auth0's {auth_url}/oauth/revoke
 * (RFC 7009), which revokes the token and every token rotated from it.
 */
#ifndef CA_AUTH_REVOKE_H
#define CA_AUTH_REVOKE_H

#include "auth/config.h"

/*
 * POSTs client_id (cfg->oauth_client_id) and token to
 * {cfg->auth_url}/oauth/revoke. 0 when the server answered 200; CA_ENET
 * when no answer came; CA_EREFUSED with the server's error otherwise.
 */
int ca_oauth_revoke(const struct ca_config *cfg, const char *refresh_token);

#endif
