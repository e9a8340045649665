/* The blocking driver: a poll() loop that moves bytes and time between one
 * socket and its engine. There is no protocol here: everything the loop
 * does is asked by vox_conn_wants() and vox_conn_deadline(). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net_int.h"

/* Reads per wake-up before time is given to the engine again, so a flood of
 * events cannot starve deadlines. */
#define READS_PER_WAKE 16

uint64_t vox__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads what is there and feeds it; stops early when *done or the end. A
 * blocking request made inside a hook reads while the outer feed still works
 * through c->rbuf: such a nested read gets a buffer of its own. */
static int read_input(vox_client *c, const int *done)
{
    int nested = c->feeding > 0;
    char *buf = nested ? vox__malloc(VOX__READ_CHUNK) : c->rbuf;
    if (!nested && !buf)
        buf = c->rbuf = vox__malloc(VOX__READ_CHUNK);
    if (!buf) {
        vox_conn_abort(c->conn, VOX_ENOMEM);
        return VOX_ENOMEM;
    }
    c->feeding++;
    vox__io_read(c->fd, c->conn, buf, VOX__READ_CHUNK, READS_PER_WAKE, done);
    c->feeding--;
    if (nested)
        vox__free(buf);
    return 0;
}

/* Milliseconds poll may sleep: until the engine's or the caller's
 * deadline, whichever comes first. */
static int poll_timeout(const vox_client *c, uint64_t now, uint64_t deadline)
{
    uint64_t next = vox_conn_deadline(c->conn);
    if (deadline < next)
        next = deadline;
    if (next == UINT64_MAX)
        return -1;
    if (next <= now)
        return 0;
    return next - now > 60000 ? 60000 : (int)(next - now);
}

static short poll_events(const vox_client *c)
{
    int w = vox_conn_wants(c->conn);
    short ev = 0;
    if (w & VOX_WANT_READ)
        ev |= POLLIN;
    if ((w & VOX_WANT_WRITE) && !c->shut)
        ev |= POLLOUT;
    return ev;
}

int vox__block_run(vox_client *c, const int *done, uint64_t deadline)
{
    int first = 1;

    /* A call's engine pauses after its handshake until its code waits for
     * something: by then its hooks are in place for the held events. */
    if (c->ready && vox_conn_pause(c->conn, 0))
        return VOX_ENOMEM;
    for (;;) {
        uint64_t now = vox__now_ms();
        vox_conn_tick(c->conn, now);
        if (*done)
            return 0;
        if (vox_conn_wants(c->conn) & VOX_WANT_CLOSE)
            return VOX_ECLOSED;
        vox__io_flush(c->fd, c->conn, &c->shut, NULL);
        if (*done || (vox_conn_wants(c->conn) & VOX_WANT_CLOSE))
            continue;
        /* One pass at least, so a deadline of "now" still polls once. */
        if (!first && now >= deadline)
            return VOX_ETIMEDOUT;
        first = 0;
        struct pollfd p = {.fd = c->fd, .events = poll_events(c)};
        int n = poll(&p, 1, poll_timeout(c, now, deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vox_conn_abort(c->conn, VOX_ESYS);
            return *done ? 0 : VOX_ESYS;
        }
        if (n > 0 && (p.revents & ~POLLOUT))
            read_input(c, done);
    }
}

int vox__block_drain(vox_client *c, uint64_t deadline)
{
    static const int never = 0;
    int rc = vox__block_run(c, &never, deadline);
    return rc == VOX_ECLOSED ? 0 : rc;
}
