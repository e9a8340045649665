/* libvox runner — several listeners in one process, on one event loop: any
 * number of inbound clients (vox_aclient) and outbound servers (vox_aserver),
 * one log for all of them, and the process's signals handled the way a
 * service manager expects:
 *   SIGHUP           reopen the log file (after logrotate renamed it)
 *   SIGINT, SIGTERM  stop: stop accepting, let calls finish up to a deadline,
 *                    close the rest, stop the clients; the loop then has
 *                    nothing of the runner's left and returns by itself
 *   SIGINT again     close every call now
 *
 * With libuv (vox/uv.h):
 *
 *     uv_loop_t *uv = uv_default_loop();
 *     vox_loop loop = vox_uv_loop(uv);
 *     vox_runner_new(&r, &loop, &(vox_runner_opts){.signals = 1, .drain_ms = 30000});
 *     vox_runner_add_server(r, &ivr, NULL); vox_runner_add_client(r, &monitor, NULL);
 *     uv_run(uv, UV_RUN_DEFAULT);   returns once SIGTERM has drained everything
 *     vox_runner_free(r); uv_loop_close(uv);
 *
 * Thread rules: a runner and everything added to it are used from the
 * loop's thread only, and every callback runs there. A vox_logger may be
 * written from any thread (the threaded vox_server logs from its calls'
 * threads). Freeing from inside a callback is legal (deferred until it
 * returns). If a call that takes a callback fails, the callback is never
 * called.
 */
#ifndef VOX_RUNNER_H
#define VOX_RUNNER_H

#include <vox/async.h>

