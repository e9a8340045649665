/* vox-sim's wire: outbound sessions (myevents, linger, a static socket),
 * inbound sessions (myevents <uuid>, divert, linger), sendevent, filters,
 * pipelined replies, log, exit with a job pending, libvox's own clients
 * against it (heartbeats included), wait_clients, the stop and the start
 * options. Every wait is bounded by a deadline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/client.h>
#include <vox/uv.h>

#include "test_sim_util.h"

#define SPEED 100.0

/* Loopback at SPEED, HEARTBEAT every 20 simulated s. */
static vox_sim_opts base_opts(void)
{
    vox_sim_opts o = sim_opts(SPEED);
    o.heartbeat_ms = 20000;
    return o;
}

/* A simulator (HEARTBEAT every heartbeat_ms) and one or two authenticated
 * raw clients (b may be NULL). */
static vox_sim *sim_with(peer *a, peer *b, uint32_t heartbeat_ms)
{
    vox_sim_opts o = base_opts();
    o.heartbeat_ms = heartbeat_ms;
    vox_sim *s = sim_up(&o);
    peer_auth(a, s);
    if (b)
        peer_auth(b, s);
    return s;
}

/* One scripted call to our listening socket, with that fault. */
static void outb_up(outb *ob, vox_sim_call_fault fault)
{
    vox_sim_opts o = base_opts();
    outb_start(ob, &o, (vox_sim_call){.fault = fault});
}

static void test_outbound_json_linger(void **state)
{
    outb ob;
    outb_up(&ob, VOX_SIM_CALL_OK);
    frame f;
    peer_sends(&ob.c, "connect\n\n");
    peer_reply(&ob.c, &f, NULL);
    const char *uuid = vox_msg_header(f.m, "Unique-ID");
    assert_non_null(uuid);
    char sess[64];
    snprintf(sess, sizeof sess, "%s", uuid);
    assert_string_equal(vox_msg_header(f.m, "Socket-Mode"), "async");
    assert_string_equal(vox_msg_header(f.m, "Control"), "full");
    assert_string_equal(vox_msg_reply_text(f.m), "+OK\n");
    frame_free(&f);
    expect_cmd(&ob.c, "myevents json\n\n", "+OK Events Enabled");
    expect_cmd(&ob.c, "linger 2\n\n", "+OK will linger 2 seconds");
    expect_cmd(&ob.c, "getvar uuid\n\n", sess);
    expect_cmd(&ob.c, "getvar no_such_variable_here\n\n", "-ERR command not found");
    uint64_t t_hangup = tu_now_ms(), t_linger = 0;
    expect_cmd(&ob.c, "sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n", "+OK");
    size_t json = 0, other = 0;
    for (;;) {
        assert_int_equal(peer_frame(&ob.c, &f), 1);
        const char *ct = vox_msg_content_type(f.m);
        if (!strcmp(ct, "text/event-json")) {
            json++;
            assert_string_equal(vox_event_get(vox_msg_event(f.m), "Unique-ID"), sess);
        } else if (!strcmp(ct, "text/disconnect-notice")) {
            const char *disp = vox_msg_header(f.m, "Content-Disposition");
            assert_string_equal(vox_msg_header(f.m, "Controlled-Session-UUID"), sess);
            if (!strcmp(disp, "linger")) {
                assert_string_equal(vox_msg_header(f.m, "Linger-Time"), "2");
                t_linger = tu_now_ms();
            } else {
                assert_string_equal(disp, "disconnect");
                assert_true(t_linger);
                /* two simulated seconds after the hangup: 20 ms at speed 100 */
                assert_true(tu_now_ms() - t_hangup >= (uint64_t)(2000 / SPEED));
                frame_free(&f);
                break;
            }
        } else {
            other++;
        }
        frame_free(&f);
    }
    assert_true(json >= 2);
    assert_int_equal(other, 0);
    assert_int_equal(peer_frame(&ob.c, &f), 0);
    outb_stop(&ob);
}

