/*
 * callback_parse_request: the browser's request to the loopback server of
 * an OAuth login (the start page and the callback, with the login's
 * cookie). The same bytes are also tried as a redirect URI
 * (callback_parse_redirect_uri, from CARTO_AUTH_REDIRECT_URI) and as the
 * kernel's socket table (peer_parse_proc_net, /proc/net/tcp and tcp6).
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/net/callback.h"
#include "auth/net/peer.h"
#include "util/mem.h"

static void parse(const uint8_t *data, size_t size, const struct callback_paths *paths)
{
	struct callback_result r;
	size_t i;

	if (ca_callback_parse_request(&r, (const char *)data, size, paths) != 0)
		abort();
	if (r.ncookies > CALLBACK_MAX_COOKIES || (!paths->cookie_name && r.ncookies))
		abort();
	for (i = 0; i < r.ncookies; i++)
		if (!r.cookies[i])
			abort();
	switch (r.kind) {
	case CALLBACK_CODE:
		if (!r.code || !r.code[0])
			abort();
		break;
	case CALLBACK_ERROR:
		if (!r.error || !r.error[0])
			abort();
		break;
	case CALLBACK_START:
		if (!paths->start || r.code || r.state || r.error || r.error_description)
			abort();
		break;
	case CALLBACK_BAD_REQUEST:
	case CALLBACK_BAD_METHOD:
	case CALLBACK_NOT_FOUND:
		if (r.code || r.state || r.error || r.error_description || r.ncookies)
			abort();
		break;
	case CALLBACK_INCOMPLETE:
		break;
	default:
		abort();
	}
	ca_callback_result_clear(&r);
}

static void proc_net(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer = { .sin_family = AF_INET }, self = { .sin_family = AF_INET };
	struct sockaddr_in6 peer6 = { .sin6_family = AF_INET6 }, self6 = { .sin6_family = AF_INET6 };
	unsigned long inode;
	uid_t uid;

	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	peer.sin_port = htons(0xD431);
	self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	self.sin_port = htons(10000);
	peer6.sin6_addr = in6addr_loopback;
	peer6.sin6_port = htons(0xD431);
	self6.sin6_addr = in6addr_loopback;
	self6.sin6_port = htons(10000);
	(void)ca_peer_parse_proc_net(&uid, &inode, (const char *)data, size,
		(struct sockaddr *)&peer, (struct sockaddr *)&self);
	(void)ca_peer_parse_proc_net(&uid, &inode, (const char *)data, size,
		(struct sockaddr *)&peer6, (struct sockaddr *)&self6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct callback_paths full = { "/callback/", "/start/n0nce", "carto_auth_10000" };
	static const struct callback_paths root = { "/", NULL, NULL };
	char *uri, *host = NULL, *path = NULL;
	unsigned port = 0;

	parse(data, size, &full);
	parse(data, size, &root);
	proc_net(data, size);

	uri = ca_strndup((const char *)data, size);
	if (!uri)
		return 0;
	if (ca_callback_parse_redirect_uri(&host, &port, &path, uri) == 0) {
		if (!host || !path || path[0] != '/' || port == 0 || port > 65535)
			abort();
		ca_free(host);
		ca_free(path);
	}
	ca_free(uri);
	return 0;
}
