/* api round trips per second over loopback against a fake FreeSWITCH that
 * answers every `api …` with a small api/response (the `version` answer of
 * a real capture):
 *   - serial: the blocking client, one vox_api at a time;
 *   - pipelined: the engine (vox_conn_api with completion callbacks, DEPTH
 *     requests in flight) driven by a poll loop of our own here;
 *   - pipelined on the async client (when built with vox/uv.h).
 * Each mode runs for SERIAL_CALLS (serial) or PIPE_CALLS (pipelined) round
 * trips or MAX_SECONDS, whichever comes first.
 *
 * Last line: pipelined/serial: N.NN (pipelined X/s, serial Y/s)
 */
#include "bench_util.h"

#include <fcntl.h>

#ifdef BU_ACLIENT
#include <vox/uv.h>
#endif

#define SERIAL_CALLS 100000
#define PIPE_CALLS 2000000
#define MAX_SECONDS 8.0
#define CMD "version"

typedef struct run {
    size_t done, inflight, sent, limit;
    size_t depth;
    double t0, deadline;
    int failed;
} run;

typedef struct result {
    char what[64];
    size_t calls;
    double secs, cpu;
} result;

static double per_sec(const result *r)
{
    return (double)r->calls / r->secs;
}

static void report(const result *r)
{
    printf("%-34s %9.0f calls/s  %5.2f us CPU per call (%zu calls, %.2f s)\n", r->what, per_sec(r),
           r->cpu / (double)r->calls * 1e6, r->calls, r->secs);
}

/* The smallest api/response of the capture. */
static void pick_api(const vox_msg *m, const char *frame, size_t len, void *ud)
{
    bu_bytes *b = ud;
    if (vox_msg_type(m) == VOX_CT_API_RESPONSE && (!b->len || len < b->len)) {
        b->len = 0;
        bu_append(b, frame, len);
    }
}

/* ------------------------------------------------------------ serial */

static void run_serial(uint16_t port, result *r)
{
    vox_client_opts o = {.port = port};
    vox_client *c;
    size_t n = 0;
    int rc;

    if ((rc = vox_connect(&c, &o)) != 0)
        bu_die("vox_connect: %s", vox_strerror(rc));
    double t0 = bu_now(), c0 = bu_thread_cpu(), end = t0 + MAX_SECONDS;
    for (; n < SERIAL_CALLS && (n % 1024 || bu_now() < end); n++) {
        vox_msg *m;
        if ((rc = vox_api(c, CMD, &m)) != 0)
            bu_die("vox_api: %s", vox_strerror(rc));
        vox_msg_free(m);
    }
    r->secs = bu_now() - t0;
    r->cpu = bu_thread_cpu() - c0;
    r->calls = n;
    snprintf(r->what, sizeof r->what, "serial (blocking vox_api)");
    vox_close(c);
}

/* -------------------------------------------------- pipelined engine */

static void on_reply(vox_conn *c, int status, const vox_msg *reply, void *ud)
{
    run *u = ud;
    u->inflight--;
    u->done++;
    if (status != 0 || !reply)
        u->failed = 1;
}

static void top_up(vox_conn *c, run *u)
{
    while (u->inflight < u->depth && u->sent < u->limit) {
        if (vox_conn_api(c, CMD, NULL, 0, on_reply, u) != 0)
            bu_die("vox_conn_api");
        u->inflight++;
        u->sent++;
    }
}

static void flush(vox_conn *c, int fd)
{
    const char *p;
    size_t len;
    while ((p = vox_conn_output(c, &len)) && len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0)
            bu_die("send: %s", strerror(errno));
        vox_conn_consume(c, (size_t)n);
    }
}

static void pump(vox_conn *c, int fd, char *buf, size_t cap)
{
    const char *p;
    size_t len;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if ((p = vox_conn_output(c, &len)) && len)
        pf.events |= POLLOUT;
    if (poll(&pf, 1, BU_IO_TIMEOUT_MS) == 0)
        bu_die("pipelined: no progress");
    if (pf.revents & POLLIN) {
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n == 0)
            bu_die("pipelined: the server closed");
        if (n > 0 && vox_conn_feed(c, buf, (size_t)n) != 0)
            bu_die("vox_conn_feed: %s", vox_conn_error_text(c));
    }
}

static void run_engine(uint16_t port, size_t depth, result *r)
{
    static char buf[65536];
    vox_conn_opts o = {.role = VOX_ROLE_INBOUND, .password = "ClueCon"};
    run u = {.depth = depth, .limit = PIPE_CALLS};
    vox_conn *c;
    int fd = bu_connect(port);

    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || vox_conn_new(&c, &o) != 0)
        bu_die("engine setup");
    double t0 = bu_now(), c0 = bu_thread_cpu(), end = t0 + MAX_SECONDS;
    while (u.done < u.limit && !u.failed) {
        if ((u.done & 1023) == 0 && bu_now() > end)
            u.limit = u.sent; /* out of time: finish what is in flight */
        vox_conn_tick(c, (uint64_t)(bu_now() * 1000));
        top_up(c, &u);
        flush(c, fd);
        pump(c, fd, buf, sizeof buf);
    }
    r->secs = bu_now() - t0;
    r->cpu = bu_thread_cpu() - c0;
    r->calls = u.done;
    if (u.failed)
        bu_die("pipelined: a request failed");
    snprintf(r->what, sizeof r->what, "pipelined engine, %zu in flight", depth);
    vox_conn_free(c);
    close(fd);
}

