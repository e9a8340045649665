/* vox-sim channels: variables, headers and events in FreeSWITCH's order, the
 * state machine from CHANNEL_CREATE to CHANNEL_DESTROY, the socket hooks,
 * and the scheduler every simulated duration goes through. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "calls.h"

/* ------------------------------------------------------------ strings */

static void sb_grow(sbuf *b, size_t extra)
{
    if (b->oom || b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void sim__sb_add(sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sim__sb_adds(sbuf *b, const char *s)
{
    sim__sb_add(b, s, strlen(s));
}

void sim__sb_addf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_grow(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *sim__sb_str(const sbuf *b)
{
    return b->p && !b->oom ? b->p : "";
}

void sim__sb_free(sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

char *sim__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* switch_url_encode: everything but unreserved characters is %XX, and an
 * existing valid %XX escape is kept as is. */
void sim__sb_urlenc(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-_.!~*'()", *p);
        if (*p == '%' && p[1] && p[2] && strchr(hex, p[1] & ~0x20) && strchr(hex, p[2] & ~0x20))
            keep = true;
        if (keep) {
            sim__sb_add(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sim__sb_add(b, e, 3);
        }
    }
}

bool sim__true(const char *v)
{
    if (!v)
        return false;
    static const char *const yes[] = {"yes", "on", "true", "t", "enabled", "active", "allow"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!strcasecmp(v, yes[i]))
            return true;
    return strtol(v, NULL, 10) > 0;
}

/* ------------------------------------------------------------ scheduler */

struct sim_task {
    struct sim_task *next;
    uint64_t id, due;
    sim_chan *ch;
    sim_task_fn fn;
    void *arg;
    bool owned; /* arg is freed after the task, or when it is dropped */
};

static void task_free(struct sim_task *k)
{
    if (k->owned)
        free(k->arg);
    free(k);
}

static void reap(sim_calls *c);
static void tick(uv_timer_t *t);

static void arm(sim_calls *c)
{
    if (!c->tasks || c->closing)
        return;
    uint64_t now = uv_now(&c->s->loop);
    uint64_t due = c->tasks->due;
    uv_timer_start(c->timer, tick, due > now ? due - now : 0, 0);
}

static void tick(uv_timer_t *t)
{
    sim_calls *c = t->data;
    uint64_t now = uv_now(&c->s->loop);
    while (c->tasks && c->tasks->due <= now && !c->closing) {
        struct sim_task *k = c->tasks;
        c->tasks = k->next;
        k->fn(c, k->ch, k->arg);
        task_free(k);
    }
    reap(c);
    arm(c);
}

static uint64_t after(sim_calls *c, sim_chan *ch, uint64_t sim_ms, sim_task_fn fn, void *arg,
                      bool owned)
{
    if (c->closing)
        return 0;
    if (!c->timer) {
        uv_timer_t *t = malloc(sizeof *t);
        if (!t || uv_timer_init(&c->s->loop, t)) {
            free(t);
            return 0;
        }
        t->data = c;
        c->timer = t;
    }
    struct sim_task *k = calloc(1, sizeof *k);
    if (!k)
        return 0;
    k->id = ++c->task_seq;
    /* from the true now: the loop's cached time may be several ms old */
    uv_update_time(&c->s->loop);
    k->due = uv_now(&c->s->loop) + (sim_ms ? sim__real_ms(c->s, sim_ms) : 0);
    k->ch = ch;
    k->fn = fn;
    k->arg = arg;
    k->owned = owned;
    struct sim_task **pp = &c->tasks;
    while (*pp && (*pp)->due <= k->due)
        pp = &(*pp)->next;
    k->next = *pp;
    *pp = k;
    if (c->tasks == k)
        arm(c);
    return k->id;
}

uint64_t sim__after(sim_calls *c, sim_chan *ch, uint64_t sim_ms, sim_task_fn fn, void *arg)
{
    return after(c, ch, sim_ms, fn, arg, false);
}

uint64_t sim__after_owned(sim_calls *c, sim_chan *ch, uint64_t sim_ms, sim_task_fn fn, void *arg)
{
    uint64_t id = after(c, ch, sim_ms, fn, arg, true);
    if (!id)
        free(arg);
    return id;
}

void sim__cancel(sim_calls *c, uint64_t id)
{
    if (!id)
        return;
    for (struct sim_task **pp = &c->tasks; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct sim_task *k = *pp;
            *pp = k->next;
            task_free(k);
            return;
        }
    }
}

static void cancel_chan_tasks(sim_calls *c, sim_chan *ch)
{
    struct sim_task **pp = &c->tasks;
    while (*pp) {
        if ((*pp)->ch == ch) {
            struct sim_task *k = *pp;
            *pp = k->next;
            task_free(k);
        } else {
            pp = &(*pp)->next;
        }
    }
}

uint64_t sim__ms(sim *s)
{
    return (sim__now_us(s) - s->sim0_us) / 1000;
}

sim_calls *sim__calls(sim *s)
{
    return s->calls;
}

/* ------------------------------------------------------------ variables */

const char *sim__var(const sim_chan *ch, const char *name)
{
    for (size_t i = 0; i < ch->nvars; i++)
        if (!strcasecmp(ch->vars[i].name, name))
            return ch->vars[i].value;
    return NULL;
}

static void var_del(sim_chan *ch, const char *name)
{
    for (size_t i = 0; i < ch->nvars; i++) {
        if (!strcasecmp(ch->vars[i].name, name)) {
            free(ch->vars[i].name);
            free(ch->vars[i].value);
            memmove(ch->vars + i, ch->vars + i + 1, (ch->nvars - i - 1) * sizeof *ch->vars);
            ch->nvars--;
            return;
        }
    }
}

/* As switch_channel_set_variable: delete, then append at the bottom. */
void sim__var_set(sim_chan *ch, const char *name, const char *value)
{
    var_del(ch, name);
    if (!value)
        return;
    if (ch->nvars == ch->capvars) {
        size_t cap = ch->capvars ? ch->capvars * 2 : 32;
        sim_var *v = realloc(ch->vars, cap * sizeof *v);
        if (!v)
            return;
        ch->vars = v;
        ch->capvars = cap;
    }
    sim_var *v = &ch->vars[ch->nvars];
    v->name = sim__strdup(name);
    v->value = sim__strdup(value);
    if (!v->name || !v->value) {
        free(v->name);
        free(v->value);
        return;
    }
    ch->nvars++;
}

void sim__var_setf(sim_chan *ch, const char *name, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sim__var_set(ch, name, buf);
}

/* ------------------------------------------------------------ headers */

static const char *const CS_NAMES[] = {
    "CS_NEW",  "CS_INIT",         "CS_ROUTING",     "CS_SOFT_EXECUTE", "CS_EXECUTE",
    "CS_EXCHANGE_MEDIA", "CS_PARK", "CS_CONSUME_MEDIA", "CS_HIBERNATE",  "CS_RESET",
    "CS_HANGUP", "CS_REPORTING",  "CS_DESTROY"};
static const char *const CCS_NAMES[] = {"DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE",
                                        "HELD", "RING_WAIT", "HANGUP", "UNHELD"};
static const char *const ANS_NAMES[] = {"ringing", "early", "answered", "hangup"};

static void add_time(sim_event *e, const char *prefix, const char *name, uint64_t us)
{
    char n[96];
    snprintf(n, sizeof n, "%s-%s", prefix, name);
    sim__event_addf(e, n, "%llu", (unsigned long long)us);
}

static void add_opt(sim_event *e, const char *prefix, const char *name, const char *v)
{
    if (!v || !*v)
        return;
    char n[96];
    snprintf(n, sizeof n, "%s-%s", prefix, name);
    sim__event_add(e, n, v);
}

/* switch_caller_profile_event_set_data: empty fields are left out. */
void sim__profile_headers(sim_chan *ch, sim_event *e, const char *P)
{
    const char *dir = ch->outbound ? "outbound" : "inbound";
    add_opt(e, P, "Direction", dir);
    add_opt(e, P, "Logical-Direction", dir);
    add_opt(e, P, "Dialplan", ch->dialplan);
    add_opt(e, P, "Caller-ID-Name", ch->cid_name);
    add_opt(e, P, "Caller-ID-Number", ch->cid_num);
    add_opt(e, P, "Orig-Caller-ID-Name", ch->cid_name);
    add_opt(e, P, "Orig-Caller-ID-Number", ch->cid_num);
    add_opt(e, P, "Callee-ID-Name", ch->callee_name);
    add_opt(e, P, "Callee-ID-Number", ch->callee_num);
    add_opt(e, P, "ANI", ch->ani);
    add_opt(e, P, "Destination-Number", ch->dest);
    add_opt(e, P, "Unique-ID", ch->uuid);
    add_opt(e, P, "Source", ch->source);
    add_opt(e, P, "Context", ch->context);
    add_opt(e, P, "Channel-Name", ch->name);
    add_opt(e, P, "Profile-Index", "1");
    add_time(e, P, "Profile-Created-Time", ch->t_created);
    add_time(e, P, "Channel-Created-Time", ch->t_created);
    add_time(e, P, "Channel-Answered-Time", ch->t_answered);
    add_time(e, P, "Channel-Progress-Time", ch->t_progress);
    add_time(e, P, "Channel-Progress-Media-Time", ch->t_media);
    add_time(e, P, "Channel-Hangup-Time", ch->t_hangup);
    add_time(e, P, "Channel-Transfer-Time", ch->t_transfer);
    add_time(e, P, "Channel-Resurrect-Time", 0);
    add_time(e, P, "Channel-Bridged-Time", ch->t_bridged);
    add_time(e, P, "Channel-Last-Hold", 0);
    add_time(e, P, "Channel-Hold-Accum", 0);
    add_opt(e, P, "Screen-Bit", "true");
    add_opt(e, P, "Privacy-Hide-Name", "false");
    add_opt(e, P, "Privacy-Hide-Number", "false");
}

static void basic_headers(sim_chan *ch, sim_event *e)
{
    const char *dir = ch->outbound ? "outbound" : "inbound";
    sim__event_add(e, "Channel-State", CS_NAMES[ch->state]);
    sim__event_add(e, "Channel-Call-State", CCS_NAMES[ch->callstate]);
    sim__event_addf(e, "Channel-State-Number", "%d", ch->state_num);
    sim__event_add(e, "Channel-Name", ch->name);
    sim__event_add(e, "Unique-ID", ch->uuid);
    sim__event_add(e, "Call-Direction", dir);
    sim__event_add(e, "Presence-Call-Direction", dir);
    sim__event_add(e, "Channel-HIT-Dialplan", ch->hit_dialplan ? "true" : "false");
    if (ch->presence_id)
        sim__event_add(e, "Channel-Presence-ID", ch->presence_id);
    sim__event_add(e, "Channel-Call-UUID", ch->uuid);
    sim__event_add(e, "Answer-State", ANS_NAMES[ch->answer]);
    if (ch->cause)
        sim__event_add(e, "Hangup-Cause", ch->cause);
    if (ch->codec) {
        sim__event_add(e, "Channel-Read-Codec-Name", "L16");
        sim__event_add(e, "Channel-Read-Codec-Rate", "8000");
        sim__event_add(e, "Channel-Read-Codec-Bit-Rate", "128000");
        sim__event_add(e, "Channel-Write-Codec-Name", "L16");
        sim__event_add(e, "Channel-Write-Codec-Rate", "8000");
        sim__event_add(e, "Channel-Write-Codec-Bit-Rate", "128000");
    }
}

static void other_leg_headers(sim_chan *ch, sim_event *e)
{
    sim_chan *o = ch->peer[0] ? sim__chan_find(ch->s, ch->peer) : NULL;
    if (!o || ch->peer_kind == PEER_NONE)
        return;
    sim__event_add(e, "Other-Type", ch->peer_kind == PEER_CALLER ? "originator" : "originatee");
    sim__profile_headers(o, e, "Other-Leg");
}

static void var_headers(sim_chan *ch, sim_event *e)
{
    char n[300];
    for (size_t i = 0; i < ch->nvars; i++) {
        snprintf(n, sizeof n, "variable_%s", ch->vars[i].name);
        sim__event_add(e, n, ch->vars[i].value);
    }
}

void sim__chan_add_headers(sim_chan *ch, sim_event *e, bool vars)
{
    basic_headers(ch, e);
    sim__profile_headers(ch, e, "Caller");
    other_leg_headers(ch, e);
    if (vars)
        var_headers(ch, e);
}

/* The connect reply (CHANNEL_DATA) also carries the profile as Channel-*. */
void sim__chan_headers(sim_chan *c, sim_event *e)
{
    if (!c || !e)
        return;
    if (e->name && !strcmp(e->name, "CHANNEL_DATA"))
        sim__profile_headers(c, e, "Channel");
    sim__chan_add_headers(c, e, true);
}

sim_event *sim__chan_event(sim_chan *ch, const char *name, bool vars)
{
    sim_event *e = sim__event_new(ch->s, name, NULL);
    if (!e)
        return NULL;
    if (!strcmp(name, "CHANNEL_HANGUP_COMPLETE") && ch->cause)
        sim__event_add(e, "Hangup-Cause", ch->cause);
    sim__chan_add_headers(ch, e, vars);
    return e;
}

void sim__fire_chan(sim_chan *ch, const char *name, bool vars)
{
    sim_event *e = sim__chan_event(ch, name, vars);
    if (e)
        sim__fire(ch->s, e);
}

/* ------------------------------------------------------------ channels */

sim_chan *sim__chan_find(sim *s, const char *uuid)
{
    if (!uuid || !s->calls)
        return NULL;
    for (sim_chan *ch = s->calls->chans; ch; ch = ch->next)
        if (!ch->dead && !strcmp(ch->uuid, uuid))
            return ch;
    return NULL;
}

const char *sim__chan_uuid(const sim_chan *c)
{
    return c ? c->uuid : "";
}

const char *sim__chan_var(sim_chan *c, const char *name)
{
    return c && name ? sim__var(c, name) : NULL;
}

sim_chan *sim__chan_new(sim *s, const char *name, bool outbound, const char *cid_name,
                        const char *cid_num, const char *dest)
{
    sim_calls *c = s->calls;
    sim_chan *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->s = s;
    sim__uuid(ch->uuid);
    ch->name = sim__strdup(name);
    ch->outbound = outbound;
    ch->hit_dialplan = !outbound;
    ch->codec = true;
    ch->cid_name = sim__strdup(cid_name);
    ch->cid_num = sim__strdup(cid_num ? cid_num : "0000000000");
    ch->ani = sim__strdup(ch->cid_num);
    ch->dest = sim__strdup(dest);
    ch->dialplan = sim__strdup("XML");
    ch->context = sim__strdup("default");
    ch->t_created = sim__now_us(s);
    ch->state_num = CS_NEW;
    ch->session_id = ++c->session_seq;
    snprintf(ch->last_response, sizeof ch->last_response, "_none_");
    if (!ch->name || !ch->cid_num || !ch->ani) {
        free(ch->name);
        free(ch->cid_name);
        free(ch->cid_num);
        free(ch->ani);
        free(ch->dest);
        free(ch->dialplan);
        free(ch->context);
        free(ch);
        return NULL;
    }
    ch->next = c->chans;
    c->chans = ch;
    c->nchan++;
    c->peak = c->nchan > c->peak ? c->nchan : c->peak;
    sim__var_set(ch, "direction", outbound ? "outbound" : "inbound");
    if (outbound)
        sim__var_set(ch, "is_outbound", "true");
    sim__var_set(ch, "uuid", ch->uuid);
    sim__var_set(ch, "call_uuid", ch->uuid);
    sim__var_setf(ch, "session_id", "%u", ch->session_id);
    sim__var_set(ch, "channel_name", ch->name);
    sim__var_set(ch, "read_codec", "L16");
    sim__var_set(ch, "read_rate", "8000");
    sim__var_set(ch, "write_codec", "L16");
    sim__var_set(ch, "write_rate", "8000");
    return ch;
}

void sim__chan_set_steps(sim_chan *ch, const char *const *pairs, size_t n)
{
    for (size_t i = 0; i < ch->nsteps; i++) {
        free(ch->steps[i].app);
        free(ch->steps[i].arg);
    }
    free(ch->steps);
    ch->steps = n ? calloc(n, sizeof *ch->steps) : NULL;
    ch->nsteps = ch->steps ? n : 0;
    for (size_t i = 0; i < ch->nsteps; i++) {
        ch->steps[i].app = sim__strdup(pairs[2 * i]);
        ch->steps[i].arg = sim__strdup(pairs[2 * i + 1]);
    }
    ch->step = 0;
    ch->in_dialplan = n > 0;
}

static void chan_free(sim_chan *ch)
{
    sim__apps_free(ch);
    for (size_t i = 0; i < ch->nvars; i++) {
        free(ch->vars[i].name);
        free(ch->vars[i].value);
    }
    sim__chan_set_steps(ch, NULL, 0);
    free(ch->vars);
    free(ch->name);
    free(ch->cid_name);
    free(ch->cid_num);
    free(ch->ani);
    free(ch->dest);
    free(ch->callee_name);
    free(ch->callee_num);
    free(ch->source);
    free(ch->context);
    free(ch->dialplan);
    free(ch->presence_id);
    free(ch->cause);
    sim__sb_free(&ch->dialed);
    free(ch);
}

/* Destroyed channels are freed here, between tasks, never under a caller. */
static void reap(sim_calls *c)
{
    sim_chan **pp = &c->chans;
    while (*pp) {
        sim_chan *ch = *pp;
        if (ch->dead) {
            *pp = ch->next;
            c->nchan--;
            cancel_chan_tasks(c, ch);
            chan_free(ch);
        } else {
            pp = &ch->next;
        }
    }
}

static void reap_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)ch;
    (void)arg;
}

bool sim__chan_up(const sim_chan *ch)
{
    return ch && !ch->cause && !ch->dead;
}

/* ------------------------------------------------------------ states */

void sim__chan_state(sim_chan *ch, int state)
{
    ch->state = state;
    if (ch->state_num < state || !ch->cause)
        ch->state_num = state;
    sim__fire_chan(ch, "CHANNEL_STATE", false);
}

void sim__chan_callstate(sim_chan *ch, int ccs)
{
    if (ch->callstate == ccs)
        return;
    int old = ch->callstate;
    ch->callstate = ccs;
    sim_event *e = sim__event_new(ch->s, "CHANNEL_CALLSTATE", NULL);
    if (!e)
        return;
    sim__event_add(e, "Original-Channel-Call-State", CCS_NAMES[old]);
    sim__event_addf(e, "Channel-Call-State-Number", "%d", ccs);
    sim__chan_add_headers(ch, e, false);
    sim__fire(ch->s, e);
}

static void start_script_clocks(sim_chan *ch);

static sim_chan *twin(sim_chan *ch)
{
    return ch->twin[0] ? sim__chan_find(ch->s, ch->twin) : NULL;
}

void sim__chan_answer(sim_chan *ch)
{
    if (!sim__chan_up(ch) || ch->answer == ANS_ANSWERED)
        return;
    ch->t_answered = sim__now_us(ch->s);
    ch->answer = ANS_ANSWERED;
    sim__fire_chan(ch, "CHANNEL_ANSWER", true);
    sim__chan_callstate(ch, CCS_ACTIVE);
    sim__var_set(ch, "endpoint_disposition", "ANSWER");
    sim_chan *t = twin(ch);
    if (t && t->answer != ANS_ANSWERED)
        sim__chan_answer(t);
    if (ch->leg_of)
        sim__dial_leg_answered(ch);
    start_script_clocks(ch);
}

void sim__chan_pre_answer(sim_chan *ch)
{
    if (!sim__chan_up(ch) || ch->answer != ANS_RINGING)
        return;
    ch->t_media = sim__now_us(ch->s);
    ch->answer = ANS_EARLY;
    sim__fire_chan(ch, "CHANNEL_PROGRESS_MEDIA", true);
    sim__chan_callstate(ch, CCS_EARLY);
    sim__var_set(ch, "endpoint_disposition", "EARLY MEDIA");
    sim_chan *t = twin(ch);
    if (t)
        sim__chan_pre_answer(t);
}

void sim__chan_ring(sim_chan *ch)
{
    if (!sim__chan_up(ch) || ch->t_progress)
        return;
    ch->t_progress = sim__now_us(ch->s);
    sim__fire_chan(ch, "CHANNEL_PROGRESS", true);
    if (ch->callstate == CCS_DOWN)
        sim__chan_callstate(ch, CCS_RINGING);
}

/* ------------------------------------------------------------ hangup */

static const struct {
    const char *name;
    int q850;
} CAUSES[] = {
    {"UNALLOCATED_NUMBER", 1},        {"NO_ROUTE_TRANSIT_NET", 2},
    {"NO_ROUTE_DESTINATION", 3},      {"CHANNEL_UNACCEPTABLE", 6},
    {"NORMAL_CLEARING", 16},          {"USER_BUSY", 17},
    {"NO_USER_RESPONSE", 18},         {"NO_ANSWER", 19},
    {"SUBSCRIBER_ABSENT", 20},        {"CALL_REJECTED", 21},
    {"NUMBER_CHANGED", 22},           {"DESTINATION_OUT_OF_ORDER", 27},
    {"INVALID_NUMBER_FORMAT", 28},    {"FACILITY_REJECTED", 29},
    {"NORMAL_UNSPECIFIED", 31},       {"NORMAL_CIRCUIT_CONGESTION", 34},
    {"NETWORK_OUT_OF_ORDER", 38},     {"NORMAL_TEMPORARY_FAILURE", 41},
    {"SWITCH_CONGESTION", 42},        {"REQUESTED_CHAN_UNAVAIL", 44},
    {"BEARERCAPABILITY_NOTAVAIL", 58}, {"SERVICE_UNAVAILABLE", 63},
    {"INCOMPATIBLE_DESTINATION", 88}, {"RECOVERY_ON_TIMER_EXPIRE", 102},
    {"PROTOCOL_ERROR", 111},          {"INTERWORKING", 127},
    {"ORIGINATOR_CANCEL", 487},       {"CRASH", 500},
    {"SYSTEM_SHUTDOWN", 501},         {"LOSE_RACE", 502},
    {"MANAGER_REQUEST", 503},         {"BLIND_TRANSFER", 600},
    {"ATTENDED_TRANSFER", 601},       {"ALLOTTED_TIMEOUT", 602},
    {"MEDIA_TIMEOUT", 604},           {"PICKED_OFF", 605},
};

const char *sim__cause_name(const char *s)
{
    if (!s || !*s)
        return NULL;
    char *end;
    long n = strtol(s, &end, 10);
    for (size_t i = 0; i < sizeof CAUSES / sizeof CAUSES[0]; i++)
        if ((!*end && n == CAUSES[i].q850) || !strcasecmp(s, CAUSES[i].name))
            return CAUSES[i].name;
    return NULL;
}

static int q850(const char *cause)
{
    for (size_t i = 0; i < sizeof CAUSES / sizeof CAUSES[0]; i++)
        if (!strcmp(cause, CAUSES[i].name))
            return CAUSES[i].q850;
    return 0;
}

static void set_u64(sim_chan *ch, const char *name, uint64_t v)
{
    sim__var_setf(ch, name, "%llu", (unsigned long long)v);
}

static void stamp(sim_chan *ch, const char *base, uint64_t us)
{
    char n[64];
    snprintf(n, sizeof n, "%s_epoch", base);
    set_u64(ch, n, us / 1000000);
    snprintf(n, sizeof n, "%s_uepoch", base);
    set_u64(ch, n, us);
}

static void date_var(sim_chan *ch, const char *name, uint64_t us)
{
    char d[64];
    if (!us)
        return;
    sim__date(us, d, sizeof d);
    sim__var_set(ch, name, d);
}

/* The durations: whole seconds, then ms, then µs, as FreeSWITCH lists them. */
static void cdr_durations(sim_chan *ch, uint64_t start, uint64_t ans, uint64_t end)
{
    uint64_t d[7] = {end - start,
                     ans ? end - ans : 0,
                     ch->t_progress ? ch->t_progress - start : 0,
                     ans ? ans - start : 0,
                     (ans ? ans : end) - start,
                     ch->t_media ? ch->t_media - start : 0,
                     ans ? end - ans : 0};
    static const char *const sec[] = {"duration", "billsec", "progresssec", "answersec",
                                      "waitsec", "progress_mediasec", "flow_billsec"};
    static const char *const ms[] = {"mduration", "billmsec", "progressmsec", "answermsec",
                                     "waitmsec", "progress_mediamsec", "flow_billmsec"};
    static const char *const us[] = {"uduration", "billusec", "progressusec", "answerusec",
                                     "waitusec", "progress_mediausec", "flow_billusec"};
    for (int i = 0; i < 7; i++)
        set_u64(ch, sec[i], d[i] / 1000000);
    for (int i = 0; i < 7; i++)
        set_u64(ch, ms[i], d[i] / 1000);
    for (int i = 0; i < 7; i++)
        set_u64(ch, us[i], d[i]);
}

/* switch_channel_set_timestamps: the CDR variables of HANGUP_COMPLETE, in
 * FreeSWITCH's order. */
static void cdr_vars(sim_chan *ch)
{
    uint64_t end = ch->t_hangup, start = ch->t_created, ans = ch->t_answered;
    sim__var_set(ch, "hangup_cause", ch->cause);
    sim__var_setf(ch, "hangup_cause_q850", "%d", q850(ch->cause));
    if (ch->dialed.len)
        sim__var_set(ch, "digits_dialed", sim__sb_str(&ch->dialed));
    date_var(ch, "start_stamp", start);
    date_var(ch, "profile_start_stamp", start);
    date_var(ch, "answer_stamp", ans);
    date_var(ch, "progress_stamp", ch->t_progress);
    date_var(ch, "progress_media_stamp", ch->t_media);
    date_var(ch, "end_stamp", end);
    stamp(ch, "start", start);
    stamp(ch, "profile_start", start);
    stamp(ch, "answer", ans);
    stamp(ch, "bridge", ch->t_bridged);
    stamp(ch, "last_hold", 0);
    sim__var_set(ch, "hold_accum_seconds", "0");
    sim__var_set(ch, "hold_accum_usec", "0");
    sim__var_set(ch, "hold_accum_ms", "0");
    stamp(ch, "resurrect", 0);
    stamp(ch, "progress", ch->t_progress);
    stamp(ch, "progress_media", ch->t_media);
    stamp(ch, "end", end);
    const char *app = sim__var(ch, "current_application");
    if (app)
        sim__var_set(ch, "last_app", app);
    const char *arg = sim__var(ch, "current_application_data");
    if (arg)
        sim__var_set(ch, "last_arg", arg);
    if (ch->cid_name)
        sim__var_setf(ch, "caller_id", "\"%s\" <%s>", ch->cid_name, ch->cid_num);
    else
        sim__var_set(ch, "caller_id", ch->cid_num);
    cdr_durations(ch, start, ans, end);
}

static void record_end(sim_chan *ch);

/* A bridge ends as soon as either side hangs up. */
static void unbridge_on_hangup(sim_chan *ch)
{
    sim_chan *p = ch->peer[0] ? sim__chan_find(ch->s, ch->peer) : NULL;
    if (!p || !ch->bridged)
        return;
    if (ch->peer_kind == PEER_CALLER)
        sim__unbridge(p, ch);
    else
        sim__unbridge(ch, p);
}

/* Loopback twins and uuid_bridge'd legs go down together; a bridged leg
 * goes when its caller does; a caller whose leg hung up is its bridge
 * application's business. */
static void hangup_peer(sim_chan *ch)
{
    sim_chan *t = twin(ch);
    if (t)
        sim__chan_hangup(t, ch->cause);
    sim_chan *p = ch->peer[0] ? sim__chan_find(ch->s, ch->peer) : NULL;
    if (!p || !sim__chan_up(p) || p->peer_kind == PEER_NONE || strcmp(p->peer, ch->uuid))
        return;
    if (ch->peer_kind == PEER_CALLER)
        sim__apps_leg_gone(p, ch);
    else if (ch->peer_kind != PEER_NONE)
        sim__chan_hangup(p, "NORMAL_CLEARING");
}

static void chan_destroy(sim_chan *ch)
{
    if (ch->dead)
        return;
    ch->state_num = CS_DESTROY;
    sim__fire_chan(ch, "CHANNEL_DESTROY", true);
    ch->state = CS_DESTROY;
    sim__fire_chan(ch, "CHANNEL_STATE", false);
    record_end(ch);
    ch->dead = true;
    sim__after(ch->s->calls, NULL, 0, reap_task, NULL);
}

void sim__chan_hangup(sim_chan *ch, const char *cause)
{
    if (!sim__chan_up(ch))
        return;
    sim_calls *c = ch->s->calls;
    ch->cause = sim__strdup(cause ? cause : "NORMAL_CLEARING");
    if (!ch->cause)
        ch->cause = sim__strdup("NORMAL_CLEARING");
    ch->answer = ANS_HANGUP;
    ch->state_num = CS_HANGUP;
    sim__cancel(c, ch->hangup_timer);
    sim__cancel(c, ch->dtmf_timer);
    sim__cancel(c, ch->park_timer);
    ch->hangup_timer = ch->dtmf_timer = ch->park_timer = 0;
    sim__fire_chan(ch, "CHANNEL_HANGUP", true);
    sim__account(ch, "hangup %s", ch->cause);
    unbridge_on_hangup(ch);
    sim__apps_abort(ch);
    if (ch->leg_of)
        sim__dial_leg_gone(ch);
    ch->t_hangup = sim__now_us(ch->s);
    sim__chan_state(ch, CS_HANGUP);
    sim__chan_callstate(ch, CCS_HANGUP);
    hangup_peer(ch);
    ch->state_num = CS_REPORTING;
    sim__chan_state(ch, CS_REPORTING);
    cdr_vars(ch);
    sim__fire_chan(ch, "CHANNEL_HANGUP_COMPLETE", true);
    ch->hangup_done = true;
    if (ch->sock && ch->sock_state != SOCK_CLOSED)
        sim__socket_chan_hangup(ch->sock);
    else
        chan_destroy(ch);
}

/* ------------------------------------------------------------ sockets */

void sim__chan_set_socket(sim_chan *c, sim_conn *k)
{
    if (c)
        c->sock = k;
}

/* FreeSWITCH parks the channel once `connect` arrived; its CHANNEL_PARK
 * reaches the client a moment later, after `myevents`. The sim fires it on
 * the first sendmsg, or after this many real ms without one. */
#define PARK_REAL_MS 20

static void park_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    ch->park_timer = 0;
    if (!sim__chan_up(ch) || ch->parked || ch->sock_state != SOCK_READY)
        return;
    ch->parked = true;
    sim__fire_chan(ch, "CHANNEL_PARK", true);
    sim__apps_pump(ch);
}

void sim__chan_socket_ready(sim_chan *c)
{
    if (!c || c->sock_state != SOCK_OPENING)
        return;
    c->sock_state = SOCK_READY;
    sim__account(c, "socket connected");
    if (c->sock_async) {
        double speed = c->s->o.speed > 0 ? c->s->o.speed : 1.0;
        c->park_timer = sim__after(c->s->calls, c, (uint64_t)(PARK_REAL_MS * speed) + 1,
                                   park_task, NULL);
    }
}

void sim__chan_park_now(sim_chan *ch)
{
    if (ch->park_timer) {
        sim__cancel(ch->s->calls, ch->park_timer);
        ch->park_timer = 0;
        park_task(ch->s->calls, ch, NULL);
    }
}

static void closed_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    int how = (int)(intptr_t)arg;
    if (ch->dead)
        return;
    if (ch->hangup_done) {
        chan_destroy(ch);
        return;
    }
    if (!sim__chan_up(ch))
        return;
    if (how == 1) {
        sim__account(ch, "socket resume");
        sim__socket_app_end(ch);
    } else {
        sim__account(ch, "socket closed");
        sim__chan_hangup(ch, "NORMAL_CLEARING");
    }
}

