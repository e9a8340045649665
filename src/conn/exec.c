/* Execute correlation: an application's end is matched by the Event-UUID
 * we send, which comes back as Application-UUID on CHANNEL_EXECUTE and
 * CHANNEL_EXECUTE_COMPLETE — never by order. The traps this file handles:
 *   - loops: up to N EXECUTE/COMPLETE pairs with one id, but FreeSWITCH stops
 *     early when an iteration lasted under 0.5 s or the channel went down;
 *   - an unknown application: no EXECUTE at all, the channel hangs up;
 *   - an application cut short by hangup still sends its COMPLETE, after
 *     CHANNEL_HANGUP: a started application is waited for past the hangup. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <vox/conn.h>

#include "conn_int.h"

/* The channel an op runs on ("" when unknown). */
static const char *target_of(const vox_conn *c, const vox__op *op)
{
    return op->target[0] ? op->target : c->uuid;
}

/* A numeric header, or NO_NUM when absent or not a number. */
#define NO_NUM LLONG_MIN

static long long num_header(const vox_event *ev, const char *name)
{
    const char *v = vox_event_get(ev, name);
    if (!v || !*v)
        return NO_NUM;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    return errno || *end ? NO_NUM : n;
}

/* Whether this EXECUTE_COMPLETE is the last one FreeSWITCH will send. It
 * loops while current_loop < total_loops (total -1: forever), the channel
 * is up and each iteration lasts at least 0.5 s. */
static int loop_done(const vox__op *op, const vox_event *ev)
{
    if (op->target_down)
        return 1;
    long long cur = num_header(ev, "variable_current_loop");
    long long tot = num_header(ev, "variable_total_loops");
    if (cur == NO_NUM || tot == NO_NUM || (tot >= 0 && cur >= tot))
        return 1;
    long long end = num_header(ev, "Event-Date-Timestamp");
    if (!op->exec_ts || end < 0 || (uint64_t)end < op->exec_ts)
        return 1; /* cannot measure the iteration: do not wait on a guess */
    return (uint64_t)end - op->exec_ts < VOX__LOOP_MIN_US;
}

static vox__op *find_exec(const vox_conn *c, const char *id)
{
    for (vox__op *op = c->live_head; op; op = op->lnext) {
        if (op->kind == VOX__OP_EXEC && vox__str_eq(op->id, id))
            return op;
    }
    return NULL;
}

static void complete_last(vox_conn *c, vox__op *op)
{
    vox__op_complete(c, op, 0, NULL, vox_msg_event(op->last));
}

/* A looping op between iterations when another application starts on its
 * channel: FreeSWITCH has stopped looping it. */
static vox__op *find_superseded(const vox_conn *c, const char *uuid)
{
    for (vox__op *op = c->live_head; op; op = op->lnext) {
        if (op->kind == VOX__OP_EXEC && op->last && !op->running &&
            vox__str_eq(target_of(c, op), uuid))
            return op;
    }
    return NULL;
}

static void on_execute(vox_conn *c, const vox_event *ev)
{
    const char *uid = vox_event_get(ev, "Unique-ID");
    vox__op *op = find_exec(c, vox_event_get(ev, "Application-UUID"));
    if (op) {
        long long ts = num_header(ev, "Event-Date-Timestamp");
        op->started = op->running = 1;
        op->exec_ts = ts > 0 ? (uint64_t)ts : 0;
        if (!target_of(c, op)[0] && uid && strlen(uid) < sizeof op->target)
            memcpy(op->target, uid, strlen(uid) + 1);
    }
    vox__op *old;
    while (!c->ended && (old = find_superseded(c, uid)) && old != op)
        complete_last(c, old);
}

static void on_complete(vox_conn *c, const vox_event *ev)
{
    vox__op *op = find_exec(c, vox_event_get(ev, "Application-UUID"));
    if (!op)
        return;
    op->started = 1;
    op->running = 0;
    if (loop_done(op, ev)) {
        vox__op_complete(c, op, 0, NULL, ev);
        return;
    }
    vox_msg_free(op->last);
    op->last = vox_msg_ref(vox_event_msg(ev));
}

/* Ops the end of their channel releases now: not started (it never will),
 * or between loop iterations (no further one will start). */
