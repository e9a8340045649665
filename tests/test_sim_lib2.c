/* libvox's outbound side used end to end against vox-sim's scripted calls:
 * the threaded server (vox_server) running the blocking helpers of
 * vox/app.h straight-line (answer, pre_answer, digits, variables, bridges,
 * park, sleep, hangup; a caller hanging up mid-playback; a dropped socket;
 * sockets without `async full` refused; 50 calls at once), and the async
 * server (vox_aserver on libuv) driving calls with vox_conn_execute and the
 * vox_arg_* builders (a chain of applications, a hangup, a drop, refusals,
 * 200 calls at once). What the simulator recorded (vox_sim_result_get) is
 * checked against what the code did. Every wait is bounded. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/app.h>
#include <vox/async.h>
#include <vox/server.h>
#include <vox/uv.h>

#include "sim.h"
#include "util/testutil.h"

#define SPEED 50
#define WAIT_MS 30000 /* real time: vox_sim_wait and loop guards */
/* The many-call tests on a loaded machine (sanitizers, tests in parallel on
 * few cores) take far longer than their usual 1-3 s. */
#define MANY_WAIT_MS 120000 /* also the servers' handshake timeouts */
#define NSLOT 16
/* A scripted caller hangup must come after the server's handshake and first
 * step, which take real time: 4 simulated seconds at speed 10 are 0.4 s. */
#define HANGUP_SPEED 10
#define HANGUP_MS 4000

/* ------------------------------------------------------------ threaded fixture */

typedef struct fx {
    vox_server *srv;
    vox_sim *sim;
    char target[64];
    int scenario;
    pthread_mutex_t mu;
    int calls;
    int rc[NSLOT];
    char text[NSLOT][160];
    char log[4096];
} fx;

/* Static: a failed test leaves no call thread pointing into a dead stack. */
static fx F;

static void srv_log(int level, const char *line, void *ud)
{
    fx *f = ud;
    pthread_mutex_lock(&f->mu);
    size_t n = strlen(f->log);
    snprintf(f->log + n, sizeof f->log - n, "%d %s\n", level, line);
    pthread_mutex_unlock(&f->mu);
}

static fx *fx_start(vox_call_fn fn, int scenario, const vox_sim_opts *extra)
{
    fx *f = &F;
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->scenario = scenario;
    vox_server_opts so = {.port = 0,
                          .handshake_timeout_ms = MANY_WAIT_MS,
                          .command_timeout_ms = MANY_WAIT_MS,
                          .drain_timeout_ms = WAIT_MS,
                          .log = srv_log,
                          .log_userdata = f};
    assert_int_equal(vox_server_start(&f->srv, &so, fn, f), 0);
    snprintf(f->target, sizeof f->target, "127.0.0.1:%u", vox_server_port(f->srv));
    vox_sim_opts o = extra ? *extra : (vox_sim_opts){0};
    o.speed = o.speed ? o.speed : SPEED;
    assert_int_equal(vox_sim_start(&f->sim, &o), 0);
    return f;
}

static int place(fx *f, vox_sim_call c)
{
    c.socket = f->target;
    if (!c.hangup_ms)
        c.hangup_ms = -1;
    int i = vox_sim_place(f->sim, &c);
    assert_true(i >= 0);
    return i;
}

/* Wait for the calls, then stop the server: its call threads are joined and
 * what they saw can be read without the lock. */
static void fx_wait(fx *f, int want)
{
    int rc = vox_sim_wait(f->sim, WAIT_MS);
    vox_server_stop(f->srv);
    f->srv = NULL;
    if (rc != want) {
        vox_sim_result r;
        size_t n = vox_sim_result_get(f->sim, 0, &r);
        for (size_t i = 0; i < n; i++) {
            vox_sim_result_get(f->sim, i, &r);
            if (!r.as_scripted)
                fail_msg("vox_sim_wait %d: %s: %s (cause %s)\nsteps:\n%s", rc, r.name, r.why,
                         r.cause, r.steps);
        }
        fail_msg("vox_sim_wait %d, want %d", rc, want);
    }
}

static vox_sim_result result(fx *f, int i)
{
    vox_sim_result r;
    assert_true(vox_sim_result_get(f->sim, (size_t)i, &r) > (size_t)i);
    return r;
}

