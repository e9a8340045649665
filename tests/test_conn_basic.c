/* The connection engine: both handshakes against the bytes a real client
 * sent (fixtures), their failures, reply matching, pipelining, hooks. */
#include "test_conn_util.h"

static vox_conn *new_conn(vox_conn_opts *o)
{
    vox_conn *c = NULL;
    assert_int_equal(vox_conn_new(&c, o), 0);
    return c;
}

/* The first n_cmds commands of a c2s fixture. */
static char *c2s_prefix(const char *name, int n_cmds)
{
    tc_cmds s;
    tc_split(&s, name);
    size_t len = 0;
    for (int i = 0; i < n_cmds && i < s.n; i++)
        len += s.len[i];
    char *p = malloc(len + 1);
    memcpy(p, s.buf, len);
    p[len] = '\0';
    free(s.buf);
    return p;
}

/* Drives an inbound handshake with +OK replies and checks the bytes. */
static void inbound_hs(vox_conn_opts *o, const char *fixture, int ncmds)
{
    tc_rec *r = o->userdata;
    vox_conn *c = new_conn(o);
    char *want = c2s_prefix(fixture, ncmds);
    size_t n;
    assert_null(vox_conn_output(c, &n));
    assert_int_equal(tc_feed(c, TC_AUTHREQ), 0);
    char *got = tc_take(c);
    assert_int_equal(tc_reply(c, "+OK accepted"), 0);
    char *rest = tc_take(c);
    size_t gl = strlen(got);
    got = realloc(got, gl + strlen(rest) + 1);
    memcpy(got + gl, rest, strlen(rest) + 1);
    assert_string_equal(got, want);
    for (int i = 1; i < ncmds; i++) {
        assert_int_equal(r->ready_calls, 0);
        assert_int_equal(tc_reply(c, "+OK"), 0);
    }
    assert_int_equal(r->ready_calls, 1);
    assert_int_equal(r->ready_status, 0);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
    free(got);
    free(rest);
    free(want);
    vox_conn_free(c);
    assert_int_equal(r->close_calls, 1);
    assert_int_equal(r->close_reason, VOX_ECLOSED);
}

static void test_inbound_handshakes(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    inbound_hs(&o, "inbound_12_bgapi.c2s.raw", 2); /* event plain BACKGROUND_JOB */
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    o.events = "ALL"; /* ALL brings BACKGROUND_JOB */
    inbound_hs(&o, "inbound_04_event_plain_ALL_with_call.c2s.raw", 2);
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    o.events = "CHANNEL_CREATE";
    o.format = VOX_FMT_JSON;
    o.no_background_job = 1;
    inbound_hs(&o, "inbound_05_event_json_CHANNEL_CREATE.c2s.raw", 2);
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    const vox_header f[] = {{"Event-Name", "HEARTBEAT"}, {"Event-Name", "CHANNEL_CREATE"}};
    o.events = "ALL";
    o.filters = f;
    o.nfilters = 2;
    o.no_background_job = 1;
    inbound_hs(&o, "inbound_07_filter.c2s.raw", 4);
}

static void test_inbound_userauth_no_subscription(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    o.password = "1000@127.0.0.1:secret1000";
    o.no_background_job = 1;
    vox_conn *c = new_conn(&o);
    char *want = c2s_prefix("inbound_27_userauth.c2s.raw", 1);
    tc_feed(c, TC_AUTHREQ);
    tc_expect_out(c, want);
    free(want);
    tc_feed(c, "Content-Type: command/reply\nReply-Text: +OK accepted\nAllowed-Events: all\n"
               "Allowed-API: all\nAllowed-LOG: true\n\n");
    assert_int_equal(r.ready_calls, 1);
    assert_int_equal(r.ready_status, 0);
    tc_expect_out(c, "");
    /* a command the user may not use: command/reply instead of api/response */
    tc_done d = {0};
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d), 0);
    tc_expect_out(c, "api status\n\n");
    tc_reply(c, "-ERR permission denied");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, VOX_EREPLY);
    assert_string_equal(d.text, "-ERR permission denied");
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
    vox_conn_free(c);
}

