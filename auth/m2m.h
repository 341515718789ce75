/* Machine to machine: the client credentials grant. */
#ifndef CA_AUTH_M2M_H
#define CA_AUTH_M2M_H

#include "auth/config.h"
#include "auth/token.h"

int m2m_token(struct ca_token *out, const struct ca_config *cfg);

#endif