/* A static socket (no `async`): the sendmsg reply comes when the
 * application ended, and the events it caused only after it. */
static void test_outbound_static(void **state)
{
    outb ob;
    outb_up(&ob, VOX_SIM_CALL_NO_ASYNC);
    frame f;
    peer_sends(&ob.c, "connect\n\n");
    peer_reply(&ob.c, &f, NULL);
    assert_string_equal(vox_msg_header(f.m, "Socket-Mode"), "static");
    frame_free(&f);
    expect_cmd(&ob.c, "myevents\n\n", "+OK Events Enabled");
    peer_sends(&ob.c, "sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
                      "execute-app-arg: silence_stream://500\nEvent-UUID: static-1\n\n");
    assert_int_equal(peer_frame(&ob.c, &f), 1);
    assert_string_equal(vox_msg_reply_text(f.m), "+OK");
    frame_free(&f);
    int done = 0;
    while (!done) {
        assert_int_equal(peer_frame(&ob.c, &f), 1);
        const vox_event *ev = vox_msg_event(f.m);
        const char *app = ev ? vox_event_get(ev, "Application-UUID") : NULL;
        done = app && !strcmp(app, "static-1") &&
               !strcmp(vox_event_name(ev), "CHANNEL_EXECUTE_COMPLETE");
        frame_free(&f);
    }
    peer_sends(&ob.c, "exit\n\n");
    frames rest = peer_all(&ob.c);
    frames_free(&rest);
    outb_stop(&ob);
}

/* Linger forever: the notice after the hangup, then nothing until exit. */
static void test_outbound_linger_forever(void **state)
{
    outb ob;
    outb_up(&ob, VOX_SIM_CALL_OK);
    frame f;
    peer_sends(&ob.c, "connect\n\nmyevents\n\nlinger\n\n");
    peer_reply(&ob.c, &f, NULL);
    frame_free(&f);
    expect_text(&ob.c, "Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n");
    expect_text(&ob.c, "Content-Type: command/reply\nReply-Text: +OK will linger\n\n");
    expect_cmd(&ob.c, "sendmsg\ncall-command: execute\nexecute-app-name: hangup\n\n", "+OK");
    for (;;) {
        peer_reply(&ob.c, &f, NULL);
        int linger = !strcmp(vox_msg_content_type(f.m), "text/disconnect-notice");
        if (linger)
            assert_string_equal(vox_msg_header(f.m, "Linger-Time"), "-1");
        frame_free(&f);
        if (linger)
            break;
    }
    /* lingering forever: more events maybe, but no notice nor close (a
     * bounded look) */
    uint64_t until = tu_now_ms() + 100;
    int r;
    while ((r = peer_frame_by(&ob.c, &f, until)) == 1) {
        assert_true(is_event(&f));
        frame_free(&f);
    }
    assert_int_equal(r, -1);
    peer_sends(&ob.c, "exit\n\n");
    expect_text(&ob.c, "Content-Type: command/reply\nReply-Text: +OK bye\n\n");
    peer_reply(&ob.c, &f, NULL);
    assert_string_equal(vox_msg_header(f.m, "Content-Disposition"), "disconnect");
    frame_free(&f);
    assert_int_equal(peer_frame(&ob.c, &f), 0);
    outb_stop(&ob);
}

/* ------------------------------------------------------------- inbound sessions */

/* A parked channel made by `api originate` on another connection. */
static char *originate(peer *side)
{
    char *r = peer_cmd(side, "api originate loopback/9105/default &park\n\n");
    assert_int_equal(strncmp(r, "+OK ", 4), 0);
    char *uuid = strndup(r + 4, 36);
    free(r);
    return uuid;
}

/* inbound_17: myevents <uuid>, divert, linger 2, sendmsg without uuid; the
 * linger notice after the hangup, then the close. */
