/* vox-sim: one event-socket connection — reading commands byte-exactly as
 * FreeSWITCH's read_packet does, the output and event queues, linger and the
 * ways a connection ends. Commands themselves are in cmd.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <netdb.h>
#include <pthread.h>

#include "../src/internal.h"
#include "wire.h"

static void out_kick(sim_conn *k);

/* A timer from now: the loop's cached time may be a whole batch of work
 * old, which would make simulated durations end early. */
static void timer_in(sim_conn *k, uv_timer_t *t, uv_timer_cb cb, uint64_t ms)
{
    uv_update_time(&k->s->loop);
    uv_timer_start(t, cb, ms, 0);
}
static void read_on(sim_conn *k);
static void read_off(sim_conn *k);

/* ------------------------------------------------------------- lifetime */

sim_conn *wire__conn_new(sim *s, int outbound)
{
    wire *w = wire_of(s);
    sim_conn *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->evlist = calloc((size_t)wire__ev_count(), 1);
    if (!k->evlist) {
        free(k);
        return NULL;
    }
    k->s = s;
    k->outbound = outbound;
    k->authed = outbound; /* outbound listeners are trusted */
    k->linger_secs = -1;
    k->log_level = 7;
    k->id = ++w->next_id;
    uv_tcp_init(&s->loop, &k->tcp);
    uv_timer_init(&s->loop, &k->timer);
    uv_timer_init(&s->loop, &k->rpace);
    uv_timer_init(&s->loop, &k->wpace);
    k->tcp.data = k->timer.data = k->rpace.data = k->wpace.data = k;
    k->handles = 4;
    k->next = w->conns;
    if (w->conns)
        w->conns->prev = k;
    w->conns = k;
    w->nconns++;
    return k;
}

void wire__conn_drop_events(sim_conn *k)
{
    while (k->evq) {
        wire_frame *f = k->evq;
        k->evq = f->next;
        free(f);
    }
    k->evq_tail = NULL;
    k->evq_n = k->evq_bytes = 0;
}

static void on_closed(uv_handle_t *h)
{
    sim_conn *k = h->data;
    if (--k->handles > 0)
        return;
    if (k->chan) {
        sim_chan *c = k->chan;
        k->chan = NULL;
        sim__chan_set_socket(c, NULL);
        sim__chan_socket_closed(c, k->resume ? 1 : 0);
    }
    wire__conn_drop_events(k);
    vox_buf_free(&k->in);
    vox_buf_free(&k->out);
    for (size_t i = 0; i < k->nsub; i++)
        free(k->sub[i]);
    free(k->sub);
    sim__pairs_free(k->filters, k->nfilters);
    free(k->evlist);
    wire__conn_gone(k);
}

void wire__conn_drop(sim_conn *k)
{
    if (!k || k->close_state == WIRE_CLOSE_DONE)
        return;
    k->close_state = WIRE_CLOSE_DONE;
    wire *w = wire_of(k->s);
    for (wire_req *r = w->reqs; r; r = r->next)
        if (r->k == k)
            r->k = NULL;
    k->api = NULL;
    if (k->subscribed) {
        k->subscribed = 0;
        w->nsubscribed--;
    }
    uv_close((uv_handle_t *)&k->tcp, on_closed);
    uv_close((uv_handle_t *)&k->timer, on_closed);
    uv_close((uv_handle_t *)&k->rpace, on_closed);
    uv_close((uv_handle_t *)&k->wpace, on_closed);
}

static void on_grace(uv_timer_t *t)
{
    wire__conn_drop(t->data);
}

static void on_shutdown(uv_shutdown_t *r, int status)
{
    (void)status;
    wire__conn_drop(r->data);
}

/* The output is drained on a closing connection: half-close, then close
 * once the peer saw it. */
static void flushed(sim_conn *k)
{
    k->sreq.data = k;
    if (uv_shutdown(&k->sreq, (uv_stream_t *)&k->tcp, on_shutdown) != 0)
        wire__conn_drop(k);
}

