/* vox-sim internals: the contract between the simulator's parts.
 *
 *   sim.c, conn.c, cmd.c, event.c (the wire, sim/wire.h): the loop thread, the
 *       listener, every event-socket connection (inbound ones, and the outbound
 *       ones the `socket` application opens), command reading and replies,
 *       subscriptions, filters, event formatting and delivery, heartbeats,
 *       inbound faults, vox_sim_start/port/stop/free.
 *   sched.c, chan.c, apps.c, digits.c, bridge.c, dial.c, api.c, script.c (the
 *       calls, sim/calls.h): channels and their events, the dialplan (answer
 *       + socket), applications, bridge endpoints, DTMF, api commands,
 *       originate, scripted calls and results.
 *
 *   strings.c — small string helpers both halves use.
 *
 * Everything here runs on the simulator's loop thread only, except sim__post
 * and the helpers of strings.c (any thread).
 */
#ifndef VOX_SIM_INT_H
#define VOX_SIM_INT_H
#include <stdarg.h>
#include <stdbool.h>
#include <uv.h>
#include <vox/proto.h>
#include "sim.h"

typedef struct vox_sim sim; /* the public handle is the whole simulator */
typedef struct sim_conn sim_conn;
typedef struct sim_event sim_event;
typedef struct sim_chan sim_chan;
typedef struct sim_calls sim_calls; /* the calls part's state (calls.h) */

/* ------------------------------------------------ sim.c (wire) */
struct vox_sim {
    uv_loop_t loop;
    vox_sim_opts o; /* copied; strings owned */
    char core_uuid[37];
    uint64_t seq;      /* Event-Sequence of the last event */
    uint64_t real0_us; /* real monotonic time at start */
    uint64_t sim0_us;  /* simulated epoch time (µs since 1970) at start */
    sim_calls *calls;  /* owned by the calls part */
    void *wire;        /* owned by the wire part */
};
/* Run fn(s, ud) on the loop thread soon (from any thread). 0, VOX_ENOMEM,
 * or VOX_ECLOSED once the simulator stopped (vox_sim_stop ran, or is
 * running): fn is then never called, and ud stays the caller's. */
int sim__post(sim *s, void (*fn)(sim *s, void *ud), void *ud);
/* The simulated clock: µs since the epoch (Event-Date-Timestamp). */
uint64_t sim__now_us(sim *s);
/* Real milliseconds for a simulated duration (speed applied, at least 1 when
 * ms > 0). */
