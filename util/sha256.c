#include "util/sha256.h"

#include <string.h>

#include "util/mem.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void compress(uint32_t state[8], const unsigned char block[SHA256_BLOCK_LEN])
{
	uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(block + 4 * i);
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = state[0]; b = state[1]; c = state[2]; d = state[3];
	e = state[4]; f = state[5]; g = state[6]; h = state[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
			((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
			((a & b) ^ (a & c) ^ (b & c));
		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	state[0] += a; state[1] += b; state[2] += c; state[3] += d;
	state[4] += e; state[5] += f; state[6] += g; state[7] += h;
	/* The schedule holds material derived from the (secret) input. */
	ca_wipe(w, sizeof(w));
}

void ca_sha256_init(struct sha256_ctx *ctx)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};

	memcpy(ctx->state, iv, sizeof(iv));
	ctx->total = 0;
	ctx->used = 0;
}

void ca_sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;

	ctx->total += len;
	if (ctx->used) {
		size_t take = SHA256_BLOCK_LEN - ctx->used;

		if (take > len)
			take = len;
		memcpy(ctx->block + ctx->used, p, take);
		ctx->used += take;
		p += take;
		len -= take;
		if (ctx->used < SHA256_BLOCK_LEN)
			return;
		compress(ctx->state, ctx->block);
		ctx->used = 0;
	}
	for (; len >= SHA256_BLOCK_LEN; p += SHA256_BLOCK_LEN, len -= SHA256_BLOCK_LEN)
		compress(ctx->state, p);
	memcpy(ctx->block, p, len);
	ctx->used = len;
}

void ca_sha256_final(struct sha256_ctx *ctx, unsigned char out[SHA256_DIGEST_LEN])
{
	uint64_t bits = ctx->total * 8;
	int i;

	ctx->block[ctx->used++] = 0x80;
	if (ctx->used > SHA256_BLOCK_LEN - 8) {
		memset(ctx->block + ctx->used, 0, SHA256_BLOCK_LEN - ctx->used);
		compress(ctx->state, ctx->block);
		ctx->used = 0;
	}
	memset(ctx->block + ctx->used, 0, SHA256_BLOCK_LEN - 8 - ctx->used);
	for (i = 0; i < 8; i++)
		ctx->block[SHA256_BLOCK_LEN - 1 - i] = (unsigned char)(bits >> (8 * i));
	compress(ctx->state, ctx->block);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, ctx->state[i]);
	ca_wipe(ctx, sizeof(*ctx));
}

void ca_sha256(unsigned char out[SHA256_DIGEST_LEN], const void *data, size_t len)
{
	struct sha256_ctx ctx;

	ca_sha256_init(&ctx);
	ca_sha256_update(&ctx, data, len);
	ca_sha256_final(&ctx, out);
}

void ca_sha256_hmac(unsigned char out[SHA256_DIGEST_LEN], const void *key, size_t key_len,
	const void *msg, size_t msg_len)
{
	unsigned char k[SHA256_BLOCK_LEN], pad[SHA256_BLOCK_LEN], inner[SHA256_DIGEST_LEN];
	struct sha256_ctx ctx;
	size_t i;

	memset(k, 0, sizeof(k));
	if (key_len > SHA256_BLOCK_LEN)
		ca_sha256(k, key, key_len);
	else if (key_len)
		memcpy(k, key, key_len);
	for (i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = k[i] ^ 0x36;
	ca_sha256_init(&ctx);
	ca_sha256_update(&ctx, pad, sizeof(pad));
	ca_sha256_update(&ctx, msg, msg_len);
	ca_sha256_final(&ctx, inner);
	for (i = 0; i < SHA256_BLOCK_LEN; i++)
		pad[i] = k[i] ^ 0x5c;
	ca_sha256_init(&ctx);
	ca_sha256_update(&ctx, pad, sizeof(pad));
	ca_sha256_update(&ctx, inner, sizeof(inner));
	ca_sha256_final(&ctx, out);
	ca_wipe(k, sizeof(k));
	ca_wipe(pad, sizeof(pad));
	ca_wipe(inner, sizeof(inner));
}
