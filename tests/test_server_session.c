/* The outbound session over real sockets, behaviour by behaviour: one
 * application at a time, what may and may not drive a call forward, api
 * between applications, sendmsg headers on the wire, reader applications,
 * refreshing the channel data, -ERR handled and ignored, hooks that finish
 * before the close in both latch orders, drops and disconnects.
 *
 * "Nothing was sent" is checked with probes, never with sleeps: the fake
 * sends a CUSTOM vox::probe event whose hook answers with a fire-and-forget
 * `api echo <name>`. Commands reach the fake in the order the call queued
 * them, so when a message wrongly let the call code go on, its next command
 * would reach the fake before the marker of a probe sent after it — and the
 * fake's EXPECT for that marker fails. Each message under test is followed
 * by two probe rounds (the second one catches a step taken in the same read
 * as the first probe). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/testutil.h"
#include "util/capture.h"
#include "util/fakefs.h"

#define WAIT_MS 5000
#define CALL_UUID "706da2ae-ece7-44cd-b4c5-8dec8b93e91e"
#define OTHER_UUID "11111111-2222-4333-8444-555555555555"
#define U1 "c0ffee00-0000-4000-8000-0000000000a1"
#define U2 "c0ffee00-0000-4000-8000-0000000000a2"
#define U3 "c0ffee00-0000-4000-8000-0000000000a3"

/* ------------------------------------------------------------ helpers */

/* The server's log lines, with their levels. */
static struct {
    pthread_mutex_t mu;
    char buf[16384];
    size_t len;
    int worst; /* the lowest level seen (0 error); 9 when none */
} g_log = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 9};

static void log_cb(int level, const char *line, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&g_log.mu);
    int n = snprintf(g_log.buf + g_log.len, sizeof g_log.buf - g_log.len, "%d %s\n", level, line);
    if (n > 0 && (size_t)n < sizeof g_log.buf - g_log.len)
        g_log.len += (size_t)n;
    if (level < g_log.worst)
        g_log.worst = level;
    pthread_mutex_unlock(&g_log.mu);
}

static int setup(void **state)
{
    (void)state;
    pthread_mutex_lock(&g_log.mu);
    g_log.len = 0;
    g_log.buf[0] = '\0';
    g_log.worst = 9;
    pthread_mutex_unlock(&g_log.mu);
    return 0;
}

/* Frame i with its Application-UUID replaced by uuid (same length, so the
 * Content-Length still holds). */
static const char *with_app_uuid(capture *c, size_t i, const char *uuid)
{
    const char *f = c->f[i], *tag = strstr(f, "Application-UUID: ");
    assert_non_null(tag);
    assert_int_equal(strlen(uuid), 36);
    char old[37];
    memcpy(old, tag + 18, 36);
    old[36] = '\0';
    char *out = strdup(f);
    for (char *p = out; (p = strstr(p, old)); p += 36)
        memcpy(p, uuid, 36);
    return cap_keep(c, out);
}

/* A small hand-made event (headers as "Name: value\n" lines). */
static const char *event(capture *c, const char *headers)
{
    return cap_keep(c, fs_event_plain(headers, NULL));
}

static const char *api_response(capture *c, const char *body)
{
    size_t n = strlen(body) + 64;
    char *s = malloc(n);
    snprintf(s, n, "Content-Type: api/response\nContent-Length: %zu\n\n%s", strlen(body), body);
    return cap_keep(c, s);
}

static const char *probe_event(capture *c, const char *name)
{
    char h[160];
    snprintf(h, sizeof h, "Event-Name: CUSTOM\nEvent-Subclass: vox%%3A%%3Aprobe\nProbe: %s\n",
             name);
    return event(c, h);
}

static const char *probe_marker(capture *c, const char *name)
{
    char *s = malloc(64);
    snprintf(s, 64, "api echo %s\n\n", name);
    return cap_keep(c, s);
}

static const char *probe_reply(capture *c, const char *name)
{
    char body[32];
    snprintf(body, sizeof body, "%s\n", name);
    return api_response(c, body);
}

/* The hook behind the probes: `api echo <Probe>`, nobody waiting for it. */
static void probe_hook(vox_conn *conn, const vox_event *ev, void *ud)
{
    (void)ud;
    /* no cmocka assert off the test's thread: a missing marker fails the
     * fake's EXPECT instead */
    (void)vox_conn_api(conn, "echo", vox_event_get(ev, "Probe"), 0, NULL, NULL);
}

static void add_probe_hook(vox_call *call)
{
    (void)vox_hook(call, "vox::probe", probe_hook, NULL);
}

