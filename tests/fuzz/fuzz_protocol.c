/*
 * proto_parse: git's key=value protocol as a helper reads it on stdin.
 *
 * Besides "no crash, no leak", checks what the codec promises: no value
 * holds a line feed, and a parsed message written back with proto_write
 * (when every value can be written) parses to the same attributes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto.h"
#include "util/mem.h"

static const char *const keys[] = {
	"protocol", "host", "path", "username", "password", "url", "mode",
	"credentials_file", "client_id", "client_secret", "api_base_url",
	"use_cache", "open_browser", "capability[]", "wwwauth[]", "authtype",
	"credential", "password_expiry_utc", "oauth_refresh_token", "state[]",
};

static void roundtrip(const struct proto_msg *msg)
{
	struct proto_msg again;
	char *text = NULL;
	size_t len = 0, i;
	FILE *out;

	out = open_memstream(&text, &len);
	if (!out)
		return;
	for (i = 0; i < msg->count; i++) {
		if (proto_write(out, msg->attrs[i].key, msg->attrs[i].value) != 0) {
			/* a CR in a key or value: refused by design */
			fclose(out);
			free(text);
			return;
		}
	}
	fclose(out);

	proto_msg_init(&again);
	if (proto_parse(&again, text, len) != 0)
		abort();
	if (again.count != msg->count)
		abort();
	for (i = 0; i < msg->count; i++)
		if (strcmp(again.attrs[i].key, msg->attrs[i].key) ||
		    strcmp(again.attrs[i].value, msg->attrs[i].value))
			abort();
	proto_msg_clear(&again);
	ca_wipe(text, len);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg msg;
	size_t i;

	proto_msg_init(&msg);
	if (proto_parse(&msg, (const char *)data, size) == 0) {
		for (i = 0; i < msg.count; i++) {
			if (!msg.attrs[i].key || !msg.attrs[i].value || !msg.attrs[i].key[0])
				abort();
			if (strchr(msg.attrs[i].value, '\n') || strchr(msg.attrs[i].key, '\n'))
				abort();
			if (!strcmp(msg.attrs[i].key, "url"))
				abort(); /* always expanded */
		}
		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
			(void)proto_get(&msg, keys[i]);
			(void)proto_get_bool(&msg, keys[i], 1);
		}
		(void)proto_list_has(&msg, "capability[]", "authtype");
		(void)proto_list_has(&msg, "capability[]", "state");
		roundtrip(&msg);
		/* the setters on a message of arbitrary shape */
		(void)proto_set_default(&msg, "protocol", "https");
		(void)proto_set(&msg, "password", NULL);
		(void)proto_set(&msg, "host", "example.com");
	}
	proto_msg_clear(&msg);
	return 0;
}
