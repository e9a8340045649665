/* vox-sim applications: the sendmsg queue, one application at a time as
 * FreeSWITCH runs them (CHANNEL_EXECUTE, CHANNEL_EXECUTE_COMPLETE with
 * Application-UUID, loops), the dialplan steps, and the applications
 * themselves in simulated time. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calls.h"

struct sim_msg {
    sim_msg *next;
    bool hangup;
    char *app, *arg, *event_uuid, *cause;
    int loops, loop;
    bool lock, deferred;
    sim_conn *replyto;
};

typedef struct pagd pagd;

typedef struct app_def {
    const char *name;
    void (*start)(sim_chan *ch, sim_run *r);
    const char *abort_resp; /* NULL: the last application's response */
    bool parking;           /* queued messages run on top of it */
} app_def;

struct sim_run {
    const app_def *def;
    char *name, *arg;
    char uuid[64];
    sim_msg *msg; /* NULL: a dialplan step */
    bool lock, ending;
    uint64_t timer, started_ms, dur_ms;
    pagd *pg;
    sim_dial *dial;
};

static void pump_now(sim_chan *ch);

/* ------------------------------------------------------------ helpers */

static void msg_free(sim_msg *m)
{
    if (!m)
        return;
    free(m->app);
    free(m->arg);
    free(m->event_uuid);
    free(m->cause);
    free(m);
}

static void reply_late(sim_msg *m)
{
    if (m && m->deferred && m->replyto)
        sim__socket_reply(m->replyto, "+OK");
    if (m)
        m->deferred = false;
}

static sim_run *top(sim_chan *ch)
{
    return ch->nruns ? ch->runs[ch->nruns - 1] : NULL;
}

static void run_free(sim_run *r)
{
    free(r->name);
    free(r->arg);
    free(r->pg);
    free(r);
}

static void task_pump(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    pump_now(ch);
}

void sim__apps_pump(sim_chan *ch)
{
    if (sim__chan_up(ch) && !sim__after(ch->s->calls, ch, 0, task_pump, NULL))
        pump_now(ch);
}

/* ------------------------------------------------------------ media */

/* tone_stream://[L=n;]%(on,off,freq…)[;%(…)]: each segment lasts on+off
 * ms, the whole L times (L=-1: forever). */
static uint64_t tone_ms(const char *spec)
{
    uint64_t total = 0;
    long loops = 1;
    for (const char *p = spec; p && *p;) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (!strncmp(p, "L=", 2))
            loops = strtol(p + 2, NULL, 10);
        const char *pc = memchr(p, '%', n);
        if (pc && pc[1] == '(') {
            char *e1;
            long on = strtol(pc + 2, &e1, 10);
            long off = *e1 == ',' ? strtol(e1 + 1, NULL, 10) : 0;
            total += (uint64_t)(on > 0 ? on : 0) + (uint64_t)(off > 0 ? off : 0);
        }
        p = end ? end + 1 : NULL;
    }
    if (loops < 0)
        return UINT64_MAX;
    return total * (uint64_t)(loops ? loops : 1);
}

uint64_t sim__media_ms(const char *path)
{
    if (!path || !*path)
        return 0;
    if (*path == '{') { /* {vars}file */
        const char *e = strchr(path, '}');
        path = e ? e + 1 : path;
    }
    if (!strncmp(path, "tone_stream://", 14))
        return tone_ms(path + 14);
    if (!strncmp(path, "silence_stream://", 17)) {
        long ms = strtol(path + 17, NULL, 10);
        return ms > 0 ? (uint64_t)ms : UINT64_MAX;
    }
    if (!strncmp(path, "file_string://", 14)) {
        uint64_t t = 0;
        char *dup = sim__strdup(path + 14);
        for (char *save = NULL, *f = dup ? strtok_r(dup, "!", &save) : NULL; f;
             f = strtok_r(NULL, "!", &save)) {
            uint64_t m = sim__media_ms(f);
            t = m == UINT64_MAX || t == UINT64_MAX ? UINT64_MAX : t + m;
        }
        free(dup);
        return t;
    }
    return 2000; /* a file: every recording lasts two seconds here */
}

static void playback_vars(sim_chan *ch, uint64_t ms)
{
    sim__var_setf(ch, "playback_last_offset_pos", "%llu", (unsigned long long)ms * 8);
    sim__var_setf(ch, "playback_seconds", "%llu", (unsigned long long)ms / 1000);
    sim__var_setf(ch, "playback_ms", "%llu", (unsigned long long)ms);
    sim__var_setf(ch, "playback_samples", "%llu", (unsigned long long)ms * 8);
}

/* ------------------------------------------------------------ execution */

static const app_def *find_app(const char *name);

static void fire_exec(sim_chan *ch, sim_run *r, const char *ev, const char *resp)
{
    sim_event *e = sim__chan_event(ch, ev, true);
    if (!e)
        return;
    sim__event_add(e, "Application", r->name);
    if (r->arg && *r->arg)
        sim__event_add(e, "Application-Data", r->arg);
    if (resp)
        sim__event_add(e, "Application-Response", resp);
    sim__event_add(e, "Application-UUID", r->uuid);
    sim__fire(ch->s, e);
}

