/*
 * The keyring's fast path: a stored CARTO token read in two round trips,
 * and a plain git credential in three (its search is asked for at the read).
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
 * (Properties.Get) and its secret (GetSecrets, then Close without waiting),
 * and when nothing matches it says so; cred_get does the same with the
 * query's attributes. Every other answer, and every other
 * operation, goes to secret_store.c, opened on first need, so the rules
 * about locked items, prompts and duplicates live in one place.
 *
 * The secret travels over a "dh-ietf1024-sha256-aes128-cbc-pkcs7" session,
 * as libsecret and secret-tool use (secret_session.c): any process of this
 * user may become a monitor of the session bus, and with the "plain"
 * algorithm it would read the token there. A service that cannot encrypt,
 * or whose answer does not decrypt, is an error (CA_EKEYRING), never "not
 * found" and never a reason to fall back to plain. The plaintext is wiped
 * after use.
 *
 * The exchange costs the service two 1024-bit exponentiations, more than
 * any message. So the calls that do not depend on each other travel
 * together: our key pair is made while the bus connects; opening sends the
 * Locked question, OpenSession and the SearchItems a read of this
 * identity's token will want (the service computes its half of the key
 * while we carry on); a read then sends the item's attributes and
 * GetSecrets together and computes our half meanwhile. Two round trips,
 * where the five calls one after the other took five.
 */
#include "keyring/secret/secret_internal.h"
#include "keyring/secret/secret_store.h"

#include "keyring/secret/secret_session.h"
#include "keyring/store.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"

#include <gio/gio.h>
#include <string.h>

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
	GMainContext *ctx;             /* where our calls' answers arrive */
	struct secret_session *crypt;  /* our key pair for the next session */
	unsigned char pub[SECRET_SESSION_PRIME_BYTES];  /* its public value */
	size_t pub_len;
	struct ca_secret_call open;           /* its OpenSession (not started: none asked) */
	int crypt_error;               /* no key pair: CA_EKEYRING */
	GVariant *searched;            /* the attributes of the search asked for */
	struct ca_secret_call search;         /* its SearchItems (not started: none asked) */
	struct store *full;  /* secret_store.c's store, opened on first need */
	int interactive;
};

/* ---- the bus ---- */

/* Our key pair for the next session, unless there is one (or it failed). */
static void session_keys(struct fast_store *fs)
{
	if (!fs->crypt && !fs->crypt_error)
		fs->crypt_error = ca_secret_session_new(&fs->crypt, fs->pub, &fs->pub_len);
}

/*
 * Our own connection to the session bus (never GLib's shared one, which
 * is the host's), within CONNECT_MS. Our key pair for the first encrypted
 * session is made while it connects.
 */
static GDBusConnection *connect_bus(GError **err, struct fast_store *fs)
{
	GMainContext *ctx = g_main_context_new();
	struct ca_secret_watchdog dog;
	struct ca_secret_async a;
	GDBusConnection *bus = NULL;

	if (ca_secret_watchdog_start(&dog, CONNECT_MS)) {
		g_main_context_unref(ctx);
		g_set_error_literal(err, G_IO_ERROR, G_IO_ERROR_FAILED, ca_error_message());
		return NULL;
	}
	g_main_context_push_thread_default(ctx);
	if (!ca_secret_bus_connect_start(&a, dog.cancel, CONNECT_MS, err)) {
		session_keys(fs);
		bus = ca_secret_bus_connect_finish(&a, ctx, err);
	}
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	ca_secret_watchdog_stop(&dog);
	return bus;
}

/* ---- calls in flight ---- */

/* A call to the Secret Service, answered in the store's context. */
static void call_start(struct ca_secret_call *p, struct fast_store *fs, const char *path,
	const char *iface, const char *method, GVariant *args, const char *reply_type)
{
	ca_secret_call_start(p, fs->bus, SECRETS_NAME, path, iface, method, args, reply_type,
		CALL_MS, NULL);
}

/* The session is only for this transfer; no need to wait for the answer. */
static void close_session(struct fast_store *fs, const char *path)
{
	ca_secret_call_start(NULL, fs->bus, SECRETS_NAME, path, "org.freedesktop.Secret.Session",
		"Close", NULL, NULL, CALL_MS, NULL);
}

