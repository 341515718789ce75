/*
 * Paste mode: the login URL shown on the terminal, the code (or the
 * page's whole URL) read back from /dev/tty, within the login's time.
 */
#include "auth/net/paste.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "auth/net/callback.h"
#include "auth/net/oauth.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/text.h"

#define PASTE_ATTEMPTS 3
#define MAX_CODE 2048

static int oom(void)
{
	return ca_error(CA_ERR, "out of memory");
}

static int is_code_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int ca_oauth_parse_pasted(char **out_code, const char *line, const char *expected_state)
{
	struct callback_result r;
	const char *start = line, *end, *q, *qend;
	char *code = NULL;
	size_t i;
	int rc;

	ca_callback_result_init(&r);
	while (*start == ' ' || *start == '\t')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
			end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end == start) {
		rc = ca_error(CA_EINVAL, "nothing was pasted");
		goto out;
	}

	q = memchr(start, '?', (size_t)(end - start));
	if (q || ((size_t)(end - start) > 5 && memcmp(start, "code=", 5) == 0)) {
		/* A whole URL, or its query alone. */
		q = q ? q + 1 : start;
		qend = memchr(q, '#', (size_t)(end - q));
		if (!qend)
			qend = end;
		if (ca_callback_parse_query(&r, q, (size_t)(qend - q)) < 0) {
			rc = ca_error(CA_EINVAL, "the pasted URL is malformed; paste the code alone");
			goto out;
		}
		if (r.error && *r.error) {
			char err[201];

			ca_text_escape(err, sizeof(err), r.error);
			rc = ca_error(CA_EREFUSED, "login failed: %s", err);
			goto out;
		}
		if (!r.code || !*r.code) {
			rc = ca_error(CA_EINVAL, "the pasted URL carries no code");
			goto out;
		}
		if (r.state && !ca_streq_ct(r.state, expected_state)) {
			rc = ca_error(CA_EINVAL, "the pasted URL belongs to another login attempt "
				"(wrong state); use the URL shown for this one");
			goto out;
		}
		code = r.code;
		r.code = NULL;
	} else {
		code = ca_strndup(start, (size_t)(end - start));
		if (!code) {
			rc = oom();
			goto out;
		}
	}
	if (strlen(code) > MAX_CODE) {
		rc = ca_error(CA_EINVAL, "the pasted code is too long");
		goto out;
	}
	for (i = 0; code[i]; i++) {
		if (!is_code_char(code[i])) {
			rc = ca_error(CA_EINVAL, "that is not a login code; paste the code "
				"shown on the page, or the page's whole URL");
			goto out;
		}
	}
	*out_code = code;
	code = NULL;
	rc = 0;
out:
	ca_free(code);
	ca_callback_result_clear(&r);
	return rc;
}

/*
 * Reads one line from the terminal before deadline (monotonic ms). 0 with
 * the line (without its end) in buf; CA_ELOGIN on end of input or timeout.
 */
static int tty_read_line(int fd, char *buf, size_t size, int64_t deadline, int timeout_s)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - ca_clock_ms();
		ssize_t got;
		char *nl;
		int ready;

		if (left <= 0)
			return ca_error(CA_ELOGIN, "timed out after %d s waiting for the code; "
				"run the login again", timeout_s);
		ready = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (ready < 0 && errno != EINTR)
			return ca_error(CA_ELOGIN, "cannot read the terminal: %s", strerror(errno));
		if (ready <= 0)
			continue;
		got = read(fd, buf + len, size - 1 - len);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return ca_error(CA_ELOGIN, "cannot read the terminal: %s", strerror(errno));
		if (got == 0)
			return ca_error(CA_ELOGIN, "login cancelled (end of input)");
		len += (size_t)got;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (len == size - 1)
			return ca_error(CA_EINVAL, "the pasted line is too long");
	}
}

static void tty_write(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t w = write(fd, s, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		len -= (size_t)w;
	}
}

/* Paste mode: the URL on the terminal, the code (or the URL) read back. */
int ca_paste_code(char **out_code, const struct ca_config *cfg,
	const char *challenge, const char *state)
{
	char *url = NULL, *line = NULL;
	int64_t deadline;
	int fd, attempt, rc;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return ca_error(CA_ELOGIN, "%s; run `carto-auth login` in a terminal",
			cfg->open_browser ? "no browser could be opened and there is no "
			"terminal to paste a login code in" : "a login without a browser needs "
			"a terminal to paste the code in");
	rc = ca_oauth_authorize_url(&url, cfg, CA_PASTE_REDIRECT_URI, challenge, state);
	if (rc < 0)
		goto out;
	line = ca_malloc(OAUTH_MAX_PASTE);
	if (!line) {
		rc = oom();
		goto out;
	}
	ca_notice("To log in to CARTO, open this URL in a browser (on any device):");
	ca_notice("%s", url);
	ca_notice("After logging in, paste the code shown on the page (or the page's "
		"whole URL) here. Ctrl-C cancels.");
	deadline = ca_clock_ms() + (int64_t)ca_oauth_login_timeout(cfg) * 1000;
	for (attempt = 1; ; attempt++) {
		tty_write(fd, "Code: ");
		rc = tty_read_line(fd, line, OAUTH_MAX_PASTE, deadline, ca_oauth_login_timeout(cfg));
		if (rc == 0)
			rc = ca_oauth_parse_pasted(out_code, line, state);
		ca_wipe(line, OAUTH_MAX_PASTE);
		if (rc != CA_EINVAL || attempt == PASTE_ATTEMPTS)
			break;
		ca_oauth_notice_error(" Try again.");
	}
out:
	ca_free(line);
	ca_free(url);
	close(fd);
	return rc;
}

