#include "auth/net/peer.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#endif

#include "util/error.h"
#include "util/mem.h"

#define MAX_PROC_NET (64u << 20) /* a busy host's table, at most */
#define NETLINK_WAIT_MS 1000

/* The address as the kernel prints it: 32-bit words, each in host order. */
static int addr_words(uint32_t *words, uint16_t *port, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		memcpy(words, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		memcpy(words, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
		return 4;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reads n hex digits into *out; the position after them, or NULL. */
static const char *hex_n(uint32_t *out, const char *p, const char *end, int n)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		int h = p + i < end ? hexval(p[i]) : -1;

		if (h < 0)
			return NULL;
		v = v << 4 | (uint32_t)h;
	}
	*out = v;
	return p + n;
}

/* "WORDS:PORT" as printed for an address of nwords 32-bit words. */
static const char *addr_field(uint32_t *words, uint16_t *port, const char *p,
	const char *end, int nwords)
{
	uint32_t v;
	int i;

	for (i = 0; i < nwords; i++) {
		p = hex_n(&words[i], p, end, 8);
		if (!p)
			return NULL;
	}
	if (p >= end || *p != ':')
		return NULL;
	p = hex_n(&v, p + 1, end, 4);
	if (p)
		*port = (uint16_t)v;
	return p;
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

static const char *skip_field(const char *p, const char *end)
{
	p = skip_blanks(p, end);
	while (p < end && *p != ' ')
		p++;
	return p;
}

/* A decimal field; the position after it, or NULL. */
static const char *dec_field(unsigned long *out, const char *p, const char *end)
{
	unsigned long v = 0;
	const char *start;

	p = skip_blanks(p, end);
	start = p;
	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (~0UL - 9) / 10)
			return NULL;
		v = v * 10 + (unsigned long)(*p - '0');
		p++;
	}
	if (p == start || (p < end && *p != ' '))
		return NULL;
	*out = v;
	return p;
}

int ca_peer_parse_proc_net(uid_t *out_uid, unsigned long *out_inode,
	const char *text, size_t len, const struct sockaddr *local,
	const struct sockaddr *remote)
{
	uint32_t lw[4], rw[4], aw[4], bw[4];
	uint16_t lport, rport, aport, bport;
	const char *line = text, *end = text + len;
	int nwords = addr_words(lw, &lport, local);

	if (!nwords || addr_words(rw, &rport, remote) != nwords)
		return CA_ENOTFOUND;
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *p, *stop = eol ? eol : end;
		unsigned long uid, inode;

		/* "  sl: LOCAL REMOTE st tx:rx tr:when retrnsmt uid timeout inode" */
		p = skip_blanks(line, stop);
		while (p < stop && *p != ':' && *p != ' ')
			p++;
		if (p < stop && *p == ':') {
			p = skip_blanks(p + 1, stop);
			p = addr_field(aw, &aport, p, stop, nwords);
			if (p && p < stop && *p == ' ')
				p = addr_field(bw, &bport, skip_blanks(p, stop), stop, nwords);
			else
				p = NULL;
			if (p && aport == lport && bport == rport &&
			    memcmp(aw, lw, (size_t)nwords * 4) == 0 &&
			    memcmp(bw, rw, (size_t)nwords * 4) == 0) {
				p = skip_field(p, stop);  /* st */
				p = skip_field(p, stop);  /* tx_queue:rx_queue */
				p = skip_field(p, stop);  /* tr:tm->when */
				p = skip_field(p, stop);  /* retrnsmt */
				p = dec_field(&uid, p, stop);
				if (p)
					p = skip_field(p, stop);  /* timeout */
				if (p)
					p = dec_field(&inode, p, stop);
				if (p && uid <= (uid_t)-1) {
					*out_uid = (uid_t)uid;
					*out_inode = inode;
					return 0;
				}
			}
		}
		line = eol ? eol + 1 : end;
	}
	return CA_ENOTFOUND;
}

#ifdef __linux__

/*
 * NETLINK_SOCK_DIAG exact lookup of the peer's socket (its own address is
 * the connection's remote one). 0 with uid and inode; CA_ENOTFOUND when
 * the kernel has no such socket or cannot answer (no inet_diag module, a
 * sandbox): the caller then reads /proc.
 */
