#include "protocol/proto.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/text.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* No attribute (the end of a key's chain). */
#define NONE ((size_t)-1)

/* A distinct key of a message and its last live attribute. */
struct proto_key {
	char *key;
	size_t last;
};

void ca_proto_msg_init(struct proto_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
}

static void attr_clear(struct proto_attr *attr)
{
	ca_clear_ptr(&attr->key);
	ca_clear_ptr(&attr->value);
}

static void key_free(void *node)
{
	struct proto_key *k = node;

	ca_free(k->key);
	ca_free(k);
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct proto_key *)a)->key, ((const struct proto_key *)b)->key);
}

static void keys_destroy(struct proto_msg *msg)
{
	if (msg->keys)
		tdestroy(msg->keys, key_free);
	msg->keys = NULL;
}

void ca_proto_msg_clear(struct proto_msg *msg)
{
	size_t i;

	if (!msg)
		return;
	for (i = 0; i < msg->count; i++)
		attr_clear(&msg->attrs[i]);
	ca_free(msg->attrs);
	ca_free(msg->prev);
	keys_destroy(msg);
	ca_proto_msg_init(msg);
}

static struct proto_key *key_find(const struct proto_msg *msg, const char *key)
{
	struct proto_key probe = { (char *)key, NONE };
	void *const *node = tfind(&probe, &msg->keys, key_cmp);

	return node ? *(struct proto_key *const *)node : NULL;
}

static struct proto_key *key_add(struct proto_msg *msg, const char *key)
{
	struct proto_key *k = key_find(msg, key);
	void **node;

	if (k)
		return k;
	k = ca_malloc(sizeof(*k));
	if (!k)
		return NULL;
	k->key = ca_strdup(key);
	k->last = NONE;
	node = k->key ? tsearch(k, &msg->keys, key_cmp) : NULL;
	if (!node) {
		key_free(k);
		return NULL;
	}
	return k;
}

/* Drops the removed attributes and rebuilds the index: O(n log n). */
static int compact(struct proto_msg *msg)
{
	struct proto_key *k;
	size_t i, j = 0;

	if (!msg->dead)
		return 0;
	for (i = 0; i < msg->count; i++)
		if (msg->attrs[i].key)
			msg->attrs[j++] = msg->attrs[i];
	msg->count = j;
	msg->dead = 0;
	keys_destroy(msg);
	for (i = 0; i < msg->count; i++) {
		if (!(k = key_add(msg, msg->attrs[i].key)))
			return ca_error(CA_ERR, "out of memory");
		msg->prev[i] = k->last;
		k->last = i;
	}
	return 0;
}

static int is_list_key(const char *key, size_t len)
{
	return len >= 2 && key[len - 2] == '[' && key[len - 1] == ']';
}

/* Removes every attribute with key; costs the number removed. */
static void remove_key(struct proto_msg *msg, const char *key)
{
	struct proto_key *k = key_find(msg, key);
	size_t i;

	if (!k)
		return;
	for (i = k->last; i != NONE; i = msg->prev[i]) {
		attr_clear(&msg->attrs[i]);
		msg->dead++;
	}
	k->last = NONE;
}

static int append(struct proto_msg *msg, const char *key, const char *value, size_t vlen)
{
	struct proto_attr *attr;
	struct proto_key *k;

	if (msg->count == msg->alloc) {
		size_t alloc = msg->alloc ? msg->alloc * 2 : 16;
		struct proto_attr *grown = ca_realloc(msg->attrs, alloc * sizeof(*grown));
		size_t *prev;

		if (!grown)
			return ca_error(CA_ERR, "out of memory");
		msg->attrs = grown;
		prev = ca_realloc(msg->prev, alloc * sizeof(*prev));
		if (!prev)
			return ca_error(CA_ERR, "out of memory");
		msg->prev = prev;
		msg->alloc = alloc;
	}
	if (!(k = key_add(msg, key)))
		return ca_error(CA_ERR, "out of memory");
	attr = &msg->attrs[msg->count];
	attr->key = ca_strdup(key);
	attr->value = ca_strndup(value, vlen);
	if (!attr->key || !attr->value) {
		attr_clear(attr);
		return ca_error(CA_ERR, "out of memory");
	}
	msg->prev[msg->count] = k->last;
	k->last = msg->count++;
	return 0;
}

