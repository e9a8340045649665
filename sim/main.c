/* vox-sim — a simulated FreeSWITCH on the event socket (see man/vox-sim.1).
 *
 * Without calls it serves the inbound event socket until SIGTERM or SIGINT.
 * With calls (from --scenario or --call) it plays them, prints an account of
 * each on stdout and exits: 0 every call ended as scripted, 1 some did not,
 * 2 usage or setup error, 3 --timeout passed. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/common.h>

#include "scenario.h"
#include "sim.h"

#define MAX_CLI_CALLS 1000
#define CLI_DTMF_MS 1000 /* --call presses its digits this long after answer */

static const char usage_text[] =
    "usage: vox-sim [--host H] [--port P] [--password PW] [--scenario FILE]\n"
    "               [--socket HOST:PORT] [--speed X] [--wait-clients N] [--heartbeat MS]\n"
    "               [--log FILE] [--verbose | --quiet] [--timeout SECONDS]\n"
    "               [--call DIGITS|-]... [--hangup-after MS]\n"
    "               [--reject-auth] [--acl-reject] [--flood N]\n"
    "A simulated FreeSWITCH event socket (default 127.0.0.1:8021, password ClueCon;\n"
    "--port 0 picks a free port). Without calls it serves until SIGTERM or SIGINT.\n"
    "With calls it plays them and exits: 0 all as scripted, 1 not, 2 usage or setup\n"
    "error, 3 timeout (--timeout, default 60 s). See vox-sim(1).\n";

typedef struct args {
    const char *host;
    long port; /* -1: unset */
    const char *password;
    const char *scenario;
    const char *socket;
    double speed; /* 0: unset */
    long wait_clients;
    int64_t heartbeat_ms;
    const char *log_path;
    int level;
    double timeout_s;
    const char *calls[MAX_CLI_CALLS];
    size_t ncalls;
    int64_t hangup_ms;
    int reject_auth, acl_reject;
    long flood;
} args;

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: the message, the usage, status 2. */
static int bad(const char *fmt, ...)
{
    va_list ap;
    fputs("vox-sim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    fputs(usage_text, stderr);
    return 2;
}

static int to_long(const char *s, long max, long *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int to_double(const char *s, double *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v <= 0 || v > 1e6)
        return -1;
    *out = v;
    return 0;
}

static int to_ms(const char *s, int64_t *out)
{
    uint32_t ms;
    if (vox_sim_scenario_duration(s, &ms))
        return -1;
    *out = ms;
    return 0;
}

static int add_call(args *a, const char *digits)
{
    size_t len = strlen(digits);
    if (strcmp(digits, "-") && (!len || len > 128 || strspn(digits, "0123456789*#ABCDabcd") != len))
        return -1;
    if (a->ncalls >= MAX_CLI_CALLS)
        return -1;
    a->calls[a->ncalls++] = digits;
    return 0;
}

static const char *const valued_flags[] = {
    "--host", "--port",    "--password",     "--scenario",     "--socket", "--speed", "--heartbeat",
    "--log",  "--timeout", "--wait-clients", "--hangup-after", "--flood",  "--call",
};

static int is_valued(const char *flag)
{
    for (size_t i = 0; i < sizeof valued_flags / sizeof valued_flags[0]; i++)
        if (!strcmp(flag, valued_flags[i]))
            return 1;
    return 0;
}

/* A flag that takes a value (one of valued_flags): 0, or -1 for a bad value. */
static int valued(args *a, const char *flag, const char *v)
{
    int bad_value = 0;
    if (!strcmp(flag, "--host"))
        a->host = v;
    else if (!strcmp(flag, "--password"))
        a->password = v;
    else if (!strcmp(flag, "--scenario"))
        a->scenario = v;
    else if (!strcmp(flag, "--log"))
        a->log_path = v;
    else if (!strcmp(flag, "--socket") && vox_sim_scenario_socket_ok(v))
        a->socket = v;
    else if (!strcmp(flag, "--socket"))
        bad_value = 1;
    else if (!strcmp(flag, "--port"))
        bad_value = to_long(v, 65535, &a->port);
    else if (!strcmp(flag, "--speed"))
        bad_value = to_double(v, &a->speed);
    else if (!strcmp(flag, "--wait-clients"))
        bad_value = to_long(v, 10000, &a->wait_clients);
    else if (!strcmp(flag, "--heartbeat"))
        bad_value = to_ms(v, &a->heartbeat_ms);
    else if (!strcmp(flag, "--hangup-after"))
        bad_value = to_ms(v, &a->hangup_ms);
    else if (!strcmp(flag, "--timeout"))
        bad_value = to_double(v, &a->timeout_s);
    else if (!strcmp(flag, "--flood"))
        bad_value = to_long(v, 10000000, &a->flood);
    else
        bad_value = add_call(a, v); /* --call */
    return bad_value ? -1 : 0;
}

static int switch_flag(args *a, const char *flag)
{
    if (!strcmp(flag, "--verbose"))
        a->level = 3;
    else if (!strcmp(flag, "--quiet"))
        a->level = 1;
    else if (!strcmp(flag, "--reject-auth"))
        a->reject_auth = 1;
    else if (!strcmp(flag, "--acl-reject"))
        a->acl_reject = 1;
    else
        return -1;
    return 0;
}

/* 0 to run, 2 on a usage error, -1 when --help/--version printed. */
static int parse_args(int argc, char **argv, args *a)
{
    for (int i = 1; i < argc; i++) {
        char flag[64];
        const char *arg = argv[i], *eq = strchr(arg, '='), *v;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (!strcmp(arg, "--version")) {
            printf("vox-sim %s\n", VOX_VERSION_STRING);
            return -1;
        }
        if (strncmp(arg, "--", 2) || (eq && (size_t)(eq - arg) >= sizeof flag))
            return bad("unknown argument '%s'", arg);
        if (!eq && !switch_flag(a, arg))
            continue;
        snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - arg) : (int)sizeof flag - 1, arg);
        if (!is_valued(flag))
            return bad("unknown flag '%s'", flag);
        if (eq)
            v = eq + 1;
        else if (i + 1 < argc)
            v = argv[++i];
        else
            return bad("%s needs a value", arg);
        if (valued(a, flag, v))
            return bad("bad value '%s' for %s", v, flag);
    }
    return 0;
}