static void test_inbound_filters_custom_bgjob(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    const vox_header f[] = {{"Unique-ID", "abc"}};
    o.events = "CHANNEL_ANSWER CUSTOM sofia::register";
    o.filters = f;
    o.nfilters = 1;
    vox_conn *c = new_conn(&o);
    tc_feed(c, TC_AUTHREQ);
    tc_reply(c, "+OK accepted");
    tc_expect_out(c, "auth ClueCon\n\nevent plain BACKGROUND_JOB CHANNEL_ANSWER CUSTOM "
                     "sofia::register\n\nfilter Unique-ID abc\n\nfilter Event-Name "
                     "BACKGROUND_JOB\n\n");
    tc_reply(c, "+OK event listener enabled plain");
    tc_reply(c, "+OK filter added. [Unique-ID]=[abc]");
    assert_int_equal(r.ready_calls, 0);
    tc_reply(c, "+OK filter added. [Event-Name]=[BACKGROUND_JOB]");
    assert_int_equal(r.ready_calls, 1);
    vox_conn_free(c);
}

static void test_inbound_subscription_refused(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    const vox_header f[] = {{"Unique-ID", "abc"}};
    o.filters = f;
    o.nfilters = 1;
    vox_conn *c = new_conn(&o);
    tc_done d = {0};
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d), 0);
    tc_feed(c, TC_AUTHREQ);
    tc_reply(c, "+OK accepted");
    tc_drain(c);
    /* the second reply is an -ERR: the rest (pipelined) is never read */
    assert_int_equal(tc_feed(c, "Content-Type: command/reply\nReply-Text: +OK event listener "
                                "enabled plain\n\nContent-Type: command/reply\nReply-Text: -ERR "
                                "invalid syntax\n\nContent-Type: command/reply\nReply-Text: "
                                "+OK\n\n"),
                     0);
    assert_int_equal(r.ready_calls, 1);
    assert_int_equal(r.ready_status, VOX_EREPLY);
    assert_int_equal(r.close_calls, 1);
    assert_int_equal(r.close_reason, VOX_EREPLY);
    assert_non_null(strstr(vox_conn_error_text(c), "-ERR invalid syntax"));
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, VOX_ECLOSED);
    assert_true(vox_conn_wants(c) & VOX_WANT_CLOSE);
    vox_conn_free(c);
    assert_int_equal(r.close_calls, 1);
}

static void test_auth_rejected(void **state)
{
    const char *names[] = {"inbound_02_auth_wrong_password", "inbound_28_userauth_wrong_password"};
    const char *pw[] = {"WrongPassword", "1000@127.0.0.1:wrong"};
    for (int i = 0; i < 2; i++) {
        vox_conn_opts o;
        tc_rec r;
        tc_opts(&o, VOX_ROLE_INBOUND, &r);
        o.password = pw[i];
        vox_conn *c = new_conn(&o);
        char fx[128], *w;
        snprintf(fx, sizeof fx, "%s.s2c.raw", names[i]);
        tc_feed_fixture(c, fx, 7, &w);
        free(w);
        assert_int_equal(r.ready_calls, 1);
        assert_int_equal(r.ready_status, VOX_EAUTH);
        assert_int_equal(r.close_calls, 1);
        assert_int_equal(r.close_reason, VOX_EAUTH);
        assert_int_equal(vox_conn_error(c), VOX_EAUTH);
        assert_non_null(strstr(vox_conn_error_text(c), "-ERR invalid"));
        assert_int_equal(r.nnotices, 0); /* reading ended at the -ERR */
        vox_conn_free(c);
    }
}

static void test_rude_rejection(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    vox_conn *c = new_conn(&o);
    char *w;
    tc_feed_fixture(c, "inbound_24_acl_rude_rejection.s2c.raw", 5, &w);
    assert_string_equal(w, "");
    free(w);
    assert_int_equal(r.ready_calls, 1);
    assert_int_equal(r.ready_status, VOX_EACCESS);
    assert_int_equal(r.close_reason, VOX_EACCESS);
    assert_non_null(strstr(vox_conn_error_text(c), "Access Denied"));
    vox_conn_free(c);
    assert_int_equal(r.close_calls, 1);
}

/* inbound_21: every request made before the handshake, written after it,
 * pipelined; the replies come back in order. */
