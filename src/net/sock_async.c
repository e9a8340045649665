/* The non-blocking TCP connect of the async client: started here, finished
 * by the loop (the socket turns readable or writable, or fails). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "async_int.h"

/* Starts a connect to one address; 0 when it is under way or done. */
static int start_one(const struct addrinfo *ai, int *out)
{
    int one = 1, fl;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return VOX_ESYS;
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        goto fail;
    /* Commands are small and latency matters more than packet count. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS && errno != EINTR)
        goto fail;
    *out = fd;
    return 0;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return VOX_ESYS;
}

/* Name resolution blocks (a numeric address does not); the first address
 * whose connect starts is used, later ones only when an earlier one fails
 * at once (say, an IPv6 address on a host without IPv6). */
int vox__tcp_connect_start(const char *host, uint16_t port, int *fd)
{
    struct addrinfo hints = {0}, *res = NULL;
    char portstr[8];
    int rc;

    if (!host || !*host || !port || !fd)
        return VOX_EINVAL;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc) {
        errno = rc == EAI_SYSTEM ? errno : (rc == EAI_MEMORY ? ENOMEM : EHOSTUNREACH);
        return rc == EAI_MEMORY ? VOX_ENOMEM : VOX_ESYS;
    }
    rc = VOX_ESYS;
    for (const struct addrinfo *ai = res; ai && rc; ai = ai->ai_next)
        rc = start_one(ai, fd);
    freeaddrinfo(res);
    return rc;
}
