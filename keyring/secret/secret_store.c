/*
 * The Secret Service store, through libsecret's synchronous API.
 *
 * Two schemas; attributes identify an item and never hold a secret:
 *
 *   com.carto.auth.Token       mode, auth_url, client_id (the M2M client,
 *                              or the public OAuth client), org ("" when
 *                              none), api_base_url, account, expiration.
 *                              A token is looked up by its identity: mode,
 *                              auth_url, client_id and org, plus
 *                              api_base_url for M2M (for OAuth it only
 *                              describes the account). The secret is JSON:
 *                              {"access_token","expiration","api_base_url",
 *                              "refresh_token"}, and for M2M the salted
 *                              fingerprint of the client secret
 *                              ("secret_salt", "secret_hmac"; never the
 *                              secret): a token goes only to a caller
 *                              with the same client secret.
 *   com.carto.auth.Credential  protocol, host (with :port), path,
 *                              username (each absent when git did not give
 *                              it), password_expiry_utc. The secret is the
 *                              password, followed by
 *                              "\noauth_refresh_token=..." when there is
 *                              one (git-credential-libsecret's format).
 *
 * Labels are for people browsing their keyring: "CARTO token (m2m,
 * gcp-us-east1)", "CARTO token (oauth, org acme)", "Git: https://host/path
 * (user)".
 *
 * Locked items are never "not found" and are never erased without being
 * unlocked: without permission to prompt (interactive=false, or no display
 * for the prompt) a locked match is CA_EKEYRING. Every D-Bus wait is
 * bounded by a watchdog that cancels the call.
 */
#include "keyring/secret/secret_store.h"

#include "keyring/secret/secret_session.h"
#include "keyring/store.h"
#include "util/error.h"
#include "util/mem.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <libsecret/secret.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRETS_NAME "org.freedesktop.secrets"
#define BUS_CALL_MS 2000    /* one call to the bus daemon */
#define START_MS 5000       /* activating the Secret Service */
#define OPEN_MS 5000        /* connecting and opening a session, in all */
#define OP_MS 10000         /* one operation that shows no prompt */
#define PROMPT_MS 120000    /* one operation that may wait for a person */

struct secret_store {
	struct store base;
	SecretService *service;
	int can_prompt; /* unlock or create-collection prompts allowed */
};