static void test_pipelined_fixture(void **state)
{
    static const size_t chunks[] = {1, 3, 64, 100000};
    for (size_t k = 0; k < 4; k++) {
        vox_conn_opts o;
        tc_rec r;
        tc_opts(&o, VOX_ROLE_INBOUND, &r);
        o.no_background_job = 1;
        vox_conn *c = new_conn(&o);
        tc_cmds s;
        tc_split(&s, "inbound_21_pipelined_commands.c2s.raw");
        tc_done d[TC_MAX] = {{0}};
        assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d[1]), 0);
        assert_int_equal(vox_conn_api(c, "version", NULL, 0, tc_reply_cb, &d[2]), 0);
        assert_int_equal(vox_conn_api(c, "uptime", NULL, 0, tc_reply_cb, &d[3]), 0);
        for (int i = 4; i < s.n; i++)
            assert_int_equal(tc_issue(c, &s, i, &d[i]), 0);
        char *w;
        size_t n;
        assert_null(vox_conn_output(c, &n)); /* nothing before auth/request */
        tc_feed_fixture(c, "inbound_21_pipelined_commands.s2c.raw", chunks[k], &w);
        assert_string_equal(w, s.buf);
        assert_int_equal(d[1].status, 0);
        assert_non_null(strstr(d[1].text, "is ready"));
        assert_non_null(strstr(d[2].text, "FreeSWITCH Version"));
        assert_string_equal(d[3].text, "77");
        assert_string_equal(d[4].text, "+OK event listener enabled plain");
        assert_string_equal(d[5].text, "+OK no longer listening for events");
        assert_string_equal(d[6].text, "+OK bye");
        for (int i = 1; i < s.n; i++)
            assert_int_equal(d[i].calls, 1);
        assert_int_equal(r.nnotices, 1);
        assert_int_equal(r.close_calls, 1);
        assert_int_equal(r.close_reason, 0); /* EOF after +OK bye is expected */
        free(w);
        free(s.buf);
        vox_conn_free(c);
    }
}

static void test_api_errors_fixture(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    o.no_background_job = 1;
    vox_conn *c = new_conn(&o);
    tc_cmds s;
    tc_split(&s, "inbound_10_api_errors.c2s.raw");
    tc_done d[TC_MAX] = {{0}};
    for (int i = 1; i < s.n; i++)
        assert_int_equal(tc_issue(c, &s, i, &d[i]), 0);
    char *w;
    tc_feed_fixture(c, "inbound_10_api_errors.s2c.raw", 11, &w);
    assert_string_equal(w, s.buf);
    /* api errors are api/response bodies: VOX_EREPLY each, the session goes on */
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(d[i].calls, 1);
        assert_int_equal(d[i].status, VOX_EREPLY);
    }
    assert_non_null(strstr(d[1].text, "-ERR foobarbaz Command not found!"));
    assert_non_null(strstr(d[4].text, "-USAGE"));
    assert_int_equal(d[5].status, 0);
    assert_int_equal(r.close_reason, 0);
    free(w);
    free(s.buf);
    vox_conn_free(c);
}

static void test_outbound_handshakes(void **state)
{
    struct {
        const char *fx;
        int linger, no_linger;
        vox_format fmt;
        int ncmds;
    } t[] = {
        {"outbound_loops3.c2s.raw", 0, 0, VOX_FMT_PLAIN, 3},
        {"outbound_9100_preanswered_event_uuid_linger2.c2s.raw", 2, 0, VOX_FMT_PLAIN, 3},
        {"outbound_9101_myevents_json_linger2.c2s.raw", 2, 0, VOX_FMT_JSON, 3},
        {"outbound_9101_nolinger.c2s.raw", 0, 1, VOX_FMT_PLAIN, 2},
    };
    for (size_t i = 0; i < TC_LEN(t); i++) {
        vox_conn_opts o;
        tc_rec r;
        tc_opts(&o, VOX_ROLE_OUTBOUND, &r);
        o.linger_seconds = t[i].linger;
        o.no_linger = t[i].no_linger;
        o.format = t[i].fmt;
        vox_conn *c = new_conn(&o);
        char *want = c2s_prefix(t[i].fx, t[i].ncmds);
        assert_null(vox_conn_uuid(c));
        assert_null(vox_conn_channel_data(c));
        char *a = tc_take(c);
        tc_connect_reply(c, "full", "async");
        char *b = tc_take(c);
        size_t al = strlen(a);
        a = realloc(a, al + strlen(b) + 1);
        memcpy(a + al, b, strlen(b) + 1);
        assert_string_equal(a, want);
        assert_string_equal(vox_conn_uuid(c), TC_UUID);
        const vox_event *cd = vox_conn_channel_data(c);
        assert_non_null(cd);
        assert_string_equal(vox_event_get(cd, "Caller-Caller-ID-Number"), "1000");
        for (int k = 1; k < t[i].ncmds; k++) {
            assert_int_equal(r.ready_calls, 0);
            tc_reply(c, "+OK");
        }
        assert_int_equal(r.ready_calls, 1);
        assert_int_equal(r.ready_status, 0);
        free(a);
        free(b);
        free(want);
        vox_conn_free(c);
    }
}

