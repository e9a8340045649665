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
 * unless said otherwise. Every vox_msg handed out is the caller's reference
 * (free with vox_msg_free); it stays valid after vox_close. Out-pointers for
 * messages may be NULL when the message is not wanted. Blocking requests
 * never return VOX_ESYS: a transport failure ends the connection and they
 * return VOX_ECLOSED; a timeout (VOX_ETIMEDOUT) leaves it usable.
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
    const char *host;            /* default "127.0.0.1" (a name or an IPv4/IPv6 address;
                                  * "" is refused) */
    uint16_t port;               /* default 8021 */
    const char *password;        /* default "ClueCon"; user@domain:password -> userauth
                                  * ("" is refused) */
    uint32_t connect_timeout_ms; /* TCP connect plus handshake; default 5000 */
    uint32_t command_timeout_ms; /* each command, bgapi job and execute; default 30000;
                                  * UINT32_MAX waits forever */
    vox_format format;           /* of subscribed events */
    const char *events;          /* subscribed at connect, see vox_conn_opts */
    const vox_header *filters;   /* added at connect, see vox_conn_opts */
    size_t nfilters;
    size_t max_queued_events; /* events kept for vox_next_event; default 10000,
                               * older ones are dropped (counted) past it */
    const vox_limits *limits;    /* NULL: defaults */
} vox_client_opts;

/* Connect, authenticate, subscribe. opts may be NULL (all defaults); it is
 * read during the call only (what must outlive it is copied). Errors:
 * VOX_EINVAL (out NULL, host or password "", events or filters as refused by
 * vox_conn_new), VOX_ENOMEM, VOX_ESYS (name lookup, socket or connect
 * failed: see errno), VOX_ETIMEDOUT, VOX_EAUTH (wrong password), VOX_EACCESS
 * (refused by FreeSWITCH's ACL), VOX_EREPLY (a subscription or filter was
 * refused), VOX_ECLOSED, VOX_EPROTO, VOX_ELIMIT. *out is set only on
 * success; free with vox_close. */
VOX_EXPORT int vox_connect(vox_client **out, const vox_client_opts *opts);
/* Close and free (legal after any error; NULL is ignored). Queued events
 * are freed. Inside a hook it only closes: the blocking call that ran the
 * hook (vox_api, vox_next_event …) then returns VOX_ECLOSED and frees c on
 * its way out, so c must not be used after that call. Never on a vox_call:
 * the server frees it. */
VOX_EXPORT void vox_close(vox_client *c);

/* `api <cmd>` (cmd holds the arguments: "uuid_kill abc"). *reply is the
 * api/response (caller frees with vox_msg_free). 0, or VOX_EREPLY when its
 * body starts with -ERR or -USAGE (*reply is set then too), VOX_EINVAL (c
 * NULL, cmd NULL, empty or with CR/LF), VOX_ETIMEDOUT (command_timeout_ms),
 * VOX_ECLOSED, VOX_ENOMEM. */
VOX_EXPORT int vox_api(vox_client *c, const char *cmd, vox_msg **reply);
/* `bgapi <cmd>`, waiting for its BACKGROUND_JOB: *result is that event's
 * message (the event's body is the output; 0 even when it starts with
 * -ERR). Errors as vox_api (VOX_EREPLY when the bgapi command itself was
 * refused: *result is then the -ERR reply). The job's event must be
 * subscribed (vox_connect does so); command_timeout_ms covers the reply and
 * the job. */
VOX_EXPORT int vox_bgapi(vox_client *c, const char *cmd, vox_msg **result);
/* Any one command serialized with a vox_cmd_* function; *reply is its
 * reply (may be NULL when not wanted). VOX_EREPLY on -ERR (reply set); other
 * errors as vox_api (VOX_EINVAL: cmd NULL or empty). */
VOX_EXPORT int vox_command(vox_client *c, const vox_buf *cmd, vox_msg **reply);
/* `sendmsg [uuid]` with headers and body (checked as vox_cmd_sendmsg
 * checks them: VOX_EINVAL); reply and errors as vox_command. */
VOX_EXPORT int vox_sendmsg(vox_client *c, const char *uuid, const vox_header *headers,
                           size_t nheaders, const char *body, size_t body_len, vox_msg **reply);
/* `sendevent <name>` with headers and body (checked as vox_cmd_sendevent
 * checks them: VOX_EINVAL); reply and errors as vox_command. */
VOX_EXPORT int vox_sendevent(vox_client *c, const char *name, const vox_header *headers,
                             size_t nheaders, const char *body, size_t body_len, vox_msg **reply);
/* Run an application and wait until it completes (see vox_conn_execute):
 * *complete is the CHANNEL_EXECUTE_COMPLETE message (may be NULL when not
 * wanted). VOX_EHANGUP when the channel hung up before it ran, VOX_EREPLY
 * (the sendmsg was refused: *complete is then the -ERR reply, read it with
 * vox_msg_reply_text), VOX_ETIMEDOUT, VOX_ECLOSED, VOX_ENOMEM, VOX_EINVAL (c
 * or x NULL, inbound without x->uuid, or as vox_conn_execute). x is read
 * during the call only; event_lock is the caller's choice (vox/app.h's
 * helpers set it). Inbound, x->uuid is required and the events of that
 * channel must be subscribed (e.g. `myevents <uuid>` or the events
 * CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP). */
VOX_EXPORT int vox_exec(vox_client *c, const vox_execute *x, vox_msg **complete);

/* The next queued event, oldest first, waiting up to timeout_ms (0: take
 * what the socket already holds, do not wait; UINT32_MAX: forever); hooks
 * run meanwhile. *ev is a message whose vox_msg_event is the event; caller
 * frees. VOX_ETIMEDOUT when none came, VOX_ECLOSED when the connection ended
 * and no event is left, VOX_EINVAL (c or ev NULL), VOX_ESYS or VOX_ENOMEM
 * (poll or a read buffer failed: the connection has ended). Inbound clients
 * only (VOX_ESTATE on a call: use hooks). */
VOX_EXPORT int vox_next_event(vox_client *c, uint32_t timeout_ms, vox_msg **ev);
/* Events dropped because the queue was full (or, rarely, could not grow for
 * lack of memory); 0 for NULL. */
VOX_EXPORT uint64_t vox_dropped_events(const vox_client *c);

/* Hooks (see vox_conn_hook; errors as there, VOX_EINVAL for a NULL c): they
 * run inside whichever blocking call is waiting when the event arrives, and
 * for a call after the call function returned, until the session ends — so
 * a call's hook userdata must outlive the call function (not its stack). */
VOX_EXPORT int vox_hook(vox_client *c, const char *name, vox_event_cb cb, void *userdata);

/* The engine underneath (for its accessors), NULL for a NULL c; borrowed
 * until vox_close (for a call: until the call function returns). Do not free
 * it; its opts callbacks and userdata are the library's. */
VOX_EXPORT vox_conn *vox_client_conn(vox_client *c);
/* Half-close (see vox_conn_disconnect): the queued output is written and
 * the write side shut down now, without waiting (hooks may run inside); the
 * session ends when FreeSWITCH closes. 0, VOX_EINVAL (c NULL), VOX_ECLOSED
 * (reading has ended, or already disconnecting), VOX_ESYS (poll failed). */
VOX_EXPORT int vox_disconnect(vox_client *c);
/* 1 while reading has not ended (0 for NULL). After vox_disconnect it stays
 * 1 until FreeSWITCH closes, though requests already fail with VOX_ECLOSED. */
VOX_EXPORT int vox_is_open(const vox_client *c);

#ifdef __cplusplus
}
#endif
#endif
