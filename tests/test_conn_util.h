/* Helpers shared by the test_conn_* programs: a recorder of every callback
 * an engine makes, byte-script helpers (feed a string, assert what was
 * written), and a c2s-driven replay of outbound fixtures. Everything is
 * static inline so each program uses what it needs. */
#ifndef TEST_CONN_UTIL_H
#define TEST_CONN_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/testutil.h"

#include <vox/vox.h>

#define TC_MAX 64
#define TC_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* One request's completion(s). */
typedef struct tc_done {
    int calls;
    int status;
    char text[256]; /* reply text, or the event's Application-Response / body */
    char name[64];  /* the event's name */
    long loop;      /* variable_current_loop of an execute's event, or -1 */
    char id[128];   /* Application-UUID / Job-UUID of the event */
} tc_done;

/* Everything the engine told us. */
typedef struct tc_rec {
    int ready_calls, ready_status;
    int close_calls, close_reason;
    int state_at_close;
    int nevents, nlogs, nnotices;
    char events[4096][40]; /* names, in order (truncated) */
    int closed_before_ready;
    /* reentrancy actions: 0 none, 1 close, 2 free, 3 disconnect */
    int act_on_ready, act_on_event, act_on_log, act_on_notice;
    const char *act_event_name; /* only for this event (NULL: any) */
    vox_conn **self;            /* cleared when the test frees from a callback */
} tc_rec;

static inline void tc_act(vox_conn *c, tc_rec *r, int act)
{
    if (act == 1)
        vox_conn_close(c, 0);
    else if (act == 2) {
        vox_conn_free(c);
        if (r->self)
            *r->self = NULL;
    } else if (act == 3)
        vox_conn_disconnect(c);
}

static inline void tc_on_ready(vox_conn *c, int status, void *ud)
{
    tc_rec *r = ud;
    r->ready_calls++;
    r->ready_status = status;
    tc_act(c, r, r->act_on_ready);
}

static inline void tc_on_event(vox_conn *c, const vox_event *ev, void *ud)
{
    tc_rec *r = ud;
    if (r->nevents < 4096)
        snprintf(r->events[r->nevents], sizeof r->events[0], "%s", vox_event_name(ev));
    r->nevents++;
    if (!r->act_event_name || !strcmp(r->act_event_name, vox_event_name(ev)))
        tc_act(c, r, r->act_on_event);
}

static inline void tc_on_log(vox_conn *c, const vox_msg *m, void *ud)
{
    tc_rec *r = ud;
    r->nlogs++;
    tc_act(c, r, r->act_on_log);
}

static inline void tc_on_notice(vox_conn *c, const vox_msg *m, void *ud)
{
    tc_rec *r = ud;
    r->nnotices++;
    tc_act(c, r, r->act_on_notice);
}

static inline void tc_on_close(vox_conn *c, int reason, void *ud)
{
    tc_rec *r = ud;
    r->close_calls++;
    r->close_reason = reason;
    r->state_at_close = vox_conn_get_state(c);
    if (!r->ready_calls)
        r->closed_before_ready = 1;
}

static inline void tc_opts(vox_conn_opts *o, vox_role role, tc_rec *r)
{
    memset(r, 0, sizeof *r);
    memset(o, 0, sizeof *o);
    o->role = role;
    o->password = role == VOX_ROLE_INBOUND ? "ClueCon" : NULL;
    o->on_ready = tc_on_ready;
    o->on_event = tc_on_event;
    o->on_log = tc_on_log;
    o->on_notice = tc_on_notice;
    o->on_close = tc_on_close;
    o->userdata = r;
}

/* ----------------------------------------------------- completions */

static inline void tc_reply_cb(vox_conn *c, int status, const vox_msg *m, void *ud)
{
    tc_done *d = ud;
    d->calls++;
    d->status = status;
    const char *t = m ? vox_msg_reply_text(m) : NULL;
    snprintf(d->text, sizeof d->text, "%s", t ? t : "");
    /* the reply text is documented without a trailing newline: compare
     * the same whichever way the parser hands it out */
    size_t n = strlen(d->text);
    if (n && d->text[n - 1] == '\n')
        d->text[n - 1] = '\0';
}

