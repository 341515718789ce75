/* The keyring half's entry points, in one table (see auth/module.h). */
#include "auth/module.h"

#include "keyring/secret_store.h"

const struct ca_keyring_module ca_keyring_table = {
	.abi = CA_MODULE_ABI,
	.open = secret_fast_open,
};
