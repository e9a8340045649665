/* Plain events read lazily, and messages that borrow the engine's input.
 *   - Every event of every capture, and thousands of generated ones, read
 *     through the lazy path (each block reader, lookups before or after
 *     iteration) equal what the eager scanner gives.
 *   - Malformed bodies fail exactly as the eager scanner fails them.
 *   - An engine's events borrow its input: a message a hook keeps (a
 *     reference) and every pointer it was given stay valid once the input
 *     is gone; the memory of released messages is reused.
 *   - Allocation failure on these paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/testutil.h"

/* The lazy scanner's switch for tests (see src/proto/proto_int.h). */
int vox__plain_isa(int isa);
#define EAGER (-2)

/* ------------------------------------------------------------ dumps */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void puts_(text *t, const char *s)
{
    if (!s)
        s = "(null)";
    put(t, s, strlen(s));
    put(t, "\n", 1);
}

/* The names an event's headers have, each once, for lookups. */
typedef struct names {
    char **v;
    size_t n;
} names;

static void names_free(names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    ns->v = NULL;
    ns->n = 0;
}

static void flip_case(char *s)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
            *s ^= 0x20;
}

/* Lookups of every name (as sent and with its case flipped) and of some
 * that no header has. */
static void dump_gets(const vox_event *ev, const names *ns, text *t)
{
    static const char *const absent[] = {"Content-Length", "content-length", "No-Such-Header",
                                         "Event-Name:",    "Unique-ID\n",    "x"};
    for (size_t i = 0; i < ns->n; i++) {
        char flipped[256];
        snprintf(flipped, sizeof flipped, "%s", ns->v[i]);
        flip_case(flipped);
        puts_(t, vox_event_get(ev, ns->v[i]));
        puts_(t, vox_event_get(ev, flipped));
    }
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        puts_(t, vox_event_get(ev, absent[i]));
    puts_(t, vox_event_name(ev));
    puts_(t, vox_event_subclass(ev));
}

/* Every header with every value, and the body. */
static void dump_iter(const vox_event *ev, text *t, names *collect)
{
    size_t n = vox_event_header_count(ev);
    char num[64];
    snprintf(num, sizeof num, "%zu headers", n);
    puts_(t, num);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        size_t nv;
        assert_int_equal(vox_event_header_at(ev, i, &name, &value, &nv), 0);
        puts_(t, name);
        for (size_t k = 0; k < nv; k++)
            puts_(t, vox_event_value_at(ev, i, k));
        assert_null(vox_event_value_at(ev, i, nv));
        if (collect) {
            size_t j;
            for (j = 0; j < collect->n && strcmp(collect->v[j], name); j++) {
            }
            if (j == collect->n && strlen(name) < 200) {
                collect->v = realloc(collect->v, (collect->n + 1) * sizeof *collect->v);
                assert_non_null(collect->v);
                collect->v[collect->n++] = strdup(name);
            }
        }
    }
    assert_int_equal(vox_event_header_at(ev, n, NULL, NULL, NULL), VOX_EINVAL);
    size_t blen;
    const char *body = vox_event_body(ev, &blen);
    assert_int_equal(body[blen], '\0');
    put(t, body, blen);
    put(t, "\n", 1);
}

/* One message: its event read lookups first (order 0) or iteration first
 * (order 1); the text is the same either way. ns: the names to look up, or
 * collected here (the eager pass). */
static void dump_msg(const vox_msg *m, names *ns, int order, int collect, text *t)
{
    const vox_event *ev = vox_msg_event(m);
    char head[64];
    snprintf(head, sizeof head, "type %d", (int)vox_msg_type(m));
    puts_(t, head);
    if (!ev)
        return;
    text gets = {0}, iter = {0};
    if (collect) {
        dump_iter(ev, &iter, ns);
        dump_gets(ev, ns, &gets);
    } else if (order == 0) {
        dump_gets(ev, ns, &gets);
        dump_iter(ev, &iter, NULL);
    } else {
        dump_iter(ev, &iter, NULL);
        dump_gets(ev, ns, &gets);
    }
    put(t, gets.p, gets.len);
    put(t, iter.p, iter.len);
    free(gets.p);
    free(iter.p);
}

/* A whole stream parsed with the block reader isa (EAGER: none), every
 * message dumped; the final code and error are appended. */
typedef struct run {
    text t;
    names *ns; /* per message, filled by the eager run */
    size_t nmsg;
} run;

