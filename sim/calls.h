/* vox-sim, the calls part: what its files share — sched.c (the scheduler),
 * chan.c (channels), apps.c, digits.c and bridge.c (applications), dial.c
 * (outgoing calls), api.c (api commands), script.c (scripted calls and their
 * results), strings.c (sbuf).
 *
 * Everything here runs on the simulator's loop thread, except the results
 * (sim_callrec fields marked "locked"), which vox_sim_place, vox_sim_wait and
 * vox_sim_result_get reach from other threads under sim_calls.mu, and the
 * string helpers.
 */
#ifndef VOX_SIM_CALLS_H
#define VOX_SIM_CALLS_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_int.h"

/* ------------------------------------------------------------ strings.c */

/* A growable string; oom is sticky and every function accepts it. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;
void sim__sb_add(sbuf *b, const char *s, size_t n);
void sim__sb_adds(sbuf *b, const char *s);
void sim__sb_addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* p as a string ("" when empty). */
const char *sim__sb_str(const sbuf *b);
void sim__sb_free(sbuf *b);
bool sim__true(const char *v); /* switch_true: true, yes, on, enabled, active, allow, N>0 */

/* ------------------------------------------------------------ channels */

/* switch_channel_state_t */
enum sim_cs {
    CS_NEW,
    CS_INIT,
    CS_ROUTING,
    CS_SOFT_EXECUTE,
    CS_EXECUTE,
    CS_EXCHANGE_MEDIA,
    CS_PARK,
    CS_CONSUME_MEDIA,
    CS_HIBERNATE,
    CS_RESET,
    CS_HANGUP,
    CS_REPORTING,
    CS_DESTROY
};
/* switch_channel_callstate_t */
enum sim_ccs {
    CCS_DOWN,
    CCS_DIALING,
    CCS_RINGING,
    CCS_EARLY,
    CCS_ACTIVE,
    CCS_HELD,
    CCS_RING_WAIT,
    CCS_HANGUP,
    CCS_UNHELD
};
enum sim_ans { ANS_RINGING, ANS_EARLY, ANS_ANSWERED, ANS_HANGUP };

typedef sim_hdr sim_var; /* a channel variable, a {var} of a dial string, a hash entry */

/* One step of a dialplan extension. */
typedef struct sim_step {
    char *app, *arg;
} sim_step;

typedef struct sim_msg sim_msg;   /* a queued sendmsg (apps.c) */
typedef struct sim_run sim_run;   /* a running application (apps.c) */
typedef struct sim_dial sim_dial; /* an outgoing call attempt (api.c) */
typedef struct sim_callrec sim_callrec;

struct sim_chan {
    sim *s;
    sim_chan *next;
    char uuid[37];
    char *name;
    bool outbound;     /* Call-Direction */
    bool hit_dialplan; /* Channel-HIT-Dialplan */
    bool codec;        /* has the Channel-*-Codec-* headers */
    /* the caller profile (Caller-*) */
    char *cid_name, *cid_num, *ani, *dest, *callee_name, *callee_num, *source, *context, *dialplan,
        *presence_id;
    uint64_t t_created, t_answered, t_progress, t_media, t_hangup, t_bridged, t_transfer;
    int state, state_num, callstate, answer;
    char cause[64]; /* hangup cause, "" while up */
    sim_var *vars;  /* in FreeSWITCH's order: a set moves the name to the end */
    size_t nvars, capvars;
    char twin[37]; /* loopback's other leg: they live and die together */
    char peer[37]; /* the bridged leg or caller, "" none */
    int peer_kind; /* PEER_* */
    bool bridged;
    bool bridge_b; /* the B side of its bridge (Bridge-B-Unique-ID) */
    /* the extension being run */
    sim_step *steps;
    size_t nsteps, step;
    bool in_dialplan;
    /* the socket application */
    sim_conn *sock;
    int sock_state; /* SOCK_* */
    bool sock_async, sock_resume;
    uint64_t park_timer;
    /* applications: a stack (socket and park let queued messages run on top) */
    sim_run **runs;
    size_t nruns, capruns;
    sim_msg *q_head, *q_tail;
    unsigned nsendmsg;
    char last_response[64];
    bool parked;
    /* DTMF: digits pressed and not yet read */
    char dtmf[128];
    size_t ndtmf;
    sbuf dialed;
    uint64_t dtmf_timer;
    size_t dtmf_script, dtmf_pos; /* next scripted press */
    /* scripted call (NULL: none) and pending outgoing attempts */
    sim_callrec *rec;
    sim_dial *dial;   /* our own bridge attempt */
    sim_dial *leg_of; /* the attempt this leg belongs to (until it answers) */
    uint64_t hangup_timer;
    char xfer[64];    /* a transfer's extension, until it happens */
    bool hangup_done; /* HANGUP_COMPLETE fired */
    bool dead;        /* destroyed: freed by the reaper */
    unsigned session_id;
};

