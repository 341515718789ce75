/*
 * The encrypted Secret Service session's pieces (keyring/secret/secret_session.c):
 * HKDF-SHA256 against RFC 5869's vectors, PKCS#7 unpadding at its edges,
 * the checks on the server's public value and on a secret's lengths, and
 * two halves of an exchange agreeing on a key. (Agreement with a real
 * service, gnome-keyring, is tests/integration/test_keyring_session.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "keyring/secret/secret_session.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

/* RFC 2409's second Oakley group prime, again, to build edge values. */
static const unsigned char prime[SECRET_SESSION_PRIME_BYTES] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
	0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
	0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
	0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
	0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
	0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
	0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11, 0x7C, 0x4B, 0x1F, 0xE6,
	0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

static void unhex(unsigned char *out, const char *hex)
{
	size_t i;
	unsigned int byte;

	for (i = 0; hex[2 * i]; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (unsigned char)byte;
	}
}

/* ---- HKDF-SHA256, RFC 5869 appendix A ---- */

static void test_hkdf_rfc5869_case3_empty_salt_and_info(void **state)
{
	unsigned char ikm[22], okm[42], expected[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	unhex(expected, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		"9d201395faa4b61a96c8");
	/* Salt and info empty, as the Secret Service's session uses them. */
	assert_int_equal(ca_secret_session_hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm),
		NULL, 0, NULL, 0), 0);
	assert_memory_equal(okm, expected, sizeof(okm));
	/* A zero-length salt given explicitly is the same thing. */
	memset(okm, 0, sizeof(okm));
	assert_int_equal(ca_secret_session_hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm),
		"", 0, "", 0), 0);
	assert_memory_equal(okm, expected, sizeof(okm));
	/* A shorter output is the prefix (the session keeps 16 bytes). */
	memset(okm, 0, sizeof(okm));
	assert_int_equal(ca_secret_session_hkdf_sha256(okm, 16, ikm, sizeof(ikm),
		NULL, 0, NULL, 0), 0);
	assert_memory_equal(okm, expected, 16);
	assert_int_equal(okm[16], 0);
}

static void test_hkdf_rfc5869_case1_salt_and_info(void **state)
{
	unsigned char ikm[22], salt[13], info[10], okm[42], expected[42];
	size_t i;

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (unsigned char)i;
	for (i = 0; i < sizeof(info); i++)
		info[i] = (unsigned char)(0xf0 + i);
	unhex(expected, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		"34007208d5b887185865");
	assert_int_equal(ca_secret_session_hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm),
		salt, sizeof(salt), info, sizeof(info)), 0);
	assert_memory_equal(okm, expected, sizeof(okm));
}

static void test_hkdf_output_too_long(void **state)
{
	unsigned char ikm[1] = { 0 };
	static unsigned char okm[255 * 32 + 1];

	(void)state;
	assert_int_equal(ca_secret_session_hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm),
		NULL, 0, NULL, 0), CA_EKEYRING);
}

/* ---- PKCS#7 ---- */

static void test_unpad_valid(void **state)
{
	unsigned char buf[32];
	size_t len = 99;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	buf[15] = 1;
	assert_int_equal(ca_secret_session_pkcs7_unpad(&len, buf, 16), 0);
	assert_int_equal(len, 15);
	/* A whole block of padding: the secret was a multiple of 16 bytes. */
	memset(buf + 16, 16, 16);
	assert_int_equal(ca_secret_session_pkcs7_unpad(&len, buf, 32), 0);
	assert_int_equal(len, 16);
	/* Everything padding: an empty secret. */
	assert_int_equal(ca_secret_session_pkcs7_unpad(&len, buf + 16, 16), 0);
	assert_int_equal(len, 0);
	memset(buf + 12, 4, 4);
	assert_int_equal(ca_secret_session_pkcs7_unpad(&len, buf, 16), 0);
	assert_int_equal(len, 12);
}

static void expect_bad_unpad(const unsigned char *buf, size_t len, const char *message)
{
	size_t out = 12345;

	ca_error_clear();
	assert_int_equal(ca_secret_session_pkcs7_unpad(&out, buf, len), CA_EKEYRING);
	assert_int_equal(out, 12345);  /* not written on failure */
	assert_non_null(strstr(ca_error_message(), message));
}

static void test_unpad_bad_pad_byte(void **state)
{
	unsigned char buf[16];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	buf[13] = 3;
	buf[14] = 2;  /* should be 3 */
	buf[15] = 3;
	expect_bad_unpad(buf, 16, "bad padding");
	memset(buf, 16, sizeof(buf));
	buf[0] = 15;  /* a full block of padding with one wrong byte */
	expect_bad_unpad(buf, 16, "bad padding");
}

