/* The threaded outbound server over loopback, with the scripted fake
 * FreeSWITCH playing the outbound side from real captures. Every wait is
 * bounded; nothing sleeps to synchronise: the tests wait on conditions the
 * call functions, the hooks and the server's log raise, and read the call
 * functions' results after vox_server_stop has joined their threads. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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
#define MY_EVENT_UUID "c0ffee00-0000-4000-8000-000000000001"

/* ------------------------------------------------------------ helpers */

/* A counter other threads raise and a test waits on (bounded). */
static tu_flag g_entered = TU_FLAG_INIT;

/* The server's log, kept to assert what it reported. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char buf[32768];
    size_t len;
} g_log = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0};

static void log_cb(int level, const char *line, void *ud)
{
    (void)level;
    (void)ud;
    pthread_mutex_lock(&g_log.mu);
    int n = snprintf(g_log.buf + g_log.len, sizeof g_log.buf - g_log.len, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof g_log.buf - g_log.len)
        g_log.len += (size_t)n;
    pthread_cond_broadcast(&g_log.cv);
    pthread_mutex_unlock(&g_log.mu);
}

static int log_wait(const char *needle)
{
    struct timespec dl = tu_abs_in(WAIT_MS);
    pthread_mutex_lock(&g_log.mu);
    while (!strstr(g_log.buf, needle))
        if (pthread_cond_timedwait(&g_log.cv, &g_log.mu, &dl) == ETIMEDOUT)
            break;
    int ok = strstr(g_log.buf, needle) != NULL;
    if (!ok)
        fprintf(stderr, "log without \"%s\":\n%s", needle, g_log.buf);
    pthread_mutex_unlock(&g_log.mu);
    return ok;
}

static int setup(void **state)
{
    (void)state;
    pthread_mutex_lock(&g_log.mu);
    g_log.len = 0;
    g_log.buf[0] = '\0';
    pthread_mutex_unlock(&g_log.mu);
    pthread_mutex_lock(&g_entered.mu);
    g_entered.n = 0;
    pthread_mutex_unlock(&g_entered.mu);
    return 0;
}

/* clang-format off */
#define SEND(x) {FS_SEND, (x), 0}
#define EXPECT(x) {FS_EXPECT, (x), 0}
#define EXPECT_EOF {FS_EXPECT_EOF, NULL, 0}
#define END {FS_END, NULL, 0}
#define HANDSHAKE(c)                                                                      \
    EXPECT("connect\n\n"), SEND((c)->f[0]), EXPECT("myevents"), SEND((c)->f[1]),         \
        EXPECT("linger"), SEND((c)->f[2])
/* clang-format on */

static vox_server *start(vox_server_opts *o, vox_call_fn fn, void *ud)
{
    vox_server *s = NULL;
    o->log = log_cb;
    assert_int_equal(vox_server_start(&s, o, fn, ud), 0);
    assert_int_not_equal(vox_server_port(s), 0);
    return s;
}

static void play(uint16_t port, const fs_step *script)
{
    fakefs *f = NULL;
    assert_int_equal(fs_connect(&f, port, script), 0);
    const char *err = fs_wait(f, WAIT_MS);
    if (err)
        fail_msg("fakefs: %s", err);
}

/* A request nobody waits for: its bytes go out the next time the driver
 * runs, here only once the call function has returned, so whatever the
 * fake sends after it reaches the lingering session. */
static void mark_return(vox_call *call)
{
    assert_int_equal(vox_conn_api(vox_client_conn(call), "echo", "done", 0, NULL, NULL), 0);
}

static const char API_DONE[] = "Content-Type: api/response\nContent-Length: 5\n\ndone\n";

/* ------------------------------------------------------ a whole session */

typedef struct session {
    pthread_t thread;
    int in_exec;
    int returned;
    int rc[8];
    int hook_answer; /* CHANNEL_ANSWER, on the call thread, inside vox_exec */
    int hook_hc;     /* HANGUP_COMPLETE, on the call thread, after return */
    int hook_wrong_thread;
    int events;
    int hungup_before, hungup_after;
    char uuid[64], dest[32], foo[16], app_uuid[40], app[16];
} session;