/* clang-format off */
#define SEND(x) {FS_SEND, (x), 0}
#define EXPECT(x) {FS_EXPECT, (x), 0}
#define EXPECT_EOF {FS_EXPECT_EOF, NULL, 0}
#define CLOSE {FS_CLOSE, NULL, 0}
#define END {FS_END, NULL, 0}
#define HANDSHAKE(c)                                                                      \
    EXPECT("connect\n\n"), SEND((c)->f[0]), EXPECT("myevents"), SEND((c)->f[1]),         \
        EXPECT("linger"), SEND((c)->f[2])
/* A probe round: the event, its marker (which must be the next command), the
 * marker's api response. */
#define ROUND(c, name) \
    SEND(probe_event((c), (name))), EXPECT(probe_marker((c), (name))), SEND(probe_reply((c), (name)))

/* Frames of LINGER_CAPTURE (see fixtures/README.md). */
/* clang-format on */

static const char ERR_REPLY[] =
    "Content-Type: command/reply\nReply-Text: -ERR invalid session id [" CALL_UUID "]\n\n";
static const char API_DONE[] = "Content-Type: api/response\nContent-Length: 5\n\ndone\n";

static vox_server *start(vox_call_fn fn, void *ud)
{
    vox_server *s = NULL;
    vox_server_opts o = {.log = log_cb};
    assert_int_equal(vox_server_start(&s, &o, fn, ud), 0);
    return s;
}

static void play(vox_server *s, const fs_step *script)
{
    fakefs *f = NULL;
    assert_int_equal(fs_connect(&f, vox_server_port(s), script), 0);
    const char *err = fs_wait(f, WAIT_MS);
    if (err) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        vox_server_stop(s); /* join the call threads before leaving the test */
        fail_msg("fakefs: %s", why);
    }
}

/* The call function returns: what the fake sends after this command
 * reaches the lingering session. */
static void mark_return(vox_call *call)
{
    (void)vox_conn_api(vox_client_conn(call), "echo", "done", 0, NULL, NULL);
}

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "(null)");
}

static int exec_app(vox_call *call, const char *app, const char *arg, const char *uuid,
                    vox_msg **done)
{
    vox_execute x = {.app = app, .arg = arg, .event_uuid = uuid, .event_lock = 1};
    return vox_exec(call, &x, done);
}

/* ------------------------------------------------ one application at a time */

typedef struct two_apps {
    int rc[2];
    char app_uuid[40];
} two_apps;

static void two_apps_fn(vox_call *call, void *ud)
{
    two_apps *t = ud;
    vox_msg *done = NULL;
    add_probe_hook(call);
    t->rc[0] = exec_app(call, "answer", NULL, U1, &done);
    copy(t->app_uuid, sizeof t->app_uuid,
         done ? vox_event_get(vox_msg_event(done), "Application-UUID") : NULL);
    vox_msg_free(done);
    t->rc[1] = exec_app(call, "playback", "tone_stream://%(200,0,800)", U2, NULL);
    mark_return(call);
}

/* The next sendmsg waits for the previous application's EXECUTE_COMPLETE:
 * its +OK, its CHANNEL_EXECUTE, other channels' events (a completion with
 * someone else's Application-UUID among them), a disconnect notice without
 * linger, and an api response all leave the call code waiting. */
static void test_one_app_at_a_time(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    assert_int_equal(c.n, F_COUNT);
    const char *other = event(&c, "Event-Name: CHANNEL_STATE\nUnique-ID: " OTHER_UUID
                                  "\nChannel-State: CS_ROUTING\n");
    static const char notice[] =
        "Content-Type: text/disconnect-notice\nContent-Length: 10\n\nLingering\n";
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: answer\n"
               "event-lock: true\nEvent-UUID: " U1 "\n\n"),
        SEND(c.f[F_OK1]), /* a command reply */
        ROUND(&c, "p1"),
        SEND(c.f[F_PARK]),
        SEND(with_app_uuid(&c, F_EXEC_ANSWER, U1)),
        SEND(c.f[F_ANSWER]),
        SEND(other),
        SEND(c.f[F_DONE_PLAY]), /* the capture's own id: not ours */
        ROUND(&c, "p2"),
        SEND(notice),
        ROUND(&c, "p3"), /* its api response is checked by the next round */
        ROUND(&c, "p4"),
        SEND(with_app_uuid(&c, F_DONE_ANSWER, U1)),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
               "execute-app-arg: tone_stream://%(200,0,800)\nevent-lock: true\n"
               "Event-UUID: " U2 "\n\n"),
        SEND(c.f[F_OK2]),
        SEND(with_app_uuid(&c, F_EXEC_PLAY, U2)),
        SEND(with_app_uuid(&c, F_DONE_PLAY, U2)),
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    two_apps t = {{-99, -99}, ""};
    vox_server *s = start(two_apps_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.rc[0], 0);
    assert_int_equal(t.rc[1], 0);
    assert_string_equal(t.app_uuid, U1);
}

/* A linger notice while a started application runs (the caller hung up):
 * the application is still waited for, up to its own EXECUTE_COMPLETE (cut
 * short); the next one ends at once with VOX_EHANGUP and sends nothing. */
