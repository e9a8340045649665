/* Parser, message and event view: framing, decoding, limits, errors, and
 * allocation failure. Whole-fixture and split tests live in test_fixtures.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/testutil.h"

/* Parses all of s; returns the messages (NULL-terminated, at most max) and
 * the final return code. */
static int parse_all(const char *s, size_t n, vox_msg **out, size_t max, vox_parser **pp)
{
    vox_parser *p;
    assert_int_equal(vox_parser_new(&p, NULL), 0);
    size_t pos = 0, k = 0;
    int rc = 0;
    while (pos < n) {
        size_t used;
        vox_msg *m;
        rc = vox_parser_feed(p, s + pos, n - pos, &used, &m);
        pos += used;
        if (rc < 0)
            break;
        if (rc == 1 && k < max)
            out[k++] = m;
        else if (rc == 1)
            vox_msg_free(m);
    }
    out[k] = NULL;
    if (pp)
        *pp = p;
    else
        vox_parser_free(p);
    return rc < 0 ? rc : (int)k;
}

static void free_all(vox_msg **m)
{
    for (; *m; m++)
        vox_msg_free(*m);
}

#define S(lit) lit, sizeof(lit) - 1

static void test_reply_and_types(void **st)
{
    (void)st;
    static const char in[] = "Content-Type: auth/request\n\n"
                             "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
                             "Content-Type: api/response\nContent-Length: 6\n\n-ERR x"
                             "Content-Type: text/rude-rejection\nContent-Length: 4\n\ngo a"
                             "Content-Type: something/else\n\n";
    vox_msg *m[8];
    assert_int_equal(parse_all(S(in), m, 7, NULL), 5);
    assert_int_equal(vox_msg_type(m[0]), VOX_CT_AUTH_REQUEST);
    assert_int_equal(vox_msg_type(m[1]), VOX_CT_COMMAND_REPLY);
    assert_string_equal(vox_msg_reply_text(m[1]), "+OK accepted");
    assert_string_equal(vox_msg_header(m[1], "reply-text"), "+OK accepted");
    assert_false(vox_msg_is_error(m[1]));
    assert_int_equal(vox_msg_type(m[2]), VOX_CT_API_RESPONSE);
    assert_true(vox_msg_is_error(m[2]));
    size_t len;
    assert_string_equal(vox_msg_body(m[2], &len), "-ERR x");
    assert_int_equal(len, 6);
    assert_int_equal(vox_msg_type(m[3]), VOX_CT_RUDE_REJECTION);
    assert_int_equal(vox_msg_type(m[4]), VOX_CT_UNKNOWN);
    assert_string_equal(vox_msg_content_type(m[4]), "something/else");
    assert_null(vox_msg_event(m[1]));
    assert_null(vox_msg_reply_text(m[0]));
    assert_int_equal(vox_msg_header_count(m[2]), 2);
    const char *n, *v;
    assert_int_equal(vox_msg_header_at(m[2], 1, &n, &v), 0);
    assert_string_equal(n, "Content-Length");
    assert_string_equal(v, "6");
    assert_int_equal(vox_msg_header_at(m[2], 2, &n, &v), VOX_EINVAL);
    free_all(m);
}

static void test_crlf_blank_lines_and_empty_values(void **st)
{
    (void)st;
    static const char in[] = "\r\n\n"
                             "Content-Type: log/data\r\nUser-Data: \r\nLog-Level:7\r\n"
                             "Content-Length: 3\r\n\r\nabc";
    vox_msg *m[4];
    assert_int_equal(parse_all(S(in), m, 3, NULL), 1);
    assert_int_equal(vox_msg_type(m[0]), VOX_CT_LOG_DATA);
    assert_string_equal(vox_msg_header(m[0], "User-Data"), "");
    assert_string_equal(vox_msg_header(m[0], "LOG-LEVEL"), "7");
    assert_string_equal(vox_msg_body(m[0], NULL), "abc");
    free_all(m);
}

