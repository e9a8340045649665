/* The async client under allocation failure: allocation k fails, for every k
 * until a session (connect, subscribe, one api) succeeds. Each run ends in a
 * disconnect or a success on its own, with every handle closed and nothing
 * leaked. The fake FreeSWITCH and libuv allocate with the C library: only
 * libvox's allocations are counted and failed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/testutil.h"
#include "util/fakefs.h"
#include <vox/async.h>
#include <vox/uv.h>

#define WAIT_MS 5000
#define SEND(s)                                                                                    \
    {                                                                                              \
        FS_SEND_RAW, (s), strlen(s)                                                                \
    }
#define EXPECT(s)                                                                                  \
    {                                                                                              \
        FS_EXPECT, (s), 0                                                                          \
    }

static char **in01, **in12;

typedef struct run {
    uv_loop_t loop;
    uv_timer_t guard;
    vox_aclient *c;
    int ok, timed_out, finished;
} run;

static void finish(run *r)
{
    if (r->finished)
        return;
    r->finished = 1;
    vox_aclient_stop(r->c); /* from inside its callbacks: deferred */
    uv_close((uv_handle_t *)&r->guard, NULL);
}

static void on_guard(uv_timer_t *h)
{
    run *r = h->data;
    r->timed_out = 1;
    finish(r);
}

static void on_api(vox_aclient *c, int status, const vox_msg *reply, void *ud)
{
    run *r = ud;
    r->ok = status == 0 && reply && strncmp(vox_msg_body(reply, NULL), "UP ", 3) == 0;
    finish(r);
}

static void on_connect(vox_aclient *c, void *ud)
{
    if (vox_aclient_api(c, "status", on_api, ud) != 0)
        finish(ud);
}

static void on_disconnect(vox_aclient *c, int reason, uint32_t retry_ms, void *ud)
{
    finish(ud); /* a failed run ends at its first disconnect */
}

/* One run with allocation k failing; 1 when the session succeeded. */
static int one_run(long k, uint16_t port)
{
    run r = {0};
    assert_int_equal(uv_loop_init(&r.loop), 0);
    uv_timer_init(&r.loop, &r.guard);
    r.guard.data = &r;
    uv_timer_start(&r.guard, on_guard, WAIT_MS, 0);
    vox_aclient_opts o = {.port = port,
                          .backoff_min_ms = 10,
                          .backoff_max_ms = 10,
                          .on_connect = on_connect,
                          .on_disconnect = on_disconnect,
                          .userdata = &r};
    vox_loop l = vox_uv_loop(&r.loop);
    tu_fail_after(k);
    if (vox_aclient_start(&r.c, &l, &o) != 0) {
        r.finished = 1;
        uv_close((uv_handle_t *)&r.guard, NULL);
    }
    uv_run(&r.loop, UV_RUN_DEFAULT);
    tu_fail_off();
    assert_false(r.timed_out);
    assert_int_equal(uv_loop_close(&r.loop), 0);
    return r.ok;
}

static void test_async_session_under_allocation_failure(void **state)
{
    const fs_step script[] = {
        SEND(in12[0]),     EXPECT("auth ClueCon\n\n"),
        SEND(in12[1]),     EXPECT("event plain BACKGROUND_JOB\n\n"),
        SEND(in12[2]),     EXPECT("api status\n\n"),
        SEND(in01[2]),     {FS_EXPECT_EOF, NULL, 0},
        {FS_END, NULL, 0},
    };
    long k;
    for (k = 0; k < 2000; k++) {
        fakefs *f = NULL;
        assert_int_equal(fs_listen(&f, script), 0);
        long before = tu_live();
        int ok = one_run(k, fs_port(f));
        /* a failed run leaves the script short, or never connects: the
         * peer's verdict only matters for the run that succeeded */
        const char *err = fs_wait(f, ok ? WAIT_MS : 200);
        assert_int_equal(tu_live(), before);
        if (ok) {
            if (err)
                fail_msg("k=%ld: the session succeeded but the peer says: %s", k, err);
            break;
        }
    }
    assert_true(k > 5 && k < 2000); /* allocation points were reached, and it ended */
}

static int setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    tu_alloc_install();
    size_t len;
    char *raw = tu_fixture("inbound_01_auth_ok_api_status_version.s2c.raw", &len);
    in01 = fs_frames(raw, len, NULL);
    free(raw);
    raw = tu_fixture("inbound_12_bgapi.s2c.raw", &len);
    in12 = fs_frames(raw, len, NULL);
    free(raw);
    return 0;
}

static int teardown(void **state)
{
    fs_frames_free(in01);
    fs_frames_free(in12);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_async_session_under_allocation_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
