/* Choosing a store: CARTO_AUTH_STORE=auto|keyring|file. */
#include "keyring/store.h"

#include "keyring/module.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ca_store_session_bus_present(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char path[4096];
	struct stat st;

	if (addr)
		return *addr != '\0';
	if (!runtime || !*runtime)
		return 0;
	/* libdbus' default: $XDG_RUNTIME_DIR/bus when it is our socket. */
	snprintf(path, sizeof(path), "%s/bus", runtime);
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == getuid();
}

int ca_store_keyring_open(struct store **out, const struct ca_store_options *opts)
{
	const struct ca_keyring_module *module = ca_keyring_module_get();

	if (!module)
		return CA_EKEYRING;
	return module->open(out, opts);
}

int ca_store_open(struct store **out, const struct ca_store_options *opts)
{
	int error;

	if (opts->cache_file || opts->kind == CA_STORE_FILE) {
		ca_debug("store: using the file store (%s)", opts->cache_file ?
			"cache_file given" : "CARTO_AUTH_STORE=file");
		return ca_file_store_open(out, opts);
	}
	if (opts->kind == CA_STORE_KEYRING) {
		if (!ca_store_session_bus_present())
			return ca_error(CA_EKEYRING,
				"CARTO_AUTH_STORE=keyring, but there is no session bus for a Secret Service; use CARTO_AUTH_STORE=file");
		return ca_store_keyring_open(out, opts);
	}
	if (!ca_store_session_bus_present()) {
		ca_debug("store: no session bus, using the file store");
		return ca_file_store_open(out, opts);
	}
	error = ca_store_keyring_open(out, opts);
	if (error == CA_EKEYRING) {
		ca_debug("store: keyring not usable (%s), using the file store", ca_error_message());
		ca_error_clear();
		return ca_file_store_open(out, opts);
	}
	if (!error)
		ca_debug("store: using the keyring");
	return error;
}

void ca_store_free(struct store *s)
{
	if (s)
		s->ops->free(s);
}