typedef struct cut_short {
    int rc[2], hungup;
    char response[32];
} cut_short;

static void cut_short_fn(vox_call *call, void *ud)
{
    cut_short *t = ud;
    vox_msg *done = NULL;
    add_probe_hook(call);
    t->rc[0] = exec_app(call, "playback", "tone_stream://%(200,0,800)", U2, &done);
    copy(t->response, sizeof t->response,
         done ? vox_event_get(vox_msg_event(done), "Application-Response") : NULL);
    vox_msg_free(done);
    t->rc[1] = exec_app(call, "playback", "again.wav", U3, NULL);
    t->hungup = vox_call_hungup(call);
    mark_return(call);
}

static void test_linger_notice_mid_app(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    char hdr[512];
    snprintf(hdr, sizeof hdr,
             "Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: %s\nApplication: playback\n"
             "Application-UUID: %s\nApplication-Response: PLAYBACK%%20ERROR\n",
             CALL_UUID, U2);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: playback\n"),
        SEND(c.f[F_OK2]),
        SEND(with_app_uuid(&c, F_EXEC_PLAY, U2)),
        SEND(c.f[F_HANGUP]),
        SEND(c.f[F_LINGER]),
        ROUND(&c, "p1"),
        ROUND(&c, "p2"),
        SEND(event(&c, hdr)),
        /* no second sendmsg: the channel is gone */
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]),
        EXPECT_EOF,
        END,
    };
    cut_short t = {{-99, -99}, 0, ""};
    vox_server *s = start(cut_short_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.rc[0], 0);
    assert_string_equal(t.response, "PLAYBACK ERROR");
    assert_int_equal(t.rc[1], VOX_EHANGUP);
    assert_int_equal(t.hungup, 1);
}

/* ------------------------------------- api between applications, headers */

typedef struct api_between {
    int rc[3];
    char said[32];
} api_between;

static void api_between_fn(vox_call *call, void *ud)
{
    api_between *t = ud;
    vox_msg *reply = NULL;
    t->rc[0] = exec_app(call, "answer", NULL, U1, NULL);
    t->rc[1] = vox_api(call, "echo hello", &reply);
    size_t len = 0;
    const char *body = reply ? vox_msg_body(reply, &len) : "";
    snprintf(t->said, sizeof t->said, "INFO %.*s", (int)strcspn(body, "\n"), body);
    vox_msg_free(reply);
    static const vox_header extra[] = {{"X-Vox-Test", "42"}};
    vox_execute x = {.app = "log", .arg = t->said, .event_uuid = U3, .event_lock = 0,
                     .hold_bleg = 1, .async = 1, .headers = extra, .nheaders = 1};
    t->rc[2] = vox_exec(call, &x, NULL);
    mark_return(call);
}

/* An api call between two applications runs after the first one's
 * completion, and the second application is sent only with the api's
 * answer (its argument is that answer). The vox_execute fields reach the
 * wire: event-lock only when asked, hold-bleg, async, extra headers. */
static void test_api_between_apps(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    const char *exec_log = event(&c, "Event-Name: CHANNEL_EXECUTE\nUnique-ID: " CALL_UUID
                                     "\nApplication: log\nApplication-UUID: " U3 "\n");
    const char *done_log =
        event(&c, "Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: " CALL_UUID
                  "\nApplication: log\nApplication-UUID: " U3 "\nApplication-Response: _none_\n");
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: answer\nevent-lock: true\n"
               "Event-UUID: " U1 "\n\n"),
        SEND(c.f[F_OK1]),
        SEND(with_app_uuid(&c, F_EXEC_ANSWER, U1)),
        SEND(with_app_uuid(&c, F_DONE_ANSWER, U1)),
        EXPECT("api echo hello\n\n"),
        SEND(api_response(&c, "hello\n")),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: log\n"
               "execute-app-arg: INFO hello\nhold-bleg: true\nasync: true\n"
               "Event-UUID: " U3 "\nX-Vox-Test: 42\n\n"),
        SEND(c.f[F_OK2]),
        SEND(exec_log),
        SEND(done_log),
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    api_between t = {{-99, -99, -99}, ""};
    vox_server *s = start(api_between_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    for (int i = 0; i < 3; i++)
        assert_int_equal(t.rc[i], 0);
    assert_string_equal(t.said, "INFO hello");
}

/* ------------------------------------------------------------- loops */

#define LOOP_UUID(k) "c0ffee01-0000-4000-8000-00000000000" #k

typedef struct loops {
    int rc[3];
    char last_loop[8];
} loops;

