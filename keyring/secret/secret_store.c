/*
 * The Secret Service store, through libsecret's synchronous API: the
 * connection, the bounded waits and what the tokens (secret_tokens.c) and
 * the git credentials (secret_creds.c) share: attributes, searching,
 * creating and deleting items.
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
 *                              git 2.46+'s pair: the attribute authtype,
 *                              and "\ncredential=..." in the secret (the
 *                              password line empty when there is none:
 *                              then the item goes only to a caller with
 *                              capability[]=authtype).
 *
 * Labels are for people browsing their keyring: "CARTO token (m2m,
 * gcp-us-east1)", "CARTO token (oauth, org acme)", "Git: https://host/path
 * (user)".
 *
 * Secrets are written as application/octet-stream, which every service
 * keeps byte for byte (KeePassXC resolves placeholders in text/plain ones),
 * and read as bytes whatever their content type. A write creates the new
 * item, reads its secret back and compares before the old items go; an
 * item that does not hold the secret is deleted again and the write fails
 * (ca_secret_write_item).
 *
 * Locked items are never "not found" and are never erased without being
 * unlocked: without permission to prompt (interactive=false, or no display
 * for the prompt) a locked match is CA_EKEYRING. An item locked in an open
 * collection is a service asking the user to confirm each access
 * (KeePassXC), and the message says so. Every D-Bus wait is bounded by a
 * watchdog that cancels the call, and each of our waits by a deadline of
 * its own as well.
 *
 * The store talks on a session bus connection of its own (or the fast
 * path's), never on GLib's shared one, which belongs to the host program.
 */
#include "keyring/secret/secret_internal.h"

#include "keyring/secret/secret_session.h"
#include "keyring/store.h"
#include "util/error.h"
#include "util/mem.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const SecretSchema ca_secret_token_schema = {
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

