/*
 * The Secret Service's encrypted transfer session, client side, with
 * libgcrypt (which libsecret already loads): the algorithm
 * "dh-ietf1024-sha256-aes128-cbc-pkcs7" of the Secret Service API.
 *
 *   OpenSession(algorithm, our public value as ay) -> (server's value, path)
 *   Diffie-Hellman in the 1024-bit MODP group of RFC 2409 (the Second
 *   Oakley Group, generator 2); the shared value, big-endian and padded
 *   on the left to 128 bytes, is the input of HKDF-SHA256 with an empty
 *   salt and info; its first 16 bytes are the AES-128 key. A secret then
 *   arrives as (session, parameters = the 16-byte IV, value = AES-128-CBC
 *   ciphertext with PKCS#7 padding, content type).
 *
 * The private exponent, the shared value, the key and every decrypted
 * secret live in libgcrypt's secure memory and are wiped when freed.
 */
#ifndef CA_KEYRING_SECRET_SESSION_H
#define CA_KEYRING_SECRET_SESSION_H

#include <stddef.h>

#define SECRET_SESSION_ALGORITHM "dh-ietf1024-sha256-aes128-cbc-pkcs7"
#define SECRET_SESSION_PRIME_BYTES 128  /* a public value is at most this */
#define SECRET_SESSION_KEY_BYTES 16
#define SECRET_SESSION_BLOCK 16          /* AES block and IV length */
#define SECRET_SESSION_MAX_SECRET 1048576 /* a token's secret is a few KiB */

struct secret_session;

/*
 * A new key pair: out gets the session, pub (SECRET_SESSION_PRIME_BYTES
 * long) our public value, big-endian without leading zeros, and pub_len
 * its length. CA_EKEYRING when libgcrypt cannot be used.
 */
int ca_secret_session_new(struct secret_session **out, unsigned char *pub, size_t *pub_len);

/*
 * Derives the AES key from the server's public value (big-endian, at most
 * SECRET_SESSION_PRIME_BYTES long, 1 < y < p - 1), then wipes the private
 * exponent. CA_EKEYRING with a message when the value is not acceptable.
 */
int ca_secret_session_agree(struct secret_session *s, const unsigned char *peer, size_t peer_len);

/*
 * Decrypts a secret: iv must be SECRET_SESSION_BLOCK bytes, the ciphertext
 * a non-empty multiple of it no longer than SECRET_SESSION_MAX_SECRET, and
 * the padding valid. out gets the
 * plaintext in secure memory (free it with secret_session_plain_free) and
 * out_len its length; CA_EKEYRING with a message otherwise.
 */
int ca_secret_session_decrypt(unsigned char **out, size_t *out_len, struct secret_session *s,
	const unsigned char *iv, size_t iv_len, const unsigned char *ct, size_t ct_len);

/* Encrypts with PKCS#7 padding, as the server does (for the unit tests). */
int ca_secret_session_encrypt(unsigned char **out, size_t *out_len, struct secret_session *s,
	const unsigned char *iv, const unsigned char *plain, size_t plain_len);

/* Wipes and frees a plaintext from secret_session_decrypt; NULL is fine. */
void ca_secret_session_plain_free(unsigned char *plain, size_t len);

/* Wipes and frees the session; NULL is fine. */
void ca_secret_session_free(struct secret_session *s);

/* ---- the pieces, for the unit tests ---- */

/* HKDF-SHA256 (RFC 5869); salt NULL is an empty salt. 0, or CA_EKEYRING. */
int ca_secret_session_hkdf_sha256(unsigned char *out, size_t out_len, const void *ikm,
	size_t ikm_len, const void *salt, size_t salt_len, const void *info, size_t info_len);

/*
 * The length of buf (len bytes, decrypted) without its PKCS#7 padding in
 * *out_len: 0, or CA_EKEYRING with a message when len is not a non-empty
 * multiple of the block or the padding is not 1..16 copies of its length.
 */
int ca_secret_session_pkcs7_unpad(size_t *out_len, const unsigned char *buf, size_t len);

#endif
