/*
 * What the parts of the Secret Service store share (secret_store.c: the
 * connection, bounded waits, attributes, searching; secret_tokens.c;
 * secret_creds.c). Private to keyring/secret/.
 */
#ifndef CA_KEYRING_SECRET_INTERNAL_H
#define CA_KEYRING_SECRET_INTERNAL_H

#include "keyring/secret/secret_store.h"
#include "keyring/store.h"

#include <libsecret/secret.h>
#include <stddef.h>
#include <stdint.h>

#define SECRETS_NAME "org.freedesktop.secrets"
#define BUS_CALL_MS 2000    /* one call to the bus daemon */
#define START_MS 5000       /* activating the Secret Service */
#define OPEN_MS 5000        /* connecting and opening a session, in all */
#define OP_MS 10000         /* one operation that shows no prompt */
#define PROMPT_MS 120000    /* one operation that may wait for a person */
#define WAIT_GRACE_MS 1000  /* a wait's own deadline comes this long after the call's */

/*
 * The content type of every secret written. A Secret Service keeps it with
 * the secret; KeePassXC puts a text/plain secret (or one of a type derived
 * from it, application/json included) in the entry's password field and
 * resolves its placeholders ({TITLE}, {USERNAME}, {S:attr}, ...) when the
 * secret is read back, but keeps any other type as it is, as an
 * attachment. A secret of any type is read back the same way: as bytes.
 */
#define SECRET_STORE_CONTENT_TYPE "application/octet-stream"

struct secret_store {
	struct store base;
	GDBusConnection *bus;  /* our own connection (ca_secret_bus_connect) */
	int close_bus;         /* closed when the store is freed (else its giver's) */
	SecretService *service;  /* a proxy on bus, never libsecret's shared one */
	GMainContext *signals;   /* where its proxies' D-Bus signals go (drained when freed) */
	guint owner_watch;       /* NameOwnerChanged of the service's name, or 0 */
	int gone;                /* the service's process left the bus */
	int can_prompt;  /* unlock or create-collection prompts allowed */
	int interactive; /* the caller's interactive setting (for messages) */
};

extern const SecretSchema ca_secret_token_schema;
extern const SecretSchema ca_secret_cred_schema;

/* ---- the process ---- */

/*
 * Called before any use of GIO or GDBus (opening a store, each bounded
 * wait). The first call, once per process: records the process id and
 * sets up GIO's socket class with the host's SIGPIPE disposition saved and
 * restored (GSocket's set-up would set SIG_IGN for the whole process;
 * GSocket sends with MSG_NOSIGNAL, so it needs no SIG_IGN). In a process
 * forked after that first call, CA_EKEYRING with a message: GDBus's one
 * worker thread (every connection's reader and writer) is not there, and
 * no D-Bus call could ever be answered.
 */
int ca_secret_process_check(void);
/* Whether this is a process forked after the first check (no message). */
int ca_secret_process_forked(void);

/* ---- bounded waits ---- */

/*
 * An asynchronous GIO operation whose answer is awaited in a main context
 * with a deadline of its own, so that no wait blocks forever even when the
 * operation's own timeout or cancel never comes (a dead GDBus worker).
 * Start it with ca_secret_async_callback and ca_secret_async_data(a, ms),
 * all in the thread-default context the wait iterates.
 */
struct ca_secret_async {
	struct ca_secret_async_slot *slot;  /* while the answer is awaited */
	GObject *source;
	GAsyncResult *res;   /* the answer, once it came */
	gint64 deadline;
	const int *gone;     /* when set and true, the wait ends (the service left) */
	int started, done;
};

void ca_secret_async_callback(GObject *source, GAsyncResult *res, gpointer data);
gpointer ca_secret_async_data(struct ca_secret_async *a, int ms);
/*
 * Iterates ctx until a's answer came (1), or its deadline passed or *a->gone
 * became true (0: the operation is abandoned; an answer coming later is
 * dropped).
 */
int ca_secret_async_wait(struct ca_secret_async *a, GMainContext *ctx);
/* Drops a's answer (after its _finish) or abandons it. */
void ca_secret_async_clear(struct ca_secret_async *a);

/* ---- the connection ---- */

/*
 * The keyring's own connection to the session bus, never GLib's shared
 * one (which belongs to the host program): exit-on-close is turned off on
 * it only. connect_start begins connecting, in the thread-default
 * context; connect_finish waits (within ms, cancel ending it earlier).
 */
