/* vox-sim — a FreeSWITCH event-socket simulator, as a library.
 *
 * One simulator is one simulated FreeSWITCH: an inbound event socket
 * (mod_event_socket: auth, events, api, bgapi, sendmsg …), simulated channels
 * with a realistic life, and the `socket HOST:PORT async full` dialplan
 * application that connects a call to an outbound server. It runs on its own
 * thread with its own libuv loop; every function here may be called from any
 * other thread.
 *
 * Time: the simulator has its own clock (Event-Date-* headers, playback
 * lengths, DTMF times, heartbeats) that runs `speed` times faster than real
 * time. Every duration in this header is in simulated milliseconds.
 */
#ifndef VOX_SIM_H
#define VOX_SIM_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct vox_sim vox_sim;

/* A bridge endpoint's behaviour. A `bridge` dial string's endpoint (the text
 * between separators, `{vars}` / `[vars]` stripped) matches the first entry
 * whose name is a prefix of it. An endpoint with no entry fails with
 * NO_ROUTE_DESTINATION. */
typedef struct vox_sim_endpoint {
    const char *name;       /* e.g. "user/1002", "sofia/gateway/gw1/" */
    const char *fail_cause; /* NULL: rings then answers; else fails with it (USER_BUSY …) */
    uint32_t ring_ms;       /* ringing before the answer or the failure */
    int no_answer;          /* 1: rings until the bridge's timeout, then NO_ANSWER */
    uint32_t talk_ms;       /* answered: the far end hangs up after this (0: never) */
} vox_sim_endpoint;

/* A DTMF press by the caller: `digits` one by one, the first at_ms after the
 * call is answered, then one every 200 ms. */
typedef struct vox_sim_dtmf {
    uint32_t at_ms;
    const char *digits;
} vox_sim_dtmf;

/* Faults of one call's outbound socket connection. */
typedef enum vox_sim_call_fault {
    VOX_SIM_CALL_OK = 0,
    VOX_SIM_CALL_DROP,     /* close the socket when sendmsg number fault_step (1-based) arrives */
    VOX_SIM_CALL_NO_FULL,  /* dialplan says `socket H:P async` (no full) */
    VOX_SIM_CALL_NO_ASYNC, /* dialplan says `socket H:P full` (no async) */
} vox_sim_call_fault;

/* One scripted call: the simulator creates the channel (as `originate` would),
 * answers it unless told not to, and runs `socket <socket> async full`. */
typedef struct vox_sim_call {
    const char *name;          /* for the log and the results; default "call N" */
    const char *caller_number; /* default "1000" */
    const char *caller_name;   /* default "Sim Caller" */
    const char *destination;   /* default "9100" */
    const char *socket;        /* "host:port" of the outbound server (required) */
    uint32_t start_ms;         /* placed this long after vox_sim_place (or after the
                                  inbound clients awaited by wait_clients subscribed) */
    int no_answer;             /* 1: the dialplan does not answer before `socket` */
    const vox_sim_dtmf *dtmf;
    size_t ndtmf;
    int64_t hangup_ms; /* the caller hangs up this long after answer; <0: never */
    vox_sim_call_fault fault;
    unsigned fault_step;
    /* What "ended as scripted" means (all optional): the channel's final
     * hangup cause, and variables the channel must hold at its end ("name=value"). */
    const char *expect_cause;
    const char *const *expect_vars; /* NULL-terminated */
} vox_sim_call;

/* Faults of the inbound side, applied to every inbound connection. */
typedef struct vox_sim_faults {
    int reject_auth;         /* every auth/userauth: -ERR invalid, notice, close */
    int acl_reject;          /* text/rude-rejection at connect, as FreeSWITCH's ACL */
    const char *garbage;     /* bytes sent right after a successful auth */
    size_t huge_event_bytes; /* after the first `event` subscription: one CUSTOM event
                                sim::huge whose body has this many bytes */
    size_t flood_events;     /* after the first `event` subscription: this many events at once */
    uint32_t slow_write_ms;  /* write every frame in small pieces, one every slow_write_ms */
    uint32_t slow_read_ms;   /* read one command per slow_read_ms */
    unsigned drop_after;     /* close an inbound connection after it sent this many commands */
} vox_sim_faults;