static const char g_plain[] = "Content-Length: 186\nContent-Type: text/event-plain\n\n"
                              "Event-Name: CUSTOM\n"
                              "Event-Subclass: sofia%3A%3Aregister\n"
                              "Caller-Caller-ID-Name: Andr%C3%A9%20%2B1\n"
                              "Bad-Escape: 100%25%zz%4\n"
                              "Multi: ARRAY%3A%3Aone%7C%3Atwo%7C%3Athree\n"
                              "Content-Length: 5\n"
                              "\n"
                              "hello";

static void test_plain_event(void **st)
{
    (void)st;
    vox_msg *m[2];
    assert_int_equal(parse_all(S(g_plain), m, 1, NULL), 1);
    const vox_event *e = vox_msg_event(m[0]);
    assert_non_null(e);
    assert_string_equal(vox_event_name(e), "CUSTOM");
    assert_string_equal(vox_event_subclass(e), "sofia::register");
    assert_string_equal(vox_event_get(e, "caller-caller-id-name"), "Andr\xc3\xa9 +1");
    assert_string_equal(vox_event_get(e, "Bad-Escape"), "100%%zz%4");
    assert_string_equal(vox_event_get(e, "Multi"), "one");
    assert_null(vox_event_get(e, "Content-Length"));
    assert_null(vox_event_get(e, "Missing"));
    assert_int_equal(vox_event_header_count(e), 5);
    const char *n, *v;
    size_t nv;
    assert_int_equal(vox_event_header_at(e, 4, &n, &v, &nv), 0);
    assert_string_equal(n, "Multi");
    assert_int_equal(nv, 3);
    assert_string_equal(vox_event_value_at(e, 4, 2), "three");
    assert_null(vox_event_value_at(e, 4, 3));
    assert_int_equal(vox_event_header_at(e, 0, &n, &v, &nv), 0);
    assert_string_equal(n, "Event-Name");
    assert_int_equal(nv, 1);
    size_t bl;
    assert_string_equal(vox_event_body(e, &bl), "hello");
    assert_int_equal(bl, 5);
    /* the message's own body stays exactly as sent */
    assert_memory_equal(vox_msg_body(m[0], NULL), "Event-Name: CUSTOM\nEvent-Subclass: sofia%3A",
                        42);
    assert_ptr_equal(vox_event_msg(e), m[0]);
    /* references */
    vox_msg *r = vox_msg_ref(m[0]);
    vox_msg_free(m[0]);
    assert_string_equal(vox_event_name(vox_msg_event(r)), "CUSTOM");
    vox_msg_free(r);
}

/* An event body is always NUL-terminated and "" when the event has none,
 * whatever bytes follow inside the frame. */
static void test_event_body_edges(void **st)
{
    (void)st;
    static const char in[] = "Content-Length: 12\nContent-Type: text/event-plain\n\nA: 1\n\ntrail\n"
                             "Content-Length: 33\nContent-Type: text/event-plain\n\n"
                             "A: 1\nContent-Length: 3\n\nabcdefghij";
    vox_msg *m[3];
    assert_int_equal(parse_all(S(in), m, 2, NULL), 2);
    size_t len;
    assert_string_equal(vox_event_body(vox_msg_event(m[0]), &len), "");
    assert_int_equal(len, 0);
    assert_string_equal(vox_event_body(vox_msg_event(m[1]), &len), "abc");
    assert_int_equal(len, 3);
    assert_string_equal(vox_event_get(vox_msg_event(m[1]), "A"), "1");
    free_all(m);
}

