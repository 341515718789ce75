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
 * Each module's head must match this build (auth/module.h): the version
 * and the layouts of the structs it shares.
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
	const char *file;   /* carto-auth-net.so */
	const char *entry;  /* the function returning its head */
	const char *what;   /* for messages */
	const size_t *layout; /* what this build expects (auth/module.h) */
	size_t layout_len;
	const void *table;  /* once loaded */
};

static const size_t net_layout[] = CA_NET_LAYOUT;
static const size_t keyring_layout[] = CA_KEYRING_LAYOUT;

static struct loadable net = {
	"carto-auth-net.so", "carto_auth_net_entry", "the network part of carto-auth",
	net_layout, sizeof(net_layout) / sizeof(net_layout[0]), NULL
};
static struct loadable keyring = {
	"carto-auth-keyring.so", "carto_auth_keyring_entry", "the keyring part of carto-auth",
	keyring_layout, sizeof(keyring_layout) / sizeof(keyring_layout[0]), NULL
};

/*
 * 0 when head is from this build: the same magic, version and layouts.
 * The magic is read first, so a module from before the head is refused
 * without following any of its pointers.
 */
static int check_head(const struct loadable *l, const char *path,
	const struct ca_module_head *head)
{
	if (!head || head->magic != CA_MODULE_MAGIC)
		return ca_error(CA_ERR, "%s is from an older or foreign build of carto-auth; "
			"reinstall carto-auth", path);
	if (!head->version || strcmp(head->version, CA_BUILD_VERSION))
		return ca_error(CA_ERR, "%s is from carto-auth %.40s, this is carto-auth %s; "
			"reinstall carto-auth", path, head->version ? head->version : "?",
			CA_BUILD_VERSION);
	if (head->layout_len != l->layout_len ||
	    memcmp(head->layout, l->layout, l->layout_len * sizeof(*l->layout)))
		return ca_error(CA_ERR, "%s was built with other data layouts than this "
			"carto-auth %s; reinstall carto-auth", path, CA_BUILD_VERSION);
	if (!head->table)
		return ca_error(CA_ERR, "%s has no entry table; reinstall carto-auth", path);
	return 0;
}

/*
 * Loads l's table from dir into *out: CA_ENOTFOUND (no error set) when dir
 * has no such file, another error when the file is there but unusable.
 */
static int try_load(const void **out, const struct loadable *l, const char *dir)
{
	const struct ca_module_head *(*entry)(void);
	const struct ca_module_head *head;
	char path[PATH_MAX + 64];
	void *handle;
	int error;

	snprintf(path, sizeof(path), "%s/%s", dir, l->file);
	if (access(path, R_OK) != 0)
		return CA_ENOTFOUND;
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return ca_error(CA_ERR, "cannot load %s: %s", path, dlerror());
	*(void **)&entry = dlsym(handle, l->entry);
	head = entry ? entry() : NULL;
	if ((error = check_head(l, path, head))) {
		dlclose(handle);
		return error;
	}
	ca_debug("module: loaded %s (carto-auth %s)", path, head->version);
	*out = head->table;
	return 0;
}

/*
 * The first of $CARTO_AUTH_MODULE_DIR (read with secure_getenv: ignored
 * in a setuid or otherwise secure-execution process), the executable's
 * folder and <libdir>/carto-auth that has the file. A file that is there
 * but refused ends the search with its error: a broken install is said,
 * not stepped over.
 */
static const void *load(struct loadable *l)
{
	char exe[PATH_MAX], dir[PATH_MAX + 64], *slash;
	const char *env = secure_getenv("CARTO_AUTH_MODULE_DIR");
	int error = CA_ENOTFOUND;
	ssize_t n;

	if (l->table)
		return l->table;
	if (env && *env)
		error = try_load(&l->table, l, env);
	n = error == CA_ENOTFOUND ? readlink("/proc/self/exe", exe, sizeof(exe) - 1) : -1;
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			error = try_load(&l->table, l, exe);
			snprintf(dir, sizeof(dir), "%s/../%s", exe, CA_MODULE_RELDIR);
			if (error == CA_ENOTFOUND)
				error = try_load(&l->table, l, dir);
		}
	}
	if (error == CA_ENOTFOUND)
		ca_error(CA_ERR, "cannot find %s (%s); reinstall carto-auth", l->file, l->what);
	return error ? NULL : l->table;
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
