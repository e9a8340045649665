/* The async inbound client on libuv against scripted fake FreeSWITCHes:
 * connect and subscribe, hooks, api/bgapi, drops at every handshake step
 * with the subscription replayed, backoff, a wrong password, requests while
 * disconnected, stop from inside callbacks. Every wait is bounded by a uv
 * timer that fails the test. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/testutil.h"
#include "util/fakefs.h"

#include <vox/async.h>
#include <vox/uv.h>

#define WAIT_MS 5000
#define MAXREC 32

typedef struct ctx {
    uv_loop_t loop;
    uv_timer_t guard;
    int timed_out;
    vox_aclient *c;
    int connects, disconnects, misses, events;
    int reasons[MAXREC];
    uint32_t retries[MAXREC];
    char log[4096];         /* what happened, in order */
    int stop_at_disconnect; /* stop inside the n-th on_disconnect (0: never) */
    int stopped;
    /* requests */
    int api_calls, api_status, job_calls, job_status, late_calls;
    char api_body[64], job_cmd[32];
} ctx;

static void note(ctx *t, const char *what, const char *name)
{
    size_t n = strlen(t->log);
    snprintf(t->log + n, sizeof t->log - n, "%s%s%s ", what, name ? ":" : "", name ? name : "");
}

static void on_guard(uv_timer_t *h)
{
    ((ctx *)h->data)->timed_out = 1;
}

static void on_connect(vox_aclient *c, void *ud)
{
    ctx *t = ud;
    t->connects++;
    assert_int_equal(vox_aclient_connected(c), 1);
    assert_non_null(vox_aclient_conn(c));
    assert_ptr_equal(vox_aclient_userdata(c), t);
    note(t, "connect", NULL);
}

static void on_disconnect(vox_aclient *c, int reason, uint32_t retry_ms, void *ud)
{
    ctx *t = ud;
    if (t->disconnects < MAXREC) {
        t->reasons[t->disconnects] = reason;
        t->retries[t->disconnects] = retry_ms;
    }
    t->disconnects++;
    note(t, "disconnect", vox_strerror(reason));
    /* nothing to send on while disconnected */
    assert_int_equal(vox_aclient_connected(c), 0);
    assert_null(vox_aclient_conn(c));
    if (t->stop_at_disconnect && t->disconnects == t->stop_at_disconnect) {
        vox_aclient_stop(c);
        t->stopped = 1;
    }
}

static void on_missed(vox_aclient *c, void *ud)
{
    ctx *t = ud;
    t->misses++;
    note(t, "missed", NULL);
}

static void on_event(vox_aclient *c, const vox_event *ev, void *ud)
{
    ctx *t = ud;
    t->events++;
    note(t, "ev", vox_event_name(ev));
}

static void start(ctx *t, vox_aclient_opts *o, uint16_t port)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    uv_timer_init(&t->loop, &t->guard);
    t->guard.data = t;
    uv_timer_start(&t->guard, on_guard, WAIT_MS, 0);
    o->port = port;
    if (!o->on_connect)
        o->on_connect = on_connect;
    if (!o->on_disconnect)
        o->on_disconnect = on_disconnect;
    o->on_missed = on_missed;
    if (!o->on_event)
        o->on_event = on_event;
    o->userdata = t;
    vox_loop l = vox_uv_loop(&t->loop);
    assert_int_equal(vox_aclient_start(&t->c, &l, o), 0);
}

/* Runs the loop until *flag reaches want; fails the test at the guard. */
static void run_until(ctx *t, const int *flag, int want)
{
    while (*flag < want) {
        if (t->timed_out)
            fail_msg("timed out waiting (log: %s)", t->log);
        uv_run(&t->loop, UV_RUN_ONCE);
    }
}

/* Stops the client (unless a callback did), lets libuv close every handle,
 * and checks none is left. */
static void end(ctx *t)
{
    if (!t->stopped)
        vox_aclient_stop(t->c);
    uv_close((uv_handle_t *)&t->guard, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t->loop), 0);
}

static void finish(fakefs *f)
{
    const char *err = fs_wait(f, WAIT_MS);
    if (err)
        fail_msg("fake FreeSWITCH: %s", err);
}

static char **frames_of(const char *fixture)
{
    size_t len;
    char *raw = tu_fixture(fixture, &len);
    char **f = fs_frames(raw, len, NULL);
    free(raw);
    return f;
}

static char **in01, **in02, **in07, **in12;