static const SecretSchema token_schema = {
	SECRET_STORE_TOKEN_SCHEMA, SECRET_SCHEMA_NONE,
	{
		{ "mode", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "auth_url", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "client_id", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "org", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "api_base_url", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "expiration", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

static const SecretSchema cred_schema = {
	SECRET_STORE_CRED_SCHEMA, SECRET_SCHEMA_NONE,
	{
		{ "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "path", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "password_expiry_utc", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

static const char *const cred_keys[] = { "protocol", "host", "path", "username" };

static const char *cred_field(const struct cred *c, size_t i)
{
	const char *fields[] = { c->protocol, c->host, c->path, c->username };

	return fields[i];
}

/* ---- bounded waits ---- */

/*
 * A thread that cancels a GCancellable when the deadline passes, so a
 * libsecret call stuck on D-Bus (activation, a dead service, a prompt
 * nobody answers) returns G_IO_ERROR_CANCELLED instead of hanging.
 */
struct watchdog {
	GCancellable *cancel;
	GMutex lock;
	GCond cond;
	GThread *thread;
	gint64 deadline;
	int done;
	int ms;
};

static gpointer watchdog_run(gpointer data)
{
	struct watchdog *w = data;

	g_mutex_lock(&w->lock);
	while (!w->done) {
		if (!g_cond_wait_until(&w->cond, &w->lock, w->deadline)) {
			if (!w->done)
				g_cancellable_cancel(w->cancel);
			break;
		}
	}
	g_mutex_unlock(&w->lock);
	return NULL;
}

static int watchdog_start(struct watchdog *w, int ms)
{
	memset(w, 0, sizeof(*w));
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
	w->ms = ms;
	w->cancel = g_cancellable_new();
	w->deadline = g_get_monotonic_time() + (gint64)ms * G_TIME_SPAN_MILLISECOND;
	w->thread = g_thread_try_new("carto-auth-watchdog", watchdog_run, w, NULL);
	if (!w->thread) {
		g_object_unref(w->cancel);
		g_mutex_clear(&w->lock);
		g_cond_clear(&w->cond);
		return ca_error(CA_ERR, "cannot start a thread");
	}
	return 0;
}

static void watchdog_stop(struct watchdog *w)
{
	if (!w->thread)
		return;
	g_mutex_lock(&w->lock);
	w->done = 1;
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
	g_thread_join(w->thread);
	w->thread = NULL;
	g_object_unref(w->cancel);
	w->cancel = NULL;
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->cond);
}

/* Turns a GError (consumed) into CA_EKEYRING with a message. */
static int keyring_error(GError **err, const struct watchdog *w, const char *what)
{
	int code;

	if (w && w->cancel && g_cancellable_is_cancelled(w->cancel))
		code = ca_error(CA_EKEYRING, "%s: the Secret Service did not answer within %d s",
			what, w->ms / 1000);
	else if (*err && (*err)->domain == SECRET_ERROR && (*err)->code == SECRET_ERROR_IS_LOCKED)
		code = ca_error(CA_EKEYRING, "%s: the keyring is locked", what);
	else
		code = ca_error(CA_EKEYRING, "%s: %s", what,
			*err ? (*err)->message : "the Secret Service failed");
	g_clear_error(err);
	return code;
}

static void log_to_debug(const gchar *domain, GLogLevelFlags level,
	const gchar *message, gpointer data)
{
	(void)level;
	(void)data;
	ca_debug("keyring: %s: %s", domain ? domain : "glib", message);
}

/* libsecret reports some failures with g_warning; the library never prints. */
static void quiet_libsecret(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_log_set_handler("libsecret", G_LOG_LEVEL_MASK & ~G_LOG_LEVEL_ERROR,
			log_to_debug, NULL);
		g_once_init_leave(&done, 1);
	}
}

/* ---- connecting ---- */

static GVariant *bus_call(GDBusConnection *bus, const char *method, GVariant *args,
	const char *reply_type, int ms, GCancellable *cancel, GError **err)
{
	return g_dbus_connection_call_sync(bus, "org.freedesktop.DBus",
		"/org/freedesktop/DBus", "org.freedesktop.DBus", method, args,
		G_VARIANT_TYPE(reply_type), G_DBUS_CALL_FLAGS_NO_AUTO_START, ms, cancel, err);
}

/*
 * Whether org.freedesktop.secrets has an owner, starting it (bounded) when
 * the bus can activate it. Asking first keeps libsecret from waiting on an
 * activation that cannot happen.
 */
static int service_reachable(GDBusConnection *bus, struct watchdog *w)
{
	GVariant *reply = NULL;
	GVariantIter *names = NULL;
	GError *err = NULL;
	const char *name;
	gboolean owned = FALSE, activatable = FALSE;
	int error = 0;

	reply = bus_call(bus, "NameHasOwner", g_variant_new("(s)", SECRETS_NAME), "(b)",
		BUS_CALL_MS, w->cancel, &err);
	if (!reply)
		return keyring_error(&err, w, "cannot talk to the session bus");
	g_variant_get(reply, "(b)", &owned);
	g_variant_unref(reply);
	if (owned)
		return 0;

	reply = bus_call(bus, "ListActivatableNames", NULL, "(as)", BUS_CALL_MS, w->cancel, &err);
	if (!reply)
		return keyring_error(&err, w, "cannot talk to the session bus");
	g_variant_get(reply, "(as)", &names);
	while (g_variant_iter_loop(names, "&s", &name))
		if (!strcmp(name, SECRETS_NAME))
			activatable = TRUE;
	g_variant_iter_free(names);
	g_variant_unref(reply);
	if (!activatable)
		return ca_error(CA_EKEYRING,
			"no Secret Service on the session bus (nothing provides " SECRETS_NAME ")");

	ca_debug("keyring: starting the Secret Service");
	reply = bus_call(bus, "StartServiceByName", g_variant_new("(su)", SECRETS_NAME, 0u),
		"(u)", START_MS, w->cancel, &err);
	if (!reply)
		error = keyring_error(&err, w, "the Secret Service did not start");
	else
		g_variant_unref(reply);
	return error;
}

/* Whether a graphical unlock prompt (gcr, KWallet, KeePassXC) can appear. */
static int display_present(void)
{
	const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");

	return (x && *x) || (wl && *wl);
}

/* The default collection, or NULL (no error) when there is none. */
static int default_collection(SecretCollection **out, struct secret_store *ss,
	struct watchdog *w)
{
	GError *err = NULL;

	*out = secret_collection_for_alias_sync(ss->service, SECRET_COLLECTION_DEFAULT,
		SECRET_COLLECTION_NONE, w->cancel, &err);
	if (err)
		return keyring_error(&err, w, "cannot open the default keyring");
	return 0;
}

/* Why no prompt may be shown (for messages). */
static const char *no_prompt_reason(const struct ca_config *cfg)
{
	return cfg->interactive ? "no display to show a prompt on" : "interactive=false";
}

/* ---- attributes ---- */

static GHashTable *attrs_new(void)
{
	return g_hash_table_new(g_str_hash, g_str_equal);
}

static void attrs_put(GHashTable *attrs, const char *key, const char *value)
{
	g_hash_table_insert(attrs, (gpointer)key, (gpointer)(value ? value : ""));
}

static const char *attr(GHashTable *attrs, const char *key)
{
	return attrs ? g_hash_table_lookup(attrs, key) : NULL;
}

static int64_t attr_int(GHashTable *attrs, const char *key)
{
	const char *v = attr(attrs, key);
	long long n;
	char *end;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	return (errno || *end) ? 0 : (int64_t)n;
}

static const char *nonempty(const char *s)
{
	return (s && *s) ? s : NULL;
}

/* The attributes that name a token's identity (see the top of the file). */
static GHashTable *token_identity(const struct ca_config *id)
{
	GHashTable *attrs = attrs_new();
	int m2m = id->mode == CA_MODE_M2M;

	attrs_put(attrs, "mode", ca_mode_name(id->mode));
	attrs_put(attrs, "auth_url", id->auth_url);
	attrs_put(attrs, "client_id", m2m ? id->client_id : id->oauth_client_id);
	attrs_put(attrs, "org", m2m ? NULL : id->org);
	if (m2m)
		attrs_put(attrs, "api_base_url", id->api_base_url);
	return attrs;
}

GHashTable *ca_secret_store_token_identity(const struct ca_config *id)
{
	return token_identity(id);
}

/* ---- searching ---- */

struct found {
	GList *items;   /* SecretItem *, unlocked ones with their secrets */
	size_t locked;  /* how many matches stayed locked */
};

static void found_clear(struct found *f)
{
	g_list_free_full(f->items, g_object_unref);
	memset(f, 0, sizeof(*f));
}

/*
 * Every item of schema matching attrs. With unlock (and permission to
 * prompt), locked matches are unlocked first; the rest are counted in
 * out->locked and left out of out->items.
 */
static int search(struct found *out, struct secret_store *ss, const SecretSchema *schema,
	GHashTable *attrs, int load_secrets, int unlock, const char *what)
{
	SecretSearchFlags flags = SECRET_SEARCH_ALL;
	struct watchdog w;
	GError *err = NULL;
	GList *items, *l;
	int error, prompt = unlock && ss->can_prompt;

	memset(out, 0, sizeof(*out));
	if (load_secrets)
		flags |= SECRET_SEARCH_LOAD_SECRETS;
	if (prompt)
		flags |= SECRET_SEARCH_UNLOCK;
	if ((error = watchdog_start(&w, prompt ? PROMPT_MS : OP_MS)))
		return error;
	items = secret_service_search_sync(ss->service, schema, attrs, flags, w.cancel, &err);
	if (err) {
		g_list_free_full(items, g_object_unref);
		error = keyring_error(&err, &w, what);
		goto out;
	}
	for (l = items; l; l = l->next) {
		SecretItem *item = l->data;

		if (secret_item_get_locked(item)) {
			out->locked++;
			g_object_unref(item);
		} else {
			out->items = g_list_prepend(out->items, item);
		}
	}
	g_list_free(items);
	out->items = g_list_reverse(out->items);
out:
	watchdog_stop(&w);
	return error;
}

static int locked_error(const char *what, size_t locked)
{
	return ca_error(CA_EKEYRING, "%s: the keyring is locked (%zu matching item%s)",
		what, locked, locked == 1 ? "" : "s");
}

static int delete_item(SecretItem *item)
{
	struct watchdog w;
	GError *err = NULL;
	int error;

	if ((error = watchdog_start(&w, OP_MS)))
		return error;
	if (!secret_item_delete_sync(item, w.cancel, &err))
		error = keyring_error(&err, &w, "cannot remove a keyring item");
	watchdog_stop(&w);
	return error;
}

/* The most recently modified item of a list, or NULL. */
static SecretItem *newest(GList *items)
{
	SecretItem *best = NULL;
	GList *l;

	for (l = items; l; l = l->next)
		if (!best || secret_item_get_modified(l->data) > secret_item_get_modified(best))
			best = l->data;
	return best;
}

/*
 * Creates an item in the default collection, unlocking or creating the
 * collection first when a prompt is allowed. *out gets the new item.
 */
static int create_item(SecretItem **out, struct secret_store *ss, const SecretSchema *schema,
	GHashTable *attrs, const char *label, SecretValue *value)
{
	SecretCollection *coll = NULL;
	struct watchdog w;
	GError *err = NULL;
	int error;

	if ((error = watchdog_start(&w, ss->can_prompt ? PROMPT_MS : OP_MS)))
		return error;
	if ((error = default_collection(&coll, ss, &w)))
		goto out;
	if (!coll) {
		if (!ss->can_prompt) {
			error = ca_error(CA_EKEYRING,
				"the keyring has no default collection, and creating one needs a prompt");
			goto out;
		}
		ca_debug("keyring: creating the default collection (prompt)");
		coll = secret_collection_create_sync(ss->service, "Login", SECRET_COLLECTION_DEFAULT,
			SECRET_COLLECTION_CREATE_NONE, w.cancel, &err);
		if (!coll) {
			error = keyring_error(&err, &w, "cannot create the default keyring");
			goto out;
		}
	}
	if (secret_collection_get_locked(coll)) {
		GList objects = { coll, NULL, NULL };

		if (!ss->can_prompt) {
			error = ca_error(CA_EKEYRING, "the keyring is locked");
			goto out;
		}
		ca_debug("keyring: unlocking the default collection (prompt)");
		if (secret_service_unlock_sync(ss->service, &objects, w.cancel, NULL, &err) < 1) {
			if (err)
				error = keyring_error(&err, &w, "cannot unlock the keyring");
			else
				error = ca_error(CA_EKEYRING, "the keyring is locked (unlocking was dismissed)");
			goto out;
		}
	}
	*out = secret_item_create_sync(coll, schema, attrs, label, value,
		SECRET_ITEM_CREATE_NONE, w.cancel, &err);
	if (!*out)
		error = keyring_error(&err, &w, "cannot save to the keyring");
out:
	if (coll)
		g_object_unref(coll);
	watchdog_stop(&w);
	return error;
}

/* Deletes every item of list except keep (the one just written). */
static int delete_others(GList *items, SecretItem *keep)
{
	const char *keep_path = keep ? g_dbus_proxy_get_object_path(G_DBUS_PROXY(keep)) : "";
	GList *l;
	int error = 0, e;

	for (l = items; l; l = l->next) {
		if (!strcmp(g_dbus_proxy_get_object_path(G_DBUS_PROXY(l->data)), keep_path))
			continue;
		if ((e = delete_item(l->data)) && !error)
			error = e;
	}
	return error;
}

/* ---- tokens ---- */

/* "gcp-us-east1" from https://gcp-us-east1.api.carto.com, else the host. */
static void region_of(char *out, size_t size, const char *url)
{
	const char *host, *end, *api;
	size_t len;

	out[0] = '\0';
	if (!url)
		return;
	host = strstr(url, "://");
	host = host ? host + 3 : url;
	end = host + strcspn(host, "/?#");
	api = strstr(host, ".api.");
	if (api && api < end)
		end = api;
	len = (size_t)(end - host);
	if (len >= size)
		len = size - 1;
	memcpy(out, host, len);
	out[len] = '\0';
}

static void token_label(char *out, size_t size, const struct ca_config *id,
	const struct ca_token *tok)
{
	char region[128];
	size_t n;

	region_of(region, sizeof(region), tok->api_base_url ? tok->api_base_url : id->api_base_url);
	n = (size_t)snprintf(out, size, "CARTO token (%s", ca_mode_name(id->mode));
	if (region[0] && n < size)
		n += (size_t)snprintf(out + n, size - n, ", %s", region);
	if (id->mode == CA_MODE_OAUTH && id->org && n < size)
		n += (size_t)snprintf(out + n, size - n, ", org %s", id->org);
	if (n < size)
		snprintf(out + n, size - n, ")");
}

/* The item's secret; NULL with the last error set on failure. */
static char *token_secret_json(const struct ca_config *id, const struct ca_token *tok)
{
	struct store_fp fp = { "", "" };
	int m2m = id->mode == CA_MODE_M2M;
	cJSON *root;
	char *json = NULL;

	if (m2m && ca_store_fp_new(&fp, id->client_secret))
		return NULL;
	if (!(root = cJSON_CreateObject())) {
		ca_error(CA_ERR, "out of memory");
		return NULL;
	}
	if (!cJSON_AddStringToObject(root, "access_token", tok->access_token) ||
	    !cJSON_AddNumberToObject(root, "expiration", (double)tok->expiration) ||
	    (tok->api_base_url && !cJSON_AddStringToObject(root, "api_base_url", tok->api_base_url)) ||
	    (tok->refresh_token && !cJSON_AddStringToObject(root, "refresh_token", tok->refresh_token)) ||
	    (m2m && (!cJSON_AddStringToObject(root, "secret_salt", fp.salt) ||
		     !cJSON_AddStringToObject(root, "secret_hmac", fp.hmac)))) {
		ca_error(CA_ERR, "out of memory");
		goto out;
	}
	json = ca_json_print(root, 0);
out:
	ca_json_delete(root);
	return json;
}

static const char *json_str(const cJSON *root, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);

	return (cJSON_IsString(item) && *item->valuestring) ? item->valuestring : NULL;
}

/*
 * Reads a token from an item's secret and attributes; CA_EINVAL when the
 * secret is not one of ours, CA_ENOTFOUND when id is an M2M identity whose
 * client secret is not the one the token was stored for. Shared with the
 * fast path (secret_fast.c).
 */
int ca_secret_store_token_parse(struct ca_token *out, const char *data, size_t len,
	GHashTable *attrs, const struct ca_config *id)
{
	const char *access, *api, *refresh, *account;
	const cJSON *exp;
	struct ca_token tok;
	cJSON *root;
	int error = CA_EINVAL;

	ca_token_init(&tok);
	root = cJSON_ParseWithLength(data, len);
	access = json_str(root, "access_token");
	exp = cJSON_GetObjectItemCaseSensitive(root, "expiration");
	if (!access || strpbrk(access, "\r\n") || !cJSON_IsNumber(exp) ||
	    ca_time_from_double(&tok.expiration, exp->valuedouble))
		goto out;
	if (id && id->mode == CA_MODE_M2M && !ca_store_fp_matches(json_str(root, "secret_salt"),
	    json_str(root, "secret_hmac"), id->client_secret)) {
		error = CA_ENOTFOUND;
		goto out;
	}
	api = json_str(root, "api_base_url");
	if (!api)
		api = nonempty(attr(attrs, "api_base_url"));
	refresh = json_str(root, "refresh_token");
	if (refresh && strpbrk(refresh, "\r\n"))
		refresh = NULL;
	account = nonempty(attr(attrs, "account"));
	if (!(tok.access_token = ca_strdup(access)) ||
	    (api && !(tok.api_base_url = ca_strdup(api))) ||
	    (refresh && !(tok.refresh_token = ca_strdup(refresh))) ||
	    (account && !(tok.account = ca_strdup(account)))) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	ca_token_move(out, &tok);
	error = 0;
out:
	ca_json_delete(root);
	ca_token_clear(&tok);
	return error;
}

/*
 * Reads an item's token; CA_EINVAL when its secret is not one of ours,
 * CA_ENOTFOUND when it was stored for another client secret than id's
 * (id NULL: no check, for listing).
 */
static int token_from_item(struct ca_token *out, SecretItem *item, const struct ca_config *id)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	SecretValue *value = secret_item_get_secret(item);
	const char *data;
	gsize len = 0;
	int error = CA_EINVAL;

	if (value) {
		data = secret_value_get(value, &len);
		error = ca_secret_store_token_parse(out, data, len, attrs, id);
		secret_value_unref(value);
	}
	if (attrs)
		g_hash_table_unref(attrs);
	return error;
}

static int ss_token_load(struct store *s, struct ca_token *out, const struct ca_config *id)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs = token_identity(id);
	struct found f;
	int error;

	error = search(&f, ss, &token_schema, attrs, 1, 1, "cannot read the keyring");
	g_hash_table_unref(attrs);
	if (error)
		return error;
	error = CA_ENOTFOUND;
	/* Newest first: several items can exist after an interrupted save. */
	while (f.items && error) {
		SecretItem *item = newest(f.items);
		int rc = token_from_item(out, item, id);

		if (!rc) {
			ca_debug("keyring: %s token found", ca_mode_name(id->mode));
			error = 0;
		} else if (rc == CA_ENOTFOUND) {
			ca_debug("keyring: the %s token item is for another client secret",
				ca_mode_name(id->mode));
		} else {
			ca_debug("keyring: ignoring a damaged %s token item", ca_mode_name(id->mode));
		}
		f.items = g_list_remove(f.items, item);
		g_object_unref(item);
	}
	if (error == CA_ENOTFOUND && f.locked)
		error = locked_error("cannot read the token", f.locked);
	found_clear(&f);
	return error;
}

static int ss_token_save(struct store *s, const struct ca_config *id, const struct ca_token *tok)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs = token_identity(id);
	SecretValue *value = NULL;
	SecretItem *fresh = NULL;
	char label[256], expiration[32], *json = NULL;
	struct found old = { NULL, 0 };
	int error;

	if (!tok->access_token)
		return ca_error(CA_EINVAL, "no access token to store");
	if ((error = search(&old, ss, &token_schema, attrs, 0, 1, "cannot read the keyring")))
		goto out;
	if (old.locked) {
		error = locked_error("cannot replace the stored token", old.locked);
		goto out;
	}
	snprintf(expiration, sizeof(expiration), "%" PRId64, tok->expiration);
	if (id->mode == CA_MODE_OAUTH)
		attrs_put(attrs, "api_base_url", tok->api_base_url);
	attrs_put(attrs, "account", tok->account);
	attrs_put(attrs, "expiration", expiration);
	token_label(label, sizeof(label), id, tok);
	if (!(json = token_secret_json(id, tok))) {
		error = ca_error_code() ? ca_error_code() : ca_error(CA_ERR, "out of memory");
		goto out;
	}
	value = secret_value_new(json, -1, "application/json");
	if ((error = create_item(&fresh, ss, &token_schema, attrs, label, value)))
		goto out;
	ca_debug("keyring: %s token saved (%s)", ca_mode_name(id->mode), label);
	error = delete_others(old.items, fresh);
out:
	if (fresh)
		g_object_unref(fresh);
	if (value)
		secret_value_unref(value);
	ca_free(json);
	found_clear(&old);
	g_hash_table_unref(attrs);
	return error;
}

