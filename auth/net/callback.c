#include "auth/net/callback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/config.h"
#include "auth/net/http.h"
#include "auth/net/peer.h"
#include "util/base64url.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/random.h"
#include "util/clock.h"

/* Longest error text from the browser that goes into a message. */
#define MAX_ERROR_TEXT 200
#define START_NONCE_BYTES 24   /* 32 characters */
#define COOKIE_BYTES 32        /* 43 characters */

void ca_callback_result_init(struct callback_result *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = CALLBACK_BAD_REQUEST;
}

void ca_callback_result_clear(struct callback_result *r)
{
	size_t i;

	if (!r)
		return;
	ca_free(r->code);
	ca_free(r->state);
	ca_free(r->error);
	ca_free(r->error_description);
	for (i = 0; i < r->ncookies; i++)
		ca_free(r->cookies[i]);
	ca_callback_result_init(r);
}

/* Whether path[0..n) is expected, give or take one trailing '/'. */
static int path_matches(const char *path, size_t n, const char *expected)
{
	size_t elen = strlen(expected);

	while (elen > 1 && expected[elen - 1] == '/')
		elen--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	return n == elen && memcmp(path, expected, n) == 0;
}

/*
 * Stores one decoded parameter; -1 when it repeats or does not decode (a
 * bad escape; running out of memory here also just refuses the request).
 */
static int take_param(char **slot, const char *v, size_t vlen)
{
	if (*slot)
		return -1;
	*slot = ca_http_url_decode(v, vlen); /* '+' is a space */
	return *slot ? 0 : -1;
}

int ca_callback_parse_query(struct callback_result *out, const char *q, size_t n)
{
	const char *end = q + n;

	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(stop - q));
		size_t klen = (size_t)((eq ? eq : stop) - q);
		const char *v = eq ? eq + 1 : stop;
		size_t vlen = (size_t)(stop - v);
		char **slot = NULL;

		if (klen == 4 && memcmp(q, "code", 4) == 0)
			slot = &out->code;
		else if (klen == 5 && memcmp(q, "state", 5) == 0)
			slot = &out->state;
		else if (klen == 5 && memcmp(q, "error", 5) == 0)
			slot = &out->error;
		else if (klen == 17 && memcmp(q, "error_description", 17) == 0)
			slot = &out->error_description;
		if (slot && take_param(slot, v, vlen) < 0)
			return -1;
		q = amp ? amp + 1 : end;
	}
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One Cookie header's value: "a=1; b=2". Keeps the values of the cookie
 * named name; -1 when out of memory.
 */
static int take_cookies(struct callback_result *out, const char *v, const char *end,
	const char *name)
{
	size_t nlen = strlen(name);

	while (v < end) {
		const char *semi = memchr(v, ';', (size_t)(end - v));
		const char *stop = semi ? semi : end, *eq, *vend;

		while (v < stop && is_blank(*v))
			v++;
		eq = memchr(v, '=', (size_t)(stop - v));
		if (eq && (size_t)(eq - v) == nlen && memcmp(v, name, nlen) == 0 &&
		    out->ncookies < CALLBACK_MAX_COOKIES) {
			vend = stop;
			while (vend > eq + 1 && is_blank(vend[-1]))
				vend--;
			out->cookies[out->ncookies] = ca_strndup(eq + 1, (size_t)(vend - eq - 1));
			if (!out->cookies[out->ncookies])
				return -1;
			out->ncookies++;
		}
		v = semi ? semi + 1 : end;
	}
	return 0;
}

/*
 * The header lines after the request line, up to the empty line: the
 * login cookie's values. -1 for a NUL in a Cookie header (or no memory).
 */
