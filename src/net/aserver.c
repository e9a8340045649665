/* The async outbound server: one listening socket watched by the loop, every
 * accepted call an engine on the loop (vox__apipe), an allow-list of peer
 * addresses, a session limit, and a graceful stop that drains, then closes
 * what is left, and reports done from the loop. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "async_int.h"
#include "net_int.h"

#define DEFAULT_MAX_SESSIONS 10000u
#define DEFAULT_HANDSHAKE_MS 5000u
#define LISTEN_BACKLOG 1024
/* Out of descriptors: accepting pauses this long instead of spinning on a
 * listener that stays readable. */
#define ACCEPT_PAUSE_MS 100u

struct vox_session {
    vox_aserver *srv;
    vox__apipe *pipe;
    vox_session *next, **pprev; /* the server's list it is on */
    int started;                /* on_session ran: on_end is owed */
    void *userdata;
    char uuid[64];
    char peer[64];
};

struct vox_aserver {
    vox_aserver_opts o; /* copied; host and allow point to owned copies */
    char *host;
    char **allow;
    vox_loop loop;
    int lfd;       /* listening socket (-1 once stopped) */
    vox_watch *lw; /* its watch; its timer paces accept after EMFILE */
    int tfd[2];    /* a pipe that never becomes readable: holds tw */
    vox_watch *tw; /* the stop's timer: drain deadline, then done */
    uint16_t port;
    unsigned active;
    vox_session *live;    /* sessions running */
    vox_session *closing; /* sessions the stop closed, waiting for on_gone */
    int stopping;
    int forced; /* the drain deadline passed: the rest were closed */
    uint32_t drain_ms;
    void (*done)(vox_aserver *s, void *userdata);
    void *done_ud;
};

static void slog(const vox_aserver *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void slog(const vox_aserver *s, int level, const char *fmt, ...)
{
    char line[512];
    if (!s->o.log && level >= 3)
        return; /* stderr gets errors, warnings and notices, not per-call chatter */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s->o.log)
        s->o.log(level, line, s->o.userdata);
    else
        fprintf(stderr, "vox: %s\n", line);
}

static void want(vox_watch *w, int events)
{
    w->loop.ops->want(w->handle, events);
}

static void arm(vox_watch *w, uint64_t delay_ms)
{
    w->loop.ops->timer(w->handle, delay_ms);
}

/* ------------------------------------------------------------ sessions */

static void link_to(vox_session **head, vox_session *x)
{
    x->next = *head;
    if (*head)
        (*head)->pprev = &x->next;
    *head = x;
    x->pprev = head;
}

static void unlink_session(vox_session *x)
{
    if (x->next)
        x->next->pprev = x->pprev;
    *x->pprev = x->next;
    x->next = NULL;
    x->pprev = NULL;
}

static vox_session *session_of(vox_conn *c)
{
    return vox__apipe_ud(vox__apipe_of(c));
}

static void log_handshake_error(vox_session *x, vox_conn *c, int rc)
{
    const vox_aserver *s = x->srv;
    const char *why = vox_conn_error_text(c);
    why = why && *why ? why : vox_strerror(rc);
    if (rc == VOX_ENOTFULL || rc == VOX_ENOTASYNC)
        slog(s, 0, "call from %s refused: the dialplan's socket needs `async full` (%s)", x->peer,
             why);
    else if (rc == VOX_ETIMEDOUT)
        slog(s, 1, "call from %s: no handshake within %u ms", x->peer,
             (unsigned)s->o.handshake_timeout_ms);
    else
        slog(s, 1, "call from %s: handshake failed: %s", x->peer, why);
}

static void on_ready(vox_conn *c, int status, void *unused)
{
    vox_session *x = session_of(c);
    vox_aserver *s = x->srv;
    if (status) {
        log_handshake_error(x, c, status);
        vox__apipe_close(x->pipe, status);
        return;
    }
    const char *uuid = vox_conn_uuid(c);
    snprintf(x->uuid, sizeof x->uuid, "%s", uuid ? uuid : "");
    slog(s, 3, "call %s from %s: started", x->uuid, x->peer);
    x->started = 1;
    s->o.on_session(x, s->o.userdata);
}

/* The pipe is gone (socket closed): the session ends, and with the last
 * one a stopping server finishes from its timer. */
