/* vox-sim's wire: the event formats rebuilt from captured frames, the
 * captures' client bytes replayed against the simulator over real sockets
 * (replies compared with FreeSWITCH's), libvox's own clients against it,
 * heartbeats, filters, the inbound faults and hostile clients. Every wait
 * is bounded by a deadline. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/testutil.h"
#include <vox/client.h>
#include <vox/uv.h>

#include "sim.h"
#include "sim_int.h"

#define SPEED 100.0
#define WAIT_MS 5000

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------- frames */

typedef struct frame {
    vox_msg *m;
    char *bytes; /* exactly as received */
    size_t len;
} frame;

typedef struct frames {
    frame *f;
    size_t n, cap;
} frames;

static void frames_push(frames *fs, vox_msg *m, const char *p, size_t n)
{
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 16;
        fs->f = realloc(fs->f, fs->cap * sizeof *fs->f);
    }
    frame *f = &fs->f[fs->n++];
    f->m = m;
    f->bytes = malloc(n + 1);
    memcpy(f->bytes, p, n);
    f->bytes[n] = '\0';
    f->len = n;
}

static void frames_free(frames *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        vox_msg_free(fs->f[i].m);
        free(fs->f[i].bytes);
    }
    free(fs->f);
    memset(fs, 0, sizeof *fs);
}

static int is_event(const frame *f)
{
    const char *ct = vox_msg_content_type(f->m);
    return !strncmp(ct, "text/event-", 11) || !strcmp(ct, "log/data");
}

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

/* ------------------------------------------------------------- raw client */

typedef struct rc {
    int fd;
    vox_parser *p;
    char *buf;
    size_t len, cap, used, mstart;
    int eof;
} rc;

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void rc_open_fd(rc *c, int fd)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    assert_int_equal(vox_parser_new(&c->p, NULL), 0);
}

static void rc_open(rc *c, uint16_t port)
{
    rc_open_fd(c, tcp_connect(port));
}

static void rc_close(rc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    vox_parser_free(c->p);
    free(c->buf);
    c->fd = -1;
}

static void rc_send(rc *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

static void rc_sends(rc *c, const char *s)
{
    rc_send(c, s, strlen(s));
}

/* Receive until deadline: 1 when data came, 0 on EOF, -1 timeout. */
static int rc_recv(rc *c, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return -1;
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)(deadline - now));
        if (r <= 0)
            continue;
        if (c->cap - c->len < 65536) {
            c->cap = c->cap * 2 + 65536;
            c->buf = realloc(c->buf, c->cap);
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            c->eof = 1;
            return 0;
        }
        c->len += (size_t)n;
        return 1;
    }
}

/* The next frame: 1, 0 at EOF, -1 on timeout. */
static int rc_frame_by(rc *c, frame *f, uint64_t deadline)
{
    for (;;) {
        if (c->used < c->len) {
            size_t used;
            vox_msg *m;
            int r = vox_parser_feed(c->p, c->buf + c->used, c->len - c->used, &used, &m);
            assert_true(r >= 0);
            c->used += used;
            if (r == 1) {
                f->m = m;
                f->len = c->used - c->mstart;
                f->bytes = malloc(f->len + 1);
                memcpy(f->bytes, c->buf + c->mstart, f->len);
                f->bytes[f->len] = '\0';
                c->mstart = c->used;
                return 1;
            }
        }
        if (c->eof)
            return 0;
        int r = rc_recv(c, deadline);
        if (r < 0)
            return r;
    }
}

static int rc_frame(rc *c, frame *f)
{
    return rc_frame_by(c, f, now_ms() + WAIT_MS);
}

static void frame_free(frame *f)
{
    vox_msg_free(f->m);
    free(f->bytes);
}

/* The next frame that is not an event (events are kept in evs if given). */
static void rc_reply(rc *c, frame *f, frames *evs)
{
    for (;;) {
        assert_int_equal(rc_frame(c, f), 1);
        if (!is_event(f))
            return;
        if (evs)
            frames_push(evs, vox_msg_ref(f->m), f->bytes, f->len);
        frame_free(f);
    }
}

/* Every frame until the peer closes. */
static frames rc_all(rc *c)
{
    frames fs = {0};
    frame f;
    int r;
    uint64_t deadline = now_ms() + WAIT_MS;
    while ((r = rc_frame_by(c, &f, deadline)) == 1)
        frames_push(&fs, f.m, f.bytes, f.len), free(f.bytes);
    if (r)
        print_message("rc_all: %zu frames, %zu bytes, %zu parsed, eof %d\n", fs.n, c->len, c->used,
                      c->eof);
    assert_int_equal(r, 0);
    return fs;
}