static int parse_headers(struct callback_result *out, const char *p, const char *end,
	const char *cookie_name)
{
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *lend = eol ? eol : end;

		if (lend > p && lend[-1] == '\r')
			lend--;
		if (lend == p)
			break; /* the end of the head */
		if (cookie_name && (size_t)(lend - p) >= 7 && strncasecmp(p, "Cookie:", 7) == 0) {
			if (memchr(p, '\0', (size_t)(lend - p)) ||
			    take_cookies(out, p + 7, lend, cookie_name) < 0)
				return -1;
		}
		p = eol ? eol + 1 : end;
	}
	return 0;
}

int ca_callback_parse_request(struct callback_result *out, const char *buf,
	size_t len, const struct callback_paths *paths)
{
	const char *eol, *sp1, *sp2, *target, *tend, *qmark, *hash;
	size_t line_len, path_len;

	ca_callback_result_init(out);
	eol = memchr(buf, '\n', len);
	if (!eol)
		return 0;
	line_len = (size_t)(eol - buf);
	if (line_len && buf[line_len - 1] == '\r')
		line_len--;
	if (memchr(buf, '\0', line_len))
		return 0;

	sp1 = memchr(buf, ' ', line_len);
	if (!sp1 || sp1 == buf)
		return 0;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', line_len - (size_t)(target - buf));
	if (!sp2 || sp2 == target)
		return 0;
	if ((size_t)(buf + line_len - (sp2 + 1)) < 7 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return 0;
	if ((size_t)(sp1 - buf) != 3 || memcmp(buf, "GET", 3) != 0) {
		out->kind = CALLBACK_BAD_METHOD;
		return 0;
	}

	tend = sp2;
	/* absolute-form, as a proxy-minded client may send it */
	if ((size_t)(tend - target) > 7 && strncasecmp(target, "http://", 7) == 0) {
		const char *slash = memchr(target + 7, '/', (size_t)(tend - target - 7));

		if (!slash)
			return 0;
		target = slash;
	}
	if (*target != '/')
		return 0;
	hash = memchr(target, '#', (size_t)(tend - target));
	if (hash)
		tend = hash;
	qmark = memchr(target, '?', (size_t)(tend - target));
	path_len = (size_t)((qmark ? qmark : tend) - target);
	if (paths->start && path_matches(target, path_len, paths->start)) {
		if (parse_headers(out, eol + 1, buf + len, paths->cookie_name) < 0) {
			ca_callback_result_clear(out); /* CALLBACK_BAD_REQUEST */
			return 0;
		}
		out->kind = CALLBACK_START;
		return 0;
	}
	if (!path_matches(target, path_len, paths->callback)) {
		out->kind = CALLBACK_NOT_FOUND;
		return 0;
	}
	if ((qmark && ca_callback_parse_query(out, qmark + 1, (size_t)(tend - qmark - 1)) < 0) ||
	    parse_headers(out, eol + 1, buf + len, paths->cookie_name) < 0) {
		ca_callback_result_clear(out); /* CALLBACK_BAD_REQUEST */
		return 0;
	}
	if (out->error && *out->error)
		out->kind = CALLBACK_ERROR;
	else if (out->code && *out->code)
		out->kind = CALLBACK_CODE;
	else
		out->kind = CALLBACK_INCOMPLETE;
	return 0;
}

int ca_callback_parse_redirect_uri(char **out_host, unsigned *out_port,
	char **out_path, const char *uri)
{
	const char *auth, *aend, *host, *hend, *path, *pend;
	char *h = NULL, *p = NULL;
	unsigned long port = 80;

	if (!uri || strncasecmp(uri, "http://", 7) != 0)
		goto bad;
	auth = uri + 7;
	aend = auth + strcspn(auth, "/?#");
	if (*auth == '[') {
		host = auth + 1;
		hend = memchr(host, ']', (size_t)(aend - host));
		if (!hend)
			goto bad;
		path = hend + 1; /* where a ":port" would start */
	} else {
		host = auth;
		hend = memchr(host, ':', (size_t)(aend - host));
		if (!hend)
			hend = aend;
		path = hend;
	}
	if (path < aend) {
		char *end;

		if (*path != ':' || path + 1 == aend || path[1] < '0' || path[1] > '9')
			goto bad;
		errno = 0;
		port = strtoul(path + 1, &end, 10);
		if (errno || end != aend || port == 0 || port > 65535)
			goto bad;
	}
	h = ca_strndup(host, (size_t)(hend - host));
	if (!h)
		goto oom;
	if (strcasecmp(h, "localhost") != 0 && strcmp(h, "127.0.0.1") != 0 &&
	    strcmp(h, "::1") != 0)
		goto bad;
	path = aend;
	pend = path + strcspn(path, "?#");
	p = path == pend || *path != '/' ? ca_strdup("/") :
		ca_strndup(path, (size_t)(pend - path));
	if (!p)
		goto oom;
	*out_host = h;
	*out_port = (unsigned)port;
	*out_path = p;
	return 0;
bad:
	ca_free(h);
	return ca_error(CA_EINVAL, "redirect URI \"%s\" is not http://localhost:PORT/PATH "
		"(or 127.0.0.1, [::1]); fix CARTO_AUTH_REDIRECT_URI", uri ? uri : "");
oom:
	ca_free(h);
	return ca_error(CA_ERR, "out of memory");
}

/* Opens one listening socket; returns 0 or an errno value. */
static int listen_on(int *out_fd, int family, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd, one = 1, err;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		slen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		slen = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, slen) < 0 ||
	    listen(fd, 16) < 0) {
		err = errno;
		close(fd);
		return err;
	}
	*out_fd = fd;
	return 0;
}

