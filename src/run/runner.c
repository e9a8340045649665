/* The runner: several listeners on one loop, one log for them all, and the
 * process's SIGHUP/SIGINT/SIGTERM. Signal handlers only count the signal
 * and write a byte to a pipe whose read end the loop watches; everything
 * else happens on the loop. The listeners' callbacks are wrapped so that
 * the runner can log around them and know which calls are running, while
 * the user's callbacks still receive the user's userdata. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include <vox/runner.h>

#include "../net/async_int.h"

#define DEFAULT_DRAIN_MS 10000u
#define SOURCE_MAX 96
#define RUNNER_SOURCE "runner"

/* ------------------------------------------------- a set of sessions */

/* The calls that started and have not ended, per server: a stop that must
 * not wait closes each of them. Open addressing, so thousands of calls
 * come and go in constant time. */
typedef struct pset {
    void **slot;
    size_t cap, n; /* cap: 0 or a power of two */
} pset;

static size_t pset_home(const pset *s, const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;
    return (size_t)(x >> 32) & (s->cap - 1);
}

static void pset_put(pset *s, void *p)
{
    size_t i = pset_home(s, p);
    while (s->slot[i])
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = p;
    s->n++;
}

static int pset_add(pset *s, void *p)
{
    if ((s->n + 1) * 4 > s->cap * 3) {
        pset old = *s;
        size_t cap = s->cap ? s->cap * 2 : 16;
        void **v = vox__calloc(cap, sizeof *v);
        if (!v)
            return VOX_ENOMEM;
        *s = (pset){v, cap, 0};
        for (size_t i = 0; i < old.cap; i++)
            if (old.slot[i])
                pset_put(s, old.slot[i]);
        vox__free(old.slot);
    }
    pset_put(s, p);
    return 0;
}

/* Whether home h lies cyclically in (from, to]. */
static int between(size_t h, size_t from, size_t to)
{
    return from <= to ? (h > from && h <= to) : (h > from || h <= to);
}

static void pset_del(pset *s, const void *p)
{
    size_t m = s->cap - 1, i, j;

    if (!s->cap)
        return;
    for (i = pset_home(s, p); s->slot[i] != p; i = (i + 1) & m)
        if (!s->slot[i])
            return;
    s->slot[i] = NULL;
    s->n--;
    /* Shift the rest of the run back so no lookup stops at the hole. */
    for (j = (i + 1) & m; s->slot[j]; j = (j + 1) & m) {
        if (between(pset_home(s, s->slot[j]), i, j))
            continue;
        s->slot[i] = s->slot[j];
        s->slot[j] = NULL;
        i = j;
    }
}

/* ------------------------------------------------------------ state */

/* A server started by the runner. It lives until its stop is done, which
 * may be after the runner was freed (r is NULL then). */
typedef struct rserver {
    vox_runner *r;
    vox_aserver *srv;
    void (*on_session)(vox_session *s, void *userdata);
    void (*on_end)(vox_session *s, int reason, void *userdata);
    void (*log)(int level, const char *line, void *userdata);
    void *userdata;
    pset sessions;
    int stopping;
    struct rserver *next, **pprev;
    char source[SOURCE_MAX];
} rserver;

/* A client started by the runner; kept until the runner is freed. */
typedef struct rclient {
    vox_runner *r;
    vox_aclient *c; /* NULL once stopped */
    void (*on_connect)(vox_aclient *c, void *userdata);
    void (*on_disconnect)(vox_aclient *c, int reason, uint32_t retry_ms, void *userdata);
    void (*on_missed)(vox_aclient *c, void *userdata);
    vox_aclient_event_cb on_event;
    void *userdata;
    struct rclient *next;
    char source[SOURCE_MAX];
} rclient;

enum { RUNNING, STOPPING, STOPPED };

#define NOWNED 3
static const int owned[NOWNED] = {SIGHUP, SIGINT, SIGTERM};

struct vox_runner {
    vox_loop loop;
    vox_runner_opts o;
    vox_logger *log;
    int own_log;
    int pfd[2];   /* the signal handlers write to [1]; [0] is watched */
    vox_watch *w; /* on pfd[0]; its timer finishes the stop */
    int signals;  /* it owns them: old holds what to restore */
    struct sigaction old[NOWNED];
    rserver *servers;
    rclient *clients;
    unsigned pending; /* servers whose stop has not finished */
    int state;
    int depth;        /* our calls into user code on the stack */
    int free_pending; /* vox_runner_free ran inside one of them */
    int dying;        /* being freed */
};

