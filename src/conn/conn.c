/* The connection engine's core: creation, the driver side (bytes, EOF,
 * time, output) and the end of reading. Message routing lives here too;
 * requests, correlation, hooks and the handshake have their own files. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vox/conn.h>

#include "conn_int.h"

int vox__str_eq(const char *a, const char *b)
{
    return a && b && *a && strcmp(a, b) == 0;
}

int vox__str_ieq(const char *a, const char *b)
{
    return a && b && vox__ieq(a, strlen(a), b);
}

/* ------------------------------------------------------------- creation */

static int copy_opts(vox_conn *c, const vox_conn_opts *o)
{
    c->o = *o;
    c->o.filters = NULL;
    c->o.nfilters = 0;
    if (o->password && !(c->password = vox__strdup(o->password)))
        return VOX_ENOMEM;
    if (o->events && !(c->events = vox__strdup(o->events)))
        return VOX_ENOMEM;
    c->o.password = c->password;
    c->o.events = c->events;
    int rc = vox__headers_copy(&c->filters, o->filters, o->nfilters);
    c->o.filters = c->filters;
    c->o.nfilters = o->nfilters;
    return rc;
}

static void destroy(vox_conn *c)
{
    vox__op_free_all(c);
    vox__hooks_free(c);
    vox_parser_free(c->parser);
    vox_buf_free(&c->out);
    vox_buf_free(&c->held);
    vox_buf_free(&c->held_in);
    vox_msg_free(c->chan);
    vox__headers_free(c->filters, c->o.nfilters);
    vox__free(c->password);
    vox__free(c->events);
    vox__free(c);
}

int vox_conn_new(vox_conn **out, const vox_conn_opts *opts)
{
    if (!out || !opts)
        return VOX_EINVAL;
    *out = NULL;
    if (opts->role != VOX_ROLE_INBOUND && opts->role != VOX_ROLE_OUTBOUND)
        return VOX_EINVAL;
    /* either role sends it (event / myevents): refuse it here, not at the
     * handshake */
    if (!vox__format_ok(opts->format))
        return VOX_EINVAL;
    vox_conn *c = vox__calloc(1, sizeof *c);
    if (!c)
        return VOX_ENOMEM;
    int rc = copy_opts(c, opts);
    if (rc)
        goto fail;
    rc = vox_parser_new(&c->parser, opts->limits);
    if (rc)
        goto fail;
    c->state = VOX_STATE_HANDSHAKE;
    vox__ids_seed(c);
    rc = vox__hs_start(c);
    if (rc)
        goto fail;
    *out = c;
    return 0;
fail:
    destroy(c);
    return rc;
}

/* ------------------------------------------------- reentrancy and ending */

void vox__conn_enter(vox_conn *c)
{
    c->depth++;
}

void vox__conn_leave(vox_conn *c)
{
    if (--c->depth > 0)
        return;
    vox__reap(c);
    if (c->free_pending) {
        destroy(c);
        return;
    }
    if (c->wants_dirty) {
        c->wants_dirty = 0;
        if (c->o.on_wants)
            c->o.on_wants(c, c->o.userdata);
    }
}

void vox__wants_changed(vox_conn *c)
{
    vox__conn_enter(c);
    c->wants_dirty = 1;
    vox__conn_leave(c);
}

void vox__conn_end(vox_conn *c, int reason)
{
    if (c->ended)
        return;
    c->ended = 1;
    c->reason = reason;
    c->out.len = 0; /* nothing more is written once reading ended */
    if (!c->ready_done) {
        c->ready_done = 1;
        if (c->o.on_ready)
            c->o.on_ready(c, reason ? reason : VOX_ECLOSED, c->o.userdata);
    }
    c->state = VOX_STATE_DRAINING;
    vox__complete_all(c, VOX_ECLOSED);
    if (c->o.on_close)
        c->o.on_close(c, reason, c->o.userdata);
    c->state = VOX_STATE_CLOSED;
}

void vox__conn_fail(vox_conn *c, int reason, const char *fmt, ...)
{
    if (c->ended)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errtext, sizeof c->errtext, fmt, ap);
    va_end(ap);
    vox__conn_end(c, reason);
}

void vox_conn_free(vox_conn *c)
{
    if (!c)
        return;
    vox__conn_enter(c);
    c->free_pending = 1;
    vox__conn_end(c, VOX_ECLOSED);
    vox__conn_leave(c);
}

void vox_conn_close(vox_conn *c, int reason)
{
    if (!c)
        return;
    vox__conn_enter(c);
    vox__conn_end(c, reason);
    c->wants_dirty = 1;
    vox__conn_leave(c);
}

/* ------------------------------------------------------------ accessors */

vox_role vox_conn_role(const vox_conn *c)
{
    return c->o.role;
}
vox_conn_state vox_conn_get_state(const vox_conn *c)
{
    return c->state;
}
void *vox_conn_userdata(const vox_conn *c)
{
    return c->o.userdata;
}
const vox_msg *vox_conn_reply(const vox_conn *c)
{
    return c ? c->cur_reply : NULL;
}

