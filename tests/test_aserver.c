/* The async outbound server on a libuv loop, with the scripted fake
 * FreeSWITCH playing the outbound side from real captures. The loop runs on
 * the test's thread; every wait runs it until a condition holds, bounded by
 * a loop timer that fails the test. Nothing sleeps to synchronise. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vox/async.h>
#include <vox/uv.h>

#include "util/testutil.h"
#include "util/capture.h"
#include "util/fakefs.h"

#define WAIT_MS 5000
#define CALL_UUID "706da2ae-ece7-44cd-b4c5-8dec8b93e91e"
#define MY_EVENT_UUID "c0ffee00-0000-4000-8000-000000000001"
#define MANY 200

/* ------------------------------------------------------------ the world */

typedef struct world {
    uv_loop_t loop;
    uv_timer_t guard;
    int timed_out;
    vox_loop vl;
    vox_aserver *srv;
    long live0; /* library blocks alive before the test */
    int sessions, ends, dones;
    int reasons[MANY + 8];
    char log[65536];
    size_t loglen;
} world;

static world g;

static void on_guard(uv_timer_t *t)
{
    g.timed_out = 1;
    uv_stop(t->loop);
}

/* Runs the loop until expr holds; WAIT_MS without it fails the test. */
#define WAIT_FOR(expr)                                                                             \
    do {                                                                                           \
        g.timed_out = 0;                                                                           \
        uv_timer_start(&g.guard, on_guard, WAIT_MS, 0);                                            \
        while (!(expr) && !g.timed_out)                                                            \
            uv_run(&g.loop, UV_RUN_ONCE);                                                          \
        uv_timer_stop(&g.guard);                                                                   \
        if (!(expr))                                                                               \
            fail_msg("no `%s` within %d ms; log:\n%s", #expr, WAIT_MS, g.log);                     \
    } while (0)

static void log_cb(int level, const char *line, void *ud)
{
    (void)level;
    (void)ud;
    int n = snprintf(g.log + g.loglen, sizeof g.log - g.loglen, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof g.log - g.loglen)
        g.loglen += (size_t)n;
}

static int logged(const char *needle)
{
    return strstr(g.log, needle) != NULL;
}

static int setup(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    assert_int_equal(uv_loop_init(&g.loop), 0);
    assert_int_equal(uv_timer_init(&g.loop, &g.guard), 0);
    g.vl = vox_uv_loop(&g.loop);
    g.live0 = tu_live();
    return 0;
}

static void on_guard_closed(uv_handle_t *h)
{
    (void)h;
}

/* Every handle the library opened is closed once the server is done, and
 * every block it allocated is freed. */
static int teardown(void **state)
{
    (void)state;
    if (g.srv)
        return 0; /* a failed test left the server running: nothing to check */
    uv_close((uv_handle_t *)&g.guard, on_guard_closed);
    uv_run(&g.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&g.loop), 0);
    assert_int_equal(tu_live(), g.live0);
    return 0;
}

static void on_done(vox_aserver *s, void *ud)
{
    assert_ptr_equal(s, g.srv);
    assert_ptr_equal(ud, &g);
    g.dones++;
}

/* Stops the server and runs the loop until done has run. */
static void stop(uint32_t drain_ms)
{
    vox_aserver_stop(g.srv, drain_ms, on_done, &g);
    WAIT_FOR(g.dones == 1);
    g.srv = NULL;
}

/* ------------------------------------------------------------ captures */

/* clang-format off */
#define SEND(x) {FS_SEND, (x), 0}
#define EXPECT(x) {FS_EXPECT, (x), 0}
#define EXPECT_EOF {FS_EXPECT_EOF, NULL, 0}
#define CLOSE {FS_CLOSE, NULL, 0}
#define END {FS_END, NULL, 0}
#define HANDSHAKE(c)                                                                      \
    EXPECT("connect\n\n"), SEND((c)->f[0]), EXPECT("myevents"), SEND((c)->f[1]),         \
        EXPECT("linger"), SEND((c)->f[2])
