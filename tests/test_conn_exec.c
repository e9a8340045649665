/* Execute and bgapi correlation: every trap of the captures (loops, a short
 * iteration, an unknown application, call-command hangup, a hangup in the
 * middle of a playback, a failed bridge), timeouts and orphan replies. */
#include "test_conn_util.h"

static const size_t chunks[] = {1, 13, 512, 1 << 20};

typedef struct expect {
    const char *fixture;
    int status[8]; /* from the first user command on; 99 ends */
} expect;

static void check_replay(const expect *e, void (*extra)(tc_replay *))
{
    for (size_t k = 0; k < TC_LEN(chunks); k++) {
        tc_replay rp;
        tc_replay_run(&rp, e->fixture, chunks[k]);
        for (int i = 0; e->status[i] != 99; i++)
            assert_int_equal(rp.d[rp.first + i].status, e->status[i]);
        assert_int_equal(rp.r.close_reason, 0);
        if (extra)
            extra(&rp);
        tc_replay_free(&rp);
    }
}

static void loops3_extra(tc_replay *rp)
{
    tc_done *pb = &rp->d[rp->first + 1];
    assert_int_equal(pb->loop, 3); /* the last of the three */
    assert_string_equal(pb->text, "FILE PLAYED");
    assert_string_equal(pb->id, "c0ffee01-0000-4000-8000-000000000002");
}

static void test_loops3(void **state)
{
    expect e = {"outbound_loops3", {0, 0, 0, VOX_ECLOSED, 99}};
    check_replay(&e, loops3_extra);
}

static void short_extra(tc_replay *rp)
{
    /* FreeSWITCH stopped after one iteration under 0.5 s */
    assert_int_equal(rp->d[rp->first + 1].loop, 1);
    assert_string_equal(rp->d[rp->first + 1].name, "CHANNEL_EXECUTE_COMPLETE");
}

static void test_loops3_short_iteration(void **state)
{
    expect e = {"outbound_loops3_short_iteration", {0, 0, 0, VOX_ECLOSED, 99}};
    check_replay(&e, short_extra);
}

static void test_unknown_app(void **state)
{
    expect e = {"outbound_unknown_app", {0, VOX_EHANGUP, VOX_ECLOSED, 99}};
    check_replay(&e, NULL);
}

static void test_callcommand_hangup(void **state)
{
    expect e = {"outbound_callcommand_hangup", {0, 0, VOX_ECLOSED, 99}};
    check_replay(&e, NULL);
}

static void midplay_extra(tc_replay *rp)
{
    assert_string_equal(rp->d[rp->first + 1].text, "PLAYBACK ERROR");
    assert_int_equal(vox_conn_hungup(rp->c), 1);
}

static void test_caller_hangup_mid_playback(void **state)
{
    expect e = {"outbound_caller_hangup_mid_playback", {0, 0, VOX_ECLOSED, 99}};
    check_replay(&e, midplay_extra);
}

static void bridge_extra(tc_replay *rp)
{
    assert_string_equal(rp->d[rp->first + 1].name, "CHANNEL_EXECUTE_COMPLETE");
    assert_string_equal(rp->d[rp->first + 1].id, "c0ffee10-0000-4000-8000-000000000002");
}

static void test_bridge_fail(void **state)
{
    /* the hangup execute, queued up front, never started: EHANGUP */
    expect e = {"outbound_bridge_fail", {0, 0, VOX_EHANGUP, VOX_ECLOSED, 99}};
    check_replay(&e, bridge_extra);
}

static void test_pagd_and_event_uuid(void **state)
{
    expect e = {"outbound_pagd_dtmf", {0, 0, 0, 0, VOX_ECLOSED, 99}};
    check_replay(&e, NULL);
    expect e2 = {"outbound_9100_preanswered_event_uuid_linger2", {0, 0, 0, 99}};
    check_replay(&e2, NULL);
}

