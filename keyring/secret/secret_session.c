/*
 * The Secret Service's "dh-ietf1024-sha256-aes128-cbc-pkcs7" session, the
 * client's half (secret_session.h), written after the Secret Service API
 * and checked against libsecret's implementation, which gnome-keyring
 * shares.
 *
 * libgcrypt does the arithmetic: it is what libsecret links on Debian, so
 * the keyring module loads no new library. It is initialized here only
 * when nobody in the process did it before (libsecret follows the same
 * rule), with a secure memory pool that is locked in RAM when the system
 * allows it and wiped on free in any case.
 */
#include "keyring/secret/secret_session.h"

#include "util/error.h"

#include <gcrypt.h>
#include <glib.h>
#include <string.h>

#define SHA256_BYTES 32
#define SECMEM_BYTES 32768

/*
 * The private exponent's length in bits. The group is a safe prime
 * (p = 2q + 1), so a short exponent is as strong as a full one as long as
 * it is at least twice the group's security level (about 80 bits for
 * 1024-bit MODP, RFC 3526's table): 256 bits leaves a wide margin and
 * makes our two exponentiations four times cheaper than 1023 bits.
 */
#define PRIVATE_BITS 256

/* RFC 2409, 6.2: the Second Oakley Group, 2^1024 - 2^960 - 1 + 2^64 * { [2^894 pi] + 129093 }. */
static const unsigned char oakley2_prime[SECRET_SESSION_PRIME_BYTES] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
	0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
	0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
	0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
	0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
	0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
	0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11, 0x7C, 0x4B, 0x1F, 0xE6,
	0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};
#define OAKLEY2_GENERATOR 2

struct secret_session {
	gcry_mpi_t prime;
	gcry_mpi_t priv;      /* secure; released once the key is derived */
	unsigned char *key;   /* SECRET_SESSION_KEY_BYTES, secure; NULL before agree */
};

/* ---- libgcrypt ---- */

static int gcrypt_ready(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P) && gcry_check_version(GCRYPT_VERSION)) {
			/* Locking may not be allowed here: then say nothing, wipe anyway. */
			gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
			gcry_control(GCRYCTL_INIT_SECMEM, SECMEM_BYTES, 0);
			gcry_control(GCRYCTL_AUTO_EXPAND_SECMEM, (unsigned int)SECMEM_BYTES);
			gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
		}
		g_once_init_leave(&once, 1);
	}
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return ca_error(CA_EKEYRING, "libgcrypt %s is older than %s, needed for an encrypted keyring session",
			gcry_check_version(NULL), GCRYPT_VERSION);
	return 0;
}

/*
 * libgcrypt wipes its secure memory on free, but a host program may have
 * turned secure memory off, or installed its own allocator: wipe first.
 */
static void wipe_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	gcry_free(p);
}

/* ---- the pieces ---- */

int ca_secret_session_hkdf_sha256(unsigned char *out, size_t out_len, const void *ikm,
	size_t ikm_len, const void *salt, size_t salt_len, const void *info, size_t info_len)
{
	static const unsigned char zeros[SHA256_BYTES];
	gcry_md_hd_t md = NULL;
	unsigned char *prk = NULL, *t = NULL;
	size_t done = 0, t_len = 0, step;
	unsigned char counter;
	int error = CA_EKEYRING;

	if ((error = gcrypt_ready()))
		return error;
	if (out_len > 255 * SHA256_BYTES)
		return ca_error(CA_EKEYRING, "HKDF-SHA256 cannot give %zu bytes", out_len);
	/* An empty salt is HashLen zeros (RFC 5869 2.2); HMAC pads keys with zeros anyway. */
	if (!salt || !salt_len) {
		salt = zeros;
		salt_len = sizeof(zeros);
	}
	if (!(prk = gcry_malloc_secure(SHA256_BYTES)) || !(t = gcry_malloc_secure(SHA256_BYTES))) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	/* Extract: PRK = HMAC(salt, IKM). */
	if (gcry_md_open(&md, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC | GCRY_MD_FLAG_SECURE) ||
	    gcry_md_setkey(md, salt, salt_len))
		goto gcry_failed;
	gcry_md_write(md, ikm, ikm_len);
	memcpy(prk, gcry_md_read(md, GCRY_MD_SHA256), SHA256_BYTES);
	/* Expand: T(i) = HMAC(PRK, T(i-1) | info | i). */
	if (gcry_md_setkey(md, prk, SHA256_BYTES))
		goto gcry_failed;
	for (counter = 1; done < out_len; counter++) {
		gcry_md_reset(md);
		gcry_md_write(md, t, t_len);
		gcry_md_write(md, info, info_len);
		gcry_md_write(md, &counter, 1);
		memcpy(t, gcry_md_read(md, GCRY_MD_SHA256), SHA256_BYTES);
		t_len = SHA256_BYTES;
		step = out_len - done < SHA256_BYTES ? out_len - done : SHA256_BYTES;
		memcpy(out + done, t, step);
		done += step;
	}
	error = 0;
	goto out;
gcry_failed:
	error = ca_error(CA_EKEYRING, "libgcrypt cannot compute HMAC-SHA256");
out:
	gcry_md_close(md);
	wipe_free(prk, SHA256_BYTES);
	wipe_free(t, SHA256_BYTES);
	return error;
}

