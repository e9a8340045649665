/* The runner on a libuv loop: servers and clients side by side against the
 * scripted fake FreeSWITCH (its outbound side from the linger capture, its
 * inbound side from inbound_12), the log (levels, format, threads, reopen
 * after a rename), and the signals: SIGHUP reopening the log, SIGTERM
 * draining a call to its natural end, a deadline closing a call, a second
 * SIGINT closing at once, one owner per process, handlers given back.
 * Signals are raised from the loop's thread; every wait runs the loop until
 * a condition holds, bounded by a loop timer. Nothing sleeps. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vox/runner.h>
#include <vox/uv.h>

#include "util/testutil.h"
#include "util/capture.h"
#include "util/fakefs.h"

#define WAIT_MS 5000
#define CALL_UUID "706da2ae-ece7-44cd-b4c5-8dec8b93e91e"
#define NCLI 2
#define NSRV 2

/* ------------------------------------------------------------ the world */

typedef struct world {
    uv_loop_t loop;
    uv_timer_t guard, kick;
    int timed_out;
    vox_loop vl;
    vox_runner *r;
    vox_logger *lg;
    long live0;
    char dir[64], path[128], old[128];
    int raise_sig[4]; /* raised, in order, by the kick timer (0 ends) */
    int signals[NSIG];
    int stopped, stopped_in_loop;
    int sessions, ends, reasons[8];
    int connects, events, disconnects;
    int free_in_connect;
    int bad_ud;
    vox_session *live;
    uint64_t t0;
} world;

static world g;
static capture cap;
static char **in12;
static char *heartbeat;
static volatile sig_atomic_t test_sig_count;

static void on_guard(uv_timer_t *t)
{
    g.timed_out = 1;
    uv_stop(t->loop);
}

/* Runs the loop until expr holds; WAIT_MS without it fails the test. */
#define WAIT_FOR(expr)                                                                             \
    do {                                                                                           \
        g.timed_out = 0;                                                                           \
        uv_timer_start(&g.guard, on_guard, WAIT_MS, 0);                                            \
        while (!(expr) && !g.timed_out)                                                            \
            uv_run(&g.loop, UV_RUN_ONCE);                                                          \
        uv_timer_stop(&g.guard);                                                                   \
        if (!(expr))                                                                               \
            fail_msg("no `%s` within %d ms", #expr, WAIT_MS);                                      \
    } while (0)

/* Nothing of the library's is left on the loop: it would return by itself. */
static void assert_loop_idle(void)
{
    for (int i = 0; i < 100 && uv_loop_alive(&g.loop); i++)
        uv_run(&g.loop, UV_RUN_NOWAIT);
    assert_false(uv_loop_alive(&g.loop));
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap_ = 0, n;
    do {
        if (len + 4096 + 1 > cap_) {
            cap_ = (cap_ + 4096) * 2;
            buf = realloc(buf, cap_);
            assert_non_null(buf);
        }
        n = fread(buf + len, 1, 4096, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static int file_has(const char *path, const char *needle)
{
    char *s = slurp(path);
    int found = s && strstr(s, needle) != NULL;
    free(s);
    return found;
}

/* Every line of the file is one record in the documented format; returns
 * how many there are. */
static int check_lines(const char *path)
{
    regex_t re;
    int n = 0;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                             "(error|warning|info|debug) \\[[^]]+\\] [^\n]*$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    char *s = slurp(path);
    assert_non_null(s);
    for (char *line = s, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl); /* every record ends its line */
        *nl = '\0';
        if (regexec(&re, line, 0, NULL, 0) != 0)
            fail_msg("bad log line: %s", line);
        n++;
    }
    free(s);
    regfree(&re);
    return n;
}

static void test_sig(int signo)
{
    test_sig_count++;
}

/* The handlers a runner must give back. */
static void install_test_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = test_sig;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGHUP, &sa, NULL), 0);
    assert_int_equal(sigaction(SIGINT, &sa, NULL), 0);
    assert_int_equal(sigaction(SIGTERM, &sa, NULL), 0);
}