static void test_outbound_not_full_not_async(void **state)
{
    for (int i = 0; i < 2; i++) {
        vox_conn_opts o;
        tc_rec r;
        tc_opts(&o, VOX_ROLE_OUTBOUND, &r);
        vox_conn *c = new_conn(&o);
        tc_done d = {0};
        assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d), 0);
        tc_expect_out(c, "connect\n\n");
        tc_connect_reply(c, i ? "full" : "single-channel", i ? "static" : "async");
        assert_int_equal(r.ready_calls, 1);
        assert_int_equal(r.ready_status, i ? VOX_ENOTASYNC : VOX_ENOTFULL);
        assert_int_equal(r.close_reason, r.ready_status);
        assert_non_null(strstr(vox_conn_error_text(c), "async full"));
        assert_int_equal(d.status, VOX_ECLOSED);
        assert_int_equal(vox_conn_wants(c), VOX_WANT_CLOSE);
        vox_conn_free(c);
    }
}

/* The no_full capture with allow_single_channel: no linger is sent (it
 * would be refused); the user's own commands get their -ERRs. */
static void test_outbound_no_full_allowed(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_OUTBOUND, &r);
    o.allow_single_channel = 1;
    vox_conn *c = new_conn(&o);
    tc_cmds s;
    tc_split(&s, "outbound_no_full.c2s.raw");
    tc_done d[TC_MAX] = {{0}};
    for (int i = 2; i < s.n; i++) /* linger, as a user command, onwards */
        assert_int_equal(tc_issue(c, &s, i, &d[i]), 0);
    char *w;
    tc_feed_fixture(c, "outbound_no_full.s2c.raw", 97, &w);
    assert_string_equal(w, s.buf);
    assert_int_equal(r.ready_status, 0);
    for (int i = 2; i <= 5; i++) /* linger, event, api, bgapi */
        assert_int_equal(d[i].status, VOX_EREPLY);
    assert_int_equal(d[6].status, 0); /* getvar: the bare value */
    assert_string_equal(d[7].name, "CHANNEL_EXECUTE_COMPLETE");
    assert_int_equal(d[7].status, 0);
    assert_int_equal(d[8].status, 0);
    assert_int_equal(r.nnotices, 1);
    assert_int_equal(r.close_reason, 0); /* disconnect notice, then EOF */
    free(w);
    free(s.buf);
    vox_conn_free(c);
}

static void test_outbound_setup_refused(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_OUTBOUND, &r);
    vox_conn *c = new_conn(&o);
    tc_drain(c);
    tc_connect_reply(c, "full", "async");
    tc_reply(c, "+OK Events Enabled");
    tc_reply(c, "-ERR command not found");
    assert_int_equal(r.ready_status, VOX_EREPLY);
    assert_int_equal(r.close_reason, VOX_EREPLY);
    vox_conn_free(c);
}

static void test_held_until_ready(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_OUTBOUND, &r);
    vox_conn *c = new_conn(&o);
    tc_done d = {0};
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d), 0);
    tc_expect_out(c, "connect\n\n");
    tc_connect_reply(c, "full", "async");
    tc_expect_out(c, "myevents\n\nlinger\n\n");
    tc_reply(c, "+OK Events Enabled");
    tc_expect_out(c, "");
    tc_reply(c, "+OK will linger");
    tc_expect_out(c, "api status\n\n");
    tc_api_response(c, "UP\n");
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, 0);
    vox_conn_free(c);
}

static void test_reply_without_request(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    vox_conn *c = new_conn(&o);
    tc_inbound_active(c);
    assert_int_equal(tc_reply(c, "+OK"), VOX_EPROTO);
    assert_int_equal(r.close_reason, VOX_EPROTO);
    assert_int_equal(vox_conn_error(c), VOX_EPROTO);
    assert_non_null(strstr(vox_conn_error_text(c), "no command waiting"));
    /* sticky, and bytes after the end are ignored */
    assert_int_equal(tc_reply(c, "+OK"), VOX_EPROTO);
    assert_int_equal(r.close_calls, 1);
    vox_conn_free(c);
}

