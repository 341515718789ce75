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