/* ------------------------------------------------------ async client */

#ifdef BU_ACLIENT
typedef struct arun {
    run u;
    int stopped;
} arun;

static void on_areply(vox_aclient *c, int status, const vox_msg *reply, void *ud);

static void atop_up(vox_aclient *c, arun *a)
{
    run *u = &a->u;
    if (u->done % 1024 == 0 && bu_now() > u->deadline)
        u->limit = u->sent;
    while (!a->stopped && u->inflight < u->depth && u->sent < u->limit) {
        if (vox_aclient_api(c, CMD, on_areply, a) != 0)
            bu_die("vox_aclient_api");
        u->inflight++;
        u->sent++;
    }
    if (!a->stopped && (u->done == u->limit || u->failed)) {
        a->stopped = 1;
        vox_aclient_stop(c);
    }
}

static void on_areply(vox_aclient *c, int status, const vox_msg *reply, void *ud)
{
    arun *a = ud;
    a->u.inflight--;
    a->u.done++;
    if (status != 0 || !reply)
        a->u.failed = 1;
    atop_up(c, a);
}

static void on_aconnect(vox_aclient *c, void *ud)
{
    arun *a = ud;
    a->u.t0 = bu_now();
    a->u.deadline = a->u.t0 + MAX_SECONDS;
    atop_up(c, a);
}

static void on_adisconnect(vox_aclient *c, int reason, uint32_t retry_ms, void *ud)
{
    arun *a = ud;
    if (!a->stopped) {
        a->u.failed = 1;
        a->stopped = 1;
        vox_aclient_stop(c);
    }
}

static void run_async(uint16_t port, size_t depth, result *r)
{
    arun a = {.u = {.depth = depth, .limit = PIPE_CALLS}};
    uv_loop_t loop;
    vox_aclient *c;

    if (uv_loop_init(&loop) != 0)
        bu_die("uv_loop_init");
    vox_loop vl = vox_uv_loop(&loop);
    vox_aclient_opts o = {
        .port = port, .on_connect = on_aconnect, .on_disconnect = on_adisconnect, .userdata = &a};
    if (vox_aclient_start(&c, &vl, &o) != 0)
        bu_die("vox_aclient_start");
    double c0 = bu_thread_cpu();
    uv_run(&loop, UV_RUN_DEFAULT);
    r->secs = bu_now() - a.u.t0;
    r->cpu = bu_thread_cpu() - c0;
    r->calls = a.u.done;
    if (a.u.failed || uv_loop_close(&loop) != 0)
        bu_die("async client: a request failed or the loop did not end");
    snprintf(r->what, sizeof r->what, "pipelined async client, %zu in flight", depth);
}
#endif

int main(void)
{
    static const size_t depths[] = {16, 64, 256};
    enum { NDEPTH = sizeof depths / sizeof depths[0] };
    bu_bytes api = {0};
    result serial = {.calls = 0}, best = {.calls = 0};

    bu_frames("inbound_01_auth_ok_api_status_version.s2c.raw", pick_api, &api);
    if (!api.len)
        bu_die("no api/response in the capture");
    bu_fake f = {.mode = BU_ANSWER_API,
                 .api_frame = api.data,
                 .api_frame_len = api.len,
                 .conns = 1 + NDEPTH};
#ifdef BU_ACLIENT
    f.conns += NDEPTH;
#endif
    printf("api/response frame: %zu bytes; up to %d serial or %d pipelined calls or %.0f s "
           "per mode\n",
           api.len, SERIAL_CALLS, PIPE_CALLS, MAX_SECONDS);
    bu_fake_start(&f);
    run_serial(f.port, &serial);
    report(&serial);
    for (size_t i = 0; i < NDEPTH; i++) {
        result r = {.calls = 0};
        run_engine(f.port, depths[i], &r);
        report(&r);
        if (per_sec(&r) > per_sec(&best) || !best.calls)
            best = r;
    }
#ifdef BU_ACLIENT
    for (size_t i = 0; i < NDEPTH; i++) {
        result r = {.calls = 0};
        run_async(f.port, depths[i], &r);
        report(&r);
    }
#endif
    bu_fake_join(&f);
    printf("pipelined/serial: %.2f (pipelined %.0f/s, serial %.0f/s; best: %s)\n",
           per_sec(&best) / per_sec(&serial), per_sec(&best), per_sec(&serial), best.what);
    free(api.data);
    return 0;
}
