/*
 * proto_parse: git's key=value protocol as a helper reads it on stdin.
 *
 * Besides "no crash, no leak", checks what the codec promises: no value
 * holds a line feed; proto_write accepts exactly the keys and values
 * util/text.h calls printable, and proto_msg_check_printable agrees with
 * it; a parsed message written back with ca_proto_write (when every value
 * can be written) parses to the same attributes; the terminal escaper
 * (ca_text_escape, ca_text_put_line) never lets an unsafe character or
 * a bidirectional control through, and leaves other printable text as it
 * is.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto.h"
#include "util/mem.h"
#include "util/text.h"

static const char *const keys[] = {
	"protocol", "host", "path", "username", "password", "url", "mode",
	"credentials_file", "client_id", "client_secret", "api_base_url",
	"use_cache", "open_browser", "capability[]", "wwwauth[]", "authtype",
	"credential", "password_expiry_utc", "oauth_refresh_token", "state[]",
};

/* The writer's rule, spelled out independently of util/text.c. */
static int writable(const char *key, const char *value)
{
	return *key && !strchr(key, '=') && ca_text_printable(key) && ca_text_printable(value);
}

/*
 * Whether s holds a bidirectional control, by its UTF-8 bytes: U+061C
 * (d8 9c), U+200E/U+200F (e2 80 8e/8f), U+202A-U+202E (e2 80 aa-ae),
 * U+2066-U+2069 (e2 81 a6-a9). Spelled out apart from util/text.c.
 */
static int has_bidi(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (p[0] == 0xd8 && p[1] == 0x9c)
			return 1;
		if (p[0] != 0xe2 || !p[1] || !p[2])
			continue;
		if (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae)))
			return 1;
		if (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
			return 1;
	}
	return 0;
}

static void check_escaper(const char *s)
{
	char out[256], *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	n = ca_text_escape(out, sizeof(out), s);
	if (n != strlen(out) || !ca_text_printable(out))
		abort();
	if (has_bidi(out))
		abort(); /* a terminal never gets one */
	if (ca_text_printable(s) && !has_bidi(s) && strlen(s) < sizeof(out) && strcmp(out, s))
		abort(); /* other printable text is shown as it is */
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	ca_text_put_line(f, s);
	fclose(f);
	if (!len || buf[len - 1] != '\n')
		abort();
	buf[len - 1] = '\0';
	if (!ca_text_printable(buf) || (len - 1 < sizeof(out) && strcmp(buf, out)))
		abort();
	free(buf);
}

static void check_writer(const struct proto_msg *msg)
{
	char *text = NULL;
	size_t len = 0, i;
	int all_scalars_ok = 1, rc;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return;
	for (i = 0; i < msg->count; i++) {
		const char *k = msg->attrs[i].key, *v = msg->attrs[i].value;
		size_t klen = strlen(k);

		rc = ca_proto_write(out, k, v);
		if ((rc == 0) != writable(k, v))
			abort();
		if (!(klen >= 2 && !strcmp(k + klen - 2, "[]")) &&
		    !(ca_text_printable(k) && ca_text_printable(v)))
			all_scalars_ok = 0;
		check_escaper(k);
		check_escaper(v);
	}
	fclose(out);
	if ((ca_proto_msg_check_printable(msg) == 0) != all_scalars_ok)
		abort();
	/* nothing unsafe ever reached the output */
	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			text[i] = ' ';
	if (!ca_text_printable(text))
		abort();
	ca_wipe(text, len);
	free(text);
}

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
		if (ca_proto_write(out, msg->attrs[i].key, msg->attrs[i].value) != 0) {
			/* a control character in a key or value: refused by design */
			fclose(out);
			free(text);
			return;
		}
	}
	fclose(out);

	ca_proto_msg_init(&again);
	if (ca_proto_parse(&again, text, len) != 0)
		abort();
	if (again.count != msg->count)
		abort();
	for (i = 0; i < msg->count; i++)
		if (strcmp(again.attrs[i].key, msg->attrs[i].key) ||
		    strcmp(again.attrs[i].value, msg->attrs[i].value))
			abort();
	ca_proto_msg_clear(&again);
	ca_wipe(text, len);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg msg;
	size_t i;

	ca_proto_msg_init(&msg);
	if (ca_proto_parse(&msg, (const char *)data, size) == 0) {
		for (i = 0; i < msg.count; i++) {
			if (!msg.attrs[i].key || !msg.attrs[i].value || !msg.attrs[i].key[0])
				abort();
			if (strchr(msg.attrs[i].value, '\n') || strchr(msg.attrs[i].key, '\n'))
				abort();
			if (!strcmp(msg.attrs[i].key, "url"))
				abort(); /* always expanded */
		}
		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
			(void)ca_proto_get(&msg, keys[i]);
			(void)ca_proto_get_bool(&msg, keys[i], 1);
		}
		(void)ca_proto_list_has(&msg, "capability[]", "authtype");
		(void)ca_proto_list_has(&msg, "capability[]", "state");
		check_writer(&msg);
		roundtrip(&msg);
		/* the setters on a message of arbitrary shape */
		(void)ca_proto_set_default(&msg, "protocol", "https");
		(void)ca_proto_set(&msg, "password", NULL);
		(void)ca_proto_set(&msg, "host", "example.com");
	}
	ca_proto_msg_clear(&msg);
	return 0;
}
