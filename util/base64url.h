/* base64url (RFC 4648 section 5): PKCE values, state, and JWT parts. */
#ifndef CA_UTIL_BASE64URL_H
#define CA_UTIL_BASE64URL_H

#include <stddef.h>

/* base64url without padding into a new string (ca_free). */
int ca_base64url_encode(char **out, const unsigned char *data, size_t len);

/*
 * Decodes base64url (padding optional) into a new buffer (ca_free),
 * NUL-terminated for convenience; CA_EINVAL for any other character.
 */
int ca_base64url_decode(unsigned char **out, size_t *out_len, const char *src, size_t len);

#endif
