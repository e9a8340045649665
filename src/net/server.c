/* The threaded outbound server: a listening socket served by an accept
 * thread of its own, one joinable thread per call (bounded by max_calls),
 * an allow-list of peer addresses, and a graceful stop that drains, then
 * shuts the remaining calls' sockets down and joins every thread. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../call/call_int.h"

#define DEFAULT_MAX_CALLS 256u
#define DEFAULT_HANDSHAKE_MS 5000u
#define DEFAULT_DRAIN_MS 10000u
#define DEFAULT_STACK ((size_t)256 << 10)
#define LISTEN_BACKLOG 128

void vox__srv_log(const vox_server *s, int level, const char *fmt, ...)
{
    char line[512];
    if (!s->o.log && level >= 3)
        return; /* stderr gets errors, warnings and notices, not per-call chatter */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s->o.log)
        s->o.log(level, line, s->o.log_userdata);
    else
        fprintf(stderr, "vox: %s\n", line);
}

static void lock(const vox_server *s)
{
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
}

static void unlock(const vox_server *s)
{
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
}

static void wake(vox_server *s)
{
    /* The pipe is non-blocking: when it is full the reader is awake anyway. */
    ssize_t n = write(s->wake[1], "x", 1);
    VOX__UNUSED(n);
}

void vox__srv_release_fd(vox__srv_call *k)
{
    lock(k->srv);
    k->fd = -1;
    unlock(k->srv);
}

void vox__srv_call_done(vox__srv_call *k)
{
    vox_server *s = k->srv;
    lock(s);
    k->finished = 1;
    s->active--;
    pthread_cond_broadcast(&s->cv);
    unlock(s);
    wake(s); /* the accept thread joins it */
}

/* ------------------------------------------------------------ accepting */

static int spawn(vox_server *s, vox__srv_call *k)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr))
        return VOX_ESYS;
    int rc = pthread_attr_setstacksize(&attr, s->o.thread_stack);
    if (!rc)
        rc = pthread_create(&k->thread, &attr, vox__call_main, k);
    pthread_attr_destroy(&attr);
    if (rc)
        errno = rc;
    return rc ? VOX_ESYS : 0;
}

static void unlink_call(vox_server *s, vox__srv_call *k)
{
    for (vox__srv_call **p = &s->calls; *p; p = &(*p)->next)
        if (*p == k) {
            *p = k->next;
            return;
        }
}

/* Admits a call past the allow-list: counted, listed, given its thread. */
static void admit(vox_server *s, int fd, const char *peer)
{
    vox__srv_call *k = vox__calloc(1, sizeof *k);
    if (!k) {
        vox__srv_log(s, 0, "call from %s refused: out of memory", peer);
        close(fd);
        return;
    }
    k->srv = s;
    k->fd = fd;
    snprintf(k->peer, sizeof k->peer, "%s", peer);
    lock(s);
    if (s->active >= s->o.max_calls) {
        unlock(s);
        vox__srv_log(s, 1, "call from %s refused: %u calls already running (max_calls)", peer,
                     s->o.max_calls);
        close(fd);
        vox__free(k);
        return;
    }
    s->active++;
    s->served++;
    k->next = s->calls;
    s->calls = k;
    unlock(s);
    if (spawn(s, k) == 0)
        return;
    vox__srv_log(s, 0, "call from %s refused: no thread: %s", peer, strerror(errno));
    lock(s);
    unlink_call(s, k);
    s->active--;
    s->served--;
    unlock(s);
    close(fd);
    vox__free(k);
}

static void accept_one(vox_server *s)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int fd = accept(s->lfd, (struct sockaddr *)&sa, &len);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            vox__srv_log(s, 0, "accept: %s", strerror(errno));
            /* the backlog stays readable: pause instead of spinning */
            struct pollfd p = {s->wake[0], POLLIN, 0};
            poll(&p, 1, 100);
        }
        return;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    char peer[64];
    vox__peer_text(&sa, len, peer, sizeof peer);
    if (!vox__allowed(s->allow, peer)) {
        vox__srv_log(s, 1, "call from %s refused: not in the allow-list", peer);
        close(fd);
        return;
    }
    admit(s, fd, peer);
}

/* Joins the calls whose threads have finished. */
static void reap(vox_server *s)
{
    vox__srv_call *done = NULL;
    lock(s);
    for (vox__srv_call **p = &s->calls; *p;) {
        vox__srv_call *k = *p;
        if (k->finished) {
            *p = k->next;
            k->next = done;
            done = k;
        } else {
            p = &k->next;
        }
    }
    unlock(s);
    while (done) {
        vox__srv_call *k = done;
        done = k->next;
        pthread_join(k->thread, NULL);
        vox__free(k);
    }
}

