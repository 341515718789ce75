/*
 * QR code, byte mode, versions 1-10, ECC L/M. The construction follows
 * ISO/IEC 18004:2015 section 7 (data encoding, Reed-Solomon blocks and
 * their interleaving, function patterns, the zigzag placement, masks and
 * their penalty, format and version information).
 */
#include "auth/net/qr.h"

#include <stdint.h>
#include <string.h>

#include "util/error.h"

#define MAX_CODEWORDS 346 /* version 10: (16*10+128)*10+64 - alignment = 2768 bits */

/* Indexed [ecc][version]; ecc 0 = L, 1 = M (table 9 of the standard). */
static const int8_t ecc_per_block[2][QR_MAX_VERSION + 1] = {
	{ -1, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18 },
	{ -1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26 },
};
static const int8_t num_blocks[2][QR_MAX_VERSION + 1] = {
	{ -1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4 },
	{ -1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5 },
};
/* The format information's 2-bit code of each level: L = 01, M = 00. */
static const int ecc_format_bits[2] = { 1, 0 };

struct builder {
	struct ca_qr *qr;
	unsigned char func[QR_MAX_SIZE][QR_MAX_SIZE]; /* function module */
};

/* Modules that carry data (and remainder bits), in bits. */
static int raw_data_modules(int ver)
{
	int result = (16 * ver + 128) * ver + 64;

	if (ver >= 2) {
		int align = ver / 7 + 2;

		result -= (25 * align - 10) * align - 55;
		if (ver >= 7)
			result -= 36;
	}
	return result;
}

static int data_codewords(int ver, int ecc)
{
	return raw_data_modules(ver) / 8 - ecc_per_block[ecc][ver] * num_blocks[ecc][ver];
}

/* --- Reed-Solomon over GF(2^8) with x^8 + x^4 + x^3 + x^2 + 1 --- */

static uint8_t gf_mul(uint8_t x, uint8_t y)
{
	int z = 0, i;

	for (i = 7; i >= 0; i--) {
		z = (z << 1) ^ ((z >> 7) * 0x11D);
		z ^= ((y >> i) & 1) * x;
	}
	return (uint8_t)z;
}

static void rs_divisor(uint8_t *div, int degree)
{
	uint8_t root = 1;
	int i, j;

	memset(div, 0, (size_t)degree);
	div[degree - 1] = 1;
	for (i = 0; i < degree; i++) {
		for (j = 0; j < degree; j++) {
			div[j] = gf_mul(div[j], root);
			if (j + 1 < degree)
				div[j] ^= div[j + 1];
		}
		root = gf_mul(root, 0x02);
	}
}

static void rs_remainder(uint8_t *out, const uint8_t *data, int len, const uint8_t *div,
	int degree)
{
	int i, j;

	memset(out, 0, (size_t)degree);
	for (i = 0; i < len; i++) {
		uint8_t factor = data[i] ^ out[0];

		memmove(out, out + 1, (size_t)degree - 1);
		out[degree - 1] = 0;
		for (j = 0; j < degree; j++)
			out[j] ^= gf_mul(div[j], factor);
	}
}

/* --- modules --- */

static void set_func(struct builder *b, int x, int y, int dark)
{
	b->qr->dark[y][x] = (unsigned char)(dark != 0);
	b->func[y][x] = 1;
}

static void finder(struct builder *b, int cx, int cy)
{
	int dx, dy, size = b->qr->size;

	for (dy = -4; dy <= 4; dy++)
		for (dx = -4; dx <= 4; dx++) {
			int x = cx + dx, y = cy + dy;
			int adx = dx < 0 ? -dx : dx, ady = dy < 0 ? -dy : dy;
			int dist = adx > ady ? adx : ady;

			if (x >= 0 && x < size && y >= 0 && y < size)
				set_func(b, x, y, dist != 2 && dist != 4);
		}
}

static void alignment(struct builder *b, int cx, int cy)
{
	int dx, dy;

	for (dy = -2; dy <= 2; dy++)
		for (dx = -2; dx <= 2; dx++) {
			int adx = dx < 0 ? -dx : dx, ady = dy < 0 ? -dy : dy;

			set_func(b, cx + dx, cy + dy, (adx > ady ? adx : ady) != 1);
		}
}

static int alignment_positions(int ver, int *pos)
{
	int n, step, i, p, size = 17 + 4 * ver;

	if (ver == 1)
		return 0;
	n = ver / 7 + 2;
	step = (ver * 8 + n * 3 + 5) / (n * 4 - 4) * 2;
	pos[0] = 6;
	for (i = n - 1, p = size - 7; i >= 1; i--, p -= step)
		pos[i] = p;
	return n;
}