static void parse_dump(const char *d, size_t len, const vox_limits *lim, int isa, int order, run *r,
                       int collect)
{
    vox_parser *p;
    int old = vox__plain_isa(isa);
    assert_int_equal(vox_parser_new(&p, lim), 0);
    size_t pos = 0, k = 0;
    int rc = 0;
    while (pos < len) {
        size_t used;
        vox_msg *m;
        rc = vox_parser_feed(p, d + pos, len - pos, &used, &m);
        pos += used;
        if (rc <= 0)
            break;
        if (collect) {
            r->ns = realloc(r->ns, (k + 1) * sizeof *r->ns);
            assert_non_null(r->ns);
            r->ns[k] = (names){NULL, 0};
        }
        assert_true(k < r->nmsg || collect);
        dump_msg(m, &r->ns[k], order, collect, &r->t);
        vox_msg_free(m);
        k++;
    }
    const char *reason = NULL;
    uint64_t at = 0;
    char tail[512];
    int err = vox_parser_error(p, &reason, &at);
    snprintf(tail, sizeof tail, "end rc %d err %d at %llu: %s", rc, err, (unsigned long long)at,
             reason ? reason : "");
    puts_(&r->t, tail);
    if (collect)
        r->nmsg = k;
    vox_parser_free(p);
    vox__plain_isa(old);
}

static void run_free(run *r)
{
    for (size_t i = 0; i < r->nmsg; i++)
        names_free(&r->ns[i]);
    free(r->ns);
    free(r->t.p);
    memset(r, 0, sizeof *r);
}

/* Every block reader, both orders, give the eager text. */
static void check_stream(const char *d, size_t len, const vox_limits *lim, const char *what)
{
    static run eager, lazy;
    parse_dump(d, len, lim, EAGER, 0, &eager, 1);
    for (int isa = 0; isa <= 3; isa++) {
        for (int order = 0; order < 2; order++) {
            lazy.ns = eager.ns; /* borrowed, not freed */
            lazy.nmsg = eager.nmsg;
            parse_dump(d, len, lim, isa, order, &lazy, 0);
            if (lazy.t.len != eager.t.len || memcmp(lazy.t.p, eager.t.p, eager.t.len) != 0) {
                size_t i = 0;
                while (i < lazy.t.len && i < eager.t.len && lazy.t.p[i] == eager.t.p[i])
                    i++;
                fail_msg("%s: isa %d order %d differs at byte %zu: eager '%.60s' lazy '%.60s'",
                         what, isa, order, i, eager.t.p + i, lazy.t.p + i);
            }
            free(lazy.t.p);
            memset(&lazy, 0, sizeof lazy);
        }
    }
    run_free(&eager);
}

static void test_every_capture(void **st)
{
    char **files = tu_fixture_names(".s2c.raw");
    size_t nfiles = 0;
    for (char **f = files; *f; f++, nfiles++) {
        size_t len;
        char *d = tu_fixture(*f, &len);
        check_stream(d, len, NULL, *f);
        free(d);
    }
    assert_true(nfiles >= 40);
    tu_free_names(files);
}

/* ------------------------------------------------ generated events */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

static void gen_name(text *t)
{
    static const char *const common[] = {
        "Event-Name",    "Unique-ID",        "Caller-Caller-ID-Name", "content-length",
        "CONTENT-TYPE",  "variable_sip_h_X", "Event-Subclass",        "a",
        "Content-Length"};
    if (rnd(3) == 0) {
        const char *c = common[rnd(sizeof common / sizeof common[0])];
        put(t, c, strlen(c));
        return;
    }
    /* lengths around the 64-bit word: 1..70, and now and then a long one */
    size_t n = rnd(8) == 0 ? 60 + rnd(12) : 1 + rnd(24);
    for (size_t i = 0; i < n; i++) {
        static const char cs[] = "abcXYZ-_09\r";
        put(t, &cs[rnd(sizeof cs - 1)], 1);
    }
}

static void gen_value(text *t)
{
    static const char *const bits[] = {
        "x", "%20", "%3A", "%zz", "%", ":", "::", " ", "\t", "ARRAY::", "|:", "abcdefgh", "100"};
    size_t n = rnd(6);
    for (size_t i = 0; i < n; i++) {
        const char *b = bits[rnd(sizeof bits / sizeof bits[0])];
        put(t, b, strlen(b));
    }
}

/* An event body: lines of a name, a colon, spaces, a value; CRLF or LF;
 * an empty line; sometimes a body of its own. */
