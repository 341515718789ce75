/* The public C API (include/carto-auth/carto_auth.h) over the broker. */
#include "carto-auth/carto_auth.h"

#include "auth/broker.h"
#include "auth/module.h"
#include "keyring/store.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/text.h"

#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

struct carto_auth {
	struct ca_config cfg;
	struct ca_token tok;
	int interactive;
};

/*
 * Whether the call running in this thread may show login progress: only
 * one made on a handle created with opts->interactive.
 */
static _Thread_local int call_interactive;

/* Login progress for an interactive caller; outside text shows escaped. */
static void notice_to_stderr(const char *line)
{
	if (call_interactive)
		ca_text_put_line(stderr, line);
}

/*
 * The library's one-time set-up, race-free whichever thread calls first.
 * It touches nothing the host owns: no allocator hooks, no signal or log
 * handler; libcurl is initialised on the first request (auth/net/http.c).
 */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_library(void)
{
	tzset(); /* once, before any thread reads the local time zone */
	ca_notice_set_sink(notice_to_stderr);
}

/* The start of a call that may reach the network: its own time budget. */
static void call_begin(const struct carto_auth *auth, int *was_interactive)
{
	pthread_once(&init_once, init_library);
	*was_interactive = call_interactive;
	call_interactive = auth->interactive;
	ca_call_begin();
}

static void call_end(int was_interactive)
{
	ca_call_end();
	call_interactive = was_interactive;
}

/* The options as a typed request: the same rules as the protocol's keys. */
static int create(struct carto_auth **out, struct ca_config_request *req,
	const struct carto_auth_options *opts)
{
	struct carto_auth *auth;
	int error = 0;

	ca_error_clear();
	if (opts) {
		req->cache_file = opts->cache_file;
		req->use_cache = !opts->no_cache;
		req->api_base_url = opts->api_base_url;
		req->org = opts->org;
		if (opts->min_ttl > 0)
			req->min_ttl = opts->min_ttl;
		if (opts->no_browser)
			req->open_browser = 0;
	}
	req->interactive = opts && opts->interactive;

	auth = ca_calloc(1, sizeof(*auth));
	if (!auth)
		return ca_error(CA_ERR, "out of memory");
	if ((error = ca_config_resolve(&auth->cfg, req))) {
		ca_free(auth);
		return error;
	}
	ca_token_init(&auth->tok);
	auth->interactive = opts && opts->interactive;
	*out = auth;
	return 0;
}

int carto_auth_from_m2m(struct carto_auth **out, const char *credentials_file,
	const struct carto_auth_options *opts)
{
	struct ca_config_request req;

	if (!out || !credentials_file)
		return ca_error(CA_EINVAL, "carto_auth_from_m2m: out and credentials_file are required");
	ca_config_request_init(&req);
	req.mode = CA_MODE_M2M;
	req.credentials_file = credentials_file;
	return create(out, &req, opts);
}

int carto_auth_from_oauth(struct carto_auth **out, const struct carto_auth_options *opts)
{
	struct ca_config_request req;

	if (!out)
		return ca_error(CA_EINVAL, "carto_auth_from_oauth: out is required");
	ca_config_request_init(&req);
	req.mode = CA_MODE_OAUTH;
	return create(out, &req, opts);
}

int carto_auth_access_token(struct carto_auth *auth, const char **out_token,
	int64_t *out_expiration)
{
	struct store *store = NULL;
	struct ca_token tok;
	int error, was_interactive;

	if (!auth || !out_token)
		return ca_error(CA_EINVAL, "carto_auth_access_token: auth and out_token are required");
	ca_error_clear();
	call_begin(auth, &was_interactive);
	ca_token_init(&tok);
	/* The token held from the last call is good enough when still valid. */
	if (!ca_token_valid(&auth->tok, ca_now(), auth->cfg.min_ttl)) {
		if ((error = ca_broker_store_open(&store, &auth->cfg)) ||
		    (error = ca_broker_token(&tok, NULL, store, &auth->cfg, 0)))
			goto out;
		ca_token_move(&auth->tok, &tok);
		if (!auth->cfg.api_base_url && auth->tok.api_base_url)
			auth->cfg.api_base_url = ca_strdup(auth->tok.api_base_url);
	}
	*out_token = auth->tok.access_token;
	if (out_expiration)
		*out_expiration = auth->tok.expiration;
	error = 0;
out:
	ca_store_free(store);
	ca_token_clear(&tok);
	call_end(was_interactive);
	return error;
}

const char *carto_auth_api_base_url(const struct carto_auth *auth)
{
	if (!auth)
		return NULL;
	return auth->cfg.api_base_url ? auth->cfg.api_base_url : auth->tok.api_base_url;
}

int carto_auth_dw_credentials(struct carto_auth *auth, char **out_project, char **out_token)
{
	const struct ca_module *module = ca_module_get();
	const char *token;
	int error, was_interactive;

	if (!auth || !out_project || !out_token)
		return ca_error(CA_EINVAL, "carto_auth_dw_credentials: arguments are required");
	/* One call: the token and the Data Warehouse request share its budget. */
	call_begin(auth, &was_interactive);
	if (!(error = carto_auth_access_token(auth, &token, NULL)))
		error = module->dw_credentials(out_project, out_token, &auth->cfg,
			carto_auth_api_base_url(auth), token);
	call_end(was_interactive);
	return error;
}

void carto_auth_free(struct carto_auth *auth)
{
	if (!auth)
		return;
	ca_config_clear(&auth->cfg);
	ca_token_clear(&auth->tok);
	ca_free(auth);
}

void carto_auth_secret_free(char *secret)
{
	ca_free(secret);
}

const char *carto_auth_last_error(void)
{
	return ca_error_message();
}

int carto_auth_last_error_code(void)
{
	return ca_error_code();
}

const char *carto_auth_version(void)
{
	return CARTO_AUTH_VERSION;
}