static int random_text(char **out, size_t bytes)
{
	unsigned char buf[COOKIE_BYTES];
	int rc;

	rc = ca_random_bytes(buf, bytes);
	if (rc == 0)
		rc = ca_base64url_encode(out, buf, bytes);
	ca_wipe(buf, sizeof(buf));
	return rc;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new string from a format (ca_free wipes it: it may hold the cookie). */
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = ca_malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/*
 * The start page's address (a random nonce, on the redirect URI's own host
 * so that the cookie it sets goes to the callback) and the login's cookie.
 */
static int make_start(struct callback_server *srv, const char *host)
{
	char *nonce = NULL;
	size_t n;
	int rc;

	rc = random_text(&nonce, START_NONCE_BYTES);
	if (rc < 0)
		return rc;
	rc = random_text(&srv->cookie, COOKIE_BYTES);
	if (rc < 0)
		goto out;
	srv->start_path = format("/start/%s", nonce);
	srv->start_url = format(strchr(host, ':') ? "http://[%s]:%u%s" : "http://%s:%u%s",
		host, srv->port, srv->start_path ? srv->start_path : "");
	srv->cookie_name = format("carto_auth_%u", srv->port);
	srv->cookie_path = ca_strdup(srv->path);
	if (!srv->start_path || !srv->start_url || !srv->cookie_name || !srv->cookie_path) {
		rc = ca_error(CA_ERR, "out of memory");
		goto out;
	}
	n = strlen(srv->cookie_path);
	while (n > 1 && srv->cookie_path[n - 1] == '/')
		srv->cookie_path[--n] = '\0';
	rc = 0;
out:
	ca_free(nonce);
	return rc;
}

static int in_use_error(unsigned port)
{
	return ca_error(CA_ERR, "port %u is in use by another program; close it, log in "
		"with --no-browser, or set CARTO_AUTH_REDIRECT_URI to another registered "
		"loopback URI", port);
}

int ca_callback_server_open(struct callback_server *srv, const char *redirect_uri)
{
	char *host = NULL, *path = NULL;
	unsigned port = 0;
	int v4, v6, err, rc;

	memset(srv, 0, sizeof(*srv));
	srv->fds[0] = srv->fds[1] = -1;
	rc = ca_callback_parse_redirect_uri(&host, &port, &path, redirect_uri);
	if (rc < 0)
		goto out;
	/* Browsers resolve "localhost" to either address: serve both. */
	v4 = strcmp(host, "::1") != 0;
	v6 = strcmp(host, "127.0.0.1") != 0;
	if (v4) {
		err = listen_on(&srv->fds[srv->nfds], AF_INET, port);
		if (err == EADDRINUSE) {
			rc = in_use_error(port);
			goto out;
		}
		if (err) {
			rc = ca_error(CA_ERR, "cannot listen on 127.0.0.1 port %u: %s",
				port, strerror(err));
			goto out;
		}
		srv->nfds++;
	}
	if (v6) {
		err = listen_on(&srv->fds[srv->nfds], AF_INET6, port);
		if (err == EADDRINUSE) {
			rc = in_use_error(port);
			goto out;
		}
		if (err && !v4) {
			rc = ca_error(CA_ERR, "cannot listen on [::1] port %u: %s",
				port, strerror(err));
			goto out;
		}
		/* No IPv6 here: 127.0.0.1 alone serves. */
		if (!err)
			srv->nfds++;
	}
	srv->port = port;
	srv->path = path;
	path = NULL;
	rc = make_start(srv, host);
	if (rc < 0)
		goto out;
	ca_debug("callback server on port %u, path %s", port, srv->path);
	rc = 0;
out:
	if (rc < 0)
		ca_callback_server_close(srv);
	ca_free(host);
	ca_free(path);
	return rc;
}

void ca_callback_server_close(struct callback_server *srv)
{
	int i;

	if (!srv)
		return;
	for (i = 0; i < srv->nfds; i++)
		if (srv->fds[i] >= 0)
			close(srv->fds[i]);
	ca_free(srv->path);
	ca_free(srv->start_path);
	ca_free(srv->start_url);
	ca_free(srv->cookie_name);
	ca_free(srv->cookie_path);
	ca_free(srv->cookie);
	memset(srv, 0, sizeof(*srv));
}

struct client {
	int fd;
	size_t len;
	int64_t deadline;
	char buf[CALLBACK_MAX_REQUEST];
};

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	ca_wipe(c->buf, c->len);
	c->fd = -1;
	c->len = 0;
}