static void fx_stop(fx *f)
{
    vox_sim_free(f->sim);
    if (f->srv)
        vox_server_stop(f->srv);
    pthread_mutex_destroy(&f->mu);
}

static void put(fx *f, int slot, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(fx *f, int slot, int rc, const char *fmt, ...)
{
    pthread_mutex_lock(&f->mu);
    f->rc[slot] = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text[slot], sizeof f->text[slot], fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&f->mu);
}

static const char *var(vox_call *call, const char *name)
{
    const char *v = vox_call_variable(call, name);
    return v ? v : "(unset)";
}

static void has_step(const vox_sim_result *r, const char *step)
{
    if (!strstr(r->steps, step))
        fail_msg("no step [%s] in:\n%s", step, r->steps);
}

static void rc_is(fx *f, int slot, int want, const char *text)
{
    if (f->rc[slot] != want)
        fail_msg("slot %d: %s, want %s (%s)", slot, vox_strerror(f->rc[slot]), vox_strerror(want),
                 f->text[slot]);
    if (text && strcmp(f->text[slot], text))
        fail_msg("slot %d: [%s], want [%s]", slot, f->text[slot], text);
}

/* A step after the channel hung up gets VOX_EHANGUP, even when the session
 * already ended (HANGUP_COMPLETE and the linger notice read with the last
 * completion). */
static void gone(fx *f, int slot)
{
    if (f->rc[slot] != VOX_EHANGUP)
        fail_msg("slot %d, after the hangup: %s (%s)", slot, vox_strerror(f->rc[slot]),
                 f->text[slot]);
}

/* ------------------------------------------------------------ the helpers, one by one */

static void walk_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    char d1[16], d2[16];
    put(f, 15, 0, "%s", vox_call_uuid(call));
    int rc = vox_pre_answer(call);
    put(f, 0, rc, "%s", vox_event_get(vox_call_data(call), "Answer-State"));
    rc = vox_answer(call);
    put(f, 1, rc, "%s", vox_event_get(vox_call_data(call), "Answer-State"));
    rc = vox_play_and_get_digits(call,
                                 &(vox_pagd){.file = "tone_stream://%(300,0,440)",
                                             .min = 2,
                                             .max = 4,
                                             .timeout_ms = 4000,
                                             .var = "pin"},
                                 d1, sizeof d1);
    put(f, 2, rc, "%s/%s", d1, var(call, "pin"));
    rc = vox_read(call,
                  &(vox_read_opts){.file = "silence_stream://100", .max = 1, .timeout_ms = 6000},
                  d2, sizeof d2);
    put(f, 3, rc, "%s/%s", d2, var(call, "read_result"));
    rc = vox_playback(call, "silence_stream://300");
    put(f, 4, rc, "%s", var(call, "playback_ms"));
    rc = vox_set(call, "color", "dark blue");
    put(f, 5, rc, "%s", var(call, "color"));
    vox_header mv[] = {{"a", "1"}, {"b", "x=y"}};
    rc = vox_multiset(call, mv, 2);
    put(f, 6, rc, "%s %s", var(call, "a"), var(call, "b"));
    rc = vox_unset(call, "color");
    put(f, 7, rc, "%s", var(call, "color"));
    rc = vox_export(call, "exp1", "v1", 0);
    put(f, 8, rc, "%s %s", var(call, "exp1"), var(call, "export_vars"));
    rc = vox_export(call, "exp2", "v2", 1);
    put(f, 9, rc, "%s %s", var(call, "exp2"), var(call, "export_vars"));
    char both[40];
    snprintf(both, sizeof both, "%s-%s", d1, d2);
    rc = vox_set(call, "got", both);
    put(f, 10, rc, "%s", var(call, "got"));
    rc = vox_call_update(call); /* uuid_dump: the same variables */
    put(f, 14, rc, "%s %s", var(call, "got"), var(call, "exp1"));
    rc = vox_sleep(call, 1000);
    put(f, 11, rc, "%d", vox_call_hungup(call));
    rc = vox_hangup(call, "CALL_REJECTED");
    put(f, 12, rc, "%d", vox_call_hungup(call));
    rc = vox_playback(call, "silence_stream://100");
    put(f, 13, rc, "%d", vox_is_open(call));
}