int ca_proto_set(struct proto_msg *msg, const char *key, const char *value)
{
	int error = 0;

	remove_key(msg, key);
	if (value)
		error = append(msg, key, value, strlen(value));
	return compact(msg) ? CA_ERR : error;
}

int ca_proto_set_default(struct proto_msg *msg, const char *key, const char *value)
{
	if (!value || ca_proto_get(msg, key))
		return 0;
	return ca_proto_set(msg, key, value);
}

/* Sets key to value[0..len), or removes it when !present. */
static int set_part(struct proto_msg *msg, const char *key, const char *value,
	size_t len, int present)
{
	remove_key(msg, key);
	if (!present)
		return 0;
	return append(msg, key, value, len);
}

/*
 * Sets key to the percent-decoded text[0..len), as git's url_decode_mem:
 * "%XX" becomes its byte, except %00; a bad or short escape stays as it
 * is; '+' stays '+'. For the path (is_path), what comes before a first
 * ':' stays undecoded (git's url_decode) and trailing slashes go. A decoded line
 * break is refused (git refuses a newline; a carriage return could not be
 * written back either); the message names the part, never the value.
 */
static int set_decoded(struct proto_msg *msg, const char *key, const char *text,
	size_t len, int is_path)
{
	const char *colon = is_path ? memchr(text, ':', len) : NULL;
	char *out = ca_malloc(len + 1);
	size_t i = 0, o = 0;
	int hi, lo, error;

	if (!out)
		return ca_error(CA_ERR, "out of memory");
	if (colon && colon > text)
		for (; text + i < colon; i++)
			out[o++] = text[i];
	while (i < len) {
		if (text[i] == '%' && len - i >= 3 && (hi = ca_hex_digit(text[i + 1])) >= 0 &&
		    (lo = ca_hex_digit(text[i + 2])) >= 0 && (hi || lo)) {
			out[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			out[o++] = text[i++];
		}
	}
	while (is_path && o > 1 && out[o - 1] == '/')
		o--; /* the path's trailing slashes, decoded ones too */
	out[o] = '\0';
	if (memchr(out, '\n', o) || memchr(out, '\r', o))
		error = ca_error(CA_EINVAL, "bad input: url has a line break in its %s", key);
	else
		error = set_part(msg, key, out, o, 1);
	ca_free(out); /* wiped: it may be the password */
	return error;
}

/*
 * url=proto://[user[:password]@]host[:port][/path]: as git's
 * credential_from_url reads it, the URL replaces protocol, username,
 * password, host and path. The host ends at the first '/', '?' or '#';
 * the first '@' before it ends the user-info, and the first ':' before
 * that the user. User, password, host and path are percent-decoded; the
 * path is what follows the host (a query included), without its leading
 * and trailing slashes.
 */
static int expand_url(struct proto_msg *msg, const char *url, size_t len)
{
	const char *end = url + len, *sep, *auth, *host, *at, *colon, *slash, *path;
	int error;

	sep = memmem(url, len, "://", 3);
	if (!sep || sep == url)
		return ca_error(CA_EINVAL, "bad input: url has no protocol");
	auth = sep + 3;
	for (slash = auth; slash < end && !strchr("/?#", *slash); slash++)
		;
	at = memchr(auth, '@', (size_t)(end - auth));
	host = at && at < slash ? at + 1 : auth;

	if ((error = set_part(msg, "protocol", url, (size_t)(sep - url), 1)))
		return error;
	remove_key(msg, "username");
	remove_key(msg, "password");
	if (host > auth) {
		colon = memchr(auth, ':', (size_t)(end - auth));
		if (colon && colon > at)
			colon = NULL;
		if ((error = set_decoded(msg, "username", auth,
			(size_t)((colon ? colon : at) - auth), 0)))
			return error;
		if (colon && (error = set_decoded(msg, "password", colon + 1,
			(size_t)(at - colon - 1), 0)))
			return error;
	}
	if ((error = set_decoded(msg, "host", host, (size_t)(slash - host), 0)))
		return error;
	path = slash;
	while (path < end && *path == '/')
		path++;
	if (path < end)
		return set_decoded(msg, "path", path, (size_t)(end - path), 1);
	remove_key(msg, "path");
	return 0;
}

/* proto_apply_line without the compaction (readers compact once). */
static int apply_line(struct proto_msg *msg, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	size_t klen, vlen;
	char *key;
	int error = 0;

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
	key = ca_strndup(line, klen);
	if (!key)
		return ca_error(CA_ERR, "out of memory");
	if (is_list_key(line, klen)) {
		/* key[]=value appends; an empty key[]= clears the list */
		if (vlen)
			error = append(msg, key, eq + 1, vlen);
		else
			remove_key(msg, key);
	} else {
		/* a scalar: the last value wins */
		remove_key(msg, key);
		error = append(msg, key, eq + 1, vlen);
	}
	ca_free(key);
	return error;
}

int ca_proto_apply_line(struct proto_msg *msg, const char *line, size_t len)
{
	int error = apply_line(msg, line, len);

	return compact(msg) ? CA_ERR : error;
}

int ca_proto_parse(struct proto_msg *msg, const char *buf, size_t len)
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
		if ((error = apply_line(msg, buf, llen)))
			goto out;
		if (!nl)
			break;
		buf = nl + 1;
	}
	error = compact(msg);
