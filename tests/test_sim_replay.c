/* vox-sim against FreeSWITCH's captures: every event frame of the captures
 * rebuilt from its headers byte for byte (plain, json, xml), and the
 * captures' client bytes replayed against the simulator over real sockets,
 * paced (one command, its reply, the events FreeSWITCH sent before the next
 * reply) and in one write, the replies compared with FreeSWITCH's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "test_sim_util.h"

#include "sim_int.h"

#define SPEED 100.0

/* ------------------------------------------------------------- captures */

/* Every frame of a capture's s2c bytes. */
static frames cap_frames(const char *name)
{
    size_t len, off = 0;
    char *raw = tu_fixture(name, &len);
    frames fs = {0};
    vox_parser *p;
    assert_int_equal(vox_parser_new(&p, NULL), 0);
    while (off < len) {
        size_t used;
        vox_msg *m;
        int r = vox_parser_feed(p, raw + off, len - off, &used, &m);
        assert_true(r >= 0);
        if (r == 1)
            frames_push(&fs, m, raw + off, used);
        else
            assert_int_equal(used, len - off); /* a partial frame only at the end */
        off += used;
    }
    vox_parser_free(p);
    free(raw);
    return fs;
}

/* Where a Content-Length header starts in p[0..n), or NULL. */
static const char *find_clen(const char *p, size_t n)
{
    for (size_t i = 0; i + 15 <= n; i++)
        if ((i == 0 || p[i - 1] == '\n') && !strncasecmp(p + i, "content-length:", 15))
            return p + i;
    return NULL;
}

/* The commands of a capture's c2s bytes, split as FreeSWITCH reads them. */
static char **cap_commands(const char *name, size_t *n)
{
    size_t len;
    char *raw = tu_fixture(name, &len);
    char **cmds = calloc(64, sizeof *cmds);
    size_t i = 0, k = 0;
    while (i < len && k < 63) {
        while (i < len && (raw[i] == '\r' || raw[i] == '\n'))
            i++;
        size_t start = i;
        int nl = 0;
        for (; i < len && nl < 2; i++)
            nl = raw[i] == '\n' ? nl + 1 : raw[i] == '\r' ? nl : 0;
        if (start == i)
            break;
        const char *cl = find_clen(raw + start, i - start);
        if (cl)
            i += (size_t)strtoul(cl + 15, NULL, 10);
        cmds[k] = strndup(raw + start, i - start);
        k++;
    }
    free(raw);
    *n = k;
    return cmds;
}

static void cmds_free(char **c)
{
    for (size_t i = 0; c[i]; i++)
        free(c[i]);
    free(c);
}

/* ------------------------------------------------------------- comparing */

static int is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* uuids become U, Channel-Name values N: what differs between runs. */
static char *normalize(const char *s)
{
    char *o = malloc(strlen(s) + 1), *p = o;
    while (*s) {
        size_t i = 0;
        while (i < 36 && s[i] &&
               (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] == '-' : is_hex(s[i])))
            i++;
        if (i == 36) {
            *p++ = 'U';
            s += 36;
        } else if (!strncmp(s, "Channel-Name: ", 14)) {
            memcpy(p, "Channel-Name: N", 15);
            p += 15;
            s = strchr(s, '\n') ? strchr(s, '\n') : s + strlen(s);
        } else {
            *p++ = *s++;
        }
    }
    *p = '\0';
    return o;
}

static int same_norm(const char *a, const char *b)
{
    char *x = normalize(a), *y = normalize(b);
    int same = !strcmp(x, y);
    if (!same)
        print_message("expected: [%s]\n     got: [%s]\n", x, y);
    free(x);
    free(y);
    return same;
}

static char *frame_body(const frame *f)
{
    return strdup(vox_msg_body(f->m, NULL));
}

/* A reply of the sim against the capture's: byte-exact where the text is
 * deterministic, up to uuids and names otherwise; the status text and the
 * connect reply by their shape. */
