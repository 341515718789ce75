/*
 * PKCE (RFC 7636): the code verifier, the S256 challenge, and the state
 * of a login. The challenge's SHA-256 comes from libcrypto (OpenSSL's
 * EVP), which libcurl's TLS already maps into the process: the network
 * module adds no hash of its own. (The core's util/sha256.c stays for the
 * stored secret fingerprint, on the cached path that loads no libcrypto.)
 */
#include "auth/net/pkce.h"

#include <openssl/evp.h>
#include <string.h>

#include "util/base64url.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/random.h"

static int random_token(char **out, size_t bytes)
{
	unsigned char buf[64];
	int rc;

	if (bytes > sizeof(buf))
		return ca_error(CA_ERR, "random token too long");
	rc = ca_random_bytes(buf, bytes);
	if (rc == 0)
		rc = ca_base64url_encode(out, buf, bytes);
	ca_wipe(buf, sizeof(buf));
	return rc;
}

int ca_oauth_pkce_verifier(char **out)
{
	return random_token(out, OAUTH_VERIFIER_BYTES);
}

int ca_oauth_random_state(char **out)
{
	return random_token(out, OAUTH_STATE_BYTES);
}

int ca_oauth_pkce_challenge(char **out, const char *verifier)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int rc;

	if (!EVP_Digest(verifier, strlen(verifier), digest, &len, EVP_sha256(), NULL) || len != 32)
		return ca_error(CA_ERR, "cannot compute the PKCE challenge (libcrypto's SHA-256)");
	rc = ca_base64url_encode(out, digest, len);
	ca_wipe(digest, sizeof(digest));
	return rc;
}