static void test_parser_error(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    vox_conn *c = new_conn(&o);
    tc_done d = {0};
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d), 0);
    tc_inbound_active(c);
    tc_drain(c);
    assert_int_equal(tc_feed(c, "Content-Type: api/response\nContent-Length: x1\n\n"), VOX_EPROTO);
    assert_int_equal(d.status, VOX_ECLOSED);
    assert_int_equal(r.close_reason, VOX_EPROTO);
    const char *t = vox_conn_error_text(c);
    assert_non_null(strstr(t, "Content-Length"));
    assert_non_null(strstr(t, "byte"));
    vox_conn_free(c);
}

static void test_limit_error(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    vox_limits lim = {.max_header_block = 100};
    o.limits = &lim;
    vox_conn *c;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_inbound_active(c);
    char big[200];
    memset(big, 'a', sizeof big);
    big[sizeof big - 1] = '\0';
    char buf[400];
    snprintf(buf, sizeof buf, "Content-Type: command/reply\nReply-Text: %s\n\n", big);
    assert_int_equal(tc_feed(c, buf), VOX_ELIMIT);
    assert_int_equal(r.close_reason, VOX_ELIMIT);
    assert_non_null(strstr(vox_conn_error_text(c), "byte"));
    vox_conn_free(c);
}

static void test_handshake_timeout(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    o.handshake_timeout_ms = 500;
    vox_conn *c = new_conn(&o);
    tc_done d = {0};
    assert_int_equal(vox_conn_api(c, "status", NULL, 2000, tc_reply_cb, &d), 0);
    assert_true(vox_conn_deadline(c) == UINT64_MAX);
    vox_conn_tick(c, 1000);
    assert_true(vox_conn_deadline(c) == 1500);
    tc_feed(c, TC_AUTHREQ);
    vox_conn_tick(c, 1499);
    assert_int_equal(r.ready_calls, 0);
    vox_conn_tick(c, 1500);
    assert_int_equal(r.ready_calls, 1);
    assert_int_equal(r.ready_status, VOX_ETIMEDOUT);
    assert_int_equal(r.close_reason, VOX_ETIMEDOUT);
    assert_int_equal(d.status, VOX_ECLOSED);
    assert_true(vox_conn_deadline(c) == UINT64_MAX);
    vox_conn_free(c);
}

static int g_order[16], g_norder;
static void hook_a(vox_conn *c, const vox_event *ev, void *ud)
{
    g_order[g_norder++] = 1;
}
static void hook_b(vox_conn *c, const vox_event *ev, void *ud)
{
    g_order[g_norder++] = 2;
}
static void hook_all(vox_conn *c, const vox_event *ev, void *ud)
{
    g_order[g_norder++] = 3;
}
static void hook_sub(vox_conn *c, const vox_event *ev, void *ud)
{
    g_order[g_norder++] = 4;
}
static void ev_last(vox_conn *c, const vox_event *ev, void *ud)
{
    g_order[g_norder++] = 9;
}

static void test_hooks(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    o.on_event = ev_last;
    vox_conn *c = new_conn(&o);
    assert_int_equal(vox_conn_hook(c, "CHANNEL_ANSWER", hook_a, NULL), 0);
    assert_int_equal(vox_conn_hook(c, NULL, hook_all, NULL), 0);
    assert_int_equal(vox_conn_hook(c, "channel_answer", hook_b, NULL), 0);
    assert_int_equal(vox_conn_hook(c, "sofia::register", hook_sub, NULL), 0);
    assert_int_equal(vox_conn_hook(c, "", hook_sub, NULL), VOX_EINVAL);
    assert_int_equal(vox_conn_hook(c, "X", NULL, NULL), VOX_EINVAL);
    tc_inbound_active(c);
    g_norder = 0;
    tc_event(c, "Event-Name: CHANNEL_ANSWER\nUnique-ID: x\n");
    assert_int_equal(g_norder, 4);
    assert_int_equal(g_order[0], 1);
    assert_int_equal(g_order[1], 3);
    assert_int_equal(g_order[2], 2);
    assert_int_equal(g_order[3], 9);
    g_norder = 0;
    tc_event(c, "Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\n");
    assert_int_equal(g_norder, 3);
    assert_int_equal(g_order[0], 3);
    assert_int_equal(g_order[1], 4);
    g_norder = 0;
    tc_event(c, "Event-Name: HEARTBEAT\n");
    assert_int_equal(g_norder, 2);
    vox_conn_free(c);
}

