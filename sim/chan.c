/* vox-sim channels: variables, headers and events in FreeSWITCH's order, the
 * state machine from CHANNEL_CREATE to CHANNEL_DESTROY, hangup causes and
 * the CDR variables, the socket hooks, DTMF, and the calls part's life. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "calls.h"

/* ------------------------------------------------------------ variables */

const char *sim__var(const sim_chan *ch, const char *name)
{
    return sim__pair_get(ch->vars, ch->nvars, name);
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
    if (value)
        sim__pair_add(&ch->vars, &ch->nvars, &ch->capvars, name, value);
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

static const char *const CS_NAMES[] = {"CS_NEW",          "CS_INIT",          "CS_ROUTING",
                                       "CS_SOFT_EXECUTE", "CS_EXECUTE",       "CS_EXCHANGE_MEDIA",
                                       "CS_PARK",         "CS_CONSUME_MEDIA", "CS_HIBERNATE",
                                       "CS_RESET",        "CS_HANGUP",        "CS_REPORTING",
                                       "CS_DESTROY"};
static const char *const CCS_NAMES[] = {"DOWN", "DIALING",   "RINGING", "EARLY", "ACTIVE",
                                        "HELD", "RING_WAIT", "HANGUP",  "UNHELD"};
static const char *const ANS_NAMES[] = {"ringing", "early", "answered", "hangup"};

const char *sim__cs_name(int state)
{
    return CS_NAMES[state];
}

const char *sim__ccs_name(int callstate)
{
    return CCS_NAMES[callstate];
}

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
    sim__event_add(e, "Channel-State", sim__cs_name(ch->state));
    sim__event_add(e, "Channel-Call-State", sim__ccs_name(ch->callstate));
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
    if (ch->cause[0])
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
    if (!strcmp(name, "CHANNEL_HANGUP_COMPLETE") && ch->cause[0])
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

static void chan_free(sim_chan *ch)
{
    sim__apps_free(ch);
    sim__pairs_free(ch->vars, ch->nvars);
    sim__chan_set_steps(ch, NULL, 0);
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
    sim__sb_free(&ch->dialed);
    free(ch);
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
        chan_free(ch);
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

/* Destroyed channels are freed here, between tasks, never under a caller. */
void sim__chans_reap(sim_calls *c)
{
    sim_chan **pp = &c->chans;
    while (*pp) {
        sim_chan *ch = *pp;
        if (ch->dead) {
            *pp = ch->next;
            c->nchan--;
            sim__cancel_chan(c, ch);
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
    return ch && !ch->cause[0] && !ch->dead;
}

/* ------------------------------------------------------------ states */

void sim__chan_state(sim_chan *ch, int state)
{
    ch->state = state;
    if (ch->state_num < state || !ch->cause[0])
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
    sim__event_add(e, "Original-Channel-Call-State", sim__ccs_name(old));
    sim__event_addf(e, "Channel-Call-State-Number", "%d", ccs);
    sim__chan_add_headers(ch, e, false);
    sim__fire(ch->s, e);
}

static sim_chan *twin(sim_chan *ch)
{
    return ch->twin[0] ? sim__chan_find(ch->s, ch->twin) : NULL;
}

/* Answered or early media: the answer state, its event, the call state and
 * the disposition; a loopback twin follows. */
static void set_answer(sim_chan *ch, int answer, const char *event, int ccs, const char *disp)
{
    ch->answer = answer;
    sim__fire_chan(ch, event, true);
    sim__chan_callstate(ch, ccs);
    sim__var_set(ch, "endpoint_disposition", disp);
}

void sim__chan_answer(sim_chan *ch)
{
    if (!sim__chan_up(ch) || ch->answer == ANS_ANSWERED)
        return;
    ch->t_answered = sim__now_us(ch->s);
    set_answer(ch, ANS_ANSWERED, "CHANNEL_ANSWER", CCS_ACTIVE, "ANSWER");
    sim__chan_answer(twin(ch));
    if (ch->leg_of)
        sim__dial_leg_answered(ch);
    sim__script_answered(ch);
}

void sim__chan_pre_answer(sim_chan *ch)
{
    if (!sim__chan_up(ch) || ch->answer != ANS_RINGING)
        return;
    ch->t_media = sim__now_us(ch->s);
    set_answer(ch, ANS_EARLY, "CHANNEL_PROGRESS_MEDIA", CCS_EARLY, "EARLY MEDIA");
    sim__chan_pre_answer(twin(ch));
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
    {"UNALLOCATED_NUMBER", 1},
    {"NO_ROUTE_TRANSIT_NET", 2},
    {"NO_ROUTE_DESTINATION", 3},
    {"CHANNEL_UNACCEPTABLE", 6},
    {"NORMAL_CLEARING", 16},
    {"USER_BUSY", 17},
    {"NO_USER_RESPONSE", 18},
    {"NO_ANSWER", 19},
    {"SUBSCRIBER_ABSENT", 20},
    {"CALL_REJECTED", 21},
    {"NUMBER_CHANGED", 22},
    {"DESTINATION_OUT_OF_ORDER", 27},
    {"INVALID_NUMBER_FORMAT", 28},
    {"FACILITY_REJECTED", 29},
    {"NORMAL_UNSPECIFIED", 31},
    {"NORMAL_CIRCUIT_CONGESTION", 34},
    {"NETWORK_OUT_OF_ORDER", 38},
    {"NORMAL_TEMPORARY_FAILURE", 41},
    {"SWITCH_CONGESTION", 42},
    {"REQUESTED_CHAN_UNAVAIL", 44},
    {"BEARERCAPABILITY_NOTAVAIL", 58},
    {"SERVICE_UNAVAILABLE", 63},
    {"INCOMPATIBLE_DESTINATION", 88},
    {"RECOVERY_ON_TIMER_EXPIRE", 102},
    {"PROTOCOL_ERROR", 111},
    {"INTERWORKING", 127},
    {"ORIGINATOR_CANCEL", 487},
    {"CRASH", 500},
    {"SYSTEM_SHUTDOWN", 501},
    {"LOSE_RACE", 502},
    {"MANAGER_REQUEST", 503},
    {"BLIND_TRANSFER", 600},
    {"ATTENDED_TRANSFER", 601},
    {"ALLOTTED_TIMEOUT", 602},
    {"MEDIA_TIMEOUT", 604},
    {"PICKED_OFF", 605},
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
    static const char *const sec[] = {"duration", "billsec",           "progresssec", "answersec",
                                      "waitsec",  "progress_mediasec", "flow_billsec"};
    static const char *const ms[] = {"mduration",    "billmsec", "progressmsec",
                                     "answermsec",   "waitmsec", "progress_mediamsec",
                                     "flow_billmsec"};
    static const char *const us[] = {"uduration",    "billusec", "progressusec",
                                     "answerusec",   "waitusec", "progress_mediausec",
                                     "flow_billusec"};
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
    sim__script_end(ch);
    ch->dead = true;
    sim__after(ch->s->calls, NULL, 0, reap_task, NULL);
}

void sim__chan_hangup(sim_chan *ch, const char *cause)
{
    if (!sim__chan_up(ch))
        return;
    sim_calls *c = ch->s->calls;
    snprintf(ch->cause, sizeof ch->cause, "%s", cause && *cause ? cause : "NORMAL_CLEARING");
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
        c->park_timer =
            sim__after(c->s->calls, c, (uint64_t)(PARK_REAL_MS * speed) + 1, park_task, NULL);
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
    sim__cancel(c->s->calls, c->park_timer);
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

/* ------------------------------------------------------------ the part's life */

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
    sim__sched_stop(c);
}

void sim__calls_free(sim_calls *c)
{
    if (!c)
        return;
    c->closing = true;
    sim__dial_free_all(c->s);
    while (c->chans) {
        sim_chan *ch = c->chans;
        c->chans = ch->next;
        chan_free(ch);
    }
    sim__sched_stop(c);
    sim__script_free(c);
    sim__pairs_free(c->hash, c->nhash);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
