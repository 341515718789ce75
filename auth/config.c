#include "auth/config.h"

#include "protocol/proto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/url.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CREDENTIALS_MAX (64 * 1024)

void ca_config_init(struct ca_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->use_cache = 1;
	cfg->open_browser = 1;
	cfg->interactive = 1;
	cfg->min_ttl = CA_MIN_TTL_AUTO; /* min(300 s, half the lifetime) */
	cfg->login_timeout = CA_DEFAULT_LOGIN_TIMEOUT;
}

void ca_config_clear(struct ca_config *cfg)
{
	if (!cfg)
		return;
	ca_free(cfg->auth_url);
	ca_free(cfg->accounts_url);
	ca_free(cfg->redirect_uri);
	ca_free(cfg->oauth_client_id);
	ca_free(cfg->scope);
	ca_free(cfg->home);
	ca_free(cfg->cache_file);
	ca_free(cfg->credentials_file);
	ca_free(cfg->client_id);
	ca_free(cfg->client_secret);
	ca_free(cfg->api_base_url);
	ca_free(cfg->org);
	ca_config_init(cfg);
}

/*
 * 0 when a request may go to url (util/url.h); else CA_EINVAL with a
 * message naming what and the reason, never the URL (it may hold a
 * password in its user-info).
 */
static int check_url(const char *url, const char *what, const char *where)
{
	struct ca_url parsed;
	char reason[160];

	if (ca_url_parse(&parsed, url) == 0) {
		if (!strcmp(parsed.scheme, "https") || ca_url_is_loopback_host(parsed.host))
			return 0;
		snprintf(reason, sizeof(reason), "its host is not a loopback address");
	} else {
		snprintf(reason, sizeof(reason), "%s", ca_error_message());
	}
	if (where)
		return ca_error(CA_EINVAL, "%s in %s must be an https:// URL (http:// only to "
			"a loopback address): %s", what, where, reason);
	return ca_error(CA_EINVAL, "bad input: %s must be an https:// URL (http:// only to "
		"a loopback address): %s", what, reason);
}

/* Copies value into *dst without trailing slashes. */
static int set_url(char **dst, const char *value, const char *what)
{
	size_t len = strlen(value);
	int error;

	if ((error = check_url(value, what, NULL)))
		return error;
	while (len > 8 && value[len - 1] == '/')
		len--;
	ca_free(*dst);
	*dst = ca_strndup(value, len);
	return *dst ? 0 : ca_error(CA_ERR, "out of memory");
}

static int set_str(char **dst, const char *value)
{
	ca_free(*dst);
	*dst = ca_strdup(value);
	return (*dst || !value) ? 0 : ca_error(CA_ERR, "out of memory");
}

/*
 * The loopback redirect URI of the browser login: http:// to a loopback
 * host, parsed as any other URL (auth/callback.c then binds to it).
 */
static int set_redirect_uri(char **dst, const char *value)
{
	struct ca_url parsed;
	char reason[160];

	if (ca_url_parse(&parsed, value) < 0)
		snprintf(reason, sizeof(reason), "%s", ca_error_message());
	else if (strcmp(parsed.scheme, "http") != 0 || !ca_url_is_loopback_host(parsed.host))
		snprintf(reason, sizeof(reason), "it is not http:// to a loopback address");
	else
		return set_str(dst, value);
	return ca_error(CA_EINVAL, "bad input: CARTO_AUTH_REDIRECT_URI must be an http:// URL "
		"to a loopback address: %s", reason);
}

/* An environment variable wins over the request, the request over the default. */
static const char *pick(const char *env, const char *given, const char *fallback)
{
	const char *v = env ? getenv(env) : NULL;

	if (v && *v)
		return v;
	if (given && *given)
		return given;
	return fallback;
}

/* A string of the request, NULL when not given. */
static const char *given(const char *v)
{
	return v && *v ? v : NULL;
}

static int get_bool(int *out, const struct proto_msg *msg, const char *key)
{
	int v = ca_proto_get_bool(msg, key, 2);

	if (v < 0)
		return ca_error(CA_EINVAL, "bad input: %s must be true or false", key);
	*out = v == 2 ? CA_UNSET : v;
	return 0;
}

static int parse_seconds(int *out, const char *value, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 0 || v > INT_MAX)
		return ca_error(CA_EINVAL, "bad input: %s must be a number of seconds", what);
	*out = (int)v;
	return 0;
}