static void test_inbound_myevents_linger(void **state)
{
    peer side, c;
    vox_sim *s = sim_with(&side, &c, 20000);
    char *uuid = originate(&side);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "myevents %s\n\n", uuid);
    expect_cmd(&c, cmd, "+OK Events Enabled");
    expect_cmd(&c, cmd, "-ERR aready enabled.");
    expect_cmd(&c, "divert_events on\n\n", "+OK events diverted");
    expect_cmd(&c, "divert_events off\n\n", "+OK events not diverted");
    expect_cmd(&c, "divert_events\n\n", "-ERR missing value.");
    expect_cmd(&c, "linger 2\n\n", "+OK will linger 2 seconds");
    expect_cmd(&c,
               "sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
               "execute-app-arg: tone_stream://%(200,0,800)\nevent-lock: true\n\n",
               "+OK");
    expect_cmd(&c, "sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n", "+OK");
    /* events of that channel, the linger notice (more events may follow
     * it), the final notice */
    frames all = peer_all(&c);
    size_t n = all.n, lingers = 0;
    int complete = 0;
    assert_true(n >= 3);
    for (size_t i = 0; i + 1 < n; i++) {
        if (vox_msg_type(all.f[i].m) == VOX_CT_DISCONNECT_NOTICE) {
            assert_string_equal(vox_msg_header(all.f[i].m, "Content-Disposition"), "linger");
            assert_string_equal(vox_msg_header(all.f[i].m, "Controlled-Session-UUID"), uuid);
            assert_string_equal(vox_msg_header(all.f[i].m, "Linger-Time"), "2");
            lingers++;
            continue;
        }
        const vox_event *ev = vox_msg_event(all.f[i].m);
        assert_int_equal(vox_msg_type(all.f[i].m), VOX_CT_EVENT_PLAIN);
        assert_string_equal(vox_event_get(ev, "Unique-ID"), uuid);
        complete |= !strcmp(vox_event_name(ev), "CHANNEL_HANGUP_COMPLETE");
    }
    assert_int_equal(lingers, 1);
    assert_string_equal(vox_msg_header(all.f[n - 1].m, "Content-Disposition"), "disconnect");
    assert_true(complete);
    frames_free(&all);
    expect_cmd(&side, "exit\n\n", "+OK bye");
    peer_close(&side);
    peer_close(&c);
    free(uuid);
    vox_sim_free(s);
}

/* inbound_18: `myevents <uuid> json` sends plain events (the format is cut
 * off with the uuid), and without linger the socket closes right after
 * CHANNEL_HANGUP. */
static void test_inbound_myevents_format_ignored(void **state)
{
    peer side, c;
    vox_sim *s = sim_with(&side, &c, 20000);
    char *uuid = originate(&side);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "myevents %s json\n\n", uuid);
    expect_cmd(&c, cmd, "+OK Events Enabled");
    snprintf(cmd, sizeof cmd, "api uuid_kill %s\n\n", uuid);
    char *r = peer_cmd(&side, cmd);
    free(r);
    frames all = peer_all(&c);
    assert_int_equal(all.n, 2);
    assert_int_equal(vox_msg_type(all.f[0].m), VOX_CT_EVENT_PLAIN);
    assert_string_equal(vox_event_name(vox_msg_event(all.f[0].m)), "CHANNEL_HANGUP");
    assert_string_equal(vox_msg_header(all.f[1].m, "Controlled-Session-UUID"), uuid);
    frames_free(&all);
    /* a bad uuid with a format: -ERR invalid uuid; sendmsg to a bad uuid */
    peer c2;
    peer_auth(&c2, s);
    expect_cmd(&c2, "myevents 00000000-0000-0000-0000-000000000000 plain\n\n", "-ERR invalid uuid");
    expect_cmd(&c2, "sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: hangup\n\n",
               "-ERR invalid session id [00000000-0000-0000-0000-000000000000]");
    peer_close(&c2);
    peer_close(&side);
    peer_close(&c);
    free(uuid);
    vox_sim_free(s);
}

/* ------------------------------------------------------------- events */

/* sendevent, CUSTOM subclasses, filters (with '-' exclusions and
 * regexes), nixevent, noevents. */