static void test_log_and_notice(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    vox_conn *c = new_conn(&o);
    tc_inbound_active(c);
    tc_feed(c, "Content-Type: log/data\nContent-Length: 4\nLog-Level: 7\nUser-Data: \n\nabc\n");
    assert_int_equal(r.nlogs, 1);
    tc_feed(c, "Content-Type: text/disconnect-notice\nContent-Disposition: disconnect\n"
               "Content-Length: 3\n\nbye");
    assert_int_equal(r.nnotices, 1);
    vox_conn_eof(c);
    assert_int_equal(r.close_reason, 0); /* a disconnect notice announced the end */
    vox_conn_free(c);
}

static void test_bad_arguments(void **state)
{
    vox_conn_opts o;
    tc_rec r;
    vox_conn *c = NULL;
    tc_opts(&o, VOX_ROLE_INBOUND, &r);
    o.password = NULL;
    assert_int_equal(vox_conn_new(&c, &o), VOX_EINVAL);
    o.password = "a\nb";
    assert_int_equal(vox_conn_new(&c, &o), VOX_EINVAL);
    o.password = "ClueCon";
    o.events = "ALL\r\nexit";
    assert_int_equal(vox_conn_new(&c, &o), VOX_EINVAL);
    o.events = NULL;
    const vox_header f[] = {{"Event-Name", "X\nY"}};
    o.filters = f;
    o.nfilters = 1;
    assert_int_equal(vox_conn_new(&c, &o), VOX_EINVAL);
    assert_null(c);
    o.nfilters = 0;
    /* an unknown format, in both roles (outbound sends it with myevents) */
    o.format = (vox_format)7;
    assert_int_equal(vox_conn_new(&c, &o), VOX_EINVAL);
    o.role = VOX_ROLE_OUTBOUND;
    assert_int_equal(vox_conn_new(&c, &o), VOX_EINVAL);
    assert_null(c);
    o.role = VOX_ROLE_INBOUND;
    o.format = VOX_FMT_PLAIN;
    c = new_conn(&o);
    tc_done d = {0};
    assert_int_equal(vox_conn_api(c, "status\nexit", NULL, 0, tc_reply_cb, &d), VOX_EINVAL);
    assert_int_equal(vox_conn_api(c, NULL, NULL, 0, tc_reply_cb, &d), VOX_EINVAL);
    assert_int_equal(vox_conn_command(c, NULL, 0, tc_reply_cb, &d), VOX_EINVAL);
    vox_execute x = {.app = "playback", .arg = "a.wav", .uuid = "u\r"};
    assert_int_equal(vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, &d), VOX_EINVAL);
    char small[8];
    x.uuid = "u";
    assert_int_equal(vox_conn_execute(c, &x, small, sizeof small, 0, tc_exec_cb, &d), VOX_EINVAL);
    assert_int_equal(vox_conn_bgapi(c, "status", NULL, NULL, small, sizeof small, 0, tc_job_cb, &d),
                     VOX_EINVAL);
    assert_int_equal(vox_conn_bgapi(c, "st\natus", NULL, NULL, NULL, 0, 0, tc_job_cb, &d),
                     VOX_EINVAL);
    tc_inbound_active(c);
    tc_expect_out(c, "");
    vox_conn_free(c);
    assert_int_equal(d.calls, 0); /* a failing call never calls its callback */
    assert_int_equal(vox_conn_new(NULL, &o), VOX_EINVAL);
    vox_conn_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inbound_handshakes),
        cmocka_unit_test(test_inbound_userauth_no_subscription),
        cmocka_unit_test(test_inbound_filters_custom_bgjob),
        cmocka_unit_test(test_inbound_subscription_refused),
        cmocka_unit_test(test_auth_rejected),
        cmocka_unit_test(test_rude_rejection),
        cmocka_unit_test(test_pipelined_fixture),
        cmocka_unit_test(test_api_errors_fixture),
        cmocka_unit_test(test_outbound_handshakes),
        cmocka_unit_test(test_outbound_not_full_not_async),
        cmocka_unit_test(test_outbound_no_full_allowed),
        cmocka_unit_test(test_outbound_setup_refused),
        cmocka_unit_test(test_held_until_ready),
        cmocka_unit_test(test_reply_without_request),
        cmocka_unit_test(test_parser_error),
        cmocka_unit_test(test_limit_error),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_log_and_notice),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
