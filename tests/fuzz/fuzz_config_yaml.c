/*
 * discover_parse_config_yaml: the tenant's config.yaml, fetched after an
 * OAuth login, whose apis.baseUrl becomes the API base URL. The same bytes
 * are also read as the accounts endpoint's answer that comes before it
 * (discover_parse_accounts, JSON, which is YAML's flow style too).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/config.h"
#include "auth/net/discover.h"
#include "util/error.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = NULL;
	int rc;

	rc = ca_discover_parse_config_yaml(&url, (const char *)data, size);
	if (rc == 0) {
		if (!url || !ca_url_allowed(url) || strpbrk(url, " \t\r\n?#"))
			abort();
		ca_free(url);
	} else if (url || strpbrk(ca_error_message(), "\r\n")) {
		abort();
	}

	url = NULL;
	rc = ca_discover_parse_accounts(&url, (const char *)data, size);
	if (rc == 0) {
		if (!url || !url[0] || strpbrk(url, "/?#@ \t\r\n"))
			abort();
		ca_free(url);
	} else if (url || strpbrk(ca_error_message(), "\r\n")) {
		abort();
	}
	return 0;
}
