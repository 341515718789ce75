/*
 * Text from outside the process (servers, stores, config files, the
 * request) on its way out: to the protocol, which refuses what it cannot
 * print, or to a terminal, which shows it escaped.
 *
 * "Unsafe" is one rule for both: a C0 control character (0x00-0x1F, tab
 * included), DEL (0x7F), a C1 control (U+0080-U+009F, U+0085 included),
 * U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR, or a byte that is not
 * part of valid UTF-8 (overlong forms and surrogates included: they may
 * hide any of the others).
 */
#ifndef CA_UTIL_TEXT_H
#define CA_UTIL_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* The offset of the first unsafe character of s[0..len), or len. */
size_t ca_text_unsafe_at(const char *s, size_t len);

/* 1 when the string holds nothing unsafe (NULL counts as safe). */
int ca_text_printable(const char *s);

/*
 * Copies s into out (size bytes, always NUL-terminated) with every unsafe
 * character escaped: "\x1b" for a C0 control, DEL or a stray byte,
 * "\u0085" for a C1 control, "\u2028"/"\u2029" for the separators. For a
 * terminal, the bidirectional controls are escaped too ("\u202e": they
 * reorder what is shown around them). A character or an escape is never
 * cut in half. Returns the length written.
 */
size_t ca_text_escape(char *out, size_t size, const char *s);

/* Writes s escaped as above, of any length, then a newline. */
void ca_text_put_line(FILE *f, const char *s);

/* The value of a hexadecimal digit (either case), or -1. */
int ca_hex_digit(char c);

#endif