static void test_connect_reply_event(void **st)
{
    (void)st;
    static const char in[] = "Event-Name: CHANNEL_DATA\nUnique-ID: abc\n"
                             "Caller-Callee-ID-Name: Outbound%20Call\n"
                             "Content-Type: command/reply\nReply-Text: %2BOK%0A\n"
                             "Socket-Mode: async\nControl: full\n\n";
    vox_msg *m[2];
    assert_int_equal(parse_all(S(in), m, 1, NULL), 1);
    assert_int_equal(vox_msg_type(m[0]), VOX_CT_COMMAND_REPLY);
    assert_string_equal(vox_msg_header(m[0], "Caller-Callee-ID-Name"), "Outbound%20Call");
    const vox_event *e = vox_msg_event(m[0]);
    assert_non_null(e);
    assert_string_equal(vox_event_name(e), "CHANNEL_DATA");
    assert_string_equal(vox_event_get(e, "Caller-Callee-ID-Name"), "Outbound Call");
    assert_string_equal(vox_msg_reply_text(m[0]), "+OK\n");
    assert_false(vox_msg_is_error(m[0]));
    /* raw values untouched by decoding */
    assert_string_equal(vox_msg_header(m[0], "Reply-Text"), "%2BOK%0A");
    free_all(m);
}

static void test_json_event(void **st)
{
    (void)st;
    static const char body[] = "{\"Event-Name\":\"CUSTOM\",\"Event-Subclass\":\"a::b\","
                               "\"Val\":\"x%20y \\u00e9\",\"Multi\":[\"1\",\"2\"],"
                               "\"Num\":42,\"_body\":\"the body\"}";
    char in[512];
    int n = snprintf(in, sizeof in, "Content-Length: %zu\nContent-Type: text/event-json\n\n%s",
                     sizeof body - 1, body);
    vox_msg *m[2];
    assert_int_equal(parse_all(in, (size_t)n, m, 1, NULL), 1);
    const vox_event *e = vox_msg_event(m[0]);
    assert_non_null(e);
    assert_string_equal(vox_event_subclass(e), "a::b");
    assert_string_equal(vox_event_get(e, "val"), "x%20y \xc3\xa9"); /* json is not url-encoded */
    assert_string_equal(vox_event_get(e, "Num"), "42");
    assert_int_equal(vox_event_header_count(e), 5);
    size_t nv;
    const char *name;
    assert_int_equal(vox_event_header_at(e, 3, &name, NULL, &nv), 0);
    assert_string_equal(name, "Multi");
    assert_int_equal(nv, 2);
    assert_string_equal(vox_event_value_at(e, 3, 1), "2");
    assert_string_equal(vox_event_body(e, NULL), "the body");
    free_all(m);
}

static void test_xml_event(void **st)
{
    (void)st;
    static const char body[] = "<event>\n  <headers>\n    <Event-Name>HEARTBEAT</Event-Name>\n"
                               "    <Info>a%20b &amp; &lt;c&gt; &#233;</Info>\n    <Empty/>\n"
                               "  </headers>\n  <body>x &lt; y</body>\n</event>";
    char in[512];
    int n = snprintf(in, sizeof in, "Content-Length: %zu\nContent-Type: text/event-xml\n\n%s",
                     sizeof body - 1, body);
    vox_msg *m[2];
    assert_int_equal(parse_all(in, (size_t)n, m, 1, NULL), 1);
    const vox_event *e = vox_msg_event(m[0]);
    assert_non_null(e);
    assert_string_equal(vox_event_name(e), "HEARTBEAT");
    assert_string_equal(vox_event_get(e, "Info"), "a b & <c> \xc3\xa9");
    assert_string_equal(vox_event_get(e, "Empty"), "");
    assert_string_equal(vox_event_body(e, NULL), "x < y");
    free_all(m);
}

/* A bad input gives a sticky error with a reason and a byte position. */
static void expect_error(const char *in, size_t n, int err, uint64_t at, const vox_limits *lim)
{
    vox_parser *p;
    assert_int_equal(vox_parser_new(&p, lim), 0);
    size_t pos = 0, used;
    vox_msg *m;
    int rc = 0;
    while (pos < n && (rc = vox_parser_feed(p, in + pos, n - pos, &used, &m)) >= 0) {
        pos += used;
        vox_msg_free(m);
    }
    if (rc != err)
        fail_msg("%.40s: rc %d, want %d", in, rc, err);
    const char *reason;
    uint64_t off;
    assert_int_equal(vox_parser_error(p, &reason, &off), err);
    assert_non_null(reason);
    assert_int_equal(off, at);
    assert_int_equal(vox_parser_feed(p, "x", 1, &used, &m), err); /* sticky */
    assert_int_equal(used, 0);
    vox_parser_free(p);
}