static int erase_all(struct secret_store *ss, const SecretSchema *schema, GHashTable *attrs,
	int *out_count)
{
	struct found f;
	int error;

	*out_count = 0;
	if ((error = search(&f, ss, schema, attrs, 0, 1, "cannot read the keyring")))
		return error;
	/* Never a partial erase that looks complete: refuse while locked. */
	if (f.locked) {
		error = locked_error("cannot erase", f.locked);
		goto out;
	}
	*out_count = (int)g_list_length(f.items);
	error = delete_others(f.items, NULL);
out:
	found_clear(&f);
	return error;
}

static int ss_token_erase(struct store *s, const struct ca_config *id)
{
	GHashTable *attrs = token_identity(id);
	int error, count;

	error = erase_all((struct secret_store *)s, &token_schema, attrs, &count);
	g_hash_table_unref(attrs);
	if (!error)
		ca_debug("keyring: %d %s token item(s) removed", count, ca_mode_name(id->mode));
	return (!error && !count) ? CA_ENOTFOUND : error;
}

static int ss_token_erase_info(struct store *s, const struct store_token_info *info)
{
	GHashTable *attrs = attrs_new();
	int error, count;

	attrs_put(attrs, "mode", ca_mode_name(info->mode));
	attrs_put(attrs, "auth_url", info->auth_url);
	if (nonempty(info->client_id))
		attrs_put(attrs, "client_id", info->client_id);
	if (info->mode == CA_MODE_M2M) {
		attrs_put(attrs, "api_base_url", info->api_base_url);
	} else {
		attrs_put(attrs, "org", info->org);
	}
	error = erase_all((struct secret_store *)s, &token_schema, attrs, &count);
	g_hash_table_unref(attrs);
	return error;
}

