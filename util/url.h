/*
 * A strict parser for the URLs carto-auth sends requests to (auth_url,
 * api_base_url, the accounts URL, a tenant's baseUrl): "http" or "https",
 * "://", a host, an optional ":port", then the rest. What a lenient parser
 * (libcurl, a browser, getaddrinfo) might read differently is refused:
 * user-info ("user@"), percent-escapes, white space, control characters,
 * backslashes and non-ASCII bytes, numeric hosts other than a plain
 * dotted quad ("127.1", "0x7f.1", "0177.0.0.1", "2130706433"), IPv6 zone
 * ids, an empty host or port.
 */
#ifndef CA_UTIL_URL_H
#define CA_UTIL_URL_H

#include <stddef.h>

#define CA_URL_HOST_MAX 256

struct ca_url {
	char scheme[8];             /* "http" or "https" (lower case) */
	char host[CA_URL_HOST_MAX]; /* lower case; an IPv6 literal without its
	                               brackets, in its shortest form ("::1") */
	int ipv6;                   /* the host was an IPv6 literal */
	int port;                   /* 1-65535, or 0 when the URL has none */
	const char *rest;           /* into the parsed text: "", or from the
	                               first '/', '?' or '#' after the host */
};

/*
 * Parses text into *out (written only on success). CA_EINVAL, with a
 * message that names the reason but not the URL, when the URL is not one
 * carto-auth accepts. The scheme is compared without regard to case.
 */
int ca_url_parse(struct ca_url *out, const char *text);

/*
 * Whether host (as in struct ca_url, or bracketed) is a loopback host:
 * exactly "localhost", a dotted quad in 127.0.0.0/8, or ::1 (in any of its
 * spellings). Anything else, "127.1" or "127.0.0.1.evil.example" among
 * them, is not.
 */
int ca_url_is_loopback_host(const char *host);

/*
 * Whether two hosts are the same: equal without regard to case, or the
 * same IPv6 address (brackets optional on either).
 */
int ca_url_same_host(const char *a, const char *b);

/*
 * The parsed host[:port] of url, as a git "host=" line has it
 * ("api.carto.com", "127.0.0.1:8080", "[::1]:99"); never user-info.
 * CA_EINVAL (out untouched) when url does not parse or does not fit.
 */
int ca_url_host(char *out, size_t size, const char *url);

/*
 * Whether a request may be sent to url: https:// with a valid host, or
 * http:// to a loopback host.
 */
int ca_url_allowed(const char *url);

#endif
