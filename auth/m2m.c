#include "auth/m2m.h"

#include "auth/http.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

int m2m_token(struct ca_token *out, const struct ca_config *cfg)
{
	struct http_response res = { 0 };
	struct http_request req = { 0 };
	char *form = NULL, *url = NULL;
	int error;

	if ((error = http_form_add(&form, "grant_type", "client_credentials")) ||
	    (error = http_form_add(&form, "audience", CA_AUDIENCE)) ||
	    (error = http_form_add(&form, "client_id", cfg->client_id)) ||
	    (error = http_form_add(&form, "client_secret", cfg->client_secret)))
		goto out;
	url = ca_malloc(strlen(cfg->auth_url) + 16);
	if (!url) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	sprintf(url, "%s/oauth/token", cfg->auth_url);
	req.method = "POST";
	req.url = url;
	req.form_body = form;
	req.what = "token request";
	if ((error = http_perform(&res, &req)))
		goto out;
	error = ca_token_parse_response(out, res.body, res.len, res.status, ca_now());
	if (error == CA_EREFUSED && (res.status == 401 || res.status == 403))
		ca_error_prefix("M2M client %s", cfg->client_id);
out:
	http_response_clear(&res);
	ca_free(form); /* wiped: it held the client secret */
	ca_free(url);
	return error;
}