static void test_walkthrough(void **state)
{
    (void)state;
    fx *f = fx_start(walk_fn, 0, NULL);
    /* 12# for the prompt, then 7 for the read */
    vox_sim_dtmf d[] = {{400, "12#"}, {3000, "7"}};
    const char *ev[] = {"got=12-7", "a=1", "b=x=y", "exp1=v1", "pin=12", NULL};
    int i = place(f, (vox_sim_call){.no_answer = 1,
                                    .dtmf = d,
                                    .ndtmf = 2,
                                    .expect_cause = "CALL_REJECTED",
                                    .expect_vars = ev});
    fx_wait(f, 0);
    rc_is(f, 0, 0, "early");
    rc_is(f, 1, 0, "answered");
    rc_is(f, 2, 0, "12/12");
    rc_is(f, 3, 0, "7/success");
    rc_is(f, 4, 0, "300");
    rc_is(f, 5, 0, "dark blue");
    rc_is(f, 6, 0, "1 x=y");
    rc_is(f, 7, 0, "(unset)");
    rc_is(f, 8, 0, "v1 exp1");
    rc_is(f, 9, 0, "(unset) exp1,exp2");
    rc_is(f, 10, 0, "12-7");
    rc_is(f, 14, 0, "12-7 v1");
    rc_is(f, 11, 0, "0");
    rc_is(f, 12, 0, "1");
    gone(f, 13);
    vox_sim_result r = result(f, i);
    assert_true(r.ended && r.as_scripted);
    assert_string_equal(r.cause, "CALL_REJECTED");
    assert_string_equal(r.uuid, f->text[15]);
    has_step(&r, "pre_answer\n");
    has_step(&r, "\nanswer\n");
    has_step(&r, "play_and_get_digits → 12\n");
    has_step(&r, "read → 7\n");
    has_step(&r, "playback silence_stream://300 (0.3 s)\n");
    has_step(&r, "set color=dark blue\n");
    has_step(&r, "unset color\n");
    has_step(&r, "export nolocal:exp2=v2\n");
    has_step(&r, "sleep 1000\n");
    has_step(&r, "hangup CALL_REJECTED\n");
    /* the order the code ran them in */
    assert_true(strstr(r.steps, "pre_answer") < strstr(r.steps, "play_and_get_digits"));
    assert_true(strstr(r.steps, "read →") < strstr(r.steps, "sleep 1000"));
    assert_null(strstr(r.steps, "silence_stream://100\n"));
    fx_stop(f);
}

/* ------------------------------------------------------------ bridges */

static const vox_sim_endpoint EPS[] = {
    {.name = "user/busy", .fail_cause = "USER_BUSY", .ring_ms = 200},
    {.name = "user/ok", .ring_ms = 300, .talk_ms = 1000},
    {.name = "user/ring", .no_answer = 1},
};

static void bridge_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    if (f->scenario == 1) {
        /* no continue_on_fail: a failed bridge ends the call */
        int rc = vox_bridge(call, "user/%s", "busy");
        put(f, 0, rc, "%s %d", var(call, "DIALSTATUS"), vox_call_hungup(call));
        put(f, 1, vox_playback(call, "silence_stream://100"), "after");
        return;
    }
    vox_set(call, "continue_on_fail", "true");
    int rc = vox_bridge(call, "{originate_timeout=2}user/ring");
    put(f, 0, rc, "%s", var(call, "DIALSTATUS"));
    const char *eps[] = {"user/busy", "user/nobody", "[leg_var=1]user/ok"};
    const size_t groups[] = {2, 1};
    vox_header vars[] = {{"vox_tag", "a b,c"}};
    vox_bridge_opts o = {.endpoints = eps,
                         .nendpoints = 3,
                         .groups = groups,
                         .ngroups = 2,
                         .vars = vars,
                         .nvars = 1};
    rc = vox_bridge_ex(call, &o);
    put(f, 1, rc, "%s %s %s", var(call, "DIALSTATUS"), var(call, "last_bridge_hangup_cause"),
        var(call, "bridge_channel"));
    put(f, 2, vox_call_hungup(call), "%s", "hungup?");
    put(f, 3, vox_hangup(call, NULL), "done");
}

