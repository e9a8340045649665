/* The async inbound client: one engine per connection on a vox__apipe, and
 * around it what outlives a connection — the options (subscriptions and
 * filters are replayed by every new engine's handshake), the hooks
 * (registered on every new engine, in order), and the reconnect schedule
 * (exponential backoff with jitter, reset by a successful connect). */
#include <sys/socket.h>
#include <unistd.h>

#include "async_int.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8021
#define DEFAULT_PASSWORD "ClueCon"
#define DEFAULT_CONNECT_TIMEOUT 5000
#define DEFAULT_BACKOFF_MIN 100
#define DEFAULT_BACKOFF_MAX 30000

typedef struct ahook {
    vox_aclient *c;
    char *name; /* NULL: every event */
    vox_aclient_event_cb cb;
    void *ud;
} ahook;

/* One api/bgapi waiting for its completion. */
typedef struct areq {
    vox_aclient *c;
    vox_aclient_reply_cb reply;
    vox_aclient_job_cb job;
    void *ud;
} areq;

struct vox_aclient {
    vox_loop loop;
    vox_aclient_opts o; /* strings point at the copies below */
    char *host, *password, *events;
    vox_header *filters;
    ahook **hooks; /* each on its own: engines hold pointers to them */
    size_t nhooks, hooks_cap;

    vox__apipe *pipe;  /* the current connection (handshake included) */
    int connected;     /* its handshake is done */
    int was_up;        /* some connection was up: the next one may have missed events */
    unsigned failures; /* attempts since the last successful connect */
    uint64_t rng;

    /* The adapter's timers belong to watched sockets, so the retry timer
     * lives on a socket of its own that is never polled. */
    int tfd;
    vox_watch *timer;

    int depth;    /* our callbacks into user code on the stack */
    int stopping; /* vox_aclient_stop ran: free when depth drops to 0 */
};

static void destroy(vox_aclient *c);
static void attempt(vox_aclient *c);

static void enter(vox_aclient *c)
{
    c->depth++;
}

static void leave(vox_aclient *c)
{
    if (--c->depth == 0 && c->stopping)
        destroy(c);
}

/* ----------------------------------------------------------- the schedule */

static uint64_t next_random(vox_aclient *c)
{
    /* xorshift64*: plenty for spreading reconnects of many clients. */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 0x2545f4914f6cdd1du;
}

/* min * 2^failures capped at max, then ±25% so clients that lost the same
 * server do not come back in step; never above max. A wrong password will
 * not fix itself quickly: only the slowest pace. */
