/* vox-sim applications: the sendmsg queue, one application at a time as
 * FreeSWITCH runs them (CHANNEL_EXECUTE, CHANNEL_EXECUTE_COMPLETE with
 * Application-UUID, loops), the dialplan steps, the media lengths and the
 * simple applications in simulated time. Digits are in digits.c, bridge in
 * bridge.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apps.h"

struct sim_msg {
    sim_msg *next;
    bool hangup;
    char *app, *arg, *event_uuid, *cause;
    int loops, loop;
    bool lock, deferred;
    sim_conn *replyto;
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

/* A message is over (ran its loops, or dropped): its late reply, freed. */
static void msg_end(sim_chan *ch, sim_msg *m)
{
    sim__var_set(ch, "current_loop", NULL);
    sim__var_set(ch, "total_loops", NULL);
    reply_late(m);
    msg_free(m);
}

/* Drop the queued messages (their late replies go out when reply). */
static void drop_queue(sim_chan *ch, bool reply)
{
    while (ch->q_head) {
        sim_msg *m = ch->q_head;
        ch->q_head = m->next;
        if (reply)
            reply_late(m);
        msg_free(m);
    }
    ch->q_tail = NULL;
}

static sim_run *top(sim_chan *ch)
{
    return ch->nruns ? ch->runs[ch->nruns - 1] : NULL;
}

sim_run *sim__app_top(sim_chan *ch)
{
    return top(ch);
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

/* The next non-empty part of *rest up to sep, cut there (*rest moves past
 * it), or NULL when none is left. */
static char *next_part(char **rest, char sep)
{
    char *p = *rest;
    while (p && *p == sep)
        p++;
    if (!p || !*p)
        return NULL;
    char *end = strchr(p, sep);
    if (end)
        *end++ = '\0';
    *rest = end;
    return p;
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
        char *dup = sim__strdup(path + 14), *f;
        for (char *rest = dup; (f = next_part(&rest, '!'));) {
            uint64_t m = sim__media_ms(f);
            t = m == UINT64_MAX || t == UINT64_MAX ? UINT64_MAX : t + m;
        }
        free(dup);
        return t;
    }
    return 2000; /* a file: every recording lasts two seconds here */
}

void sim__playback_vars(sim_chan *ch, uint64_t ms)
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
    sim_run **v = sim__grow(ch->runs, &ch->capruns, ch->nruns + 1, sizeof *v);
    if (!v)
        return false;
    ch->runs = v;
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
        msg_end(ch, m);
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

/* End every running application, top first: on hangup (abort: each with
 * its abort response) or when the channel leaves its extension (the last
 * response; a sendmsg's loops end with it, the channel being still up). */
static void end_runs(sim_chan *ch, bool abort)
{
    while (ch->nruns) {
        sim_run *r = top(ch);
        stop_run(ch, r);
        if (r->def->parking)
            unpark(ch);
        char resp[64];
        const char *why = abort && r->def->abort_resp ? r->def->abort_resp : ch->last_response;
        snprintf(resp, sizeof resp, "%s", why);
        sim_msg *m = NULL;
        if (!abort) { /* the message ends here, without another loop */
            m = r->msg;
            r->msg = NULL;
        }
        sim__app_done(ch, resp);
        if (m)
            msg_end(ch, m);
    }
}

void sim__apps_abort(sim_chan *ch)
{
    end_runs(ch, true);
    drop_queue(ch, true);
}

/* Leaving the extension (transfer): every application ends as on hangup,
 * queued messages stay. */