static const char page_head[] =
	"<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
	"<title>carto-auth</title></head><body><p>";
static const char page_tail[] = "</p></body></html>\n";

/*
 * Best effort: the answer is small and the socket buffer empty. headers:
 * extra header lines, each ending in CRLF, or NULL.
 */
static void respond(int fd, const char *status, const char *headers, const char *text)
{
	char *msg;
	size_t n;

	msg = format("HTTP/1.1 %s\r\n"
		"%s"
		"Content-Type: text/html; charset=utf-8\r\n"
		"Content-Length: %zu\r\n"
		"Cache-Control: no-store\r\n"
		"Referrer-Policy: no-referrer\r\n"
		"Connection: close\r\n\r\n%s%s%s",
		status, headers ? headers : "",
		strlen(page_head) + strlen(text) + strlen(page_tail),
		page_head, text, page_tail);
	if (msg) {
		ssize_t off = 0;
		int tries = 0;

		n = strlen(msg);
		while ((size_t)off < n && tries++ < 50) {
			ssize_t w = send(fd, msg + off, n - (size_t)off, MSG_NOSIGNAL);

			if (w > 0) {
				off += w;
			} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				struct pollfd p = { .fd = fd, .events = POLLOUT };

				poll(&p, 1, 20);
			} else {
				break;
			}
		}
		ca_free(msg);
	}
	shutdown(fd, SHUT_WR);
}

/* Keeps browser-supplied text short and printable for a message. */
static void sanitize(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && *src && i + 1 < size && i < MAX_ERROR_TEXT; src++)
		dst[i++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	dst[i] = '\0';
}

enum handled { KEEP_WAITING, GOT_CODE, GOT_ERROR, FAILED };

enum peer { PEER_SELF, PEER_OTHER, PEER_UNKNOWN };