/* After the bridge failed the call is down: an execute fails at once. */
static int g_after_status = 1;
static void bridge_done(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    tc_exec_cb(c, status, ev, ud);
    vox_execute x = {.app = "hangup"};
    tc_done never = {0};
    g_after_status = vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &never);
    assert_int_equal(never.calls, 0);
}

static void test_execute_after_hangup_in_callback(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_OUTBOUND, &r);
    vox_conn *c;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_done d[2] = {{0}};
    vox_execute a = {
        .app = "answer", .event_lock = 1, .event_uuid = "c0ffee10-0000-4000-8000-000000000001"};
    vox_execute b = {.app = "bridge",
                     .arg = "loopback/9999/default",
                     .event_lock = 1,
                     .event_uuid = "c0ffee10-0000-4000-8000-000000000002"};
    assert_int_equal(vox_conn_execute(c, &a, NULL, 0, 0, tc_exec_cb, &d[0]), 0);
    assert_int_equal(vox_conn_execute(c, &b, NULL, 0, 0, bridge_done, &d[1]), 0);
    char *w;
    tc_feed_fixture(c, "outbound_bridge_fail.s2c.raw", 4096, &w);
    free(w);
    assert_int_equal(d[1].calls, 1);
    assert_int_equal(d[1].status, 0);
    assert_int_equal(g_after_status, VOX_EHANGUP);
    assert_int_equal(r.close_reason, 0);
    vox_conn_free(c);
}

/* ------------------------------------------------------------ synthetic */

static vox_conn *outbound(tc_rec *r)
{
    vox_conn_opts o;
    tc_opts(&o, VOX_ROLE_OUTBOUND, r);
    vox_conn *c;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_outbound_active(c);
    return c;
}

static void exec_ev(vox_conn *c, const char *name, const char *id, long cur, long tot, long ts)
{
    char extra[512];
    snprintf(extra, sizeof extra,
             "Application-UUID: %s\nvariable_current_loop: %ld\nvariable_total_loops: %ld\n"
             "Event-Date-Timestamp: %ld\nApplication-Response: r%ld\n",
             id, cur, tot, ts, cur);
    assert_int_equal(tc_chan_event(c, name, extra), 0);
}

static void start_loop(vox_conn *c, tc_done *d, const char *id)
{
    vox_execute x = {.app = "playback", .arg = "x.wav", .loops = 3, .event_uuid = id};
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, d), 0);
    tc_drain(c);
    tc_reply(c, "+OK");
    exec_ev(c, "CHANNEL_EXECUTE", id, 1, 3, 1000000);
    exec_ev(c, "CHANNEL_EXECUTE_COMPLETE", id, 1, 3, 1600000);
    assert_int_equal(d->calls, 0); /* 0.6 s: FreeSWITCH goes on looping */
}

static void test_loop_superseded(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done d = {0};
    start_loop(c, &d, "L1");
    exec_ev(c, "CHANNEL_EXECUTE", "L1", 2, 3, 1600000);
    exec_ev(c, "CHANNEL_EXECUTE_COMPLETE", "L1", 2, 3, 2200000);
    assert_int_equal(d.calls, 0);
    /* another application starts: the loop is over, with its last result */
    exec_ev(c, "CHANNEL_EXECUTE", "other", 1, 1, 2200000);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, 0);
    assert_int_equal(d.loop, 2);
    vox_conn_free(c);
}

static void test_loop_hangup_between_iterations(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done d = {0};
    start_loop(c, &d, "L1");
    assert_int_equal(tc_chan_event(c, "CHANNEL_HANGUP", NULL), 0);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, 0);
    assert_int_equal(d.loop, 1);
    vox_conn_free(c);
}