static void format_bits(struct builder *b, int ecc, int mask)
{
	int data = ecc_format_bits[ecc] << 3 | mask, rem = data, bits, i;
	int size = b->qr->size;

	for (i = 0; i < 10; i++)
		rem = (rem << 1) ^ ((rem >> 9) * 0x537);
	bits = (data << 10 | rem) ^ 0x5412;
	/* Around the top left finder. */
	for (i = 0; i <= 5; i++)
		set_func(b, 8, i, (bits >> i) & 1);
	set_func(b, 8, 7, (bits >> 6) & 1);
	set_func(b, 8, 8, (bits >> 7) & 1);
	set_func(b, 7, 8, (bits >> 8) & 1);
	for (i = 9; i < 15; i++)
		set_func(b, 14 - i, 8, (bits >> i) & 1);
	/* Beside the other two. */
	for (i = 0; i < 8; i++)
		set_func(b, size - 1 - i, 8, (bits >> i) & 1);
	for (i = 8; i < 15; i++)
		set_func(b, 8, size - 15 + i, (bits >> i) & 1);
	set_func(b, 8, size - 8, 1); /* the dark module */
}

static void version_bits(struct builder *b, int ver)
{
	int rem = ver, bits, i, size = b->qr->size;

	if (ver < 7)
		return;
	for (i = 0; i < 12; i++)
		rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
	bits = ver << 12 | rem;
	for (i = 0; i < 18; i++) {
		int bit = (bits >> i) & 1, a = size - 11 + i % 3, c = i / 3;

		set_func(b, a, c, bit);
		set_func(b, c, a, bit);
	}
}

static void function_patterns(struct builder *b, int ver, int ecc)
{
	int pos[8], n, i, j, size = b->qr->size;

	for (i = 0; i < size; i++) {
		set_func(b, 6, i, i % 2 == 0);
		set_func(b, i, 6, i % 2 == 0);
	}
	finder(b, 3, 3);
	finder(b, size - 4, 3);
	finder(b, 3, size - 4);
	n = alignment_positions(ver, pos);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (!((i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0)))
				alignment(b, pos[i], pos[j]);
	format_bits(b, ecc, 0); /* reserved now, written with the mask */
	version_bits(b, ver);
}

static void place_codewords(struct builder *b, const uint8_t *cw, int len)
{
	int size = b->qr->size, i = 0, right, vert, j;

	for (right = size - 1; right >= 1; right -= 2) {
		if (right == 6)
			right = 5;
		for (vert = 0; vert < size; vert++) {
			for (j = 0; j < 2; j++) {
				int x = right - j, upward = ((right + 1) & 2) == 0;
				int y = upward ? size - 1 - vert : vert;

				if (!b->func[y][x] && i < len * 8) {
					b->qr->dark[y][x] = (cw[i >> 3] >> (7 - (i & 7))) & 1;
					i++;
				}
			}
		}
	}
}

static int mask_bit(int mask, int x, int y)
{
	switch (mask) {
	case 0: return (x + y) % 2 == 0;
	case 1: return y % 2 == 0;
	case 2: return x % 3 == 0;
	case 3: return (x + y) % 3 == 0;
	case 4: return (x / 3 + y / 2) % 2 == 0;
	case 5: return x * y % 2 + x * y % 3 == 0;
	case 6: return (x * y % 2 + x * y % 3) % 2 == 0;
	default: return ((x + y) % 2 + x * y % 3) % 2 == 0;
	}
}

static void apply_mask(struct builder *b, int mask)
{
	int x, y, size = b->qr->size;

	for (y = 0; y < size; y++)
		for (x = 0; x < size; x++)
			if (!b->func[y][x] && mask_bit(mask, x, y))
				b->qr->dark[y][x] ^= 1;
}

/* --- penalty (section 7.8.3) --- */

static int module_at(const struct ca_qr *qr, int x, int y, int transpose)
{
	return transpose ? qr->dark[x][y] : qr->dark[y][x];
}

/* 1:1:3:1:1 dark-light-dark-light-dark with 4 light modules on one side. */
static int finder_like(const struct ca_qr *qr, int x, int y, int transpose)
{
	static const unsigned char pat[7] = { 1, 0, 1, 1, 1, 0, 1 };
	int i, size = qr->size, before = 1, after = 1;

	if (x + 7 > size)
		return 0;
	for (i = 0; i < 7; i++)
		if (module_at(qr, x + i, y, transpose) != pat[i])
			return 0;
	for (i = 1; i <= 4; i++) {
		if (x - i >= 0 && module_at(qr, x - i, y, transpose))
			before = 0;
		if (x + 6 + i < size && module_at(qr, x + 6 + i, y, transpose))
			after = 0;
	}
	return before || after;
}

static long penalty(const struct ca_qr *qr)
{
	int size = qr->size, x, y, t, dark = 0, total, k;
	long score = 0;

	for (t = 0; t < 2; t++) {
		for (y = 0; y < size; y++) {
			int run = 1;

			for (x = 1; x <= size; x++) {
				if (x < size && module_at(qr, x, y, t) == module_at(qr, x - 1, y, t)) {
					run++;
					continue;
				}
				if (run >= 5)
					score += 3 + (run - 5);
				run = 1;
			}
			for (x = 0; x < size; x++)
				if (finder_like(qr, x, y, t))
					score += 40;
		}
	}
	for (y = 0; y + 1 < size; y++)
		for (x = 0; x + 1 < size; x++) {
			int c = qr->dark[y][x];

			if (c == qr->dark[y][x + 1] && c == qr->dark[y + 1][x] &&
			    c == qr->dark[y + 1][x + 1])
				score += 3;
		}
	for (y = 0; y < size; y++)
		for (x = 0; x < size; x++)
			dark += qr->dark[y][x];
	total = size * size;
	/* The smallest k with |dark/total - 1/2| <= (k+1)/20. */
	k = ((dark * 20 - total * 10 < 0 ? total * 10 - dark * 20 : dark * 20 - total * 10)
		+ total - 1) / total - 1;
	if (k > 0)
		score += 10L * k;
	return score;
}

