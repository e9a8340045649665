/* parse_capture: read a capture of what FreeSWITCH sent (a file, or stdin)
 * and print one line per message: its type and, for events, the event name
 * and the channel it concerns.
 *
 *   cc -o parse_capture parse_capture.c -lvox -ljansson
 *   ./parse_capture tests/fixtures/inbound_04_event_plain_ALL_with_call.s2c.raw
 */
#include <stdio.h>

#include <vox/vox.h>

static void print_msg(const vox_msg *m)
{
    const vox_event *ev = vox_msg_event(m);
    const char *text = vox_msg_reply_text(m);

    if (ev) {
        const char *uuid = vox_event_get(ev, "Unique-ID");
        printf("%-24s %s %s\n", vox_msg_content_type(m), vox_event_name(ev), uuid ? uuid : "-");
    } else {
        printf("%-24s %s\n", vox_msg_content_type(m), text ? text : "");
    }
}

int main(int argc, char **argv)
{
    FILE *in = argc > 1 ? fopen(argv[1], "rb") : stdin;
    vox_parser *p = NULL;
    char buf[65536];
    size_t n;
    int status = 1;

    if (!in || vox_parser_new(&p, NULL) != 0) {
        perror(argc > 1 ? argv[1] : "parse_capture");
        goto out;
    }
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        const char *data = buf;
        while (n > 0) { /* one call returns at most one message */
            vox_msg *m;
            size_t used;
            int rc = vox_parser_feed(p, data, n, &used, &m);
            if (rc < 0) {
                const char *reason;
                uint64_t at;
                vox_parser_error(p, &reason, &at);
                fprintf(stderr, "error at byte %llu: %s\n", (unsigned long long)at, reason);
                goto out;
            }
            data += used;
            n -= used;
            if (rc == 1) {
                print_msg(m);
                vox_msg_free(m);
            }
        }
    }
    status = vox_parser_pending(p) ? 1 : 0; /* a message cut short by EOF */
    if (status)
        fprintf(stderr, "truncated message at the end\n");
out:
    vox_parser_free(p);
    if (in && in != stdin)
        fclose(in);
    return status;
}
