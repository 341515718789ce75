/*
 * callback_parse_request: the browser's request to the loopback redirect
 * server at the end of an OAuth login. The same bytes are also tried as a
 * redirect URI (callback_parse_redirect_uri, from CARTO_AUTH_REDIRECT_URI).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/net/callback.h"
#include "util/mem.h"

static void parse(const uint8_t *data, size_t size, const char *path)
{
	struct callback_result r;

	if (callback_parse_request(&r, (const char *)data, size, path) != 0)
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
	case CALLBACK_BAD_REQUEST:
	case CALLBACK_BAD_METHOD:
	case CALLBACK_NOT_FOUND:
		if (r.code || r.state || r.error || r.error_description)
			abort();
		break;
	case CALLBACK_INCOMPLETE:
		break;
	default:
		abort();
	}
	callback_result_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri, *host = NULL, *path = NULL;
	unsigned port = 0;

	parse(data, size, "/callback/");
	parse(data, size, "/");

	uri = ca_strndup((const char *)data, size);
	if (!uri)
		return 0;
	if (callback_parse_redirect_uri(&host, &port, &path, uri) == 0) {
		if (!host || !path || path[0] != '/' || port == 0 || port > 65535)
			abort();
		ca_free(host);
		ca_free(path);
	}
	ca_free(uri);
	return 0;
}