static void test_unpad_pad_zero(void **state)
{
	unsigned char buf[16];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	buf[15] = 0;
	expect_bad_unpad(buf, 16, "bad padding");
	memset(buf, 0, sizeof(buf));
	expect_bad_unpad(buf, 16, "bad padding");
}

static void test_unpad_pad_over_block(void **state)
{
	unsigned char buf[32];

	(void)state;
	memset(buf, 17, sizeof(buf));
	expect_bad_unpad(buf, 32, "bad padding");
	memset(buf, 0xff, sizeof(buf));
	expect_bad_unpad(buf, 32, "bad padding");
}

static void test_unpad_bad_length(void **state)
{
	unsigned char buf[33];

	(void)state;
	memset(buf, 1, sizeof(buf));
	expect_bad_unpad(buf, 0, "not a whole number of AES blocks");
	expect_bad_unpad(buf, 1, "not a whole number of AES blocks");
	expect_bad_unpad(buf, 15, "not a whole number of AES blocks");
	expect_bad_unpad(buf, 17, "not a whole number of AES blocks");
	expect_bad_unpad(buf, 33, "not a whole number of AES blocks");
}

/* ---- the exchange ---- */

struct pair {
	struct secret_session *a, *b;
};

/* Two halves that agreed on a key, as a client and a service would. */
static int pair_setup(void **state)
{
	static struct pair p;
	unsigned char pub_a[SECRET_SESSION_PRIME_BYTES], pub_b[SECRET_SESSION_PRIME_BYTES];
	size_t len_a = 0, len_b = 0;

	memset(&p, 0, sizeof(p));
	if (ca_secret_session_new(&p.a, pub_a, &len_a) || ca_secret_session_new(&p.b, pub_b, &len_b))
		return -1;
	if (len_a < 64 || len_a > SECRET_SESSION_PRIME_BYTES || len_b < 64)
		return -1;
	if (len_a == len_b && !memcmp(pub_a, pub_b, len_a))
		return -1;  /* two key pairs must differ */
	if (ca_secret_session_agree(p.a, pub_b, len_b) || ca_secret_session_agree(p.b, pub_a, len_a))
		return -1;
	*state = &p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	ca_secret_session_free(p->a);
	ca_secret_session_free(p->b);
	return 0;
}

static void test_both_halves_agree(void **state)
{
	struct pair *p = *state;
	static const char secret[] = "{\"access_token\":\"eyJ-a-token-of-some-length\"}";
	unsigned char iv[SECRET_SESSION_BLOCK], *ct = NULL, *plain = NULL;
	size_t ct_len = 0, len = 0, n;

	memset(iv, 0x5a, sizeof(iv));
	for (n = 0; n <= sizeof(secret) - 1; n += 15) {
		assert_int_equal(ca_secret_session_encrypt(&ct, &ct_len, p->a, iv,
			(const unsigned char *)secret, n), 0);
		assert_int_equal(ct_len, (n / 16 + 1) * 16);
		assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, sizeof(iv), ct, ct_len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(plain, secret, n);
		assert_int_equal(plain[len], '\0');  /* readable as a C string */
		ca_secret_session_plain_free(plain, len);
		ca_secret_session_plain_free(ct, ct_len);
	}
}

static void test_decrypt_checks_lengths_and_padding(void **state)
{
	struct pair *p = *state;
	unsigned char iv[SECRET_SESSION_BLOCK + 1], *ct = NULL, *plain = NULL;
	size_t ct_len = 0, len = 0;

	memset(iv, 0x11, sizeof(iv));
	assert_int_equal(ca_secret_session_encrypt(&ct, &ct_len, p->a, iv,
		(const unsigned char *)"token", 5), 0);
	assert_int_equal(ct_len, 16);
	ca_error_clear();
	assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, 15, ct, ct_len), CA_EKEYRING);
	assert_non_null(strstr(ca_error_message(), "15-byte IV"));
	assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, 17, ct, ct_len), CA_EKEYRING);
	assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, 0, ct, ct_len), CA_EKEYRING);
	assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, 16, ct, 0), CA_EKEYRING);
	assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, 16, ct, 15), CA_EKEYRING);
	assert_non_null(strstr(ca_error_message(), "not a whole number of AES blocks"));
	/* Nothing that size is read (or allocated): the length alone is refused. */
	assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, 16, ct,
		SECRET_SESSION_MAX_SECRET + 16), CA_EKEYRING);
	assert_non_null(strstr(ca_error_message(), "more than"));
	/* Flipping the IV's last byte's top bit makes the pad byte 0x8b: never valid. */
	iv[15] ^= 0x80;
	assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, 16, ct, ct_len), CA_EKEYRING);
	assert_non_null(strstr(ca_error_message(), "bad padding"));
	assert_null(plain);
	iv[15] ^= 0x80;
	assert_int_equal(ca_secret_session_decrypt(&plain, &len, p->b, iv, 16, ct, ct_len), 0);
	assert_memory_equal(plain, "token", 6);
	ca_secret_session_plain_free(plain, len);
	ca_secret_session_plain_free(ct, ct_len);
}

