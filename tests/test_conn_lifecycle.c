/* The lifecycle: the outbound latch (both orders), whole captures replayed,
 * a drop at every byte of both handshakes, close and free from inside
 * every kind of callback, half-close, requests after the end. */
#include "test_conn_util.h"

static vox_conn *outbound(tc_rec *r)
{
    vox_conn_opts o;
    tc_opts(&o, VOX_ROLE_OUTBOUND, r);
    vox_conn *c;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_outbound_active(c);
    return c;
}

static vox_conn *inbound(tc_rec *r)
{
    vox_conn_opts o;
    tc_opts(&o, VOX_ROLE_INBOUND, r);
    vox_conn *c;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_inbound_active(c);
    return c;
}

/* --------------------------------------------------------------- latch */

static void test_latch_complete_then_notice(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done a = {0};
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &a), 0);
    tc_chan_event(c, "CHANNEL_HANGUP_COMPLETE", NULL);
    assert_int_equal(vox_conn_hungup(c), 1);
    tc_chan_event(c, "CHANNEL_STATE", NULL);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
    /* another channel's HANGUP_COMPLETE is not ours */
    /* the notice ends reading: the event after it in the same bytes is not delivered */
    char buf[4096];
    snprintf(buf, sizeof buf,
             "Content-Type: text/disconnect-notice\nController-Session-UUID: x\n"
             "Controlled-Session-UUID: %s\nContent-Disposition: linger\nContent-Length: 0\n\n"
             "Content-Length: 25\nContent-Type: text/event-plain\n\nEvent-Name: HEARTBEAT\n\n\n",
             TC_UUID);
    assert_int_equal(tc_feed(c, buf), 0);
    assert_int_equal(r.nevents, 2);
    assert_string_equal(r.events[1], "CHANNEL_STATE");
    assert_int_equal(r.close_calls, 1);
    assert_int_equal(r.close_reason, 0);
    assert_int_equal(r.state_at_close, VOX_STATE_DRAINING);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_CLOSED);
    assert_int_equal(vox_conn_wants(c), VOX_WANT_CLOSE);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, VOX_ECLOSED);
    vox_conn_free(c);
    assert_int_equal(r.close_calls, 1);
}

static void test_latch_notice_then_complete(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_chan_event(c, "CHANNEL_HANGUP", NULL);
    tc_linger_notice(c);
    assert_int_equal(r.nnotices, 1);
    tc_chan_event(c, "CHANNEL_EXECUTE_COMPLETE", "Application: socket\n");
    tc_event(c, "Event-Name: CHANNEL_HANGUP_COMPLETE\nUnique-ID: another\n");
    tc_chan_event(c, "CHANNEL_STATE", NULL);
    assert_int_equal(r.close_calls, 0);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
    tc_chan_event(c, "CHANNEL_HANGUP_COMPLETE", NULL);
    assert_int_equal(r.nevents, 5); /* HANGUP_COMPLETE itself delivered */
    assert_string_equal(r.events[4], "CHANNEL_HANGUP_COMPLETE");
    assert_int_equal(r.close_calls, 1);
    assert_int_equal(r.close_reason, 0);
    assert_int_equal(tc_chan_event(c, "CHANNEL_STATE", NULL), 0); /* ignored */
    assert_int_equal(r.nevents, 5);
    vox_conn_free(c);
}

static void test_inbound_has_no_latch(void **state)
{
    tc_rec r;
    vox_conn *c = inbound(&r);
    tc_event(c, "Event-Name: CHANNEL_HANGUP_COMPLETE\nUnique-ID: a\n");
    tc_linger_notice(c);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
    vox_conn_eof(c);
    assert_int_equal(r.close_reason, 0); /* a notice announced it */
    vox_conn_free(c);
}

typedef struct lexpect {
    const char *fixture;
    int status[8];
} lexpect;

