/* vox-sim, the calls half: channels and their events in FreeSWITCH's order,
 * the applications a libvox outbound server runs on scripted calls (digits,
 * hangup mid-playback, loops, unknown application, call-command hangup,
 * bridges, faults), the results and their expectations, and the api
 * commands through libvox's blocking client. The simulator runs fast
 * (speed >= 20): simulated seconds pass in tens of real milliseconds. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/app.h>
#include <vox/server.h>

#include "test_sim_util.h"

#define SPEED 20
#define WAIT_MS 20000

/* ------------------------------------------------------------ fixture */

typedef struct fx {
    vox_server *srv;
    vox_sim *sim;
    char target[64];
    int scenario;
    /* what the call function saw */
    pthread_mutex_t mu;
    int rc[8];
    char text[8][128];
    int executes, completes, bridges, unbridges, dtmfs;
} fx;

static void fx_start(fx *f, vox_call_fn fn, int scenario, const vox_sim_opts *extra)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->scenario = scenario;
    assert_int_equal(vox_server_start(&f->srv, &(vox_server_opts){.port = 0}, fn, f), 0);
    snprintf(f->target, sizeof f->target, "127.0.0.1:%u", vox_server_port(f->srv));
    vox_sim_opts o = extra ? *extra : (vox_sim_opts){0};
    o.speed = o.speed ? o.speed : SPEED;
    o.socket = f->target;
    o.heartbeat_ms = 0;
    assert_int_equal(vox_sim_start(&f->sim, &o), 0);
}

/* Stop the server: its call threads are joined, what they saw can be read. */
static void fx_join(fx *f)
{
    vox_server_stop(f->srv);
    f->srv = NULL;
}

