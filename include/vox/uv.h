/* libvox on libuv: the loop adapter, header-only.
 *
 *     uv_loop_t *uv = uv_default_loop();
 *     vox_loop loop = vox_uv_loop(uv);
 *     vox_aclient_start(&client, &loop, &opts);
 *     uv_run(uv, UV_RUN_DEFAULT);
 *
 * Only programs that include this header need libuv (link with -luv);
 * libvox itself does not. Each socket the library watches gets one
 * uv_poll_t and one uv_timer_t, allocated with the C library's calloc (not
 * vox_set_allocator's) and freed by libuv's close callbacks: after stopping
 * the clients and servers, let the loop run (uv_run) until those callbacks
 * ran before uv_loop_close. Everything runs on the loop's thread: call the
 * async functions of vox/async.h from that thread only.
 */
#ifndef VOX_UV_H
#define VOX_UV_H

#include <stdlib.h>

#include <uv.h>
#include <vox/async.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One watched socket: the poll and timer handles, and the library's watch
 * (NULL once the library closed it: late callbacks stop here). The
 * adapter's own: not for use by programs. */
typedef struct vox_uv_watch {
    uv_poll_t poll;
    uv_timer_t timer;
    vox_watch *w;
    int open_handles;
} vox_uv_watch;

static inline void vox_uv__on_poll(uv_poll_t *handle, int status, int events)
{
    vox_uv_watch *h = (vox_uv_watch *)handle->data;
    int ev = 0;

    if (!h->w)
        return;
    if (status < 0) {
        /* Let the library's read and write meet the error itself. */
        ev = VOX_WANT_READ | VOX_WANT_WRITE;
    } else {
        if (events & (UV_READABLE | UV_DISCONNECT))
            ev |= VOX_WANT_READ;
        if (events & UV_WRITABLE)
            ev |= VOX_WANT_WRITE;
    }
    vox_watch_ready(h->w, ev);
}

static inline void vox_uv__on_timer(uv_timer_t *handle)
{
    vox_uv_watch *h = (vox_uv_watch *)handle->data;
    if (h->w)
        vox_watch_timeout(h->w);
}

static inline void vox_uv__on_closed(uv_handle_t *handle)
{
    vox_uv_watch *h = (vox_uv_watch *)handle->data;
    if (--h->open_handles == 0)
        free(h);
}

static inline int vox_uv__open(void *loop, vox_watch *w, int fd, void **handle)
{
    vox_uv_watch *h = (vox_uv_watch *)calloc(1, sizeof *h);
    if (!h)
        return VOX_ENOMEM;
    if (uv_poll_init_socket((uv_loop_t *)loop, &h->poll, fd) != 0) {
        free(h);
        return VOX_ESYS;
    }
    /* uv_timer_init cannot fail on a live loop. */
    uv_timer_init((uv_loop_t *)loop, &h->timer);
    h->poll.data = h;
    h->timer.data = h;
    h->w = w;
    h->open_handles = 2;
    *handle = h;
    return 0;
}

static inline void vox_uv__want(void *handle, int events)
{
    vox_uv_watch *h = (vox_uv_watch *)handle;
    int ev = 0;

    if (events & VOX_WANT_READ)
        ev |= UV_READABLE;
    if (events & VOX_WANT_WRITE)
        ev |= UV_WRITABLE;
    if (ev)
        uv_poll_start(&h->poll, ev, vox_uv__on_poll);
    else
        uv_poll_stop(&h->poll);
}

static inline void vox_uv__timer(void *handle, uint64_t delay_ms)
{
    vox_uv_watch *h = (vox_uv_watch *)handle;

    if (delay_ms == UINT64_MAX)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, vox_uv__on_timer, delay_ms, 0);
}

static inline void vox_uv__close(void *handle)
{
    vox_uv_watch *h = (vox_uv_watch *)handle;

    /* From here on no callback may reach the library's watch. */
    h->w = NULL;
    uv_close((uv_handle_t *)&h->poll, vox_uv__on_closed);
    uv_close((uv_handle_t *)&h->timer, vox_uv__on_closed);
}

static inline uint64_t vox_uv__now(void *loop)
{
    /* The cached loop time may be a whole callback batch old. */
    uv_update_time((uv_loop_t *)loop);
    return uv_now((uv_loop_t *)loop);
}

/* The adapter for loop (borrowed: it must outlive everything started on
 * it, and the handles' close callbacks). The returned vox_loop may be a
 * temporary: the functions that take it copy it. Its open returns 0,
 * VOX_ENOMEM or VOX_ESYS. */
static inline vox_loop vox_uv_loop(uv_loop_t *loop)
{
    static const vox_loop_ops ops = {
        vox_uv__open, vox_uv__want, vox_uv__timer, vox_uv__close, vox_uv__now,
    };
    vox_loop l;
    l.ops = &ops;
    l.loop = loop;
    return l;
}

#ifdef __cplusplus
}
#endif
#endif
