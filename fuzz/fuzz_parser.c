/* Fuzz target for the parser: the stream is fed in chunks whose sizes come
 * from the input itself, every message is read through every accessor (the
 * event view too), and the same stream parsed in one call must give the same
 * messages and the same final error. The one-call parse reads plain events
 * with the eager scanner only, the chunked one lazily: both must read every
 * header, value and body the same.
 *
 * Input layout:
 *   byte 0   bits 0-2: k, the number of chunk-size bytes (0: one byte at a
 *            time); bit 3: small limits, to reach the limit errors
 *   k bytes  chunk sizes (each value + 1), used in turn, cycling
 *   rest     the bytes FreeSWITCH would send
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vox/vox.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The lazy scanner's switch for tests (src/proto/proto_int.h): -2 turns it
 * off, -1 restores the default. */
int vox__plain_isa(int isa);

#define MAX_MSGS 4096

/* What one message looked like, for comparing two parses. */
typedef struct summary {
    int type;
    size_t nheaders;
    size_t body_len;
    uint64_t body_hash;
    size_t nev;       /* event headers, or (size_t)-1 without an event view */
    uint64_t ev_hash; /* of every name, value and lookup of the event */
} summary;

typedef struct run {
    summary msgs[MAX_MSGS];
    size_t n;
    int err;
    uint64_t err_at;
    uint64_t offset;
    int pending;
} run;

static run g_a, g_b;
static volatile size_t g_sink; /* keeps the reads from being optimized out */

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* Reads every byte of s, so the sanitizers see any overread. */
static void touch(const char *s)
{
    if (s)
        g_sink += strlen(s);
}

static void read_headers(const vox_msg *m, summary *s)
{
    s->nheaders = vox_msg_header_count(m);
    for (size_t i = 0; i < s->nheaders; i++) {
        const char *name = NULL, *value = NULL;
        CHECK(vox_msg_header_at(m, i, &name, &value) == 0);
        CHECK(name && value);
        touch(name);
        touch(value);
        CHECK(vox_msg_header(m, name) != NULL);
    }
    const char *name, *value;
    CHECK(vox_msg_header_at(m, s->nheaders, &name, &value) == VOX_EINVAL);
}

static uint64_t mix(uint64_t h, const char *v)
{
    return h * 31 + (v ? hash(v, strlen(v)) : 7);
}

static void read_event(const vox_msg *m, const vox_event *ev, summary *s)
{
    static const char *const names[] = {"Unique-ID", "event-name", "Content-Length",
                                        "A",         "a:b",        "Core-UUID"};
    CHECK(vox_event_msg(ev) == m);
    /* lookups first: a lazy event has no index yet */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        s->ev_hash = mix(s->ev_hash, vox_event_get(ev, names[i]));
    touch(vox_event_name(ev));
    touch(vox_event_subclass(ev));
    s->nev = vox_event_header_count(ev);
    for (size_t i = 0; i < s->nev; i++) {
        const char *name = NULL, *value = NULL;
        size_t nvalues = 0;
        CHECK(vox_event_header_at(ev, i, &name, &value, &nvalues) == 0);
        CHECK(name != NULL);
        touch(name);
        touch(value);
        s->ev_hash = mix(mix(s->ev_hash, name), value);
        for (size_t k = 0; k < nvalues; k++)
            s->ev_hash = mix(s->ev_hash, vox_event_value_at(ev, i, k));
        CHECK(vox_event_value_at(ev, i, nvalues) == NULL);
        if (nvalues) {
            const char *first = vox_event_get(ev, name);
            CHECK(first != NULL);
            s->ev_hash = mix(s->ev_hash, first);
        }
    }
    CHECK(vox_event_header_at(ev, s->nev, NULL, NULL, NULL) == VOX_EINVAL);
    size_t blen = 0;
    const char *body = vox_event_body(ev, &blen);
    CHECK(body != NULL && body[blen] == '\0');
    g_sink += hash(body, blen);
}

