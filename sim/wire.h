/* vox-sim, the wire part's private header: the loop's state, one event-socket
 * connection, and the functions sim.c, conn.c, cmd.c and event.c share.
 * Everything here runs on the simulator's loop thread, except the post queue
 * and the stop flags (under the wire's mutex). */
#ifndef VOX_SIM_WIRE_H
#define VOX_SIM_WIRE_H
#include <stdint.h>
#include "sim_int.h"

/* FreeSWITCH's limits (mod_event_socket.c): events queued per listener, and
 * the failed pushes after which the listener is killed. */
#define WIRE_MAX_QUEUE 100000
#define WIRE_MAX_MISSED 500
/* The sim also bounds the queued bytes, so a client that never reads cannot
 * make it hold 100,000 big events. */
#define WIRE_MAX_QUEUE_BYTES ((size_t)32 << 20)
/* read_packet's header block limit, and the largest command body. */
#define WIRE_MAX_HEADER_BLOCK ((size_t)10 << 20)
#define WIRE_MAX_BODY ((size_t)16 << 20)
/* Unwritten output above which queued events wait and commands are not read:
 * FreeSWITCH's blocking send has the same effect. */
#define WIRE_OUT_HIGH ((size_t)1 << 20)
/* Real milliseconds for the first command (auth/connect), and for a closing
 * connection's last bytes to reach a peer that does not read. */
#define WIRE_FIRST_CMD_MS 25000
#define WIRE_CLOSE_GRACE_MS 2000

#define WIRE_GOODBYE "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
#define WIRE_SHUTDOWN "The system is being shut down.\n"
#define WIRE_LOST "killed listener because of lost events\n"

/* One queued frame (an event, a log line or a notice). */
typedef struct wire_frame {
    struct wire_frame *next;
    size_t len;
    int counted; /* counts against the queue limit (events, log lines) */
    char data[];
} wire_frame;

typedef sim_hdr wire_filter; /* a header name and the value it must have */

/* An api or bgapi command waiting for sim__api's done. */
typedef struct wire_req {
    struct wire_req *next, *prev; /* in the wire's list of all requests */
    sim_conn *k;                  /* NULL once the asking connection is gone */
    int bg;
    char *cmd, *arg;
    char job[37];
} wire_req;

/* A parsed command: the first line, its headers (values trimmed as
 * FreeSWITCH does), the body (NUL-terminated) or NULL. */
typedef struct wire_cmd {
    char *line;
    vox_header *h;
    size_t n, cap;
    char *body;
    size_t body_len;
} wire_cmd;

enum { WIRE_CLOSE_RUNNING = 0, WIRE_CLOSE_PENDING, WIRE_CLOSE_FLUSHING, WIRE_CLOSE_DONE };

struct sim_conn {
    sim *s;
    sim_conn *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer; /* first command, then linger, then the close grace */
    uv_timer_t rpace; /* slow_read_ms */
    uv_timer_t wpace; /* slow_write_ms */
    uv_connect_t creq;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    int handles; /* open uv handles, freed when 0 */
    unsigned id;

    /* role */
    int outbound, full, async;
    sim_chan *chan;  /* outbound: the channel until closed */
    char sess[37];   /* the controlled session's uuid ("" none) */
    int has_session; /* a session is set (outbound, or inbound myevents) */
    char chan_name[256];
    int connected; /* outbound: `connect` answered */
    int tcp_up;    /* outbound: TCP connect done */

    /* state */
    int authed, events, log, myevents, linger, resume, divert;
    int subscribed;   /* counted in the wire's subscriber number */
    int faults_later; /* flood/huge faults to run once the command is answered */
    int got_cmd;      /* the first command arrived */
    int log_level;
    long linger_secs; /* -1 forever */
    int hangup_seen;
    int hangup_later; /* the hangup came while a command ran: after its reply */
    vox_format fmt;
    uint8_t *evlist; /* one per known event name, plus ALL */
    char **sub;
    size_t nsub;
    wire_filter *filters;
    size_t nfilters, capfilters;
    unsigned ncmds;

    /* input */
    vox_buf in;
    size_t in_off;  /* start of the unread part */
    size_t scan;    /* bytes of the current block already scanned */
    int nl;         /* newlines seen at the end of the scanned part */
    int processing; /* inside process_input: events wait */
    int reading;    /* uv_read_start active */
    int rgate;      /* slow_read: waiting for the pace timer */

    /* output */
    vox_buf out;
    char *wbuf;
    size_t wlen;
    int writing, wgate;
    wire_frame *evq, *evq_tail;
    size_t evq_n, evq_bytes;
    unsigned lost;

    /* api / bgapi */
    wire_req *api;  /* the api in progress */
    int reply_wait; /* static socket: a sendmsg's reply comes later */
    unsigned jobs;  /* bgapi jobs not done */
    int close_state;
    const char *close_msg;
};

typedef struct wire_post {
    struct wire_post *next;
    void (*fn)(sim *s, void *ud);
    void *ud;
} wire_post;