static int handler_is_test(int signo)
{
    struct sigaction cur;
    assert_int_equal(sigaction(signo, NULL, &cur), 0);
    return cur.sa_handler == test_sig;
}

static void on_kick(uv_timer_t *t)
{
    for (int i = 0; i < 4 && g.raise_sig[i]; i++)
        raise(g.raise_sig[i]);
}

/* Raises the signals from the loop's thread, on its next turn. */
static void raise_from_loop(int a, int b)
{
    memset(g.raise_sig, 0, sizeof g.raise_sig);
    g.raise_sig[0] = a;
    g.raise_sig[1] = b;
    uv_timer_start(&g.kick, on_kick, 0, 0);
}

static int setup(void **state)
{
    memset(&g, 0, sizeof g);
    assert_int_equal(uv_loop_init(&g.loop), 0);
    uv_timer_init(&g.loop, &g.guard);
    uv_timer_init(&g.loop, &g.kick);
    g.vl = vox_uv_loop(&g.loop);
    snprintf(g.dir, sizeof g.dir, "/tmp/vox-runner-XXXXXX");
    assert_non_null(mkdtemp(g.dir));
    snprintf(g.path, sizeof g.path, "%s/vox.log", g.dir);
    snprintf(g.old, sizeof g.old, "%s/vox.log.1", g.dir);
    install_test_handlers();
    g.live0 = tu_live();
    return 0;
}

static int teardown(void **state)
{
    vox_runner_free(g.r);
    g.r = NULL;
    uv_close((uv_handle_t *)&g.guard, NULL);
    uv_close((uv_handle_t *)&g.kick, NULL);
    uv_run(&g.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&g.loop), 0);
    vox_logger_free(g.lg);
    unlink(g.path);
    unlink(g.old);
    rmdir(g.dir);
    assert_int_equal(tu_live(), g.live0);
    return 0;
}

/* ------------------------------------------------------------ callbacks */

static int tags[NSRV + NCLI];

static void on_stopped(vox_runner *r, void *ud)
{
    if (ud != &g)
        g.bad_ud++;
    g.stopped++;
}

static void on_signal(vox_runner *r, int signo, void *ud)
{
    g.signals[signo]++;
    /* The drain test's call finishes once it sees this request. */
    if (signo == SIGTERM && g.live)
        assert_int_equal(vox_conn_api(vox_session_conn(g.live), "echo", "drain", 0, NULL, NULL), 0);
}

static void on_session(vox_session *s, void *ud)
{
    if (ud != &tags[0] && ud != &tags[1])
        g.bad_ud++;
    g.sessions++;
    g.live = s;
}

static void on_end(vox_session *s, int reason, void *ud)
{
    if (ud != &tags[0] && ud != &tags[1])
        g.bad_ud++;
    if (g.ends < 8)
        g.reasons[g.ends] = reason;
    g.ends++;
    g.live = NULL;
}

static void user_log(int level, const char *line, void *ud)
{
    if (ud != &tags[1])
        g.bad_ud++;
}

static void on_connect(vox_aclient *c, void *ud)
{
    if (ud != &tags[2] && ud != &tags[3])
        g.bad_ud++;
    g.connects++;
    if (g.free_in_connect) {
        vox_runner_free(g.r); /* deferred until this callback returns */
        g.r = NULL;
    }
}

static void on_disconnect(vox_aclient *c, int reason, uint32_t retry_ms, void *ud)
{
    g.disconnects++;
}

static void on_event(vox_aclient *c, const vox_event *ev, void *ud)
{
    if (ud != &tags[2] && ud != &tags[3])
        g.bad_ud++;
    if (!strcmp(vox_event_name(ev), "HEARTBEAT"))
        g.events++;
}

static void open_log(int level)
{
    assert_int_equal(vox_logger_open(&g.lg, g.path, level), 0);
}

static void new_runner(int signals, uint32_t drain_ms)
{
    vox_runner_opts o = {.logger = g.lg,
                         .signals = signals,
                         .drain_ms = drain_ms,
                         .on_signal = on_signal,
                         .on_stopped = on_stopped,
                         .userdata = &g};
    assert_int_equal(vox_runner_new(&g.r, &g.vl, &o), 0);
}