static void on_answer(vox_conn *c, const vox_event *ev, void *ud)
{
    session *s = ud;
    (void)c;
    (void)ev;
    s->hook_wrong_thread |= !pthread_equal(pthread_self(), s->thread);
    s->hook_answer = s->in_exec && !s->returned;
}

static void on_hangup_complete(vox_conn *c, const vox_event *ev, void *ud)
{
    session *s = ud;
    (void)c;
    (void)ev;
    s->hook_wrong_thread |= !pthread_equal(pthread_self(), s->thread);
    s->hook_hc = s->returned;
}

static void on_any(vox_conn *c, const vox_event *ev, void *ud)
{
    (void)c;
    (void)ev;
    ((session *)ud)->events++;
}

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "(null)");
}

static int exec_app(vox_call *call, const char *app, const char *arg, const char *event_uuid,
                    vox_msg **done)
{
    vox_execute x = {.app = app, .arg = arg, .event_uuid = event_uuid, .event_lock = 1};
    return vox_exec(call, &x, done);
}

static void session_fn(vox_call *call, void *ud)
{
    session *s = ud;
    vox_msg *done = NULL;
    s->thread = pthread_self();
    copy(s->uuid, sizeof s->uuid, vox_call_uuid(call));
    copy(s->dest, sizeof s->dest, vox_event_get(vox_call_data(call), "Caller-Destination-Number"));
    vox_hook(call, "CHANNEL_ANSWER", on_answer, s);
    vox_hook(call, "CHANNEL_HANGUP_COMPLETE", on_hangup_complete, s);
    vox_hook(call, NULL, on_any, s);
    s->in_exec = 1;
    s->rc[0] = exec_app(call, "answer", NULL, MY_EVENT_UUID, &done);
    s->in_exec = 0;
    if (done) {
        copy(s->app_uuid, sizeof s->app_uuid,
             vox_event_get(vox_msg_event(done), "Application-UUID"));
        copy(s->app, sizeof s->app, vox_event_get(vox_msg_event(done), "Application"));
    }
    vox_msg_free(done);
    s->rc[1] = exec_app(call, "playback", "tone_stream://%(200,0,800)", NULL, NULL);
    s->rc[2] = exec_app(call, "set", "foo=bar", NULL, NULL);
    copy(s->foo, sizeof s->foo, vox_call_variable(call, "foo"));
    s->hungup_before = vox_call_hungup(call);
    s->rc[3] = exec_app(call, "hangup", NULL, NULL, NULL);
    s->hungup_after = vox_call_hungup(call);
    mark_return(call);
    s->returned = 1;
}

/* The capture's call, replayed: every sendmsg completes by its own
 * Event-UUID, the hooks run on the call's thread, and the session ends by
 * itself once it saw HANGUP_COMPLETE and the linger notice, in that order. */