static inline void tc_event_done(tc_done *d, int status, const vox_event *ev, const char *tf)
{
    d->calls++;
    d->status = status;
    d->loop = -1;
    d->text[0] = d->name[0] = d->id[0] = '\0';
    if (!ev)
        return;
    const char *t = tf ? vox_event_get(ev, tf) : vox_event_body(ev, NULL);
    const char *l = vox_event_get(ev, "variable_current_loop");
    const char *id = vox_event_get(ev, "Application-UUID");
    if (!id)
        id = vox_event_get(ev, "Job-UUID");
    snprintf(d->text, sizeof d->text, "%s", t ? t : "");
    snprintf(d->name, sizeof d->name, "%s", vox_event_name(ev));
    snprintf(d->id, sizeof d->id, "%s", id ? id : "");
    d->loop = l ? strtol(l, NULL, 10) : -1;
}

/* A refusal carries no event: its text comes from vox_conn_reply. */
static inline void tc_refusal_text(vox_conn *c, tc_done *d, int status)
{
    const vox_msg *r = vox_conn_reply(c);
    if (status == VOX_EREPLY && r)
        snprintf(d->text, sizeof d->text, "%s", vox_msg_reply_text(r));
}

static inline void tc_exec_cb(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    tc_event_done(ud, status, ev, "Application-Response");
    tc_refusal_text(c, ud, status);
}

static inline void tc_job_cb(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    tc_event_done(ud, status, ev, NULL);
    tc_refusal_text(c, ud, status);
}

/* ------------------------------------------------------ byte scripts */

static inline int tc_feed(vox_conn *c, const char *s)
{
    return vox_conn_feed(c, s, strlen(s));
}

/* A plain event from its header lines ("Name: value\n..."). */
static inline int tc_event(vox_conn *c, const char *hdrs)
{
    char buf[8192];
    /* with an inner body ("...\n\nbody") the headers are already closed */
    const char *end = strstr(hdrs, "\n\n") ? "" : "\n";
    size_t n = strlen(hdrs) + strlen(end);
    int k = snprintf(buf, sizeof buf, "Content-Length: %zu\nContent-Type: text/event-plain\n\n%s%s",
                     n, hdrs, end);
    assert_true(k > 0 && (size_t)k < sizeof buf);
    return vox_conn_feed(c, buf, (size_t)k);
}

static inline int tc_reply(vox_conn *c, const char *text)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "Content-Type: command/reply\nReply-Text: %s\n\n", text);
    return tc_feed(c, buf);
}

static inline int tc_api_response(vox_conn *c, const char *body)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "Content-Type: api/response\nContent-Length: %zu\n\n%s", strlen(body),
             body);
    return tc_feed(c, buf);
}

/* The output so far as a string (consumed). Caller frees. */
static inline char *tc_take(vox_conn *c)
{
    size_t n = 0;
    const char *p = vox_conn_output(c, &n);
    char *s = malloc(n + 1);
    assert_non_null(s);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    vox_conn_consume(c, n);
    return s;
}

static inline void tc_drain(vox_conn *c)
{
    size_t n = 0;
    vox_conn_output(c, &n);
    vox_conn_consume(c, n);
}

#define tc_expect_out(c, want)                                                                     \
    do {                                                                                           \
        char *got_ = tc_take(c);                                                                   \
        assert_string_equal(got_, (want));                                                         \
        free(got_);                                                                                \
    } while (0)

#define TC_AUTHREQ "Content-Type: auth/request\n\n"
#define TC_OK "+OK"
#define TC_UUID "11111111-2222-4333-8444-555555555555"

