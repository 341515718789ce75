/*
 * The CARTO Data Warehouse credentials: GET
 * {api_base_url}/v3/connections/carto-dw/token with the bearer token.
 */
#include "auth/net/dw.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "auth/net/discover.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/url.h"

static int oom(void)
{
	return ca_error(CA_ERR, "out of memory");
}

int ca_dw_credentials(char **out_project, char **out_token,
	const struct ca_config *cfg, const char *api_base_url,
	const char *access_token)
{
	static const char path[] = "/v3/connections/carto-dw/token";
	cJSON *json = NULL;
	const cJSON *project, *token;
	char *base = NULL, *url = NULL, *p = NULL, *t = NULL;
	size_t n;
	int rc;

	(void)cfg;
	if (!api_base_url || !*api_base_url || !ca_url_allowed(api_base_url)) {
		rc = ca_error(CA_EINVAL, "the CARTO Data Warehouse needs the account's API "
			"base URL (https://...); pass api_base_url");
		goto out;
	}
	base = ca_strdup(api_base_url);
	if (!base) {
		rc = oom();
		goto out;
	}
	for (n = strlen(base); n > 0 && base[n - 1] == '/'; )
		base[--n] = '\0';
	url = ca_malloc(n + sizeof(path));
	if (url)
		snprintf(url, n + sizeof(path), "%s%s", base, path);
	if (!url) {
		rc = oom();
		goto out;
	}
	rc = ca_api_get_json(&json, url, access_token, "CARTO Data Warehouse token request");
	if (rc == CA_EREFUSED) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", ca_error_message());
		rc = ca_error(rc, "%s; check that api_base_url is your account's and that "
			"it has a CARTO Data Warehouse", msg);
	}
	if (rc < 0)
		goto out;
	project = cJSON_GetObjectItemCaseSensitive(json, "projectId");
	token = cJSON_GetObjectItemCaseSensitive(json, "token");
	if (!cJSON_IsString(project) || !*project->valuestring ||
	    !cJSON_IsString(token) || !*token->valuestring ||
	    strpbrk(project->valuestring, "\r\n") || strpbrk(token->valuestring, "\r\n")) {
		rc = ca_error(CA_ENET, "the CARTO Data Warehouse answer has no projectId and "
			"token; check that api_base_url is your account's");
		goto out;
	}
	p = ca_strdup(project->valuestring);
	t = ca_strdup(token->valuestring);
	if (!p || !t) {
		rc = oom();
		goto out;
	}
	*out_project = p;
	*out_token = t;
	p = t = NULL;
	rc = 0;
out:
	ca_json_delete(json);
	ca_free(base);
	ca_free(url);
	ca_free(p);
	ca_free(t);
	return rc;
}