static void test_session(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    assert_int_equal(c.n, F_COUNT);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK1]),
        SEND(c.f[F_PARK]),
        SEND(cap_with_event_uuid(&c, F_EXEC_ANSWER)),
        SEND(c.f[F_ANSWER]),
        SEND(cap_with_event_uuid(&c, F_DONE_ANSWER)),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK2]),
        SEND(cap_with_event_uuid(&c, F_EXEC_PLAY)),
        SEND(cap_with_event_uuid(&c, F_DONE_PLAY)),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK3]),
        SEND(cap_with_event_uuid(&c, F_EXEC_SET)),
        SEND(cap_with_event_uuid(&c, F_DONE_SET)),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK4]),
        SEND(cap_with_event_uuid(&c, F_EXEC_HANGUP)),
        SEND(c.f[F_HANGUP]),
        SEND(cap_with_event_uuid(&c, F_DONE_HANGUP)),
        EXPECT("api echo done"),
        SEND(API_DONE),
        SEND(c.f[F_UNPARK]),
        SEND(c.f[F_DONE_SOCKET]),
        SEND(c.f[F_STATE1]),
        SEND(c.f[F_STATE2]),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    session st = {0};
    vox_server_opts o = {0};
    vox_server *s = start(&o, session_fn, &st);
    play(vox_server_port(s), script);
    vox_server_stop(s);
    cap_free(&c);

    for (int i = 0; i < 4; i++)
        assert_int_equal(st.rc[i], 0);
    assert_string_equal(st.uuid, CALL_UUID);
    assert_string_equal(st.dest, "9101");
    assert_string_equal(st.app, "answer");
    assert_string_equal(st.app_uuid, MY_EVENT_UUID);
    assert_string_equal(st.foo, "bar");
    assert_int_equal(st.hungup_before, 0);
    assert_int_equal(st.hungup_after, 1);
    assert_int_equal(st.hook_answer, 1);
    assert_int_equal(st.hook_hc, 1);
    assert_int_equal(st.hook_wrong_thread, 0);
    /* PARK, 4 x EXECUTE, ANSWER, 4 x COMPLETE, HANGUP, UNPARK, COMPLETE
     * (socket), 2 x STATE, HANGUP_COMPLETE */
    assert_int_equal(st.events, 16);
}

/* The other order FreeSWITCH may use: the linger notice right after
 * CHANNEL_HANGUP. The session goes on reading until HANGUP_COMPLETE and
 * its hooks see every event after the notice. */
static void short_fn(vox_call *call, void *ud)
{
    session *s = ud;
    s->thread = pthread_self();
    vox_hook(call, "CHANNEL_HANGUP_COMPLETE", on_hangup_complete, s);
    vox_hook(call, NULL, on_any, s);
    mark_return(call);
    s->returned = 1;
}

static void test_notice_before_hangup_complete(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("api echo done"),
        SEND(API_DONE),
        SEND(c.f[F_HANGUP]),
        SEND(c.f[F_LINGER]),
        SEND(c.f[F_UNPARK]),
        SEND(c.f[F_DONE_SOCKET]),
        SEND(c.f[F_STATE1]),
        SEND(c.f[F_STATE2]),
        SEND(c.f[F_HANGUP_COMPLETE]),
        EXPECT_EOF,
        END,
    };
    session st = {0};
    vox_server_opts o = {0};
    vox_server *s = start(&o, short_fn, &st);
    play(vox_server_port(s), script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(st.hook_hc, 1);
    assert_int_equal(st.hook_wrong_thread, 0);
    assert_int_equal(st.events, 6);
}

/* ------------------------------------------------- drops and disconnects */

typedef struct result {
    int rc[4];
    int open_after;
    int hooks;
    vox_call *call;
} result;

static void drop_fn(vox_call *call, void *ud)
{
    result *r = ud;
    tu_flag_raise(&g_entered);
    r->rc[0] = exec_app(call, "answer", NULL, NULL, NULL);
    r->rc[1] = exec_app(call, "answer", NULL, NULL, NULL);
    r->open_after = vox_is_open(call);
}

/* FreeSWITCH goes away while vox_exec waits: it returns VOX_ECLOSED, and
 * so does the next helper, at once. */
static void test_drop_unblocks_exec(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c), EXPECT("sendmsg"), SEND(c.f[F_OK1]), {FS_CLOSE, NULL, 0}, END,
    };
    result r = {{0}, 1, 0, NULL};
    vox_server_opts o = {0};
    vox_server *s = start(&o, drop_fn, &r);
    play(vox_server_port(s), script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(r.rc[0], VOX_ECLOSED);
    assert_int_equal(r.rc[1], VOX_ECLOSED);
    assert_int_equal(r.open_after, 0);
}

static void disconnect_fn(vox_call *call, void *ud)
{
    result *r = ud;
    r->rc[0] = vox_disconnect(call);
    r->rc[1] = exec_app(call, "answer", NULL, NULL, NULL);
}

/* vox_disconnect from the call code half-closes; FreeSWITCH's goodbye and
 * close end the session through the normal path. */
