/* The CARTO Data Warehouse credentials (dw.c). */
#ifndef CA_AUTH_NET_DW_H
#define CA_AUTH_NET_DW_H

#include "auth/config.h"

/*
 * GET {api_base_url}/v3/connections/carto-dw/token with the bearer token:
 * the project id and a token for the CARTO Data Warehouse (both for the
 * caller to ca_free).
 */
int ca_dw_credentials(char **out_project, char **out_token,
	const struct ca_config *cfg, const char *api_base_url,
	const char *access_token);

#endif