enum { SOCK_NONE, SOCK_OPENING, SOCK_READY, SOCK_CLOSED };
/* What the peer is to this channel. */
enum {
    PEER_NONE,
    PEER_LEG,    /* we bridged to it (our bridge application runs) */
    PEER_CALLER, /* it bridged to us */
    PEER_UUID,   /* uuid_bridge */
};

/* The calls part's state. */
struct sim_calls {
    sim *s;
    sim_chan *chans;
    unsigned nchan, session_seq;
    /* the scheduler: one libuv timer over a list sorted by due time */
    uv_timer_t *timer; /* freed by its close callback */
    bool closing;
    struct sim_task *tasks;
    uint64_t task_seq;
    /* results, shared with other threads */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sim_callrec **recs;
    size_t nrecs, caprecs;
    bool go;
    /* hash api realms */
    sim_var *hash;
    size_t nhash, caphash;
    sim_dial *dials;
    unsigned peak;
    uint64_t start_us;
};

/* Scheduler (sched.c): run fn(c, ch, arg) after sim_ms simulated ms (0: on
 * the next loop turn, after the current callback). ch may be NULL; a
 * channel's tasks are dropped when it is freed. Returns an id for
 * sim__cancel (0 on ENOMEM, or once the part is closing: fn never runs). */
typedef void (*sim_task_fn)(sim_calls *c, sim_chan *ch, void *arg);
uint64_t sim__after(sim_calls *c, sim_chan *ch, uint64_t sim_ms, sim_task_fn fn, void *arg);
/* The same, arg malloc'ed and freed after the task or when it is dropped
 * (also freed when this fails). */
uint64_t sim__after_owned(sim_calls *c, sim_chan *ch, uint64_t sim_ms, sim_task_fn fn, void *arg);
void sim__cancel(sim_calls *c, uint64_t id); /* id 0: nothing */
/* Drop the tasks of ch (it is being freed). */
void sim__cancel_chan(sim_calls *c, sim_chan *ch);
/* Closing: drop every task, close the timer (its handle frees itself). */
void sim__sched_stop(sim_calls *c);
/* Simulated ms since the simulator started. */
uint64_t sim__ms(sim *s);

/* Channel life (chan.c). */
sim_chan *sim__chan_new(sim *s, const char *name, bool outbound, const char *cid_name,
                        const char *cid_num, const char *dest);