static vox_aserver *add_server(int tag)
{
    vox_aserver *srv;
    vox_aserver_opts o = {.on_session = on_session, .on_end = on_end, .userdata = &tags[tag]};
    assert_int_equal(vox_runner_add_server(g.r, &o, &srv), 0);
    assert_non_null(srv);
    return srv;
}

static vox_aclient *add_client(int tag, uint16_t port)
{
    vox_aclient *c;
    vox_aclient_opts o = {.port = port,
                          .backoff_min_ms = 50,
                          .on_connect = on_connect,
                          .on_disconnect = on_disconnect,
                          .on_event = on_event,
                          .userdata = &tags[tag]};
    assert_int_equal(vox_runner_add_client(g.r, &o, &c), 0);
    assert_non_null(c);
    return c;
}

/* ------------------------------------------------------------ fakes */

/* clang-format off */
#define SEND(s) {FS_SEND_RAW, (s), strlen(s)}
#define EXPECT(s) {FS_EXPECT, (s), 0}
#define EXPECT_EOF {FS_EXPECT_EOF, NULL, 0}
#define END {FS_END, NULL, 0}
/* FreeSWITCH's outbound side: connect, myevents, linger */
#define OUT_HANDSHAKE                                                                     \
    EXPECT("connect\n\n"), SEND(cap.f[0]), EXPECT("myevents"), SEND(cap.f[1]),           \
        EXPECT("linger"), SEND(cap.f[2])
/* FreeSWITCH's inbound side: auth, event plain BACKGROUND_JOB */
#define IN_HANDSHAKE                                                                      \
    SEND(in12[0]), EXPECT("auth ClueCon\n\n"), SEND(in12[1]),                            \
        EXPECT("event plain BACKGROUND_JOB\n\n"), SEND(in12[2])
/* clang-format on */

static const char API_DONE[] = "Content-Type: api/response\nContent-Length: 5\n\ndone\n";

static void peer_done(fakefs *f)
{
    const char *err = fs_wait(f, WAIT_MS);
    if (err)
        fail_msg("fake FreeSWITCH: %s", err);
}