void sim__chan_socket_closed(sim_chan *c, int how)
{
    if (!c || c->sock_state == SOCK_CLOSED)
        return;
    c->sock_state = SOCK_CLOSED;
    c->sock = NULL;
    sim__apps_sock_gone(c);
    c->park_timer ? sim__cancel(c->s->calls, c->park_timer) : (void)0;
    c->park_timer = 0;
    /* later: the caller may be the wire in the middle of its own work */
    if (c->s->calls->closing || !sim__after(c->s->calls, c, 0, closed_task, (void *)(intptr_t)how))
        closed_task(c->s->calls, c, (void *)(intptr_t)how);
}

/* ------------------------------------------------------------ DTMF */

void sim__chan_dtmf(sim_chan *ch, char digit)
{
    if (!sim__chan_up(ch))
        return;
    sim__sb_add(&ch->dialed, &digit, 1);
    if (ch->ndtmf + 1 < sizeof ch->dtmf)
        ch->dtmf[ch->ndtmf++] = digit;
    sim_event *e = sim__chan_event(ch, "DTMF", false);
    if (e) {
        char d[2] = {digit, 0};
        sim__event_add(e, "DTMF-Digit", d);
        sim__event_add(e, "DTMF-Duration", "2000");
        sim__event_add(e, "DTMF-Source", "APP");
        sim__fire(ch->s, e);
    }
    sim__apps_dtmf(ch);
}

