/* runner — two listeners in one process, one log: a tiny outbound IVR
 * (FreeSWITCH's `socket 127.0.0.1:PORT async full` connects; each call is
 * answered and hung up) and an inbound monitor (one log line per call
 * created and ended), both on one libuv loop.
 *
 *   runner --port P --fs-host H --fs-port P2 [--password PW] [--log FILE] [--level L]
 *
 * The log goes to FILE (default stderr) at level L (error, warning, info,
 * debug; default info). SIGHUP reopens FILE (logrotate: rename, then
 * `kill -HUP`). SIGTERM or SIGINT stops accepting, lets calls finish for up
 * to 10 s and exits; a second SIGINT closes the calls at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/runner.h>
#include <vox/uv.h>

#define DRAIN_MS 10000

typedef struct app {
    vox_runner *runner;
    vox_logger *log;
} app;

/* ------------------------------------------------------------ the IVR */

static void hung_up(vox_conn *c, int status, const vox_event *ev, void *userdata)
{
    app *a = userdata;
    /* VOX_EHANGUP: the channel was already gone, which is what we wanted.
     * The session then ends by itself once FreeSWITCH has sent the call's
     * last events and closed. */
    if (status && status != VOX_EHANGUP)
        vox_logger_printf(a->log, VOX_LOG_WARNING, "ivr", "call %s: hangup: %s", vox_conn_uuid(c),
                          vox_strerror(status));
    else
        vox_logger_printf(a->log, VOX_LOG_INFO, "ivr", "call %s: hung up", vox_conn_uuid(c));
}

static void answered(vox_conn *c, int status, const vox_event *ev, void *userdata)
{
    app *a = userdata;
    vox_execute hangup = {.app = "hangup", .arg = "NORMAL_CLEARING", .event_lock = 1};

    if (status) {
        vox_logger_printf(a->log, VOX_LOG_WARNING, "ivr", "call %s: answer failed: %s",
                          vox_conn_uuid(c), vox_strerror(status));
        return;
    }
    vox_logger_printf(a->log, VOX_LOG_INFO, "ivr", "call %s: answered", vox_conn_uuid(c));
    int rc = vox_conn_execute(c, &hangup, NULL, 0, 5000, hung_up, a);
    if (rc)
        vox_logger_printf(a->log, VOX_LOG_WARNING, "ivr", "call %s: hangup: %s",
                          vox_conn_uuid(c), vox_strerror(rc));
}

static void on_session(vox_session *s, void *userdata)
{
    app *a = userdata;
    vox_conn *c = vox_session_conn(s);
    const char *dest = vox_event_get(vox_conn_channel_data(c), "Caller-Destination-Number");
    vox_execute answer = {.app = "answer", .event_lock = 1};

    vox_logger_printf(a->log, VOX_LOG_INFO, "ivr", "call %s to %s", vox_session_uuid(s),
                      dest ? dest : "?");
    int rc = vox_conn_execute(c, &answer, NULL, 0, 5000, answered, a);
    if (rc)
        vox_logger_printf(a->log, VOX_LOG_WARNING, "ivr", "call %s: answer: %s",
                          vox_session_uuid(s), vox_strerror(rc));
}

static void on_end(vox_session *s, int reason, void *userdata)
{
    app *a = userdata;
    vox_logger_printf(a->log, VOX_LOG_INFO, "ivr", "call %s: ended (%s)", vox_session_uuid(s),
                      reason ? vox_strerror(reason) : "normally");
}

/* ------------------------------------------------------------ the monitor */

static const char *get(const vox_event *ev, const char *name)
{
    const char *v = vox_event_get(ev, name);
    return v && *v ? v : "-";
}

static void on_create(vox_aclient *c, const vox_event *ev, void *userdata)
{
    app *a = userdata;
    vox_logger_printf(a->log, VOX_LOG_INFO, "monitor", "created %s %s -> %s",
                      get(ev, "Unique-ID"), get(ev, "Caller-Caller-ID-Number"),
                      get(ev, "Caller-Destination-Number"));
}