static void expect_text(rc *c, const char *bytes)
{
    frame f;
    rc_reply(c, &f, NULL);
    assert_string_equal(f.bytes, bytes);
    frame_free(&f);
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

static char *api_body(const frame *f)
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
        char *a = api_body(want), *b = api_body(got);
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

/* ------------------------------------------------------------- the sim */

static void debug_log(const vox_sim_log_line *l, void *ud)
{
    (void)ud;
    fprintf(stderr, "%llu sim: %s\n", (unsigned long long)now_ms(), l->line);
}

static vox_sim_opts base_opts(void)
{
    vox_sim_opts o;
    memset(&o, 0, sizeof o);
    if (getenv("SIMDEBUG"))
        o.log = debug_log;
    o.host = "127.0.0.1";
    o.speed = SPEED;
    o.heartbeat_ms = 20000;
    o.log_level = 3;
    return o;
}

static vox_sim *sim_up(const vox_sim_opts *o)
{
    vox_sim *s = NULL;
    assert_int_equal(vox_sim_start(&s, o), 0);
    assert_true(vox_sim_port(s) > 0);
    return s;
}

static void rc_auth(rc *c, vox_sim *s)
{
    rc_open(c, vox_sim_port(s));
    expect_text(c, "Content-Type: auth/request\n\n");
    rc_sends(c, "auth ClueCon\n\n");
    expect_text(c, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
}

/* A command and its reply text (command/reply) or body (api/response). */
static char *rc_cmd(rc *c, const char *cmd)
{
    frame f;
    rc_sends(c, cmd);
    rc_reply(c, &f, NULL);
    const char *t = vox_msg_reply_text(f.m);
    char *r = strdup(t ? t : "");
    frame_free(&f);
    return r;
}

static void expect_cmd(rc *c, const char *cmd, const char *reply)
{
    char *r = rc_cmd(c, cmd);
    assert_string_equal(r, reply);
    free(r);
}

/* ------------------------------------------------------------- replays */

/* Each command of the capture in turn: its reply against the capture's, and
 * as many events as the capture had before the next reply. */
static void replay_paced(const char *name, const vox_sim_opts *o)
{
    char path[256];
    snprintf(path, sizeof path, "%s.s2c.raw", name);
    frames want = cap_frames(path);
    snprintf(path, sizeof path, "%s.c2s.raw", name);
    size_t ncmd;
    char **cmds = cap_commands(path, &ncmd);
    vox_sim *s = sim_up(o);
    rc c;
    rc_open(&c, vox_sim_port(s));

    size_t w = 0;
    frame f;
    rc_reply(&c, &f, NULL);
    same_reply(&want.f[w++], &f);
    frame_free(&f);
    for (size_t i = 0; i < ncmd && !c.eof; i++) {
        while (w < want.n && is_event(&want.f[w]))
            w++;
        rc_sends(&c, cmds[i]);
        frames evs = {0};
        rc_reply(&c, &f, &evs);
        assert_true(w < want.n);
        same_reply(&want.f[w++], &f);
        frame_free(&f);
        size_t need = 0;
        while (w + need < want.n && is_event(&want.f[w + need]))
            need++;
        while (evs.n < need) {
            assert_int_equal(rc_frame(&c, &f), 1);
            assert_true(is_event(&f));
            frames_push(&evs, f.m, f.bytes, f.len);
            free(f.bytes);
        }
        for (size_t k = 0; k < need; k++) /* the events the capture had here */
            assert_string_equal(vox_event_name(vox_msg_event(evs.f[k].m)),
                                vox_event_name(vox_msg_event(want.f[w + k].m)));
        frames_free(&evs);
    }
    frames rest = rc_all(&c);
    size_t r = 0;
    for (; w < want.n; w++) {
        if (is_event(&want.f[w]))
            continue;
        while (r < rest.n && is_event(&rest.f[r]))
            r++;
        assert_true(r < rest.n);
        same_reply(&want.f[w], &rest.f[r++]);
    }
    frames_free(&rest);
    rc_close(&c);
    vox_sim_free(s);
    cmds_free(cmds);
    frames_free(&want);
}

/* All the client bytes in one write: the replies in order, then the close. */
static void replay_bulk(rc *c, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s.s2c.raw", name);
    frames want = cap_frames(path);
    size_t len;
    snprintf(path, sizeof path, "%s.c2s.raw", name);
    char *bytes = tu_fixture(path, &len);
    size_t w = 0;
    if (!vox_msg_header(want.f[0].m, "Event-Name")) { /* inbound: auth/request first */
        frame f;
        rc_reply(c, &f, NULL);
        same_reply(&want.f[w++], &f);
        frame_free(&f);
    }
    rc_send(c, bytes, len);
    frames got = rc_all(c);
    size_t g = 0;
    for (; w < want.n; w++) {
        if (is_event(&want.f[w]))
            continue;
        while (g < got.n && is_event(&got.f[g]))
            g++;
        assert_true(g < got.n);
        same_reply(&want.f[w], &got.f[g++]);
    }
    while (g < got.n && is_event(&got.f[g]))
        g++;
    assert_int_equal(g, got.n);
    frames_free(&got);
    frames_free(&want);
    free(bytes);
}

static void replay_inbound_bulk(const char *name)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    rc c;
    rc_open(&c, vox_sim_port(s));
    replay_bulk(&c, name);
    rc_close(&c);
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

static int listen_any(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Wait for the simulator's outbound connection: the fd, or -1. */
static int accept_by(int lfd, int ms)
{
    struct pollfd p = {lfd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return -1;
    return accept(lfd, NULL, NULL);
}

typedef struct outb {
    vox_sim *s;
    int lfd;
    rc c;
} outb;

/* A sim, one scripted call to our listening socket, its connection. */
static void outb_up(outb *ob, vox_sim_call_fault fault)
{
    vox_sim_opts o = base_opts();
    uint16_t port;
    ob->lfd = listen_any(&port);
    ob->s = sim_up(&o);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%u", port);
    vox_sim_call call;
    memset(&call, 0, sizeof call);
    call.socket = target;
    call.hangup_ms = -1;
    call.fault = fault;
    assert_true(vox_sim_place(ob->s, &call) >= 0);
    int fd = accept_by(ob->lfd, WAIT_MS);
    assert_true(fd >= 0);
    rc_open_fd(&ob->c, fd);
}

static void outb_down(outb *ob)
{
    rc_close(&ob->c);
    close(ob->lfd);
    vox_sim_free(ob->s);
}

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
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        print_message("replay %s\n", runs[i].name);
        outb ob;
        outb_up(&ob, runs[i].fault);
        replay_bulk(&ob.c, runs[i].name);
        outb_down(&ob);
    }
}

/* myevents json: the channel's events come as text/event-json; linger 2:
 * the linger notice, then the close two simulated seconds later. */
static void test_outbound_json_linger(void **state)
{
    outb ob;
    outb_up(&ob, VOX_SIM_CALL_OK);
    frame f;
    rc_sends(&ob.c, "connect\n\n");
    rc_reply(&ob.c, &f, NULL);
    const char *uuid = vox_msg_header(f.m, "Unique-ID");
    assert_non_null(uuid);
    char sess[64];
    snprintf(sess, sizeof sess, "%s", uuid);
    assert_string_equal(vox_msg_header(f.m, "Socket-Mode"), "async");
    assert_string_equal(vox_msg_header(f.m, "Control"), "full");
    assert_string_equal(vox_msg_reply_text(f.m), "+OK\n");
    frame_free(&f);
    expect_cmd(&ob.c, "myevents json\n\n", "+OK Events Enabled");
    expect_cmd(&ob.c, "linger 2\n\n", "+OK will linger 2 seconds");
    expect_cmd(&ob.c, "getvar uuid\n\n", sess);
    expect_cmd(&ob.c, "getvar no_such_variable_here\n\n", "-ERR command not found");
    uint64_t t_hangup = now_ms(), t_linger = 0;
    expect_cmd(&ob.c, "sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n", "+OK");
    size_t json = 0, other = 0;
    for (;;) {
        assert_int_equal(rc_frame(&ob.c, &f), 1);
        const char *ct = vox_msg_content_type(f.m);
        if (!strcmp(ct, "text/event-json")) {
            json++;
            assert_string_equal(vox_event_get(vox_msg_event(f.m), "Unique-ID"), sess);
        } else if (!strcmp(ct, "text/disconnect-notice")) {
            const char *disp = vox_msg_header(f.m, "Content-Disposition");
            assert_string_equal(vox_msg_header(f.m, "Controlled-Session-UUID"), sess);
            if (!strcmp(disp, "linger")) {
                assert_string_equal(vox_msg_header(f.m, "Linger-Time"), "2");
                t_linger = now_ms();
            } else {
                assert_string_equal(disp, "disconnect");
                assert_true(t_linger);
                /* two simulated seconds after the hangup: 20 ms at speed 100 */
                assert_true(now_ms() - t_hangup >= (uint64_t)(2000 / SPEED));
                frame_free(&f);
                break;
            }
        } else {
            other++;
        }
        frame_free(&f);
    }
    assert_true(json >= 2);
    assert_int_equal(other, 0);
    assert_int_equal(rc_frame(&ob.c, &f), 0);
    outb_down(&ob);
}

/* A static socket (no `async`): the sendmsg reply comes when the
 * application ended, and the events it caused only after it. */
static void test_outbound_static(void **state)
{
    outb ob;
    outb_up(&ob, VOX_SIM_CALL_NO_ASYNC);
    frame f;
    rc_sends(&ob.c, "connect\n\n");
    rc_reply(&ob.c, &f, NULL);
    assert_string_equal(vox_msg_header(f.m, "Socket-Mode"), "static");
    frame_free(&f);
    expect_cmd(&ob.c, "myevents\n\n", "+OK Events Enabled");
    rc_sends(&ob.c, "sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
                    "execute-app-arg: silence_stream://500\nEvent-UUID: static-1\n\n");
    assert_int_equal(rc_frame(&ob.c, &f), 1);
    assert_string_equal(vox_msg_reply_text(f.m), "+OK");
    frame_free(&f);
    int done = 0;
    while (!done) {
        assert_int_equal(rc_frame(&ob.c, &f), 1);
        const vox_event *ev = vox_msg_event(f.m);
        const char *app = ev ? vox_event_get(ev, "Application-UUID") : NULL;
        done = app && !strcmp(app, "static-1") &&
               !strcmp(vox_event_name(ev), "CHANNEL_EXECUTE_COMPLETE");
        frame_free(&f);
    }
    rc_sends(&ob.c, "exit\n\n");
    frames rest = rc_all(&ob.c);
    frames_free(&rest);
    outb_down(&ob);
}

/* Linger forever: the notice after the hangup, then nothing until exit. */
static void test_outbound_linger_forever(void **state)
{
    outb ob;
    outb_up(&ob, VOX_SIM_CALL_OK);
    frame f;
    rc_sends(&ob.c, "connect\n\nmyevents\n\nlinger\n\n");
    rc_reply(&ob.c, &f, NULL);
    frame_free(&f);
    expect_text(&ob.c, "Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n");
    expect_text(&ob.c, "Content-Type: command/reply\nReply-Text: +OK will linger\n\n");
    expect_cmd(&ob.c, "sendmsg\ncall-command: execute\nexecute-app-name: hangup\n\n", "+OK");
    for (;;) {
        rc_reply(&ob.c, &f, NULL);
        int linger = !strcmp(vox_msg_content_type(f.m), "text/disconnect-notice");
        if (linger)
            assert_string_equal(vox_msg_header(f.m, "Linger-Time"), "-1");
        frame_free(&f);
        if (linger)
            break;
    }
    /* lingering forever: more events maybe, but no notice nor close (a
     * bounded look) */
    uint64_t until = now_ms() + 100;
    int r;
    while ((r = rc_frame_by(&ob.c, &f, until)) == 1) {
        assert_true(is_event(&f));
        frame_free(&f);
    }
    assert_int_equal(r, -1);
    rc_sends(&ob.c, "exit\n\n");
    expect_text(&ob.c, "Content-Type: command/reply\nReply-Text: +OK bye\n\n");
    rc_reply(&ob.c, &f, NULL);
    assert_string_equal(vox_msg_header(f.m, "Content-Disposition"), "disconnect");
    frame_free(&f);
    assert_int_equal(rc_frame(&ob.c, &f), 0);
    outb_down(&ob);
}

/* ------------------------------------------------------------- inbound sessions */

/* A parked channel made by `api originate` on another connection. */
static char *originate(rc *side)
{
    char *r = rc_cmd(side, "api originate loopback/9105/default &park\n\n");
    assert_int_equal(strncmp(r, "+OK ", 4), 0);
    char *uuid = strndup(r + 4, 36);
    free(r);
    return uuid;
}

/* inbound_17: myevents <uuid>, divert, linger 2, sendmsg without uuid; the
 * linger notice after the hangup, then the close. */
static void test_inbound_myevents_linger(void **state)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    rc side, c;
    rc_auth(&side, s);
    char *uuid = originate(&side);
    rc_auth(&c, s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "myevents %s\n\n", uuid);
    expect_cmd(&c, cmd, "+OK Events Enabled");
    expect_cmd(&c, cmd, "-ERR aready enabled.");
    expect_cmd(&c, "divert_events on\n\n", "+OK events diverted");
    expect_cmd(&c, "divert_events off\n\n", "+OK events not diverted");
    expect_cmd(&c, "divert_events\n\n", "-ERR missing value.");
    expect_cmd(&c, "linger 2\n\n", "+OK will linger 2 seconds");
    expect_cmd(&c,
               "sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
               "execute-app-arg: tone_stream://%(200,0,800)\nevent-lock: true\n\n",
               "+OK");
    expect_cmd(&c, "sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n", "+OK");
    /* events of that channel, the linger notice (more events may follow
     * it), the final notice */
    frames all = rc_all(&c);
    size_t n = all.n, lingers = 0;
    int complete = 0;
    assert_true(n >= 3);
    for (size_t i = 0; i + 1 < n; i++) {
        if (vox_msg_type(all.f[i].m) == VOX_CT_DISCONNECT_NOTICE) {
            assert_string_equal(vox_msg_header(all.f[i].m, "Content-Disposition"), "linger");
            assert_string_equal(vox_msg_header(all.f[i].m, "Controlled-Session-UUID"), uuid);
            assert_string_equal(vox_msg_header(all.f[i].m, "Linger-Time"), "2");
            lingers++;
            continue;
        }
        const vox_event *ev = vox_msg_event(all.f[i].m);
        assert_int_equal(vox_msg_type(all.f[i].m), VOX_CT_EVENT_PLAIN);
        assert_string_equal(vox_event_get(ev, "Unique-ID"), uuid);
        complete |= !strcmp(vox_event_name(ev), "CHANNEL_HANGUP_COMPLETE");
    }
    assert_int_equal(lingers, 1);
    assert_string_equal(vox_msg_header(all.f[n - 1].m, "Content-Disposition"), "disconnect");
    assert_true(complete);
    frames_free(&all);
    expect_cmd(&side, "exit\n\n", "+OK bye");
    rc_close(&side);
    rc_close(&c);
    free(uuid);
    vox_sim_free(s);
}

/* inbound_18: `myevents <uuid> json` sends plain events (the format is cut
 * off with the uuid), and without linger the socket closes right after
 * CHANNEL_HANGUP. */
static void test_inbound_myevents_format_ignored(void **state)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    rc side, c;
    rc_auth(&side, s);
    char *uuid = originate(&side);
    rc_auth(&c, s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "myevents %s json\n\n", uuid);
    expect_cmd(&c, cmd, "+OK Events Enabled");
    snprintf(cmd, sizeof cmd, "api uuid_kill %s\n\n", uuid);
    char *r = rc_cmd(&side, cmd);
    free(r);
    frames all = rc_all(&c);
    assert_int_equal(all.n, 2);
    assert_int_equal(vox_msg_type(all.f[0].m), VOX_CT_EVENT_PLAIN);
    assert_string_equal(vox_event_name(vox_msg_event(all.f[0].m)), "CHANNEL_HANGUP");
    assert_string_equal(vox_msg_header(all.f[1].m, "Controlled-Session-UUID"), uuid);
    frames_free(&all);
    /* a bad uuid with a format: -ERR invalid uuid; sendmsg to a bad uuid */
    rc c2;
    rc_auth(&c2, s);
    expect_cmd(&c2, "myevents 00000000-0000-0000-0000-000000000000 plain\n\n", "-ERR invalid uuid");
    expect_cmd(&c2, "sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: hangup\n\n",
               "-ERR invalid session id [00000000-0000-0000-0000-000000000000]");
    rc_close(&c2);
    rc_close(&side);
    rc_close(&c);
    free(uuid);
    vox_sim_free(s);
}

