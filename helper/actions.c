/*
 * The credential-helper protocol: get, store, erase (SPEC, Protocol).
 *
 * A CARTO request (it carries mode, credentials_file or client_id, or its
 * host ends in .carto.com) is about a CARTO token; anything else is a
 * plain credential lookup, as git-credential-libsecret does.
 */
#include "helper/helper.h"

#include "auth/broker.h"
#include "auth/module.h"
#include "keyring/store.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/url.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the request and fills in what the options stand for. */
static int read_request(struct proto_msg *msg, const struct options *opts)
{
	size_t i;

	ca_proto_msg_init(msg);
	if (ca_proto_read(msg, stdin))
		return -1;
	for (i = 0; i < opts->defaults.count; i++)
		if (ca_proto_set_default(msg, opts->defaults.attrs[i].key, opts->defaults.attrs[i].value))
			return -1;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcasecmp(s + ls - lx, suffix);
}

/*
 * The host name of a request's host= value ("h:1" -> "h"), read by the
 * same parser as every URL: empty when it has user-info or is not a host.
 */
static void request_host(char out[CA_URL_HOST_MAX], const char *value)
{
	struct ca_url url;
	char text[CA_URL_HOST_MAX + 16];

	out[0] = '\0';
	if (strlen(value) >= CA_URL_HOST_MAX || strpbrk(value, "/?#"))
		return;
	snprintf(text, sizeof(text), "https://%s", value);
	if (!ca_url_parse(&url, text))
		memcpy(out, url.host, sizeof(url.host));
}

/* A URL's port, or its scheme's when it names none. */
static int effective_port(const struct ca_url *url)
{
	return url->port ? url->port : !strcmp(url->scheme, "http") ? 80 : 443;
}

/*
 * Whether the request's host and port are those of a configured URL: any
 * local user may listen on another port of the same host.
 */
static int host_of(const struct ca_url *request, const char *configured)
{
	struct ca_url url;

	return configured && !ca_url_parse(&url, configured) &&
		ca_url_same_host(request->host, url.host) &&
		effective_port(request) == effective_port(&url);
}

/* Whether host matches one CARTO_AUTH_HOSTS entry ("*.x" matches below x). */
static int host_matches(const char *host, const char *entry, size_t len)
{
	char pattern[256];

	while (len && (*entry == ' ' || *entry == '\t'))
		entry++, len--;
	while (len && (entry[len - 1] == ' ' || entry[len - 1] == '\t'))
		len--;
	if (len >= 3 && !strncmp(entry, "*.", 2)) {
		if (len - 1 >= sizeof(pattern))
			return 0;
		memcpy(pattern, entry + 1, len - 1);
		pattern[len - 1] = '\0';
		return strlen(host) > len - 1 && ends_with(host, pattern);
	}
	return len && strlen(host) == len && !strncasecmp(host, entry, len);
}

static int listed_host(const char *host)
{
	const char *list = getenv("CARTO_AUTH_HOSTS"), *p;
	size_t len;

	for (p = list; p && *p; p += len + (p[len] == ',')) {
		len = strcspn(p, ",");
		if (host_matches(host, p, len))
			return 1;
	}
	return 0;
}

/*
 * The request's protocol and host as a URL: "https" when it names no
 * protocol. 0 when a CARTO token may travel that way: https, or http to a
 * loopback host (SPEC, Network); git sends the password of an http://
 * remote in clear.
 */
static int request_url(struct ca_url *out, const struct proto_msg *msg, const char *host)
{
	const char *protocol = ca_proto_get(msg, "protocol");
	char text[CA_URL_HOST_MAX + 16];

	if (protocol && strcmp(protocol, "https") && strcmp(protocol, "http"))
		return -1;
	if (strlen(host) >= CA_URL_HOST_MAX || strpbrk(host, "/?#"))
		return -1;
	snprintf(text, sizeof(text), "%s://%s", protocol ? protocol : "https", host);
	return ca_url_parse(out, text) || !ca_url_allowed(text) ? -1 : 0;
}