static bool push_run(sim_chan *ch, sim_run *r)
{
    if (ch->nruns == ch->capruns) {
        size_t cap = ch->capruns ? ch->capruns * 2 : 4;
        sim_run **v = realloc(ch->runs, cap * sizeof *v);
        if (!v)
            return false;
        ch->runs = v;
        ch->capruns = cap;
    }
    ch->runs[ch->nruns++] = r;
    return true;
}

void sim__app_start(sim_chan *ch, const char *app, const char *arg, sim_msg *msg)
{
    const app_def *d = find_app(app);
    if (!d) {
        /* "Invalid Application": no EXECUTE, the channel goes down */
        sim__log(ch->s, 1, "%s: invalid application %s", ch->name, app);
        sim__account(ch, "invalid application %s", app);
        reply_late(msg);
        msg_free(msg);
        sim__chan_hangup(ch, "DESTINATION_OUT_OF_ORDER");
        return;
    }
    sim_run *r = calloc(1, sizeof *r);
    if (r) {
        r->def = d;
        r->name = sim__strdup(d->name);
        r->arg = sim__strdup(arg ? arg : "");
    }
    if (!r || !r->name || !r->arg || !push_run(ch, r)) {
        if (r)
            run_free(r);
        reply_late(msg);
        msg_free(msg);
        return;
    }
    r->msg = msg;
    r->lock = msg && msg->lock;
    if (msg && msg->event_uuid && *msg->event_uuid)
        snprintf(r->uuid, sizeof r->uuid, "%s", msg->event_uuid);
    else
        sim__uuid(r->uuid);
    if (msg) {
        sim__var_setf(ch, "current_loop", "%d", msg->loop);
        sim__var_setf(ch, "total_loops", "%d", msg->loops);
    }
    sim__var_set(ch, "current_application", d->name);
    sim__var_set(ch, "current_application_data", *r->arg ? r->arg : NULL);
    fire_exec(ch, r, "CHANNEL_EXECUTE", NULL);
    r->started_ms = sim__ms(ch->s);
    d->start(ch, r);
}

/* The application's end: EXECUTE_COMPLETE, then the next loop of its
 * sendmsg, or what comes next on the channel. */
void sim__app_done(sim_chan *ch, const char *response)
{
    sim_run *r = top(ch);
    if (!r)
        return;
    const char *resp = response && *response ? response : "_none_";
    sim__cancel(ch->s->calls, r->timer);
    fire_exec(ch, r, "CHANNEL_EXECUTE_COMPLETE", resp);
    snprintf(ch->last_response, sizeof ch->last_response, "%s", resp);
    ch->nruns--;
    uint64_t took = r->dur_ms ? r->dur_ms : sim__ms(ch->s) - r->started_ms;
    sim_msg *m = r->msg;
    run_free(r);
    if (m) {
        /* FreeSWITCH stops looping after an iteration under 0.5 s */
        if (sim__chan_up(ch) && (m->loops < 0 || m->loop < m->loops) && took >= 500) {
            m->loop++;
            sim__app_start(ch, m->app, m->arg, m);
            return;
        }
        sim__var_set(ch, "current_loop", NULL);
        sim__var_set(ch, "total_loops", NULL);
        reply_late(m);
        msg_free(m);
    }
    sim__apps_pump(ch);
}

static void unpark(sim_chan *ch)
{
    if (ch->parked) {
        ch->parked = false;
        sim__fire_chan(ch, "CHANNEL_UNPARK", true);
    }
}

static void stop_run(sim_chan *ch, sim_run *r)
{
    sim__cancel(ch->s->calls, r->timer);
    r->timer = 0;
    if (r->dial) {
        sim__dial_cancel(r->dial, "ORIGINATOR_CANCEL");
        r->dial = NULL;
        ch->dial = NULL;
    }
}

void sim__apps_abort(sim_chan *ch)
{
    while (ch->nruns) {
        sim_run *r = top(ch);
        stop_run(ch, r);
        if (r->def->parking)
            unpark(ch);
        char resp[64];
        snprintf(resp, sizeof resp, "%s", r->def->abort_resp ? r->def->abort_resp : ch->last_response);
        sim__app_done(ch, resp);
    }
    while (ch->q_head) {
        sim_msg *m = ch->q_head;
        ch->q_head = m->next;
        reply_late(m);
        msg_free(m);
    }
    ch->q_tail = NULL;
}

/* Leaving the extension (transfer): every application ends as on hangup,
 * queued messages stay. */
void sim__apps_unwind(sim_chan *ch)
{
    while (ch->nruns) {
        sim_run *r = top(ch);
        stop_run(ch, r);
        if (r->def->parking)
            unpark(ch);
        char resp[64];
        snprintf(resp, sizeof resp, "%s", ch->last_response);
        sim_msg *m = r->msg;
        r->msg = NULL;
        sim__app_done(ch, resp);
        if (m) {
            sim__var_set(ch, "current_loop", NULL);
            sim__var_set(ch, "total_loops", NULL);
            reply_late(m);
            msg_free(m);
        }
    }
}

void sim__apps_sock_gone(sim_chan *ch)
{
    for (size_t i = 0; i < ch->nruns; i++)
        if (ch->runs[i]->msg)
            ch->runs[i]->msg->replyto = NULL;
    for (sim_msg *m = ch->q_head; m; m = m->next)
        m->replyto = NULL;
}

void sim__apps_free(sim_chan *ch)
{
    for (size_t i = 0; i < ch->nruns; i++) {
        msg_free(ch->runs[i]->msg);
        run_free(ch->runs[i]);
    }
    free(ch->runs);
    ch->runs = NULL;
    ch->nruns = 0;
    while (ch->q_head) {
        sim_msg *m = ch->q_head;
        ch->q_head = m->next;
        msg_free(m);
    }
}

