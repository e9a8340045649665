/* Requests and reply matching. FreeSWITCH answers every command exactly
 * once, in order, without ids: the reply goes to the FIFO's head. A request
 * that completed early (timeout, hangup) stays there as an orphan, so its
 * late reply is consumed instead of being taken for the next one's. */
#include <string.h>

#include <vox/conn.h>

#include "conn_int.h"

vox__op *vox__op_new(vox_conn *c, vox__op_kind kind, uint32_t timeout_ms)
{
    vox__op *op = vox__calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->kind = kind;
    op->timeout_ms = timeout_ms;
    if (timeout_ms && c->have_now)
        op->deadline = c->now + timeout_ms;
    return op;
}

void vox__op_discard(vox__op *op)
{
    if (op)
        vox_msg_free(op->last);
    vox__free(op);
}

vox_buf *vox__req_buf(vox_conn *c)
{
    return c->state == VOX_STATE_HANDSHAKE ? &c->held : &c->out;
}

int vox__req_check(const vox_conn *c)
{
    if (!c)
        return VOX_EINVAL;
    if (c->ended || c->disconnecting)
        return VOX_ECLOSED;
    return 0;
}

void vox__op_submit(vox_conn *c, vox__op *op)
{
    op->in_fifo = 1;
    op->live = 1;
    vox__op **head = &c->fifo_head, **tail = &c->fifo_tail;
    if (c->state == VOX_STATE_HANDSHAKE) {
        head = &c->held_head;
        tail = &c->held_tail;
    }
    if (*tail)
        (*tail)->fnext = op;
    else
        *head = op;
    *tail = op;
    op->lprev = c->live_tail;
    if (c->live_tail)
        c->live_tail->lnext = op;
    else
        c->live_head = op;
    c->live_tail = op;
    vox__wants_changed(c);
}

static void live_unlink(vox_conn *c, vox__op *op)
{
    if (op->lprev)
        op->lprev->lnext = op->lnext;
    else
        c->live_head = op->lnext;
    if (op->lnext)
        op->lnext->lprev = op->lprev;
    else
        c->live_tail = op->lprev;
    op->lprev = op->lnext = NULL;
    op->live = 0;
}

void vox__op_release(vox_conn *c, vox__op *op)
{
    if (op->live || op->in_fifo || op->dead)
        return;
    op->dead = 1;
    op->dnext = c->dead;
    c->dead = op;
}

void vox__op_complete(vox_conn *c, vox__op *op, int status, const vox_msg *msg, const vox_event *ev)
{
    if (!op->live)
        return;
    live_unlink(c, op);
    /* ev may live in op->last: keep it until the callback returned */
    vox_msg *last = op->last;
    op->last = NULL;
    void *ud = op->ud;
    const vox_msg *outer = c->cur_reply; /* callbacks may nest */
    c->cur_reply = msg;
    switch (op->kind) {
    case VOX__OP_CMD:
        if (op->cb.reply)
            op->cb.reply(c, status, msg, ud);
        break;
    case VOX__OP_EXEC:
        if (op->cb.exec)
            op->cb.exec(c, status, ev, ud);
        break;
    case VOX__OP_BGAPI:
        if (op->cb.job)
            op->cb.job(c, status, ev, ud);
        break;
    }
    c->cur_reply = outer;
    vox_msg_free(last);
    vox__op_release(c, op);
}

static void free_chain(vox__op *op, int which)
{
    while (op) {
        vox__op *next = which == 0 ? op->fnext : op->dnext;
        vox__op_discard(op);
        op = next;
    }
}

/* At destruction an op may be in the FIFO (or held list) and live at once:
 * the live walk frees only those the FIFO walks will not. */
void vox__op_free_all(vox_conn *c)
{
    vox__reap(c);
    vox__op *op = c->live_head;
    while (op) {
        vox__op *next = op->lnext;
        if (!op->in_fifo)
            vox__op_discard(op);
        op = next;
    }
    free_chain(c->fifo_head, 0);
    free_chain(c->held_head, 0);
    c->fifo_head = c->fifo_tail = c->held_head = c->held_tail = NULL;
    c->live_head = c->live_tail = NULL;
}

void vox__reap(vox_conn *c)
{
    free_chain(c->dead, 2);
    c->dead = NULL;
}

int vox__flush_held(vox_conn *c)
{
    if (c->held.len && vox__buf_append(&c->out, c->held.data, c->held.len))
        return VOX_ENOMEM;
    c->held.len = 0;
    if (c->held_head) {
        if (c->fifo_tail)
            c->fifo_tail->fnext = c->held_head;
        else
            c->fifo_head = c->held_head;
        c->fifo_tail = c->held_tail;
    }
    c->held_head = c->held_tail = NULL;
    return 0;
}