static void same_reply(const frame *want, const frame *got)
{
    assert_string_equal(vox_msg_content_type(got->m), vox_msg_content_type(want->m));
    if (vox_msg_header(want->m, "Event-Name")) { /* the connect reply */
        size_t nw = vox_msg_header_count(want->m), ng = vox_msg_header_count(got->m);
        assert_true(ng > 17);
        for (size_t i = 0; i < 13; i++) {
            const char *a, *b;
            vox_msg_header_at(want->m, i, &a, NULL);
            vox_msg_header_at(got->m, i, &b, NULL);
            assert_string_equal(a, b);
        }
        for (size_t i = 1; i <= 4; i++) {
            const char *a, *av, *b, *bv;
            vox_msg_header_at(want->m, nw - i, &a, &av);
            vox_msg_header_at(got->m, ng - i, &b, &bv);
            assert_string_equal(a, b);
            assert_string_equal(av, bv);
        }
        return;
    }
    if (!strcmp(vox_msg_content_type(want->m), "api/response")) {
        char *a = frame_body(want), *b = frame_body(got);
        if (!strncmp(a, "UP ", 3))
            assert_true(!strncmp(b, "UP ", 3) && strstr(b, " is ready\n"));
        else if (a[0] >= '0' && a[0] <= '9')
            assert_true(b[0] >= '0' && b[0] <= '9');
        else
            assert_true(same_norm(a, b));
        free(a);
        free(b);
        return;
    }
    assert_true(same_norm(want->bytes, got->bytes));
}

/* ------------------------------------------------------------- replays */

/* The capture's frames from NAME.s2c.raw. */
static frames want_frames(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s.s2c.raw", name);
    return cap_frames(path);
}

/* The next reply (events before it kept in evs) against the capture's
 * next non-event frame at *w. */
static void next_reply(peer *c, const frames *want, size_t *w, frames *evs)
{
    frame f;
    while (*w < want->n && is_event(&want->f[*w]))
        (*w)++;
    assert_true(*w < want->n);
    peer_reply(c, &f, evs);
    same_reply(&want->f[(*w)++], &f);
    frame_free(&f);
}

/* The events the capture had after its reply at w: as many, same names. */
static void same_events(peer *c, const frames *want, size_t w, frames *evs)
{
    size_t need = 0;
    while (w + need < want->n && is_event(&want->f[w + need]))
        need++;
    while (evs->n < need) {
        frame f;
        assert_int_equal(peer_frame(c, &f), 1);
        assert_true(is_event(&f));
        frames_push(evs, f.m, f.bytes, f.len);
        free(f.bytes);
    }
    for (size_t k = 0; k < need; k++)
        assert_string_equal(vox_event_name(vox_msg_event(evs->f[k].m)),
                            vox_event_name(vox_msg_event(want->f[w + k].m)));
}

/* Everything until the close: the capture's replies from w on, in order,
 * and nothing else but events. */
static void same_rest(peer *c, const frames *want, size_t w)
{
    frames got = peer_all(c);
    size_t g = 0;
    for (; w < want->n; w++) {
        if (is_event(&want->f[w]))
            continue;
        while (g < got.n && is_event(&got.f[g]))
            g++;
        assert_true(g < got.n);
        same_reply(&want->f[w], &got.f[g++]);
    }
    while (g < got.n && is_event(&got.f[g]))
        g++;
    assert_int_equal(g, got.n);
    frames_free(&got);
}

/* Each command of the capture in turn: its reply against the capture's, and
 * as many events as the capture had before the next reply. */
static void replay_paced(const char *name, const vox_sim_opts *o)
{
    frames want = want_frames(name);
    char path[256];
    snprintf(path, sizeof path, "%s.c2s.raw", name);
    size_t ncmd, w = 0;
    char **cmds = cap_commands(path, &ncmd);
    vox_sim *s = sim_up(o);
    peer c;
    peer_open(&c, vox_sim_port(s));
    next_reply(&c, &want, &w, NULL);
    for (size_t i = 0; i < ncmd && !c.eof; i++) {
        frames evs = {0};
        peer_sends(&c, cmds[i]);
        next_reply(&c, &want, &w, &evs);
        same_events(&c, &want, w, &evs);
        frames_free(&evs);
    }
    same_rest(&c, &want, w);
    peer_close(&c);
    vox_sim_free(s);
    cmds_free(cmds);
    frames_free(&want);
}

/* All the client bytes in one write: the replies in order, then the close. */
static void replay_bulk(peer *c, const char *name)
{
    frames want = want_frames(name);
    char path[256];
    snprintf(path, sizeof path, "%s.c2s.raw", name);
    size_t len, w = 0;
    char *bytes = tu_fixture(path, &len);
    if (!vox_msg_header(want.f[0].m, "Event-Name")) /* inbound: auth/request first */
        next_reply(c, &want, &w, NULL);
    peer_send(c, bytes, len);
    same_rest(c, &want, w);
    frames_free(&want);
    free(bytes);
}

/* The simulator FreeSWITCH was in the captures: HEARTBEAT every 20 s. */
static vox_sim_opts base_opts(void)
{
    vox_sim_opts o = sim_opts(SPEED);
    o.heartbeat_ms = 20000;
    return o;
}