void sim__dialplan_next(sim_chan *ch)
{
    if (!sim__chan_up(ch) || ch->nruns)
        return;
    if (ch->step < ch->nsteps) {
        sim_step *st = &ch->steps[ch->step++];
        sim__app_start(ch, st->app, st->arg, NULL);
        return;
    }
    if (ch->in_dialplan) {
        ch->in_dialplan = false;
        sim__account(ch, "end of extension");
        sim__chan_hangup(ch, "NORMAL_CLEARING");
    }
}

static bool locked(const sim_chan *ch)
{
    for (size_t i = 0; i < ch->nruns; i++)
        if (ch->runs[i]->lock)
            return true;
    return false;
}

static void run_msg(sim_chan *ch, sim_msg *m)
{
    if (m->hangup) {
        sim__account(ch, "call-command hangup %s", m->cause);
        char cause[64];
        snprintf(cause, sizeof cause, "%s", m->cause);
        reply_late(m);
        msg_free(m);
        sim__chan_hangup(ch, cause);
        return;
    }
    m->loop = 1;
    sim__app_start(ch, m->app, m->arg, m);
}

static void pump_now(sim_chan *ch)
{
    if (!sim__chan_up(ch))
        return;
    sim_run *t = top(ch);
    if (t && t->ending) {
        unpark(ch);
        char resp[64];
        snprintf(resp, sizeof resp, "%s", ch->last_response);
        sim__app_done(ch, resp);
        return;
    }
    if (t && !t->def->parking && !(ch->q_head && ch->q_head->hangup && !locked(ch)))
        return;
    if (ch->q_head) {
        if (t && !strcmp(t->name, "socket") && ch->sock_async && !ch->parked)
            sim__chan_park_now(ch);
        sim_msg *m = ch->q_head;
        ch->q_head = m->next;
        if (!ch->q_head)
            ch->q_tail = NULL;
        run_msg(ch, m);
        return;
    }
    if (!t)
        sim__dialplan_next(ch);
}

/* ------------------------------------------------------------ sendmsg */

static const char *hget(const vox_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name && !strcasecmp(h[i].name, name))
            return h[i].value;
    return NULL;
}

static sim_msg *parse_msg(const vox_header *h, size_t n, const char *body)
{
    const char *cmd = hget(h, n, "call-command");
    if (!cmd)
        return NULL;
    sim_msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (!strcasecmp(cmd, "hangup")) {
        const char *c = sim__cause_name(hget(h, n, "hangup-cause"));
        m->hangup = true;
        m->cause = sim__strdup(c ? c : "NORMAL_CLEARING");
    } else if (!strcasecmp(cmd, "execute") && hget(h, n, "execute-app-name")) {
        const char *arg = hget(h, n, "execute-app-arg");
        const char *ct = hget(h, n, "content-type");
        if ((!arg || !*arg) && body && ct && !strcasecmp(ct, "text/plain"))
            arg = body;
        m->app = sim__strdup(hget(h, n, "execute-app-name"));
        m->arg = sim__strdup(arg ? arg : "");
        m->event_uuid = sim__strdup(hget(h, n, "event-uuid"));
        const char *loops = hget(h, n, "loops");
        m->loops = loops ? (int)strtol(loops, NULL, 10) : 1;
        m->lock = sim__true(hget(h, n, "event-lock"));
    } else {
        free(m); /* nomedia, unicast, xferext …: accepted, nothing runs */
        return NULL;
    }
    if ((m->hangup && !m->cause) || (!m->hangup && (!m->app || !m->arg))) {
        msg_free(m);
        return NULL;
    }
    return m;
}

void sim__chan_sendmsg(sim_chan *c, const vox_header *h, size_t n, const char *body,
                       char *reply, size_t replylen)
{
    snprintf(reply, replylen, "+OK");
    if (!c || c->dead)
        return;
    c->nsendmsg++;
    sim_callrec *rec = c->rec;
    if (rec && rec->call.fault == VOX_SIM_CALL_DROP && c->nsendmsg == rec->call.fault_step &&
        c->sock) {
        sim__account(c, "fault: drop at sendmsg %u", c->nsendmsg);
        sim__socket_drop(c->sock);
        return;
    }
    if (!sim__chan_up(c))
        return; /* after hangup: +OK, and nothing runs */
    sim_msg *m = parse_msg(h, n, body);
    if (!m)
        return;
    if (!m->hangup && m->loops == 0) { /* `loops: 0` runs nothing */
        msg_free(m);
        return;
    }
    if (c->sock && !c->sock_async && c->sock_state == SOCK_READY &&
        !sim__true(hget(h, n, "async"))) {
        m->deferred = true;
        m->replyto = c->sock;
        reply[0] = '\0';
    }
    /* a hangup goes first: the running application takes it at once
     * unless an event-lock holds the channel */
    if (m->hangup) {
        m->next = c->q_head;
        c->q_head = m;
        if (!c->q_tail)
            c->q_tail = m;
    } else {
        if (c->q_tail)
            c->q_tail->next = m;
        else
            c->q_head = m;
        c->q_tail = m;
    }
    sim__apps_pump(c);
}

/* ------------------------------------------------------------ simple apps */

