/* vox api, vox bgapi, vox events: the blocking client from the shell.
 * Exit statuses: 0 done, 1 the command answered -ERR (or the connection
 * failed after it was set up), 2 connecting or authenticating failed, or a
 * usage error. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILTERS 64

const char cli_api_usage[] =
    "usage: vox api [-H HOST] [-P PORT] [-p PASSWORD] COMMAND [ARGS...]\n"
    "Runs an api command and prints its output. Exit 0, 1 when the output\n"
    "starts with -ERR, 2 when connecting or authenticating fails.\n"
    "Defaults: 127.0.0.1, 8021, ClueCon, or VOX_HOST, VOX_PORT, VOX_PASSWORD.\n";
const char cli_bgapi_usage[] =
    "usage: vox bgapi [-H HOST] [-P PORT] [-p PASSWORD] COMMAND [ARGS...]\n"
    "Runs a background job and prints its result (exit codes as vox api).\n";
const char cli_events_usage[] =
    "usage: vox events [-H HOST] [-P PORT] [-p PASSWORD] [--format plain|json]\n"
    "                  [--filter HEADER VALUE]... [--count N] [EVENT...]\n"
    "Prints each event as one JSON line until interrupted or N events.\n"
    "Default events: ALL.\n";

/* What the three subcommands share. */
typedef struct net_args {
    vox_client_opts o;
    vox_header filters[MAX_FILTERS];
    unsigned long count; /* 0: until interrupted */
    int first;           /* argv index of the first operand */
} net_args;

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static int parse_port(const char *name, const char *s, uint16_t *port)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > 65535) {
        cli_errorf(name, "bad port '%s'", s);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

static int parse_count(const char *name, const char *s, unsigned long *n)
{
    char *end;
    errno = 0;
    *n = strtoul(s, &end, 10);
    if (errno || end == s || *end || *n == 0 || s[0] == '-') {
        cli_errorf(name, "bad count '%s'", s);
        return -1;
    }
    return 0;
}

static int parse_format(const char *name, const char *s, vox_format *fmt)
{
    if (!strcmp(s, "plain"))
        *fmt = VOX_FMT_PLAIN;
    else if (!strcmp(s, "json"))
        *fmt = VOX_FMT_JSON;
    else {
        cli_errorf(name, "bad format '%s' (plain or json)", s);
        return -1;
    }
    return 0;
}

/* One option at argv[*i] (events-only options when events is set):
 * 1 consumed, 0 not an option, -1 error. */
static int parse_option(int argc, char **argv, int *i, net_args *a, int events)
{
    const char *opt = argv[*i], *name = argv[0];
    int need = !strcmp(opt, "--filter") ? 2 : 1;
    int known = !strcmp(opt, "-H") || !strcmp(opt, "-P") || !strcmp(opt, "-p") ||
                (events &&
                 (!strcmp(opt, "--format") || !strcmp(opt, "--count") || !strcmp(opt, "--filter")));
    if (!known)
        return opt[0] == '-' && opt[1] ? (cli_errorf(name, "unknown option '%s'", opt), -1) : 0;
    if (*i + need >= argc) {
        cli_errorf(name, "%s needs %s", opt, need == 2 ? "two values" : "a value");
        return -1;
    }
    const char *v = argv[++*i];
    if (!strcmp(opt, "-H"))
        a->o.host = v;
    else if (!strcmp(opt, "-p"))
        a->o.password = v;
    else if (!strcmp(opt, "-P"))
        return parse_port(name, v, &a->o.port) ? -1 : 1;
    else if (!strcmp(opt, "--format"))
        return parse_format(name, v, &a->o.format) ? -1 : 1;
    else if (!strcmp(opt, "--count"))
        return parse_count(name, v, &a->count) ? -1 : 1;
    else if (a->o.nfilters == MAX_FILTERS) {
        cli_errorf(name, "too many filters");
        return -1;
    } else {
        a->filters[a->o.nfilters++] = (vox_header){v, argv[++*i]};
        a->o.filters = a->filters;
    }
    return 1;
}

static int parse_args(int argc, char **argv, net_args *a, int events)
{
    memset(a, 0, sizeof *a);
    a->o.host = env_or("VOX_HOST", "127.0.0.1");
    a->o.password = env_or("VOX_PASSWORD", "ClueCon");
    a->o.port = 8021;
    const char *port = env_or("VOX_PORT", NULL);
    if (port && parse_port(argv[0], port, &a->o.port))
        return -1;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        int r = parse_option(argc, argv, &i, a, events);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
    }
    a->first = i;
    return 0;
}