static void test_bridges(void **state)
{
    (void)state;
    fx *f = fx_start(bridge_fn, 0, &(vox_sim_opts){.endpoints = EPS, .nendpoints = 3});
    int i = place(f, (vox_sim_call){.expect_cause = "NORMAL_CLEARING"});
    fx_wait(f, 0);
    rc_is(f, 0, 0, "NOANSWER");
    rc_is(f, 1, 0, "SUCCESS NORMAL_CLEARING user/ok");
    rc_is(f, 2, 0, NULL);
    vox_sim_result r = result(f, i);
    has_step(&r, "bridge {originate_timeout=2}user/ring: failed NO_ANSWER\n");
    has_step(&r, "bridge {vox_tag='a b\\,c'}user/busy,user/nobody|[leg_var=1]user/ok: answered by "
                 "user/ok\n");
    has_step(&r, "bridge ended: user/ok hung up (NORMAL_CLEARING)\n");
    fx_stop(f);

    f = fx_start(bridge_fn, 1, &(vox_sim_opts){.endpoints = EPS, .nendpoints = 3});
    const char *ev[] = {"DIALSTATUS=BUSY", NULL};
    i = place(f, (vox_sim_call){.expect_cause = "USER_BUSY", .expect_vars = ev});
    fx_wait(f, 0);
    rc_is(f, 0, 0, "BUSY 1");
    gone(f, 1);
    assert_string_equal(result(f, i).cause, "USER_BUSY");
    fx_stop(f);
}

/* ------------------------------------------------------------ hangups, drops */

static void park_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    int rc;
    if (f->scenario == 0) {
        rc = vox_park(call);
        put(f, 0, rc, "%d", vox_call_hungup(call));
    } else {
        vox_msg *m = NULL;
        rc = vox_run_app(call, "playback", "tone_stream://%(60000,0,350)", &m);
        const vox_event *e = vox_msg_event(m);
        put(f, 0, rc, "%s %d", e ? vox_event_get(e, "Application-Response") : "(none)",
            vox_call_hungup(call));
        vox_msg_free(m);
    }
    /* the next step: the channel is gone */
    rc = vox_playback(call, "silence_stream://100");
    put(f, 1, rc, "%d", vox_call_hungup(call));
    rc = vox_set(call, "late", "1");
    put(f, 2, rc, "%d", vox_is_open(call));
}

static void test_caller_hangs_up(void **state)
{
    (void)state;
    for (int sc = 0; sc < 2; sc++) {
        /* the caller hangs up 0.4 s of real time after the answer: the
         * server's handshake and first step come well before */
        fx *f = fx_start(park_fn, sc, &(vox_sim_opts){.speed = HANGUP_SPEED});
        int i = place(f, (vox_sim_call){.hangup_ms = HANGUP_MS, .expect_cause = "NORMAL_CLEARING"});
        fx_wait(f, 0);
        /* park / playback returns when the caller hangs up, with its completion */
        rc_is(f, 0, 0, sc ? "PLAYBACK ERROR 1" : "1");
        gone(f, 1);
        gone(f, 2);
        vox_sim_result r = result(f, i);
        has_step(&r, "caller hangs up\n");
        assert_null(strstr(r.steps, "silence_stream://100"));
        assert_null(strstr(r.steps, "late"));
        fx_stop(f);
    }
}

static void drop_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    put(f, 0, vox_playback(call, "silence_stream://200"), "first");
    int rc = f->scenario ? vox_park(call) : vox_playback(call, "silence_stream://200");
    put(f, 1, rc, "%d", vox_is_open(call));
    rc = vox_answer(call);
    put(f, 2, rc, "%d", vox_is_open(call));
}

static void test_dropped_socket(void **state)
{
    (void)state;
    for (int sc = 0; sc < 2; sc++) {
        fx *f = fx_start(drop_fn, sc, NULL);
        int i = place(f, (vox_sim_call){.fault = VOX_SIM_CALL_DROP, .fault_step = 2});
        fx_wait(f, 0);
        rc_is(f, 0, 0, "first");
        rc_is(f, 1, VOX_ECLOSED, "0");
        rc_is(f, 2, VOX_ECLOSED, "0");
        vox_sim_result r = result(f, i);
        assert_true(r.ended);
        has_step(&r, "fault: drop at sendmsg 2\n");
        fx_stop(f);
    }
}

static void never_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    pthread_mutex_unlock(&f->mu);
}