static void append_notice(sim_conn *k, const char *msg)
{
    char head[256];
    int n;
    if (k->has_session)
        n = snprintf(head, sizeof head,
                     "Content-Type: text/disconnect-notice\nControlled-Session-UUID: %s\n"
                     "Content-Disposition: disconnect\nContent-Length: %zu\n\n",
                     k->sess, strlen(msg));
    else
        n = snprintf(head, sizeof head,
                     "Content-Type: text/disconnect-notice\nContent-Length: %zu\n\n", strlen(msg));
    vox__buf_append(&k->out, head, (size_t)n);
    vox__buf_appends(&k->out, msg);
}

/* The last step of every orderly end: the notice, then close. */
static void final_notice(sim_conn *k, const char *msg)
{
    if (k->close_state >= WIRE_CLOSE_FLUSHING)
        return;
    k->close_state = WIRE_CLOSE_FLUSHING;
    read_off(k);
    wire__conn_drop_events(k);
    if (!k->outbound || k->tcp_up)
        append_notice(k, msg ? msg : WIRE_GOODBYE);
    timer_in(k, &k->timer, on_grace, WIRE_CLOSE_GRACE_MS);
    if (k->outbound && !k->tcp_up) {
        wire__conn_drop(k);
        return;
    }
    out_kick(k);
    if (!k->writing && !k->out.len)
        flushed(k);
}

void wire__conn_finish(sim_conn *k, const char *msg)
{
    if (!k || k->close_state != WIRE_CLOSE_RUNNING)
        return;
    sim__log(k->s, 3, "connection %u: ending", k->id);
    k->close_msg = msg;
    /* FreeSWITCH's listener waits for its bgapi threads (inbound_30). */
    if (k->jobs || k->api || k->reply_wait) {
        k->close_state = WIRE_CLOSE_PENDING;
        read_off(k);
        wire__conn_drop_events(k);
        return;
    }
    final_notice(k, msg);
}

/* A pending close whose jobs are done. */
void wire__conn_finish_pending(sim_conn *k)
{
    if (k->close_state == WIRE_CLOSE_PENDING && !k->jobs && !k->api && !k->reply_wait)
        final_notice(k, k->close_msg);
}

/* The sim stops, or the queue overflowed: no waiting for jobs. */
static void kill_conn(sim_conn *k, const char *msg)
{
    if (k->close_state >= WIRE_CLOSE_FLUSHING)
        return;
    k->jobs = 0;
    k->close_state = WIRE_CLOSE_RUNNING;
    final_notice(k, msg);
}

void wire__conn_stop(sim_conn *k)
{
    kill_conn(k, WIRE_SHUTDOWN);
}

/* ------------------------------------------------------------- SIGPIPE */

/* A write to a peer that went away fails with EPIPE; it must not also raise
 * SIGPIPE in the program that embeds the simulator, whose signal
 * dispositions are not the sim's to change. Where a socket can say so
 * (SO_NOSIGPIPE) each one does. Elsewhere (Linux: libuv writes with writev,
 * which has no MSG_NOSIGNAL) the loop thread blocks SIGPIPE: the signal of a
 * failed write is directed at the thread that wrote, so it stays pending
 * there, and is taken back once the write reported its error. */
void wire__sigpipe_block(void)
{
#ifndef SO_NOSIGPIPE
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
#endif
}

static void sigpipe_drain(void)
{
#ifndef SO_NOSIGPIPE
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
        continue;
#endif
}

static void sigpipe_off(sim_conn *k)
{
#ifdef SO_NOSIGPIPE
    uv_os_fd_t fd;
    int one = 1;
    if (uv_fileno((uv_handle_t *)&k->tcp, &fd) == 0)
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
    (void)k;
#endif
}

/* ------------------------------------------------------------- output */

static size_t out_pending(const sim_conn *k)
{
    return k->out.len + k->wlen;
}

static void on_wpace(uv_timer_t *t)
{
    sim_conn *k = t->data;
    k->wgate = 0;
    out_kick(k);
}