/* clang-format on */

static const char API_DONE[] = "Content-Type: api/response\nContent-Length: 5\n\ndone\n";

static fakefs *peer(const fs_step *script)
{
    fakefs *f = NULL;
    assert_int_equal(fs_connect(&f, vox_aserver_port(g.srv), script), 0);
    return f;
}

/* The script is over once the loop saw what it waits for: collect it. */
static void peer_done(fakefs *f)
{
    const char *err = fs_wait(f, WAIT_MS);
    if (err)
        fail_msg("fakefs: %s", err);
}

/* ------------------------------------------------------------ server */

typedef void (*session_fn)(vox_session *x, void *ud);

static session_fn g_on_session;
static void (*g_on_end)(vox_session *x, int reason);

static void on_session(vox_session *x, void *ud)
{
    assert_ptr_equal(ud, &g);
    g.sessions++;
    if (g_on_session)
        g_on_session(x, ud);
}

static void on_end(vox_session *x, int reason, void *ud)
{
    assert_ptr_equal(ud, &g);
    if ((size_t)g.ends < sizeof g.reasons / sizeof g.reasons[0])
        g.reasons[g.ends] = reason;
    g.ends++;
    if (g_on_end)
        g_on_end(x, reason);
}

static void start(vox_aserver_opts *o, session_fn fn)
{
    g_on_session = fn;
    g_on_end = NULL;
    o->on_session = on_session;
    o->on_end = on_end;
    o->log = log_cb;
    o->userdata = &g;
    assert_int_equal(vox_aserver_start(&g.srv, &g.vl, o), 0);
    assert_int_not_equal(vox_aserver_port(g.srv), 0);
}

/* ------------------------------------------------------ a whole session */

typedef struct call {
    int rc[4];
    int completions;
    int hook_answer, hook_hc, events;
    int hungup_before, hungup_after;
    int ended, end_reason, hc_before_end;
    char uuid[64], dest[32], app_uuid[40], end_uuid[64];
} call;

static call g_call;

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "(null)");
}

static int exec_app(vox_conn *c, const char *app, const char *arg, const char *event_uuid,
                    vox_exec_cb cb, void *ud)
{
    vox_execute x = {.app = app, .arg = arg, .event_uuid = event_uuid, .event_lock = 1};
    return vox_conn_execute(c, &x, NULL, 0, 0, cb, ud);
}

static void on_answer_hook(vox_conn *c, const vox_event *ev, void *ud)
{
    ((call *)ud)->hook_answer++;
}

static void on_hc_hook(vox_conn *c, const vox_event *ev, void *ud)
{
    ((call *)ud)->hook_hc++;
}

static void on_any(vox_conn *c, const vox_event *ev, void *ud)
{
    ((call *)ud)->events++;
}

static void hangup_done(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    call *k = ud;
    k->rc[2] = status;
    k->completions++;
    k->hungup_after = vox_conn_hungup(c);
    /* the fake sends the rest of the call once it sees this */
    assert_int_equal(vox_conn_api(c, "echo", "done", 0, NULL, NULL), 0);
}

static void playback_done(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    call *k = ud;
    k->rc[1] = status;
    k->completions++;
    k->hungup_before = vox_conn_hungup(c);
    assert_int_equal(exec_app(c, "hangup", NULL, NULL, hangup_done, k), 0);
}

static void answer_done(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    call *k = ud;
    k->rc[0] = status;
    k->completions++;
    copy(k->app_uuid, sizeof k->app_uuid, ev ? vox_event_get(ev, "Application-UUID") : NULL);
    assert_int_equal(exec_app(c, "playback", "tone_stream://%(200,0,800)", NULL, playback_done, k),
                     0);
}

