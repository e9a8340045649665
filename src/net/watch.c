/* The library's side of a loop adapter: one watched socket, whose readiness
 * and timer callbacks the adapter forwards here. */
#include "async_int.h"

int vox__watch_open(vox_watch **out, const vox_loop *loop, int fd,
                    void (*on_ready)(vox_watch *w, int events), void (*on_timeout)(vox_watch *w),
                    void *owner)
{
    vox_watch *w;
    int rc;

    if (!out || !loop || !loop->ops || fd < 0 || !on_ready || !on_timeout)
        return VOX_EINVAL;
    if (!(w = vox__calloc(1, sizeof *w)))
        return VOX_ENOMEM;
    w->loop = *loop;
    w->fd = fd;
    w->on_ready = on_ready;
    w->on_timeout = on_timeout;
    w->owner = owner;
    rc = loop->ops->open(loop->loop, w, fd, &w->handle);
    if (rc) {
        vox__free(w);
        return rc < 0 ? rc : VOX_ESYS;
    }
    *out = w;
    return 0;
}

void vox__watch_close(vox_watch *w)
{
    if (!w)
        return;
    /* The adapter promises no callback reaches w once close returns. */
    w->loop.ops->close(w->handle);
    vox__free(w);
}

void vox_watch_ready(vox_watch *w, int events)
{
    if (w && w->on_ready)
        w->on_ready(w, events);
}

void vox_watch_timeout(vox_watch *w)
{
    if (w && w->on_timeout)
        w->on_timeout(w);
}