uint64_t sim__real_ms(sim *s, uint64_t sim_ms);
/* A random version-4 UUID. */
void sim__uuid(char out[37]);
/* A log line (printf format) at level 0..3. */
void sim__log(sim *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "YYYY-MM-DD hh:mm:ss", the local time of simulated µs (Event-Date-Local,
 * the CDR stamps, show channels). */
void sim__date(uint64_t us, char *out, size_t n);

/* ------------------------------------------------ strings.c (both halves) */
/* A name and its value, both owned: event headers, channel variables,
 * filters, the {vars} of a dial string. */
typedef struct sim_hdr {
    char *name;
    char *value;
} sim_hdr;
/* A malloc'd copy of s; NULL when s is NULL or on ENOMEM. */
char *sim__strdup(const char *s);
/* v (cap elements of size bytes) grown so it holds need: the array to use
 * from now on (cap updated), or NULL on ENOMEM (v and cap unchanged). */
void *sim__grow(void *v, size_t *cap, size_t need, size_t size);
/* Append copies of name and value to *v (*n used, *cap allocated). false
 * on ENOMEM, and then nothing is added. */
bool sim__pair_add(sim_hdr **v, size_t *n, size_t *cap, const char *name, const char *value);
void sim__pairs_free(sim_hdr *v, size_t n);
/* The value of the first of the n pairs called name (any case), or NULL. */
const char *sim__pair_get(const sim_hdr *v, size_t n, const char *name);
/* The value of the first of the n headers called name (any case), or NULL. */
const char *sim__header(const vox_header *h, size_t n, const char *name);

/* ------------------------------------------------ event.c (wire) */
/* An event being built: headers in order, optional body. */
struct sim_event {
    char *name;
    sim_hdr *h;
    size_t n, cap;
    char *body; /* NULL: none */
};
/* A new event with FreeSWITCH's leading headers in FreeSWITCH's order:
 * Event-Name, Core-UUID, FreeSWITCH-Hostname, -Switchname, -IPv4, -IPv6,
 * Event-Date-Local, -GMT, -Timestamp, Event-Calling-File, -Function,
 * -Line-Number, Event-Sequence. subclass non-NULL: Event-Name CUSTOM and
 * Event-Subclass. NULL on ENOMEM (every function below accepts NULL). */
sim_event *sim__event_new(sim *s, const char *name, const char *subclass);
/* Append a header (copied). */
void sim__event_add(sim_event *e, const char *name, const char *value);
void sim__event_addf(sim_event *e, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replace the first header of that name, or append. */
void sim__event_set(sim_event *e, const char *name, const char *value);
const char *sim__event_get(const sim_event *e, const char *name);
void sim__event_body(sim_event *e, const char *body);
void sim__event_free(sim_event *e);
/* The event as FreeSWITCH serializes it in that format (plain: URL-encoded
 * values, "_undef_" for empty ones, the body after its Content-Length;
 * json; xml), appended to out: what uuid_dump prints, and the body of an
 * event frame. 0 or VOX_ENOMEM (out may hold part of it). */
int sim__event_serialize(const sim_event *e, vox_format fmt, vox_buf *out);
/* The whole frame as FreeSWITCH writes it for that format (the serialized
 * event after its Content-Length and Content-Type), appended to out.
 * 0 or VOX_ENOMEM (out unchanged). */
int sim__event_frame(const sim_event *e, vox_format fmt, vox_buf *out);
/* s as a JSON string, as FreeSWITCH's cJSON prints it, appended to b.
 * 0 or VOX_ENOMEM. */
int sim__json_string(vox_buf *b, const char *s);
/* Deliver to every connection subscribed to it (filters, myevents/divert
 * rules applied), then free it. A channel's events also reach the outbound
 * connection controlling that channel (myevents). */
void sim__fire(sim *s, sim_event *e);

/* ------------------------------------------------ conn.c (wire) */
/* The `socket` application: connect to host:port as FreeSWITCH's outbound
 * socket does, for channel c. async/full as in the dialplan. The calls part
 * hears back through sim__chan_socket_* below. 0, or VOX_EINVAL (host does
 * not resolve), VOX_ENOMEM, VOX_ESYS (the connect could not start), or
 * VOX_ECLOSED while the simulator stops: then nothing was opened and no
 * sim__chan_socket_* call follows. */
int sim__socket_open(sim_chan *c, const char *host, uint16_t port, bool async, bool full);
/* The channel controlled by k hung up; called by the calls part right after
 * it fired CHANNEL_HANGUP_COMPLETE. With linger, k sends its linger notice
 * (text/disconnect-notice with Content-Disposition: linger) now and the final
 * disconnect notice + close after the linger time (or at `exit`); without
 * linger, the final notice and the close come right after the events already
 * queued. Either way the calls part then hears sim__chan_socket_closed. */
void sim__socket_chan_hangup(sim_conn *k);
/* Close the connection now (fault injection: drop). */
void sim__socket_drop(sim_conn *k);
/* Static socket (no `async`): FreeSWITCH runs a sendmsg's application inside
 * the socket thread, so the reply is written when the application ends and
 * nothing else is written or read meanwhile. sim__chan_sendmsg then leaves
 * reply empty (""), and the calls part calls this exactly once later with
 * the text (NULL or "": "+OK"), when the application ended or the message
 * was dropped (hangup, transfer): the wire writes the command/reply, then
 * the events held meanwhile, then what waited for the reply (a close
 * requested meanwhile, the hangup's linger or close), and resumes reading
 * that connection's commands. A k that is not waiting for a reply is left
 * alone. Not called once sim__chan_socket_closed told the connection is
 * gone (the calls part forgets k then). */
void sim__socket_reply(sim_conn *k, const char *text);

/* ------------------------------------------------ the calls (sim/calls.h) */
sim_calls *sim__calls_new(sim *s);
void sim__calls_free(sim_calls *c); /* every channel ended without events */
/* The loop is stopping: hang up every channel (events fired as usual). */
void sim__calls_shutdown(sim_calls *c);
/* Events subscribed by at least wait_clients inbound connections: start the
 * scripted calls' clocks (called once by the wire part). */
void sim__calls_go(sim_calls *c);
/* vox_sim_place, vox_sim_wait and vox_sim_result_get are the calls part's
 * (script.c): results are kept under its own mutex; placing goes through
 * sim__post. */

sim_chan *sim__chan_find(sim *s, const char *uuid);
const char *sim__chan_uuid(const sim_chan *c);
/* Add the channel's headers (Channel-State … Caller-* … variable_*) in
 * FreeSWITCH's order, as CHANNEL_* events and the connect reply carry them. */
void sim__chan_headers(sim_chan *c, sim_event *e);
/* The connection that controls c (NULL: none) — set by sim__socket_open. */
void sim__chan_set_socket(sim_chan *c, sim_conn *k);
/* The socket connection handshake is done (connect received, reply sent). */
void sim__chan_socket_ready(sim_chan *c);
/* The socket connection closed: how 0 = peer closed or `exit`, 1 = `resume`
 * (back to the dialplan). The socket application completes. */
void sim__chan_socket_closed(sim_chan *c, int how);
/* A sendmsg for channel c (headers as received, values decoded; body the
 * text/plain body or NULL). Returns the reply text ("+OK", "-ERR …") into
 * reply. The message is queued and run in order as FreeSWITCH does. */
void sim__chan_sendmsg(sim_chan *c, const vox_header *h, size_t n, const char *body, char *reply,
                       size_t replylen);
/* getvar <name> on an outbound connection: value or NULL. */
const char *sim__chan_var(sim_chan *c, const char *name);
/* api command (cmd: the whole text after `api `, or a bgapi's command): done
 * is called exactly once with the api/response body, exactly as FreeSWITCH
 * would write it (its -ERR / -USAGE texts, "-ERR foo Command not found!\n"
 * for unknown commands) — at once for most commands, later for the ones that
 * take simulated time (originate waits for the answer). The wire part keeps
 * the asking connection's later commands waiting meanwhile, as FreeSWITCH
 * does, and uses the same function for bgapi's job. 0, or VOX_ENOMEM (done
 * not called). */
typedef void (*sim_api_done)(sim *s, void *ud, const char *body);
int sim__api(sim *s, const char *cmd, sim_api_done done, void *ud);

#endif