int vox_conn_error(const vox_conn *c)
{
    return c->ended ? c->reason : 0;
}

const char *vox_conn_error_text(const vox_conn *c)
{
    if (!c->ended || !c->reason)
        return "";
    return c->errtext[0] ? c->errtext : vox_strerror(c->reason);
}

const vox_event *vox_conn_channel_data(const vox_conn *c)
{
    return c->chan ? vox_msg_event(c->chan) : NULL;
}

const char *vox_conn_uuid(const vox_conn *c)
{
    return c->uuid[0] ? c->uuid : NULL;
}
int vox_conn_hungup(const vox_conn *c)
{
    return c->hungup;
}

/* ------------------------------------------------------------- messages */

static int is_call(const vox_conn *c, const char *uuid)
{
    return c->o.role == VOX_ROLE_OUTBOUND && vox__str_eq(uuid, c->uuid);
}

/* Outbound: reading ends once both halves of the end were seen. */
static void check_latch(vox_conn *c)
{
    if (c->o.role == VOX_ROLE_OUTBOUND && c->hup_complete && c->linger_seen)
        vox__conn_end(c, 0);
}

static void on_event_msg(vox_conn *c, vox_msg *m)
{
    const vox_event *ev = vox_msg_event(m);
    if (!ev)
        return;
    const char *name = vox_event_name(ev);
    /* one compare for the common prefix: this runs for every event */
    int h = strncmp(name, "CHANNEL_HANGUP", 14) == 0;
    int hup = h && !name[14], hupc = h && !strcmp(name + 14, "_COMPLETE");
    if ((hup || hupc) && c->o.role == VOX_ROLE_OUTBOUND &&
        is_call(c, vox_event_get(ev, "Unique-ID"))) {
        c->hungup = 1;
        c->hup_complete |= hupc;
    }
    vox__hooks_dispatch(c, ev);
    if (!c->ended)
        vox__exec_event(c, ev, name);
    if (!c->ended && name[0] == 'B' && !strcmp(name, "BACKGROUND_JOB"))
        vox__job_event(c, ev);
    if (!c->ended)
        check_latch(c);
}

static void on_notice(vox_conn *c, vox_msg *m)
{
    int linger = vox__str_ieq(vox_msg_header(m, "Content-Disposition"), "linger");
    c->notice_seen = 1;
    c->linger_seen |= linger;
    if (c->o.on_notice)
        c->o.on_notice(c, m, c->o.userdata);
    if (c->ended || !linger)
        return;
    vox__exec_linger(c, vox_msg_header(m, "Controlled-Session-UUID"));
    if (!c->ended)
        check_latch(c);
}

static void dispatch(vox_conn *c, vox_msg *m)
{
    switch (vox_msg_type(m)) {
    case VOX_CT_AUTH_REQUEST: vox__hs_auth_request(c); break;
    case VOX_CT_COMMAND_REPLY:
    case VOX_CT_API_RESPONSE: vox__on_reply(c, m); break;
    case VOX_CT_EVENT_PLAIN:
    case VOX_CT_EVENT_JSON:
    case VOX_CT_EVENT_XML: on_event_msg(c, m); break;
    case VOX_CT_LOG_DATA:
        if (c->o.on_log)
            c->o.on_log(c, m, c->o.userdata);
        break;
    case VOX_CT_DISCONNECT_NOTICE: on_notice(c, m); break;
    case VOX_CT_RUDE_REJECTION:
        vox__conn_fail(c, VOX_EACCESS, "the server's ACL refused this client: %s",
                       vox_msg_body(m, NULL));
        break;
    default: break; /* an unknown Content-Type: skipped, as FreeSWITCH may add some */
    }
}

/* ---------------------------------------------------------- driver side */

static void parse_failed(vox_conn *c, int rc)
{
    const char *reason = NULL;
    uint64_t off = 0;
    if (rc == VOX_ENOMEM) {
        vox__conn_fail(c, VOX_ENOMEM, "out of memory while parsing");
        return;
    }
    vox_parser_error(c->parser, &reason, &off);
    vox__conn_fail(c, rc, "%s at byte %llu: %s", vox_strerror(rc), (unsigned long long)off,
                   reason ? reason : "bad input");
}

static int sticky(const vox_conn *c)
{
    int r = c->reason;
    return c->ended && (r == VOX_EPROTO || r == VOX_ELIMIT || r == VOX_ENOMEM) ? r : 0;
}

/* Parses and dispatches c->in. The cursor advances before each dispatch, so
 * a feed nested in a callback continues from the right byte. */
static void consume(vox_conn *c)
{
    while (c->in_len && !c->ended && !c->paused) {
        size_t used = 0;
        vox_msg *m = NULL;
        /* zero-copy: m may borrow c->in, valid until this feed returns */
        int rc = vox__parser_feed_borrowed(c->parser, c->in, c->in_len, &used, &m);
        c->in += used;
        c->in_len -= used;
        if (rc < 0) {
            parse_failed(c, rc);
            break;
        }
        if (rc == 0)
            break;
        dispatch(c, m);
        vox__parser_release(c->parser, m);
    }
}