/*
 * Whether a CARTO token may go to the request's host (SPEC, Protocol): no
 * host at all, or over https (http only to loopback) to a host under
 * carto.com, the host and port of the identity's API base URL or
 * authorization server, or a host listed in CARTO_AUTH_HOSTS. why says
 * which, for the debug trace.
 */
static int token_host_allowed(const struct proto_msg *msg, const struct ca_config *cfg,
	const char **why)
{
	const char *value = ca_proto_get(msg, "host");
	struct ca_url url;
	const char *host;

	*why = "the request names no host";
	if (!value || !*value)
		return 1;
	*why = "the request is not over https (http only to a loopback host), so git "
		"would send the token in clear";
	if (request_url(&url, msg, value))
		return 0;
	host = url.host;
	*why = "it is under carto.com";
	if (ends_with(host, ".carto.com") || !strcasecmp(host, "carto.com"))
		return 1;
	*why = "it is the host and port of the API base URL";
	if (host_of(&url, cfg->api_base_url))
		return 1;
	*why = "it is the host and port of the authorization server";
	if (host_of(&url, cfg->auth_url))
		return 1;
	*why = "it is listed in CARTO_AUTH_HOSTS";
	if (listed_host(host))
		return 1;
	*why = "it is not a CARTO host (not under carto.com, not the API base URL's or the "
		"authorization server's host and port, not in CARTO_AUTH_HOSTS)";
	return 0;
}

static int is_carto_request(const struct proto_msg *msg)
{
	const char *host = ca_proto_get(msg, "host");
	char bare[CA_URL_HOST_MAX];

	if (ca_proto_get(msg, "mode") || ca_proto_get(msg, "credentials_file") || ca_proto_get(msg, "client_id"))
		return 1;
	if (!host)
		return 0;
	request_host(bare, host);
	return ends_with(bare, ".carto.com") || !strcasecmp(bare, "carto.com");
}

/*
 * Resolves a CARTO request's configuration. 1: the request is for a CARTO
 * token (cfg filled in); 0: it is a plain credential request (a CARTO
 * token never goes to a host that is not CARTO's); negative on error.
 */
static int carto_route(struct ca_config *cfg, const struct proto_msg *msg, const char *action)
{
	const char *why;

	if (!is_carto_request(msg))
		return 0;
	if (ca_config_from_msg(cfg, msg))
		return -1;
	if (token_host_allowed(msg, cfg, &why)) {
		ca_debug("%s: a CARTO request: %s", action, why);
		return 1;
	}
	ca_debug("%s: no CARTO token for host %s: %s; a plain credential lookup instead",
		action, ca_proto_get(msg, "host"), why);
	ca_config_clear(cfg);
	return 0;
}

static int write_token(FILE *f, const struct proto_msg *msg, const struct ca_config *cfg,
	const struct ca_token *tok, const char *dw_project, const char *dw_token)
{
	const char *host = ca_proto_get(msg, "host");
	char api_host[CA_URL_HOST_MAX + 8], expiry[24];
	int authtype = ca_proto_list_has(msg, "capability[]", "authtype");
	int error = 0;

	/* host= is the parsed host[:port], never user-info (util/url.h). */
	if (!tok->api_base_url || !ca_url_allowed(tok->api_base_url) ||
	    ca_url_host(api_host, sizeof(api_host), tok->api_base_url) < 0)
		return ca_error(CA_ERR, "the token's API base URL is not an https:// URL "
			"(http:// only to loopback) without user-info; log in again or pass api_base_url");
	snprintf(expiry, sizeof(expiry), "%" PRId64, tok->expiration);
	if (authtype)
		error |= ca_proto_write(f, "capability[]", "authtype");
	error |= ca_proto_write(f, "protocol", ca_proto_get(msg, "protocol") ? ca_proto_get(msg, "protocol") : "https");
	error |= ca_proto_write(f, "host", host ? host : api_host);
	error |= ca_proto_write(f, "username", cfg->mode == CA_MODE_M2M ? cfg->client_id :
		(tok->account ? tok->account : "oauth"));
	error |= ca_proto_write(f, "password", tok->access_token);
	error |= ca_proto_write(f, "password_expiry_utc", expiry);
	error |= ca_proto_write(f, "access_token", tok->access_token);
	error |= ca_proto_write(f, "token_type", "Bearer");
	error |= ca_proto_write(f, "expiration", expiry);
	error |= ca_proto_write(f, "api_base_url", tok->api_base_url);
	error |= ca_proto_write(f, "mode", ca_mode_name(cfg->mode));
	if (authtype) {
		error |= ca_proto_write(f, "authtype", "Bearer");
		error |= ca_proto_write(f, "credential", tok->access_token);
	}
	if (dw_project) {
		error |= ca_proto_write(f, "carto_dw_project", dw_project);
		error |= ca_proto_write(f, "carto_dw_token", dw_token);
	}
	return error ? -1 : 0;
}

