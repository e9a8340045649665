/* The blocking client: every request is submitted to the engine with a
 * completion that fills a struct on the caller's stack, then the poll loop
 * runs until that completion ran. Timeouts are the engine's per-request
 * ones, so a request that timed out keeps its place in the reply FIFO and
 * its late reply is consumed there, not by the next caller. */
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "net_int.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8021
#define DEFAULT_PASSWORD "ClueCon"
#define DEFAULT_CONNECT_TIMEOUT 5000
#define DEFAULT_COMMAND_TIMEOUT 30000
#define DEFAULT_MAX_QUEUED 10000

/* What one blocking request is waiting for. */
typedef struct waiter {
    int done;
    int status;
    vox_msg *msg; /* a reference, or NULL */
} waiter;

/* ------------------------------------------------------------- the queue */

static vox_msg *queue_pop(vox_client *c)
{
    vox_msg *m;
    if (!c->qlen)
        return NULL;
    m = c->q[c->qhead];
    c->qhead = (c->qhead + 1) % c->qcap;
    c->qlen--;
    c->has_events = c->qlen > 0;
    return m;
}

/* Doubles the ring, keeping the order (the oldest first). */
static int queue_grow(vox_client *c)
{
    size_t cap = c->qcap ? c->qcap * 2 : 64;
    if (cap > c->qmax)
        cap = c->qmax;
    vox_msg **q = vox__malloc(cap * sizeof *q);
    if (!q)
        return VOX_ENOMEM;
    for (size_t i = 0; i < c->qlen; i++)
        q[i] = c->q[(c->qhead + i) % c->qcap];
    vox__free(c->q);
    c->q = q;
    c->qcap = cap;
    c->qhead = 0;
    return 0;
}

/* Past the bound the oldest event goes: a reader that fell behind would
 * rather see what is happening now. */
static void queue_push(vox_client *c, vox_msg *m)
{
    if (c->qlen == c->qmax) {
        vox_msg_free(queue_pop(c));
        c->dropped++;
    }
    if (c->qlen == c->qcap && queue_grow(c)) {
        vox_msg_free(m);
        c->dropped++;
        return;
    }
    c->q[(c->qhead + c->qlen) % c->qcap] = m;
    c->qlen++;
    c->has_events = 1;
}

/* --------------------------------------------------- engine callbacks */

static void set_data(vox_client *c, vox_msg *m)
{
    vox_msg *old = c->data;
    c->data = vox_msg_ref(m);
    vox_msg_free(old);
}

static void seed_data(vox_client *c)
{
    const vox_event *cd = vox_conn_channel_data(c->conn);
    if (!c->data && cd)
        set_data(c, vox_event_msg(cd));
}

/* A call keeps its channel data current from its own channel's events. */
static void call_event(vox_client *c, const vox_event *ev)
{
    const char *name = vox_event_name(ev);
    const char *uuid = vox_conn_uuid(c->conn);
    const char *id = vox_event_get(ev, "Unique-ID");

    seed_data(c);
    if (strcmp(name, "CHANNEL_DATA") && strcmp(name, "CHANNEL_EXECUTE_COMPLETE"))
        return;
    if (uuid && id && !strcmp(uuid, id))
        set_data(c, vox_event_msg(ev));
}

static void driver_event(vox_conn *conn, const vox_event *ev, void *ud)
{
    vox_client *c = ud;
    if (c->is_call)
        call_event(c, ev);
    else
        queue_push(c, vox_msg_ref(vox_event_msg(ev)));
}

static void driver_ready(vox_conn *conn, int status, void *ud)
{
    vox_client *c = ud;
    c->ready = 1;
    c->ready_status = status;
    if (c->is_call && status == 0)
        seed_data(c);
    if (c->user_ready)
        c->user_ready(conn, status, c);
}

/* ------------------------------------------------------- open and free */

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
        return seed;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &seed, sizeof seed) != (ssize_t)sizeof seed)
            seed = 0;
        close(fd);
    }
    /* Ids stay unique without randomness, only more predictable. */
    return seed ^ vox__now_ms();
}

