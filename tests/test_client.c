/* The blocking client on loopback against the scripted fake FreeSWITCH,
 * which answers with the bytes of the captures in fixtures/. Every wait is
 * bounded: the client by its timeouts, the fake by its own. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/testutil.h"
#include "util/fakefs.h"

#define WAIT_MS 5000

/* ------------------------------------------------------------- helpers */

static char **frames_of(const char *fixture, size_t *n)
{
    size_t len;
    char *raw = tu_fixture(fixture, &len);
    char **f = fs_frames(raw, len, n);
    free(raw);
    return f;
}

static fakefs *start(const fs_step *script)
{
    fakefs *f = NULL;
    assert_int_equal(fs_listen(&f, script), 0);
    return f;
}

static void finish(fakefs *f)
{
    const char *err = fs_wait(f, WAIT_MS);
    if (err)
        fail_msg("fake FreeSWITCH: %s", err);
}

static vox_client *connect_to(fakefs *f, vox_client_opts *o)
{
    vox_client *c = NULL;
    o->port = fs_port(f);
    assert_int_equal(vox_connect(&c, o), 0);
    assert_true(vox_is_open(c));
    return c;
}

/* The captures' handshake replies (inbound_12: auth, then the events). */
static char **hs;
static char **in01, **in10, **in12, **in15, **in07;

static int setup_all(void **state)
{
    in01 = frames_of("inbound_01_auth_ok_api_status_version.s2c.raw", NULL);
    in10 = frames_of("inbound_10_api_errors.s2c.raw", NULL);
    in12 = frames_of("inbound_12_bgapi.s2c.raw", NULL);
    in15 = frames_of("inbound_15_sendmsg_parked_channel.s2c.raw", NULL);
    in07 = frames_of("inbound_07_filter.s2c.raw", NULL);
    hs = in12;
    signal(SIGPIPE, SIG_IGN); /* the fake's own sends use MSG_NOSIGNAL; popen pipes do not */
    return 0;
}

static int teardown_all(void **state)
{
    fs_frames_free(in01);
    fs_frames_free(in10);
    fs_frames_free(in12);
    fs_frames_free(in15);
    fs_frames_free(in07);
    return 0;
}

#define SEND(s) {FS_SEND_RAW, (s), strlen(s)}
#define EXPECT(s) {FS_EXPECT, (s), 0}
/* auth/request, auth ClueCon, event plain BACKGROUND_JOB, each answered
 * with the bytes of inbound_12. */
#define HANDSHAKE SEND(hs[0]), EXPECT("auth ClueCon\n\n"), SEND(hs[1]), \
                  EXPECT("event plain BACKGROUND_JOB\n\n"), SEND(hs[2])

/* ------------------------------------------------------------ connect */

