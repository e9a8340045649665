/* ivr — a small outbound IVR: FreeSWITCH's dialplan connects with
 * `socket 127.0.0.1:8084 async full`; each call is answered, asked for up
 * to four digits, tagged with the result, played a short tone and hung up.
 *
 *   ivr --port 8084 [--host 127.0.0.1]    (--port 0: any free port, printed on stderr)
 *
 * One line per call on stdout: the call's uuid and its result. SIGTERM or
 * SIGINT stops accepting, lets calls finish, and exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/app.h>
#include <vox/server.h>

static void on_call(vox_call *call, void *userdata)
{
    const vox_pagd ask = {
        .file = "tone_stream://%(200,0,440)",
        .invalid_file = "silence_stream://250",
        .min = 1,
        .max = 4,
        .tries = 1,
        .timeout_ms = 3000,
        .terminators = "#",
        .var = "ivr_digits",
        .regexp = "\\d+",
    };
    char digits[16] = "";
    int rc = vox_answer(call);

    if (rc == 0)
        rc = vox_set(call, "vox_ivr", "started");
    if (rc == 0)
        rc = vox_play_and_get_digits(call, &ask, digits, sizeof digits);
    const char *result = digits[0] ? digits : "none";
    if (rc == 0)
        rc = vox_set(call, "ivr_result", result);
    if (rc == 0)
        rc = vox_playback(call, "tone_stream://%(100,50,600)");
    if (rc == 0)
        rc = vox_hangup(call, "NORMAL_CLEARING");
    /* One line per call; stdio locks the stream, so lines never mix. */
    printf("call %s result %s%s%s\n", vox_call_uuid(call), result, rc ? " error " : "",
           rc ? vox_strerror(rc) : "");
    fflush(stdout);
}

static int usage(void)
{
    fprintf(stderr, "usage: ivr --port PORT [--host HOST]\n");
    return 2;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > 65535) /* 0: any free port */
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    vox_server_opts opts = {.host = "127.0.0.1"};
    vox_server *srv = NULL;
    sigset_t stop;
    int sig, have_port = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            if (parse_port(argv[++i], &opts.port))
                return usage();
            have_port = 1;
        } else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
            opts.host = argv[++i];
        } else {
            return usage();
        }
    }
    if (!have_port)
        return usage();

    /* Blocked before any thread starts, so only sigwait below sees them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    int rc = vox_server_start(&srv, &opts, on_call, NULL);
    if (rc) {
        fprintf(stderr, "ivr: cannot listen on %s:%u: %s\n", opts.host, (unsigned)opts.port,
                vox_strerror(rc));
        return 1;
    }
    fprintf(stderr, "ivr: listening on %s:%u\n", opts.host, (unsigned)vox_server_port(srv));
    sigwait(&stop, &sig);
    fprintf(stderr, "ivr: %s, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    vox_server_stop(srv);
    return 0;
}
