/* Outbound servers under load: calls per second and resident memory per
 * concurrent session, at 1,000 and 10,000 concurrent calls, for the threaded
 * server (vox_server: one thread per call, default 256 KiB stacks) and the
 * async one (vox_aserver on a libuv loop, when built with vox/uv.h).
 *
 * A load generator (epoll, in a process of its own: the hard open-file
 * limit here is 20,000 and cannot be raised without CAP_SYS_RESOURCE, and
 * 10,000 calls take 20,000 sockets when both ends live in one process; it
 * also keeps the generator out of the server's RSS) plays FreeSWITCH's side for
 * every socket: it connects, answers `connect` with the connect reply of a
 * real capture (3.4 KiB of channel data), `myevents` and `linger` with the
 * captured replies, and the call's one application:
 *   - calls/s: the call runs `answer`; the generator answers +OK, then the
 *     captured CHANNEL_EXECUTE_COMPLETE carrying the request's Event-UUID as
 *     Application-UUID, CHANNEL_HANGUP_COMPLETE and the linger notice, and
 *     waits for the server to close. Up to C calls are open at once; each
 *     one that ends is replaced until CALLS(C) calls were made.
 *   - memory: C sessions are opened and left waiting (the application got
 *     +OK and never completes); RSS before and after, divided by C.
 * Each measurement runs in a child process of its own so that memory freed
 * by one does not hide the cost of the next; each child is time-bounded.
 *
 * Last line: async/threaded: 0.NN (RSS per session async X KiB, threaded Y
 * KiB; calls/s async A, threaded B) — the RSS ratio at 10,000 sessions.
 */
#include "bench_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#ifdef BU_ASERVER
#include <vox/uv.h>
#endif

#define CAPTURE "outbound_9101_linger_forever_then_exit.s2c.raw"
#define MAX_CONNECTING 128 /* connects not yet answered with `connect` */
#define IN_CAP 1024        /* what the server sends per command is small */
#define CALLS(c) ((c)*3 > 30000 ? (c)*3 : 30000)
#define OPEN_SECONDS 20.0 /* no new call after this */
#define CHILD_SECONDS 55  /* a measurement child is killed after this */

enum { THREADED, ASYNC };
enum { MODE_CALLS, MODE_IDLE };

/* ------------------------------------------------- captured frames */

typedef struct frames {
    bu_bytes connect_reply, ok_events, ok_linger, complete, hangup_complete, notice;
    size_t app_uuid_at; /* offset of the Application-UUID value in complete */
} frames;

static void keep(bu_bytes *b, const char *frame, size_t len)
{
    if (!b->len)
        bu_append(b, frame, len);
}

static void pick(const vox_msg *m, const char *frame, size_t len, void *ud)
{
    frames *f = ud;
    const vox_event *ev = vox_msg_event(m);
    const char *text = vox_msg_reply_text(m);
    const char *name = ev ? vox_event_name(ev) : "";

    if (vox_msg_type(m) == VOX_CT_COMMAND_REPLY && ev)
        keep(&f->connect_reply, frame, len);
    else if (text && strcmp(text, "+OK Events Enabled") == 0)
        keep(&f->ok_events, frame, len);
    else if (text && strcmp(text, "+OK will linger") == 0)
        keep(&f->ok_linger, frame, len);
    else if (strcmp(name, "CHANNEL_EXECUTE_COMPLETE") == 0)
        keep(&f->complete, frame, len);
    else if (strcmp(name, "CHANNEL_HANGUP_COMPLETE") == 0)
        keep(&f->hangup_complete, frame, len);
    else if (vox_msg_type(m) == VOX_CT_DISCONNECT_NOTICE)
        keep(&f->notice, frame, len);
}

static void load_frames(frames *f)
{
    bu_frames(CAPTURE, pick, f);
    if (!f->connect_reply.len || !f->ok_events.len || !f->ok_linger.len || !f->complete.len ||
        !f->hangup_complete.len || !f->notice.len)
        bu_die("a frame is missing from %s", CAPTURE);
    const char *at = memmem(f->complete.data, f->complete.len, "\nApplication-UUID: ", 19);
    if (!at)
        bu_die("no Application-UUID in the captured EXECUTE_COMPLETE");
    f->app_uuid_at = (size_t)(at - f->complete.data) + 19;
}

