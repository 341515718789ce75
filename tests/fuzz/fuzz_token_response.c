/*
 * ca_token_parse_response: the token endpoint's answer (M2M, code
 * exchange, refresh). The first byte picks the HTTP status; the rest is
 * the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token/token.h"
#include "util/error.h"

static const long statuses[] = { 200, 200, 200, 200, 201, 204, 302, 400, 401, 403, 429, 500, 503 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const int64_t now = 1700000000;
	struct ca_token tok;
	long status;
	int rc;

	if (size < 1)
		return 0;
	status = statuses[data[0] % (sizeof(statuses) / sizeof(*statuses))];
	data++;
	size--;

	ca_token_init(&tok);
	rc = ca_token_parse_response(&tok, (const char *)data, size, status, now);
	if (rc == 0) {
		if (status != 200 || !tok.access_token || !tok.access_token[0] ||
		    strpbrk(tok.access_token, "\r\n") || tok.expiration < now ||
		    (tok.refresh_token && strpbrk(tok.refresh_token, "\r\n")))
			abort();
		(void)ca_token_valid(&tok, now, 300);
	} else if (tok.access_token || tok.refresh_token) {
		abort(); /* nothing is kept from a failed answer */
	}
	if (rc != 0 && strpbrk(ca_error_message(), "\r\n"))
		abort(); /* one line */
	ca_token_clear(&tok);

	rc = ca_token_error_from_body(CA_EREFUSED, "refresh", (const char *)data, size, status);
	if (rc != CA_EREFUSED || strpbrk(ca_error_message(), "\r\n"))
		abort();
	return 0;
}