#ifdef __cplusplus
extern "C" {
#endif


/* ------------------------------------------------------------ the log */

/* Levels, as vox_log_fn (vox/server.h) and vox_aserver_opts.log count them. */
enum {
    VOX_LOG_ERROR = 0,
    VOX_LOG_WARNING = 1,
    VOX_LOG_INFO = 2,
    VOX_LOG_DEBUG = 3,
};

/* Where log lines go: stderr or a file, one line per record:
 *
 *     2024-05-01T12:34:56.789Z warning [aserver 127.0.0.1:8084] call from ... refused
 *
 * the time in UTC (ISO 8601, milliseconds), the level, the source in
 * brackets, the text (a CR, LF or other control character in it becomes a
 * space, so a record is always one line; past 4000 bytes it is cut). Each
 * line is one write(2), under a lock: lines from several threads never mix.
 * Thread rules: every vox_logger_* call may come from any thread, except
 * vox_logger_free (no other call may be running or follow). */
typedef struct vox_logger vox_logger;

/* Open a logger writing lines at level and below (VOX_LOG_INFO: errors,
 * warnings and info). path: a file, opened O_WRONLY|O_APPEND|O_CREAT (mode
 * 0644 before the umask), so that several processes and logrotate's
 * copytruncate keep working; NULL, "" or "-": stderr. The path is copied.
 * Errors: VOX_EINVAL (out NULL, level not one of VOX_LOG_*), VOX_ENOMEM,
 * VOX_ESYS (open failed: see errno). Free with vox_logger_free. */
VOX_EXPORT int vox_logger_open(vox_logger **out, const char *path, int level);
/* Close the file (not stderr) and free. NULL is ignored. */
VOX_EXPORT void vox_logger_free(vox_logger *lg);
/* Reopen the file by its path (after a rename: the new lines go to a new
 * file of that name). On failure the old file stays in use and VOX_ESYS is
 * returned (see errno); VOX_EINVAL for NULL. A stderr logger: 0, nothing to
 * do. Lines written concurrently go wholly to the old or the new file. */
VOX_EXPORT int vox_logger_reopen(vox_logger *lg);
/* The threshold: lines above it are dropped. set: VOX_EINVAL for a level
 * that is not one of VOX_LOG_* (or lg NULL), else 0. */
VOX_EXPORT int vox_logger_set_level(vox_logger *lg, int level);
VOX_EXPORT int vox_logger_level(const vox_logger *lg);
/* Write one line: level (VOX_LOG_*; below VOX_LOG_ERROR counts as error,
 * above VOX_LOG_DEBUG as debug), source (NULL or "": "vox"), text. Nothing
 * happens when lg is NULL or the level is filtered out. Write errors are
 * ignored: a log must not stop the program. */
VOX_EXPORT void vox_logger_write(vox_logger *lg, int level, const char *source, const char *text);
/* The same with a printf format. */
VOX_EXPORT void vox_logger_printf(vox_logger *lg, int level, const char *source, const char *fmt,
                                  ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* A vox_log_fn (vox/server.h): give it as .log with the logger as its
 * userdata (vox_server_opts.log_userdata), and that server's lines land in
 * this log with source "vox". */
VOX_EXPORT void vox_logger_fn(int level, const char *line, void *userdata);
/* "error", "warning", "info", "debug" for VOX_LOG_*; "?" for others. Static. */
VOX_EXPORT const char *vox_log_level_name(int level);
/* The level named by text: one of the names above, "warn", or a digit 0-3
 * (case-insensitive). 0, or VOX_EINVAL (unknown text, NULL). */
VOX_EXPORT int vox_log_level_parse(const char *text, int *level);

/* ------------------------------------------------------------ the runner */

typedef struct vox_runner vox_runner;

typedef struct vox_runner_opts {
    /* Where the lines of the runner and of everything added to it go.
     * Borrowed: it must outlive the runner. NULL: the runner opens its own
     * (stderr, VOX_LOG_INFO; see vox_runner_logger). */
    vox_logger *logger;
    /* Nonzero: own SIGHUP, SIGINT and SIGTERM for the runner's life (handlers
     * installed by vox_runner_new, the previous ones restored by
     * vox_runner_free). Only one runner per process may. Do not also watch
     * these signals through the loop (uv_signal_t): one of the two would miss
     * them. */
    int signals;
    /* How long SIGINT/SIGTERM let calls finish before closing them; 0 means
     * the default, 10000 ms. */
    uint32_t drain_ms;
    /* After the runner acted on a signal it owns (SIGHUP: the log was
     * reopened; SIGINT/SIGTERM: the stop was started or forced), on the
     * loop's thread. May be NULL. */
    void (*on_signal)(vox_runner *r, int signo, void *userdata);
    /* Everything is down after a stop: every server's sessions ended and the
     * server is freed, every client stopped, the runner's own watch closed.
     * From the loop, once. Freeing the runner here is legal. May be NULL. */
    void (*on_stopped)(vox_runner *r, void *userdata);
    void *userdata;
} vox_runner_opts;

/* Create a runner on loop (copied; the loop itself is borrowed and must
 * outlive the runner and what it started). opts is copied; NULL: all
 * defaults. The runner keeps one descriptor pair of its own (a pipe: the
 * signal handlers write a byte to it, the loop watches its read end; its
 * timer paces the stop), only watched while it owns signals, so a runner
 * without signals and without listeners leaves the loop with nothing to do.
 * Errors: VOX_EINVAL (out or loop NULL, a loop without every op),
 * VOX_ENOMEM, VOX_ESYS (pipe, fcntl, sigaction: see errno), VOX_EBUSY
 * (opts->signals and another runner of the process owns them). On error
 * nothing is left installed. Free with vox_runner_free. */
VOX_EXPORT int vox_runner_new(vox_runner **out, const vox_loop *loop,
                              const vox_runner_opts *opts);

/* Free the runner: restores the signal handlers it installed, frees its
 * own logger. Anything still running is stopped at once, as by a stop with
 * no drain: clients stop; servers close their sessions and finish on the
 * loop by themselves (their on_end callbacks still run; their log lines go
 * to stderr since the runner's logger may be gone), on_stopped is not
 * called. Legal inside the runner's callbacks and those it wraps (deferred
 * until the outermost returns). NULL is ignored. */
VOX_EXPORT void vox_runner_free(vox_runner *r);

/* Start an inbound client on the runner's loop (vox_aclient_start) and keep
 * it until the runner stops. opts is copied; the user's callbacks keep
 * their userdata, and the runner logs around them: connected (info),
 * disconnected with the reason and the retry delay (warning; a rejected
 * password: error), events may have been missed (warning). Unlike a client
 * started alone, vox_aclient_userdata() of this one returns the runner's
 * record, not opts->userdata: keep your pointer, or use the one the
 * callbacks receive. *out (may be NULL) is borrowed: never call
 * vox_aclient_stop on it; it is valid until the runner stops or is freed.
 * Errors: VOX_EINVAL (r or opts NULL, as vox_aclient_start), VOX_ENOMEM,
 * VOX_ESYS, VOX_ESTATE (the runner is stopping or stopped). */
VOX_EXPORT int vox_runner_add_client(vox_runner *r, const vox_aclient_opts *opts,
                                     vox_aclient **out);

/* Start an outbound server on the runner's loop (vox_aserver_start). opts
 * is copied; the user's callbacks (on_session required, on_end, log) keep
 * their userdata. Its log lines go to the runner's logger with source
 * "aserver HOST:PORT" unless opts->log is set. The runner logs the port it
 * listens on (info) and when it stopped; the server itself logs refusals
 * and, at debug, each call's start and end. *out (may be NULL) is borrowed:
 * never call vox_aserver_stop on it; it is valid until the runner's stop
 * finished it or the runner is freed. Errors: VOX_EINVAL (r or opts NULL,
 * no on_session, as vox_aserver_start), VOX_ENOMEM, VOX_ESYS (bind/listen:
 * errno), VOX_ESTATE (the runner is stopping or stopped). */
VOX_EXPORT int vox_runner_add_server(vox_runner *r, const vox_aserver_opts *opts,
                                     vox_aserver **out);

/* Stop everything: servers stop accepting at once; their sessions may end by
 * themselves until drain_ms, then the rest are closed; clients stop at once
 * (pending requests complete with VOX_ECLOSED). When all is down,
 * on_stopped runs from the loop, and the runner has nothing left on the
 * loop. Called again while stopping with drain_ms 0, it closes every
 * session that has started now (what a second SIGINT does); sessions still
 * in their handshake end by their handshake timeout or the first deadline.
 * Otherwise a second call does nothing. Returns nothing: it cannot fail. */
VOX_EXPORT void vox_runner_stop(vox_runner *r, uint32_t drain_ms);

/* Reopen the log file, as SIGHUP does, for programs that handle signals
 * themselves. 0, VOX_EINVAL (r NULL), VOX_ESYS (the old file stays in use;
 * an error line is written to it). */
VOX_EXPORT int vox_runner_reopen_log(vox_runner *r);

/* The runner's logger (the one given, or its own); borrowed from r. For a
 * program's own lines: vox_logger_printf(vox_runner_logger(r), VOX_LOG_INFO,
 * "ivr", "..."). */
VOX_EXPORT vox_logger *vox_runner_logger(const vox_runner *r);

/* 1 until vox_runner_stop (or a signal) started the stop, 0 after. */
VOX_EXPORT int vox_runner_running(const vox_runner *r);
/* Sessions running now on every server of the runner. */
VOX_EXPORT unsigned vox_runner_sessions(const vox_runner *r);
VOX_EXPORT void *vox_runner_userdata(const vox_runner *r);

#ifdef __cplusplus
}
#endif
#endif