/* ------------------------------------------------------------- events */

/* sendevent, CUSTOM subclasses, filters (with '-' exclusions and
 * regexes), nixevent, noevents. */
static void test_sendevent_filters(void **state)
{
    vox_sim_opts o = base_opts();
    o.heartbeat_ms = 0;
    vox_sim *s = sim_up(&o);
    rc a, b;
    rc_auth(&a, s);
    rc_auth(&b, s);
    expect_cmd(&a, "event plain CUSTOM test::one\n\n", "+OK event listener enabled plain");
    char *r = rc_cmd(&b, "sendevent CUSTOM\nEvent-Subclass: test::two\nX-N: 1\n\n");
    free(r);
    r = rc_cmd(&b,
               "sendevent CUSTOM\nEvent-Subclass: test::one\nX-N: 2\nContent-Length: 5\n\nhello");
    assert_int_equal(strncmp(r, "+OK ", 4), 0);
    frame f;
    assert_int_equal(rc_frame(&a, &f), 1);
    const vox_event *ev = vox_msg_event(f.m);
    assert_string_equal(vox_event_subclass(ev), "test::one");
    assert_string_equal(vox_event_get(ev, "X-N"), "2");
    assert_string_equal(vox_event_get(ev, "Event-UUID"), r + 4);
    assert_string_equal(vox_event_body(ev, NULL), "hello");
    frame_free(&f);
    free(r);

    /* filters: ALL, then only X-N 3 or a regex match, minus X-Drop yes */
    expect_cmd(&a, "event json ALL\n\n", "+OK event listener enabled json");
    expect_cmd(&a, "filter X-N 3\n\n", "+OK filter added. [X-N]=[3]");
    expect_cmd(&a, "filter add X-Tag /^ke+p$/\n\n", "+OK filter added. [X-Tag]=[/^ke+p$/]");
    expect_cmd(&a, "filter X-Drop -yes\n\n", "+OK filter added. [X-Drop]=[-yes]");
    const char *sends[] = {
        "X-N: 1\n", "X-N: 3\n", "X-Tag: keeep\n", "X-Tag: kp\n", "X-N: 3\nX-Drop: yes\n",
        "X-N: 4\n"};
    for (size_t i = 0; i < 6; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "sendevent CUSTOM\nEvent-Subclass: test::f\nX-I: %zu\n%s\n", i,
                 sends[i]);
        r = rc_cmd(&b, cmd);
        free(r);
    }
    r = rc_cmd(&b, "sendevent CUSTOM\nEvent-Subclass: test::f\nX-I: end\nX-N: 3\n\n");
    free(r);
    const char *want[] = {"1", "2", "end"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(rc_frame(&a, &f), 1);
        assert_int_equal(vox_msg_type(f.m), VOX_CT_EVENT_JSON);
        assert_string_equal(vox_event_get(vox_msg_event(f.m), "X-I"), want[i]);
        frame_free(&f);
    }
    expect_cmd(&a, "filter delete X-N 3\n\n", "+OK filter deleted. [X-N][3]");
    expect_cmd(&a, "filter delete all\n\n", "+OK filter deleted. [all][]");
    expect_cmd(&a, "nixevent CUSTOM test::f\n\n", "+OK events nixed");
    expect_cmd(&a, "noevents\n\n", "+OK no longer listening for events");
    expect_cmd(&a, "noevents\n\n", "-ERR not listening for events");
    rc_close(&a);
    rc_close(&b);
    vox_sim_free(s);
}