static void test_loop_hangup_mid_iteration(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done d = {0};
    start_loop(c, &d, "L1");
    exec_ev(c, "CHANNEL_EXECUTE", "L1", 2, 3, 1600000);
    assert_int_equal(tc_chan_event(c, "CHANNEL_HANGUP", NULL), 0);
    assert_int_equal(d.calls, 0); /* its EXECUTE_COMPLETE still comes */
    exec_ev(c, "CHANNEL_EXECUTE_COMPLETE", "L1", 2, 3, 2500000);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.loop, 2);
    vox_conn_free(c);
}

/* loops -1: total_loops is -1, FreeSWITCH loops until a short iteration,
 * the hangup, or another application. */
static void test_loop_forever(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done d = {0};
    vox_execute x = {.app = "playback", .arg = "x.wav", .loops = -1, .event_uuid = "F"};
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &d), 0);
    char *out = tc_take(c);
    assert_non_null(strstr(out, "loops: -1\n"));
    free(out);
    tc_reply(c, "+OK");
    long ts = 1000000;
    for (long i = 1; i <= 5; i++, ts += 700000) {
        exec_ev(c, "CHANNEL_EXECUTE", "F", i, -1, ts);
        exec_ev(c, "CHANNEL_EXECUTE_COMPLETE", "F", i, -1, ts + 700000);
    }
    assert_int_equal(d.calls, 0);
    exec_ev(c, "CHANNEL_EXECUTE", "F", 6, -1, ts);
    exec_ev(c, "CHANNEL_EXECUTE_COMPLETE", "F", 6, -1, ts + 100000); /* short: the end */
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.loop, 6);
    vox_conn_free(c);
}

static void test_execute_refused_and_after_hangup(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done d = {0}, e = {0};
    vox_execute x = {.app = "answer"};
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &d), 0);
    tc_reply(c, "-ERR invalid session id [x]");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, VOX_EREPLY);
    assert_null(d.name[0] ? d.name : NULL);
    assert_string_equal(d.text, "-ERR invalid session id [x]"); /* vox_conn_reply */
    assert_null(vox_conn_reply(c));                              /* outside callbacks */
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
    assert_int_equal(vox_conn_hungup(c), 0);
    tc_chan_event(c, "CHANNEL_HANGUP", NULL);
    assert_int_equal(vox_conn_hungup(c), 1);
    tc_drain(c);
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &e), VOX_EHANGUP);
    tc_expect_out(c, "");
    /* another channel is not the call */
    x.uuid = "another-channel";
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &e), 0);
    vox_conn_free(c);
    assert_int_equal(e.calls, 1);
    assert_int_equal(e.status, VOX_ECLOSED);
}

/* The session is over (hangup complete and the linger notice): a new execute
 * for the call still says why — VOX_EHANGUP — while anything else, another
 * channel included, gets VOX_ECLOSED. */
static void test_execute_after_session_end(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done d = {0};
    vox_execute x = {.app = "set", .arg = "ivr_result=none"};
    tc_chan_event(c, "CHANNEL_HANGUP", NULL);
    tc_chan_event(c, "CHANNEL_HANGUP_COMPLETE", NULL);
    tc_linger_notice(c);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_CLOSED);
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &d), VOX_EHANGUP);
    x.uuid = "another-channel";
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &d), VOX_ECLOSED);
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d), VOX_ECLOSED);
    assert_int_equal(d.calls, 0);
    vox_conn_free(c);
}

static void test_linger_notice_ends_not_started(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done d = {0}, s = {0};
    vox_execute x = {.app = "answer", .event_uuid = "A1"};
    vox_execute y = {.app = "playback", .event_uuid = "A2"};
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &d), 0);
    assert_int_equal(vox_conn_execute(c, &y, NULL, 0, 0, tc_exec_cb, &s), 0);
    tc_reply(c, "+OK");
    tc_reply(c, "+OK");
    exec_ev(c, "CHANNEL_EXECUTE", "A2", 1, 1, 5);
    tc_linger_notice(c);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, VOX_EHANGUP);
    assert_int_equal(s.calls, 0); /* started: waits for its EXECUTE_COMPLETE */
    exec_ev(c, "CHANNEL_EXECUTE_COMPLETE", "A2", 1, 1, 9);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status, 0);
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &d), VOX_EHANGUP);
    vox_conn_free(c);
}