static void test_refused(void **state)
{
    (void)state;
    fx *f = fx_start(never_fn, 0, NULL);
    int a = place(f, (vox_sim_call){.name = "no full", .fault = VOX_SIM_CALL_NO_FULL});
    int b = place(f, (vox_sim_call){.name = "no async", .fault = VOX_SIM_CALL_NO_ASYNC});
    fx_wait(f, 0);
    assert_int_equal(f->calls, 0);
    const char *p = f->log;
    int refusals = 0;
    while ((p = strstr(p, "0 call from 127.0.0.1")) != NULL) {
        const char *eol = strchr(p, '\n');
        assert_non_null(strstr(p, "refused: the dialplan's socket needs `async full` ("));
        assert_true(strstr(p, "refused") < eol);
        refusals++;
        p = eol;
    }
    if (refusals != 2)
        fail_msg("log:\n%s", f->log);
    char want[128];
    snprintf(want, sizeof want, "socket %s async\n", f->target);
    has_step(&(vox_sim_result){.steps = result(f, a).steps}, want);
    snprintf(want, sizeof want, "socket %s full\n", f->target);
    has_step(&(vox_sim_result){.steps = result(f, b).steps}, want);
    fx_stop(f);
}

/* ------------------------------------------------------------ many calls, threaded */

#define NTHREADED 50

static void many_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    pthread_mutex_unlock(&f->mu);
    char d[8], num[16];
    /* copied: the channel data is borrowed until the next blocking helper */
    snprintf(num, sizeof num, "%s", vox_event_get(vox_call_data(call), "Caller-Caller-ID-Number"));
    if (vox_playback(call, "silence_stream://500") ||
        vox_play_and_get_digits(
            call, &(vox_pagd){.file = "silence_stream://100", .timeout_ms = 5000}, d, sizeof d))
        return;
    char v[32];
    snprintf(v, sizeof v, "%s:%s", num, d);
    if (vox_set(call, "got", v) == 0)
        vox_hangup(call, "NORMAL_CLEARING");
}

static void test_threaded_many(void **state)
{
    (void)state;
    fx *f = fx_start(many_fn, 0, NULL);
    static char nums[NTHREADED][16], digits[NTHREADED][16], expect[NTHREADED][48];
    for (int i = 0; i < NTHREADED; i++) {
        snprintf(nums[i], sizeof nums[i], "20%02u", (unsigned)i);
        snprintf(digits[i], sizeof digits[i], "%02u#", (unsigned)i);
        snprintf(expect[i], sizeof expect[i], "got=20%02d:%02d", i, i);
        vox_sim_dtmf dt = {100, digits[i]};
        const char *ev[] = {expect[i], NULL};
        /* vox_sim_place copies the call, its dtmf and expectations */
        place(f, (vox_sim_call){.caller_number = nums[i],
                                .dtmf = &dt,
                                .ndtmf = 1,
                                .expect_cause = "NORMAL_CLEARING",
                                .expect_vars = ev});
    }
    uint64_t served;
    int rc = vox_sim_wait(f->sim, MANY_WAIT_MS);
    served = vox_server_served(f->srv);
    fx_wait(f, rc); /* joins; reports a failed call precisely */
    assert_int_equal(rc, 0);
    assert_int_equal(served, NTHREADED);
    assert_int_equal(f->calls, NTHREADED);
    for (int i = 0; i < NTHREADED; i++) {
        vox_sim_result r = result(f, i);
        assert_true(r.ended && r.as_scripted);
        assert_string_equal(r.cause, "NORMAL_CLEARING");
    }
    fx_stop(f);
}

/* ================================================================== async server */

#define NASYNC 200

typedef struct aworld {
    uv_loop_t loop;
    uv_timer_t guard;
    int timed_out;
    vox_aserver *srv;
    vox_sim *sim;
    char target[64];
    int scenario;
    int sessions, ends, stopped;
    int end_reasons[NASYNC + 8];
    int rc[NSLOT];
    char text[NSLOT][160];
    int bad; /* a session saw something unexpected (text[15] says what) */
    char log[4096];
} aworld;

static aworld W;

static void on_guard(uv_timer_t *t)
{
    W.timed_out = 1;
}