static int setup_all(void **state)
{
    in01 = frames_of("inbound_01_auth_ok_api_status_version.s2c.raw");
    in02 = frames_of("inbound_02_auth_wrong_password.s2c.raw");
    in07 = frames_of("inbound_07_filter.s2c.raw");
    in12 = frames_of("inbound_12_bgapi.s2c.raw");
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int teardown_all(void **state)
{
    fs_frames_free(in01);
    fs_frames_free(in02);
    fs_frames_free(in07);
    fs_frames_free(in12);
    return 0;
}

#define SEND(s)                                                                                    \
    {                                                                                              \
        FS_SEND_RAW, (s), strlen(s)                                                                \
    }
#define EXPECT(s)                                                                                  \
    {                                                                                              \
        FS_EXPECT, (s), 0                                                                          \
    }
#define CLOSE                                                                                      \
    {                                                                                              \
        FS_CLOSE, NULL, 0                                                                          \
    }
#define END                                                                                        \
    {                                                                                              \
        FS_END, NULL, 0                                                                            \
    }
/* auth, event plain BACKGROUND_JOB, answered with inbound_12's bytes */
#define HANDSHAKE                                                                                  \
    SEND(in12[0]), EXPECT("auth ClueCon\n\n"), SEND(in12[1]),                                      \
        EXPECT("event plain BACKGROUND_JOB\n\n"), SEND(in12[2])

/* ---------------------------------------------------- connect, subscribe */

static void test_connect_subscribe_filters(void **state)
{
    /* inbound_07: event plain ALL and two filters; its HEARTBEAT arrives
     * between the filter replies, during the handshake. */
    vox_header filters[] = {{"Event-Name", "HEARTBEAT"}, {"Event-Name", "CHANNEL_CREATE"}};
    fs_step script[] = {SEND(in07[0]),
                        EXPECT("auth ClueCon\n\n"),
                        SEND(in07[1]),
                        EXPECT("event plain ALL\n\n"),
                        EXPECT("filter Event-Name HEARTBEAT\n\n"),
                        EXPECT("filter Event-Name CHANNEL_CREATE\n\n"),
                        EXPECT("filter Event-Name BACKGROUND_JOB\n\n"),
                        SEND(in07[2]),
                        SEND(in07[3]),
                        SEND(in07[4]),
                        SEND(in07[5]),
                        SEND("Content-Type: command/reply\n"
                             "Reply-Text: +OK filter added. [Event-Name]=[BACKGROUND_JOB]\n\n"),
                        END};
    fakefs *f;
    ctx t;
    assert_int_equal(fs_listen(&f, script), 0);
    vox_aclient_opts o = {.events = "ALL", .filters = filters, .nfilters = 2};
    start(&t, &o, fs_port(f));
    /* nothing happens before the loop runs */
    assert_int_equal(vox_aclient_connected(t.c), 0);
    run_until(&t, &t.connects, 1);
    assert_string_equal(t.log, "ev:HEARTBEAT connect ");
    size_t len;
    char *c2s = tu_fixture("inbound_07_filter.c2s.raw", &len);
    const char *third = strstr(c2s, "filter delete");
    const char *got = fs_received(f);
    assert_int_equal(strlen(got) - strlen("filter Event-Name BACKGROUND_JOB\n\n"),
                     (size_t)(third - c2s));
    assert_memory_equal(got, c2s, (size_t)(third - c2s));
    free(c2s);
    end(&t);
    finish(f);
    assert_int_equal(t.disconnects, 0); /* a stop is not reported */
}

/* ------------------------------------------------------------------ hooks */

static void hook_note(vox_aclient *c, const vox_event *ev, void *ud)
{
    ctx *t = vox_aclient_userdata(c);
    note(t, ud, vox_event_name(ev));
}

static void test_hooks_in_order(void **state)
{
    char *create = fs_event_plain("Event-Name: CHANNEL_CREATE\nUnique-ID: u1\n", NULL);
    char *reg = fs_event_plain("Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\n", NULL);
    char *hb = fs_event_plain("Event-Name: HEARTBEAT\n", NULL);
    fs_step script[] = {HANDSHAKE, SEND(create), SEND(reg), SEND(hb), END};
    fakefs *f;
    ctx t;
    assert_int_equal(fs_listen(&f, script), 0);
    vox_aclient_opts o = {0};
    start(&t, &o, fs_port(f));
    assert_int_equal(vox_aclient_hook(t.c, "CHANNEL_CREATE", hook_note, "create"), 0);
    assert_int_equal(vox_aclient_hook(t.c, NULL, hook_note, "all"), 0);
    assert_int_equal(vox_aclient_hook(t.c, "sofia::register", hook_note, "reg"), 0);
    assert_int_equal(vox_aclient_hook(t.c, "", hook_note, "x"), VOX_EINVAL);
    assert_int_equal(vox_aclient_hook(t.c, "X", NULL, NULL), VOX_EINVAL);
    run_until(&t, &t.events, 3);
    assert_string_equal(t.log, "connect create:CHANNEL_CREATE all:CHANNEL_CREATE "
                               "ev:CHANNEL_CREATE all:CUSTOM reg:CUSTOM ev:CUSTOM "
                               "all:HEARTBEAT ev:HEARTBEAT ");
    end(&t);
    finish(f);
    free(create);
    free(reg);
    free(hb);
}

/* --------------------------------------------------------- api and bgapi */

static void api_cb(vox_aclient *c, int status, const vox_msg *reply, void *ud)
{
    ctx *t = ud;
    t->api_calls++;
    t->api_status = status;
    size_t len = 0;
    const char *body = reply ? vox_msg_body(reply, &len) : NULL;
    snprintf(t->api_body, sizeof t->api_body, "%.*s", (int)(len < 18 ? len : 18), body ? body : "");
}

static void job_cb(vox_aclient *c, int status, const vox_event *job, void *ud)
{
    ctx *t = ud;
    t->job_calls++;
    t->job_status = status;
    const char *cmd = job ? vox_event_get(job, "Job-Command") : NULL;
    snprintf(t->job_cmd, sizeof t->job_cmd, "%s", cmd ? cmd : "");
}

static void late_cb(vox_aclient *c, int status, const vox_msg *reply, void *ud)
{
    ((ctx *)ud)->late_calls++;
}

/* Requests go out as soon as the client is connected. */
static void connect_requests(vox_aclient *c, void *ud)
{
    ctx *t = ud;
    on_connect(c, ud);
    assert_int_equal(vox_aclient_api(c, "status", api_cb, t), 0);
    assert_int_equal(vox_aclient_bgapi(c, "status", job_cb, t), 0);
    assert_int_equal(vox_aclient_api(c, "bad\ncmd", api_cb, t), VOX_EINVAL);
}

/* in12's job frames with the capture's Job-UUID made a placeholder (same
 * length as the generated one, so Content-Length still holds). */
static char *job_placeholder(const char *frame)
{
    const char *cap = "d7323420-1f0c-4c88-91ca-2e116d49bd49";
    size_t n = strlen(frame), ul = strlen(cap), k = 0;
    char *out = malloc(n * 2 + 1);
    for (const char *p = frame; *p;) {
        if (!strncmp(p, cap, ul)) {
            memcpy(out + k, "${job-uuid}", 11);
            k += 11;
            p += ul;
        } else {
            out[k++] = *p++;
        }
    }
    out[k] = '\0';
    return out;
}

static void test_api_bgapi(void **state)
{
    char *reply = job_placeholder(in12[3]), *job = job_placeholder(in12[4]);
    char *hb = fs_event_plain("Event-Name: HEARTBEAT\n", NULL);
    fs_step script[] = {HANDSHAKE,
                        EXPECT("api status\n\n"),
                        EXPECT("bgapi status\nJob-UUID: "),
                        SEND(in01[2]),
                        {FS_SEND, reply, 0},
                        {FS_SEND, job, 0},
                        EXPECT("api version\n\n"),
                        SEND(hb),
                        END};
    fakefs *f;
    ctx t;
    assert_int_equal(fs_listen(&f, script), 0);
    vox_aclient_opts o = {.on_connect = connect_requests};
    start(&t, &o, fs_port(f));
    run_until(&t, &t.job_calls, 1);
    assert_int_equal(t.api_calls, 1);
    assert_int_equal(t.api_status, 0);
    assert_string_equal(t.api_body, "UP 0 years, 0 days");
    assert_int_equal(t.job_status, 0);
    assert_string_equal(t.job_cmd, "status");
    /* a request never answered completes with VOX_ECLOSED at stop */
    assert_int_equal(vox_aclient_api(t.c, "version", late_cb, &t), 0);
    /* the job's BACKGROUND_JOB reaches on_event too; the HEARTBEAT comes
     * once the fake saw `api version` */
    run_until(&t, &t.events, 2);
    assert_string_equal(t.log, "connect ev:BACKGROUND_JOB ev:HEARTBEAT ");
    finish(f);
    assert_int_equal(t.late_calls, 0);
    vox_aclient_stop(t.c);
    t.stopped = 1;
    assert_int_equal(t.late_calls, 1);
    end(&t);
    free(reply);
    free(job);
    free(hb);
}

/* ------------------------------------------------- drops and reconnects */

/* The full subscription of the reconnect tests, and the replies to it. */
#define SUB_EVENTS "CHANNEL_CREATE CUSTOM sofia::register"
#define SUB_BYTES                                                                                  \
    "auth ClueCon\n\nevent plain BACKGROUND_JOB " SUB_EVENTS "\n\nfilter Unique-ID abc\n\n"        \
    "filter Event-Name BACKGROUND_JOB\n\n"
#define SUB_OK SEND("Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
#define FILTER_OK SEND("Content-Type: command/reply\nReply-Text: +OK filter added.\n\n")
#define FULL_HANDSHAKE                                                                             \
    SEND(in12[0]), EXPECT("auth ClueCon\n\n"), SEND(in12[1]),                                      \
        EXPECT("event plain BACKGROUND_JOB " SUB_EVENTS "\n\n"),                                   \
        EXPECT("filter Unique-ID abc\n\n"), EXPECT("filter Event-Name BACKGROUND_JOB\n\n"),        \
        SUB_OK, FILTER_OK, FILTER_OK

static const vox_header sub_filters[] = {{"Unique-ID", "abc"}};

static vox_aclient_opts sub_opts(void)
{
    vox_aclient_opts o = {.events = SUB_EVENTS,
                          .filters = sub_filters,
                          .nfilters = 1,
                          .backoff_min_ms = 10,
                          .backoff_max_ms = 40};
    return o;
}

static void drop_then_reconnect(const fs_step *first, const char *first_bytes)
{
    fs_step second[] = {FULL_HANDSHAKE, END};
    const fs_step *scripts[] = {first, second};
    fakefs *f;
    ctx t;
    assert_int_equal(fs_listen_n(&f, scripts, 2), 0);
    vox_aclient_opts o = sub_opts();
    start(&t, &o, fs_port(f));
    run_until(&t, &t.connects, 1);
    assert_int_equal(t.disconnects, 1);
    assert_int_equal(t.reasons[0], VOX_ECLOSED);
    assert_true(t.retries[0] >= 7 && t.retries[0] <= 13);
    assert_int_equal(t.misses, 0); /* never up before: nothing was missed */
    assert_string_equal(fs_received_conn(f, 0), first_bytes);
    assert_string_equal(fs_received_conn(f, 1), SUB_BYTES);
    end(&t);
    finish(f);
}

static void test_drop_after_auth_request(void **state)
{
    fs_step first[] = {SEND(in12[0]), EXPECT("auth ClueCon\n\n"), CLOSE, END};
    drop_then_reconnect(first, "auth ClueCon\n\n");
}

static void test_drop_after_accepted(void **state)
{
    fs_step first[] = {SEND(in12[0]), EXPECT("auth ClueCon\n\n"),
                       SEND(in12[1]), EXPECT("event plain"),
                       CLOSE,         END};
    drop_then_reconnect(first, "auth ClueCon\n\nevent plain BACKGROUND_JOB " SUB_EVENTS "\n\n");
}

static void test_drop_after_event_reply(void **state)
{
    fs_step first[] = {SEND(in12[0]),
                       EXPECT("auth ClueCon\n\n"),
                       SEND(in12[1]),
                       EXPECT("event plain"),
                       EXPECT("filter Unique-ID"),
                       EXPECT("filter Event-Name"),
                       SUB_OK,
                       CLOSE,
                       END};
    drop_then_reconnect(first, SUB_BYTES);
}

static void test_reconnect_reports_missed(void **state)
{
    char *hb = fs_event_plain("Event-Name: HEARTBEAT\n", NULL);
    fs_step first[] = {FULL_HANDSHAKE, SEND(hb), CLOSE, END};
    fs_step second[] = {FULL_HANDSHAKE, SEND(hb), END};
    const fs_step *scripts[] = {first, second};
    fakefs *f;
    ctx t;
    assert_int_equal(fs_listen_n(&f, scripts, 2), 0);
    vox_aclient_opts o = sub_opts();
    start(&t, &o, fs_port(f));
    assert_int_equal(vox_aclient_hook(t.c, "HEARTBEAT", hook_note, "hb"), 0);
    run_until(&t, &t.events, 2);
    /* the hook survived the reconnect; missed follows the new connect */
    assert_string_equal(t.log, "connect hb:HEARTBEAT ev:HEARTBEAT disconnect:connection closed "
                               "connect missed hb:HEARTBEAT ev:HEARTBEAT ");
    assert_int_equal(t.reasons[0], VOX_ECLOSED);
    assert_true(t.retries[0] >= 7 && t.retries[0] <= 13);
    assert_string_equal(fs_received_conn(f, 1), SUB_BYTES);
    end(&t);
    finish(f);
    free(hb);
}

/* ---------------------------------------------------------------- backoff */

/* A port bound but not listening: every connect is refused at once. */
static uint16_t refusing_port(int *fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*fd >= 0);
    assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &alen), 0);
    return ntohs(a.sin_port);
}