typedef struct vox_sim_log_line {
    int level; /* 0 error, 1 warning, 2 info, 3 debug */
    const char *line;
} vox_sim_log_line;

typedef struct vox_sim_opts {
    const char *host;     /* default "127.0.0.1" */
    uint16_t port;        /* default 0: an ephemeral port (vox_sim_port); the binary uses 8021 */
    const char *password; /* default "ClueCon" */
    /* users for userauth, "user@domain:password" each, NULL-terminated;
     * NULL: the single user 1000@127.0.0.1:secret1000 */
    const char *const *users;
    double speed; /* simulated time per real time; default 1.0 */
    /* HEARTBEAT interval; 0 (the default here): no HEARTBEAT events. The
     * vox-sim binary and scenario files default to 20000, FreeSWITCH's. */
    uint32_t heartbeat_ms;
    const char *hostname; /* FreeSWITCH-Hostname; default "vox-sim" */
    /* The outbound server ("host:port") of the sim's dialplan: an extension
     * reached by originate (loopback/9100 …) or a transfer answers and runs
     * `socket <socket> async full` (9999 hangs up, 9102 and 9105 park, 9101
     * skips the answer, 9106 leaves out `full`, 9104 parks after `resume`).
     * NULL: extensions answer and park. Scripted calls name their own. */
    const char *socket;
    const vox_sim_endpoint *endpoints;
    size_t nendpoints;
    vox_sim_faults faults;
    /* Scripted calls start only once this many inbound clients subscribed to events. */
    unsigned wait_clients;
    /* Log lines (from the simulator's thread); NULL: none. */
    void (*log)(const vox_sim_log_line *l, void *userdata);
    /* Lines above this level are not produced; 0 (the default here): errors
     * only. The vox-sim binary and scenario files default to 2. */
    int log_level;
    void *userdata;
} vox_sim_opts;

/* Start listening and run the simulator's thread. opts is copied (strings
 * too). 0, or VOX_EINVAL (bad options), VOX_ENOMEM, VOX_ESYS (bind/listen;
 * errno is set). */
int vox_sim_start(vox_sim **out, const vox_sim_opts *opts);
/* The inbound listening port. */
uint16_t vox_sim_port(const vox_sim *s);
/* Schedule one scripted call (copied). Returns its index (>= 0) in the
 * results, or VOX_EINVAL (s or call NULL, call->socket not "host:port" with
 * a port 1..65535), VOX_ENOMEM, or VOX_ECLOSED (vox_sim_stop ran): after
 * those two the call may stay in the results as one that ended without
 * running, not as scripted. */
int vox_sim_place(vox_sim *s, const vox_sim_call *call);
/* Wait until every placed call ended (channel destroyed and its socket
 * connection closed) or timeout_ms of real time passed. 0 when every call
 * ended as scripted, 1 when some did not, VOX_ETIMEDOUT, VOX_EINVAL (s
 * NULL). */
int vox_sim_wait(vox_sim *s, uint32_t timeout_ms);

/* What happened to one scripted call (valid until vox_sim_free). */
typedef struct vox_sim_result {
    const char *name;
    const char *uuid;
    int ended;         /* channel destroyed and socket closed */
    int as_scripted;   /* ended, and every expectation held */
    const char *cause; /* final hangup cause ("" while up) */
    const char *why;   /* the first expectation that failed, or "" */
    const char *steps; /* the account: one line per step ("answer", "playback …", …) */
} vox_sim_result;
/* Number of placed calls; *r filled for index i (0..n-1) when r is not NULL
 * and i is in range. Takes a snapshot: call after vox_sim_wait. */
size_t vox_sim_result_get(vox_sim *s, size_t i, vox_sim_result *r);

/* Stop: end every channel (SYSTEM_SHUTDOWN), send every connection the
 * shutdown notice and close it, join the thread. Cannot fail; a second call
 * does nothing. Not from the simulator's own thread (its log callback). */
void vox_sim_stop(vox_sim *s);
/* Stop (if not yet) and free. */
void vox_sim_free(vox_sim *s);

#ifdef __cplusplus
}
#endif
#endif