static void fx_stop(fx *f)
{
    vox_sim_free(f->sim);
    if (f->srv)
        vox_server_stop(f->srv);
    pthread_mutex_destroy(&f->mu);
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

static vox_sim_result result(fx *f, int i)
{
    vox_sim_result r;
    assert_int_equal(vox_sim_result_get(f->sim, (size_t)i, &r) > (size_t)i, 1);
    return r;
}

/* One scripted call to a server running fn (scenario: what fn does), waited
 * for until it ended as scripted; the server is stopped, so what fn saw can
 * be read. The call's index in the results. */
static int fx_run(fx *f, vox_call_fn fn, int scenario, const vox_sim_opts *extra, vox_sim_call c)
{
    fx_start(f, fn, scenario, extra);
    int i = place(f, c);
    assert_int_equal(vox_sim_wait(f->sim, WAIT_MS), 0);
    fx_join(f);
    return i;
}

/* Call i's account has this text. */
static void steps_have(fx *f, int i, const char *text)
{
    const char *steps = result(f, i).steps;
    if (!strstr(steps, text))
        fail_msg("steps [%s] without [%s]", steps, text);
}

static void put(fx *f, int slot, int rc, const char *text)
{
    pthread_mutex_lock(&f->mu);
    f->rc[slot] = rc;
    snprintf(f->text[slot], sizeof f->text[slot], "%s", text ? text : "(null)");
    pthread_mutex_unlock(&f->mu);
}

static void count_hook(vox_conn *c, const vox_event *ev, void *ud)
{
    (void)c;
    fx *f = ud;
    const char *n = vox_event_name(ev);
    pthread_mutex_lock(&f->mu);
    f->executes += !strcmp(n, "CHANNEL_EXECUTE");
    f->completes += !strcmp(n, "CHANNEL_EXECUTE_COMPLETE");
    f->bridges += !strcmp(n, "CHANNEL_BRIDGE");
    f->unbridges += !strcmp(n, "CHANNEL_UNBRIDGE");
    f->dtmfs += !strcmp(n, "DTMF");
    pthread_mutex_unlock(&f->mu);
}

static const char *var(vox_call *call, const char *name)
{
    const char *v = vox_call_variable(call, name);
    return v ? v : "(unset)";
}

/* ------------------------------------------------------------ events in order */

static void play_then_hangup(vox_call *call, void *ud)
{
    (void)ud;
    vox_playback(call, "silence_stream://400");
    vox_hangup(call, NULL);
}

/* Every event of one channel (by Unique-ID) until its CHANNEL_DESTROY, as
 * "NAME" or "NAME:app" lines; the messages are kept for header checks. */
static size_t collect(vox_client *c, vox_msg **msgs, size_t max, char *seq, size_t len)
{
    size_t n = 0;
    char uuid[64] = "";
    seq[0] = '\0';
    while (n < max) {
        vox_msg *m = NULL;
        if (vox_next_event(c, 10000, &m))
            break;
        const vox_event *e = vox_msg_event(m);
        const char *id = vox_event_get(e, "Unique-ID");
        if (!id || (uuid[0] && strcmp(id, uuid))) {
            vox_msg_free(m);
            continue;
        }
        snprintf(uuid, sizeof uuid, "%s", id);
        const char *app = vox_event_get(e, "Application");
        size_t l = strlen(seq);
        snprintf(seq + l, len - l, "%s%s%s\n", vox_event_name(e), app ? ":" : "", app ? app : "");
        msgs[n++] = m;
        if (!strcmp(vox_event_name(e), "CHANNEL_STATE") &&
            !strcmp(vox_event_get(e, "Channel-State"), "CS_DESTROY"))
            break;
    }
    return n;
}

static const vox_event *find_ev(vox_msg **m, size_t n, const char *name, const char *app)
{
    for (size_t i = 0; i < n; i++) {
        const vox_event *e = vox_msg_event(m[i]);
        const char *a = vox_event_get(e, "Application");
        if (!strcmp(vox_event_name(e), name) && (!app || (a && !strcmp(a, app))))
            return e;
    }
    return NULL;
}

static void test_events_in_order(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, play_then_hangup, 0, &(vox_sim_opts){.wait_clients = 1});
    vox_client *c;
    assert_int_equal(
        vox_connect(&c, &(vox_client_opts){.port = vox_sim_port(f.sim), .events = "ALL"}), 0);
    int i = place(&f, (vox_sim_call){.caller_number = "5551234", .caller_name = "Ann"});
    vox_msg *m[64];
    char seq[4096];
    size_t n = collect(c, m, 64, seq, sizeof seq);
    assert_string_equal(seq, "CHANNEL_STATE\nCHANNEL_CREATE\nCHANNEL_CALLSTATE\nCHANNEL_STATE\n"
                             "CHANNEL_STATE\nCHANNEL_EXECUTE:answer\nCHANNEL_ANSWER\n"
                             "CHANNEL_CALLSTATE\nCHANNEL_EXECUTE_COMPLETE:answer\n"
                             "CHANNEL_EXECUTE:socket\nCHANNEL_PARK\nCHANNEL_EXECUTE:playback\n"
                             "CHANNEL_EXECUTE_COMPLETE:playback\nCHANNEL_EXECUTE:hangup\n"
                             "CHANNEL_HANGUP\nCHANNEL_EXECUTE_COMPLETE:hangup\nCHANNEL_UNPARK\n"
                             "CHANNEL_EXECUTE_COMPLETE:socket\nCHANNEL_STATE\nCHANNEL_CALLSTATE\n"
                             "CHANNEL_STATE\nCHANNEL_HANGUP_COMPLETE\nCHANNEL_DESTROY\n"
                             "CHANNEL_STATE\n");
    assert_int_equal(vox_sim_wait(f.sim, WAIT_MS), 0);
    fx_join(&f);
    vox_sim_result r = result(&f, i);

    const vox_event *e = find_ev(m, n, "CHANNEL_CREATE", NULL);
    assert_string_equal(vox_event_get(e, "Unique-ID"), r.uuid);
    assert_string_equal(vox_event_get(e, "Channel-State"), "CS_INIT");
    assert_string_equal(vox_event_get(e, "Call-Direction"), "inbound");
    assert_string_equal(vox_event_get(e, "Caller-Caller-ID-Number"), "5551234");
    assert_string_equal(vox_event_get(e, "Caller-Caller-ID-Name"), "Ann");
    assert_string_equal(vox_event_get(e, "Caller-Destination-Number"), "9100");
    assert_string_equal(vox_event_get(e, "Channel-Call-UUID"), r.uuid);
    /* the variables start as FreeSWITCH's do */
    const char *name;
    size_t k = 0;
    while (vox_event_header_at(e, k, &name, NULL, NULL) == 0 && strncmp(name, "variable_", 9))
        k++;
    const char *want[] = {"variable_direction", "variable_uuid", "variable_call_uuid",
                          "variable_session_id", "variable_channel_name"};
    for (size_t j = 0; j < 5; j++) {
        assert_int_equal(vox_event_header_at(e, k + j, &name, NULL, NULL), 0);
        assert_string_equal(name, want[j]);
    }
    /* state events carry no variables; the callstate says where it came from */
    e = find_ev(m, n, "CHANNEL_CALLSTATE", NULL);
    assert_string_equal(vox_event_get(e, "Original-Channel-Call-State"), "DOWN");
    assert_string_equal(vox_event_get(e, "Channel-Call-State"), "RINGING");
    assert_null(vox_event_get(e, "variable_uuid"));
    e = find_ev(m, n, "CHANNEL_EXECUTE", "playback");
    const char *id = vox_event_get(e, "Application-UUID");
    assert_non_null(id);
    assert_string_equal(vox_event_get(e, "Application-Data"), "silence_stream://400");
    assert_string_equal(vox_event_get(e, "variable_current_loop"), "1");
    e = find_ev(m, n, "CHANNEL_EXECUTE_COMPLETE", "playback");
    assert_string_equal(vox_event_get(e, "Application-UUID"), id);
    assert_string_equal(vox_event_get(e, "Application-Response"), "FILE PLAYED");
    assert_string_equal(vox_event_get(e, "variable_playback_ms"), "400");
    e = find_ev(m, n, "CHANNEL_HANGUP", NULL);
    assert_string_equal(vox_event_get(e, "Hangup-Cause"), "NORMAL_CLEARING");
    assert_string_equal(vox_event_get(e, "Answer-State"), "hangup");
    e = find_ev(m, n, "CHANNEL_HANGUP_COMPLETE", NULL);
    assert_string_equal(vox_event_get(e, "variable_hangup_cause_q850"), "16");
    assert_string_equal(vox_event_get(e, "variable_last_app"), "hangup");
    assert_null(vox_event_get(e, "variable_current_loop"));
    assert_string_equal(vox_event_get(e, "Channel-State"), "CS_REPORTING");
    e = find_ev(m, n, "CHANNEL_EXECUTE_COMPLETE", "socket");
    assert_non_null(strstr(vox_event_get(e, "Application-Data"), "async full"));

    assert_string_equal(r.cause, "NORMAL_CLEARING");
    assert_true(r.ended && r.as_scripted);
    assert_non_null(strstr(r.steps, "answer\n"));
    assert_non_null(strstr(r.steps, "playback silence_stream://400 (0.4 s)\n"));
    assert_non_null(strstr(r.steps, "hangup NORMAL_CLEARING\n"));
    for (size_t j = 0; j < n; j++)
        vox_msg_free(m[j]);
    vox_close(c);
    fx_stop(&f);
}