static void test_replay_lifecycle_fixtures(void **state)
{
    static const size_t chunks[] = {1, 9, 700, 1 << 20};
    const lexpect t[] = {
        /* latch, then the exit's +OK bye is never read */
        {"outbound_9101_linger_forever_then_exit", {0, 0, 0, 0, VOX_ECLOSED, 99}},
        {"outbound_9101_myevents_json_linger2", {0, 0, 0, 0, 99}},
        /* no linger: EOF after the disconnect notice */
        {"outbound_9101_nolinger", {0, 0, 0, 0, 99}},
        {"outbound_9104_resume_then_exit", {0, 0, 0, 0, 99}},
        {"outbound_myevents_linger_no_answer_exit_early", {0, 99}},
        {"outbound_myevents_linger_no_answer_exit_early_channel_stuck", {0, 99}},
        {"outbound_myevents_linger_no_answer_exit_after_park", {0, 99}},
    };
    for (size_t i = 0; i < TC_LEN(t); i++) {
        for (size_t k = 0; k < TC_LEN(chunks); k++) {
            tc_replay rp;
            tc_replay_run(&rp, t[i].fixture, chunks[k]);
            for (int j = 0; t[i].status[j] != 99; j++)
                assert_int_equal(rp.d[rp.first + j].status, t[i].status[j]);
            assert_int_equal(rp.r.close_reason, 0);
            assert_true(rp.r.nevents > 0 || strstr(t[i].fixture, "exit_early"));
            tc_replay_free(&rp);
        }
    }
}

static void test_json_latch(void **state)
{
    tc_replay rp;
    tc_replay_run(&rp, "outbound_9101_myevents_json_linger2", 64);
    assert_string_equal(rp.r.events[rp.r.nevents - 1], "CHANNEL_HANGUP_COMPLETE");
    assert_int_equal(rp.r.nnotices, 1); /* the linger notice; the final one was not read */
    tc_replay_free(&rp);
}

/* ------------------------------------------------- drop at every byte */

static int g_seq[16], g_nseq;
static void seq_reply(vox_conn *c, int status, const vox_msg *m, void *ud)
{
    tc_reply_cb(c, status, m, ud);
    g_seq[g_nseq++] = ((tc_done *)ud)->loop;
}
static void seq_exec(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    long id = ((tc_done *)ud)->loop;
    tc_exec_cb(c, status, ev, ud);
    g_seq[g_nseq++] = id;
}
static void seq_job(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    long id = ((tc_done *)ud)->loop;
    tc_job_cb(c, status, ev, ud);
    g_seq[g_nseq++] = id;
}

static void queue_three(vox_conn *c, tc_done d[3], const char *uuid)
{
    for (int i = 0; i < 3; i++)
        d[i] = (tc_done){.loop = i};
    vox_execute x = {.app = "answer", .uuid = uuid};
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, seq_reply, &d[0]), 0);
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, seq_exec, &d[1]), 0);
    assert_int_equal(vox_conn_bgapi(c, "status", NULL, NULL, NULL, 0, 0, seq_job, &d[2]), 0);
}

static void drop_at_every_byte(vox_role role, const char *script)
{
    size_t len = strlen(script);
    for (size_t k = 0; k <= len; k++) {
        vox_conn_opts o;
        tc_rec r;
        tc_opts(&o, role, &r);
        vox_conn *c;
        assert_int_equal(vox_conn_new(&c, &o), 0);
        tc_done d[3];
        queue_three(c, d, role == VOX_ROLE_INBOUND ? "chan" : NULL);
        g_nseq = 0;
        assert_int_equal(vox_conn_feed(c, script, k), 0);
        vox_conn_eof(c);
        assert_int_equal(r.ready_calls, 1);
        assert_int_equal(r.ready_status, k == len ? 0 : VOX_ECLOSED);
        assert_int_equal(r.close_calls, 1);
        assert_int_equal(r.close_reason, VOX_ECLOSED);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(d[i].calls, 1);
            assert_int_equal(d[i].status, VOX_ECLOSED);
            assert_int_equal(g_seq[i], i); /* in FIFO order */
        }
        vox_conn_free(c);
        assert_int_equal(r.close_calls, 1);
        assert_int_equal(tu_live(), 0);
    }
}