/* ------------------------------------------------------------ the account */

void sim__account(sim_chan *ch, const char *fmt, ...)
{
    if (!ch || !ch->rec)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sim_calls *c = ch->s->calls;
    pthread_mutex_lock(&c->mu);
    sim__sb_adds(&ch->rec->steps, line);
    sim__sb_adds(&ch->rec->steps, "\n");
    pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------ scripted calls */

static void press_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    sim__chan_dtmf(ch, (char)(intptr_t)arg);
}

static void caller_hangup_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    ch->hangup_timer = 0;
    sim__account(ch, "caller hangs up");
    sim__chan_hangup(ch, "NORMAL_CLEARING");
}

/* Scripted presses and the caller's hangup count from the answer. */
static void start_script_clocks(sim_chan *ch)
{
    sim_callrec *r = ch->rec;
    if (!r)
        return;
    sim_calls *c = ch->s->calls;
    for (size_t i = 0; i < r->call.ndtmf; i++) {
        const char *d = r->call.dtmf[i].digits;
        for (size_t j = 0; d && d[j]; j++)
            sim__after(c, ch, r->call.dtmf[i].at_ms + 200 * (uint64_t)j, press_task,
                       (void *)(intptr_t)d[j]);
    }
    if (r->call.hangup_ms >= 0)
        ch->hangup_timer =
            sim__after(c, ch, (uint64_t)r->call.hangup_ms, caller_hangup_task, NULL);
}