static void loops_fn(vox_call *call, void *ud)
{
    loops *t = ud;
    vox_msg *done = NULL;
    add_probe_hook(call);
    t->rc[0] = exec_app(call, "answer", NULL, LOOP_UUID(1), NULL);
    vox_execute x = {.app = "playback", .arg = "tone_stream://%(600,0,500)", .loops = 3,
                     .event_lock = 1, .event_uuid = LOOP_UUID(2)};
    t->rc[1] = vox_exec(call, &x, &done);
    copy(t->last_loop, sizeof t->last_loop,
         done ? vox_event_get(vox_msg_event(done), "variable_current_loop") : NULL);
    vox_msg_free(done);
    t->rc[2] = exec_app(call, "hangup", NULL, LOOP_UUID(3), NULL);
    mark_return(call);
}

/* `loops: 3` on the wire, and the call waits through the first two
 * completions (same Application-UUID) for the third: the capture's own
 * bytes, its Event-UUIDs passed in by the call code. */
static void test_loops_wait_for_last(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, "outbound_loops3.s2c.raw");
    assert_int_equal(c.n, 27);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: answer\nevent-lock: true\n"
               "Event-UUID: " LOOP_UUID(1) "\n\n"),
        SEND(c.f[3]), SEND(c.f[5]), SEND(c.f[6]), SEND(c.f[7]), SEND(c.f[8]),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
               "execute-app-arg: tone_stream://%(600,0,500)\nloops: 3\nevent-lock: true\n"
               "Event-UUID: " LOOP_UUID(2) "\n\n"),
        SEND(c.f[4]), SEND(c.f[9]), SEND(c.f[10]),
        ROUND(&c, "loop1a"), ROUND(&c, "loop1b"),
        SEND(c.f[11]), SEND(c.f[12]),
        ROUND(&c, "loop2a"), ROUND(&c, "loop2b"),
        SEND(c.f[13]), SEND(c.f[14]),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: hangup\nevent-lock: true\n"
               "Event-UUID: " LOOP_UUID(3) "\n\n"),
        SEND(c.f[15]), SEND(c.f[16]), SEND(c.f[17]), SEND(c.f[18]),
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[19]), SEND(c.f[20]), SEND(c.f[21]), SEND(c.f[22]), SEND(c.f[23]),
        SEND(c.f[24]),
        EXPECT_EOF,
        END,
    };
    loops t = {{-99, -99, -99}, ""};
    vox_server *s = start(loops_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    for (int i = 0; i < 3; i++)
        assert_int_equal(t.rc[i], 0);
    assert_string_equal(t.last_loop, "3");
}

/* ------------------------------------------------ reader applications */

#define ID_TOKEN "XXXXXXXX-XXXX-4XXX-8XXX-XXXXXXXXXXXX"

/* A hand-made event whose ID_TOKEN becomes the Event-UUID of the command
 * the fake read last (both 36 characters: the Content-Length holds). */
static const char *event_for_last(capture *c, const char *headers)
{
    char *s = fs_event_plain(headers, NULL);
    assert_non_null(s);
    for (char *p = s; (p = strstr(p, ID_TOKEN)); p += 13) {
        memcpy(p, "${event-uuid}", 13);
        memmove(p + 13, p + 36, strlen(p + 36) + 1);
    }
    return cap_keep(c, s);
}

typedef struct reader {
    int rc[3];
    char d1[8], d2[8], var[16];
} reader;

static void reader_fn(vox_call *call, void *ud)
{
    reader *t = ud;
    t->rc[0] = vox_read(call, &(vox_read_opts){.file = "ask.wav", .var = "app_var"}, t->d1,
                        sizeof t->d1);
    copy(t->var, sizeof t->var, vox_call_variable(call, "app_var"));
    t->rc[1] = vox_play_and_get_digits(call, &(vox_pagd){.file = "pin.wav", .var = "pin_var"},
                                       t->d2, sizeof t->d2);
    char arg[64];
    snprintf(arg, sizeof arg, "INFO the end: %s %s", t->d1, t->d2);
    t->rc[2] = exec_app(call, "log", arg, U3, NULL);
    mark_return(call);
}

/* read and play_and_get_digits return the variable their completion
 * carries, and the next application is sent only then, with it. */
static void test_reader_apps(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    const char *exec_any = "Event-Name: CHANNEL_EXECUTE\nUnique-ID: " CALL_UUID
                           "\nApplication-UUID: " ID_TOKEN "\n";
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: read\n"
               "execute-app-arg: 1 2 ask.wav app_var 5000 #\nevent-lock: true\n"),
        SEND(c.f[F_OK1]),
        SEND(event_for_last(&c, exec_any)),
        SEND(event_for_last(&c, "Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: " CALL_UUID
                                "\nApplication: read\nApplication-UUID: " ID_TOKEN
                                "\nvariable_app_var: 1234\n")),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: play_and_get_digits\n"),
        SEND(c.f[F_OK2]),
        SEND(event_for_last(&c, exec_any)),
        SEND(event_for_last(&c, "Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: " CALL_UUID
                                "\nApplication: play_and_get_digits\nApplication-UUID: " ID_TOKEN
                                "\nvariable_app_var: 1234\nvariable_pin_var: 42\n")),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: log\n"
               "execute-app-arg: INFO the end: 1234 42\nevent-lock: true\n"
               "Event-UUID: " U3 "\n\n"),
        SEND(c.f[F_OK1]),
        SEND(event(&c, "Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: " CALL_UUID
                       "\nApplication: log\nApplication-UUID: " U3 "\n")),
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    reader t = {{-99, -99, -99}, "", "", ""};
    vox_server *s = start(reader_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    for (int i = 0; i < 3; i++)
        assert_int_equal(t.rc[i], 0);
    assert_string_equal(t.d1, "1234");
    assert_string_equal(t.d2, "42");
    assert_string_equal(t.var, "1234");
}

