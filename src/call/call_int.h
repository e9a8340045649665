/* Internal layout of the threaded outbound server and its calls, shared by
 * src/net/server.c (listening, accepting, stopping) and src/call/call.c (the
 * per-call thread body and the vox_call_* accessors). */
#ifndef VOX_CALL_INT_H
#define VOX_CALL_INT_H

#include <pthread.h>

#include "../net/net_int.h"

typedef struct vox__srv_call vox__srv_call;

/* One accepted connection and the thread that serves it. */
struct vox__srv_call {
    vox_server *srv;
    vox__srv_call *next; /* the server's list (accept thread and stop only) */
    pthread_t thread;
    /* Guarded by srv->mu: the socket, until the call thread is about to
     * close it (-1 from then on, so vox_server_stop never shuts down a
     * number the system may already have handed to another socket). */
    int fd;
    int finished;
    char peer[64];
};

struct vox_server {
    vox_server_opts o; /* copied; host and allow point to owned copies */
    char *host;
    char **allow;
    vox_call_fn fn;
    void *userdata;

    int lfd;     /* listening socket (accept thread only once started) */
    int wake[2]; /* self-pipe: wakes the accept thread */
    uint16_t port;
    pthread_t acceptor;
    int acceptor_started;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when a call finishes */
    int stopping;
    unsigned active;
    uint64_t served;
    vox__srv_call *calls;
};

/* server.c: a log line (printf-style) through opts.log or to stderr. */
VOX__HIDDEN void vox__srv_log(const vox_server *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* server.c: the call thread is about to close its socket. */
VOX__HIDDEN void vox__srv_release_fd(vox__srv_call *k);
/* server.c: the call thread is done (its socket closed): count it out and
 * wake whoever waits for it. */
VOX__HIDDEN void vox__srv_call_done(vox__srv_call *k);

/* call.c: the body of a call's thread (arg is its vox__srv_call). */
VOX__HIDDEN void *vox__call_main(void *arg);

#endif