/* argv[from..] joined by spaces; caller frees. NULL when none. */
static char *join(int argc, char **argv, int from)
{
    size_t len = 0, off = 0;
    for (int i = from; i < argc; i++)
        len += strlen(argv[i]) + 1;
    if (!len)
        return NULL;
    char *s = malloc(len);
    if (!s)
        return NULL;
    for (int i = from; i < argc; i++) {
        size_t n = strlen(argv[i]);
        memcpy(s + off, argv[i], n);
        off += n;
        s[off++] = i + 1 < argc ? ' ' : '\0';
    }
    return s;
}

static vox_client *open_client(const char *name, const vox_client_opts *o)
{
    vox_client *c = NULL;
    int rc = vox_connect(&c, o);
    if (rc) {
        cli_errorf(name, "cannot connect to %s:%u: %s%s%s", o->host, (unsigned)o->port,
                   vox_strerror(rc), rc == VOX_ESYS ? ": " : "",
                   rc == VOX_ESYS ? strerror(errno) : "");
        return NULL;
    }
    return c;
}

static int print_body(const char *body, size_t len)
{
    fwrite(body, 1, len, stdout);
    return fflush(stdout) == 0 ? 0 : -1;
}

/* vox api / vox bgapi */
static int run_api(int argc, char **argv, int bg)
{
    net_args a;
    vox_msg *r = NULL;
    size_t len;
    int rc, status = CLI_FAIL;

    if (parse_args(argc, argv, &a, 0))
        return CLI_USAGE;
    char *cmd = join(argc, argv, a.first);
    if (!cmd) {
        fputs(bg ? cli_bgapi_usage : cli_api_usage, stderr);
        return CLI_USAGE;
    }
    vox_client *c = open_client(argv[0], &a.o);
    if (!c) {
        free(cmd);
        return CLI_USAGE;
    }
    rc = bg ? vox_bgapi(c, cmd, &r) : vox_api(c, cmd, &r);
    if (r && bg && !vox_msg_event(r)) {
        /* the bgapi itself was refused: its command/reply says why */
        cli_errorf(argv[0], "%s: %s", cmd, vox_msg_reply_text(r));
    } else if (r) {
        const char *body = bg ? vox_event_body(vox_msg_event(r), &len) : vox_msg_body(r, &len);
        int err = rc == VOX_EREPLY || (len >= 4 && !memcmp(body, "-ERR", 4));
        status = print_body(body, len) == 0 && !err ? CLI_OK : CLI_FAIL;
    } else {
        cli_errorf(argv[0], "%s: %s", cmd, vox_strerror(rc));
    }
    vox_msg_free(r);
    vox_close(c);
    free(cmd);
    return status;
}

int cli_api_main(int argc, char **argv)
{
    return run_api(argc, argv, 0);
}

int cli_bgapi_main(int argc, char **argv)
{
    return run_api(argc, argv, 1);
}

/* ------------------------------------------------------------- events */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* No SA_RESTART: poll() returns at once; the loop below sees the flag
 * within its next short wait either way. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int print_event(vox_msg *m)
{
    json_t *v = cli_json_event(vox_msg_event(m));
    int rc = v ? cli_json_print(v, stdout) : -1;
    json_decref(v);
    if (rc == 0)
        rc = fflush(stdout) == 0 ? 0 : -1;
    return rc;
}

static int event_loop(const char *name, vox_client *c, unsigned long count)
{
    unsigned long seen = 0;
    while (!stop_flag && (!count || seen < count)) {
        vox_msg *m = NULL;
        int rc = vox_next_event(c, 200, &m);
        if (rc == VOX_ETIMEDOUT)
            continue;
        if (rc) {
            cli_errorf(name, "%s", vox_strerror(rc));
            return CLI_FAIL;
        }
        rc = print_event(m);
        vox_msg_free(m);
        if (rc) {
            cli_errorf(name, "cannot write the output");
            return CLI_FAIL;
        }
        seen++;
    }
    return CLI_OK;
}

int cli_events_main(int argc, char **argv)
{
    net_args a;
    int status;

    if (parse_args(argc, argv, &a, 1))
        return CLI_USAGE;
    char *events = join(argc, argv, a.first);
    a.o.events = events ? events : "ALL";
    catch_signals();
    vox_client *c = open_client(argv[0], &a.o);
    if (!c) {
        free(events);
        return CLI_USAGE;
    }
    status = event_loop(argv[0], c, a.count);
    vox_close(c);
    free(events);
    return status;
}
