/*
 * The keyring's fast path: a stored CARTO token read in five round trips.
 *
 * secret_store.c does everything through libsecret. Opening it creates
 * proxies for the service and the default collection (each costs several
 * bus round trips: AddMatch, GetNameOwner, StartServiceByName, GetAll), and
 * reading an item creates a proxy for the item and negotiates an encrypted
 * transfer session, a Diffie-Hellman exchange computed by both processes.
 * Together that is 28 messages and most of the time of a keyring hit, and
 * more than `secret-tool lookup` spends (11 messages).
 *
 * This store sits in front of it. Opening asks one thing on the session
 * bus: whether the default collection is unlocked (Properties.Get Locked on
 * /org/freedesktop/secrets/aliases/default, without auto-starting the
 * service). Any other answer (no service, no default collection, locked,
 * an error) is left to secret_store_open, which starts the service, prompts
 * or explains. token_load then asks SearchItems; when exactly one unlocked
 * item matches (the normal case) it reads that item's attributes
 * (Properties.Get) and its secret over a "plain" session (OpenSession,
 * GetSecrets, then Close without waiting), and when nothing matches it says
 * so. Every other answer, and every other operation, goes to
 * secret_store.c, opened on first need, so the rules about locked items,
 * prompts and duplicates live in one place.
 *
 * The "plain" algorithm is part of the Secret Service API and supported by
 * every implementation; the secret crosses the local session bus, which
 * only this user (and root) can read, as they can read the unlocked keyring
 * itself. The bytes we receive are wiped after use; GDBus's own message
 * buffers are not ours to wipe.
 */
#include "keyring/secret_store.h"

#include "keyring/store.h"
#include "util/error.h"
#include "util/mem.h"

#include <gio/gio.h>
#include <string.h>

#define SECRETS_NAME "org.freedesktop.secrets"
#define SECRETS_PATH "/org/freedesktop/secrets"
#define SERVICE_IFACE "org.freedesktop.Secret.Service"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"
#define CONNECT_MS 5000  /* connecting to the session bus */
#define CALL_MS 5000     /* one call that shows no prompt */

/* token_load's answer when this path cannot decide. */
#define ASK_FULL 1

struct fast_store {
	struct store base;
	GDBusConnection *bus;
	struct store *full;  /* secret_store.c's store, opened on first need */
	int interactive;
};

/* ---- the bus ---- */

struct bus_wait {
	GDBusConnection *bus;
	GError *err;
	int done;
};

static void bus_ready(GObject *source, GAsyncResult *res, gpointer data)
{
	struct bus_wait *w = data;

	(void)source;
	w->bus = g_bus_get_finish(res, &w->err);
	w->done = 1;
}

static gboolean bus_too_slow(gpointer cancel)
{
	g_cancellable_cancel(cancel);
	return G_SOURCE_REMOVE;
}

/* The session bus connection (GLib's shared one), within CONNECT_MS. */
static GDBusConnection *connect_bus(GError **err)
{
	GMainContext *ctx = g_main_context_new();
	GCancellable *cancel = g_cancellable_new();
	GSource *timer = g_timeout_source_new(CONNECT_MS);
	struct bus_wait w = { NULL, NULL, 0 };

	g_main_context_push_thread_default(ctx);
	g_source_set_callback(timer, bus_too_slow, cancel, NULL);
	g_source_attach(timer, ctx);
	g_bus_get(G_BUS_TYPE_SESSION, cancel, bus_ready, &w);
	while (!w.done)
		g_main_context_iteration(ctx, TRUE);
	g_source_destroy(timer);
	g_source_unref(timer);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	g_object_unref(cancel);
	if (w.bus)
		g_dbus_connection_set_exit_on_close(w.bus, FALSE);
	else
		g_propagate_error(err, w.err);
	return w.bus;
}

/* A call to the Secret Service (or to dest, when given); NULL on any error. */
static GVariant *call(GDBusConnection *bus, const char *dest, const char *path,
	const char *iface, const char *method, GVariant *args, const char *reply_type)
{
	GError *err = NULL;
	GVariant *reply;

	reply = g_dbus_connection_call_sync(bus, dest ? dest : SECRETS_NAME, path, iface, method,
		args, G_VARIANT_TYPE(reply_type), G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_MS, NULL, &err);
	if (!reply) {
		ca_debug("keyring: fast path: %s: %s", method, err->message);
		g_error_free(err);
	}
	return reply;
}

/*
 * Whether the service runs and its default collection is there, unlocked:
 * one call to the default collection's alias path. Without an owner the bus
 * answers at once (no auto-start); any error sends the caller to the full
 * store, which starts the service or explains.
 */
static int plainly_usable(GDBusConnection *bus)
{
	GVariant *reply, *locked;
	int usable;

	reply = call(bus, NULL, SECRETS_PATH "/aliases/default", PROPS_IFACE, "Get",
		g_variant_new("(ss)", "org.freedesktop.Secret.Collection", "Locked"), "(v)");
	if (!reply)
		return 0;
	g_variant_get(reply, "(v)", &locked);
	usable = g_variant_is_of_type(locked, G_VARIANT_TYPE_BOOLEAN) &&
		!g_variant_get_boolean(locked);
	g_variant_unref(locked);
	g_variant_unref(reply);
	return usable;
}

