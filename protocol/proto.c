#include "protocol/proto.h"

#include "util/error.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void proto_msg_init(struct proto_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
}

static void attr_clear(struct proto_attr *attr)
{
	ca_clear_ptr(&attr->key);
	ca_clear_ptr(&attr->value);
}

void proto_msg_clear(struct proto_msg *msg)
{
	size_t i;

	if (!msg)
		return;
	for (i = 0; i < msg->count; i++)
		attr_clear(&msg->attrs[i]);
	ca_free(msg->attrs);
	proto_msg_init(msg);
}

static int is_list_key(const char *key, size_t len)
{
	return len >= 2 && key[len - 2] == '[' && key[len - 1] == ']';
}

static void remove_key(struct proto_msg *msg, const char *key)
{
	size_t i = 0;

	while (i < msg->count) {
		if (!strcmp(msg->attrs[i].key, key)) {
			attr_clear(&msg->attrs[i]);
			memmove(&msg->attrs[i], &msg->attrs[i + 1],
				(msg->count - i - 1) * sizeof(*msg->attrs));
			msg->count--;
		} else {
			i++;
		}
	}
}

static int append(struct proto_msg *msg, const char *key, size_t klen,
	const char *value, size_t vlen)
{
	struct proto_attr *attr;

	if (msg->count == msg->alloc) {
		size_t alloc = msg->alloc ? msg->alloc * 2 : 16;
		struct proto_attr *grown = ca_realloc(msg->attrs, alloc * sizeof(*grown));

		if (!grown)
			return ca_error(CA_ERR, "out of memory");
		msg->attrs = grown;
		msg->alloc = alloc;
	}
	attr = &msg->attrs[msg->count];
	attr->key = ca_strndup(key, klen);
	attr->value = ca_strndup(value, vlen);
	if (!attr->key || !attr->value) {
		attr_clear(attr);
		return ca_error(CA_ERR, "out of memory");
	}
	msg->count++;
	return 0;
}

int proto_set(struct proto_msg *msg, const char *key, const char *value)
{
	remove_key(msg, key);
	if (!value)
		return 0;
	return append(msg, key, strlen(key), value, strlen(value));
}

int proto_set_default(struct proto_msg *msg, const char *key, const char *value)
{
	if (!value || proto_get(msg, key))
		return 0;
	return proto_set(msg, key, value);
}

/* Sets key to value[0..len) or removes it when len is 0 and !keep_empty. */
static int set_part(struct proto_msg *msg, const char *key, const char *value,
	size_t len, int present)
{
	remove_key(msg, key);
	if (!present)
		return 0;
	return append(msg, key, strlen(key), value, len);
}

/*
 * url=proto://[user[:password]@]host[:port][/path]: as git does, the URL
 * replaces protocol, username, password, host and path.
 */
static int expand_url(struct proto_msg *msg, const char *url, size_t len)
{
	const char *end = url + len, *sep, *auth, *host, *colon, *slash;
	int error;

	sep = memmem(url, len, "://", 3);
	if (!sep)
		return ca_error(CA_EINVAL, "bad input: url has no protocol");
	auth = sep + 3;
	slash = memchr(auth, '/', (size_t)(end - auth));
	if (!slash)
		slash = end;
	host = memrchr(auth, '@', (size_t)(slash - auth));
	host = host ? host + 1 : auth;

	if ((error = set_part(msg, "protocol", url, (size_t)(sep - url), 1)))
		return error;
	if (host > auth) {
		colon = memchr(auth, ':', (size_t)(host - 1 - auth));
		if ((error = set_part(msg, "username", auth,
			(size_t)((colon ? colon : host - 1) - auth), 1)))
			return error;
		if ((error = set_part(msg, "password", colon ? colon + 1 : "",
			colon ? (size_t)(host - 1 - colon - 1) : 0, colon != NULL)))
			return error;
	} else {
		remove_key(msg, "username");
		remove_key(msg, "password");
	}
	if ((error = set_part(msg, "host", host, (size_t)(slash - host), 1)))
		return error;
	if (slash < end && slash + 1 < end)
		return set_part(msg, "path", slash + 1, (size_t)(end - slash - 1), 1);
	remove_key(msg, "path");
	return 0;
}

