/*
 * General git credentials in the Secret Service (schema
 * com.carto.auth.Credential, see secret_store.c's top), in
 * git-credential-libsecret's format.
 */
#include "keyring/secret/secret_internal.h"

#include "keyring/store.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const cred_keys[] = { "protocol", "host", "path", "username" };

static const char *cred_field(const struct cred *c, size_t i)
{
	const char *fields[] = { c->protocol, c->host, c->path, c->username };

	return fields[i];
}


/* ---- general git credentials ---- */

static GHashTable *cred_attrs(const struct cred *c)
{
	GHashTable *attrs = ca_secret_attrs_new();
	size_t i;

	for (i = 0; i < 4; i++)
		if (cred_field(c, i))
			ca_secret_attrs_put(attrs, cred_keys[i], cred_field(c, i));
	return attrs;
}

/* Whether the item has exactly c's protocol/host/path/username. */
static int cred_same_key(SecretItem *item, const struct cred *c)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	int same = 1;
	size_t i;

	for (i = 0; i < 4 && same; i++) {
		const char *have = ca_secret_attr(attrs, cred_keys[i]), *want = cred_field(c, i);

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
static int cred_plain_parse(char **password, char **refresh, char **credential,
	const char *data, size_t len)
{
	const char *end = data + len, *line, *eol;
	int error = 0;

	*password = *refresh = *credential = NULL;
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
		} else if ((size_t)(eol - line) > 11 && !memcmp(line, "credential=", 11)) {
			ca_free(*credential);
			if (!(*credential = ca_strndup(line + 11, (size_t)(eol - line - 11))))
				error = ca_error(CA_ERR, "out of memory");
		}
	}
	if (error) {
		ca_clear_ptr(password);
		ca_clear_ptr(refresh);
		ca_clear_ptr(credential);
	}
	return error;
}

static int cred_secret_parse(char **password, char **refresh, char **credential, SecretItem *item)
{
	SecretValue *value = secret_item_get_secret(item);
	const char *data;
	gsize len = 0;
	int error;

	*password = *refresh = *credential = NULL;
	if (!value)
		return CA_EINVAL;
	data = secret_value_get(value, &len);
	error = cred_plain_parse(password, refresh, credential, data, len);
	secret_value_unref(value);
	return error;
}

int ca_secret_cred_from_plain(struct cred *out, const char *data, size_t len, GHashTable *attrs)
{
	char **fields[] = { &out->protocol, &out->host, &out->path, &out->username };
	int error;
	size_t i;

	memset(out, 0, sizeof(*out));
	if ((error = cred_plain_parse(&out->password, &out->oauth_refresh_token, &out->credential,
			data, len)))
		goto out;
	/* An authtype item with an empty password line has no password. */
	if (out->credential && ca_secret_attr(attrs, "authtype")) {
		if (!(out->authtype = ca_strdup(ca_secret_attr(attrs, "authtype")))) {
			error = ca_error(CA_ERR, "out of memory");
			goto out;
		}
		if (!*out->password)
			ca_clear_ptr(&out->password);
	} else {
		ca_clear_ptr(&out->credential);
	}
	for (i = 0; i < 4; i++) {
		const char *v = ca_secret_attr(attrs, cred_keys[i]);

		if (v && !(*fields[i] = ca_strdup(v))) {
			error = ca_error(CA_ERR, "out of memory");
			goto out;
		}
	}
	out->password_expiry_utc = ca_secret_attr_int(attrs, "password_expiry_utc");
out:
	if (error)
		ca_cred_clear(out);
	return error;
}

static int cred_from_item(struct cred *out, SecretItem *item)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	SecretValue *value = secret_item_get_secret(item);
	const char *data;
	gsize len = 0;
	int error = CA_EINVAL;

	memset(out, 0, sizeof(*out));
	if (value) {
		data = secret_value_get(value, &len);
		error = ca_secret_cred_from_plain(out, data, len, attrs);
		secret_value_unref(value);
	}
	if (attrs)
		g_hash_table_unref(attrs);
	return error;
}

GVariant *ca_secret_cred_search_attrs(const struct cred *query)
{
	GVariantBuilder b;
	size_t i;

	for (i = 0; i < 4; i++)
		if (cred_field(query, i) && !g_utf8_validate(cred_field(query, i), -1, NULL))
			return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&b, "{ss}", "xdg:schema", SECRET_STORE_CRED_SCHEMA);
	for (i = 0; i < 4; i++)
		if (cred_field(query, i))
			g_variant_builder_add(&b, "{ss}", cred_keys[i], cred_field(query, i));
	return g_variant_builder_end(&b);
}

int ca_secret_cred_expired(GHashTable *attrs, int64_t now)
{
	int64_t expiry = ca_secret_attr_int(attrs, "password_expiry_utc");

	return expiry && expiry <= now;
}

static int expired(SecretItem *item, int64_t now)
{
	GHashTable *attrs = secret_item_get_attributes(item);
	int gone = ca_secret_cred_expired(attrs, now);

	if (attrs)
		g_hash_table_unref(attrs);
	return gone;
}