/* ------------------------------------------------------------ run */

typedef struct run {
    args a;
    vox_sim_scenario scn;
    vox_sim_opts o;
    FILE *log;
    vox_sim *s;
    vox_sim_dtmf *dtmf; /* one per --call */
    pthread_t main_thread;
    int wait_rc;
} run;

static void on_log(const vox_sim_log_line *l, void *userdata)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    run *r = userdata;
    int level = l->level < 0 ? 0 : l->level > 3 ? 3 : l->level;
    if (level > r->a.level)
        return;
    /* One call per line: stdio locks the stream, so lines never mix. */
    fprintf(r->log, "vox-sim: %s: %s\n", names[level], l->line);
}

/* The simulator's options: the scenario's, then the flags over them. */
static void build_opts(run *r)
{
    args *a = &r->a;
    vox_sim_opts *o = &r->o;
    *o = r->scn.opts;
    o->host = a->host;
    o->port = (uint16_t)(a->port < 0 ? 8021 : a->port);
    if (a->password)
        o->password = a->password;
    if (a->socket)
        o->socket = a->socket;
    if (a->speed > 0)
        o->speed = a->speed;
    if (a->wait_clients >= 0)
        o->wait_clients = (unsigned)a->wait_clients;
    if (a->heartbeat_ms >= 0)
        o->heartbeat_ms = (uint32_t)a->heartbeat_ms;
    if (a->reject_auth)
        o->faults.reject_auth = 1;
    if (a->acl_reject)
        o->faults.acl_reject = 1;
    if (a->flood >= 0)
        o->faults.flood_events = (size_t)a->flood;
    o->log = on_log;
    o->log_level = a->level;
    o->userdata = r;
}

/* Scenario, log file, options: 0 or 2 (message printed). */
static int setup(run *r)
{
    char err[1200];
    int rc = r->a.scenario ? vox_sim_scenario_load(&r->scn, r->a.scenario, err, sizeof err)
                           : vox_sim_scenario_parse(&r->scn, "-", "", 0, err, sizeof err);
    if (rc == 0)
        rc = vox_sim_scenario_check(&r->scn, r->a.socket, err, sizeof err);
    if (rc) {
        fprintf(stderr, "vox-sim: %s\n", err);
        return 2;
    }
    if (r->a.ncalls && !r->a.socket && !r->scn.opts.socket) {
        fprintf(stderr, "vox-sim: --call needs --socket HOST:PORT (or a scenario's socket)\n");
        return 2;
    }
    r->log = stderr;
    if (r->a.log_path && !(r->log = fopen(r->a.log_path, "a"))) {
        fprintf(stderr, "vox-sim: cannot open %s: %s\n", r->a.log_path, strerror(errno));
        r->log = NULL;
        return 2;
    }
    if (r->log != stderr)
        setvbuf(r->log, NULL, _IOLBF, 0);
    build_opts(r);
    return 0;
}