static int default_home(char **out)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (!home || !*home) {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home)
		return ca_error(CA_ERR, "cannot find the home folder; set CARTO_AUTH_HOME");
	*out = ca_fs_join(home, ".carto-auth");
	return *out ? 0 : ca_error(CA_ERR, "out of memory");
}

static int read_attribute(char **out, const cJSON *root, const char *name, const char *path)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!item) {
		ca_error(CA_EINVAL, "missing attribute %s in %s", name, path);
		return ca_error_set_reason(CA_REASON_MISSING_ATTRIBUTE);
	}
	if (!cJSON_IsString(item))
		return ca_error(CA_EINVAL, "attribute %s in %s must be a string", name, path);
	if (!item->valuestring[0]) {
		ca_error(CA_EINVAL, "missing value for %s in %s", name, path);
		return ca_error_set_reason(CA_REASON_MISSING_VALUE);
	}
	if (strpbrk(item->valuestring, "\r\n"))
		return ca_error(CA_EINVAL, "attribute %s in %s holds a line break", name, path);
	*out = ca_strdup(item->valuestring);
	return *out ? 0 : ca_error(CA_ERR, "out of memory");
}

int ca_config_parse_credentials(struct ca_config *cfg, const char *text, size_t len,
	const char *path)
{
	char *api = NULL, *id = NULL, *secret = NULL;
	cJSON *root;
	int error;

	root = cJSON_ParseWithLength(text, len);
	if (!root || !cJSON_IsObject(root)) {
		ca_error(CA_EINVAL, "credentials file %s is not a JSON object", path);
		error = ca_error_set_reason(CA_REASON_CREDENTIALS_NOT_JSON);
		goto out;
	}
	if ((error = read_attribute(&api, root, "api_base_url", path)) ||
	    (error = read_attribute(&id, root, "client_id", path)) ||
	    (error = read_attribute(&secret, root, "client_secret", path)))
		goto out;
	if ((error = check_url(api, "api_base_url", path)))
		goto out;
	if ((error = set_str(&cfg->credentials_file, path)) ||
	    (error = set_url(&cfg->api_base_url, api, "api_base_url")))
		goto out;
	ca_free(cfg->client_id);
	ca_free(cfg->client_secret);
	cfg->client_id = id;
	cfg->client_secret = secret;
	id = secret = NULL;
out:
	ca_json_delete(root);
	ca_free(api);
	ca_free(id);
	ca_free(secret);
	return error;
}

int ca_config_read_credentials(struct ca_config *cfg, const char *path)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	int error;

	error = ca_fs_read_file(&text, &len, path, CREDENTIALS_MAX);
	if (error == CA_ENOTFOUND) {
		ca_error(CA_EINVAL, "cannot read credentials file %s: no such file", path);
		return ca_error_set_reason(CA_REASON_CREDENTIALS_NOT_FOUND);
	}
	if (error)
		return error;
	error = ca_config_parse_credentials(cfg, text, len, path);
	if (!error && stat(path, &st) == 0 && (st.st_mode & 077))
		ca_warn("%s is readable by other users; protect it with: chmod 600 %s", path, path);
	ca_free(text);
	return error;
}

static int parse_mode(int *out, const struct proto_msg *msg)
{
	const char *mode = ca_proto_get(msg, "mode");

	if (!mode || !*mode)
		*out = CA_UNSET;
	else if (!strcmp(mode, "m2m"))
		*out = CA_MODE_M2M;
	else if (!strcmp(mode, "oauth"))
		*out = CA_MODE_OAUTH;
	else
		return ca_error(CA_EINVAL, "bad input: mode must be oauth or m2m");
	return 0;
}

static int resolve_store(struct ca_config *cfg)
{
	const char *v = getenv("CARTO_AUTH_STORE");

	if (!v || !*v || !strcmp(v, "auto"))
		cfg->store = CA_STORE_AUTO;
	else if (!strcmp(v, "keyring"))
		cfg->store = CA_STORE_KEYRING;
	else if (!strcmp(v, "file"))
		cfg->store = CA_STORE_FILE;
	else
		return ca_error(CA_EINVAL, "bad CARTO_AUTH_STORE: use auto, keyring or file");
	return 0;
}