static void on_gone(vox__apipe *p, int reason, void *ud)
{
    vox_session *x = ud;
    vox_aserver *s = x->srv;
    unlink_session(x);
    s->active--;
    if (x->started) {
        slog(s, 3, "call %s from %s: ended (%s)", x->uuid, x->peer,
             reason ? vox_strerror(reason) : "normally");
        if (s->o.on_end)
            s->o.on_end(x, reason, s->o.userdata);
    }
    vox__free(x);
    if (s->stopping && s->active == 0)
        arm(s->tw, 0);
}

static int session_open(vox_aserver *s, vox_session *x, int fd)
{
    vox_conn_opts o = {
        .role = VOX_ROLE_OUTBOUND,
        .format = s->o.format,
        .linger_seconds = s->o.linger_seconds,
        .handshake_timeout_ms = s->o.handshake_timeout_ms,
        .on_ready = on_ready,
    };
    return vox__apipe_open(&x->pipe, &s->loop, fd, &o, on_gone, x);
}

/* Admits a call past the allow-list: counted, listed, given its engine. */
static void admit(vox_aserver *s, int fd, const char *peer)
{
    if (s->active >= s->o.max_sessions) {
        slog(s, 1, "call from %s refused: %u sessions already running (max_sessions)", peer,
             s->o.max_sessions);
        close(fd);
        return;
    }
    vox_session *x = vox__calloc(1, sizeof *x);
    if (!x) {
        slog(s, 0, "call from %s refused: out of memory", peer);
        close(fd);
        return;
    }
    x->srv = s;
    snprintf(x->peer, sizeof x->peer, "%s", peer);
    link_to(&s->live, x);
    s->active++;
    int rc = session_open(s, x, fd); /* fd is the pipe's from here, even on error */
    if (rc) {
        slog(s, 0, "call from %s refused: %s", peer, vox_strerror(rc));
        unlink_session(x);
        s->active--;
        vox__free(x);
    }
}

/* ------------------------------------------------------------ accepting */

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return VOX_ESYS;
    return 0;
}

/* One accept: 1 when a connection was taken (or refused), 0 when the
 * backlog is empty or accepting must pause. */
static int accept_one(vox_aserver *s)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int fd = accept(s->lfd, (struct sockaddr *)&sa, &len);
    if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED)
            return 1;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            slog(s, 0, "accept: %s", strerror(errno));
            /* the backlog stays readable: pause instead of spinning */
            want(s->lw, 0);
            arm(s->lw, ACCEPT_PAUSE_MS);
        }
        return 0;
    }
    char peer[64];
    vox__peer_text(&sa, len, peer, sizeof peer);
    if (!vox__allowed(s->allow, peer)) {
        slog(s, 1, "call from %s refused: not in the allow-list", peer);
        close(fd);
    } else if (set_flags(fd)) {
        slog(s, 0, "call from %s refused: %s", peer, strerror(errno));
        close(fd);
    } else {
        admit(s, fd, peer);
    }
    return 1;
}

static void on_listener(vox_watch *w, int events)
{
    vox_aserver *s = w->owner;
    /* a callback may stop the server: the listener is closed then */
    while (!s->stopping && accept_one(s)) {
    }
}

static void on_listener_pause(vox_watch *w)
{
    want(w, VOX_WANT_READ);
}

/* ------------------------------------------------------------ start */

static void close_listener(vox_aserver *s)
{
    if (s->lw)
        vox__watch_close(s->lw);
    s->lw = NULL;
    if (s->lfd >= 0)
        close(s->lfd);
    s->lfd = -1;
}

static void server_free(vox_aserver *s)
{
    close_listener(s);
    if (s->tw)
        vox__watch_close(s->tw);
    for (int i = 0; i < 2; i++)
        if (s->tfd[i] >= 0)
            close(s->tfd[i]);
    vox__allow_free(s->allow);
    vox__free(s->host);
    vox__free(s);
}

static void on_stop_timer(vox_watch *w);

static void never_ready(vox_watch *w, int events)
{
    /* the stop's pipe is never written and never watched */
}

/* The listener, and the stop's timer: opened now so that a stop never
 * fails for want of a descriptor. */