static void assert_near(uint32_t got, uint32_t base, uint32_t max)
{
    uint32_t lo = base - base / 4, hi = base + base / 4;
    if (hi > max)
        hi = max;
    if (got < lo || got > hi)
        fail_msg("retry %u ms, expected %u..%u", got, lo, hi);
}

static void test_backoff_grows_to_max(void **state)
{
    int fd;
    ctx t;
    vox_aclient_opts o = {.backoff_min_ms = 8, .backoff_max_ms = 64};
    start(&t, &o, refusing_port(&fd));
    t.stop_at_disconnect = 6; /* stop from inside on_disconnect */
    run_until(&t, &t.disconnects, 6);
    static const uint32_t base[] = {8, 16, 32, 64, 64, 64};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(t.reasons[i], VOX_ESYS);
        assert_near(t.retries[i], base[i], 64);
    }
    assert_int_equal(t.connects, 0);
    end(&t);
    close(fd);
}

static void test_backoff_resets_after_connect(void **state)
{
    fs_step drop[] = {CLOSE, END};
    fs_step up[] = {HANDSHAKE, END}; /* closed by the fake when it ends */
    fs_step last[] = {HANDSHAKE, END};
    const fs_step *scripts[] = {drop, drop, up, last};
    fakefs *f;
    ctx t;
    assert_int_equal(fs_listen_n(&f, scripts, 4), 0);
    vox_aclient_opts o = {.backoff_min_ms = 20, .backoff_max_ms = 1000};
    start(&t, &o, fs_port(f));
    run_until(&t, &t.connects, 2);
    assert_int_equal(t.disconnects, 3);
    assert_near(t.retries[0], 20, 1000);
    assert_near(t.retries[1], 40, 1000);
    assert_near(t.retries[2], 20, 1000); /* after a success: from the start */
    assert_int_equal(t.misses, 1);
    end(&t);
    finish(f);
}