static void test_drop_inbound_handshake(void **state)
{
    drop_at_every_byte(VOX_ROLE_INBOUND,
                       TC_AUTHREQ "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
                                  "Content-Type: command/reply\nReply-Text: +OK event listener "
                                  "enabled plain\n\n");
}

static void test_drop_outbound_handshake(void **state)
{
    drop_at_every_byte(VOX_ROLE_OUTBOUND,
                       "Event-Name: CHANNEL_DATA\nUnique-ID: " TC_UUID "\nContent-Type: "
                       "command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: "
                       "full\n\nContent-Type: command/reply\nReply-Text: +OK Events Enabled\n\n"
                       "Content-Type: command/reply\nReply-Text: +OK will linger\n\n");
}

/* ------------------------------------------ close/free inside callbacks */

static void test_close_free_in_on_ready(void **state)
{
    for (int act = 1; act <= 2; act++) {
        vox_conn_opts o;
        tc_rec r;
        tc_opts(&o, VOX_ROLE_INBOUND, &r);
        o.no_background_job = 1;
        vox_conn *c;
        assert_int_equal(vox_conn_new(&c, &o), 0);
        r.act_on_ready = act;
        r.self = &c;
        tc_done d = {0};
        assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d), 0);
        assert_int_equal(tc_feed(c, TC_AUTHREQ), 0);
        /* the +OK and an event after it, in one feed */
        assert_int_equal(tc_feed(c, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
                                    "Content-Length: 23\nContent-Type: text/event-plain\n\n"
                                    "Event-Name: HEARTBEAT\n\n"),
                         0);
        assert_int_equal(r.ready_calls, 1);
        assert_int_equal(r.ready_status, 0);
        assert_int_equal(r.close_calls, 1);
        assert_int_equal(r.nevents, 0);
        assert_int_equal(d.calls, 1);
        assert_int_equal(d.status, VOX_ECLOSED);
        if (act == 1) {
            assert_int_equal(r.close_reason, 0);
            vox_conn_free(c);
        } else {
            assert_null(c);
            assert_int_equal(r.close_reason, VOX_ECLOSED);
        }
        assert_int_equal(tu_live(), 0);
    }
}

typedef struct hook_ctl {
    int act, calls;
    vox_conn **self;
} hook_ctl;

static void acting_hook(vox_conn *c, const vox_event *ev, void *ud)
{
    hook_ctl *h = ud;
    h->calls++;
    if (h->act == 1)
        vox_conn_close(c, 0);
    else if (h->act == 2) {
        vox_conn_free(c);
        *h->self = NULL;
    }
}

static const char two_events[] = "Content-Length: 23\nContent-Type: text/event-plain\n\n"
                                 "Event-Name: HEARTBEAT\n\n"
                                 "Content-Length: 23\nContent-Type: text/event-plain\n\n"
                                 "Event-Name: HEARTBEAT\n\n";

static void test_close_free_in_hook(void **state)
{
    for (int act = 1; act <= 2; act++) {
        tc_rec r;
        vox_conn *c = inbound(&r);
        hook_ctl h = {act, 0, &c}, after = {0, 0, &c};
        assert_int_equal(vox_conn_hook(c, "HEARTBEAT", acting_hook, &h), 0);
        assert_int_equal(vox_conn_hook(c, NULL, acting_hook, &after), 0);
        tc_done d = {0};
        assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d), 0);
        assert_int_equal(tc_feed(c, two_events), 0);
        assert_int_equal(h.calls, 1);
        assert_int_equal(after.calls, 0); /* no hook after the close */
        assert_int_equal(r.nevents, 0);   /* nor on_event */
        assert_int_equal(d.status, VOX_ECLOSED);
        assert_int_equal(r.close_calls, 1);
        if (act == 1)
            vox_conn_free(c);
        assert_int_equal(tu_live(), 0);
    }
}

