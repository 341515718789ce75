/* The carto-auth executable: the only code that prints. */
#ifndef CA_HELPER_H
#define CA_HELPER_H

#include "protocol/proto.h"

/* Exit statuses (SPEC): 0 done, 1 failed, 2 bad input or usage. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2
};

/* What was given on the command line. */
struct options {
	struct proto_msg defaults; /* keys the options stand for (--m2m -> credentials_file) */
	const char *format;        /* token/dw: plain, json, env, header */
	int all;                   /* logout --all */
	int device;                /* login --device */
	int help;
};

/* Turns the last library error into one line on stderr and an exit status. */
int helper_fail(const char *action);

/*
 * Prints one line of text for a person (stderr, or status on stdout):
 * formatted, then with every control character, line separator or stray
 * byte escaped (util/text.h: "\x1b", "\u2028"), then a newline. Every line
 * that can carry text from outside (a server, a store, a file, the
 * command line) goes through here, so none can drive the terminal.
 */
void helper_say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Protocol actions: read stdin, answer on stdout. */
int action_get(const struct options *opts);
int action_store(const struct options *opts);
int action_erase(const struct options *opts);

/* Commands for people and scripts. */
int command_login(const struct options *opts);
int command_token(const struct options *opts);
int command_status(const struct options *opts);
int command_logout(const struct options *opts);
int command_dw(const struct options *opts);

/* Prints the usage of one command (or all, for NULL) to f. */
void helper_usage(FILE *f, const char *command);

#endif
