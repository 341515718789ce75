#include "util/text.h"

#include <stdint.h>
#include <string.h>

/*
 * The length of the valid UTF-8 sequence at s (at most len bytes) and its
 * code point, or 0 when the bytes there are not valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2, c = s[0] & 0x1F, min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3, c = s[0] & 0x0F, min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static int unsafe_code_point(uint32_t c)
{
	return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) ||
		c == 0x2028 || c == 0x2029;
}

/*
 * The bidirectional formatting characters: embeddings and overrides
 * (U+202A-U+202E), isolates (U+2066-U+2069) and the marks (U+200E, U+200F,
 * U+061C). A terminal reorders the text around them, so a server's words
 * or a file name could make a line read as something else ("Trojan
 * Source"). Terminal text shows them escaped; the protocol passes them,
 * as git does: they do not end or split a line.
 */
static int bidi_control(uint32_t c)
{
	return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
		c == 0x200E || c == 0x200F || c == 0x061C;
}

/*
 * One step over s[0..len): *used bytes of input, and in piece (at least 7
 * bytes) either nothing (the bytes are safe, copy them) or their escape.
 */
static size_t step(const unsigned char *s, size_t len, char piece[8], size_t *used)
{
	uint32_t c;
	size_t n = utf8_decode(s, len, &c);

	if (!n) {
		*used = 1;
		return (size_t)snprintf(piece, 8, "\\x%02x", s[0]);
	}
	*used = n;
	if (!unsafe_code_point(c) && !bidi_control(c))
		return 0;
	if (c < 0x80)
		return (size_t)snprintf(piece, 8, "\\x%02x", (unsigned)c);
	return (size_t)snprintf(piece, 8, "\\u%04x", (unsigned)c);
}

size_t ca_text_unsafe_at(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t c;

	while (i < len) {
		if (p[i] >= 0x20 && p[i] < 0x7F) {
			i++;
			continue;
		}
		n = utf8_decode(p + i, len - i, &c);
		if (!n || unsafe_code_point(c))
			return i;
		i += n;
	}
	return len;
}

int ca_text_printable(const char *s)
{
	size_t len;

	if (!s)
		return 1;
	len = strlen(s);
	return ca_text_unsafe_at(s, len) == len;
}

size_t ca_text_escape(char *out, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), o = 0, used, n;
	char piece[8];

	if (!size)
		return 0;
	while (len) {
		n = step(p, len, piece, &used);
		if (o + (n ? n : used) >= size)
			break;
		memcpy(out + o, n ? piece : (const char *)p, n ? n : used);
		o += n ? n : used;
		p += used;
		len -= used;
	}
	out[o] = '\0';
	return o;
}

void ca_text_put_line(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), used, n;
	char piece[8];

	while (len) {
		n = step(p, len, piece, &used);
		fwrite(n ? piece : (const char *)p, 1, n ? n : used, f);
		p += used;
		len -= used;
	}
	fputc('\n', f);
}

int ca_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