static void whole_session(vox_session *x, void *ud)
{
    call *k = &g_call;
    vox_conn *c = vox_session_conn(x);
    vox_session_set_userdata(x, k);
    copy(k->uuid, sizeof k->uuid, vox_session_uuid(x));
    copy(k->dest, sizeof k->dest,
         vox_event_get(vox_conn_channel_data(c), "Caller-Destination-Number"));
    assert_int_equal(vox_conn_hook(c, "CHANNEL_ANSWER", on_answer_hook, k), 0);
    assert_int_equal(vox_conn_hook(c, "CHANNEL_HANGUP_COMPLETE", on_hc_hook, k), 0);
    assert_int_equal(vox_conn_hook(c, NULL, on_any, k), 0);
    assert_int_equal(exec_app(c, "answer", NULL, MY_EVENT_UUID, answer_done, k), 0);
}

static void record_end(vox_session *x, int reason)
{
    call *k = vox_session_userdata(x);
    assert_ptr_equal(k, &g_call);
    k->ended++;
    k->end_reason = reason;
    k->hc_before_end = k->hook_hc;
    copy(k->end_uuid, sizeof k->end_uuid, vox_session_uuid(x));
}

/* The capture's call, driven by completion callbacks: answer, playback and
 * hangup chained, each matched by its own Event-UUID, the hooks running
 * from the loop; the session ends by itself once it saw HANGUP_COMPLETE and
 * the linger notice (in that order here). */
static void test_session(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    assert_int_equal(c.n, F_COUNT);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK1]),
        SEND(c.f[F_PARK]),
        SEND(cap_with_event_uuid(&c, F_EXEC_ANSWER)),
        SEND(c.f[F_ANSWER]),
        SEND(cap_with_event_uuid(&c, F_DONE_ANSWER)),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK2]),
        SEND(cap_with_event_uuid(&c, F_EXEC_PLAY)),
        SEND(cap_with_event_uuid(&c, F_DONE_PLAY)),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK4]),
        SEND(cap_with_event_uuid(&c, F_EXEC_HANGUP)),
        SEND(c.f[F_HANGUP]),
        SEND(cap_with_event_uuid(&c, F_DONE_HANGUP)),
        EXPECT("api echo done"),
        SEND(API_DONE),
        SEND(c.f[F_UNPARK]),
        SEND(c.f[F_DONE_SOCKET]),
        SEND(c.f[F_STATE1]),
        SEND(c.f[F_STATE2]),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    memset(&g_call, 0, sizeof g_call);
    vox_aserver_opts o = {0};
    start(&o, whole_session);
    g_on_end = record_end;
    fakefs *f = peer(script);
    WAIT_FOR(g.ends == 1);
    assert_int_equal(vox_aserver_active(g.srv), 0);
    peer_done(f);
    stop(1000);
    cap_free(&c);

    call *k = &g_call;
    assert_int_equal(k->completions, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(k->rc[i], 0);
    assert_string_equal(k->uuid, CALL_UUID);
    assert_string_equal(k->end_uuid, CALL_UUID);
    assert_string_equal(k->dest, "9101");
    assert_string_equal(k->app_uuid, MY_EVENT_UUID);
    assert_int_equal(k->hungup_before, 0);
    assert_int_equal(k->hungup_after, 1);
    assert_int_equal(k->hook_answer, 1);
    assert_int_equal(k->hook_hc, 1);
    /* PARK, 3 x EXECUTE, ANSWER, 3 x COMPLETE, HANGUP, UNPARK, COMPLETE
     * (socket), 2 x STATE, HANGUP_COMPLETE */
    assert_int_equal(k->events, 14);
    assert_int_equal(k->ended, 1);
    assert_int_equal(k->end_reason, 0);
    assert_int_equal(k->hc_before_end, 1);
    assert_int_equal(g.sessions, 1);
    assert_true(logged("call " CALL_UUID " from 127.0.0.1: started"));
}

/* The other order FreeSWITCH may use: the linger notice right after
 * CHANNEL_HANGUP. The session reads on until HANGUP_COMPLETE, its hooks see
 * every event after the notice, and only then does it end. */