#define ERR(lit, err, at, lim) expect_error(lit, sizeof(lit) - 1, err, at, lim)

static void test_errors(void **st)
{
    (void)st;
    ERR("Content-Type: command/reply\nno colon here\n\n", VOX_EPROTO, 28, NULL);
    ERR("Content-Type: api/response\n: empty name\n\n", VOX_EPROTO, 27, NULL);
    ERR("Content-Type: api/response\nContent-Length: 1x\n\n", VOX_EPROTO, 44, NULL);
    ERR("Content-Type: api/response\nContent-Length: \n\n", VOX_EPROTO, 43, NULL);
    ERR("Content-Type: api\0/response\n\n", VOX_EPROTO, 17, NULL);
    ERR("Content-Length: 10\nContent-Type: text/event-plain\n\nA: b\nC: d\n", VOX_EPROTO, 61, NULL);
    ERR("Content-Length: 7\nContent-Type: text/event-json\n\n[1,2,3]", VOX_EPROTO, 49, NULL);
    ERR("Content-Length: 8\nContent-Type: text/event-plain\n\nA\0B: v\n\n", VOX_EPROTO, 51, NULL);
    ERR("Content-Length: 7\nContent-Type: text/event-plain\n\nA: \0v\n\n", VOX_EPROTO, 53, NULL);
    ERR("Content-Length: 7\nContent-Type: text/event-json\n\n{\"a\":{}", VOX_EPROTO, 49, NULL);
    ERR("Content-Length: 9\nContent-Type: text/event-xml\n\n<event/>x", VOX_EPROTO, 48, NULL);
    ERR("Content-Length: 42\nContent-Type: text/event-xml\n\n"
        "<event><headers><A>1</B></headers></event>",
        VOX_EPROTO, 49, NULL);
    ERR("Content-Length: 30\nContent-Type: text/event-plain\n\n"
        "A: b\nContent-Length: 99\n\nxxxxx",
        VOX_EPROTO, 72, NULL);
}

static void test_limits(void **st)
{
    (void)st;
    vox_limits lim = {64, 100, 3};
    ERR("Content-Type: api/response\nContent-Length: 101\n\n", VOX_ELIMIT, 43, &lim);
    ERR("A: 1\nB: 2\nC: 3\nD: 4\n\n", VOX_ELIMIT, 15, &lim);
    ERR("Content-Type: api/response\nX-Long: 0123456789012345678901234567890123456789\n\n",
        VOX_ELIMIT, 64, &lim);
    ERR("Content-Length: 20\nContent-Type: text/event-plain\n\nA: 1\nB: 2\nC: 3\nD: 4\n\n",
        VOX_ELIMIT, 66, &lim);
}

/* The defaults accept what FreeSWITCH really sends: a 100 KiB connect reply
 * and a 40 MiB api body. */
static void test_default_limits_accept_real_sizes(void **st)
{
    (void)st;
    size_t big = 40u << 20;
    struct {
        char *data;
        size_t len;
    } b = {NULL, 0};
    char line[64];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(line, sizeof line, "variable_v%d: %040d\n", i, i);
        b.data = realloc(b.data, b.len + (size_t)n + 1);
        memcpy(b.data + b.len, line, (size_t)n);
        b.len += (size_t)n;
    }
    static const char tail[] = "Content-Type: command/reply\nReply-Text: %2BOK%0A\n\n"
                               "Content-Type: api/response\nContent-Length: 41943040\n\n";
    b.data = realloc(b.data, b.len + sizeof tail + big);
    memcpy(b.data + b.len, tail, sizeof tail - 1);
    b.len += sizeof tail - 1;
    memset(b.data + b.len, 'x', big);
    b.len += big;
    assert_true(b.len > big + (100u << 10));
    vox_msg *m[3];
    assert_int_equal(parse_all(b.data, b.len, m, 2, NULL), 2);
    assert_int_equal(vox_msg_header_count(m[0]), 2002);
    assert_string_equal(vox_msg_header(m[0], "variable_v1999"),
                        "0000000000000000000000000000000000001999");
    size_t len;
    vox_msg_body(m[1], &len);
    assert_int_equal(len, big);
    free_all(m);
    free(b.data);
}