/*
 * Asks for an encrypted session without waiting for the answer: our key
 * pair, then OpenSession. The service's half of the exchange (two 1024-bit
 * exponentiations, most of the cost) then runs while we do other things.
 */
static void session_request(struct fast_store *fs)
{
	if (fs->open.started)
		return;
	session_keys(fs);
	if (fs->crypt_error)
		return;
	call_start(&fs->open, fs, SECRETS_PATH, SERVICE_IFACE, "OpenSession",
		g_variant_new("(sv)", SECRET_SESSION_ALGORITHM,
			g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, fs->pub, fs->pub_len, 1)), "(vo)");
}

/* Forgets the session asked for (closing it on the service): one transfer each. */
static void session_drop(struct fast_store *fs)
{
	const char *path;

	if (ca_secret_call_wait(&fs->open, fs->ctx)) {
		g_variant_get_child(fs->open.reply, 1, "&o", &path);
		close_session(fs, path);
	}
	ca_secret_call_clear(&fs->open, fs->ctx);
	ca_secret_session_free(fs->crypt);
	fs->crypt = NULL;
	fs->crypt_error = 0;
}

static GVariant *search_attrs(const struct ca_identity *id)
{
	GHashTable *attrs = ca_secret_store_token_identity(id);
	GVariantBuilder b;
	GHashTableIter it;
	gpointer key, value;

	if (!ca_secret_attrs_valid(&ca_secret_token_schema, attrs)) {
		g_hash_table_unref(attrs);
		return NULL;  /* nothing stored can match (see fast_token_load) */
	}
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&b, "{ss}", "xdg:schema", SECRET_STORE_TOKEN_SCHEMA);
	g_hash_table_iter_init(&it, attrs);
	while (g_hash_table_iter_next(&it, &key, &value))
		g_variant_builder_add(&b, "{ss}", (const char *)key, (const char *)value);
	g_hash_table_unref(attrs);
	return g_variant_builder_end(&b);
}

/* Forgets the search asked for: its answer is good for one read. */
static void search_drop(struct fast_store *fs)
{
	ca_secret_call_clear(&fs->search, fs->ctx);
	if (fs->searched)
		g_variant_unref(fs->searched);
	fs->searched = NULL;
}

/* Asks SearchItems for attrs (floating, taken), unless it was asked for them already. */
static void search_request(struct fast_store *fs, GVariant *attrs)
{
	g_variant_ref_sink(attrs);
	if (fs->search.started && g_variant_equal(attrs, fs->searched)) {
		g_variant_unref(attrs);
		return;
	}
	search_drop(fs);
	fs->searched = attrs;
	call_start(&fs->search, fs, SECRETS_PATH, SERVICE_IFACE, "SearchItems",
		g_variant_new("(@a{ss})", attrs), "(aoao)");
}

/*
 * Whether the service runs and its default collection is there, unlocked:
 * one call to the default collection's alias path. Without an owner the bus
 * answers at once (no auto-start); any error sends the caller to the full
 * store, which starts the service or explains. The encrypted session and
 * the search for the token a read will want next (opts->prefetch), are
 * asked for in the same round trip.
 */
static int plainly_usable(struct fast_store *fs, const struct ca_store_options *opts)
{
	struct ca_secret_call get = { 0 };
	GVariant *locked;
	int usable = 0;

	g_main_context_push_thread_default(fs->ctx);
	call_start(&get, fs, SECRETS_PATH "/aliases/default", PROPS_IFACE, "Get",
		g_variant_new("(ss)", "org.freedesktop.Secret.Collection", "Locked"), "(v)");
	session_request(fs);
	if (opts->prefetch)
		search_request(fs, search_attrs(opts->prefetch));
	if (ca_secret_call_wait(&get, fs->ctx)) {
		g_variant_get(get.reply, "(v)", &locked);
		usable = g_variant_is_of_type(locked, G_VARIANT_TYPE_BOOLEAN) &&
			!g_variant_get_boolean(locked);
		g_variant_unref(locked);
	}
	ca_secret_call_clear(&get, fs->ctx);
	g_main_context_pop_thread_default(fs->ctx);
	return usable;
}

/* ---- the full store ---- */

