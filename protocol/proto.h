/*
 * The key=value codec of git's credential-helper protocol.
 *
 * A message is a list of attributes in input order. Scalar keys keep
 * their last value; keys ending in "[]" form lists, and an empty value
 * clears the list. "url=" is expanded into protocol, host, path, username
 * and password. Unknown keys are kept and ignored by the callers.
 */
#ifndef CA_PROTO_H
#define CA_PROTO_H

#include <stddef.h>
#include <stdio.h>

#define PROTO_MAX_LINE 65535

struct proto_attr {
	char *key;
	char *value;
};

struct proto_msg {
	struct proto_attr *attrs;
	size_t count;
	size_t alloc;
};

void proto_msg_init(struct proto_msg *msg);
/* Wipes and frees every attribute; accepts a cleared message. */
void proto_msg_clear(struct proto_msg *msg);

/*
 * Reads lines until a blank line or end of input. A line longer than
 * PROTO_MAX_LINE bytes, a NUL byte, or a line without '=' is bad input
 * (CA_EINVAL, nothing kept). CRLF line ends are accepted.
 */
int proto_read(struct proto_msg *msg, FILE *in);

/* The same on a buffer (for tests and fuzzing). */
int proto_parse(struct proto_msg *msg, const char *buf, size_t len);

/* Applies one "key=value" line (without its line end). */
int proto_apply_line(struct proto_msg *msg, const char *line, size_t len);

/* The value of a scalar key, or NULL. */
const char *proto_get(const struct proto_msg *msg, const char *key);

/* Sets (replaces) a scalar key; value NULL removes it. */
int proto_set(struct proto_msg *msg, const char *key, const char *value);

/* Sets key only when the message does not carry it. */
int proto_set_default(struct proto_msg *msg, const char *key, const char *value);

/* Whether the list key ("capability[]") holds value. */
int proto_list_has(const struct proto_msg *msg, const char *key, const char *value);

/* A boolean key: 1 for true/yes/on/1, 0 for false/no/off/0, fallback if absent. */
int proto_get_bool(const struct proto_msg *msg, const char *key, int fallback);

/*
 * Writes "key=value\n". A value holding CR, LF or NUL, or a key holding
 * '=', is refused (CA_EINVAL) and nothing is written.
 */
int proto_write(FILE *out, const char *key, const char *value);

#endif
