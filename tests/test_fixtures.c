/* The parser over every real capture in tests/fixtures: each stream parses
 * whole with the expected number of messages, a few facts per capture hold,
 * and the result does not depend on how the stream is cut into calls. Inputs
 * are placed so that they end right before an unreadable page: a read past
 * the end of a chunk crashes at once. */
#include "util/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------ guard pages */

/* cap usable bytes, then one PROT_NONE page. */
typedef struct guard {
    char *base;
    size_t cap, map_len;
} guard;

static void guard_init(guard *g, size_t want)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    g->cap = (want + page - 1) / page * page;
    if (g->cap == 0)
        g->cap = page;
    g->map_len = g->cap + page;
    g->base = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g->base != MAP_FAILED);
    assert_int_equal(mprotect(g->base + g->cap, page, PROT_NONE), 0);
}

static void guard_free(guard *g)
{
    munmap(g->base, g->map_len);
}

/* Copy len bytes so that they end at the guard page. */
static const char *guard_place(guard *g, const char *src, size_t len)
{
    char *dst = g->base + g->cap - len;
    assert_true(len <= g->cap);
    memmove(dst, src, len);
    return dst;
}

/* ----------------------------------------------------------------- digest */

/* An FNV-1a style hash over a canonical serialization, taken eight bytes
 * at a time (the tests digest millions of messages under ASan). Every
 * string is hashed with its length first, so ("ab","c") and ("a","bc")
 * differ. */
#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * FNV_PRIME;
        h ^= h >> 29;
    }
    for (; n > 0; s++, n--)
        h = (h ^ *s) * FNV_PRIME;
    return h;
}

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    return fnv(h, &v, sizeof v);
}

static uint64_t fnv_bytes(uint64_t h, const char *p, size_t n)
{
    return fnv(fnv_u64(h, n), p, n);
}

/* NULL and "" must differ. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
    return s ? fnv_bytes(fnv_u64(h, 1), s, strlen(s)) : fnv_u64(h, 0);
}

static uint64_t event_digest(uint64_t h, const vox_event *ev)
{
    size_t n = vox_event_header_count(ev), blen;
    const char *body;

    h = fnv_str(h, vox_event_name(ev));
    h = fnv_str(h, vox_event_subclass(ev));
    h = fnv_u64(h, n);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        size_t nv;
        assert_int_equal(vox_event_header_at(ev, i, &name, NULL, &nv), 0);
        h = fnv_u64(fnv_str(h, name), nv);
        for (size_t k = 0; k < nv; k++)
            h = fnv_str(h, vox_event_value_at(ev, i, k));
    }
    body = vox_event_body(ev, &blen);
    return fnv_bytes(h, body, blen);
}

static uint64_t msg_digest(const vox_msg *m)
{
    uint64_t h = FNV_BASIS;
    size_t n = vox_msg_header_count(m), blen;
    const char *body;
    const vox_event *ev;

    h = fnv_u64(h, (uint64_t)vox_msg_type(m));
    h = fnv_str(h, vox_msg_content_type(m));
    h = fnv_u64(h, n);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        assert_int_equal(vox_msg_header_at(m, i, &name, &value), 0);
        h = fnv_str(fnv_str(h, name), value);
    }
    body = vox_msg_body(m, &blen);
    h = fnv_bytes(h, body, blen);
    h = fnv_str(h, vox_msg_reply_text(m));
    h = fnv_u64(h, (uint64_t)vox_msg_is_error(m));
    ev = vox_msg_event(m);
    h = fnv_u64(h, ev != NULL);
    return ev ? event_digest(h, ev) : h;
}

/* ------------------------------------------------------------------- runs */

/* What a stream parsed into: one digest per message and, for the reference
 * run, the stream offset where each message ended. */
typedef struct run {
    uint64_t *dig;
    uint64_t *end;
    vox_msg **keep; /* when non-NULL, messages are kept, not digested */
    size_t n, cap;
} run;

static void run_push(run *r, vox_msg *m, uint64_t end)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->dig = realloc(r->dig, r->cap * sizeof *r->dig);
        r->end = realloc(r->end, r->cap * sizeof *r->end);
        r->keep = r->keep ? realloc(r->keep, r->cap * sizeof *r->keep) : NULL;
        assert_non_null(r->dig);
        assert_non_null(r->end);
    }
    r->end[r->n] = end;
    if (r->keep) {
        r->keep[r->n++] = m;
        return;
    }
    r->dig[r->n++] = msg_digest(m);
    vox_msg_free(m);
}

/* A run that keeps its messages (the caller frees them). */
static run run_keeping(void)
{
    run r = {0};
    r.cap = 1;
    r.keep = malloc(sizeof *r.keep);
    r.dig = malloc(sizeof *r.dig);
    r.end = malloc(sizeof *r.end);
    assert_true(r.keep && r.dig && r.end);
    return r;
}

