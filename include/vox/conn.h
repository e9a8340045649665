/* libvox conn — one event-socket connection as a sans-I/O state machine.
 *
 * The driver (blocking poll loop, libuv, or a test) moves bytes and time:
 *   - bytes read from the socket  -> vox_conn_feed()
 *   - the peer closed / I/O error -> vox_conn_eof() / vox_conn_abort()
 *   - bytes to write              <- vox_conn_output() / vox_conn_consume()
 *   - the clock                   -> vox_conn_tick(); next deadline <- vox_conn_deadline()
 *   - what to do with the socket  <- vox_conn_wants()
 * User requests (api, bgapi, execute, …) queue bytes and register a
 * completion callback. Every callback but on_wants runs inside
 * feed/eof/abort/tick/close (and pause, when resuming; free, when reading
 * had not ended), never inside the request itself; on_wants may run at the
 * end of any call.
 *
 * Lifecycle (outbound): HANDSHAKE (connect, myevents, linger) -> ACTIVE ->
 * DRAINING -> CLOSED. Reading ends when the session has seen both
 * CHANNEL_HANGUP_COMPLETE (of its channel) and the linger disconnect-notice,
 * in either order, or at EOF, an error, or vox_conn_close(). Every event that
 * arrives before that goes to the hooks. When reading ends, every waiting
 * command, execute and job completes with VOX_ECLOSED, then on_close runs
 * once, then vox_conn_wants() says VOX_WANT_CLOSE; later requests fail at once
 * with VOX_ECLOSED.
 * Inbound: HANDSHAKE (auth/request, auth, event subscription, filters) ->
 * ACTIVE -> CLOSED at EOF, error or close.
 *
 * Callbacks: the object first, userdata last. Everything a callback is given
 * is borrowed until it returns (take a vox_msg_ref to keep a message).
 * vox_conn_close() and vox_conn_free() are legal inside any callback: the
 * free is deferred until the outermost libvox call on this conn returns.
 * If a call that takes a callback fails, the callback is never called.
 *
 * Thread rules: a vox_conn is used from one thread at a time; its callbacks
 * run on the thread that drives it.
 *
 * NULL: the accessors (vox_conn_role … vox_conn_error_text,
 * vox_conn_channel_data, vox_conn_uuid, vox_conn_hungup) need a valid c;
 * every other function ignores a NULL c or returns VOX_EINVAL for it.
 */
#ifndef VOX_CONN_H
#define VOX_CONN_H

#include <vox/proto.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vox_conn vox_conn;

typedef enum vox_role {
    VOX_ROLE_INBOUND = 0, /* we connected to FreeSWITCH (port 8021) */
    VOX_ROLE_OUTBOUND,    /* FreeSWITCH connected to us for one call */
} vox_role;

typedef enum vox_conn_state {
    VOX_STATE_HANDSHAKE = 0,
    VOX_STATE_ACTIVE,
    VOX_STATE_DRAINING, /* reading has ended; completions are being delivered */
    VOX_STATE_CLOSED,
} vox_conn_state;

/* Completion of a command: status 0 (a reply that is not -ERR/-USAGE),
 * VOX_EREPLY (-ERR; reply holds it), VOX_ECLOSED, VOX_ETIMEDOUT. reply is
 * NULL unless a reply arrived. */
typedef void (*vox_reply_cb)(vox_conn *c, int status, const vox_msg *reply, void *userdata);
/* Completion of an execute: status 0 with the CHANNEL_EXECUTE_COMPLETE event
 * (for loops, the last one; an application cut short by hangup also ends
 * with 0 and its late event), VOX_EREPLY (sendmsg got -ERR; ev NULL),
 * VOX_EHANGUP (the channel hung up, or its linger notice came, and the
 * application never started; ev NULL), VOX_ECLOSED, VOX_ETIMEDOUT (ev NULL:
 * the application may still be running on FreeSWITCH). */