static void test_url_decode(void **st)
{
    (void)st;
    char out[32];
    assert_int_equal(vox_url_decode(out, "a%20b%2", 7), 5);
    assert_string_equal(out, "a b%2");
    assert_int_equal(vox_url_decode(out, "%41%4a%4A+%", 11), 5);
    assert_string_equal(out, "AJJ+%");
    char inplace[] = "x%3Ay";
    vox_url_decode(inplace, inplace, 5);
    assert_string_equal(inplace, "x:y");
}

/* The same messages whatever the split, for every split point. */
static void test_every_split(void **st)
{
    (void)st;
    vox_msg *whole[4], *a[4];
    int n = parse_all(S(g_plain), whole, 3, NULL);
    assert_int_equal(n, 1);
    for (size_t k = 1; k < sizeof g_plain - 1; k++) {
        vox_parser *p;
        assert_int_equal(vox_parser_new(&p, NULL), 0);
        size_t used, used2;
        vox_msg *m = NULL;
        assert_int_equal(vox_parser_feed(p, g_plain, k, &used, &m), 0);
        assert_int_equal(used, k);
        assert_true(vox_parser_pending(p));
        assert_int_equal(vox_parser_feed(p, g_plain + k, sizeof g_plain - 1 - k, &used2, &a[0]), 1);
        assert_int_equal(used2, sizeof g_plain - 1 - k);
        assert_false(vox_parser_pending(p));
        assert_int_equal(vox_parser_offset(p), sizeof g_plain - 1);
        assert_string_equal(vox_event_get(vox_msg_event(a[0]), "Caller-Caller-ID-Name"),
                            vox_event_get(vox_msg_event(whole[0]), "Caller-Caller-ID-Name"));
        assert_string_equal(vox_event_body(vox_msg_event(a[0]), NULL), "hello");
        vox_msg_free(a[0]);
        vox_parser_free(p);
    }
    free_all(whole);
}

/* Digest of everything a message shows, to compare runs. */
static uint64_t digest(vox_msg *m, uint64_t h)
{
#define MIX(s, n)                                                                                  \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < (n); i_++)                                                        \
            h = (h ^ (unsigned char)(s)[i_]) * 1099511628211ull;                                   \
        h = (h ^ 0xff) * 1099511628211ull;                                                         \
    } while (0)
    const char *n, *v;
    size_t len, nv;
    MIX(vox_msg_content_type(m), strlen(vox_msg_content_type(m)));
    for (size_t i = 0; vox_msg_header_at(m, i, &n, &v) == 0; i++) {
        MIX(n, strlen(n));
        MIX(v, strlen(v));
    }
    v = vox_msg_body(m, &len);
    MIX(v, len);
    const vox_event *e = vox_msg_event(m);
    for (size_t i = 0; e && vox_event_header_at(e, i, &n, &v, &nv) == 0; i++) {
        MIX(n, strlen(n));
        for (size_t k = 0; k < nv; k++)
            MIX(vox_event_value_at(e, i, k), strlen(vox_event_value_at(e, i, k)));
    }
    if (e) {
        v = vox_event_body(e, &len);
        MIX(v, len);
    }
    return h;
#undef MIX
}

/* Feeds in chunks of step bytes; on VOX_ENOMEM switches failures off and
 * repeats the call, as the contract allows. Returns the digest. */
