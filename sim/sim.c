/* vox-sim: the simulator's life — options, the loop thread, the listener,
 * posting work to the loop, the clock, heartbeats, logging and the stop. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "../src/internal.h"
#include "wire.h"

/* ------------------------------------------------------------- options */

static void free_list(char **l)
{
    for (char **p = l; p && *p; p++)
        free(*p);
    free(l);
}

static char **dup_list(const char *const *l, int *ok)
{
    if (!l)
        return NULL;
    size_t n = 0;
    while (l[n])
        n++;
    char **c = calloc(n + 1, sizeof *c);
    if (!c) {
        *ok = 0;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = sim__strdup(l[i])))
            *ok = 0;
    return c;
}

static void free_opts(vox_sim_opts *o)
{
    free((char *)o->host);
    free((char *)o->password);
    free((char *)o->hostname);
    free((char *)o->socket);
    free((char *)o->faults.garbage);
    free_list((char **)o->users);
    for (size_t i = 0; o->endpoints && i < o->nendpoints; i++) {
        free((char *)o->endpoints[i].name);
        free((char *)o->endpoints[i].fail_cause);
    }
    free((void *)o->endpoints);
    memset(o, 0, sizeof *o);
}

static int copy_endpoints(vox_sim_opts *o, const vox_sim_opts *in, int *ok)
{
    if (!in->endpoints || !in->nendpoints) {
        o->endpoints = NULL;
        o->nendpoints = 0;
        return 0;
    }
    vox_sim_endpoint *e = calloc(in->nendpoints, sizeof *e);
    if (!e)
        return *ok = 0, -1;
    for (size_t i = 0; i < in->nendpoints; i++) {
        e[i] = in->endpoints[i];
        e[i].name = sim__strdup(in->endpoints[i].name);
        e[i].fail_cause = sim__strdup(in->endpoints[i].fail_cause);
        if ((in->endpoints[i].name && !e[i].name) ||
            (in->endpoints[i].fail_cause && !e[i].fail_cause))
            *ok = 0;
    }
    o->endpoints = e;
    return 0;
}

/* Copy with defaults; 0, VOX_EINVAL or VOX_ENOMEM. */
static int copy_opts(vox_sim_opts *o, const vox_sim_opts *in)
{
    static const vox_sim_opts zero;
    if (!in)
        in = &zero;
    if (isnan(in->speed) || isinf(in->speed) || in->speed < 0 || in->log_level < 0)
        return VOX_EINVAL;
    *o = *in;
    int ok = 1;
    o->speed = in->speed > 0 ? in->speed : 1.0;
    o->host = sim__strdup(in->host ? in->host : "127.0.0.1");
    o->password = sim__strdup(in->password ? in->password : "ClueCon");
    o->hostname = sim__strdup(in->hostname ? in->hostname : "vox-sim");
    o->socket = sim__strdup(in->socket);
    o->faults.garbage = sim__strdup(in->faults.garbage);
    o->users = (const char *const *)dup_list(in->users, &ok);
    copy_endpoints(o, in, &ok);
    if (!o->host || !o->password || !o->hostname || (in->socket && !o->socket) ||
        (in->faults.garbage && !o->faults.garbage) || (in->users && !o->users))
        ok = 0;
    return ok ? 0 : VOX_ENOMEM;
}

/* ------------------------------------------------------------- clock, ids */

static uint64_t real_us(void)
{
    return uv_hrtime() / 1000;
}

uint64_t sim__now_us(sim *s)
{
    double elapsed = (double)(real_us() - s->real0_us) * s->o.speed;
    return s->sim0_us + (uint64_t)elapsed;
}

uint64_t sim__real_ms(sim *s, uint64_t sim_ms)
{
    if (!sim_ms)
        return 0;
    double r = ceil((double)sim_ms / s->o.speed);
    return r < 1 ? 1 : (uint64_t)r;
}

void sim__uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    if (uv_random(NULL, NULL, b, sizeof b, 0, NULL) != 0) {
        /* never expected; a weaker fallback keeps ids unique enough */
        uint64_t t = uv_hrtime();
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)rand();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void sim__log(sim *s, int level, const char *fmt, ...)
{
    static _Thread_local int inside;
    if (!s || inside)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    inside = 1;
    if (s->o.log && level <= s->o.log_level) {
        vox_sim_log_line l = {level, line};
        s->o.log(&l, s->o.userdata);
    }
    /* FreeSWITCH levels: ERR 3, WARNING 4, INFO 6, DEBUG 7 */
    static const int fs[] = {3, 4, 6, 7};
    wire__conn_log(s, fs[level < 0 ? 0 : level > 3 ? 3 : level], line);
    inside = 0;
}

/* ------------------------------------------------------------- posting */

static void stop_on_loop(sim *s);