/* --------------------------------------------- channel data and update */

typedef struct update {
    vox_call *call;
    int rc[2], data_hooks;
    char before[16], after[16], state[16], seen[16];
} update;

static void seen_probe(vox_conn *conn, const vox_event *ev, void *ud)
{
    update *t = ud;
    copy(t->seen, sizeof t->seen, vox_call_variable(t->call, "session_var"));
    probe_hook(conn, ev, NULL);
}

static void data_hook(vox_conn *conn, const vox_event *ev, void *ud)
{
    (void)conn;
    (void)ev;
    ((update *)ud)->data_hooks++;
}

static void update_fn(vox_call *call, void *ud)
{
    update *t = ud;
    t->call = call;
    vox_hook(call, "vox::probe", seen_probe, t);
    vox_hook(call, "CHANNEL_DATA", data_hook, t);
    copy(t->before, sizeof t->before, vox_call_variable(call, "session_var"));
    t->rc[0] = vox_call_update(call);
    copy(t->after, sizeof t->after, vox_call_variable(call, "session_var"));
    copy(t->state, sizeof t->state, vox_event_get(vox_call_data(call), "Channel-State"));
    char arg[48];
    snprintf(arg, sizeof arg, "INFO yay, %s", t->after);
    t->rc[1] = exec_app(call, "log", arg, U3, NULL);
    mark_return(call);
}

/* vox_call_update (uuid_dump) refreshes the data before the next step;
 * CHANNEL_DATA of the call replaces it, one of another channel does not,
 * and both run the CHANNEL_DATA hooks. */
static void test_update_before_next_step(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("api uuid_dump " CALL_UUID "\n\n"),
        SEND(api_response(&c, "Event-Name: CHANNEL_DATA\nUnique-ID: " CALL_UUID
                              "\nChannel-State: CS_EXECUTE\nvariable_session_var: Second\n\n")),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: log\n"
               "execute-app-arg: INFO yay, Second\nevent-lock: true\nEvent-UUID: " U3 "\n\n"),
        SEND(c.f[F_OK1]),
        SEND(event(&c, "Event-Name: CHANNEL_DATA\nUnique-ID: " CALL_UUID
                       "\nvariable_session_var: Third\n")),
        SEND(event(&c, "Event-Name: CHANNEL_DATA\nUnique-ID: " OTHER_UUID
                       "\nvariable_session_var: Wrong\n")),
        ROUND(&c, "p1"),
        SEND(event(&c, "Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: " CALL_UUID
                       "\nApplication: log\nApplication-UUID: " U3 "\n")),
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    update t = {0};
    vox_server *s = start(update_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.rc[0], 0);
    assert_int_equal(t.rc[1], 0);
    assert_string_equal(t.before, "(null)");
    assert_string_equal(t.after, "Second");
    assert_string_equal(t.state, "CS_EXECUTE");
    assert_string_equal(t.seen, "Third");
    assert_int_equal(t.data_hooks, 2);
}

/* --------------------------------------------------------------- -ERR */

typedef struct errs {
    int rc[3];
    char text[64];
} errs;

static void err_goes_on_fn(vox_call *call, void *ud)
{
    errs *t = ud;
    vox_msg *reply = NULL;
    t->rc[0] = exec_app(call, "answer", NULL, U1, NULL);
    t->rc[1] = vox_command(call, &(vox_buf){.data = "getvar x\n\n", .len = 10}, &reply);
    copy(t->text, sizeof t->text, reply ? vox_msg_reply_text(reply) : NULL);
    vox_msg_free(reply);
    t->rc[2] = exec_app(call, "playback", "tone_stream://%(200,0,800)", U2, NULL);
    mark_return(call);
}

/* -ERR handled: each caller gets VOX_EREPLY (with the reply) and the call
 * code goes on; a stray completion of the refused application's id later
 * changes nothing. */
