/*
 * The keyring half of the library (keyring/secret/, libsecret), behind a
 * table of entry points like the network half's (auth/module.h): linked
 * into libcarto-auth, loaded by the executable only when the keyring is
 * used. It sees the store options, never the configuration.
 */
#ifndef CA_KEYRING_MODULE_H
#define CA_KEYRING_MODULE_H

#include "keyring/store.h"
#include "token/identity.h"

/* Bumped whenever this table changes; the loader refuses another value. */
#define CA_KEYRING_MODULE_ABI 3

struct ca_keyring_module {
	int abi;
	/* The Secret Service store; CA_EKEYRING when it cannot be reached. */
	int (*open)(struct store **out, const struct ca_store_options *opts);
	/*
	 * Routes libsecret's GLib log messages to the debug log. GLib's log
	 * handlers are the process's: only the executable calls this (its
	 * loader, after loading), never the library, whose host owns them.
	 */
	void (*quiet_logs)(void);
};

/*
 * The keyring half (carto-auth-keyring.so), loaded on first use. NULL
 * with the last error set when it cannot be loaded.
 */
const struct ca_keyring_module *ca_keyring_module_get(void);

#endif
