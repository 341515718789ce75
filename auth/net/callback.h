/*
 * The loopback server that receives the browser's redirect at the end of
 * an OAuth login (http://localhost:10000/callback/?code=...&state=...).
 *
 * It listens only on loopback (127.0.0.1, and ::1 where the system has
 * it), serves several connections at once with a short deadline each, and
 * keeps serving until the callback path arrives with the right state, an
 * error callback arrives, or the login times out. Other paths (a
 * browser's /favicon.ico) get a 404 and a wrong state an error page,
 * without ending the wait.
 */
#ifndef CA_AUTH_CALLBACK_H
#define CA_AUTH_CALLBACK_H

#include <stddef.h>
#include <sys/types.h>

#define CALLBACK_MAX_REQUEST 8192   /* request line and headers */
#define CALLBACK_MAX_CLIENTS 16
#define CALLBACK_CLIENT_TIMEOUT_MS 3000

/* What one request asks for. */
enum callback_kind {
	CALLBACK_BAD_REQUEST,  /* malformed: 400 */
	CALLBACK_BAD_METHOD,   /* not GET: 405 */
	CALLBACK_NOT_FOUND,    /* another path (/favicon.ico): 404 */
	CALLBACK_CODE,         /* the callback path with a code */
	CALLBACK_ERROR,        /* the callback path with error= */
	CALLBACK_INCOMPLETE    /* the callback path with neither: 400 */
};

struct callback_result {
	enum callback_kind kind;
	char *code;              /* secret */
	char *state;
	char *error;
	char *error_description;
};

void callback_result_init(struct callback_result *r);
void callback_result_clear(struct callback_result *r);

/*
 * Parses an HTTP request (request line, headers ignored) of len bytes.
 * The target is compared with expected_path (a missing or extra trailing
 * '/' is tolerated); the query's code, state, error and error_description
 * are percent-decoded ('+' is a space). Fills out (kind says what to
 * answer) and returns 0. A repeated parameter, a bad escape or a NUL byte
 * make the request CALLBACK_BAD_REQUEST. Pure: no I/O, no global state.
 */
int callback_parse_request(struct callback_result *out, const char *buf,
	size_t len, const char *expected_path);

/*
 * Parses a query string (without '?') into out's code, state, error and
 * error_description, percent-decoded; other keys are ignored. -1 when a
 * known key repeats or does not decode (out then holds what came before).
 */
int callback_parse_query(struct callback_result *out, const char *q, size_t n);

/*
 * Splits a loopback redirect URI "http://HOST[:PORT]/PATH" into its host
 * ("localhost", "127.0.0.1" or "::1"), port (80 when absent) and path
 * ("/" when absent). CA_EINVAL for anything else.
 */
int callback_parse_redirect_uri(char **out_host, unsigned *out_port,
	char **out_path, const char *uri);

struct callback_server {
	int fds[2];
	int nfds;
	unsigned port;
	char *path;
};

/*
 * Binds the listening sockets for redirect_uri. A port taken by another
 * program is CA_ERR with a message naming the port.
 */
int callback_server_open(struct callback_server *srv, const char *redirect_uri);

struct callback_wait {
	const char *expected_state;
	int timeout_s;
	/* The browser launcher, or 0: reaped without blocking while waiting. */
	pid_t browser_pid;
	/* Set when the launcher exited with a failure before any callback. */
	int browser_failed;
};

/*
 * Serves requests until the callback arrives. 0 with *out_code (secret,
 * caller frees) on success; CA_EREFUSED "login failed: ERROR (DESC)" on an
 * error callback; CA_ELOGIN on timeout, or at once when the browser
 * launcher failed (w->browser_failed set).
 */
int callback_server_wait(struct callback_server *srv, char **out_code,
	struct callback_wait *w);

/* Closes the sockets; accepts a server that was never opened (zeroed). */
void callback_server_close(struct callback_server *srv);

#endif
