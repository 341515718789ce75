/*
 * The loopback server of a browser login: the one-time start page the
 * browser is opened on (http://localhost:10000/start/NONCE), which
 * redirects to the authorize URL and sets the login's cookie, and the
 * callback that receives the browser's redirect at the end
 * (http://localhost:10000/callback/?code=...&state=..., with the cookie).
 *
 * It listens only on loopback (127.0.0.1, and ::1 where the system has
 * it), serves several connections at once with a short deadline each, and
 * keeps serving until the callback path arrives with the right state and
 * cookie, an error callback arrives, or the login times out. Other paths
 * (a browser's /favicon.ico) get a 404 and a wrong state or a missing
 * cookie an error page, without ending the wait. On Linux it serves only
 * connections whose peer socket belongs to its own user (auth/peer.h).
 * The start page asked for a second time, or by another user, ends the
 * login: someone else is trying to use it. docs/oauth.md has the why.
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
	CALLBACK_INCOMPLETE,   /* the callback path with neither: 400 */
	CALLBACK_START         /* the one-time start page */
};

#define CALLBACK_MAX_COOKIES 8  /* values of the login's cookie kept */

struct callback_result {
	enum callback_kind kind;
	char *code;              /* secret */
	char *state;
	char *error;
	char *error_description;
	/* Every value sent for the login's cookie, in order (secret). */
	char *cookies[CALLBACK_MAX_COOKIES];
	size_t ncookies;
};

/* What the parser looks for. */
struct callback_paths {
	const char *callback;     /* the redirect URI's path */
	const char *start;        /* the start page's path, or NULL */
	const char *cookie_name;  /* the login's cookie, or NULL */
};

void ca_callback_result_init(struct callback_result *r);
void ca_callback_result_clear(struct callback_result *r);

/*
 * Parses an HTTP request head of len bytes: the request line, and the
 * Cookie headers (other headers are ignored; the head ends at the first
 * empty line or at len). The target's path is compared with
 * paths->callback (a missing or extra trailing '/' is tolerated) and
 * paths->start (CALLBACK_START, whatever the query); for the callback
 * the query's code, state, error and error_description are
 * percent-decoded ('+' is a space). For every kind but the errors, the
 * values of the cookie named paths->cookie_name go to out->cookies, as
 * sent (beyond CALLBACK_MAX_COOKIES they are ignored). Fills out (kind
 * says what to answer) and returns 0. A repeated parameter, a bad escape
 * or a NUL byte in the request line or a Cookie header make the request
 * CALLBACK_BAD_REQUEST. Pure: no I/O, no global state.
 */
int ca_callback_parse_request(struct callback_result *out, const char *buf,
	size_t len, const struct callback_paths *paths);

/*
 * Parses a query string (without '?') into out's code, state, error and
 * error_description, percent-decoded; other keys are ignored. -1 when a
 * known key repeats or does not decode (out then holds what came before).
 */
int ca_callback_parse_query(struct callback_result *out, const char *q, size_t n);

/*
 * Splits a loopback redirect URI "http://HOST[:PORT]/PATH" into its host
 * ("localhost", "127.0.0.1" or "::1"), port (80 when absent) and path
 * ("/" when absent). CA_EINVAL for anything else.
 */
int ca_callback_parse_redirect_uri(char **out_host, unsigned *out_port,
	char **out_path, const char *uri);

struct callback_server {
	int fds[2];
	int nfds;
	unsigned port;
	char *path;          /* the callback's */
	char *start_path;    /* "/start/NONCE" */
	char *start_url;     /* "http://HOST:PORT/start/NONCE", for the browser */
	char *cookie_name;   /* "carto_auth_PORT": one per port, as cookies ignore ports */
	char *cookie_path;   /* the callback's path without its trailing '/' */
	char *cookie;        /* the login's cookie value (secret) */
};

/*
 * Binds the listening sockets for redirect_uri and makes this login's
 * start page (a random nonce: the page's address carries no secret) and
 * cookie (random, secret). A port taken by another program is CA_ERR with
 * a message naming the port.
 */
int ca_callback_server_open(struct callback_server *srv, const char *redirect_uri);

struct callback_wait {
	const char *expected_state;
	/* Where the start page redirects: the authorize URL. */
	const char *authorize_url;
	int timeout_s;
	/* Set once the start page was served. */
	int started;
	/* The browser launcher, or 0: reaped without blocking while waiting. */
	pid_t browser_pid;
	/* Set when the launcher exited with a failure before any callback. */
	int browser_failed;
};

/*
 * Serves requests until the callback arrives. 0 with *out_code (secret,
 * caller frees) on success; CA_EREFUSED "login failed: ERROR (DESC)" on an
 * error callback; CA_ELOGIN on timeout, at once when the browser launcher
 * failed (w->browser_failed set), and when the start page is asked for a
 * second time or by another user ("someone else may be trying to use this
 * login").
 */
int ca_callback_server_wait(struct callback_server *srv, char **out_code,
	struct callback_wait *w);

/* Closes the sockets; accepts a server that was never opened (zeroed). */
void ca_callback_server_close(struct callback_server *srv);

#endif
