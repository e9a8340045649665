/* Internal layout of the connection engine, shared by the src/conn files. */
#ifndef VOX_CONN_INT_H
#define VOX_CONN_INT_H

#include <stdint.h>

#include "../internal.h"

/* Ids (Event-UUID, Job-UUID) and channel uuids are short texts; a longer
 * one given by the user is refused with VOX_EINVAL. */
#define VOX__ID_MAX 128
/* FreeSWITCH stops looping an application whose iteration lasted less than
 * this (microseconds, switch_ivr.c). */
#define VOX__LOOP_MIN_US 500000

typedef enum vox__op_kind {
    VOX__OP_CMD = 0, /* any command: completes with its reply */
    VOX__OP_BGAPI,   /* reply arms a wait for BACKGROUND_JOB by Job-UUID */
    VOX__OP_EXEC,    /* waits for CHANNEL_EXECUTE_COMPLETE by Application-UUID */
} vox__op_kind;

/* One request. It sits in the reply FIFO until its reply is consumed (even
 * after it completed, as an orphan, so later replies still match), and in
 * the live list until its callback ran. Out of both it goes to the dead
 * list, freed when the outermost public call unwinds (a callback may still
 * be running on it). */
typedef struct vox__op vox__op;
struct vox__op {
    vox__op *fnext;         /* reply FIFO (or the held list) */
    vox__op *lprev, *lnext; /* live list, in issue order */
    vox__op *dnext;         /* dead list */
    vox__op_kind kind;
    unsigned in_fifo : 1;     /* waiting for its reply (FIFO or held) */
    unsigned live : 1;        /* its callback has not run */
    unsigned replied : 1;     /* +OK arrived (bgapi: armed) */
    unsigned started : 1;     /* exec: a CHANNEL_EXECUTE was seen */
    unsigned running : 1;     /* exec: inside an iteration */
    unsigned target_down : 1; /* exec: its channel hung up */
    unsigned dead : 1;        /* on the dead list */
    uint32_t timeout_ms;
    uint64_t deadline; /* 0: none (or not armed before the first tick) */
    union {
        vox_reply_cb reply;
        vox_exec_cb exec;
        vox_job_cb job;
    } cb;
    void *ud;
    uint64_t exec_ts;         /* Event-Date-Timestamp of the last EXECUTE */
    vox_msg *last;            /* exec: the last EXECUTE_COMPLETE held (loops) */
    char id[VOX__ID_MAX];     /* Event-UUID / Job-UUID */
    char target[VOX__ID_MAX]; /* exec: the channel ("" = the call's) */
};

typedef struct vox__hook {
    char *name;    /* NULL: every event */
    size_t len;    /* of name */
    uint32_t hash; /* of name, case folded: most hooks are told apart by it */
    vox_event_cb cb;
    void *ud;
} vox__hook;

struct vox_conn {
    vox_conn_opts o; /* copied; strings below are owned copies */
    char *password, *events;
    vox_header *filters;

    vox_parser *parser;
    vox_conn_state state;
    vox_buf out;  /* bytes to write */
    vox_buf held; /* user requests made during the handshake */
    vox__op *held_head, *held_tail;
    vox__op *fifo_head, *fifo_tail;
    vox__op *live_head, *live_tail;
    vox__op *dead;

    vox__hook *hooks;
    size_t nhooks, hooks_cap;

    /* handshake */
    int hs_step;    /* see handshake.c */
    int hs_pending; /* handshake replies still expected */
    int ready_done; /* on_ready has run */
    uint64_t hs_deadline;

    /* lifecycle */
    int depth;       /* public calls on the stack */
    const char *in;  /* input being processed (re-entrant feed) */
    size_t in_len;
    int paused;      /* vox_conn_pause: input goes to held_in */
    int eof_held;    /* an EOF arrived while paused */
    vox_buf held_in;
    int wants_dirty; /* tell the driver (on_wants) when depth drops to 0 */
    const vox_msg *cur_reply; /* vox_conn_reply, during a completion callback */
    int free_pending;
    int ended; /* reading has ended */
    int reason;
    int disconnecting;
    int bye;         /* `+OK bye`: the peer will close */
    int notice_seen; /* a text/disconnect-notice arrived */
    int linger_seen; /* ... with Content-Disposition: linger */
    int hungup;      /* CHANNEL_HANGUP[_COMPLETE] of the call */
    int hup_complete;
    char errtext[256];