static void destroy(vox_runner *r);

static void enter(vox_runner *r)
{
    r->depth++;
}

static void leave(vox_runner *r)
{
    if (--r->depth == 0 && r->free_pending && !r->dying)
        destroy(r);
}

static void rlog(const vox_runner *r, int level, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void rlog(const vox_runner *r, int level, const char *source, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    if (level > vox_logger_level(r->log))
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    vox_logger_write(r->log, level, source, text);
}

/* "aserver 127.0.0.1:8084", "aclient [::1]:8021" */
static void source_name(char *out, const char *kind, const char *host, unsigned port)
{
    int v6 = strchr(host, ':') != NULL;
    snprintf(out, SOURCE_MAX, "%s %s%s%s:%u", kind, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

static void arm(vox_runner *r, uint64_t delay_ms)
{
    if (r->w)
        r->loop.ops->timer(r->w->handle, delay_ms);
}

/* ------------------------------------------------------------ signals */

/* One runner per process owns the signals; the handler reaches it through
 * these. Atomics, lock-free on every platform we run on, are safe to use in
 * a handler. */
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static vox_runner *sig_owner;
static atomic_int sig_fd = -1;
static atomic_uint sig_counts[NOWNED];

static void on_os_signal(int signo)
{
    int e = errno;
    char byte = 0;

    for (int i = 0; i < NOWNED; i++)
        if (owned[i] == signo)
            atomic_fetch_add(&sig_counts[i], 1);
    int fd = atomic_load(&sig_fd);
    /* A full pipe already holds a wake-up; the count keeps the rest. */
    if (fd >= 0 && write(fd, &byte, 1) < 0) {
    }
    errno = e;
}

static int take_signals(vox_runner *r)
{
    struct sigaction sa;
    int i, e;

    pthread_mutex_lock(&sig_mu);
    if (sig_owner) {
        pthread_mutex_unlock(&sig_mu);
        return VOX_EBUSY;
    }
    for (i = 0; i < NOWNED; i++)
        atomic_store(&sig_counts[i], 0);
    atomic_store(&sig_fd, r->pfd[1]);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_os_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < NOWNED; i++)
        sigaddset(&sa.sa_mask, owned[i]);
    sa.sa_flags = SA_RESTART;
    for (i = 0; i < NOWNED; i++) {
        if (sigaction(owned[i], &sa, &r->old[i]) < 0)
            break;
    }
    if (i < NOWNED) {
        e = errno;
        while (i-- > 0)
            sigaction(owned[i], &r->old[i], NULL);
        atomic_store(&sig_fd, -1);
        pthread_mutex_unlock(&sig_mu);
        errno = e;
        return VOX_ESYS;
    }
    sig_owner = r;
    r->signals = 1;
    pthread_mutex_unlock(&sig_mu);
    return 0;
}

static void give_back_signals(vox_runner *r)
{
    if (!r->signals)
        return;
    pthread_mutex_lock(&sig_mu);
    for (int i = NOWNED; i-- > 0;)
        sigaction(owned[i], &r->old[i], NULL);
    /* Handlers are back before the pipe goes: none writes to a closed fd. */
    atomic_store(&sig_fd, -1);
    sig_owner = NULL;
    pthread_mutex_unlock(&sig_mu);
    r->signals = 0;
}

static void notify_signal(vox_runner *r, int signo)
{
    if (r->o.on_signal && !r->free_pending)
        r->o.on_signal(r, signo, r->o.userdata);
}

static void force(vox_runner *r);

static void got_hup(vox_runner *r)
{
    if (vox_runner_reopen_log(r) == 0)
        rlog(r, VOX_LOG_INFO, RUNNER_SOURCE, "SIGHUP: log reopened");
    notify_signal(r, SIGHUP);
}

/* SIGTERM stops; so does the first SIGINT, and the next one forces. */
static void got_stop(vox_runner *r, int signo, const char *name)
{
    if (r->state == RUNNING) {
        rlog(r, VOX_LOG_INFO, RUNNER_SOURCE, "%s received", name);
        vox_runner_stop(r, r->o.drain_ms);
    } else if (signo == SIGINT && r->state == STOPPING) {
        rlog(r, VOX_LOG_WARNING, RUNNER_SOURCE, "%s again: closing every call now", name);
        force(r);
    }
    notify_signal(r, signo);
}

static void on_pipe(vox_watch *w, int events)
{
    vox_runner *r = w->owner;
    char buf[64];
    unsigned n[NOWNED];

    while (read(r->pfd[0], buf, sizeof buf) > 0) {
    }
    /* Read the counts after draining: a signal that lands in between has
     * its byte in the pipe and wakes us again. */
    for (int i = 0; i < NOWNED; i++)
        n[i] = atomic_exchange(&sig_counts[i], 0);
    enter(r);
    if (n[0])
        got_hup(r);
    if (n[2])
        got_stop(r, SIGTERM, "SIGTERM");
    for (unsigned k = 0; k < n[1] && k < 2; k++)
        got_stop(r, SIGINT, "SIGINT");
    leave(r);
}

/* ------------------------------------------------------------ stopping */

/* Everything is down: the runner lets go of the loop and says so. */
static void finish(vox_runner *r)
{
    enter(r);
    r->state = STOPPED;
    vox__watch_close(r->w);
    r->w = NULL;
    rlog(r, VOX_LOG_INFO, RUNNER_SOURCE, "stopped");
    if (r->o.on_stopped)
        r->o.on_stopped(r, r->o.userdata);
    leave(r);
}

static void on_timer(vox_watch *w)
{
    vox_runner *r = w->owner;
    if (r->state == STOPPING && r->pending == 0)
        finish(r);
}

static void stop_clients(vox_runner *r)
{
    for (rclient *w = r->clients; w; w = w->next) {
        vox_aclient *c = w->c;
        if (!c)
            continue;
        w->c = NULL;
        /* pending requests complete in here, with the user's callbacks */
        vox_aclient_stop(c);
        rlog(r, VOX_LOG_INFO, w->source, "stopped");
    }
}

static void server_done(vox_aserver *srv, void *ud);

static void stop_server(rserver *w, uint32_t drain_ms)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    vox_aserver_stop(w->srv, drain_ms, server_done, w);
}

/* Closes every call that started; each one's end comes from the loop. */
static void force(vox_runner *r)
{
    enter(r);
    for (rserver *w = r->servers; w; w = w->next) {
        /* Closing runs completions, not on_end: the set holds still. */
        for (size_t i = 0; i < w->sessions.cap; i++) {
            vox_session *s = w->sessions.slot[i];
            if (s)
                vox_conn_close(vox_session_conn(s), VOX_ECLOSED);
        }
    }
    leave(r);
}

void vox_runner_stop(vox_runner *r, uint32_t drain_ms)
{
    if (!r || r->dying)
        return;
    if (r->state == STOPPING && drain_ms == 0) {
        force(r);
        return;
    }
    if (r->state != RUNNING)
        return;
    enter(r);
    r->state = STOPPING;
    rlog(r, VOX_LOG_INFO, RUNNER_SOURCE, "stopping: %u call(s) running, up to %u ms to finish",
         vox_runner_sessions(r), (unsigned)drain_ms);
    stop_clients(r);
    for (rserver *w = r->servers; w; w = w->next) {
        r->pending++;
        stop_server(w, drain_ms);
    }
    if (r->pending == 0)
        arm(r, 0); /* on_stopped still comes from the loop */
    leave(r);
}

/* ------------------------------------------------------------ servers */

static void server_log(int level, const char *line, void *ud)
{
    rserver *w = ud;

    if (w->log)
        w->log(level, line, w->userdata);
    else if (w->r)
        vox_logger_write(w->r->log, level, w->source, line);
    else if (level <= VOX_LOG_WARNING)
        fprintf(stderr, "vox: %s\n", line); /* the runner and its log are gone */
}

static void server_session(vox_session *s, void *ud)
{
    rserver *w = ud;
    vox_runner *r = w->r;

    if (pset_add(&w->sessions, s))
        server_log(VOX_LOG_WARNING, "out of memory: a forced stop will not close this call", w);
    if (r)
        enter(r);
    w->on_session(s, w->userdata);
    if (r)
        leave(r); /* may free the runner: w stays */
}

static void server_end(vox_session *s, int reason, void *ud)
{
    rserver *w = ud;
    vox_runner *r = w->r;

    pset_del(&w->sessions, s);
    if (!w->on_end)
        return;
    if (r)
        enter(r);
    w->on_end(s, reason, w->userdata);
    if (r)
        leave(r);
}

static void server_unlink(rserver *w)
{
    if (!w->pprev)
        return;
    if (w->next)
        w->next->pprev = w->pprev;
    *w->pprev = w->next;
    w->next = NULL;
    w->pprev = NULL;
}

/* The server's stop is done and it is freed: so goes its record. */
static void server_done(vox_aserver *srv, void *ud)
{
    rserver *w = ud;
    vox_runner *r = w->r;

    if (r) {
        server_unlink(w);
        rlog(r, VOX_LOG_INFO, w->source, "stopped");
        if (--r->pending == 0 && r->state == STOPPING)
            arm(r, 0);
    }
    vox__free(w->sessions.slot);
    vox__free(w);
}

int vox_runner_add_server(vox_runner *r, const vox_aserver_opts *opts, vox_aserver **out)
{
    if (out)
        *out = NULL;
    if (!r || !opts || !opts->on_session)
        return VOX_EINVAL;
    if (r->state != RUNNING || r->dying)
        return VOX_ESTATE;
    rserver *w = vox__calloc(1, sizeof *w);
    if (!w)
        return VOX_ENOMEM;
    const char *host = opts->host && *opts->host ? opts->host : "127.0.0.1";
    *w = (rserver){.r = r, .on_session = opts->on_session, .on_end = opts->on_end,
                   .log = opts->log, .userdata = opts->userdata};
    source_name(w->source, "aserver", host, opts->port);
    vox_aserver_opts o = *opts;
    o.on_session = server_session;
    o.on_end = server_end;
    o.log = server_log;
    o.userdata = w;
    int rc = vox_aserver_start(&w->srv, &r->loop, &o);
    if (rc) {
        int e = errno;
        vox__free(w);
        errno = e;
        return rc;
    }
    source_name(w->source, "aserver", host, vox_aserver_port(w->srv));
    w->next = r->servers;
    if (r->servers)
        r->servers->pprev = &w->next;
    r->servers = w;
    w->pprev = &r->servers;
    rlog(r, VOX_LOG_INFO, w->source, "listening");
    if (out)
        *out = w->srv;
    return 0;
}

/* ------------------------------------------------------------ clients */

static void client_connect(vox_aclient *c, void *ud)
{
    rclient *w = ud;
    vox_runner *r = w->r;

    rlog(r, VOX_LOG_INFO, w->source, "connected");
    if (!w->on_connect)
        return;
    enter(r);
    w->on_connect(c, w->userdata);
    leave(r);
}

static void client_disconnect(vox_aclient *c, int reason, uint32_t retry_ms, void *ud)
{
    rclient *w = ud;
    vox_runner *r = w->r;

    if (reason == VOX_EAUTH)
        rlog(r, VOX_LOG_ERROR, w->source, "password rejected; next attempt in %u ms",
             (unsigned)retry_ms);
    else
        rlog(r, VOX_LOG_WARNING, w->source, "not connected (%s); next attempt in %u ms",
             vox_strerror(reason), (unsigned)retry_ms);
    if (!w->on_disconnect)
        return;
    enter(r);
    w->on_disconnect(c, reason, retry_ms, w->userdata);
    leave(r);
}

static void client_missed(vox_aclient *c, void *ud)
{
    rclient *w = ud;
    vox_runner *r = w->r;

    rlog(r, VOX_LOG_WARNING, w->source, "reconnected: events may have been missed");
    if (!w->on_missed)
        return;
    enter(r);
    w->on_missed(c, w->userdata);
    leave(r);
}

static void client_event(vox_aclient *c, const vox_event *ev, void *ud)
{
    rclient *w = ud;
    vox_runner *r = w->r;

    enter(r);
    w->on_event(c, ev, w->userdata);
    leave(r);
}

int vox_runner_add_client(vox_runner *r, const vox_aclient_opts *opts, vox_aclient **out)
{
    if (out)
        *out = NULL;
    if (!r || !opts)
        return VOX_EINVAL;
    if (r->state != RUNNING || r->dying)
        return VOX_ESTATE;
    rclient *w = vox__calloc(1, sizeof *w);
    if (!w)
        return VOX_ENOMEM;
    *w = (rclient){.r = r, .on_connect = opts->on_connect, .on_disconnect = opts->on_disconnect,
                   .on_missed = opts->on_missed, .on_event = opts->on_event,
                   .userdata = opts->userdata};
    source_name(w->source, "aclient", opts->host && *opts->host ? opts->host : "127.0.0.1",
                opts->port ? opts->port : 8021);
    vox_aclient_opts o = *opts;
    o.on_connect = client_connect;
    o.on_disconnect = client_disconnect;
    o.on_missed = client_missed;
    o.on_event = opts->on_event ? client_event : NULL;
    o.userdata = w;
    int rc = vox_aclient_start(&w->c, &r->loop, &o);
    if (rc) {
        int e = errno;
        vox__free(w);
        errno = e;
        return rc;
    }
    w->next = r->clients;
    r->clients = w;
    rlog(r, VOX_LOG_INFO, w->source, "connecting");
    if (out)
        *out = w->c;
    return 0;
}

/* ------------------------------------------------------------ the runner */

static int nonblocking_pipe(int fds[2])
{
    if (pipe(fds) < 0) {
        fds[0] = fds[1] = -1;
        return VOX_ESYS;
    }
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
            return VOX_ESYS;
    }
    return 0;
}