static void short_session(vox_session *x, void *ud)
{
    call *k = &g_call;
    vox_conn *c = vox_session_conn(x);
    vox_session_set_userdata(x, k);
    assert_int_equal(vox_conn_hook(c, "CHANNEL_HANGUP_COMPLETE", on_hc_hook, k), 0);
    assert_int_equal(vox_conn_hook(c, NULL, on_any, k), 0);
    assert_int_equal(vox_conn_api(c, "echo", "done", 0, NULL, NULL), 0);
}

static void test_notice_before_hangup_complete(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("api echo done"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP]),
        SEND(c.f[F_LINGER]),
        SEND(c.f[F_UNPARK]),
        SEND(c.f[F_DONE_SOCKET]),
        SEND(c.f[F_STATE1]),
        SEND(c.f[F_STATE2]),
        SEND(c.f[F_HANGUP_COMPLETE]),
        EXPECT_EOF,
        END,
    };
    memset(&g_call, 0, sizeof g_call);
    vox_aserver_opts o = {0};
    start(&o, short_session);
    g_on_end = record_end;
    fakefs *f = peer(script);
    WAIT_FOR(g.ends == 1);
    peer_done(f);
    stop(1000);
    cap_free(&c);
    assert_int_equal(g_call.end_reason, 0);
    assert_int_equal(g_call.hc_before_end, 1);
    assert_int_equal(g_call.events, 6);
}

/* ------------------------------------------------- drops and disconnects */

typedef struct outcome {
    int exec_rc, exec_calls, again_rc, ended_after_exec, disc_rc;
} outcome;

static outcome g_out;

static void exec_closed(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    g_out.exec_rc = status;
    g_out.exec_calls++;
    /* reading has ended: a new request fails at once */
    g_out.again_rc = exec_app(c, "answer", NULL, NULL, exec_closed, NULL);
}

static void answer_session(vox_session *x, void *ud)
{
    assert_int_equal(exec_app(vox_session_conn(x), "answer", NULL, NULL, exec_closed, NULL), 0);
}

static void end_after_exec(vox_session *x, int reason)
{
    g_out.ended_after_exec = g_out.exec_calls == 1;
}

/* FreeSWITCH goes away while an execute waits: it completes with
 * VOX_ECLOSED, then the session ends with the drop as its reason. */
static void test_drop_completes_execute(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {HANDSHAKE(&c), EXPECT("sendmsg"), SEND(c.f[F_OK1]), CLOSE, END};
    memset(&g_out, 0, sizeof g_out);
    vox_aserver_opts o = {0};
    start(&o, answer_session);
    g_on_end = end_after_exec;
    fakefs *f = peer(script);
    WAIT_FOR(g.ends == 1);
    peer_done(f);
    stop(1000);
    cap_free(&c);
    assert_int_equal(g_out.exec_calls, 1);
    assert_int_equal(g_out.exec_rc, VOX_ECLOSED);
    assert_int_equal(g_out.again_rc, VOX_ECLOSED);
    assert_int_equal(g_out.ended_after_exec, 1);
    assert_int_equal(g.reasons[0], VOX_ECLOSED);
}

static void disconnect_session(vox_session *x, void *ud)
{
    vox_conn *c = vox_session_conn(x);
    g_out.disc_rc = vox_conn_disconnect(c);
    g_out.again_rc = exec_app(c, "answer", NULL, NULL, exec_closed, NULL);
}

/* vox_conn_disconnect half-closes; FreeSWITCH's goodbye and close end the
 * session through the normal path (reason 0). */
static void test_disconnect(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {HANDSHAKE(&c), EXPECT_EOF, SEND(c.f[F_DISCONNECT]), CLOSE, END};
    memset(&g_out, 0, sizeof g_out);
    vox_aserver_opts o = {0};
    start(&o, disconnect_session);
    fakefs *f = peer(script);
    WAIT_FOR(g.ends == 1);
    peer_done(f);
    stop(1000);
    cap_free(&c);
    assert_int_equal(g_out.disc_rc, 0);
    assert_int_equal(g_out.again_rc, VOX_ECLOSED);
    assert_int_equal(g_out.exec_calls, 0);
    assert_int_equal(g.reasons[0], 0);
}

