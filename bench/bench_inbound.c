/* Inbound event throughput over loopback: a fake FreeSWITCH streams
 * realistic text/event-plain CHANNEL_* frames (1.5-3 KiB each, taken from two
 * real captures) as fast as the socket takes them, to
 *   - a raw client that only reads and frames (headers up to the blank line,
 *     then Content-Length bytes of body): the floor any client pays;
 *   - libvox as a real consumer uses it: one hook per event name present,
 *     each reading the event's Unique-ID and Caller-Caller-ID-Name. With the
 *     blocking client, the loop also drains vox_next_event (every inbound
 *     event is queued there too; the queue is kept small).
 *     With the async client (when built with vox/uv.h): the same hooks on a
 *     libuv loop.
 * Each client runs ROUNDS times on its own connection, alternating; the best
 * round of each is reported. CPU time is the client thread's own (the fake
 * server runs on another thread), also shown split into user and system
 * time: the system part is mostly the kernel's copies.
 *
 * Last line: events/raw: 0.NN (libvox X events/s, raw Y events/s)
 */
#include "bench_util.h"

#ifdef BU_ACLIENT
#include <vox/uv.h>
#endif

#define STREAM_BYTES ((size_t)640 << 20) /* per run */
#define ROUNDS 3
#define MIN_FRAME 1536
#define MAX_FRAME 3072
#define MAX_NAMES 32
/* The blocking client reads 64 KiB too (the async one 256 KiB, which made
 * the raw client slower). */
#define RAW_CHUNK ((size_t)64 << 10)

typedef struct corpus {
    bu_bytes frames; /* one cycle of frames */
    char names[MAX_NAMES][64];
    size_t nnames;
    char events[MAX_NAMES * 64]; /* the names, space-separated */
} corpus;

typedef struct result {
    const char *what;
    size_t events;
    uint64_t bytes;
    double secs, cpu;
    double sys; /* the kernel's part of cpu */
} result;