#define WAIT_FOR(expr) WAIT_FOR_MS(expr, WAIT_MS)
#define WAIT_FOR_MS(expr, ms)                                                                      \
    do {                                                                                           \
        W.timed_out = 0;                                                                           \
        uv_timer_start(&W.guard, on_guard, (ms), 0);                                               \
        while (!(expr) && !W.timed_out)                                                            \
            uv_run(&W.loop, UV_RUN_ONCE);                                                          \
        uv_timer_stop(&W.guard);                                                                   \
        if (!(expr))                                                                               \
            fail_msg("no `%s` within %d ms (%d sessions, %d ended, %d bad: %s; at steps %s); "     \
                     "log:\n%s",                                                                   \
                     #expr, (ms), W.sessions, W.ends, W.bad, W.text[15], where(), W.log);          \
    } while (0)

/* One session's progress through its script. */
typedef struct step_state {
    int step;
    char digits[16];
} step_state;

static step_state STATES[NASYNC + 8];

/* How many sessions stand at each step (for a failure's message). */
static const char *where(void)
{
    static char out[128];
    int at[8] = {0};
    for (int i = 0; i < W.sessions && i < NASYNC + 8; i++)
        at[STATES[i].step < 7 ? STATES[i].step : 7]++;
    snprintf(out, sizeof out, "%d %d %d %d %d %d %d %d", at[0], at[1], at[2], at[3], at[4], at[5],
             at[6], at[7]);
    return out;
}

static void alog(int level, const char *line, void *ud)
{
    if (level >= 3) /* a line per call: not kept */
        return;
    size_t n = strlen(W.log);
    snprintf(W.log + n, sizeof W.log - n, "%d %s\n", level, line);
}

static void next_step(vox_conn *c, step_state *st);

static void exec_done(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    step_state *st = ud;
    int slot = st->step < NSLOT ? st->step : NSLOT - 1;
    if (W.sessions == 1) { /* one call: keep what each step returned */
        W.rc[slot] = status;
        snprintf(W.text[slot], sizeof W.text[slot], "%s",
                 ev && vox_event_get(ev, "Application-Response")
                     ? vox_event_get(ev, "Application-Response")
                     : "");
    }
    if (status) {
        if (W.scenario == 0 && !W.bad++)
            snprintf(W.text[15], sizeof W.text[15], "step %d: %s", st->step, vox_strerror(status));
        return;
    }
    if (!strcmp(vox_event_get(ev, "Application"), "play_and_get_digits"))
        vox_digits_from_complete(ev, "pin", st->digits, sizeof st->digits);
    st->step++;
    next_step(c, st);
}

static int exec(vox_conn *c, step_state *st, const char *app, const char *arg)
{
    vox_execute x = {.app = app, .arg = arg, .event_lock = 1};
    return vox_conn_execute(c, &x, NULL, 0, MANY_WAIT_MS, exec_done, st);
}

/* scenario 0: answer, playback, play_and_get_digits, set, hangup;
 * scenario 1: a long playback cut by the caller, then a playback;
 * scenario 2: playbacks until the socket drops. */
static void next_step(vox_conn *c, step_state *st)
{
    vox_buf b = {0};
    int rc = 0;
    if (W.scenario == 1 && st->step == 1) {
        rc = exec(c, st, "playback", "silence_stream://100");
        W.rc[1] = rc; /* VOX_EHANGUP at once: the channel is gone */
        snprintf(W.text[1], sizeof W.text[1], "%d", vox_conn_hungup(c));
        return;
    }
    switch (W.scenario ? st->step + 10 : st->step) {
    case 0: rc = exec(c, st, "answer", NULL); break;
    case 1: rc = exec(c, st, "playback", "silence_stream://300"); break;
    case 2:
        vox_arg_play_and_get_digits(
            &b, &(vox_pagd){
                    .file = "silence_stream://100", .max = 3, .timeout_ms = 5000, .var = "pin"});
        rc = exec(c, st, "play_and_get_digits", b.data);
        break;
    case 3:
        vox_arg_set(&b, "got", st->digits);
        rc = exec(c, st, "set", b.data);
        break;
    case 4: rc = exec(c, st, "hangup", "NORMAL_CLEARING"); break;
    case 10:
        rc = exec(c, st, "playback",
                  W.scenario == 1 ? "tone_stream://%(60000,0,350)" : "silence_stream://200");
        break;
    default:
        if (W.scenario == 2)
            rc = exec(c, st, "playback", "silence_stream://200");
        break;
    }
    vox_buf_free(&b);
    if (rc && !W.bad++)
        snprintf(W.text[15], sizeof W.text[15], "step %d: %s at once", st->step, vox_strerror(rc));
}

static void on_session(vox_session *x, void *ud)
{
    int n = W.sessions++;
    step_state *st = &STATES[n < NASYNC + 8 ? n : NASYNC + 7];
    memset(st, 0, sizeof *st);
    vox_session_set_userdata(x, st);
    next_step(vox_session_conn(x), st);
}

static void on_end(vox_session *x, int reason, void *ud)
{
    if (W.ends < NASYNC + 8)
        W.end_reasons[W.ends] = reason;
    W.ends++;
}

static void aw_start(int scenario, const vox_sim_opts *extra)
{
    memset(&W, 0, sizeof W);
    W.scenario = scenario;
    assert_int_equal(uv_loop_init(&W.loop), 0);
    uv_timer_init(&W.loop, &W.guard);
    vox_loop l = vox_uv_loop(&W.loop);
    vox_aserver_opts o = {.port = 0,
                          .handshake_timeout_ms = MANY_WAIT_MS,
                          .on_session = on_session,
                          .on_end = on_end,
                          .log = alog};
    assert_int_equal(vox_aserver_start(&W.srv, &l, &o), 0);
    snprintf(W.target, sizeof W.target, "127.0.0.1:%u", vox_aserver_port(W.srv));
    vox_sim_opts so = extra ? *extra : (vox_sim_opts){0};
    so.speed = so.speed ? so.speed : SPEED;
    assert_int_equal(vox_sim_start(&W.sim, &so), 0);
}

static int aplace(vox_sim_call c)
{
    c.socket = W.target;
    if (!c.hangup_ms)
        c.hangup_ms = -1;
    int i = vox_sim_place(W.sim, &c);
    assert_true(i >= 0);
    return i;
}

static void stopped(vox_aserver *s, void *ud)
{
    W.stopped = 1;
}

static void aw_stop(void)
{
    vox_sim_free(W.sim);
    vox_aserver_stop(W.srv, 1000, stopped, NULL);
    WAIT_FOR(W.stopped);
    uv_close((uv_handle_t *)&W.guard, NULL);
    uv_run(&W.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&W.loop), 0);
}