static int open_sockets(vox_aserver *s)
{
    int rc = vox__tcp_listen(s->host, s->o.port, LISTEN_BACKLOG, &s->lfd, &s->port);
    if (rc)
        return rc;
    if (set_flags(s->lfd))
        return VOX_ESYS;
    if (pipe(s->tfd) < 0) {
        s->tfd[0] = s->tfd[1] = -1;
        return VOX_ESYS;
    }
    if (set_flags(s->tfd[0]) || set_flags(s->tfd[1]))
        return VOX_ESYS;
    rc = vox__watch_open(&s->lw, &s->loop, s->lfd, on_listener, on_listener_pause, s);
    if (!rc)
        rc = vox__watch_open(&s->tw, &s->loop, s->tfd[0], never_ready, on_stop_timer, s);
    if (rc)
        return rc;
    want(s->tw, 0);
    want(s->lw, VOX_WANT_READ);
    return 0;
}

static void set_defaults(vox_aserver_opts *o)
{
    if (!o->max_sessions)
        o->max_sessions = DEFAULT_MAX_SESSIONS;
    if (!o->handshake_timeout_ms)
        o->handshake_timeout_ms = DEFAULT_HANDSHAKE_MS;
    if (o->linger_seconds < 0)
        o->linger_seconds = 0;
}

int vox_aserver_start(vox_aserver **out, const vox_loop *loop, const vox_aserver_opts *opts)
{
    if (!out || !loop || !loop->ops || !opts || !opts->on_session ||
        !vox__format_ok(opts->format))
        return VOX_EINVAL;
    *out = NULL;
    vox_aserver *s = vox__calloc(1, sizeof *s);
    if (!s)
        return VOX_ENOMEM;
    s->lfd = s->tfd[0] = s->tfd[1] = -1;
    s->loop = *loop;
    s->o = *opts;
    set_defaults(&s->o);
    int rc = vox__listen_copy(&s->host, &s->allow, s->o.host, s->o.allow);
    s->o.host = s->host;
    s->o.allow = (const char *const *)s->allow;
    if (!rc)
        rc = open_sockets(s);
    if (rc) {
        int e = errno;
        server_free(s);
        errno = e;
        return rc;
    }
    *out = s;
    return 0;
}

uint16_t vox_aserver_port(const vox_aserver *s)
{
    return s ? s->port : 0;
}

unsigned vox_aserver_active(const vox_aserver *s)
{
    return s ? s->active : 0;
}

/* ------------------------------------------------------------ stop */

/* The drain deadline passed: every session still running is closed; each
 * one's on_gone follows (now or from the loop). */
static void close_the_rest(vox_aserver *s)
{
    slog(s, 1, "stop: closing %u session(s) still running after %u ms", s->active,
         (unsigned)s->drain_ms);
    while (s->live) {
        vox_session *x = s->live;
        unlink_session(x);
        link_to(&s->closing, x);
        vox__apipe_close(x->pipe, VOX_ECLOSED);
    }
}

static void on_stop_timer(vox_watch *w)
{
    vox_aserver *s = w->owner;
    if (s->active == 0) {
        void (*done)(vox_aserver *, void *) = s->done;
        void *ud = s->done_ud;
        if (done)
            done(s, ud);
        server_free(s);
        return;
    }
    if (!s->forced) {
        s->forced = 1;
        close_the_rest(s); /* the last on_gone arms this timer again */
    }
}

void vox_aserver_stop(vox_aserver *s, uint32_t drain_ms,
                      void (*done)(vox_aserver *s, void *userdata), void *userdata)
{
    if (!s || s->stopping)
        return;
    s->stopping = 1;
    s->done = done;
    s->done_ud = userdata;
    s->drain_ms = drain_ms;
    /* new connections are refused by the system from here on */
    close_listener(s);
    if (s->active)
        slog(s, 2, "stop: waiting up to %u ms for %u session(s)", (unsigned)drain_ms, s->active);
    arm(s->tw, s->active ? drain_ms : 0);
}

/* ------------------------------------------------------------ sessions */

vox_conn *vox_session_conn(vox_session *x)
{
    return x ? vox__apipe_conn(x->pipe) : NULL;
}

const char *vox_session_uuid(const vox_session *x)
{
    return x && x->uuid[0] ? x->uuid : NULL;
}

void vox_session_set_userdata(vox_session *x, void *userdata)
{
    if (x)
        x->userdata = userdata;
}

void *vox_session_userdata(const vox_session *x)
{
    return x ? x->userdata : NULL;
}