/* inbound_25: pipelined commands get all their replies before the events
 * they cause (one write, one batch). */
static void test_pipelined_replies_first(void **state)
{
    vox_sim_opts o = base_opts();
    o.heartbeat_ms = 0;
    vox_sim *s = sim_up(&o);
    rc c;
    rc_auth(&c, s);
    const char *bg = "bgapi originate loopback/9105/default &park\n\n";
    char batch[1024];
    snprintf(batch, sizeof batch,
             "event plain ALL\n\n%s%s%s%s%sapi originate "
             "loopback/9105/default &park\n\n",
             bg, bg, bg, bg, bg);
    rc_sends(&c, batch);
    frame f;
    for (int i = 0; i < 7; i++) {
        assert_int_equal(rc_frame(&c, &f), 1);
        assert_false(is_event(&f));
        assert_string_equal(vox_msg_content_type(f.m), i < 6 ? "command/reply" : "api/response");
        frame_free(&f);
    }
    assert_int_equal(rc_frame(&c, &f), 1);
    assert_true(is_event(&f));
    frame_free(&f);
    rc_close(&c);
    vox_sim_free(s);
}

/* log 7: the sim's own lines as log/data; nolog. */
static void test_log(void **state)
{
    vox_sim_opts o = base_opts();
    o.heartbeat_ms = 0;
    vox_sim *s = sim_up(&o);
    rc c;
    rc_auth(&c, s);
    expect_cmd(&c, "log 7\n\n", "+OK log level 7 [7]");
    expect_cmd(&c, "api version\n\n", "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    frame f;
    assert_int_equal(rc_frame(&c, &f), 1);
    assert_int_equal(vox_msg_type(f.m), VOX_CT_LOG_DATA);
    const char *names[] = {"Content-Type", "Content-Length", "Log-Level", "Text-Channel",
                           "Log-File",     "Log-Func",       "Log-Line",  "User-Data"};
    assert_int_equal(vox_msg_header_count(f.m), 8);
    for (size_t i = 0; i < 8; i++) {
        const char *n;
        vox_msg_header_at(f.m, i, &n, NULL);
        assert_string_equal(n, names[i]);
    }
    assert_string_equal(vox_msg_header(f.m, "Log-Level"), "7");
    assert_non_null(strstr(vox_msg_body(f.m, NULL), "[DEBUG] "));
    assert_non_null(strstr(vox_msg_body(f.m, NULL), "api version"));
    frame_free(&f);
    expect_cmd(&c, "nolog\n\n", "+OK no longer logging");
    expect_cmd(&c, "nolog\n\n", "-ERR not loging");
    expect_cmd(&c, "log\n\n", "+OK log level  [7]");
    expect_cmd(&c, "log err\n\n", "+OK log level err [3]");
    expect_cmd(&c, "log NOT_A_LEVEL\n\n", "-ERR invalid log level");
    rc_close(&c);
    vox_sim_free(s);
}

/* inbound_30: exit while a bgapi job runs: +OK bye at once, the notice and
 * the close when the job ends, its BACKGROUND_JOB never sent. */
static void test_exit_pending_bgapi(void **state)
{
    vox_sim_opts o = base_opts();
    o.heartbeat_ms = 0;
    vox_sim *s = sim_up(&o);
    rc c, other;
    rc_auth(&c, s);
    rc_auth(&other, s);
    expect_cmd(&other, "event plain BACKGROUND_JOB\n\n", "+OK event listener enabled plain");
    expect_cmd(&c, "event plain BACKGROUND_JOB\n\n", "+OK event listener enabled plain");
    char *r = rc_cmd(&c, "bgapi originate {originate_timeout=4}loopback/9102/default &park\n\n");
    assert_int_equal(strncmp(r, "+OK Job-UUID: ", 14), 0);
    free(r);
    uint64_t t0 = now_ms();
    expect_cmd(&c, "exit\n\n", "+OK bye");
    frames rest = rc_all(&c);
    assert_int_equal(rest.n, 1);
    assert_string_equal(rest.f[0].bytes,
                        "Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
                        "Disconnected, goodbye.\nSee you at ClueCon! "
                        "http://www.cluecon.com/\n");
    frames_free(&rest);
    /* the job took its 4 simulated seconds; the other listener got it */
    assert_true(now_ms() - t0 >= (uint64_t)(4000 / SPEED) / 2);
    frame f;
    assert_int_equal(rc_frame(&other, &f), 1);
    assert_string_equal(vox_event_name(vox_msg_event(f.m)), "BACKGROUND_JOB");
    frame_free(&f);
    rc_close(&c);
    rc_close(&other);
    vox_sim_free(s);
}

/* ------------------------------------------------------------- libvox clients */

static void test_blocking_client(void **state)
{
    vox_sim_opts o = base_opts();
    o.speed = 1000; /* a heartbeat every 20 ms */
    vox_sim *s = sim_up(&o);
    vox_client_opts co;
    memset(&co, 0, sizeof co);
    co.port = vox_sim_port(s);
    co.events = "HEARTBEAT BACKGROUND_JOB";
    vox_header filt[] = {{"Event-Name", "HEARTBEAT"}, {"Event-Name", "BACKGROUND_JOB"}};
    co.filters = filt;
    co.nfilters = 2;
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &co), 0);
    vox_msg *m = NULL;
    assert_int_equal(vox_api(c, "version", &m), 0);
    assert_string_equal(vox_msg_body(m, NULL), "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    vox_msg_free(m);
    assert_int_equal(vox_api(c, "foobarbaz", &m), VOX_EREPLY);
    assert_string_equal(vox_msg_body(m, NULL), "-ERR foobarbaz Command not found!\n");
    vox_msg_free(m);
    assert_int_equal(vox_bgapi(c, "version", &m), 0);
    assert_string_equal(vox_event_body(vox_msg_event(m), NULL),
                        "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    vox_msg_free(m);
    uint64_t last_ts = 0, last_seq = 0;
    for (int got = 0; got < 3;) {
        assert_int_equal(vox_next_event(c, WAIT_MS, &m), 0);
        const vox_event *ev = vox_msg_event(m);
        if (!strcmp(vox_event_name(ev), "HEARTBEAT")) {
            uint64_t ts = strtoull(vox_event_get(ev, "Event-Date-Timestamp"), NULL, 10);
            uint64_t seq = strtoull(vox_event_get(ev, "Event-Sequence"), NULL, 10);
            assert_true(seq > last_seq);
            /* 20 simulated seconds apart (generous: a loaded machine lags) */
            if (last_ts)
                assert_true(ts - last_ts >= 15000000 && ts - last_ts <= 600000000);
            assert_non_null(strstr(vox_event_get(ev, "Up-Time"), " years, "));
            assert_string_equal(vox_event_get(ev, "Event-Info"), "System Ready");
            last_ts = ts;
            last_seq = seq;
            got++;
        }
        vox_msg_free(m);
    }
    vox_close(c);

    co.password = "WrongPassword";
    co.events = NULL;
    co.nfilters = 0;
    assert_int_equal(vox_connect(&c, &co), VOX_EAUTH);
    co.password = "1000@127.0.0.1:secret1000";
    assert_int_equal(vox_connect(&c, &co), 0);
    vox_close(c);
    vox_sim_free(s);
}

typedef struct actx {
    uv_loop_t *loop;
    vox_aclient *c;
    int connected, api_done, job_done;
    char api[128], job[128];
} actx;

static void a_job(vox_aclient *c, int status, const vox_event *job, void *ud)
{
    actx *x = ud;
    assert_int_equal(status, 0);
    snprintf(x->job, sizeof x->job, "%s", vox_event_body(job, NULL));
    x->job_done = 1;
    vox_aclient_stop(c);
}

static void a_api(vox_aclient *c, int status, const vox_msg *reply, void *ud)
{
    actx *x = ud;
    assert_int_equal(status, 0);
    snprintf(x->api, sizeof x->api, "%s", vox_msg_body(reply, NULL));
    x->api_done = 1;
    assert_int_equal(vox_aclient_bgapi(c, "uptime", a_job, x), 0);
}

static void a_connected(vox_aclient *c, void *ud)
{
    actx *x = ud;
    x->connected++;
    assert_int_equal(vox_aclient_api(c, "version", a_api, x), 0);
}

static void on_deadline(uv_timer_t *t)
{
    fail_msg("the async client did not finish in time");
    (void)t;
}

static void test_async_client(void **state)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    uv_loop_t loop;
    uv_loop_init(&loop);
    vox_loop l = vox_uv_loop(&loop);
    actx x;
    memset(&x, 0, sizeof x);
    vox_aclient_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.port = vox_sim_port(s);
    ao.events = "BACKGROUND_JOB";
    ao.on_connect = a_connected;
    ao.userdata = &x;
    assert_int_equal(vox_aclient_start(&x.c, &l, &ao), 0);
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    uv_timer_start(&deadline, on_deadline, WAIT_MS, 0);
    uv_unref((uv_handle_t *)&deadline);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(x.connected, 1);
    assert_string_equal(x.api, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    assert_true(x.job[0] >= '0' && x.job[0] <= '9');
    vox_sim_free(s);
}

/* ------------------------------------------------------------- faults */

static void test_fault_auth_acl(void **state)
{
    vox_sim_opts o = base_opts();
    o.faults.reject_auth = 1;
    vox_sim *s = sim_up(&o);
    vox_client_opts co;
    memset(&co, 0, sizeof co);
    co.port = vox_sim_port(s);
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &co), VOX_EAUTH);
    co.password = "1000@127.0.0.1:secret1000";
    assert_int_equal(vox_connect(&c, &co), VOX_EAUTH);
    vox_sim_free(s);

    o = base_opts();
    o.faults.acl_reject = 1;
    s = sim_up(&o);
    co.port = vox_sim_port(s);
    co.password = NULL;
    assert_int_equal(vox_connect(&c, &co), VOX_EACCESS);
    vox_sim_free(s);
}