static void after_write(sim_conn *k)
{
    if (k->close_state == WIRE_CLOSE_FLUSHING && !k->writing && !k->out.len) {
        flushed(k);
        return;
    }
    if (k->close_state != WIRE_CLOSE_RUNNING)
        return;
    if (out_pending(k) < WIRE_OUT_HIGH / 2) {
        wire__conn_pump(k);
        if (!k->reading && !k->rgate && out_pending(k) < WIRE_OUT_HIGH / 2)
            read_on(k);
    }
}

static void on_write(uv_write_t *r, int status)
{
    sim_conn *k = r->data;
    vox__free(k->wbuf);
    k->wbuf = NULL;
    k->wlen = 0;
    k->writing = 0;
    if (status < 0) {
        sigpipe_drain();
        wire__conn_drop(k);
        return;
    }
    uint32_t slow = k->outbound ? 0 : k->s->o.faults.slow_write_ms;
    if (slow && k->out.len && k->close_state != WIRE_CLOSE_DONE) {
        k->wgate = 1;
        timer_in(k, &k->wpace, on_wpace, sim__real_ms(k->s, slow));
    } else {
        out_kick(k);
    }
    after_write(k);
}

/* Start writing what is pending, one write at a time. */
static void out_kick(sim_conn *k)
{
    if (k->writing || k->wgate || !k->out.len || k->close_state == WIRE_CLOSE_DONE)
        return;
    if (k->outbound && !k->tcp_up)
        return;
    size_t n = k->out.len;
    if (!k->outbound && k->s->o.faults.slow_write_ms && n > 16)
        n = 16; /* small pieces, as a slow FreeSWITCH would */
    if (n == k->out.len) {
        k->wbuf = k->out.data;
        k->out.data = NULL;
        k->out.len = k->out.cap = 0;
    } else {
        k->wbuf = vox__malloc(n);
        if (!k->wbuf) {
            wire__conn_drop(k);
            return;
        }
        memcpy(k->wbuf, k->out.data, n);
        vox__buf_consume(&k->out, n);
    }
    k->wlen = n;
    k->writing = 1;
    k->wreq.data = k;
    uv_buf_t b = uv_buf_init(k->wbuf, (unsigned)n);
    if (uv_write(&k->wreq, (uv_stream_t *)&k->tcp, &b, 1, on_write) != 0) {
        vox__free(k->wbuf);
        k->wbuf = NULL;
        k->wlen = 0;
        k->writing = 0;
        wire__conn_drop(k);
    }
}

void wire__conn_send(sim_conn *k, const char *p, size_t n)
{
    if (!k || k->close_state >= WIRE_CLOSE_FLUSHING)
        return;
    if (vox__buf_append(&k->out, p, n)) {
        wire__conn_drop(k);
        return;
    }
    out_kick(k);
}

void wire__conn_sends(sim_conn *k, const char *p)
{
    wire__conn_send(k, p, strlen(p));
}

void wire__conn_reply_with(sim_conn *k, const char *text, const char *more)
{
    vox_buf b = {0};
    int rc = vox__buf_appends(&b, "Content-Type: command/reply\nReply-Text: ");
    rc |= vox__buf_appends(&b, text);
    rc |= vox__buf_appends(&b, "\n");
    rc |= vox__buf_appends(&b, more);
    rc |= vox__buf_appends(&b, "\n");
    if (rc)
        wire__conn_drop(k);
    else
        wire__conn_send(k, b.data, b.len);
    vox_buf_free(&b);
}

void wire__conn_reply(sim_conn *k, const char *text)
{
    wire__conn_reply_with(k, text, "");
}

/* ------------------------------------------------------------- events */

/* Events are written only between commands, as FreeSWITCH's read loop does:
 * not while a command is being read or run, nor while an api runs. */
static int busy(const sim_conn *k)
{
    return k->processing || k->api || k->reply_wait || k->in.len > k->in_off ||
           k->close_state != WIRE_CLOSE_RUNNING;
}