static void test_disconnect_from_call(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c), EXPECT_EOF, SEND(c.f[F_DISCONNECT]), {FS_CLOSE, NULL, 0}, END,
    };
    result r = {{0}, 0, 0, NULL};
    vox_server_opts o = {0};
    vox_server *s = start(&o, disconnect_fn, &r);
    play(vox_server_port(s), script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(r.rc[0], 0);
    assert_int_equal(r.rc[1], VOX_ECLOSED);
}

static void disconnect_hook(vox_conn *c, const vox_event *ev, void *ud)
{
    result *r = ud;
    (void)c;
    (void)ev;
    r->hooks++;
    r->rc[2] = vox_disconnect(r->call);
}

static void hook_disconnect_fn(vox_call *call, void *ud)
{
    result *r = ud;
    r->call = call;
    vox_hook(call, "CHANNEL_ANSWER", disconnect_hook, r);
    r->rc[0] = exec_app(call, "answer", NULL, NULL, NULL);
    r->call = NULL;
}

/* vox_disconnect from a hook while vox_exec waits: the exec ends with
 * VOX_ECLOSED when FreeSWITCH closes. */
static void test_disconnect_from_hook(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("sendmsg"),
        SEND(c.f[F_OK1]),
        SEND(cap_with_event_uuid(&c, F_EXEC_ANSWER)),
        SEND(c.f[F_ANSWER]),
        EXPECT_EOF,
        SEND(c.f[F_DISCONNECT]),
        {FS_CLOSE, NULL, 0},
        END,
    };
    result r = {{0}, 0, 0, NULL};
    vox_server_opts o = {0};
    vox_server *s = start(&o, hook_disconnect_fn, &r);
    play(vox_server_port(s), script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(r.hooks, 1);
    assert_int_equal(r.rc[2], 0);
    assert_int_equal(r.rc[0], VOX_ECLOSED);
}

/* ------------------------------------------------ -ERR and channel data */

typedef struct errs {
    int rc_api, rc_exec, rc_update;
    char api_text[64], foo[32], state[32], dest[16];
    char exec_text[64];
} errs;

static void err_fn(vox_call *call, void *ud)
{
    errs *e = ud;
    vox_msg *reply = NULL;
    e->rc_api = vox_api(call, "foobar", &reply);
    copy(e->api_text, sizeof e->api_text, reply ? vox_msg_reply_text(reply) : NULL);
    vox_msg_free(reply);
    reply = NULL;
    e->rc_exec = exec_app(call, "answer", NULL, NULL, &reply);
    copy(e->exec_text, sizeof e->exec_text, reply ? vox_msg_reply_text(reply) : NULL);
    vox_msg_free(reply);
    reply = NULL;
    e->rc_update = vox_call_update(call);
    copy(e->foo, sizeof e->foo, vox_call_variable(call, "foo"));
    copy(e->state, sizeof e->state, vox_event_get(vox_call_data(call), "Channel-State"));
    copy(e->dest, sizeof e->dest, vox_event_get(vox_call_data(call), "Caller-Destination-Number"));
}

/* -ERR is an error for that caller (VOX_EREPLY), not the end of the call;
 * vox_call_update reads uuid_dump's `Name: value` lines into the data. */