static void test_fault_garbage_huge_flood(void **state)
{
    vox_sim_opts o = base_opts();
    o.heartbeat_ms = 0;
    o.faults.garbage = "\x01garbage\n\n";
    o.faults.huge_event_bytes = 3u << 20;
    o.faults.flood_events = 2000;
    vox_sim *s = sim_up(&o);
    rc c;
    rc_open(&c, vox_sim_port(s));
    expect_text(&c, "Content-Type: auth/request\n\n");
    rc_sends(&c, "auth ClueCon\n\n");
    /* the garbage right after the reply, as raw bytes */
    const char *want = "Content-Type: command/reply\nReply-Text: +OK accepted\n\n\x01garbage\n\n";
    size_t off = c.used;
    while (c.len - off < strlen(want))
        assert_int_equal(rc_recv(&c, now_ms() + WAIT_MS), 1);
    assert_memory_equal(c.buf + off, want, strlen(want));
    vox_parser_free(c.p); /* go on after the garbage */
    assert_int_equal(vox_parser_new(&c.p, NULL), 0);
    c.used = c.mstart = off + strlen(want);
    rc_sends(&c, "event plain BACKGROUND_JOB\n\n");
    expect_text(&c,
                "Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n");
    size_t floods = 0, huge = 0;
    frame f;
    while (floods < 2000 || !huge) {
        assert_int_equal(rc_frame(&c, &f), 1);
        const vox_event *ev = vox_msg_event(f.m);
        if (!strcmp(vox_event_subclass(ev), "sim::flood")) {
            assert_int_equal(strtoul(vox_event_get(ev, "Flood-Index"), NULL, 10), ++floods);
        } else {
            assert_string_equal(vox_event_subclass(ev), "sim::huge");
            vox_event_body(ev, &huge);
        }
        frame_free(&f);
    }
    assert_int_equal(huge, 3u << 20);
    rc_close(&c);
    vox_sim_free(s);
}

