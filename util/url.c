#include "util/url.h"

#include "util/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HOST_NAME_MAX_LEN 253
#define LABEL_MAX_LEN 63

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Whether s[0..len) is a dotted quad as people write it: four decimal
 * numbers 0-255 without leading zeros. The first number goes to *first.
 */
static int dotted_quad(const char *s, size_t len, int *first)
{
	size_t i = 0;
	int part, value, digits;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
		value = 0;
		for (digits = 0; i < len && is_digit(s[i]); i++, digits++) {
			if (digits == 1 && value == 0)
				return 0; /* a leading zero: octal to inet_aton */
			value = value * 10 + (s[i] - '0');
			if (value > 255)
				return 0;
		}
		if (digits == 0)
			return 0;
		if (part == 0 && first)
			*first = value;
	}
	return i == len;
}

/*
 * Whether a label reads as a number to inet_aton or a WHATWG URL parser:
 * decimal digits, or "0x" and hex digits.
 */
static int numeric_label(const char *s, size_t len)
{
	int hex = len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	size_t i;

	for (i = hex ? 2 : 0; i < len; i++)
		if (hex ? !is_hex(s[i]) : !is_digit(s[i]))
			return 0;
	return len > 0;
}

/* A host name: letters, digits, '-' and '_' in labels of 1-63 between dots. */
static int parse_name(struct ca_url *out, const char *s, size_t len)
{
	size_t i, label = 0, last = 0;

	if (len == 0)
		return ca_error(CA_EINVAL, "the URL has no host");
	if (len > HOST_NAME_MAX_LEN)
		return ca_error(CA_EINVAL, "the URL's host is too long");
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > LABEL_MAX_LEN)
				return ca_error(CA_EINVAL, "the URL's host has an empty or too long label");
			last = i - label;
			label = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      is_digit(s[i]) || s[i] == '-' || s[i] == '_'))
			return ca_error(CA_EINVAL, "the URL's host holds a character a host name cannot have");
		label++;
	}
	/* A host that ends in a number is an IPv4 address: only as a dotted quad. */
	if (numeric_label(s + last, len - last) && !dotted_quad(s, len, NULL))
		return ca_error(CA_EINVAL, "the URL's host is a number but not a dotted quad "
			"such as 127.0.0.1");
	for (i = 0; i < len; i++)
		out->host[i] = lower(s[i]);
	out->host[len] = '\0';
	out->ipv6 = 0;
	return 0;
}

/* An IPv6 literal between brackets (s and len without them). */
static int parse_ipv6(struct ca_url *out, const char *s, size_t len)
{
	struct in6_addr addr;
	char text[INET6_ADDRSTRLEN];
	size_t i;

	if (len == 0 || len >= sizeof(text))
		return ca_error(CA_EINVAL, "the URL has a malformed IPv6 address");
	for (i = 0; i < len; i++)
		if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.')
			return ca_error(CA_EINVAL, "the URL has a malformed IPv6 address");
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(AF_INET6, text, &addr) != 1 ||
	    !inet_ntop(AF_INET6, &addr, out->host, sizeof(out->host)))
		return ca_error(CA_EINVAL, "the URL has a malformed IPv6 address");
	out->ipv6 = 1;
	return 0;
}

static int parse_port(int *out, const char *s, size_t len)
{
	size_t i;
	int port = 0;

	if (len == 0 || len > 5)
		return ca_error(CA_EINVAL, "the URL's port is not a number from 1 to 65535");
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return ca_error(CA_EINVAL, "the URL's port is not a number from 1 to 65535");
		port = port * 10 + (s[i] - '0');
	}
	if (port < 1 || port > 65535)
		return ca_error(CA_EINVAL, "the URL's port is not a number from 1 to 65535");
	*out = port;
	return 0;
}