static uint64_t run_stream(const char *s, size_t n, size_t step, int *saw_enomem)
{
    uint64_t h = 1469598103934665603ull;
    vox_parser *p = NULL;
    while (vox_parser_new(&p, NULL) == VOX_ENOMEM) {
        *saw_enomem = 1;
        tu_fail_off();
    }
    int again = 0; /* after VOX_ENOMEM the same call is repeated, even with no bytes */
    for (size_t pos = 0; pos < n || again;) {
        size_t len = n - pos < step ? n - pos : step, used;
        vox_msg *m;
        int rc = vox_parser_feed(p, s + pos, len, &used, &m);
        pos += used;
        again = rc == VOX_ENOMEM;
        if (again) {
            *saw_enomem = 1;
            tu_fail_off();
            continue;
        }
        if (rc < 0) {
            const char *why;
            vox_parser_error(p, &why, NULL);
            fail_msg("rc %d: %s", rc, why);
        }
        if (rc == 1) {
            h = digest(m, h);
            vox_msg_free(m);
        }
    }
    vox_parser_free(p);
    return h;
}

static void test_allocation_failure(void **st)
{
    (void)st;
    size_t n1, n2, n3;
    char *a = tu_fixture("inbound_05_event_json_CHANNEL_CREATE.s2c.raw", &n1);
    char *b = tu_fixture("inbound_06_event_xml_HEARTBEAT.s2c.raw", &n2);
    char *c = tu_fixture("inbound_12_bgapi.s2c.raw", &n3);
    char *s = malloc(n1 + n2 + n3);
    memcpy(s, a, n1);
    memcpy(s + n1, b, n2);
    memcpy(s + n1 + n2, c, n3);
    size_t n = n1 + n2 + n3;
    static const size_t steps[] = {(size_t)-1, 97, 1};
    for (size_t si = 0; si < sizeof steps / sizeof steps[0]; si++) {
        int dummy = 0;
        tu_fail_off();
        uint64_t want = run_stream(s, n, steps[si], &dummy);
        for (long k = 0;; k++) {
            int saw = 0;
            tu_fail_after(k);
            uint64_t got = run_stream(s, n, steps[si], &saw);
            tu_fail_off();
            if (got != want)
                fail_msg("step %zu k %ld: digest differs", steps[si], k);
            assert_int_equal(tu_live(), 0);
            if (!saw)
                break;
            if (steps[si] == 1 && k > 400)
                k += 7; /* byte at a time: every allocation point is hit often */
        }
    }
    free(a);
    free(b);
    free(c);
    free(s);
}

static void test_bad_arguments(void **st)
{
    (void)st;
    vox_parser *p;
    vox_msg *m;
    size_t used;
    assert_int_equal(vox_parser_new(NULL, NULL), VOX_EINVAL);
    assert_int_equal(vox_parser_new(&p, NULL), 0);
    assert_int_equal(vox_parser_feed(p, NULL, 1, &used, &m), VOX_EINVAL);
    assert_int_equal(vox_parser_feed(p, "", 0, &used, &m), 0);
    assert_int_equal(vox_parser_feed(p, "x", 1, &used, NULL), VOX_EINVAL);
    assert_int_equal(vox_parser_error(p, NULL, NULL), 0);
    vox_parser_free(p);
    vox_parser_free(NULL);
    vox_msg_free(NULL);
    assert_null(vox_msg_event(NULL));
    assert_null(vox_event_get(NULL, "x"));
}

int main(void)
{
    tu_alloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_and_types),
        cmocka_unit_test(test_crlf_blank_lines_and_empty_values),
        cmocka_unit_test(test_plain_event),
        cmocka_unit_test(test_event_body_edges),
        cmocka_unit_test(test_connect_reply_event),
        cmocka_unit_test(test_json_event),
        cmocka_unit_test(test_xml_event),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_default_limits_accept_real_sizes),
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_allocation_failure),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