static vox__op *find_ended(const vox_conn *c)
{
    for (vox__op *op = c->live_head; op; op = op->lnext) {
        if (op->kind == VOX__OP_EXEC && op->target_down &&
            (!op->started || (op->last && !op->running)))
            return op;
    }
    return NULL;
}

static void release_ended(vox_conn *c)
{
    vox__op *op;
    while (!c->ended && (op = find_ended(c))) {
        if (op->started)
            complete_last(c, op);
        else
            vox__op_complete(c, op, VOX_EHANGUP, NULL, NULL);
    }
}

static void on_hangup(vox_conn *c, const char *uuid)
{
    for (vox__op *op = c->live_head; op; op = op->lnext) {
        if (op->kind == VOX__OP_EXEC && vox__str_eq(target_of(c, op), uuid))
            op->target_down = 1;
    }
    release_ended(c);
}

void vox__exec_event(vox_conn *c, const vox_event *ev, const char *name)
{
    if (!c->live_head)
        return; /* every case below only acts on waiting requests */
    if (!strcmp(name, "CHANNEL_EXECUTE"))
        on_execute(c, ev);
    else if (!strcmp(name, "CHANNEL_EXECUTE_COMPLETE"))
        on_complete(c, ev);
    else if (!strcmp(name, "CHANNEL_HANGUP") || !strcmp(name, "CHANNEL_HANGUP_COMPLETE"))
        on_hangup(c, vox_event_get(ev, "Unique-ID"));
}

void vox__exec_linger(vox_conn *c, const char *uuid)
{
    for (vox__op *op = c->live_head; op; op = op->lnext) {
        const char *t = target_of(c, op);
        if (op->kind == VOX__OP_EXEC && (!uuid || !*uuid || !*t || !strcmp(t, uuid)))
            op->target_down = 1;
    }
    release_ended(c);
}

/* ------------------------------------------------------------- request */

static int exec_check(const vox_conn *c, const vox_execute *x, size_t uuid_out_size,
                      const char *uuid_out)
{
    int rc = vox__req_check(c);
    if (rc && !(c && c->o.role == VOX_ROLE_OUTBOUND && (c->hungup || c->linger_seen)))
        return rc;
    if (!x || !x->app || !*x->app || (uuid_out && uuid_out_size < 37))
        return VOX_EINVAL;
    if (x->event_uuid && (strlen(x->event_uuid) >= VOX__ID_MAX ||
                          (uuid_out && strlen(x->event_uuid) >= uuid_out_size)))
        return VOX_EINVAL;
    if (x->uuid && strlen(x->uuid) >= VOX__ID_MAX)
        return VOX_EINVAL;
    int ours = !x->uuid || !*x->uuid || vox__str_eq(x->uuid, c->uuid);
    if (c->o.role == VOX_ROLE_OUTBOUND && ours && (c->hungup || c->linger_seen))
        return VOX_EHANGUP; /* even once the session is over: say why */
    return rc;
}

int vox_conn_execute(vox_conn *c, const vox_execute *x, char *uuid_out, size_t uuid_out_size,
                     uint32_t timeout_ms, vox_exec_cb cb, void *userdata)
{
    int rc = exec_check(c, x, uuid_out_size, uuid_out);
    if (rc)
        return rc;
    vox__op *op = vox__op_new(c, VOX__OP_EXEC, timeout_ms);
    if (!op)
        return VOX_ENOMEM;
    if (x->event_uuid && *x->event_uuid)
        memcpy(op->id, x->event_uuid, strlen(x->event_uuid) + 1);
    else
        vox__uuid(c, op->id);
    if (x->uuid && *x->uuid)
        memcpy(op->target, x->uuid, strlen(x->uuid) + 1);
    vox_execute xx = *x;
    xx.event_uuid = op->id;
    rc = vox_cmd_execute(vox__req_buf(c), &xx);
    if (rc) {
        vox__op_discard(op);
        return rc;
    }
    if (uuid_out)
        memcpy(uuid_out, op->id, strlen(op->id) + 1);
    op->cb.exec = cb;
    op->ud = userdata;
    vox__op_submit(c, op);
    return 0;
}
