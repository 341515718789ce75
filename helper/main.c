/*
 * carto-auth: CARTO access tokens for CLIs, IDEs, scripts and git.
 *
 * Argument handling and dispatch. Options may stand before the action
 * (git runs "carto-auth --m2m FILE get"); they fill in protocol keys the
 * input does not carry.
 */
#include "helper/helper.h"

#include "util/error.h"
#include "util/mem.h"
#include "util/text.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

struct operation {
	const char *name;
	int (*run)(const struct options *opts);
	const char *usage;   /* arguments */
	const char *purpose; /* one line */
	const char *example;
};

static const struct operation operations[] = {
	{ "get", action_get, "", "credential helper: answer a request read from stdin",
	  "printf 'credentials_file=creds.json\\n\\n' | carto-auth get" },
	{ "store", action_store, "", "credential helper: save the credential read from stdin",
	  "git credential approve (calls it)" },
	{ "erase", action_erase, "", "credential helper: forget the credential read from stdin",
	  "git credential reject (calls it)" },
	{ "login", command_login, "[--m2m FILE] [--org ORG] [--api-base-url URL] [--no-browser | --device] [--timeout S]",
	  "log in now (browser, device code, or M2M credentials) and store the token",
	  "carto-auth login --org my-sso-org" },
	{ "token", command_token, "[--m2m FILE] [--org ORG] [--format plain|json|env|header] [--min-ttl S]",
	  "print a valid token, renewed when needed",
	  "curl -H \"$(carto-auth token --format header)\" \"$API/v3/...\"" },
	{ "status", command_status, "", "list stored CARTO tokens (never a secret)",
	  "carto-auth status" },
	{ "logout", command_logout, "[--m2m FILE] [--org ORG] [--all]",
	  "revoke the refresh token at the server and remove stored tokens",
	  "carto-auth logout --all" },
	{ "dw", command_dw, "[--m2m FILE] [--org ORG] [--format plain|json|env]",
	  "print CARTO Data Warehouse project and token",
	  "carto-auth dw --format env" },
};

#define N_OPERATIONS (sizeof(operations) / sizeof(*operations))

void helper_usage(FILE *f, const char *command)
{
	size_t i;

	for (i = 0; command && i < N_OPERATIONS; i++) {
		if (strcmp(operations[i].name, command))
			continue;
		fprintf(f, "usage: carto-auth %s %s\n\n%s.\n\nexample:\n  %s\n\n"
			"Common options: --debug (trace to stderr, secrets redacted).\n"
			"See carto-auth(1) for every key and environment variable.\n",
			operations[i].name, operations[i].usage, operations[i].purpose,
			operations[i].example);
		return;
	}
	fputs("usage: carto-auth [OPTIONS] COMMAND\n\n"
	      "Hands out CARTO access tokens: logs in when needed, renews tokens\n"
	      "before they expire, keeps them in the keyring or ~/.carto-auth.\n\n"
	      "Commands:\n", f);
	for (i = 0; i < N_OPERATIONS; i++)
		fprintf(f, "  %-7s %s\n          e.g. %s\n", operations[i].name,
			operations[i].purpose, operations[i].example);
	fputs("\nOptions (before or after the command):\n"
	      "  --m2m FILE            M2M credentials file (api_base_url, client_id, client_secret)\n"
	      "  --org ORG             SSO organization for the OAuth login\n"
	      "  --api-base-url URL    the account's API base URL (skips discovery)\n"
	      "  --no-browser          print the login URL and read the code from the terminal\n"
	      "  --device              log in on another device: show a URL and a code to confirm\n"
	      "                        there (RFC 8628 device login; no code to paste back)\n"
	      "  --timeout S           give up a login after S seconds (default 300)\n"
	      "  --min-ttl S           renew tokens with less than S seconds left (default 300,\n"
	      "                        or half the token's lifetime when that is less)\n"
	      "  --format F            token/dw output: plain, json, env, header\n"
	      "  --all                 logout: every stored CARTO token (each refresh token revoked)\n"
	      "  --debug               trace requests and decisions to stderr (secrets redacted)\n"
	      "  -h, --help            this help, or a command's: carto-auth COMMAND --help\n"
	      "  -V, --version         the version\n\n"
	      "As a git credential helper:  git config --global credential.helper carto\n"
	      "Exit status: 0 done (also for an unknown command, as git expects), 1 failed,\n"
	      "2 bad input or usage.\n"
	      "Environment: CARTO_AUTH_STORE=auto|keyring|file, CARTO_AUTH_HOME, CARTO_AUTH_DEBUG=1.\n"
	      "More: man carto-auth\n", f);
}

void helper_say(FILE *f, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ca_text_put_line(f, line);
	free(line);
}

int helper_fail(const char *action)
{
	int code = ca_error_code();
	const char *msg = ca_error_message();
	size_t n = action ? strlen(action) : 0;

	/* A message that already names the action ("login: ...") keeps one. */
	if (n && !strncmp(msg, action, n) && msg[n] == ':' && msg[n + 1] == ' ')
		action = NULL;
	helper_say(stderr, "carto-auth: %s%s%s", action ? action : "", action ? ": " : "",
		*msg ? msg : "failed");
	return code == CA_EINVAL ? EXIT_USAGE : EXIT_FAILED;
}

static void debug_sink(const char *line)
{
	helper_say(stderr, "carto-auth: debug: %s", line);
}

static void warn_sink(const char *line)
{
	helper_say(stderr, "carto-auth: warning: %s", line);
}

static void notice_sink(const char *line)
{
	ca_text_put_line(stderr, line);
}