static void app_done_none(sim_chan *ch, sim_run *r)
{
    (void)r;
    sim__app_done(ch, NULL);
}

static void app_answer(sim_chan *ch, sim_run *r)
{
    sim__chan_answer(ch);
    sim__account(ch, "answer");
    app_done_none(ch, r);
}

static void app_pre_answer(sim_chan *ch, sim_run *r)
{
    sim__chan_pre_answer(ch);
    sim__account(ch, "pre_answer");
    app_done_none(ch, r);
}

static void app_ring_ready(sim_chan *ch, sim_run *r)
{
    sim__chan_ring(ch);
    app_done_none(ch, r);
}

static void set_pair(sim_chan *ch, const char *text, const char *app)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        sim__log(ch->s, 1, "%s: %s without name=value: %s", ch->name, app, text);
        return;
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(eq - text), text);
    sim__var_set(ch, name, *(eq + 1) ? eq + 1 : NULL);
    sim__account(ch, "%s %s", app, text);
}

static void app_set(sim_chan *ch, sim_run *r)
{
    set_pair(ch, r->arg, "set");
    app_done_none(ch, r);
}

static void app_unset(sim_chan *ch, sim_run *r)
{
    sim__var_set(ch, r->arg, NULL);
    sim__account(ch, "unset %s", r->arg);
    app_done_none(ch, r);
}

/* multiset a=b c=d, or ^^<sep>a=b<sep>c=d */
static void app_multiset(sim_chan *ch, sim_run *r)
{
    char sep[2] = " ";
    const char *p = r->arg;
    if (!strncmp(p, "^^", 2) && p[2]) {
        sep[0] = p[2];
        p += 3;
    }
    char *dup = sim__strdup(p);
    for (char *save = NULL, *t = dup ? strtok_r(dup, sep, &save) : NULL; t;
         t = strtok_r(NULL, sep, &save))
        set_pair(ch, t, "multiset");
    free(dup);
    app_done_none(ch, r);
}

static void app_export(sim_chan *ch, sim_run *r)
{
    const char *p = r->arg;
    bool nolocal = !strncmp(p, "nolocal:", 8);
    p += nolocal ? 8 : 0;
    const char *eq = strchr(p, '=');
    char name[256];
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - p) : (int)strlen(p), p);
    if (!nolocal && eq)
        sim__var_set(ch, name, eq[1] ? eq + 1 : NULL);
    const char *old = sim__var(ch, "export_vars");
    char list[1024];
    snprintf(list, sizeof list, "%s%s%s", old ? old : "", old ? "," : "", name);
    sim__var_set(ch, "export_vars", list);
    sim__account(ch, "export %s", r->arg);
    app_done_none(ch, r);
}

static void app_hangup(sim_chan *ch, sim_run *r)
{
    const char *c = sim__cause_name(r->arg);
    sim__chan_hangup(ch, c ? c : "NORMAL_CLEARING");
}

/* Applications that run until the channel hangs up or leaves. */
static void app_block(sim_chan *ch, sim_run *r)
{
    (void)ch;
    (void)r;
}

static void app_park(sim_chan *ch, sim_run *r)
{
    (void)r;
    if (!ch->parked) {
        ch->parked = true;
        sim__fire_chan(ch, "CHANNEL_PARK", true);
    }
    sim__account(ch, "park");
    sim__apps_pump(ch);
}

static void timed_done(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    sim_run *r = top(ch);
    if (!r)
        return;
    r->timer = 0;
    if (!strcmp(r->name, "playback") || !strcmp(r->name, "gentones"))
        playback_vars(ch, r->dur_ms);
    sim__app_done(ch, arg);
}

static void run_for(sim_chan *ch, sim_run *r, uint64_t ms, const char *resp)
{
    r->dur_ms = ms == UINT64_MAX ? 0 : ms;
    if (ms != UINT64_MAX)
        r->timer = sim__after(ch->s->calls, ch, ms, timed_done, (void *)resp);
}

static void app_playback(sim_chan *ch, sim_run *r)
{
    uint64_t ms = sim__media_ms(r->arg);
    sim__chan_pre_answer(ch);
    if (ms == UINT64_MAX)
        sim__account(ch, "playback %s (until hangup)", r->arg);
    else
        sim__account(ch, "playback %s (%.1f s)", r->arg, (double)ms / 1000.0);
    run_for(ch, r, ms, "FILE PLAYED");
}

static void app_gentones(sim_chan *ch, sim_run *r)
{
    char spec[512];
    snprintf(spec, sizeof spec, "%s", r->arg);
    sim__chan_pre_answer(ch);
    run_for(ch, r, tone_ms(spec), NULL);
}

static void app_sleep(sim_chan *ch, sim_run *r)
{
    long ms = strtol(r->arg, NULL, 10);
    sim__account(ch, "sleep %ld", ms);
    run_for(ch, r, ms > 0 ? (uint64_t)ms : 0, NULL);
}

/* say / speak / record: a fixed length, as files have here. */
static void app_two_seconds(sim_chan *ch, sim_run *r)
{
    sim__chan_pre_answer(ch);
    sim__account(ch, "%s %s", r->name, r->arg);
    run_for(ch, r, 2000, NULL);
}

static void app_noop(sim_chan *ch, sim_run *r)
{
    sim__account(ch, "%s %s", r->name, r->arg);
    app_done_none(ch, r);
}