static void test_sendevent_filters(void **state)
{
    peer a, b;
    vox_sim *s = sim_with(&a, &b, 0);
    expect_cmd(&a, "event plain CUSTOM test::one\n\n", "+OK event listener enabled plain");
    char *r = peer_cmd(&b, "sendevent CUSTOM\nEvent-Subclass: test::two\nX-N: 1\n\n");
    free(r);
    r = peer_cmd(&b,
                 "sendevent CUSTOM\nEvent-Subclass: test::one\nX-N: 2\nContent-Length: 5\n\nhello");
    assert_int_equal(strncmp(r, "+OK ", 4), 0);
    frame f;
    assert_int_equal(peer_frame(&a, &f), 1);
    const vox_event *ev = vox_msg_event(f.m);
    assert_string_equal(vox_event_subclass(ev), "test::one");
    assert_string_equal(vox_event_get(ev, "X-N"), "2");
    assert_string_equal(vox_event_get(ev, "Event-UUID"), r + 4);
    assert_string_equal(vox_event_body(ev, NULL), "hello");
    frame_free(&f);
    free(r);

    /* filters: ALL, then only X-N 3 or a regex match, minus X-Drop yes */
    expect_cmd(&a, "event json ALL\n\n", "+OK event listener enabled json");
    expect_cmd(&a, "filter X-N 3\n\n", "+OK filter added. [X-N]=[3]");
    expect_cmd(&a, "filter add X-Tag /^ke+p$/\n\n", "+OK filter added. [X-Tag]=[/^ke+p$/]");
    expect_cmd(&a, "filter X-Drop -yes\n\n", "+OK filter added. [X-Drop]=[-yes]");
    const char *sends[] = {
        "X-N: 1\n", "X-N: 3\n", "X-Tag: keeep\n", "X-Tag: kp\n", "X-N: 3\nX-Drop: yes\n",
        "X-N: 4\n"};
    for (size_t i = 0; i < 6; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "sendevent CUSTOM\nEvent-Subclass: test::f\nX-I: %zu\n%s\n", i,
                 sends[i]);
        r = peer_cmd(&b, cmd);
        free(r);
    }
    r = peer_cmd(&b, "sendevent CUSTOM\nEvent-Subclass: test::f\nX-I: end\nX-N: 3\n\n");
    free(r);
    const char *want[] = {"1", "2", "end"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(peer_frame(&a, &f), 1);
        assert_int_equal(vox_msg_type(f.m), VOX_CT_EVENT_JSON);
        assert_string_equal(vox_event_get(vox_msg_event(f.m), "X-I"), want[i]);
        frame_free(&f);
    }
    expect_cmd(&a, "filter delete X-N 3\n\n", "+OK filter deleted. [X-N][3]");
    expect_cmd(&a, "filter delete all\n\n", "+OK filter deleted. [all][]");
    expect_cmd(&a, "nixevent CUSTOM test::f\n\n", "+OK events nixed");
    expect_cmd(&a, "noevents\n\n", "+OK no longer listening for events");
    expect_cmd(&a, "noevents\n\n", "-ERR not listening for events");
    peer_close(&a);
    peer_close(&b);
    vox_sim_free(s);
}

/* inbound_25: pipelined commands get all their replies before the events
 * they cause (one write, one batch). */
static void test_pipelined_replies_first(void **state)
{
    peer c;
    vox_sim *s = sim_with(&c, NULL, 0);
    const char *bg = "bgapi originate loopback/9105/default &park\n\n";
    char batch[1024];
    snprintf(batch, sizeof batch,
             "event plain ALL\n\n%s%s%s%s%sapi originate "
             "loopback/9105/default &park\n\n",
             bg, bg, bg, bg, bg);
    peer_sends(&c, batch);
    frame f;
    for (int i = 0; i < 7; i++) {
        assert_int_equal(peer_frame(&c, &f), 1);
        assert_false(is_event(&f));
        assert_string_equal(vox_msg_content_type(f.m), i < 6 ? "command/reply" : "api/response");
        frame_free(&f);
    }
    assert_int_equal(peer_frame(&c, &f), 1);
    assert_true(is_event(&f));
    frame_free(&f);
    peer_close(&c);
    vox_sim_free(s);
}

