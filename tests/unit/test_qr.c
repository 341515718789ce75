/*
 * The QR encoder of the device login: the capacities of the standard's
 * table 7 (byte mode, L and M, versions 1-10), the function patterns, and
 * (when zbarimg from zbar-tools is installed) that a decoder reads back
 * exactly what was encoded, at every version and both levels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/net/qr.h"
#include "util/error.h"

/* Byte-mode capacities, ISO/IEC 18004 table 7. */
static const int cap_l[11] = { 0, 17, 32, 53, 78, 106, 134, 154, 192, 230, 271 };
static const int cap_m[11] = { 0, 14, 26, 42, 62, 84, 106, 122, 152, 180, 213 };

static struct ca_qr qr;

static void fill(char *buf, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = "https://auth.example/activate?user_code=ABCD-EFGH&x=0123456789"[(seed >> 16) % 62];
	}
}

static void test_capacities(void **state)
{
	char buf[300];
	int v;

	(void)state;
	fill(buf, sizeof(buf), 1);
	for (v = 1; v <= 10; v++) {
		assert_int_equal(0, ca_qr_encode(&qr, buf, (size_t)cap_l[v], QR_ECC_L));
		assert_int_equal(v, qr.version);
		assert_int_equal(17 + 4 * v, qr.size);
		assert_int_equal(0, ca_qr_encode(&qr, buf, (size_t)cap_m[v], QR_ECC_M));
		assert_int_equal(v, qr.version);
		if (v < 10) {
			assert_int_equal(0, ca_qr_encode(&qr, buf, (size_t)cap_l[v] + 1, QR_ECC_L));
			assert_int_equal(v + 1, qr.version);
			assert_int_equal(0, ca_qr_encode(&qr, buf, (size_t)cap_m[v] + 1, QR_ECC_M));
			assert_int_equal(v + 1, qr.version);
		}
	}
	assert_int_equal(CA_EINVAL, ca_qr_encode(&qr, buf, 272, QR_ECC_L));
	assert_int_equal(CA_EINVAL, ca_qr_encode(&qr, buf, 214, QR_ECC_M));
}

static void test_function_patterns(void **state)
{
	static const char finder[7][8] = {
		"1111111", "1000001", "1011101", "1011101", "1011101", "1000001", "1111111",
	};
	int x, y, s;

	(void)state;
	assert_int_equal(0, ca_qr_encode(&qr, "https://a.example/activate?user_code=BDFG-HJKL",
		46, QR_ECC_M));
	s = qr.size;
	for (y = 0; y < 7; y++)
		for (x = 0; x < 7; x++) {
			int want = finder[y][x] == '1';

			assert_int_equal(want, qr.dark[y][x]);
			assert_int_equal(want, qr.dark[y][s - 7 + x]);
			assert_int_equal(want, qr.dark[s - 7 + y][x]);
		}
	for (x = 8; x < s - 8; x++) {
		assert_int_equal(x % 2 == 0, qr.dark[6][x]);
		assert_int_equal(x % 2 == 0, qr.dark[x][6]);
	}
	assert_int_equal(1, qr.dark[s - 8][8]); /* the dark module */
	assert_true(qr.mask >= 0 && qr.mask <= 7);
}

/* Writes the code as a PBM image (4 px a module, 4 modules of quiet zone). */
static void write_pbm(const char *path)
{
	FILE *f = fopen(path, "w");
	int n = (qr.size + 8) * 4, x, y;

	assert_non_null(f);
	fprintf(f, "P1\n%d %d\n", n, n);
	for (y = 0; y < n; y++) {
		for (x = 0; x < n; x++) {
			int mx = x / 4 - 4, my = y / 4 - 4;
			int dark = mx >= 0 && my >= 0 && mx < qr.size && my < qr.size &&
				qr.dark[my][mx];

			fputs(dark ? "1 " : "0 ", f);
		}
		fputc('\n', f);
	}
	fclose(f);
}

static int have_zbarimg(void)
{
	return system("command -v zbarimg >/dev/null 2>&1") == 0;
}

static void test_decodes(void **state)
{
	char dir[] = "/tmp/test_qr.XXXXXX", img[64], cmd[200], buf[300], got[400];
	static const int lengths[] = { 1, 17, 18, 32, 46, 53, 78, 100, 134, 154, 192, 213, 230, 271 };
	size_t i;
	int ecc;

	(void)state;
	if (!have_zbarimg()) {
		fprintf(stderr, "zbarimg (zbar-tools) not installed: decoding not checked\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/qr.pbm", dir);
	for (ecc = 0; ecc < 2; ecc++) {
		for (i = 0; i < sizeof(lengths) / sizeof(*lengths); i++) {
			size_t len = (size_t)lengths[i];
			FILE *p;
			size_t n;

			if (ecc == QR_ECC_M && len > 213)
				continue;
			fill(buf, len, (unsigned)(len * 7 + (size_t)ecc));
			assert_int_equal(0, ca_qr_encode(&qr, buf, len, (enum ca_qr_ecc)ecc));
			write_pbm(img);
			snprintf(cmd, sizeof(cmd), "zbarimg -q --raw -Sdisable -Sqrcode.enable %s 2>/dev/null", img);
			p = popen(cmd, "r");
			assert_non_null(p);
			n = fread(got, 1, sizeof(got) - 1, p);
			pclose(p);
			got[n] = '\0';
			if (n > 0 && got[n - 1] == '\n')
				got[--n] = '\0';
			if (n != len || memcmp(got, buf, len)) {
				fprintf(stderr, "version %d ecc %d mask %d, %zu bytes: decoded [%s]\n",
					qr.version, ecc, qr.mask, len, got);
				fail();
			}
		}
	}
	unlink(img);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacities),
		cmocka_unit_test(test_function_patterns),
		cmocka_unit_test(test_decodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