/*
 * Prints what write() puts in a buffer, whole, or nothing at all when any
 * of its lines was refused (proto_write's rule), so a caller never reads
 * half an answer. The buffer held secrets: it is wiped.
 */
static int print_whole(int (*write)(FILE *f, const void *payload), const void *payload)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int error;

	if (!f)
		return ca_error(CA_ERR, "out of memory");
	error = write(f, payload);
	if (fclose(f) && !error)
		error = ca_error(CA_ERR, "out of memory");
	if (!error)
		fwrite(buf, 1, len, stdout);
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	return error;
}

struct token_answer {
	const struct proto_msg *msg;
	const struct ca_config *cfg;
	const struct ca_token *tok;
	const char *dw_project, *dw_token;
};

static int write_token_answer(FILE *f, const void *payload)
{
	const struct token_answer *a = payload;

	return write_token(f, a->msg, a->cfg, a->tok, a->dw_project, a->dw_token);
}

/* Prints the whole answer, or nothing at all when any line is refused. */
static int print_token(const struct proto_msg *msg, const struct ca_config *cfg,
	const struct ca_token *tok, const char *dw_project, const char *dw_token)
{
	const struct token_answer a = { msg, cfg, tok, dw_project, dw_token };

	return print_whole(write_token_answer, &a);
}