int ca_url_parse(struct ca_url *out, const char *text)
{
	struct ca_url url;
	const char *p, *sep, *auth, *auth_end, *host_end;
	size_t scheme_len;
	int error;

	if (!text || !*text)
		return ca_error(CA_EINVAL, "the URL is empty");
	for (p = text; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '\\')
			return ca_error(CA_EINVAL, "the URL holds white space, a control character, "
				"a backslash or a non-ASCII byte");
	memset(&url, 0, sizeof(url));
	sep = strstr(text, "://");
	scheme_len = sep ? (size_t)(sep - text) : 0;
	if (scheme_len == 5 && !strncasecmp(text, "https", 5))
		strcpy(url.scheme, "https");
	else if (scheme_len == 4 && !strncasecmp(text, "http", 4))
		strcpy(url.scheme, "http");
	else
		return ca_error(CA_EINVAL, "the URL does not start with https:// or http://");

	auth = sep + 3;
	auth_end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(auth_end - auth)))
		return ca_error(CA_EINVAL, "the URL has user-info (user@), which is never allowed");
	if (memchr(auth, '%', (size_t)(auth_end - auth)))
		return ca_error(CA_EINVAL, "the URL's host holds a percent-escape");

	if (*auth == '[') {
		const char *close = memchr(auth, ']', (size_t)(auth_end - auth));

		if (!close)
			return ca_error(CA_EINVAL, "the URL has a malformed IPv6 address");
		if ((error = parse_ipv6(&url, auth + 1, (size_t)(close - auth - 1))))
			return error;
		host_end = close + 1;
		if (host_end < auth_end && *host_end != ':')
			return ca_error(CA_EINVAL, "the URL has a malformed IPv6 address");
	} else {
		host_end = memchr(auth, ':', (size_t)(auth_end - auth));
		if (!host_end)
			host_end = auth_end;
		if ((error = parse_name(&url, auth, (size_t)(host_end - auth))))
			return error;
	}
	if (host_end < auth_end &&
	    (error = parse_port(&url.port, host_end + 1, (size_t)(auth_end - host_end - 1))))
		return error;
	url.rest = auth_end;
	*out = url;
	return 0;
}

/*
 * Copies host into buf without the brackets of an IPv6 literal; -1 for
 * brackets around anything else ("[localhost]").
 */
static int bare_host(char *buf, size_t size, const char *host)
{
	size_t len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
		if (!memchr(host, ':', len))
			return -1;
	}
	if (len >= size)
		return -1;
	memcpy(buf, host, len);
	buf[len] = '\0';
	return 0;
}

int ca_url_is_loopback_host(const char *host)
{
	char bare[CA_URL_HOST_MAX];
	struct in6_addr addr;
	int first = -1;

	if (!host || bare_host(bare, sizeof(bare), host) < 0)
		return 0;
	if (!strcasecmp(bare, "localhost"))
		return 1;
	if (strchr(bare, ':'))
		return inet_pton(AF_INET6, bare, &addr) == 1 &&
			IN6_IS_ADDR_LOOPBACK(&addr);
	return dotted_quad(bare, strlen(bare), &first) && first == 127;
}

int ca_url_same_host(const char *a, const char *b)
{
	char x[CA_URL_HOST_MAX], y[CA_URL_HOST_MAX];
	struct in6_addr ax, ay;

	if (!a || !b || bare_host(x, sizeof(x), a) < 0 || bare_host(y, sizeof(y), b) < 0)
		return 0;
	if (strchr(x, ':') || strchr(y, ':'))
		return inet_pton(AF_INET6, x, &ax) == 1 && inet_pton(AF_INET6, y, &ay) == 1 &&
			!memcmp(&ax, &ay, sizeof(ax));
	return !strcasecmp(x, y);
}

int ca_url_host(char *out, size_t size, const char *url)
{
	struct ca_url u;
	char buf[CA_URL_HOST_MAX + 16];
	int error, n;

	if ((error = ca_url_parse(&u, url)))
		return error;
	if (u.port)
		n = snprintf(buf, sizeof(buf), u.ipv6 ? "[%s]:%d" : "%s:%d", u.host, u.port);
	else
		n = snprintf(buf, sizeof(buf), u.ipv6 ? "[%s]" : "%s", u.host);
	if (n < 0 || (size_t)n >= sizeof(buf) || (size_t)n >= size)
		return ca_error(CA_EINVAL, "the URL's host is too long");
	memcpy(out, buf, (size_t)n + 1);
	return 0;
}

int ca_url_allowed(const char *url)
{
	struct ca_url u;

	if (ca_url_parse(&u, url))
		return 0;
	if (!strcmp(u.scheme, "https"))
		return 1;
	return ca_url_is_loopback_host(u.host);
}