typedef void (*vox_exec_cb)(vox_conn *c, int status, const vox_event *ev, void *userdata);
/* Completion of a bgapi job: status 0 with the BACKGROUND_JOB event (its
 * body is the command's output, which may itself start with -ERR),
 * VOX_EREPLY (the bgapi command was refused; ev NULL, see vox_conn_reply),
 * VOX_ECLOSED, VOX_ETIMEDOUT (ev NULL). */
typedef void (*vox_job_cb)(vox_conn *c, int status, const vox_event *ev, void *userdata);
/* An event hook (ev borrowed until it returns). */
typedef void (*vox_event_cb)(vox_conn *c, const vox_event *ev, void *userdata);

typedef struct vox_conn_opts {
    vox_role role;
    /* Inbound: the password, or user@domain:password for userauth. */
    const char *password;
    /* Format of subscribed events (inbound `event`, outbound `myevents`). */
    vox_format format;
    /* Inbound: events subscribed during the handshake, space-separated
     * ("CHANNEL_ANSWER CHANNEL_HANGUP", "ALL", "CUSTOM sofia::register").
     * NULL: none. BACKGROUND_JOB is always added (bgapi needs it) unless
     * no_background_job is set. */
    const char *events;
    int no_background_job;
    /* Inbound: filters added during the handshake, in order. When any is
     * given, `filter Event-Name BACKGROUND_JOB` is added too (filters also
     * hide job results) unless no_background_job is set. */
    const vox_header *filters;
    size_t nfilters;
    /* Outbound: linger seconds after hangup; 0 = forever (bare `linger`),
     * which is what makes the lifecycle reliable. no_linger: send neither. */
    int linger_seconds;
    int no_linger;
    /* Outbound: accept a socket without `full` or without `async` (by
     * default the handshake fails with VOX_ENOTFULL / VOX_ENOTASYNC). */
    int allow_single_channel;
    int allow_static;
    /* Pause (see vox_conn_pause) as soon as the handshake succeeded, so that
     * events arriving right behind the last handshake reply wait until the
     * user's code has registered its hooks and resumes. */
    int pause_after_handshake;
    /* Handshake deadline in ms from the first vox_conn_tick (0: none). */
    uint32_t handshake_timeout_ms;
    /* Parser limits; NULL: defaults. */
    const vox_limits *limits;
    /* Mixed into generated Job-UUIDs and Event-UUIDs (drivers pass random
     * bytes here; ids stay unique without it, only less unpredictable). */
    uint64_t seed;

    /* The handshake ended, once: status 0 (ACTIVE), VOX_EAUTH, VOX_EACCESS,
     * VOX_ENOTFULL, VOX_ENOTASYNC, VOX_EREPLY (connect, a subscription, a
     * filter, myevents or linger was refused), VOX_ETIMEDOUT, VOX_ECLOSED
     * (EOF), VOX_EPROTO, VOX_ELIMIT, VOX_ENOMEM, or the reason given to
     * vox_conn_abort/vox_conn_close (VOX_ECLOSED for 0). On failure on_close
     * follows. May be NULL. */
    void (*on_ready)(vox_conn *c, int status, void *userdata);
    /* Every event, after the hooks, in arrival order (may be NULL). */
    vox_event_cb on_event;
    /* log/data messages (may be NULL). */
    void (*on_log)(vox_conn *c, const vox_msg *msg, void *userdata);
    /* text/disconnect-notice (both linger and disconnect), may be NULL. */
    void (*on_notice)(vox_conn *c, const vox_msg *msg, void *userdata);
    /* For drivers: vox_conn_wants() may have changed outside feed, eof, abort
     * and tick (a request was queued, a disconnect or close was asked from
     * outside a callback). An event-loop driver updates its interest here.
     * Called when the outermost libvox call on c returns; may be NULL. */
    void (*on_wants)(vox_conn *c, void *userdata);
    /* Reading has ended, once, after every waiter completed: reason 0 for a
     * normal end (outbound latch, or EOF after a hangup, a disconnect notice
     * or our own disconnect/exit), VOX_ECLOSED (the peer dropped us),
     * VOX_EPROTO/VOX_ELIMIT (bad bytes: see vox_conn_error_text), VOX_ENOMEM,
     * a failed handshake's status (VOX_EAUTH, VOX_EACCESS, VOX_ENOTFULL,
     * VOX_ENOTASYNC, VOX_EREPLY, VOX_ETIMEDOUT), or the status given to
     * vox_conn_abort/vox_conn_close. May be NULL. */
    void (*on_close)(vox_conn *c, int reason, void *userdata);
    void *userdata;
} vox_conn_opts;