/* ------------------------------------------------- refusals and limits */

static void nothing(vox_session *x, void *ud) {}

/* The fake connects from 127.0.0.1: a list without it closes the
 * connection before a byte is sent. */
static void test_allow_list_refuses(void **state)
{
    (void)state;
    static const char *const allow[] = {"10.9.8.7", "::1", NULL};
    fs_step script[] = {EXPECT_EOF, END};
    vox_aserver_opts o = {.allow = allow};
    start(&o, nothing);
    fakefs *f = peer(script);
    WAIT_FOR(logged("call from 127.0.0.1 refused: not in the allow-list"));
    peer_done(f);
    assert_int_equal(vox_aserver_active(g.srv), 0);
    stop(1000);
    assert_int_equal(g.sessions, 0);
    assert_int_equal(g.ends, 0);
}

static int allowed_session(const char *host, const char *const *allow)
{
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c), SEND(c.f[F_HANGUP_COMPLETE]), SEND(c.f[F_LINGER]), EXPECT_EOF, END,
    };
    vox_aserver_opts o = {.host = host, .allow = allow, .on_session = on_session, .log = log_cb};
    g_on_session = nothing;
    g_on_end = NULL;
    o.on_end = on_end;
    o.userdata = &g;
    int rc = vox_aserver_start(&g.srv, &g.vl, &o);
    if (rc == VOX_ESYS && host) {
        cap_free(&c);
        return 0; /* no IPv6 here */
    }
    assert_int_equal(rc, 0);
    fakefs *f = peer(script);
    WAIT_FOR(g.ends == 1);
    peer_done(f);
    stop(1000);
    cap_free(&c);
    assert_int_equal(g.sessions, 1);
    assert_int_equal(g.reasons[0], 0);
    return 1;
}

static void test_allow_list_admits(void **state)
{
    (void)state;
    static const char *const allow[] = {"::1", "127.0.0.1", NULL};
    assert_true(allowed_session(NULL, allow));
}

/* Listening on "::" takes IPv4 too; an IPv4 peer (::ffff:127.0.0.1 on that
 * socket) matches its plain IPv4 text in the list. */
static void test_dual_stack_admits_ipv4(void **state)
{
    (void)state;
    static const char *const allow[] = {"127.0.0.1", NULL};
    if (!allowed_session("::", allow))
        skip();
}

/* max_sessions 1: while the first session waits on an execute, a second
 * connection is closed at once and the refusal logged. */
static void test_max_sessions(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step first[] = {HANDSHAKE(&c), EXPECT("sendmsg"), SEND(c.f[F_OK1]), EXPECT_EOF, END};
    fs_step second[] = {EXPECT_EOF, END};
    memset(&g_out, 0, sizeof g_out);
    vox_aserver_opts o = {.max_sessions = 1};
    start(&o, answer_session);
    fakefs *a = peer(first);
    WAIT_FOR(g.sessions == 1);
    assert_int_equal(vox_aserver_active(g.srv), 1);
    fakefs *b = peer(second);
    WAIT_FOR(logged("call from 127.0.0.1 refused: 1 sessions already running (max_sessions)"));
    peer_done(b);
    assert_int_equal(g.sessions, 1);
    assert_int_equal(g.ends, 0);
    stop(0); /* closes the first: its execute completes */
    peer_done(a);
    cap_free(&c);
    assert_int_equal(g_out.exec_rc, VOX_ECLOSED);
    assert_int_equal(g.ends, 1);
    assert_int_equal(g.reasons[0], VOX_ECLOSED);
}

/* A socket without `full`: reported in the log, closed, no on_session. */
static void test_no_full(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, "outbound_no_full.s2c.raw");
    fs_step script[] = {EXPECT("connect\n\n"), SEND(c.f[0]), EXPECT_EOF, END};
    vox_aserver_opts o = {0};
    start(&o, nothing);
    fakefs *f = peer(script);
    WAIT_FOR(logged("the dialplan's socket needs `async full`") && vox_aserver_active(g.srv) == 0);
    peer_done(f);
    stop(1000);
    cap_free(&c);
    assert_int_equal(g.sessions, 0);
    assert_int_equal(g.ends, 0);
}