int ca_secret_cred_get(struct store *s, struct cred *out, const struct cred *query)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs = cred_attrs(query);
	int64_t now = ca_now();
	struct ca_secret_found f;
	GList *l, *fresh = NULL;
	SecretItem *best;
	int error;

	error = ca_secret_search(&f, ss, &ca_secret_cred_schema, attrs, 1, 1, "cannot read the keyring");
	g_hash_table_unref(attrs);
	if (error)
		return error;
	for (l = f.items; l; l = l->next)
		if (!expired(l->data, now))
			fresh = g_list_prepend(fresh, l->data);
	/* The newest the caller can take (an authtype pair needs the capability). */
	error = CA_ENOTFOUND;
	while (error == CA_ENOTFOUND && (best = ca_secret_newest(fresh))) {
		fresh = g_list_remove(fresh, best);
		if ((error = cred_from_item(out, best)))
			break;
		if (!ca_cred_usable(query, out)) {
			ca_cred_clear(out);
			error = CA_ENOTFOUND;
		}
	}
	g_list_free(fresh);
	if (error == CA_ENOTFOUND && f.locked)
		error = ca_secret_locked_error(ss, "cannot read the credential", &f);
	if (!error)
		ca_debug("keyring: credential found for %s", query->host ? query->host : "(no host)");
	ca_secret_found_clear(&f);
	return error;
}

static void cred_label(char *out, size_t size, const struct cred *c)
{
	snprintf(out, size, "Git: %s://%s%s%s%s%s%s",
		c->protocol ? c->protocol : "", c->host ? c->host : "",
		c->path ? "/" : "", c->path ? c->path : "",
		ca_secret_nonempty(c->username) ? " (" : "", ca_secret_nonempty(c->username) ? c->username : "",
		ca_secret_nonempty(c->username) ? ")" : "");
}

int ca_secret_cred_store(struct store *s, const struct cred *c)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs = cred_attrs(c);
	SecretItem *fresh = NULL;
	GList *same = NULL, *l;
	char label[1024], expiry[32], *secret = NULL;
	struct ca_secret_found old = { NULL, 0, 0, 0 };
	size_t len;
	int error;

	if (!c->password && !(c->authtype && c->credential)) {
		error = ca_error(CA_EINVAL, "nothing to store: no password");
		goto out;
	}
	if ((error = ca_secret_search(&old, ss, &ca_secret_cred_schema, attrs, 0, 1, "cannot read the keyring")))
		goto out;
	if (old.locked) {
		error = ca_secret_locked_error(ss, "cannot replace the stored credential", &old);
		goto out;
	}
	for (l = old.items; l; l = l->next)
		if (cred_same_key(l->data, c))
			same = g_list_prepend(same, l->data);
	if (c->password_expiry_utc) {
		snprintf(expiry, sizeof(expiry), "%" PRId64, c->password_expiry_utc);
		ca_secret_attrs_put(attrs, "password_expiry_utc", expiry);
	}
	if (c->authtype && c->credential)
		ca_secret_attrs_put(attrs, "authtype", c->authtype);
	len = (c->password ? strlen(c->password) : 0) + 1 + (c->oauth_refresh_token ?
		strlen(c->oauth_refresh_token) + sizeof("\noauth_refresh_token=") : 0) +
		(c->authtype && c->credential ? strlen(c->credential) + sizeof("\ncredential=") : 0);
	if (!(secret = ca_malloc(len))) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	snprintf(secret, len, "%s%s%s%s%s", c->password ? c->password : "",
		c->oauth_refresh_token ? "\noauth_refresh_token=" : "",
		c->oauth_refresh_token ? c->oauth_refresh_token : "",
		c->authtype && c->credential ? "\ncredential=" : "",
		c->authtype && c->credential ? c->credential : "");
	cred_label(label, sizeof(label), c);
	if ((error = ca_secret_write_item(&fresh, ss, &ca_secret_cred_schema, attrs, label, secret,
	    strlen(secret))))
		goto out;
	ca_debug("keyring: credential stored (%s)", label);
	error = ca_secret_delete_others(ss, same, fresh);
out:
	if (fresh)
		g_object_unref(fresh);
	ca_free(secret);
	g_list_free(same);
	ca_secret_found_clear(&old);
	g_hash_table_unref(attrs);
	return error;
}

int ca_secret_cred_erase(struct store *s, const struct cred *query)
{
	struct secret_store *ss = (struct secret_store *)s;
	GHashTable *attrs;
	struct ca_secret_found f;
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
	error = ca_secret_search(&f, ss, &ca_secret_cred_schema, attrs,
		query->password != NULL || query->credential != NULL, 1,
		"cannot read the keyring");
	g_hash_table_unref(attrs);
	if (error)
		return error;
	if (f.locked) {
		error = ca_secret_locked_error(ss, "cannot erase", &f);
		goto out;
	}
	for (l = f.items; l; l = l->next) {
		char *password = NULL, *refresh = NULL, *credential = NULL;
		int keep = 0;

		/* With a password (or credential), only the item holding it goes. */
		if (query->password || query->credential) {
			keep = cred_secret_parse(&password, &refresh, &credential, l->data) ||
				(query->password && !ca_streq_ct(password, query->password)) ||
				(query->credential && !(credential && ca_streq_ct(credential, query->credential)));
			ca_free(password);
			ca_free(refresh);
			ca_free(credential);
		}
		if (!keep)
			doomed = g_list_prepend(doomed, l->data);
	}
	ca_debug("keyring: erasing %u credential item(s)", g_list_length(doomed));
	error = ca_secret_delete_others(ss, doomed, NULL);
out:
	g_list_free(doomed);
	ca_secret_found_clear(&f);
	return error;
}