/* ------------------------------------------------------------ digits */

static void digits_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    char d[32];
    vox_hook(call, "DTMF", count_hook, f);
    if (f->scenario == 0) {
        int rc = vox_play_and_get_digits(call,
                                         &(vox_pagd){.file = "tone_stream://%(200,0,440)",
                                                     .invalid_file = "silence_stream://250",
                                                     .min = 1,
                                                     .max = 4,
                                                     .tries = 3,
                                                     .timeout_ms = 5000,
                                                     .var = "ivr_digits",
                                                     .regexp = "^\\d\\d$"},
                                         d, sizeof d);
        put(f, 0, rc, d);
        put(f, 1, 0, var(call, "ivr_digits_invalid"));
        put(f, 2, 0, var(call, "read_result"));
        vox_set(call, "ivr_result", d);
    } else if (f->scenario == 1) {
        int rc = vox_read(call,
                          &(vox_read_opts){.file = "silence_stream://100",
                                           .min = 1,
                                           .max = 3,
                                           .timeout_ms = 3000,
                                           .var = "myvar"},
                          d, sizeof d);
        put(f, 0, rc, d);
        put(f, 2, 0, var(call, "read_terminator_used"));
    } else {
        int rc = vox_play_and_get_digits(
            call,
            &(vox_pagd){
                .file = "silence_stream://100", .min = 1, .max = 2, .tries = 2, .timeout_ms = 500},
            d, sizeof d);
        put(f, 0, rc, d);
        put(f, 2, 0, var(call, "read_result"));
    }
    vox_hangup(call, NULL);
}

