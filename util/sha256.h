/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the digest of an
 * M2M client secret and its stored fingerprint. They are on the cached
 * path, which must not load libcrypto, so the core keeps this small
 * implementation; the network module's PKCE challenge uses libcrypto,
 * which libcurl's TLS maps anyway (auth/net/pkce.c).
 */
#ifndef CA_UTIL_SHA256_H
#define CA_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_BLOCK_LEN 64

struct sha256_ctx {
	uint32_t state[8];
	uint64_t total;        /* bytes hashed so far */
	unsigned char block[SHA256_BLOCK_LEN];
	size_t used;           /* bytes waiting in block */
};

void ca_sha256_init(struct sha256_ctx *ctx);
void ca_sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void ca_sha256_final(struct sha256_ctx *ctx, unsigned char out[SHA256_DIGEST_LEN]);

/* The digest of one buffer. */
void ca_sha256(unsigned char out[SHA256_DIGEST_LEN], const void *data, size_t len);

/* HMAC-SHA256 of msg under key (any length). */
void ca_sha256_hmac(unsigned char out[SHA256_DIGEST_LEN], const void *key, size_t key_len,
	const void *msg, size_t msg_len);

#endif