static void test_connect_auth_api(void **state)
{
    fs_step script[] = {SEND(in01[0]), EXPECT("auth ClueCon"), SEND(in01[1]),
                        EXPECT("event plain BACKGROUND_JOB"), SEND(in12[2]),
                        EXPECT("api status"), SEND(in01[2]), EXPECT("api version"),
                        SEND(in01[3]), {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){0});
    vox_msg *r = NULL;
    size_t len;
    assert_int_equal(vox_api(c, "status", &r), 0);
    const char *body = vox_msg_body(r, &len);
    assert_int_equal(len, 335);
    assert_memory_equal(body, "UP 0 years, 0 days", 18);
    vox_msg_free(r);
    assert_int_equal(vox_api(c, "version", &r), 0);
    assert_string_equal(vox_msg_body(r, NULL), "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    vox_msg_free(r);
    /* The client's bytes are the capture's (with the BACKGROUND_JOB
     * subscription that bgapi needs, as inbound_12's client sent it). */
    assert_string_equal(fs_received(f), "auth ClueCon\n\nevent plain BACKGROUND_JOB\n\n"
                                        "api status\n\napi version\n\n");
    vox_close(c);
    finish(f);
}

static void test_wrong_password(void **state)
{
    char **s2c = frames_of("inbound_02_auth_wrong_password.s2c.raw", NULL);
    size_t c2slen;
    char *c2s = tu_fixture("inbound_02_auth_wrong_password.c2s.raw", &c2slen);
    fs_step script[] = {SEND(s2c[0]), EXPECT("auth WrongPassword"), SEND(s2c[1]), SEND(s2c[2]),
                        {FS_CLOSE, NULL, 0}, {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = NULL;
    vox_client_opts o = {.port = fs_port(f), .password = "WrongPassword"};
    assert_int_equal(vox_connect(&c, &o), VOX_EAUTH);
    assert_null(c);
    assert_string_equal(fs_received(f), c2s);
    finish(f);
    free(c2s);
    fs_frames_free(s2c);
}

static void test_rude_rejection(void **state)
{
    char **s2c = frames_of("inbound_24_acl_rude_rejection.s2c.raw", NULL);
    fs_step script[] = {SEND(s2c[0]), SEND(s2c[1]), {FS_CLOSE, NULL, 0}, {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &(vox_client_opts){.port = fs_port(f)}), VOX_EACCESS);
    assert_null(c);
    finish(f);
    fs_frames_free(s2c);
}

static void test_connect_refused(void **state)
{
    /* A port bound but not listening: connect is refused at once. */
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    vox_client *c = NULL;
    vox_client_opts o = {.port = ntohs(a.sin_port), .connect_timeout_ms = 2000};
    assert_int_equal(vox_connect(&c, &o), VOX_ESYS);
    assert_int_equal(errno, ECONNREFUSED);
    assert_null(c);
    close(fd);
}

static void test_connect_timeout(void **state)
{
    /* Accepts, never sends auth/request; sees the client give up. */
    fs_step script[] = {{FS_EXPECT_EOF, NULL, 0}, {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = NULL;
    vox_client_opts o = {.port = fs_port(f), .connect_timeout_ms = 300};
    uint64_t t0 = tu_now_ms();
    assert_int_equal(vox_connect(&c, &o), VOX_ETIMEDOUT);
    uint64_t took = tu_now_ms() - t0;
    assert_true(took >= 290 && took < 3000);
    assert_null(c);
    finish(f);
}

static void test_bad_host(void **state)
{
    vox_client *c = NULL;
    vox_client_opts o = {.host = "no-such-host.invalid", .port = 8021, .connect_timeout_ms = 2000};
    assert_int_equal(vox_connect(&c, &o), VOX_ESYS);
    assert_int_equal(vox_connect(NULL, &o), VOX_EINVAL);
    o.host = "127.0.0.1";
    o.password = "Clue\nCon";
    /* the CR/LF check happens before anything reaches the wire (the
     * connect itself may be refused first: either way, no client) */
    int rc = vox_connect(&c, &o);
    assert_true(rc == VOX_EINVAL || rc == VOX_ESYS);
    assert_null(c);
}

/* ---------------------------------------------------------------- api */

static void test_api_errors(void **state)
{
    fs_step script[] = {HANDSHAKE,
                        EXPECT("api foobarbaz\n\n"), SEND(in10[2]),
                        EXPECT("api global_getvar no_such_var\n\n"), SEND(in10[3]),
                        EXPECT("api originate\n\n"), SEND(in10[5]),
                        {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){0});
    vox_msg *r = NULL;
    assert_int_equal(vox_api(c, "foobarbaz", &r), VOX_EREPLY);
    assert_non_null(r);
    assert_string_equal(vox_msg_reply_text(r), "-ERR foobarbaz Command not found!\n");
    vox_msg_free(r);
    assert_int_equal(vox_api(c, "global_getvar no_such_var", &r), VOX_EREPLY);
    assert_string_equal(vox_msg_body(r, NULL), "-ERR no reply\n");
    vox_msg_free(r);
    assert_int_equal(vox_api(c, "originate", &r), VOX_EREPLY);
    assert_memory_equal(vox_msg_body(r, NULL), "-USAGE: <call url>", 18);
    vox_msg_free(r);
    /* refused before the wire: the connection goes on */
    assert_int_equal(vox_api(c, "status\napi version", &r), VOX_EINVAL);
    assert_null(r);
    assert_true(vox_is_open(c));
    vox_close(c);
    finish(f);
}

static void test_api_timeout_late_reply(void **state)
{
    /* The reply to `status` comes only after `version` was sent: the
     * first call timed out, its late reply must not become the second's. */
    fs_step script[] = {HANDSHAKE,           EXPECT("api status\n\n"), EXPECT("api version\n\n"),
                        SEND(in01[2]),       SEND(in01[3]),           {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){.command_timeout_ms = 200});
    vox_msg *r = NULL;
    uint64_t t0 = tu_now_ms();
    assert_int_equal(vox_api(c, "status", &r), VOX_ETIMEDOUT);
    assert_true(tu_now_ms() - t0 >= 190);
    assert_null(r);
    assert_int_equal(vox_api(c, "version", &r), 0);
    assert_string_equal(vox_msg_body(r, NULL), "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    vox_msg_free(r);
    vox_close(c);
    finish(f);
}

/* in12's job frames with the capture's Job-UUID replaced by the one the
 * client generates (same length, so Content-Length still holds). */
static char *with_job_placeholder(const char *frame, const char *uuid)
{
    size_t n = strlen(frame), ul = strlen(uuid), k = 0;
    char *out = malloc(n * 2 + 1);
    for (const char *p = frame; *p;) {
        if (!strncmp(p, uuid, ul)) {
            memcpy(out + k, "${job-uuid}", 11);
            k += 11;
            p += ul;
        } else {
            out[k++] = *p++;
        }
    }
    out[k] = '\0';
    return out;
}

static void test_bgapi(void **state)
{
    const char *cap = "d7323420-1f0c-4c88-91ca-2e116d49bd49";
    char *reply = with_job_placeholder(in12[3], cap), *job = with_job_placeholder(in12[4], cap);
    fs_step script[] = {HANDSHAKE,
                        EXPECT("bgapi status\nJob-UUID: "),
                        {FS_SEND, reply, 0},
                        {FS_SEND, job, 0},
                        EXPECT("bgapi foobarbaz arg1 arg2\n"),
                        SEND("Content-Type: command/reply\nReply-Text: -ERR permission denied\n\n"),
                        {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){0});
    vox_msg *r = NULL;
    assert_int_equal(vox_bgapi(c, "status", &r), 0);
    const vox_event *ev = vox_msg_event(r);
    assert_non_null(ev);
    assert_string_equal(vox_event_name(ev), "BACKGROUND_JOB");
    assert_string_equal(vox_event_get(ev, "Job-Command"), "status");
    size_t len;
    assert_memory_equal(vox_event_body(ev, &len), "UP 0 years", 10);
    assert_int_equal(len, 333);
    vox_msg_free(r);
    /* the refusal of the bgapi command itself */
    r = NULL;
    assert_int_equal(vox_bgapi(c, "foobarbaz arg1 arg2", &r), VOX_EREPLY);
    assert_non_null(r); /* the refusal itself, with its text */
    assert_string_equal(vox_msg_reply_text(r), "-ERR permission denied");
    vox_msg_free(r);
    /* the job result was also an event: it is queued like any other */
    assert_int_equal(vox_next_event(c, 0, &r), 0);
    assert_string_equal(vox_event_name(vox_msg_event(r)), "BACKGROUND_JOB");
    vox_msg_free(r);
    assert_int_equal(vox_next_event(c, 0, &r), VOX_ETIMEDOUT);
    vox_close(c);
    finish(f);
    free(reply);
    free(job);
}

/* ------------------------------------------------------------- events */

static char *heartbeat(int seq)
{
    char h[256];
    snprintf(h, sizeof h, "Event-Name: HEARTBEAT\nEvent-Sequence: %d\nEvent-Info: System%%20Ready\n",
             seq);
    return fs_event_plain(h, NULL);
}

static int hook_count;
static int hook_api_ok;
static void count_hook(vox_conn *conn, const vox_event *ev, void *ud)
{
    hook_count++;
    assert_ptr_equal(ud, &hook_count);
    /* a hook runs on the calling thread inside the blocking call */
    hook_api_ok = !strcmp(vox_event_get(ev, "Event-Info"), "System Ready");
}

static void test_events_queue_and_hooks(void **state)
{
    char *e1 = heartbeat(1), *e2 = heartbeat(2), *e3 = heartbeat(3);
    fs_step script[] = {HANDSHAKE,      EXPECT("api status\n\n"), SEND(e1), SEND(e2), SEND(e3),
                        SEND(in01[2]),  {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){.max_queued_events = 2});
    vox_msg *r = NULL;
    hook_count = 0;
    assert_int_equal(vox_hook(c, "HEARTBEAT", count_hook, &hook_count), 0);
    /* the events come before the api/response: all three were handled
     * by the time vox_api returns */
    assert_int_equal(vox_api(c, "status", &r), 0);
    vox_msg_free(r);
    assert_int_equal(hook_count, 3);
    assert_true(hook_api_ok);
    /* the queue holds two: the oldest was dropped and counted */
    assert_int_equal(vox_dropped_events(c), 1);
    assert_int_equal(vox_next_event(c, 1000, &r), 0);
    assert_string_equal(vox_event_get(vox_msg_event(r), "Event-Sequence"), "2");
    vox_msg_free(r);
    assert_int_equal(vox_next_event(c, UINT32_MAX, &r), 0);
    assert_string_equal(vox_event_get(vox_msg_event(r), "Event-Sequence"), "3");
    vox_msg_free(r);
    uint64_t t0 = tu_now_ms();
    assert_int_equal(vox_next_event(c, 100, &r), VOX_ETIMEDOUT);
    assert_true(tu_now_ms() - t0 >= 95);
    assert_null(r);
    vox_close(c);
    finish(f);
    free(e1);
    free(e2);
    free(e3);
}

/* Events in the same write as the last handshake reply are held until the
 * first blocking call, so a hook added right after vox_connect sees them. */
static void test_events_behind_handshake_reach_late_hooks(void **state)
{
    char *e1 = heartbeat(1), *e2 = heartbeat(2);
    size_t n = strlen(hs[2]) + strlen(e1) + strlen(e2) + 1;
    char *last = malloc(n);
    snprintf(last, n, "%s%s%s", hs[2], e1, e2);
    fs_step script[] = {SEND(hs[0]), EXPECT("auth ClueCon\n\n"), SEND(hs[1]),
                        EXPECT("event plain BACKGROUND_JOB\n\n"), SEND(last), {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){0});
    vox_msg *r = NULL;
    hook_count = 0;
    assert_int_equal(vox_hook(c, "HEARTBEAT", count_hook, &hook_count), 0);
    assert_int_equal(hook_count, 0);
    assert_int_equal(vox_next_event(c, WAIT_MS, &r), 0);
    assert_string_equal(vox_event_get(vox_msg_event(r), "Event-Sequence"), "1");
    vox_msg_free(r);
    assert_int_equal(hook_count, 2);
    vox_close(c);
    finish(f);
    free(e1);
    free(e2);
    free(last);
}

static void test_next_event_waits(void **state)
{
    /* vox_next_event itself reads: the event arrives while it waits. */
    char *e1 = heartbeat(7);
    fs_step script[] = {HANDSHAKE, EXPECT("api status\n\n"), SEND(in01[2]), SEND(e1),
                        {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){0});
    vox_msg *r = NULL;
    assert_int_equal(vox_api(c, "status", &r), 0);
    vox_msg_free(r);
    assert_int_equal(vox_next_event(c, WAIT_MS, &r), 0);
    assert_string_equal(vox_event_get(vox_msg_event(r), "Event-Sequence"), "7");
    vox_msg_free(r);
    vox_close(c);
    finish(f);
    free(e1);
}

/* vox_close inside a hook only closes; the blocking call that ran the hook
 * returns VOX_ECLOSED and frees the client (ASan sees no use after free and
 * no leak): inside vox_api and inside vox_next_event. */
static void close_hook(vox_conn *conn, const vox_event *ev, void *ud)
{
    hook_count++;
    vox_close(ud);
    vox_close(ud); /* a second close inside the same hook is harmless */
}

static void test_close_inside_hook(void **state)
{
    char *e1 = heartbeat(1), *e2 = heartbeat(2);
    fs_step waiting[] = {HANDSHAKE, SEND(e1), SEND(e2), {FS_END, NULL, 0}};
    fs_step api[] = {HANDSHAKE, EXPECT("api status\n\n"), SEND(e1), SEND(e2), {FS_END, NULL, 0}};
    for (int in_api = 0; in_api < 2; in_api++) {
        fakefs *f = start(in_api ? api : waiting);
        vox_client *c = connect_to(f, &(vox_client_opts){0});
        vox_msg *r = NULL;
        hook_count = 0;
        assert_int_equal(vox_hook(c, "HEARTBEAT", close_hook, c), 0);
        if (in_api)
            assert_int_equal(vox_api(c, "status", &r), VOX_ECLOSED);
        else
            assert_int_equal(vox_next_event(c, WAIT_MS, &r), VOX_ECLOSED);
        assert_null(r);
        assert_int_equal(hook_count, 1); /* the close skipped the second event */
        finish(f);
    }
    free(e1);
    free(e2);
}

static void test_subscriptions_and_filters(void **state)
{
    /* inbound_07: event plain ALL, two filters; the capture's HEARTBEAT
     * arrives between the filter replies, during the handshake. */
    vox_header filters[] = {{"Event-Name", "HEARTBEAT"}, {"Event-Name", "CHANNEL_CREATE"}};
    fs_step script[] = {SEND(in07[0]),
                        EXPECT("auth ClueCon\n\n"),
                        SEND(in07[1]),
                        EXPECT("event plain ALL\n\n"),
                        EXPECT("filter Event-Name HEARTBEAT\n\n"),
                        EXPECT("filter Event-Name CHANNEL_CREATE\n\n"),
                        EXPECT("filter Event-Name BACKGROUND_JOB\n\n"),
                        SEND(in07[2]),
                        SEND(in07[3]),
                        SEND(in07[4]),
                        SEND(in07[5]),
                        SEND("Content-Type: command/reply\n"
                             "Reply-Text: +OK filter added. [Event-Name]=[BACKGROUND_JOB]\n\n"),
                        {FS_END, NULL, 0}};
    size_t c2slen;
    char *c2s = tu_fixture("inbound_07_filter.c2s.raw", &c2slen);
    fakefs *f = start(script);
    vox_client_opts o = {.events = "ALL", .filters = filters, .nfilters = 2};
    vox_client *c = connect_to(f, &o);
    /* the bytes are the capture's, up to its third command */
    const char *got = fs_received(f);
    const char *third = strstr(c2s, "filter delete");
    assert_non_null(third);
    assert_memory_equal(got, c2s, (size_t)(third - c2s));
    vox_msg *r = NULL;
    assert_int_equal(vox_next_event(c, 0, &r), 0);
    assert_string_equal(vox_event_name(vox_msg_event(r)), "HEARTBEAT");
    assert_string_equal(vox_event_get(vox_msg_event(r), "Event-Info"), "System Ready");
    vox_msg_free(r);
    vox_close(c);
    finish(f);
    free(c2s);
}

/* --------------------------------------------------------------- drops */

static void test_drop_while_waiting(void **state)
{
    fs_step script[] = {HANDSHAKE, EXPECT("api status\n\n"), {FS_CLOSE, NULL, 0},
                        {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){0});
    vox_msg *r = NULL;
    uint64_t t0 = tu_now_ms();
    /* the default command timeout is 30 s: the drop must end it at once */
    assert_int_equal(vox_api(c, "status", &r), VOX_ECLOSED);
    assert_true(tu_now_ms() - t0 < 3000);
    assert_null(r);
    assert_false(vox_is_open(c));
    assert_int_equal(vox_api(c, "version", &r), VOX_ECLOSED);
    assert_int_equal(vox_bgapi(c, "version", &r), VOX_ECLOSED);
    assert_int_equal(vox_next_event(c, 1000, &r), VOX_ECLOSED);
    assert_int_equal(vox_disconnect(c), VOX_ECLOSED);
    vox_close(c);
    finish(f);
}

static void test_disconnect_half_closes(void **state)
{
    /* The fake sees EOF after disconnect, then closes: the client ends. */
    fs_step script[] = {HANDSHAKE, {FS_EXPECT_EOF, NULL, 0}, {FS_CLOSE, NULL, 0},
                        {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){0});
    vox_msg *r = NULL;
    assert_int_equal(vox_disconnect(c), 0);
    assert_int_equal(vox_next_event(c, WAIT_MS, &r), VOX_ECLOSED);
    assert_false(vox_is_open(c));
    vox_close(c);
    finish(f);
}

/* ------------------------------------------------- sendmsg, sendevent */

/* The i-th command of a c2s capture. */
static char *c2s_cmd(const char *fixture, size_t i)
{
    size_t n;
    char **cmds = frames_of(fixture, &n);
    assert_true(i < n);
    char *s = strdup(cmds[i]);
    fs_frames_free(cmds);
    return s;
}

static void test_sendmsg_sendevent(void **state)
{
    const char *fx = "inbound_15_sendmsg_parked_channel.c2s.raw";
    char *hangup = c2s_cmd(fx, 6), *bad = c2s_cmd(fx, 7);
    const char *sendevent = "sendevent CUSTOM\nEvent-Subclass: vox::test\nx: y\n"
                            "content-length: 5\n\nhello";
    fs_step script[] = {HANDSHAKE,
                        EXPECT("sendmsg fe66a1fb"),
                        SEND(in15[15]),
                        EXPECT("sendmsg 11111111"),
                        SEND("Content-Type: command/reply\nReply-Text: -ERR invalid session id "
                             "[11111111-2222-3333-4444-555555555555]\n\n"),
                        EXPECT("sendevent CUSTOM"),
                        SEND("Content-Type: command/reply\n"
                             "Reply-Text: +OK 0f1e2d3c-0000-4000-8000-000000000001\n\n"),
                        {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){0});
    vox_header h1[] = {{"call-command", "hangup"}, {"hangup-cause", "NORMAL_CLEARING"}};
    vox_header h2[] = {{"call-command", "execute"}, {"execute-app-name", "answer"}};
    vox_header h3[] = {{"Event-Subclass", "vox::test"}, {"x", "y"}};
    vox_msg *r = NULL;
    assert_int_equal(vox_sendmsg(c, "fe66a1fb-5780-43c5-af3d-885b8ef8c963", h1, 2, NULL, 0, &r),
                     0);
    assert_string_equal(vox_msg_reply_text(r), "+OK");
    vox_msg_free(r);
    assert_int_equal(
        vox_sendmsg(c, "11111111-2222-3333-4444-555555555555", h2, 2, NULL, 0, &r),
        VOX_EREPLY);
    assert_memory_equal(vox_msg_reply_text(r), "-ERR invalid session id", 23);
    vox_msg_free(r);
    assert_int_equal(vox_sendevent(c, "CUSTOM", h3, 2, "hello", 5, NULL), 0);
    /* refused before the wire */
    vox_header evil[] = {{"x", "a\nb"}};
    assert_int_equal(vox_sendmsg(c, NULL, evil, 1, NULL, 0, &r), VOX_EINVAL);
    assert_null(r);
    /* the wire bytes: the capture's for sendmsg */
    const char *got = fs_received(f);
    const char *p = strstr(got, "sendmsg fe66");
    assert_non_null(p);
    assert_memory_equal(p, hangup, strlen(hangup));
    p += strlen(hangup);
    assert_memory_equal(p, bad, strlen(bad));
    p += strlen(bad);
    assert_string_equal(p, sendevent);
    vox_close(c);
    finish(f);
    free(hangup);
    free(bad);
}

static void test_exec_inbound(void **state)
{
    /* inbound_15: the playback's +OK, then its EXECUTE and EXECUTE_COMPLETE
     * (Application-UUID ed1982fb-…, which we pass as our Event-UUID). */
    assert_non_null(strstr(in15[8], "+OK"));
    assert_non_null(strstr(in15[10], "Application: playback"));
    assert_non_null(strstr(in15[11], "CHANNEL_EXECUTE_COMPLETE"));
    const char *evs =
        "CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE "
        "CHANNEL_DESTROY";
    fs_step script[] = {SEND(in15[0]),
                        EXPECT("auth ClueCon\n\n"),
                        SEND(in15[1]),
                        EXPECT("event plain BACKGROUND_JOB CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE"),
                        SEND(in15[2]),
                        EXPECT("sendmsg fe66a1fb-5780-43c5-af3d-885b8ef8c963\n"
                               "call-command: execute\nexecute-app-name: playback\n"),
                        SEND(in15[8]),
                        SEND(in15[10]),
                        SEND(in15[11]),
                        {FS_END, NULL, 0}};
    fakefs *f = start(script);
    vox_client *c = connect_to(f, &(vox_client_opts){.events = evs});
    vox_execute x = {.app = "playback",
                     .arg = "tone_stream://%(200,0,800)",
                     .uuid = "fe66a1fb-5780-43c5-af3d-885b8ef8c963",
                     .event_uuid = "ed1982fb-01f5-4af6-b7d5-06d24a973ce4",
                     .event_lock = 1};
    vox_msg *done = NULL;
    assert_int_equal(vox_exec(c, &x, &done), 0);
    const vox_event *ev = vox_msg_event(done);
    assert_string_equal(vox_event_name(ev), "CHANNEL_EXECUTE_COMPLETE");
    assert_string_equal(vox_event_get(ev, "Application-Response"), "FILE PLAYED");
    vox_msg_free(done);
    /* both events were queued too */
    vox_msg *r = NULL;
    assert_int_equal(vox_next_event(c, 0, &r), 0);
    assert_string_equal(vox_event_name(vox_msg_event(r)), "CHANNEL_EXECUTE");
    vox_msg_free(r);
    assert_int_equal(vox_next_event(c, 0, &r), 0);
    vox_msg_free(r);
    /* inbound, the channel must be named */
    x.uuid = NULL;
    assert_int_equal(vox_exec(c, &x, &done), VOX_EINVAL);
    assert_null(done);
    assert_int_equal(vox_exec(NULL, &x, &done), VOX_EINVAL);
    vox_close(c);
    finish(f);
}

/* ------------------------------------------------------------ the CLI */

static const char *tool(void)
{
    const char *t = getenv("VOX_TOOL");
    if (!t)
        t = "build/san/vox";
    if (access(t, X_OK) != 0) {
        fprintf(stderr, "# %s missing: CLI checks skipped\n", t);
        return NULL;
    }
    return t;
}

/* Runs the tool with args (a shell word list); output into out. Returns
 * its exit status. */
static int run_tool(const char *t, const char *args, char *out, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "VOX_PASSWORD= VOX_HOST= VOX_PORT= %s %s 2>/dev/null", t, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_api(void **state)
{
    const char *t = tool();
    if (!t)
        skip();
    char out[4096], args[256];
    fs_step ok[] = {HANDSHAKE, EXPECT("api version\n\n"), SEND(in01[3]), {FS_EXPECT_EOF, NULL, 0},
                    {FS_END, NULL, 0}};
    fakefs *f = start(ok);
    snprintf(args, sizeof args, "api -P %u version", fs_port(f));
    assert_int_equal(run_tool(t, args, out, sizeof out), 0);
    assert_string_equal(out, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    finish(f);

    fs_step err[] = {HANDSHAKE, EXPECT("api foobarbaz\n\n"), SEND(in10[2]),
                     {FS_EXPECT_EOF, NULL, 0}, {FS_END, NULL, 0}};
    f = start(err);
    snprintf(args, sizeof args, "api -P %u foobarbaz", fs_port(f));
    assert_int_equal(run_tool(t, args, out, sizeof out), 1);
    assert_string_equal(out, "-ERR foobarbaz Command not found!\n");
    finish(f);

    char **s2c = frames_of("inbound_02_auth_wrong_password.s2c.raw", NULL);
    fs_step bad[] = {SEND(s2c[0]), EXPECT("auth nope\n\n"), SEND(s2c[1]), SEND(s2c[2]),
                     {FS_CLOSE, NULL, 0}, {FS_END, NULL, 0}};
    f = start(bad);
    snprintf(args, sizeof args, "api -P %u -p nope status", fs_port(f));
    assert_int_equal(run_tool(t, args, out, sizeof out), 2);
    finish(f);
    fs_frames_free(s2c);
}

static void test_cli_bgapi_events(void **state)
{
    const char *t = tool();
    if (!t)
        skip();
    char out[8192], args[256];
    const char *cap = "d7323420-1f0c-4c88-91ca-2e116d49bd49";
    char *reply = with_job_placeholder(in12[3], cap), *job = with_job_placeholder(in12[4], cap);
    fs_step bg[] = {HANDSHAKE, EXPECT("bgapi status\n"), {FS_SEND, reply, 0}, {FS_SEND, job, 0},
                    {FS_EXPECT_EOF, NULL, 0}, {FS_END, NULL, 0}};
    fakefs *f = start(bg);
    snprintf(args, sizeof args, "bgapi -P %u status", fs_port(f));
    assert_int_equal(run_tool(t, args, out, sizeof out), 0);
    assert_memory_equal(out, "UP 0 years", 10);
    finish(f);

    char *e1 = heartbeat(1), *e2 = heartbeat(2);
    fs_step ev[] = {SEND(hs[0]), EXPECT("auth ClueCon\n\n"), SEND(hs[1]),
                    EXPECT("event plain BACKGROUND_JOB HEARTBEAT\n\n"), SEND(hs[2]),
                    SEND(e1), SEND(e2), {FS_EXPECT_EOF, NULL, 0}, {FS_END, NULL, 0}};
    f = start(ev);
    snprintf(args, sizeof args, "events -P %u --count 2 HEARTBEAT", fs_port(f));
    assert_int_equal(run_tool(t, args, out, sizeof out), 0);
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_non_null(strstr(out, "\"name\":\"HEARTBEAT\""));
    assert_non_null(strstr(out, "\"Event-Sequence\":\"1\""));
    assert_non_null(strstr(nl + 1, "\"Event-Sequence\":\"2\""));
    assert_non_null(strstr(out, "\"Event-Info\":\"System Ready\""));
    finish(f);
    free(e1);
    free(e2);
    free(reply);
    free(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_auth_api),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_rude_rejection),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_bad_host),
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_api_timeout_late_reply),
        cmocka_unit_test(test_bgapi),
        cmocka_unit_test(test_events_queue_and_hooks),
        cmocka_unit_test(test_events_behind_handshake_reach_late_hooks),
        cmocka_unit_test(test_next_event_waits),
        cmocka_unit_test(test_close_inside_hook),
        cmocka_unit_test(test_subscriptions_and_filters),
        cmocka_unit_test(test_drop_while_waiting),
        cmocka_unit_test(test_disconnect_half_closes),
        cmocka_unit_test(test_sendmsg_sendevent),
        cmocka_unit_test(test_exec_inbound),
        cmocka_unit_test(test_cli_api),
        cmocka_unit_test(test_cli_bgapi_events),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