static void test_digits(void **state)
{
    (void)state;
    fx f;
    /* the first try gets 9 (the regexp wants two digits), the second 42 */
    vox_sim_dtmf d[] = {{100, "9#"}, {2000, "42#"}};
    const char *ev[] = {"ivr_result=42", "read_result=success", "digits_dialed=9#42#", NULL};
    int i =
        fx_run(&f, digits_fn, 0, NULL, (vox_sim_call){.dtmf = d, .ndtmf = 2, .expect_vars = ev});
    assert_int_equal(f.rc[0], 0);
    assert_string_equal(f.text[0], "42");
    assert_string_equal(f.text[1], "9");
    assert_string_equal(f.text[2], "success");
    assert_true(f.dtmfs >= 3); /* the first presses may precede myevents */
    steps_have(&f, i, "play_and_get_digits → 42\n");
    steps_have(&f, i, "set ivr_result=42\n");
    fx_stop(&f);
}

static void test_read_digits(void **state)
{
    (void)state;
    fx f;
    vox_sim_dtmf d[] = {{0, "7#"}};
    const char *ev[] = {"myvar=7", NULL};
    fx_run(&f, digits_fn, 1, NULL, (vox_sim_call){.dtmf = d, .ndtmf = 1, .expect_vars = ev});
    assert_string_equal(f.text[0], "7");
    assert_string_equal(f.text[2], "#");
    fx_stop(&f);
}

static void test_digits_timeout(void **state)
{
    (void)state;
    fx f;
    int i = fx_run(&f, digits_fn, 2, NULL, (vox_sim_call){.expect_cause = "NORMAL_CLEARING"});
    assert_int_equal(f.rc[0], 0);
    assert_string_equal(f.text[0], "");
    assert_string_equal(f.text[2], "failure");
    steps_have(&f, i, "play_and_get_digits → (failure)");
    fx_stop(&f);
}

/* ------------------------------------------------------------ hangup, loops, traps */

static void long_play_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    vox_msg *m = NULL;
    int rc = vox_run_app(call, "playback", "tone_stream://%(10000,0,350)", &m);
    const vox_event *e = m ? vox_msg_event(m) : NULL;
    put(f, 0, rc, e ? vox_event_get(e, "Application-Response") : NULL);
    put(f, 1, vox_call_hungup(call), NULL);
    vox_msg_free(m);
}

static void test_hangup_mid_playback(void **state)
{
    (void)state;
    fx f;
    int i = fx_run(&f, long_play_fn, 0, NULL,
                   (vox_sim_call){.hangup_ms = 3000, .expect_cause = "NORMAL_CLEARING"});
    assert_int_equal(f.rc[0], 0);
    assert_string_equal(f.text[0], "PLAYBACK ERROR");
    assert_int_equal(f.rc[1], 1);
    vox_sim_result r = result(&f, i);
    assert_non_null(strstr(r.steps, "caller hangs up\nhangup NORMAL_CLEARING\n"));
    fx_stop(&f);
}

static void loops_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    vox_hook(call, "CHANNEL_EXECUTE_COMPLETE", count_hook, f);
    vox_msg *m = NULL;
    vox_execute x = {.app = "playback",
                     .arg =
                         f->scenario ? "tone_stream://%(200,0,500)" : "tone_stream://%(600,0,500)",
                     .loops = 3,
                     .event_lock = 1};
    int rc = vox_exec(call, &x, &m);
    const vox_event *e = m ? vox_msg_event(m) : NULL;
    put(f, 0, rc, e ? vox_event_get(e, "variable_current_loop") : NULL);
    put(f, 1, 0, e ? vox_event_get(e, "variable_total_loops") : NULL);
    pthread_mutex_lock(&f->mu);
    f->rc[2] = f->completes;
    pthread_mutex_unlock(&f->mu);
    vox_msg_free(m);
    vox_hangup(call, NULL);
}

static void test_loops(void **state)
{
    (void)state;
    for (int shrt = 0; shrt < 2; shrt++) {
        fx f;
        int i = fx_run(&f, loops_fn, shrt, NULL, (vox_sim_call){0});
        assert_int_equal(f.rc[0], 0);
        /* three iterations of 0.6 s; one of 0.2 s, though total_loops says 3 */
        assert_string_equal(f.text[0], shrt ? "1" : "3");
        assert_string_equal(f.text[1], "3");
        assert_int_equal(f.rc[2], shrt ? 1 : 3);
        const char *steps = result(&f, i).steps;
        const char *p = steps;
        int plays = 0;
        while ((p = strstr(p, "playback tone_stream")))
            plays++, p++;
        assert_int_equal(plays, shrt ? 1 : 3);
        fx_stop(&f);
    }
}