static int loop_ok(const vox_loop *l)
{
    const vox_loop_ops *ops = l ? l->ops : NULL;
    return ops && ops->open && ops->want && ops->timer && ops->close && ops->now;
}

int vox_runner_new(vox_runner **out, const vox_loop *loop, const vox_runner_opts *opts)
{
    vox_runner *r;
    int rc;

    if (!out || !loop_ok(loop))
        return VOX_EINVAL;
    *out = NULL;
    if (!(r = vox__calloc(1, sizeof *r)))
        return VOX_ENOMEM;
    r->pfd[0] = r->pfd[1] = -1;
    r->loop = *loop;
    if (opts)
        r->o = *opts;
    if (!r->o.drain_ms)
        r->o.drain_ms = DEFAULT_DRAIN_MS;
    r->log = r->o.logger;
    if (!r->log) {
        if ((rc = vox_logger_open(&r->log, NULL, VOX_LOG_INFO)))
            goto fail;
        r->own_log = 1;
    }
    if ((rc = nonblocking_pipe(r->pfd)) ||
        (rc = vox__watch_open(&r->w, loop, r->pfd[0], on_pipe, on_timer, r)))
        goto fail;
    loop->ops->want(r->w->handle, 0);
    if (r->o.signals) {
        if ((rc = take_signals(r)))
            goto fail;
        loop->ops->want(r->w->handle, VOX_WANT_READ);
    }
    *out = r;
    return 0;
fail:;
    int e = errno;
    destroy(r);
    errno = e;
    return rc;
}