/* log 7: the sim's own lines as log/data; nolog. */
static void test_log(void **state)
{
    peer c;
    vox_sim *s = sim_with(&c, NULL, 0);
    expect_cmd(&c, "log 7\n\n", "+OK log level 7 [7]");
    expect_cmd(&c, "api version\n\n", "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    frame f;
    assert_int_equal(peer_frame(&c, &f), 1);
    assert_int_equal(vox_msg_type(f.m), VOX_CT_LOG_DATA);
    const char *names[] = {"Content-Type", "Content-Length", "Log-Level", "Text-Channel",
                           "Log-File",     "Log-Func",       "Log-Line",  "User-Data"};
    assert_int_equal(vox_msg_header_count(f.m), 8);
    for (size_t i = 0; i < 8; i++) {
        const char *n;
        vox_msg_header_at(f.m, i, &n, NULL);
        assert_string_equal(n, names[i]);
    }
    assert_string_equal(vox_msg_header(f.m, "Log-Level"), "7");
    assert_non_null(strstr(vox_msg_body(f.m, NULL), "[DEBUG] "));
    assert_non_null(strstr(vox_msg_body(f.m, NULL), "api version"));
    frame_free(&f);
    expect_cmd(&c, "nolog\n\n", "+OK no longer logging");
    expect_cmd(&c, "nolog\n\n", "-ERR not loging");
    expect_cmd(&c, "log\n\n", "+OK log level  [7]");
    expect_cmd(&c, "log err\n\n", "+OK log level err [3]");
    expect_cmd(&c, "log NOT_A_LEVEL\n\n", "-ERR invalid log level");
    peer_close(&c);
    vox_sim_free(s);
}

/* inbound_30: exit while a bgapi job runs: +OK bye at once, the notice and
 * the close when the job ends, its BACKGROUND_JOB never sent. */
static void test_exit_pending_bgapi(void **state)
{
    peer c, other;
    vox_sim *s = sim_with(&c, &other, 0);
    expect_cmd(&other, "event plain BACKGROUND_JOB\n\n", "+OK event listener enabled plain");
    expect_cmd(&c, "event plain BACKGROUND_JOB\n\n", "+OK event listener enabled plain");
    char *r = peer_cmd(&c, "bgapi originate {originate_timeout=4}loopback/9102/default &park\n\n");
    assert_int_equal(strncmp(r, "+OK Job-UUID: ", 14), 0);
    free(r);
    uint64_t t0 = tu_now_ms();
    expect_cmd(&c, "exit\n\n", "+OK bye");
    frames rest = peer_all(&c);
    assert_int_equal(rest.n, 1);
    assert_string_equal(rest.f[0].bytes,
                        "Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
                        "Disconnected, goodbye.\nSee you at ClueCon! "
                        "http://www.cluecon.com/\n");
    frames_free(&rest);
    /* the job took its 4 simulated seconds; the other listener got it */
    assert_true(tu_now_ms() - t0 >= (uint64_t)(4000 / SPEED) / 2);
    frame f;
    assert_int_equal(peer_frame(&other, &f), 1);
    assert_string_equal(vox_event_name(vox_msg_event(f.m)), "BACKGROUND_JOB");
    frame_free(&f);
    peer_close(&c);
    peer_close(&other);
    vox_sim_free(s);
}

/* ------------------------------------------------------------- libvox clients */

static void test_blocking_client(void **state)
{
    vox_sim_opts o = base_opts();
    o.speed = 1000; /* a heartbeat every 20 ms */
    vox_sim *s = sim_up(&o);
    vox_client_opts co;
    memset(&co, 0, sizeof co);
    co.port = vox_sim_port(s);
    co.events = "HEARTBEAT BACKGROUND_JOB";
    vox_header filt[] = {{"Event-Name", "HEARTBEAT"}, {"Event-Name", "BACKGROUND_JOB"}};
    co.filters = filt;
    co.nfilters = 2;
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &co), 0);
    vox_msg *m = NULL;
    assert_int_equal(vox_api(c, "version", &m), 0);
    assert_string_equal(vox_msg_body(m, NULL), "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    vox_msg_free(m);
    assert_int_equal(vox_api(c, "foobarbaz", &m), VOX_EREPLY);
    assert_string_equal(vox_msg_body(m, NULL), "-ERR foobarbaz Command not found!\n");
    vox_msg_free(m);
    assert_int_equal(vox_bgapi(c, "version", &m), 0);
    assert_string_equal(vox_event_body(vox_msg_event(m), NULL),
                        "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    vox_msg_free(m);
    uint64_t last_ts = 0, last_seq = 0;
    for (int got = 0; got < 3;) {
        assert_int_equal(vox_next_event(c, SIM_WAIT_MS, &m), 0);
        const vox_event *ev = vox_msg_event(m);
        if (!strcmp(vox_event_name(ev), "HEARTBEAT")) {
            uint64_t ts = strtoull(vox_event_get(ev, "Event-Date-Timestamp"), NULL, 10);
            uint64_t seq = strtoull(vox_event_get(ev, "Event-Sequence"), NULL, 10);
            assert_true(seq > last_seq);
            /* 20 simulated seconds apart (generous: a loaded machine lags) */
            if (last_ts)
                assert_true(ts - last_ts >= 15000000 && ts - last_ts <= 600000000);
            assert_non_null(strstr(vox_event_get(ev, "Up-Time"), " years, "));
            assert_string_equal(vox_event_get(ev, "Event-Info"), "System Ready");
            last_ts = ts;
            last_seq = seq;
            got++;
        }
        vox_msg_free(m);
    }
    vox_close(c);

    co.password = "WrongPassword";
    co.events = NULL;
    co.nfilters = 0;
    assert_int_equal(vox_connect(&c, &co), VOX_EAUTH);
    co.password = "1000@127.0.0.1:secret1000";
    assert_int_equal(vox_connect(&c, &co), 0);
    vox_close(c);
    vox_sim_free(s);
}

typedef struct actx {
    uv_loop_t *loop;
    vox_aclient *c;
    int connected, api_done, job_done;
    char api[128], job[128];
} actx;

static void a_job(vox_aclient *c, int status, const vox_event *job, void *ud)
{
    actx *x = ud;
    assert_int_equal(status, 0);
    snprintf(x->job, sizeof x->job, "%s", vox_event_body(job, NULL));
    x->job_done = 1;
    vox_aclient_stop(c);
}

static void a_api(vox_aclient *c, int status, const vox_msg *reply, void *ud)
{
    actx *x = ud;
    assert_int_equal(status, 0);
    snprintf(x->api, sizeof x->api, "%s", vox_msg_body(reply, NULL));
    x->api_done = 1;
    assert_int_equal(vox_aclient_bgapi(c, "uptime", a_job, x), 0);
}

static void a_connected(vox_aclient *c, void *ud)
{
    actx *x = ud;
    x->connected++;
    assert_int_equal(vox_aclient_api(c, "version", a_api, x), 0);
}

static void on_deadline(uv_timer_t *t)
{
    fail_msg("the async client did not finish in time");
    (void)t;
}

static void test_async_client(void **state)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    uv_loop_t loop;
    uv_loop_init(&loop);
    vox_loop l = vox_uv_loop(&loop);
    actx x;
    memset(&x, 0, sizeof x);
    vox_aclient_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.port = vox_sim_port(s);
    ao.events = "BACKGROUND_JOB";
    ao.on_connect = a_connected;
    ao.userdata = &x;
    assert_int_equal(vox_aclient_start(&x.c, &l, &ao), 0);
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    uv_timer_start(&deadline, on_deadline, SIM_WAIT_MS, 0);
    uv_unref((uv_handle_t *)&deadline);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(x.connected, 1);
    assert_string_equal(x.api, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    assert_true(x.job[0] >= '0' && x.job[0] <= '9');
    vox_sim_free(s);
}

/* ------------------------------------------------------------- the simulator */

static void test_wait_clients(void **state)
{
    vox_sim_opts o = base_opts();
    o.wait_clients = 2;
    uint16_t port;
    int lfd = listen_any(&port);
    vox_sim *s = sim_up(&o);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%u", port);
    vox_sim_call call;
    memset(&call, 0, sizeof call);
    call.socket = target;
    call.hangup_ms = -1;
    assert_int_equal(vox_sim_place(s, &call), 0);
    peer a, b;
    peer_auth(&a, s);
    expect_cmd(&a, "event plain HEARTBEAT\n\n", "+OK event listener enabled plain");
    assert_int_equal(accept_by(lfd, 100), -1); /* one subscriber is not enough */
    peer_auth(&b, s);
    expect_cmd(&b, "event plain CHANNEL_CREATE\n\n", "+OK event listener enabled plain");
    int fd = accept_by(lfd, SIM_WAIT_MS);
    assert_true(fd >= 0);
    close(fd);
    peer_close(&a);
    peer_close(&b);
    vox_sim_free(s);
    close(lfd);
}

/* Stopping with clients connected: each gets the shutdown notice. */
static void test_stop_with_clients(void **state)
{
    peer c;
    vox_sim *s = sim_with(&c, NULL, 20000);
    expect_cmd(&c, "event plain ALL\n\n", "+OK event listener enabled plain");
    vox_sim_stop(s);
    frames all = peer_all(&c);
    assert_true(all.n >= 1);
    const frame *last = &all.f[all.n - 1];
    assert_string_equal(last->bytes, "Content-Type: text/disconnect-notice\nContent-Length: 31\n\n"
                                     "The system is being shut down.\n");
    frames_free(&all);
    peer_close(&c);
    vox_sim_stop(s);
    vox_sim_free(s);
}

/* Options: defaults, errors, IPv6, a port in use. */
static void test_start_options(void **state)
{
    vox_sim *s = NULL, *t = NULL;
    vox_sim_opts o = base_opts();
    o.speed = -1;
    assert_int_equal(vox_sim_start(&s, &o), VOX_EINVAL);
    o = base_opts();
    o.host = "not-an-address";
    assert_int_equal(vox_sim_start(&s, &o), VOX_EINVAL);
    assert_int_equal(vox_sim_start(NULL, &o), VOX_EINVAL);
    assert_null(s);

    assert_int_equal(vox_sim_start(&s, NULL), 0); /* every default */
    still_serves(s);
    o = base_opts();
    o.port = vox_sim_port(s);
    assert_int_equal(vox_sim_start(&t, &o), VOX_ESYS);
    assert_int_equal(errno, EADDRINUSE);
    vox_sim_free(s);

    o = base_opts();
    o.host = "::1";
    s = sim_up(&o);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(vox_sim_port(s));
    a.sin6_addr = in6addr_loopback;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        peer c;
        peer_open_fd(&c, fd);
        expect_text(&c, "Content-Type: auth/request\n\n");
        peer_close(&c);
    } else {
        close(fd); /* no IPv6 loopback on this machine */
    }
    vox_sim_free(s);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outbound_json_linger),
        cmocka_unit_test(test_outbound_linger_forever),
        cmocka_unit_test(test_outbound_static),
        cmocka_unit_test(test_inbound_myevents_linger),
        cmocka_unit_test(test_inbound_myevents_format_ignored),
        cmocka_unit_test(test_sendevent_filters),
        cmocka_unit_test(test_pipelined_replies_first),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_exit_pending_bgapi),
        cmocka_unit_test(test_blocking_client),
        cmocka_unit_test(test_async_client),
        cmocka_unit_test(test_wait_clients),
        cmocka_unit_test(test_stop_with_clients),
        cmocka_unit_test(test_start_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
