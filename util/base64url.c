#include "util/base64url.h"

#include <stdint.h>

#include "util/error.h"
#include "util/mem.h"

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int ca_base64url_encode(char **out, const unsigned char *data, size_t len)
{
	char *s, *p;
	size_t i;

	s = ca_malloc(len / 3 * 4 + 4 + 1);
	if (!s)
		return ca_error(CA_ERR, "out of memory");
	p = s;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];

		*p++ = b64url[v >> 18 & 63];
		*p++ = b64url[v >> 12 & 63];
		*p++ = b64url[v >> 6 & 63];
		*p++ = b64url[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)data[i] << 16;

		*p++ = b64url[v >> 18 & 63];
		*p++ = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;

		*p++ = b64url[v >> 18 & 63];
		*p++ = b64url[v >> 12 & 63];
		*p++ = b64url[v >> 6 & 63];
	}
	*p = '\0';
	*out = s;
	return 0;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int ca_base64url_decode(unsigned char **out, size_t *out_len,
	const char *src, size_t len)
{
	unsigned char *buf;
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	while (len > 0 && src[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return ca_error(CA_EINVAL, "malformed base64url");
	buf = ca_malloc(len / 4 * 3 + 3 + 1);
	if (!buf)
		return ca_error(CA_ERR, "out of memory");
	for (i = 0; i < len; i++) {
		int v = b64url_value(src[i]);

		if (v < 0) {
			ca_free(buf);
			return ca_error(CA_EINVAL, "malformed base64url");
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits);
		}
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}
