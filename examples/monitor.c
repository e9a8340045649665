/* monitor — watch a FreeSWITCH's calls as they happen: one line per channel
 * event, through FreeSWITCH restarts.
 *
 *   monitor [--host H] [--port P] [--password PW]
 *
 * Defaults: 127.0.0.1, 8021, ClueCon, or VOX_HOST, VOX_PORT, VOX_PASSWORD.
 * The connection comes back by itself when FreeSWITCH goes away (the lines
 * on stderr say when, and that events may have been missed meanwhile).
 * SIGINT or SIGTERM stops it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/async.h>
#include <vox/uv.h>

#define EVENTS                                                                                     \
    "CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HOLD CHANNEL_UNHOLD "   \
    "CHANNEL_HANGUP"

typedef struct monitor {
    vox_aclient *client;
    uv_signal_t sigint, sigterm;
} monitor;

static const char *get(const vox_event *ev, const char *name)
{
    const char *v = vox_event_get(ev, name);
    return v && *v ? v : "-";
}

/* The caller as "Name <number>", or the number alone. */
static void caller_id(const vox_event *ev, char *out, size_t size)
{
    const char *name = vox_event_get(ev, "Caller-Caller-ID-Name");
    const char *num = get(ev, "Caller-Caller-ID-Number");
    if (name && *name && strcmp(name, num))
        snprintf(out, size, "\"%s\" <%s>", name, num);
    else
        snprintf(out, size, "%s", num);
}

static void on_channel(vox_aclient *c, const vox_event *ev, void *userdata)
{
    const char *name = vox_event_name(ev);
    const char *uuid = get(ev, "Unique-ID");
    char cid[256];

    if (!strcmp(name, "CHANNEL_CREATE")) {
        caller_id(ev, cid, sizeof cid);
        printf("%s %s %s -> %s\n", name, uuid, cid, get(ev, "Caller-Destination-Number"));
    } else if (!strcmp(name, "CHANNEL_HANGUP")) {
        printf("%s %s %s\n", name, uuid, get(ev, "Hangup-Cause"));
    } else if (!strcmp(name, "CHANNEL_BRIDGE") || !strcmp(name, "CHANNEL_UNBRIDGE")) {
        printf("%s %s %s\n", name, uuid, get(ev, "Other-Leg-Unique-ID"));
    } else {
        printf("%s %s\n", name, uuid);
    }
    fflush(stdout);
}

static void on_connect(vox_aclient *c, void *userdata)
{
    fprintf(stderr, "connected\n");
}

static void on_disconnect(vox_aclient *c, int reason, uint32_t retry_ms, void *userdata)
{
    fprintf(stderr, "disconnected: %s, retrying in %u ms\n", vox_strerror(reason),
            (unsigned)retry_ms);
}

static void on_missed(vox_aclient *c, void *userdata)
{
    fprintf(stderr, "events may have been missed\n");
}

static void on_signal(uv_signal_t *s, int signum)
{
    monitor *m = s->data;
    vox_aclient_stop(m->client);
    /* With the client and the signals gone the loop has nothing left. */
    uv_close((uv_handle_t *)&m->sigint, NULL);
    uv_close((uv_handle_t *)&m->sigterm, NULL);
}

static int usage(const char *argv0, int rc)
{
    fprintf(rc ? stderr : stdout,
            "usage: %s [--host H] [--port P] [--password PW]\n"
            "Defaults: 127.0.0.1, 8021, ClueCon, or VOX_HOST, VOX_PORT, VOX_PASSWORD.\n",
            argv0);
    return rc;
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

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int parse_args(int argc, char **argv, vox_aclient_opts *o)
{
    o->host = env_or("VOX_HOST", "127.0.0.1");
    o->password = env_or("VOX_PASSWORD", "ClueCon");
    o->port = 8021;
    const char *port = env_or("VOX_PORT", NULL);
    if (port && parse_port(port, &o->port))
        return usage(argv[0], 2);
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h"))
            return usage(argv[0], 1);
        if (i + 1 >= argc)
            return usage(argv[0], 2);
        const char *v = argv[++i];
        if (!strcmp(opt, "--host"))
            o->host = v;
        else if (!strcmp(opt, "--password"))
            o->password = v;
        else if (strcmp(opt, "--port") || parse_port(v, &o->port))
            return usage(argv[0], 2);
    }
    return 0;
}

int main(int argc, char **argv)
{
    vox_aclient_opts o = {0};
    monitor m = {0};
    uv_loop_t *uv = uv_default_loop();
    vox_loop loop = vox_uv_loop(uv);
    int rc = parse_args(argc, argv, &o);

    if (rc)
        return rc == 1 ? 0 : rc;
    o.events = EVENTS;
    o.on_connect = on_connect;
    o.on_disconnect = on_disconnect;
    o.on_missed = on_missed;
    o.userdata = &m;
    rc = vox_aclient_start(&m.client, &loop, &o);
    if (rc) {
        fprintf(stderr, "monitor: %s\n", vox_strerror(rc));
        return 1;
    }
    /* Hooks by name rather than on_event: BACKGROUND_JOB, always
     * subscribed, is not a channel event. */
    static const char *const names[] = {"CHANNEL_CREATE",   "CHANNEL_ANSWER", "CHANNEL_BRIDGE",
                                        "CHANNEL_UNBRIDGE", "CHANNEL_HOLD",   "CHANNEL_UNHOLD",
                                        "CHANNEL_HANGUP"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        vox_aclient_hook(m.client, names[i], on_channel, NULL);
    uv_signal_init(uv, &m.sigint);
    uv_signal_init(uv, &m.sigterm);
    m.sigint.data = m.sigterm.data = &m;
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    uv_run(uv, UV_RUN_DEFAULT);
    uv_loop_close(uv);
    return 0;
}