/* A connect reply for channel TC_UUID with the given Control/Socket-Mode. */
static inline int tc_connect_reply(vox_conn *c, const char *control, const char *mode)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "Event-Name: CHANNEL_DATA\nUnique-ID: %s\nCaller-Caller-ID-Number: 1000\n"
             "Content-Type: command/reply\nReply-Text: %%2BOK%%0A\nSocket-Mode: %s\n"
             "Control: %s\n\n",
             TC_UUID, mode, control);
    return tc_feed(c, buf);
}

/* Brings an outbound engine to ACTIVE with `connect`, `myevents`, `linger`. */
static inline void tc_outbound_active(vox_conn *c)
{
    tc_expect_out(c, "connect\n\n");
    assert_int_equal(tc_connect_reply(c, "full", "async"), 0);
    tc_expect_out(c, "myevents\n\nlinger\n\n");
    assert_int_equal(tc_reply(c, "+OK Events Enabled"), 0);
    assert_int_equal(tc_reply(c, "+OK will linger"), 0);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
}

static inline void tc_inbound_active(vox_conn *c)
{
    assert_int_equal(tc_feed(c, TC_AUTHREQ), 0);
    tc_expect_out(c, "auth ClueCon\n\n");
    assert_int_equal(tc_reply(c, "+OK accepted"), 0);
    tc_expect_out(c, "event plain BACKGROUND_JOB\n\n");
    assert_int_equal(tc_reply(c, "+OK event listener enabled plain"), 0);
    assert_int_equal(vox_conn_get_state(c), VOX_STATE_ACTIVE);
}

/* An event of our channel: "Event-Name: X\nUnique-ID: TC_UUID\n" + extra. */
static inline int tc_chan_event(vox_conn *c, const char *name, const char *extra)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "Event-Name: %s\nUnique-ID: %s\n%s", name, TC_UUID,
             extra ? extra : "");
    return tc_event(c, buf);
}

static inline int tc_linger_notice(vox_conn *c)
{
    return tc_feed(c, "Content-Type: text/disconnect-notice\nController-Session-UUID: x\n"
                      "Controlled-Session-UUID: " TC_UUID "\nContent-Disposition: linger\n"
                      "Channel-Name: loopback/1-a\nLinger-Time: -1\nContent-Length: 36\n\n"
                      "Disconnected, linger -1 seconds.\n\n\n\n");
}

/* ----------------------------------------------- outbound fixture replay */

/* The commands of a c2s capture, split at the empty lines. */
typedef struct tc_cmds {
    char *buf;
    char *cmd[TC_MAX];
    size_t len[TC_MAX];
    int n;
} tc_cmds;

static inline void tc_split(tc_cmds *s, const char *name)
{
    size_t len;
    memset(s, 0, sizeof *s);
    s->buf = tu_fixture(name, &len);
    char *p = s->buf, *end = s->buf + len;
    while (p < end && s->n < TC_MAX) {
        char *e = strstr(p, "\n\n");
        assert_non_null(e);
        s->cmd[s->n] = p;
        s->len[s->n++] = (size_t)(e + 2 - p);
        p = e + 2;
    }
}

/* The value of header h in one serialized command (static copy), or NULL. */
static inline const char *tc_cmd_header(const char *cmd, size_t len, const char *h, char *out,
                                        size_t outsz)
{
    size_t hl = strlen(h);
    const char *p = cmd, *end = cmd + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        if ((size_t)(nl - p) > hl + 2 && !strncasecmp(p, h, hl) && p[hl] == ':') {
            snprintf(out, outsz, "%.*s", (int)(nl - p - hl - 2), p + hl + 2);
            return out;
        }
        p = nl + 1;
    }
    return NULL;
}

/* Issues c2s command i: an execute (with its Event-UUID) through
 * vox_conn_execute, anything else as a raw command. */