static void on_hangup(vox_aclient *c, const vox_event *ev, void *userdata)
{
    app *a = userdata;
    vox_logger_printf(a->log, VOX_LOG_INFO, "monitor", "ended %s %s", get(ev, "Unique-ID"),
                      get(ev, "Hangup-Cause"));
}

/* ------------------------------------------------------------ main */

typedef struct args {
    uint16_t port, fs_port;
    const char *fs_host, *password, *log, *level;
} args;

static int usage(void)
{
    fprintf(stderr, "usage: runner --port P --fs-host H --fs-port P2 [--password PW]\n"
                    "              [--log FILE] [--level error|warning|info|debug]\n");
    return 2;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

static int parse_args(int argc, char **argv, args *o)
{
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        i++;
        if (!strcmp(opt, "--port") && !parse_port(v, &o->port))
            continue;
        if (!strcmp(opt, "--fs-port") && !parse_port(v, &o->fs_port))
            continue;
        if (!strcmp(opt, "--fs-host"))
            o->fs_host = v;
        else if (!strcmp(opt, "--password"))
            o->password = v;
        else if (!strcmp(opt, "--log"))
            o->log = v;
        else if (!strcmp(opt, "--level"))
            o->level = v;
        else
            return -1;
    }
    return o->port && o->fs_port && o->fs_host ? 0 : -1;
}

/* Both listeners on the runner; the monitor's hooks by event name. */
static int add_listeners(app *a, const args *o)
{
    vox_aserver_opts ivr = {.port = o->port, .on_session = on_session, .on_end = on_end,
                            .userdata = a};
    vox_aclient_opts mon = {.host = o->fs_host, .port = o->fs_port, .password = o->password,
                            .events = "CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE", .userdata = a};
    vox_aclient *c;
    int rc = vox_runner_add_server(a->runner, &ivr, NULL);

    if (rc) {
        fprintf(stderr, "runner: port %u: %s (%s)\n", (unsigned)o->port, vox_strerror(rc),
                strerror(errno));
        return rc;
    }
    if ((rc = vox_runner_add_client(a->runner, &mon, &c)) ||
        (rc = vox_aclient_hook(c, "CHANNEL_CREATE", on_create, a)) ||
        (rc = vox_aclient_hook(c, "CHANNEL_HANGUP_COMPLETE", on_hangup, a)))
        fprintf(stderr, "runner: monitor: %s\n", vox_strerror(rc));
    return rc;
}

int main(int argc, char **argv)
{
    args o = {.password = getenv("VOX_PASSWORD")};
    app a = {0};
    int level = VOX_LOG_INFO, rc;

    if (parse_args(argc, argv, &o) || (o.level && vox_log_level_parse(o.level, &level)))
        return usage();
    if ((rc = vox_logger_open(&a.log, o.log, level))) {
        fprintf(stderr, "runner: %s: %s\n", o.log, strerror(errno));
        return 1;
    }
    uv_loop_t *uv = uv_default_loop();
    vox_loop loop = vox_uv_loop(uv);
    vox_runner_opts ro = {.logger = a.log, .signals = 1, .drain_ms = DRAIN_MS};
    if ((rc = vox_runner_new(&a.runner, &loop, &ro))) {
        fprintf(stderr, "runner: %s\n", vox_strerror(rc));
        vox_logger_free(a.log);
        return 1;
    }
    rc = add_listeners(&a, &o);
    if (rc)
        vox_runner_stop(a.runner, 0); /* whatever did start goes down again */
    uv_run(uv, UV_RUN_DEFAULT);       /* until a stop (SIGTERM/SIGINT) has finished */
    vox_runner_free(a.runner);
    uv_loop_close(uv);
    vox_logger_free(a.log);
    return rc ? 1 : 0;
}