static void move_queue(sim_conn *k, int force)
{
    while (k->evq && (force || out_pending(k) < WIRE_OUT_HIGH)) {
        wire_frame *f = k->evq;
        if (vox__buf_append(&k->out, f->data, f->len)) {
            wire__conn_drop(k);
            return;
        }
        k->evq = f->next;
        if (!k->evq)
            k->evq_tail = NULL;
        k->evq_n -= f->counted ? 1 : 0;
        k->evq_bytes -= f->len;
        free(f);
    }
    out_kick(k);
}

void wire__conn_pump(sim_conn *k)
{
    if (!k || busy(k))
        return;
    move_queue(k, 0);
}

int wire__conn_queue(sim_conn *k, const char *p, size_t n, int counted)
{
    if (!k || k->close_state != WIRE_CLOSE_RUNNING)
        return -1;
    if (counted && k->evq && (k->evq_n >= WIRE_MAX_QUEUE || k->evq_bytes >= WIRE_MAX_QUEUE_BYTES)) {
        if (++k->lost > WIRE_MAX_MISSED) {
            sim__log(k->s, 1, "connection %u: killed listener because of lost events", k->id);
            kill_conn(k, WIRE_LOST);
        }
        return -1;
    }
    wire_frame *f = malloc(sizeof *f + n);
    if (!f)
        return -1;
    f->next = NULL;
    f->len = n;
    f->counted = counted;
    memcpy(f->data, p, n);
    if (k->evq_tail)
        k->evq_tail->next = f;
    else
        k->evq = f;
    k->evq_tail = f;
    k->evq_n += counted ? 1 : 0;
    k->evq_bytes += n;
    if (counted)
        k->lost = 0;
    wire__conn_pump(k);
    return 0;
}

const char *wire__log_name(int fslevel)
{
    static const char *const names[] = {"CONSOLE", "ALERT",  "CRIT", "ERR",
                                        "WARNING", "NOTICE", "INFO", "DEBUG"};
    return names[fslevel & 7];
}

void wire__conn_log(sim *s, int fslevel, const char *text)
{
    wire *w = wire_of(s);
    if (!w)
        return;
    for (sim_conn *k = w->conns, *next; k; k = next) {
        next = k->next;
        if (!k->log || k->log_level < fslevel || k->close_state != WIRE_CLOSE_RUNNING)
            continue;
        char date[32], body[1400], head[256];
        uint64_t now = sim__now_us(s);
        sim__date(now, date, sizeof date);
        int bn = snprintf(body, sizeof body, "%s.%06u 99.00%% [%s] vox_sim.c:1 %s\n", date,
                          (unsigned)(now % 1000000), wire__log_name(fslevel), text);
        if (bn < 0 || (size_t)bn >= sizeof body)
            bn = (int)sizeof body - 1;
        int hn = snprintf(head, sizeof head,
                          "Content-Type: log/data\nContent-Length: %d\nLog-Level: %d\n"
                          "Text-Channel: 3\nLog-File: vox_sim.c\nLog-Func: sim__log\n"
                          "Log-Line: 1\nUser-Data: \n\n",
                          bn, fslevel);
        vox_buf f = {0};
        vox__buf_append(&f, head, (size_t)hn);
        vox__buf_append(&f, body, (size_t)bn);
        if (f.data)
            wire__conn_queue(k, f.data, f.len, 1);
        vox_buf_free(&f);
    }
}

/* ------------------------------------------------------------- linger */

static void on_linger_done(uv_timer_t *t)
{
    wire__conn_finish(t->data, WIRE_GOODBYE);
}