static void unknown_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    vox_hook(call, "CHANNEL_EXECUTE", count_hook, f);
    int rc = vox_run_app(call, "no_such_app_xyz", NULL, NULL);
    put(f, 0, rc, NULL);
}

static void test_unknown_app(void **state)
{
    (void)state;
    fx f;
    int i =
        fx_run(&f, unknown_fn, 0, NULL, (vox_sim_call){.expect_cause = "DESTINATION_OUT_OF_ORDER"});
    assert_int_equal(f.rc[0], VOX_EHANGUP);
    assert_int_equal(f.executes, 0);
    steps_have(&f, i, "invalid application no_such_app_xyz\n");
    fx_stop(&f);
}

static void callcmd_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    vox_buf b = {0};
    vox_msg *r = NULL;
    assert_int_equal(vox_cmd_hangup(&b, NULL, "USER_BUSY"), 0);
    int rc = vox_command(call, &b, &r);
    put(f, 0, rc, r ? vox_msg_reply_text(r) : NULL);
    vox_msg_free(r);
    vox_buf_free(&b);
}

static void test_callcommand_hangup(void **state)
{
    (void)state;
    fx f;
    int i = fx_run(&f, callcmd_fn, 0, NULL, (vox_sim_call){.expect_cause = "USER_BUSY"});
    assert_int_equal(f.rc[0], 0);
    assert_string_equal(f.text[0], "+OK");
    steps_have(&f, i, "call-command hangup USER_BUSY\n");
    fx_stop(&f);
}

/* ------------------------------------------------------------ bridge */

static const vox_sim_endpoint EPS[] = {
    {.name = "user/busy", .fail_cause = "USER_BUSY", .ring_ms = 300},
    {.name = "user/ok", .ring_ms = 500, .talk_ms = 1500},
    {.name = "user/ring", .no_answer = 1},
};

static void bridge_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    vox_hook(call, "CHANNEL_BRIDGE", count_hook, f);
    vox_hook(call, "CHANNEL_UNBRIDGE", count_hook, f);
    int rc;
    if (f->scenario == 0) {
        rc = vox_bridge(call, "user/busy");
        put(f, 0, rc, var(call, "DIALSTATUS"));
        put(f, 1, 0, var(call, "originate_disposition"));
        put(f, 2, 0, var(call, "last_bridge_hangup_cause"));
        put(f, 3, vox_call_hungup(call), NULL);
        return;
    }
    vox_set(call, "continue_on_fail", "true");
    rc = vox_bridge(call, "user/nobody");
    put(f, 0, rc, var(call, "DIALSTATUS"));
    rc = vox_bridge(call, "{originate_timeout=2}user/ring");
    put(f, 1, rc, var(call, "DIALSTATUS"));
    rc = vox_bridge(call, "user/busy|user/ok");
    put(f, 2, rc, var(call, "last_bridge_hangup_cause"));
    put(f, 3, vox_call_hungup(call), var(call, "DIALSTATUS"));
    put(f, 4, 0, var(call, "bridge_channel"));
    vox_hangup(call, NULL);
}

static void test_bridge_fail(void **state)
{
    (void)state;
    fx f;
    const char *ev[] = {"DIALSTATUS=BUSY", "originate_disposition=USER_BUSY", NULL};
    int i = fx_run(&f, bridge_fn, 0, &(vox_sim_opts){.endpoints = EPS, .nendpoints = 3},
                   (vox_sim_call){.expect_cause = "USER_BUSY", .expect_vars = ev});
    /* the application ran; the caller hung up before its completion */
    assert_int_equal(f.rc[0], 0);
    assert_string_equal(f.text[0], "BUSY");
    assert_string_equal(f.text[1], "USER_BUSY");
    assert_string_equal(f.text[2], "USER_BUSY");
    assert_int_equal(f.rc[3], 1);
    assert_int_equal(f.bridges, 0);
    steps_have(&f, i, "bridge user/busy: failed USER_BUSY\n");
    fx_stop(&f);
}

