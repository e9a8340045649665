/* on_wants: the engine tells an event-loop driver when vox_conn_wants()
 * changed outside the driver's own calls — once per outermost call, never
 * from inside another call on the same engine. */
#include "test_conn_util.h"

typedef struct wrec {
    tc_rec r;
    int calls;       /* on_wants calls */
    int wants_seen;  /* vox_conn_wants() inside the last on_wants */
    int in_callback; /* a test callback is running */
    int nested;      /* on_wants ran while a callback was running */
    int requests;    /* requests the event hook makes */
    tc_done d[4];
} wrec;

static void on_wants(vox_conn *c, void *ud)
{
    wrec *w = ud;
    w->calls++;
    w->wants_seen = vox_conn_wants(c);
    if (w->in_callback)
        w->nested = 1;
}

/* An event hook that queues requests from inside feed. */
static void hook_requests(vox_conn *c, const vox_event *ev, void *ud)
{
    wrec *w = ud;
    w->in_callback = 1;
    for (int i = 0; i < w->requests && i < 4; i++)
        assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &w->d[i]), 0);
    w->in_callback = 0;
}

static vox_conn *active(wrec *w)
{
    vox_conn_opts o;
    vox_conn *c;
    memset(w, 0, sizeof *w);
    tc_opts(&o, VOX_ROLE_INBOUND, &w->r);
    o.on_wants = on_wants;
    /* tc_opts' callbacks take the tc_rec, which is w's first member */
    o.userdata = w;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    tc_inbound_active(c);
    w->calls = 0;
    return c;
}

static void test_request_from_outside(void **state)
{
    wrec w;
    vox_conn *c = active(&w);
    assert_int_equal(vox_conn_wants(c), VOX_WANT_READ);
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &w.d[0]), 0);
    assert_int_equal(w.calls, 1);
    /* on_wants already sees the new state */
    assert_int_equal(w.wants_seen, VOX_WANT_READ | VOX_WANT_WRITE);
    assert_int_equal(vox_conn_bgapi(c, "status", NULL, NULL, NULL, 0, 0, tc_job_cb, &w.d[1]), 0);
    assert_int_equal(w.calls, 2);
    /* a refused request changes nothing and says nothing */
    assert_int_equal(vox_conn_api(c, "bad\ncmd", NULL, 0, tc_reply_cb, &w.d[2]), VOX_EINVAL);
    assert_int_equal(w.calls, 2);
    vox_conn_free(c);
    assert_int_equal(w.calls, 2); /* freeing is not a change to act on */
}

static void test_request_during_handshake(void **state)
{
    vox_conn_opts o;
    vox_conn *c;
    wrec w;
    memset(&w, 0, sizeof w);
    tc_opts(&o, VOX_ROLE_INBOUND, &w.r);
    o.on_wants = on_wants;
    o.userdata = &w;
    assert_int_equal(vox_conn_new(&c, &o), 0);
    assert_int_equal(w.calls, 0);
    /* held until the handshake ends, but the driver still hears of it */
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, tc_reply_cb, &w.d[0]), 0);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.wants_seen, VOX_WANT_READ);
    vox_conn_free(c);
}

static void test_disconnect_from_outside(void **state)
{
    wrec w;
    vox_conn *c = active(&w);
    assert_int_equal(vox_conn_disconnect(c), 0);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.wants_seen, VOX_WANT_READ | VOX_WANT_SHUTDOWN);
    /* a second disconnect is refused and silent */
    assert_int_equal(vox_conn_disconnect(c), VOX_ECLOSED);
    assert_int_equal(w.calls, 1);
    vox_conn_free(c);
}

static void test_close_from_outside(void **state)
{
    wrec w;
    vox_conn *c = active(&w);
    vox_conn_close(c, 0);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.wants_seen, VOX_WANT_CLOSE);
    assert_int_equal(w.r.close_calls, 1);
    vox_conn_free(c);
    assert_int_equal(w.calls, 1);
}

static void test_requests_inside_feed(void **state)
{
    wrec w;
    vox_conn *c = active(&w);
    w.requests = 3;
    assert_int_equal(vox_conn_hook(c, NULL, hook_requests, &w), 0);
    assert_int_equal(tc_event(c, "Event-Name: HEARTBEAT\n"), 0);
    /* three requests inside one feed: one call, after the callback returned */
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.nested, 0);
    assert_int_equal(w.wants_seen, VOX_WANT_READ | VOX_WANT_WRITE);
    tc_expect_out(c, "api status\n\napi status\n\napi status\n\n");
    /* an event whose hooks queue nothing says nothing */
    w.requests = 0;
    assert_int_equal(tc_event(c, "Event-Name: HEARTBEAT\n"), 0);
    assert_int_equal(w.calls, 1);
    vox_conn_free(c);
}

/* A completion that queues the next request, from inside feed. */
static void chain_cb(vox_conn *c, int status, const vox_msg *m, void *ud)
{
    wrec *w = ud;
    w->in_callback = 1;
    if (w->requests-- > 0)
        assert_int_equal(vox_conn_api(c, "status", NULL, 0, chain_cb, w), 0);
    w->in_callback = 0;
}

static void test_request_from_completion(void **state)
{
    wrec w;
    vox_conn *c = active(&w);
    w.requests = 1;
    assert_int_equal(vox_conn_api(c, "status", NULL, 0, chain_cb, &w), 0);
    assert_int_equal(w.calls, 1);
    tc_drain(c);
    assert_int_equal(tc_api_response(c, "UP 0 years"), 0);
    assert_int_equal(w.calls, 2);
    assert_int_equal(w.nested, 0);
    tc_expect_out(c, "api status\n\n");
    vox_conn_free(c);
}

/* Closing from inside a callback during feed is told once, at the end. */
static void close_hook(vox_conn *c, const vox_event *ev, void *ud)
{
    wrec *w = ud;
    w->in_callback = 1;
    vox_conn_close(c, 0);
    w->in_callback = 0;
}

static void test_close_inside_feed(void **state)
{
    wrec w;
    vox_conn *c = active(&w);
    assert_int_equal(vox_conn_hook(c, NULL, close_hook, &w), 0);
    assert_int_equal(tc_event(c, "Event-Name: HEARTBEAT\n"), 0);
    assert_int_equal(w.nested, 0);
    assert_int_equal(w.calls, 1);
    assert_int_equal(vox_conn_wants(c), VOX_WANT_CLOSE);
    vox_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_from_outside),
        cmocka_unit_test(test_request_during_handshake),
        cmocka_unit_test(test_disconnect_from_outside),
        cmocka_unit_test(test_close_from_outside),
        cmocka_unit_test(test_requests_inside_feed),
        cmocka_unit_test(test_request_from_completion),
        cmocka_unit_test(test_close_inside_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
