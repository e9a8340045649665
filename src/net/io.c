/* Moving bytes between a non-blocking socket and an engine: the one piece
 * the poll() driver and the event-loop driver both need. */
#include <errno.h>
#include <sys/socket.h>

#include "net_int.h"

void vox__io_failed(vox_conn *c)
{
    int e = errno;
    /* a reset peer is a drop, anything else a system error */
    int dropped = e == EPIPE || e == ECONNRESET || e == ENOTCONN;
    vox_conn_abort(c, dropped ? VOX_ECLOSED : VOX_ESYS);
    errno = e;
}

static int stopped(vox_conn *c, const int *stop)
{
    return (stop && *stop) || (vox_conn_wants(c) & VOX_WANT_CLOSE);
}

void vox__io_flush(int fd, vox_conn *c, int *shut, const int *stop)
{
    const char *data;
    size_t len;

    while (!stopped(c, stop) && (data = vox_conn_output(c, &len)) && len) {
        /* MSG_NOSIGNAL: a peer that went away is an error, not a SIGPIPE. */
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            vox__io_failed(c);
            return;
        }
        vox_conn_consume(c, (size_t)n);
    }
    if (!stopped(c, stop) && (vox_conn_wants(c) & VOX_WANT_SHUTDOWN) && !*shut) {
        shutdown(fd, SHUT_WR);
        *shut = 1;
    }
}

void vox__io_read(int fd, vox_conn *c, char *buf, size_t size, int max, const int *stop)
{
    for (int i = 0; (max == 0 || i < max) && !stopped(c, stop); i++) {
        ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            vox__io_failed(c);
            return;
        }
        if (n == 0) {
            vox_conn_eof(c);
            return;
        }
        vox_conn_feed(c, buf, (size_t)n);
    }
}
