/* Helpers shared by the test_sim_* programs: a raw event-socket peer that
 * reads frames with libvox's parser and keeps their exact bytes (a client
 * of the simulator's inbound socket, or the server end of a scripted call's
 * outbound connection), and simulators started for a test. Every wait has
 * a deadline. Everything is static inline so each program uses what it
 * needs. */
#ifndef TEST_SIM_UTIL_H
#define TEST_SIM_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/testutil.h"

#include "sim.h"

/* The longest wait for a frame, a connection or a close, in real ms. */
#define SIM_WAIT_MS 10000

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

static inline void frames_push(frames *fs, vox_msg *m, const char *p, size_t n)
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

static inline void frames_free(frames *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        vox_msg_free(fs->f[i].m);
        free(fs->f[i].bytes);
    }
    free(fs->f);
    memset(fs, 0, sizeof *fs);
}

static inline void frame_free(frame *f)
{
    vox_msg_free(f->m);
    free(f->bytes);
}

static inline int is_event(const frame *f)
{
    const char *ct = vox_msg_content_type(f->m);
    return !strncmp(ct, "text/event-", 11) || !strcmp(ct, "log/data");
}

/* ------------------------------------------------------------- raw peer */

typedef struct peer {
    int fd;
    vox_parser *p;
    char *buf;
    size_t len, cap, used, mstart;
    int eof;
} peer;

static inline int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static inline void peer_open_fd(peer *c, int fd)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    assert_int_equal(vox_parser_new(&c->p, NULL), 0);
}

static inline void peer_open(peer *c, uint16_t port)
{
    peer_open_fd(c, tcp_connect(port));
}

static inline void peer_close(peer *c)
{
    if (c->fd >= 0)
        close(c->fd);
    vox_parser_free(c->p);
    free(c->buf);
    c->fd = -1;
    c->p = NULL;
    c->buf = NULL;
}

/* MSG_NOSIGNAL: these programs keep SIGPIPE's default action, to show that
 * the simulator never raises it. */
static inline void peer_send(peer *c, const char *p, size_t n)
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

static inline void peer_sends(peer *c, const char *s)
{
    peer_send(c, s, strlen(s));
}

