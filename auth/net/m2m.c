#include "auth/net/m2m.h"

#include "auth/net/http.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

int ca_token_endpoint_request(struct ca_token *out, const struct ca_config *cfg,
	const char *form, const char *what, int single_use)
{
	struct http_request req = { .method = "POST", .form_body = form, .what = what,
		.single_use = single_use };
	struct http_response res = { 0 };
	char *url = ca_malloc(strlen(cfg->auth_url) + sizeof("/oauth/token"));
	int error;

	if (!url)
		return ca_error(CA_ERR, "out of memory");
	sprintf(url, "%s/oauth/token", cfg->auth_url);
	req.url = url;
	error = ca_http_perform(&res, &req);
	if (!error)
		error = ca_token_parse_response(out, res.body, res.len, res.status, ca_now());
	if (error == CA_EREFUSED && (res.status == 401 || res.status == 403) &&
	    cfg->mode == CA_MODE_M2M)
		ca_error_prefix("M2M client %s", cfg->client_id);
	ca_http_response_clear(&res);
	ca_free(url);
	return error;
}

int ca_m2m_token(struct ca_token *out, const struct ca_config *cfg)
{
	char *form = NULL;
	int error;

	if (!(error = ca_http_form_add(&form, "grant_type", "client_credentials")) &&
	    !(error = ca_http_form_add(&form, "audience", CA_AUDIENCE)) &&
	    !(error = ca_http_form_add(&form, "client_id", cfg->client_id)) &&
	    !(error = ca_http_form_add(&form, "client_secret", cfg->client_secret)))
		/* The client secret is good for any number of requests: retried. */
		error = ca_token_endpoint_request(out, cfg, form, "token request", 0);
	ca_free(form); /* wiped: it held the client secret */
	return error;
}
