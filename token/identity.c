/* The identity a token is keyed on (identity.h). */
#include "token/identity.h"

#include "util/mem.h"
#include "util/sha256.h"

#include <stdio.h>
#include <string.h>

void ca_identity_init(struct ca_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->mode = CA_MODE_OAUTH;
}

void ca_identity_clear(struct ca_identity *id)
{
	ca_wipe(id->secret_digest, sizeof(id->secret_digest));
	id->has_secret = 0;
}

void ca_identity_set_secret(struct ca_identity *id, const char *secret)
{
	ca_sha256(id->secret_digest, secret, strlen(secret));
	id->has_secret = 1;
}

const char *ca_mode_name(enum ca_mode mode)
{
	return mode == CA_MODE_M2M ? "m2m" : "oauth";
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff; /* field separator */
	h *= 0x100000001b3ULL;
	return h;
}

void ca_identity_tag(const struct ca_identity *id, char out[40])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = fnv1a(h, ca_mode_name(id->mode));
	h = fnv1a(h, id->auth_url);
	h = fnv1a(h, id->client_id);
	if (id->mode == CA_MODE_M2M)
		h = fnv1a(h, id->api_base_url);
	else
		h = fnv1a(h, id->org);
	snprintf(out, 40, "%s-%016llx", ca_mode_name(id->mode), (unsigned long long)h);
}
