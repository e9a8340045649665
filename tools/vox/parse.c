/* vox parse [FILE]: a captured FreeSWITCH byte stream in, one JSON object
 * per message out. The input is read and fed in chunks, so a capture of any
 * size streams through in constant memory (bar one message). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

const char cli_parse_usage[] =
    "usage: vox parse [FILE]\n"
    "Read the bytes FreeSWITCH sent (FILE, or stdin when absent or \"-\")\n"
    "and print each message as one JSON object per line.\n";

typedef struct parse_run {
    vox_parser *p;
    FILE *out;
    uint64_t msg_start; /* stream offset where the message in progress began */
} parse_run;

static int emit(parse_run *r, vox_msg *msg)
{
    json_t *v = cli_json_msg(msg);
    int rc = 0;

    if (!v) {
        cli_errorf("parse", "out of memory");
        rc = -1;
    } else if (cli_json_print(v, r->out) != 0) {
        cli_errorf("parse", "write error: %s", strerror(errno));
        rc = -1;
    }
    json_decref(v);
    return rc;
}

static void report_parser_error(parse_run *r, int err)
{
    const char *reason = NULL;
    uint64_t at = 0;

    fflush(r->out);
    if (err == VOX_ENOMEM) {
        cli_errorf("parse", "out of memory at byte %" PRIu64, vox_parser_offset(r->p));
        return;
    }
    vox_parser_error(r->p, &reason, &at);
    cli_errorf("parse", "error at byte %" PRIu64 ": %s", at,
               reason && *reason ? reason : vox_strerror(err));
}

/* Feed one chunk, printing every message it completes. 0 or -1. */
static int feed_chunk(parse_run *r, const char *buf, size_t len)
{
    while (len > 0) {
        vox_msg *msg = NULL;
        size_t used = 0;
        int rc = vox_parser_feed(r->p, buf, len, &used, &msg);

        if (rc < 0) {
            report_parser_error(r, rc);
            return -1;
        }
        buf += used;
        len -= used;
        if (rc == 0)
            continue;
        r->msg_start = vox_parser_offset(r->p);
        rc = emit(r, msg);
        vox_msg_free(msg);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static ssize_t read_some(int fd, char *buf, size_t len)
{
    ssize_t n;

    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

static int parse_fd(parse_run *r, int fd, const char *path)
{
    static char buf[CHUNK];
    ssize_t n;

    while ((n = read_some(fd, buf, sizeof buf)) > 0)
        if (feed_chunk(r, buf, (size_t)n) != 0)
            return CLI_FAIL;
    fflush(r->out);
    if (n < 0) {
        cli_errorf("parse", "%s: %s", path, strerror(errno));
        return CLI_FAIL;
    }
    if (vox_parser_pending(r->p)) {
        cli_errorf("parse", "error at byte %" PRIu64 ": truncated message at byte %" PRIu64,
                   vox_parser_offset(r->p), r->msg_start);
        return CLI_FAIL;
    }
    if (ferror(r->out)) {
        cli_errorf("parse", "write error");
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* The one optional operand; NULL after printing usage on bad usage. */
static const char *parse_args(int argc, char **argv, int *status)
{
    int i = 1;

    *status = CLI_USAGE;
    if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
        fputs(cli_parse_usage, stdout);
        *status = CLI_OK;
        return NULL;
    }
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    else if (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        cli_errorf("parse", "unknown option '%s'", argv[i]);
        fputs(cli_parse_usage, stderr);
        return NULL;
    }
    if (argc - i > 1) {
        fputs(cli_parse_usage, stderr);
        return NULL;
    }
    return i < argc ? argv[i] : "-";
}

int cli_parse_main(int argc, char **argv)
{
    parse_run r = {.out = stdout};
    const char *path;
    int status, fd = STDIN_FILENO, err;

    path = parse_args(argc, argv, &status);
    if (!path)
        return status;
    if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY)) < 0) {
        cli_errorf("parse", "%s: %s", path, strerror(errno));
        return CLI_FAIL;
    }
    err = vox_parser_new(&r.p, NULL);
    if (err != 0) {
        cli_errorf("parse", "%s", vox_strerror(err));
        status = CLI_FAIL;
    } else {
        status = parse_fd(&r, fd, strcmp(path, "-") ? path : "stdin");
    }
    vox_parser_free(r.p);
    if (fd != STDIN_FILENO)
        close(fd);
    return status;
}