static vox_sim_result aresult(int i)
{
    vox_sim_result r;
    assert_true(vox_sim_result_get(W.sim, (size_t)i, &r) > (size_t)i);
    return r;
}

static void test_async_chain(void **state)
{
    (void)state;
    aw_start(0, NULL);
    vox_sim_dtmf d[] = {{300, "314"}};
    const char *ev[] = {"got=314", "pin=314", NULL};
    int i = aplace((vox_sim_call){.no_answer = 1,
                                  .dtmf = d,
                                  .ndtmf = 1,
                                  .expect_cause = "NORMAL_CLEARING",
                                  .expect_vars = ev});
    WAIT_FOR(W.ends == 1);
    assert_int_equal(vox_sim_wait(W.sim, WAIT_MS), 0);
    if (W.bad)
        fail_msg("%s", W.text[15]);
    assert_int_equal(W.sessions, 1);
    assert_int_equal(W.end_reasons[0], 0);
    assert_string_equal(STATES[0].digits, "314");
    assert_int_equal(W.rc[4], 0); /* the hangup's own completion came */
    assert_string_equal(W.text[1], "FILE PLAYED");
    vox_sim_result r = aresult(i);
    assert_true(r.as_scripted);
    has_step(&r, "\nanswer\nplayback silence_stream://300 (0.3 s)\n");
    has_step(&r, "play_and_get_digits → 314\nset got=314\nhangup NORMAL_CLEARING\n");
    aw_stop();
}