/* M2M credentials: a file, or client_id + client_secret (+ api_base_url). */
static int resolve_m2m(struct ca_config *cfg, const struct ca_config_request *req)
{
	const char *file = given(req->credentials_file);
	const char *id = given(req->client_id);
	const char *secret = given(req->client_secret);
	const char *host = given(req->host);
	int error;

	if (file) {
		/* The file names the account; an api_base_url key still wins. */
		if ((error = ca_config_read_credentials(cfg, file)))
			return error;
		if (given(req->api_base_url))
			return set_url(&cfg->api_base_url, req->api_base_url, "api_base_url");
		return 0;
	}
	if (!id)
		return ca_error(CA_EINVAL, "bad input: m2m needs credentials_file, or client_id and client_secret");
	if (!secret)
		return ca_error(CA_EINVAL, "bad input: client_id given without client_secret");
	if ((error = set_str(&cfg->client_id, id)) || (error = set_str(&cfg->client_secret, secret)))
		return error;
	if (!cfg->api_base_url && host) {
		char *url = ca_malloc(strlen(host) + 9);

		if (!url)
			return ca_error(CA_ERR, "out of memory");
		sprintf(url, "https://%s", host);
		error = set_url(&cfg->api_base_url, url, "api_base_url");
		ca_free(url);
		return error;
	}
	if (!cfg->api_base_url)
		return ca_error(CA_EINVAL, "bad input: client_id given without api_base_url");
	return 0;
}

void ca_config_request_init(struct ca_config_request *req)
{
	memset(req, 0, sizeof(*req));
	req->mode = CA_UNSET;
	req->use_cache = CA_UNSET;
	req->open_browser = CA_UNSET;
	req->interactive = CA_UNSET;
	req->carto_dw = CA_UNSET;
	req->min_ttl = CA_UNSET;
	req->login_timeout = CA_UNSET;
}

/* A request's boolean: given (0 or 1), or the fallback. */
static int flag(int value, int fallback)
{
	return value == CA_UNSET ? fallback : !!value;
}

int ca_config_resolve(struct ca_config *cfg, const struct ca_config_request *req)
{
	const char *v, *prompt;
	int error;

	ca_config_init(cfg);
	if (req->mode == CA_UNSET)
		cfg->mode = (req->credentials_file || req->client_id) ? CA_MODE_M2M : CA_MODE_OAUTH;
	else if (req->mode == CA_MODE_M2M || req->mode == CA_MODE_OAUTH)
		cfg->mode = (enum ca_mode)req->mode;
	else
		return ca_error(CA_EINVAL, "bad input: mode must be oauth or m2m");
	if ((error = resolve_store(cfg)))
		goto out;
	if ((error = set_url(&cfg->auth_url, pick("CARTO_AUTH_URL", req->auth_url,
		CA_DEFAULT_AUTH_URL), "auth_url")) ||
	    (error = set_url(&cfg->accounts_url, pick("CARTO_ACCOUNTS_URL", NULL,
		CA_DEFAULT_ACCOUNTS_URL), "CARTO_ACCOUNTS_URL")) ||
	    (error = set_redirect_uri(&cfg->redirect_uri, pick("CARTO_AUTH_REDIRECT_URI", NULL,
		CA_DEFAULT_REDIRECT_URI))) ||
	    (error = set_str(&cfg->oauth_client_id, pick("CARTO_AUTH_CLIENT_ID", NULL,
		CA_DEFAULT_CLIENT_ID))) ||
	    (error = set_str(&cfg->scope, pick(NULL, req->scope, CA_DEFAULT_SCOPE))))
		goto out;
	if ((v = getenv("CARTO_AUTH_HOME")) && *v)
		error = set_str(&cfg->home, v);
	else
		error = default_home(&cfg->home);
	if (error)
		goto out;
	if (given(req->cache_file) && (error = set_str(&cfg->cache_file, req->cache_file)))
		goto out;
	if (given(req->api_base_url) &&
	    (error = set_url(&cfg->api_base_url, req->api_base_url, "api_base_url")))
		goto out;
	if (given(req->org) && (error = set_str(&cfg->org, req->org)))
		goto out;

	if (getenv("DATABRICKS_RUNTIME_VERSION"))
		cfg->open_browser = 0;
	prompt = getenv("GIT_TERMINAL_PROMPT");
	if (prompt && (!strcmp(prompt, "0") || !strcasecmp(prompt, "false")))
		cfg->interactive = 0;
	cfg->use_cache = flag(req->use_cache, cfg->use_cache);
	cfg->open_browser = flag(req->open_browser, cfg->open_browser);
	cfg->interactive = flag(req->interactive, cfg->interactive);
	cfg->carto_dw = flag(req->carto_dw, cfg->carto_dw);
	if (req->min_ttl != CA_UNSET) {
		if (req->min_ttl < 0) {
			error = ca_error(CA_EINVAL, "bad input: min_ttl must be a number of seconds");
			goto out;
		}
		cfg->min_ttl = req->min_ttl;
	}
	if ((v = getenv("CARTO_AUTH_LOGIN_TIMEOUT")) && *v) {
		if ((error = parse_seconds(&cfg->login_timeout, v, "login_timeout")))
			goto out;
	} else if (req->login_timeout != CA_UNSET) {
		if (req->login_timeout < 0) {
			error = ca_error(CA_EINVAL, "bad input: login_timeout must be a number of seconds");
			goto out;
		}
		cfg->login_timeout = req->login_timeout;
	}

	if (cfg->mode == CA_MODE_M2M)
		error = resolve_m2m(cfg, req);
out:
	if (error)
		ca_config_clear(cfg);
	return error;
}