static void run_free(run *r)
{
    free(r->dig);
    free(r->end);
    free(r->keep);
    memset(r, 0, sizeof *r);
}

static vox_parser *parser_new(void)
{
    vox_parser *p = NULL;
    assert_int_equal(vox_parser_new(&p, NULL), 0);
    return p;
}

/* Feed one chunk completely; any error fails the test with its position. */
static void feed(vox_parser *p, run *r, const char *data, size_t len, const char *what)
{
    while (len > 0) {
        vox_msg *m = NULL;
        size_t used = 0;
        int rc = vox_parser_feed(p, data, len, &used, &m);
        if (rc < 0) {
            const char *reason = NULL;
            uint64_t at = 0;
            vox_parser_error(p, &reason, &at);
            fail_msg("%s: error %d at byte %llu: %s", what, rc, (unsigned long long)at,
                     reason ? reason : "?");
        }
        assert_true(used <= len);
        if (rc == 0) {
            if (used != len)
                fail_msg("%s: returned 0 with %zu of %zu bytes used", what, used, len);
            assert_null(m);
        } else {
            assert_int_equal(rc, 1);
            assert_non_null(m);
            run_push(r, m, vox_parser_offset(p));
        }
        data += used;
        len -= used;
    }
}

/* End of stream: nothing may be left half-parsed. */
static void finish(vox_parser *p, uint64_t len, const char *what)
{
    if (vox_parser_pending(p))
        fail_msg("%s: partial message left at end of stream", what);
    assert_int_equal(vox_parser_offset(p), len);
    vox_parser_free(p);
}

static void expect_same(const run *ref, size_t first, const run *got, const char *what,
                        size_t split)
{
    if (got->n != 0 && ref->n - first < got->n)
        fail_msg("%s split at %zu: %zu messages, expected at most %zu", what, split, got->n,
                 ref->n - first);
    for (size_t i = 0; i < got->n; i++)
        if (got->dig[i] != ref->dig[first + i])
            fail_msg("%s split at %zu: message %zu differs", what, split, first + i);
}

/* ------------------------------------------------------------- fixtures */

typedef struct fixture {
    char *name;
    char *data;
    size_t len;
    run ref; /* the stream fed whole */
} fixture;

static fixture *g_fx;
static size_t g_nfx;
static guard g_a, g_b; /* two chunks may each need to end at a guard */

static fixture *fx_find(const char *prefix)
{
    for (size_t i = 0; i < g_nfx; i++)
        if (strncmp(g_fx[i].name, prefix, strlen(prefix)) == 0)
            return &g_fx[i];
    fail_msg("no fixture %s", prefix);
    return NULL;
}

/* Feed data whole from the guard buffer into a fresh run. */
static void parse_whole(const char *data, size_t len, run *r, const char *what)
{
    vox_parser *p = parser_new();
    feed(p, r, guard_place(&g_a, data, len), len, what);
    finish(p, len, what);
}

static int setup(void **state)
{
    char **names = tu_fixture_names(".s2c.raw");
    size_t biggest = 0;

    for (g_nfx = 0; names[g_nfx]; g_nfx++)
        ;
    g_fx = calloc(g_nfx, sizeof *g_fx);
    for (size_t i = 0; i < g_nfx; i++) {
        g_fx[i].name = strdup(names[i]);
        g_fx[i].data = tu_fixture(names[i], &g_fx[i].len);
        if (g_fx[i].len > biggest)
            biggest = g_fx[i].len;
    }
    tu_free_names(names);
    guard_init(&g_a, biggest * 2 + 4096);
    guard_init(&g_b, biggest * 2 + 4096);
    for (size_t i = 0; i < g_nfx; i++)
        parse_whole(g_fx[i].data, g_fx[i].len, &g_fx[i].ref, g_fx[i].name);
    return 0;
}

static int teardown(void **state)
{
    for (size_t i = 0; i < g_nfx; i++) {
        free(g_fx[i].name);
        free(g_fx[i].data);
        run_free(&g_fx[i].ref);
    }
    free(g_fx);
    guard_free(&g_a);
    guard_free(&g_b);
    return 0;
}

