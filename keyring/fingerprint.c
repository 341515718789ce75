/*
 * The salted fingerprint of an M2M client secret, kept beside a stored
 * token so that the token goes only to a caller with the same secret,
 * while the secret itself is never stored: HMAC-SHA256 keyed by a random
 * 16-byte salt of each record, of the secret's SHA-256 digest (the stores
 * get the digest in the identity, never the secret), both kept as
 * lower-case hex.
 */
#include "keyring/store.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/random.h"
#include "util/sha256.h"

#include <string.h>

#define SALT_LEN 16

static void to_hex(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2 * len lower-case hex digits into out; -1 otherwise. */
static int from_hex(unsigned char *out, const char *in, size_t len)
{
	size_t i;

	if (strlen(in) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void fingerprint(char hmac_hex[STORE_FP_HMAC_HEX + 1], const unsigned char *salt,
	const struct ca_identity *id)
{
	unsigned char mac[SHA256_DIGEST_LEN];

	ca_sha256_hmac(mac, salt, SALT_LEN, id->secret_digest, sizeof(id->secret_digest));
	to_hex(hmac_hex, mac, sizeof(mac));
	ca_wipe(mac, sizeof(mac));
}

int ca_store_fp_new(struct store_fp *out, const struct ca_identity *id)
{
	unsigned char salt[SALT_LEN];
	int error;

	if (!id->has_secret)
		return ca_error(CA_EINVAL, "no client secret to take a fingerprint of");
	if ((error = ca_random_bytes(salt, sizeof(salt))))
		return error;
	to_hex(out->salt, salt, sizeof(salt));
	fingerprint(out->hmac, salt, id);
	return 0;
}

int ca_store_fp_matches(const char *salt_hex, const char *hmac_hex, const struct ca_identity *id)
{
	unsigned char salt[SALT_LEN];
	char want[STORE_FP_HMAC_HEX + 1];
	int same;

	if (!salt_hex || !hmac_hex || !id || !id->has_secret || from_hex(salt, salt_hex, sizeof(salt)))
		return 0;
	fingerprint(want, salt, id);
	same = ca_streq_ct(want, hmac_hex);
	ca_wipe(want, sizeof(want));
	return same;
}