/* Create a connection engine. opts is copied (the strings and filters too;
 * limits is read now). No callback runs inside this call. The first bytes to
 * send are queued at once (outbound: `connect`; inbound waits for
 * auth/request). *out is set on success (NULL on error); free with
 * vox_conn_free. Errors: VOX_EINVAL (out or opts NULL, an unknown role, an
 * unknown format; inbound: no or an empty password, a CR/LF in the password
 * or events, filters NULL with nfilters > 0, a filter name or value NULL,
 * empty or with CR/LF, a space in a filter name), VOX_ENOMEM. Other outbound
 * options are not checked here. */
VOX_EXPORT int vox_conn_new(vox_conn **out, const vox_conn_opts *opts);
/* Free the engine. If reading has not ended, it ends now as by
 * vox_conn_close(c, VOX_ECLOSED) (waiters complete, on_close runs) first.
 * Legal inside a callback (deferred). NULL is ignored. */
VOX_EXPORT void vox_conn_free(vox_conn *c);

/* The role, the state, and opts.userdata. */
VOX_EXPORT vox_role vox_conn_role(const vox_conn *c);
VOX_EXPORT vox_conn_state vox_conn_get_state(const vox_conn *c);
VOX_EXPORT void *vox_conn_userdata(const vox_conn *c);
/* Why reading ended: 0 while it has not (or after a normal end), else the
 * reason on_close got. The text says why: for protocol and limit errors the
 * parser's reason with its byte offset, for a refused handshake the peer's
 * reply, else a fixed text; "" while the reason is 0. Never NULL; borrowed
 * from c until vox_conn_free. */
VOX_EXPORT int vox_conn_error(const vox_conn *c);
VOX_EXPORT const char *vox_conn_error_text(const vox_conn *c);

/* ---------------------------------------------------------- driver side */

/* Bytes read from the socket. Consumes all of them (buffering a partial
 * message), running callbacks for whatever completes. Bytes after reading
 * has ended are ignored. Returns 0, VOX_EINVAL (c NULL, or data NULL with
 * len > 0), or the error that ended reading (VOX_EPROTO, VOX_ELIMIT,
 * VOX_ENOMEM) — the engine has then closed itself, and later calls return
 * the same error.
 * Re-entrant: a callback may make the driver read and feed more (a blocking
 * request made inside a hook); the bytes left of the outer call are then
 * processed first, so the stream stays in order. data must stay valid until
 * the call returns, and a nested call must not reuse the outer's buffer. */
VOX_EXPORT int vox_conn_feed(vox_conn *c, const char *data, size_t len);
/* Flow control: while paused (paused nonzero), fed bytes (and an EOF) are
 * kept, not parsed; resuming processes them, running callbacks. Timeouts
 * still fire. Returns 0, VOX_EINVAL (c NULL), or VOX_ENOMEM when reading has
 * ended for lack of memory (bytes could not be kept, now or earlier). */
VOX_EXPORT int vox_conn_pause(vox_conn *c, int paused);
/* The peer closed its side (read returned 0). Reading ends: reason 0 when
 * the end was expected (see on_close), else VOX_ECLOSED. */
VOX_EXPORT void vox_conn_eof(vox_conn *c);
/* The transport failed (or the driver gives up): reading ends with reason
 * err (a negative VOX_E*, typically VOX_ECLOSED or VOX_ESYS; 0 or more is
 * taken as VOX_ECLOSED). No effect once reading has ended. */
