/* libvox blocking connections — a poll() loop over the conn engine.
 *
 * One handle type serves both jobs: an inbound client (vox_connect: your
 * program connects to FreeSWITCH) and an outbound call (vox_call, handed to
 * your call function by the server in vox/server.h). A vox_call is a
 * vox_client whose role is outbound: every function here works on both.
 *
 * Each call blocks until its answer, its timeout, or the end of the
 * connection. Events that arrive meanwhile run the connection's hooks (on
 * the calling thread, from inside the blocking call) and, for an inbound
 * client, are queued for vox_next_event. Events that arrive with the end of
 * the handshake are held until the first blocking call (of the call function,
 * or after vox_connect returns), so hooks added first see them all. A
 * blocking call made inside a hook is allowed: events arriving meanwhile are
 * dispatched to the hooks from inside it.
 *
 * Thread rules: a vox_client is used by one thread at a time; hooks run on
 * that thread. Errors are the VOX_E* codes; on error *reply stays NULL
 * unless said otherwise.
 */
#ifndef VOX_CLIENT_H
#define VOX_CLIENT_H

#include <vox/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vox_client vox_client;
/* The outbound call: the same handle (see vox/server.h and vox/app.h). */
typedef struct vox_client vox_call;

typedef struct vox_client_opts {
    const char *host;            /* default "127.0.0.1" (a name or an IPv4/IPv6 address) */
    uint16_t port;               /* default 8021 */
    const char *password;        /* default "ClueCon"; user@domain:password -> userauth */
    uint32_t connect_timeout_ms; /* TCP connect plus handshake; default 5000 */
    uint32_t command_timeout_ms; /* each command, bgapi job and execute; default 30000;
                                  * UINT32_MAX waits forever */
    vox_format format;           /* of subscribed events */
    const char *events;          /* subscribed at connect, see vox_conn_opts */
    const vox_header *filters;   /* added at connect, see vox_conn_opts */
    size_t nfilters;
    size_t max_queued_events; /* events kept for vox_next_event; default 10000,
                               * older ones are dropped (counted) past it */
    const vox_limits *limits;
} vox_client_opts;

/* Connect, authenticate, subscribe. opts may be NULL (all defaults).
 * Errors: VOX_EINVAL, VOX_ENOMEM, VOX_ESYS (name lookup, socket or connect
 * failed: see errno), VOX_ETIMEDOUT, VOX_EAUTH (wrong password), VOX_EACCESS
 * (refused by FreeSWITCH's ACL), VOX_EREPLY (a subscription or filter was
 * refused), VOX_ECLOSED, VOX_EPROTO. *out is set only on success; free
 * with vox_close. */
VOX_EXPORT int vox_connect(vox_client **out, const vox_client_opts *opts);
/* Close and free (legal after any error). Queued events are freed. */
VOX_EXPORT void vox_close(vox_client *c);

/* `api <cmd>` (cmd holds the arguments: "uuid_kill abc"). *reply is the
 * api/response (caller frees with vox_msg_free). 0, or VOX_EREPLY when its
 * body starts with -ERR or -USAGE (*reply is set then too), VOX_EINVAL
 * (CR/LF in cmd), VOX_ETIMEDOUT, VOX_ECLOSED, VOX_ENOMEM. */
VOX_EXPORT int vox_api(vox_client *c, const char *cmd, vox_msg **reply);
/* `bgapi <cmd>`, waiting for its BACKGROUND_JOB: *result is that event's
 * message (its body the output). Errors as vox_api (VOX_EREPLY when the
 * bgapi command itself was refused: *result is then the -ERR reply). */
VOX_EXPORT int vox_bgapi(vox_client *c, const char *cmd, vox_msg **result);
/* Any command serialized with a vox_cmd_* function; *reply is its
 * command/reply (may be NULL when not wanted). VOX_EREPLY on -ERR (reply set). */
VOX_EXPORT int vox_command(vox_client *c, const vox_buf *cmd, vox_msg **reply);
/* `sendmsg [uuid]` with headers and body. */
VOX_EXPORT int vox_sendmsg(vox_client *c, const char *uuid, const vox_header *headers,
                           size_t nheaders, const char *body, size_t body_len, vox_msg **reply);
/* `sendevent <name>` with headers and body. */
VOX_EXPORT int vox_sendevent(vox_client *c, const char *name, const vox_header *headers,
                             size_t nheaders, const char *body, size_t body_len, vox_msg **reply);
/* Run an application and wait until it completes (see vox_conn_execute):
 * *complete is the CHANNEL_EXECUTE_COMPLETE message (may be NULL when not
 * wanted). VOX_EHANGUP when the channel hung up before it ran, VOX_EREPLY
 * (the sendmsg was refused: *complete is then the -ERR reply, read it with
 * vox_msg_reply_text), VOX_ETIMEDOUT, VOX_ECLOSED. Inbound, x->uuid is required and the events
 * of that channel must be subscribed (e.g. `myevents <uuid>` or the events
 * CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP). */
VOX_EXPORT int vox_exec(vox_client *c, const vox_execute *x, vox_msg **complete);

/* The next queued event, waiting up to timeout_ms (0: do not wait,
 * UINT32_MAX: forever). *ev is a message whose vox_msg_event is the event;
 * caller frees. VOX_ETIMEDOUT when none came, VOX_ECLOSED when the
 * connection ended and no event is left. Inbound clients only (VOX_ESTATE
 * on a call: use hooks). */
VOX_EXPORT int vox_next_event(vox_client *c, uint32_t timeout_ms, vox_msg **ev);
/* Events dropped because the queue was full (or, rarely, could not grow for
 * lack of memory). */
VOX_EXPORT uint64_t vox_dropped_events(const vox_client *c);

/* Hooks (see vox_conn_hook): they run inside whichever blocking call is
 * waiting when the event arrives, and for a call after the call function
 * returned, until the session ends. */
VOX_EXPORT int vox_hook(vox_client *c, const char *name, vox_event_cb cb, void *userdata);

/* The engine underneath (for its accessors); borrowed. */
VOX_EXPORT vox_conn *vox_client_conn(vox_client *c);
/* Half-close (see vox_conn_disconnect); the session ends when FreeSWITCH
 * closes. 0 or VOX_ECLOSED. */
VOX_EXPORT int vox_disconnect(vox_client *c);
/* 1 while the connection is usable (reading has not ended). */
VOX_EXPORT int vox_is_open(const vox_client *c);

#ifdef __cplusplus
}
#endif
#endif