/* A peer that connects and never answers `connect`. */
static void test_handshake_timeout(void **state)
{
    (void)state;
    fs_step script[] = {EXPECT("connect\n\n"), EXPECT_EOF, END};
    vox_aserver_opts o = {.handshake_timeout_ms = 100};
    start(&o, nothing);
    uv_update_time(&g.loop);
    uint64_t t0 = uv_now(&g.loop);
    fakefs *f = peer(script);
    WAIT_FOR(vox_aserver_active(g.srv) == 0 && logged("no handshake within 100 ms"));
    uv_update_time(&g.loop);
    assert_true(uv_now(&g.loop) - t0 >= 100);
    peer_done(f);
    stop(1000);
    assert_int_equal(g.sessions, 0);
}

/* A peer that goes away in the middle of the handshake: logged, closed,
 * no on_session and so no on_end. */
static void test_drop_during_handshake(void **state)
{
    (void)state;
    fs_step script[] = {EXPECT("connect\n\n"), CLOSE, END};
    vox_aserver_opts o = {0};
    start(&o, nothing);
    fakefs *f = peer(script);
    WAIT_FOR(vox_aserver_active(g.srv) == 0 && logged("call from 127.0.0.1: handshake failed"));
    peer_done(f);
    stop(1000);
    assert_int_equal(g.sessions, 0);
    assert_int_equal(g.ends, 0);
}

/* The library's allocation for a session fails: that call is refused and
 * logged, the server goes on. */
static void test_session_out_of_memory(void **state)
{
    (void)state;
    fs_step script[] = {EXPECT_EOF, END};
    vox_aserver_opts o = {0};
    start(&o, nothing);
    tu_fail_after(0);
    fakefs *f = peer(script);
    WAIT_FOR(logged("call from 127.0.0.1 refused: out of memory"));
    tu_fail_off();
    peer_done(f);
    assert_int_equal(vox_aserver_active(g.srv), 0);
    stop(1000);
    assert_int_equal(g.sessions, 0);
}

/* ------------------------------------------------------- graceful stop */

typedef struct inflight {
    vox_session *ender; /* the session that ends by itself during the drain */
    int exec_rc, exec_calls;
    int reason_ender, reason_others, others;
} inflight;

static inflight g_fl;

static void inflight_exec_done(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    g_fl.exec_rc = status;
    g_fl.exec_calls++;
}

/* By channel: the blocked one waits on an execute, the lingering one does
 * nothing, the third is told to end after the stop began. */
static void inflight_session(vox_session *x, void *ud)
{
    const char *dest =
        vox_event_get(vox_conn_channel_data(vox_session_conn(x)), "Caller-Destination-Number");
    const char *uuid = vox_session_uuid(x);
    if (!strcmp(uuid, CALL_UUID) && !strcmp(dest, "9101"))
        assert_int_equal(
            exec_app(vox_session_conn(x), "answer", NULL, NULL, inflight_exec_done, NULL), 0);
    else if (!strcmp(uuid, CALL_UUID))
        g_fl.ender = x;
}

static void inflight_end(vox_session *x, int reason)
{
    if (x == g_fl.ender) {
        g_fl.reason_ender = reason;
        g_fl.ender = NULL;
    } else {
        g_fl.others++;
        g_fl.reason_others |= reason == VOX_ECLOSED ? 1 : 2;
    }
}

/* The connect reply of the capture with another destination number (same
 * length), so the test can tell the sessions apart. */
static const char *with_dest(capture *c, size_t i, const char *from, const char *to)
{
    char *out = strdup(c->f[i]);
    assert_non_null(out);
    for (char *p = strstr(out, from); p; p = strstr(p + strlen(to), from))
        memcpy(p, to, strlen(to));
    c->keep[c->nkeep++] = out;
    return out;
}

