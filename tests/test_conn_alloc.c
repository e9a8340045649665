/* Allocation failure anywhere: a realistic outbound session and an inbound
 * one, with allocation k failing (and every later one), for every k until
 * the session succeeds. Each run must end in an error code, never a crash,
 * a hang, a lost or doubled callback, or a leak. */
#include "test_conn_util.h"

typedef struct run {
    int new_rc, feed_rc, issued[TC_MAX];
    tc_rec r;
    tc_done d[TC_MAX];
    int nhook;
} run;

static void count_hook(vox_conn *c, const vox_event *ev, void *ud)
{
    ((run *)ud)->nhook++;
}

static void feed_all(vox_conn *c, run *u, const char *fx, size_t chunk)
{
    size_t len;
    char *s = tu_fixture(fx, &len);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        int rc = vox_conn_feed(c, s + off, n);
        if (rc)
            u->feed_rc = rc;
        tc_drain(c);
        vox_conn_tick(c, off);
    }
    vox_conn_eof(c);
    free(s);
}

/* Every request that was accepted completed exactly once; on_close ran
 * once; nothing leaked. */
static void check_run(const run *u, const tc_cmds *s, int first)
{
    if (u->new_rc) {
        assert_int_equal(u->new_rc, VOX_ENOMEM);
        assert_int_equal(u->r.close_calls, 0);
        return;
    }
    assert_int_equal(u->r.close_calls, 1);
    assert_true(u->r.ready_calls == 1);
    int refused = 0;
    for (int i = first; i < s->n; i++) {
        assert_true(u->issued[i] == 0 || u->issued[i] == VOX_ENOMEM);
        assert_int_equal(u->d[i].calls, u->issued[i] == 0 ? 1 : 0);
        refused |= u->issued[i] != 0;
    }
    /* a request that could not be queued leaves its reply unmatched */
    assert_true(u->feed_rc == 0 || u->feed_rc == VOX_ENOMEM ||
                (refused && u->feed_rc == VOX_EPROTO));
    assert_int_equal(tu_live(), 0);
}

static int succeeded(const run *u, const tc_cmds *s, int first)
{
    if (u->new_rc || u->feed_rc || u->r.close_reason != 0)
        return 0;
    for (int i = first; i < s->n; i++) {
        if (u->issued[i])
            return 0;
    }
    return 1;
}

static void outbound_session(run *u, const tc_cmds *s)
{
    vox_conn_opts o;
    vox_conn *c = NULL;
    memset(u, 0, sizeof *u);
    tc_opts(&o, VOX_ROLE_OUTBOUND, &u->r);
    u->new_rc = vox_conn_new(&c, &o);
    if (u->new_rc)
        return;
    vox_conn_hook(c, "CHANNEL_EXECUTE", count_hook, u);
    vox_conn_hook(c, NULL, count_hook, u);
    vox_conn_tick(c, 0);
    for (int i = 3; i < s->n; i++)
        u->issued[i] = tc_issue(c, s, i, &u->d[i]);
    feed_all(c, u, "outbound_loops3.s2c.raw", 1500);
    vox_conn_free(c);
}

static void test_outbound_alloc_failures(void **state)
{
    tc_cmds s;
    tc_split(&s, "outbound_loops3.c2s.raw");
    run *u = malloc(sizeof *u);
    long k;
    for (k = 0; k < 100000; k++) {
        tu_fail_after(k);
        outbound_session(u, &s);
        tu_fail_off();
        check_run(u, &s, 3);
        if (succeeded(u, &s, 3))
            break;
    }
    assert_true(k > 5 && k < 100000);
    assert_int_equal(u->d[4].status, 0);
    assert_int_equal(u->d[4].loop, 3);
    free(u);
    free(s.buf);
}

static void inbound_session(run *u, const tc_cmds *s)
{
    vox_conn_opts o;
    vox_conn *c = NULL;
    memset(u, 0, sizeof *u);
    tc_opts(&o, VOX_ROLE_INBOUND, &u->r);
    u->new_rc = vox_conn_new(&c, &o);
    if (u->new_rc)
        return;
    vox_conn_hook(c, "BACKGROUND_JOB", count_hook, u);
    static const char *jobs[] = {"d7323420-1f0c-4c88-91ca-2e116d49bd49", "my-own-job-uuid-1234",
                                 "b79953ef-5b15-48e5-ac14-8ef1bce250ca"};
    static const char *cmd[] = {"status", "version", "foobarbaz"};
    for (int i = 0; i < 3; i++)
        u->issued[2 + i] = vox_conn_bgapi(c, cmd[i], i == 2 ? "arg1 arg2" : NULL, jobs[i], NULL, 0,
                                          0, tc_job_cb, &u->d[2 + i]);
    vox_buf b = {0};
    u->issued[5] = vox_cmd_line(&b, "exit");
    if (!u->issued[5])
        u->issued[5] = vox_conn_command(c, &b, 0, tc_reply_cb, &u->d[5]);
    vox_buf_free(&b);
    feed_all(c, u, "inbound_12_bgapi.s2c.raw", 700);
    vox_conn_free(c);
}

static void test_inbound_alloc_failures(void **state)
{
    tc_cmds s = {0};
    s.n = 6;
    run *u = malloc(sizeof *u);
    long k;
    for (k = 0; k < 100000; k++) {
        tu_fail_after(k);
        inbound_session(u, &s);
        tu_fail_off();
        check_run(u, &s, 2);
        if (succeeded(u, &s, 2) && u->d[2].calls && u->d[2].status == 0)
            break;
    }
    assert_true(k > 5 && k < 100000);
    for (int i = 2; i < 5; i++)
        assert_int_equal(u->d[i].status, 0);
    free(u);
}

/* Creation and a handshake with filters, hooks and held requests. */
static void test_new_alloc_failures(void **state)
{
    const vox_header f[] = {{"Event-Name", "HEARTBEAT"}, {"Unique-ID", "abc"}};
    long k;
    for (k = 0; k < 10000; k++) {
        vox_conn_opts o;
        tc_rec r;
        tc_opts(&o, VOX_ROLE_INBOUND, &r);
        o.events = "HEARTBEAT CUSTOM a::b";
        o.filters = f;
        o.nfilters = 2;
        vox_conn *c = NULL;
        tc_done d = {0};
        tu_fail_after(k);
        int rc = vox_conn_new(&c, &o), api = -1, fed = -1;
        if (!rc) {
            vox_conn_hook(c, "HEARTBEAT", tc_on_event, &r);
            api = vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &d);
            fed = tc_feed(c, TC_AUTHREQ);
            for (int i = 0; !fed && i < 5; i++)
                fed = tc_reply(c, "+OK");
            vox_conn_free(c);
        }
        tu_fail_off();
        assert_true(rc == 0 || rc == VOX_ENOMEM);
        assert_int_equal(tu_live(), 0);
        if (!rc) {
            assert_int_equal(r.close_calls, 1);
            assert_int_equal(d.calls, api == 0);
        }
        if (!rc && !api && !fed && r.ready_status == 0)
            break;
    }
    assert_true(k > 3 && k < 10000);
}

int main(void)
{
    tu_alloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outbound_alloc_failures),
        cmocka_unit_test(test_inbound_alloc_failures),
        cmocka_unit_test(test_new_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