void sim__apps_unwind(sim_chan *ch)
{
    end_runs(ch, false);
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
    drop_queue(ch, false);
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

/* The sim's dialplan (context default), as the captures' FreeSWITCH had it:
 * 9999 hangs up UNALLOCATED_NUMBER, 9102 parks unanswered, 9105 answers and
 * parks; with a socket target, 9101 runs the socket unanswered, 9106 the
 * socket without `full`, 9104 answer, socket, then park after `resume`;
 * every other extension answers and runs `socket <target> async full` (or
 * parks when there is no target). After the last step the channel hangs up
 * with NORMAL_CLEARING, as FreeSWITCH does at the end of an extension. */
void sim__extension(sim_chan *ch, const char *exten, const char *target)
{
    if (!target)
        target = ch->s->o.socket;
    char full[300], half[300];
    snprintf(full, sizeof full, "%s async full", target ? target : "");
    snprintf(half, sizeof half, "%s async", target ? target : "");
    const char *hang[] = {"hangup", "UNALLOCATED_NUMBER"};
    const char *park[] = {"park", NULL};
    const char *ans_park[] = {"answer", NULL, "park", NULL};
    const char *sock_only[] = {"socket", full};
    const char *sock_half[] = {"socket", half};
    const char *resume[] = {"answer", NULL, "socket", full, "park", NULL};
    const char *normal[] = {"answer", NULL, "socket", full};
    const char *const *st = normal;
    size_t n = 2;
    if (!strcmp(exten, "9999"))
        st = hang, n = 1;
    else if (!strcmp(exten, "9102"))
        st = park, n = 1;
    else if (!strcmp(exten, "9105") || !target)
        st = ans_park, n = 2;
    else if (!strcmp(exten, "9101"))
        st = sock_only, n = 1;
    else if (!strcmp(exten, "9106"))
        st = sock_half, n = 1;
    else if (!strcmp(exten, "9104"))
        st = resume, n = 3;
    sim__chan_set_steps(ch, st, n);
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

static sim_msg *parse_msg(const vox_header *h, size_t n, const char *body)
{
    const char *cmd = sim__header(h, n, "call-command");
    if (!cmd)
        return NULL;
    sim_msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (!strcasecmp(cmd, "hangup")) {
        const char *c = sim__cause_name(sim__header(h, n, "hangup-cause"));
        m->hangup = true;
        m->cause = sim__strdup(c ? c : "NORMAL_CLEARING");
    } else if (!strcasecmp(cmd, "execute") && sim__header(h, n, "execute-app-name")) {
        const char *arg = sim__header(h, n, "execute-app-arg");
        const char *ct = sim__header(h, n, "content-type");
        if ((!arg || !*arg) && body && ct && !strcasecmp(ct, "text/plain"))
            arg = body;
        m->app = sim__strdup(sim__header(h, n, "execute-app-name"));
        m->arg = sim__strdup(arg ? arg : "");
        m->event_uuid = sim__strdup(sim__header(h, n, "event-uuid"));
        const char *loops = sim__header(h, n, "loops");
        m->loops = loops ? (int)strtol(loops, NULL, 10) : 1;
        m->lock = sim__true(sim__header(h, n, "event-lock"));
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

void sim__chan_sendmsg(sim_chan *c, const vox_header *h, size_t n, const char *body, char *reply,
                       size_t replylen)
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
        !sim__true(sim__header(h, n, "async"))) {
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

void sim__app_done_none(sim_chan *ch, sim_run *r)
{
    (void)r;
    sim__app_done(ch, NULL);
}

static void app_answer(sim_chan *ch, sim_run *r)
{
    sim__chan_answer(ch);
    sim__account(ch, "answer");
    sim__app_done_none(ch, r);
}

static void app_pre_answer(sim_chan *ch, sim_run *r)
{
    sim__chan_pre_answer(ch);
    sim__account(ch, "pre_answer");
    sim__app_done_none(ch, r);
}

static void app_ring_ready(sim_chan *ch, sim_run *r)
{
    sim__chan_ring(ch);
    sim__app_done_none(ch, r);
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
    sim__app_done_none(ch, r);
}

static void app_unset(sim_chan *ch, sim_run *r)
{
    sim__var_set(ch, r->arg, NULL);
    sim__account(ch, "unset %s", r->arg);
    sim__app_done_none(ch, r);
}

/* multiset a=b c=d, or ^^<sep>a=b<sep>c=d */
static void app_multiset(sim_chan *ch, sim_run *r)
{
    char sep = ' ';
    const char *p = r->arg;
    if (!strncmp(p, "^^", 2) && p[2]) {
        sep = p[2];
        p += 3;
    }
    char *dup = sim__strdup(p), *t;
    for (char *rest = dup; (t = next_part(&rest, sep));)
        set_pair(ch, t, "multiset");
    free(dup);
    sim__app_done_none(ch, r);
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
    sim__app_done_none(ch, r);
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
        sim__playback_vars(ch, r->dur_ms);
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
    sim__app_done_none(ch, r);
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
    sim__app_done_none(ch, r);
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
        const char *cause = code == 486 || code == 600   ? "USER_BUSY"
                            : code == 404                ? "UNALLOCATED_NUMBER"
                            : code == 403 || code == 603 ? "CALL_REJECTED"
                            : code == 480                ? "NO_USER_RESPONSE"
                            : code == 503                ? "NORMAL_TEMPORARY_FAILURE"
                                                         : "NORMAL_UNSPECIFIED";
        sim__chan_hangup(ch, cause);
        return;
    }
    sim__app_done_none(ch, r);
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
    if (port <= 0 || port > 65535 || sim__socket_open(ch, host, (uint16_t)port, async, full) != 0) {
        sim__log(ch->s, 1, "%s: socket %s: Socket Error!", ch->name, r->arg);
        sim__account(ch, "socket error");
        ch->sock_state = SOCK_NONE;
        ch->sock = NULL;
        sim__app_done_none(ch, r);
    }
}

void sim__socket_app_end(sim_chan *ch)
{
    for (size_t i = 0; i < ch->nruns; i++)
        if (!strcmp(ch->runs[i]->name, "socket"))
            ch->runs[i]->ending = true;
    sim__apps_pump(ch);
}

/* ------------------------------------------------------------ the table */

static const app_def APPS[] = {
    {"answer", app_answer, NULL, false},
    {"pre_answer", app_pre_answer, NULL, false},
    {"ring_ready", app_ring_ready, NULL, false},
    {"playback", app_playback, "PLAYBACK ERROR", false},
    {"gentones", app_gentones, NULL, false},
    {"play_and_get_digits", sim__app_pagd, "_none_", false},
    {"read", sim__app_read, "_none_", false},
    {"set", app_set, NULL, false},
    {"unset", app_unset, NULL, false},
    {"multiset", app_multiset, NULL, false},
    {"export", app_export, NULL, false},
    {"hangup", app_hangup, "_none_", false},
    {"bridge", sim__app_bridge, "_none_", false},
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