static void test_err_and_update(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    static const char api_err[] =
        "Content-Type: api/response\nContent-Length: 31\n\n-ERR foobar Command not found!\n";
    static const char exec_err[] =
        "Content-Type: command/reply\nReply-Text: -ERR invalid session id [x]\n\n";
    static const char dump[] = "Content-Type: api/response\nContent-Length: 124\n\n"
                               "Event-Name: CHANNEL_DATA\n"
                               "Unique-ID: " CALL_UUID "\n"
                               "Channel-State: CS_EXECUTE\n"
                               "variable_foo: baz%20qux\n\n";
    fs_step script[] = {
        HANDSHAKE(&c),
        EXPECT("api foobar"),
        SEND(api_err),
        EXPECT("sendmsg"),
        SEND(exec_err),
        EXPECT("api uuid_dump " CALL_UUID),
        SEND(dump),
        SEND(c.f[F_HANGUP_COMPLETE]),
        SEND(c.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    assert_int_equal(strlen(strstr(dump, "\n\n") + 2), 124);
    errs e = {0};
    vox_server_opts o = {0};
    vox_server *s = start(&o, err_fn, &e);
    play(vox_server_port(s), script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(e.rc_api, VOX_EREPLY);
    assert_string_equal(e.api_text, "-ERR foobar Command not found!\n");
    assert_int_equal(e.rc_exec, VOX_EREPLY);
    assert_string_equal(e.exec_text, "-ERR invalid session id [x]"); /* the refusal's text */
    assert_int_equal(e.rc_update, 0);
    assert_string_equal(e.foo, "baz qux");
    assert_string_equal(e.state, "CS_EXECUTE");
    assert_string_equal(e.dest, "(null)"); /* replaced by the dump */
}

/* ------------------------------------------------- refusals and limits */

static int g_called;

static void never_fn(vox_call *call, void *ud)
{
    (void)call;
    (void)ud;
    g_called = 1;
}

/* A socket without `full`: reported in the log, the call closed, never a
 * hang, and the call function never runs. */
static void test_no_full(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, "outbound_no_full.s2c.raw");
    fs_step script[] = {EXPECT("connect\n\n"), SEND(c.f[0]), EXPECT_EOF, END};
    g_called = 0;
    vox_server_opts o = {0};
    vox_server *s = start(&o, never_fn, NULL);
    play(vox_server_port(s), script);
    assert_true(log_wait("the dialplan's socket needs `async full`"));
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(g_called, 0);
}

/* A peer that connects and never answers `connect`. */
static void test_handshake_timeout(void **state)
{
    (void)state;
    fs_step script[] = {EXPECT("connect\n\n"), EXPECT_EOF, END};
    g_called = 0;
    vox_server_opts o = {.handshake_timeout_ms = 100};
    vox_server *s = start(&o, never_fn, NULL);
    uint64_t t0 = tu_now_ms();
    play(vox_server_port(s), script);
    assert_true(tu_now_ms() - t0 >= 100);
    assert_true(log_wait("no handshake within 100 ms"));
    vox_server_stop(s);
    assert_int_equal(g_called, 0);
}

/* The fake connects from 127.0.0.1: a list without it closes the
 * connection before a byte is sent. */
static void test_allow_list_refuses(void **state)
{
    (void)state;
    static const char *const allow[] = {"10.9.8.7", "::1", NULL};
    fs_step script[] = {EXPECT_EOF, END};
    g_called = 0;
    vox_server_opts o = {.allow = allow};
    vox_server *s = start(&o, never_fn, NULL);
    play(vox_server_port(s), script);
    assert_true(log_wait("call from 127.0.0.1 refused: not in the allow-list"));
    assert_int_equal(vox_server_served(s), 0);
    vox_server_stop(s);
    assert_int_equal(g_called, 0);
}

static void count_fn(vox_call *call, void *ud)
{
    (void)call;
    (*(int *)ud)++;
}

static void allowed_session(const char *host, const char *const *allow)
{
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step script[] = {
        HANDSHAKE(&c), SEND(c.f[F_HANGUP_COMPLETE]), SEND(c.f[F_LINGER]), EXPECT_EOF, END,
    };
    int calls = 0;
    vox_server_opts o = {.host = host, .allow = allow};
    vox_server *s = NULL;
    o.log = log_cb;
    int rc = vox_server_start(&s, &o, count_fn, &calls);
    if (rc == VOX_ESYS && host) {
        cap_free(&c);
        skip(); /* no IPv6 here */
    }
    assert_int_equal(rc, 0);
    play(vox_server_port(s), script);
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(calls, 1);
}

static void test_allow_list_admits(void **state)
{
    (void)state;
    static const char *const allow[] = {"::1", "127.0.0.1", NULL};
    allowed_session(NULL, allow);
}

/* Listening on "::" takes IPv4 too; an IPv4 peer (::ffff:127.0.0.1 on that
 * socket) matches its plain IPv4 text in the list. */
static void test_dual_stack_admits_ipv4(void **state)
{
    (void)state;
    static const char *const allow[] = {"127.0.0.1", NULL};
    allowed_session("::", allow);
}

/* An IPv6 peer not in the list is closed at once. */
static void test_allow_list_ipv6(void **state)
{
    (void)state;
    static const char *const allow[] = {"127.0.0.1", NULL};
    vox_server_opts o = {.host = "::1", .allow = allow, .log = log_cb};
    vox_server *s = NULL;
    if (vox_server_start(&s, &o, never_fn, NULL) != 0)
        skip();
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(vox_server_port(s))};
    a.sin6_addr = in6addr_loopback;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    char b;
    assert_true(recv(fd, &b, 1, 0) <= 0);
    close(fd);
    assert_true(log_wait("call from ::1 refused: not in the allow-list"));
    vox_server_stop(s);
}

static void blocked_fn(vox_call *call, void *ud)
{
    result *r = ud;
    tu_flag_raise(&g_entered);
    r->rc[0] = exec_app(call, "answer", NULL, NULL, NULL);
}

/* max_calls 1: while the first call is blocked in vox_exec, a second
 * connection is closed at once and the refusal logged. */
static void test_max_calls(void **state)
{
    (void)state;
    capture c;
    cap_load(&c, LINGER_CAPTURE);
    fs_step first[] = {HANDSHAKE(&c), EXPECT("sendmsg"), SEND(c.f[F_OK1]), END};
    fs_step second[] = {EXPECT_EOF, END};
    result r = {{0}, 0, 0, NULL};
    vox_server_opts o = {.max_calls = 1};
    vox_server *s = start(&o, blocked_fn, &r);
    fakefs *a = NULL;
    assert_int_equal(fs_connect(&a, vox_server_port(s), first), 0);
    assert_true(tu_flag_wait(&g_entered, 1, WAIT_MS));
    assert_int_equal(vox_server_active(s), 1);
    play(vox_server_port(s), second);
    assert_true(log_wait("(max_calls)"));
    assert_null(fs_wait(a, WAIT_MS)); /* closes: the blocked exec ends */
    vox_server_stop(s);
    cap_free(&c);
    assert_int_equal(r.rc[0], VOX_ECLOSED);
}

/* ------------------------------------------------------- graceful stop */

typedef struct inflight {
    pthread_mutex_t mu;
    int exec_rc, after_rc, lingered;
} inflight;

static void inflight_fn(vox_call *call, void *ud)
{
    inflight *f = ud;
    if (strcmp(vox_call_uuid(call), CALL_UUID) != 0) {
        /* the second call returns at once and lingers without a hangup */
        pthread_mutex_lock(&f->mu);
        f->lingered = 1;
        pthread_mutex_unlock(&f->mu);
        tu_flag_raise(&g_entered);
        return;
    }
    tu_flag_raise(&g_entered);
    int rc = exec_app(call, "answer", NULL, NULL, NULL);
    int after = exec_app(call, "answer", NULL, NULL, NULL);
    pthread_mutex_lock(&f->mu);
    f->exec_rc = rc;
    f->after_rc = after;
    pthread_mutex_unlock(&f->mu);
}

/* vox_server_stop with one call blocked in vox_exec and one lingering after
 * its function returned: it waits for the drain deadline, then both end
 * (the blocked exec with VOX_ECLOSED), and every thread is joined. */
static void test_stop_with_calls_in_flight(void **state)
{
    (void)state;
    capture c, n;
    cap_load(&c, LINGER_CAPTURE);
    cap_load(&n, "outbound_9101_myevents_json_linger2.s2c.raw");
    fs_step blocked[] = {HANDSHAKE(&c), EXPECT("sendmsg"), SEND(c.f[F_OK1]), EXPECT_EOF, END};
    fs_step lingering[] = {EXPECT("connect\n\n"), SEND(n.f[0]), EXPECT("myevents"), SEND(n.f[1]),
                           EXPECT("linger"),      SEND(n.f[2]), EXPECT_EOF,         END};
    inflight f = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
    vox_server_opts o = {.drain_timeout_ms = 200};
    vox_server *s = start(&o, inflight_fn, &f);
    fakefs *a = NULL, *b = NULL;
    assert_int_equal(fs_connect(&a, vox_server_port(s), blocked), 0);
    assert_int_equal(fs_connect(&b, vox_server_port(s), lingering), 0);
    assert_true(tu_flag_wait(&g_entered, 2, WAIT_MS));
    uint64_t t0 = tu_now_ms();
    vox_server_stop(s);
    uint64_t took = tu_now_ms() - t0;
    assert_true(took >= 190);
    assert_true(took < WAIT_MS);
    assert_null(fs_wait(a, WAIT_MS));
    assert_null(fs_wait(b, WAIT_MS));
    cap_free(&c);
    cap_free(&n);
    assert_int_equal(f.exec_rc, VOX_ECLOSED);
    assert_int_equal(f.after_rc, VOX_ECLOSED);
    assert_int_equal(f.lingered, 1);
    assert_true(log_wait("closing 2 call(s)"));
}

/* A stop with nothing running returns at once. */
static void test_start_stop(void **state)
{
    (void)state;
    vox_server *s = NULL, *t = NULL;
    assert_int_equal(vox_server_start(&s, NULL, NULL, NULL), VOX_EINVAL);
    assert_int_equal(vox_server_start(NULL, NULL, never_fn, NULL), VOX_EINVAL);
    vox_server_opts badfmt = {.format = (vox_format)3}; /* refused at start */
    assert_int_equal(vox_server_start(&s, &badfmt, never_fn, NULL), VOX_EINVAL);
    vox_server_opts o = {0};
    s = start(&o, never_fn, NULL);
    /* the port is taken: bind fails */
    vox_server_opts same = {.port = vox_server_port(s), .log = log_cb};
    assert_int_equal(vox_server_start(&t, &same, never_fn, NULL), VOX_ESYS);
    assert_null(t);
    assert_int_equal(vox_server_active(s), 0);
    uint64_t t0 = tu_now_ms();
    vox_server_stop(s);
    assert_true(tu_now_ms() - t0 < 1000);
    vox_server_stop(NULL);
}

/* vox_serve stops on SIGTERM (sent to its thread, the signal blocked in
 * the whole test so nobody else takes it). */
static void *serve_main(void *arg)
{
    vox_server_opts o = {.log = log_cb};
    *(int *)arg = vox_serve(&o, never_fn, NULL);
    return NULL;
}

static void test_serve_sigterm(void **state)
{
    (void)state;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    int rc = -100;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve_main, &rc), 0);
    assert_int_equal(pthread_kill(th, SIGTERM), 0);
    pthread_join(th, NULL);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    assert_int_equal(rc, 0);
    assert_true(log_wait("stopping"));
    vox_server_opts bad = {.host = "not an address at all", .log = log_cb};
    assert_int_not_equal(vox_serve(&bad, never_fn, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_session, setup),
        cmocka_unit_test_setup(test_notice_before_hangup_complete, setup),
        cmocka_unit_test_setup(test_drop_unblocks_exec, setup),
        cmocka_unit_test_setup(test_disconnect_from_call, setup),
        cmocka_unit_test_setup(test_disconnect_from_hook, setup),
        cmocka_unit_test_setup(test_err_and_update, setup),
        cmocka_unit_test_setup(test_no_full, setup),
        cmocka_unit_test_setup(test_handshake_timeout, setup),
        cmocka_unit_test_setup(test_allow_list_refuses, setup),
        cmocka_unit_test_setup(test_allow_list_admits, setup),
        cmocka_unit_test_setup(test_dual_stack_admits_ipv4, setup),
        cmocka_unit_test_setup(test_allow_list_ipv6, setup),
        cmocka_unit_test_setup(test_max_calls, setup),
        cmocka_unit_test_setup(test_stop_with_calls_in_flight, setup),
        cmocka_unit_test_setup(test_start_stop, setup),
        cmocka_unit_test_setup(test_serve_sigterm, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