static int place_calls(run *r)
{
    size_t n = r->a.ncalls;
    r->dtmf = n ? calloc(n, sizeof *r->dtmf) : NULL;
    if (n && !r->dtmf)
        return VOX_ENOMEM;
    for (size_t i = 0; i < r->scn.ncalls; i++) {
        vox_sim_call c = r->scn.calls[i];
        if (!c.socket)
            c.socket = r->o.socket;
        int rc = vox_sim_place(r->s, &c);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        vox_sim_call c = {.socket = r->o.socket, .hangup_ms = r->a.hangup_ms};
        if (strcmp(r->a.calls[i], "-")) {
            r->dtmf[i] = (vox_sim_dtmf){.at_ms = CLI_DTMF_MS, .digits = r->a.calls[i]};
            c.dtmf = &r->dtmf[i];
            c.ndtmf = 1;
        }
        int rc = vox_sim_place(r->s, &c);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void print_steps(const char *steps)
{
    while (steps && *steps) {
        size_t len = strcspn(steps, "\n");
        if (len)
            printf("  %.*s\n", (int)len, steps);
        steps += len + (steps[len] == '\n');
    }
}

/* The account of every call on stdout; returns how many ended as scripted.
 * stopped_by: the signal that cut the calls short, or NULL. */
static size_t report(run *r, size_t *ncalls, const char *stopped_by)
{
    size_t n = vox_sim_result_get(r->s, 0, NULL), good = 0;
    for (size_t i = 0; i < n; i++) {
        vox_sim_result res;
        memset(&res, 0, sizeof res);
        vox_sim_result_get(r->s, i, &res);
        printf("call %s uuid %s\n", res.name && *res.name ? res.name : "-",
               res.uuid && *res.uuid ? res.uuid : "-");
        print_steps(res.steps);
        const char *why = res.why && *res.why ? res.why : "did not end";
        if (!res.ended && stopped_by)
            printf("  not ended \xe2\x80\x94 NOT as scripted: stopped by %s\n", stopped_by);
        else if (!res.ended)
            printf("  not ended \xe2\x80\x94 NOT as scripted: %s\n", why);
        else if (res.as_scripted)
            printf("  ended: %s \xe2\x80\x94 as scripted\n", res.cause ? res.cause : "");
        else
            printf("  ended: %s \xe2\x80\x94 NOT as scripted: %s\n", res.cause ? res.cause : "",
                   why);
        good += res.ended && res.as_scripted;
    }
    printf("%zu call%s, %zu as scripted\n", n, n == 1 ? "" : "s", good);
    fflush(stdout);
    *ncalls = n;
    return good;
}

static void *waiter(void *arg)
{
    run *r = arg;
    double ms = r->a.timeout_s * 1000.0;
    r->wait_rc = vox_sim_wait(r->s, ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
    /* Wakes the main thread's sigwait. */
    pthread_kill(r->main_thread, SIGUSR1);
    return NULL;
}

static const char *signame(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal";
}

/* Serve the inbound side until a signal. */
static int serve(run *r, const sigset_t *stop)
{
    int sig = 0;
    sigwait(stop, &sig);
    fprintf(stderr, "vox-sim: %s, stopping\n", signame(sig));
    return 0;
}

/* Play the calls, print the account; the exit status. */
static int play(run *r, const sigset_t *stop)
{
    pthread_t t;
    int sig = 0;
    size_t n;

    if (place_calls(r)) {
        fprintf(stderr, "vox-sim: cannot place the calls\n");
        return 2;
    }
    if (pthread_create(&t, NULL, waiter, r)) {
        fprintf(stderr, "vox-sim: cannot start a thread\n");
        return 2;
    }
    sigwait(stop, &sig);
    if (sig != SIGUSR1)
        fprintf(stderr, "vox-sim: %s, stopping\n", signame(sig));
    /* The account as things stand: before a stop hangs up what is still up. */
    size_t good = report(r, &n, sig != SIGUSR1 ? signame(sig) : NULL);
    /* Stopping ends every channel, which ends the wait. */
    if (sig != SIGUSR1)
        vox_sim_stop(r->s);
    pthread_join(t, NULL);
    if (r->wait_rc == VOX_ETIMEDOUT && sig == SIGUSR1) {
        fprintf(stderr, "vox-sim: timed out after %g s\n", r->a.timeout_s);
        return 3;
    }
    return good == n ? 0 : 1;
}

static int run_sim(run *r)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGUSR1);
    /* Blocked before any thread starts, so only sigwait sees them. */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    r->main_thread = pthread_self();

    int rc = vox_sim_start(&r->s, &r->o);
    if (rc) {
        const char *why = rc == VOX_ESYS ? strerror(errno) : vox_strerror(rc);
        fprintf(stderr, "vox-sim: cannot listen on %s:%ld: %s\n", r->o.host, (long)r->o.port, why);
        return 2;
    }
    fprintf(stderr, "vox-sim: listening on %s:%u\n", r->o.host, (unsigned)vox_sim_port(r->s));
    fflush(stderr);
    if (r->scn.ncalls + r->a.ncalls == 0) {
        sigdelset(&stop, SIGUSR1);
        rc = serve(r, &stop);
    } else {
        rc = play(r, &stop);
    }
    vox_sim_stop(r->s);
    vox_sim_free(r->s);
    return rc;
}

int main(int argc, char **argv)
{
    static run r; /* large (the --call table): not on the stack */
    r.a = (args){.host = "127.0.0.1",
                 .port = -1,
                 .wait_clients = -1,
                 .heartbeat_ms = -1,
                 .level = 2,
                 .timeout_s = 60,
                 .hangup_ms = -1,
                 .flood = -1};
    int rc = parse_args(argc, argv, &r.a);
    if (rc)
        return rc < 0 ? 0 : rc;
    rc = setup(&r);
    if (rc == 0)
        rc = run_sim(&r);
    if (r.log && r.log != stderr)
        fclose(r.log);
    free(r.dtmf);
    vox_sim_scenario_free(&r.scn);
    return rc;
}
