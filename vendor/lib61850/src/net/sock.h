/* TCP socket helpers: name resolution (in the caller's thread), non-blocking
 * sockets with TCP_NODELAY and close-on-exec, connect and listen/accept.
 * Every function returns 0 on success or a negative errno value (or
 * I61_ERR_INVALID_ARGUMENT where documented). */
#ifndef I61_NET_SOCK_H
#define I61_NET_SOCK_H
#include <netdb.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* getaddrinfo for a TCP host/port (host NULL with passive = any address).
 * 0, or I61_ERR_INVALID_ARGUMENT when the name does not resolve. Free the
 * result with freeaddrinfo. */
int i61_sock_resolve(const char *host, int port, int passive, struct addrinfo **out);

/* New non-blocking socket for ai, connect started. Returns 0 (connected at
 * once) or 1 (in progress) with *fd set, or -errno (nothing to close). */
int i61_sock_connect_start(const struct addrinfo *ai, int *fd);
/* Outcome of a connect that was in progress: 0 or a positive errno. */
int i61_sock_connect_result(int fd);

/* Listening socket (SO_REUSEADDR, non-blocking) on host:port (port 0 = any);
 * *bound_port receives the actual port (may be NULL). */
int i61_sock_listen(const char *host, int port, int backlog, int *fd, int *bound_port);
/* Accepts one connection as a non-blocking TCP_NODELAY socket: 0 with *fd,
 * -EAGAIN when none is pending, other -errno. */
int i61_sock_accept(int lfd, int *fd);

/* sendmsg with MSG_NOSIGNAL | MSG_DONTWAIT, retried on EINTR: octets sent
 * (possibly 0 when the buffer is full) or -errno. */
ssize_t i61_sock_sendv(int fd, const struct iovec *iov, int n);
/* read, retried on EINTR: octets (0 = end of stream), -EAGAIN, or -errno. */
ssize_t i61_sock_read(int fd, void *p, size_t n);
/* Asks the kernel to acknowledge received data at once instead of delaying
 * the ACK (Linux TCP_QUICKACK; the kernel clears it again by itself). For a
 * receiver waiting for the rest of a message: a sender whose Nagle algorithm
 * holds the tail until the first part is acknowledged would otherwise wait
 * for the delayed ACK (up to 40 ms). No-op where unsupported. */
void i61_sock_quickack(int fd);

#endif