/*
 * Whose connection this is. Where the system cannot say (not Linux), every
 * connection counts as the user's own: the one-time start page and the
 * cookie are then the only defence (docs/oauth.md).
 */
static enum peer peer_check(int fd, uid_t *uid, char *why, size_t why_size)
{
	if (!PEER_UID_SUPPORTED)
		return PEER_SELF;
	if (ca_peer_uid(uid, fd) < 0) {
		snprintf(why, why_size, "%s", ca_error_message());
		ca_error_clear();
		return PEER_UNKNOWN;
	}
	return *uid == geteuid() ? PEER_SELF : PEER_OTHER;
}

/* Whether one of the request's cookies is the login's (constant time). */
static int cookie_ok(const struct callback_result *r, const char *cookie)
{
	size_t i;
	int ok = 0;

	for (i = 0; i < r->ncookies; i++)
		ok |= ca_streq_ct(r->cookies[i], cookie);
	return ok;
}

static enum handled serve_start(struct client *c, const struct callback_server *srv,
	struct callback_wait *w)
{
	char *headers;

	if (w->started) {
		respond(c->fd, "409 Conflict", NULL,
			"This login page was already opened once, so carto-auth stopped the "
			"login. Start it again from the terminal.");
		ca_error(CA_ELOGIN, "the login page was opened twice; someone else may be "
			"trying to use this login");
		return FAILED;
	}
	headers = format("Location: %s\r\n"
		"Set-Cookie: %s=%s; Path=%s; Max-Age=%d; HttpOnly; SameSite=Lax\r\n",
		w->authorize_url, srv->cookie_name, srv->cookie, srv->cookie_path,
		w->timeout_s > 0 ? w->timeout_s : 1);
	if (!headers) {
		ca_error(CA_ERR, "out of memory");
		return FAILED;
	}
	respond(c->fd, "302 Found", headers, "Continue to CARTO to log in.");
	ca_free(headers);
	w->started = 1;
	ca_debug("callback server: the start page was served");
	return KEEP_WAITING;
}

static enum handled handle_request(struct client *c, const struct callback_server *srv,
	struct callback_wait *w, char **out_code)
{
	struct callback_paths paths = { srv->path, srv->start_path, srv->cookie_name };
	struct callback_result r;
	enum handled h = KEEP_WAITING;
	char why[256] = "", *clear = NULL;
	uid_t uid = 0;
	int state_ok;

