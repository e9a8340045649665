/* An engine on a watched socket: the event-loop twin of block.c. Every loop
 * callback gives the engine the time, reads until the socket is dry, writes
 * what the socket takes, and then sets the loop's interest and timer from
 * vox_conn_wants() and vox_conn_deadline(). There is no protocol here. */
#include <errno.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "async_int.h"
#include "net_int.h"

struct vox__apipe {
    vox_watch *w;
    vox_conn *conn;
    int fd;
    void (*on_gone)(vox__apipe *p, int reason, void *ud);
    void *ud;
    int depth;         /* our callbacks on the stack */
    int free_pending;  /* freed when depth drops to 0 */
    int gone;          /* socket closed, on_gone ran (or is running) */
    int shut;          /* write side shut down */
    int interest;      /* what the adapter watches now (-1: not set yet) */
    uint64_t timer_at; /* absolute time the adapter's timer is armed for */
};

static uint64_t now_ms(const vox__apipe *p)
{
    return p->w->loop.ops->now(p->w->loop.loop);
}

static void destroy(vox__apipe *p)
{
    /* Reading has ended by now; a free inside the engine's own callback is
     * deferred by the engine. */
    vox_conn_free(p->conn);
    vox__free(p);
}

static void enter(vox__apipe *p)
{
    p->depth++;
}

static void leave(vox__apipe *p)
{
    if (--p->depth == 0 && p->free_pending)
        destroy(p);
}

/* Reading has ended: close the socket and tell the owner, once. The pipe
 * itself goes when the outermost callback unwinds. */
static void finish(vox__apipe *p)
{
    if (p->gone)
        return;
    p->gone = 1;
    p->free_pending = 1;
    vox__watch_close(p->w);
    p->w = NULL;
    close(p->fd);
    p->fd = -1;
    if (p->on_gone)
        p->on_gone(p, vox_conn_error(p->conn), p->ud);
}

static int ended(const vox__apipe *p)
{
    return p->gone || (vox_conn_wants(p->conn) & VOX_WANT_CLOSE);
}

/* Bytes read at a time. Larger than the blocking driver's: the buffer lives
 * for one wake-up only, so thousands of idle pipes hold none, and a busy
 * one makes a quarter of the reads, and splits a quarter as many messages
 * across reads (those are copied). */
#define READ_CHUNK ((size_t)256 << 10)

/* Reads until the socket is dry (or the end). */
static void read_input(vox__apipe *p)
{
    char *buf = vox__malloc(READ_CHUNK);
    if (!buf) {
        vox_conn_abort(p->conn, VOX_ENOMEM);
        return;
    }
    vox__io_read(p->fd, p->conn, buf, READ_CHUNK, 0, &p->gone);
    vox__free(buf);
}

/* Interest and timer as the engine wants them now. */
static void update_loop(vox__apipe *p, int soon)
{
    const vox_loop_ops *ops = p->w->loop.ops;
    int wants = vox_conn_wants(p->conn), interest = 0;
    uint64_t at = vox_conn_deadline(p->conn), now;

    if (wants & VOX_WANT_READ)
        interest |= VOX_WANT_READ;
    if ((wants & VOX_WANT_WRITE) && !p->shut)
        interest |= VOX_WANT_WRITE;
    if (interest != p->interest) {
        ops->want(p->w->handle, interest);
        p->interest = interest;
    }
    now = now_ms(p);
    if (soon)
        at = now;
    if (at == p->timer_at)
        return;
    p->timer_at = at;
    ops->timer(p->w->handle, at == UINT64_MAX ? UINT64_MAX : (at > now ? at - now : 0));
}

/* One driver pass after the loop woke us (or after a request). */
static void pump(vox__apipe *p)
{
    if (p->gone)
        return;
    vox_conn_tick(p->conn, now_ms(p));
    vox__io_flush(p->fd, p->conn, &p->shut, &p->gone);
    if (ended(p)) {
        finish(p);
        return;
    }
    update_loop(p, 0);
}

static void watch_ready(vox_watch *w, int events)
{
    vox__apipe *p = w->owner;
    enter(p);
    vox_conn_tick(p->conn, now_ms(p));
    if ((events & VOX_WANT_READ) && !ended(p))
        read_input(p);
    pump(p);
    leave(p);
}

static void watch_timeout(vox_watch *w)
{
    vox__apipe *p = w->owner;
    enter(p);
    p->timer_at = UINT64_MAX; /* it fired */
    pump(p);
    leave(p);
}

/* The engine's wants changed outside our callbacks (a request, disconnect
 * or close from elsewhere). Only the loop's interest changes here; the I/O
 * itself, and the end, happen from the loop, so the caller's request does
 * not run callbacks before it returns. */
static void conn_wants(vox_conn *c, void *ud)
{
    vox__apipe *p = ud;
    int wants;

    if (p->depth > 0 || p->gone)
        return; /* the pass at the end of our callback sees it */
    wants = vox_conn_wants(c);
    update_loop(p, (wants & VOX_WANT_CLOSE) || ((wants & VOX_WANT_SHUTDOWN) && !p->shut));
}

uint64_t vox__async_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = 0;
    /* Without randomness ids stay unique, only more predictable. */
    return seed ? seed : (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15u;
}

int vox__apipe_open(vox__apipe **out, const vox_loop *loop, int fd, const vox_conn_opts *opts,
                    void (*on_gone)(vox__apipe *p, int reason, void *ud), void *ud)
{
    vox_conn_opts o;
    vox__apipe *p = NULL;
    int rc = VOX_EINVAL;

    if (!out || !loop || !loop->ops || fd < 0 || !opts)
        goto fail;
    rc = VOX_ENOMEM;
    if (!(p = vox__calloc(1, sizeof *p)))
        goto fail;
    p->fd = fd;
    p->on_gone = on_gone;
    p->ud = ud;
    p->interest = -1;
    p->timer_at = UINT64_MAX;
    /* The watch first: a failed open must not run the engine's callbacks,
     * and no loop callback reaches the watch before we return. */
    if ((rc = vox__watch_open(&p->w, loop, fd, watch_ready, watch_timeout, p)))
        goto fail;
    o = *opts;
    o.on_wants = conn_wants;
    o.userdata = p;
    if (!o.seed)
        o.seed = vox__async_seed();
    if ((rc = vox_conn_new(&p->conn, &o)))
        goto fail;
    /* The first tick starts the handshake clock; no deadline has passed
     * yet, so no callback runs before the caller has the pipe. */
    vox_conn_tick(p->conn, now_ms(p));
    update_loop(p, 0);
    *out = p;
    return 0;
fail:
    if (p) {
        vox__watch_close(p->w);
        vox__free(p);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

vox_conn *vox__apipe_conn(vox__apipe *p)
{
    return p->conn;
}

void *vox__apipe_ud(vox__apipe *p)
{
    return p->ud;
}

vox__apipe *vox__apipe_of(vox_conn *c)
{
    return c ? vox_conn_userdata(c) : NULL;
}

void vox__apipe_close(vox__apipe *p, int reason)
{
    if (!p || p->gone)
        return;
    enter(p);
    vox_conn_close(p->conn, reason);
    finish(p);
    leave(p);
}