/* --- encoding --- */

static void put_bits(uint8_t *buf, int *bitlen, unsigned value, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, (*bitlen)++)
		if ((value >> i) & 1)
			buf[*bitlen >> 3] |= (uint8_t)(0x80 >> (*bitlen & 7));
}

int ca_qr_encode(struct ca_qr *out, const void *data, size_t len, enum ca_qr_ecc ecc)
{
	static struct builder zero;
	struct builder b = zero;
	uint8_t buf[MAX_CODEWORDS], cw[MAX_CODEWORDS];
	uint8_t block[MAX_CODEWORDS], div[32], rem[32];
	const uint8_t *bytes = data;
	int ver, cap = 0, bitlen = 0, count_bits, i, j, blocks, eccw, raw, short_blocks;
	int short_len, k, n = 0, pos, best_mask = 0;
	long best = -1;

	for (ver = 1; ver <= QR_MAX_VERSION; ver++) {
		count_bits = ver <= 9 ? 8 : 16;
		cap = data_codewords(ver, ecc);
		if (4 + count_bits + 8 * (long)len <= 8L * cap)
			break;
	}
	if (ver > QR_MAX_VERSION)
		return ca_error(CA_EINVAL, "too long for a QR code of version %d", QR_MAX_VERSION);

	/* The data codewords: mode, count, bytes, terminator, padding. */
	memset(buf, 0, sizeof(buf));
	put_bits(buf, &bitlen, 0x4, 4);
	put_bits(buf, &bitlen, (unsigned)len, count_bits);
	for (i = 0; i < (int)len; i++)
		put_bits(buf, &bitlen, bytes[i], 8);
	put_bits(buf, &bitlen, 0, 8 * cap - bitlen < 4 ? 8 * cap - bitlen : 4);
	bitlen = (bitlen + 7) / 8 * 8;
	for (i = bitlen / 8, j = 0; i < cap; i++, j ^= 1)
		buf[i] = j ? 0x11 : 0xEC;

	/* Blocks with their ECC, interleaved. */
	blocks = num_blocks[ecc][ver];
	eccw = ecc_per_block[ecc][ver];
	raw = raw_data_modules(ver) / 8;
	short_blocks = blocks - raw % blocks;
	short_len = raw / blocks; /* data + ECC of a short block */
	rs_divisor(div, eccw);
	memset(cw, 0, sizeof(cw));
	for (i = 0, k = 0; i < blocks; i++) {
		int dlen = short_len - eccw + (i < short_blocks ? 0 : 1);

		rs_remainder(rem, buf + k, dlen, div, eccw);
		k += dlen;
		/* Data columns of this block, then its ECC columns. */
		memcpy(block, buf + k - dlen, (size_t)dlen);
		for (j = 0; j < dlen; j++) {
			pos = j < short_len - eccw ? j * blocks + i :
				(short_len - eccw) * blocks + (i - short_blocks);
			cw[pos] = block[j];
		}
		for (j = 0; j < eccw; j++)
			cw[(raw - eccw * blocks) + j * blocks + i] = rem[j];
		n += dlen + eccw;
	}
	(void)n;

	memset(out, 0, sizeof(*out));
	out->version = ver;
	out->size = 17 + 4 * ver;
	b.qr = out;
	function_patterns(&b, ver, ecc);
	place_codewords(&b, cw, raw);
	for (i = 0; i < 8; i++) {
		long score;

		apply_mask(&b, i);
		format_bits(&b, ecc, i);
		score = penalty(out);
		if (best < 0 || score < best) {
			best = score;
			best_mask = i;
		}
		apply_mask(&b, i); /* undone: XOR */
	}
	apply_mask(&b, best_mask);
	format_bits(&b, ecc, best_mask);
	out->mask = best_mask;
	return 0;
}

void ca_qr_print(FILE *f, const struct ca_qr *qr, int quiet)
{
	/* Indexed by top * 2 + bottom (1 = dark): black on bright white. */
	static const char *const cell[4] = { " ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88" };
	int size = qr->size, x, y;

	for (y = -quiet; y < size + quiet; y += 2) {
		fputs("\033[30;107m", f);
		for (x = -quiet; x < size + quiet; x++) {
			int in = x >= 0 && x < size;
			int top = in && y >= 0 && y < size && qr->dark[y][x];
			int bottom = in && y + 1 >= 0 && y + 1 < size && qr->dark[y + 1][x];

			fputs(cell[top * 2 + bottom], f);
		}
		fputs("\033[0m\n", f);
	}
	fflush(f);
}