    /* time */
    int have_now;
    uint64_t now;

    /* outbound */
    vox_msg *chan; /* the connect reply */
    char uuid[VOX__ID_MAX];

    uint64_t rng;
};

/* conn.c */
VOX__HIDDEN void vox__conn_enter(vox_conn *c);
VOX__HIDDEN void vox__conn_leave(vox_conn *c);
/* vox_conn_wants() may have changed: on_wants runs now (depth 0) or when the
 * outermost call returns. */
VOX__HIDDEN void vox__wants_changed(vox_conn *c);
/* End reading with reason: on_ready (if the handshake was running),
 * DRAINING, every live op completes with VOX_ECLOSED, on_close, CLOSED. */
VOX__HIDDEN void vox__conn_end(vox_conn *c, int reason);
/* Like vox__conn_end, with a text for vox_conn_error_text. */
VOX__HIDDEN void vox__conn_fail(vox_conn *c, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
VOX__HIDDEN int vox__str_eq(const char *a, const char *b);
VOX__HIDDEN int vox__str_ieq(const char *a, const char *b);

/* queue.c */
VOX__HIDDEN vox__op *vox__op_new(vox_conn *c, vox__op_kind kind, uint32_t timeout_ms);
/* Frees an op that was never linked anywhere. */
VOX__HIDDEN void vox__op_discard(vox__op *op);
/* Links a new op whose bytes were appended to vox__req_buf(c). */
VOX__HIDDEN void vox__op_submit(vox_conn *c, vox__op *op);
/* Where a new request's bytes go: the output, or the held buffer while the
 * handshake runs. */
VOX__HIDDEN vox_buf *vox__req_buf(vox_conn *c);
/* Common checks before a request: VOX_EINVAL / VOX_ECLOSED or 0. */
VOX__HIDDEN int vox__req_check(const vox_conn *c);
/* Completes op once: unlinks it from the live list and runs its callback. */
VOX__HIDDEN void vox__op_complete(vox_conn *c, vox__op *op, int status, const vox_msg *msg,
                                  const vox_event *ev);
/* Moves op to the dead list when it is neither live nor in the FIFO. */
VOX__HIDDEN void vox__op_release(vox_conn *c, vox__op *op);
VOX__HIDDEN void vox__op_free_all(vox_conn *c);
VOX__HIDDEN void vox__reap(vox_conn *c);
/* A command/reply or api/response: to the handshake or the FIFO's head. */
VOX__HIDDEN void vox__on_reply(vox_conn *c, vox_msg *m);
/* Held requests go to the wire (handshake done). 0 or VOX_ENOMEM. */
VOX__HIDDEN int vox__flush_held(vox_conn *c);
/* Every live op completes with status (reading ended). */
VOX__HIDDEN void vox__complete_all(vox_conn *c, int status);
VOX__HIDDEN void vox__expire(vox_conn *c);
VOX__HIDDEN uint64_t vox__next_deadline(const vox_conn *c);

/* exec.c / job.c */
VOX__HIDDEN void vox__exec_event(vox_conn *c, const vox_event *ev, const char *name);
/* The linger notice for channel uuid (NULL: the call's). */
VOX__HIDDEN void vox__exec_linger(vox_conn *c, const char *uuid);
VOX__HIDDEN void vox__job_event(vox_conn *c, const vox_event *ev);

/* hooks.c */
VOX__HIDDEN void vox__hooks_dispatch(vox_conn *c, const vox_event *ev);
VOX__HIDDEN void vox__hooks_free(vox_conn *c);

/* handshake.c */
VOX__HIDDEN int vox__hs_start(vox_conn *c);
VOX__HIDDEN void vox__hs_auth_request(vox_conn *c);
VOX__HIDDEN void vox__hs_reply(vox_conn *c, vox_msg *m);
VOX__HIDDEN void vox__hs_tick(vox_conn *c);

/* ids.c */
VOX__HIDDEN void vox__ids_seed(vox_conn *c);
/* A uuid v4 text (36 chars + NUL) into out. */
VOX__HIDDEN void vox__uuid(vox_conn *c, char out[37]);

#endif