out:
	if (error)
		ca_proto_msg_clear(msg);
	return error;
}

int ca_proto_read(struct proto_msg *msg, FILE *in)
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
		if ((error = apply_line(msg, line, len)))
			goto out;
		if (c == EOF)
			break;
	}
	error = compact(msg);
out:
	if (error)
		ca_proto_msg_clear(msg);
	ca_free(line); /* wiped: it held secrets */
	return error;
}

const char *ca_proto_get(const struct proto_msg *msg, const char *key)
{
	const struct proto_key *k = key_find(msg, key);

	return k && k->last != NONE ? msg->attrs[k->last].value : NULL;
}

int ca_proto_list_has(const struct proto_msg *msg, const char *key, const char *value)
{
	const struct proto_key *k = key_find(msg, key);
	size_t i;

	for (i = k ? k->last : NONE; i != NONE; i = msg->prev[i])
		if (!strcmp(msg->attrs[i].value, value))
			return 1;
	return 0;
}

int ca_proto_get_bool(const struct proto_msg *msg, const char *key, int fallback)
{
	const char *v = ca_proto_get(msg, key);

	if (!v)
		return fallback;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0"))
		return 0;
	return -1;
}

int ca_proto_write(FILE *out, const char *key, const char *value)
{
	if (!value)
		return 0;
	if (!*key || strchr(key, '=') || !ca_text_printable(key))
		return ca_error(CA_ERR, "refusing to print the key %s", key);
	if (!ca_text_printable(value))
		return ca_error(CA_ERR, "refusing to print %s: its value holds a control character, "
			"a Unicode line separator or invalid UTF-8", key);
	fputs(key, out);
	fputc('=', out);
	fputs(value, out);
	fputc('\n', out);
	return 0;
}

int ca_proto_msg_check_printable(const struct proto_msg *msg)
{
	const struct proto_attr *attr;
	size_t i;

	for (i = 0; i < msg->count; i++) {
		attr = &msg->attrs[i];
		if (is_list_key(attr->key, strlen(attr->key)))
			continue;
		if (!ca_text_printable(attr->key))
			return ca_error(CA_EINVAL, "bad input: a key holds a control character, "
				"a Unicode line separator or invalid UTF-8");
		if (!ca_text_printable(attr->value))
			return ca_error(CA_EINVAL, "bad input: the value of %s holds a control "
				"character, a Unicode line separator or invalid UTF-8; it could not be "
				"printed back, so it is not stored", attr->key);
	}
	return 0;
}
