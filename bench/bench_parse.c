/* How fast the parser turns a realistic event stream into events, measured
 * against the cheapest pass that still touches every byte (a memchr loop
 * counting newlines). The stream is built from the text/event-plain
 * CHANNEL_* frames of two real captures, repeated to about 256 MiB.
 *
 * Output: events/s and MB/s of both passes, best of 5, and as last line
 *   parse/framing: 0.NN (parse X MB/s, Y events/s; memchr pass Z MB/s)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vox/vox.h>

#define TARGET_BYTES ((size_t)256 << 20)
#define CHUNK ((size_t)64 << 10)
#define RUNS 5
#define MIN_FRAME 1536
#define MAX_FRAME 3072

typedef struct stream {
    char *data;
    size_t len, cap;
    size_t events;
} stream;

static void die(const char *what)
{
    fprintf(stderr, "bench_parse: %s\n", what);
    exit(1);
}

static char *load(const char *name, size_t *len)
{
    const char *dir = getenv("VOX_FIXTURES");
    char path[4096];
    FILE *f;
    long n;
    char *buf;

    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "tests/fixtures", name);
    if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
        die(path);
    rewind(f);
    if (!(buf = malloc((size_t)n)) || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die(path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void append(stream *s, const char *p, size_t n)
{
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        if (!(s->data = realloc(s->data, s->cap)))
            die("out of memory");
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
}

/* Append the CHANNEL_* plain-event frames of one capture (found with the
 * parser itself, by the stream offsets where each message ends). */
static void pick_frames(stream *s, const char *name)
{
    size_t len, off = 0;
    char *data = load(name, &len);
    vox_parser *p;

    if (vox_parser_new(&p, NULL) != 0)
        die("vox_parser_new");
    while (off < len) {
        vox_msg *m = NULL;
        size_t used = 0, start = (size_t)vox_parser_offset(p);
        int rc = vox_parser_feed(p, data + off, len - off, &used, &m);
        if (rc < 0)
            die("a capture does not parse");
        off += used;
        if (rc == 0)
            break;
        size_t flen = (size_t)vox_parser_offset(p) - start;
        const vox_event *ev = vox_msg_event(m);
        if (vox_msg_type(m) == VOX_CT_EVENT_PLAIN && ev &&
            strncmp(vox_event_name(ev), "CHANNEL_", 8) == 0 && flen >= MIN_FRAME &&
            flen <= MAX_FRAME) {
            append(s, data + start, flen);
            s->events++;
        }
        vox_msg_free(m);
    }
    vox_parser_free(p);
    free(data);
}

static void build_stream(stream *s)
{
    size_t one_len, one_events;

    pick_frames(s, "inbound_04_event_plain_ALL_with_call.s2c.raw");
    pick_frames(s, "inbound_25_event_flood.s2c.raw");
    if (s->events == 0)
        die("no frames picked");
    one_len = s->len;
    one_events = s->events;
    /* Grow once: append() must not move the data it copies from. */
    if (s->cap < TARGET_BYTES && !(s->data = realloc(s->data, s->cap = TARGET_BYTES)))
        die("out of memory");
    while (s->len + one_len <= TARGET_BYTES) {
        append(s, s->data, one_len);
        s->events += one_events;
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read what a user reads from an event; returns something that depends on
 * every value so the work cannot be skipped. */
static size_t use_event(const vox_event *ev)
{
    static const char *const names[] = {"Unique-ID", "Channel-Name", "Caller-Caller-ID-Name",
                                        "variable_uuid"};
    size_t sum = strlen(vox_event_name(ev));
    const char *ts = vox_event_get(ev, "Event-Date-Timestamp");

    if (ts)
        sum += (size_t)strtoull(ts, NULL, 10);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = vox_event_get(ev, names[i]);
        sum += v ? strlen(v) : 0;
    }
    return sum;
}

/* (a) Full parse: 64 KiB chunks, every event read, every message freed. */
static double run_parse(const stream *s, size_t *events, size_t *sink)
{
    vox_parser *p;
    double t0 = now();

    *events = 0;
    if (vox_parser_new(&p, NULL) != 0)
        die("vox_parser_new");
    for (size_t off = 0; off < s->len;) {
        size_t n = s->len - off < CHUNK ? s->len - off : CHUNK, used = 0;
        vox_msg *m = NULL;
        int rc = vox_parser_feed(p, s->data + off, n, &used, &m);
        if (rc < 0)
            die("parse error in the stream");
        off += used;
        if (rc == 1) {
            const vox_event *ev = vox_msg_event(m);
            if (!ev)
                die("an event frame without an event");
            *sink += use_event(ev);
            (*events)++;
            vox_msg_free(m);
        }
    }
    if (vox_parser_pending(p))
        die("partial message at the end of the stream");
    vox_parser_free(p);
    return now() - t0;
}

/* (b) The floor: find every newline with memchr. */
static double run_memchr(const stream *s, size_t *lines)
{
    const char *p = s->data, *end = s->data + s->len;
    double t0 = now();

    *lines = 0;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        (*lines)++;
        p++;
    }
    return now() - t0;
}

int main(void)
{
    stream s = {0};
    double best_parse = 1e30, best_memchr = 1e30;
    size_t events = 0, lines = 0, sink = 0;

    build_stream(&s);
    printf("stream: %.1f MiB, %zu events of %.0f bytes on average\n", (double)s.len / (1 << 20),
           s.events, (double)s.len / (double)s.events);
    for (int i = 0; i < RUNS; i++) {
        double t = run_parse(&s, &events, &sink);
        if (events != s.events)
            die("event count differs from the stream's");
        if (t < best_parse)
            best_parse = t;
        t = run_memchr(&s, &lines);
        if (t < best_memchr)
            best_memchr = t;
    }
    double mb = (double)s.len / 1e6;
    double parse_mbs = mb / best_parse, memchr_mbs = mb / best_memchr;
    printf("parse:  %8.1f MB/s %10.0f events/s  (best of %d, %.3f s)\n", parse_mbs,
           (double)events / best_parse, RUNS, best_parse);
    printf("memchr: %8.1f MB/s %10.0f events/s  (best of %d, %.3f s, %zu lines)\n", memchr_mbs,
           (double)events / best_memchr, RUNS, best_memchr, lines);
    printf("(checksum %zu)\n", sink);
    printf("parse/framing: %.2f (parse %.0f MB/s, %.0f events/s; memchr pass %.0f MB/s)\n",
           parse_mbs / memchr_mbs, parse_mbs, (double)events / best_parse, memchr_mbs);
    free(s.data);
    return 0;
}