static void test_exec_timeout_and_orphan(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    vox_conn_tick(c, 1000);
    tc_done d = {0}, a = {0};
    char id[37];
    vox_execute x = {.app = "playback", .arg = "long.wav"};
    assert_int_equal(vox_conn_execute(c, &x, id, sizeof id, 100, tc_exec_cb, &d), 0);
    assert_true(vox_conn_deadline(c) == 1100);
    vox_conn_tick(c, 1099);
    assert_int_equal(d.calls, 0);
    vox_conn_tick(c, 1100);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, VOX_ETIMEDOUT);
    assert_true(vox_conn_deadline(c) == UINT64_MAX);
    assert_int_equal(vox_conn_api(c, "uptime", NULL, 0, tc_reply_cb, &a), 0);
    /* the sendmsg's late +OK is consumed by its orphan, not by the api */
    tc_reply(c, "+OK");
    assert_int_equal(a.calls, 0);
    exec_ev(c, "CHANNEL_EXECUTE", id, 1, 1, 1);
    exec_ev(c, "CHANNEL_EXECUTE_COMPLETE", id, 1, 1, 2);
    assert_int_equal(d.calls, 1); /* forgotten */
    tc_api_response(c, "42\n");
    assert_int_equal(a.calls, 1);
    assert_string_equal(a.text, "42");
    assert_int_equal(r.close_calls, 0);
    vox_conn_free(c);
}

static void test_api_timeout_orphan(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done a = {0}, b = {0}, k = {0};
    assert_int_equal(vox_conn_api(c, "a", NULL, 50, tc_reply_cb, &a), 0); /* before a tick */
    assert_int_equal(vox_conn_api(c, "b", NULL, 0, tc_reply_cb, &b), 0);
    vox_conn_tick(c, 10);
    assert_true(vox_conn_deadline(c) == 60);
    assert_int_equal(vox_conn_api(c, "k", NULL, 20, tc_reply_cb, &k), 0);
    assert_true(vox_conn_deadline(c) == 30);
    vox_conn_tick(c, 60);
    assert_int_equal(k.status, VOX_ETIMEDOUT);
    assert_int_equal(a.status, VOX_ETIMEDOUT);
    assert_int_equal(a.calls, 1);
    tc_api_response(c, "a-out");
    assert_int_equal(b.calls, 0);
    tc_api_response(c, "b-out");
    assert_int_equal(b.calls, 1);
    assert_string_equal(b.text, "b-out");
    tc_api_response(c, "k-out");
    assert_int_equal(k.calls, 1);
    assert_int_equal(a.calls, 1);
    assert_int_equal(r.close_calls, 0);
    vox_conn_free(c);
}