static int ss_token_list(struct store *s, store_token_cb cb, void *payload)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *none = attrs_new();
	GList *items = NULL, *l;
	GError *err = NULL;
	struct watchdog w;
	int error, stop = 0;

	/* Locked items are listed from their attributes; no prompt for status. */
	error = watchdog_start(&w, OP_MS);
	if (!error) {
		items = secret_service_search_sync(ss->service, &token_schema, none,
			SECRET_SEARCH_ALL | SECRET_SEARCH_LOAD_SECRETS, w.cancel, &err);
		if (err)
			error = keyring_error(&err, &w, "cannot read the keyring");
		watchdog_stop(&w);
	}
	g_hash_table_unref(none);
	for (l = items; l && !error && !stop; l = l->next) {
		GHashTable *attrs = secret_item_get_attributes(l->data);
		int locked = secret_item_get_locked(l->data);
		struct store_token_info info;
		struct ca_token tok;
		const char *mode = attr(attrs, "mode");

		ca_token_init(&tok);
		memset(&info, 0, sizeof(info));
		if (!locked)
			token_from_item(&tok, l->data, NULL);
		info.mode = (mode && !strcmp(mode, "m2m")) ? CA_MODE_M2M : CA_MODE_OAUTH;
		info.auth_url = nonempty(attr(attrs, "auth_url")) ? attr(attrs, "auth_url")
			: CA_DEFAULT_AUTH_URL;
		info.client_id = nonempty(attr(attrs, "client_id"));
		info.org = nonempty(attr(attrs, "org"));
		info.api_base_url = tok.api_base_url ? tok.api_base_url
			: nonempty(attr(attrs, "api_base_url"));
		info.account = tok.account ? tok.account : nonempty(attr(attrs, "account"));
		info.location = locked ? "keyring (locked)" : "keyring";
		info.expiration = tok.access_token ? tok.expiration : attr_int(attrs, "expiration");
		info.has_refresh_token = tok.refresh_token != NULL;
		stop = cb(&info, payload);
		ca_token_clear(&tok);
		if (attrs)
			g_hash_table_unref(attrs);
	}
	g_list_free_full(items, g_object_unref);
	return error;
}