static void test_fault_slow(void **state)
{
    vox_sim_opts o = base_opts();
    o.heartbeat_ms = 0;
    o.faults.slow_write_ms = 100; /* 1 ms real per 16-byte piece */
    o.faults.slow_read_ms = 1000; /* 10 ms real per command */
    vox_sim *s = sim_up(&o);
    uint64_t t0 = now_ms();
    rc c;
    rc_auth(&c, s);
    rc_sends(&c, "api version\n\napi uptime\n\napi version\n\napi foobarbaz\n\n");
    const char *bodies[] = {"FreeSWITCH Version", "", "FreeSWITCH Version", "-ERR foobarbaz"};
    for (size_t i = 0; i < 4; i++) {
        frame f;
        rc_reply(&c, &f, NULL);
        assert_int_equal(strncmp(vox_msg_body(f.m, NULL), bodies[i], strlen(bodies[i])), 0);
        frame_free(&f);
    }
    /* 5 commands read 10 ms apart, about 300 bytes written 16 at a time */
    assert_true(now_ms() - t0 >= 40);
    rc_close(&c);
    vox_sim_free(s);
}

static void test_fault_drop_after(void **state)
{
    vox_sim_opts o = base_opts();
    o.faults.drop_after = 4; /* auth and `event` of vox_connect, then api */
    vox_sim *s = sim_up(&o);
    vox_client_opts co;
    memset(&co, 0, sizeof co);
    co.port = vox_sim_port(s);
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &co), 0); /* 1, 2 */
    vox_msg *m = NULL;
    assert_int_equal(vox_api(c, "version", &m), 0); /* 3 */
    vox_msg_free(m);
    m = NULL;
    assert_int_equal(vox_api(c, "version", &m), VOX_ECLOSED); /* 4: dropped */
    assert_null(m);
    vox_close(c);
    vox_sim_free(s);
}