static void test_close_free_in_on_event_log_notice(void **state)
{
    for (int act = 1; act <= 2; act++) {
        for (int kind = 0; kind < 3; kind++) {
            tc_rec r;
            vox_conn *c = inbound(&r);
            r.self = &c;
            const char *bytes = two_events;
            if (kind == 0)
                r.act_on_event = act;
            if (kind == 1) {
                r.act_on_log = act;
                bytes = "Content-Type: log/data\nContent-Length: 2\n\nA\n"
                        "Content-Type: log/data\nContent-Length: 2\n\nB\n";
            }
            if (kind == 2) {
                r.act_on_notice = act;
                bytes = "Content-Type: text/disconnect-notice\nContent-Length: 0\n\n"
                        "Content-Length: 23\nContent-Type: text/event-plain\n\n"
                        "Event-Name: HEARTBEAT\n\n";
            }
            assert_int_equal(tc_feed(c, bytes), 0);
            assert_int_equal(r.nevents + r.nlogs + r.nnotices, 1);
            assert_int_equal(r.close_calls, 1);
            if (act == 1)
                vox_conn_free(c);
            else
                assert_null(c);
            assert_int_equal(tu_live(), 0);
        }
    }
}

typedef struct cb_ctl {
    int act, calls, status, later;
    vox_conn **self;
} cb_ctl;

static void cb_act(vox_conn *c, cb_ctl *k, int status)
{
    k->calls++;
    k->status = status;
    if (k->act == 1)
        vox_conn_close(c, 0);
    else if (k->act == 2) {
        vox_conn_free(c);
        *k->self = NULL;
    } else if (k->act == 3) {
        k->later = vox_conn_api(c, "x", NULL, 0, NULL, NULL);
    }
}
static void act_reply(vox_conn *c, int s, const vox_msg *m, void *ud)
{
    cb_act(c, ud, s);
}
static void act_exec(vox_conn *c, int s, const vox_event *e, void *ud)
{
    cb_act(c, ud, s);
}
static void act_job(vox_conn *c, int s, const vox_event *e, void *ud)
{
    cb_act(c, ud, s);
}

static void test_close_free_in_completions(void **state)
{
    for (int act = 1; act <= 2; act++) {
        for (int kind = 0; kind < 3; kind++) {
            tc_rec r;
            vox_conn *c = outbound(&r);
            cb_ctl k = {act, 0, 0, 0, &c}, other = {0, 0, 0, 0, &c};
            vox_execute x = {.app = "answer", .event_uuid = "E"};
            if (kind == 0)
                assert_int_equal(vox_conn_api(c, "a", NULL, 0, act_reply, &k), 0);
            if (kind == 1)
                assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, act_exec, &k), 0);
            if (kind == 2)
                assert_int_equal(vox_conn_bgapi(c, "a", NULL, "J", NULL, 0, 0, act_job, &k), 0);
            assert_int_equal(vox_conn_api(c, "b", NULL, 0, act_reply, &other), 0);
            char buf[2048];
            const char *tail = kind == 0 ? ""
                               : kind == 1
                                   ? "Content-Length: 81\nContent-Type: text/event-plain\n\n"
                                     "Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: x\n"
                                     "Application-UUID: E\n\n"
                                   : "Content-Length: 43\nContent-Type: text/event-plain\n\n"
                                     "Event-Name: BACKGROUND_JOB\nJob-UUID: J\n\n";
            snprintf(buf, sizeof buf,
                     "Content-Type: command/reply\nReply-Text: +OK\n\n%s"
                     "Content-Type: command/reply\nReply-Text: +OK\n\n",
                     tail);
            assert_int_equal(tc_feed(c, buf), 0);
            assert_int_equal(k.calls, 1);
            assert_int_equal(k.status, 0);
            assert_int_equal(other.calls, 1);
            assert_int_equal(other.status, VOX_ECLOSED); /* its reply was not read */
            assert_int_equal(r.close_calls, 1);
            if (act == 1)
                vox_conn_free(c);
            else
                assert_null(c);
            assert_int_equal(tu_live(), 0);
        }
    }
}