int proto_apply_line(struct proto_msg *msg, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	size_t klen, vlen;
	char *key;
	int error;

	if (memchr(line, '\0', len))
		return ca_error(CA_EINVAL, "bad input: NUL byte in a line");
	if (len > PROTO_MAX_LINE)
		return ca_error(CA_EINVAL, "bad input: line longer than %d bytes", PROTO_MAX_LINE);
	if (!eq)
		return ca_error(CA_EINVAL, "bad input: line without '=' (expected key=value)");
	klen = (size_t)(eq - line);
	vlen = len - klen - 1;
	if (klen == 0)
		return ca_error(CA_EINVAL, "bad input: line with an empty key");

	if (klen == 3 && !memcmp(line, "url", 3))
		return expand_url(msg, eq + 1, vlen);
	if (is_list_key(line, klen)) {
		if (vlen)
			return append(msg, line, klen, eq + 1, vlen);
		key = ca_strndup(line, klen);
		if (!key)
			return ca_error(CA_ERR, "out of memory");
		remove_key(msg, key);
		ca_free(key);
		return 0;
	}
	key = ca_strndup(line, klen);
	if (!key)
		return ca_error(CA_ERR, "out of memory");
	remove_key(msg, key);
	error = append(msg, line, klen, eq + 1, vlen);
	ca_free(key);
	return error;
}

int proto_parse(struct proto_msg *msg, const char *buf, size_t len)
{
	const char *end = buf + len, *nl;
	size_t llen;
	int error;

	while (buf < end) {
		nl = memchr(buf, '\n', (size_t)(end - buf));
		llen = (size_t)((nl ? nl : end) - buf);
		if (llen && buf[llen - 1] == '\r')
			llen--;
		if (llen == 0)
			break; /* a blank line ends the message */
		if ((error = proto_apply_line(msg, buf, llen))) {
			proto_msg_clear(msg);
			return error;
		}
		if (!nl)
			break;
		buf = nl + 1;
	}
	return 0;
}

int proto_read(struct proto_msg *msg, FILE *in)
{
	char *line = ca_malloc(PROTO_MAX_LINE + 2);
	size_t len;
	int c, error = 0;

	if (!line)
		return ca_error(CA_ERR, "out of memory");
	for (;;) {
		len = 0;
		while ((c = getc_unlocked(in)) != EOF && c != '\n') {
			if (len > PROTO_MAX_LINE) {
				error = ca_error(CA_EINVAL, "bad input: line longer than %d bytes",
					PROTO_MAX_LINE);
				goto out;
			}
			line[len++] = (char)c;
		}
		if (len && line[len - 1] == '\r')
			len--;
		if (len == 0)
			break; /* blank line or end of input */
		if ((error = proto_apply_line(msg, line, len)))
			goto out;
		if (c == EOF)
			break;
	}
out:
	if (error)
		proto_msg_clear(msg);
	ca_free(line); /* wiped: it held secrets */
	return error;
}

const char *proto_get(const struct proto_msg *msg, const char *key)
{
	size_t i;

	for (i = msg->count; i-- > 0;)
		if (!strcmp(msg->attrs[i].key, key))
			return msg->attrs[i].value;
	return NULL;
}

int proto_list_has(const struct proto_msg *msg, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < msg->count; i++)
		if (!strcmp(msg->attrs[i].key, key) && !strcmp(msg->attrs[i].value, value))
			return 1;
	return 0;
}

int proto_get_bool(const struct proto_msg *msg, const char *key, int fallback)
{
	const char *v = proto_get(msg, key);

	if (!v)
		return fallback;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0"))
		return 0;
	return -1;
}

int proto_write(FILE *out, const char *key, const char *value)
{
	if (!value)
		return 0;
	if (strpbrk(key, "=\r\n") || strpbrk(value, "\r\n"))
		return ca_error(CA_EINVAL, "refusing to write %s: the value holds a line break", key);
	fputs(key, out);
	fputc('=', out);
	fputs(value, out);
	fputc('\n', out);
	return 0;
}