/* ---- general git credentials ---- */

static GHashTable *cred_attrs(const struct cred *c)
{
	GHashTable *attrs = attrs_new();
	size_t i;

	for (i = 0; i < 4; i++)
		if (cred_field(c, i))
			attrs_put(attrs, cred_keys[i], cred_field(c, i));
	return attrs;
}

/* Whether the item has exactly c's protocol/host/path/username. */
static int cred_same_key(SecretItem *item, const struct cred *c)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	int same = 1;
	size_t i;

	for (i = 0; i < 4 && same; i++) {
		const char *have = attr(attrs, cred_keys[i]), *want = cred_field(c, i);

		same = (!have && !want) || (have && want && !strcmp(have, want));
	}
	if (attrs)
		g_hash_table_unref(attrs);
	return same;
}

/*
 * The password and refresh token of an item's secret ("password", then
 * "\noauth_refresh_token=..." lines), as git-credential-libsecret writes it.
 */
static int cred_secret_parse(char **password, char **refresh, SecretItem *item)
{
	SecretValue *value = secret_item_get_secret(item);
	const char *data, *end, *line, *eol;
	gsize len = 0;
	int error = 0;

	*password = *refresh = NULL;
	if (!value)
		return CA_EINVAL;
	data = secret_value_get(value, &len);
	end = data + len;
	eol = memchr(data, '\n', len);
	if (!eol)
		eol = end;
	if (!(*password = ca_strndup(data, (size_t)(eol - data))))
		error = ca_error(CA_ERR, "out of memory");
	for (line = eol; !error && line < end; line = eol) {
		line++;
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > 20 && !memcmp(line, "oauth_refresh_token=", 20)) {
			ca_free(*refresh);
			if (!(*refresh = ca_strndup(line + 20, (size_t)(eol - line - 20))))
				error = ca_error(CA_ERR, "out of memory");
		}
	}
	secret_value_unref(value);
	if (error) {
		ca_clear_ptr(password);
		ca_clear_ptr(refresh);
	}
	return error;
}