static void sched_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    sim__chan_hangup(ch, arg);
}

/* sched_hangup +<seconds> [cause] */
static void app_sched_hangup(sim_chan *ch, sim_run *r)
{
    const char *p = r->arg + (*r->arg == '+');
    char *end;
    long secs = strtol(p, &end, 10);
    while (*end == ' ')
        end++;
    const char *cause = sim__cause_name(*end ? end : NULL);
    sim__after(ch->s->calls, ch, (uint64_t)(secs > 0 ? secs : 0) * 1000, sched_task,
               (void *)(cause ? cause : "ALLOTTED_TIMEOUT"));
    app_done_none(ch, r);
}

/* respond <code> [reason]: 18x signals progress, 4xx-6xx end the call. */
static void app_respond(sim_chan *ch, sim_run *r)
{
    long code = strtol(r->arg, NULL, 10);
    sim__account(ch, "respond %s", r->arg);
    if (code == 180) {
        sim__chan_ring(ch);
    } else if (code == 183) {
        sim__chan_pre_answer(ch);
    } else if (code >= 400) {
        const char *cause = code == 486 || code == 600 ? "USER_BUSY"
                            : code == 404          ? "UNALLOCATED_NUMBER"
                            : code == 403 || code == 603 ? "CALL_REJECTED"
                            : code == 480          ? "NO_USER_RESPONSE"
                            : code == 503          ? "NORMAL_TEMPORARY_FAILURE"
                                                   : "NORMAL_UNSPECIFIED";
        sim__chan_hangup(ch, cause);
        return;
    }
    app_done_none(ch, r);
}

/* transfer <exten> [dialplan [context]]: a new extension of the sim's dialplan. */
static void transfer_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    if (!sim__chan_up(ch) || !ch->xfer[0])
        return;
    char ext[sizeof ch->xfer];
    memcpy(ext, ch->xfer, sizeof ext);
    ch->xfer[0] = '\0';
    sim__apps_unwind(ch);
    ch->t_transfer = sim__now_us(ch->s);
    sim__extension(ch, ext, NULL);
    sim__apps_pump(ch);
}

void sim__chan_transfer(sim_chan *ch, const char *exten)
{
    snprintf(ch->xfer, sizeof ch->xfer, "%s", exten);
    if (!sim__after(ch->s->calls, ch, 0, transfer_task, NULL))
        transfer_task(ch->s->calls, ch, NULL);
}

static void app_transfer(sim_chan *ch, sim_run *r)
{
    char ext[128];
    sscanf(r->arg, "%127s", ext);
    sim__account(ch, "transfer %s", r->arg);
    sim__chan_transfer(ch, ext);
}

/* ------------------------------------------------------------ socket */

static void app_socket(sim_chan *ch, sim_run *r)
{
    char host[256] = "", opt1[16] = "", opt2[16] = "";
    sscanf(r->arg, "%255s %15s %15s", host, opt1, opt2);
    char *colon = strrchr(host, ':');
    long port = 8084;
    if (colon) {
        *colon = '\0';
        port = strtol(colon + 1, NULL, 10);
    }
    bool async = !strcasecmp(opt1, "async") || !strcasecmp(opt2, "async");
    bool full = !strcasecmp(opt1, "full") || !strcasecmp(opt2, "full");
    sim__var_set(ch, "socket_host", host);
    ch->sock_async = async;
    ch->sock_state = SOCK_OPENING;
    sim__account(ch, "socket %s", r->arg);
    if (port <= 0 || port > 65535 ||
        sim__socket_open(ch, host, (uint16_t)port, async, full) != 0) {
        sim__log(ch->s, 1, "%s: socket %s: Socket Error!", ch->name, r->arg);
        sim__account(ch, "socket error");
        ch->sock_state = SOCK_NONE;
        ch->sock = NULL;
        app_done_none(ch, r);
    }
}

void sim__socket_app_end(sim_chan *ch)
{
    for (size_t i = 0; i < ch->nruns; i++)
        if (!strcmp(ch->runs[i]->name, "socket"))
            ch->runs[i]->ending = true;
    sim__apps_pump(ch);
}

/* ------------------------------------------------------------ digits */

enum { PG_PROMPT, PG_COLLECT, PG_INVALID };
enum { ST_SUCCESS, ST_TIMEOUT, ST_TOO_SMALL };

struct pagd {
    bool is_read;
    unsigned min, max, tries;
    uint64_t timeout, digit_timeout, prompt_ms;
    char term[16], prompt[512], invalid[512], var[128], regex[256];
    int phase;
    char buf[128];
    size_t len;
    char term_used;
};