static void free_on_close(vox_conn *c, int reason, void *ud)
{
    tc_on_close(c, reason, ud);
    vox_conn_free(c);
    vox_conn_free(c); /* still deferred: harmless */
}

static void test_free_in_on_close_and_ecl_completion(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    o.on_close = free_on_close;
    vox_conn *c;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_inbound_active(c);
    vox_conn *self = c;
    cb_ctl k = {3, 0, 0, 0, &self}, f = {2, 0, 0, 0, &self};
    assert_int_equal(vox_conn_api(c, "a", NULL, 0, act_reply, &k), 0);
    assert_int_equal(vox_conn_api(c, "b", NULL, 0, act_reply, &f), 0);
    vox_conn_eof(c); /* frees c: on_close's free, deferred to here */
    assert_int_equal(k.status, VOX_ECLOSED);
    assert_int_equal(k.later, VOX_ECLOSED); /* a request from a completion */
    assert_int_equal(f.calls, 1);
    assert_int_equal(r.close_calls, 1);
    assert_int_equal(r.close_reason, VOX_ECLOSED);
    assert_int_equal(tu_live(), 0);
}

/* ------------------------------------------------ disconnect and after */

static void test_disconnect_half_close(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    tc_done a = {0}, late = {0};
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &a), 0);
    assert_int_equal(vox_conn_disconnect(c), 0);
    assert_int_equal(vox_conn_wants(c), VOX_WANT_READ | VOX_WANT_WRITE);
    tc_expect_out(c, "api status\n\n");
    assert_int_equal(vox_conn_wants(c), VOX_WANT_READ | VOX_WANT_SHUTDOWN);
    assert_int_equal(vox_conn_api(c, "x", NULL, 0, tc_reply_cb, &late), VOX_ECLOSED);
    assert_int_equal(vox_conn_disconnect(c), VOX_ECLOSED);
    tc_api_response(c, "UP\n");
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, 0);
    tc_chan_event(c, "CHANNEL_HANGUP", NULL);
    assert_int_equal(r.nevents, 1);
    vox_conn_eof(c);
    assert_int_equal(r.close_reason, 0);
    assert_int_equal(late.calls, 0);
    vox_conn_free(c);
}

static void test_requests_after_close(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    vox_conn_close(c, 0);
    vox_conn_close(c, VOX_EPROTO); /* idempotent */
    assert_int_equal(r.close_calls, 1);
    assert_int_equal(vox_conn_error(c), 0);
    assert_string_equal(vox_conn_error_text(c), "");
    tc_done d = {0};
    vox_execute x = {.app = "answer"};
    vox_buf b = {0};
    vox_cmd_line(&b, "exit");
    assert_int_equal(vox_conn_api(c, "s", NULL, 0, tc_reply_cb, &d), VOX_ECLOSED);
    assert_int_equal(vox_conn_command(c, &b, 0, tc_reply_cb, &d), VOX_ECLOSED);
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &d), VOX_ECLOSED);
    assert_int_equal(vox_conn_bgapi(c, "s", NULL, NULL, NULL, 0, 0, tc_job_cb, &d), VOX_ECLOSED);
    assert_int_equal(vox_conn_disconnect(c), VOX_ECLOSED);
    vox_buf_free(&b);
    assert_int_equal(tc_reply(c, "+OK"), 0);
    vox_conn_eof(c);
    vox_conn_abort(c, VOX_ESYS);
    vox_conn_tick(c, 5);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_CLOSED);
    assert_int_equal(vox_conn_wants(c), VOX_WANT_CLOSE);
    size_t n = 1;
    assert_null(vox_conn_output(c, &n));
    assert_int_equal(n, 0);
    assert_true(vox_conn_deadline(c) == UINT64_MAX);
    assert_int_equal(r.close_calls, 1);
    assert_int_equal(d.calls, 0);
    vox_conn_free(c);
}