int ca_secret_session_pkcs7_unpad(size_t *out_len, const unsigned char *buf, size_t len)
{
	unsigned char pad, bad = 0;
	size_t i;

	if (!len || len % SECRET_SESSION_BLOCK)
		return ca_error(CA_EKEYRING,
			"the Secret Service sent a secret of %zu bytes, not a whole number of AES blocks", len);
	pad = buf[len - 1];
	if (pad == 0 || pad > SECRET_SESSION_BLOCK)
		return ca_error(CA_EKEYRING,
			"the secret from the Secret Service does not decrypt (bad padding)");
	for (i = len - pad; i < len; i++)
		bad |= buf[i] ^ pad;
	if (bad)
		return ca_error(CA_EKEYRING,
			"the secret from the Secret Service does not decrypt (bad padding)");
	*out_len = len - pad;
	return 0;
}

/* ---- the session ---- */

void ca_secret_session_free(struct secret_session *s)
{
	if (!s)
		return;
	gcry_mpi_release(s->prime);
	gcry_mpi_release(s->priv);  /* libgcrypt wipes an MPI's limbs on release */
	wipe_free(s->key, SECRET_SESSION_KEY_BYTES);
	g_free(s);
}

int ca_secret_session_new(struct secret_session **out, unsigned char *pub, size_t *pub_len)
{
	struct secret_session *s;
	gcry_mpi_t g = NULL, y = NULL;
	size_t n = 0;
	int error;

	if ((error = gcrypt_ready()))
		return error;
	s = g_new0(struct secret_session, 1);
	if (gcry_mpi_scan(&s->prime, GCRYMPI_FMT_USG, oakley2_prime, sizeof(oakley2_prime), NULL)) {
		error = ca_error(CA_EKEYRING, "libgcrypt cannot read the Diffie-Hellman group");
		goto out;
	}
	/* x: PRIVATE_BITS random bits with the top one set, so 2^255 <= x < 2^256. */
	s->priv = gcry_mpi_snew(PRIVATE_BITS);
	gcry_mpi_randomize(s->priv, PRIVATE_BITS, GCRY_STRONG_RANDOM);
	gcry_mpi_set_highbit(s->priv, PRIVATE_BITS - 1);
	g = gcry_mpi_set_ui(NULL, OAKLEY2_GENERATOR);
	y = gcry_mpi_new(SECRET_SESSION_PRIME_BYTES * 8);
	gcry_mpi_powm(y, g, s->priv, s->prime);
	if (gcry_mpi_print(GCRYMPI_FMT_USG, pub, SECRET_SESSION_PRIME_BYTES, &n, y) || !n) {
		error = ca_error(CA_EKEYRING, "libgcrypt cannot write our Diffie-Hellman public value");
		goto out;
	}
out:
	gcry_mpi_release(g);
	gcry_mpi_release(y);
	if (error) {
		ca_secret_session_free(s);
		return error;
	}
	*pub_len = n;
	*out = s;
	return 0;
}

int ca_secret_session_agree(struct secret_session *s, const unsigned char *peer, size_t peer_len)
{
	gcry_mpi_t y = NULL, limit = NULL, k = NULL;
	unsigned char *shared = NULL;
	size_t n = 0;
	int error = 0;

	if (!s->priv)
		return ca_error(CA_EKEYRING, "the encrypted keyring session was already set up");
	if (!peer_len || peer_len > SECRET_SESSION_PRIME_BYTES ||
	    gcry_mpi_scan(&y, GCRYMPI_FMT_USG, peer, peer_len, NULL)) {
		error = ca_error(CA_EKEYRING,
			"the Secret Service sent a Diffie-Hellman public value of %zu bytes (1 to %d expected)",
			peer_len, SECRET_SESSION_PRIME_BYTES);
		goto out;
	}
	/* 1 < y < p - 1: nothing that gives away the key (1, p - 1) or lies outside the group. */
	limit = gcry_mpi_new(0);
	gcry_mpi_sub_ui(limit, s->prime, 1);
	if (gcry_mpi_cmp_ui(y, 1) <= 0 || gcry_mpi_cmp(y, limit) >= 0) {
		error = ca_error(CA_EKEYRING,
			"the Secret Service sent an invalid Diffie-Hellman public value");
		goto out;
	}
	k = gcry_mpi_snew(SECRET_SESSION_PRIME_BYTES * 8);
	gcry_mpi_powm(k, y, s->priv, s->prime);
	if (!(shared = gcry_calloc_secure(1, SECRET_SESSION_PRIME_BYTES)) ||
	    !(s->key = gcry_malloc_secure(SECRET_SESSION_KEY_BYTES))) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	/* The shared value, big-endian, padded on the left to the prime's length. */
	if (gcry_mpi_print(GCRYMPI_FMT_USG, shared, SECRET_SESSION_PRIME_BYTES, &n, k)) {
		error = ca_error(CA_EKEYRING, "libgcrypt cannot write the shared Diffie-Hellman value");
		goto out;
	}
	if (n < SECRET_SESSION_PRIME_BYTES) {
		memmove(shared + SECRET_SESSION_PRIME_BYTES - n, shared, n);
		memset(shared, 0, SECRET_SESSION_PRIME_BYTES - n);
	}
	error = ca_secret_session_hkdf_sha256(s->key, SECRET_SESSION_KEY_BYTES, shared,
		SECRET_SESSION_PRIME_BYTES, NULL, 0, NULL, 0);
out:
	if (error) {
		wipe_free(s->key, SECRET_SESSION_KEY_BYTES);
		s->key = NULL;
	}
	/* One exchange per session: the exponent is of no further use. */
	gcry_mpi_release(s->priv);
	s->priv = NULL;
	gcry_mpi_release(k);
	gcry_mpi_release(limit);
	gcry_mpi_release(y);
	wipe_free(shared, SECRET_SESSION_PRIME_BYTES);
	return error;
}