static void on_async(uv_async_t *a)
{
    sim *s = a->data;
    wire *w = wire_of(s);
    uv_mutex_lock(&w->mu);
    wire_post *p = w->posts;
    w->posts = w->posts_tail = NULL;
    int stop = w->stop_asked;
    uv_mutex_unlock(&w->mu);
    while (p) {
        wire_post *next = p->next;
        p->fn(s, p->ud);
        free(p);
        p = next;
    }
    if (stop)
        stop_on_loop(s);
}

int sim__post(sim *s, void (*fn)(sim *s, void *ud), void *ud)
{
    wire *w = wire_of(s);
    wire_post *p = malloc(sizeof *p);
    if (!p)
        return VOX_ENOMEM;
    p->fn = fn;
    p->ud = ud;
    p->next = NULL;
    uv_mutex_lock(&w->mu);
    if (w->stopped || w->stop_asked) {
        uv_mutex_unlock(&w->mu);
        free(p);
        return VOX_ECLOSED;
    }
    if (w->posts_tail)
        w->posts_tail->next = p;
    else
        w->posts = p;
    w->posts_tail = p;
    uv_async_send(&w->async);
    uv_mutex_unlock(&w->mu);
    return 0;
}

/* ------------------------------------------------------------- heartbeat */

static void up_time(uint64_t us, char *out, size_t n)
{
    uint64_t secs = us / 1000000;
    unsigned v[7] = {(unsigned)(secs / (86400 * 365)),
                     (unsigned)(secs % (86400 * 365) / 86400),
                     (unsigned)(secs % 86400 / 3600),
                     (unsigned)(secs % 3600 / 60),
                     (unsigned)(secs % 60),
                     (unsigned)(us / 1000 % 1000),
                     (unsigned)(us % 1000)};
    static const char *const unit[7] = {"year",   "day",         "hour",       "minute",
                                        "second", "millisecond", "microsecond"};
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < 7 && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%u %s%s", i ? ", " : "", v[i], unit[i],
                                v[i] == 1 ? "" : "s");
}

static void fire_heartbeat(sim *s)
{
    wire *w = wire_of(s);
    sim_event *e = sim__event_new(s, "HEARTBEAT", NULL);
    uint64_t up = sim__now_us(s) - s->sim0_us;
    char text[256];
    up_time(up, text, sizeof text);
    sim__event_add(e, "Event-Info", "System Ready");
    sim__event_add(e, "Up-Time", text);
    sim__event_add(e, "FreeSWITCH-Version", "1.11.3-dev~64bit");
    sim__event_addf(e, "Uptime-msec", "%llu", (unsigned long long)(up / 1000));
    sim__event_addf(e, "Session-Count", "%u", w->sessions);
    sim__event_add(e, "Max-Sessions", "1000");
    sim__event_add(e, "Session-Per-Sec", "100");
    sim__event_add(e, "Session-Per-Sec-Last", "0");
    sim__event_addf(e, "Session-Per-Sec-Max", "%u", w->sessions_peak);
    sim__event_addf(e, "Session-Per-Sec-FiveMin", "%u", w->sessions_peak);
    sim__event_addf(e, "Session-Since-Startup", "%u", w->sessions_total);
    sim__event_addf(e, "Session-Peak-Max", "%u", w->sessions_peak);
    sim__event_addf(e, "Session-Peak-FiveMin", "%u", w->sessions_peak);
    sim__event_add(e, "Idle-CPU", "99.000000");
    sim__fire(s, e);
}

static void on_heartbeat(uv_timer_t *t)
{
    fire_heartbeat(t->data);
}

void wire__count_event(sim *s, const sim_event *e)
{
    wire *w = wire_of(s);
    if (!w)
        return;
    if (!strcmp(e->name, "CHANNEL_CREATE")) {
        w->sessions++;
        w->sessions_total++;
        if (w->sessions > w->sessions_peak)
            w->sessions_peak = w->sessions;
    } else if (!strcmp(e->name, "CHANNEL_DESTROY") && w->sessions) {
        w->sessions--;
    }
}

/* ------------------------------------------------------------- clients */