enum { OPT_M2M = 256, OPT_ORG, OPT_API, OPT_NO_BROWSER, OPT_TIMEOUT, OPT_MIN_TTL,
	OPT_FORMAT, OPT_ALL, OPT_DEBUG, OPT_DEVICE };

static const struct option long_options[] = {
	{ "m2m", required_argument, NULL, OPT_M2M },
	{ "org", required_argument, NULL, OPT_ORG },
	{ "api-base-url", required_argument, NULL, OPT_API },
	{ "no-browser", no_argument, NULL, OPT_NO_BROWSER },
	{ "device", no_argument, NULL, OPT_DEVICE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "min-ttl", required_argument, NULL, OPT_MIN_TTL },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Parses argv into opts; returns the command name, NULL when none. */
static int parse_options(struct options *opts, const char **command, int argc, char **argv)
{
	static const struct { int opt; const char *key; } keys[] = {
		{ OPT_M2M, "credentials_file" }, { OPT_ORG, "org" },
		{ OPT_API, "api_base_url" }, { OPT_TIMEOUT, "login_timeout" },
		{ OPT_MIN_TTL, "min_ttl" },
	};
	size_t i;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+hV", long_options, NULL)) != -1 ||
	       (optind < argc && !*command)) {
		if (c == -1) {
			/* The command; options may follow it. */
			*command = argv[optind++];
			continue;
		}
		for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
			if (c == keys[i].opt)
				ca_proto_set(&opts->defaults, keys[i].key, optarg);
		switch (c) {
		case OPT_NO_BROWSER:
			ca_proto_set(&opts->defaults, "open_browser", "false");
			break;
		case OPT_FORMAT:
			opts->format = optarg;
			break;
		case OPT_ALL:
			opts->all = 1;
			break;
		case OPT_DEVICE:
			opts->device = 1;
			break;
		case OPT_DEBUG:
			ca_debug_set_sink(debug_sink);
			break;
		case 'h':
			opts->help = 1;
			break;
		case 'V':
			printf("carto-auth %s\n", CARTO_AUTH_VERSION);
			exit(EXIT_OK);
		case '?':
			helper_say(stderr, "carto-auth: unknown or incomplete option '%s'; see carto-auth --help",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		helper_say(stderr, "carto-auth: unexpected argument '%s'; see carto-auth --help", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * Keeps the secrets this process will hold out of core dumps and away from
 * other processes of the same user that read /proc/PID/mem or attach a
 * debugger (as gpg-agent and ssh-agent do). The executable's decision
 * only: the library leaves this to its host program.
 */
static void harden_process(void)
{
	static const struct rlimit no_core = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &no_core))
		ca_debug("cannot turn core dumps off");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		ca_debug("cannot make the process non-dumpable");
}

/*
 * Edits between a and b (insert, delete, replace, swap two neighbours):
 * enough to rank typos. Words over 32 bytes are never close.
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[33][33], best;

	if (la > 32 || lb > 32)
		return 33;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/*
 * For a person at a terminal: an unknown command is named, with the
 * nearest known one when it is close (a typo), as git does for its own
 * commands. git itself never sees this (it reads standard output only).
 */
static void say_unknown_command(const char *command)
{
	const char *best = NULL;
	size_t i, d, best_d = (size_t)-1, limit = strlen(command) < 4 ? 1 : 2;
	char escaped[128];

	for (i = 0; i < N_OPERATIONS; i++) {
		d = edit_distance(command, operations[i].name);
		if (d < best_d) {
			best_d = d;
			best = operations[i].name;
		}
	}
	ca_text_escape(escaped, sizeof(escaped), command);
	if (best && best_d <= limit)
		fprintf(stderr, "carto-auth: '%s' is not a carto-auth command; did you mean '%s'?\n",
			escaped, best);
	else
		fprintf(stderr, "carto-auth: '%s' is not a carto-auth command; see carto-auth --help\n",
			escaped);
}

int main(int argc, char **argv)
{
	struct options opts;
	const char *command = NULL, *debug = getenv("CARTO_AUTH_DEBUG");
	size_t i;
	int status;

	harden_process(); /* before anything reads a secret */
	/*
	 * The process is ours: a reader that went away before the answer is a
	 * failure we report (exit 1, below), the same with either store, not
	 * a signal that ends us without a word. The library leaves SIGPIPE to
	 * its host; programs we start get the default back (auth/net/browser.c).
	 */
	signal(SIGPIPE, SIG_IGN);
	/* The process is ours: cJSON allocates through the wiping allocator. */
	ca_mem_install_hooks();
	memset(&opts, 0, sizeof(opts));
	ca_proto_msg_init(&opts.defaults);
	ca_warn_set_sink(warn_sink);
	ca_notice_set_sink(notice_sink);
	if (debug && *debug && strcmp(debug, "0"))
		ca_debug_set_sink(debug_sink);

	if ((status = parse_options(&opts, &command, argc, argv)))
		goto out;
	if (!command) {
		helper_usage(opts.help ? stdout : stderr, NULL);
		status = opts.help ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	for (i = 0; i < N_OPERATIONS; i++) {
		if (strcmp(operations[i].name, command))
			continue;
		if (opts.help) {
			helper_usage(stdout, command);
			status = EXIT_OK;
		} else {
			status = operations[i].run(&opts);
		}
		goto out;
	}
	/* git's rule: an unknown action is ignored (nothing on standard output). */
	if (isatty(STDERR_FILENO))
		say_unknown_command(command);
	status = EXIT_OK;
out:
	ca_proto_msg_clear(&opts.defaults);
	fflush(stdout);
	if (ferror(stdout) && status == EXIT_OK) {
		fprintf(stderr, "carto-auth: cannot write the answer to standard output\n");
		status = EXIT_FAILED;
	}
	return status;
}