void sim__chan_set_steps(sim_chan *ch, const char *const *pairs, size_t n);
const char *sim__var(const sim_chan *ch, const char *name);
void sim__var_set(sim_chan *ch, const char *name, const char *value); /* NULL unsets */
void sim__var_setf(sim_chan *ch, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An event of that name with the channel's headers; vars false: without
 * the variable_* headers (CHANNEL_STATE, CALLSTATE, DTMF). */
sim_event *sim__chan_event(sim_chan *ch, const char *name, bool vars);
void sim__fire_chan(sim_chan *ch, const char *name, bool vars);
/* The channel's headers (and variables) appended to e. */
void sim__chan_add_headers(sim_chan *ch, sim_event *e, bool vars);
void sim__chan_state(sim_chan *ch, int state);
void sim__chan_callstate(sim_chan *ch, int ccs);
void sim__chan_answer(sim_chan *ch);
void sim__chan_pre_answer(sim_chan *ch);
void sim__chan_ring(sim_chan *ch);
/* Hang up with cause (no-op when already down): the whole sequence up to
 * CHANNEL_HANGUP_COMPLETE, then the socket or CHANNEL_DESTROY. */
void sim__chan_hangup(sim_chan *ch, const char *cause);
bool sim__chan_up(const sim_chan *ch);
/* Free the destroyed channels (the scheduler calls it between tasks). */
void sim__chans_reap(sim_calls *c);
/* FreeSWITCH's names of a channel state (CS_*) and a call state (CCS_*). */
const char *sim__cs_name(int state);
const char *sim__ccs_name(int callstate);
/* Run the channel's extension from its current step (apps.c). */
void sim__dialplan_next(sim_chan *ch);
/* The channel received a DTMF digit. */
void sim__chan_dtmf(sim_chan *ch, char digit);
/* An inbound channel's first events (CHANNEL_CREATE …), then its extension. */
void sim__chan_begin(sim_chan *ch);
/* The socket application's first sendmsg: fire CHANNEL_PARK now. */
void sim__chan_park_now(sim_chan *ch);
/* A hangup cause's canonical name (a Q.850 number is looked up too), or NULL. */
const char *sim__cause_name(const char *s);
/* Profile headers with a prefix ("Caller", "Channel", "Other-Leg"). */
void sim__profile_headers(sim_chan *ch, sim_event *e, const char *prefix);
sim_calls *sim__calls(sim *s);

/* Applications (apps.c, digits.c, bridge.c). */
/* Start application app/arg on ch as a dialplan step (msg NULL) . */
void sim__app_start(sim_chan *ch, const char *app, const char *arg, sim_msg *msg);
/* The top application ended (response: Application-Response). */
void sim__app_done(sim_chan *ch, const char *response);
/* Hangup: end every running application (top first), drop the queue. */
void sim__apps_abort(sim_chan *ch);
/* The channel leaves its extension (transfer, resume): end the runs. */
void sim__apps_unwind(sim_chan *ch);
/* The sim's dialplan for an extension (its steps set from the first); target
 * is the socket "host:port" (NULL: opts.socket). */
void sim__extension(sim_chan *ch, const char *exten, const char *target);
/* Run the next queued sendmsg if nothing blocks it. */
void sim__apps_pump(sim_chan *ch);
/* Leave the extension for another of the sim's dialplan (soon). */
void sim__chan_transfer(sim_chan *ch, const char *exten);
/* The socket application is over (closed or resumed). */
void sim__socket_app_end(sim_chan *ch);
void sim__apps_free(sim_chan *ch);
/* The socket connection is gone: no late reply may reach it. */
void sim__apps_sock_gone(sim_chan *ch);
/* Bridge ch (the caller) to leg; fires CHANNEL_BRIDGE. */
void sim__bridge(sim_chan *ch, sim_chan *leg);
void sim__unbridge(sim_chan *ch, sim_chan *leg);
/* A digit arrived: feed the reading application, if any. */
void sim__apps_dtmf(sim_chan *ch);
/* The bridged leg of ch's bridge application hung up. */
void sim__apps_leg_gone(sim_chan *ch, sim_chan *leg);
/* A media length in simulated ms (tone_stream, silence_stream, files);
 * UINT64_MAX: forever. */
uint64_t sim__media_ms(const char *path);

/* Outgoing calls (dial.c). cb gets the answered leg, or NULL and the
 * failure cause; it is called exactly once unless sim__dial_cancel, never
 * before sim__dial returned. NULL on ENOMEM or an empty dial string. */
typedef void (*sim_dial_cb)(sim *s, void *ud, sim_chan *leg, const char *cause);
sim_dial *sim__dial(sim *s, const char *dialstring, sim_chan *caller, sim_dial_cb cb, void *ud);
void sim__dial_cancel(sim_dial *d, const char *cause);
/* A leg of an attempt answered / hung up before answering (chan.c calls). */
void sim__dial_leg_answered(sim_chan *leg);
void sim__dial_leg_gone(sim_chan *leg);
/* Shutdown: every attempt fails with cause (callbacks called). */
void sim__dial_fail_all(sim *s, const char *cause);
/* Free what is left without callbacks (the loop is gone). */
void sim__dial_free_all(sim *s);
/* The originate api command (args: the text after "originate", cut up in
 * place): 0 when done will be called (the call answered or failed), 1 when
 * the answer is in out (usage, a dial string that cannot start), or
 * VOX_ENOMEM (done not called). */
int sim__originate(sim *s, char *args, sbuf *out, sim_api_done done, void *ud);

/* Scripted calls (script.c). */
/* Add a step line to the call's account (if scripted). */
void sim__account(sim_chan *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ch answered: its scripted presses and hangup start counting. */
void sim__script_answered(sim_chan *ch);
/* ch is destroyed: its result (cause, expectations) is final. */
void sim__script_end(sim_chan *ch);
/* Free every result (the part is freed). */
void sim__script_free(sim_calls *c);

/* ------------------------------------------------------------ results */

struct sim_callrec {
    vox_sim_call call; /* deep copy */
    char *name;
    char **dtmf_digits;
    vox_sim_dtmf *dtmf;
    char **expect;
    /* locked */
    char uuid[37];
    sbuf steps;
    char *cause, *why;
    bool ended, as_scripted;
    struct sim_snap *snaps;
    bool pending; /* loop thread: placed before sim__calls_go */
};

#endif