int ca_secret_bus_connect_start(struct ca_secret_async *a, GCancellable *cancel, int ms,
	GError **err);
GDBusConnection *ca_secret_bus_connect_finish(struct ca_secret_async *a, GMainContext *ctx,
	GError **err);
/* Drops our reference to bus, which closes it (never waits, so never blocks). */
void ca_secret_bus_close(GDBusConnection *bus);

/*
 * The full store on bus: NULL connects its own. With close_bus, the
 * store closes bus when freed (or when opening fails).
 */
int ca_secret_store_open_on(struct store **out, const struct ca_store_options *opts,
	GDBusConnection *bus, int close_bus);

/*
 * A thread that cancels a GCancellable when the deadline passes, so a
 * D-Bus or libsecret call stuck (activation, a dead service, a prompt
 * nobody answers) returns G_IO_ERROR_CANCELLED instead of hanging. The
 * keyring's timeout mechanism: the full store and the fast path
 * (secret_fast.c) both use it; each wait of ours also has a deadline of
 * its own (ca_secret_async_wait), in case a cancel is lost.
 */
struct ca_secret_watchdog {
	GCancellable *cancel;
	GMutex lock;
	GCond cond;
	GThread *thread;
	gint64 deadline;
	int done;
	int ms;
};

int ca_secret_watchdog_start(struct ca_secret_watchdog *w, int ms);
void ca_secret_watchdog_stop(struct ca_secret_watchdog *w);

/*
 * A libsecret operation started asynchronously in the thread-default
 * context and awaited there, within w's deadline (plus WAIT_GRACE_MS), and
 * no longer once the service has left the bus. libsecret's own _sync calls
 * wait in a loop of theirs that ends only when the operation's task
 * returns, and a service that dies during a call can leave that task never
 * returning (GLib logs "g_task_return_error: assertion 'error != NULL'
 * failed"; seen with KeePassXC): such a call would hang for ever, watchdog
 * or not. Usage: call the libsecret function with ca_secret_async_callback
 * and ca_secret_op_start(...) as its callback and data, then
 * ca_secret_op_wait; on 1 pass op.a.res to the _finish function; always
 * ca_secret_op_clear.
 */
struct ca_secret_op {
	struct ca_secret_async a;
	GMainContext *ctx;
	struct ca_secret_watchdog *w;
};

gpointer ca_secret_op_start(struct ca_secret_op *op, struct secret_store *ss,
	struct ca_secret_watchdog *w);
/* 1: the answer came; 0: *err says why not (the call is cancelled). */
int ca_secret_op_wait(struct ca_secret_op *op, struct secret_store *ss, GError **err);
void ca_secret_op_clear(struct ca_secret_op *op);

/* The GError domain of "the Secret Service left the bus during the call". */
#define CA_SECRET_GONE ca_secret_gone_quark()
GQuark ca_secret_gone_quark(void);

/* Turns a GError (consumed) into CA_EKEYRING with a message; w may be NULL. */
int ca_secret_error(GError **err, const struct ca_secret_watchdog *w, const char *what);

/* ---- calls on the bus ---- */

/*
 * A D-Bus method call whose answer is awaited later, so that independent
 * calls can travel together (secret_fast.c). The answer arrives in the
 * thread-default main context of the moment the call is started; every
 * call started is waited for (ca_secret_call_clear) before its context
 * goes. The keyring's one bus-call helper: the full store's questions to
 * the bus daemon use it too.
 */
struct ca_secret_call {
	const char *method;
	GVariant *reply;
	GError *err;
	struct ca_secret_async a;
	GDBusConnection *bus;
	int started, done;
};

/*
 * Starts dest's method; ms bounds the call, cancel (may be NULL) ends it.
 * p NULL: nobody waits for the answer.
 */
void ca_secret_call_start(struct ca_secret_call *p, GDBusConnection *bus, const char *dest,
	const char *path, const char *iface, const char *method, GVariant *args,
	const char *reply_type, int ms, GCancellable *cancel);

/* p's answer (NULL with p->err set on an error) once it came; NULL when not started. */
GVariant *ca_secret_call_wait(struct ca_secret_call *p, GMainContext *ctx);

/* Waits for p if started, then frees its answer and error. */
void ca_secret_call_clear(struct ca_secret_call *p, GMainContext *ctx);