/* Receive until deadline: 1 when data came, 0 on EOF, -1 timeout. */
static inline int peer_recv(peer *c, uint64_t deadline)
{
    for (;;) {
        uint64_t now = tu_now_ms();
        if (now >= deadline)
            return -1;
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
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

/* The next frame: 1, 0 at EOF, -1 on timeout (f then empty). */
static inline int peer_frame_by(peer *c, frame *f, uint64_t deadline)
{
    memset(f, 0, sizeof *f);
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
        int r = peer_recv(c, deadline);
        if (r < 0)
            return r;
    }
}

static inline int peer_frame(peer *c, frame *f)
{
    return peer_frame_by(c, f, tu_now_ms() + SIM_WAIT_MS);
}

/* The next frame that is not an event (events are kept in evs if given). */
static inline void peer_reply(peer *c, frame *f, frames *evs)
{
    for (;;) {
        assert_int_equal(peer_frame(c, f), 1);
        if (!is_event(f))
            return;
        if (evs)
            frames_push(evs, vox_msg_ref(f->m), f->bytes, f->len);
        frame_free(f);
    }
}

/* Every frame until the peer closes. */
static inline frames peer_all(peer *c)
{
    frames fs = {0};
    frame f;
    int r;
    uint64_t deadline = tu_now_ms() + SIM_WAIT_MS;
    while ((r = peer_frame_by(c, &f, deadline)) == 1)
        frames_push(&fs, f.m, f.bytes, f.len), free(f.bytes);
    if (r)
        print_message("peer_all: %zu frames, %zu bytes, %zu parsed, eof %d\n", fs.n, c->len,
                      c->used, c->eof);
    assert_int_equal(r, 0);
    return fs;
}

/* The peer closes (after whatever frames). */
static inline void expect_closed(peer *c)
{
    frames all = peer_all(c);
    frames_free(&all);
}

/* The next reply (events skipped) is exactly these bytes. */
static inline void expect_text(peer *c, const char *bytes)
{
    frame f;
    peer_reply(c, &f, NULL);
    assert_string_equal(f.bytes, bytes);
    frame_free(&f);
}

/* A command and its reply text (command/reply) or body (api/response). */
static inline char *peer_cmd(peer *c, const char *cmd)
{
    frame f;
    peer_sends(c, cmd);
    peer_reply(c, &f, NULL);
    const char *t = vox_msg_reply_text(f.m);
    char *r = strdup(t ? t : "");
    frame_free(&f);
    return r;
}

static inline void expect_cmd(peer *c, const char *cmd, const char *reply)
{
    char *r = peer_cmd(c, cmd);
    assert_string_equal(r, reply);
    free(r);
}

/* The next frame in short: "reply:<Reply-Text>", "event:<name>[:<app>]",
 * "notice:<disposition>", "api:<body>", or "eof". */
static inline char *peer_what(peer *c, char *out, size_t n)
{
    frame f;
    if (peer_frame(c, &f) != 1) {
        snprintf(out, n, "eof");
        return out;
    }
    const vox_event *e = vox_msg_event(f.m);
    const char *app = e ? vox_event_get(e, "Application") : NULL;
    switch (vox_msg_type(f.m)) {
    case VOX_CT_COMMAND_REPLY: snprintf(out, n, "reply:%s", vox_msg_reply_text(f.m)); break;
    case VOX_CT_DISCONNECT_NOTICE:
        snprintf(out, n, "notice:%s", vox_msg_header(f.m, "Content-Disposition"));
        break;
    case VOX_CT_API_RESPONSE: snprintf(out, n, "api:%s", vox_msg_body(f.m, NULL)); break;
    default:
        snprintf(out, n, "event:%s%s%s", e ? vox_event_name(e) : "?", app ? ":" : "",
                 app ? app : "");
    }
    frame_free(&f);
    return out;
}

static inline void peer_expect(peer *c, const char *want)
{
    char got[256];
    if (strcmp(peer_what(c, got, sizeof got), want))
        fail_msg("peer: got [%s], want [%s]", got, want);
}

/* Read until a frame whose peer_what text is want. */
static inline void peer_until(peer *c, const char *want)
{
    char got[256];
    while (strcmp(peer_what(c, got, sizeof got), want))
        if (!strcmp(got, "eof"))
            fail_msg("peer: eof before [%s]", want);
}

/* ------------------------------------------------------------- simulators */

static inline void debug_log(const vox_sim_log_line *l, void *ud)
{
    (void)ud;
    fprintf(stderr, "%llu sim: %s\n", (unsigned long long)tu_now_ms(), l->line);
}

/* Loopback, speed, every log line (printed with SIMDEBUG set), no heartbeat. */
static inline vox_sim_opts sim_opts(double speed)
{
    vox_sim_opts o;
    memset(&o, 0, sizeof o);
    if (getenv("SIMDEBUG"))
        o.log = debug_log;
    o.host = "127.0.0.1";
    o.speed = speed;
    o.log_level = 3;
    return o;
}

static inline vox_sim *sim_up(const vox_sim_opts *o)
{
    vox_sim *s = NULL;
    assert_int_equal(vox_sim_start(&s, o), 0);
    assert_true(vox_sim_port(s) > 0);
    return s;
}

/* A raw client, authenticated. */
static inline void peer_auth(peer *c, vox_sim *s)
{
    peer_open(c, vox_sim_port(s));
    expect_text(c, "Content-Type: auth/request\n\n");
    peer_sends(c, "auth ClueCon\n\n");
    expect_text(c, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
}

/* A new client is served (whatever happened to the others). */
static inline void still_serves(vox_sim *s)
{
    peer c;
    peer_auth(&c, s);
    expect_cmd(&c, "api version\n\n", "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    peer_close(&c);
}

/* An api command through libvox's blocking client: its body is want. */
static inline void api_is(vox_client *c, const char *cmd, const char *want)
{
    vox_msg *r = NULL;
    vox_api(c, cmd, &r);
    assert_non_null(r);
    if (strcmp(vox_msg_body(r, NULL), want))
        fail_msg("api %s: got [%s], want [%s]", cmd, vox_msg_body(r, NULL), want);
    vox_msg_free(r);
}

/* An api command's body (free it). */
static inline char *api_body(vox_client *c, const char *cmd)
{
    vox_msg *r = NULL;
    vox_api(c, cmd, &r);
    assert_non_null(r);
    char *s = strdup(vox_msg_body(r, NULL));
    vox_msg_free(r);
    return s;
}

/* ------------------------------------------------------------- outbound */

static inline int listen_any(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Wait for the simulator's outbound connection: the fd, or -1. */
static inline int accept_by(int lfd, int ms)
{
    struct pollfd p = {lfd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return -1;
    return accept(lfd, NULL, NULL);
}

/* A simulator, one scripted call to our listening socket, and the server
 * end of its outbound connection. */
typedef struct outb {
    vox_sim *s;
    int lfd;
    char target[64]; /* our "host:port" */
    int call;        /* the call's index in the results */
    peer c;
} outb;

/* call.socket is ours; call.hangup_ms 0 means never. */
static inline void outb_start(outb *ob, const vox_sim_opts *o, vox_sim_call call)
{
    uint16_t port;
    ob->lfd = listen_any(&port);
    snprintf(ob->target, sizeof ob->target, "127.0.0.1:%u", port);
    ob->s = sim_up(o);
    call.socket = ob->target;
    call.hangup_ms = call.hangup_ms ? call.hangup_ms : -1;
    ob->call = vox_sim_place(ob->s, &call);
    assert_true(ob->call >= 0);
    int fd = accept_by(ob->lfd, SIM_WAIT_MS);
    assert_true(fd >= 0);
    peer_open_fd(&ob->c, fd);
}

/* The call's result, once vox_sim_wait said every call ended. */
static inline vox_sim_result outb_result(outb *ob)
{
    vox_sim_result r;
    assert_true(vox_sim_result_get(ob->s, (size_t)ob->call, &r) > (size_t)ob->call);
    return r;
}

static inline void outb_stop(outb *ob)
{
    peer_close(&ob->c);
    close(ob->lfd);
    vox_sim_free(ob->s);
}

#endif