/* ------------------------------------------------------------- hostile clients */

static void still_serves(vox_sim *s)
{
    rc c;
    rc_auth(&c, s);
    expect_cmd(&c, "api version\n\n", "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    rc_close(&c);
}

static void expect_closed(rc *c)
{
    frame f;
    int r;
    uint64_t deadline = now_ms() + WAIT_MS;
    while ((r = rc_frame_by(c, &f, deadline)) == 1)
        frame_free(&f);
    assert_int_equal(r, 0);
}

static void test_client_garbage(void **state)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    rc keep;
    rc_auth(&keep, s);

    /* random bytes: answered or ignored, never a crash */
    rc c;
    rc_open(&c, vox_sim_port(s));
    unsigned seed = 12345;
    char junk[65536];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(rand_r(&seed) & 0xff);
    rc_send(&c, junk, sizeof junk);
    rc_sends(&c, "\n\nexit\n\n");
    expect_closed(&c);
    rc_close(&c);
    still_serves(s);

    /* an enormous header line: that connection is closed */
    rc_auth(&c, s);
    char *big = malloc(11u << 20);
    memset(big, 'x', 11u << 20);
    memcpy(big, "api ", 4);
    send(c.fd, big, 11u << 20, MSG_NOSIGNAL);
    free(big);
    expect_closed(&c);
    rc_close(&c);
    still_serves(s);

    /* a body of 2^40 bytes announced */
    rc_auth(&c, s);
    rc_sends(&c, "sendevent CUSTOM\nContent-Length: 1099511627776\n\nabc");
    expect_closed(&c);
    rc_close(&c);
    still_serves(s);

    expect_cmd(&keep, "api version\n\n", "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    rc_close(&keep);
    vox_sim_free(s);
}

static void test_many_connections(void **state)
{
    enum { N = 60 };
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    static rc c[N];
    for (int i = 0; i < N; i++)
        rc_open(&c[i], vox_sim_port(s));
    for (int i = 0; i < N; i++)
        rc_sends(&c[i], "auth ClueCon\n\napi version\n\nexit\n\n");
    for (int i = 0; i < N; i++) {
        expect_text(&c[i], "Content-Type: auth/request\n\n");
        expect_text(&c[i], "Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
        expect_text(&c[i], "Content-Type: api/response\nContent-Length: 45\n\n"
                           "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
        expect_text(&c[i], "Content-Type: command/reply\nReply-Text: +OK bye\n\n");
        expect_closed(&c[i]);
        rc_close(&c[i]);
    }
    vox_sim_free(s);
}

/* A listener that never reads is killed once its queue overflows. */
static atomic_int killed;

static void on_log_line(const vox_sim_log_line *l, void *ud)
{
    (void)ud;
    if (getenv("SIMDEBUG"))
        fprintf(stderr, "%llu sim: %s\n", (unsigned long long)now_ms(), l->line);
    if (strstr(l->line, "killed listener because of lost events"))
        atomic_store(&killed, 1);
}

static void test_lost_events(void **state)
{
    vox_sim_opts o = base_opts();
    o.heartbeat_ms = 0;
    o.faults.flood_events = 110000;
    o.log = on_log_line;
    atomic_store(&killed, 0);
    vox_sim *s = sim_up(&o);
    rc c;
    rc_auth(&c, s);
    rc_sends(&c, "event plain ALL\n\n");
    uint64_t deadline = now_ms() + 12 * WAIT_MS; /* a flood under a sanitizer */
    while (!atomic_load(&killed) && now_ms() < deadline)
        poll(NULL, 0, 1); /* not reading: the sim's queue fills */
    assert_true(atomic_load(&killed));
    if (getenv("SIMDEBUG"))
        fprintf(stderr, "%llu killed seen\n", (unsigned long long)now_ms());
    frames all = rc_all(&c);
    assert_true(all.n > 100); /* what the kernel and the sim had taken */
    const frame *last = &all.f[all.n - 1];
    assert_string_equal(vox_msg_content_type(last->m), "text/disconnect-notice");
    assert_string_equal(vox_msg_body(last->m, NULL), "killed listener because of lost events\n");
    assert_true(all.n < 110000);
    frames_free(&all);
    rc_close(&c);
    still_serves(s);
    vox_sim_free(s);
}

/* Scripted calls wait for wait_clients subscribed inbound clients. */
static void test_wait_clients(void **state)
{
    vox_sim_opts o = base_opts();
    o.wait_clients = 2;
    uint16_t port;
    int lfd = listen_any(&port);
    vox_sim *s = sim_up(&o);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%u", port);
    vox_sim_call call;
    memset(&call, 0, sizeof call);
    call.socket = target;
    call.hangup_ms = -1;
    assert_int_equal(vox_sim_place(s, &call), 0);
    rc a, b;
    rc_auth(&a, s);
    expect_cmd(&a, "event plain HEARTBEAT\n\n", "+OK event listener enabled plain");
    assert_int_equal(accept_by(lfd, 100), -1); /* one subscriber is not enough */
    rc_auth(&b, s);
    expect_cmd(&b, "event plain CHANNEL_CREATE\n\n", "+OK event listener enabled plain");
    int fd = accept_by(lfd, WAIT_MS);
    assert_true(fd >= 0);
    close(fd);
    rc_close(&a);
    rc_close(&b);
    vox_sim_free(s);
    close(lfd);
}

/* Stopping with clients connected: each gets the shutdown notice. */
static void test_stop_with_clients(void **state)
{
    vox_sim_opts o = base_opts();
    vox_sim *s = sim_up(&o);
    rc c;
    rc_auth(&c, s);
    expect_cmd(&c, "event plain ALL\n\n", "+OK event listener enabled plain");
    vox_sim_stop(s);
    frames all = rc_all(&c);
    assert_true(all.n >= 1);
    const frame *last = &all.f[all.n - 1];
    assert_string_equal(last->bytes, "Content-Type: text/disconnect-notice\nContent-Length: 31\n\n"
                                     "The system is being shut down.\n");
    frames_free(&all);
    rc_close(&c);
    vox_sim_stop(s);
    vox_sim_free(s);
}

/* Options: defaults, errors, IPv6, a port in use. */
static void test_start_options(void **state)
{
    vox_sim *s = NULL, *t = NULL;
    vox_sim_opts o = base_opts();
    o.speed = -1;
    assert_int_equal(vox_sim_start(&s, &o), VOX_EINVAL);
    o = base_opts();
    o.host = "not-an-address";
    assert_int_equal(vox_sim_start(&s, &o), VOX_EINVAL);
    assert_int_equal(vox_sim_start(NULL, &o), VOX_EINVAL);
    assert_null(s);

    assert_int_equal(vox_sim_start(&s, NULL), 0); /* every default */
    still_serves(s);
    o = base_opts();
    o.port = vox_sim_port(s);
    assert_int_equal(vox_sim_start(&t, &o), VOX_ESYS);
    assert_int_equal(errno, EADDRINUSE);
    vox_sim_free(s);

    o = base_opts();
    o.host = "::1";
    s = sim_up(&o);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(vox_sim_port(s));
    a.sin6_addr = in6addr_loopback;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        rc c;
        rc_open_fd(&c, fd);
        expect_text(&c, "Content-Type: auth/request\n\n");
        rc_close(&c);
    } else {
        close(fd); /* no IPv6 loopback on this machine */
    }
    vox_sim_free(s);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_plain),
        cmocka_unit_test(test_format_json_xml),
        cmocka_unit_test(test_format_details),
        cmocka_unit_test(test_replay_inbound),
        cmocka_unit_test(test_replay_acl),
        cmocka_unit_test(test_outbound_replays),
        cmocka_unit_test(test_outbound_json_linger),
        cmocka_unit_test(test_outbound_linger_forever),
        cmocka_unit_test(test_outbound_static),
        cmocka_unit_test(test_inbound_myevents_linger),
        cmocka_unit_test(test_inbound_myevents_format_ignored),
        cmocka_unit_test(test_sendevent_filters),
        cmocka_unit_test(test_pipelined_replies_first),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_exit_pending_bgapi),
        cmocka_unit_test(test_blocking_client),
        cmocka_unit_test(test_async_client),
        cmocka_unit_test(test_fault_auth_acl),
        cmocka_unit_test(test_fault_garbage_huge_flood),
        cmocka_unit_test(test_fault_slow),
        cmocka_unit_test(test_fault_drop_after),
        cmocka_unit_test(test_client_garbage),
        cmocka_unit_test(test_many_connections),
        cmocka_unit_test(test_lost_events),
        cmocka_unit_test(test_wait_clients),
        cmocka_unit_test(test_stop_with_clients),
        cmocka_unit_test(test_start_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