static int full_store(struct store **out, struct fast_store *fs)
{
	struct ca_store_options opts = { 0 };
	int error = 0;

	if (!fs->full) {
		/* secret_store_open reads only whether it may prompt. */
		opts.interactive = fs->interactive;
		error = ca_secret_store_open_on(&fs->full, &opts, fs->bus, 0);
	}
	*out = fs->full;
	return error;
}

/* ---- reading a token ---- */

/* From SearchItems' answer, the one unlocked item: 0, CA_ENOTFOUND (none), or ASK_FULL. */
static int found_item(const char **out_path, GVariant *reply)
{
	GVariant *unlocked, *locked;
	int error = ASK_FULL;

	if (!reply)
		return ASK_FULL;
	unlocked = g_variant_get_child_value(reply, 0);
	locked = g_variant_get_child_value(reply, 1);
	if (!g_variant_n_children(unlocked) && !g_variant_n_children(locked)) {
		error = CA_ENOTFOUND;
	} else if (g_variant_n_children(unlocked) == 1 && !g_variant_n_children(locked)) {
		g_variant_get_child(unlocked, 0, "&o", out_path);  /* lives as long as reply */
		error = 0;
	}
	g_variant_unref(unlocked);
	g_variant_unref(locked);
	return error;
}

/*
 * From OpenSession's answer, the service's public value (a new reference)
 * and the session's path. ASK_FULL when the call failed for a reason of the
 * bus (libsecret then decides); CA_EKEYRING when the service cannot
 * encrypt or answered with something that is not a public value.
 */
static int session_opened(GVariant **out_peer, const char **out_path, struct ca_secret_call *open,
	GMainContext *ctx)
{
	GVariant *reply = ca_secret_call_wait(open, ctx), *output;

	if (!reply) {
		if (g_error_matches(open->err, G_DBUS_ERROR, G_DBUS_ERROR_NOT_SUPPORTED))
			return ca_error(CA_EKEYRING,
				"the Secret Service cannot encrypt secrets (no %s session), and carto-auth does not read them in clear; use CARTO_AUTH_STORE=file",
				SECRET_SESSION_ALGORITHM);
		return ASK_FULL;
	}
	g_variant_get(reply, "(v&o)", &output, out_path);
	if (!g_variant_is_of_type(output, G_VARIANT_TYPE_BYTESTRING)) {
		ca_error(CA_EKEYRING,
			"the Secret Service answered an encrypted session request with a value of type %s, not a public key",
			g_variant_get_type_string(output));
		g_variant_unref(output);
		return CA_EKEYRING;
	}
	*out_peer = output;
	return 0;
}

/* The item's attributes from Properties.Get's answer, as a GHashTable of strings, or NULL. */
static GHashTable *item_attributes(GVariant *reply)
{
	GVariant *attrs;
	GVariantIter it;
	const char *key, *value;
	GHashTable *out = NULL;

	if (!reply)
		return NULL;
	g_variant_get(reply, "(v)", &attrs);
	if (g_variant_is_of_type(attrs, G_VARIANT_TYPE("a{ss}"))) {
		out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_variant_iter_init(&it, attrs);
		while (g_variant_iter_next(&it, "{&s&s}", &key, &value))
			g_hash_table_insert(out, g_strdup(key), g_strdup(value));
	}
	g_variant_unref(attrs);
	return out;
}

/*
 * Decrypts item's secret from GetSecrets' answer and parses it; wipes the
 * plaintext. CA_ENOTFOUND when the item was stored for another client
 * secret than id's.
 */
/* What a read makes of an item's plaintext and attributes: 0, CA_ENOTFOUND or ASK_FULL. */
typedef int (*item_parse_fn)(void *out, const char *plain, size_t len, GHashTable *attrs,
	const void *payload);

static int token_parse(void *out, const char *plain, size_t len, GHashTable *attrs, const void *id)
{
	int error = len ? ca_secret_store_token_parse(out, plain, len, attrs, id) : ASK_FULL;

	return error && error != CA_ENOTFOUND ? ASK_FULL : error;
}