static void read_msg(vox_msg *m, summary *s)
{
    s->type = (int)vox_msg_type(m);
    touch(vox_msg_content_type(m));
    read_headers(m, s);
    const char *body = vox_msg_body(m, &s->body_len);
    CHECK(body != NULL && body[s->body_len] == '\0');
    s->body_hash = hash(body, s->body_len);
    touch(vox_msg_reply_text(m));
    g_sink += (size_t)vox_msg_is_error(m);
    const vox_event *ev = vox_msg_event(m);
    s->nev = (size_t)-1;
    if (ev)
        read_event(m, ev, s);
    /* A second reference outlives the first. */
    vox_msg *again = vox_msg_ref(m);
    CHECK(again == m);
    vox_msg_free(m);
    touch(vox_msg_content_type(again));
    vox_msg_free(again);
}

/* Feeds one chunk; returns 0 to go on, 1 once the parser has failed. */
static int feed_chunk(vox_parser *p, const char *d, size_t len, run *r)
{
    while (len > 0) {
        size_t used = 0;
        vox_msg *m = NULL;
        int rc = vox_parser_feed(p, d, len, &used, &m);
        CHECK(used <= len);
        if (rc < 0) {
            CHECK(m == NULL);
            r->err = rc;
            return 1;
        }
        if (rc == 0) {
            CHECK(m == NULL && used == len);
            return 0;
        }
        CHECK(m != NULL);
        if (r->n < MAX_MSGS)
            read_msg(m, &r->msgs[r->n]);
        else
            vox_msg_free(m);
        r->n++;
        d += used;
        len -= used;
    }
    return 0;
}

static void finish(vox_parser *p, run *r)
{
    const char *reason = NULL;
    int err = vox_parser_error(p, &reason, &r->err_at);
    CHECK(err == r->err);
    r->offset = vox_parser_offset(p);
    r->pending = vox_parser_pending(p);
    if (err) {
        touch(reason);
        /* Sticky: the next call fails the same way. */
        size_t used = 0;
        vox_msg *m = NULL;
        CHECK(vox_parser_feed(p, "x", 1, &used, &m) == err && m == NULL);
    }
}

static void parse(const char *d, size_t len, const uint8_t *sizes, size_t k, const vox_limits *lim,
                  run *r)
{
    vox_parser *p = NULL;
    memset(r, 0, sizeof *r);
    if (vox_parser_new(&p, lim) != 0)
        abort();
    size_t pos = 0, i = 0;
    while (pos < len) {
        size_t n = k ? (size_t)sizes[i++ % k] + 1 : 1;
        if (n > len - pos)
            n = len - pos;
        if (feed_chunk(p, d + pos, n, r))
            break;
        pos += n;
    }
    finish(p, r);
    vox_parser_free(p);
}

static int same_msgs(const run *a, const run *b)
{
    if (a->n != b->n)
        return 0;
    size_t n = a->n < MAX_MSGS ? a->n : MAX_MSGS;
    for (size_t i = 0; i < n; i++) {
        const summary *x = &a->msgs[i], *y = &b->msgs[i];
        if (x->type != y->type || x->nheaders != y->nheaders || x->body_len != y->body_len ||
            x->body_hash != y->body_hash || x->nev != y->nev || x->ev_hash != y->ev_hash)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t k = data[0] & 7;
    vox_limits small = {512, 1024, 16};
    const vox_limits *lim = (data[0] & 8) ? &small : NULL;
    if (size < 1 + k)
        return 0;
    const uint8_t *sizes = data + 1;
    const char *d = (const char *)data + 1 + k;
    size_t len = size - 1 - k;

    parse(d, len, sizes, k, lim, &g_a);
    /* The same stream again, all of it in one call, read eagerly. */
    vox_parser *p = NULL;
    memset(&g_b, 0, sizeof g_b);
    vox__plain_isa(-2);
    if (vox_parser_new(&p, lim) != 0)
        abort();
    feed_chunk(p, d, len, &g_b);
    finish(p, &g_b);
    vox_parser_free(p);
    vox__plain_isa(-1);

    if (!same_msgs(&g_a, &g_b) || g_a.err != g_b.err)
        abort();
    if (g_a.err && g_a.err_at != g_b.err_at)
        abort();
    if (!g_a.err && (g_a.offset != g_b.offset || g_a.pending != g_b.pending))
        abort();
    return 0;
}