static void test_err_handled(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    static const char getvar_err[] = "Content-Type: command/reply\nReply-Text: -ERR no such var\n\n";
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: answer\n"),
        SEND(ERR_REPLY),
        EXPECT("getvar x\n\n"),
        SEND(getvar_err),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: playback\n"),
        SEND(c.f[F_OK2]),
        SEND(with_app_uuid(&c, F_DONE_ANSWER, U1)),
        SEND(with_app_uuid(&c, F_EXEC_PLAY, U2)),
        SEND(with_app_uuid(&c, F_DONE_PLAY, U2)),
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    errs t = {{-99, -99, -99}, ""};
    vox_server *s = start(err_goes_on_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.rc[0], VOX_EREPLY);
    assert_int_equal(t.rc[1], VOX_EREPLY);
    assert_string_equal(t.text, "-ERR no such var");
    assert_int_equal(t.rc[2], 0);
}

static void err_ignored_fn(vox_call *call, void *ud)
{
    (void)ud;
    exec_app(call, "answer", NULL, U1, NULL); /* -ERR, ignored */
}

/* -ERR unhandled: the call function ignores it and returns; the session
 * lingers until the hangup and the notice, ends cleanly, and the server's
 * log tells its start and end with no warning or error. */
static void test_err_unhandled(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: answer\n"),
        SEND(ERR_REPLY),
        SEND(c.f[F_HANGUP]),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    vox_server *s = start(err_ignored_fn, NULL);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    pthread_mutex_lock(&g_log.mu);
    int ok = strstr(g_log.buf, "3 call " CALL_UUID " from 127.0.0.1: started") &&
             strstr(g_log.buf, "3 call " CALL_UUID " from 127.0.0.1: ended") && g_log.worst >= 2;
    if (!ok)
        fprintf(stderr, "log:\n%s", g_log.buf);
    pthread_mutex_unlock(&g_log.mu);
    assert_true(ok);
}

/* ----------------------------------------- hooks finish before the close */

/* A plain socket playing FreeSWITCH, for the one thing the script cannot
 * watch: whether the session's socket stays open while a hook runs. */
static int raw_connect(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void raw_send(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        s += n;
        len -= (size_t)n;
    }
}

/* Reads one command (no body) and checks its first line. */
static void raw_expect(int fd, const char *want)
{
    char buf[4096];
    size_t len = 0;
    while (len < 2 || memcmp(buf + len - 2, "\n\n", 2)) {
        struct pollfd p = {fd, POLLIN, 0};
        assert_int_equal(poll(&p, 1, WAIT_MS), 1);
        ssize_t n = recv(fd, buf + len, 1, 0); /* byte by byte: never past the command */
        assert_int_equal(n, 1);
        len++;
        assert_true(len < sizeof buf);
    }
    buf[len] = '\0';
    if (strncmp(buf, want, strlen(want)))
        fail_msg("expected \"%s\", got \"%s\"", want, buf);
}

typedef struct slow_hook {
    tu_flag entered, release, returned;
} slow_hook;

static void slow_hc_hook(vox_conn *conn, const vox_event *ev, void *ud)
{
    slow_hook *h = ud;
    (void)conn;
    (void)ev;
    tu_flag_raise(&h->entered);
    tu_flag_wait(&h->release, 1, WAIT_MS);
    tu_flag_raise(&h->returned);
}

static void slow_hook_fn(vox_call *call, void *ud)
{
    vox_hook(call, "CHANNEL_HANGUP_COMPLETE", slow_hc_hook, ud);
    mark_return(call);
}

/* The HANGUP_COMPLETE hook blocks; whichever order the latch completes in,
 * the socket stays open (no EOF within 200 ms) until the hook returns, and
 * closes after it. */
static void hook_delays_close(int notice_first)
{
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    slow_hook h = {TU_FLAG_INIT, TU_FLAG_INIT, TU_FLAG_INIT};
    vox_server *s = start(slow_hook_fn, &h);
    int fd = raw_connect(vox_server_port(s));
    raw_expect(fd, "connect\n\n");
    raw_send(fd, c.f[0]);
    raw_expect(fd, "myevents");
    raw_send(fd, c.f[1]);
    raw_expect(fd, "linger");
    raw_send(fd, c.f[2]);
    raw_expect(fd, "api echo done"); /* the hook is in place */
    raw_send(fd, API_DONE);
    raw_send(fd, c.f[F_HANGUP]);
    if (notice_first)
        raw_send(fd, c.f[F_LINGER]);
    raw_send(fd, c.f[F_HANGUP_COMPLETE]);
    assert_true(tu_flag_wait(&h.entered, 1, WAIT_MS));
    if (!notice_first)
        raw_send(fd, c.f[F_LINGER]);
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 200), 0); /* still open while the hook runs */
    assert_int_equal(tu_flag_get(&h.returned), 0);
    tu_flag_raise(&h.release);
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    char b;
    assert_int_equal(recv(fd, &b, 1, 0), 0);
    assert_int_equal(tu_flag_get(&h.returned), 1); /* it returned before the close */
    close(fd);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(tu_flag_get(&h.entered), 1);
}

