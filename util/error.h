/* Error codes and the per-thread "last error" message (libgit2 style). */
#ifndef CA_UTIL_ERROR_H
#define CA_UTIL_ERROR_H

#include "carto-auth/carto_auth.h"

#define CA_OK CARTO_AUTH_OK
#define CA_ERR CARTO_AUTH_ERROR
#define CA_ENOTFOUND CARTO_AUTH_ENOTFOUND
#define CA_EINVAL CARTO_AUTH_EINVAL
#define CA_ENET CARTO_AUTH_ENET
#define CA_EREFUSED CARTO_AUTH_EREFUSED
#define CA_EKEYRING CARTO_AUTH_EKEYRING
#define CA_ELOGIN CARTO_AUTH_ELOGIN

/*
 * Records a one-line message for the current thread and returns code, so
 * callers can write "return ca_error(CA_EINVAL, ...)". The message must
 * never contain a secret; newlines are replaced by spaces and any other
 * control character, line separator or invalid UTF-8 is escaped ("\x1b",
 * util/text.h), as in debug lines, warnings and notices: no message can
 * drive a terminal, whoever prints it.
 */
int ca_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to the current message, keeping its code. */
int ca_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void ca_error_clear(void);
const char *ca_error_message(void);
int ca_error_code(void);

/*
 * Why an operation failed, beside the code and the message, typed: the
 * OAuth error code of a server's answer (RFC 6749 5.2, Auth0), or one of
 * the local causes below it. Control flow reads this, never the message,
 * whose words may come from the server ("error_description"), and a
 * caller that asks is told it by name (ca_error_reason_name; the
 * "carto-error" capability, docs/protocol.md). ca_error() resets it to
 * CA_REASON_NONE; ca_error_prefix() keeps it.
 */
enum ca_error_reason {
	CA_REASON_NONE = 0,             /* no server error code (local, network) */
	CA_REASON_OTHER,                /* a code not listed below */
	CA_REASON_INVALID_REQUEST,
	CA_REASON_INVALID_CLIENT,
	CA_REASON_INVALID_GRANT,        /* refresh token or code dead or used */
	CA_REASON_UNAUTHORIZED_CLIENT,
	CA_REASON_UNSUPPORTED_GRANT_TYPE,
	CA_REASON_INVALID_SCOPE,
	CA_REASON_ACCESS_DENIED,
	CA_REASON_TOO_MANY_REQUESTS,
	CA_REASON_SERVER_ERROR,
	CA_REASON_TEMPORARILY_UNAVAILABLE,
	/* Local causes. */
	CA_REASON_UNREACHABLE,          /* no answer: connection, TLS, time-out */
	CA_REASON_CREDENTIALS_NOT_FOUND, /* the credentials file does not exist */
	CA_REASON_CREDENTIALS_NOT_JSON, /* ... is not a JSON object */
	CA_REASON_MISSING_ATTRIBUTE,    /* ... lacks a required attribute */
	CA_REASON_MISSING_VALUE,        /* ... has it empty */
};

/* Sets the reason of the current error; returns the current code. */
int ca_error_set_reason(enum ca_error_reason reason);
enum ca_error_reason ca_error_reason(void);
/* The reason for an OAuth "error" string (exact match, case-sensitive). */
enum ca_error_reason ca_error_reason_parse(const char *oauth_error);
/* Its stable lower-case name ("invalid_grant", "unreachable"); NULL for NONE. */
const char *ca_error_reason_name(enum ca_error_reason reason);

/* Debug trace (CARTO_AUTH_DEBUG=1 / --debug). Secrets are never passed. */
typedef void (*ca_debug_sink)(const char *line);
void ca_debug_set_sink(ca_debug_sink sink);
int ca_debug_enabled(void);
void ca_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));



/* Warnings for the user (a credentials file readable by others, ...). */
typedef void (*ca_warn_sink)(const char *line);
void ca_warn_set_sink(ca_warn_sink sink);
void ca_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Progress for a person waiting on a login ("Opening the browser...").
 * The executable sends it to standard error; the library to the terminal
 * only when the caller allowed interaction.
 */
void ca_notice_set_sink(ca_warn_sink sink);
void ca_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