static int cred_from_item(struct cred *out, SecretItem *item)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	char **fields[] = { &out->protocol, &out->host, &out->path, &out->username };
	int error;
	size_t i;

	memset(out, 0, sizeof(*out));
	if ((error = cred_secret_parse(&out->password, &out->oauth_refresh_token, item)))
		goto out;
	for (i = 0; i < 4; i++) {
		const char *v = attr(attrs, cred_keys[i]);

		if (v && !(*fields[i] = ca_strdup(v))) {
			error = ca_error(CA_ERR, "out of memory");
			goto out;
		}
	}
	out->password_expiry_utc = attr_int(attrs, "password_expiry_utc");
out:
	if (attrs)
		g_hash_table_unref(attrs);
	if (error)
		ca_cred_clear(out);
	return error;
}

static int expired(SecretItem *item, int64_t now)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	int64_t expiry = attr_int(attrs, "password_expiry_utc");

	if (attrs)
		g_hash_table_unref(attrs);
	return expiry && expiry <= now;
}

static int ss_cred_get(struct store *s, struct cred *out, const struct cred *query)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs = cred_attrs(query);
	int64_t now = ca_now();
	struct found f;
	GList *l, *fresh = NULL;
	SecretItem *best;
	int error;

	error = search(&f, ss, &cred_schema, attrs, 1, 1, "cannot read the keyring");
	g_hash_table_unref(attrs);
	if (error)
		return error;
	for (l = f.items; l; l = l->next)
		if (!expired(l->data, now))
			fresh = g_list_prepend(fresh, l->data);
	best = newest(fresh);
	g_list_free(fresh);
	if (best)
		error = cred_from_item(out, best);
	else if (f.locked)
		error = locked_error("cannot read the credential", f.locked);
	else
		error = CA_ENOTFOUND;
	if (!error)
		ca_debug("keyring: credential found for %s", query->host ? query->host : "(no host)");
	found_clear(&f);
	return error;
}