static const char *check_expect(sim_callrec *r, sim_chan *ch, char *why, size_t n)
{
    if (r->call.expect_cause && strcmp(r->call.expect_cause, ch->cause ? ch->cause : "")) {
        snprintf(why, n, "cause %s, expected %s", ch->cause ? ch->cause : "(none)",
                 r->call.expect_cause);
        return why;
    }
    for (size_t i = 0; r->call.expect_vars && r->call.expect_vars[i]; i++) {
        const char *x = r->call.expect_vars[i];
        const char *eq = strchr(x, '=');
        char name[256];
        size_t len = eq ? (size_t)(eq - x) : strlen(x);
        snprintf(name, sizeof name, "%.*s", (int)len, x);
        const char *want = eq ? eq + 1 : "";
        const char *got = sim__var(ch, name);
        if (!got || strcmp(got, want)) {
            if (got)
                snprintf(why, n, "variable %s is \"%s\", expected \"%s\"", name, got, want);
            else
                snprintf(why, n, "variable %s is unset, expected \"%s\"", name, want);
            return why;
        }
    }
    return NULL;
}

static void record_end(sim_chan *ch)
{
    sim_callrec *r = ch->rec;
    if (!r)
        return;
    char why[512];
    const char *bad = check_expect(r, ch, why, sizeof why);
    sim_calls *c = ch->s->calls;
    pthread_mutex_lock(&c->mu);
    free(r->cause);
    r->cause = sim__strdup(ch->cause ? ch->cause : "");
    free(r->why);
    r->why = sim__strdup(bad ? bad : "");
    r->ended = true;
    r->as_scripted = !bad;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    ch->rec = NULL;
}