static void gen_body(text *t)
{
    size_t lines = rnd(4) == 0 ? rnd(3) : 1 + rnd(40);
    int crlf = rnd(4) == 0;
    for (size_t i = 0; i < lines; i++) {
        gen_name(t);
        put(t, ":", 1);
        put(t, "   ", rnd(3));
        gen_value(t);
        put(t, crlf && rnd(2) ? "\r\n" : "\n", crlf && rnd(2) ? 2 : 1);
    }
    if (rnd(5) == 0) {
        char cl[64];
        size_t n = rnd(40);
        int k = snprintf(cl, sizeof cl, "Content-Length: %zu\n\n", n);
        put(t, cl, (size_t)k);
        for (size_t i = 0; i < n; i++)
            put(t, rnd(10) ? "b" : "\n", 1);
    } else {
        put(t, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
        if (rnd(8) == 0)
            put(t, "trailing: bytes\n", 16);
    }
}

static void add_frame(text *stream, const text *body)
{
    char head[128];
    int k = snprintf(head, sizeof head, "Content-Length: %zu\nContent-Type: text/event-plain\n\n",
                     body->len);
    put(stream, head, (size_t)k);
    put(stream, body->p, body->len);
}

static void test_generated_events(void **st)
{
    /* many small streams: each ends at the first malformed event */
    for (int s = 0; s < 300; s++) {
        text stream = {0};
        for (int e = 0; e < 8; e++) {
            text body = {0};
            put(&body, "", 0);
            if (rnd(2))
                put(&body, "Event-Name: CUSTOM\nEvent-Subclass: x::y\n", 40);
            gen_body(&body);
            add_frame(&stream, &body);
            free(body.p);
        }
        vox_limits small = {.max_headers = 30};
        check_stream(stream.p, stream.len, s % 4 == 0 ? &small : NULL, "generated");
        free(stream.p);
    }
}

/* Header blocks of every length around the 64-byte blocks the lazy reader
 * works in, with the lines ending at every offset. */
static void test_block_edges(void **st)
{
    text stream = {0};
    for (size_t len = 1; len < 200; len++) {
        text body = {0};
        size_t left = len;
        int i = 0;
        while (left > 6) {
            size_t v = left > 40 ? (size_t)(i * 7 % 30) : left - 6;
            char line[128];
            int k = snprintf(line, sizeof line, "H%d: %.*s\n", i % 10, (int)v,
                             "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
            put(&body, line, (size_t)k);
            left = left > (size_t)k ? left - (size_t)k : 0;
            i++;
        }
        put(&body, "\n", 1);
        add_frame(&stream, &body);
        free(body.p);
    }
    check_stream(stream.p, stream.len, NULL, "block edges");
    free(stream.p);
}

/* ---------------------------------------------------------- errors */

static void test_malformed_bodies(void **st)
{
    static const char *const bodies[] = {
        "A: 1\nno colon here\nB: 2\n\n",
        "A: 1\n: empty name\n\n",
        ":first\n\n",
        "A: 1\nB: 2\n", /* no empty line */
        "",
        "\n",
        "A: 1\r\n\r\n",
        "A: 1\n\r\n",
        "A: 1\nB\r\n\n",
        "A: 1\nContent-Length: x\n\nbody",
        "A: 1\nContent-Length: 99\n\nbody",
        "A: 1\nContent-Length:\n\n",
        "Content-Length: 4\nA: 1\n\nbody",
        "A: 1\nContent-Length: 2\ncontent-LENGTH: 4\n\nbody",
        "A: 1\nContent-Length: 0\n\n",
        "A: 1\n\nbody: with\0NUL",
        "Event-Name: X\n\nno: header\n",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        text body = {0}, stream = {0};
        size_t n = strlen(bodies[i]);
        if (i == 15)
            n = 20; /* the NUL and what follows */
        put(&body, bodies[i], n);
        add_frame(&stream, &body);
        add_frame(&stream, &body);
        check_stream(stream.p, stream.len, NULL, bodies[i]);
        free(body.p);
        free(stream.p);
    }
    /* a NUL inside the header block, too many headers, a long name */
    text s = {0}, b = {0};
    put(&b, "A: 1\nB: x\0y\n\n", 13);
    add_frame(&s, &b);
    check_stream(s.p, s.len, NULL, "NUL in a value");
    vox_limits lim = {.max_headers = 2};
    b.len = s.len = 0;
    put(&b, "A: 1\nB: 2\nC: 3\n\n", 16);
    add_frame(&s, &b);
    check_stream(s.p, s.len, &lim, "too many headers");
    b.len = s.len = 0;
    for (int i = 0; i < 70000; i++)
        put(&b, "n", 1);
    put(&b, ": v\nA: 1\n\n", 10);
    add_frame(&s, &b);
    check_stream(s.p, s.len, NULL, "long name");
    free(s.p);
    free(b.p);
}

/* ------------------------------------------- borrowing from the engine */

typedef struct keep {
    vox_msg *msg[256];
    char *uid[256];       /* vox_event_get before the reference */
    const char *ptr[256]; /* ... and the pointer it gave */
    size_t n, events, indexed;
    int alloc_test; /* the test drives the failing allocator itself */
} keep;

static void on_any(vox_conn *c, const vox_event *ev, void *ud)
{
    keep *k = ud;
    k->events++;
    const char *uid = vox_event_get(ev, "Unique-ID");
    if (k->events % 3 == 0) {
        text t = {0};
        dump_iter(ev, &t, NULL);
        free(t.p);
        k->indexed++;
    }
    if (k->events % 7 == 0) {
        /* the raw body inside the callback: copied out of the input first */
        size_t len, elen;
        const char *body = vox_msg_body(vox_event_msg(ev), &len);
        const char *own = vox_event_body(ev, &elen);
        assert_int_equal(body[len], '\0');
        assert_int_equal(own[elen], '\0');
        assert_true(len > 12 && strncmp(body, "Event-Name: ", 12) == 0);
    }
    if (k->events % 5 == 0 && k->n < 256) {
        k->ptr[k->n] = uid;
        k->uid[k->n] = uid ? strdup(uid) : NULL;
        vox_msg *m = vox_event_msg(ev);
        /* a reference never allocates: a borrowed message copies into
         * memory it already has */
        if (!k->alloc_test)
            tu_fail_after(0);
        k->msg[k->n++] = vox_msg_ref(m);
        if (!k->alloc_test)
            tu_fail_off();
    }
}

/* The event frames of a capture, as one stream, and their messages parsed
 * by the eager scanner for comparison. */
static size_t event_frames(const char *file, text *stream, vox_msg **ref, size_t max)
{
    size_t len, pos = 0, n = 0;
    char *d = tu_fixture(file, &len);
    vox_parser *p;
    int old = vox__plain_isa(EAGER);
    assert_int_equal(vox_parser_new(&p, NULL), 0);
    while (pos < len) {
        size_t used, start = pos;
        vox_msg *m;
        int rc = vox_parser_feed(p, d + pos, len - pos, &used, &m);
        pos += used;
        assert_true(rc >= 0);
        if (rc == 0)
            break;
        if (vox_msg_type(m) == VOX_CT_EVENT_PLAIN && n < max) {
            put(stream, d + start, pos - start);
            ref[n++] = m;
        } else {
            vox_msg_free(m);
        }
    }
    vox_parser_free(p);
    vox__plain_isa(old);
    free(d);
    return n;
}

static vox_conn *ready_conn(keep *k)
{
    vox_conn *c;
    vox_conn_opts o = {.role = VOX_ROLE_INBOUND, .password = "ClueCon"};
    assert_int_equal(vox_conn_new(&c, &o), 0);
    assert_int_equal(vox_conn_hook(c, NULL, on_any, k), 0);
    static const char auth[] = "Content-Type: auth/request\n\n";
    static const char ok[] = "Content-Type: command/reply\nReply-Text: +OK\n\n";
    assert_int_equal(vox_conn_feed(c, auth, sizeof auth - 1), 0);
    for (int i = 0; i < 4 && vox_conn_get_state(c) == VOX_STATE_HANDSHAKE; i++)
        assert_int_equal(vox_conn_feed(c, ok, sizeof ok - 1), 0);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
    return c;
}

/* Each chunk of input is a fresh allocation freed as soon as the engine
 * returns: a kept message still reading it would be a use after free. */
static void test_kept_events_outlive_input(void **st)
{
    static const size_t chunks[] = {1, 7, 100, 4096, 65536, (size_t)1 << 24};
    static vox_msg *ref[4096];
    text stream = {0};
    size_t nref = event_frames("inbound_04_event_plain_ALL_with_call.s2c.raw", &stream, ref, 4096);
    nref += event_frames("inbound_12_bgapi.s2c.raw", &stream, ref + nref, 4096 - nref);
    nref += event_frames("inbound_25_event_flood.s2c.raw", &stream, ref + nref, 4096 - nref);
    assert_true(nref > 900);
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        keep k = {0};
        vox_conn *c = ready_conn(&k);
        for (size_t pos = 0; pos < stream.len;) {
            size_t n = stream.len - pos < chunks[ci] ? stream.len - pos : chunks[ci];
            char *in = malloc(n);
            memcpy(in, stream.p + pos, n);
            assert_int_equal(vox_conn_feed(c, in, n), 0);
            memset(in, 'X', n);
            free(in);
            pos += n;
        }
        assert_int_equal(k.events, nref);
        for (size_t i = 0; i < k.n; i++) {
            size_t which = (i + 1) * 5 - 1;
            text a = {0}, b = {0};
            names ns = {0};
            dump_msg(ref[which], &ns, 0, 1, &a);
            dump_msg(k.msg[i], &ns, 0, 0, &b);
            assert_string_equal(a.p, b.p);
            if (k.uid[i])
                assert_string_equal(k.ptr[i], k.uid[i]);
            size_t l1, l2;
            const char *b1 = vox_msg_body(ref[which], &l1), *b2 = vox_msg_body(k.msg[i], &l2);
            assert_int_equal(l1, l2);
            assert_memory_equal(b1, b2, l1);
            names_free(&ns);
            free(a.p);
            free(b.p);
            free(k.uid[i]);
            vox_msg_free(k.msg[i]);
        }
        vox_conn_free(c);
    }
    for (size_t i = 0; i < nref; i++)
        vox_msg_free(ref[i]);
    free(stream.p);
}

/* ------------------------------------------------ allocation failure */

/* An event with many short lines, more than the first guess of room for
 * its index: the message grows once its lines are counted. */
static void test_allocation_failure_grow(void **st)
{
    text body = {0}, stream = {0};
    for (int i = 0; i < 600; i++)
        put(&body, "a:b\n", 4);
    put(&body, "Event-Name: LAST\n\n", 18);
    add_frame(&stream, &body);
    add_frame(&stream, &body);
    long base = tu_live();
    for (long k = 0;; k++) {
        vox_parser *p;
        tu_fail_after(k);
        if (vox_parser_new(&p, NULL) != 0) {
            tu_fail_off();
            continue;
        }
        size_t pos = 0, got = 0;
        int failed = 0;
        while (pos < stream.len) {
            size_t used;
            vox_msg *m;
            int rc = vox_parser_feed(p, stream.p + pos, stream.len - pos, &used, &m);
            pos += used;
            if (rc == VOX_ENOMEM) {
                failed = 1;
                tu_fail_off(); /* not sticky: the same call goes on */
                continue;
            }
            assert_true(rc == 1);
            assert_string_equal(vox_event_name(vox_msg_event(m)), "LAST");
            assert_int_equal(vox_event_header_count(vox_msg_event(m)), 601);
            assert_string_equal(vox_event_get(vox_msg_event(m), "A"), "b");
            vox_msg_free(m);
            got++;
        }
        tu_fail_off();
        assert_int_equal(got, 2);
        vox_parser_free(p);
        assert_int_equal(tu_live(), base);
        if (!failed)
            break;
    }
    free(body.p);
    free(stream.p);
}

/* The engine's borrowed path under failure: allocation k fails for every
 * k over a stream of events; the engine ends with VOX_ENOMEM or reads it
 * all, and nothing leaks. */
static void test_allocation_failure_engine(void **st)
{
    static vox_msg *ref[64];
    text stream = {0};
    size_t nref = event_frames("inbound_12_bgapi.s2c.raw", &stream, ref, 64);
    for (size_t i = 0; i < nref; i++)
        vox_msg_free(ref[i]);
    long base = tu_live();
    for (long k = 0;; k++) {
        keep kp = {.alloc_test = 1};
        vox_conn *c = ready_conn(&kp);
        tu_fail_after(k);
        int rc = vox_conn_feed(c, stream.p, stream.len);
        long made = tu_alloc_count();
        tu_fail_off();
        assert_true(rc == 0 || rc == VOX_ENOMEM);
        assert_true(rc != 0 || kp.events == nref);
        for (size_t i = 0; i < kp.n; i++) {
            free(kp.uid[i]);
            vox_msg_free(kp.msg[i]);
        }
        vox_conn_free(c);
        assert_int_equal(tu_live(), base);
        if (rc == 0 && made < k)
            break;
    }
    free(stream.p);
}

int main(void)
{
    tu_alloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_capture),
        cmocka_unit_test(test_generated_events),
        cmocka_unit_test(test_block_edges),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_kept_events_outlive_input),
        cmocka_unit_test(test_allocation_failure_grow),
        cmocka_unit_test(test_allocation_failure_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
