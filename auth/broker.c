#include "auth/broker.h"

#include "auth/module.h"
#include "keyring/store.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int ca_broker_lock(int *out_fd, const struct ca_config *cfg, int timeout_ms)
{
	char tag[40], name[64];

	ca_config_identity_tag(cfg, tag);
	snprintf(name, sizeof(name), "%s.lock", tag);
	return ca_fs_lock_named(out_fd, cfg->home, name, timeout_ms);
}

static int is_invalid_grant(void)
{
	return ca_error_code() == CA_EREFUSED && ca_error_reason() == CA_REASON_INVALID_GRANT;
}

/* The refresh-token grant; CA_ENOTFOUND when there is none or it is dead. */
static int renew_by_refresh(struct ca_token *out, const struct ca_module *module,
	struct store *store, const struct ca_config *cfg, const struct ca_identity *id,
	struct ca_token *stored)
{
	int error;

	if (cfg->mode != CA_MODE_OAUTH || !stored->refresh_token)
		return CA_ENOTFOUND;
	ca_debug("broker: renewing with the refresh token");
	error = module->oauth_refresh(out, cfg, stored->refresh_token);
	if (!error) {
		if (!out->api_base_url && stored->api_base_url)
			out->api_base_url = ca_strdup(stored->api_base_url);
		if (!out->account && stored->account)
			out->account = ca_strdup(stored->account);
		return 0;
	}
	if (!is_invalid_grant())
		return error;
	/* Revoked or already used: forget it, keep the access token. */
	ca_debug("broker: refresh token refused, forgetting it");
	ca_clear_ptr(&stored->refresh_token);
	if (store->ops->token_save(store, id, stored))
		ca_error_clear();
	return CA_ENOTFOUND;
}

static int obtain(struct ca_token *out, const struct ca_module *module,
	const struct ca_config *cfg, unsigned flags)
{
	int error;

	if (cfg->mode == CA_MODE_M2M) {
		ca_debug("broker: client credentials grant");
		if ((error = module->m2m_token(out, cfg)))
			return error;
		if (!out->api_base_url && !(out->api_base_url = ca_strdup(cfg->api_base_url)))
			return ca_error(CA_ERR, "out of memory");
		if (!out->account && !(out->account = ca_strdup(cfg->client_id)))
			return ca_error(CA_ERR, "out of memory");
		return 0;
	}
	if (!cfg->interactive)
		return ca_error(CA_ELOGIN,
			"not logged in to CARTO (or the session ended) and this call may not open a browser; run: carto-auth login");
	if (flags & BROKER_DEVICE)
		return module->device_login(out, cfg);
	return module->oauth_login(out, cfg);
}

static void use_stored(struct ca_token *out, int *out_fresh, struct ca_token *stored)
{
	ca_token_move(out, stored);
	if (out_fresh)
		*out_fresh = 0;
}

int ca_broker_token(struct ca_token *out, int *out_fresh, struct store *store,
	const struct ca_config *cfg, unsigned flags)
{
	const struct ca_module *module;
	struct ca_token stored, fresh;
	struct ca_identity id;
	int64_t now = ca_now();
	int reuse = cfg->use_cache && !(flags & BROKER_FORCE);
	char *seen = NULL; /* the stale token seen before the lock (secret) */
	int fd = -1, error, lock_ms;
	int64_t t0;

	ca_token_init(&stored);
	ca_token_init(&fresh);
	ca_config_identity(&id, cfg);
	if (reuse) {
		error = store->ops->token_load(store, &stored, &id);
		if (error && error != CA_ENOTFOUND)
			goto out;
		if (!error && ca_token_valid(&stored, now, cfg->min_ttl)) {
			ca_debug("broker: cache hit (%s store): %lld s left, min_ttl %lld",
				store->ops->name, (long long)(stored.expiration - now),
				(long long)ca_token_margin(&stored, cfg->min_ttl));
			use_stored(out, out_fresh, &stored);
			goto out;
		}
		if (!error) {
			ca_debug("broker: the stored token has %lld s left, under min_ttl %lld: renewing",
				(long long)(stored.expiration - now),
				(long long)ca_token_margin(&stored, cfg->min_ttl));
			seen = stored.access_token;
			stored.access_token = NULL;
		} else {
			ca_debug("broker: cache miss (%s store): no token for this identity",
				store->ops->name);
		}
		ca_token_clear(&stored);
	} else {
		ca_debug("broker: not reading the cache (%s)",
			cfg->use_cache ? "renewal forced" : "use_cache=false");
	}

	/* Wait long enough for another caller's browser login. */
	lock_ms = (cfg->login_timeout + 60) * 1000;
	t0 = ca_clock_ms();
	if ((error = ca_broker_lock(&fd, cfg, lock_ms)))
		goto out;
	ca_debug("broker: identity lock taken after %lld ms", (long long)(ca_clock_ms() - t0));
	/* Whoever held the lock may have renewed the token meanwhile. */
	error = store->ops->token_load(store, &stored, &id);
	if (error && error != CA_ENOTFOUND)
		goto out;
	now = ca_now();
	if (!error && reuse && ca_token_valid(&stored, now, cfg->min_ttl)) {
		ca_debug("broker: another process renewed the token meanwhile: %lld s left",
			(long long)(stored.expiration - now));
		use_stored(out, out_fresh, &stored);
		goto out;
	}
	/*
	 * One renewal serves all waiting callers: a token renewed while this
	 * caller waited is as fresh as its own would be, even when the server
	 * granted less than min_ttl.
	 */
	if (!error && reuse && ca_token_valid(&stored, now, 0) &&
	    !(seen && ca_streq_ct(seen, stored.access_token))) {
		ca_debug("broker: another process renewed the token meanwhile: %lld s left "
			"(the server granted less than min_ttl %lld)",
			(long long)(stored.expiration - now),
			(long long)ca_token_margin(&stored, cfg->min_ttl));
		use_stored(out, out_fresh, &stored);
		goto out;
	}

	module = ca_module_get();
	if (!module) {
		error = CA_ERR;
		goto out;
	}
	error = (flags & BROKER_FORCE) ? CA_ENOTFOUND :
		renew_by_refresh(&fresh, module, store, cfg, &id, &stored);
	if (error == CA_ENOTFOUND)
		error = obtain(&fresh, module, cfg, flags);
	if (error)
		goto out;
	ca_debug("broker: new token from the server, %lld s left; saving it to the %s store",
		(long long)(fresh.expiration - ca_now()), store->ops->name);
	if (store->ops->token_save(store, &id, &fresh)) {
		if (fresh.refresh_token)
			ca_warn("the new token could not be stored (%s); its refresh token is lost, so the next renewal needs: carto-auth login",
				ca_error_message());
		else
			ca_warn("the new token could not be stored: %s", ca_error_message());
		ca_error_clear();
	}
	ca_token_move(out, &fresh);
	if (out_fresh)
		*out_fresh = 1;
out:
	ca_fs_unlock(fd);
	ca_free(seen);
	ca_token_clear(&stored);
	ca_token_clear(&fresh);
	ca_identity_clear(&id);
	return error;
}

int ca_broker_store_open(struct store **out, const struct ca_config *cfg)
{
	struct ca_store_options opts;
	struct ca_identity id;
	int error;

	ca_config_store_options(&opts, cfg);
	ca_config_identity(&id, cfg);
	opts.prefetch = &id;
	error = ca_store_open(out, &opts);
	ca_identity_clear(&id);
	return error;
}
