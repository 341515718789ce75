/* Commands for people and scripts: login, token, status, logout, dw. */
#include "helper/helper.h"

#include "auth/broker.h"
#include "auth/module.h"
#include "keyring/store.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/text.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A configuration from the command-line options alone. */
static int config_from_options(struct ca_config *cfg, const struct options *opts,
	const char *command)
{
	if (ca_config_from_msg(cfg, &opts->defaults))
		return helper_fail(command);
	return 0;
}

static void format_time(char *out, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, size, "%" PRId64, t);
}

/* Gets a token for the options' identity; 0 or an exit status. */
static int obtain(struct ca_token *tok, struct ca_config *cfg, struct store **store,
	const struct options *opts, const char *command, unsigned flags)
{
	int status;

	if ((status = config_from_options(cfg, opts, command)))
		return status;
	if (ca_broker_store_open(store, cfg) || ca_broker_token(tok, NULL, *store, cfg, flags))
		return helper_fail(command);
	return 0;
}

int command_login(const struct options *opts)
{
	struct store *store = NULL;
	struct ca_config cfg;
	struct ca_token tok;
	char when[64];
	int status;

	ca_token_init(&tok);
	ca_config_init(&cfg);
	if (opts->device && (ca_proto_get(&opts->defaults, "credentials_file") ||
			ca_proto_get(&opts->defaults, "open_browser"))) {
		helper_say(stderr, "carto-auth: login: --device is an OAuth login; it does not "
			"go with %s", ca_proto_get(&opts->defaults, "credentials_file") ?
			"--m2m" : "--no-browser");
		return EXIT_USAGE;
	}
	if (!(status = obtain(&tok, &cfg, &store, opts, "login",
			BROKER_FORCE | (opts->device ? BROKER_DEVICE : 0)))) {
		format_time(when, sizeof(when), tok.expiration);
		helper_say(stderr, "Logged in to CARTO (%s, %s); the token is stored in the %s store and valid until %s.",
			ca_mode_name(cfg.mode), tok.api_base_url ? tok.api_base_url : "no API base URL",
			store->ops->name, when);
	}
	ca_token_clear(&tok);
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

/*
 * Prints a JSON object made with cJSON as one line, in the layout the
 * documentation shows ({"key": value, "key": value}): cJSON encodes it
 * whole, then a space goes after each ':' and ',' outside strings. The
 * text is printed only once complete; the text and the tree are wiped
 * when freed (ca_json_print, ca_json_delete: util/mem.h).
 */
static int print_json_line(FILE *f, const cJSON *object)
{
	char *text = ca_json_print(object, 0), *p;
	int in_string = 0;

	if (!text)
		return ca_error(CA_ERR, "out of memory");
	for (p = text; *p; p++) {
		fputc(*p, f);
		if (in_string && *p == '\\' && p[1])
			fputc(*++p, f);
		else if (*p == '"')
			in_string = !in_string;
		else if (!in_string && (*p == ':' || *p == ','))
			fputc(' ', f);
	}
	fputc('\n', f);
	ca_free(text);
	return 0;
}

/*
 * Adds the string name: value ("" for NULL) to object; CA_ERR when out of
 * memory.
 */
static int json_add(cJSON *object, const char *name, const char *value)
{
	return cJSON_AddItemToObject(object, name, cJSON_CreateString(value ? value : ""))
		? 0 : ca_error(CA_ERR, "out of memory");
}

/* A value for eval: single-quoted, with any ' closed and reopened. */
static void shell_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; s && *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/*
 * token and dw print only what the protocol could print (proto_write's
 * rule): a value with a control character, a line separator or invalid
 * UTF-8 is refused, and then nothing at all is printed.
 */
static int unprintable(const char *what, const char *value)
{
	if (ca_text_printable(value))
		return 0;
	ca_error(CA_ERR, "refusing to print %s: it holds a control character, a Unicode line "
		"separator or invalid UTF-8", what);
	return 1;
}

static int check_format(const char *format, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (!strcmp(format, *allowed))
			return 0;
	helper_say(stderr, "carto-auth: unknown --format '%s'; see carto-auth --help", format);
	return EXIT_USAGE;
}

int command_token(const struct options *opts)
{
	static const char *const formats[] = { "plain", "json", "env", "header", NULL };
	const char *format = opts->format ? opts->format : "plain";
	struct store *store = NULL;
	struct ca_config cfg;
	struct ca_token tok;
	cJSON *json = NULL;
	int status;

	if ((status = check_format(format, formats)))
		return status;
	ca_token_init(&tok);
	ca_config_init(&cfg);
	if ((status = obtain(&tok, &cfg, &store, opts, "token", 0)))
		goto out;
	if (unprintable("the token", tok.access_token) ||
	    ((!strcmp(format, "env") || !strcmp(format, "json")) &&
	     unprintable("the API base URL", tok.api_base_url))) {
		status = helper_fail("token");
		goto out;
	}
	if (!strcmp(format, "plain")) {
		printf("%s\n", tok.access_token);
	} else if (!strcmp(format, "header")) {
		printf("Authorization: Bearer %s\n", tok.access_token);
	} else if (!strcmp(format, "env")) {
		fputs("CARTO_API_BASE_URL=", stdout);
		shell_quote(stdout, tok.api_base_url);
		fputs("\nCARTO_ACCESS_TOKEN=", stdout);
		shell_quote(stdout, tok.access_token);
		fputc('\n', stdout);
	} else {
		if (!(json = cJSON_CreateObject()) ||
		    json_add(json, "access_token", tok.access_token) ||
		    !cJSON_AddItemToObject(json, "expiration", cJSON_CreateNumber((double)tok.expiration)) ||
		    json_add(json, "api_base_url", tok.api_base_url) ||
		    json_add(json, "mode", ca_mode_name(cfg.mode)) ||
		    print_json_line(stdout, json)) {
			ca_error(CA_ERR, "out of memory");
			status = helper_fail("token");
		}
	}
out:
	ca_json_delete(json);
	ca_token_clear(&tok);
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

int command_dw(const struct options *opts)
{
	static const char *const formats[] = { "plain", "json", "env", NULL };
	const char *format = opts->format ? opts->format : "plain";
	const struct ca_module *module;
	struct store *store = NULL;
	struct ca_config cfg;
	struct ca_token tok;
	char *project = NULL, *token = NULL;
	cJSON *json = NULL;
	int status;

	if ((status = check_format(format, formats)))
		return status;
	ca_token_init(&tok);
	ca_config_init(&cfg);
	if ((status = obtain(&tok, &cfg, &store, opts, "dw", 0)))
		goto out;
	module = ca_module_get();
	if (!module || module->dw_credentials(&project, &token, &cfg, tok.api_base_url,
		tok.access_token)) {
		status = helper_fail("dw");
		goto out;
	}
	if (unprintable("the Data Warehouse project", project) ||
	    unprintable("the Data Warehouse token", token)) {
		status = helper_fail("dw");
		goto out;
	}
	if (!strcmp(format, "json")) {
		if (!(json = cJSON_CreateObject()) || json_add(json, "project", project) ||
		    json_add(json, "token", token) || print_json_line(stdout, json)) {
			ca_error(CA_ERR, "out of memory");
			status = helper_fail("dw");
		}
	} else if (!strcmp(format, "env")) {
		fputs("CARTO_DW_PROJECT=", stdout);
		shell_quote(stdout, project);
		fputs("\nCARTO_DW_TOKEN=", stdout);
		shell_quote(stdout, token);
		fputc('\n', stdout);
	} else {
		ca_proto_write(stdout, "carto_dw_project", project);
		ca_proto_write(stdout, "carto_dw_token", token);
	}
out:
	ca_json_delete(json);
	ca_free(project);
	ca_free(token);
	ca_token_clear(&tok);
	ca_store_free(store);
	ca_config_clear(&cfg);
	return status;
}

/* The stores status and logout look at: the file store, and the keyring
 * when one answers (or is asked for). */
static int open_stores(struct store *stores[2], struct ca_config *cfg)
{
	struct ca_store_options so;
	int error;

	ca_config_store_options(&so, cfg);
	stores[0] = stores[1] = NULL;
	if (cfg->store != CA_STORE_KEYRING && ca_file_store_open(&stores[0], &so))
		return -1;
	if (cfg->store == CA_STORE_FILE || cfg->cache_file || !ca_store_session_bus_present())
		return cfg->store == CA_STORE_KEYRING ? ca_store_open(&stores[1], &so) : 0;
	error = ca_store_keyring_open(&stores[1], &so);
	if (error && cfg->store == CA_STORE_KEYRING)
		return -1;
	if (error)
		ca_warn("%s", ca_error_message());
	return 0;
}

struct status_state {
	int count;
	const char *store;
};

static int print_status(const struct store_token_info *info, void *payload)
{
	struct status_state *st = payload;
	int64_t left = info->expiration - ca_now();
	char when[64];

	format_time(when, sizeof(when), info->expiration);
	/* Every field may come from a server or a tampered store: escaped. */
	if (st->count++)
		helper_say(stdout, "%s", "");
	helper_say(stdout, "%s token", ca_mode_name(info->mode));
	if (info->mode == CA_MODE_M2M && info->client_id)
		helper_say(stdout, "  client id:    %s", info->client_id);
	if (info->org)
		helper_say(stdout, "  organization: %s", info->org);
	if (info->account)
		helper_say(stdout, "  account:      %s", info->account);
	helper_say(stdout, "  api base url: %s", info->api_base_url ? info->api_base_url : "(unknown)");
	helper_say(stdout, "  auth server:  %s", info->auth_url ? info->auth_url : "(default)");
	if (left > 0)
		helper_say(stdout, "  expires:      %s (in %" PRId64 " min)", when, left / 60);
	else
		helper_say(stdout, "  expired:      %s%s", when,
			info->has_refresh_token ? " (renewable with its refresh token)" : "");
	/* "file /path/token.json", "keyring", "keyring (locked)" */
	if (!strncmp(info->location, st->store, strlen(st->store)))
		helper_say(stdout, "  store:        %s", info->location);
	else
		helper_say(stdout, "  store:        %s %s", st->store, info->location);
	return 0;
}

int command_status(const struct options *opts)
{
	struct status_state st = { 0, NULL };
	struct store *stores[2];
	struct ca_config cfg;
	int status, i;

	if ((status = config_from_options(&cfg, opts, "status")))
		return status;
	if (open_stores(stores, &cfg)) {
		status = helper_fail("status");
		goto out;
	}
	for (i = 1; i >= 0; i--) {
		if (!stores[i])
			continue;
		st.store = stores[i]->ops->name;
		if (stores[i]->ops->token_list(stores[i], print_status, &st)) {
			status = helper_fail("status");
			goto out;
		}
	}
	if (!st.count)
		printf("No CARTO token is stored. Log in with: carto-auth login\n");
out:
	ca_store_free(stores[0]);
	ca_store_free(stores[1]);
	ca_config_clear(&cfg);
	return status;
}

struct logout_state {
	struct store *store;
	const struct ca_config *cfg;
	int count;
	int error;
	int revoked, not_revoked;
};

/*
 * Revokes the refresh token stored for id at its login server, before the
 * logout forgets it. Never stops the logout: offline or refused, the
 * token is forgotten all the same, and a warning says it was not revoked.
 * M2M tokens have no refresh token: nothing to revoke.
 */
static void revoke_stored(struct logout_state *st, const struct ca_config *id)
{
	const struct ca_module *module;
	struct ca_identity ident;
	struct ca_token tok;
	int error;

	if (id->mode != CA_MODE_OAUTH)
		return;
	ca_token_init(&tok);
	ca_config_identity(&ident, id);
	error = st->store->ops->token_load(st->store, &tok, &ident);
	ca_identity_clear(&ident);
	if (error || !tok.refresh_token) {
		if (error)
			ca_error_clear();
		goto out;
	}
	module = ca_module_get();
	error = module ? module->oauth_revoke(id, tok.refresh_token) : CA_ERR;
	if (error) {
		ca_warn("the refresh token was not revoked: %s; it is forgotten here all the "
			"same, but the server still honours it until it expires",
			ca_error_message());
		ca_error_clear();
		st->not_revoked++;
	} else {
		st->revoked++;
	}
out:
	ca_token_clear(&tok);
}

static int erase_listed(const struct store_token_info *info, void *payload)
{
	struct logout_state *st = payload;

	if (info->mode == CA_MODE_OAUTH && info->has_refresh_token) {
		/* The listed identity, on the current configuration. */
		struct ca_config id = *st->cfg;

		id.mode = CA_MODE_OAUTH;
		if (info->auth_url)
			id.auth_url = (char *)info->auth_url;
		id.org = (char *)info->org;
		id.api_base_url = (char *)info->api_base_url;
		revoke_stored(st, &id);
	}
	if (st->store->ops->token_erase_info(st->store, info)) {
		st->error = 1;
		return 1;
	}
	st->count++;
	return 0;
}

int command_logout(const struct options *opts)
{
	struct store *stores[2];
	struct ca_config cfg;
	int status, i, removed = 0, revoked = 0, not_revoked = 0, error;

	if ((status = config_from_options(&cfg, opts, "logout")))
		return status;
	if (open_stores(stores, &cfg)) {
		status = helper_fail("logout");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		struct logout_state st = { stores[i], &cfg, 0, 0, 0, 0 };

		if (!stores[i])
			continue;
		if (opts->all) {
			error = stores[i]->ops->token_list(stores[i], erase_listed, &st);
			error = error ? error : (st.error ? CA_ERR : 0);
			removed += st.count;
		} else {
			struct ca_identity id;

			revoke_stored(&st, &cfg);
			ca_config_identity(&id, &cfg);
			error = stores[i]->ops->token_erase(stores[i], &id);
			ca_identity_clear(&id);
			removed += !error;
		}
		revoked += st.revoked;
		not_revoked += st.not_revoked;
		if (error && error != CA_ENOTFOUND) {
			status = helper_fail("logout");
			goto out;
		}
	}
	if (revoked)
		fprintf(stderr, "Revoked %d refresh token%s at the CARTO login server.\n", revoked,
			revoked == 1 ? "" : "s");
	if (not_revoked)
		fprintf(stderr, "%d refresh token%s NOT revoked (see the warning above).\n",
			not_revoked, not_revoked == 1 ? " was" : "s were");
	if (removed)
		fprintf(stderr, "Removed %d stored CARTO token%s.\n", removed, removed == 1 ? "" : "s");
	else
		fprintf(stderr, "No stored CARTO token matched; nothing removed.\n");
out:
	ca_store_free(stores[0]);
	ca_store_free(stores[1]);
	ca_config_clear(&cfg);
	return status;
}