VOX_EXPORT void vox_conn_abort(vox_conn *c, int err);

/* Bytes waiting to be written (NULL/0 when none, and once reading has
 * ended); borrowed until the next call on c. Tell the engine how many were
 * written with vox_conn_consume (n past the end drops them all). */
VOX_EXPORT const char *vox_conn_output(const vox_conn *c, size_t *len);
VOX_EXPORT void vox_conn_consume(vox_conn *c, size_t n);

/* Time: give the engine the current monotonic time in milliseconds. Expired
 * deadlines complete with VOX_ETIMEDOUT. The first call also starts the
 * handshake timeout. Requests made later measure their timeouts from the
 * time given last. */
VOX_EXPORT void vox_conn_tick(vox_conn *c, uint64_t now_ms);
/* The earliest pending deadline (absolute ms, same clock), or UINT64_MAX
 * (none, or reading has ended). */
VOX_EXPORT uint64_t vox_conn_deadline(const vox_conn *c);

/* What the driver should do with the socket (a bit set). Once reading has
 * ended it is VOX_WANT_CLOSE alone (also for a NULL c). */
enum {
    VOX_WANT_READ = 1,     /* keep reading */
    VOX_WANT_WRITE = 2,    /* output is waiting */
    VOX_WANT_SHUTDOWN = 4, /* output drained after a disconnect: shutdown(SHUT_WR) */
    VOX_WANT_CLOSE = 8,    /* reading has ended: close the socket */
};
VOX_EXPORT int vox_conn_wants(const vox_conn *c);

/* ------------------------------------------------------------ user side */

/* Every request below: timeout_ms 0 means none; it counts from the time
 * given last to vox_conn_tick (before the first tick, from the first tick).
 * Returns 0 when queued, or VOX_EINVAL (c NULL, a bad argument, CR/LF),
 * VOX_ENOMEM, VOX_ECLOSED (reading has ended, or vox_conn_disconnect was
 * called); on error the callback is never called. The command is serialized
 * at once: strings and structs given are borrowed for the call only; cb and
 * userdata are kept until the completion runs (exactly once, possibly inside
 * a later call that runs callbacks). cb may be NULL (fire and forget).
 * Requests may be made during the handshake: they are sent after it. Replies
 * are matched to requests in order; a request that timed out still consumes
 * its reply when it comes. */

/* `api <cmd> [args]`: the reply is the api/response (its body the output).
 * status VOX_EREPLY when the body starts with -ERR (or -USAGE). VOX_EINVAL:
 * cmd NULL or empty. */
VOX_EXPORT int vox_conn_api(vox_conn *c, const char *cmd, const char *args, uint32_t timeout_ms,
                            vox_reply_cb cb, void *userdata);
/* `bgapi <cmd> [args]` with a Job-UUID (job_uuid, or a generated one when
 * NULL; the one used is copied to job_out when not NULL). Completes when the
 * BACKGROUND_JOB event with that Job-UUID arrives: that event must be
 * subscribed (inbound engines subscribe it unless no_background_job), else
 * only a timeout or the end completes it. VOX_EINVAL also: cmd NULL or empty,
 * job_uuid "" or of 128 bytes or more, job_out_size under 37 (or under
 * strlen(job_uuid) + 1). */
VOX_EXPORT int vox_conn_bgapi(vox_conn *c, const char *cmd, const char *args, const char *job_uuid,
                              char *job_out, size_t job_out_size, uint32_t timeout_ms,
                              vox_job_cb cb, void *userdata);
/* Any other command, already serialized by a vox_cmd_* function into buf:
 * exactly one command, since one reply is matched to each request (its bytes
 * are copied). Completes with its reply. VOX_EINVAL: buf NULL or empty. */
VOX_EXPORT int vox_conn_command(vox_conn *c, const vox_buf *buf, uint32_t timeout_ms,
                                vox_reply_cb cb, void *userdata);