/* The faults that follow a connection's first subscription. */
void wire__subscribe_faults(sim *s, sim_conn *k)
{
    const vox_sim_faults *f = &s->o.faults;
    for (size_t i = 0; i < f->flood_events && k->close_state == WIRE_CLOSE_RUNNING; i++) {
        sim_event *e = sim__event_new(s, NULL, "sim::flood");
        sim__event_addf(e, "Flood-Index", "%zu", i + 1);
        vox_buf b = {0};
        if (e && sim__event_frame(e, k->fmt, &b) == 0)
            wire__conn_queue(k, b.data, b.len, 1);
        vox_buf_free(&b);
        sim__event_free(e);
    }
    if (f->huge_event_bytes && k->close_state == WIRE_CLOSE_RUNNING) {
        sim_event *e = sim__event_new(s, NULL, "sim::huge");
        char *body = malloc(f->huge_event_bytes + 1);
        vox_buf b = {0};
        if (e && body) {
            for (size_t i = 0; i < f->huge_event_bytes; i++)
                body[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
            body[f->huge_event_bytes] = '\0';
            e->body = body;
            body = NULL;
            if (sim__event_frame(e, k->fmt, &b) == 0)
                wire__conn_queue(k, b.data, b.len, 1);
        }
        free(body);
        vox_buf_free(&b);
        sim__event_free(e);
    }
}

static void maybe_go(sim *s)
{
    wire *w = wire_of(s);
    if (!w->go_called && w->nsubscribed >= s->o.wait_clients && !w->stopping) {
        w->go_called = 1;
        sim__log(s, 2, "%u client(s) subscribed: scripted calls start", w->nsubscribed);
        sim__calls_go(s->calls);
    }
}

void wire__subscribed(sim *s, sim_conn *k)
{
    if (k->subscribed)
        return;
    k->subscribed = 1;
    wire_of(s)->nsubscribed++;
    k->faults_later = 1; /* after the reply, when events can flow */
    maybe_go(s);
}

static void on_connection(uv_stream_t *server, int status)
{
    sim *s = server->data;
    if (status < 0)
        return;
    sim_conn *k = wire__conn_new(s, 0);
    if (!k)
        return;
    if (uv_accept(server, (uv_stream_t *)&k->tcp) != 0) {
        wire__conn_drop(k);
        return;
    }
    sim__log(s, 3, "connection %u: accepted", k->id);
    if (s->o.faults.acl_reject) {
        /* FreeSWITCH's ACL: no auth/request, the rejection, the notice. */
        wire__conn_sends(k, "Content-Type: text/rude-rejection\nContent-Length: 24\n\n"
                            "Access Denied, go away.\n");
        wire__conn_start(k);
        wire__conn_finish(k, WIRE_GOODBYE);
        return;
    }
    wire__conn_sends(k, "Content-Type: auth/request\n\n");
    wire__conn_start(k);
}

/* The last connection is gone while stopping: no more posts, and the loop
 * ends (handles of the calls part may remain; vox_sim_free closes them). */
static void end_loop(sim *s)
{
    wire *w = wire_of(s);
    uv_timer_stop(&w->stop_grace);
    if (!uv_is_closing((uv_handle_t *)&w->async)) {
        uv_mutex_lock(&w->mu);
        w->stopped = 1;
        uv_mutex_unlock(&w->mu);
        uv_close((uv_handle_t *)&w->async, NULL);
        uv_close((uv_handle_t *)&w->stop_grace, NULL);
    }
    uv_stop(&s->loop);
}

void wire__conn_gone(sim_conn *k)
{
    sim *s = k->s;
    wire *w = wire_of(s);
    if (k->prev)
        k->prev->next = k->next;
    else
        w->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    w->nconns--;
    sim__log(s, 3, "connection %u: closed", k->id);
    free(k);
    if (w->stopping && !w->nconns)
        end_loop(s);
}

/* ------------------------------------------------------------- start */

static int listen_on(sim *s)
{
    wire *w = wire_of(s);
    struct sockaddr_storage ss;
    const char *host = s->o.host;
    if (uv_ip4_addr(host, s->o.port, (struct sockaddr_in *)&ss) == 0) {
        if (strcmp(host, "0.0.0.0"))
            snprintf(w->ipv4, sizeof w->ipv4, "%s", host);
    } else if (uv_ip6_addr(host, s->o.port, (struct sockaddr_in6 *)&ss) != 0) {
        return VOX_EINVAL;
    }
    uv_tcp_init(&s->loop, &w->listener);
    w->listener.data = s;
    int rc = uv_tcp_bind(&w->listener, (struct sockaddr *)&ss, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&w->listener, 128, on_connection);
    if (rc) {
        errno = -rc;
        return VOX_ESYS;
    }
    struct sockaddr_storage name;
    int len = sizeof name;
    uv_tcp_getsockname(&w->listener, (struct sockaddr *)&name, &len);
    w->port = ntohs(name.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&name)->sin6_port
                                               : ((struct sockaddr_in *)&name)->sin_port);
    return 0;
}

static void loop_main(void *arg)
{
    sim *s = arg;
    wire__sigpipe_block();
    wire__set_current(s);
    sim__log(s, 2, "listening on %s port %u (speed %g)", s->o.host, vox_sim_port(s), s->o.speed);
    maybe_go(s); /* wait_clients 0: at once */
    uv_run(&s->loop, UV_RUN_DEFAULT);
    wire__set_current(NULL);
}

