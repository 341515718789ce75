/*
 * The keyring half of the library (keyring/secret/, libsecret), behind a
 * table of entry points like the network half's (auth/module.h): linked
 * into libcarto-auth, loaded by the executable only when the keyring is
 * used.
 */
#ifndef CA_KEYRING_MODULE_H
#define CA_KEYRING_MODULE_H

#include "auth/module.h"
#include "keyring/store.h"

struct ca_keyring_module {
	int abi;
	/* The Secret Service store; CA_EKEYRING when it cannot be reached. */
	int (*open)(struct store **out, const struct ca_config *cfg);
};

/*
 * The keyring half (carto-auth-keyring.so), loaded on first use. NULL
 * with the last error set when it cannot be loaded.
 */
const struct ca_keyring_module *ca_keyring_module_get(void);

#endif