/* ---- the full store ---- */

static int full_store(struct store **out, struct fast_store *fs)
{
	struct ca_config cfg;
	int error = 0;

	if (!fs->full) {
		/* secret_store_open reads only whether it may prompt. */
		ca_config_init(&cfg);
		cfg.interactive = fs->interactive;
		error = secret_store_open(&fs->full, &cfg);
		ca_config_clear(&cfg);
	}
	*out = fs->full;
	return error;
}

/* ---- reading a token ---- */

static GVariant *search_attrs(const struct ca_config *id)
{
	GHashTable *attrs = secret_store_token_identity(id);
	GVariantBuilder b;
	GHashTableIter it;
	gpointer key, value;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&b, "{ss}", "xdg:schema", SECRET_STORE_TOKEN_SCHEMA);
	g_hash_table_iter_init(&it, attrs);
	while (g_hash_table_iter_next(&it, &key, &value))
		g_variant_builder_add(&b, "{ss}", (const char *)key, (const char *)value);
	g_hash_table_unref(attrs);
	return g_variant_builder_end(&b);
}

/* The one unlocked item matching id: 0, CA_ENOTFOUND (none), or ASK_FULL. */
static int find_item(char **out_path, struct fast_store *fs, const struct ca_config *id)
{
	GVariant *reply;
	GVariantIter *unlocked, *locked;
	const char *path = NULL;
	gsize n_unlocked, n_locked;
	int error = ASK_FULL;

	reply = call(fs->bus, NULL, SECRETS_PATH, SERVICE_IFACE, "SearchItems",
		g_variant_new("(@a{ss})", search_attrs(id)), "(aoao)");
	if (!reply)
		return ASK_FULL;
	g_variant_get(reply, "(aoao)", &unlocked, &locked);
	n_unlocked = g_variant_iter_n_children(unlocked);
	n_locked = g_variant_iter_n_children(locked);
	if (!n_unlocked && !n_locked) {
		error = CA_ENOTFOUND;
	} else if (n_unlocked == 1 && !n_locked && g_variant_iter_next(unlocked, "&o", &path)) {
		*out_path = g_strdup(path);
		error = 0;
	}
	g_variant_iter_free(unlocked);
	g_variant_iter_free(locked);
	g_variant_unref(reply);
	return error;
}

/* The item's attributes as a GHashTable of strings, or NULL. */
static GHashTable *item_attributes(struct fast_store *fs, const char *item)
{
	GVariant *reply, *attrs;
	GVariantIter it;
	const char *key, *value;
	GHashTable *out;

	reply = call(fs->bus, NULL, item, PROPS_IFACE, "Get",
		g_variant_new("(ss)", "org.freedesktop.Secret.Item", "Attributes"), "(v)");
	if (!reply)
		return NULL;
	g_variant_get(reply, "(v)", &attrs);
	out = NULL;
	if (g_variant_is_of_type(attrs, G_VARIANT_TYPE("a{ss}"))) {
		out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_variant_iter_init(&it, attrs);
		while (g_variant_iter_next(&it, "{&s&s}", &key, &value))
			g_hash_table_insert(out, g_strdup(key), g_strdup(value));
	}
	g_variant_unref(attrs);
	g_variant_unref(reply);
	return out;
}

/*
 * Parses the item's secret over a plain session; wipes what it received.
 * CA_ENOTFOUND when the item was stored for another client secret than id's.
 */
static int read_token(struct ca_token *out, struct fast_store *fs, const char *item,
	GHashTable *attrs, const struct ca_config *id)
{
	GVariant *session, *reply, *ignored, *secrets = NULL, *value = NULL;
	const char *session_path, *items[] = { item, NULL };
	const guchar *data;
	gsize len = 0;
	int error = ASK_FULL;

	session = call(fs->bus, NULL, SECRETS_PATH, SERVICE_IFACE, "OpenSession",
		g_variant_new("(sv)", "plain", g_variant_new_string("")), "(vo)");
	if (!session)
		return ASK_FULL;
	g_variant_get(session, "(v&o)", &ignored, &session_path);
	g_variant_unref(ignored);
	reply = call(fs->bus, NULL, SECRETS_PATH, SERVICE_IFACE, "GetSecrets",
		g_variant_new("(^aoo)", items, session_path), "(a{o(oayays)})");
	/* The session is only for this transfer; no need to wait for the answer. */
	g_dbus_connection_call(fs->bus, SECRETS_NAME, session_path, "org.freedesktop.Secret.Session",
		"Close", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_MS, NULL, NULL, NULL);
	if (!reply)
		goto out;
	secrets = g_variant_get_child_value(reply, 0);
	value = g_variant_lookup_value(secrets, item, G_VARIANT_TYPE("(oayays)"));
	if (value) {
		GVariant *bytes = g_variant_get_child_value(value, 2);

		data = g_variant_get_fixed_array(bytes, &len, 1);
		if (data && len) {
			error = secret_store_token_parse(out, (const char *)data, len, attrs, id);
			if (error && error != CA_ENOTFOUND)
				error = ASK_FULL;
		}
		/* GVariant data is immutable in principle; these bytes are ours. */
		if (data && len)
			explicit_bzero((void *)data, len);
		g_variant_unref(bytes);
	}
out:
	if (value)
		g_variant_unref(value);
	if (secrets)
		g_variant_unref(secrets);
	if (reply)
		g_variant_unref(reply);
	g_variant_unref(session);
	return error;
}

