/* vox-sim's inbound faults (rejected auth, ACL, garbage, a huge event, a
 * flood, slow reads and writes, a dropped connection) and hostile clients
 * (random bytes, enormous lines and bodies, many at once, one that never
 * reads, one that goes away while the sim writes): each is answered as
 * FreeSWITCH would or closed, and nothing else is affected. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/client.h>

#include "test_sim_util.h"

#define SPEED 100.0

/* Loopback at SPEED, no heartbeat. */
static vox_sim_opts base_opts(void)
{
    return sim_opts(SPEED);
}

/* ------------------------------------------------------------- faults */

static void test_fault_auth_acl(void **state)
{
    vox_sim_opts o = base_opts();
    o.faults.reject_auth = 1;
    vox_sim *s = sim_up(&o);
    vox_client_opts co;
    memset(&co, 0, sizeof co);
    co.port = vox_sim_port(s);
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &co), VOX_EAUTH);
    co.password = "1000@127.0.0.1:secret1000";
    assert_int_equal(vox_connect(&c, &co), VOX_EAUTH);
    vox_sim_free(s);

    o = base_opts();
    o.faults.acl_reject = 1;
    s = sim_up(&o);
    co.port = vox_sim_port(s);
    co.password = NULL;
    assert_int_equal(vox_connect(&c, &co), VOX_EACCESS);
    vox_sim_free(s);
}

static void test_fault_garbage_huge_flood(void **state)
{
    vox_sim_opts o = base_opts();
    o.faults.garbage = "\x01garbage\n\n";
    o.faults.huge_event_bytes = 3u << 20;
    o.faults.flood_events = 2000;
    vox_sim *s = sim_up(&o);
    peer c;
    peer_open(&c, vox_sim_port(s));
    expect_text(&c, "Content-Type: auth/request\n\n");
    peer_sends(&c, "auth ClueCon\n\n");
    /* the garbage right after the reply, as raw bytes */
    const char *want = "Content-Type: command/reply\nReply-Text: +OK accepted\n\n\x01garbage\n\n";
    size_t off = c.used;
    while (c.len - off < strlen(want))
        assert_int_equal(peer_recv(&c, tu_now_ms() + SIM_WAIT_MS), 1);
    assert_memory_equal(c.buf + off, want, strlen(want));
    vox_parser_free(c.p); /* go on after the garbage */
    assert_int_equal(vox_parser_new(&c.p, NULL), 0);
    c.used = c.mstart = off + strlen(want);
    peer_sends(&c, "event plain BACKGROUND_JOB\n\n");
    expect_text(&c,
                "Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n");
    size_t floods = 0, huge = 0;
    frame f;
    while (floods < 2000 || !huge) {
        assert_int_equal(peer_frame(&c, &f), 1);
        const vox_event *ev = vox_msg_event(f.m);
        if (!strcmp(vox_event_subclass(ev), "sim::flood")) {
            assert_int_equal(strtoul(vox_event_get(ev, "Flood-Index"), NULL, 10), ++floods);
        } else {
            assert_string_equal(vox_event_subclass(ev), "sim::huge");
            vox_event_body(ev, &huge);
        }
        frame_free(&f);
    }
    assert_int_equal(huge, 3u << 20);
    peer_close(&c);
    vox_sim_free(s);
}

static void test_fault_slow(void **state)
{
    vox_sim_opts o = base_opts();
    o.faults.slow_write_ms = 100; /* 1 ms real per 16-byte piece */
    o.faults.slow_read_ms = 1000; /* 10 ms real per command */
    vox_sim *s = sim_up(&o);
    uint64_t t0 = tu_now_ms();
    peer c;
    peer_auth(&c, s);
    peer_sends(&c, "api version\n\napi uptime\n\napi version\n\napi foobarbaz\n\n");
    const char *bodies[] = {"FreeSWITCH Version", "", "FreeSWITCH Version", "-ERR foobarbaz"};
    for (size_t i = 0; i < 4; i++) {
        frame f;
        peer_reply(&c, &f, NULL);
        assert_int_equal(strncmp(vox_msg_body(f.m, NULL), bodies[i], strlen(bodies[i])), 0);
        frame_free(&f);
    }
    /* 5 commands read 10 ms apart, about 300 bytes written 16 at a time */
    assert_true(tu_now_ms() - t0 >= 40);
    peer_close(&c);
    vox_sim_free(s);
}

static void test_fault_drop_after(void **state)
{
    vox_sim_opts o = base_opts();
    o.faults.drop_after = 4; /* auth and `event` of vox_connect, then api */
    vox_sim *s = sim_up(&o);
    vox_client_opts co;
    memset(&co, 0, sizeof co);
    co.port = vox_sim_port(s);
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &co), 0); /* 1, 2 */
    vox_msg *m = NULL;
    assert_int_equal(vox_api(c, "version", &m), 0); /* 3 */
    vox_msg_free(m);
    m = NULL;
    assert_int_equal(vox_api(c, "version", &m), VOX_ECLOSED); /* 4: dropped */
    assert_null(m);
    vox_close(c);
    vox_sim_free(s);
}

/* ------------------------------------------------------------- hostile clients */