/* get for a CARTO identity; takes cfg over. */
static int carto_get(const struct proto_msg *msg, struct ca_config *cfg_in)
{
	struct ca_config cfg = *cfg_in;
	struct ca_token tok;
	struct store *store = NULL;
	const struct ca_module *module;
	char *dw_project = NULL, *dw_token = NULL;
	int status = EXIT_OK;

	ca_token_init(&tok);
	if (ca_broker_store_open(&store, &cfg) || ca_broker_token(&tok, NULL, store, &cfg, 0)) {
		status = helper_fail("get");
		goto out;
	}
	if (cfg.carto_dw) {
		module = ca_module_get();
		if (!module || module->dw_credentials(&dw_project, &dw_token, &cfg,
			tok.api_base_url, tok.access_token)) {
			status = helper_fail("get");
			goto out;
		}
	}
	if (print_token(msg, &cfg, &tok, dw_project, dw_token))
		status = helper_fail("get");
out:
	ca_free(dw_project);
	ca_free(dw_token);
	ca_token_clear(&tok);
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

static int64_t parse_time(const char *v)
{
	char *end;
	long long t;

	if (!v || !*v)
		return 0;
	t = strtoll(v, &end, 10);
	return (*end || t < 0) ? -1 : (int64_t)t;
}

/* The credential fields of a request (borrowed pointers, not owned). */
static void cred_view(struct cred *c, const struct proto_msg *msg)
{
	memset(c, 0, sizeof(*c));
	c->protocol = (char *)ca_proto_get(msg, "protocol");
	c->host = (char *)ca_proto_get(msg, "host");
	c->path = (char *)ca_proto_get(msg, "path");
	c->username = (char *)ca_proto_get(msg, "username");
	c->password = (char *)ca_proto_get(msg, "password");
	c->oauth_refresh_token = (char *)ca_proto_get(msg, "oauth_refresh_token");
	c->password_expiry_utc = parse_time(ca_proto_get(msg, "password_expiry_utc"));
	/* git sends authtype/credential only with capability[]=authtype. */
	c->capa_authtype = ca_proto_list_has(msg, "capability[]", "authtype");
	if (c->capa_authtype && ca_proto_get(msg, "authtype") && ca_proto_get(msg, "credential")) {
		c->authtype = (char *)ca_proto_get(msg, "authtype");
		c->credential = (char *)ca_proto_get(msg, "credential");
	}
}

/* Opens the store for a plain credential request. */
static int open_plain_store(struct store **store, struct ca_config *cfg, const char *action)
{
	struct ca_store_options opts;
	struct proto_msg none;

	ca_proto_msg_init(&none);
	if (ca_config_from_msg(cfg, &none))
		return helper_fail(action);
	ca_config_store_options(&opts, cfg);
	if (ca_store_open(store, &opts)) {
		ca_config_clear(cfg);
		return helper_fail(action);
	}
	return 0;
}

/*
 * The answer to a plain lookup: what the store holds. authtype and
 * credential only to a caller that announced capability[]=authtype
 * (found.capa_authtype copies the query's), after that capability.
 */
static int write_cred(FILE *f, const void *payload)
{
	const struct cred *c = payload;
	int authtype = c->capa_authtype && c->authtype && c->credential;
	char expiry[24];

	snprintf(expiry, sizeof(expiry), "%" PRId64, c->password_expiry_utc);
	if ((authtype && ca_proto_write(f, "capability[]", "authtype")) ||
	    ((c->password || c->username) &&
	     ca_proto_write(f, "username", c->username ? c->username : "")) ||
	    ca_proto_write(f, "password", c->password) ||
	    (c->password_expiry_utc && ca_proto_write(f, "password_expiry_utc", expiry)) ||
	    ca_proto_write(f, "oauth_refresh_token", c->oauth_refresh_token) ||
	    (authtype && (ca_proto_write(f, "authtype", c->authtype) ||
			  ca_proto_write(f, "credential", c->credential))))
		return -1;
	return 0;
}

static int plain_get(const struct proto_msg *msg)
{
	struct ca_config cfg;
	struct store *store = NULL;
	struct cred query, found;
	int status, error;

	memset(&found, 0, sizeof(found));
	cred_view(&query, msg);
	query.password = query.credential = query.authtype = NULL;
	if (!query.protocol && !query.host)
		return EXIT_OK; /* nothing to look up */
	if ((status = open_plain_store(&store, &cfg, "get")))
		return status;
	error = store->ops->cred_get(store, &found, &query);
	found.capa_authtype = query.capa_authtype;
	if (error == CA_ENOTFOUND)
		status = EXIT_OK;
	else if (error || print_whole(write_cred, &found))
		status = helper_fail("get");
	ca_cred_clear(&found);
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

/*
 * Runs the CARTO handler (which takes the configuration over) for a
 * request about a CARTO token, and the plain one for anything else.
 */
static int dispatch(const struct proto_msg *msg, const char *action,
	int (*carto)(const struct proto_msg *, struct ca_config *),
	int (*plain)(const struct proto_msg *))
{
	struct ca_config cfg;
	int route = carto_route(&cfg, msg, action);

	if (route < 0)
		return helper_fail(action);
	return route ? carto(msg, &cfg) : plain(msg);
}

/* The kind of failure, by the error code (util/error.h). */
static const char *failure_kind(int code)
{
	switch (code) {
	case CA_ENET: return "network";
	case CA_EREFUSED: return "refused";
	case CA_ELOGIN: return "login_required";
	case CA_EKEYRING: return "keyring";
	case CA_EINVAL: return "invalid";
	default: return "failed";
	}
}

/*
 * A failed get, typed, on standard output for a caller that announced
 * capability[]=carto-error (the Python drop-in): error= the kind, and
 * error_reason= the cause by name when there is one. Names only, from our
 * own tables: nothing a server wrote. The message stays on standard error.
 */
static void print_failure(void)
{
	const char *reason = ca_error_reason_name(ca_error_reason());

	ca_proto_write(stdout, "capability[]", "carto-error");
	ca_proto_write(stdout, "error", failure_kind(ca_error_code()));
	if (reason)
		ca_proto_write(stdout, "error_reason", reason);
}

int action_get(const struct options *opts)
{
	struct proto_msg msg;
	int status;

	if (read_request(&msg, opts))
		return helper_fail(NULL);
	status = dispatch(&msg, "get", carto_get, plain_get);
	if (status != EXIT_OK && ca_proto_list_has(&msg, "capability[]", "carto-error"))
		print_failure();
	ca_proto_msg_clear(&msg);
	return status;
}

/* store for a CARTO identity: a token handed to us, with its expiry. */
static int carto_store(const struct proto_msg *msg, struct ca_config *cfg_in)
{
	const char *password = ca_proto_get(msg, "password");
	const char *exp = ca_proto_get(msg, "expiration");
	struct store *store = NULL;
	struct ca_config cfg = *cfg_in;
	struct ca_token tok, stored;
	struct ca_identity id;
	int status = EXIT_OK, error;

	ca_token_init(&tok);
	ca_token_init(&stored);
	ca_config_identity(&id, &cfg);
	if (!password || !*password)
		goto out;
	if (ca_broker_store_open(&store, &cfg)) {
		status = helper_fail("store");
		goto out;
	}
	error = store->ops->token_load(store, &stored, &id);
	if (error && error != CA_ENOTFOUND) {
		status = helper_fail("store");
		goto out;
	}
	if (!error && ca_streq_ct(stored.access_token, password))
		goto out; /* git approving the token we handed out */
	tok.expiration = parse_time(exp ? exp : ca_proto_get(msg, "password_expiry_utc"));
	if (tok.expiration <= ca_now()) {
		ca_debug("store: no future expiration given, not storing the token");
		goto out;
	}
	tok.access_token = ca_strdup(password);
	tok.api_base_url = ca_strdup(cfg.api_base_url ? cfg.api_base_url :
		ca_proto_get(msg, "api_base_url"));
	if (!tok.access_token || !tok.api_base_url) {
		ca_error(CA_EINVAL, "bad input: store needs api_base_url with the token");
		status = helper_fail("store");
		goto out;
	}
	if (store->ops->token_save(store, &id, &tok))
		status = helper_fail("store");
out:
	ca_identity_clear(&id);
	ca_token_clear(&tok);
	ca_token_clear(&stored);
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

static int plain_store(const struct proto_msg *msg)
{
	struct ca_config cfg;
	struct store *store = NULL;
	struct cred c;
	int status;

	cred_view(&c, msg);
	/* git-credential-store's rule: all of these, possibly empty. */
	if (!c.protocol || !(c.host || c.path))
		return EXIT_OK;
	/* ... or, from a caller with capability[]=authtype, authtype and credential. */
	if (!(c.username && c.password) && !(c.authtype && c.credential))
		return EXIT_OK;
	if (!(c.username && c.password))
		c.password = NULL; /* a half pair is not kept */
	if (c.password_expiry_utc < 0) {
		ca_error(CA_EINVAL, "bad input: password_expiry_utc must be Unix seconds");
		return helper_fail("store");
	}
	if ((status = open_plain_store(&store, &cfg, "store")))
		return status;
	if (store->ops->cred_store(store, &c))
		status = helper_fail("store");
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

int action_store(const struct options *opts)
{
	struct proto_msg msg;
	int status = EXIT_OK;

	if (read_request(&msg, opts))
		return helper_fail(NULL);
	/* What is stored must print back (proto_write): else bad input. */
	if (ca_proto_msg_check_printable(&msg))
		status = helper_fail("store");
	else if (ca_proto_get_bool(&msg, "ephemeral", 0) != 1)
		status = dispatch(&msg, "store", carto_store, plain_store);
	ca_proto_msg_clear(&msg);
	return status;
}

/*
 * How long an erase waits for a renewal in another process (a refresh
 * takes well under this). A lock held longer is a login waiting for a
 * person, which writes only when it ends: the erase then goes ahead.
 */
#define ERASE_LOCK_MS 3000

/*
 * git's rule in one store: the identity's token goes, unless password names
 * another one. CA_ENOTFOUND when the store holds none.
 */
static int erase_in(struct store *store, const struct ca_identity *id, const char *password)
{
	struct ca_token stored;
	int error;

	ca_token_init(&stored);
	error = store->ops->token_load(store, &stored, id);
	if (error)
		goto out;
	/* A password that differs from the stored one keeps it. */
	if (password && !ca_streq_ct(password, stored.access_token))
		goto out;
	if (password && stored.refresh_token) {
		/*
		 * git rejects the access token (a server answered 401): it is
		 * never handed out again, but the refresh token stays, so the
		 * next get renews without a login, and logout can still revoke
		 * it. An erase without a password forgets the identity whole.
		 */
		stored.expiration = ca_now() - 1;
		error = store->ops->token_save(store, id, &stored);
	} else {
		error = store->ops->token_erase(store, id);
	}
out:
	ca_token_clear(&stored);
	return error;
}

static int carto_erase(const struct proto_msg *msg, struct ca_config *cfg_in)
{
	const char *password = ca_proto_get(msg, "password");
	struct store *store = NULL, *file = NULL;
	struct ca_config cfg = *cfg_in;
	struct ca_store_options opts;
	struct ca_identity id;
	int status = EXIT_OK, error, lock = -1;

	ca_config_identity(&id, &cfg);
	/*
	 * Read and write under the identity's lock, as a renewal does: a
	 * renewal in another process that rotated the refresh token is never
	 * overwritten by the copy read before it (sending that used refresh
	 * token again would make the server revoke the whole family).
	 */
	if (ca_broker_store_open(&store, &cfg)) {
		status = helper_fail("erase");
		goto out;
	}
	if (ca_broker_lock(&lock, &cfg, ERASE_LOCK_MS)) {
		ca_debug("erase: the identity's lock is held (%s); going ahead without it",
			ca_error_message());
		lock = -1;
	}
	error = erase_in(store, &id, password);
	if (error && error != CA_ENOTFOUND) {
		status = helper_fail("erase");
		goto out;
	}
	/*
	 * Auto mode on the keyring: a token stored while no keyring answered
	 * (a login over ssh, cron) is in the file store, and the next get
	 * without a keyring would hand it out. It goes too.
	 */
	if (cfg.store == CA_STORE_AUTO && strcmp(store->ops->name, "file")) {
		ca_config_store_options(&opts, &cfg);
		opts.kind = CA_STORE_FILE;
		if (!ca_store_open(&file, &opts)) {
			error = erase_in(file, &id, password);
			if (error && error != CA_ENOTFOUND)
				status = helper_fail("erase");
		}
	}
out:
	if (lock >= 0)
		ca_fs_unlock(lock);
	ca_identity_clear(&id);
	ca_store_free(file);
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

static int plain_erase(const struct proto_msg *msg)
{
	struct ca_config cfg;
	struct store *store = NULL;
	struct cred query;
	int status, error;

	cred_view(&query, msg);
	/* Never erase everything for an empty request. */
	if (!query.protocol && !query.host && !query.path && !query.username)
		return EXIT_OK;
	if ((status = open_plain_store(&store, &cfg, "erase")))
		return status;
	error = store->ops->cred_erase(store, &query);
	if (error && error != CA_ENOTFOUND)
		status = helper_fail("erase");
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

int action_erase(const struct options *opts)
{
	struct proto_msg msg;
	int status;

	if (read_request(&msg, opts))
		return helper_fail(NULL);
	status = dispatch(&msg, "erase", carto_erase, plain_erase);
	ca_proto_msg_clear(&msg);
	return status;
}