/* Keeps what is left of c->in while paused. */
static void hold_rest(vox_conn *c)
{
    if (c->paused && c->in_len && !c->ended && vox__buf_append(&c->held_in, c->in, c->in_len))
        vox__conn_fail(c, VOX_ENOMEM, "out of memory while paused");
    c->in = NULL;
    c->in_len = 0;
}

int vox_conn_feed(vox_conn *c, const char *data, size_t len)
{
    if (!c || (!data && len))
        return VOX_EINVAL;
    vox__conn_enter(c);
    consume(c); /* nested in a callback: the outer call's bytes come first */
    hold_rest(c);
    c->in = data;
    c->in_len = len;
    consume(c);
    hold_rest(c);
    int rc = sticky(c);
    vox__conn_leave(c);
    return rc;
}

static void eof_now(vox_conn *c);

int vox_conn_pause(vox_conn *c, int paused)
{
    if (!c)
        return VOX_EINVAL;
    vox__conn_enter(c);
    c->paused = paused != 0;
    if (!c->paused && (c->held_in.len || c->eof_held)) {
        vox_buf held = c->held_in; /* new input held meanwhile goes to a fresh buffer */
        c->held_in = (vox_buf){0};
        consume(c);
        hold_rest(c);
        c->in = held.data;
        c->in_len = held.len;
        consume(c);
        hold_rest(c);
        vox_buf_free(&held);
        if (c->eof_held && !c->paused) {
            c->eof_held = 0;
            eof_now(c);
        }
    }
    int rc = c->ended && c->reason == VOX_ENOMEM ? VOX_ENOMEM : 0;
    vox__conn_leave(c);
    return rc;
}

void vox_conn_eof(vox_conn *c)
{
    if (!c)
        return;
    vox__conn_enter(c);
    if (c->paused)
        c->eof_held = 1;
    else
        eof_now(c);
    vox__conn_leave(c);
}

static void eof_now(vox_conn *c)
{
    int expected = c->hungup || c->notice_seen || c->disconnecting || c->bye;
    if (c->state == VOX_STATE_ACTIVE && expected)
        vox__conn_end(c, 0);
    else if (vox_parser_pending(c->parser))
        vox__conn_fail(c, VOX_ECLOSED, "the peer closed the connection in the middle of a message");
    else
        vox__conn_fail(c, VOX_ECLOSED, "the peer closed the connection");
}

void vox_conn_abort(vox_conn *c, int err)
{
    if (!c)
        return;
    vox__conn_enter(c);
    vox__conn_end(c, err < 0 ? err : VOX_ECLOSED);
    vox__conn_leave(c);
}

const char *vox_conn_output(const vox_conn *c, size_t *len)
{
    int has = c && !c->ended && c->out.len;
    if (len)
        *len = has ? c->out.len : 0;
    return has ? c->out.data : NULL;
}

void vox_conn_consume(vox_conn *c, size_t n)
{
    if (c)
        vox__buf_consume(&c->out, n);
}

/* The first tick starts the clocks that were waiting for a time base. */
static void first_tick(vox_conn *c, uint64_t now)
{
    c->have_now = 1;
    if (c->state == VOX_STATE_HANDSHAKE && c->o.handshake_timeout_ms)
        c->hs_deadline = now + c->o.handshake_timeout_ms;
    for (vox__op *op = c->live_head; op; op = op->lnext) {
        if (op->timeout_ms && !op->deadline)
            op->deadline = now + op->timeout_ms;
    }
}

void vox_conn_tick(vox_conn *c, uint64_t now_ms)
{
    if (!c)
        return;
    vox__conn_enter(c);
    c->now = now_ms;
    if (!c->have_now)
        first_tick(c, now_ms);
    if (!c->ended)
        vox__hs_tick(c);
    if (!c->ended)
        vox__expire(c);
    vox__conn_leave(c);
}

uint64_t vox_conn_deadline(const vox_conn *c)
{
    if (!c || c->ended)
        return UINT64_MAX;
    uint64_t d = vox__next_deadline(c);
    if (c->state == VOX_STATE_HANDSHAKE && c->hs_deadline && c->hs_deadline < d)
        d = c->hs_deadline;
    return d;
}

int vox_conn_wants(const vox_conn *c)
{
    if (!c || c->ended)
        return VOX_WANT_CLOSE;
    int w = VOX_WANT_READ;
    if (c->out.len)
        w |= VOX_WANT_WRITE;
    else if (c->disconnecting)
        w |= VOX_WANT_SHUTDOWN;
    return w;
}

int vox_conn_disconnect(vox_conn *c)
{
    if (!c)
        return VOX_EINVAL;
    if (c->ended || c->disconnecting)
        return VOX_ECLOSED;
    c->disconnecting = 1;
    vox__wants_changed(c);
    return 0;
}