/* A key of seconds; CA_UNSET when absent. */
static int get_seconds(int *out, const struct proto_msg *msg, const char *key)
{
	const char *v = ca_proto_get(msg, key);

	*out = CA_UNSET;
	return v ? parse_seconds(out, v, key) : 0;
}

int ca_config_from_msg(struct ca_config *cfg, const struct proto_msg *msg)
{
	struct ca_config_request req;
	const char *timeout_env = getenv("CARTO_AUTH_LOGIN_TIMEOUT");
	int error;

	ca_config_init(cfg);
	ca_config_request_init(&req);
	if ((error = parse_mode(&req.mode, msg)))
		return error;
	req.credentials_file = ca_proto_get(msg, "credentials_file");
	req.client_id = ca_proto_get(msg, "client_id");
	req.client_secret = ca_proto_get(msg, "client_secret");
	req.host = ca_proto_get(msg, "host");
	req.auth_url = ca_proto_get(msg, "auth_url");
	req.scope = ca_proto_get(msg, "scope");
	req.cache_file = ca_proto_get(msg, "cache_file");
	req.api_base_url = ca_proto_get(msg, "api_base_url");
	req.org = ca_proto_get(msg, "org");
	if ((error = get_bool(&req.use_cache, msg, "use_cache")) ||
	    (error = get_bool(&req.open_browser, msg, "open_browser")) ||
	    (error = get_bool(&req.interactive, msg, "interactive")) ||
	    (error = get_bool(&req.carto_dw, msg, "carto_dw")) ||
	    (error = get_seconds(&req.min_ttl, msg, "min_ttl")))
		return error;
	/* The environment's login timeout wins; a key it overrides is not read. */
	if ((!timeout_env || !*timeout_env) &&
	    (error = get_seconds(&req.login_timeout, msg, "login_timeout")))
		return error;
	return ca_config_resolve(cfg, &req);
}

void ca_config_identity(struct ca_identity *out, const struct ca_config *cfg)
{
	ca_identity_init(out);
	out->mode = cfg->mode;
	out->auth_url = cfg->auth_url;
	out->client_id = cfg->mode == CA_MODE_M2M ? cfg->client_id : cfg->oauth_client_id;
	out->org = cfg->org;
	out->api_base_url = cfg->api_base_url;
	if (cfg->mode == CA_MODE_M2M && cfg->client_secret)
		ca_identity_set_secret(out, cfg->client_secret);
}

void ca_config_store_options(struct ca_store_options *out, const struct ca_config *cfg)
{
	out->home = cfg->home;
	out->cache_file = cfg->cache_file;
	out->kind = cfg->store;
	out->interactive = cfg->interactive;
	out->prefetch = NULL;
}

void ca_config_identity_tag(const struct ca_config *cfg, char out[40])
{
	struct ca_identity id;

	ca_config_identity(&id, cfg);
	ca_identity_tag(&id, out);
	ca_identity_clear(&id);
}