static void start_call(sim_calls *c, sim_chan *unused, void *arg)
{
    (void)unused;
    sim_callrec *r = arg;
    const vox_sim_call *k = &r->call;
    char name[256];
    const char *host = c->s->o.hostname ? c->s->o.hostname : "vox-sim";
    snprintf(name, sizeof name, "sofia/internal/%s@%s", k->caller_number, host);
    sim_chan *ch = sim__chan_new(c->s, name, false, k->caller_name, k->caller_number,
                                 k->destination);
    if (!ch) {
        pthread_mutex_lock(&c->mu);
        r->ended = true;
        free(r->why);
        r->why = sim__strdup("out of memory");
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    ch->rec = r;
    free(ch->source);
    ch->source = sim__strdup("mod_sofia");
    char pres[256];
    snprintf(pres, sizeof pres, "%s@%s", k->caller_number, host);
    ch->presence_id = sim__strdup(pres);
    pthread_mutex_lock(&c->mu);
    memcpy(r->uuid, ch->uuid, sizeof r->uuid);
    pthread_mutex_unlock(&c->mu);
    sim__var_set(ch, "sip_from_user", k->caller_number);
    sim__var_set(ch, "sip_to_user", k->destination);
    char sock[300];
    snprintf(sock, sizeof sock, "%s%s%s", k->socket,
             k->fault == VOX_SIM_CALL_NO_ASYNC ? "" : " async",
             k->fault == VOX_SIM_CALL_NO_FULL ? "" : " full");
    const char *steps[] = {"answer", NULL, "socket", sock};
    if (k->no_answer)
        sim__chan_set_steps(ch, steps + 2, 1);
    else
        sim__chan_set_steps(ch, steps, 2);
    sim__account(ch, "call %s from %s to %s", r->name, k->caller_number, k->destination);
    sim__chan_begin(ch);
}

void sim__chan_begin(sim_chan *ch)
{
    ch->state = CS_INIT;
    ch->state_num = CS_INIT;
    sim__fire_chan(ch, "CHANNEL_STATE", false);
    ch->state_num = CS_ROUTING;
    sim__fire_chan(ch, "CHANNEL_CREATE", true);
    ch->state = CS_ROUTING;
    sim__chan_callstate(ch, CCS_RINGING);
    sim__fire_chan(ch, "CHANNEL_STATE", false);
    sim__chan_state(ch, CS_EXECUTE);
    sim__dialplan_next(ch);
}

static void place_on_loop(sim *s, void *ud)
{
    sim_calls *c = s->calls;
    sim_callrec *r = ud;
    if (!c->go) {
        r->pending = true;
        return;
    }
    if (!sim__after(c, NULL, r->call.start_ms, start_call, r))
        start_call(c, NULL, r);
}

void sim__calls_go(sim_calls *c)
{
    if (!c || c->go)
        return;
    c->go = true;
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&c->mu);
        sim_callrec *r = i < c->nrecs ? c->recs[i] : NULL;
        pthread_mutex_unlock(&c->mu);
        if (!r)
            break;
        if (r->pending) {
            r->pending = false;
            place_on_loop(c->s, r);
        }
    }
}