/* ----------------------------------------------------------- wrong password */

static void test_wrong_password(void **state)
{
    fs_step script[] = {
        SEND(in02[0]), EXPECT("auth WrongPassword\n\n"), SEND(in02[1]), SEND(in02[2]), CLOSE, END};
    fakefs *f;
    ctx t;
    assert_int_equal(fs_listen(&f, script), 0);
    vox_aclient_opts o = {
        .password = "WrongPassword", .backoff_min_ms = 10, .backoff_max_ms = 60000};
    start(&t, &o, fs_port(f));
    t.stop_at_disconnect = 1;
    run_until(&t, &t.disconnects, 1);
    assert_int_equal(t.reasons[0], VOX_EAUTH);
    assert_int_equal(t.retries[0], 60000);
    assert_int_equal(t.connects, 0);
    end(&t);
    finish(f);
}

static void test_bad_options(void **state)
{
    uv_loop_t loop;
    vox_aclient *c = NULL;
    assert_int_equal(uv_loop_init(&loop), 0);
    vox_loop l = vox_uv_loop(&loop);
    assert_int_equal(vox_aclient_start(&c, &l, &(vox_aclient_opts){.password = "a\nb"}),
                     VOX_EINVAL);
    assert_int_equal(vox_aclient_start(&c, &l, NULL), VOX_EINVAL);
    vox_header bad[] = {{"Unique-ID", NULL}};
    assert_int_equal(vox_aclient_start(&c, &l, &(vox_aclient_opts){.filters = bad, .nfilters = 1}),
                     VOX_EINVAL);
    assert_null(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ------------------------------------------------ requests while down */

static void never_reply(vox_aclient *c, int status, const vox_msg *reply, void *ud)
{
    fail_msg("a refused request's callback ran");
}

static void never_job(vox_aclient *c, int status, const vox_event *job, void *ud)
{
    fail_msg("a refused request's callback ran");
}

static void down_requests(vox_aclient *c, int reason, uint32_t retry_ms, void *ud)
{
    ctx *t = ud;
    assert_int_equal(vox_aclient_api(c, "status", never_reply, NULL), VOX_ECLOSED);
    assert_int_equal(vox_aclient_bgapi(c, "status", never_job, NULL), VOX_ECLOSED);
    on_disconnect(c, reason, retry_ms, t);
}

static void test_requests_while_disconnected(void **state)
{
    int fd, fd2;
    ctx t;
    vox_aclient_opts o = {.backoff_min_ms = 5, .backoff_max_ms = 10};
    start(&t, &o, refusing_port(&fd));
    /* not connected yet */
    assert_int_equal(vox_aclient_api(t.c, "status", never_reply, NULL), VOX_ECLOSED);
    assert_int_equal(vox_aclient_bgapi(t.c, "status", never_job, NULL), VOX_ECLOSED);
    assert_null(vox_aclient_conn(t.c));
    assert_int_equal(vox_aclient_api(t.c, NULL, never_reply, NULL), VOX_EINVAL);
    vox_aclient_stop(t.c);
    t.stopped = 1;
    end(&t);
    /* and from inside on_disconnect, between attempts */
    o = (vox_aclient_opts){
        .backoff_min_ms = 5, .backoff_max_ms = 10, .on_disconnect = down_requests};
    start(&t, &o, refusing_port(&fd2));
    t.stop_at_disconnect = 2;
    run_until(&t, &t.disconnects, 2);
    end(&t);
    close(fd2);
    close(fd);
}

/* -------------------------------------------------- stop from callbacks */

static void stop_hook(vox_aclient *c, const vox_event *ev, void *ud)
{
    ctx *t = vox_aclient_userdata(c);
    note(t, "stop", vox_event_name(ev));
    vox_aclient_stop(c);
    t->stopped = 1;
    /* the pending api completed inside stop, before it returned */
    assert_int_equal(t->late_calls, 1);
    assert_int_equal(vox_aclient_api(c, "status", never_reply, NULL), VOX_ECLOSED);
}

static void connect_pending(vox_aclient *c, void *ud)
{
    ctx *t = ud;
    on_connect(c, ud);
    assert_int_equal(vox_aclient_api(c, "status", late_cb, t), 0);
}

static void test_stop_inside_hook(void **state)
{
    char *create = fs_event_plain("Event-Name: CHANNEL_CREATE\nUnique-ID: u1\n", NULL);
    char *hb = fs_event_plain("Event-Name: HEARTBEAT\n", NULL);
    fs_step script[] = {HANDSHAKE, EXPECT("api status\n\n"), SEND(hb), SEND(create), SEND(hb), END};
    fakefs *f;
    ctx t;
    assert_int_equal(fs_listen(&f, script), 0);
    vox_aclient_opts o = {.on_connect = connect_pending};
    start(&t, &o, fs_port(f));
    assert_int_equal(vox_aclient_hook(t.c, NULL, hook_note, "all"), 0);
    assert_int_equal(vox_aclient_hook(t.c, "CHANNEL_CREATE", stop_hook, NULL), 0);
    assert_int_equal(vox_aclient_hook(t.c, NULL, hook_note, "after"), 0);
    run_until(&t, &t.stopped, 1);
    end(&t);
    finish(f);
    /* nothing after the stop: not the later hook, not on_event, not the next event */
    assert_string_equal(t.log, "connect all:HEARTBEAT after:HEARTBEAT ev:HEARTBEAT "
                               "all:CHANNEL_CREATE stop:CHANNEL_CREATE ");
    assert_int_equal(t.disconnects, 0);
    free(create);
    free(hb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_subscribe_filters),
        cmocka_unit_test(test_hooks_in_order),
        cmocka_unit_test(test_api_bgapi),
        cmocka_unit_test(test_drop_after_auth_request),
        cmocka_unit_test(test_drop_after_accepted),
        cmocka_unit_test(test_drop_after_event_reply),
        cmocka_unit_test(test_reconnect_reports_missed),
        cmocka_unit_test(test_backoff_grows_to_max),
        cmocka_unit_test(test_backoff_resets_after_connect),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_requests_while_disconnected),
        cmocka_unit_test(test_stop_inside_hook),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