static int from_secret(void *out, struct secret_session *crypt, GVariant *reply,
	const char *item, GHashTable *attrs, item_parse_fn parse, const void *payload)
{
	GVariant *secrets, *value, *iv = NULL, *ct = NULL;
	const guchar *iv_data, *ct_data;
	gsize iv_len = 0, ct_len = 0;
	unsigned char *plain = NULL;
	size_t len = 0;
	int error = ASK_FULL;

	secrets = g_variant_get_child_value(reply, 0);
	value = g_variant_lookup_value(secrets, item, G_VARIANT_TYPE("(oayays)"));
	if (value) {
		iv = g_variant_get_child_value(value, 1);
		ct = g_variant_get_child_value(value, 2);
		iv_data = g_variant_get_fixed_array(iv, &iv_len, 1);
		ct_data = g_variant_get_fixed_array(ct, &ct_len, 1);
		error = ca_secret_session_decrypt(&plain, &len, crypt, iv_data, iv_len, ct_data, ct_len);
		if (!error)
			error = parse(out, (const char *)plain, len, attrs, payload);
		ca_secret_session_plain_free(plain, len);
		g_variant_unref(iv);
		g_variant_unref(ct);
		g_variant_unref(value);
	}
	g_variant_unref(secrets);
	return error;
}

/*
 * The token in the one unlocked item that matches id, over an encrypted
 * session: 0, CA_ENOTFOUND, CA_EKEYRING, or ASK_FULL. The search and the
 * session were usually asked for when the store was opened; one more round
 * trip asks for the item's attributes and GetSecrets together, our half of
 * the key computed meanwhile.
 */
static int read_item(void *out, struct fast_store *fs, GVariant *search,
	item_parse_fn parse, const void *payload)
{
	struct ca_secret_call attrs_call = { 0 }, secret = { 0 };
	const char *item = NULL, *session_path = NULL, *items[2] = { NULL, NULL };
	const guchar *peer_data;
	GVariant *peer = NULL;
	GHashTable *attrs = NULL;
	gsize peer_len = 0;
	int error, crypt_error;

	search_request(fs, search);  /* a token's usually asked for when the store was opened */
	if (!fs->open.started) {
		/* Used already, or no key pair at opening: ask again (for a fresh message). */
		session_drop(fs);
		session_request(fs);
	}
	error = found_item(&item, ca_secret_call_wait(&fs->search, fs->ctx));
	crypt_error = fs->crypt_error ? fs->crypt_error :
		session_opened(&peer, &session_path, &fs->open, fs->ctx);
	if (error)  /* nothing to read (or not ours to decide) */
		goto out;
	if ((error = crypt_error))
		goto out;

	items[0] = item;
	call_start(&attrs_call, fs, item, PROPS_IFACE, "Get",
		g_variant_new("(ss)", "org.freedesktop.Secret.Item", "Attributes"), "(v)");
	call_start(&secret, fs, SECRETS_PATH, SERVICE_IFACE, "GetSecrets",
		g_variant_new("(^aoo)", items, session_path), "(a{o(oayays)})");
	peer_data = g_variant_get_fixed_array(peer, &peer_len, 1);
	if ((error = ca_secret_session_agree(fs->crypt, peer_data, peer_len)))
		goto out;
	error = ASK_FULL;
	if (!(attrs = item_attributes(ca_secret_call_wait(&attrs_call, fs->ctx))) ||
	    !ca_secret_call_wait(&secret, fs->ctx))
		goto out;
	error = from_secret(out, fs->crypt, secret.reply, item, attrs, parse, payload);
out:
	if (attrs)
		g_hash_table_unref(attrs);
	if (peer)
		g_variant_unref(peer);
	ca_secret_call_clear(&secret, fs->ctx);
	ca_secret_call_clear(&attrs_call, fs->ctx);
	search_drop(fs);
	session_drop(fs);
	return error;
}

static int fast_token_load(struct store *s, struct ca_token *out, const struct ca_identity *id)
{
	struct fast_store *fs = (struct fast_store *)s;
	struct store *full;
	GVariant *attrs;
	int error;

	if ((error = ca_secret_process_check()))
		return error;
	if (!(attrs = search_attrs(id))) {
		ca_debug("keyring: fast path: an identity value is not UTF-8 text: no token stored");
		return CA_ENOTFOUND;
	}
	g_main_context_push_thread_default(fs->ctx);
	error = read_item(out, fs, attrs, token_parse, id);
	g_main_context_pop_thread_default(fs->ctx);
	if (error == 0 || error == CA_ENOTFOUND) {
		ca_debug("keyring: fast path: %s token %s", ca_mode_name(id->mode),
			error ? "not stored" : "found");
		return error;
	}
	if (error != ASK_FULL)
		return error;  /* the service's answer cannot be trusted: never "not found" */
	ca_debug("keyring: fast path cannot decide, asking libsecret");
	if ((error = full_store(&full, fs)))
		return error;
	return full->ops->token_load(full, out, id);
}