static int cipher_open(gcry_cipher_hd_t *out, struct secret_session *s, const unsigned char *iv)
{
	gcry_cipher_hd_t h;

	if (!s->key)
		return ca_error(CA_EKEYRING, "the encrypted keyring session has no key");
	if (gcry_cipher_open(&h, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_CBC, GCRY_CIPHER_SECURE))
		return ca_error(CA_EKEYRING, "libgcrypt cannot use AES-128-CBC");
	if (gcry_cipher_setkey(h, s->key, SECRET_SESSION_KEY_BYTES) ||
	    gcry_cipher_setiv(h, iv, SECRET_SESSION_BLOCK)) {
		gcry_cipher_close(h);
		return ca_error(CA_EKEYRING, "libgcrypt cannot use AES-128-CBC");
	}
	*out = h;
	return 0;
}

int ca_secret_session_decrypt(unsigned char **out, size_t *out_len, struct secret_session *s,
	const unsigned char *iv, size_t iv_len, const unsigned char *ct, size_t ct_len)
{
	gcry_cipher_hd_t h = NULL;
	unsigned char *plain = NULL;
	size_t len = 0;
	int error;

	if (iv_len != SECRET_SESSION_BLOCK)
		return ca_error(CA_EKEYRING,
			"the Secret Service sent a secret with a %zu-byte IV (%d expected)",
			iv_len, SECRET_SESSION_BLOCK);
	if (!ct_len || ct_len % SECRET_SESSION_BLOCK)
		return ca_error(CA_EKEYRING,
			"the Secret Service sent a secret of %zu bytes, not a whole number of AES blocks",
			ct_len);
	if (ct_len > SECRET_SESSION_MAX_SECRET)
		return ca_error(CA_EKEYRING,
			"the Secret Service sent a secret of %zu bytes, more than %d",
			ct_len, SECRET_SESSION_MAX_SECRET);
	if ((error = cipher_open(&h, s, iv)))
		return error;
	/* One spare byte, so a text secret can be read as a C string. */
	if (!(plain = gcry_calloc_secure(1, ct_len + 1))) {
		error = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	if (gcry_cipher_decrypt(h, plain, ct_len, ct, ct_len)) {
		error = ca_error(CA_EKEYRING, "libgcrypt cannot decrypt the secret");
		goto out;
	}
	if ((error = ca_secret_session_pkcs7_unpad(&len, plain, ct_len)))
		goto out;
	memset(plain + len, 0, ct_len - len);
out:
	gcry_cipher_close(h);
	if (error) {
		ca_secret_session_plain_free(plain, ct_len);
		return error;
	}
	*out = plain;
	*out_len = len;
	return 0;
}

int ca_secret_session_encrypt(unsigned char **out, size_t *out_len, struct secret_session *s,
	const unsigned char *iv, const unsigned char *plain, size_t plain_len)
{
	gcry_cipher_hd_t h = NULL;
	unsigned char *buf;
	size_t pad = SECRET_SESSION_BLOCK - plain_len % SECRET_SESSION_BLOCK;
	size_t len = plain_len + pad;
	int error;

	if ((error = cipher_open(&h, s, iv)))
		return error;
	if (!(buf = gcry_malloc_secure(len))) {
		gcry_cipher_close(h);
		return ca_error(CA_ERR, "out of memory");
	}
	memcpy(buf, plain, plain_len);
	memset(buf + plain_len, (int)pad, pad);
	if (gcry_cipher_encrypt(h, buf, len, NULL, 0)) {
		gcry_cipher_close(h);
		wipe_free(buf, len);
		return ca_error(CA_EKEYRING, "libgcrypt cannot encrypt the secret");
	}
	gcry_cipher_close(h);
	*out = buf;
	*out_len = len;
	return 0;
}

void ca_secret_session_plain_free(unsigned char *plain, size_t len)
{
	wipe_free(plain, len);
}