static void cred_label(char *out, size_t size, const struct cred *c)
{
	snprintf(out, size, "Git: %s://%s%s%s%s%s%s",
		c->protocol ? c->protocol : "", c->host ? c->host : "",
		c->path ? "/" : "", c->path ? c->path : "",
		nonempty(c->username) ? " (" : "", nonempty(c->username) ? c->username : "",
		nonempty(c->username) ? ")" : "");
}

static int ss_cred_store(struct store *s, const struct cred *c)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs = cred_attrs(c);
	SecretValue *value = NULL;
	SecretItem *fresh = NULL;
	GList *same = NULL, *l;
	char label[1024], expiry[32], *secret = NULL;
	struct found old = { NULL, 0 };
	size_t len;
	int error;

	if (!c->password) {
		error = ca_error(CA_EINVAL, "nothing to store: no password");
		goto out;
	}
	if ((error = search(&old, ss, &cred_schema, attrs, 0, 1, "cannot read the keyring")))
		goto out;
	if (old.locked) {
		error = locked_error("cannot replace the stored credential", old.locked);
		goto out;
	}
	for (l = old.items; l; l = l->next)
		if (cred_same_key(l->data, c))
			same = g_list_prepend(same, l->data);
	if (c->password_expiry_utc) {
		snprintf(expiry, sizeof(expiry), "%" PRId64, c->password_expiry_utc);
		attrs_put(attrs, "password_expiry_utc", expiry);
	}
	len = strlen(c->password) + (c->oauth_refresh_token ?
		strlen(c->oauth_refresh_token) + sizeof("\noauth_refresh_token=") : 1);
	if (!(secret = ca_malloc(len))) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	if (c->oauth_refresh_token)
		snprintf(secret, len, "%s\noauth_refresh_token=%s", c->password, c->oauth_refresh_token);
	else
		snprintf(secret, len, "%s", c->password);
	value = secret_value_new(secret, -1, "text/plain");
	cred_label(label, sizeof(label), c);
	if ((error = create_item(&fresh, ss, &cred_schema, attrs, label, value)))
		goto out;
	ca_debug("keyring: credential stored (%s)", label);
	error = delete_others(same, fresh);
out:
	if (fresh)
		g_object_unref(fresh);
	if (value)
		secret_value_unref(value);
	ca_free(secret);
	g_list_free(same);
	found_clear(&old);
	g_hash_table_unref(attrs);
	return error;
}