static void test_hook_delays_close_hangup_first(void **state)
{
    (void)state;
    hook_delays_close(0);
}

static void test_hook_delays_close_notice_first(void **state)
{
    (void)state;
    hook_delays_close(1);
}

/* ---------------------------------------------------- drops, disconnects */

typedef struct dropped {
    int rc[4], answers;
} dropped;

static void count_answer(vox_conn *conn, const vox_event *ev, void *ud)
{
    (void)conn;
    (void)ev;
    ((dropped *)ud)->answers++;
}

static void drop_in_api_fn(vox_call *call, void *ud)
{
    dropped *t = ud;
    vox_msg *reply = NULL;
    t->rc[0] = vox_api(call, "status", &reply);
    t->rc[1] = reply != NULL;
    vox_msg_free(reply);
    t->rc[2] = vox_call_update(call);
    t->rc[3] = exec_app(call, "answer", NULL, U1, NULL);
}

static void drop_in_app_fn(vox_call *call, void *ud)
{
    dropped *t = ud;
    vox_hook(call, "CHANNEL_ANSWER", count_answer, t);
    t->rc[0] = exec_app(call, "answer", NULL, U1, NULL);
    t->rc[1] = vox_is_open(call);
    t->rc[2] = vox_api(call, "status", NULL);
    t->rc[3] = vox_disconnect(call);
}

/* FreeSWITCH goes away while an api waits: VOX_ECLOSED, and every later
 * helper fails at once; the session's end is logged. */
static void test_drop_during_api(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {HANDSHAKE(&c), EXPECT("api status\n\n"), CLOSE, END};
    dropped t = {{-99, -99, -99, -99}, 0};
    vox_server *s = start(drop_in_api_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.rc[0], VOX_ECLOSED);
    assert_int_equal(t.rc[1], 0);
    assert_int_equal(t.rc[2], VOX_ECLOSED);
    assert_int_equal(t.rc[3], VOX_ECLOSED);
    pthread_mutex_lock(&g_log.mu);
    int ok = strstr(g_log.buf, "call " CALL_UUID " from 127.0.0.1: ended") != NULL;
    pthread_mutex_unlock(&g_log.mu);
    assert_true(ok);
}

/* ... and while a started application runs: the hooks saw every event
 * before the drop. */
static void test_drop_during_started_app(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: answer\n"),
        SEND(c.f[F_OK1]),
        SEND(with_app_uuid(&c, F_EXEC_ANSWER, U1)),
        SEND(c.f[F_ANSWER]),
        CLOSE,
        END,
    };
    dropped t = {{-99, -99, -99, -99}, 0};
    vox_server *s = start(drop_in_app_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.rc[0], VOX_ECLOSED);
    assert_int_equal(t.rc[1], 0);
    assert_int_equal(t.rc[2], VOX_ECLOSED);
    assert_int_equal(t.rc[3], VOX_ECLOSED);
    assert_int_equal(t.answers, 1);
}

typedef struct late_disc {
    int rc, hc_after;
} late_disc;

static void disc_on_hangup(vox_conn *conn, const vox_event *ev, void *ud)
{
    (void)ev;
    ((late_disc *)ud)->rc = vox_conn_disconnect(conn);
}

static void hc_seen(vox_conn *conn, const vox_event *ev, void *ud)
{
    (void)conn;
    (void)ev;
    late_disc *t = ud;
    t->hc_after = t->rc == 0;
}

static void late_disc_fn(vox_call *call, void *ud)
{
    vox_hook(call, "CHANNEL_HANGUP", disc_on_hangup, ud);
    vox_hook(call, "CHANNEL_HANGUP_COMPLETE", hc_seen, ud);
    mark_return(call);
}

/* A hook of a lingering session (its call function has returned)
 * disconnects: the write side is shut down, the events FreeSWITCH still
 * sends reach the hooks, and its goodbye and close end the session. */
static void test_disconnect_from_lingering_hook(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP]),
        EXPECT_EOF,
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_DISCONNECT]),
        CLOSE,
        END,
    };
    late_disc t = {-99, 0};
    vox_server *s = start(late_disc_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.rc, 0);
    assert_int_equal(t.hc_after, 1);
}

/* ------------------------------------------- blocking api inside a hook */

typedef struct hook_api {
    vox_call *call;
    int rc[3];
    char out[2][16];
} hook_api;

static void api_in_hook(vox_conn *conn, const vox_event *ev, void *ud)
{
    hook_api *t = ud;
    (void)conn;
    (void)ev;
    const char *cmds[2] = {"echo one", "echo two three"};
    for (int i = 0; i < 2; i++) {
        vox_msg *reply = NULL;
        t->rc[i] = vox_api(t->call, cmds[i], &reply);
        copy(t->out[i], sizeof t->out[i], reply ? vox_msg_reply_text(reply) : NULL);
        vox_msg_free(reply);
    }
}