static void test_bridge_answer(void **state)
{
    (void)state;
    fx f;
    int i = fx_run(&f, bridge_fn, 1, &(vox_sim_opts){.endpoints = EPS, .nendpoints = 3},
                   (vox_sim_call){.expect_cause = "NORMAL_CLEARING"});
    assert_string_equal(f.text[0], "NO_ROUTE_DESTINATION");
    assert_string_equal(f.text[1], "NOANSWER");
    /* busy failed over to ok, which answered, talked and hung up */
    assert_int_equal(f.rc[2], 0);
    assert_string_equal(f.text[2], "NORMAL_CLEARING");
    assert_int_equal(f.rc[3], 0);
    assert_string_equal(f.text[3], "SUCCESS");
    assert_string_equal(f.text[4], "user/ok");
    assert_int_equal(f.bridges, 1);
    assert_int_equal(f.unbridges, 1);
    steps_have(&f, i, "bridge user/busy|user/ok: answered by user/ok\n");
    fx_stop(&f);
}

/* ------------------------------------------------------------ faults, results */

static void two_plays_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    put(f, 0, vox_playback(call, "silence_stream://200"), NULL);
    put(f, 1, vox_playback(call, "silence_stream://200"), NULL);
}

static void test_fault_drop(void **state)
{
    (void)state;
    fx f;
    int i =
        fx_run(&f, two_plays_fn, 0, NULL,
               (vox_sim_call){
                   .fault = VOX_SIM_CALL_DROP, .fault_step = 2, .expect_cause = "NORMAL_CLEARING"});
    assert_int_equal(f.rc[0], 0);
    assert_int_equal(f.rc[1], VOX_ECLOSED);
    steps_have(&f, i, "fault: drop at sendmsg 2\n");
    assert_null(strstr(result(&f, i).steps, "playback silence_stream://200 (0.2 s)\nplayback"));
    fx_stop(&f);
}

static void test_fault_no_full(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, two_plays_fn, 0, NULL);
    /* the server refuses a socket without `full`: the call just ends */
    int i = place(&f, (vox_sim_call){.fault = VOX_SIM_CALL_NO_FULL});
    int j = place(&f, (vox_sim_call){.fault = VOX_SIM_CALL_NO_ASYNC});
    assert_int_equal(vox_sim_wait(f.sim, WAIT_MS), 0);
    fx_join(&f);
    char want[128];
    snprintf(want, sizeof want, "socket %s async\n", f.target);
    steps_have(&f, i, want);
    snprintf(want, sizeof want, "socket %s full\n", f.target);
    steps_have(&f, j, want);
    assert_string_equal(result(&f, i).cause, "NORMAL_CLEARING");
    fx_stop(&f);
}

static void test_expectations(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, play_then_hangup, 0, NULL);
    const char *ok[] = {"socket_host=127.0.0.1", NULL};
    const char *bad[] = {"socket_host=10.0.0.1", NULL};
    int a = place(&f, (vox_sim_call){.name = "good", .expect_vars = ok});
    int b = place(&f, (vox_sim_call){.name = "wrong cause", .expect_cause = "USER_BUSY"});
    int c = place(&f, (vox_sim_call){.expect_vars = bad});
    assert_int_equal(vox_sim_wait(f.sim, WAIT_MS), 1);
    fx_join(&f);
    vox_sim_result r = result(&f, a);
    assert_string_equal(r.name, "good");
    assert_true(r.ended && r.as_scripted);
    assert_string_equal(r.why, "");
    r = result(&f, b);
    assert_true(r.ended && !r.as_scripted);
    assert_string_equal(r.why, "cause NORMAL_CLEARING, expected USER_BUSY");
    r = result(&f, c);
    assert_string_equal(r.name, "call 3");
    assert_string_equal(r.why, "variable socket_host is \"127.0.0.1\", expected \"10.0.0.1\"");
    assert_int_equal(vox_sim_result_get(f.sim, 99, NULL), 3);
    fx_stop(&f);
}

static void test_wait_times_out(void **state)
{
    (void)state;
    fx f;
    /* no inbound client ever subscribes: the call never starts */
    fx_start(&f, play_then_hangup, 0, &(vox_sim_opts){.wait_clients = 1});
    int i = place(&f, (vox_sim_call){0});
    assert_int_equal(vox_sim_wait(f.sim, 200), VOX_ETIMEDOUT);
    vox_sim_result r = result(&f, i);
    assert_false(r.ended);
    assert_string_equal(r.cause, "");
    assert_int_equal(vox_sim_place(f.sim, &(vox_sim_call){.socket = "nohost"}), VOX_EINVAL);
    assert_int_equal(vox_sim_place(f.sim, NULL), VOX_EINVAL);
    fx_stop(&f);
}