	if (ca_callback_parse_request(&r, c->buf, c->len, &paths) < 0)
		return FAILED;
	switch (peer_check(c->fd, &uid, why, sizeof(why))) {
	case PEER_SELF:
		break;
	case PEER_OTHER:
		respond(c->fd, "403 Forbidden", NULL,
			"This login belongs to another user of this computer.");
		if (r.kind == CALLBACK_START) {
			ca_error(CA_ELOGIN, "the login page was opened by another user (uid %lu); "
				"someone else may be trying to use this login",
				(unsigned long)uid);
			h = FAILED;
		} else {
			ca_debug("callback server: a request from another user (uid %lu) refused",
				(unsigned long)uid);
		}
		goto out;
	case PEER_UNKNOWN:
	default:
		respond(c->fd, "403 Forbidden", NULL,
			"carto-auth cannot tell which user sent this request.");
		if (r.kind == CALLBACK_START) {
			ca_error(CA_ELOGIN, "cannot tell which user opened the login page (%s); "
				"someone else may be trying to use this login; log in again, or "
				"with --no-browser", why);
			h = FAILED;
		} else {
			ca_debug("callback server: a request from an unknown user refused (%s)", why);
		}
		goto out;
	}
	state_ok = r.state && ca_streq_ct(r.state, w->expected_state);
	switch (r.kind) {
	case CALLBACK_START:
		h = serve_start(c, srv, w);
		break;
	case CALLBACK_NOT_FOUND:
		respond(c->fd, "404 Not Found", NULL, "Not found.");
		break;
	case CALLBACK_BAD_METHOD:
		respond(c->fd, "405 Method Not Allowed", NULL, "Only GET is served here.");
		break;
	case CALLBACK_CODE:
	case CALLBACK_ERROR:
		if (!state_ok) {
			ca_debug("callback with a wrong or missing state: ignored");
			respond(c->fd, "400 Bad Request", NULL,
				"This login answer does not belong to the login carto-auth is "
				"waiting for (wrong state). Start the login again from the "
				"terminal.");
			break;
		}
		if (!cookie_ok(&r, srv->cookie)) {
			ca_debug("callback without the login's cookie: ignored");
			respond(c->fd, "400 Bad Request", NULL,
				"This login answer did not come through the browser carto-auth "
				"opened for this login (its cookie is missing). Finish the login "
				"in that browser, or start it again from the terminal.");
			break;
		}
		/* The cookie has served: the browser can forget it. */
		clear = format("Location: %s\r\n"
			"Set-Cookie: %s=; Path=%s; Max-Age=0; HttpOnly; SameSite=Lax\r\n",
			r.kind == CALLBACK_CODE ? CA_SUCCESS_PAGE : CA_ERROR_PAGE,
			srv->cookie_name, srv->cookie_path);
		if (!clear) {
			ca_error(CA_ERR, "out of memory");
			h = FAILED;
			break;
		}
		if (r.kind == CALLBACK_CODE) {
			respond(c->fd, "302 Found", clear,
				"Logged in. You can close this tab and return to the terminal.");
			*out_code = r.code;
			r.code = NULL;
			h = GOT_CODE;
		} else {
			char err[MAX_ERROR_TEXT + 1], desc[MAX_ERROR_TEXT + 1];

			respond(c->fd, "302 Found", clear,
				"The login failed. Return to the terminal.");
			sanitize(err, sizeof(err), r.error);
			sanitize(desc, sizeof(desc), r.error_description);
			if (*desc)
				ca_error(CA_EREFUSED, "login failed: %s (%s)", err, desc);
			else
				ca_error(CA_EREFUSED, "login failed: %s", err);
			h = GOT_ERROR;
		}
		break;
	case CALLBACK_INCOMPLETE:
	case CALLBACK_BAD_REQUEST:
	default:
		respond(c->fd, "400 Bad Request", NULL,
			"Bad request: the login answer carries no code.");
		break;
	}
out:
	ca_free(clear);
	ca_callback_result_clear(&r);
	return h;
}

/* Whether the request head is complete (headers end, or buffer full). */
static int head_complete(const struct client *c)
{
	size_t i;

	for (i = 0; i + 1 < c->len; i++) {
		if (c->buf[i] == '\n' &&
		    (c->buf[i + 1] == '\n' ||
		     (c->buf[i + 1] == '\r' && i + 2 < c->len && c->buf[i + 2] == '\n')))
			return 1;
	}
	return 0;
}

static void accept_client(int lfd, struct client *clients, int64_t now)
{
	int fd, i, oldest = 0;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < CALLBACK_MAX_CLIENTS; i++) {
		if (clients[i].fd < 0)
			break;
		if (clients[i].deadline < clients[oldest].deadline)
			oldest = i;
	}
	if (i == CALLBACK_MAX_CLIENTS) {
		/* Full of idle connections (preconnects): drop the oldest. */
		client_close(&clients[oldest]);
		i = oldest;
	}
	clients[i].fd = fd;
	clients[i].len = 0;
	clients[i].deadline = now + CALLBACK_CLIENT_TIMEOUT_MS;
}

