/* TCP sockets for the drivers: a connect bounded by a deadline (names or
 * IPv4/IPv6 addresses, every address getaddrinfo returns is tried in turn)
 * and a listening socket. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "async_int.h"
#include "net_int.h"

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return VOX_ESYS;
    return 0;
}

static int resolve(const char *host, uint16_t port, int passive, struct addrinfo **res)
{
    struct addrinfo hints = {0};
    char portstr[8];
    int rc;

    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    rc = getaddrinfo(host, portstr, &hints, res);
    if (rc == 0)
        return 0;
    /* getaddrinfo has its own error space: errno says "no such host". */
    errno = rc == EAI_SYSTEM ? errno : (rc == EAI_MEMORY ? ENOMEM : EHOSTUNREACH);
    return rc == EAI_MEMORY ? VOX_ENOMEM : VOX_ESYS;
}

/* Waits for a non-blocking connect on fd until deadline; 0 when connected. */
static int connect_wait(int fd, uint64_t deadline)
{
    for (;;) {
        uint64_t now = vox__now_ms();
        if (now >= deadline)
            return VOX_ETIMEDOUT;
        uint64_t left = deadline - now;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return VOX_ESYS;
        if (n == 0)
            continue;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            return VOX_ESYS;
        if (err) {
            errno = err;
            return VOX_ESYS;
        }
        return 0;
    }
}

static void close_keep_errno(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
}

/* Starts a non-blocking connect to one address: 0 with *out connected or
 * connecting (*pending set), else an error. */
static int start_one(const struct addrinfo *ai, int *out, int *pending)
{
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return VOX_ESYS;
    if (set_nonblock(fd)) {
        close_keep_errno(fd);
        return VOX_ESYS;
    }
    /* Commands are small and latency matters more than packet count. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *pending = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            close_keep_errno(fd);
            return VOX_ESYS;
        }
        *pending = 1;
    }
    *out = fd;
    return 0;
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline, int *out)
{
    int fd, pending, rc = start_one(ai, &fd, &pending);
    if (rc == 0 && pending && (rc = connect_wait(fd, deadline)) != 0)
        close_keep_errno(fd);
    if (rc == 0)
        *out = fd;
    return rc;
}

int vox__tcp_connect(const char *host, uint16_t port, uint32_t timeout_ms, int *fd)
{
    struct addrinfo *res = NULL;
    uint64_t deadline = timeout_ms ? vox__now_ms() + timeout_ms : UINT64_MAX;
    int rc;

    if (!host || !*host || !port || !fd)
        return VOX_EINVAL;
    rc = resolve(host, port, 0, &res);
    if (rc)
        return rc;
    rc = VOX_ESYS;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        rc = connect_one(ai, deadline, fd);
        if (rc == 0 || rc == VOX_ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    return rc;
}

/* The async client's connect: started here, finished by the loop (the
 * socket turns writable, or fails). Name resolution blocks (a numeric address
 * does not); the first address whose connect starts is used. */
int vox__tcp_connect_start(const char *host, uint16_t port, int *fd)
{
    struct addrinfo *res = NULL;
    int rc, pending;

    if (!host || !*host || !port || !fd)
        return VOX_EINVAL;
    if ((rc = resolve(host, port, 0, &res)) != 0)
        return rc;
    rc = VOX_ESYS;
    for (const struct addrinfo *ai = res; ai && rc; ai = ai->ai_next)
        rc = start_one(ai, fd, &pending);
    freeaddrinfo(res);
    return rc;
}

static int listen_one(const struct addrinfo *ai, int any6, int backlog, int *out)
{
    int one = 1, v6only = !any6;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return VOX_ESYS;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        goto fail;
    /* "::" means every address, IPv4 included; any other IPv6 address
     * means that address only. */
    if (ai->ai_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0)
        goto fail;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0)
        goto fail;
    *out = fd;
    return 0;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return VOX_ESYS;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int vox__tcp_listen(const char *host, uint16_t port, int backlog, int *fd, uint16_t *bound)
{
    struct addrinfo *res = NULL;
    int rc;

    if (!fd)
        return VOX_EINVAL;
    if (!host || !*host)
        host = "127.0.0.1";
    rc = resolve(host, port, 1, &res);
    if (rc)
        return rc;
    rc = VOX_ESYS;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        rc = listen_one(ai, !strcmp(host, "::"), backlog > 0 ? backlog : 128, fd);
        if (rc == 0)
            break;
    }
    freeaddrinfo(res);
    if (rc == 0 && bound)
        *bound = bound_port(*fd);
    return rc;
}