/* Clients stop, servers stop without a drain and carry on alone. */
static void let_go(vox_runner *r)
{
    stop_clients(r);
    while (r->servers) {
        rserver *w = r->servers;
        stop_server(w, 0);
        server_unlink(w);
        w->r = NULL;
    }
    while (r->clients) {
        rclient *w = r->clients;
        r->clients = w->next;
        vox__free(w);
    }
}

static void destroy(vox_runner *r)
{
    r->dying = 1;
    r->depth++; /* what runs from here may call back: nothing frees twice */
    give_back_signals(r);
    let_go(r);
    vox__watch_close(r->w);
    for (int i = 0; i < 2; i++)
        if (r->pfd[i] >= 0)
            close(r->pfd[i]);
    if (r->own_log)
        vox_logger_free(r->log);
    vox__free(r);
}

void vox_runner_free(vox_runner *r)
{
    if (!r || r->dying)
        return;
    if (r->depth > 0) {
        r->free_pending = 1;
        return;
    }
    destroy(r);
}

int vox_runner_reopen_log(vox_runner *r)
{
    if (!r)
        return VOX_EINVAL;
    int rc = vox_logger_reopen(r->log);
    if (rc) {
        int e = errno;
        rlog(r, VOX_LOG_ERROR, RUNNER_SOURCE, "cannot reopen the log: %s", strerror(e));
        errno = e;
    }
    return rc;
}

vox_logger *vox_runner_logger(const vox_runner *r)
{
    return r ? r->log : NULL;
}

int vox_runner_running(const vox_runner *r)
{
    return r && r->state == RUNNING && !r->dying;
}

unsigned vox_runner_sessions(const vox_runner *r)
{
    unsigned n = 0;
    if (r)
        for (const rserver *w = r->servers; w; w = w->next)
            n += vox_aserver_active(w->srv);
    return n;
}

void *vox_runner_userdata(const vox_runner *r)
{
    return r ? r->o.userdata : NULL;
}