/* ---- everything else: the full store ---- */

static int fast_token_save(struct store *s, const struct ca_identity *id, const struct ca_token *tok)
{
	struct store *full;
	int error = full_store(&full, (struct fast_store *)s);

	return error ? error : full->ops->token_save(full, id, tok);
}

static int fast_token_erase(struct store *s, const struct ca_identity *id)
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

/* A git credential: one the caller can take and not expired, else "not found". */
static int cred_parse(void *out, const char *plain, size_t len, GHashTable *attrs, const void *query)
{
	struct cred *c = out;

	if (ca_secret_cred_from_plain(c, plain, len, attrs))
		return ASK_FULL;
	if (ca_secret_cred_expired(attrs, ca_now()) ||
	    !ca_cred_usable(query, c)) {
		ca_cred_clear(c);
		return CA_ENOTFOUND;
	}
	return 0;
}

/*
 * A plain get, as a token's: one SearchItems, and when exactly one
 * unlocked item matches, its attributes and secret in one more round trip.
 * Several matches (the newest is wanted) and locked ones go to libsecret.
 */
static int fast_cred_get(struct store *s, struct cred *out, const struct cred *query)
{
	struct fast_store *fs = (struct fast_store *)s;
	struct store *full;
	GVariant *attrs;
	int error;

	if ((error = ca_secret_process_check()))
		return error;
	if (!(attrs = ca_secret_cred_search_attrs(query))) {
		/* Searching without it would match other credentials. */
		ca_debug("keyring: fast path: a queried value is not UTF-8 text: nothing matches");
		return CA_ENOTFOUND;
	}
	g_main_context_push_thread_default(fs->ctx);
	error = read_item(out, fs, attrs, cred_parse, query);
	g_main_context_pop_thread_default(fs->ctx);
	if (error == 0 || error == CA_ENOTFOUND) {
		ca_debug("keyring: fast path: credential %s", error ? "not stored" : "found");
		return error;
	}
	if (error != ASK_FULL)
		return error;
	ca_debug("keyring: fast path cannot decide, asking libsecret");
	if ((error = full_store(&full, fs)))
		return error;
	return full->ops->cred_get(full, out, query);
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
	ca_store_free(fs->full);
	if (fs->ctx) {
		search_drop(fs);
		session_drop(fs);
		g_main_context_unref(fs->ctx);
	}
	ca_secret_session_free(fs->crypt);  /* made while connecting */
	ca_secret_bus_close(fs->bus);
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

int ca_secret_fast_open(struct store **out, const struct ca_store_options *opts)
{
	struct fast_store *fs;
	GDBusConnection *bus;
	GError *err = NULL;
	int error;

	if (!ca_store_session_bus_present())
		return ca_secret_store_open(out, opts);
	if ((error = ca_secret_process_check()))
		return error;
	if (!(fs = ca_calloc(1, sizeof(*fs))))
		return ca_error(CA_ERR, "out of memory");
	fs->base.ops = &fast_store_ops;
	fs->interactive = opts->interactive;
	if (!(fs->bus = connect_bus(&err, fs))) {
		if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			error = ca_error(CA_EKEYRING, "cannot connect to the session bus: no answer within %d s",
				CONNECT_MS / 1000);
		else
			error = ca_error(CA_EKEYRING, "cannot connect to the session bus: %s", err->message);
		g_error_free(err);
		fast_free(&fs->base);
		return error;
	}
	fs->ctx = g_main_context_new();
	if (!plainly_usable(fs, opts)) {
		/* Starting the service, prompts, messages: libsecret's path, on our connection. */
		/* Our session, if any, is closed on the bus it was opened on. */
		session_drop(fs);
		bus = g_steal_pointer(&fs->bus);
		fast_free(&fs->base);
		error = ca_secret_store_open_on(out, opts, bus, 1);
		g_object_unref(bus);
		return error;
	}
	ca_debug("keyring: Secret Service running, default collection unlocked");
	*out = &fs->base;
	return 0;
}
