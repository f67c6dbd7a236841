/* TCP socket helpers: see sock.h. */
#include "sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "i61.h"

int i61_sock_resolve(const char *host, int port, int passive, struct addrinfo **out)
{
    if (port < 0 || port > 65535 || (!host && !passive))
        return I61_ERR_INVALID_ARGUMENT;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : AI_ADDRCONFIG);
    *out = NULL;
    int rc = getaddrinfo(host && *host ? host : NULL, service, &hints, out);
    if (rc != 0 || !*out) {
        if (*out)
            freeaddrinfo(*out);
        *out = NULL;
        return I61_ERR_INVALID_ARGUMENT;
    }
    return 0;
}

static void i61_sock_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int i61_sock_connect_start(const struct addrinfo *ai, int *fd)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0)
        return -errno;
    i61_sock_nodelay(s);
    int rc;
    do {
        rc = connect(s, ai->ai_addr, ai->ai_addrlen);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) {
        *fd = s;
        return 0;
    }
    if (errno == EINPROGRESS) {
        *fd = s;
        return 1;
    }
    int e = errno;
    close(s);
    return -e;
}

int i61_sock_connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return errno;
    return err;
}

int i61_sock_listen(const char *host, int port, int backlog, int *fd, int *bound_port)
{
    struct addrinfo *ai;
    int rc = i61_sock_resolve(host, port, 1, &ai);
    if (rc != 0)
        return rc;
    int last = -EADDRNOTAVAIL;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        int s = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
        if (s < 0) {
            last = -errno;
            continue;
        }
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, p->ai_addr, p->ai_addrlen) != 0 || listen(s, backlog > 0 ? backlog : 16) != 0) {
            last = -errno;
            close(s);
            continue;
        }
        if (bound_port) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            *bound_port = 0;
            if (getsockname(s, (struct sockaddr *)&ss, &sl) == 0) {
                if (ss.ss_family == AF_INET)
                    *bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
                else if (ss.ss_family == AF_INET6)
                    *bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            }
        }
        freeaddrinfo(ai);
        *fd = s;
        return 0;
    }
    freeaddrinfo(ai);
    return last;
}

int i61_sock_accept(int lfd, int *fd)
{
    int s;
    do {
        s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (s < 0 && errno == EINTR);
    if (s < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    i61_sock_nodelay(s);
    *fd = s;
    return 0;
}

ssize_t i61_sock_sendv(int fd, const struct iovec *iov, int n)
{
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = (struct iovec *)iov;
    m.msg_iovlen = (size_t)n;
    ssize_t r;
    do {
        r = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    return r;
}

void i61_sock_quickack(int fd)
{
#ifdef TCP_QUICKACK
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)fd;
#endif
}

ssize_t i61_sock_read(int fd, void *p, size_t n)
{
    ssize_t r;
    do {
        r = read(fd, p, n);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return r;
}