/* Run an application (sendmsg execute) and wait for its
 * CHANNEL_EXECUTE_COMPLETE, matched by Event-UUID -> Application-UUID.
 * Outbound: x->uuid may be NULL (the call's channel). Inbound: x->uuid names
 * the channel (not checked here) and its events must be subscribed. Returns
 * VOX_EHANGUP at once (the callback is not called) when the call's channel
 * has already hung up or its linger notice came — also once the session has
 * ended after that, where other requests get VOX_ECLOSED. With loops, completes at
 * the last loop, or when FreeSWITCH stops early (an iteration under 0.5 s,
 * another application started, or a hangup). The Event-UUID used
 * (x->event_uuid, or a generated one) is copied to uuid_out when not NULL.
 * VOX_EINVAL also: x NULL, x->app NULL or empty, x->loops < -1, uuid_out_size
 * under 37 (or not above strlen(x->event_uuid)), x->uuid or x->event_uuid of
 * 128 bytes or more, a bad header in x->headers (see vox_cmd_execute). */
VOX_EXPORT int vox_conn_execute(vox_conn *c, const vox_execute *x, char *uuid_out,
                                size_t uuid_out_size, uint32_t timeout_ms, vox_exec_cb cb,
                                void *userdata);
/* Inside a completion callback, the reply that completed the request: the
 * -ERR of a refused execute or bgapi (whose callbacks carry no event), or
 * the reply given to a vox_reply_cb. NULL anywhere else. Borrowed until the
 * callback returns (take a vox_msg_ref to keep it). */
VOX_EXPORT const vox_msg *vox_conn_reply(const vox_conn *c);
/* Hook an event by name ("CHANNEL_ANSWER"), by CUSTOM subclass
 * ("sofia::register"), or every event (name NULL); names compare
 * case-insensitively and are copied. Hooks run in the order they were added,
 * before on_event; one added inside a hook runs from the next event on; a
 * close inside a hook skips the rest. A hook cannot be removed: userdata
 * must stay valid until the engine is freed. Returns 0, VOX_EINVAL (c or cb
 * NULL, name ""), VOX_ENOMEM. */
VOX_EXPORT int vox_conn_hook(vox_conn *c, const char *name, vox_event_cb cb, void *userdata);

/* Half-close: after the queued output is written the driver shuts the write
 * side down (VOX_WANT_SHUTDOWN); FreeSWITCH then ends the call and closes,
 * and the session ends through the normal path. Requests made afterwards
 * fail with VOX_ECLOSED. Returns 0, VOX_EINVAL (c NULL), VOX_ECLOSED
 * (reading has ended, or a disconnect was already asked). */
VOX_EXPORT int vox_conn_disconnect(vox_conn *c);
/* End reading now with reason (0 for a deliberate close): on_ready runs
 * first if the handshake was still running, waiters complete with
 * VOX_ECLOSED, on_close runs, the driver closes the socket. Idempotent;
 * legal inside callbacks; NULL is ignored. */
VOX_EXPORT void vox_conn_close(vox_conn *c, int reason);

/* Outbound: the reply to `connect` as an event (the channel data: Unique-ID,
 * Caller-*, variable_*, decoded), or NULL before it arrived (always NULL
 * inbound). Borrowed from c until vox_conn_free (it is never replaced). */
VOX_EXPORT const vox_event *vox_conn_channel_data(const vox_conn *c);
/* Outbound: the call's Unique-ID, or NULL before the connect reply (always
 * NULL inbound). Borrowed from c until vox_conn_free. */
VOX_EXPORT const char *vox_conn_uuid(const vox_conn *c);
/* Outbound: 1 once CHANNEL_HANGUP (or HANGUP_COMPLETE) of the call was seen
 * (always 0 inbound). */
VOX_EXPORT int vox_conn_hungup(const vox_conn *c);

#ifdef __cplusplus
}
#endif
#endif