static void test_async_caller_hangup(void **state)
{
    (void)state;
    aw_start(1, &(vox_sim_opts){.speed = HANGUP_SPEED});
    int i = aplace((vox_sim_call){.hangup_ms = HANGUP_MS, .expect_cause = "NORMAL_CLEARING"});
    WAIT_FOR(W.ends == 1);
    assert_int_equal(vox_sim_wait(W.sim, WAIT_MS), 0);
    /* the long playback completes (cut short), the next one is refused */
    assert_int_equal(W.rc[0], 0);
    assert_string_equal(W.text[0], "PLAYBACK ERROR");
    assert_int_equal(W.rc[1], VOX_EHANGUP);
    assert_string_equal(W.text[1], "1");
    assert_int_equal(W.end_reasons[0], 0);
    has_step(&(vox_sim_result){.steps = aresult(i).steps}, "caller hangs up\n");
    aw_stop();
}

static void test_async_drop(void **state)
{
    (void)state;
    aw_start(2, NULL);
    int i = aplace((vox_sim_call){.fault = VOX_SIM_CALL_DROP, .fault_step = 3});
    WAIT_FOR(W.ends == 1);
    assert_int_equal(vox_sim_wait(W.sim, WAIT_MS), 0);
    assert_int_equal(W.rc[0], 0);
    assert_int_equal(W.rc[1], 0);
    assert_int_equal(W.rc[2], VOX_ECLOSED);
    assert_int_equal(W.end_reasons[0], VOX_ECLOSED);
    has_step(&(vox_sim_result){.steps = aresult(i).steps}, "fault: drop at sendmsg 3\n");
    aw_stop();
}

static void test_async_refused(void **state)
{
    (void)state;
    aw_start(0, NULL);
    aplace((vox_sim_call){.fault = VOX_SIM_CALL_NO_FULL});
    aplace((vox_sim_call){.fault = VOX_SIM_CALL_NO_ASYNC});
    /* the simulator's calls end once the server closed their sockets */
    WAIT_FOR(strstr(W.log, "needs `async full`") &&
             strstr(strstr(W.log, "needs `async full`") + 1, "needs `async full`"));
    WAIT_FOR(vox_aserver_active(W.srv) == 0);
    assert_int_equal(vox_sim_wait(W.sim, WAIT_MS), 0);
    assert_int_equal(W.sessions, 0);
    assert_int_equal(W.ends, 0);
    assert_non_null(strstr(W.log, "0 call from 127.0.0.1"));
    aw_stop();
}

static void test_async_many(void **state)
{
    (void)state;
    aw_start(0, NULL);
    static char digits[NASYNC][16], expect[NASYNC][24];
    for (int i = 0; i < NASYNC; i++) {
        snprintf(digits[i], sizeof digits[i], "%03u", (unsigned)i);
        snprintf(expect[i], sizeof expect[i], "got=%03d", i);
        vox_sim_dtmf dt = {200, digits[i]};
        const char *ev[] = {expect[i], NULL};
        aplace((vox_sim_call){.no_answer = 1,
                              .dtmf = &dt,
                              .ndtmf = 1,
                              .expect_cause = "NORMAL_CLEARING",
                              .expect_vars = ev});
    }
    /* a call lost in its handshake would never end: stop at once then */
    WAIT_FOR_MS(W.ends == NASYNC || strstr(W.log, "handshake"), MANY_WAIT_MS);
    if (W.ends != NASYNC)
        fail_msg("%d of %d ended; log:\n%s", W.ends, NASYNC, W.log);
    assert_int_equal(vox_sim_wait(W.sim, WAIT_MS), 0);
    if (W.bad)
        fail_msg("%d sessions went wrong, first: %s", W.bad, W.text[15]);
    assert_int_equal(W.sessions, NASYNC);
    for (int i = 0; i < NASYNC; i++) {
        assert_int_equal(W.end_reasons[i], 0);
        vox_sim_result r = aresult(i);
        if (!r.as_scripted)
            fail_msg("%s: %s\n%s", r.name, r.why, r.steps);
    }
    aw_stop();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walkthrough),     cmocka_unit_test(test_bridges),
        cmocka_unit_test(test_caller_hangs_up), cmocka_unit_test(test_dropped_socket),
        cmocka_unit_test(test_refused),         cmocka_unit_test(test_threaded_many),
        cmocka_unit_test(test_async_chain),     cmocka_unit_test(test_async_caller_hangup),
        cmocka_unit_test(test_async_drop),      cmocka_unit_test(test_async_refused),
        cmocka_unit_test(test_async_many),
    };
    if (getenv("SIMLIB_ONLY"))
        cmocka_set_test_filter(getenv("SIMLIB_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