static int setup_all(void **state)
{
    size_t len;
    char *raw = tu_fixture("inbound_12_bgapi.s2c.raw", &len);
    in12 = fs_frames(raw, len, NULL);
    free(raw);
    cap_load(&cap, LINGER_CAPTURE);
    assert_int_equal(cap.n, F_COUNT);
    heartbeat = fs_event_plain("Event-Name: HEARTBEAT\n", NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int teardown_all(void **state)
{
    fs_frames_free(in12);
    cap_free(&cap);
    free(heartbeat);
    return 0;
}

/* ------------------------------------------------------------ the log */

/* Levels filter, every line has the format, a control character cannot
 * split a record, and the level names parse both ways. */
static void test_log_levels(void **state)
{
    open_log(VOX_LOG_INFO);
    assert_int_equal(vox_logger_level(g.lg), VOX_LOG_INFO);
    vox_logger_write(g.lg, VOX_LOG_ERROR, "t", "an error");
    vox_logger_write(g.lg, VOX_LOG_WARNING, "t", "a warning");
    vox_logger_printf(g.lg, VOX_LOG_INFO, "t", "info %d", 42);
    vox_logger_write(g.lg, VOX_LOG_DEBUG, "t", "hidden debug");
    vox_logger_write(g.lg, VOX_LOG_INFO, NULL, "two\r\nlines");
    vox_logger_fn(VOX_LOG_WARNING, "through a vox_log_fn", g.lg);
    assert_int_equal(vox_logger_set_level(g.lg, VOX_LOG_DEBUG), 0);
    vox_logger_write(g.lg, VOX_LOG_DEBUG, "t", "shown debug");
    assert_int_equal(vox_logger_set_level(g.lg, VOX_LOG_ERROR), 0);
    vox_logger_write(g.lg, VOX_LOG_WARNING, "t", "hidden warning");
    vox_logger_write(g.lg, -5, "t", "below error counts as error");
    char big[6000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    vox_logger_write(g.lg, VOX_LOG_ERROR, "t", big);

    assert_int_equal(check_lines(g.path), 8);
    char *s = slurp(g.path);
    assert_non_null(strstr(s, "Z error [t] an error\n"));
    assert_non_null(strstr(s, "Z warning [t] a warning\n"));
    assert_non_null(strstr(s, "Z info [t] info 42\n"));
    assert_non_null(strstr(s, "Z info [vox] two  lines\n"));
    assert_non_null(strstr(s, "Z warning [vox] through a vox_log_fn\n"));
    assert_non_null(strstr(s, "Z debug [t] shown debug\n"));
    assert_non_null(strstr(s, "Z error [t] below error counts as error\n"));
    assert_null(strstr(s, "hidden"));
    assert_null(strstr(s, big)); /* cut, still one line */
    free(s);

    int level = -1;
    assert_int_equal(vox_log_level_parse("WARN", &level), 0);
    assert_int_equal(level, VOX_LOG_WARNING);
    assert_int_equal(vox_log_level_parse("debug", &level), 0);
    assert_int_equal(level, VOX_LOG_DEBUG);
    assert_int_equal(vox_log_level_parse("0", &level), 0);
    assert_int_equal(level, VOX_LOG_ERROR);
    assert_int_equal(vox_log_level_parse("loud", &level), VOX_EINVAL);
    assert_int_equal(vox_log_level_parse("4", &level), VOX_EINVAL);
    assert_string_equal(vox_log_level_name(VOX_LOG_INFO), "info");
    assert_string_equal(vox_log_level_name(9), "?");
    assert_int_equal(vox_logger_set_level(g.lg, 4), VOX_EINVAL);
}

static void test_log_errors(void **state)
{
    vox_logger *lg = NULL;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir.log", g.dir);
    assert_int_equal(vox_logger_open(&lg, g.path, 4), VOX_EINVAL);
    assert_int_equal(vox_logger_open(NULL, g.path, 1), VOX_EINVAL);
    assert_int_equal(vox_logger_open(&lg, missing, VOX_LOG_INFO), VOX_ESYS);
    assert_int_equal(errno, ENOENT);
    assert_null(lg);
    assert_int_equal(vox_logger_reopen(NULL), VOX_EINVAL);
    /* stderr: nothing to reopen */
    assert_int_equal(vox_logger_open(&lg, "-", VOX_LOG_ERROR), 0);
    assert_int_equal(vox_logger_reopen(lg), 0);
    vox_logger_free(lg);
    vox_logger_write(NULL, VOX_LOG_ERROR, "t", "ignored");
}

/* The file's directory went away: the reopen fails and the old file stays
 * in use, with a line saying so. */
static void test_reopen_failure_keeps_old_file(void **state)
{
    char sub[128], moved[128], path[160], moved_path[160];
    snprintf(sub, sizeof sub, "%s/sub", g.dir);
    snprintf(moved, sizeof moved, "%s/moved", g.dir);
    snprintf(path, sizeof path, "%s/vox.log", sub);
    snprintf(moved_path, sizeof moved_path, "%s/vox.log", moved);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(vox_logger_open(&g.lg, path, VOX_LOG_INFO), 0);
    new_runner(0, 0);
    assert_int_equal(rename(sub, moved), 0);
    assert_int_equal(vox_runner_reopen_log(g.r), VOX_ESYS);
    assert_int_equal(errno, ENOENT);
    vox_logger_write(g.lg, VOX_LOG_INFO, "t", "still here");
    assert_true(file_has(moved_path, "error [runner] cannot reopen the log: "));
    assert_true(file_has(moved_path, "info [t] still here"));
    vox_runner_free(g.r);
    g.r = NULL;
    vox_logger_free(g.lg);
    g.lg = NULL;
    unlink(moved_path);
    rmdir(moved);
}

#define THREADS 4
#define PER_THREAD 500

static void *writer(void *arg)
{
    for (int i = 0; i < PER_THREAD; i++)
        vox_logger_printf(g.lg, VOX_LOG_INFO, "w", "thread %ld line %d", (long)(intptr_t)arg, i);
    return NULL;
}

/* Threads write while the file is reopened: every line arrives whole. */
static void test_log_threads(void **state)
{
    pthread_t th[THREADS];
    open_log(VOX_LOG_INFO);
    for (long i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(vox_logger_reopen(g.lg), 0);
        vox_logger_set_level(g.lg, i % 2 ? VOX_LOG_INFO : VOX_LOG_DEBUG);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(check_lines(g.path), THREADS * PER_THREAD);
}

/* ------------------------------------------------------------ listeners */

/* Two servers and two clients on one loop: every call and connection
 * reaches the user's callbacks with the user's userdata, their lines land
 * in one log with their source, and the stop leaves the loop empty. */
static void test_two_servers_two_clients(void **state)
{
    fs_step in_script[] = {IN_HANDSHAKE, SEND(heartbeat), EXPECT_EOF, END};
    fs_step out_script[] = {
        OUT_HANDSHAKE, SEND(cap.f[F_HANGUP_COMPLETE]), SEND(cap.f[F_LINGER]), EXPECT_EOF, END,
    };
    fakefs *in[NCLI], *out[NSRV];
    uint16_t port[NSRV], fsport[NCLI];
    char line[256];

    open_log(VOX_LOG_DEBUG);
    new_runner(0, 0);
    for (int i = 0; i < NCLI; i++) {
        assert_int_equal(fs_listen(&in[i], in_script), 0);
        fsport[i] = fs_port(in[i]);
        add_client(2 + i, fsport[i]);
    }
    for (int i = 0; i < NSRV; i++) {
        port[i] = vox_aserver_port(add_server(i)); /* the server is gone after the stop */
        assert_int_equal(fs_connect(&out[i], port[i], out_script), 0);
    }
    WAIT_FOR(g.connects == NCLI && g.events == NCLI && g.ends == NSRV);
    assert_int_equal(g.sessions, NSRV);
    assert_int_equal(g.reasons[0], 0);
    assert_int_equal(g.reasons[1], 0);
    assert_int_equal(vox_runner_sessions(g.r), 0);
    for (int i = 0; i < NSRV; i++)
        peer_done(out[i]);

    assert_true(vox_runner_running(g.r));
    vox_runner_stop(g.r, 1000);
    assert_false(vox_runner_running(g.r));
    WAIT_FOR(g.stopped == 1);
    for (int i = 0; i < NCLI; i++)
        peer_done(in[i]); /* the clients closed their connections */
    assert_int_equal(g.disconnects, 0); /* a stop is not a disconnect */
    assert_int_equal(g.bad_ud, 0);
    assert_loop_idle();

    for (int i = 0; i < NSRV; i++) {
        snprintf(line, sizeof line, "info [aserver 127.0.0.1:%u] listening", port[i]);
        assert_true(file_has(g.path, line));
        snprintf(line, sizeof line,
                 "debug [aserver 127.0.0.1:%u] call " CALL_UUID " from 127.0.0.1: started",
                 port[i]);
        assert_true(file_has(g.path, line));
        snprintf(line, sizeof line, "info [aserver 127.0.0.1:%u] stopped", port[i]);
        assert_true(file_has(g.path, line));
    }
    for (int i = 0; i < NCLI; i++) {
        snprintf(line, sizeof line, "info [aclient 127.0.0.1:%u] connected", fsport[i]);
        assert_true(file_has(g.path, line));
    }
    assert_true(file_has(g.path, "info [runner] stopped"));
    check_lines(g.path);
}

/* A server's own log function keeps its lines, with its userdata. */
static void test_server_own_log(void **state)
{
    open_log(VOX_LOG_DEBUG);
    new_runner(0, 0);
    vox_aserver_opts o = {.on_session = on_session, .log = user_log, .userdata = &tags[1]};
    vox_aserver *srv;
    assert_int_equal(vox_runner_add_server(g.r, &o, &srv), 0);
    vox_runner_stop(g.r, 0);
    WAIT_FOR(g.stopped == 1);
    assert_int_equal(g.bad_ud, 0);
    /* the runner's own lines about it still land in the runner's log */
    assert_true(file_has(g.path, "] listening"));
}

/* SIGTERM: the listener closes at once, the call in flight runs to its
 * natural end well within the deadline, then everything is down. */
static void test_sigterm_drains_call(void **state)
{
    fs_step script[] = {
        OUT_HANDSHAKE,
        EXPECT("api echo drain"),
        SEND(API_DONE),
        SEND(cap.f[F_HANGUP_COMPLETE]),
        SEND(cap.f[F_LINGER]),
        EXPECT_EOF,
        END,
    };
    fakefs *f;

    open_log(VOX_LOG_INFO);
    new_runner(1, 5000);
    vox_aserver *srv = add_server(0);
    uint16_t port = vox_aserver_port(srv);
    assert_int_equal(fs_connect(&f, port, script), 0);
    WAIT_FOR(g.sessions == 1);
    uint64_t t0 = uv_hrtime();
    raise_from_loop(SIGTERM, 0);
    WAIT_FOR(g.stopped == 1);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    peer_done(f);
    assert_int_equal(g.signals[SIGTERM], 1);
    assert_int_equal(g.ends, 1);
    assert_int_equal(g.reasons[0], 0); /* ended by itself, not closed */
    assert_true(ms < 5000);
    assert_int_equal(test_sig_count, 0); /* the runner had the signal */

    /* nobody listens any more */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(fd);

    assert_true(file_has(g.path, "info [runner] SIGTERM received"));
    assert_true(file_has(g.path, "info [runner] stopping: 1 call(s) running, up to 5000 ms"));
    assert_true(file_has(g.path, "info [runner] stopped"));
    assert_false(file_has(g.path, " debug "));
    assert_loop_idle();
}

/* A call still running at the deadline is closed. */
static void test_deadline_closes_call(void **state)
{
    fs_step script[] = {OUT_HANDSHAKE, EXPECT_EOF, END};
    fakefs *f;

    open_log(VOX_LOG_INFO);
    new_runner(0, 0);
    vox_aserver *srv = add_server(0);
    assert_int_equal(fs_connect(&f, vox_aserver_port(srv), script), 0);
    WAIT_FOR(g.sessions == 1);
    assert_int_equal(vox_runner_sessions(g.r), 1);
    uint64_t t0 = uv_hrtime();
    vox_runner_stop(g.r, 50);
    vox_runner_stop(g.r, 5000); /* a second stop changes nothing */
    WAIT_FOR(g.stopped == 1);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    peer_done(f);
    assert_int_equal(g.ends, 1);
    assert_int_equal(g.reasons[0], VOX_ECLOSED);
    assert_true(ms >= 40);
    assert_true(file_has(g.path, "still running after 50 ms"));
    assert_loop_idle();
}

/* SIGINT twice: the first starts a long drain, the second closes now. */
static void test_second_sigint_forces(void **state)
{
    fs_step script[] = {OUT_HANDSHAKE, EXPECT_EOF, END};
    fakefs *f;

    open_log(VOX_LOG_INFO);
    new_runner(1, 60000);
    vox_aserver *srv = add_server(0);
    assert_int_equal(fs_connect(&f, vox_aserver_port(srv), script), 0);
    WAIT_FOR(g.sessions == 1);
    raise_from_loop(SIGINT, SIGINT);
    WAIT_FOR(g.stopped == 1); /* long before the 60 s drain */
    peer_done(f);
    assert_int_equal(g.signals[SIGINT], 2);
    assert_int_equal(g.reasons[0], VOX_ECLOSED);
    assert_true(file_has(g.path, "warning [runner] SIGINT again: closing every call now"));
    assert_int_equal(test_sig_count, 0);
}

/* SIGHUP after logrotate renamed the file: new lines go to a new file of
 * the same name, the old lines stay in the renamed one. */
static void test_sighup_reopens_log(void **state)
{
    open_log(VOX_LOG_INFO);
    new_runner(1, 0);
    vox_logger_write(g.lg, VOX_LOG_INFO, "t", "before rotation");
    assert_int_equal(rename(g.path, g.old), 0);
    raise_from_loop(SIGHUP, 0);
    WAIT_FOR(g.signals[SIGHUP] == 1);
    vox_logger_write(g.lg, VOX_LOG_INFO, "t", "after rotation");

    assert_true(file_has(g.path, "info [runner] SIGHUP: log reopened"));
    assert_true(file_has(g.path, "after rotation"));
    assert_false(file_has(g.path, "before rotation"));
    assert_true(file_has(g.old, "before rotation"));
    assert_false(file_has(g.old, "after rotation"));
    assert_true(vox_runner_running(g.r)); /* SIGHUP does not stop */
    assert_int_equal(test_sig_count, 0);
    check_lines(g.path);
}

/* One runner per process owns the signals; a free gives back exactly the
 * handlers that were there, and they work again. */
static void test_signals_owner_and_restore(void **state)
{
    vox_runner *r2 = (vox_runner *)&g, *r3 = NULL;
    vox_runner_opts sig = {.signals = 1};

    new_runner(1, 0);
    assert_false(handler_is_test(SIGHUP));
    assert_false(handler_is_test(SIGINT));
    assert_false(handler_is_test(SIGTERM));
    assert_int_equal(vox_runner_new(&r2, &g.vl, &sig), VOX_EBUSY);
    assert_null(r2);
    assert_int_equal(vox_runner_new(&r3, &g.vl, NULL), 0); /* without signals: fine */
    vox_runner_free(r3);
    assert_false(handler_is_test(SIGTERM)); /* still the first one's */

    vox_runner_free(g.r);
    g.r = NULL;
    assert_true(handler_is_test(SIGHUP));
    assert_true(handler_is_test(SIGINT));
    assert_true(handler_is_test(SIGTERM));
    raise(SIGHUP);
    assert_int_equal(test_sig_count, 1);

    assert_int_equal(vox_runner_new(&r2, &g.vl, &sig), 0); /* free to take now */
    vox_runner_free(r2);
    assert_true(handler_is_test(SIGINT));
}

/* ------------------------------------------------------------ lifecycle */

static void free_in_stopped(vox_runner *r, void *ud)
{
    g.stopped++;
    g.stopped_in_loop = 1;
    vox_runner_free(r); /* legal here */
    g.r = NULL;
}

/* Nothing to stop: on_stopped still comes from the loop, not from inside
 * vox_runner_stop, and may free the runner. */
static void test_stop_empty_free_in_callback(void **state)
{
    vox_runner_opts o = {.on_stopped = free_in_stopped, .userdata = &g};
    assert_int_equal(vox_runner_new(&g.r, &g.vl, &o), 0);
    assert_non_null(vox_runner_logger(g.r));
    assert_ptr_equal(vox_runner_userdata(g.r), &g);
    vox_runner_stop(g.r, 1000);
    assert_int_equal(g.stopped, 0);
    WAIT_FOR(g.stopped == 1);
    assert_null(g.r);
    assert_loop_idle();
}

/* Freed while a call and a connection are up: the client stops, the call
 * is closed and its on_end still runs; the loop empties by itself. */
static void test_free_while_running(void **state)
{
    fs_step in_script[] = {IN_HANDSHAKE, EXPECT_EOF, END};
    fs_step out_script[] = {OUT_HANDSHAKE, EXPECT_EOF, END};
    fakefs *in, *out;

    open_log(VOX_LOG_INFO);
    new_runner(1, 0);
    assert_int_equal(fs_listen(&in, in_script), 0);
    add_client(2, fs_port(in));
    vox_aserver *srv = add_server(0);
    assert_int_equal(fs_connect(&out, vox_aserver_port(srv), out_script), 0);
    WAIT_FOR(g.sessions == 1 && g.connects == 1);
    vox_runner_free(g.r);
    g.r = NULL;
    assert_true(handler_is_test(SIGTERM));
    WAIT_FOR(g.ends == 1);
    assert_int_equal(g.reasons[0], VOX_ECLOSED);
    peer_done(in);
    peer_done(out);
    assert_int_equal(g.stopped, 0); /* a free is not a stop */
    assert_loop_idle();
}

/* Freed from inside a client's callback: the free waits for the callback
 * to return, then the client closes its connection. */
static void test_free_in_client_callback(void **state)
{
    fs_step script[] = {IN_HANDSHAKE, EXPECT_EOF, END};
    fakefs *f;

    open_log(VOX_LOG_INFO);
    new_runner(1, 0);
    assert_int_equal(fs_listen(&f, script), 0);
    add_client(2, fs_port(f));
    g.free_in_connect = 1;
    WAIT_FOR(g.connects == 1);
    assert_null(g.r);
    peer_done(f);
    assert_true(handler_is_test(SIGINT));
    assert_int_equal(g.disconnects, 0);
    assert_loop_idle();
}

static void test_errors(void **state)
{
    vox_runner *r = NULL;
    vox_loop_ops ops = *g.vl.ops;
    vox_loop bad = {&ops, &g.loop};
    ops.now = NULL;
    assert_int_equal(vox_runner_new(NULL, &g.vl, NULL), VOX_EINVAL);
    assert_int_equal(vox_runner_new(&r, NULL, NULL), VOX_EINVAL);
    assert_int_equal(vox_runner_new(&r, &bad, NULL), VOX_EINVAL);
    assert_null(r);

    open_log(VOX_LOG_INFO);
    new_runner(0, 0);
    vox_aserver *srv = (vox_aserver *)&g;
    vox_aserver_opts so = {.on_end = on_end};
    assert_int_equal(vox_runner_add_server(g.r, &so, &srv), VOX_EINVAL); /* no on_session */
    assert_null(srv);
    assert_int_equal(vox_runner_add_server(g.r, NULL, NULL), VOX_EINVAL);
    assert_int_equal(vox_runner_add_client(NULL, &(vox_aclient_opts){0}, NULL), VOX_EINVAL);
    so.on_session = on_session;
    so.userdata = &tags[0];
    assert_int_equal(vox_runner_add_server(g.r, &so, &srv), 0);
    so.port = vox_aserver_port(srv);
    assert_int_equal(vox_runner_add_server(g.r, &so, NULL), VOX_ESYS); /* port taken */
    vox_aclient_opts bad_pw = {.password = "a\nb"};
    assert_int_equal(vox_runner_add_client(g.r, &bad_pw, NULL), VOX_EINVAL);

    vox_runner_stop(g.r, 0);
    so.port = 0;
    assert_int_equal(vox_runner_add_server(g.r, &so, NULL), VOX_ESTATE);
    assert_int_equal(vox_runner_add_client(g.r, &(vox_aclient_opts){0}, NULL), VOX_ESTATE);
    WAIT_FOR(g.stopped == 1);
    assert_int_equal(vox_runner_reopen_log(NULL), VOX_EINVAL);
    vox_runner_stop(NULL, 0);
    vox_runner_free(NULL);
    assert_int_equal(vox_runner_sessions(NULL), 0);
}

/* Allocation k fails, for every k over a runner with a server and a
 * client: VOX_ENOMEM, nothing left behind. */
static void test_alloc_failures(void **state)
{
    vox_runner_opts o = {.signals = 1};
    vox_aserver_opts so = {.on_session = on_session};
    vox_aclient_opts co = {.port = 9};
    int rc;

    for (long k = 0;; k++) {
        vox_runner *r = NULL;
        tu_fail_after(k);
        rc = vox_runner_new(&r, &g.vl, &o);
        if (!rc)
            rc = vox_runner_add_server(r, &so, NULL);
        if (!rc)
            rc = vox_runner_add_client(r, &co, NULL);
        tu_fail_off();
        vox_runner_free(r);
        assert_true(handler_is_test(SIGHUP));
        assert_loop_idle();
        assert_int_equal(tu_live(), g.live0);
        if (!rc)
            break;
        assert_int_equal(rc, VOX_ENOMEM);
        assert_true(k < 1000);
    }
}

int main(void)
{
    tu_alloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_failure_keeps_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_servers_two_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_own_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_drains_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_closes_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_sigint_forces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sighup_reopens_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signals_owner_and_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_empty_free_in_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_while_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_in_client_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