typedef struct wire {
    uv_tcp_t listener;
    uv_async_t async;
    uv_timer_t heartbeat;
    uv_timer_t stop_grace;
    uv_thread_t thread;
    uv_mutex_t mu; /* post queue, stop_asked, stopped */
    wire_post *posts, *posts_tail;
    int thread_started, stop_asked, stopped, stopping;
    uint16_t port;
    sim_conn *conns;
    unsigned nconns, next_id;
    unsigned nsubscribed;
    int go_called;
    wire_req *reqs;
    /* sessions, counted from CHANNEL_CREATE / CHANNEL_DESTROY */
    unsigned sessions, sessions_peak, sessions_total;
    char ipv4[64];
    /* the date texts of the last second an event was made in */
    uint64_t date_sec;
    char date_local[32], date_gmt[48];
} wire;

static inline wire *wire_of(sim *s)
{
    return (wire *)s->wire;
}

/* ---------------------------------------------------------------- event.c */
/* Index of a FreeSWITCH event name (case-insensitive, SWITCH_EVENT_ prefix
 * allowed), or -1. wire__ev_all() is the index of ALL, wire__ev_custom() of
 * CUSTOM; wire__ev_count() the number of names. */
int wire__ev_index(const char *name);
int wire__ev_all(void);
int wire__ev_custom(void);
int wire__ev_count(void);
const char *wire__ev_name(int id);
/* Append value URL-encoded as FreeSWITCH does. 0 or VOX_ENOMEM. */
int wire__url_encode(vox_buf *b, const char *value);
/* Does connection k want event e (subscriptions, filters, myevents)? */
int wire__wants(const sim_conn *k, const sim_event *e);

/* ---------------------------------------------------------------- conn.c */
sim_conn *wire__conn_new(sim *s, int outbound);
/* Accepted: start reading (the tcp handle is already initialised). */
void wire__conn_start(sim_conn *k);
/* Append bytes to the output now (replies, notices). */
void wire__conn_send(sim_conn *k, const char *p, size_t n);
void wire__conn_sends(sim_conn *k, const char *p);
/* A command/reply with Reply-Text text. */
void wire__conn_reply(sim_conn *k, const char *text);
/* The same with more header lines after Reply-Text (each ending in "\n"). */
void wire__conn_reply_with(sim_conn *k, const char *text, const char *more);
/* Queue a frame behind the events (counted: an event or log line). Returns
 * 0, or -1 when the queue was full (the frame is dropped). */
int wire__conn_queue(sim_conn *k, const char *p, size_t n, int counted);
/* Move queued events to the output when the connection is between commands. */
void wire__conn_pump(sim_conn *k);
/* Drop the queued events (noevents, the end of a connection). */
void wire__conn_drop_events(sim_conn *k);
/* End the connection as FreeSWITCH's listener does: drop queued events,
 * (after pending bgapi jobs) the disconnect notice with msg, close. */
void wire__conn_finish(sim_conn *k, const char *msg);
/* A connection waiting for its jobs to end them: notice and close now. */
void wire__conn_finish_pending(sim_conn *k);
/* The sim stops: the shutdown notice, no waiting for jobs. */
void wire__conn_stop(sim_conn *k);
/* The simulator whose loop runs on this thread (sim__socket_open has no
 * other way to find it). */
void wire__set_current(sim *s);
/* Close at once, no notice. */
void wire__conn_drop(sim_conn *k);
/* The channel of an inbound session hung up (CHANNEL_HANGUP seen) or
 * completed (CHANNEL_HANGUP_COMPLETE): linger or close. */
void wire__conn_session_event(sim_conn *k, const sim_event *e);
/* Start the linger (notice now, close after the linger time) or close. */
void wire__conn_hangup(sim_conn *k);
/* Process buffered commands (after an api completed, a pace timer…). */
void wire__conn_process(sim_conn *k);
/* The number of inbound connections subscribed changed. */
void wire__subscribed(sim *s, sim_conn *k);
/* The flood and huge-event faults of a first subscription. */
void wire__subscribe_faults(sim *s, sim_conn *k);
/* Log line to the connections that asked with `log`. */
void wire__conn_log(sim *s, int fslevel, const char *text);
/* FreeSWITCH's name of a log level 0..7 (CONSOLE … DEBUG). */
const char *wire__log_name(int fslevel);
/* Called on the loop thread before it runs: writes to a peer that went away
 * never raise SIGPIPE in the embedding program. */
void wire__sigpipe_block(void);

/* ---------------------------------------------------------------- cmd.c */
/* Run one command; the reply is written (or, for api, later). */
void wire__cmd_run(sim_conn *k, wire_cmd *c);
void wire__cmd_free(wire_cmd *c);
void wire__req_free(sim *s, wire_req *r);
/* Send the connect reply of an outbound connection. */
void wire__connect_reply(sim_conn *k);

/* ---------------------------------------------------------------- sim.c */
/* Event counters for HEARTBEAT (sessions). */
void wire__count_event(sim *s, const sim_event *e);
/* A conn closed (its handles are closed): unlink, free; may finish a stop. */
void wire__conn_gone(sim_conn *k);

#endif
