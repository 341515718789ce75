/*
 * The device login's answers: ca_device_parse_auth on the device
 * authorization endpoint's body, ca_device_poll_kind on a poll's error
 * body. Whatever the server sends, the result is complete or empty, and
 * the message is one line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/net/device.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_device_auth da;
	int rc;

	memset(&da, 0, sizeof(da));
	rc = ca_device_parse_auth(&da, (const char *)data, size);
	if (rc == 0) {
		if (!da.device_code || !*da.device_code || !da.user_code || !*da.user_code ||
		    !da.verification_uri || !*da.verification_uri ||
		    strpbrk(da.device_code, "\r\n ") ||
		    strlen(da.user_code) > DEVICE_MAX_USER_CODE ||
		    da.interval < 1 || da.interval > DEVICE_MAX_INTERVAL || da.expires_in < 1)
			abort();
	} else if (da.device_code || da.user_code || da.verification_uri ||
		   da.verification_uri_complete || strpbrk(ca_error_message(), "\r\n")) {
		abort();
	}
	ca_device_auth_clear(&da);
	if ((unsigned)ca_device_poll_kind((const char *)data, size) > DEVICE_POLL_OTHER)
		abort();
	return 0;
}