/* System CPU seconds of the calling thread (bu_thread_cpu is user + system). */
static double thread_sys(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return 0;
    return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* --------------------------------------------------------- the stream */

static void add_name(corpus *k, const char *name)
{
    for (size_t i = 0; i < k->nnames; i++)
        if (strcmp(k->names[i], name) == 0)
            return;
    if (k->nnames == MAX_NAMES)
        bu_die("too many event names");
    snprintf(k->names[k->nnames++], sizeof k->names[0], "%s", name);
}

static void pick(const vox_msg *m, const char *frame, size_t len, void *ud)
{
    corpus *k = ud;
    const vox_event *ev = vox_msg_event(m);
    if (vox_msg_type(m) != VOX_CT_EVENT_PLAIN || !ev || len < MIN_FRAME || len > MAX_FRAME ||
        strncmp(vox_event_name(ev), "CHANNEL_", 8) != 0)
        return;
    bu_append(&k->frames, frame, len);
    k->frames.count++;
    add_name(k, vox_event_name(ev));
}

static void build_corpus(corpus *k)
{
    size_t off = 0;
    bu_frames("inbound_04_event_plain_ALL_with_call.s2c.raw", pick, k);
    bu_frames("inbound_25_event_flood.s2c.raw", pick, k);
    if (!k->frames.count)
        bu_die("no frames picked");
    for (size_t i = 0; i < k->nnames; i++)
        off += (size_t)snprintf(k->events + off, sizeof k->events - off, "%s%s", i ? " " : "",
                                k->names[i]);
}

/* -------------------------------------------------------- raw client */

/* Frames buf[*off..len): counts complete headers, skips bodies. */
static size_t raw_frame(const char *buf, size_t len, size_t *off, size_t *skip)
{
    size_t frames = 0;
    for (;;) {
        size_t take = len - *off < *skip ? len - *off : *skip;
        *off += take;
        *skip -= take;
        if (*skip)
            return frames;
        const char *end = memmem(buf + *off, len - *off, "\n\n", 2);
        if (!end)
            return frames;
        const char *cl = memmem(buf + *off, (size_t)(end - buf) - *off, "Content-Length: ", 16);
        *skip = cl ? strtoul(cl + 16, NULL, 10) : 0;
        *off = (size_t)(end - buf) + 2;
        frames++;
    }
}

static void run_raw(const corpus *k, uint16_t port, result *r)
{
    char cmd[sizeof k->events + 64];
    size_t cap = 2 * RAW_CHUNK, len = 0, skip = 0, frames = 0;
    char *buf = malloc(cap);
    double t0 = bu_now(), c0 = bu_thread_cpu(), s0 = thread_sys();
    int fd = bu_connect(port);
    int n = snprintf(cmd, sizeof cmd, "auth ClueCon\n\nevent plain %s\n\n", k->events);

    if (!buf || bu_send_all(fd, cmd, (size_t)n) != 0)
        bu_die("raw client: send");
    for (;;) {
        ssize_t got = recv(fd, buf + len, cap - len < RAW_CHUNK ? cap - len : RAW_CHUNK, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size_t off = 0;
        len += (size_t)got;
        r->bytes += (uint64_t)got;
        frames += raw_frame(buf, len, &off, &skip);
        memmove(buf, buf + off, len - off);
        len -= off;
        if (len == cap && !(buf = realloc(buf, cap *= 2)))
            bu_die("out of memory");
    }
    r->secs = bu_now() - t0;
    r->cpu = bu_thread_cpu() - c0;
    r->sys = thread_sys() - s0;
    r->events = frames - 3; /* auth/request and the two replies */
    close(fd);
    free(buf);
}

/* ---------------------------------------------------- libvox consumer */

typedef struct consumer {
    size_t events;
    size_t sink; /* depends on every value read */
} consumer;

static void use_event(consumer *u, const vox_event *ev)
{
    const char *id = vox_event_get(ev, "Unique-ID");
    const char *name = vox_event_get(ev, "Caller-Caller-ID-Name");
    u->events++;
    u->sink += (id ? strlen(id) : 0) + (name ? strlen(name) : 0);
}

static void on_channel(vox_conn *c, const vox_event *ev, void *ud)
{
    use_event(ud, ev);
}

static void run_blocking(const corpus *k, uint16_t port, result *r, consumer *u)
{
    vox_client_opts o = {.port = port, .max_queued_events = 64};
    double t0 = bu_now(), c0 = bu_thread_cpu(), s0 = thread_sys();
    vox_buf sub = {0};
    vox_client *c;
    vox_msg *m;
    int rc;

    /* Subscribed only once the hooks are in place: events that came with
     * the handshake's last read would reach the queue but not the hooks. */
    if ((rc = vox_connect(&c, &o)) != 0)
        bu_die("vox_connect: %s", vox_strerror(rc));
    for (size_t i = 0; i < k->nnames; i++)
        if (vox_hook(c, k->names[i], on_channel, u) != 0)
            bu_die("vox_hook");
    if (vox_cmd_event(&sub, VOX_FMT_PLAIN, k->events) != 0 || vox_command(c, &sub, NULL) != 0)
        bu_die("event subscription");
    vox_buf_free(&sub);
    while ((rc = vox_next_event(c, BU_IO_TIMEOUT_MS, &m)) == 0)
        vox_msg_free(m);
    if (rc != VOX_ECLOSED)
        bu_die("vox_next_event: %s", vox_strerror(rc));
    r->secs = bu_now() - t0;
    r->cpu = bu_thread_cpu() - c0;
    r->sys = thread_sys() - s0;
    r->events = u->events;
    if (vox_dropped_events(c))
        printf("  (blocking client dropped %llu events from its queue)\n",
               (unsigned long long)vox_dropped_events(c));
    vox_close(c);
}

#ifdef BU_ACLIENT
typedef struct aconsumer {
    consumer u;
    uv_loop_t *loop;
    int ended;
} aconsumer;

static void on_achannel(vox_aclient *c, const vox_event *ev, void *ud)
{
    use_event(&((aconsumer *)ud)->u, ev);
}

/* The fake server closes after the stream: stop instead of reconnecting. */
static void on_adisconnect(vox_aclient *c, int reason, uint32_t retry_ms, void *ud)
{
    ((aconsumer *)ud)->ended = 1;
    vox_aclient_stop(c);
}

static void run_async(const corpus *k, uint16_t port, result *r, consumer *u)
{
    aconsumer a = {0};
    uv_loop_t loop;
    vox_aclient *c;
    double t0 = bu_now(), c0 = bu_thread_cpu(), s0 = thread_sys();
    int rc;

    if (uv_loop_init(&loop) != 0)
        bu_die("uv_loop_init");
    a.loop = &loop;
    vox_loop vl = vox_uv_loop(&loop);
    vox_aclient_opts o = {
        .port = port, .events = k->events, .on_disconnect = on_adisconnect, .userdata = &a};
    if ((rc = vox_aclient_start(&c, &vl, &o)) != 0)
        bu_die("vox_aclient_start: %s", vox_strerror(rc));
    for (size_t i = 0; i < k->nnames; i++)
        if (vox_aclient_hook(c, k->names[i], on_achannel, &a) != 0)
            bu_die("vox_aclient_hook");
    uv_run(&loop, UV_RUN_DEFAULT);
    r->secs = bu_now() - t0;
    r->cpu = bu_thread_cpu() - c0;
    r->sys = thread_sys() - s0;
    r->events = a.u.events;
    u->sink += a.u.sink;
    if (!a.ended || uv_loop_close(&loop) != 0)
        bu_die("the async client did not end cleanly");
}
#endif

/* ----------------------------------------------------------- reporting */

static double rate(const result *r)
{
    return (double)r->events / r->secs;
}

static void report(const result *r)
{
    printf("%-26s %9.0f events/s %8.1f MB/s %6.2f CPU s per million events (%zu events, "
           "%.2f s)\n",
           r->what, rate(r), (double)r->bytes / 1e6 / r->secs, r->cpu / (double)r->events * 1e6,
           r->events, r->secs);
}

static void keep_best(result *best, const result *r)
{
    if (!best->events || rate(r) > rate(best))
        *best = *r;
}

int main(void)
{
    enum { RAW, BLOCKING, ASYNC, KINDS };
    static const char *const what[KINDS] = {"raw read+frame", "libvox blocking client",
                                            "libvox async client (uv)"};
    corpus k = {0};
    consumer u = {0};
    result best[KINDS] = {{0}};
    int kinds = 2;
#ifdef BU_ACLIENT
    kinds = 3;
#endif

    build_corpus(&k);
    bu_fake f = {.mode = BU_STREAM_EVENTS,
                 .stream = k.frames.data,
                 .stream_len = k.frames.len,
                 .conns = (size_t)ROUNDS * (size_t)kinds};
    f.repeats = STREAM_BYTES / k.frames.len;
    size_t expect = f.repeats * k.frames.count;
    printf("stream: %zu events of %.0f bytes on average (%.0f MB) per run, %zu event names, "
           "best of %d runs\n",
           expect, (double)k.frames.len / (double)k.frames.count,
           (double)(f.repeats * k.frames.len) / 1e6, k.nnames, ROUNDS);
    bu_fake_start(&f);
    for (int round = 0; round < ROUNDS; round++)
        for (int kind = 0; kind < kinds; kind++) {
            result r = {.what = what[kind]};
            consumer one = {0};
            if (kind == RAW)
                run_raw(&k, f.port, &r);
            else if (kind == BLOCKING)
                run_blocking(&k, f.port, &r, &one);
#ifdef BU_ACLIENT
            else
                run_async(&k, f.port, &r, &one);
#endif
            if (r.events != expect)
                bu_die("%s: %zu events, expected %zu", what[kind], r.events, expect);
            if (kind != RAW)
                r.bytes = (uint64_t)(f.repeats * k.frames.len);
            u.sink += one.sink;
            keep_best(&best[kind], &r);
        }
    bu_fake_join(&f);
    for (int kind = 0; kind < kinds; kind++)
        report(&best[kind]);
    for (int kind = 0; kind < kinds; kind++)
        printf("%-26s CPU per event: %.2f us user, %.2f us system\n", best[kind].what,
               (best[kind].cpu - best[kind].sys) / (double)best[kind].events * 1e6,
               best[kind].sys / (double)best[kind].events * 1e6);
    printf("(checksum %zu)\n", u.sink);
    const result *lib = &best[kinds == 3 ? ASYNC : BLOCKING];
    printf("events/raw: %.2f (libvox %.0f events/s, raw %.0f events/s; %s)\n",
           rate(lib) / rate(&best[RAW]), rate(lib), rate(&best[RAW]),
           kinds == 3 ? "async client on libuv" : "blocking client, the async one is not built");
    free(k.frames.data);
    return 0;
}