/* Message counts read from the captures (frames of each .s2c.raw). */
static const struct {
    const char *name;
    size_t count;
} expected_counts[] = {
    {"inbound_01_auth_ok_api_status_version", 6},
    {"inbound_02_auth_wrong_password", 3},
    {"inbound_03_commands_before_auth", 7},
    {"inbound_04_event_plain_ALL_with_call", 57},
    {"inbound_05_event_json_CHANNEL_CREATE", 7},
    {"inbound_06_event_xml_HEARTBEAT", 6},
    {"inbound_07_filter", 14},
    {"inbound_08_nixevent", 11},
    {"inbound_09_noevents", 8},
    {"inbound_10_api_errors", 8},
    {"inbound_11_unknown_and_bad_commands", 11},
    {"inbound_12_bgapi", 11},
    {"inbound_13_log_7", 120},
    {"inbound_14_exit", 4},
    {"inbound_15_sendmsg_parked_channel", 27},
    {"inbound_16_session_commands_without_session", 10},
    {"inbound_17_myevents_uuid_divert_linger", 18},
    {"inbound_18_myevents_uuid_json_nolinger_FORMAT_IGNORED", 5},
    {"inbound_21_pipelined_commands", 9},
    {"inbound_22_crlf_line_endings", 6},
    {"inbound_24_acl_rude_rejection", 2},
    {"inbound_25_event_flood", 969},
    {"inbound_27_userauth", 9},
    {"inbound_28_userauth_wrong_password", 3},
    {"inbound_30_exit_with_pending_bgapi", 6},
    {"outbound_9100_preanswered_event_uuid_linger2", 21},
    {"outbound_9100_preanswered_event_uuid_linger2.trigger", 7},
    {"outbound_9101_linger_forever_then_exit", 26},
    {"outbound_9101_linger_forever_then_exit.trigger", 7},
    {"outbound_9101_myevents_json_linger2", 25},
    {"outbound_9101_myevents_json_linger2.trigger", 7},
    {"outbound_9101_nolinger", 23},
    {"outbound_9101_nolinger.trigger", 7},
    {"outbound_9104_resume_then_exit", 12},
    {"outbound_9104_resume_then_exit.trigger", 7},
    {"outbound_bridge_fail", 21},
    {"outbound_bridge_fail.trigger", 7},
    {"outbound_callcommand_hangup", 18},
    {"outbound_callcommand_hangup.trigger", 7},
    {"outbound_caller_hangup_mid_playback", 20},
    {"outbound_caller_hangup_mid_playback.trigger", 8},
    {"outbound_loops3", 27},
    {"outbound_loops3.trigger", 7},
    {"outbound_loops3_short_iteration", 23},
    {"outbound_loops3_short_iteration.trigger", 7},
    {"outbound_myevents_linger_no_answer_exit_after_park", 6},
    {"outbound_myevents_linger_no_answer_exit_after_park.trigger", 10},
    {"outbound_myevents_linger_no_answer_exit_early", 5},
    {"outbound_myevents_linger_no_answer_exit_early.trigger", 11},
    {"outbound_myevents_linger_no_answer_exit_early_channel_stuck", 5},
    {"outbound_myevents_linger_no_answer_exit_early_channel_stuck.trigger", 11},
    {"outbound_no_full", 22},
    {"outbound_no_full.trigger", 7},
    {"outbound_pagd_dtmf", 29},
    {"outbound_pagd_dtmf.trigger", 8},
    {"outbound_unknown_app", 18},
    {"outbound_unknown_app.trigger", 7},
};

static void test_message_counts(void **state)
{
    size_t n = sizeof expected_counts / sizeof expected_counts[0];

    for (size_t i = 0; i < g_nfx; i++) {
        size_t j, base = strlen(g_fx[i].name) - strlen(".s2c.raw");
        for (j = 0; j < n; j++)
            if (strlen(expected_counts[j].name) == base &&
                !strncmp(g_fx[i].name, expected_counts[j].name, base))
                break;
        if (j == n)
            fail_msg("fixture %s has no expected count", g_fx[i].name);
        if (g_fx[i].ref.n != expected_counts[j].count)
            fail_msg("%s: %zu messages, expected %zu", g_fx[i].name, g_fx[i].ref.n,
                     expected_counts[j].count);
        /* The last message ends exactly at the end of the capture. */
        assert_int_equal(g_fx[i].ref.end[g_fx[i].ref.n - 1], g_fx[i].len);
    }
    assert_int_equal(g_nfx, n);
}

/* Parse a fixture whole, keeping its messages. Free with msgs_free. */
static vox_msg **parse_keep(const fixture *fx, size_t *count)
{
    run r = run_keeping();
    parse_whole(fx->data, fx->len, &r, fx->name);
    *count = r.n;
    vox_msg **out = r.keep;
    r.keep = NULL;
    run_free(&r);
    return out;
}

static void msgs_free(vox_msg **m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vox_msg_free(m[i]);
    free(m);
}

/* Messages own their memory: they read the same after the parser is gone
 * and the input buffer has been overwritten. */
static void test_messages_outlive_input(void **state)
{
    for (size_t f = 0; f < g_nfx; f++) {
        size_t n;
        vox_msg **m = parse_keep(&g_fx[f], &n);
        memset(g_a.base, 0xA5, g_a.cap);
        assert_int_equal(n, g_fx[f].ref.n);
        for (size_t i = 0; i < n; i++)
            if (msg_digest(m[i]) != g_fx[f].ref.dig[i])
                fail_msg("%s: message %zu changed after its input was overwritten", g_fx[f].name,
                         i);
        msgs_free(m, n);
    }
}

static const char *header(const vox_msg *m, const char *name)
{
    const char *v = vox_msg_header(m, name);
    if (!v)
        fail_msg("header %s missing", name);
    return v;
}