static void replay_inbound_bulk(const char *name)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    peer c;
    peer_open(&c, vox_sim_port(s));
    replay_bulk(&c, name);
    peer_close(&c);
    vox_sim_free(s);
}

static void test_replay_inbound(void **state)
{
    static const char *const paced[] = {
        "inbound_01_auth_ok_api_status_version",
        "inbound_02_auth_wrong_password",
        "inbound_03_commands_before_auth",
        "inbound_07_filter",
        "inbound_08_nixevent",
        "inbound_09_noevents",
        "inbound_10_api_errors",
        "inbound_11_unknown_and_bad_commands",
        "inbound_12_bgapi",
        "inbound_14_exit",
        "inbound_16_session_commands_without_session",
        "inbound_21_pipelined_commands",
        "inbound_22_crlf_line_endings",
        "inbound_27_userauth",
        "inbound_28_userauth_wrong_password",
    };
    vox_sim_opts o = base_opts();
    for (size_t i = 0; i < sizeof paced / sizeof *paced; i++) {
        print_message("replay %s\n", paced[i]);
        replay_paced(paced[i], &o);
    }
    replay_inbound_bulk("inbound_21_pipelined_commands");
    replay_inbound_bulk("inbound_22_crlf_line_endings");
    replay_inbound_bulk("inbound_03_commands_before_auth");
}

static void test_replay_acl(void **state)
{
    vox_sim_opts o = base_opts();
    o.faults.acl_reject = 1;
    replay_paced("inbound_24_acl_rude_rejection", &o);
}

/* ------------------------------------------------------------- formats */

/* A fake simulator for building events without a loop. */
static sim *fake_sim(void)
{
    static struct vox_sim fs;
    memset(&fs, 0, sizeof fs);
    fs.o.hostname = "vm";
    fs.o.speed = 1.0;
    snprintf(fs.core_uuid, sizeof fs.core_uuid, "5085d8f6-a985-4c1d-a712-7045f58d7567");
    return &fs;
}

/* An event with exactly the headers (decoded) and body of a captured one. */
static sim_event *event_of(const vox_event *ev)
{
    sim_event *e = calloc(1, sizeof *e);
    e->name = strdup(vox_event_name(ev));
    size_t n = vox_event_header_count(ev);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        size_t nv;
        vox_event_header_at(ev, i, &name, &value, &nv);
        if (nv > 1) { /* FreeSWITCH keeps a multi-valued header as ARRAY::a|:b */
            char buf[8192];
            size_t len = (size_t)snprintf(buf, sizeof buf, "ARRAY::");
            for (size_t k = 0; k < nv && len < sizeof buf; k++)
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", k ? "|:" : "",
                                        vox_event_value_at(ev, i, k));
            sim__event_add(e, name, buf);
        } else {
            sim__event_add(e, name, value);
        }
    }
    size_t blen;
    const char *body = vox_event_body(ev, &blen);
    if (blen || strstr(vox_msg_body(vox_event_msg(ev), NULL), "\"_body\""))
        sim__event_body(e, body); /* json: an empty "_body" is still a body */
    return e;
}

/* Rebuild every event frame of fmt in a capture and compare bytes. */
static void rebuild_all(const char *capture, vox_format fmt, size_t min)
{
    frames fs = cap_frames(capture);
    size_t done = 0;
    for (size_t i = 0; i < fs.n; i++) {
        vox_content_type t = vox_msg_type(fs.f[i].m);
        if (t != (fmt == VOX_FMT_JSON  ? VOX_CT_EVENT_JSON
                  : fmt == VOX_FMT_XML ? VOX_CT_EVENT_XML
                                       : VOX_CT_EVENT_PLAIN))
            continue;
        sim_event *e = event_of(vox_msg_event(fs.f[i].m));
        if (fmt == VOX_FMT_JSON) { /* FreeSWITCH adds these two itself */
            for (size_t k = 0; k < e->n; k++)
                if (!strcmp(e->h[k].name, "Content-Length") || !strcmp(e->h[k].name, "_body"))
                    e->h[k].name[0] = '\0';
            size_t j = 0;
            for (size_t k = 0; k < e->n; k++) {
                if (e->h[k].name[0])
                    e->h[j++] = e->h[k];
                else
                    free(e->h[k].name), free(e->h[k].value);
            }
            e->n = j;
        }
        vox_buf b = {0};
        assert_int_equal(sim__event_frame(e, fmt, &b), 0);
        if (b.len != fs.f[i].len || memcmp(b.data, fs.f[i].bytes, b.len))
            fail_msg("%s frame %zu differs:\n%.*s\n----\n%s", capture, i, (int)b.len, b.data,
                     fs.f[i].bytes);
        vox_buf_free(&b);
        sim__event_free(e);
        done++;
    }
    assert_true(done >= min);
    frames_free(&fs);
}

