/* libvox async — the same engine driven by an event loop, through a small
 * adapter (include/vox/uv.h is the libuv one; others are ~150 lines).
 *
 * - vox_aclient: an inbound client that stays connected: subscriptions and
 *   filters declared once and replayed on every reconnect, hooks per event
 *   name (CUSTOM subclass included) and a catch-all, in arrival order; api and
 *   bgapi with completion callbacks; reconnect with exponential backoff and
 *   jitter; callbacks for connected, disconnected (with the reason) and
 *   "events may have been missed"; a wrong password is reported as such and
 *   retried only at the slowest backoff.
 * - vox_aserver: an outbound server for the largest scale: every session on
 *   the loop, driven by callbacks on its vox_conn (vox_conn_execute,
 *   vox_conn_api, vox_conn_hook …; vox/app.h's vox_arg_* build the arguments).
 *
 * Thread rules: everything runs on the loop's thread; every callback is called
 * from the loop, never inside the call that started or requested it. Closing
 * or freeing from inside a callback is legal. If a call that takes a callback
 * fails, the callback is never called. Callbacks get opts.userdata (or the
 * request's userdata) last; what they are given is borrowed until they return
 * (take a vox_msg_ref to keep a message).
 */
#ifndef VOX_ASYNC_H
#define VOX_ASYNC_H

#include <vox/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ the loop */

/* One socket watched by the loop on libvox's behalf (library-owned). */
typedef struct vox_watch vox_watch;

/* What an adapter provides. The library opens one handle per socket; each
 * handle watches the socket for readability/writability and has one timer
 * (some handles serve only as timers: their socket is never made readable).
 * Every member is required. */
typedef struct vox_loop_ops {
    /* Start watching fd (non-blocking) for w, with no interest yet; store the
     * adapter's state in *handle. 0, or a negative VOX_E* (the library then
     * closes fd itself; a positive value counts as VOX_ESYS). */
    int (*open)(void *loop, vox_watch *w, int fd, void **handle);
    /* Interest: VOX_WANT_READ | VOX_WANT_WRITE bits (0: none); replaces the
     * previous one. */
    void (*want)(void *handle, int events);
    /* Arm the timer delay_ms from now, replacing any earlier arming
     * (UINT64_MAX: stop it). It fires once, from the loop, never inside this
     * call (not even for 0). */
    void (*timer)(void *handle, uint64_t delay_ms);
    /* Stop watching and release the handle (possibly later, as libuv does);
     * no callback may reach w after this returns. Does not close fd. */
    void (*close)(void *handle);
    /* The loop's monotonic clock, in ms (current, not cached). */
    uint64_t (*now)(void *loop);
} vox_loop_ops;

/* An adapter and its loop. Copied by the functions that take it; ops and
 * loop must outlive everything started on them. */
typedef struct vox_loop {
    const vox_loop_ops *ops;
    void *loop;
} vox_loop;

/* The adapter calls these from the loop: fd became ready (VOX_WANT_READ /
 * VOX_WANT_WRITE bits; an error or hang-up counts as ready), or the handle's
 * timer fired. Never after ops->close on w's handle; NULL is ignored. */
VOX_EXPORT void vox_watch_ready(vox_watch *w, int events);
VOX_EXPORT void vox_watch_timeout(vox_watch *w);

/* ------------------------------------------------------ inbound client */

typedef struct vox_aclient vox_aclient;

typedef void (*vox_aclient_event_cb)(vox_aclient *c, const vox_event *ev, void *userdata);
/* api completion: as vox_reply_cb. */
typedef void (*vox_aclient_reply_cb)(vox_aclient *c, int status, const vox_msg *reply,
                                     void *userdata);
/* bgapi completion: as vox_job_cb. */
typedef void (*vox_aclient_job_cb)(vox_aclient *c, int status, const vox_event *job,
                                   void *userdata);