static int ss_cred_erase(struct store *s, const struct cred *query)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs;
	struct found f;
	GList *l, *doomed = NULL;
	int error;
	size_t i, given = 0;

	for (i = 0; i < 4; i++)
		given += cred_field(query, i) != NULL;
	if (!given) {
		/* git's rule would match everything; never wipe the keyring. */
		ca_debug("keyring: erase without protocol, host, path or username ignored");
		return 0;
	}
	attrs = cred_attrs(query);
	error = search(&f, ss, &cred_schema, attrs, query->password != NULL, 1,
		"cannot read the keyring");
	g_hash_table_unref(attrs);
	if (error)
		return error;
	if (f.locked) {
		error = locked_error("cannot erase", f.locked);
		goto out;
	}
	for (l = f.items; l; l = l->next) {
		char *password = NULL, *refresh = NULL;
		int keep = 0;

		/* With a password, only the credential holding that password goes. */
		if (query->password) {
			keep = cred_secret_parse(&password, &refresh, l->data) ||
				!ca_streq_ct(password, query->password);
			ca_free(password);
			ca_free(refresh);
		}
		if (!keep)
			doomed = g_list_prepend(doomed, l->data);
	}
	ca_debug("keyring: erasing %u credential item(s)", g_list_length(doomed));
	error = delete_others(doomed, NULL);
out:
	g_list_free(doomed);
	found_clear(&f);
	return error;
}

/* ---- the store ---- */

static void ss_free(struct store *s)
{
	struct secret_store *ss = (struct secret_store *)s;

	if (!ss)
		return;
	if (ss->service)
		g_object_unref(ss->service);
	ca_free(ss);
}

static const struct store_ops secret_store_ops = {
	.name = "keyring",
	.token_load = ss_token_load,
	.token_save = ss_token_save,
	.token_erase = ss_token_erase,
	.token_list = ss_token_list,
	.token_erase_info = ss_token_erase_info,
	.cred_get = ss_cred_get,
	.cred_store = ss_cred_store,
	.cred_erase = ss_cred_erase,
	.free = ss_free,
};

int ca_secret_store_open(struct store **out, const struct ca_config *cfg)
{
	struct secret_store *ss = NULL;
	SecretCollection *coll = NULL;
	GDBusConnection *bus = NULL;
	GError *err = NULL;
	struct watchdog w = { 0 };
	gint64 start = g_get_monotonic_time();
	const char *algorithms;
	int error;

	if (!ca_store_session_bus_present())
		return ca_error(CA_EKEYRING,
			"no session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service");
	quiet_libsecret();
	if (!(ss = ca_calloc(1, sizeof(*ss))))
		return ca_error(CA_ERR, "out of memory");
	ss->base.ops = &secret_store_ops;
	ss->can_prompt = cfg->interactive && display_present();
	if ((error = watchdog_start(&w, OPEN_MS)))
		goto out;

	bus = g_bus_get_sync(G_BUS_TYPE_SESSION, w.cancel, &err);
	if (!bus) {
		error = keyring_error(&err, &w, "cannot connect to the session bus");
		goto out;
	}
	/* GLib's default would end the process if the bus went away. */
	g_dbus_connection_set_exit_on_close(bus, FALSE);
	if ((error = service_reachable(bus, &w)))
		goto out;
	ss->service = secret_service_get_sync(SECRET_SERVICE_OPEN_SESSION, w.cancel, &err);
	if (!ss->service) {
		error = keyring_error(&err, &w, "cannot open a Secret Service session");
		goto out;
	}
	/*
	 * libsecret falls back to a "plain" session when the service does not
	 * offer the encrypted one: then every secret would cross the bus in
	 * clear, readable by any bus monitor of this user. Not ours.
	 */
	algorithms = secret_service_get_session_algorithms(ss->service);
	if (!algorithms || strcmp(algorithms, SECRET_SESSION_ALGORITHM)) {
		error = ca_error(CA_EKEYRING,
			"the Secret Service cannot encrypt secrets (no %s session), and carto-auth does not send them in clear; use CARTO_AUTH_STORE=file",
			SECRET_SESSION_ALGORITHM);
		goto out;
	}
	if ((error = default_collection(&coll, ss, &w)))
		goto out;
	/*
	 * Without a prompt, a locked or missing default collection cannot be
	 * used: say so now, so that auto mode takes the file store instead of
	 * failing later.
	 */
	if (!ss->can_prompt && !coll)
		error = ca_error(CA_EKEYRING,
			"the keyring has no default collection, and creating one needs a prompt (%s)",
			no_prompt_reason(cfg));
	else if (!ss->can_prompt && secret_collection_get_locked(coll))
		error = ca_error(CA_EKEYRING, "the keyring is locked, and unlocking it needs a prompt (%s)",
			no_prompt_reason(cfg));
out:
	watchdog_stop(&w);
	if (coll)
		g_object_unref(coll);
	if (bus)
		g_object_unref(bus);
	if (error) {
		ss_free(&ss->base);
		return error;
	}
	ca_debug("keyring: Secret Service ready in %d ms%s",
		(int)((g_get_monotonic_time() - start) / 1000),
		ss->can_prompt ? "" : " (no prompts)");
	*out = &ss->base;
	return 0;
}
