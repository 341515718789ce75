#include "auth/net/revoke.h"

#include <string.h>

#include "auth/net/http.h"
#include "token/token.h"
#include "util/error.h"
#include "util/mem.h"

int ca_oauth_revoke(const struct ca_config *cfg, const char *refresh_token)
{
	static const char path[] = "/oauth/revoke";
	struct http_request req = { .method = "POST", .what = "revocation request" };
	struct http_response res = { 0 };
	size_t n = strlen(cfg->auth_url);
	char *form = NULL, *url;
	int rc;

	if (!refresh_token || !*refresh_token)
		return ca_error(CA_EINVAL, "no refresh token to revoke");
	url = ca_malloc(n + sizeof(path));
	if (!url)
		return ca_error(CA_ERR, "out of memory");
	memcpy(url, cfg->auth_url, n);
	memcpy(url + n, path, sizeof(path));
	if ((rc = ca_http_form_add(&form, "client_id", cfg->oauth_client_id)) < 0 ||
	    (rc = ca_http_form_add(&form, "token", refresh_token)) < 0)
		goto out;
	req.url = url;
	req.form_body = form;
	if ((rc = ca_http_perform(&res, &req)) < 0)
		goto out;
	if (res.status >= 400)
		rc = ca_token_error_from_body(CA_EREFUSED, "revocation", res.body, res.len,
			res.status);
	else if (res.status != 200)
		rc = ca_error(CA_ENET, "revocation failed: unexpected HTTP %ld", res.status);
out:
	ca_http_response_clear(&res);
	ca_free(form); /* wiped: it held the refresh token */
	ca_free(url);
	return rc;
}
