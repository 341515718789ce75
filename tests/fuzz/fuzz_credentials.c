/*
 * ca_config_parse_credentials: an M2M credentials file downloaded from the
 * CARTO dashboard ({"api_base_url", "client_id", "client_secret"}).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/config.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_config cfg;
	char tag[40];
	int rc;

	ca_config_init(&cfg);
	cfg.mode = CA_MODE_M2M;
	rc = ca_config_parse_credentials(&cfg, (const char *)data, size, "fuzz.json");
	if (rc == 0) {
		if (!cfg.client_id || !cfg.client_id[0] || !cfg.client_secret ||
		    !cfg.client_secret[0] || !ca_url_allowed(cfg.api_base_url) ||
		    strpbrk(cfg.client_secret, "\r\n") || strpbrk(cfg.client_id, "\r\n"))
			abort();
		ca_config_identity_tag(&cfg, tag);
		if (memchr(tag, '\0', sizeof(tag)) == NULL)
			abort();
		/* a second file over the first: the old values are replaced */
		(void)ca_config_parse_credentials(&cfg, (const char *)data, size, "again.json");
	}
	ca_config_clear(&cfg);
	return 0;
}