static void test_inbound_01(void **state)
{
    static const vox_content_type types[] = {
        VOX_CT_AUTH_REQUEST, VOX_CT_COMMAND_REPLY, VOX_CT_API_RESPONSE,
        VOX_CT_API_RESPONSE, VOX_CT_COMMAND_REPLY, VOX_CT_DISCONNECT_NOTICE,
    };
    size_t n, blen;
    vox_msg **m = parse_keep(fx_find("inbound_01_"), &n);

    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(vox_msg_type(m[i]), types[i]);
        assert_null(vox_msg_event(m[i]));
    }
    assert_string_equal(vox_msg_content_type(m[0]), "auth/request");
    assert_string_equal(vox_msg_reply_text(m[1]), "+OK accepted");
    assert_false(vox_msg_is_error(m[1]));
    assert_non_null(vox_msg_body(m[2], &blen));
    assert_int_equal(blen, 335);
    assert_true(strncmp(vox_msg_body(m[2], NULL), "UP 0 years", 10) == 0);
    assert_string_equal(vox_msg_reply_text(m[4]), "+OK bye");
    assert_string_equal(vox_msg_body(m[5], &blen),
                        "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n");
    assert_int_equal(blen, 67);
    assert_null(vox_msg_reply_text(m[5]));
    msgs_free(m, n);
}

/* The reply to `connect` is a command/reply whose header block is the
 * channel's data: its event view decodes it. */
static void check_connect_reply(const fixture *fx, const vox_msg *m)
{
    const vox_event *ev = vox_msg_event(m);
    const char *uuid, *name;

    if (vox_msg_type(m) != VOX_CT_COMMAND_REPLY || !ev)
        fail_msg("%s: first message is not a connect reply with an event", fx->name);
    assert_string_equal(vox_event_name(ev), "CHANNEL_DATA");
    uuid = vox_event_get(ev, "Unique-ID");
    name = vox_event_get(ev, "channel-name"); /* names are case-insensitive */
    assert_non_null(uuid);
    assert_non_null(name);
    assert_int_equal(strlen(uuid), 36);
    assert_true(strncmp(name, "loopback/", 9) == 0);
    assert_string_equal(vox_event_get(ev, "Reply-Text"), "+OK\n");
    assert_string_equal(vox_msg_header(m, "Reply-Text"), "%2BOK%0A");
    assert_false(vox_msg_is_error(m));
    assert_true(vox_event_header_count(ev) > 90);
    assert_true(vox_event_msg(ev) == m);
}

static void test_outbound_connect_reply(void **state)
{
    size_t seen = 0;

    for (size_t f = 0; f < g_nfx; f++) {
        size_t n;
        if (strncmp(g_fx[f].name, "outbound_", 9) || strstr(g_fx[f].name, ".trigger."))
            continue;
        vox_msg **m = parse_keep(&g_fx[f], &n);
        check_connect_reply(&g_fx[f], m[0]);
        const char *control = vox_event_get(vox_msg_event(m[0]), "Control");
        assert_string_equal(control, strstr(g_fx[f].name, "no_full") ? "single-channel" : "full");
        msgs_free(m, n);
        seen++;
    }
    assert_int_equal(seen, 16);
    size_t n;
    vox_msg **m = parse_keep(fx_find("outbound_9101_linger_forever_then_exit.s2c"), &n);
    const vox_event *ev = vox_msg_event(m[0]);
    assert_string_equal(vox_event_get(ev, "Unique-ID"), "706da2ae-ece7-44cd-b4c5-8dec8b93e91e");
    assert_string_equal(vox_event_get(ev, "Channel-Name"), "loopback/9101-b");
    assert_string_equal(vox_event_get(ev, "Channel-Callee-ID-Name"), "Outbound Call");
    assert_string_equal(vox_event_get(ev, "Event-Date-GMT"), "Thu, 26 Nov 2026 12:44:48 GMT");
    assert_string_equal(vox_event_get(ev, "FreeSWITCH-IPv6"), "fd00::2");
    assert_string_equal(vox_event_get(ev, "Socket-Mode"), "async");
    msgs_free(m, n);
}

/* ------------------------------------------- json and xml read as plain */