/* ------------------------------------------------------------ api */

static void park_fn(vox_call *call, void *ud)
{
    fx *f = ud;
    put(f, 0, 0, vox_call_uuid(call));
    vox_park(call); /* until the api kills the call */
}

static void test_api_texts(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, park_fn, 0, &(vox_sim_opts){.endpoints = EPS, .nendpoints = 3});
    vox_client *c;
    assert_int_equal(vox_connect(&c, &(vox_client_opts){.port = vox_sim_port(f.sim)}), 0);
    api_is(c, "foobarbaz", "-ERR foobarbaz Command not found!\n");
    api_is(c, "global_getvar no_such_var", "-ERR no reply\n");
    api_is(c, "uuid_kill 00000000-0000-0000-0000-000000000000", "-ERR No such channel!\n");
    api_is(c, "originate",
           "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] "
           "[<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n");
    api_is(c, "version", "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    api_is(c, "reloadxml", "+OK [Success]\n");
    api_is(c, "show channels", "\n0 total.\n");
    api_is(c, "show channels as json", "{\"row_count\":0}");
    api_is(c, "uuid_exists 00000000-0000-0000-0000-000000000000", "false");
    api_is(c, "hash insert/realm/k/hello world", "+OK\n");
    api_is(c, "hash select/realm/k", "hello world");
    api_is(c, "hash delete/realm/k", "+OK\n");
    api_is(c, "hash select/realm/k", "-ERR no reply\n");
    api_is(c, "global_getvar hostname", "vox-sim");
    api_is(c, "uuid_getvar", "-USAGE: <uuid> <var>\n");
    api_is(c, "originate user/busy &park", "-ERR USER_BUSY\n");
    api_is(c, "originate user/nobody &park", "-ERR NO_ROUTE_DESTINATION\n");
    api_is(c, "originate {originate_timeout=1}user/ring &park", "-ERR NO_ANSWER\n");
    char *s = api_body(c, "status");
    assert_non_null(strstr(s, "UP 0 years, 0 days, 0 hours, 0 minutes, "));
    assert_non_null(strstr(s, "FreeSWITCH (Version 1.11.3-dev  64bit) is ready\n"));
    free(s);
    s = api_body(c, "uptime");
    assert_true(s[0] >= '0' && s[0] <= '9' && s[strlen(s) - 1] == '\n');
    free(s);
    vox_close(c);
    fx_stop(&f);
}

static void test_api_channels(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, park_fn, 0, NULL);
    vox_client *c;
    assert_int_equal(vox_connect(&c, &(vox_client_opts){.port = vox_sim_port(f.sim)}), 0);
    /* loopback/9100 runs `answer, socket <target> async full` on its b-leg */
    char *s = api_body(c, "originate {origination_caller_id_number=4242}loopback/9100 &park");
    assert_int_equal(strncmp(s, "+OK ", 4), 0);
    char a[64];
    snprintf(a, sizeof a, "%.36s", s + 4);
    assert_int_equal(s[40], '\n');
    free(s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "uuid_exists %s", a);
    api_is(c, cmd, "true");
    snprintf(cmd, sizeof cmd, "uuid_getvar %s loopback_leg", a);
    api_is(c, cmd, "A");
    snprintf(cmd, sizeof cmd, "uuid_getvar %s nope", a);
    api_is(c, cmd, "_undef_");
    snprintf(cmd, sizeof cmd, "uuid_setvar %s greeting hello there", a);
    api_is(c, cmd, "+OK\n");
    snprintf(cmd, sizeof cmd, "uuid_getvar %s greeting", a);
    api_is(c, cmd, "hello there");
    snprintf(cmd, sizeof cmd, "uuid_dump %s", a);
    s = api_body(c, cmd);
    char want[128];
    snprintf(want, sizeof want, "\nUnique-ID: %s\n", a);
    assert_non_null(strstr(s, "Event-Name: CHANNEL_DATA\n"));
    assert_non_null(strstr(s, want));
    assert_non_null(strstr(s, "\nvariable_greeting: hello%20there\n"));
    assert_non_null(strstr(s, "\nCaller-Caller-ID-Number: 4242\n"));
    free(s);
    snprintf(cmd, sizeof cmd, "uuid_dump %s json", a);
    s = api_body(c, cmd);
    assert_non_null(strstr(s, "\"variable_greeting\":\"hello there\""));
    free(s);
    s = api_body(c, "show channels");
    assert_int_equal(strncmp(s, "uuid,direction,created,created_epoch,name,state,", 48), 0);
    assert_non_null(strstr(s, ",loopback/9100-a,"));
    assert_non_null(strstr(s, ",loopback/9100-b,CS_EXECUTE,"));
    assert_non_null(strstr(s, "\n\n2 total.\n"));
    free(s);
    s = api_body(c, "show channels as json");
    assert_int_equal(strncmp(s, "{\"row_count\":2,\"rows\":[{\"uuid\":", 31), 0);
    free(s);
    /* the server's call is the b-leg; killing the a-leg takes both down */
    snprintf(cmd, sizeof cmd, "uuid_kill %s USER_BUSY", a);
    api_is(c, cmd, "+OK\n");
    vox_close(c);
    fx_stop(&f);
}

