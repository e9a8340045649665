/* The blocking client under allocation failure: allocation k fails, for every
 * k until a whole session (connect, subscribe, api, bgapi with its job, an
 * event) succeeds. Each run ends in an error or a success, never a crash, a
 * hang or a leak. The fake FreeSWITCH allocates with the C library, so only
 * libvox's allocations are counted and failed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/testutil.h"
#include "util/fakefs.h"

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

static char **frames_of(const char *fixture)
{
    size_t len;
    char *raw = tu_fixture(fixture, &len);
    char **f = fs_frames(raw, len, NULL);
    free(raw);
    return f;
}

/* One session; 0 when every step succeeded. */
static int session(uint16_t port)
{
    vox_client *c = NULL;
    vox_msg *r = NULL;
    int rc = vox_connect(&c, &(vox_client_opts){.port = port,
                                                .connect_timeout_ms = WAIT_MS,
                                                .command_timeout_ms = WAIT_MS,
                                                .events = "HEARTBEAT"});
    if (rc)
        return rc;
    if ((rc = vox_api(c, "status", &r)) == 0) {
        vox_msg_free(r);
        r = NULL;
        rc = vox_bgapi(c, "status", &r);
    }
    vox_msg_free(r);
    r = NULL;
    if (rc == 0 && (rc = vox_next_event(c, WAIT_MS, &r)) == 0 &&
        strcmp(vox_event_name(vox_msg_event(r)), "BACKGROUND_JOB") != 0)
        rc = VOX_EPROTO;
    vox_msg_free(r);
    vox_close(c);
    return rc;
}

static void test_session_under_allocation_failure(void **state)
{
    /* inbound_12's frames: auth/request, +OK accepted, the event reply, then
     * the bgapi reply and its BACKGROUND_JOB (Job-UUID is ours: placeholder) */
    static char job[4096];
    const char *j = strstr(in12[4], "Job-UUID: ");
    assert_non_null(j);
    snprintf(job, sizeof job, "%.*sJob-UUID: ${job-uuid}%s", (int)(j - in12[4]), in12[4],
             strchr(j, '\n'));
    const fs_step script[] = {
        SEND(in12[0]),
        EXPECT("auth ClueCon\n\n"),
        SEND(in12[1]),
        EXPECT("event plain BACKGROUND_JOB HEARTBEAT\n\n"),
        SEND(in12[2]),
        EXPECT("api status\n\n"),
        SEND(in01[2]),
        EXPECT("bgapi status\nJob-UUID: "),
        {FS_SEND,
         "Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${job-uuid}\n"
         "Job-UUID: ${job-uuid}\n\n",
         0},
        {FS_SEND, job, 0},
        {FS_EXPECT_EOF, NULL, 0},
        {FS_END, NULL, 0},
    };
    long runs = 0;
    for (long k = 0;; k++, runs++) {
        fakefs *f = NULL;
        assert_int_equal(fs_listen(&f, script), 0);
        uint16_t port = fs_port(f);
        long before = tu_live();
        tu_fail_after(k);
        int rc = session(port);
        tu_fail_off();
        const char *err = fs_wait(f, WAIT_MS); /* a failed run leaves the script short */
        if (getenv("TCA_DEBUG"))
            fprintf(stderr, "k=%ld rc=%d err=%s\n", k, rc, err ? err : "-");
        assert_int_equal(tu_live(), before);
        if (rc == 0) {
            if (err)
                fail_msg("k=%ld: the session succeeded but the peer says: %s", k, err);
            break;
        }
        assert_true(rc < 0);
        assert_true(k < 2000);
    }
    assert_true(runs > 5); /* allocation points were really reached */
}

static int setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    tu_alloc_install();
    in01 = frames_of("inbound_01_auth_ok_api_status_version.s2c.raw");
    in12 = frames_of("inbound_12_bgapi.s2c.raw");
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
        cmocka_unit_test(test_session_under_allocation_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