static uint32_t next_delay(vox_aclient *c, int reason)
{
    uint64_t max = c->o.backoff_max_ms, d = c->o.backoff_min_ms;

    if (reason == VOX_EAUTH)
        return (uint32_t)max;
    for (unsigned i = 0; i < c->failures && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    if (c->failures < UINT32_MAX)
        c->failures++;
    if (d / 2)
        d = d - d / 4 + next_random(c) % (d / 2 + 1);
    return (uint32_t)(d > max ? max : d);
}

/* A connection ended or an attempt failed: report it, plan the next. */
static void schedule(vox_aclient *c, int reason)
{
    uint32_t delay;

    c->pipe = NULL;
    c->connected = 0;
    if (c->stopping)
        return;
    enter(c);
    reason = reason ? reason : VOX_ECLOSED;
    delay = next_delay(c, reason);
    c->loop.ops->timer(c->timer->handle, delay);
    if (c->o.on_disconnect)
        c->o.on_disconnect(c, reason, delay, c->o.userdata);
    leave(c);
}

/* ------------------------------------------------------ engine callbacks */

static vox_aclient *client_of(vox_conn *conn)
{
    return vox__apipe_ud(vox__apipe_of(conn));
}

static void conn_ready(vox_conn *conn, int status, void *ud)
{
    vox_aclient *c = client_of(conn);
    int missed;

    if (status)
        return; /* the end follows through pipe_gone, with the reason */
    enter(c);
    c->connected = 1;
    c->failures = 0;
    missed = c->was_up;
    c->was_up = 1;
    if (c->o.on_connect)
        c->o.on_connect(c, c->o.userdata);
    if (missed && c->connected && c->o.on_missed)
        c->o.on_missed(c, c->o.userdata);
    leave(c);
}

static void conn_event(vox_conn *conn, const vox_event *ev, void *ud)
{
    vox_aclient *c = client_of(conn);
    enter(c);
    if (!c->stopping && c->o.on_event)
        c->o.on_event(c, ev, c->o.userdata);
    leave(c);
}

static void hook_event(vox_conn *conn, const vox_event *ev, void *ud)
{
    ahook *h = ud;
    vox_aclient *c = h->c;
    enter(c);
    if (!c->stopping)
        h->cb(c, ev, h->ud);
    leave(c);
}

static void pipe_gone(vox__apipe *p, int reason, void *ud)
{
    vox_aclient *c = ud;
    if (c->pipe == p)
        schedule(c, reason);
}

/* ---------------------------------------------------------- connecting */

static void conn_opts(const vox_aclient *c, vox_conn_opts *co)
{
    *co = (vox_conn_opts){0};
    co->role = VOX_ROLE_INBOUND;
    co->password = c->password;
    co->format = c->o.format;
    co->events = c->events;
    co->filters = c->filters;
    co->nfilters = c->o.nfilters;
    /* The handshake clock starts when the pipe opens, with the TCP
     * connect still under way: one deadline covers both. */
    co->handshake_timeout_ms = c->o.connect_timeout_ms;
    co->on_ready = conn_ready;
    co->on_event = conn_event;
}

/* A new engine gets every hook, in the order they were added. */
static int add_hooks(vox_aclient *c, vox_conn *conn)
{
    for (size_t i = 0; i < c->nhooks; i++) {
        int rc = vox_conn_hook(conn, c->hooks[i]->name, hook_event, c->hooks[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static void attempt(vox_aclient *c)
{
    vox_conn_opts co;
    vox__apipe *p;
    int fd, rc;

    rc = vox__tcp_connect_start(c->host, c->o.port, &fd);
    if (!rc) {
        conn_opts(c, &co);
        rc = vox__apipe_open(&p, &c->loop, fd, &co, pipe_gone, c);
    }
    if (rc) {
        schedule(c, rc);
        return;
    }
    c->pipe = p;
    rc = add_hooks(c, vox__apipe_conn(p));
    if (rc)
        vox__apipe_close(p, rc); /* pipe_gone schedules the next attempt */
}

static void timer_ready(vox_watch *w, int events)
{
    /* never polled */
}

static void timer_fired(vox_watch *w)
{
    vox_aclient *c = w->owner;
    enter(c);
    if (!c->stopping && !c->pipe)
        attempt(c);
    leave(c);
}

/* ---------------------------------------------------------- start, stop */

static int copy_opts(vox_aclient *c, const vox_aclient_opts *o)
{
    c->o = *o;
    c->o.nfilters = 0;
    c->host = vox__strdup(o->host && *o->host ? o->host : DEFAULT_HOST);
    c->password = vox__strdup(o->password ? o->password : DEFAULT_PASSWORD);
    if (!c->host || !c->password || (o->events && !(c->events = vox__strdup(o->events))))
        return VOX_ENOMEM;
    c->o.host = c->host;
    c->o.password = c->password;
    c->o.events = c->events;
    c->o.port = o->port ? o->port : DEFAULT_PORT;
    if (!c->o.connect_timeout_ms)
        c->o.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT;
    if (!c->o.backoff_min_ms)
        c->o.backoff_min_ms = DEFAULT_BACKOFF_MIN;
    if (!c->o.backoff_max_ms)
        c->o.backoff_max_ms = DEFAULT_BACKOFF_MAX;
    if (c->o.backoff_max_ms < c->o.backoff_min_ms)
        c->o.backoff_max_ms = c->o.backoff_min_ms;
    int rc = vox__headers_copy(&c->filters, o->filters, o->nfilters);
    c->o.filters = c->filters;
    c->o.nfilters = o->nfilters;
    return rc;
}

/* Bad options (a CR/LF in the password, an empty filter) are refused now,
 * not found out at every reconnect: an engine is built once and dropped. */
static int check_opts(const vox_aclient *c)
{
    vox_conn_opts co;
    vox_conn *conn;
    conn_opts(c, &co);
    co.on_ready = NULL;
    co.on_event = NULL;
    int rc = vox_conn_new(&conn, &co);
    vox_conn_free(conn);
    return rc;
}

static int loop_ok(const vox_loop *l)
{
    const vox_loop_ops *ops = l ? l->ops : NULL;
    return ops && ops->open && ops->want && ops->timer && ops->close && ops->now;
}

int vox_aclient_start(vox_aclient **out, const vox_loop *loop, const vox_aclient_opts *opts)
{
    vox_aclient *c;
    int rc;

    if (!out || !loop_ok(loop) || !opts || !vox__format_ok(opts->format))
        return VOX_EINVAL;
    *out = NULL;
    if (!(c = vox__calloc(1, sizeof *c)))
        return VOX_ENOMEM;
    c->loop = *loop;
    c->tfd = -1;
    c->rng = vox__async_seed();
    if ((rc = copy_opts(c, opts)) || (rc = check_opts(c)))
        goto fail;
    rc = VOX_ESYS;
    c->tfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->tfd < 0)
        goto fail;
    if ((rc = vox__watch_open(&c->timer, loop, c->tfd, timer_ready, timer_fired, c)))
        goto fail;
    /* The first attempt runs from the loop, as every callback does. */
    loop->ops->timer(c->timer->handle, 0);
    *out = c;
    return 0;
fail:
    destroy(c);
    return rc;
}

static void destroy(vox_aclient *c)
{
    vox__watch_close(c->timer);
    if (c->tfd >= 0)
        close(c->tfd);
    for (size_t i = 0; i < c->nhooks; i++) {
        vox__free(c->hooks[i]->name);
        vox__free(c->hooks[i]);
    }
    vox__free(c->hooks);
    vox__headers_free(c->filters, c->o.nfilters);
    vox__free(c->host);
    vox__free(c->password);
    vox__free(c->events);
    vox__free(c);
}

void vox_aclient_stop(vox_aclient *c)
{
    if (!c || c->stopping)
        return;
    enter(c);
    c->stopping = 1;
    c->connected = 0;
    /* Waiting requests complete with VOX_ECLOSED in here; no
     * on_disconnect (stopping), no further attempt. */
    if (c->pipe)
        vox__apipe_close(c->pipe, 0);
    c->pipe = NULL;
    /* The timer goes now: the adapter promises no callback after close. */
    vox__watch_close(c->timer);
    c->timer = NULL;
    leave(c); /* frees c unless a callback of ours is still running */
}

/* ---------------------------------------------------------- the user side */

int vox_aclient_hook(vox_aclient *c, const char *name, vox_aclient_event_cb cb, void *userdata)
{
    ahook *h;
    int rc;

    if (!c || !cb || (name && !*name) || c->stopping)
        return VOX_EINVAL;
    if (c->nhooks == c->hooks_cap) {
        size_t cap = c->hooks_cap ? c->hooks_cap * 2 : 8;
        ahook **v = vox__realloc(c->hooks, cap * sizeof *v);
        if (!v)
            return VOX_ENOMEM;
        c->hooks = v;
        c->hooks_cap = cap;
    }
    if (!(h = vox__calloc(1, sizeof *h)) || (name && !(h->name = vox__strdup(name)))) {
        vox__free(h);
        return VOX_ENOMEM;
    }
    *h = (ahook){c, h->name, cb, userdata};
    /* The current engine (even mid-handshake) gets it too. */
    if (c->pipe && (rc = vox_conn_hook(vox__apipe_conn(c->pipe), name, hook_event, h))) {
        vox__free(h->name);
        vox__free(h);
        return rc;
    }
    c->hooks[c->nhooks++] = h;
    return 0;
}

static void reply_done(vox_conn *conn, int status, const vox_msg *reply, void *ud)
{
    areq *r = ud;
    vox_aclient *c = r->c;
    enter(c);
    r->reply(c, status, reply, r->ud);
    vox__free(r);
    leave(c);
}

static void job_done(vox_conn *conn, int status, const vox_event *job, void *ud)
{
    areq *r = ud;
    vox_aclient *c = r->c;
    enter(c);
    r->job(c, status, job, r->ud);
    vox__free(r);
    leave(c);
}

/* The current engine for a request, or why there is none. */
static int live_conn(vox_aclient *c, const char *cmd, vox_conn **conn)
{
    if (!c || !cmd || !*cmd)
        return VOX_EINVAL;
    if (c->stopping || !c->connected || !c->pipe)
        return VOX_ECLOSED;
    *conn = vox__apipe_conn(c->pipe);
    return 0;
}

static areq *new_req(vox_aclient *c, void *ud)
{
    areq *r = vox__calloc(1, sizeof *r);
    if (r) {
        r->c = c;
        r->ud = ud;
    }
    return r;
}

int vox_aclient_api(vox_aclient *c, const char *cmd, vox_aclient_reply_cb cb, void *userdata)
{
    vox_conn *conn;
    areq *r = NULL;
    int rc = live_conn(c, cmd, &conn);

    if (rc)
        return rc;
    if (cb && !(r = new_req(c, userdata)))
        return VOX_ENOMEM;
    if (r)
        r->reply = cb;
    rc = vox_conn_api(conn, cmd, NULL, c->o.command_timeout_ms, r ? reply_done : NULL, r);
    if (rc)
        vox__free(r);
    return rc;
}

int vox_aclient_bgapi(vox_aclient *c, const char *cmd, vox_aclient_job_cb cb, void *userdata)
{
    vox_conn *conn;
    areq *r = NULL;
    int rc = live_conn(c, cmd, &conn);

    if (rc)
        return rc;
    if (cb && !(r = new_req(c, userdata)))
        return VOX_ENOMEM;
    if (r)
        r->job = cb;
    rc = vox_conn_bgapi(conn, cmd, NULL, NULL, NULL, 0, c->o.command_timeout_ms,
                        r ? job_done : NULL, r);
    if (rc)
        vox__free(r);
    return rc;
}

int vox_aclient_connected(const vox_aclient *c)
{
    return c && c->connected && !c->stopping;
}

vox_conn *vox_aclient_conn(vox_aclient *c)
{
    return vox_aclient_connected(c) && c->pipe ? vox__apipe_conn(c->pipe) : NULL;
}

void *vox_aclient_userdata(const vox_aclient *c)
{
    return c ? c->o.userdata : NULL;
}