const SecretSchema ca_secret_cred_schema = {
	SECRET_STORE_CRED_SCHEMA, SECRET_SCHEMA_NONE,
	{
		{ "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "path", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "password_expiry_utc", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "authtype", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};


/* ---- the process ---- */

static gsize first_use;     /* the first check was made in this process or its parent */
static pid_t first_pid;     /* the process that made it */

/* GSocket's class set-up sets SIGPIPE to SIG_IGN: the host's disposition comes back. */
static void gio_setup(void)
{
	struct sigaction saved;
	int have = sigaction(SIGPIPE, NULL, &saved) == 0;

	g_type_class_unref(g_type_class_ref(G_TYPE_SOCKET));
	if (have)
		sigaction(SIGPIPE, &saved, NULL);
}

int ca_secret_process_forked(void)
{
	return g_atomic_pointer_get(&first_use) && getpid() != first_pid;
}

int ca_secret_process_check(void)
{
	if (g_once_init_enter(&first_use)) {
		first_pid = getpid();
		gio_setup();
		g_once_init_leave(&first_use, 1);
	}
	if (getpid() != first_pid)
		return ca_error(CA_EKEYRING,
			"the keyring cannot be used in this process: it was forked after its parent used the keyring, and GLib's D-Bus does not work in a process forked after it was started (use CARTO_AUTH_STORE=file in such a process)");
	return 0;
}

/* ---- bounded waits ---- */

static gpointer watchdog_run(gpointer data)
{
	struct ca_secret_watchdog *w = data;

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

int ca_secret_watchdog_start(struct ca_secret_watchdog *w, int ms)
{
	int error;

	memset(w, 0, sizeof(*w));
	if ((error = ca_secret_process_check()))
		return error;
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

void ca_secret_watchdog_stop(struct ca_secret_watchdog *w)
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

/*
 * What an operation's callback gets: the waiter's record while it waits,
 * NULL once it gave up (then the answer is dropped).
 */
struct ca_secret_async_slot {
	struct ca_secret_async *owner;
};

void ca_secret_async_callback(GObject *source, GAsyncResult *res, gpointer data)
{
	struct ca_secret_async_slot *slot = data;
	struct ca_secret_async *a = slot->owner;

	if (a) {
		a->source = source ? g_object_ref(source) : NULL;
		a->res = g_object_ref(res);
		a->done = 1;
		a->slot = NULL;
	}
	g_free(slot);
}

gpointer ca_secret_async_data(struct ca_secret_async *a, int ms)
{
	memset(a, 0, sizeof(*a));
	a->slot = g_new0(struct ca_secret_async_slot, 1);
	a->slot->owner = a;
	a->deadline = g_get_monotonic_time() + (gint64)ms * G_TIME_SPAN_MILLISECOND;
	a->started = 1;
	return a->slot;
}

static gboolean deadline_passed(gpointer data)
{
	*(int *)data = 1;
	return G_SOURCE_REMOVE;
}

int ca_secret_async_wait(struct ca_secret_async *a, GMainContext *ctx)
{
	GSource *timer = NULL;
	gint64 left;
	int expired = 0;

	if (!a->started)
		return 0;
	if (!a->done) {
		left = a->deadline - g_get_monotonic_time();
		timer = g_timeout_source_new(left > 0 ? (guint)(left / G_TIME_SPAN_MILLISECOND) : 0);
		g_source_set_callback(timer, deadline_passed, &expired, NULL);
		g_source_attach(timer, ctx);
	}
	while (!a->done && !expired && !(a->gone && *a->gone))
		g_main_context_iteration(ctx, TRUE);
	if (timer) {
		g_source_destroy(timer);
		g_source_unref(timer);
	}
	if (!a->done)
		ca_debug("keyring: no answer within the deadline; giving up the wait");
	return a->done;
}

void ca_secret_async_clear(struct ca_secret_async *a)
{
	if (a->slot)
		a->slot->owner = NULL;  /* abandoned: its callback only frees the slot */
	if (a->res)
		g_object_unref(a->res);
	if (a->source)
		g_object_unref(a->source);
	memset(a, 0, sizeof(*a));
}

/* ---- libsecret operations ---- */

G_DEFINE_QUARK(carto-auth-keyring-gone, ca_secret_gone)

gpointer ca_secret_op_start(struct ca_secret_op *op, struct secret_store *ss,
	struct ca_secret_watchdog *w)
{
	gint64 left = (w->deadline - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
	gpointer data;

	op->ctx = g_main_context_ref_thread_default();
	op->w = w;
	data = ca_secret_async_data(&op->a, (int)(left > 0 ? left : 0) + WAIT_GRACE_MS);
	op->a.gone = &ss->gone;
	return data;
}

int ca_secret_op_wait(struct ca_secret_op *op, struct secret_store *ss, GError **err)
{
	if (ca_secret_async_wait(&op->a, op->ctx))
		return 1;
	if (ss->gone)
		g_set_error_literal(err, CA_SECRET_GONE, 0,
			"the Secret Service left the session bus during the call (its process ended)");
	else
		g_set_error_literal(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no answer in time");
	/* Abandoned: the cancel lets libsecret wind the operation down. */
	g_cancellable_cancel(op->w->cancel);
	return 0;
}

void ca_secret_op_clear(struct ca_secret_op *op)
{
	ca_secret_async_clear(&op->a);
	if (op->ctx)
		g_main_context_unref(op->ctx);
	memset(op, 0, sizeof(*op));
}

/* ---- the connection ---- */

int ca_secret_bus_connect_start(struct ca_secret_async *a, GCancellable *cancel, int ms,
	GError **err)
{
	char *address;
	int error;

	memset(a, 0, sizeof(*a));
	if ((error = ca_secret_process_check())) {
		g_set_error_literal(err, G_IO_ERROR, G_IO_ERROR_FAILED, ca_error_message());
		return error;
	}
	/* $DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus (ca_store_session_bus_present). */
	if (!(address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SESSION, cancel, err)))
		return CA_EKEYRING;
	g_dbus_connection_new_for_address(address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, cancel, ca_secret_async_callback, ca_secret_async_data(a, ms));
	g_free(address);
	return 0;
}

GDBusConnection *ca_secret_bus_connect_finish(struct ca_secret_async *a, GMainContext *ctx,
	GError **err)
{
	GDBusConnection *bus = NULL;

	if (ca_secret_async_wait(a, ctx))
		bus = g_dbus_connection_new_for_address_finish(a->res, err);
	else
		g_set_error_literal(err, G_IO_ERROR, G_IO_ERROR_CANCELLED, "no answer in time");
	ca_secret_async_clear(a);
	/* Ours: GLib's default would end the process if the bus went away. */
	if (bus)
		g_dbus_connection_set_exit_on_close(bus, FALSE);
	return bus;
}

/*
 * Dropping the last reference closes the connection: GDBus stops its
 * worker, which closes the socket at once (close-on-exec meanwhile), and
 * the service forgets this connection's sessions when it goes. Nothing
 * waits (a wait would cost every command two thread hops).
 *
 * Not g_dbus_connection_close(): its task keeps a reference on the
 * connection until its completion is dispatched in the thread-default
 * context of the moment, the host's global one here, which a host that
 * runs no GLib main loop never iterates. The connection, and with it the
 * context it was made in (an eventfd), would then outlive every handle.
 */
void ca_secret_bus_close(GDBusConnection *bus)
{
	if (bus)
		g_object_unref(bus);
}

/* Turns a GError (consumed) into CA_EKEYRING with a message. */
int ca_secret_error(GError **err, const struct ca_secret_watchdog *w, const char *what)
{
	int code;

	if (*err && g_error_matches(*err, CA_SECRET_GONE, 0))
		code = ca_error(CA_EKEYRING, "%s: %s", what, (*err)->message);
	else if (w && w->cancel && g_cancellable_is_cancelled(w->cancel))
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

/*
 * libsecret reports some failures with g_warning, and GIO logs a critical
 * when a service dies during a libsecret call (see ca_secret_op_wait):
 * the executable sends both to the debug log, so that a failure stays one
 * line on the terminal. GLib's log handlers belong to the process: the
 * library leaves them to its host and never calls this.
 */
void ca_secret_quiet_logs(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_log_set_handler("libsecret", G_LOG_LEVEL_MASK & ~G_LOG_LEVEL_ERROR,
			log_to_debug, NULL);
		g_log_set_handler("GLib-GIO", G_LOG_LEVEL_MASK & ~G_LOG_LEVEL_ERROR,
			log_to_debug, NULL);
		g_once_init_leave(&done, 1);
	}
}

/* ---- calls on the bus ---- */

void ca_secret_call_start(struct ca_secret_call *p, GDBusConnection *bus, const char *dest,
	const char *path, const char *iface, const char *method, GVariant *args,
	const char *reply_type, int ms, GCancellable *cancel)
{
	if (p) {
		p->method = method;
		p->bus = bus;
		p->started = 1;
	}
	/* Our deadline comes after GDBus's own timeout, which says more. */
	g_dbus_connection_call(bus, dest, path, iface, method, args,
		reply_type ? G_VARIANT_TYPE(reply_type) : NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
		ms, cancel, p ? ca_secret_async_callback : NULL,
		p ? ca_secret_async_data(&p->a, ms + WAIT_GRACE_MS) : NULL);
}

GVariant *ca_secret_call_wait(struct ca_secret_call *p, GMainContext *ctx)
{
	if (!p->started)
		return NULL;
	if (!p->done) {
		if (ca_secret_async_wait(&p->a, ctx))
			p->reply = g_dbus_connection_call_finish(p->bus, p->a.res, &p->err);
		else
			p->err = g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no answer in time");
		ca_secret_async_clear(&p->a);
		p->done = 1;
	}
	if (!p->reply)
		ca_debug("keyring: %s: %s", p->method, p->err->message);
	return p->reply;
}

void ca_secret_call_clear(struct ca_secret_call *p, GMainContext *ctx)
{
	ca_secret_call_wait(p, ctx);
	if (p->reply)
		g_variant_unref(p->reply);
	if (p->err)
		g_error_free(p->err);
	memset(p, 0, sizeof(*p));
}

/*
 * One question to the bus daemon (org.freedesktop.DBus), awaited in a
 * context of its own: the answer (to unref), or NULL with *err set.
 */
static GVariant *ask_bus(GDBusConnection *bus, const char *method, GVariant *args,
	const char *reply_type, int ms, GCancellable *cancel, GError **err)
{
	GMainContext *ctx = g_main_context_new();
	struct ca_secret_call call = { 0 };
	GVariant *reply;

	g_main_context_push_thread_default(ctx);
	ca_secret_call_start(&call, bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", method, args, reply_type, ms, cancel);
	reply = ca_secret_call_wait(&call, ctx);
	if (reply)
		g_variant_ref(reply);
	else
		g_propagate_error(err, g_steal_pointer(&call.err));
	ca_secret_call_clear(&call, ctx);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	return reply;
}

/* ---- connecting ---- */

/*
 * Whether org.freedesktop.secrets has an owner, starting it (bounded) when
 * the bus can activate it. Asking first keeps libsecret from waiting on an
 * activation that cannot happen.
 */
static int service_reachable(GDBusConnection *bus, struct ca_secret_watchdog *w)
{
	GVariant *reply = NULL;
	GVariantIter *names = NULL;
	GError *err = NULL;
	const char *name;
	gboolean owned = FALSE, activatable = FALSE;
	int error = 0;

	reply = ask_bus(bus, "NameHasOwner", g_variant_new("(s)", SECRETS_NAME), "(b)",
		BUS_CALL_MS, w->cancel, &err);
	if (!reply)
		return ca_secret_error(&err, w, "cannot talk to the session bus");
	g_variant_get(reply, "(b)", &owned);
	g_variant_unref(reply);
	if (owned)
		return 0;

	reply = ask_bus(bus, "ListActivatableNames", NULL, "(as)", BUS_CALL_MS, w->cancel, &err);
	if (!reply)
		return ca_secret_error(&err, w, "cannot talk to the session bus");
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
	reply = ask_bus(bus, "StartServiceByName", g_variant_new("(su)", SECRETS_NAME, 0u),
		"(u)", START_MS, w->cancel, &err);
	if (!reply)
		error = ca_secret_error(&err, w, "the Secret Service did not start");
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
	struct ca_secret_watchdog *w)
{
	struct ca_secret_op op = { 0 };
	GError *err = NULL;

	*out = NULL;
	secret_collection_for_alias(ss->service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE,
		w->cancel, ca_secret_async_callback, ca_secret_op_start(&op, ss, w));
	if (ca_secret_op_wait(&op, ss, &err))
		*out = secret_collection_for_alias_finish(op.a.res, &err);
	ca_secret_op_clear(&op);
	if (err) {
		if (*out)
			g_object_unref(*out);
		*out = NULL;
		return ca_secret_error(&err, w, "cannot open the default keyring");
	}
	return 0;
}

/* Why no prompt may be shown (for messages). */
static const char *no_prompt_reason(const struct ca_store_options *opts)
{
	return opts->interactive ? "no display to show a prompt on" : "interactive=false";
}

/* ---- attributes ---- */

GHashTable *ca_secret_attrs_new(void)
{
	return g_hash_table_new(g_str_hash, g_str_equal);
}

void ca_secret_attrs_put(GHashTable *attrs, const char *key, const char *value)
{
	g_hash_table_insert(attrs, (gpointer)key, (gpointer)(value ? value : ""));
}

const char *ca_secret_attr(GHashTable *attrs, const char *key)
{
	return attrs ? g_hash_table_lookup(attrs, key) : NULL;
}

int64_t ca_secret_attr_int(GHashTable *attrs, const char *key)
{
	const char *v = ca_secret_attr(attrs, key);
	long long n;
	char *end;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	return (errno || *end) ? 0 : (int64_t)n;
}

int ca_secret_attrs_valid(const SecretSchema *schema, GHashTable *attrs)
{
	GHashTableIter it;
	gpointer key, value;
	size_t i;

	g_hash_table_iter_init(&it, attrs);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		int known = !strcmp(key, "xdg:schema");

		for (i = 0; !known && i < G_N_ELEMENTS(schema->attributes) &&
		     schema->attributes[i].name; i++)
			known = !strcmp(schema->attributes[i].name, key);
		if (!known || !g_utf8_validate(value, -1, NULL))
			return 0;
	}
	return 1;
}

/* ---- searching ---- */

void ca_secret_found_clear(struct ca_secret_found *f)
{
	g_list_free_full(f->items, g_object_unref);
	memset(f, 0, sizeof(*f));
}

/*
 * Whether the collection holding a locked item is open (see
 * ca_secret_found's confirm). One call, made only when a match is locked.
 */
static int collection_open(struct secret_store *ss, const char *item_path)
{
	GDBusConnection *bus = g_dbus_proxy_get_connection(G_DBUS_PROXY(ss->service));
	const char *slash = strrchr(item_path, '/');
	GVariant *reply, *locked;
	char *coll;
	int open = 0;

	if (!slash || slash == item_path)
		return 0;
	coll = g_strndup(item_path, (gsize)(slash - item_path));
	reply = g_dbus_connection_call_sync(bus, SECRETS_NAME, coll,
		"org.freedesktop.DBus.Properties", "Get",
		g_variant_new("(ss)", "org.freedesktop.Secret.Collection", "Locked"),
		G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, BUS_CALL_MS, NULL, NULL);
	if (reply) {
		g_variant_get(reply, "(v)", &locked);
		open = g_variant_is_of_type(locked, G_VARIANT_TYPE_BOOLEAN) &&
			!g_variant_get_boolean(locked);
		g_variant_unref(locked);
		g_variant_unref(reply);
	}
	g_free(coll);
	return open;
}

/*
 * Every item of schema matching attrs. With unlock (and permission to
 * prompt), locked matches are unlocked first; the rest are counted in
 * out->locked and left out of out->items.
 */
int ca_secret_search(struct ca_secret_found *out, struct secret_store *ss, const SecretSchema *schema,
	GHashTable *attrs, int load_secrets, int unlock, const char *what)
{
	SecretSearchFlags flags = SECRET_SEARCH_ALL;
	struct ca_secret_watchdog w;
	struct ca_secret_op op = { 0 };
	GError *err = NULL;
	GList *items = NULL, *l;
	char *locked_path = NULL;
	int error, prompt = unlock && ss->can_prompt;

	memset(out, 0, sizeof(*out));
	if (!ca_secret_attrs_valid(schema, attrs)) {
		/* Nothing stored can match what the service could not hold. */
		ca_debug("keyring: a searched value is not UTF-8 text: nothing matches");
		return 0;
	}
	if (load_secrets)
		flags |= SECRET_SEARCH_LOAD_SECRETS;
	if (prompt)
		flags |= SECRET_SEARCH_UNLOCK;
	if ((error = ca_secret_watchdog_start(&w, prompt ? PROMPT_MS : OP_MS)))
		return error;
	secret_service_search(ss->service, schema, attrs, flags, w.cancel,
		ca_secret_async_callback, ca_secret_op_start(&op, ss, &w));
	if (ca_secret_op_wait(&op, ss, &err))
		items = secret_service_search_finish(ss->service, op.a.res, &err);
	ca_secret_op_clear(&op);
	if (err) {
		g_list_free_full(items, g_object_unref);
		error = ca_secret_error(&err, &w, what);
		goto out;
	}
	for (l = items; l; l = l->next) {
		SecretItem *item = l->data;

		if (secret_item_get_locked(item)) {
			if (!out->locked++)
				locked_path = g_strdup(g_dbus_proxy_get_object_path(G_DBUS_PROXY(item)));
			g_object_unref(item);
		} else {
			out->items = g_list_prepend(out->items, item);
		}
	}
	g_list_free(items);
	out->items = g_list_reverse(out->items);
	out->prompted = prompt;
out:
	ca_secret_watchdog_stop(&w);
	if (locked_path)
		out->confirm = collection_open(ss, locked_path);
	g_free(locked_path);
	return error;
}

int ca_secret_locked_error(const struct secret_store *ss, const char *what,
	const struct ca_secret_found *f)
{
	const char *s = f->locked == 1 ? "" : "s";

	if (f->confirm && f->prompted)
		return ca_error(CA_EKEYRING,
			"%s: the user did not confirm the access to %zu matching item%s (the Secret Service asks to confirm each access)",
			what, f->locked, s);
	if (f->confirm)
		return ca_error(CA_EKEYRING,
			"%s: the access to %zu matching item%s waits for the user's confirmation, and no prompt can be shown (%s); KeePassXC: turn off \"Confirm when passwords are retrieved by clients\"",
			what, f->locked, s, ss->interactive ? "no display" : "interactive=false");
	return ca_error(CA_EKEYRING, "%s: the keyring is locked (%zu matching item%s)",
		what, f->locked, s);
}

int ca_secret_delete_item(struct secret_store *ss, SecretItem *item)
{
	struct ca_secret_watchdog w;
	struct ca_secret_op op = { 0 };
	GError *err = NULL;
	int error, deleted = 0;

	if ((error = ca_secret_watchdog_start(&w, OP_MS)))
		return error;
	secret_item_delete(item, w.cancel, ca_secret_async_callback, ca_secret_op_start(&op, ss, &w));
	if (ca_secret_op_wait(&op, ss, &err))
		deleted = secret_item_delete_finish(item, op.a.res, &err);
	ca_secret_op_clear(&op);
	if (!deleted)
		error = ca_secret_error(&err, &w, "cannot remove a keyring item");
	ca_secret_watchdog_stop(&w);
	return error;
}

/* The most recently modified item of a list, or NULL. */
SecretItem *ca_secret_newest(GList *items)
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
	struct ca_secret_watchdog w;
	struct ca_secret_op op = { 0 };
	GError *err = NULL;
	int error;

	*out = NULL;
	if (!ca_secret_attrs_valid(schema, attrs))
		return ca_error(CA_EKEYRING,
			"cannot save to the keyring: a value (host, path, username...) is not UTF-8 text, which a Secret Service cannot hold");
	if ((error = ca_secret_watchdog_start(&w, ss->can_prompt ? PROMPT_MS : OP_MS)))
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
		secret_collection_create(ss->service, "Login", SECRET_COLLECTION_DEFAULT,
			SECRET_COLLECTION_CREATE_NONE, w.cancel, ca_secret_async_callback,
			ca_secret_op_start(&op, ss, &w));
		if (ca_secret_op_wait(&op, ss, &err))
			coll = secret_collection_create_finish(op.a.res, &err);
		ca_secret_op_clear(&op);
		if (!coll) {
			error = ca_secret_error(&err, &w, "cannot create the default keyring");
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
		int unlocked = 0;

		secret_service_unlock(ss->service, &objects, w.cancel, ca_secret_async_callback,
			ca_secret_op_start(&op, ss, &w));
		if (ca_secret_op_wait(&op, ss, &err))
			unlocked = secret_service_unlock_finish(ss->service, op.a.res, NULL, &err);
		ca_secret_op_clear(&op);
		if (unlocked < 1) {
			if (err)
				error = ca_secret_error(&err, &w, "cannot unlock the keyring");
			else
				error = ca_error(CA_EKEYRING, "the keyring is locked (unlocking was dismissed)");
			goto out;
		}
	}
	secret_item_create(coll, schema, attrs, label, value, SECRET_ITEM_CREATE_NONE, w.cancel,
		ca_secret_async_callback, ca_secret_op_start(&op, ss, &w));
	if (ca_secret_op_wait(&op, ss, &err))
		*out = secret_item_create_finish(op.a.res, &err);
	ca_secret_op_clear(&op);
	if (!*out)
		error = ca_secret_error(&err, &w, "cannot save to the keyring");
out:
	if (coll)
		g_object_unref(coll);
	ca_secret_watchdog_stop(&w);
	return error;
}

/* Whether a (len bytes) equals b (b_len bytes); the content does not leak. */
static int same_bytes(const char *a, size_t len, const char *b, size_t b_len)
{
	unsigned char diff = len != b_len;
	size_t i;

	for (i = 0; i < len && i < b_len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/*
 * Whether item, read back from the service (not from libsecret's copy),
 * holds data byte for byte, compared in constant time.
 */
static int item_holds(int *holds, struct secret_store *ss, SecretItem *item, const char *data,
	size_t len)
{
	struct ca_secret_watchdog w;
	struct ca_secret_op op = { 0 };
	SecretValue *value;
	GError *err = NULL;
	const char *have;
	gsize have_len = 0;
	int error, loaded = 0;

	*holds = 0;
	if ((error = ca_secret_watchdog_start(&w, OP_MS)))
		return error;
	secret_item_load_secret(item, w.cancel, ca_secret_async_callback,
		ca_secret_op_start(&op, ss, &w));
	if (ca_secret_op_wait(&op, ss, &err))
		loaded = secret_item_load_secret_finish(item, op.a.res, &err);
	ca_secret_op_clear(&op);
	if (!loaded) {
		error = ca_secret_error(&err, &w, "cannot read back the saved item");
		goto out;
	}
	if ((value = secret_item_get_secret(item))) {
		have = secret_value_get(value, &have_len);
		*holds = same_bytes(have, have_len, data, len);
		secret_value_unref(value);
	}
out:
	ca_secret_watchdog_stop(&w);
	return error;
}

/* Whether data holds a KeePassXC field reference, "{REF:" in any case. */
static int holds_field_reference(const char *data, size_t len)
{
	size_t i;

	for (i = 0; i + 5 <= len; i++)
		if (data[i] == '{' && !g_ascii_strncasecmp(data + i + 1, "REF:", 4))
			return 1;
	return 0;
}

/*
 * Whether the Secret Service is KeePassXC, by the name of the process that
 * owns org.freedesktop.secrets (Linux; elsewhere: not known, 0).
 */
static int service_is_keepassxc(struct secret_store *ss)
{
	char path[64], comm[32] = "";
	guint32 pid = 0;
	GVariant *reply;
	FILE *f;

	reply = ask_bus(ss->bus, "GetConnectionUnixProcessID", g_variant_new("(s)", SECRETS_NAME),
		"(u)", BUS_CALL_MS, NULL, NULL);
	if (!reply)
		return 0;
	g_variant_get(reply, "(u)", &pid);
	g_variant_unref(reply);
	snprintf(path, sizeof(path), "/proc/%u/comm", (unsigned)pid);
	if (!pid || !(f = fopen(path, "re")))
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return !g_ascii_strcasecmp(comm, "keepassxc");
}

int ca_secret_write_item(SecretItem **out, struct secret_store *ss, const SecretSchema *schema,
	GHashTable *attrs, const char *label, const char *data, size_t len)
{
	SecretValue *value;
	SecretItem *fresh = NULL;
	int error, holds = 0;

	*out = NULL;
	/*
	 * KeePassXC (2.7) refuses such a secret after creating its item, and
	 * deleting that half-made item now and then crashes it (seen about
	 * once in 30 tries): it is not sent there at all. Any other refusal is
	 * caught by the read-back below.
	 */
	if (holds_field_reference(data, len) && service_is_keepassxc(ss)) {
		ca_debug("keyring: KeePassXC does not keep a {REF:...} field reference; not writing");
		return ca_error(CA_EKEYRING,
			"cannot save to the keyring: KeePassXC does not keep a secret holding a {REF:...} field reference; nothing was stored");
	}
	value = secret_value_new(data, (gssize)len, SECRET_STORE_CONTENT_TYPE);
	error = create_item(&fresh, ss, schema, attrs, label, value);
	secret_value_unref(value);
	if (error)
		return error;
	error = item_holds(&holds, ss, fresh, data, len);
	if (!error && holds) {
		*out = fresh;
		return 0;
	}
	if (error) {
		/* Not read back (the service failed): its message, once the item is gone. */
		char *why = g_strdup(ca_error_message());

		ca_debug("keyring: the new item could not be read back; deleting it");
		if (ca_secret_delete_item(ss, fresh))
			ca_debug("keyring: the half-made item could not be deleted");
		g_object_unref(fresh);
		error = ca_error(CA_EKEYRING, "%s", why);
		g_free(why);
		return error;
	}
	ca_debug("keyring: the new item does not hold the secret; deleting it");
	if (ca_secret_delete_item(ss, fresh))
		ca_debug("keyring: the half-made item could not be deleted");
	g_object_unref(fresh);
	/* The message says nothing about the secret's content. */
	return ca_error(CA_EKEYRING,
		"cannot save to the keyring: the Secret Service did not keep the secret as given (KeePassXC refuses one holding a {REF:...} field reference); nothing was stored");
}

/* Deletes every item of list except keep (the one just written). */
int ca_secret_delete_others(struct secret_store *ss, GList *items, SecretItem *keep)
{
	const char *keep_path = keep ? g_dbus_proxy_get_object_path(G_DBUS_PROXY(keep)) : "";
	GList *l;
	int error = 0, e;

	for (l = items; l; l = l->next) {
		if (!strcmp(g_dbus_proxy_get_object_path(G_DBUS_PROXY(l->data)), keep_path))
			continue;
		if ((e = ca_secret_delete_item(ss, l->data)) && !error)
			error = e;
	}
	return error;
}

/* ---- the store ---- */

/*
 * libsecret's SecretService on a connection of our own. SecretService's
 * constructor sets the proxy's bus type to the session bus, which GDBusProxy
 * would connect through GLib's shared connection (and which cannot be
 * combined with a g-connection); this subclass sets it back to none, so
 * that the g-connection given is the one used. libsecret makes every
 * collection and item proxy on its service's connection, and every call
 * the store makes names ss->service, so nothing falls back to libsecret's
 * shared service (secret_service_get), nor to GLib's shared connection.
 */
typedef struct {
	SecretService parent;
} CaSecretOwnService;

typedef struct {
	SecretServiceClass parent_class;
} CaSecretOwnServiceClass;

G_DEFINE_TYPE(CaSecretOwnService, ca_secret_own_service, SECRET_TYPE_SERVICE)

static GObject *own_service_constructor(GType type, guint n, GObjectConstructParam *params)
{
	GObject *obj = G_OBJECT_CLASS(ca_secret_own_service_parent_class)->constructor(type, n, params);

	g_object_set(obj, "g-bus-type", G_BUS_TYPE_NONE, NULL);
	return obj;
}

static void ca_secret_own_service_class_init(CaSecretOwnServiceClass *klass)
{
	G_OBJECT_CLASS(klass)->constructor = own_service_constructor;
}

static void ca_secret_own_service_init(CaSecretOwnService *self)
{
	(void)self;
}

/*
 * The Secret Service on bus, with an open session (OpenSession). The
 * proxy's name, path, interface and flags are set by SecretService's
 * constructor (given here as well, they would be overwritten and leak).
 */
static SecretService *service_on(GDBusConnection *bus, GCancellable *cancel, GError **err)
{
	return g_initable_new(ca_secret_own_service_get_type(), cancel, err,
		"g-connection", bus,
		"flags", SECRET_SERVICE_OPEN_SESSION,
		NULL);
}

/* Our own connection to the session bus, within w's time. */
static GDBusConnection *connect_bus(struct ca_secret_watchdog *w, GError **err)
{
	GMainContext *ctx = g_main_context_new();
	struct ca_secret_async a;
	GDBusConnection *bus = NULL;

	g_main_context_push_thread_default(ctx);
	if (!ca_secret_bus_connect_start(&a, w->cancel, w->ms, err))
		bus = ca_secret_bus_connect_finish(&a, ctx, err);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	return bus;
}

/*
 * The signals delivered to service's context for nothing: each one (the
 * service announces every item created or deleted) holds a reference to
 * the connection until it is dispatched. Called once the proxy is gone.
 */
static void drain_signals(GMainContext *ctx)
{
	int n = 0;

	while (n++ < 1000 && g_main_context_iteration(ctx, FALSE))
		;
}

/* NameOwnerChanged for the service's name: no new owner means it left. */
static void owner_changed(GDBusConnection *bus, const gchar *sender, const gchar *path,
	const gchar *iface, const gchar *signal, GVariant *args, gpointer data)
{
	struct secret_store *ss = data;
	const char *name = NULL, *old_owner = NULL, *new_owner = NULL;

	(void)bus;
	(void)sender;
	(void)path;
	(void)iface;
	(void)signal;
	if (!g_variant_is_of_type(args, G_VARIANT_TYPE("(sss)")))
		return;
	g_variant_get(args, "(&s&s&s)", &name, &old_owner, &new_owner);
	if (!*new_owner && !ss->gone) {
		ss->gone = 1;
		ca_debug("keyring: the Secret Service left the session bus");
	}
}

static void ss_free(struct store *s)
{
	struct secret_store *ss = (struct secret_store *)s;

	if (!ss)
		return;
	if (ss->owner_watch)
		g_dbus_connection_signal_unsubscribe(ss->bus, ss->owner_watch);
	if (ss->service)
		g_object_unref(ss->service);
	if (ss->signals) {
		drain_signals(ss->signals);
		g_main_context_unref(ss->signals);
	}
	if (ss->close_bus)
		ca_secret_bus_close(ss->bus);
	else if (ss->bus)
		g_object_unref(ss->bus);
	ca_free(ss);
}

/* Every operation runs with the store's signal context as the thread-default one. */
#define SS_OP(name, call, ...) \
	static int name(__VA_ARGS__) \
	{ \
		struct secret_store *ss = (struct secret_store *)s; \
		int error; \
		g_main_context_push_thread_default(ss->signals); \
		error = call; \
		g_main_context_pop_thread_default(ss->signals); \
		return error; \
	}
SS_OP(ss_token_load, ca_secret_token_load(s, out, id),
	struct store *s, struct ca_token *out, const struct ca_identity *id)
SS_OP(ss_token_save, ca_secret_token_save(s, id, tok),
	struct store *s, const struct ca_identity *id, const struct ca_token *tok)
SS_OP(ss_token_erase, ca_secret_token_erase(s, id),
	struct store *s, const struct ca_identity *id)
SS_OP(ss_token_list, ca_secret_token_list(s, cb, payload),
	struct store *s, store_token_cb cb, void *payload)
SS_OP(ss_token_erase_info, ca_secret_token_erase_info(s, info),
	struct store *s, const struct store_token_info *info)
SS_OP(ss_cred_get, ca_secret_cred_get(s, out, query),
	struct store *s, struct cred *out, const struct cred *query)
SS_OP(ss_cred_store, ca_secret_cred_store(s, c),
	struct store *s, const struct cred *c)
SS_OP(ss_cred_erase, ca_secret_cred_erase(s, query),
	struct store *s, const struct cred *query)

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

int ca_secret_store_open(struct store **out, const struct ca_store_options *opts)
{
	return ca_secret_store_open_on(out, opts, NULL, 1);
}

int ca_secret_store_open_on(struct store **out, const struct ca_store_options *opts,
	GDBusConnection *bus, int close_bus)
{
	struct secret_store *ss = NULL;
	SecretCollection *coll = NULL;
	GError *err = NULL;
	struct ca_secret_watchdog w = { 0 };
	gint64 start = g_get_monotonic_time();
	const char *algorithms;
	int error, pushed = 0;

	if (!ca_store_session_bus_present())
		return ca_error(CA_EKEYRING,
			"no session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service");
	if (!(ss = ca_calloc(1, sizeof(*ss)))) {
		if (bus && close_bus)
			ca_secret_bus_close(g_object_ref(bus));
		return ca_error(CA_ERR, "out of memory");
	}
	ss->base.ops = &secret_store_ops;
	ss->bus = bus ? g_object_ref(bus) : NULL;
	ss->close_bus = close_bus || !bus;
	ss->can_prompt = opts->interactive && display_present();
	ss->interactive = opts->interactive;
	if ((error = ca_secret_watchdog_start(&w, OPEN_MS)))
		goto out;

	if (!ss->bus && !(ss->bus = connect_bus(&w, &err))) {
		error = ca_secret_error(&err, &w, "cannot connect to the session bus");
		goto out;
	}
	if ((error = service_reachable(ss->bus, &w)))
		goto out;
	/*
	 * A proxy's signals arrive in the thread-default context of its
	 * making: for the service's and those libsecret makes for collections
	 * and items, one of ours (see SS_OP), drained and dropped with the
	 * store; never the host's global one, where they would wait forever,
	 * each holding the connection and with it the context it was made in.
	 */
	ss->signals = g_main_context_new();
	g_main_context_push_thread_default(ss->signals);
	pushed = 1;
	ss->service = service_on(ss->bus, w.cancel, &err);
	if (!ss->service) {
		error = ca_secret_error(&err, &w, "cannot open a Secret Service session");
		goto out;
	}
	/* A service that leaves the bus ends every wait for it at once. */
	ss->owner_watch = g_dbus_connection_signal_subscribe(ss->bus, "org.freedesktop.DBus",
		"org.freedesktop.DBus", "NameOwnerChanged", "/org/freedesktop/DBus", SECRETS_NAME,
		G_DBUS_SIGNAL_FLAGS_NONE, owner_changed, ss, NULL);
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
			no_prompt_reason(opts));
	else if (!ss->can_prompt && secret_collection_get_locked(coll))
		error = ca_error(CA_EKEYRING, "the keyring is locked, and unlocking it needs a prompt (%s)",
			no_prompt_reason(opts));
out:
	ca_secret_watchdog_stop(&w);
	if (coll)
		g_object_unref(coll);
	if (pushed)
		g_main_context_pop_thread_default(ss->signals);
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
