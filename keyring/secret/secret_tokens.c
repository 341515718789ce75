/*
 * CARTO tokens in the Secret Service (schema com.carto.auth.Token, see
 * secret_store.c's top): keyed by their identity's attributes, the
 * token as JSON in the secret, with the M2M secret's salted fingerprint.
 */
#include "keyring/secret/secret_internal.h"

#include "keyring/store.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The attributes that name a token's identity (see secret_store.c's top). */
GHashTable *ca_secret_store_token_identity(const struct ca_identity *id)
{
	GHashTable *attrs = ca_secret_attrs_new();
	int m2m = id->mode == CA_MODE_M2M;

	ca_secret_attrs_put(attrs, "mode", ca_mode_name(id->mode));
	ca_secret_attrs_put(attrs, "auth_url", id->auth_url);
	ca_secret_attrs_put(attrs, "client_id", id->client_id);
	ca_secret_attrs_put(attrs, "org", m2m ? NULL : id->org);
	if (m2m)
		ca_secret_attrs_put(attrs, "api_base_url", id->api_base_url);
	return attrs;
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

static void token_label(char *out, size_t size, const struct ca_identity *id,
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
static char *token_secret_json(const struct ca_identity *id, const struct ca_token *tok)
{
	struct store_fp fp = { "", "" };
	int m2m = id->mode == CA_MODE_M2M;
	cJSON *root;
	char *json = NULL;

	if (m2m && ca_store_fp_new(&fp, id))
		return NULL;
	if (!(root = cJSON_CreateObject())) {
		ca_error(CA_ERR, "out of memory");
		return NULL;
	}
	if (!cJSON_AddStringToObject(root, "access_token", tok->access_token) ||
	    !cJSON_AddNumberToObject(root, "expiration", (double)tok->expiration) ||
	    (tok->api_base_url && !cJSON_AddStringToObject(root, "api_base_url", tok->api_base_url)) ||
	    (tok->refresh_token && !cJSON_AddStringToObject(root, "refresh_token", tok->refresh_token)) ||
	    (tok->lifetime > 0 && !cJSON_AddNumberToObject(root, "lifetime", (double)tok->lifetime)) ||
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

/*
 * Reads a token from an item's secret and attributes; CA_EINVAL when the
 * secret is not one of ours, CA_ENOTFOUND when id is an M2M identity whose
 * client secret is not the one the token was stored for. Shared with the
 * fast path (secret_fast.c).
 */
int ca_secret_store_token_parse(struct ca_token *out, const char *data, size_t len,
	GHashTable *attrs, const struct ca_identity *id)
{
	const char *access, *api, *refresh, *account;
	const cJSON *exp, *life;
	struct ca_token tok;
	cJSON *root;
	int error = CA_EINVAL;

	ca_token_init(&tok);
	root = cJSON_ParseWithLength(data, len);
	/* The granted lifetime (the renewal margin), when the item has one. */
	life = cJSON_GetObjectItemCaseSensitive(root, "lifetime");
	if (cJSON_IsNumber(life) && (ca_time_from_double(&tok.lifetime, life->valuedouble) ||
	    tok.lifetime < 0))
		tok.lifetime = 0;
	access = ca_secret_nonempty(ca_json_str(root, "access_token"));
	exp = cJSON_GetObjectItemCaseSensitive(root, "expiration");
	if (!access || strpbrk(access, "\r\n") || !cJSON_IsNumber(exp) ||
	    ca_time_from_double(&tok.expiration, exp->valuedouble))
		goto out;
	if (id && id->mode == CA_MODE_M2M &&
	    !ca_store_fp_matches(ca_secret_nonempty(ca_json_str(root, "secret_salt")),
		ca_secret_nonempty(ca_json_str(root, "secret_hmac")), id)) {
		error = CA_ENOTFOUND;
		goto out;
	}
	api = ca_secret_nonempty(ca_json_str(root, "api_base_url"));
	if (!api)
		api = ca_secret_nonempty(ca_secret_attr(attrs, "api_base_url"));
	refresh = ca_secret_nonempty(ca_json_str(root, "refresh_token"));
	if (refresh && strpbrk(refresh, "\r\n"))
		refresh = NULL;
	account = ca_secret_nonempty(ca_secret_attr(attrs, "account"));
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
static int token_from_item(struct ca_token *out, SecretItem *item, const struct ca_identity *id)
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

int ca_secret_token_load(struct store *s, struct ca_token *out, const struct ca_identity *id)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs = ca_secret_store_token_identity(id);
	struct ca_secret_found f;
	int error;

	error = ca_secret_search(&f, ss, &ca_secret_token_schema, attrs, 1, 1, "cannot read the keyring");
	g_hash_table_unref(attrs);
	if (error)
		return error;
	error = CA_ENOTFOUND;
	/* Newest first: several items can exist after an interrupted save. */
	while (f.items && error) {
		SecretItem *item = ca_secret_newest(f.items);
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
		error = ca_secret_locked_error(ss, "cannot read the token", &f);
	ca_secret_found_clear(&f);
	return error;
}

int ca_secret_token_save(struct store *s, const struct ca_identity *id, const struct ca_token *tok)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs = ca_secret_store_token_identity(id);
	SecretItem *fresh = NULL;
	char label[256], expiration[32], *json = NULL;
	struct ca_secret_found old = { NULL, 0, 0, 0 };
	int error;

	if (!tok->access_token)
		return ca_error(CA_EINVAL, "no access token to store");
	if ((error = ca_secret_search(&old, ss, &ca_secret_token_schema, attrs, 0, 1, "cannot read the keyring")))
		goto out;
	if (old.locked) {
		error = ca_secret_locked_error(ss, "cannot replace the stored token", &old);
		goto out;
	}
	snprintf(expiration, sizeof(expiration), "%" PRId64, tok->expiration);
	if (id->mode == CA_MODE_OAUTH)
		ca_secret_attrs_put(attrs, "api_base_url", tok->api_base_url);
	ca_secret_attrs_put(attrs, "account", tok->account);
	ca_secret_attrs_put(attrs, "expiration", expiration);
	token_label(label, sizeof(label), id, tok);
	if (!(json = token_secret_json(id, tok))) {
		error = ca_error_code() ? ca_error_code() : ca_error(CA_ERR, "out of memory");
		goto out;
	}
	if ((error = ca_secret_write_item(&fresh, ss, &ca_secret_token_schema, attrs, label, json,
	    strlen(json))))
		goto out;
	ca_debug("keyring: %s token saved (%s)", ca_mode_name(id->mode), label);
	error = ca_secret_delete_others(ss, old.items, fresh);
out:
	if (fresh)
		g_object_unref(fresh);
	ca_free(json);
	ca_secret_found_clear(&old);
	g_hash_table_unref(attrs);
	return error;
}

static int erase_all(struct secret_store *ss, const SecretSchema *schema, GHashTable *attrs,
	int *out_count)
{
	struct ca_secret_found f;
	int error;

	*out_count = 0;
	if ((error = ca_secret_search(&f, ss, schema, attrs, 0, 1, "cannot read the keyring")))
		return error;
	/* Never a partial erase that looks complete: refuse while locked. */
	if (f.locked) {
		error = ca_secret_locked_error(ss, "cannot erase", &f);
		goto out;
	}
	*out_count = (int)g_list_length(f.items);
	error = ca_secret_delete_others(ss, f.items, NULL);
out:
	ca_secret_found_clear(&f);
	return error;
}

int ca_secret_token_erase(struct store *s, const struct ca_identity *id)
{
	GHashTable *attrs = ca_secret_store_token_identity(id);
	int error, count;

	error = erase_all((struct secret_store *)s, &ca_secret_token_schema, attrs, &count);
	g_hash_table_unref(attrs);
	if (!error)
		ca_debug("keyring: %d %s token item(s) removed", count, ca_mode_name(id->mode));
	return (!error && !count) ? CA_ENOTFOUND : error;
}

int ca_secret_token_erase_info(struct store *s, const struct store_token_info *info)
{
	GHashTable *attrs = ca_secret_attrs_new();
	int error, count;

	ca_secret_attrs_put(attrs, "mode", ca_mode_name(info->mode));
	ca_secret_attrs_put(attrs, "auth_url", info->auth_url);
	if (ca_secret_nonempty(info->client_id))
		ca_secret_attrs_put(attrs, "client_id", info->client_id);
	if (info->mode == CA_MODE_M2M) {
		ca_secret_attrs_put(attrs, "api_base_url", info->api_base_url);
	} else {
		ca_secret_attrs_put(attrs, "org", info->org);
	}
	error = erase_all((struct secret_store *)s, &ca_secret_token_schema, attrs, &count);
	g_hash_table_unref(attrs);
	return error;
}

int ca_secret_token_list(struct store *s, store_token_cb cb, void *payload)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *none = ca_secret_attrs_new();
	GList *items = NULL, *l;
	GError *err = NULL;
	struct ca_secret_watchdog w;
	struct ca_secret_op op = { 0 };
	int error, stop = 0;

	/* Locked items are listed from their attributes; no prompt for status. */
	error = ca_secret_watchdog_start(&w, OP_MS);
	if (!error) {
		secret_service_search(ss->service, &ca_secret_token_schema, none,
			SECRET_SEARCH_ALL | SECRET_SEARCH_LOAD_SECRETS, w.cancel,
			ca_secret_async_callback, ca_secret_op_start(&op, ss, &w));
		if (ca_secret_op_wait(&op, ss, &err))
			items = secret_service_search_finish(ss->service, op.a.res, &err);
		ca_secret_op_clear(&op);
		if (err)
			error = ca_secret_error(&err, &w, "cannot read the keyring");
		ca_secret_watchdog_stop(&w);
	}
	g_hash_table_unref(none);
	for (l = items; l && !error && !stop; l = l->next) {
		GHashTable *attrs = secret_item_get_attributes(l->data);
		int locked = secret_item_get_locked(l->data);
		struct store_token_info info;
		struct ca_token tok;
		const char *mode = ca_secret_attr(attrs, "mode");

		ca_token_init(&tok);
		memset(&info, 0, sizeof(info));
		if (!locked)
			token_from_item(&tok, l->data, NULL);
		info.mode = (mode && !strcmp(mode, "m2m")) ? CA_MODE_M2M : CA_MODE_OAUTH;
		info.auth_url = ca_secret_nonempty(ca_secret_attr(attrs, "auth_url")) ? ca_secret_attr(attrs, "auth_url")
			: CA_DEFAULT_AUTH_URL;
		info.client_id = ca_secret_nonempty(ca_secret_attr(attrs, "client_id"));
		info.org = ca_secret_nonempty(ca_secret_attr(attrs, "org"));
		info.api_base_url = tok.api_base_url ? tok.api_base_url
			: ca_secret_nonempty(ca_secret_attr(attrs, "api_base_url"));
		info.account = tok.account ? tok.account : ca_secret_nonempty(ca_secret_attr(attrs, "account"));
		info.location = locked ? "keyring (locked)" : "keyring";
		info.expiration = tok.access_token ? tok.expiration : ca_secret_attr_int(attrs, "expiration");
		info.has_refresh_token = tok.refresh_token != NULL;
		stop = cb(&info, payload);
		ca_token_clear(&tok);
		if (attrs)
			g_hash_table_unref(attrs);
	}
	g_list_free_full(items, g_object_unref);
	return error;
}