static void drop_waiting(vox_conn *c, vox__op **head, vox__op **tail)
{
    vox__op *op = *head;
    *head = *tail = NULL;
    while (op) {
        vox__op *next = op->fnext;
        op->fnext = NULL;
        op->in_fifo = 0;
        vox__op_release(c, op);
        op = next;
    }
}

void vox__complete_all(vox_conn *c, int status)
{
    while (c->live_head)
        vox__op_complete(c, c->live_head, status, NULL, NULL);
    drop_waiting(c, &c->fifo_head, &c->fifo_tail);
    drop_waiting(c, &c->held_head, &c->held_tail);
}

static vox__op *first_expired(const vox_conn *c)
{
    for (vox__op *op = c->live_head; op; op = op->lnext) {
        if (op->deadline && op->deadline <= c->now)
            return op;
    }
    return NULL;
}

void vox__expire(vox_conn *c)
{
    vox__op *op;
    while (!c->ended && (op = first_expired(c)))
        vox__op_complete(c, op, VOX_ETIMEDOUT, NULL, NULL);
}

uint64_t vox__next_deadline(const vox_conn *c)
{
    uint64_t d = UINT64_MAX;
    for (const vox__op *op = c->live_head; op; op = op->lnext) {
        if (op->deadline && op->deadline < d)
            d = op->deadline;
    }
    return d;
}

/* ------------------------------------------------------------- replies */

static void take_job_uuid(vox__op *op, const vox_msg *m)
{
    const char *id = vox_msg_header(m, "Job-UUID");
    size_t n = id ? strlen(id) : 0;
    if (n && n < sizeof op->id)
        memcpy(op->id, id, n + 1);
}

void vox__on_reply(vox_conn *c, vox_msg *m)
{
    if (c->state == VOX_STATE_HANDSHAKE && c->hs_pending > 0) {
        vox__hs_reply(c, m);
        return;
    }
    vox__op *op = c->fifo_head;
    if (!op) {
        vox__conn_fail(c, VOX_EPROTO, "a %s arrived with no command waiting for it",
                       vox_msg_content_type(m));
        return;
    }
    c->fifo_head = op->fnext;
    if (!c->fifo_head)
        c->fifo_tail = NULL;
    op->fnext = NULL;
    op->in_fifo = 0;
    const char *text = vox_msg_reply_text(m);
    if (text && !strncmp(text, "+OK bye", 7))
        c->bye = 1;
    int err = vox_msg_is_error(m);
    if (op->kind == VOX__OP_CMD) {
        vox__op_complete(c, op, err ? VOX_EREPLY : 0, m, NULL);
    } else if (err) {
        vox__op_complete(c, op, VOX_EREPLY, m, NULL);
    } else {
        op->replied = 1;
        if (op->kind == VOX__OP_BGAPI)
            take_job_uuid(op, m);
    }
    vox__op_release(c, op);
}

/* ------------------------------------------------------------ requests */

static int submit_cmd(vox_conn *c, vox__op *op, vox_reply_cb cb, void *ud)
{
    op->cb.reply = cb;
    op->ud = ud;
    vox__op_submit(c, op);
    return 0;
}

int vox_conn_api(vox_conn *c, const char *cmd, const char *args, uint32_t timeout_ms,
                 vox_reply_cb cb, void *userdata)
{
    int rc = vox__req_check(c);
    if (rc)
        return rc;
    vox__op *op = vox__op_new(c, VOX__OP_CMD, timeout_ms);
    if (!op)
        return VOX_ENOMEM;
    rc = vox_cmd_api(vox__req_buf(c), cmd, args);
    if (rc) {
        vox__op_discard(op);
        return rc;
    }
    return submit_cmd(c, op, cb, userdata);
}

int vox_conn_command(vox_conn *c, const vox_buf *buf, uint32_t timeout_ms, vox_reply_cb cb,
                     void *userdata)
{
    int rc = vox__req_check(c);
    if (rc)
        return rc;
    if (!buf || !buf->data || !buf->len)
        return VOX_EINVAL;
    vox__op *op = vox__op_new(c, VOX__OP_CMD, timeout_ms);
    if (!op)
        return VOX_ENOMEM;
    if (vox__buf_append(vox__req_buf(c), buf->data, buf->len)) {
        vox__op_discard(op);
        return VOX_ENOMEM;
    }
    return submit_cmd(c, op, cb, userdata);
}