static void init_times(sim *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->sim0_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
    s->real0_us = real_us();
}

static void init_loop(sim *s)
{
    wire *w = wire_of(s);
    sim__uuid(s->core_uuid);
    init_times(s);
    uv_loop_init(&s->loop);
    uv_mutex_init(&w->mu);
    uv_async_init(&s->loop, &w->async, on_async);
    w->async.data = s;
    uv_timer_init(&s->loop, &w->heartbeat);
    uv_timer_init(&s->loop, &w->stop_grace);
    w->heartbeat.data = w->stop_grace.data = s;
}

static void close_all(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Release what vox_sim_start made when it fails half-way. */
static void start_failed(sim *s)
{
    wire *w = wire_of(s);
    if (s->calls)
        sim__calls_free(s->calls);
    uv_walk(&s->loop, close_all, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    if (w)
        uv_mutex_destroy(&w->mu);
    free(w);
    free_opts(&s->o);
    free(s);
}

int vox_sim_start(vox_sim **out, const vox_sim_opts *opts)
{
    if (!out)
        return VOX_EINVAL;
    *out = NULL;
    sim *s = calloc(1, sizeof *s);
    wire *w = calloc(1, sizeof *w);
    if (!s || !w) {
        free(s);
        free(w);
        return VOX_ENOMEM;
    }
    int rc = copy_opts(&s->o, opts);
    if (rc) {
        free_opts(&s->o);
        free(s);
        free(w);
        return rc;
    }
    s->wire = w;
    init_loop(s);
    wire__set_current(s); /* the calls part may open things while starting */
    s->calls = sim__calls_new(s);
    wire__set_current(NULL);
    if (!s->calls) {
        start_failed(s);
        return VOX_ENOMEM;
    }
    if ((rc = listen_on(s)) != 0) {
        int e = errno;
        start_failed(s);
        errno = e;
        return rc;
    }
    if (s->o.heartbeat_ms) {
        uint64_t every = sim__real_ms(s, s->o.heartbeat_ms);
        uv_update_time(&s->loop);
        uv_timer_start(&w->heartbeat, on_heartbeat, every, every);
    }
    if (uv_thread_create(&w->thread, loop_main, s) != 0) {
        start_failed(s);
        return VOX_ESYS;
    }
    w->thread_started = 1;
    *out = s;
    return 0;
}

uint16_t vox_sim_port(const vox_sim *s)
{
    return s ? ((const wire *)s->wire)->port : 0;
}

/* ------------------------------------------------------------- stop */

static void on_stop_grace(uv_timer_t *t)
{
    sim *s = t->data;
    for (sim_conn *k = wire_of(s)->conns; k; k = k->next)
        wire__conn_drop(k);
}

static void stop_on_loop(sim *s)
{
    wire *w = wire_of(s);
    if (w->stopping)
        return;
    w->stopping = 1;
    sim__log(s, 2, "stopping");
    sim__calls_shutdown(s->calls);
    uv_close((uv_handle_t *)&w->listener, NULL);
    uv_close((uv_handle_t *)&w->heartbeat, NULL);
    for (sim_conn *k = w->conns; k; k = k->next)
        wire__conn_stop(k);
    uv_timer_start(&w->stop_grace, on_stop_grace, WIRE_CLOSE_GRACE_MS, 0);
    if (!w->nconns)
        end_loop(s);
}

/* No allocation here: a stop cannot fail, so the thread is always joined. */
void vox_sim_stop(vox_sim *s)
{
    if (!s)
        return;
    wire *w = wire_of(s);
    if (!w->thread_started)
        return;
    uv_mutex_lock(&w->mu);
    w->stop_asked = 1;
    if (!w->stopped)
        uv_async_send(&w->async);
    uv_mutex_unlock(&w->mu);
    uv_thread_join(&w->thread);
    w->thread_started = 0;
}

void vox_sim_free(vox_sim *s)
{
    if (!s)
        return;
    vox_sim_stop(s);
    wire *w = wire_of(s);
    wire__set_current(s);
    sim__calls_free(s->calls);
    wire__set_current(NULL);
    /* Let close callbacks run, then close whatever is left. */
    uv_run(&s->loop, UV_RUN_NOWAIT);
    uv_walk(&s->loop, close_all, NULL);
    uv_run(&s->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&s->loop) != 0)
        fprintf(stderr, "vox-sim: the loop still has handles at free\n");
    while (w->reqs)
        wire__req_free(s, w->reqs);
    while (w->posts) {
        wire_post *p = w->posts;
        w->posts = p->next;
        free(p);
    }
    uv_mutex_destroy(&w->mu);
    free(w);
    free_opts(&s->o);
    free(s);
}