static int refused_now(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    return rc < 0 && e == ECONNREFUSED;
}

/* A stop with three sessions in flight: one waiting on an execute, one
 * lingering, one that ends by itself during the drain. New connections are
 * refused at once; after drain_ms the two left are closed (the execute
 * completes with VOX_ECLOSED); done runs once every session ended; then
 * nothing the library allocated is left (teardown). */
static void test_stop_with_sessions_in_flight(void **state)
{
    (void)state;
    capture c, n;
    cap_load(&c, LINGER_CAPTURE);
    cap_load(&n, "outbound_9101_myevents_json_linger2.s2c.raw");
    const char *other = with_dest(&c, 0, "9101", "9109");
    fs_step blocked[] = {HANDSHAKE(&c), EXPECT("sendmsg"), SEND(c.f[F_OK1]), EXPECT_EOF, END};
    fs_step lingering[] = {EXPECT("connect\n\n"), SEND(n.f[0]), EXPECT("myevents"), SEND(n.f[1]),
                           EXPECT("linger"),      SEND(n.f[2]), EXPECT_EOF,         END};
    fs_step ending[] = {
        EXPECT("connect\n\n"),
        SEND(other),
        EXPECT("myevents"),
        SEND(c.f[1]),
        EXPECT("linger"),
        SEND(c.f[2]),
        EXPECT("api echo later"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    memset(&g_fl, 0, sizeof g_fl);
    vox_aserver_opts o = {0};
    start(&o, inflight_session);
    g_on_end = inflight_end;
    fakefs *a = peer(blocked), *b = peer(lingering), *e = peer(ending);
    WAIT_FOR(g.sessions == 3 && g_fl.ender);
    uint16_t port = vox_aserver_port(g.srv);

    uv_update_time(&g.loop);
    uint64_t t0 = uv_now(&g.loop);
    vox_aserver_stop(g.srv, 300, on_done, &g);
    assert_int_equal(g.dones, 0);
    assert_true(refused_now(port));
    assert_int_equal(vox_conn_api(vox_session_conn(g_fl.ender), "echo", "later", 0, NULL, NULL), 0);
    WAIT_FOR(g.ends == 1);
    assert_null(g_fl.ender);
    assert_int_equal(g_fl.reason_ender, 0);
    assert_int_equal(g.dones, 0);
    assert_int_equal(vox_aserver_active(g.srv), 2);
    WAIT_FOR(g.dones == 1);
    g.srv = NULL;
    uv_update_time(&g.loop);
    assert_true(uv_now(&g.loop) - t0 >= 290);
    peer_done(a);
    peer_done(b);
    peer_done(e);
    cap_free(&c);
    cap_free(&n);
    assert_int_equal(g.ends, 3);
    assert_int_equal(g_fl.others, 2);
    assert_int_equal(g_fl.reason_others, 1); /* both VOX_ECLOSED */
    assert_int_equal(g_fl.exec_calls, 1);
    assert_int_equal(g_fl.exec_rc, VOX_ECLOSED);
    assert_true(logged("closing 2 session(s) still running after 300 ms"));
}

/* Start errors; a stop with nothing running reports done from the loop,
 * not from inside the stop. */
static void test_start_stop(void **state)
{
    (void)state;
    vox_aserver *t = NULL;
    vox_aserver_opts none = {.log = log_cb};
    assert_int_equal(vox_aserver_start(&t, &g.vl, &none), VOX_EINVAL); /* no on_session */
    assert_null(t);
    vox_aserver_opts o = {0};
    start(&o, nothing);
    assert_int_equal(vox_aserver_start(NULL, &g.vl, &o), VOX_EINVAL);
    assert_int_equal(vox_aserver_start(&t, NULL, &o), VOX_EINVAL);
    vox_aserver_opts badfmt = o;
    badfmt.format = (vox_format)3; /* refused at start, not at every handshake */
    assert_int_equal(vox_aserver_start(&t, &g.vl, &badfmt), VOX_EINVAL);
    vox_aserver_opts same = o;
    same.port = vox_aserver_port(g.srv);
    assert_int_equal(vox_aserver_start(&t, &g.vl, &same), VOX_ESYS);
    assert_null(t);
    vox_aserver_stop(g.srv, 1000, on_done, &g);
    assert_int_equal(g.dones, 0);
    WAIT_FOR(g.dones == 1);
    g.srv = NULL;
    vox_aserver_stop(NULL, 0, NULL, NULL);
    assert_int_equal(vox_aserver_port(NULL), 0);
    assert_int_equal(vox_aserver_active(NULL), 0);
}

static void stop_in_end(vox_session *x, int reason)
{
    vox_aserver_stop(g.srv, 0, on_done, &g);
    assert_int_equal(g.dones, 0); /* from the loop, not from in here */
}

/* A stop asked from inside on_end, the last session's: done follows from
 * the loop and the server is freed with nothing left behind. */
static void test_stop_from_callback(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c), SEND(c.f[F_HANGUP_COMPLETE]), SEND(c.f[F_LINGER]), EXPECT_EOF, END,
    };
    vox_aserver_opts o = {0};
    start(&o, nothing);
    g_on_end = stop_in_end;
    fakefs *f = peer(script);
    WAIT_FOR(g.dones == 1);
    g.srv = NULL;
    peer_done(f);
    cap_free(&c);
    assert_int_equal(g.sessions, 1);
    assert_int_equal(g.ends, 1);
    assert_int_equal(g.reasons[0], 0);
}