/* A client subscribed to CHANNEL_EXECUTE (the simulator waits for it),
 * one call placed, then app starting on it: the call's index; its channel's
 * uuid in uuid. */
static int run_until_app(fx *f, vox_client **c, vox_sim_call call, const char *app, char uuid[37])
{
    vox_client_opts co = {.port = vox_sim_port(f->sim), .events = "CHANNEL_EXECUTE"};
    assert_int_equal(vox_connect(c, &co), 0);
    int i = place(f, call);
    vox_msg *m = NULL;
    for (;;) {
        assert_int_equal(vox_next_event(*c, SIM_WAIT_MS, &m), 0);
        const vox_event *e = vox_msg_event(m);
        int found = !strcmp(vox_event_get(e, "Application"), app);
        if (found)
            snprintf(uuid, 37, "%s", vox_event_get(e, "Unique-ID"));
        vox_msg_free(m);
        if (found)
            return i;
    }
}

static void test_api_dtmf_and_hupall(void **state)
{
    (void)state;
    fx f;
    vox_client *c;
    char uuid[37], cmd[128], want[160];
    fx_start(&f, digits_fn, 1, &(vox_sim_opts){.wait_clients = 1});
    /* once the read started, 55# pressed from the api */
    run_until_app(&f, &c, (vox_sim_call){.expect_vars = (const char *[]){"myvar=55", NULL}}, "read",
                  uuid);
    snprintf(cmd, sizeof cmd, "uuid_recv_dtmf %s 55#", uuid);
    snprintf(want, sizeof want, "+OK %s received DTMF 55#.\n", uuid);
    api_is(c, cmd, want);
    assert_int_equal(vox_sim_wait(f.sim, WAIT_MS), 0);
    fx_join(&f);
    assert_string_equal(f.text[0], "55");
    api_is(c, "hupall", "+OK hangup all channels with cause NORMAL_CLEARING\n");
    vox_close(c);
    fx_stop(&f);
}

/* vox_sim_stop with a call in flight: it is hung up and its result kept. */
static void test_stop_with_call(void **state)
{
    (void)state;
    fx f;
    vox_client *c;
    char uuid[37];
    fx_start(&f, park_fn, 0, &(vox_sim_opts){.wait_clients = 1});
    int i = run_until_app(&f, &c, (vox_sim_call){0}, "park", uuid);
    vox_close(c);
    vox_sim_stop(f.sim);
    vox_sim_result r = result(&f, i);
    assert_true(r.ended);
    assert_string_equal(r.cause, "SYSTEM_SHUTDOWN");
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_in_order),     cmocka_unit_test(test_digits),
        cmocka_unit_test(test_read_digits),         cmocka_unit_test(test_digits_timeout),
        cmocka_unit_test(test_hangup_mid_playback), cmocka_unit_test(test_loops),
        cmocka_unit_test(test_unknown_app),         cmocka_unit_test(test_callcommand_hangup),
        cmocka_unit_test(test_bridge_fail),         cmocka_unit_test(test_bridge_answer),
        cmocka_unit_test(test_fault_drop),          cmocka_unit_test(test_fault_no_full),
        cmocka_unit_test(test_expectations),        cmocka_unit_test(test_wait_times_out),
        cmocka_unit_test(test_api_texts),           cmocka_unit_test(test_api_channels),
        cmocka_unit_test(test_api_dtmf_and_hupall), cmocka_unit_test(test_stop_with_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
