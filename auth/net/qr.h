/*
 * A small QR code encoder (ISO/IEC 18004) for the device login's URL:
 * byte mode only, versions 1 to 10, error correction L or M, the mask
 * chosen by the standard's penalty rules. Enough for a URL of up to 271
 * bytes (213 with M).
 */
#ifndef CA_AUTH_QR_H
#define CA_AUTH_QR_H

#include <stddef.h>
#include <stdio.h>

#define QR_MAX_VERSION 10
#define QR_MAX_SIZE (17 + 4 * QR_MAX_VERSION)

enum ca_qr_ecc { QR_ECC_L, QR_ECC_M };

struct ca_qr {
	int version;
	int size;   /* modules per side: 17 + 4 * version */
	int mask;   /* 0..7 */
	unsigned char dark[QR_MAX_SIZE][QR_MAX_SIZE]; /* [y][x], 1 = dark */
};

/*
 * Encodes data[0..len) in byte mode at the smallest version that holds it
 * with the given error correction. CA_EINVAL when it does not fit in
 * version 10.
 */
int ca_qr_encode(struct ca_qr *out, const void *data, size_t len, enum ca_qr_ecc ecc);

/*
 * Writes the code to f with Unicode half blocks, two modules a line, dark
 * on light whatever the terminal's colours (ANSI colours), with a quiet
 * zone of quiet modules around it. Columns needed: size + 2 * quiet.
 */
void ca_qr_print(FILE *f, const struct ca_qr *qr, int quiet);

#endif