/* --------------------------------------------------- load generator */

typedef struct gconn {
    int fd;
    int answered; /* the server sent `connect` */
    size_t inlen;
    char in[IN_CAP];
} gconn;

typedef struct gen {
    const frames *f;
    uint16_t port;
    int mode;
    size_t conc, total;
    gconn *c;
    size_t *free_slots, nfree;
    int ep;
    size_t started, finished, connecting, idle;
    double open_until;
    bu_bytes out;
    int ctl;    /* from the server process: the port, then the release byte */
    int status; /* to it: MODE_IDLE: 'r' once every session waits;
                 * MODE_CALLS: the figures */
    int ready_sent;
} gen;

static void gen_alloc(gen *g, size_t conc)
{
    g->conc = conc;
    g->c = NULL;
    if (!(g->c = calloc(conc, sizeof *g->c)) || !(g->free_slots = calloc(conc, sizeof(size_t))))
        bu_die("out of memory");
    for (size_t i = 0; i < conc; i++)
        g->free_slots[g->nfree++] = conc - 1 - i;
    if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        bu_die("epoll_create1");
}

static void gen_open(gen *g)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(g->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    size_t slot = g->free_slots[--g->nfree];
    gconn *c = &g->c[slot];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        bu_die("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
        bu_die("connect: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = slot};
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        bu_die("epoll_ctl: %s", strerror(errno));
    c->fd = fd;
    c->answered = 0;
    c->inlen = 0;
    g->started++;
    g->connecting++;
}

static void gen_close(gen *g, size_t slot)
{
    gconn *c = &g->c[slot];
    if (!c->answered)
        g->connecting--;
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    g->free_slots[g->nfree++] = slot;
    g->finished++;
}

/* The answer to sendmsg: +OK, and for a call that completes, the
 * application's end (with its Event-UUID), the hangup and the linger notice. */
static void answer_sendmsg(gen *g, const char *cmd)
{
    static const char ok[] = BU_REPLY("+OK");
    const frames *f = g->f;
    const char *id = strcasestr(cmd, "\nEvent-UUID: ");

    bu_append(&g->out, ok, sizeof ok - 1);
    if (g->mode == MODE_IDLE) {
        g->idle++;
        return;
    }
    if (!id || strcspn(id + 13, "\n") != 36)
        bu_die("sendmsg without a 36-character Event-UUID");
    size_t at = g->out.len + f->app_uuid_at;
    bu_append(&g->out, f->complete.data, f->complete.len);
    memcpy(g->out.data + at, id + 13, 36);
    bu_append(&g->out, f->hangup_complete.data, f->hangup_complete.len);
    bu_append(&g->out, f->notice.data, f->notice.len);
}

static void answer(gen *g, gconn *c, const char *cmd)
{
    static const char ok[] = BU_REPLY("+OK");
    const frames *f = g->f;

    if (strncmp(cmd, "connect", 7) == 0) {
        c->answered = 1;
        g->connecting--;
        bu_append(&g->out, f->connect_reply.data, f->connect_reply.len);
    } else if (strncmp(cmd, "myevents", 8) == 0) {
        bu_append(&g->out, f->ok_events.data, f->ok_events.len);
    } else if (strncmp(cmd, "linger", 6) == 0) {
        bu_append(&g->out, f->ok_linger.data, f->ok_linger.len);
    } else if (strncmp(cmd, "sendmsg", 7) == 0) {
        answer_sendmsg(g, cmd);
    } else {
        bu_append(&g->out, ok, sizeof ok - 1);
    }
}

/* Reads what the server sent; answers every complete command. */
static void gen_readable(gen *g, size_t slot)
{
    gconn *c = &g->c[slot];
    ssize_t n = recv(c->fd, c->in + c->inlen, IN_CAP - 1 - c->inlen, 0);
    size_t off = 0;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        gen_close(g, slot);
        return;
    }
    c->inlen += (size_t)n;
    c->in[c->inlen] = 0;
    g->out.len = 0;
    for (char *end; (end = strstr(c->in + off, "\n\n")) != NULL;) {
        *end = 0;
        answer(g, c, c->in + off);
        off = (size_t)(end - c->in) + 2;
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
    if (c->inlen == IN_CAP - 1)
        bu_die("generator: a command over %d bytes", IN_CAP);
    if (g->out.len && bu_send_all(c->fd, g->out.data, g->out.len) != 0)
        gen_close(g, slot);
}

static int gen_may_open(const gen *g)
{
    size_t open = g->started - g->finished;
    if (g->mode == MODE_IDLE)
        return g->started < g->conc && g->connecting < MAX_CONNECTING;
    return open < g->conc && g->started < g->total && g->connecting < MAX_CONNECTING &&
           bu_now() < g->open_until;
}

static int gen_done(gen *g)
{
    if (g->mode == MODE_IDLE) {
        char b;
        if (g->idle == g->conc && g->started == g->conc && !g->ready_sent) {
            g->ready_sent = 1;
            if (write(g->status, "r", 1) != 1)
                bu_die("generator: status pipe");
        }
        return g->ready_sent && read(g->ctl, &b, 1) == 1;
    }
    return g->finished == g->started && (g->started == g->total || bu_now() >= g->open_until);
}

static void gen_run(gen *g)
{
    struct epoll_event evs[256];

    g->open_until = bu_now() + OPEN_SECONDS;
    while (!gen_done(g)) {
        while (gen_may_open(g))
            gen_open(g);
        int n = epoll_wait(g->ep, evs, 256, 50);
        if (n < 0 && errno != EINTR)
            bu_die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            gen_readable(g, (size_t)evs[i].data.u64);
    }
    for (size_t i = 0; i < g->conc; i++)
        if (g->c[i].fd > 0)
            close(g->c[i].fd);
}

typedef struct figures {
    double calls_per_sec, kib_per_session;
    size_t calls;
    double secs;
} figures;

/* The generator process: waits for the port, runs, reports, exits. */
static void gen_process(gen *g)
{
    figures r = {0};
    if (read(g->ctl, &g->port, sizeof g->port) != (ssize_t)sizeof g->port)
        _exit(1);
    fcntl(g->ctl, F_SETFL, O_NONBLOCK);
    double t0 = bu_now();
    gen_run(g);
    r.secs = bu_now() - t0;
    r.calls = g->finished;
    r.calls_per_sec = (double)r.calls / r.secs;
    if (g->mode == MODE_CALLS && write(g->status, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(1);
    _exit(0);
}

/* Forks the generator; g->ctl and g->status become the server side's ends. */
static pid_t gen_fork(gen *g)
{
    int ctl[2], st[2];
    if (pipe(ctl) != 0 || pipe(st) != 0)
        bu_die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        bu_die("fork");
    if (pid == 0) {
        close(ctl[1]);
        close(st[0]);
        g->ctl = ctl[0];
        g->status = st[1];
        gen_alloc(g, g->conc);
        gen_process(g);
    }
    close(ctl[0]);
    close(st[1]);
    g->ctl = ctl[1];
    g->status = st[0];
    return pid;
}

static void gen_reap(gen *g, pid_t pid)
{
    int st = 0;
    close(g->ctl);
    close(g->status);
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        bu_die("the load generator failed");
}

/* --------------------------------------------------------- the servers */

static void quiet(int level, const char *line, void *ud)
{
    if (level == 0)
        fprintf(stderr, "server: %s\n", line);
}

static void threaded_call(vox_call *call, void *ud)
{
    vox_exec(call, &(vox_execute){.app = "answer"}, NULL);
}

typedef struct server {
    int kind;
    uint16_t port;
    vox_server *threaded;
#ifdef BU_ASERVER
    uv_loop_t loop;
    uv_async_t wake;
    vox_aserver *async;
    pthread_t thread;
    atomic_uint active;
#endif
} server;

#ifdef BU_ASERVER
static void on_exec(vox_conn *c, int status, const vox_event *ev, void *ud) {}

static void on_session(vox_session *s, void *ud)
{
    server *v = ud;
    atomic_fetch_add(&v->active, 1);
    vox_execute x = {.app = "answer"};
    vox_conn_execute(vox_session_conn(s), &x, NULL, 0, 0, on_exec, NULL);
}

static void on_end(vox_session *s, int reason, void *ud)
{
    server *v = ud;
    atomic_fetch_sub(&v->active, 1);
}

static void on_stopped(vox_aserver *s, void *ud)
{
    server *v = ud;
    uv_close((uv_handle_t *)&v->wake, NULL);
}

static void on_wake(uv_async_t *h)
{
    server *v = h->data;
    vox_aserver_stop(v->async, 2000, on_stopped, v);
}

static void *loop_main(void *arg)
{
    server *v = arg;
    uv_run(&v->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void async_start(server *v, unsigned max)
{
    vox_aserver_opts o = {.max_sessions = max,
                          .on_session = on_session,
                          .on_end = on_end,
                          .log = quiet,
                          .userdata = v};
    if (uv_loop_init(&v->loop) != 0 || uv_async_init(&v->loop, &v->wake, on_wake) != 0)
        bu_die("uv init");
    v->wake.data = v;
    vox_loop vl = vox_uv_loop(&v->loop);
    if (vox_aserver_start(&v->async, &vl, &o) != 0)
        bu_die("vox_aserver_start");
    v->port = vox_aserver_port(v->async);
    if (pthread_create(&v->thread, NULL, loop_main, v) != 0)
        bu_die("pthread_create");
}

static void async_stop(server *v)
{
    uv_async_send(&v->wake);
    pthread_join(v->thread, NULL);
    if (uv_loop_close(&v->loop) != 0)
        bu_die("the loop still had handles");
}
#endif

static void server_start(server *v, int kind, size_t conc)
{
    v->kind = kind;
    if (kind == ASYNC) {
#ifdef BU_ASERVER
        async_start(v, (unsigned)conc + 64);
#endif
        return;
    }
    vox_server_opts o = {.max_calls = (unsigned)conc + 64, .drain_timeout_ms = 2000, .log = quiet};
    if (vox_server_start(&v->threaded, &o, threaded_call, NULL) != 0)
        bu_die("vox_server_start");
    v->port = vox_server_port(v->threaded);
}

static unsigned server_active(server *v)
{
#ifdef BU_ASERVER
    if (v->kind == ASYNC)
        return atomic_load(&v->active);
#endif
    return vox_server_active(v->threaded);
}

static void server_stop(server *v)
{
#ifdef BU_ASERVER
    if (v->kind == ASYNC) {
        async_stop(v);
        return;
    }
#endif
    vox_server_stop(v->threaded);
}

/* Waits (bounded) until the server has no session left. */
static void wait_idle(server *v)
{
    double end = bu_now() + 20;
    while (server_active(v) && bu_now() < end)
        usleep(10000);
}

/* ------------------------------------------------------- measurements */

/* Bounded read of one status message from the generator. */
static void gen_status(gen *g, void *buf, size_t len, int timeout_ms)
{
    struct pollfd p = {.fd = g->status, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1 || read(g->status, buf, len) != (ssize_t)len)
        bu_die("the load generator stopped");
}

static void measure_calls(const frames *f, int kind, size_t conc, figures *out)
{
    server v = {0};
    gen g = {.f = f, .mode = MODE_CALLS, .conc = conc, .total = CALLS(conc)};
    pid_t pid = gen_fork(&g);

    server_start(&v, kind, conc);
    if (write(g.ctl, &v.port, sizeof v.port) != (ssize_t)sizeof v.port)
        bu_die("control pipe");
    gen_status(&g, out, sizeof *out, (int)(OPEN_SECONDS + 20) * 1000);
    gen_reap(&g, pid);
    wait_idle(&v);
    server_stop(&v);
}

static void measure_memory(const frames *f, int kind, size_t conc, figures *out)
{
    server v = {0};
    gen g = {.f = f, .mode = MODE_IDLE, .conc = conc};
    pid_t pid = gen_fork(&g);
    char ready;

    server_start(&v, kind, conc);
    long before = bu_rss_kib();
    if (write(g.ctl, &v.port, sizeof v.port) != (ssize_t)sizeof v.port)
        bu_die("control pipe");
    gen_status(&g, &ready, 1, 30000);
    if (server_active(&v) != conc)
        bu_die("%u sessions active, expected %zu", server_active(&v), conc);
    long after = bu_rss_kib();
    out->kib_per_session = (double)(after - before) / (double)conc;
    if (write(g.ctl, "x", 1) != 1)
        bu_die("control pipe");
    gen_reap(&g, pid);
    wait_idle(&v);
    server_stop(&v);
}

/* Runs one measurement in a child process; its figures come back on a pipe. */
static figures in_child(const frames *f, int memory, int kind, size_t conc)
{
    figures r = {0};
    int p[2];
    if (pipe(p) != 0)
        bu_die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        bu_die("fork");
    if (pid == 0) {
        alarm(CHILD_SECONDS);
        if (memory)
            measure_memory(f, kind, conc, &r);
        else
            measure_calls(f, kind, conc, &r);
        if (write(p[1], &r, sizeof r) != (ssize_t)sizeof r)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    ssize_t n = read(p[0], &r, sizeof r);
    int st = 0;
    waitpid(pid, &st, 0);
    close(p[0]);
    if (n != (ssize_t)sizeof r || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        bu_die("a measurement failed (%s, %zu sessions)", kind == ASYNC ? "async" : "threaded",
               conc);
    return r;
}

int main(void)
{
    static const size_t levels[] = {1000, 10000};
    static const char *const names[] = {"threaded vox_server", "async vox_aserver (uv)"};
    enum { NLEVELS = sizeof levels / sizeof levels[0] };
    figures res[2][NLEVELS];
    frames f = {0};
    int kinds = 1;
#ifdef BU_ASERVER
    kinds = 2;
#endif

    signal(SIGPIPE, SIG_IGN);
    bu_raise_nofile(levels[NLEVELS - 1] + 1024);
    load_frames(&f);
    printf("per call: connect reply %zu B, EXECUTE_COMPLETE %zu B, HANGUP_COMPLETE %zu B\n",
           f.connect_reply.len, f.complete.len, f.hangup_complete.len);
    for (int kind = 0; kind < kinds; kind++)
        for (size_t i = 0; i < NLEVELS; i++) {
            figures mem = in_child(&f, 1, kind, levels[i]);
            res[kind][i] = in_child(&f, 0, kind, levels[i]);
            res[kind][i].kib_per_session = mem.kib_per_session;
            printf("%-24s %5zu concurrent: %8.0f calls/s (%zu calls in %.2f s), "
                   "%6.1f KiB RSS per idle session\n",
                   names[kind], levels[i], res[kind][i].calls_per_sec, res[kind][i].calls,
                   res[kind][i].secs, mem.kib_per_session);
        }
    const figures *t = &res[THREADED][NLEVELS - 1];
    if (kinds == 2) {
        const figures *a = &res[ASYNC][NLEVELS - 1];
        printf("async/threaded: %.2f (RSS per session async %.1f KiB, threaded %.1f KiB; "
               "calls/s async %.0f, threaded %.0f; at %zu sessions)\n",
               a->kib_per_session / t->kib_per_session, a->kib_per_session, t->kib_per_session,
               a->calls_per_sec, t->calls_per_sec, levels[NLEVELS - 1]);
    } else {
        printf("threaded only: %.2f (RSS per session threaded %.1f KiB; calls/s threaded %.0f; "
               "at %zu sessions; the async server is not built)\n",
               1.0, t->kib_per_session, t->calls_per_sec, levels[NLEVELS - 1]);
    }
    return 0;
}