/* Reaps the launcher; 1 when it failed before the login completed. */
static int browser_failed(struct callback_wait *w)
{
	int status;
	pid_t pid;

	if (w->browser_pid <= 0)
		return 0;
	pid = waitpid(w->browser_pid, &status, WNOHANG);
	if (pid == 0)
		return 0;
	w->browser_pid = 0;
	if (pid < 0)
		return 0; /* reaped elsewhere (a SIGCHLD handler): nothing known */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	w->browser_failed = 1;
	if (WIFEXITED(status))
		ca_error(CA_ELOGIN, "the browser could not be opened (it exited with status %d)",
			WEXITSTATUS(status));
	else
		ca_error(CA_ELOGIN, "the browser could not be opened (it was killed by signal %d)",
			WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return 1;
}

int ca_callback_server_wait(struct callback_server *srv, char **out_code,
	struct callback_wait *w)
{
	struct client *clients;
	struct pollfd pfd[2 + CALLBACK_MAX_CLIENTS];
	int64_t deadline, now;
	char *code = NULL;
	int i, rc = CA_ERR;

	clients = ca_calloc(CALLBACK_MAX_CLIENTS, sizeof(*clients));
	if (!clients)
		return ca_error(CA_ERR, "out of memory");
	for (i = 0; i < CALLBACK_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	w->browser_failed = 0;
	w->started = 0;
	if (!w->authorize_url || strpbrk(w->authorize_url, "\r\n")) {
		ca_free(clients);
		return ca_error(CA_EINVAL, "the authorize URL is not usable in a redirect");
	}
	deadline = ca_clock_ms() + (int64_t)w->timeout_s * 1000;

	for (;;) {
		int64_t wake;
		int n = 0, ready;

		now = ca_clock_ms();
		if (now >= deadline) {
			rc = ca_error(CA_ELOGIN, "timed out after %d s waiting for the browser "
				"login; run the login again (login_timeout or --timeout waits "
				"longer)", w->timeout_s);
			goto out;
		}
		if (browser_failed(w)) {
			rc = CA_ELOGIN;
			goto out;
		}
		wake = deadline;
		if (w->browser_pid > 0 && now + 200 < wake)
			wake = now + 200;
		for (i = 0; i < srv->nfds; i++) {
			pfd[n].fd = srv->fds[i];
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		for (i = 0; i < CALLBACK_MAX_CLIENTS; i++) {
			if (clients[i].fd < 0)
				continue;
			if (clients[i].deadline <= now) {
				ca_debug("callback server: a silent connection timed out");
				client_close(&clients[i]);
				continue;
			}
			if (clients[i].deadline < wake)
				wake = clients[i].deadline;
			pfd[n].fd = clients[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		ready = poll(pfd, (nfds_t)n, wake - now > 60000 ? 60000 : (int)(wake - now));
		if (ready < 0 && errno != EINTR) {
			rc = ca_error(CA_ERR, "waiting for the browser login: %s", strerror(errno));
			goto out;
		}
		if (ready <= 0)
			continue;
		/* Clients first (they are few and non-blocking: a read that
		 * would block costs nothing), then new connections. */
		for (i = 0; i < CALLBACK_MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			enum handled h;
			ssize_t got;

			if (c->fd < 0)
				continue;
			got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				client_close(c);
				continue;
			}
			if (got < 0)
				continue;
			c->len += (size_t)got;
			if (!head_complete(c)) {
				if (c->len == sizeof(c->buf)) {
					respond(c->fd, "431 Request Header Fields Too Large",
						NULL, "Request too large.");
					client_close(c);
				}
				continue;
			}
			h = handle_request(c, srv, w, &code);
			client_close(c);
			if (h == GOT_CODE) {
				rc = 0;
				goto out;
			}
			if (h == GOT_ERROR || h == FAILED) {
				rc = ca_error_code();
				goto out;
			}
		}
		now = ca_clock_ms();
		for (i = 0; i < srv->nfds; i++)
			if (pfd[i].revents & POLLIN)
				accept_client(pfd[i].fd, clients, now);
	}
out:
	for (i = 0; i < CALLBACK_MAX_CLIENTS; i++)
		client_close(&clients[i]);
	ca_free(clients);
	if (rc == 0)
		*out_code = code;
	else
		ca_free(code);
	return rc;
}