typedef struct vox_aclient_opts {
    const char *host;          /* default "127.0.0.1" (also for ""); a name is
                                * resolved with a blocking lookup on the loop's
                                * thread at every attempt: prefer an address */
    uint16_t port;             /* default 8021 */
    const char *password;      /* default "ClueCon"; user@domain:password -> userauth
                                * ("" is refused) */
    vox_format format;         /* of the subscription */
    const char *events;        /* subscribed on every connect (see vox_conn_opts) */
    const vox_header *filters; /* added on every connect */
    size_t nfilters;
    uint32_t connect_timeout_ms; /* TCP connect and handshake; default 5000 */
    uint32_t command_timeout_ms; /* api/bgapi; default 0 = none */
    uint32_t backoff_min_ms;     /* first retry delay; default 100 */
    uint32_t backoff_max_ms;     /* the slowest; default 30000 (also after VOX_EAUTH) */
    /* Connected and subscribed (every time, reconnects included). */
    void (*on_connect)(vox_aclient *c, void *userdata);
    /* The connection ended or a connect attempt failed: reason is the VOX_E*
     * (VOX_EAUTH for a wrong password, VOX_EACCESS, VOX_ESYS, VOX_ETIMEDOUT,
     * VOX_ECLOSED, VOX_EREPLY for a refused subscription or filter,
     * VOX_EPROTO, VOX_ELIMIT, VOX_ENOMEM); retry_ms is when the next attempt
     * starts. Pending requests have completed with VOX_ECLOSED by then. Not
     * called for the end vox_aclient_stop makes. */
    void (*on_disconnect)(vox_aclient *c, int reason, uint32_t retry_ms, void *userdata);
    /* Reconnected after having been connected: events may have been missed. */
    void (*on_missed)(vox_aclient *c, void *userdata);
    /* Every event, after the hooks. */
    vox_aclient_event_cb on_event;
    void *userdata; /* given to the callbacks above */
} vox_aclient_opts;

/* Start connecting (returns at once; the first attempt starts from the
 * loop). opts is copied (strings and filters too). *out is set on success
 * (NULL on error). Errors: VOX_EINVAL (out, loop or opts NULL, a loop op
 * missing, a password, format, events or filters that vox_conn_new refuses),
 * VOX_ENOMEM, VOX_ESYS (no socket for the retry timer), or the adapter's
 * open error. Stop and free with vox_aclient_stop. */
VOX_EXPORT int vox_aclient_start(vox_aclient **out, const vox_loop *loop,
                                 const vox_aclient_opts *opts);
/* Close, stop reconnecting, complete pending requests with VOX_ECLOSED
 * (their callbacks run inside this call), free (deferred when called from a
 * callback). No on_disconnect; no callback after it returns; c is invalid
 * then. NULL is ignored. */
VOX_EXPORT void vox_aclient_stop(vox_aclient *c);
/* Hook events by Event-Name or CUSTOM subclass (name NULL: every event;
 * case-insensitive, copied), in the order added, before on_event. Kept
 * across reconnects; userdata must stay valid until vox_aclient_stop. 0,
 * VOX_EINVAL (c or cb NULL, name "", stopping), VOX_ENOMEM. */
VOX_EXPORT int vox_aclient_hook(vox_aclient *c, const char *name, vox_aclient_event_cb cb,
                                void *userdata);
/* `api <cmd>` / `bgapi <cmd>` on the current connection, with
 * command_timeout_ms. cb may be NULL (fire and forget); it gets the statuses
 * of vox_reply_cb / vox_job_cb (a drop completes it with VOX_ECLOSED).
 * Returns 0, VOX_EINVAL (c NULL, cmd NULL, empty or with CR/LF), VOX_ENOMEM,
 * or VOX_ECLOSED at once (callback not called) while not connected (the
 * handshake included). */
VOX_EXPORT int vox_aclient_api(vox_aclient *c, const char *cmd, vox_aclient_reply_cb cb,
                               void *userdata);
VOX_EXPORT int vox_aclient_bgapi(vox_aclient *c, const char *cmd, vox_aclient_job_cb cb,
                                 void *userdata);