/* ---- attributes ---- */

GHashTable *ca_secret_attrs_new(void);
/* value NULL is stored as "" (keys and values are borrowed). */
void ca_secret_attrs_put(GHashTable *attrs, const char *key, const char *value);
const char *ca_secret_attr(GHashTable *attrs, const char *key);
int64_t ca_secret_attr_int(GHashTable *attrs, const char *key);

static inline const char *ca_secret_nonempty(const char *s)
{
	return (s && *s) ? s : NULL;
}

/* ---- items ---- */

struct ca_secret_found {
	GList *items;   /* SecretItem *, unlocked ones with their secrets */
	size_t locked;  /* how many matches stayed locked */
	/*
	 * A locked match is in an open collection: locked for this client
	 * only, because the service asks the user to confirm each access
	 * (KeePassXC's "Confirm when passwords are retrieved by clients").
	 * gnome-keyring locks whole collections.
	 */
	int confirm;
	int prompted;   /* the search was allowed to prompt for them */
};

void ca_secret_found_clear(struct ca_secret_found *f);

/*
 * Every item of schema matching attrs. With unlock (and permission to
 * prompt), locked matches are unlocked first; the rest are counted in
 * out->locked and left out of out->items.
 */
/*
 * Whether libsecret takes attrs for schema: every key one of the schema's
 * (or xdg:schema), every value valid UTF-8. libsecret's search and create
 * return without ever answering when it does not, so ask first.
 */
int ca_secret_attrs_valid(const SecretSchema *schema, GHashTable *attrs);

int ca_secret_search(struct ca_secret_found *out, struct secret_store *ss,
	const SecretSchema *schema, GHashTable *attrs, int load_secrets, int unlock,
	const char *what);

/*
 * Why f's locked matches cannot be used: a locked keyring, or (f->confirm)
 * an access that waits for, or was refused at, the user's confirmation.
 */
int ca_secret_locked_error(const struct secret_store *ss, const char *what,
	const struct ca_secret_found *f);
int ca_secret_delete_item(struct secret_store *ss, SecretItem *item);
/* The most recently modified item of a list, or NULL. */
SecretItem *ca_secret_newest(GList *items);
/*
 * Writes a new item holding data (len bytes, as SECRET_STORE_CONTENT_TYPE)
 * in the default collection (unlocking or creating the collection first
 * when a prompt is allowed) and checks that the write took effect: the secret read back from the
 * service must be data, byte for byte (compared in constant time). A
 * Secret Service may create the item and then refuse its secret while
 * libsecret reports success (KeePassXC refuses a {REF:...} field
 * reference, leaving an empty item): an item that does not hold data is
 * deleted again and the write fails with CA_EKEYRING. *out gets the new
 * item; the caller deletes the old ones only then.
 */
int ca_secret_write_item(SecretItem **out, struct secret_store *ss, const SecretSchema *schema,
	GHashTable *attrs, const char *label, const char *data, size_t len);
/* Deletes every item of list except keep (the one just written). */
int ca_secret_delete_others(struct secret_store *ss, GList *items, SecretItem *keep);

/* ---- the store's operations (secret_tokens.c, secret_creds.c) ---- */

int ca_secret_token_load(struct store *s, struct ca_token *out, const struct ca_identity *id);
int ca_secret_token_save(struct store *s, const struct ca_identity *id, const struct ca_token *tok);
int ca_secret_token_erase(struct store *s, const struct ca_identity *id);
int ca_secret_token_erase_info(struct store *s, const struct store_token_info *info);
int ca_secret_token_list(struct store *s, store_token_cb cb, void *payload);
int ca_secret_cred_get(struct store *s, struct cred *out, const struct cred *query);
int ca_secret_cred_store(struct store *s, const struct cred *c);
int ca_secret_cred_erase(struct store *s, const struct cred *query);
/* A credential from an item's secret (plaintext) and attributes. */
int ca_secret_cred_from_plain(struct cred *out, const char *data, size_t len, GHashTable *attrs);
/* SearchItems' attributes for query (a floating a{ss}), or NULL when a value is not UTF-8. */
GVariant *ca_secret_cred_search_attrs(const struct cred *query);
/* Whether the attributes' password_expiry_utc has passed. */
int ca_secret_cred_expired(GHashTable *attrs, int64_t now);

#endif