static void test_client_garbage(void **state)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    peer keep;
    peer_auth(&keep, s);

    /* random bytes: answered or ignored, never a crash */
    peer c;
    peer_open(&c, vox_sim_port(s));
    unsigned seed = 12345;
    char junk[65536];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(rand_r(&seed) & 0xff);
    peer_send(&c, junk, sizeof junk);
    peer_sends(&c, "\n\nexit\n\n");
    expect_closed(&c);
    peer_close(&c);
    still_serves(s);

    /* an enormous header line: that connection is closed */
    peer_auth(&c, s);
    char *big = malloc(11u << 20);
    memset(big, 'x', 11u << 20);
    memcpy(big, "api ", 4);
    send(c.fd, big, 11u << 20, MSG_NOSIGNAL);
    free(big);
    expect_closed(&c);
    peer_close(&c);
    still_serves(s);

    /* a body of 2^40 bytes announced */
    peer_auth(&c, s);
    peer_sends(&c, "sendevent CUSTOM\nContent-Length: 1099511627776\n\nabc");
    expect_closed(&c);
    peer_close(&c);
    still_serves(s);

    expect_cmd(&keep, "api version\n\n", "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    peer_close(&keep);
    vox_sim_free(s);
}

static void test_many_connections(void **state)
{
    enum { N = 60 };
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    static peer c[N];
    for (int i = 0; i < N; i++)
        peer_open(&c[i], vox_sim_port(s));
    for (int i = 0; i < N; i++)
        peer_sends(&c[i], "auth ClueCon\n\napi version\n\nexit\n\n");
    for (int i = 0; i < N; i++) {
        expect_text(&c[i], "Content-Type: auth/request\n\n");
        expect_text(&c[i], "Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
        expect_text(&c[i], "Content-Type: api/response\nContent-Length: 45\n\n"
                           "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
        expect_text(&c[i], "Content-Type: command/reply\nReply-Text: +OK bye\n\n");
        expect_closed(&c[i]);
        peer_close(&c[i]);
    }
    vox_sim_free(s);
}

/* A listener that never reads is killed once its queue overflows. */
static atomic_int killed;

static void on_log_line(const vox_sim_log_line *l, void *ud)
{
    (void)ud;
    if (getenv("SIMDEBUG"))
        fprintf(stderr, "%llu sim: %s\n", (unsigned long long)tu_now_ms(), l->line);
    if (strstr(l->line, "killed listener because of lost events"))
        atomic_store(&killed, 1);
}

static void test_lost_events(void **state)
{
    vox_sim_opts o = base_opts();
    o.faults.flood_events = 110000;
    o.log = on_log_line;
    atomic_store(&killed, 0);
    vox_sim *s = sim_up(&o);
    peer c;
    peer_auth(&c, s);
    peer_sends(&c, "event plain ALL\n\n");
    uint64_t deadline = tu_now_ms() + 12 * SIM_WAIT_MS; /* a flood under a sanitizer */
    while (!atomic_load(&killed) && tu_now_ms() < deadline)
        poll(NULL, 0, 1); /* not reading: the sim's queue fills */
    assert_true(atomic_load(&killed));
    if (getenv("SIMDEBUG"))
        fprintf(stderr, "%llu killed seen\n", (unsigned long long)tu_now_ms());
    frames all = peer_all(&c);
    assert_true(all.n > 100); /* what the kernel and the sim had taken */
    const frame *last = &all.f[all.n - 1];
    assert_string_equal(vox_msg_content_type(last->m), "text/disconnect-notice");
    assert_string_equal(vox_msg_body(last->m, NULL), "killed listener because of lost events\n");
    assert_true(all.n < 110000);
    frames_free(&all);
    peer_close(&c);
    still_serves(s);
    vox_sim_free(s);
}

/* Scripted calls wait for wait_clients subscribed inbound clients. */
/* A client that goes away while the sim writes to it: the write fails with
 * EPIPE, which must not raise SIGPIPE in this program (it does not ignore
 * the signal). The client half-closes (the sim, not reading while its
 * output is backed up, does not see it) and then closes with unread data,
 * so the sim's next write meets a reset on a half-closed socket. */
static void test_peer_gone_no_sigpipe(void **state)
{
    struct sigaction sa;
    assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
    vox_sim_opts o = base_opts();
    o.faults.huge_event_bytes = 8u << 20;
    vox_sim *s = sim_up(&o);
    for (int i = 0; i < 3; i++) {
        peer c;
        peer_auth(&c, s);
        peer_sends(&c, "event plain ALL\n\n");
        expect_text(&c, "Content-Type: command/reply\n"
                        "Reply-Text: +OK event listener enabled plain\n\n");
        assert_int_equal(peer_recv(&c, tu_now_ms() + SIM_WAIT_MS), 1); /* the flood began */
        shutdown(c.fd, SHUT_WR);
        peer_close(&c);
        still_serves(s);
    }
    vox_sim_free(s);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_auth_acl), cmocka_unit_test(test_fault_garbage_huge_flood),
        cmocka_unit_test(test_fault_slow),     cmocka_unit_test(test_fault_drop_after),
        cmocka_unit_test(test_client_garbage), cmocka_unit_test(test_many_connections),
        cmocka_unit_test(test_lost_events),    cmocka_unit_test(test_peer_gone_no_sigpipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