static void buf_add(vox_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_adds(vox_buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* Percent-encode everything but unreserved characters, as FreeSWITCH's
 * plain serializer does (with more escapes: decoding does not care). */
static void buf_add_encoded(vox_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf_add(b, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_add(b, esc, 3);
        }
    }
}

static int is_content_length(const char *name)
{
    return strcasecmp(name, "Content-Length") == 0;
}

/* The event's decoded view written back as a text/event-plain frame. */
static void event_as_plain(const vox_event *ev, vox_buf *frame)
{
    vox_buf text = {0};
    size_t blen;
    const char *body = vox_event_body(ev, &blen);
    char line[64];

    for (size_t i = 0; i < vox_event_header_count(ev); i++) {
        const char *name;
        size_t nv;
        vox_buf val = {0};
        vox_event_header_at(ev, i, &name, NULL, &nv);
        if (is_content_length(name))
            continue;
        buf_adds(&val, nv > 1 ? "ARRAY::" : "");
        for (size_t k = 0; k < nv; k++) {
            buf_adds(&val, k ? "|:" : "");
            buf_adds(&val, vox_event_value_at(ev, i, k));
        }
        buf_adds(&text, name);
        buf_adds(&text, ": ");
        buf_add_encoded(&text, val.data);
        buf_adds(&text, "\n");
        free(val.data);
    }
    if (blen) {
        snprintf(line, sizeof line, "Content-Length: %zu\n\n", blen);
        buf_adds(&text, line);
        buf_add(&text, body, blen);
    } else {
        buf_adds(&text, "\n");
    }
    snprintf(line, sizeof line, "Content-Length: %zu\nContent-Type: text/event-plain\n\n",
             text.len);
    buf_adds(frame, line);
    buf_add(frame, text.data, text.len);
    free(text.data);
}

/* Every header (but Content-Length) with every value, and the body. */
static void expect_same_event(const vox_event *a, const vox_event *b)
{
    size_t na = vox_event_header_count(a), blen_a, blen_b;
    const char *body_a = vox_event_body(a, &blen_a), *body_b = vox_event_body(b, &blen_b);
    size_t compared = 0;

    assert_string_equal(vox_event_name(a), vox_event_name(b));
    for (size_t i = 0; i < na; i++) {
        const char *name, *value;
        size_t nv;
        vox_event_header_at(a, i, &name, &value, &nv);
        if (is_content_length(name))
            continue;
        const char *other = vox_event_get(b, name);
        if (!other || strcmp(other, value) != 0)
            fail_msg("header %s: \"%s\" vs \"%s\"", name, value, other ? other : "(absent)");
        compared++;
    }
    assert_true(compared > 0);
    assert_int_equal(blen_a, blen_b);
    assert_memory_equal(body_a, body_b, blen_a);
}

/* Each event of the fixture gives the same view when re-sent as plain. */
static size_t check_events_as_plain(const fixture *fx, vox_content_type type)
{
    size_t n, events = 0;
    vox_msg **m = parse_keep(fx, &n);

    for (size_t i = 0; i < n; i++) {
        if (vox_msg_type(m[i]) != type)
            continue;
        vox_buf frame = {0};
        run r = run_keeping();
        event_as_plain(vox_msg_event(m[i]), &frame);
        parse_whole(frame.data, frame.len, &r, fx->name);
        assert_int_equal(r.n, 1);
        assert_int_equal(vox_msg_type(r.keep[0]), VOX_CT_EVENT_PLAIN);
        expect_same_event(vox_msg_event(m[i]), vox_msg_event(r.keep[0]));
        expect_same_event(vox_msg_event(r.keep[0]), vox_msg_event(m[i]));
        vox_msg_free(r.keep[0]);
        run_free(&r);
        free(frame.data);
        events++;
    }
    msgs_free(m, n);
    return events;
}

static void test_json_and_xml_read_as_plain(void **state)
{
    assert_int_equal(check_events_as_plain(fx_find("inbound_05_"), VOX_CT_EVENT_JSON), 2);
    assert_int_equal(check_events_as_plain(fx_find("outbound_9101_myevents_json_linger2.s2c"),
                                           VOX_CT_EVENT_JSON),
                     16);
    assert_int_equal(check_events_as_plain(fx_find("inbound_06_"), VOX_CT_EVENT_XML), 1);
    /* And plain itself survives the trip (encoding, bodies). */
    assert_int_equal(check_events_as_plain(fx_find("inbound_04_"), VOX_CT_EVENT_PLAIN), 50);
    assert_int_equal(check_events_as_plain(fx_find("inbound_12_"), VOX_CT_EVENT_PLAIN), 3);
}

static void test_json_and_xml_values(void **state)
{
    size_t n;
    vox_msg **m = parse_keep(fx_find("inbound_05_"), &n);
    const vox_event *ev = vox_msg_event(m[3]);

    assert_int_equal(vox_msg_type(m[3]), VOX_CT_EVENT_JSON);
    assert_string_equal(vox_event_name(ev), "CHANNEL_CREATE");
    assert_null(vox_event_subclass(ev));
    assert_string_equal(vox_event_get(ev, "FreeSWITCH-IPv6"), "fd00::2");
    assert_string_equal(vox_event_get(ev, "Event-Date-GMT"), "Thu, 26 Nov 2026 12:45:18 GMT");
    assert_string_equal(vox_event_get(ev, "Unique-ID"), "ab9ef9dc-b91f-41eb-bedf-1a54dee4651c");
    msgs_free(m, n);

    m = parse_keep(fx_find("inbound_06_"), &n);
    ev = vox_msg_event(m[3]);
    assert_int_equal(vox_msg_type(m[3]), VOX_CT_EVENT_XML);
    assert_string_equal(vox_event_name(ev), "HEARTBEAT");
    assert_string_equal(vox_event_get(ev, "FreeSWITCH-IPv6"), "fd00::2");
    assert_string_equal(vox_event_get(ev, "Event-Date-GMT"), "Thu, 26 Nov 2026 12:45:24 GMT");
    assert_string_equal(vox_event_get(ev, "Event-Info"), "System Ready");
    assert_string_equal(vox_event_get(ev, "Idle-CPU"), "95.633333");
    assert_int_equal(vox_event_header_count(ev), 27);
    msgs_free(m, n);

    m = parse_keep(fx_find("inbound_04_"), &n);
    for (size_t i = 0; i < n; i++)
        if ((ev = vox_msg_event(m[i])) && !strcmp(vox_event_name(ev), "HEARTBEAT"))
            assert_string_equal(vox_event_get(ev, "FreeSWITCH-IPv6"), "fd00::2");
    msgs_free(m, n);
}

/* proto.h: the reply text is "without a trailing newline", both for an
 * api/response body and for the connect reply's (URL-encoded) Reply-Text. */
/* The reply text as proto.h documents it: an api/response's body as sent
 * (with its newline), the connect reply's Reply-Text decoded ("+OK\n"). */
static void test_reply_text(void **state)
{
    size_t n;
    vox_msg **m = parse_keep(fx_find("inbound_01_"), &n);
    assert_string_equal(vox_msg_reply_text(m[3]), "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    assert_ptr_equal(vox_msg_reply_text(m[3]), vox_msg_body(m[3], NULL));
    assert_string_equal(vox_msg_reply_text(m[1]), "+OK accepted");
    msgs_free(m, n);

    m = parse_keep(fx_find("outbound_9101_linger_forever_then_exit.s2c"), &n);
    assert_string_equal(vox_msg_reply_text(m[0]), "+OK\n");
    assert_string_equal(vox_msg_header(m[0], "Reply-Text"), "%2BOK%0A");
    msgs_free(m, n);
}

static void test_bgapi_event_body(void **state)
{
    size_t n, blen, jobs = 0;
    vox_msg **m = parse_keep(fx_find("inbound_12_"), &n);

    for (size_t i = 0; i < n; i++) {
        const vox_event *ev = vox_msg_event(m[i]);
        if (!ev || strcmp(vox_event_name(ev), "BACKGROUND_JOB"))
            continue;
        const char *job = vox_event_get(ev, "Job-UUID"), *body = vox_event_body(ev, &blen);
        if (!strcmp(job, "my-own-job-uuid-1234")) {
            assert_string_equal(vox_event_get(ev, "Job-Command"), "version");
            assert_string_equal(body, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
            assert_int_equal(blen, 45);
        }
        jobs++;
    }
    assert_int_equal(jobs, 3);
    msgs_free(m, n);
}

/* log/data frames, two of them with an empty `User-Data: ` header. */
static void test_log_data(void **state)
{
    size_t n, logs = 0, empty = 0, blen;
    vox_msg **m = parse_keep(fx_find("inbound_13_"), &n);

    for (size_t i = 0; i < n; i++) {
        if (vox_msg_type(m[i]) != VOX_CT_LOG_DATA)
            continue;
        logs++;
        assert_null(vox_msg_event(m[i]));
        assert_non_null(header(m[i], "Log-Level"));
        assert_non_null(header(m[i], "Log-File"));
        const char *ud = header(m[i], "user-data");
        empty += ud[0] == '\0';
        const char *body = vox_msg_body(m[i], &blen);
        assert_int_equal(blen, strtoul(header(m[i], "Content-Length"), NULL, 10));
        assert_true(blen > 0 && body[blen - 1] == '\n');
    }
    assert_int_equal(logs, 112);
    assert_int_equal(empty, 2);
    assert_string_equal(header(m[5], "User-Data"), "5b6b4461-21a2-4321-84e6-ec39e53dd8b6");
    msgs_free(m, n);
}

/* The closing notice's body reached the client in a later chunk than its
 * headers: cut the stream exactly there. */
static void test_notice_body_in_later_chunk(void **state)
{
    const fixture *fx = fx_find("inbound_11_");
    const char *text = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
    size_t cut = fx->len - strlen(text), blen;
    run r = run_keeping();
    vox_parser *p = parser_new();

    feed(p, &r, guard_place(&g_a, fx->data, cut), cut, fx->name);
    assert_int_equal(r.n, 10);
    assert_true(vox_parser_pending(p));
    feed(p, &r, guard_place(&g_b, fx->data + cut, fx->len - cut), fx->len - cut, fx->name);
    assert_int_equal(r.n, 11);
    finish(p, fx->len, fx->name);
    assert_int_equal(vox_msg_type(r.keep[10]), VOX_CT_DISCONNECT_NOTICE);
    assert_string_equal(vox_msg_body(r.keep[10], &blen), text);
    assert_int_equal(blen, strlen(text));
    assert_string_equal(vox_msg_reply_text(r.keep[8]), "-ERR not loging");
    assert_true(vox_msg_is_error(r.keep[8]));
    assert_string_equal(vox_msg_reply_text(r.keep[9]), "+OK bye");
    assert_false(vox_msg_is_error(r.keep[9]));
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal(msg_digest(r.keep[i]), fx->ref.dig[i]);
        vox_msg_free(r.keep[i]);
    }
    run_free(&r);
}

/* inbound_22: the client wrote CRLF; FreeSWITCH answers as usual. The
 * same stream with CRLF header lines must read the same. */
static void test_crlf(void **state)
{
    const fixture *fx = fx_find("inbound_22_");
    vox_buf crlf = {0};
    run r = {0};
    size_t start = 0;

    assert_int_equal(fx->ref.n, 6);
    for (size_t i = 0; i < fx->ref.n; i++) {
        size_t end = (size_t)fx->ref.end[i];
        const char *hend = strstr(fx->data + start, "\n\n");
        size_t hlen = (size_t)(hend - (fx->data + start)) + 2;
        for (size_t k = start; k < start + hlen; k++)
            buf_add(&crlf, fx->data[k] == '\n' ? "\r\n" : fx->data + k,
                    fx->data[k] == '\n' ? 2 : 1);
        buf_add(&crlf, fx->data + start + hlen, end - start - hlen);
        start = end;
    }
    assert_true(crlf.len > fx->len);
    parse_whole(crlf.data, crlf.len, &r, "inbound_22 with CRLF");
    assert_int_equal(r.n, fx->ref.n);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.dig[i], fx->ref.dig[i]);
    run_free(&r);
    free(crlf.data);
}

/* -------------------------------------------------------- split invariance */

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static size_t msg_start(const fixture *fx, size_t i)
{
    return i ? (size_t)fx->ref.end[i - 1] : 0;
}

/* Index of the message holding byte k. */
static size_t msg_at(const fixture *fx, size_t k)
{
    size_t lo = 0, hi = fx->ref.n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fx->ref.end[mid] > k)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Feed [ws, k) then [k, we), each chunk ending at a guard page, into p,
 * which is on a message boundary; the messages must be those of the whole
 * stream. */
static void split_range(vox_parser *p, const fixture *fx, size_t ws, size_t k, size_t we,
                        size_t first, size_t count)
{
    static run r;
    uint64_t start = vox_parser_offset(p);

    r.n = 0;
    feed(p, &r, guard_place(&g_a, fx->data + ws, k - ws), k - ws, fx->name);
    feed(p, &r, guard_place(&g_b, fx->data + k, we - k), we - k, fx->name);
    if (vox_parser_pending(p))
        fail_msg("%s split at %zu: partial message left at the end", fx->name, k);
    assert_int_equal(vox_parser_offset(p) - start, we - ws);
    if (r.n != count)
        fail_msg("%s split at %zu: %zu messages, expected %zu", fx->name, k, r.n, count);
    expect_same(&fx->ref, first, &r, fx->name, k);
}

/* The split at k, fed from the start of the message before the one holding
 * k to the end of the one after it: that covers a complete message ahead of
 * the cut in the first call and one after it in the second. Between
 * messages a parser holds nothing but its offset, so one parser takes these
 * windows one after the other (a valid stream in itself) and each stands for
 * the whole stream cut at k. */
static void split_window(vox_parser *p, const fixture *fx, size_t k)
{
    size_t m = msg_at(fx, k), first = m ? m - 1 : 0;
    size_t last = m + 1 < fx->ref.n ? m + 1 : m;
    split_range(p, fx, msg_start(fx, first), k, (size_t)fx->ref.end[last], first, last - first + 1);
}

/* The same with only the message holding k: for cuts inside a message,
 * where its neighbours add nothing the boundary cuts do not already test. */
static void split_one(vox_parser *p, const fixture *fx, size_t k)
{
    size_t m = msg_at(fx, k);
    split_range(p, fx, msg_start(fx, m), k, (size_t)fx->ref.end[m], m, 1);
}

/* Cuts near every message boundary, with the neighbours on both sides. */
static void split_near_boundaries(vox_parser *p, const fixture *fx)
{
    for (size_t i = 0; i < fx->ref.n; i++) {
        size_t b = msg_start(fx, i);
        for (size_t k = b > 3 ? b - 3 : 1; k <= b + 3 && k < fx->len; k++)
            split_window(p, fx, k);
    }
}

/* The literal cut: [0, k) then [k, n), in a fresh parser. */
static void split_whole(const fixture *fx, size_t k)
{
    vox_parser *p = parser_new();
    split_range(p, fx, 0, k, fx->len, 0, fx->ref.n);
    vox_parser_free(p);
}

static void test_split_byte_at_a_time(void **state)
{
    char *slot = g_b.base + g_b.cap - 1; /* every byte is the last readable one */
    run r = {0};

    for (size_t f = 0; f < g_nfx; f++) {
        const fixture *fx = &g_fx[f];
        vox_parser *p = parser_new();
        r.n = 0;
        for (size_t i = 0; i < fx->len; i++) {
            size_t before = r.n;
            *slot = fx->data[i];
            feed(p, &r, slot, 1, fx->name);
            /* One message at most per byte, and none half-read after it. */
            assert_true(r.n - before <= 1);
            assert_int_equal(vox_parser_pending(p), r.n == before);
        }
        finish(p, fx->len, fx->name);
        assert_int_equal(r.n, fx->ref.n);
        expect_same(&fx->ref, 0, &r, fx->name, 1);
    }
    run_free(&r);
}

/* Every offset of every capture under 120 KB; the literal two-call cut over
 * the whole stream for the small ones and at every message boundary. */
static void test_split_every_offset(void **state)
{
    for (size_t f = 0; f < g_nfx; f++) {
        const fixture *fx = &g_fx[f];
        if (fx->len >= 120 * 1024)
            continue;
        vox_parser *p = parser_new();
        for (size_t k = 1; k < fx->len; k++)
            split_one(p, fx, k);
        split_near_boundaries(p, fx);
        vox_parser_free(p);
        for (size_t k = 0; k <= fx->len; k += fx->len < 8192 ? 1 : fx->len)
            split_whole(fx, k);
        for (size_t i = 0; i < fx->ref.n; i++)
            split_whole(fx, (size_t)fx->ref.end[i]);
    }
}

/* The large captures: cuts within 3 bytes of every line start (header
 * lines, the event's own lines), near every message boundary with its
 * neighbours, 2000 random cuts, and a few literal cuts of the whole stream. */
static void test_split_large(void **state)
{
    for (size_t f = 0; f < g_nfx; f++) {
        const fixture *fx = &g_fx[f];
        if (fx->len < 120 * 1024)
            continue;
        unsigned char *mark = calloc(fx->len + 1, 1);
        vox_parser *p = parser_new();
        for (size_t i = 0; i < fx->len; i++) {
            if (fx->data[i] != '\n')
                continue;
            for (size_t k = i > 1 ? i - 2 : 1; k <= i + 4 && k < fx->len; k++)
                mark[k] = 1; /* within 3 bytes of the line start i + 1 */
        }
        for (size_t k = 1; k < fx->len; k++)
            if (mark[k])
                split_one(p, fx, k);
        split_near_boundaries(p, fx);
        for (int i = 0; i < 2000; i++)
            split_window(p, fx, 1 + (size_t)(rnd() % (fx->len - 1)));
        vox_parser_free(p);
        for (int i = 0; i < 8; i++)
            split_whole(fx, 1 + (size_t)(rnd() % (fx->len - 1)));
        free(mark);
    }
}

/* Random chunk sizes over whole streams, each chunk ending at a guard. */
static void test_split_random_chunks(void **state)
{
    static const size_t max_chunk[] = {16, 512, 8192, 65536};
    run r = {0};

    for (size_t f = 0; f < g_nfx; f++) {
        const fixture *fx = &g_fx[f];
        for (size_t pass = 0; pass < sizeof max_chunk / sizeof max_chunk[0]; pass++) {
            vox_parser *p = parser_new();
            r.n = 0;
            for (size_t off = 0; off < fx->len;) {
                size_t n = 1 + (size_t)(rnd() % max_chunk[pass]);
                if (n > fx->len - off)
                    n = fx->len - off;
                feed(p, &r, guard_place(pass & 1 ? &g_a : &g_b, fx->data + off, n), n, fx->name);
                off += n;
            }
            finish(p, fx->len, fx->name);
            assert_int_equal(r.n, fx->ref.n);
            expect_same(&fx->ref, 0, &r, fx->name, 0);
        }
    }
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_counts),
        cmocka_unit_test(test_messages_outlive_input),
        cmocka_unit_test(test_inbound_01),
        cmocka_unit_test(test_outbound_connect_reply),
        cmocka_unit_test(test_json_and_xml_values),
        cmocka_unit_test(test_json_and_xml_read_as_plain),
        cmocka_unit_test(test_reply_text),
        cmocka_unit_test(test_bgapi_event_body),
        cmocka_unit_test(test_log_data),
        cmocka_unit_test(test_notice_body_in_later_chunk),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_split_byte_at_a_time),
        cmocka_unit_test(test_split_every_offset),
        cmocka_unit_test(test_split_large),
        cmocka_unit_test(test_split_random_chunks),
    };
    /* TF_ONLY=test_name runs one test (for timing and debugging). */
    if (getenv("TF_ONLY"))
        cmocka_set_test_filter(getenv("TF_ONLY"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
