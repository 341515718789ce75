/*
 * Loads carto-auth-module.so, the network and keyring half, on first use.
 * A cached answer from the file store never gets here, so it never pays
 * for mapping libcurl, TLS, GLib or D-Bus.
 *
 * Where: $CARTO_AUTH_MODULE, next to the executable (the build tree), or
 * <prefix>/<libdir>/carto-auth/ relative to the executable (installed).
 */
#include "auth/module.h"
#include "util/error.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODULE_NAME "carto-auth-module.so"

static const struct ca_module *try_load(const char *path)
{
	const struct ca_module *(*entry)(void);
	const struct ca_module *module;
	void *handle;

	if (access(path, R_OK) != 0)
		return NULL;
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		ca_error(CA_ERR, "cannot load %s: %s", path, dlerror());
		return NULL;
	}
	*(void **)&entry = dlsym(handle, "carto_auth_module_entry");
	module = entry ? entry() : NULL;
	if (!module || module->abi != CA_MODULE_ABI) {
		ca_error(CA_ERR, "%s does not match this carto-auth; reinstall carto-auth", path);
		dlclose(handle);
		return NULL;
	}
	ca_debug("module: loaded %s", path);
	return module;
}

const struct ca_module *ca_module_get(void)
{
	static const struct ca_module *module;
	char exe[PATH_MAX], path[PATH_MAX + 64], *slash;
	const char *env = getenv("CARTO_AUTH_MODULE");
	ssize_t n;

	if (module)
		return module;
	if (env && *env && (module = try_load(env)))
		return module;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/%s", exe, MODULE_NAME);
			if ((module = try_load(path)))
				return module;
			snprintf(path, sizeof(path), "%s/../%s/%s", exe, CA_MODULE_RELDIR, MODULE_NAME);
			if ((module = try_load(path)))
				return module;
		}
	}
	if (!ca_error_code())
		ca_error(CA_ERR, "cannot find %s (the network and keyring part of carto-auth); reinstall carto-auth",
			MODULE_NAME);
	return NULL;
}