/* ------------------------------------------------------------ dates */

void sim__date(uint64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ------------------------------------------------------------ the part's life */

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

/* The handle may outlive the calls part: its close callback frees it. */
static void close_timer(sim_calls *c)
{
    if (c->timer && !uv_is_closing((uv_handle_t *)c->timer))
        uv_close((uv_handle_t *)c->timer, timer_closed);
    else if (c->timer)
        c->timer->data = NULL;
    c->timer = NULL;
}

sim_calls *sim__calls_new(sim *s)
{
    sim_calls *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->s = s;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc) {
        free(c);
        return NULL;
    }
    if (pthread_mutex_init(&c->mu, NULL)) {
        pthread_cond_destroy(&c->cv);
        free(c);
        return NULL;
    }
    c->start_us = sim__now_us(s);
    return c;
}

void sim__calls_shutdown(sim_calls *c)
{
    if (!c || c->closing)
        return;
    sim__dial_fail_all(c->s, "SYSTEM_SHUTDOWN");
    for (sim_chan *ch = c->chans; ch; ch = ch->next)
        sim__chan_hangup(ch, "SYSTEM_SHUTDOWN");
    c->closing = true;
    while (c->tasks) {
        struct sim_task *k = c->tasks;
        c->tasks = k->next;
        task_free(k);
    }
    close_timer(c);
}