static void test_format_plain(void **state)
{
    rebuild_all("inbound_04_event_plain_ALL_with_call.s2c.raw", VOX_FMT_PLAIN, 40);
    rebuild_all("inbound_12_bgapi.s2c.raw", VOX_FMT_PLAIN, 3);  /* bodies */
    rebuild_all("inbound_07_filter.s2c.raw", VOX_FMT_PLAIN, 1); /* HEARTBEAT */
    rebuild_all("outbound_9101_linger_forever_then_exit.s2c.raw", VOX_FMT_PLAIN, 10);
}

static void test_format_json_xml(void **state)
{
    rebuild_all("inbound_05_event_json_CHANNEL_CREATE.s2c.raw", VOX_FMT_JSON, 2);
    rebuild_all("outbound_9101_myevents_json_linger2.s2c.raw", VOX_FMT_JSON, 10);
    rebuild_all("inbound_06_event_xml_HEARTBEAT.s2c.raw", VOX_FMT_XML, 1);
}

static void test_format_details(void **state)
{
    sim *s = fake_sim();
    sim_event *e = sim__event_new(s, NULL, "test::sub");
    assert_string_equal(sim__event_get(e, "Event-Name"), "CUSTOM");
    assert_string_equal(sim__event_get(e, "Event-Subclass"), "test::sub");
    assert_string_equal(e->h[0].name, "Event-Name");
    assert_string_equal(e->h[12].name, "Event-Sequence");
    sim__event_add(e, "Empty", "");
    sim__event_add(e, "Odd", "a\"b\\c\n\t\x01 é %41%4g <&>");
    sim__event_add(e, "Multi", "ARRAY::one|:two");
    sim__event_set(e, "odd", "x y");
    sim__event_body(e, "line <1>\r\n");
    vox_buf b = {0};
    assert_int_equal(sim__event_frame(e, VOX_FMT_PLAIN, &b), 0);
    assert_non_null(strstr(b.data, "\nEmpty: _undef_\nOdd: x%20y\nMulti: ARRAY%3A%3Aone%7C%3Atwo\n"
                                   "Content-Length: 10\n\nline <1>\r\n"));
    vox_buf_free(&b);
    sim__event_set(e, "Odd", "a\"b\\c\n\t\x01 é %41%4g <&>");
    assert_int_equal(sim__event_frame(e, VOX_FMT_JSON, &b), 0);
    assert_non_null(strstr(b.data,
                           "\"Empty\":\"\",\"Odd\":\"a\\\"b\\\\c\\n\\t\\u0001 é %41%4g <&>\","
                           "\"Multi\":[\"one\",\"two\"],\"Content-Length\":\"10\","
                           "\"_body\":\"line <1>\\r\\n\"}"));
    vox_buf_free(&b);
    assert_int_equal(sim__event_frame(e, VOX_FMT_XML, &b), 0);
    assert_non_null(strstr(b.data,
                           "    <Odd>a%22b%5Cc%0A%09%01%20%C3%A9%20%41%254g%20%3C%26%3E</Odd>\n"
                           "    <Multi>one</Multi>\n    <Multi>two</Multi>\n  </headers>\n"
                           "  <Content-Length>10</Content-Length>\n"
                           "  <body>line &lt;1&gt;&#xD;\n</body>\n</event>\n"));
    vox_buf_free(&b);
    sim__event_free(e);
}

/* ------------------------------------------------------------- outbound */

static void test_outbound_replays(void **state)
{
    static const struct {
        const char *name;
        vox_sim_call_fault fault;
    } runs[] = {
        {"outbound_no_full", VOX_SIM_CALL_NO_FULL},
        {"outbound_9101_nolinger", VOX_SIM_CALL_OK},
        {"outbound_9104_resume_then_exit", VOX_SIM_CALL_OK},
        {"outbound_9100_preanswered_event_uuid_linger2", VOX_SIM_CALL_OK},
        {"outbound_9101_myevents_json_linger2", VOX_SIM_CALL_OK},
    };
    vox_sim_opts o = base_opts();
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        print_message("replay %s\n", runs[i].name);
        outb ob;
        outb_start(&ob, &o, (vox_sim_call){.fault = runs[i].fault});
        replay_bulk(&ob.c, runs[i].name);
        outb_stop(&ob);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_plain),   cmocka_unit_test(test_format_json_xml),
        cmocka_unit_test(test_format_details), cmocka_unit_test(test_replay_inbound),
        cmocka_unit_test(test_replay_acl),     cmocka_unit_test(test_outbound_replays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