int vox__client_open(vox_client **out, int fd, const vox_conn_opts *opts, uint32_t timeout_ms)
{
    vox_conn_opts o;
    vox_client *c;
    int fl, rc;

    if (!out || fd < 0 || !opts)
        return VOX_EINVAL;
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return VOX_ESYS;
    if (!(c = vox__calloc(1, sizeof *c)))
        return VOX_ENOMEM;
    c->fd = fd;
    c->timeout_ms = timeout_ms;
    c->is_call = opts->role == VOX_ROLE_OUTBOUND;
    c->qmax = DEFAULT_MAX_QUEUED;
    c->user_ready = opts->on_ready;
    o = *opts;
    o.on_ready = driver_ready;
    o.on_event = driver_event;
    o.on_close = NULL;
    o.userdata = c;
    if (!o.seed)
        o.seed = random_seed();
    rc = vox_conn_new(&c->conn, &o);
    if (rc) {
        vox__free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void vox__client_free(vox_client *c)
{
    vox_msg *m;
    if (!c)
        return;
    /* Ends reading first: waiters and hooks see the end while c is whole. */
    vox_conn_free(c->conn);
    while ((m = queue_pop(c)))
        vox_msg_free(m);
    vox__free(c->q);
    vox_msg_free(c->data);
    vox__free(c->rbuf);
    if (c->fd >= 0)
        close(c->fd);
    vox__free(c);
}

/* ------------------------------------------------------------- connect */

static void client_conn_opts(vox_conn_opts *co, const vox_client_opts *o, uint32_t hs_ms)
{
    *co = (vox_conn_opts){0};
    co->role = VOX_ROLE_INBOUND;
    co->password = o->password ? o->password : DEFAULT_PASSWORD;
    co->format = o->format;
    co->events = o->events;
    co->filters = o->filters;
    co->nfilters = o->nfilters;
    co->limits = o->limits;
    co->handshake_timeout_ms = hs_ms;
    /* events right behind the handshake wait for the hooks added after
     * vox_connect returns: the first blocking call resumes the engine */
    co->pause_after_handshake = 1;
}

static uint32_t request_timeout(const vox_client_opts *o)
{
    if (!o->command_timeout_ms)
        return DEFAULT_COMMAND_TIMEOUT;
    return o->command_timeout_ms;
}

int vox_connect(vox_client **out, const vox_client_opts *opts)
{
    static const vox_client_opts none = {0};
    const vox_client_opts *o = opts ? opts : &none;
    uint32_t ct = o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT;
    uint64_t start = vox__now_ms(), deadline = start + ct;
    vox_conn_opts co;
    vox_client *c = NULL;
    int fd = -1, rc;

    if (!out)
        return VOX_EINVAL;
    rc = vox__tcp_connect(o->host ? o->host : DEFAULT_HOST, o->port ? o->port : DEFAULT_PORT, ct,
                          &fd);
    if (rc)
        return rc;
    uint64_t now = vox__now_ms();
    client_conn_opts(&co, o, now < deadline ? (uint32_t)(deadline - now) : 1);
    rc = vox__client_open(&c, fd, &co, request_timeout(o));
    if (rc) {
        close(fd);
        return rc;
    }
    if (o->max_queued_events)
        c->qmax = o->max_queued_events;
    rc = vox__block_run(c, &c->ready, deadline);
    if (rc == 0)
        rc = c->ready_status;
    if (rc) {
        vox__client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void vox_close(vox_client *c)
{
    if (c && c->busy) {
        /* from a hook: the blocking call that ran it still uses c; it
         * returns VOX_ECLOSED and frees c on its way out */
        c->closing = 1;
        vox_conn_close(c->conn, VOX_ECLOSED);
        return;
    }
    vox__client_free(c);
}

/* vox__block_run for a public blocking call, counted so that a vox_close
 * from a hook inside it is deferred. */
static int run_counted(vox_client *c, const int *done, uint64_t deadline)
{
    c->busy++;
    int rc = vox__block_run(c, done, deadline);
    c->busy--;
    return rc;
}

/* On the way out of a public blocking call: 1 (and c freed) when a hook
 * closed the client meanwhile. */
static int closed_inside(vox_client *c)
{
    if (!c->closing)
        return 0;
    if (!c->busy)
        vox__client_free(c);
    return 1;
}

/* ------------------------------------------------------------ requests */

static uint32_t engine_timeout(const vox_client *c)
{
    return c->timeout_ms == UINT32_MAX ? 0 : c->timeout_ms;
}

static void on_reply(vox_conn *conn, int status, const vox_msg *reply, void *ud)
{
    waiter *w = ud;
    w->status = status;
    if (reply && !w->msg)
        w->msg = vox_msg_ref((vox_msg *)reply);
    w->done = 1;
}

static void on_ev(vox_conn *conn, int status, const vox_event *ev, void *ud)
{
    waiter *w = ud;
    /* a refused execute or bgapi has no event: hand out the -ERR reply */
    const vox_msg *m = ev ? vox_event_msg(ev) : vox_conn_reply(conn);
    w->status = status;
    if (m && !w->msg)
        w->msg = vox_msg_ref((vox_msg *)m);
    w->done = 1;
}

/* Runs the loop until w completes. The waiter lives on the caller's stack:
 * should the loop stop first, the engine is closed so that no callback can
 * reach it later. */
static int wait_for(vox_client *c, waiter *w, vox_msg **out)
{
    int rc = run_counted(c, &w->done, UINT64_MAX);
    if (!w->done)
        vox_conn_close(c->conn, rc ? rc : VOX_ECLOSED);
    rc = w->done ? w->status : rc;
    if (closed_inside(c))
        rc = VOX_ECLOSED; /* c is gone: say so even if the answer came */
    if (out && (rc == 0 || rc == VOX_EREPLY))
        *out = w->msg;
    else
        vox_msg_free(w->msg);
    return rc;
}

/* Requests measure their timeout from the engine's last time: give it now. */
static int begin(vox_client *c, vox_msg **out)
{
    if (out)
        *out = NULL;
    if (!c)
        return VOX_EINVAL;
    vox_conn_tick(c->conn, vox__now_ms());
    return 0;
}

int vox_api(vox_client *c, const char *cmd, vox_msg **reply)
{
    waiter w = {0};
    int rc = begin(c, reply);
    if (rc == 0)
        rc = vox_conn_api(c->conn, cmd, NULL, engine_timeout(c), on_reply, &w);
    return rc ? rc : wait_for(c, &w, reply);
}

int vox_bgapi(vox_client *c, const char *cmd, vox_msg **result)
{
    waiter w = {0};
    int rc = begin(c, result);
    if (rc == 0)
        rc = vox_conn_bgapi(c->conn, cmd, NULL, NULL, NULL, 0, engine_timeout(c), on_ev, &w);
    if (rc)
        return rc;
    /* A refused bgapi completes without an event: *result stays NULL. */
    return wait_for(c, &w, result);
}

int vox_command(vox_client *c, const vox_buf *cmd, vox_msg **reply)
{
    waiter w = {0};
    int rc = begin(c, reply);
    if (rc == 0)
        rc = vox_conn_command(c->conn, cmd, engine_timeout(c), on_reply, &w);
    return rc ? rc : wait_for(c, &w, reply);
}

int vox_sendmsg(vox_client *c, const char *uuid, const vox_header *headers, size_t nheaders,
                const char *body, size_t body_len, vox_msg **reply)
{
    vox_buf b = {0};
    int rc = vox_cmd_sendmsg(&b, uuid, headers, nheaders, body, body_len);
    if (rc == 0)
        rc = vox_command(c, &b, reply);
    else if (reply)
        *reply = NULL;
    vox_buf_free(&b);
    return rc;
}

int vox_sendevent(vox_client *c, const char *name, const vox_header *headers, size_t nheaders,
                  const char *body, size_t body_len, vox_msg **reply)
{
    vox_buf b = {0};
    int rc = vox_cmd_sendevent(&b, name, headers, nheaders, body, body_len);
    if (rc == 0)
        rc = vox_command(c, &b, reply);
    else if (reply)
        *reply = NULL;
    vox_buf_free(&b);
    return rc;
}

int vox_exec(vox_client *c, const vox_execute *x, vox_msg **complete)
{
    waiter w = {0};
    int rc = begin(c, complete);
    if (rc == 0 && !c->is_call && (!x || !x->uuid || !*x->uuid))
        rc = VOX_EINVAL; /* inbound, the channel must be named */
    if (rc == 0)
        rc = vox_conn_execute(c->conn, x, NULL, 0, engine_timeout(c), on_ev, &w);
    if (rc)
        return rc;
    return wait_for(c, &w, complete);
}

/* -------------------------------------------------------------- events */

int vox_next_event(vox_client *c, uint32_t timeout_ms, vox_msg **ev)
{
    uint64_t deadline;
    int rc;

    if (ev)
        *ev = NULL;
    if (!c || !ev)
        return VOX_EINVAL;
    if (c->is_call)
        return VOX_ESTATE;
    if (!c->qlen && vox_is_open(c)) {
        deadline = timeout_ms == UINT32_MAX ? UINT64_MAX : vox__now_ms() + timeout_ms;
        rc = run_counted(c, &c->has_events, deadline);
        if (closed_inside(c))
            return VOX_ECLOSED;
        if (rc && rc != VOX_ECLOSED && rc != VOX_ETIMEDOUT)
            return rc;
    }
    if ((*ev = queue_pop(c)))
        return 0;
    return vox_is_open(c) ? VOX_ETIMEDOUT : VOX_ECLOSED;
}

uint64_t vox_dropped_events(const vox_client *c)
{
    return c ? c->dropped : 0;
}

int vox_hook(vox_client *c, const char *name, vox_event_cb cb, void *userdata)
{
    return c ? vox_conn_hook(c->conn, name, cb, userdata) : VOX_EINVAL;
}

vox_conn *vox_client_conn(vox_client *c)
{
    return c ? c->conn : NULL;
}

int vox_disconnect(vox_client *c)
{
    static const int never = 0;
    int rc;

    if (!c)
        return VOX_EINVAL;
    rc = vox_conn_disconnect(c->conn);
    if (rc)
        return rc;
    /* Write what is queued and shut down now, without waiting. */
    rc = run_counted(c, &never, vox__now_ms());
    if (closed_inside(c))
        return 0;
    return rc == VOX_ESYS ? rc : 0;
}

int vox_is_open(const vox_client *c)
{
    return c && vox_conn_get_state(c->conn) <= VOX_STATE_ACTIVE;
}
