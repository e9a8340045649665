/* libvox outbound server (threaded) — FreeSWITCH's dialplan
 * (`socket 127.0.0.1:8084 async full`) connects once per call; each call's
 * code runs on its own thread, straight-line, with blocking helpers
 * (vox/app.h, vox/client.h).
 *
 * Lifecycle of a call (DESIGN.md): the server does the handshake (connect,
 * myevents, linger), then runs the call function. Its hooks run on the call's
 * thread, while the call function waits in a blocking helper and after it
 * returns: the session lingers on by itself until it has seen both
 * CHANNEL_HANGUP_COMPLETE and the linger notice (or EOF, or an error, or the
 * drain deadline), then closes. A call function never runs concurrently with
 * its own hooks.
 *
 * Thread rules: vox_server_* are called from one controlling thread (any
 * thread but a call's own). The call function receives a vox_call that is
 * valid until it returns; the library owns and frees it (never vox_close
 * it). Hooks added on it run on the call's thread until the session ends,
 * after the call function returned: their userdata must live that long.
 * Call functions run at the same time on their own threads: what they
 * share through userdata needs locks of the user's.
 */
#ifndef VOX_SERVER_H
#define VOX_SERVER_H

#include <vox/client.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vox_server vox_server;

/* The call function. Runs on the call's own thread after a successful
 * handshake (a failed one is only logged). Blocking helpers on call return
 * VOX_ECLOSED once the session has ended. */
typedef void (*vox_call_fn)(vox_call *call, void *userdata);

/* A log line from the server (level: 0 error, 1 warning, 2 info, 3 debug;
 * line borrowed until it returns). Called from the server's and the calls'
 * threads, possibly at once: it must be thread-safe. */
typedef void (*vox_log_fn)(int level, const char *line, void *userdata);

typedef struct vox_server_opts {
    const char *host;              /* default "127.0.0.1"; "::" or "0.0.0.0" for all */
    uint16_t port;                 /* 0: an ephemeral port (vox_server_port says which) */
    unsigned max_calls;            /* concurrent calls (threads); default 256. Past it a
                                    * connection is closed at once and a line logged */
    const char *const *allow;      /* peer addresses allowed (NULL-terminated, IPv4 or
                                    * IPv6 text, exact match; an IPv4 peer on an IPv6
                                    * socket is matched as a.b.c.d); NULL: any */
    uint32_t handshake_timeout_ms; /* default 5000 */
    uint32_t command_timeout_ms;   /* each blocking helper; default: none */
    uint32_t drain_timeout_ms;     /* vox_server_stop waits this long for calls to
                                    * end before closing them; default 10000 */
    vox_format format;             /* myevents format */
    int linger_seconds;            /* 0: bare linger (forever) */
    size_t thread_stack;           /* bytes; default 256 KiB */
    vox_log_fn log;                /* NULL: lines but debug ones go to stderr */
    void *log_userdata;
} vox_server_opts;

/* Listen and start accepting on a thread of its own. opts may be NULL (all
 * defaults); it is copied (host and allow too). fn and userdata are kept
 * until vox_server_stop returns. *out is set only on success. Errors:
 * VOX_EINVAL (out or fn NULL, an unknown format), VOX_ENOMEM, VOX_ESYS (name lookup,
 * bind/listen, a pipe or a thread failed: see errno). */
VOX_EXPORT int vox_server_start(vox_server **out, const vox_server_opts *opts, vox_call_fn fn,
                                void *userdata);
/* The port actually bound (0 for NULL). */
VOX_EXPORT uint16_t vox_server_port(const vox_server *s);
/* Calls running now (lingering ones included), and calls served since
 * start (0 for NULL). Callable from any thread while the server runs. */
VOX_EXPORT unsigned vox_server_active(const vox_server *s);
VOX_EXPORT uint64_t vox_server_served(const vox_server *s);
/* Graceful stop: stop accepting, let calls end up to drain_timeout_ms, then
 * shut the rest's sockets down (their blocking helpers return VOX_ECLOSED),
 * join every thread — so it waits for every call function to return — and
 * free s. NULL is ignored. Never from a call's thread. */
VOX_EXPORT void vox_server_stop(vox_server *s);
/* Start, run until SIGINT or SIGTERM, stop. Returns 0 (after the stop) or
 * a start error, or VOX_ESYS when the signals could not be blocked. SIGINT
 * and SIGTERM are blocked in the calling thread (and so in the server's
 * threads) while it runs, then the old mask is restored; other threads of
 * the program must block them too, or a signal may go to them instead. */
VOX_EXPORT int vox_serve(const vox_server_opts *opts, vox_call_fn fn, void *userdata);

/* ---------------------------------------------------------- the call */

/* The call's Unique-ID (NULL for NULL or an inbound client). Borrowed
 * until the call function returns. */
VOX_EXPORT const char *vox_call_uuid(const vox_call *call);
/* The channel data: the connect reply's headers, kept current from every
 * CHANNEL_DATA and CHANNEL_EXECUTE_COMPLETE of the call's channel (and
 * vox_call_update). NULL for NULL or an inbound client. Borrowed until the
 * next blocking helper on call. */
VOX_EXPORT const vox_event *vox_call_data(vox_call *call);
/* A channel variable (variable_<name> of the channel data, decoded), NULL
 * when unset (or call or name NULL or ""). Borrowed until the next blocking
 * helper on call. */
VOX_EXPORT const char *vox_call_variable(vox_call *call, const char *name);
/* Refresh the channel data with `api uuid_dump <uuid>` (a blocking helper).
 * 0, VOX_EINVAL (call NULL), VOX_ESTATE (not an outbound call), vox_api's
 * errors (VOX_EREPLY, e.g. the channel is gone), VOX_EPROTO or VOX_ELIMIT (the
 * dump could not be read as an event); on error the data is unchanged. */
VOX_EXPORT int vox_call_update(vox_call *call);
/* 1 once the channel hung up (CHANNEL_HANGUP or HANGUP_COMPLETE seen); 0
 * for NULL. */
VOX_EXPORT int vox_call_hungup(const vox_call *call);

#ifdef __cplusplus
}
#endif
#endif