static int fast_token_load(struct store *s, struct ca_token *out, const struct ca_config *id)
{
	struct fast_store *fs = (struct fast_store *)s;
	struct store *full;
	GHashTable *attrs = NULL;
	char *item = NULL;
	int error;

	error = find_item(&item, fs, id);
	if (!error) {
		attrs = item_attributes(fs, item);
		error = attrs ? read_token(out, fs, item, attrs, id) : ASK_FULL;
	}
	if (attrs)
		g_hash_table_unref(attrs);
	g_free(item);
	if (error != ASK_FULL) {
		ca_debug("keyring: fast path: %s token %s", ca_mode_name(id->mode),
			error ? "not stored" : "found");
		return error;
	}
	ca_debug("keyring: fast path cannot decide, asking libsecret");
	if ((error = full_store(&full, fs)))
		return error;
	return full->ops->token_load(full, out, id);
}

/* ---- everything else: the full store ---- */

static int fast_token_save(struct store *s, const struct ca_config *id, const struct ca_token *tok)
{
	struct store *full;
	int error = full_store(&full, (struct fast_store *)s);

	return error ? error : full->ops->token_save(full, id, tok);
}

static int fast_token_erase(struct store *s, const struct ca_config *id)
{
	struct store *full;
	int error = full_store(&full, (struct fast_store *)s);

	return error ? error : full->ops->token_erase(full, id);
}

static int fast_token_list(struct store *s, store_token_cb cb, void *payload)
{
	struct store *full;
	int error = full_store(&full, (struct fast_store *)s);

	return error ? error : full->ops->token_list(full, cb, payload);
}

static int fast_token_erase_info(struct store *s, const struct store_token_info *info)
{
	struct store *full;
	int error = full_store(&full, (struct fast_store *)s);

	return error ? error : full->ops->token_erase_info(full, info);
}

static int fast_cred_get(struct store *s, struct cred *out, const struct cred *query)
{
	struct store *full;
	int error = full_store(&full, (struct fast_store *)s);

	return error ? error : full->ops->cred_get(full, out, query);
}

static int fast_cred_store(struct store *s, const struct cred *c)
{
	struct store *full;
	int error = full_store(&full, (struct fast_store *)s);

	return error ? error : full->ops->cred_store(full, c);
}

static int fast_cred_erase(struct store *s, const struct cred *query)
{
	struct store *full;
	int error = full_store(&full, (struct fast_store *)s);

	return error ? error : full->ops->cred_erase(full, query);
}

static void fast_free(struct store *s)
{
	struct fast_store *fs = (struct fast_store *)s;

	if (!fs)
		return;
	store_free(fs->full);
	if (fs->bus)
		g_object_unref(fs->bus);
	ca_free(fs);
}

static const struct store_ops fast_store_ops = {
	.name = "keyring",
	.token_load = fast_token_load,
	.token_save = fast_token_save,
	.token_erase = fast_token_erase,
	.token_list = fast_token_list,
	.token_erase_info = fast_token_erase_info,
	.cred_get = fast_cred_get,
	.cred_store = fast_cred_store,
	.cred_erase = fast_cred_erase,
	.free = fast_free,
};

int secret_fast_open(struct store **out, const struct ca_config *cfg)
{
	struct fast_store *fs;
	GError *err = NULL;
	int error;

	if (!store_session_bus_present())
		return secret_store_open(out, cfg);
	if (!(fs = ca_calloc(1, sizeof(*fs))))
		return ca_error(CA_ERR, "out of memory");
	fs->base.ops = &fast_store_ops;
	fs->interactive = cfg->interactive;
	if (!(fs->bus = connect_bus(&err))) {
		if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			error = ca_error(CA_EKEYRING, "cannot connect to the session bus: no answer within %d s",
				CONNECT_MS / 1000);
		else
			error = ca_error(CA_EKEYRING, "cannot connect to the session bus: %s", err->message);
		g_error_free(err);
		fast_free(&fs->base);
		return error;
	}
	if (!plainly_usable(fs->bus)) {
		/* Starting the service, prompts, messages: libsecret's path. */
		fast_free(&fs->base);
		return secret_store_open(out, cfg);
	}
	ca_debug("keyring: Secret Service running, default collection unlocked");
	*out = &fs->base;
	return 0;
}
