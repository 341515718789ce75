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

/*
 * attrs[0..count) are the live attributes in input order whenever a
 * proto_* function returns. The rest is a private index that keeps every
 * operation near O(log n), so the cost of reading a message is linear in
 * its size: a tree of the distinct keys, each naming its last attribute,
 * and per attribute the previous one with the same key.
 */
struct proto_msg {
	struct proto_attr *attrs;
	size_t count;
	size_t alloc;
	void *keys;   /* tsearch() tree of struct proto_key */
	size_t *prev; /* prev[i]: the attribute before i with the same key, or none */
	size_t dead;  /* attributes removed (key NULL) since the last compaction */
};

void ca_proto_msg_init(struct proto_msg *msg);
/* Wipes and frees every attribute; accepts a cleared message. */
void ca_proto_msg_clear(struct proto_msg *msg);

/*
 * Reads lines until a blank line or end of input. A line longer than
 * PROTO_MAX_LINE bytes, a NUL byte, or a line without '=' is bad input
 * (CA_EINVAL, nothing kept). CRLF line ends are accepted.
 */
int ca_proto_read(struct proto_msg *msg, FILE *in);

/* The same on a buffer (for tests and fuzzing). */
int ca_proto_parse(struct proto_msg *msg, const char *buf, size_t len);

/* Applies one "key=value" line (without its line end). */
int ca_proto_apply_line(struct proto_msg *msg, const char *line, size_t len);

/* The value of a scalar key, or NULL. */
const char *ca_proto_get(const struct proto_msg *msg, const char *key);

/* Sets (replaces) a scalar key; value NULL removes it. */
int ca_proto_set(struct proto_msg *msg, const char *key, const char *value);

/* Sets key only when the message does not carry it. */
int ca_proto_set_default(struct proto_msg *msg, const char *key, const char *value);

/* Whether the list key ("capability[]") holds value. */
int ca_proto_list_has(const struct proto_msg *msg, const char *key, const char *value);

/* A boolean key: 1 for true/yes/on/1, 0 for false/no/off/0, fallback if absent. */
int ca_proto_get_bool(const struct proto_msg *msg, const char *key, int fallback);

/*
 * Writes "key=value\n", the one place every protocol answer goes through.
 * A value that holds a character util/text.h calls unsafe (C0 controls
 * with tab, CR and LF, DEL, C1 controls, U+2028, U+2029, invalid UTF-8),
 * or a key that does or holds '=', is refused (CA_ERR, a message naming
 * the key, never the value) and nothing is written. A NULL value writes
 * nothing. Callers print an answer whole or not at all: they write into a
 * buffer and print it only when every line was accepted.
 */
int ca_proto_write(FILE *out, const char *key, const char *value);

/*
 * Whether every scalar attribute of msg could be written back by
 * proto_write: 0, or CA_EINVAL with a message naming the first key that
 * could not ("bad input: ..."). List keys ("capability[]") are not
 * checked: they are never stored nor printed back.
 */
int ca_proto_msg_check_printable(const struct proto_msg *msg);

#endif