static int netlink_lookup(uid_t *out_uid, unsigned long *out_inode,
	const struct sockaddr *peer, const struct sockaddr *self)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr nlh;
		char buf[8192];
	} ans;
	uint32_t pw[4], sw[4];
	uint16_t pport, sport;
	int fd, nwords, rc = CA_ENOTFOUND;
	ssize_t n;

	nwords = addr_words(pw, &pport, peer);
	if (!nwords || addr_words(sw, &sport, self) != nwords)
		return CA_ENOTFOUND;
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.nlh.nlmsg_seq = 1;
	msg.req.sdiag_family = (uint8_t)peer->sa_family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0U;
	msg.req.id.idiag_sport = htons(pport);
	msg.req.id.idiag_dport = htons(sport);
	memcpy(msg.req.id.idiag_src, pw, (size_t)nwords * 4);
	memcpy(msg.req.id.idiag_dst, sw, (size_t)nwords * 4);
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return CA_ENOTFOUND;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		goto out;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nlmsghdr *h;
		size_t left;

		if (poll(&p, 1, NETLINK_WAIT_MS) <= 0)
			goto out;
		n = recv(fd, &ans, sizeof(ans), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		left = (size_t)n;
		for (h = &ans.nlh; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			const struct inet_diag_msg *d;

			if (h->nlmsg_seq != 1)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*d)))
				continue;
			d = NLMSG_DATA(h);
			if (d->id.idiag_sport != htons(pport) || d->id.idiag_dport != htons(sport) ||
			    memcmp(d->id.idiag_src, pw, (size_t)nwords * 4) != 0 ||
			    memcmp(d->id.idiag_dst, sw, (size_t)nwords * 4) != 0)
				continue;
			*out_uid = (uid_t)d->idiag_uid;
			*out_inode = d->idiag_inode;
			rc = 0;
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

/* /proc/net/tcp or tcp6, whole, NUL-terminated; NULL when unreadable. */
static char *read_proc_net(size_t *out_len, int family)
{
	const char *path = family == AF_INET6 ? "/proc/net/tcp6" : "/proc/net/tcp";
	size_t cap = 65536, len = 0;
	char *buf = NULL, *bigger;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = ca_malloc(cap);
	if (!buf)
		goto fail;
	for (;;) {
		ssize_t got;

		if (len + 1 == cap) {
			if (cap >= MAX_PROC_NET)
				goto fail;
			bigger = ca_realloc(buf, cap * 2);
			if (!bigger)
				goto fail;
			buf = bigger;
			cap *= 2;
		}
		got = read(fd, buf + len, cap - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	*out_len = len;
	return buf;
fail:
	close(fd);
	ca_free(buf);
	return NULL;
}

int ca_peer_lookup(uid_t *out_uid, unsigned long *out_inode, int fd, int how)
{
	struct sockaddr_storage peer, self;
	socklen_t plen = sizeof(peer), slen = sizeof(self);
	size_t len = 0;
	char *text;
	int rc = CA_ENOTFOUND;

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&self, &slen) < 0)
		return ca_error(CA_ENOTFOUND, "the connection is gone (%s)", strerror(errno));
	if (how & PEER_NETLINK)
		rc = netlink_lookup(out_uid, out_inode, (struct sockaddr *)&peer,
			(struct sockaddr *)&self);
	if (rc < 0 && (how & PEER_PROC)) {
		text = read_proc_net(&len, peer.ss_family);
		if (!text)
			return ca_error(CA_ENOTFOUND, "the system's socket tables cannot be read");
		rc = ca_peer_parse_proc_net(out_uid, out_inode, text, len,
			(struct sockaddr *)&peer, (struct sockaddr *)&self);
		ca_free(text);
	}
	if (rc < 0)
		return ca_error(CA_ENOTFOUND, "the other end's socket is not in the system's tables");
	return 0;
}

int ca_peer_uid(uid_t *out, int fd)
{
	unsigned long inode = 0;
	uid_t uid = 0;
	int rc;

	rc = ca_peer_lookup(&uid, &inode, fd, PEER_NETLINK | PEER_PROC);
	if (rc < 0)
		return rc;
	if (inode == 0)
		return ca_error(CA_ENOTFOUND, "the other end's socket has no owner (closed)");
	*out = uid;
	return 0;
}

#else

int ca_peer_lookup(uid_t *out_uid, unsigned long *out_inode, int fd, int how)
{
	(void)out_uid;
	(void)out_inode;
	(void)fd;
	(void)how;
	return ca_error(CA_ENOTFOUND, "this system cannot tell who owns a socket");
}

int ca_peer_uid(uid_t *out, int fd)
{
	unsigned long inode;

	return ca_peer_lookup(out, &inode, fd, PEER_NETLINK | PEER_PROC);
}

#endif
