/* The handshakes.
 * Inbound: auth/request -> auth (or userauth) -> `event <fmt> <names>`,
 * filters -> ACTIVE. Outbound: connect -> (channel data checked) ->
 * myevents, linger -> ACTIVE. The subscription commands are pipelined; user
 * requests made meanwhile are held and written after the last reply, since
 * FreeSWITCH refuses everything before auth. */
#include <stdio.h>
#include <string.h>

#include <vox/conn.h>

#include "conn_int.h"

enum {
    HS_AUTHREQ = 0, /* inbound: waiting for auth/request */
    HS_AUTH,        /* inbound: auth sent */
    HS_SUBS,        /* inbound: event/filter commands sent */
    HS_CONNECT,     /* outbound: connect sent */
    HS_SETUP,       /* outbound: myevents/linger sent */
};

/* Whether the events list already brings BACKGROUND_JOB: ALL or the name
 * itself among the plain names (those after CUSTOM are subclasses). */
static int has_bgjob(const char *ev)
{
    while (ev && *ev) {
        ev += strspn(ev, " ");
        size_t n = strcspn(ev, " ");
        if (!n || vox__ieq(ev, n, "CUSTOM"))
            return 0;
        if (vox__ieq(ev, n, "ALL") || vox__ieq(ev, n, "BACKGROUND_JOB"))
            return 1;
        ev += n;
    }
    return 0;
}

/* `event ...`: BACKGROUND_JOB goes first, before any CUSTOM subclasses. */
static int add_event_cmd(const vox_conn *c, vox_buf *b, int *n)
{
    const char *ev = c->events && *c->events ? c->events : NULL;
    int bg = !c->o.no_background_job;
    if (!ev && !bg)
        return 0;
    if (!bg || has_bgjob(ev)) {
        (*n)++;
        return vox_cmd_event(b, c->o.format, ev);
    }
    vox_buf names = {0};
    int rc = vox__buf_appends(&names, "BACKGROUND_JOB");
    if (!rc && ev)
        rc = vox__buf_appends(&names, " ");
    if (!rc && ev)
        rc = vox__buf_appends(&names, ev);
    if (!rc)
        rc = vox_cmd_event(b, c->o.format, names.data);
    vox_buf_free(&names);
    *n += !rc;
    return rc;
}

/* The inbound subscription commands; *n counts the replies to expect. */
static int add_subs(const vox_conn *c, vox_buf *b, int *n)
{
    int rc = add_event_cmd(c, b, n);
    for (size_t i = 0; !rc && i < c->o.nfilters; i++) {
        rc = vox_cmd_filter(b, c->filters[i].name, c->filters[i].value);
        *n += !rc;
    }
    if (!rc && c->o.nfilters && !c->o.no_background_job) {
        rc = vox_cmd_filter(b, "Event-Name", "BACKGROUND_JOB");
        *n += !rc;
    }
    return rc;
}

/* Inbound options are checked at creation by building the commands once. */
static int check_inbound(const vox_conn *c)
{
    if (!c->password || !*c->password)
        return VOX_EINVAL;
    vox_buf b = {0};
    int n = 0;
    int rc = vox_cmd_auth(&b, c->password);
    if (!rc)
        rc = add_subs(c, &b, &n);
    vox_buf_free(&b);
    return rc;
}

int vox__hs_start(vox_conn *c)
{
    if (c->o.role == VOX_ROLE_INBOUND) {
        c->hs_step = HS_AUTHREQ;
        return check_inbound(c);
    }
    c->hs_step = HS_CONNECT;
    c->hs_pending = 1;
    return vox_cmd_line(&c->out, "connect");
}

void vox__hs_tick(vox_conn *c)
{
    if (c->state == VOX_STATE_HANDSHAKE && c->hs_deadline && c->now >= c->hs_deadline)
        vox__conn_fail(c, VOX_ETIMEDOUT, "the handshake did not finish in %u ms",
                       (unsigned)c->o.handshake_timeout_ms);
}

