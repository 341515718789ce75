/*
 * The account's API base URL, discovered after an OAuth login: the
 * accounts endpoint names the tenant's domain, whose config.yaml holds
 * apis.baseUrl. Also the small JSON GET that the CARTO APIs share.
 */
#ifndef CA_AUTH_DISCOVER_H
#define CA_AUTH_DISCOVER_H

#include <stddef.h>

#include "auth/config.h"

struct cJSON;

/*
 * GET cfg->accounts_url with the bearer token -> tenant_domain, then
 * GET <scheme of accounts_url>://<tenant_domain>/config.yaml ->
 * apis.baseUrl. *out belongs to the caller.
 */
int ca_discover_api_base_url(char **out, const struct ca_config *cfg,
	const char *access_token);

/*
 * apis.baseUrl of a tenant config.yaml (the first document), which must be
 * an allowed URL (https://, or http:// to loopback); trailing '/' removed.
 * CA_ENET (a bad answer) with a clear message otherwise. Pure, for fuzzing.
 */
int ca_discover_parse_config_yaml(char **out, const char *yaml, size_t len);

/*
 * The tenant domain in an accounts answer ({"tenant_domain": "..."}), a
 * host name with an optional port. An {"error": ...} answer is CA_EREFUSED.
 */
int ca_discover_parse_accounts(char **out, const char *json, size_t len);

/*
 * GET url (with a bearer token when not NULL) and parse a JSON object from
 * a 200 answer. Another status is CA_EREFUSED (4xx) or CA_ENET, with the
 * answer's "error"/"message" in the message; what names the request.
 */
int ca_api_get_json(struct cJSON **out, const char *url, const char *bearer,
	const char *what);

#endif