static int g_states[8], g_nstates;
static void state_reply(vox_conn *c, int status, const vox_msg *m, void *ud)
{
    g_states[g_nstates++] = vox_conn_get_state(c);
}

static void test_end_order_and_reasons(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    g_nstates = 0;
    assert_int_equal(vox_conn_api(c, "a", NULL, 0, state_reply, NULL), 0);
    vox_conn_abort(c, VOX_ESYS);
    assert_int_equal(g_nstates, 1);
    assert_int_equal(g_states[0], VOX_STATE_DRAINING);
    assert_int_equal(r.close_reason, VOX_ESYS);
    assert_int_equal(vox_conn_error(c), VOX_ESYS);
    vox_conn_free(c);

    c = outbound(&r); /* EOF without anything announcing it */
    vox_conn_eof(c);
    assert_int_equal(r.close_reason, VOX_ECLOSED);
    vox_conn_free(c);

    c = outbound(&r); /* EOF after the hangup */
    tc_chan_event(c, "CHANNEL_HANGUP", NULL);
    vox_conn_eof(c);
    assert_int_equal(r.close_reason, 0);
    vox_conn_free(c);

    c = outbound(&r); /* EOF in the middle of a message */
    tc_feed(c, "Content-Type: comm");
    vox_conn_eof(c);
    assert_int_equal(r.close_reason, VOX_ECLOSED);
    assert_non_null(strstr(vox_conn_error_text(c), "middle"));
    vox_conn_free(c);
}

static void test_deadline_earliest(void **state)
{
    tc_rec r;
    vox_conn *c = outbound(&r);
    vox_conn_tick(c, 100);
    assert_true(vox_conn_deadline(c) == UINT64_MAX);
    vox_execute x = {.app = "answer"};
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 900, NULL, NULL), 0);
    assert_int_equal(vox_conn_bgapi(c, "s", NULL, NULL, NULL, 0, 300, NULL, NULL), 0);
    assert_int_equal(vox_conn_api(c, "s", NULL, 500, NULL, NULL), 0);
    assert_true(vox_conn_deadline(c) == 400);
    vox_conn_tick(c, 450);
    assert_true(vox_conn_deadline(c) == 600);
    vox_conn_tick(c, 2000);
    assert_true(vox_conn_deadline(c) == UINT64_MAX);
    assert_int_equal(r.close_calls, 0);
    vox_conn_free(c);
}

int main(void)
{
    tu_alloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latch_complete_then_notice),
        cmocka_unit_test(test_latch_notice_then_complete),
        cmocka_unit_test(test_inbound_has_no_latch),
        cmocka_unit_test(test_replay_lifecycle_fixtures),
        cmocka_unit_test(test_json_latch),
        cmocka_unit_test(test_drop_inbound_handshake),
        cmocka_unit_test(test_drop_outbound_handshake),
        cmocka_unit_test(test_close_free_in_on_ready),
        cmocka_unit_test(test_close_free_in_hook),
        cmocka_unit_test(test_close_free_in_on_event_log_notice),
        cmocka_unit_test(test_close_free_in_completions),
        cmocka_unit_test(test_free_in_on_close_and_ecl_completion),
        cmocka_unit_test(test_disconnect_half_close),
        cmocka_unit_test(test_requests_after_close),
        cmocka_unit_test(test_end_order_and_reasons),
        cmocka_unit_test(test_deadline_earliest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