/* ---- the server's public value ---- */

static void expect_bad_peer(const unsigned char *peer, size_t len)
{
	struct secret_session *s = NULL;
	unsigned char pub[SECRET_SESSION_PRIME_BYTES], *ct = NULL;
	size_t pub_len = 0, ct_len = 0;

	assert_int_equal(ca_secret_session_new(&s, pub, &pub_len), 0);
	ca_error_clear();
	assert_int_equal(ca_secret_session_agree(s, peer, len), CA_EKEYRING);
	assert_non_null(strstr(ca_error_message(), "Diffie-Hellman public value"));
	/* No key came out of it. */
	assert_int_equal(ca_secret_session_encrypt(&ct, &ct_len, s, pub, pub, 1), CA_EKEYRING);
	ca_secret_session_free(s);
}

static void test_peer_value_checked(void **state)
{
	unsigned char v[SECRET_SESSION_PRIME_BYTES + 1];

	(void)state;
	memset(v, 0x01, sizeof(v));
	expect_bad_peer(v, 0);                               /* empty */
	expect_bad_peer(v, sizeof(v));                       /* 129 bytes */
	memset(v, 0, sizeof(v));
	expect_bad_peer(v, 1);                               /* 0 */
	expect_bad_peer(v, SECRET_SESSION_PRIME_BYTES);      /* 0, full length */
	v[SECRET_SESSION_PRIME_BYTES - 1] = 1;
	expect_bad_peer(v, SECRET_SESSION_PRIME_BYTES);      /* 1 */
	memcpy(v, prime, sizeof(prime));
	v[SECRET_SESSION_PRIME_BYTES - 1] -= 1;
	expect_bad_peer(v, SECRET_SESSION_PRIME_BYTES);      /* p - 1 */
	v[SECRET_SESSION_PRIME_BYTES - 1] += 1;
	expect_bad_peer(v, SECRET_SESSION_PRIME_BYTES);      /* p */
	memset(v, 0xff, sizeof(v));
	expect_bad_peer(v, SECRET_SESSION_PRIME_BYTES);      /* > p */
}

static void test_peer_value_accepted_once(void **state)
{
	struct secret_session *s = NULL;
	unsigned char pub[SECRET_SESSION_PRIME_BYTES], two[SECRET_SESSION_PRIME_BYTES];
	size_t pub_len = 0;

	(void)state;
	memset(two, 0, sizeof(two));
	two[SECRET_SESSION_PRIME_BYTES - 1] = 2;
	assert_int_equal(ca_secret_session_new(&s, pub, &pub_len), 0);
	/* Leading zeros are fine: the value is 2, the smallest acceptable. */
	assert_int_equal(ca_secret_session_agree(s, two, sizeof(two)), 0);
	/* The private exponent is gone: a second agreement is refused. */
	assert_int_equal(ca_secret_session_agree(s, two, sizeof(two)), CA_EKEYRING);
	ca_secret_session_free(s);
	ca_secret_session_free(NULL);
	ca_secret_session_plain_free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_rfc5869_case3_empty_salt_and_info),
		cmocka_unit_test(test_hkdf_rfc5869_case1_salt_and_info),
		cmocka_unit_test(test_hkdf_output_too_long),
		cmocka_unit_test(test_unpad_valid),
		cmocka_unit_test(test_unpad_bad_pad_byte),
		cmocka_unit_test(test_unpad_pad_zero),
		cmocka_unit_test(test_unpad_pad_over_block),
		cmocka_unit_test(test_unpad_bad_length),
		cmocka_unit_test_setup_teardown(test_both_halves_agree, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_decrypt_checks_lengths_and_padding, pair_setup,
			pair_teardown),
		cmocka_unit_test(test_peer_value_checked),
		cmocka_unit_test(test_peer_value_accepted_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
