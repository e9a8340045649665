/* Internal contract of the async driver: a watched socket (vox_watch) and an
 * engine on it (vox__apipe), shared by the async client and server. */
#ifndef VOX_ASYNC_INT_H
#define VOX_ASYNC_INT_H

#include <vox/async.h>

#include "../internal.h"

struct vox_watch {
    vox_loop loop; /* copied */
    void *handle;  /* the adapter's */
    int fd;
    void (*on_ready)(vox_watch *w, int events);
    void (*on_timeout)(vox_watch *w);
    void *owner;
};

/* Opens a watch on fd (already non-blocking) through loop->ops->open. The
 * watch does not own fd. 0, VOX_ENOMEM or the adapter's error. */
VOX__HIDDEN int vox__watch_open(vox_watch **out, const vox_loop *loop, int fd,
                                void (*on_ready)(vox_watch *w, int events),
                                void (*on_timeout)(vox_watch *w), void *owner);
/* Stops watching (adapter close) and frees w. */
VOX__HIDDEN void vox__watch_close(vox_watch *w);

/* An engine on a watched socket: bytes and time move from loop callbacks as
 * block.c moves them in its poll loop; interest and timer follow
 * vox_conn_wants / vox_conn_deadline (on_wants included). When reading has
 * ended and the output is flushed (or dropped) the socket is closed and
 * on_gone runs once (after the engine's on_close); the pipe and its engine
 * are freed after on_gone returns. */
typedef struct vox__apipe vox__apipe;

/* opts is used for vox_conn_new; its on_wants and userdata are the pipe's:
 * the caller's userdata travels as ud and the conn's callbacks receive the
 * conn (use vox__apipe_of(conn) to get back). fd is owned from here on (also
 * on error). */
VOX__HIDDEN int vox__apipe_open(vox__apipe **out, const vox_loop *loop, int fd,
                                const vox_conn_opts *opts,
                                void (*on_gone)(vox__apipe *p, int reason, void *ud), void *ud);
VOX__HIDDEN vox_conn *vox__apipe_conn(vox__apipe *p);
VOX__HIDDEN void *vox__apipe_ud(vox__apipe *p);
VOX__HIDDEN vox__apipe *vox__apipe_of(vox_conn *c);
/* Ends it now (vox_conn_close(reason)); on_gone follows. */
VOX__HIDDEN void vox__apipe_close(vox__apipe *p, int reason);

/* A non-blocking TCP connect started now; *fd is in progress (EINPROGRESS) or
 * connected. 0 or VOX_ESYS. */
VOX__HIDDEN int vox__tcp_connect_start(const char *host, uint16_t port, int *fd);

/* Random bits for ids and jitter (0 never: a fixed mix without entropy). */
VOX__HIDDEN uint64_t vox__async_seed(void);

#endif
