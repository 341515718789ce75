/*
 * Loads the heavy halves on first use, each on its own:
 *
 *   carto-auth-net.so      the network (libcurl, TLS, libyaml), when a
 *                          token must be obtained or a server asked;
 *   carto-auth-keyring.so  the Secret Service store (libsecret, GLib,
 *                          D-Bus), when the keyring is used.
 *
 * A cached answer from the file store loads neither; one from the keyring
 * loads only the keyring half. Their calls into the core resolve against
 * this executable, which exports the core's symbols.
 *
 * Where: $CARTO_AUTH_MODULE_DIR, next to the executable (the build tree), or
 * <prefix>/<libdir>/carto-auth/ relative to the executable (installed).
 */
#include "auth/module.h"
#include "keyring/module.h"
#include "util/error.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct loadable {
	int abi;            /* the table's ABI version */
	const char *file;   /* carto-auth-net.so */
	const char *entry;  /* the function returning its table */
	const char *what;   /* for messages */
	const void *table;  /* once loaded */
};

static struct loadable net = {
	CA_MODULE_ABI, "carto-auth-net.so", "carto_auth_net_entry", "the network part of carto-auth", NULL
};
static struct loadable keyring = {
	CA_KEYRING_MODULE_ABI, "carto-auth-keyring.so", "carto_auth_keyring_entry", "the keyring part of carto-auth", NULL
};

/* Every table starts with its ABI version. */
struct table_head {
	int abi;
};

static const void *try_load(const struct loadable *l, const char *dir)
{
	const struct table_head *(*entry)(void);
	const struct table_head *table;
	char path[PATH_MAX + 64];
	void *handle;

	snprintf(path, sizeof(path), "%s/%s", dir, l->file);
	if (access(path, R_OK) != 0)
		return NULL;
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		ca_error(CA_ERR, "cannot load %s: %s", path, dlerror());
		return NULL;
	}
	*(void **)&entry = dlsym(handle, l->entry);
	table = entry ? entry() : NULL;
	if (!table || table->abi != l->abi) {
		ca_error(CA_ERR, "%s does not match this carto-auth; reinstall carto-auth", path);
		dlclose(handle);
		return NULL;
	}
	ca_debug("module: loaded %s", path);
	return table;
}

static const void *load(struct loadable *l)
{
	char exe[PATH_MAX], dir[PATH_MAX + 64], *slash;
	const char *env = getenv("CARTO_AUTH_MODULE_DIR");
	ssize_t n;

	if (l->table)
		return l->table;
	if (env && *env && (l->table = try_load(l, env)))
		return l->table;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if ((l->table = try_load(l, exe)))
				return l->table;
			snprintf(dir, sizeof(dir), "%s/../%s", exe, CA_MODULE_RELDIR);
			if ((l->table = try_load(l, dir)))
				return l->table;
		}
	}
	if (!ca_error_code())
		ca_error(CA_ERR, "cannot find %s (%s); reinstall carto-auth", l->file, l->what);
	return NULL;
}

const struct ca_module *ca_module_get(void)
{
	return load(&net);
}

const struct ca_keyring_module *ca_keyring_module_get(void)
{
	const struct ca_keyring_module *module = keyring.table;

	if (!module && (module = load(&keyring)))
		module->quiet_logs(); /* the executable owns GLib's log handlers */
	return module;
}