struct sim_snap {
    struct sim_snap *next;
    char *s[5];
};

static void rec_free(sim_callrec *r)
{
    free(r->name);
    free((char *)r->call.caller_number);
    free((char *)r->call.caller_name);
    free((char *)r->call.destination);
    free((char *)r->call.socket);
    free((char *)r->call.expect_cause);
    for (size_t i = 0; i < r->call.ndtmf; i++)
        free(r->dtmf_digits[i]);
    free(r->dtmf_digits);
    free(r->dtmf);
    for (size_t i = 0; r->expect && r->expect[i]; i++)
        free(r->expect[i]);
    free(r->expect);
    sim__sb_free(&r->steps);
    free(r->cause);
    free(r->why);
    while (r->snaps) {
        struct sim_snap *n = r->snaps;
        r->snaps = n->next;
        for (int i = 0; i < 5; i++)
            free(n->s[i]);
        free(n);
    }
    free(r);
}

void sim__calls_free(sim_calls *c)
{
    if (!c)
        return;
    c->closing = true;
    close_timer(c);
    sim__dial_free_all(c->s);
    while (c->chans) {
        sim_chan *ch = c->chans;
        c->chans = ch->next;
        chan_free(ch);
    }
    while (c->tasks) {
        struct sim_task *k = c->tasks;
        c->tasks = k->next;
        task_free(k);
    }
    for (size_t i = 0; i < c->nrecs; i++)
        rec_free(c->recs[i]);
    free(c->recs);
    for (size_t i = 0; i < c->nhash; i++) {
        free(c->hash[i].name);
        free(c->hash[i].value);
    }
    free(c->hash);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

/* ------------------------------------------------------------ public: results */

static bool valid_target(const char *t)
{
    const char *colon = t ? strrchr(t, ':') : NULL;
    if (!colon || colon == t)
        return false;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return !*end && port > 0 && port < 65536;
}

static int rec_copy(sim_callrec *r, const vox_sim_call *k, size_t index)
{
    char def[32];
    snprintf(def, sizeof def, "call %zu", index + 1);
    r->call = *k;
    r->name = sim__strdup(k->name ? k->name : def);
    r->call.name = r->name;
    r->call.caller_number = sim__strdup(k->caller_number ? k->caller_number : "1000");
    r->call.caller_name = sim__strdup(k->caller_name ? k->caller_name : "Sim Caller");
    r->call.destination = sim__strdup(k->destination ? k->destination : "9100");
    r->call.socket = sim__strdup(k->socket);
    r->call.expect_cause = sim__strdup(k->expect_cause);
    r->call.dtmf = NULL;
    r->call.ndtmf = 0;
    r->call.expect_vars = NULL;
    if (!r->name || !r->call.caller_number || !r->call.caller_name || !r->call.destination ||
        !r->call.socket || (k->expect_cause && !r->call.expect_cause))
        return VOX_ENOMEM;
    if (k->ndtmf) {
        r->dtmf = calloc(k->ndtmf, sizeof *r->dtmf);
        r->dtmf_digits = calloc(k->ndtmf, sizeof *r->dtmf_digits);
        if (!r->dtmf || !r->dtmf_digits)
            return VOX_ENOMEM;
        r->call.dtmf = r->dtmf;
        for (size_t i = 0; i < k->ndtmf; i++, r->call.ndtmf++) {
            r->dtmf[i].at_ms = k->dtmf[i].at_ms;
            r->dtmf[i].digits = r->dtmf_digits[i] = sim__strdup(k->dtmf[i].digits ? k->dtmf[i].digits : "");
            if (!r->dtmf_digits[i])
                return VOX_ENOMEM;
        }
    }
    size_t n = 0;
    while (k->expect_vars && k->expect_vars[n])
        n++;
    if (n) {
        r->expect = calloc(n + 1, sizeof *r->expect);
        if (!r->expect)
            return VOX_ENOMEM;
        for (size_t i = 0; i < n; i++)
            if (!(r->expect[i] = sim__strdup(k->expect_vars[i])))
                return VOX_ENOMEM;
        r->call.expect_vars = (const char *const *)r->expect;
    }
    return 0;
}

int vox_sim_place(vox_sim *s, const vox_sim_call *call)
{
    if (!s || !s->calls || !call || !valid_target(call->socket))
        return VOX_EINVAL;
    sim_calls *c = s->calls;
    sim_callrec *r = calloc(1, sizeof *r);
    if (!r)
        return VOX_ENOMEM;
    pthread_mutex_lock(&c->mu);
    size_t index = c->nrecs;
    int rc = rec_copy(r, call, index);
    if (!rc && c->nrecs == c->caprecs) {
        size_t cap = c->caprecs ? c->caprecs * 2 : 16;
        sim_callrec **v = realloc(c->recs, cap * sizeof *v);
        if (v) {
            c->recs = v;
            c->caprecs = cap;
        } else {
            rc = VOX_ENOMEM;
        }
    }
    if (rc) {
        pthread_mutex_unlock(&c->mu);
        rec_free(r);
        return rc;
    }
    c->recs[c->nrecs++] = r;
    pthread_mutex_unlock(&c->mu);
    if (sim__post(s, place_on_loop, r)) {
        /* kept in the results as a call that never ran */
        pthread_mutex_lock(&c->mu);
        r->ended = true;
        r->why = sim__strdup("not placed: out of memory");
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        return VOX_ENOMEM;
    }
    return (int)index;
}

static bool all_ended(sim_calls *c, bool *bad)
{
    *bad = false;
    for (size_t i = 0; i < c->nrecs; i++) {
        if (!c->recs[i]->ended)
            return false;
        if (!c->recs[i]->as_scripted)
            *bad = true;
    }
    return true;
}

int vox_sim_wait(vox_sim *s, uint32_t timeout_ms)
{
    if (!s || !s->calls)
        return VOX_EINVAL;
    sim_calls *c = s->calls;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    bool bad;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    while (!all_ended(c, &bad) && !rc)
        rc = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
    bool done = all_ended(c, &bad);
    pthread_mutex_unlock(&c->mu);
    if (!done)
        return VOX_ETIMEDOUT;
    return bad ? 1 : 0;
}

size_t vox_sim_result_get(vox_sim *s, size_t i, vox_sim_result *r)
{
    if (!s || !s->calls)
        return 0;
    sim_calls *c = s->calls;
    pthread_mutex_lock(&c->mu);
    size_t n = c->nrecs;
    struct sim_snap *snap = r && i < n ? calloc(1, sizeof *snap) : NULL;
    if (snap) {
        sim_callrec *k = c->recs[i];
        snap->s[0] = sim__strdup(k->name);
        snap->s[1] = sim__strdup(k->uuid);
        snap->s[2] = sim__strdup(k->cause ? k->cause : "");
        snap->s[3] = sim__strdup(k->why ? k->why : "");
        snap->s[4] = sim__strdup(sim__sb_str(&k->steps));
        snap->next = k->snaps;
        k->snaps = snap;
        r->name = snap->s[0] ? snap->s[0] : "";
        r->uuid = snap->s[1] ? snap->s[1] : "";
        r->cause = snap->s[2] ? snap->s[2] : "";
        r->why = snap->s[3] ? snap->s[3] : "";
        r->steps = snap->s[4] ? snap->s[4] : "";
        r->ended = k->ended;
        r->as_scripted = k->ended && k->as_scripted;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}