void wire__conn_hangup(sim_conn *k)
{
    if (k->close_state != WIRE_CLOSE_RUNNING)
        return;
    if (k->processing || k->reply_wait) {
        /* FreeSWITCH answers the command first: its listener notices the
         * hangup only when it reads again. */
        k->hangup_later = 1;
        return;
    }
    if (!k->linger) {
        /* The final notice right after the events already queued. */
        move_queue(k, 1);
        wire__conn_finish(k, WIRE_GOODBYE);
        return;
    }
    char notice[512];
    int n = snprintf(notice, sizeof notice,
                     "Content-Type: text/disconnect-notice\nControlled-Session-UUID: %s\n"
                     "Content-Disposition: linger\nChannel-Name: %s\nLinger-Time: %ld\n"
                     "Content-Length: 0\n\n",
                     k->sess, k->chan_name, k->linger_secs);
    sim__log(k->s, 3, "connection %u: the channel hung up, lingering %ld s", k->id, k->linger_secs);
    wire__conn_queue(k, notice, (size_t)n, 0);
    if (k->linger_secs != -1) { /* a negative time is over at once */
        long secs = k->linger_secs < 0 ? 0 : k->linger_secs > 86400000 ? 86400000 : k->linger_secs;
        timer_in(k, &k->timer, on_linger_done, sim__real_ms(k->s, (uint64_t)secs * 1000));
    }
}

void sim__socket_chan_hangup(sim_conn *k)
{
    if (!k || k->hangup_seen)
        return;
    k->hangup_seen = 1;
    wire__conn_hangup(k);
}

void sim__socket_drop(sim_conn *k)
{
    wire__conn_drop(k);
}

/* A static socket's sendmsg ended: its reply, then what waited for it. */
void sim__socket_reply(sim_conn *k, const char *text)
{
    if (!k || !k->reply_wait)
        return;
    k->reply_wait = 0;
    wire__conn_reply(k, text && *text ? text : "+OK");
    if (k->close_state == WIRE_CLOSE_PENDING) {
        wire__conn_finish_pending(k);
        return;
    }
    if (k->hangup_later) {
        k->hangup_later = 0;
        wire__conn_hangup(k);
        return;
    }
    wire__conn_process(k);
}

/* An inbound `myevents <uuid>` connection follows its channel: without
 * linger it closes right after CHANNEL_HANGUP (inbound_18), with linger the
 * notice follows CHANNEL_HANGUP_COMPLETE (inbound_17). */
void wire__conn_session_event(sim_conn *k, const sim_event *e)
{
    if (k->hangup_seen)
        return;
    const char *want = k->linger ? "CHANNEL_HANGUP_COMPLETE" : "CHANNEL_HANGUP";
    if (strcmp(e->name, want) != 0)
        return;
    k->hangup_seen = 1;
    wire__conn_hangup(k);
}

/* ------------------------------------------------------------- input */

static void on_rpace(uv_timer_t *t)
{
    sim_conn *k = t->data;
    k->rgate = 0;
    wire__conn_process(k);
    if (k->close_state == WIRE_CLOSE_RUNNING && !k->reading && out_pending(k) < WIRE_OUT_HIGH)
        read_on(k);
}

/* The value of a Content-Length header as atoi would read it, clamped. */
static long long content_length(const char *v)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    return n < 0 ? 0 : n;
}

static char *dup_n(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static void add_header(wire_cmd *c, char *line)
{
    char *val = strchr(line, ':');
    if (!*line || !val)
        return; /* FreeSWITCH ignores lines without a colon */
    *val++ = '\0';
    while (*val == ' ')
        val++;
    vox_header *h = sim__grow(c->h, &c->cap, c->n + 1, sizeof *h);
    if (!h)
        return;
    c->h = h;
    char *name = sim__strdup(line), *value = sim__strdup(val);
    if (!name || !value) {
        free(name);
        free(value);
        return;
    }
    c->h[c->n].name = name;
    c->h[c->n].value = value;
    c->n++;
}

/* Split a complete header block (len bytes at p) into c: each line is cut at
 * its first CR or LF, as strip_cr does. */
static int parse_headers(wire_cmd *c, const char *p, size_t len, long long *clen)
{
    memset(c, 0, sizeof *c);
    *clen = 0;
    char *block = dup_n(p, len);
    if (!block)
        return -1;
    char *line = block;
    for (int first = 1; line && *line; first = 0) {
        char *next = strpbrk(line, "\r\n");
        if (next) {
            *next++ = '\0';
            while (*next == '\r' || *next == '\n')
                next++;
        }
        if (first) {
            c->line = sim__strdup(line);
        } else {
            size_t before = c->n;
            add_header(c, line);
            if (c->n > before && !*clen && !strcasecmp(c->h[c->n - 1].name, "content-length"))
                *clen = content_length(c->h[c->n - 1].value);
        }
        line = next;
    }
    free(block);
    if (!c->line)
        return -1;
    return 0;
}

void wire__cmd_free(wire_cmd *c)
{
    free(c->line);
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->h[i].name);
        free((char *)c->h[i].value);
    }
    free(c->h);
    free(c->body);
    memset(c, 0, sizeof *c);
}