static void activate(vox_conn *c)
{
    c->state = VOX_STATE_ACTIVE;
    if (vox__flush_held(c)) {
        vox__conn_fail(c, VOX_ENOMEM, "out of memory writing the held requests");
        return;
    }
    c->ready_done = 1;
    c->paused = c->o.pause_after_handshake != 0; /* before on_ready, which may resume */
    if (c->o.on_ready)
        c->o.on_ready(c, 0, c->o.userdata);
}

void vox__hs_auth_request(vox_conn *c)
{
    if (c->o.role != VOX_ROLE_INBOUND || c->hs_step != HS_AUTHREQ) {
        vox__conn_fail(c, VOX_EPROTO, "an unexpected auth/request");
        return;
    }
    if (vox_cmd_auth(&c->out, c->password)) {
        vox__conn_fail(c, VOX_ENOMEM, "out of memory writing auth");
        return;
    }
    c->hs_step = HS_AUTH;
    c->hs_pending = 1;
}

static void send_subs(vox_conn *c)
{
    int n = 0;
    if (add_subs(c, &c->out, &n)) {
        vox__conn_fail(c, VOX_ENOMEM, "out of memory writing subscriptions");
        return;
    }
    c->hs_step = HS_SUBS;
    c->hs_pending = n;
    if (!n)
        activate(c);
}

static const char *text_of(const vox_msg *m)
{
    const char *t = vox_msg_reply_text(m);
    return t ? t : "";
}

static int is_value(const vox_msg *m, const char *name, const char *value)
{
    return vox__str_ieq(vox_msg_header(m, name), value);
}

/* The connect reply is the channel's data; its Control and Socket-Mode say
 * whether the dialplan's socket has `full` and `async`. */
static void on_connect(vox_conn *c, vox_msg *m)
{
    const char *uid = vox_msg_header(m, "Unique-ID");
    if (!uid || !*uid || strlen(uid) >= sizeof c->uuid) {
        vox__conn_fail(c, VOX_EPROTO, "the connect reply has no Unique-ID");
        return;
    }
    memcpy(c->uuid, uid, strlen(uid) + 1);
    c->chan = vox_msg_ref(m);
    int single = is_value(m, "Control", "single-channel");
    if (single && !c->o.allow_single_channel) {
        vox__conn_fail(c, VOX_ENOTFULL,
                       "the outbound socket is not `full` (Control: "
                       "single-channel): the dialplan's socket application needs `async full`");
        return;
    }
    if (is_value(m, "Socket-Mode", "static") && !c->o.allow_static) {
        vox__conn_fail(c, VOX_ENOTASYNC,
                       "the outbound socket is not `async` (Socket-Mode: "
                       "static): the dialplan's socket application needs `async full`");
        return;
    }
    /* without `full`, linger is refused: skip it when that was allowed */
    int linger = !c->o.no_linger && !single;
    int rc = vox_cmd_myevents(&c->out, NULL, c->o.format);
    if (!rc && linger)
        rc = vox_cmd_linger(&c->out, c->o.linger_seconds);
    if (rc) {
        vox__conn_fail(c, VOX_ENOMEM, "out of memory writing myevents");
        return;
    }
    c->hs_step = HS_SETUP;
    c->hs_pending = 1 + linger;
}

void vox__hs_reply(vox_conn *c, vox_msg *m)
{
    c->hs_pending--;
    int err = vox_msg_is_error(m);
    switch (c->hs_step) {
    case HS_AUTH:
        if (err)
            vox__conn_fail(c, VOX_EAUTH, "authentication rejected: %s", text_of(m));
        else
            send_subs(c);
        return;
    case HS_CONNECT:
        if (err)
            vox__conn_fail(c, VOX_EREPLY, "connect refused: %s", text_of(m));
        else
            on_connect(c, m);
        return;
    default: /* HS_SUBS, HS_SETUP */
        if (err)
            vox__conn_fail(c, VOX_EREPLY, "a handshake command was refused: %s", text_of(m));
        else if (!c->hs_pending)
            activate(c);
        return;
    }
}