static inline int tc_issue(vox_conn *c, const tc_cmds *s, int i, tc_done *d)
{
    char app[256], arg[256], loops[16], lock[16], eu[128];
    const char *cmd = s->cmd[i];
    size_t len = s->len[i];
    const char *a = tc_cmd_header(cmd, len, "execute-app-name", app, sizeof app);
    const char *u = tc_cmd_header(cmd, len, "Event-UUID", eu, sizeof eu);
    if (!strncmp(cmd, "sendmsg\n", 8) && a && u) {
        vox_execute x = {0};
        x.app = a;
        x.arg = tc_cmd_header(cmd, len, "execute-app-arg", arg, sizeof arg);
        x.event_uuid = u;
        x.event_lock = tc_cmd_header(cmd, len, "event-lock", lock, sizeof lock) != NULL;
        if (tc_cmd_header(cmd, len, "loops", loops, sizeof loops))
            x.loops = (int)strtol(loops, NULL, 10);
        return vox_conn_execute(c, &x, NULL, 0, 0, tc_exec_cb, d);
    }
    vox_buf b = {(char *)(uintptr_t)cmd, len, len};
    return vox_conn_command(c, &b, 0, tc_reply_cb, d);
}

/* Feeds a whole s2c fixture in chunks of k bytes, collecting what the
 * engine writes meanwhile; then EOF. *written: caller frees. */
static inline void tc_feed_fixture(vox_conn *c, const char *name, size_t k, char **written)
{
    size_t len, wl = 0;
    char *s = tu_fixture(name, &len);
    *written = calloc(1, 1);
    for (size_t off = 0; off <= len; off += k) {
        size_t n = len - off < k ? len - off : k;
        if (n)
            vox_conn_feed(c, s + off, n);
        size_t ol;
        const char *out = vox_conn_output(c, &ol);
        *written = realloc(*written, wl + ol + 1);
        if (ol)
            memcpy(*written + wl, out, ol);
        wl += ol;
        (*written)[wl] = '\0';
        vox_conn_consume(c, ol);
    }
    vox_conn_eof(c);
    free(s);
}

/* A whole outbound capture replayed: the handshake options read from its
 * c2s, every later command issued at once (pipelined, held until ready),
 * the s2c fed in chunks. */
typedef struct tc_replay {
    tc_rec r;
    tc_done d[TC_MAX];
    tc_cmds s;
    int first; /* index of the first user command */
    vox_conn *c;
    char *written;
} tc_replay;

static inline void tc_replay_run(tc_replay *rp, const char *name, size_t chunk)
{
    char fx[256];
    vox_conn_opts o;
    memset(rp, 0, sizeof *rp);
    tc_opts(&o, VOX_ROLE_OUTBOUND, &rp->r);
    snprintf(fx, sizeof fx, "%s.c2s.raw", name);
    tc_split(&rp->s, fx);
    rp->first = 1;
    if (rp->s.n > 1 && !strncmp(rp->s.cmd[1], "myevents", 8)) {
        if (!strncmp(rp->s.cmd[1], "myevents json", 13))
            o.format = VOX_FMT_JSON;
        rp->first++;
    }
    o.no_linger = 1;
    if (rp->s.n > 2 && !strncmp(rp->s.cmd[2], "linger", 6)) {
        o.no_linger = 0;
        o.linger_seconds = (int)strtol(rp->s.cmd[2] + 6, NULL, 10);
        rp->first++;
    }
    assert_int_equal(vox_conn_new(&rp->c, &o), 0);
    for (int i = rp->first; i < rp->s.n; i++)
        assert_int_equal(tc_issue(rp->c, &rp->s, i, &rp->d[i]), 0);
    snprintf(fx, sizeof fx, "%s.s2c.raw", name);
    tc_feed_fixture(rp->c, fx, chunk, &rp->written);
    /* fed whole, the session ends inside the one feed: its output is
     * dropped with it (reading ended) before it could be collected */
    if (chunk <= 4096)
        assert_string_equal(rp->written, rp->s.buf);
    assert_int_equal(rp->r.ready_calls, 1);
    assert_int_equal(rp->r.close_calls, 1);
    for (int i = rp->first; i < rp->s.n; i++)
        assert_int_equal(rp->d[i].calls, 1);
}

static inline void tc_replay_free(tc_replay *rp)
{
    vox_conn_free(rp->c);
    free(rp->s.buf);
    free(rp->written);
}

#endif