/* One command from the input: 1 (c filled), 0 (incomplete), -1 (the
 * connection must be dropped: a block or body over the limits). */
static int next_command(sim_conn *k, wire_cmd *c)
{
    char *base = k->in.data + k->in_off;
    size_t avail = k->in.len - k->in_off;
    while (!k->scan && avail && (*base == '\r' || *base == '\n')) {
        base++;
        avail--;
        k->in_off++; /* leading blank lines are skipped */
    }
    size_t i = k->scan;
    int nl = k->nl;
    for (; i < avail; i++) {
        if (base[i] == '\n') {
            if (++nl == 2)
                break;
        } else if (base[i] != '\r') {
            nl = 0;
        }
    }
    if (i >= avail) {
        k->scan = i;
        k->nl = nl;
        return avail > WIRE_MAX_HEADER_BLOCK ? -1 : 0;
    }
    long long clen;
    if (parse_headers(c, base, i + 1, &clen) < 0)
        return -1;
    if ((unsigned long long)clen > WIRE_MAX_BODY) {
        wire__cmd_free(c);
        return -1;
    }
    size_t need = i + 1 + (size_t)clen;
    if (avail < need) {
        k->scan = i; /* resume at the final newline */
        k->nl = 1;
        wire__cmd_free(c);
        return 0;
    }
    if (clen > 0) {
        c->body = dup_n(base + i + 1, (size_t)clen);
        c->body_len = (size_t)clen;
    }
    k->in_off += need;
    k->scan = 0;
    k->nl = 0;
    return 1;
}

static void compact_input(sim_conn *k)
{
    if (k->in_off == k->in.len) {
        k->in.len = k->in_off = 0;
    } else if (k->in_off > (64u << 10)) {
        vox__buf_consume(&k->in, k->in_off);
        k->in_off = 0;
    }
}

static void on_first_cmd_timeout(uv_timer_t *t)
{
    sim_conn *k = t->data;
    if (!k->got_cmd)
        wire__conn_finish(k, WIRE_GOODBYE);
}

/* One command read: run it (or drop the connection, as the faults say).
 * 0 to go on reading, -1 to stop. */
static int run_one(sim_conn *k, wire_cmd *c)
{
    const vox_sim_faults *f = &k->s->o.faults;
    if (!k->got_cmd) {
        k->got_cmd = 1;
        uv_timer_stop(&k->timer);
    }
    k->ncmds++;
    if (!k->outbound && f->drop_after && k->ncmds >= f->drop_after) {
        sim__log(k->s, 2, "connection %u: dropped after %u commands (fault)", k->id, k->ncmds);
        wire__conn_drop(k);
        return -1;
    }
    wire__cmd_run(k, c);
    if (k->hangup_later && !k->reply_wait) {
        k->hangup_later = 0;
        k->processing = 0;
        wire__conn_hangup(k);
        k->processing = 1;
    }
    if (!k->outbound && f->slow_read_ms && k->close_state == WIRE_CLOSE_RUNNING) {
        k->rgate = 1;
        timer_in(k, &k->rpace, on_rpace, sim__real_ms(k->s, f->slow_read_ms));
    }
    return 0;
}

