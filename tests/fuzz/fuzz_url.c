/*
 * ca_url_parse (util/url.h): every URL carto-auth sends a request to. An
 * accepted URL must hold together (scheme, a host without user-info, a
 * port in range, the rest after the authority), parse back to itself from
 * its host line, obey the loopback rule, and be read the same way by
 * libcurl's URL API whenever libcurl accepts it (what it refuses the
 * network module refuses too). The same bytes are also tried as a bare
 * host for ca_url_is_loopback_host.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mem.h"
#include "util/url.h"

static void check_host_chars(const struct ca_url *u)
{
	const char *p;

	if (!u->host[0])
		abort();
	for (p = u->host; *p; p++) {
		if (u->ipv6 ? !strchr("0123456789abcdef:.", *p) :
		    !strchr("abcdefghijklmnopqrstuvwxyz0123456789.-_", *p))
			abort();
	}
}

/* libcurl, when it accepts the URL, reads the same scheme, host and port. */
static void same_as_curl(const struct ca_url *u, const char *text)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;

	if (!h)
		return;
	if (curl_url_set(h, CURLUPART_URL, text, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(h, CURLUPART_USER, &user, 0) != CURLUE_NO_USER)
		abort();
	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    strcasecmp(scheme, u->scheme) != 0)
		abort();
	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    !ca_url_same_host(host, u->host))
		abort();
	if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
		if (atoi(port) != u->port)
			abort();
	} else if (u->port != 0) {
		abort();
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(h);
}

static void accepted(const struct ca_url *u, const char *text)
{
	struct ca_url again;
	char line[CA_URL_HOST_MAX + 16], *rebuilt;
	const char *auth = strstr(text, "://");
	int loopback = ca_url_is_loopback_host(u->host);

	if (strcmp(u->scheme, "http") && strcmp(u->scheme, "https"))
		abort();
	check_host_chars(u);
	if (u->port < 0 || u->port > 65535)
		abort();
	/* rest lies in text, after the authority, which holds no '@' */
	if (!auth || u->rest < auth + 3 || u->rest > text + strlen(text) ||
	    (*u->rest && !strchr("/?#", *u->rest)) ||
	    memchr(auth + 3, '@', (size_t)(u->rest - auth - 3)))
		abort();
	if (ca_url_allowed(text) != (!strcmp(u->scheme, "https") || loopback))
		abort();
	if (loopback && strcmp(u->host, "localhost") && strcmp(u->host, "::1") &&
	    strncmp(u->host, "127.", 4))
		abort();

	/* the host line parses back to the same URL */
	if (ca_url_host(line, sizeof(line), text) != 0 || strchr(line, '@'))
		abort();
	rebuilt = ca_malloc(strlen(u->scheme) + 3 + strlen(line) + strlen(u->rest) + 1);
	if (!rebuilt)
		return;
	sprintf(rebuilt, "%s://%s%s", u->scheme, line, u->rest);
	if (ca_url_parse(&again, rebuilt) != 0 || strcmp(again.scheme, u->scheme) ||
	    strcmp(again.host, u->host) || again.port != u->port || again.ipv6 != u->ipv6 ||
	    strcmp(again.rest, u->rest))
		abort();
	ca_free(rebuilt);
	same_as_curl(u, text);
}

/* A bare host that is loopback parses as one in an http:// URL. */
static void bare_host(const char *text)
{
	struct ca_url u;
	char *url;

	if (!ca_url_is_loopback_host(text))
		return;
	url = ca_malloc(strlen(text) + 10);
	if (!url)
		return;
	sprintf(url, strchr(text, ':') && text[0] != '[' ? "http://[%s]" : "http://%s", text);
	if (ca_url_parse(&u, url) != 0 || !ca_url_is_loopback_host(u.host) ||
	    !ca_url_allowed(url))
		abort();
	ca_free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_url u;
	char *text = ca_strndup((const char *)data, size);

	if (!text)
		return 0;
	if (ca_url_parse(&u, text) == 0)
		accepted(&u, text);
	else if (ca_url_allowed(text))
		abort();
	bare_host(text);
	ca_free(text);
	return 0;
}