/* 1 while connected and subscribed (0 for NULL). */
VOX_EXPORT int vox_aclient_connected(const vox_aclient *c);
/* The current engine (NULL while not connected), for vox_conn_* requests.
 * Borrowed until the next disconnect (on_disconnect). Do not free it; its
 * userdata and opts callbacks are the library's; hooks added on it directly
 * are lost at the next reconnect (use vox_aclient_hook). */
VOX_EXPORT vox_conn *vox_aclient_conn(vox_aclient *c);
/* opts.userdata (NULL for NULL). */
VOX_EXPORT void *vox_aclient_userdata(const vox_aclient *c);

/* ----------------------------------------------------- outbound server */

typedef struct vox_aserver vox_aserver;
/* One call on the async server. */
typedef struct vox_session vox_session;

typedef struct vox_aserver_opts {
    const char *host;              /* default "127.0.0.1"; "::" or "0.0.0.0" for all */
    uint16_t port;                 /* 0: ephemeral (vox_aserver_port) */
    unsigned max_sessions;         /* default 10000; past it: closed at once, logged */
    const char *const *allow;      /* allowed peer addresses, NULL-terminated, matched
                                    * as vox_server_opts.allow; NULL: any */
    uint32_t handshake_timeout_ms; /* default 5000 */
    vox_format format;
    int linger_seconds; /* 0: bare linger (forever) */
    /* The handshake is done: drive the call with vox_session_conn. Required.
     * A failed handshake is only logged (no on_session, no on_end). */
    void (*on_session)(vox_session *s, void *userdata);
    /* The session ended (reading ended and its socket is closed): reason as
     * vox_conn_opts.on_close. Only for sessions that had on_session. The
     * session is freed after this returns. May be NULL. */
    void (*on_end)(vox_session *s, int reason, void *userdata);
    /* Log lines as vox_log_fn (levels 0-3), with userdata below. NULL: lines
     * but debug ones go to stderr. */
    void (*log)(int level, const char *line, void *userdata);
    void *userdata; /* given to on_session, on_end and log */
} vox_aserver_opts;

/* Listen and start accepting on the loop. opts is copied (host and allow
 * too). *out is set on success (NULL on error). Errors: VOX_EINVAL (out,
 * loop, loop->ops or opts NULL, on_session NULL, an unknown format), VOX_ENOMEM, VOX_ESYS (name
 * lookup, bind/listen, a pipe: errno), or the adapter's open error. */
VOX_EXPORT int vox_aserver_start(vox_aserver **out, const vox_loop *loop,
                                 const vox_aserver_opts *opts);
/* The port actually bound, and the sessions open now, handshakes included
 * (0 for NULL). */
VOX_EXPORT uint16_t vox_aserver_port(const vox_aserver *s);
VOX_EXPORT unsigned vox_aserver_active(const vox_aserver *s);
/* Graceful stop: stop accepting (the listening socket closes now);
 * sessions may end by themselves until drain_ms, then the rest are closed
 * (on_end with VOX_ECLOSED); done (may be NULL) runs from the loop once
 * every session ended, then the server is freed: s is invalid after done.
 * NULL or a second call is ignored. */
VOX_EXPORT void vox_aserver_stop(vox_aserver *s, uint32_t drain_ms,
                                 void (*done)(vox_aserver *s, void *userdata), void *userdata);

/* The session's engine: borrowed from on_session until on_end returns. Do
 * not free it (vox_conn_close ends the session); its userdata and opts
 * callbacks are the library's: keep yours with vox_session_set_userdata. */
VOX_EXPORT vox_conn *vox_session_conn(vox_session *s);
/* The call's Unique-ID, borrowed as the session (NULL before on_session). */
VOX_EXPORT const char *vox_session_uuid(const vox_session *s);
/* The user's pointer for this session (NULL until set; NULL s ignored). */
VOX_EXPORT void vox_session_set_userdata(vox_session *s, void *userdata);
VOX_EXPORT void *vox_session_userdata(const vox_session *s);

#ifdef __cplusplus
}
#endif
#endif