static int is_uuid4(const char *s)
{
    if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return 0;
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static void test_generated_ids(void **state)
{
    tc_rec r1, r2;
    vox_conn *c1 = outbound(&r1), *c2 = outbound(&r2);
    char a[64], b[64], j[64];
    vox_execute x = {.app = "answer"};
    assert_int_equal(vox_conn_execute(c1, &x, a, sizeof a, 0, NULL, NULL), 0);
    assert_int_equal(vox_conn_execute(c2, &x, b, sizeof b, 0, NULL, NULL), 0);
    assert_true(is_uuid4(a) && is_uuid4(b));
    assert_string_not_equal(a, b);
    char *out = tc_take(c1);
    char want[128];
    snprintf(want, sizeof want, "Event-UUID: %s\n", a);
    assert_non_null(strstr(out, want));
    free(out);
    assert_int_equal(vox_conn_bgapi(c1, "status", NULL, NULL, j, sizeof j, 0, NULL, NULL), 0);
    assert_true(is_uuid4(j));
    assert_string_not_equal(a, j);
    out = tc_take(c1);
    snprintf(want, sizeof want, "bgapi status\nJob-UUID: %s\n\n", j);
    assert_string_equal(out, want);
    free(out);
    vox_conn_free(c1);
    vox_conn_free(c2);
}

static void test_inbound_execute_by_uuid(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    vox_conn *c;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_inbound_active(c);
    tc_done d = {0}, s = {0};
    vox_execute x = {.app = "playback", .uuid = "chan-1", .event_uuid = "E1"};
    vox_execute y = {.app = "park", .uuid = "chan-1", .event_uuid = "E2"};
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &s), 0);
    assert_int_equal(vox_conn_execute(c, &y, NULL, 0, 0, tc_exec_cb, &d), 0);
    tc_expect_out(c, "sendmsg chan-1\ncall-command: execute\nexecute-app-name: playback\n"
                     "Event-UUID: E1\n\nsendmsg chan-1\ncall-command: execute\n"
                     "execute-app-name: park\nEvent-UUID: E2\n\n");
    tc_reply(c, "+OK");
    tc_reply(c, "+OK");
    tc_event(c, "Event-Name: CHANNEL_EXECUTE\nUnique-ID: chan-1\nApplication-UUID: E1\n");
    tc_event(c, "Event-Name: CHANNEL_HANGUP\nUnique-ID: chan-2\n");
    assert_int_equal(d.calls, 0);
    tc_event(c, "Event-Name: CHANNEL_HANGUP\nUnique-ID: chan-1\n");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, VOX_EHANGUP);
    assert_int_equal(s.calls, 0);
    tc_event(c, "Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: chan-1\nApplication-UUID: "
                "E1\nApplication-Response: PLAYBACK%20ERROR\n");
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.text, "PLAYBACK ERROR");
    vox_conn_free(c);
}

/* ------------------------------------------------------------------ jobs */

static void test_bgapi_fixture(void **state)
{
    for (size_t k = 0; k < TC_LEN(chunks); k++) {
        vox_conn_opts o;
        tc_rec r;
        tc_opts(&o, VOX_ROLE_INBOUND, &r);
        vox_conn *c;
        assert_int_equal(vox_conn_new(&c, &o), 0);
        tc_done j[3] = {{0}}, bye = {0};
        char out[64];
        assert_int_equal(vox_conn_bgapi(c, "status", NULL, "d7323420-1f0c-4c88-91ca-2e116d49bd49",
                                        out, sizeof out, 0, tc_job_cb, &j[0]),
                         0);
        assert_string_equal(out, "d7323420-1f0c-4c88-91ca-2e116d49bd49");
        assert_int_equal(vox_conn_bgapi(c, "version", NULL, "my-own-job-uuid-1234", NULL, 0, 0,
                                        tc_job_cb, &j[1]),
                         0);
        assert_int_equal(vox_conn_bgapi(c, "foobarbaz", "arg1 arg2",
                                        "b79953ef-5b15-48e5-ac14-8ef1bce250ca", NULL, 0, 0,
                                        tc_job_cb, &j[2]),
                         0);
        vox_buf b = {0};
        assert_int_equal(vox_cmd_line(&b, "exit"), 0);
        assert_int_equal(vox_conn_command(c, &b, 0, tc_reply_cb, &bye), 0);
        vox_buf_free(&b);
        char *w;
        tc_feed_fixture(c, "inbound_12_bgapi.s2c.raw", chunks[k], &w);
        assert_non_null(strstr(w, "bgapi version\nJob-UUID: my-own-job-uuid-1234\n\n"));
        free(w);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(j[i].calls, 1);
            assert_int_equal(j[i].status, 0);
            assert_string_equal(j[i].name, "BACKGROUND_JOB");
        }
        assert_non_null(strstr(j[0].text, "is ready"));
        assert_non_null(strstr(j[1].text, "FreeSWITCH Version"));
        assert_non_null(strstr(j[2].text, "-ERR foobarbaz Command not found!"));
        assert_string_equal(bye.text, "+OK bye");
        assert_int_equal(r.nevents, 3);
        assert_int_equal(r.close_reason, 0);
        vox_conn_free(c);
    }
}

