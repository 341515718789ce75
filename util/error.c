#include "util/error.h"

#include "util/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[1024];
static _Thread_local int last_code;
static _Thread_local enum ca_error_reason last_reason;
static ca_debug_sink debug_sink;

/*
 * Makes a message one line that is safe on a terminal, whoever prints it
 * (the executable, or a program using the library): line breaks become
 * spaces, and any other control character, line separator or stray byte
 * from outside text (a path, a URL, a server's words) is escaped
 * (util/text.h), truncated to the buffer.
 */
static void flatten_sized(char *s, size_t size)
{
	char escaped[2048];
	char *p;

	for (p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (ca_text_printable(s))
		return;
	ca_text_escape(escaped, size < sizeof(escaped) ? size : sizeof(escaped), s);
	memcpy(s, escaped, strlen(escaped) + 1);
}

#define flatten(buf) flatten_sized((buf), sizeof(buf))

int ca_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	flatten(last_message);
	last_code = code;
	last_reason = CA_REASON_NONE;
	ca_debug("error: %s", last_message);
	return code;
}

int ca_error_prefix(const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, last_message, sizeof(old));
	snprintf(last_message, sizeof(last_message), "%.500s: %.500s", prefix, old);
	flatten(last_message);
	return last_code;
}

void ca_error_clear(void)
{
	last_message[0] = '\0';
	last_code = 0;
	last_reason = CA_REASON_NONE;
}

const char *ca_error_message(void)
{
	return last_message;
}

int ca_error_code(void)
{
	return last_code;
}

int ca_error_set_reason(enum ca_error_reason reason)
{
	last_reason = reason;
	return last_code;
}

enum ca_error_reason ca_error_reason(void)
{
	return last_reason;
}

/* Every reason but NONE and OTHER by name: OAuth's codes, then ours. */
static const struct {
	const char *name;
	enum ca_error_reason reason;
} reason_names[] = {
	{ "invalid_request", CA_REASON_INVALID_REQUEST },
	{ "invalid_client", CA_REASON_INVALID_CLIENT },
	{ "invalid_grant", CA_REASON_INVALID_GRANT },
	{ "unauthorized_client", CA_REASON_UNAUTHORIZED_CLIENT },
	{ "unsupported_grant_type", CA_REASON_UNSUPPORTED_GRANT_TYPE },
	{ "invalid_scope", CA_REASON_INVALID_SCOPE },
	{ "access_denied", CA_REASON_ACCESS_DENIED },
	{ "too_many_requests", CA_REASON_TOO_MANY_REQUESTS },
	{ "server_error", CA_REASON_SERVER_ERROR },
	{ "temporarily_unavailable", CA_REASON_TEMPORARILY_UNAVAILABLE },
	{ "unreachable", CA_REASON_UNREACHABLE },
	{ "credentials_not_found", CA_REASON_CREDENTIALS_NOT_FOUND },
	{ "credentials_not_json", CA_REASON_CREDENTIALS_NOT_JSON },
	{ "missing_attribute", CA_REASON_MISSING_ATTRIBUTE },
	{ "missing_value", CA_REASON_MISSING_VALUE },
};

enum ca_error_reason ca_error_reason_parse(const char *oauth_error)
{
	size_t i;

	if (!oauth_error)
		return CA_REASON_NONE;
	/* Only OAuth's own codes: a server cannot claim a local cause. */
	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
		if (reason_names[i].reason <= CA_REASON_TEMPORARILY_UNAVAILABLE &&
		    !strcmp(oauth_error, reason_names[i].name))
			return reason_names[i].reason;
	return CA_REASON_OTHER;
}

const char *ca_error_reason_name(enum ca_error_reason reason)
{
	size_t i;

	if (reason == CA_REASON_OTHER)
		return "other";
	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
		if (reason_names[i].reason == reason)
			return reason_names[i].name;
	return NULL;
}

void ca_debug_set_sink(ca_debug_sink sink)
{
	debug_sink = sink;
}

int ca_debug_enabled(void)
{
	return debug_sink != NULL;
}

void ca_debug(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!debug_sink)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	flatten(line);
	debug_sink(line);
}

static ca_warn_sink warn_sink;
static ca_warn_sink notice_sink;

void ca_warn_set_sink(ca_warn_sink sink)
{
	warn_sink = sink;
}

void ca_notice_set_sink(ca_warn_sink sink)
{
	notice_sink = sink;
}

/* Formats one line for a person, traces it, and hands it to the sink. */
__attribute__((format(printf, 3, 0)))
static void say(ca_warn_sink sink, const char *kind, const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	flatten(line);
	ca_debug("%s: %s", kind, line);
	if (sink)
		sink(line);
}

void ca_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(warn_sink, "warning", fmt, ap);
	va_end(ap);
}

void ca_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(notice_sink, "notice", fmt, ap);
	va_end(ap);
}
