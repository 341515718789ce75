/*
 * Who is at the other end of a loopback TCP connection: the owner (uid) of
 * the peer's socket, as the kernel records it. The login's loopback server
 * uses it to serve only the user who started the login (docs/oauth.md).
 *
 * Linux only: NETLINK_SOCK_DIAG's exact lookup by the connection's four
 * addresses, else /proc/net/tcp or /proc/net/tcp6, matched on the same four
 * addresses. Elsewhere ca_peer_uid() is CA_ENOTFOUND and PEER_UID_SUPPORTED 0.
 */
#ifndef CA_AUTH_PEER_H
#define CA_AUTH_PEER_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __linux__
#define PEER_UID_SUPPORTED 1
#else
#define PEER_UID_SUPPORTED 0
#endif

/*
 * The uid owning the other end of the connected loopback socket fd. 0 on
 * success; CA_ENOTFOUND with a message saying why when the peer's socket
 * cannot be found, or has no owner any more (closed: the kernel then
 * reports uid 0 for it, which must not pass for root).
 */
int ca_peer_uid(uid_t *out, int fd);

/* Where ca_peer_lookup() looks: the kernel's netlink answer, /proc/net. */
#define PEER_NETLINK 1
#define PEER_PROC 2

/*
 * The uid and inode (0: no process owns it) of the socket at the other end
 * of fd, from the sources in how, tried in that order. 0, or CA_ENOTFOUND
 * with a message. ca_peer_uid() is this with both, and the inode checked;
 * the tests call it with one source at a time.
 */
int ca_peer_lookup(uid_t *out_uid, unsigned long *out_inode, int fd, int how);

/*
 * Pure: finds, in the text of /proc/net/tcp (AF_INET) or /proc/net/tcp6
 * (AF_INET6), the socket whose own address is local and whose remote
 * address is remote (both of that family), and gives its uid and inode
 * (0: no process owns it). 0 when found, CA_ENOTFOUND when not.
 */
int ca_peer_parse_proc_net(uid_t *out_uid, unsigned long *out_inode,
	const char *text, size_t len, const struct sockaddr *local,
	const struct sockaddr *remote);

#endif