static void hook_api_fn(vox_call *call, void *ud)
{
    hook_api *t = ud;
    t->call = call;
    vox_hook(call, "CHANNEL_ANSWER", api_in_hook, t);
    t->rc[2] = exec_app(call, "answer", NULL, U1, NULL);
    mark_return(call);
}

/* A hook may run api commands with the blocking helpers while the call
 * waits in vox_exec: one at a time, each returning its response, and the
 * events that came in the same read as the hooked one are still handled
 * afterwards (here the application's completion). */
static void test_blocking_api_in_hook(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    const char *answer = c.f[F_ANSWER], *done = with_app_uuid(&c, F_DONE_ANSWER, U1);
    char *both = malloc(strlen(answer) + strlen(done) + 1);
    memcpy(both, answer, strlen(answer));
    memcpy(both + strlen(answer), done, strlen(done) + 1);
    char *big = malloc(8192);
    memset(big, 'x', 8190);
    memcpy(big, "one", 3);
    big[8190] = '\n';
    big[8191] = '\0';
    cap_keep(&c, big);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg\ncall-command: execute\nexecute-app-name: answer\n"),
        SEND(c.f[F_OK1]),
        SEND(with_app_uuid(&c, F_EXEC_ANSWER, U1)),
        SEND(cap_keep(&c, both)), /* one write: ANSWER and the COMPLETE */
        EXPECT("api echo one\n\n"),
        SEND(api_response(&c, big)), /* longer than the ANSWER frame before it */
        EXPECT("api echo two three\n\n"),
        SEND(api_response(&c, "two three\n")),
        EXPECT("api echo done\n\n"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    hook_api t = {NULL, {-99, -99, -99}, {"", ""}};
    vox_server *s = start(hook_api_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.rc[0], 0);
    assert_int_equal(t.rc[1], 0);
    assert_string_equal(t.out[0], "onexxxxxxxxxxxx"); /* its first 15 bytes */
    assert_string_equal(t.out[1], "two three\n");
    assert_int_equal(t.rc[2], 0);
}

/* ------------------------------------- events right after the handshake */

typedef struct early {
    int parks;
} early;

static void count_park(vox_conn *conn, const vox_event *ev, void *ud)
{
    (void)conn;
    (void)ev;
    ((early *)ud)->parks++;
}

static void early_fn(vox_call *call, void *ud)
{
    vox_hook(call, "CHANNEL_PARK", count_park, ud);
    mark_return(call);
}

/* FreeSWITCH sends the channel's first events (CHANNEL_PARK, the socket
 * application's CHANNEL_EXECUTE) right behind the `linger` reply, often in
 * the same TCP segment. Rule 2 says every event before the end reaches the
 * hooks; the call function is the first place a hook can be added, so
 * those events must not be dispatched before it runs. */
static void test_event_with_handshake_reply(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    char *both = malloc(strlen(c.f[2]) + strlen(c.f[F_PARK]) + 1);
    memcpy(both, c.f[2], strlen(c.f[2]));
    memcpy(both + strlen(c.f[2]), c.f[F_PARK], strlen(c.f[F_PARK]) + 1);
    fs_step script[] = {
        EXPECT("connect\n\n"), SEND(c.f[0]), EXPECT("myevents"), SEND(c.f[1]),
        EXPECT("linger"), SEND(cap_keep(&c, both)), /* one write: reply and event */
        EXPECT("api echo done\n\n"), SEND(API_DONE),
        SEND(c.f[F_HANGUP_COMPLETE]), SEND(c.f[F_LINGER]), EXPECT_EOF, END,
    };
    early t = {0};
    vox_server *s = start(early_fn, &t);
    play(s, script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(t.parks, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_one_app_at_a_time, setup),
        cmocka_unit_test_setup(test_linger_notice_mid_app, setup),
        cmocka_unit_test_setup(test_api_between_apps, setup),
        cmocka_unit_test_setup(test_loops_wait_for_last, setup),
        cmocka_unit_test_setup(test_reader_apps, setup),
        cmocka_unit_test_setup(test_update_before_next_step, setup),
        cmocka_unit_test_setup(test_err_handled, setup),
        cmocka_unit_test_setup(test_err_unhandled, setup),
        cmocka_unit_test_setup(test_hook_delays_close_hangup_first, setup),
        cmocka_unit_test_setup(test_hook_delays_close_notice_first, setup),
        cmocka_unit_test_setup(test_drop_during_api, setup),
        cmocka_unit_test_setup(test_drop_during_started_app, setup),
        cmocka_unit_test_setup(test_disconnect_from_lingering_hook, setup),
        cmocka_unit_test_setup(test_blocking_api_in_hook, setup),
        cmocka_unit_test_setup(test_event_with_handshake_reply, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