static void job_ev(vox_conn *c, const char *id, const char *body)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "Event-Name: BACKGROUND_JOB\nJob-UUID: %s\nJob-Command: x\n"
             "Content-Length: %zu\n\n%s",
             id, strlen(body), body);
    tc_event(c, buf);
}

static void test_bgapi_correlation(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    vox_conn *c;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_inbound_active(c);
    tc_done j = {0}, e = {0}, t = {0};
    assert_int_equal(vox_conn_bgapi(c, "status", NULL, "J1", NULL, 0, 0, tc_job_cb, &j), 0);
    assert_int_equal(vox_conn_bgapi(c, "nope", NULL, "J2", NULL, 0, 0, tc_job_cb, &e), 0);
    /* the reply and the job's event in one feed; a job of another client */
    char buf[2048];
    snprintf(buf, sizeof buf,
             "Content-Type: command/reply\nReply-Text: +OK Job-UUID: J1\n"
             "Job-UUID: J1\n\nContent-Type: command/reply\nReply-Text: -ERR denied\n\n");
    job_ev(c, "someone-else", "+OK other\n");
    assert_int_equal(r.nevents, 1);
    tc_feed(c, buf);
    assert_int_equal(e.calls, 1);
    assert_int_equal(e.status, VOX_EREPLY);
    assert_string_equal(e.text, "-ERR denied"); /* the refused job's reply */
    assert_int_equal(j.calls, 0);
    job_ev(c, "someone-else", "+OK other\n");
    assert_int_equal(j.calls, 0);
    assert_int_equal(r.nevents, 2); /* still delivered */
    job_ev(c, "J1", "+OK mine\n");
    assert_int_equal(j.calls, 1);
    assert_string_equal(j.text, "+OK mine\n");
    job_ev(c, "J1", "+OK again\n");
    assert_int_equal(j.calls, 1);
    /* a job that times out after its reply: its late event is ignored */
    vox_conn_tick(c, 0);
    assert_int_equal(vox_conn_bgapi(c, "slow", NULL, "J3", NULL, 0, 10, tc_job_cb, &t), 0);
    tc_reply(c, "+OK Job-UUID: J3");
    vox_conn_tick(c, 10);
    assert_int_equal(t.status, VOX_ETIMEDOUT);
    job_ev(c, "J3", "late");
    assert_int_equal(t.calls, 1);
    assert_int_equal(r.close_calls, 0);
    vox_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loops3),
        cmocka_unit_test(test_loops3_short_iteration),
        cmocka_unit_test(test_unknown_app),
        cmocka_unit_test(test_callcommand_hangup),
        cmocka_unit_test(test_caller_hangup_mid_playback),
        cmocka_unit_test(test_bridge_fail),
        cmocka_unit_test(test_pagd_and_event_uuid),
        cmocka_unit_test(test_execute_after_hangup_in_callback),
        cmocka_unit_test(test_loop_superseded),
        cmocka_unit_test(test_loop_hangup_between_iterations),
        cmocka_unit_test(test_loop_hangup_mid_iteration),
        cmocka_unit_test(test_loop_forever),
        cmocka_unit_test(test_execute_refused_and_after_hangup),
        cmocka_unit_test(test_linger_notice_ends_not_started),
        cmocka_unit_test(test_execute_after_session_end),
        cmocka_unit_test(test_exec_timeout_and_orphan),
        cmocka_unit_test(test_api_timeout_orphan),
        cmocka_unit_test(test_generated_ids),
        cmocka_unit_test(test_inbound_execute_by_uuid),
        cmocka_unit_test(test_bgapi_fixture),
        cmocka_unit_test(test_bgapi_correlation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