static void drain_pipe(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static int stopping(const vox_server *s)
{
    lock(s);
    int st = s->stopping;
    unlock(s);
    return st;
}

static void *accept_main(void *arg)
{
    vox_server *s = arg;
    for (;;) {
        struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            vox__srv_log(s, 0, "poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents)
            drain_pipe(s->wake[0]);
        if (stopping(s))
            break;
        reap(s);
        if (p[0].revents)
            accept_one(s);
    }
    return NULL;
}

/* ------------------------------------------------------------ start/stop */

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return VOX_ESYS;
    return 0;
}

static void set_defaults(vox_server_opts *o)
{
    if (!o->max_calls)
        o->max_calls = DEFAULT_MAX_CALLS;
    if (!o->handshake_timeout_ms)
        o->handshake_timeout_ms = DEFAULT_HANDSHAKE_MS;
    if (!o->drain_timeout_ms)
        o->drain_timeout_ms = DEFAULT_DRAIN_MS;
    if (!o->thread_stack)
        o->thread_stack = DEFAULT_STACK;
    if (o->thread_stack < (size_t)PTHREAD_STACK_MIN)
        o->thread_stack = (size_t)PTHREAD_STACK_MIN;
    if (o->linger_seconds < 0)
        o->linger_seconds = 0;
}

/* A mutex and a condition on the monotonic clock (the drain deadline must
 * not move with the wall clock). */
static int sync_init(vox_server *s)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca))
        return VOX_ESYS;
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc)
        return VOX_ESYS;
    if (pthread_mutex_init(&s->mu, NULL)) {
        pthread_cond_destroy(&s->cv);
        return VOX_ESYS;
    }
    return 0;
}

static int open_sockets(vox_server *s)
{
    if (pipe(s->wake) < 0) {
        s->wake[0] = s->wake[1] = -1;
        return VOX_ESYS;
    }
    if (set_flags(s->wake[0]) || set_flags(s->wake[1]))
        return VOX_ESYS;
    int rc = vox__tcp_listen(s->host, s->o.port, LISTEN_BACKLOG, &s->lfd, &s->port);
    if (rc)
        return rc;
    /* a peer that resets between poll and accept must not block accept */
    return set_flags(s->lfd);
}

static void server_free(vox_server *s)
{
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    vox__allow_free(s->allow);
    vox__free(s->host);
    vox__free(s);
}

static int server_new(vox_server **out, const vox_server_opts *opts, vox_call_fn fn, void *userdata)
{
    vox_server *s = vox__calloc(1, sizeof *s);
    if (!s)
        return VOX_ENOMEM;
    s->lfd = s->wake[0] = s->wake[1] = -1;
    s->o = opts ? *opts : (vox_server_opts){0};
    s->fn = fn;
    s->userdata = userdata;
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

int vox_server_start(vox_server **out, const vox_server_opts *opts, vox_call_fn fn, void *userdata)
{
    if (!out || !fn || (opts && !vox__format_ok(opts->format)))
        return VOX_EINVAL;
    vox_server *s = NULL;
    int rc = server_new(&s, opts, fn, userdata);
    if (rc)
        return rc;
    if (sync_init(s)) {
        server_free(s);
        return VOX_ESYS;
    }
    rc = pthread_create(&s->acceptor, NULL, accept_main, s);
    if (rc) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        server_free(s);
        errno = rc;
        return VOX_ESYS;
    }
    s->acceptor_started = 1;
    *out = s;
    return 0;
}

uint16_t vox_server_port(const vox_server *s)
{
    return s ? s->port : 0;
}

unsigned vox_server_active(const vox_server *s)
{
    if (!s)
        return 0;
    lock(s);
    unsigned n = s->active;
    unlock(s);
    return n;
}

uint64_t vox_server_served(const vox_server *s)
{
    if (!s)
        return 0;
    lock(s);
    uint64_t n = s->served;
    unlock(s);
    return n;
}

/* Lets the calls end by themselves until the drain deadline, then shuts
 * the sockets of the rest down: their engines see EOF, so every blocking
 * helper returns VOX_ECLOSED and the linger ends. */
static void drain(vox_server *s)
{
    struct timespec dl = vox__deadline_in(s->o.drain_timeout_ms);
    lock(s);
    while (s->active > 0)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
            break;
    unsigned left = 0;
    for (vox__srv_call *k = s->calls; k; k = k->next)
        if (!k->finished && k->fd >= 0) {
            shutdown(k->fd, SHUT_RDWR);
            left++;
        }
    unlock(s);
    if (left)
        vox__srv_log(s, 1, "stop: closing %u call(s) still running after %u ms", left,
                     (unsigned)s->o.drain_timeout_ms);
}

void vox_server_stop(vox_server *s)
{
    if (!s)
        return;
    lock(s);
    s->stopping = 1;
    unlock(s);
    wake(s);
    if (s->acceptor_started)
        pthread_join(s->acceptor, NULL);
    /* no new calls from here: the list only shrinks by our own hand */
    close(s->lfd);
    s->lfd = -1;
    drain(s);
    while (s->calls) {
        vox__srv_call *k = s->calls;
        s->calls = k->next;
        pthread_join(k->thread, NULL);
        vox__free(k);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    server_free(s);
}

/* -------------------------------------------------------------- serve */

int vox_serve(const vox_server_opts *opts, vox_call_fn fn, void *userdata)
{
    /* Block the signals before any thread starts, so every server thread
     * inherits the mask and only sigwait below receives them. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, &old))
        return VOX_ESYS;
    vox_server *s = NULL;
    int rc = vox_server_start(&s, opts, fn, userdata);
    if (!rc) {
        int sig = 0;
        while (sigwait(&set, &sig) != 0) {
        }
        vox__srv_log(s, 2, "signal %d: stopping", sig);
        vox_server_stop(s);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