/* ------------------------------------------------------------ at scale */

typedef struct many {
    int ok, failed;
} many;

static many g_many;

static void many_hangup_done(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    if (status == 0 && vox_conn_hungup(c))
        g_many.ok++;
    else
        g_many.failed++;
}

static void many_answer_done(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    if (status || exec_app(c, "hangup", NULL, NULL, many_hangup_done, NULL))
        g_many.failed++;
}

static void many_session(vox_session *x, void *ud)
{
    if (exec_app(vox_session_conn(x), "answer", NULL, NULL, many_answer_done, NULL))
        g_many.failed++;
}

/* MANY calls played at once, every one a whole call (answer, hangup, the
 * end of the linger) on the one loop. */
static void test_many_sessions(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK1]),
        SEND(cap_with_event_uuid(&c, F_EXEC_ANSWER)),
        SEND(c.f[F_ANSWER]),
        SEND(cap_with_event_uuid(&c, F_DONE_ANSWER)),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK4]),
        SEND(cap_with_event_uuid(&c, F_EXEC_HANGUP)),
        SEND(c.f[F_HANGUP]),
        SEND(cap_with_event_uuid(&c, F_DONE_HANGUP)),
        SEND(c.f[F_UNPARK]),
        SEND(c.f[F_DONE_SOCKET]),
        SEND(c.f[F_STATE1]),
        SEND(c.f[F_STATE2]),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    memset(&g_many, 0, sizeof g_many);
    vox_aserver_opts o = {0};
    start(&o, many_session);
    static fakefs *peers[MANY];
    for (int i = 0; i < MANY; i++) {
        peers[i] = peer(script);
        uv_run(&g.loop, UV_RUN_NOWAIT); /* accept as they come */
    }
    WAIT_FOR(g.ends == MANY);
    for (int i = 0; i < MANY; i++)
        peer_done(peers[i]);
    stop(1000);
    cap_free(&c);
    assert_int_equal(g.sessions, MANY);
    assert_int_equal(g_many.ok, MANY);
    assert_int_equal(g_many.failed, 0);
    for (int i = 0; i < MANY; i++)
        assert_int_equal(g.reasons[i], 0);
}

int main(void)
{
    tu_alloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_before_hangup_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_completes_execute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow_list_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow_list_admits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dual_stack_admits_ipv4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_during_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_sessions_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_sessions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