/* The regexp in POSIX ERE: \d \w \s as classes. */
static bool digits_match(const char *digits, const char *re)
{
    char ere[768];
    size_t n = 0;
    for (const char *p = re; *p && n + 16 < sizeof ere; p++) {
        const char *cls = NULL;
        if (*p == '\\' && p[1] == 'd')
            cls = "[0-9]";
        else if (*p == '\\' && p[1] == 'w')
            cls = "[A-Za-z0-9_]";
        else if (*p == '\\' && p[1] == 's')
            cls = "[[:space:]]";
        if (cls) {
            n += (size_t)snprintf(ere + n, sizeof ere - n, "%s", cls);
            p++;
        } else {
            ere[n++] = *p;
        }
    }
    ere[n] = '\0';
    regex_t rx;
    if (regcomp(&rx, ere, REG_EXTENDED | REG_NOSUB))
        return false;
    bool ok = regexec(&rx, digits, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

static void pg_try(sim_chan *ch, sim_run *r);
static void pg_collect(sim_chan *ch, sim_run *r);

static void pg_finish(sim_chan *ch, sim_run *r, bool ok)
{
    pagd *g = r->pg;
    if (ok) {
        sim__account(ch, "%s → %s", r->name, g->buf);
    } else {
        g->buf[0] = '\0';
        sim__account(ch, "%s → (%s)", r->name, sim__var(ch, "read_result") ? sim__var(ch, "read_result") : "none");
    }
    sim__app_done(ch, NULL);
}

static void pg_invalid_done(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    sim_run *r = top(ch);
    if (!r || !r->pg)
        return;
    r->timer = 0;
    if (r->pg->tries)
        pg_try(ch, r);
    else
        pg_finish(ch, r, false);
}

/* switch_ivr_read's end, then play_and_get_digits' verdict. */
static void pg_read_end(sim_chan *ch, sim_run *r, int st)
{
    pagd *g = r->pg;
    sim__cancel(ch->s->calls, r->timer);
    r->timer = 0;
    if (g->term_used) {
        char t[2] = {g->term_used, 0};
        sim__var_set(ch, "read_terminator_used", t);
    }
    if (g->min && g->len < g->min)
        st = ST_TOO_SMALL;
    sim__var_set(ch, "read_result", st == ST_SUCCESS   ? "success"
                                    : st == ST_TIMEOUT ? "timeout"
                                                       : "failure");
    if (*g->var && g->len)
        sim__var_set(ch, g->var, g->buf);
    if (g->is_read) {
        pg_finish(ch, r, st == ST_SUCCESS || (st == ST_TIMEOUT && g->len));
        return;
    }
    if (st == ST_TIMEOUT && g->len >= g->min)
        st = ST_SUCCESS;
    if (g->min == 0 && g->len == 0 && g->term_used) {
        pg_finish(ch, r, true);
        return;
    }
    if (st == ST_SUCCESS && g->len) {
        if (!*g->regex || digits_match(g->buf, g->regex)) {
            pg_finish(ch, r, true);
            return;
        }
        if (*g->var) {
            char inv[160];
            sim__var_set(ch, g->var, NULL);
            snprintf(inv, sizeof inv, "%s_invalid", g->var);
            sim__var_set(ch, inv, g->buf);
        }
    }
    /* a failed try: the invalid file, then the next try */
    g->tries--;
    g->phase = PG_INVALID;
    uint64_t ms = sim__media_ms(g->invalid);
    r->timer = sim__after(ch->s->calls, ch, ms == UINT64_MAX ? 0 : ms, pg_invalid_done, NULL);
}

static void pg_timeout(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    sim_run *r = top(ch);
    if (r && r->pg) {
        r->timer = 0;
        pg_read_end(ch, r, ST_TIMEOUT);
    }
}

/* Take the buffered digits; end on a terminator or max digits, else wait. */
static void pg_collect(sim_chan *ch, sim_run *r)
{
    pagd *g = r->pg;
    g->phase = PG_COLLECT;
    size_t used = 0;
    int done = -1;
    while (used < ch->ndtmf && done < 0) {
        char d = ch->dtmf[used++];
        if (strchr(g->term, d)) {
            g->term_used = d;
            done = ST_SUCCESS;
        } else if (g->len + 1 < sizeof g->buf) {
            g->buf[g->len++] = d;
            g->buf[g->len] = '\0';
            if (g->len >= g->max)
                done = ST_SUCCESS;
        }
    }
    memmove(ch->dtmf, ch->dtmf + used, ch->ndtmf - used);
    ch->ndtmf -= used;
    if (done >= 0) {
        pg_read_end(ch, r, done);
        return;
    }
    sim__cancel(ch->s->calls, r->timer);
    r->timer = sim__after(ch->s->calls, ch, g->len ? g->digit_timeout : g->timeout, pg_timeout, NULL);
}

static void pg_prompt_end(sim_chan *ch, sim_run *r, uint64_t played)
{
    sim__cancel(ch->s->calls, r->timer);
    r->timer = 0;
    playback_vars(ch, played);
    pg_collect(ch, r);
}

static void pg_prompt_done(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    sim_run *r = top(ch);
    if (r && r->pg) {
        r->timer = 0;
        pg_prompt_end(ch, r, r->pg->prompt_ms);
    }
}

static void pg_try(sim_chan *ch, sim_run *r)
{
    pagd *g = r->pg;
    g->len = 0;
    g->buf[0] = '\0';
    g->term_used = 0;
    if (!*g->prompt || !strcasecmp(g->prompt, "silence") || ch->ndtmf) {
        /* a digit already waiting breaks the prompt at once */
        if (*g->prompt && strcasecmp(g->prompt, "silence"))
            playback_vars(ch, 0);
        pg_collect(ch, r);
        return;
    }
    g->phase = PG_PROMPT;
    g->prompt_ms = sim__media_ms(g->prompt);
    r->started_ms = sim__ms(ch->s);
    if (g->prompt_ms != UINT64_MAX)
        r->timer = sim__after(ch->s->calls, ch, g->prompt_ms, pg_prompt_done, NULL);
}

void sim__apps_dtmf(sim_chan *ch)
{
    sim_run *r = top(ch);
    if (!r || !r->pg || r->pg->phase == PG_INVALID)
        return;
    if (r->pg->phase == PG_PROMPT)
        pg_prompt_end(ch, r, sim__ms(ch->s) - r->started_ms);
    else
        pg_collect(ch, r);
}

static void copy_str(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    len = len < n ? len : n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static unsigned uarg(const char *s, unsigned def)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : -1;
    return s && !*end && v >= 0 ? (unsigned)v : def;
}

/* play_and_get_digits <min> <max> <tries> <timeout> <terminators> <file>
 * <invalid_file> [<var> [<regexp> [<digit_timeout>]]] */
static void app_pagd(sim_chan *ch, sim_run *r)
{
    char a[10][512] = {{0}};
    int n = sscanf(r->arg, "%511s %511s %511s %511s %511s %511s %511s %511s %511s %511s", a[0],
                   a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
    pagd *g = r->pg = calloc(1, sizeof *g);
    if (n < 7 || !g) {
        sim__log(ch->s, 1, "%s: play_and_get_digits: bad arguments", ch->name);
        app_done_none(ch, r);
        return;
    }
    sim__chan_pre_answer(ch);
    g->min = uarg(a[0], 0);
    g->max = uarg(a[1], 128);
    g->max = g->max < g->min ? g->min : g->max;
    g->max = g->max < 1 ? 1 : g->max;
    g->tries = uarg(a[2], 1);
    g->tries = g->tries ? g->tries : 1;
    g->timeout = uarg(a[3], 5000);
    copy_str(g->term, sizeof g->term, strcasecmp(a[4], "none") ? a[4] : "");
    copy_str(g->prompt, sizeof g->prompt, a[5]);
    copy_str(g->invalid, sizeof g->invalid, a[6]);
    copy_str(g->var, sizeof g->var, n > 7 ? a[7] : "");
    copy_str(g->regex, sizeof g->regex, n > 8 ? a[8] : "");
    g->digit_timeout = n > 9 ? uarg(a[9], (unsigned)g->timeout) : g->timeout;
    if (*g->var) {
        char inv[160];
        snprintf(inv, sizeof inv, "%s_invalid", g->var);
        sim__var_set(ch, inv, NULL);
    }
    pg_try(ch, r);
}

/* read <min> <max> <file> <var> <timeout> <terminators> */
static void app_read(sim_chan *ch, sim_run *r)
{
    char a[6][512] = {{0}};
    int n = sscanf(r->arg, "%511s %511s %511s %511s %511s %511s", a[0], a[1], a[2], a[3], a[4],
                   a[5]);
    pagd *g = r->pg = calloc(1, sizeof *g);
    if (n < 1 || !g) {
        app_done_none(ch, r);
        return;
    }
    sim__chan_pre_answer(ch);
    g->is_read = true;
    g->min = uarg(a[0], 0);
    g->max = n > 1 ? uarg(a[1], 128) : 128;
    g->max = g->max < g->min ? g->min : g->max;
    g->max = g->max < 1 ? 1 : g->max;
    g->tries = 1;
    copy_str(g->prompt, sizeof g->prompt, n > 2 ? a[2] : "");
    copy_str(g->var, sizeof g->var, n > 3 ? a[3] : "");
    g->timeout = n > 4 ? uarg(a[4], 5000) : 5000;
    g->timeout = g->timeout ? g->timeout : 1;
    g->digit_timeout = g->timeout;
    copy_str(g->term, sizeof g->term, n > 5 ? a[5] : "#");
    pg_try(ch, r);
}

/* ------------------------------------------------------------ bridge */

static void bridge_event(sim_chan *a, sim_chan *b, const char *name)
{
    sim_event *e = sim__event_new(a->s, name, NULL);
    if (!e)
        return;
    sim__event_add(e, "Bridge-A-Unique-ID", a->uuid);
    sim__event_add(e, "Bridge-B-Unique-ID", b->uuid);
    sim__chan_add_headers(a, e, true);
    sim__fire(a->s, e);
}

void sim__bridge(sim_chan *ch, sim_chan *leg)
{
    memcpy(ch->peer, leg->uuid, sizeof ch->peer);
    memcpy(leg->peer, ch->uuid, sizeof leg->peer);
    ch->peer_kind = PEER_LEG;
    leg->peer_kind = PEER_CALLER;
    ch->bridged = leg->bridged = true;
    ch->bridge_b = false;
    leg->bridge_b = true;
    ch->t_bridged = leg->t_bridged = sim__now_us(ch->s);
    sim__var_set(ch, "bridge_uuid", leg->uuid);
    sim__var_set(leg, "bridge_uuid", ch->uuid);
    sim__chan_state(leg, CS_EXCHANGE_MEDIA);
    bridge_event(ch, leg, "CHANNEL_BRIDGE");
}

void sim__unbridge(sim_chan *ch, sim_chan *leg)
{
    if (!ch->bridged)
        return;
    ch->bridged = leg->bridged = false;
    bridge_event(ch, leg, "CHANNEL_UNBRIDGE");
}

/* switch_ivr_originate's DIALSTATUS for a failure cause. */
static const char *dialstatus(const char *cause)
{
    static const char *const map[][2] = {
        {"ORIGINATOR_CANCEL", "CANCEL"},  {"USER_BUSY", "BUSY"},
        {"NO_ANSWER", "NOANSWER"},        {"NO_USER_RESPONSE", "NOANSWER"},
        {"CALL_REJECTED", "DONTCALL"},    {"INVALID_NUMBER_FORMAT", "INVALIDARGS"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(cause, map[i][0]))
            return map[i][1];
    return cause;
}

static sim_run *bridge_run(sim_chan *ch)
{
    sim_run *r = top(ch);
    return r && !strcmp(r->name, "bridge") ? r : NULL;
}

static void bridge_cb(sim *s, void *ud, sim_chan *leg, const char *cause)
{
    (void)s;
    sim_chan *ch = ud;
    sim_run *r = bridge_run(ch);
    ch->dial = NULL;
    if (r)
        r->dial = NULL;
    if (!r || !sim__chan_up(ch)) {
        if (leg)
            sim__chan_hangup(leg, "ORIGINATOR_CANCEL");
        return;
    }
    char causes[1024];
    snprintf(causes, sizeof causes, "%s", sim__var(ch, "originate_causes") ? sim__var(ch, "originate_causes") : "");
    if (leg) {
        sim__var_set(ch, "originate_disposition", "SUCCESS");
        sim__var_set(ch, "DIALSTATUS", "SUCCESS");
        sim__var_set(ch, "last_bridge_to", leg->uuid);
        sim__var_set(ch, "bridge_channel", leg->name);
        sim__var_set(ch, "signal_bond", leg->uuid);
        sim__chan_answer(ch);
        sim__bridge(ch, leg);
        sim__account(ch, "bridge %s: answered by %s", r->arg, leg->name);
        return;
    }
    sim__var_set(ch, "last_bridge_hangup_cause", cause);
    sim__var_set(ch, "originate_disposition", cause);
    sim__var_set(ch, "DIALSTATUS", dialstatus(cause));
    if (*causes)
        sim__var_set(ch, "originate_causes", causes);
    sim__var_set(ch, "originate_failed_cause", cause);
    sim__account(ch, "bridge %s: failed %s", r->arg, cause);
    const char *cof = sim__var(ch, "continue_on_fail");
    if (sim__true(cof) || (cof && strstr(cof, cause)))
        sim__app_done(ch, NULL);
    else
        sim__chan_hangup(ch, cause);
}

void sim__apps_leg_gone(sim_chan *ch, sim_chan *leg)
{
    if (!sim__chan_up(ch))
        return;
    sim__var_set(ch, "last_bridge_hangup_cause", leg->cause);
    if (!bridge_run(ch))
        return;
    sim__account(ch, "bridge ended: %s hung up (%s)", leg->name, leg->cause);
    if (sim__true(sim__var(ch, "hangup_after_bridge")))
        sim__chan_hangup(ch, "NORMAL_CLEARING");
    else
        sim__app_done(ch, NULL);
}

static void app_bridge(sim_chan *ch, sim_run *r)
{
    sim_dial *d = sim__dial(ch->s, r->arg, ch, bridge_cb, ch);
    if (!d) {
        sim__account(ch, "bridge %s: out of memory", r->arg);
        app_done_none(ch, r);
        return;
    }
    r->dial = d;
    ch->dial = d;
}

/* ------------------------------------------------------------ the table */

static const app_def APPS[] = {
    {"answer", app_answer, NULL, false},
    {"pre_answer", app_pre_answer, NULL, false},
    {"ring_ready", app_ring_ready, NULL, false},
    {"playback", app_playback, "PLAYBACK ERROR", false},
    {"gentones", app_gentones, NULL, false},
    {"play_and_get_digits", app_pagd, "_none_", false},
    {"read", app_read, "_none_", false},
    {"set", app_set, NULL, false},
    {"unset", app_unset, NULL, false},
    {"multiset", app_multiset, NULL, false},
    {"export", app_export, NULL, false},
    {"hangup", app_hangup, "_none_", false},
    {"bridge", app_bridge, "_none_", false},
    {"park", app_park, NULL, true},
    {"socket", app_socket, NULL, true},
    {"sleep", app_sleep, "_none_", false},
    {"echo", app_block, "_none_", false},
    {"conference", app_block, "_none_", false},
    {"valet_park", app_block, "_none_", false},
    {"say", app_two_seconds, "_none_", false},
    {"speak", app_two_seconds, "_none_", false},
    {"record", app_two_seconds, "_none_", false},
    {"transfer", app_transfer, "_none_", false},
    {"sched_hangup", app_sched_hangup, NULL, false},
    {"respond", app_respond, "_none_", false},
    {"log", app_noop, NULL, false},
    {"info", app_noop, NULL, false},
    {"event", app_noop, NULL, false},
    {"record_session", app_noop, NULL, false},
    {"stop_record_session", app_noop, NULL, false},
    {"bind_meta_app", app_noop, NULL, false},
    {"unbind_meta_app", app_noop, NULL, false},
    {"deflect", app_noop, NULL, false},
    {"redirect", app_noop, NULL, false},
    {"att_xfer", app_noop, NULL, false},
    {"hold", app_noop, NULL, false},
    {"unhold", app_noop, NULL, false},
    {"send_dtmf", app_noop, NULL, false},
    {"flush_dtmf", app_noop, NULL, false},
};

static const app_def *find_app(const char *name)
{
    for (size_t i = 0; name && i < sizeof APPS / sizeof APPS[0]; i++)
        if (!strcasecmp(name, APPS[i].name))
            return &APPS[i];
    return NULL;
}