void wire__conn_process(sim_conn *k)
{
    if (!k || k->processing)
        return;
    k->processing = 1;
    while (k->close_state == WIRE_CLOSE_RUNNING && !k->api && !k->reply_wait && !k->rgate) {
        wire_cmd c;
        int r = next_command(k, &c);
        if (r < 0) {
            sim__log(k->s, 1, "connection %u: command over the limits, closing", k->id);
            wire__conn_drop(k);
            break;
        }
        if (r == 0)
            break;
        r = run_one(k, &c);
        wire__cmd_free(&c);
        if (r < 0)
            break;
    }
    k->processing = 0;
    if (k->close_state != WIRE_CLOSE_RUNNING)
        return;
    compact_input(k);
    wire__conn_pump(k);
    if (k->faults_later) {
        k->faults_later = 0;
        wire__subscribe_faults(k->s, k);
    }
    if (out_pending(k) >= WIRE_OUT_HIGH)
        read_off(k);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    sim_conn *k = h->data;
    (void)hint;
    if (vox__buf_reserve(&k->in, 64u << 10)) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init(k->in.data + k->in.len, (unsigned)(k->in.cap - k->in.len - 1));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    sim_conn *k = st->data;
    (void)buf;
    if (nread == UV_ENOBUFS) {
        wire__conn_drop(k);
        return;
    }
    if (nread < 0) {
        read_off(k);
        if (nread == UV_EOF)
            wire__conn_finish(k, WIRE_GOODBYE); /* the listener ends: notice, close */
        else
            wire__conn_drop(k);
        return;
    }
    if (nread == 0 || k->close_state != WIRE_CLOSE_RUNNING)
        return;
    k->in.len += (size_t)nread;
    k->in.data[k->in.len] = '\0';
    wire__conn_process(k);
}

static void read_on(sim_conn *k)
{
    if (k->reading || k->close_state != WIRE_CLOSE_RUNNING)
        return;
    if (uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read) == 0)
        k->reading = 1;
}

static void read_off(sim_conn *k)
{
    if (!k->reading)
        return;
    uv_read_stop((uv_stream_t *)&k->tcp);
    k->reading = 0;
}

void wire__conn_start(sim_conn *k)
{
    uv_tcp_nodelay(&k->tcp, 1);
    sigpipe_off(k);
    timer_in(k, &k->timer, on_first_cmd_timeout, WIRE_FIRST_CMD_MS);
    read_on(k);
    out_kick(k);
}

/* ------------------------------------------------------------- outbound */

static sim *tl_current(void);

static void on_connect(uv_connect_t *r, int status)
{
    sim_conn *k = r->data;
    if (k->close_state == WIRE_CLOSE_DONE)
        return;
    if (status < 0) {
        sim__log(k->s, 1, "socket: connect failed: %s", uv_strerror(status));
        wire__conn_drop(k);
        return;
    }
    k->tcp_up = 1;
    sim__log(k->s, 3, "socket: connected for %s", k->sess);
    wire__conn_start(k);
}

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    freeaddrinfo(res);
    return 0;
}

int sim__socket_open(sim_chan *c, const char *host, uint16_t port, bool async, bool full)
{
    sim *s = tl_current();
    if (!s || !c || !host)
        return VOX_EINVAL;
    if (wire_of(s)->stopping)
        return VOX_ECLOSED;
    struct sockaddr_storage ss;
    if (resolve(host, port, &ss) < 0)
        return VOX_EINVAL;
    sim_conn *k = wire__conn_new(s, 1);
    if (!k)
        return VOX_ENOMEM;
    k->async = async;
    k->full = full;
    k->has_session = 1;
    snprintf(k->sess, sizeof k->sess, "%s", sim__chan_uuid(c));
    const char *name = sim__chan_var(c, "channel_name");
    snprintf(k->chan_name, sizeof k->chan_name, "%s", name ? name : "");
    k->creq.data = k;
    if (uv_tcp_connect(&k->creq, &k->tcp, (struct sockaddr *)&ss, on_connect) != 0) {
        wire__conn_drop(k); /* k->chan not set: no callback */
        return VOX_ESYS;
    }
    k->chan = c;
    sim__chan_set_socket(c, k);
    return 0;
}

/* ------------------------------------------------------------- current sim */

static _Thread_local sim *tl_sim;

void wire__set_current(sim *s)
{
    tl_sim = s;
}

static sim *tl_current(void)
{
    return tl_sim;
}
