/* Internal layout of the blocking connections (client and call) and the
 * poll() driver they share. */
#ifndef VOX_NET_INT_H
#define VOX_NET_INT_H

#include <sys/socket.h>

#include <vox/client.h>
#include <vox/server.h>

#include "../internal.h"

struct vox_client {
    int fd;
    vox_conn *conn;
    uint32_t timeout_ms; /* per blocking request; UINT32_MAX: none */
    int is_call;         /* outbound role: a vox_call */
    /* inbound: events kept for vox_next_event (a ring) */
    vox_msg **q;
    size_t qhead, qlen, qcap, qmax;
    uint64_t dropped;
    /* outbound: the current channel data (connect reply, then the latest
     * CHANNEL_DATA, CHANNEL_EXECUTE_COMPLETE or uuid_dump of the call) */
    vox_msg *data;
    int shut;    /* write side shut down */
    int feeding; /* read_input calls on the stack (nested in hooks) */
    int busy;    /* blocking calls on the stack (a hook may run inside) */
    int closing; /* vox_close came from a hook: freed when busy drops to 0 */
    /* driver state (see block.c and client.c) */
    int ready;        /* the handshake ended: on_ready ran */
    int ready_status; /* its status (0: ACTIVE) */
    /* the on_ready given to vox__client_open, called after ready is set,
     * with the vox_client as its userdata */
    void (*user_ready)(vox_conn *conn, int status, void *client);
    int has_events; /* qlen > 0: a flag vox__block_run can wait on */
    char *rbuf;     /* the read buffer (VOX__READ_CHUNK), made on first use */
};

/* Bytes read from the socket at a time. */
#define VOX__READ_CHUNK ((size_t)64 * 1024)

/* Monotonic milliseconds. */
VOX__HIDDEN uint64_t vox__now_ms(void);

/* Wraps an open socket fd (non-blocking is set here) in a client running
 * a new engine with opts (opts->on_event, on_close, userdata are replaced:
 * the driver routes events to the queue and to the call's data). */
VOX__HIDDEN int vox__client_open(vox_client **out, int fd, const vox_conn_opts *opts,
                                 uint32_t timeout_ms);
/* (on_ready, on_log and on_notice are kept, called with the vox_client as
 * userdata; on_ready runs after c->ready and c->ready_status are set, so
 * vox__block_run(c, &c->ready, deadline) waits for the handshake. For a
 * call, c->data is set from the connect reply when the handshake ends.)
 * Errors: VOX_EINVAL, VOX_ENOMEM, VOX_ESYS; on error fd stays open (the
 * caller still owns it). */
/* Frees the client (closes fd). */
VOX__HIDDEN void vox__client_free(vox_client *c);

/* The poll loop: moves bytes and time between fd and the engine until
 * *done is nonzero, reading ends, or the absolute deadline passes
 * (UINT64_MAX: none). Returns 0 when *done, VOX_ECLOSED when reading ended
 * first, VOX_ETIMEDOUT, VOX_ESYS. Hooks run inside. */
VOX__HIDDEN int vox__block_run(vox_client *c, const int *done, uint64_t deadline);
/* Runs the loop until reading ends (the session's linger), or the deadline. */
VOX__HIDDEN int vox__block_drain(vox_client *c, uint64_t deadline);

/* The servers' peers: the address as text (an IPv4 peer on an IPv6 socket
 * as a.b.c.d), and the allow-list (NULL: everyone), copied and matched
 * exactly. */
VOX__HIDDEN void vox__peer_text(const struct sockaddr_storage *sa, socklen_t len, char *out,
                                size_t size);
VOX__HIDDEN int vox__allow_copy(char ***out, const char *const *allow);
/* The servers' own copies of their host (default 127.0.0.1) and allow-list;
 * *host and *allow are set even on failure (free them as usual). */
VOX__HIDDEN int vox__listen_copy(char **host, char ***allow, const char *h, const char *const *a);
VOX__HIDDEN void vox__allow_free(char **allow);
VOX__HIDDEN int vox__allowed(char *const *allow, const char *peer);

/* Bytes between a non-blocking socket and its engine (block.c, apipe.c).
 * vox__io_flush writes what the socket takes now, then shuts the write side
 * down when the engine asks (*shut records it); vox__io_read reads into buf
 * and feeds, up to max reads (0: until the socket is dry). Both stop when
 * *stop (may be NULL) becomes nonzero or reading has ended; a transport
 * error aborts the engine (VOX_ECLOSED for a reset peer, else VOX_ESYS). */
VOX__HIDDEN void vox__io_failed(vox_conn *c);
VOX__HIDDEN void vox__io_flush(int fd, vox_conn *c, int *shut, const int *stop);
VOX__HIDDEN void vox__io_read(int fd, vox_conn *c, char *buf, size_t size, int max,
                              const int *stop);

/* Sockets: connect with a deadline (host name or address), listen.
 * (vox__tcp_connect: VOX_ESYS with errno on failure, VOX_ETIMEDOUT; the fd
 * is non-blocking. vox__tcp_listen: host NULL means 127.0.0.1, the socket
 * is blocking and close-on-exec, *bound gets the port; vox__block_drain
 * returns 0 once reading has ended.) */
VOX__HIDDEN int vox__tcp_connect(const char *host, uint16_t port, uint32_t timeout_ms, int *fd);
VOX__HIDDEN int vox__tcp_listen(const char *host, uint16_t port, int backlog, int *fd,
                                uint16_t *bound);

#endif
