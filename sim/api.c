/* vox-sim outgoing calls and api commands: the dial strings of bridge and
 * originate (loopback pairs, socket/HOST:PORT, the configured endpoints),
 * the sim's dialplan, and FreeSWITCH's api commands with their texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calls.h"

#define MAX_LEGS 16

struct sim_dial {
    sim_dial *next;
    sim *s;
    sim_var *vars; /* {…} for every leg */
    size_t nvars;
    char **groups; /* '|' failover groups of ',' endpoints */
    size_t ngroups, group;
    char caller[37];
    sim_dial_cb cb;
    void *ud;
    char legs[MAX_LEGS][37];
    size_t nlegs;
    unsigned pending;
    uint64_t timeout_ms, timeout_task, next_task;
    char last_cause[64];
    bool done;
};

/* ------------------------------------------------------------ parsing */

static void vars_free(sim_var *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

/* "a=b,c='x y',d=1\,2" as FreeSWITCH reads a {…} or […] block. */
static void vars_parse(const char *p, size_t len, sim_var **out, size_t *n)
{
    char *tok = malloc(len + 1);
    size_t t = 0;
    if (!tok)
        return;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] == '\\' && i + 1 < len) {
            tok[t++] = p[++i];
            continue;
        }
        if (i < len && p[i] != ',') {
            if (p[i] != '\'')
                tok[t++] = p[i];
            continue;
        }
        tok[t] = '\0';
        char *eq = strchr(tok, '=');
        sim_var *v = eq ? realloc(*out, (*n + 1) * sizeof *v) : NULL;
        if (v) {
            *out = v;
            *eq = '\0';
            v[*n].name = sim__strdup(tok);
            v[*n].value = sim__strdup(eq + 1);
            if (v[*n].name && v[*n].value)
                (*n)++;
            else {
                free(v[*n].name);
                free(v[*n].value);
            }
        }
        t = 0;
    }
    free(tok);
}

static const char *vars_get(const sim_var *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(v[i].name, name))
            return v[i].value;
    return NULL;
}

/* Split s on sep outside […]; returns a NULL-terminated array. */
static char **split_outside(const char *s, char sep, size_t *count)
{
    size_t n = 1;
    int depth = 0;
    for (const char *p = s; *p; p++) {
        depth += *p == '[' ? 1 : *p == ']' ? -1 : 0;
        n += *p == sep && depth <= 0;
    }
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return NULL;
    const char *start = s;
    size_t k = 0;
    depth = 0;
    for (const char *p = s;; p++) {
        if (*p && *p != sep) {
            depth += *p == '[' ? 1 : *p == ']' ? -1 : 0;
            continue;
        }
        if (*p == sep && depth > 0)
            continue;
        size_t len = (size_t)(p - start);
        v[k] = malloc(len + 1);
        if (v[k]) {
            memcpy(v[k], start, len);
            v[k++][len] = '\0';
        }
        if (!*p)
            break;
        start = p + 1;
    }
    *count = k;
    return v;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* ------------------------------------------------------------ the dialplan */

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

/* ------------------------------------------------------------ legs */

static void dial_finish(sim_dial *d, sim_chan *leg, const char *cause);
static void start_group(sim_dial *d);

static const vox_sim_endpoint *find_endpoint(sim *s, const char *ep)
{
    for (size_t i = 0; i < s->o.nendpoints; i++) {
        const char *n = s->o.endpoints[i].name;
        if (n && *n && !strncmp(ep, n, strlen(n)))
            return &s->o.endpoints[i];
    }
    return NULL;
}

static void leg_fail(sim_dial *d, const char *uuid, const char *cause)
{
    snprintf(d->last_cause, sizeof d->last_cause, "%s", cause);
    sim_chan *caller = d->caller[0] ? sim__chan_find(d->s, d->caller) : NULL;
    if (caller) {
        const char *old = sim__var(caller, "originate_causes");
        char v[1024];
        snprintf(v, sizeof v, "%s%s%s;%s", old ? old : "", old ? "|" : "", uuid, cause);
        sim__var_set(caller, "originate_causes", v);
    }
}

static void talk_task(sim_calls *c, sim_chan *leg, void *arg)
{
    (void)c;
    (void)arg;
    sim__chan_hangup(leg, "NORMAL_CLEARING");
}

/* A configured endpoint: rings at once, then after ring_ms answers, fails
 * or (no_answer) rings on until the attempt's timeout. */
static void endpoint_task(sim_calls *c, sim_chan *leg, void *arg)
{
    const vox_sim_endpoint *ep = arg;
    if (!sim__chan_up(leg))
        return;
    if (!leg->t_progress) {
        sim__chan_ring(leg);
        sim__after(c, leg, ep->ring_ms, endpoint_task, arg);
        return;
    }
    if (ep->no_answer)
        return;
    if (ep->fail_cause) {
        const char *cause = sim__cause_name(ep->fail_cause);
        sim__chan_hangup(leg, cause ? cause : ep->fail_cause);
        return;
    }
    sim__chan_answer(leg);
    if (ep->talk_ms && sim__chan_up(leg))
        sim__after(c, leg, ep->talk_ms, talk_task, NULL);
}

/* CHANNEL_CREATE … of an outgoing leg, waiting in CS_CONSUME_MEDIA. */
static void outgoing_events(sim_chan *a)
{
    a->state = CS_INIT;
    a->state_num = CS_INIT;
    sim__fire_chan(a, "CHANNEL_STATE", false);
    a->state_num = CS_ROUTING;
    sim__fire_chan(a, "CHANNEL_CREATE", true);
    sim__fire_chan(a, "CHANNEL_ORIGINATE", true);
    sim__chan_state(a, CS_ROUTING);
    sim__chan_state(a, CS_CONSUME_MEDIA);
}

static void leg_vars(sim_dial *d, sim_chan *ch, const sim_var *lv, size_t nlv)
{
    for (size_t i = 0; i < d->nvars; i++)
        sim__var_set(ch, d->vars[i].name, d->vars[i].value);
    for (size_t i = 0; i < nlv; i++)
        sim__var_set(ch, lv[i].name, lv[i].value);
}

static sim_chan *new_leg(sim_dial *d, const char *name, bool outbound, const char *dest,
                         const sim_var *lv, size_t nlv)
{
    sim_chan *caller = d->caller[0] ? sim__chan_find(d->s, d->caller) : NULL;
    const char *cname = vars_get(lv, nlv, "origination_caller_id_name");
    const char *cnum = vars_get(lv, nlv, "origination_caller_id_number");
    cname = cname ? cname : vars_get(d->vars, d->nvars, "origination_caller_id_name");
    cnum = cnum ? cnum : vars_get(d->vars, d->nvars, "origination_caller_id_number");
    cname = cname ? cname : caller ? caller->cid_name : NULL;
    cnum = cnum ? cnum : caller ? caller->cid_num : NULL;
    sim_chan *ch = sim__chan_new(d->s, name, outbound, cname, cnum, dest);
    if (!ch)
        return NULL;
    const char *uuid = outbound ? vars_get(d->vars, d->nvars, "origination_uuid") : NULL;
    if (uuid && strlen(uuid) < sizeof ch->uuid && !sim__chan_find(d->s, uuid) && !d->nlegs) {
        snprintf(ch->uuid, sizeof ch->uuid, "%s", uuid);
        sim__var_set(ch, "uuid", uuid);
        sim__var_set(ch, "call_uuid", uuid);
    }
    leg_vars(d, ch, lv, nlv);
    return ch;
}

static void track_leg(sim_dial *d, sim_chan *leg)
{
    leg->leg_of = d;
    d->pending++;
    if (d->nlegs < MAX_LEGS)
        memcpy(d->legs[d->nlegs++], leg->uuid, 37);
    sim_chan *caller = d->caller[0] ? sim__chan_find(d->s, d->caller) : NULL;
    if (caller) {
        char v[512];
        snprintf(v, sizeof v, "%s;%s;%s", leg->uuid, leg->cid_name ? leg->cid_name : "",
                 leg->cid_num ? leg->cid_num : "");
        sim__var_set(caller, "originate_signal_bond", leg->uuid);
        sim__var_set(caller, "originated_legs", v);
    }
}

static void begin_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    if (sim__chan_up(ch))
        sim__chan_begin(ch);
}

/* loopback/EXT[/context]: an outgoing a-leg and an inbound b-leg that runs
 * EXT in the sim's dialplan (socket/HOST:PORT: a socket to that target). */
static void loopback_leg(sim_dial *d, const char *exten, const char *target,
                         const sim_var *lv, size_t nlv)
{
    char an[192], bn[192];
    snprintf(an, sizeof an, "loopback/%s-a", exten);
    snprintf(bn, sizeof bn, "loopback/%s-b", exten);
    sim_chan *a = new_leg(d, an, true, exten, lv, nlv);
    sim_chan *b = a ? new_leg(d, bn, false, exten, NULL, 0) : NULL;
    if (!b) {
        if (a)
            sim__chan_hangup(a, "DESTINATION_OUT_OF_ORDER");
        leg_fail(d, "", "DESTINATION_OUT_OF_ORDER");
        return;
    }
    for (sim_chan *x = a; x; x = x == a ? b : NULL) {
        free(x->source);
        x->source = sim__strdup("mod_loopback");
        free(x->dialplan);
        x->dialplan = sim__strdup("xml");
    }
    memcpy(a->twin, b->uuid, 37);
    memcpy(b->twin, a->uuid, 37);
    sim__var_set(a, "originate_endpoint", "loopback");
    sim__var_set(a, "other_loopback_leg_uuid", b->uuid);
    sim__var_set(a, "loopback_leg", "A");
    sim__var_set(b, "other_loopback_leg_uuid", a->uuid);
    sim__var_set(b, "loopback_leg", "B");
    track_leg(d, a);
    outgoing_events(a);
    if (target) {
        char sock[300];
        snprintf(sock, sizeof sock, "%s async full", target);
        const char *st[] = {"answer", NULL, "socket", sock};
        sim__chan_set_steps(b, st, 2);
    } else {
        sim__extension(b, exten, NULL);
    }
    /* later: nothing may answer or fail while the group is being set up */
    if (!sim__after(d->s->calls, b, 0, begin_task, NULL))
        sim__chan_hangup(b, "DESTINATION_OUT_OF_ORDER");
}

static void start_leg(sim_dial *d, const char *text)
{
    sim_var *lv = NULL;
    size_t nlv = 0;
    const char *ep = text;
    while (*ep == ' ')
        ep++;
    if (*ep == '[') {
        const char *e = strchr(ep, ']');
        if (e) {
            vars_parse(ep + 1, (size_t)(e - ep - 1), &lv, &nlv);
            ep = e + 1;
        }
    }
    const vox_sim_endpoint *conf;
    if (!strncmp(ep, "loopback/", 9) && ep[9]) {
        char exten[128];
        snprintf(exten, sizeof exten, "%s", ep + 9);
        exten[strcspn(exten, "/")] = '\0';
        loopback_leg(d, exten, NULL, lv, nlv);
    } else if (!strncmp(ep, "socket/", 7) && ep[7]) {
        loopback_leg(d, "socket", ep + 7, lv, nlv);
    } else if ((conf = find_endpoint(d->s, ep))) {
        sim_chan *leg = new_leg(d, ep, true, ep, lv, nlv);
        if (leg) {
            track_leg(d, leg);
            outgoing_events(leg);
            sim__after(d->s->calls, leg, 0, endpoint_task, (void *)conf);
        } else {
            leg_fail(d, "", "DESTINATION_OUT_OF_ORDER");
        }
    } else {
        char none[37] = "";
        sim__uuid(none);
        leg_fail(d, none, "NO_ROUTE_DESTINATION");
    }
    vars_free(lv, nlv);
}

static void next_group_task(sim_calls *c, sim_chan *unused, void *arg)
{
    (void)c;
    (void)unused;
    sim_dial *d = arg;
    d->next_task = 0;
    if (d->group + 1 < d->ngroups) {
        d->group++;
        start_group(d);
    } else {
        dial_finish(d, NULL, d->last_cause[0] ? d->last_cause : "NO_ROUTE_DESTINATION");
    }
}

static void start_group(sim_dial *d)
{
    size_t n = 0;
    char **eps = split_outside(d->groups[d->group], ',', &n);
    d->pending = 0;
    d->nlegs = 0;
    for (size_t i = 0; eps && i < n && !d->done; i++)
        start_leg(d, eps[i]);
    strv_free(eps, n);
    if (!d->pending && !d->done)
        d->next_task = sim__after(d->s->calls, NULL, 0, next_group_task, d);
}

static void timeout_task(sim_calls *c, sim_chan *unused, void *arg)
{
    (void)c;
    (void)unused;
    sim_dial *d = arg;
    d->timeout_task = 0;
    d->ngroups = d->group + 1; /* the timeout ends the whole attempt */
    for (size_t i = 0; i < d->nlegs; i++) {
        sim_chan *leg = sim__chan_find(d->s, d->legs[i]);
        if (leg && leg->leg_of == d)
            sim__chan_hangup(leg, "NO_ANSWER");
    }
}

void sim__dial_leg_gone(sim_chan *leg)
{
    sim_dial *d = leg->leg_of;
    leg->leg_of = NULL;
    if (!d || d->done)
        return;
    leg_fail(d, leg->uuid, leg->cause ? leg->cause : "NORMAL_CLEARING");
    if (d->pending && --d->pending == 0 && !d->next_task)
        d->next_task = sim__after(d->s->calls, NULL, 0, next_group_task, d);
}

void sim__dial_leg_answered(sim_chan *leg)
{
    sim_dial *d = leg->leg_of;
    leg->leg_of = NULL;
    if (!d || d->done)
        return;
    dial_finish(d, leg, NULL);
}

static void dial_free(sim_dial *d)
{
    sim_calls *c = d->s->calls;
    sim__cancel(c, d->timeout_task);
    sim__cancel(c, d->next_task);
    for (sim_dial **pp = &c->dials; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    vars_free(d->vars, d->nvars);
    strv_free(d->groups, d->ngroups);
    free(d);
}

/* Unhook the legs still ringing and hang them up with cause. */
static void drop_legs(sim_dial *d, const char *cause)
{
    for (size_t i = 0; i < d->nlegs; i++) {
        sim_chan *leg = sim__chan_find(d->s, d->legs[i]);
        if (leg && leg->leg_of == d) {
            leg->leg_of = NULL;
            sim__chan_hangup(leg, cause);
        }
    }
}

static void dial_finish(sim_dial *d, sim_chan *leg, const char *cause)
{
    d->done = true;
    drop_legs(d, leg ? "LOSE_RACE" : "ORIGINATOR_CANCEL");
    sim_dial_cb cb = d->cb;
    void *ud = d->ud;
    sim *s = d->s;
    char why[64];
    snprintf(why, sizeof why, "%s", cause ? cause : "");
    dial_free(d);
    cb(s, ud, leg, leg ? NULL : why);
}

void sim__dial_cancel(sim_dial *d, const char *cause)
{
    if (!d || d->done)
        return;
    d->done = true;
    drop_legs(d, cause);
    dial_free(d);
}

void sim__dial_fail_all(sim *s, const char *cause)
{
    while (s->calls->dials)
        dial_finish(s->calls->dials, NULL, cause);
}

void sim__dial_free_all(sim *s)
{
    while (s->calls->dials)
        dial_free(s->calls->dials);
}

static uint64_t dial_timeout(sim_dial *d, sim_chan *caller)
{
    const char *t = vars_get(d->vars, d->nvars, "originate_timeout");
    t = t ? t : vars_get(d->vars, d->nvars, "leg_timeout");
    t = t ? t : caller ? sim__var(caller, "call_timeout") : NULL;
    long v = t ? strtol(t, NULL, 10) : 0;
    return (uint64_t)(v > 0 ? v : 60) * 1000;
}

sim_dial *sim__dial(sim *s, const char *dialstring, sim_chan *caller, sim_dial_cb cb, void *ud)
{
    sim_dial *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->s = s;
    d->cb = cb;
    d->ud = ud;
    if (caller)
        memcpy(d->caller, caller->uuid, 37);
    const char *p = dialstring ? dialstring : "";
    while (*p == ' ')
        p++;
    if (*p == '{') {
        const char *e = strchr(p, '}');
        if (e) {
            vars_parse(p + 1, (size_t)(e - p - 1), &d->vars, &d->nvars);
            p = e + 1;
        }
    }
    d->groups = split_outside(p, '|', &d->ngroups);
    if (!d->groups || !d->ngroups) {
        strv_free(d->groups, d->ngroups);
        vars_free(d->vars, d->nvars);
        free(d);
        return NULL;
    }
    d->next = s->calls->dials;
    s->calls->dials = d;
    d->timeout_ms = dial_timeout(d, caller);
    d->timeout_task = sim__after(s->calls, NULL, d->timeout_ms, timeout_task, d);
    start_group(d);
    return d;
}

/* ------------------------------------------------------------ api helpers */

typedef struct api_ctx {
    sim *s;
    sim_calls *c;
    char *argv[16];
    int argc;
    sbuf out;
} api_ctx;

/* Words split on spaces; the max-th takes the rest of the line. */
static void split_args(api_ctx *a, char *p, int max)
{
    while (*p && a->argc < max) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        a->argv[a->argc++] = p;
        if (a->argc == max)
            break;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

static sim_chan *api_chan(api_ctx *a, int i)
{
    sim_chan *ch = i < a->argc ? sim__chan_find(a->s, a->argv[i]) : NULL;
    if (!ch)
        sim__sb_adds(&a->out, "-ERR No such channel!\n");
    return ch;
}

static void usage(api_ctx *a, const char *text)
{
    sim__sb_addf(&a->out, "-USAGE: %s\n", text);
}

static void json_str(sbuf *b, const char *s)
{
    sim__sb_adds(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sim__sb_addf(b, "\\%c", *p);
        else if (*p < 0x20)
            sim__sb_addf(b, "\\u%04x", *p);
        else
            sim__sb_add(b, (const char *)p, 1);
    }
    sim__sb_adds(b, "\"");
}

/* ------------------------------------------------------------ status */

static void plural(sbuf *b, unsigned long long n, const char *unit, const char *tail)
{
    sim__sb_addf(b, "%llu %s%s%s", n, unit, n == 1 ? "" : "s", tail);
}

static unsigned live_chans(sim_calls *c)
{
    unsigned n = 0;
    for (sim_chan *ch = c->chans; ch; ch = ch->next)
        n += !ch->dead;
    return n;
}

static void api_status(api_ctx *a)
{
    uint64_t us = sim__now_us(a->s) - a->c->start_us;
    uint64_t sec = us / 1000000;
    sbuf *b = &a->out;
    sim__sb_adds(b, "UP ");
    plural(b, sec / (365 * 86400ULL), "year", ", ");
    plural(b, sec / 86400 % 365, "day", ", ");
    plural(b, sec / 3600 % 24, "hour", ", ");
    plural(b, sec / 60 % 60, "minute", ", ");
    plural(b, sec % 60, "second", ", ");
    plural(b, us / 1000 % 1000, "millisecond", ", ");
    plural(b, us % 1000, "microsecond", "\n");
    sim__sb_adds(b, "FreeSWITCH (Version 1.11.3-dev  64bit) is ready\n");
    sim__sb_addf(b, "%u session(s) since startup\n", a->c->session_seq);
    sim__sb_addf(b, "%u session(s) - peak %u, last 5min %u \n", live_chans(a->c), a->c->peak,
                 a->c->peak);
    sim__sb_addf(b, "0 session(s) per Sec out of max 100, peak %u, last 5min %u \n",
                 a->c->peak, a->c->peak);
    sim__sb_adds(b, "1000 session(s) max\nmin idle cpu 0.00/100.00\n"
                    "Current Stack Size/Max 240K/8192K\n");
}

static void api_uptime(api_ctx *a)
{
    static const struct {
        const char *unit;
        uint64_t div;
    } U[] = {{"us", 1},          {"microseconds", 1}, {"ms", 1000},        {"milliseconds", 1000},
             {"s", 1000000},     {"seconds", 1000000}, {"m", 60000000},   {"minutes", 60000000},
             {"h", 3600000000ULL}, {"hours", 3600000000ULL}, {"d", 86400000000ULL},
             {"days", 86400000000ULL}};
    uint64_t div = 1000000;
    for (size_t i = 0; a->argc && i < sizeof U / sizeof U[0]; i++)
        if (!strcasecmp(a->argv[0], U[i].unit))
            div = U[i].div;
    sim__sb_addf(&a->out, "%llu\n",
                 (unsigned long long)((sim__now_us(a->s) - a->c->start_us) / div));
}

/* ------------------------------------------------------------ show */

static const char *const CHAN_COLS[] = {
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "application", "application_data", "dialplan", "context", "read_codec",
    "read_rate", "read_bit_rate", "write_codec", "write_rate", "write_bit_rate", "secure",
    "hostname", "presence_id", "presence_data", "accountcode", "callstate", "callee_name",
    "callee_num", "callee_direction", "call_uuid", "sent_callee_name", "sent_callee_num",
    "initial_cid_name", "initial_cid_num", "initial_ip_addr", "initial_dest",
    "initial_dialplan", "initial_context", NULL};
static const char *const CALL_COLS[] = {
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "presence_id", "presence_data", "accountcode", "callstate",
    "callee_name", "callee_num", "callee_direction", "call_uuid", "hostname",
    "sent_callee_name", "sent_callee_num", "b_uuid", "b_direction", "b_created",
    "b_created_epoch", "b_name", "b_state", "b_cid_name", "b_cid_num", "b_ip_addr", "b_dest",
    "b_presence_id", "b_presence_data", "b_accountcode", "b_callstate", "b_callee_name",
    "b_callee_num", "b_callee_direction", "b_sent_callee_name", "b_sent_callee_num",
    "call_created_epoch", NULL};

static const char *S(const char *v)
{
    return v ? v : "";
}

/* One column of a channel's row in FreeSWITCH's channels table. */
static void col_value(sim *s, sim_chan *ch, const char *col, char *out, size_t n)
{
    static const char *const CS[] = {"CS_NEW", "CS_INIT", "CS_ROUTING", "CS_SOFT_EXECUTE",
                                     "CS_EXECUTE", "CS_EXCHANGE_MEDIA", "CS_PARK",
                                     "CS_CONSUME_MEDIA", "CS_HIBERNATE", "CS_RESET",
                                     "CS_HANGUP", "CS_REPORTING", "CS_DESTROY"};
    static const char *const CCS[] = {"DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE",
                                      "HELD", "RING_WAIT", "HANGUP", "UNHELD"};
    if (!strncmp(col, "initial_", 8))
        col += 8;
    const char *v = "";
    if (!ch)
        v = "";
    else if (!strcmp(col, "created")) {
        sim__date(ch->t_created, out, n);
        return;
    } else if (!strcmp(col, "created_epoch") || !strcmp(col, "call_created_epoch")) {
        snprintf(out, n, "%llu", (unsigned long long)(ch->t_created / 1000000));
        return;
    } else if (!strcmp(col, "uuid") || !strcmp(col, "call_uuid"))
        v = ch->uuid;
    else if (!strcmp(col, "direction"))
        v = ch->outbound ? "outbound" : "inbound";
    else if (!strcmp(col, "name"))
        v = ch->name;
    else if (!strcmp(col, "state"))
        v = CS[ch->state];
    else if (!strcmp(col, "callstate"))
        v = CCS[ch->callstate];
    else if (!strcmp(col, "cid_name"))
        v = S(ch->cid_name);
    else if (!strcmp(col, "cid_num"))
        v = S(ch->cid_num);
    else if (!strcmp(col, "dest"))
        v = S(ch->dest);
    else if (!strcmp(col, "application"))
        v = S(sim__var(ch, "current_application"));
    else if (!strcmp(col, "application_data"))
        v = S(sim__var(ch, "current_application_data"));
    else if (!strcmp(col, "dialplan"))
        v = S(ch->dialplan);
    else if (!strcmp(col, "context"))
        v = S(ch->context);
    else if (!strcmp(col, "read_codec") || !strcmp(col, "write_codec"))
        v = "L16";
    else if (!strcmp(col, "read_rate") || !strcmp(col, "write_rate"))
        v = "8000";
    else if (!strcmp(col, "read_bit_rate") || !strcmp(col, "write_bit_rate"))
        v = "128000";
    else if (!strcmp(col, "hostname"))
        v = s->o.hostname ? s->o.hostname : "vox-sim";
    else if (!strcmp(col, "presence_id"))
        v = S(ch->presence_id);
    else if (!strcmp(col, "callee_name"))
        v = S(ch->callee_name);
    else if (!strcmp(col, "callee_num"))
        v = S(ch->callee_num);
    snprintf(out, n, "%s", v);
}

static void add_row(api_ctx *a, sbuf *rows, sim_chan *ch, const char *const *cols, bool json)
{
    sim_chan *b = ch->bridged && ch->peer[0] ? sim__chan_find(a->s, ch->peer) : NULL;
    char v[256];
    sim__sb_adds(rows, json ? (rows->len ? ",{" : "{") : "");
    for (size_t i = 0; cols[i]; i++) {
        bool other = !strncmp(cols[i], "b_", 2);
        col_value(a->s, other ? b : ch, cols[i] + (other ? 2 : 0), v, sizeof v);
        if (json) {
            sim__sb_adds(rows, i ? "," : "");
            json_str(rows, cols[i]);
            sim__sb_adds(rows, ":");
            json_str(rows, v);
        } else {
            sim__sb_addf(rows, "%s%s", i ? "," : "", v);
        }
    }
    sim__sb_adds(rows, json ? "}" : "\n");
}

static void show_rows(api_ctx *a, bool calls, bool json, bool count)
{
    const char *const *cols = calls ? CALL_COLS : CHAN_COLS;
    unsigned n = 0;
    sbuf rows = {0};
    for (sim_chan *ch = a->c->chans; ch; ch = ch->next) {
        /* a call is listed once, from its a-leg */
        if (ch->dead || (calls && ch->bridge_b && ch->bridged))
            continue;
        add_row(a, &rows, ch, cols, json);
        n++;
    }
    if (count) {
        sim__sb_addf(&a->out, "\n%u total.\n", n);
    } else if (json) {
        sim__sb_addf(&a->out, "{\"row_count\":%u", n);
        if (n)
            sim__sb_addf(&a->out, ",\"rows\":[%s]", sim__sb_str(&rows));
        sim__sb_adds(&a->out, "}");
    } else {
        for (size_t i = 0; n && cols[i]; i++)
            sim__sb_addf(&a->out, "%s%s", i ? "," : "", cols[i]);
        sim__sb_addf(&a->out, "%s%s\n%u total.\n", n ? "\n" : "", sim__sb_str(&rows), n);
    }
    sim__sb_free(&rows);
}

static void api_show(api_ctx *a)
{
    if (!a->argc) {
        usage(a, "codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels "
                 "[count|like <match string>]|calls|detailed_calls|bridged_calls|"
                 "detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|"
                 "say|interfaces|interface_types|tasks|limits|status");
        return;
    }
    bool calls = !strcasecmp(a->argv[0], "calls");
    if (!calls && strcasecmp(a->argv[0], "channels")) {
        sim__sb_adds(&a->out, "-ERR Cannot find command\n");
        return;
    }
    bool json = a->argc >= 3 && !strcasecmp(a->argv[1], "as") && !strcasecmp(a->argv[2], "json");
    bool count = a->argc >= 2 && !strcasecmp(a->argv[1], "count");
    show_rows(a, calls, json, count);
}

/* ------------------------------------------------------------ uuid_* */

static void api_dump(api_ctx *a)
{
    if (!a->argc) {
        usage(a, "<uuid> [format]");
        return;
    }
    sim_chan *ch = api_chan(a, 0);
    if (!ch)
        return;
    sim_event *e = sim__event_new(a->s, "CHANNEL_DATA", NULL);
    if (!e)
        return;
    sim__chan_add_headers(ch, e, true);
    bool json = a->argc > 1 && !strcasecmp(a->argv[1], "json");
    if (json)
        sim__sb_adds(&a->out, "{");
    for (size_t i = 0; i < e->n; i++) {
        if (json) {
            sim__sb_adds(&a->out, i ? "," : "");
            json_str(&a->out, e->h[i].name);
            sim__sb_adds(&a->out, ":");
            json_str(&a->out, e->h[i].value);
        } else {
            sim__sb_addf(&a->out, "%s: ", e->h[i].name);
            sim__sb_urlenc(&a->out, e->h[i].value);
            sim__sb_adds(&a->out, "\n");
        }
    }
    sim__sb_adds(&a->out, json ? "}" : "\n");
    sim__event_free(e);
}

static void api_getvar(api_ctx *a)
{
    if (a->argc < 2) {
        usage(a, "<uuid> <var>");
        return;
    }
    sim_chan *ch = api_chan(a, 0);
    if (ch)
        sim__sb_adds(&a->out, sim__var(ch, a->argv[1]) ? sim__var(ch, a->argv[1]) : "_undef_");
}

static void api_setvar(api_ctx *a, const char *value)
{
    if (a->argc < 2) {
        usage(a, "<uuid> <var> [value]");
        return;
    }
    sim_chan *ch = api_chan(a, 0);
    if (!ch)
        return;
    sim__var_set(ch, a->argv[1], value && *value ? value : NULL);
    sim__sb_adds(&a->out, "+OK\n");
}

static void kill_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    sim__chan_hangup(ch, arg);
}

static void api_kill(api_ctx *a)
{
    if (!a->argc) {
        usage(a, "<uuid> [cause]");
        return;
    }
    sim_chan *ch = api_chan(a, 0);
    if (!ch)
        return;
    const char *cause = a->argc > 1 ? sim__cause_name(a->argv[1]) : NULL;
    /* the reply goes out before the hangup's events */
    if (!sim__after(a->c, ch, 0, kill_task, (void *)(cause ? cause : "NORMAL_CLEARING")))
        sim__chan_hangup(ch, cause ? cause : "NORMAL_CLEARING");
    sim__sb_adds(&a->out, "+OK\n");
}

static void park_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    if (!sim__chan_up(ch))
        return;
    sim__apps_unwind(ch);
    const char *st[] = {"park", NULL};
    sim__chan_set_steps(ch, st, 1);
    sim__apps_pump(ch);
}

static void api_park(api_ctx *a)
{
    if (!a->argc) {
        usage(a, "<uuid>");
        return;
    }
    sim_chan *ch = api_chan(a, 0);
    if (ch && sim__after(a->c, ch, 0, park_task, NULL))
        sim__sb_adds(&a->out, "+OK\n");
}

static void api_transfer(api_ctx *a)
{
    int i = a->argc > 1 && a->argv[1][0] == '-' ? 2 : 1;
    if (a->argc <= i) {
        usage(a, "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]");
        return;
    }
    sim_chan *ch = api_chan(a, 0);
    if (!ch)
        return;
    sim_chan *other = ch->peer[0] ? sim__chan_find(a->s, ch->peer) : NULL;
    bool bleg = i == 2 && !strcasecmp(a->argv[1], "-bleg");
    bool both = i == 2 && !strcasecmp(a->argv[1], "-both");
    if (!bleg || !other)
        sim__chan_transfer(ch, a->argv[i]);
    if ((bleg || both) && other)
        sim__chan_transfer(other, a->argv[i]);
    sim__sb_adds(&a->out, "+OK\n");
}

static void uuid_bridge_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    sim_chan *b = sim__chan_find(ch->s, arg);
    if (!sim__chan_up(ch) || !sim__chan_up(b))
        return;
    sim__apps_unwind(ch);
    sim__apps_unwind(b);
    ch->in_dialplan = b->in_dialplan = false;
    sim__chan_answer(ch);
    sim__chan_answer(b);
    sim__bridge(ch, b);
    ch->peer_kind = b->peer_kind = PEER_UUID;
}

static void api_bridge(api_ctx *a)
{
    if (a->argc < 2) {
        usage(a, "<uuid> <other_uuid>");
        return;
    }
    sim_chan *x = sim__chan_find(a->s, a->argv[0]);
    sim_chan *y = sim__chan_find(a->s, a->argv[1]);
    char *other = x && y && x != y ? sim__strdup(y->uuid) : NULL;
    if (!other || !sim__after_owned(a->c, x, 0, uuid_bridge_task, other)) {
        sim__sb_adds(&a->out, "-ERR Invalid uuid\n");
        return;
    }
    sim__sb_addf(&a->out, "+OK %s\n", a->argv[0]);
}

static void dtmf_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    sim__chan_dtmf(ch, (char)(intptr_t)arg);
}

/* Digits one every 100 ms; 'w' waits 500 ms, 'W' 1 s, "@ms" sets nothing. */
static void queue_dtmf(sim_calls *c, sim_chan *ch, const char *digits)
{
    uint64_t at = 0;
    for (const char *p = digits; *p && *p != '@'; p++) {
        if (*p == 'w' || *p == 'W') {
            at += *p == 'w' ? 500 : 1000;
            continue;
        }
        if (strchr("0123456789*#ABCDabcd", *p)) {
            sim__after(c, ch, at, dtmf_task, (void *)(intptr_t)*p);
            at += 100;
        }
    }
}

static void api_dtmf(api_ctx *a, bool recv)
{
    if (a->argc < 2) {
        usage(a, recv ? "<uuid> <dtmf_data>" : "<uuid> <dtmf_data>");
        return;
    }
    sim_chan *ch = sim__chan_find(a->s, a->argv[0]);
    if (!ch) {
        sim__sb_adds(&a->out, recv ? "-ERR no such session\n" : "-ERR Cannot locate session!\n");
        return;
    }
    sim_chan *to = ch;
    if (!recv) { /* sent out: the far end hears it */
        sim_chan *p = ch->peer[0] && ch->bridged ? sim__chan_find(a->s, ch->peer) : NULL;
        p = p ? p : ch->twin[0] ? sim__chan_find(a->s, ch->twin) : NULL;
        to = p ? p : ch;
    }
    queue_dtmf(a->c, to, a->argv[1]);
    if (recv)
        sim__sb_addf(&a->out, "+OK %s received DTMF %s.\n", ch->uuid, a->argv[1]);
    else
        sim__sb_adds(&a->out, "+OK Success\n");
}

static void answer_task(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    sim__chan_answer(ch);
}

static void api_answer(api_ctx *a)
{
    if (!a->argc) {
        usage(a, "<uuid>");
        return;
    }
    sim_chan *ch = api_chan(a, 0);
    if (ch && sim__after(a->c, ch, 0, answer_task, NULL))
        sim__sb_adds(&a->out, "+OK\n");
}

/* uuid_broadcast <uuid> <path|app::args> [aleg|bleg|both]: queued as a sendmsg. */
static void api_broadcast(api_ctx *a)
{
    if (a->argc < 2) {
        usage(a, "<uuid> <path> [aleg|bleg|both]");
        return;
    }
    sim_chan *ch = api_chan(a, 0);
    if (!ch)
        return;
    char app[128] = "playback";
    const char *arg = a->argv[1];
    const char *sep = strstr(arg, "::");
    if (sep) {
        snprintf(app, sizeof app, "%.*s", (int)(sep - arg), arg);
        arg = sep + 2;
    }
    vox_header h[] = {{"call-command", "execute"}, {"execute-app-name", app},
                      {"execute-app-arg", arg}, {"async", "true"}};
    char reply[64];
    sim__chan_sendmsg(ch, h, 4, NULL, reply, sizeof reply);
    sim__sb_adds(&a->out, "+OK Message queued\n");
}

static void api_exists(api_ctx *a)
{
    sim__sb_adds(&a->out, a->argc && sim__chan_find(a->s, a->argv[0]) ? "true" : "false");
}

/* ------------------------------------------------------------ global */

static void hupall_task(sim_calls *c, sim_chan *unused, void *arg)
{
    (void)unused;
    char *spec = arg; /* "cause\0var\0value" */
    const char *var = spec + strlen(spec) + 1;
    const char *val = var + strlen(var) + 1;
    for (sim_chan *ch = c->chans; ch; ch = ch->next) {
        const char *v = *var ? sim__var(ch, var) : NULL;
        if (!*var || (v && !strcmp(v, val)))
            sim__chan_hangup(ch, spec);
    }
}

static void api_hupall(api_ctx *a)
{
    const char *cause = a->argc ? sim__cause_name(a->argv[0]) : NULL;
    cause = cause ? cause : "MANAGER_REQUEST";
    if (!a->argc)
        cause = "NORMAL_CLEARING";
    const char *var = a->argc > 2 ? a->argv[1] : "";
    const char *val = a->argc > 2 ? a->argv[2] : "";
    size_t n = strlen(cause) + strlen(var) + strlen(val) + 3;
    char *spec = malloc(n);
    if (!spec)
        return;
    memcpy(spec, cause, strlen(cause) + 1);
    memcpy(spec + strlen(cause) + 1, var, strlen(var) + 1);
    memcpy(spec + strlen(cause) + strlen(var) + 2, val, strlen(val) + 1);
    /* the answer goes out before the hangups it causes */
    sim__after_owned(a->c, NULL, 0, hupall_task, spec);
    if (*var)
        sim__sb_addf(&a->out, "+OK hangup all channels matching [%s]=[%s] with cause %s\n", var,
                     val, cause);
    else
        sim__sb_addf(&a->out, "+OK hangup all channels with cause %s\n", cause);
}

static sim_var *hash_find(sim_calls *c, const char *key)
{
    for (size_t i = 0; i < c->nhash; i++)
        if (!strcmp(c->hash[i].name, key))
            return &c->hash[i];
    return NULL;
}

static void hash_insert(api_ctx *a, sim_var *h, const char *k, const char *val, bool ifempty)
{
    sim_calls *c = a->c;
    if (h && ifempty) {
        sim__sb_adds(&a->out, "-ERR key already exists\n");
        return;
    }
    if (!h && c->nhash == c->caphash) {
        size_t cap = c->caphash ? c->caphash * 2 : 16;
        sim_var *v = realloc(c->hash, cap * sizeof *v);
        if (!v)
            return;
        c->hash = v;
        c->caphash = cap;
    }
    if (!h) {
        h = &c->hash[c->nhash];
        h->name = sim__strdup(k);
        h->value = NULL;
        if (!h->name)
            return;
        c->nhash++;
    }
    free(h->value);
    h->value = sim__strdup(val);
    sim__sb_adds(&a->out, "+OK\n");
}

/* hash insert/realm/key/value, select/realm/key, delete/realm/key */
static void api_hash(api_ctx *a, char *line)
{
    char *op = line, *realm = strchr(line, '/');
    char *key = realm ? strchr(realm + 1, '/') : NULL;
    if (!key) {
        usage(a, "[insert|insert_ifempty|select|delete|delete_ifmatch]/<realm>/<key>/<val>");
        return;
    }
    *realm++ = '\0';
    *key++ = '\0';
    char *val = strchr(key, '/');
    if (val)
        *val++ = '\0';
    char k[512];
    snprintf(k, sizeof k, "%s/%s", realm, key);
    sim_calls *c = a->c;
    sim_var *h = hash_find(c, k);
    if (!strcasecmp(op, "select")) {
        sim__sb_adds(&a->out, h ? h->value : "");
    } else if (!strcasecmp(op, "delete")) {
        if (h) {
            free(h->name);
            free(h->value);
            *h = c->hash[--c->nhash];
        }
        sim__sb_adds(&a->out, h ? "+OK\n" : "-ERR Not found\n");
    } else if (!strncasecmp(op, "insert", 6) && val) {
        hash_insert(a, h, k, val, !strcasecmp(op, "insert_ifempty"));
    } else {
        usage(a, "[insert|insert_ifempty|select|delete|delete_ifmatch]/<realm>/<key>/<val>");
    }
}

static void api_global_getvar(api_ctx *a)
{
    const char *host = a->s->o.hostname ? a->s->o.hostname : "vox-sim";
    const char *g[][2] = {{"hostname", host},         {"switchname", host},
                          {"local_ip_v4", "127.0.0.1"}, {"domain", "127.0.0.1"},
                          {"domain_name", "127.0.0.1"}, {"core_uuid", a->s->core_uuid}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        if (!a->argc)
            sim__sb_addf(&a->out, "%s=%s\n", g[i][0], g[i][1]);
        else if (!strcmp(a->argv[0], g[i][0]))
            sim__sb_adds(&a->out, g[i][1]);
    }
}

/* ------------------------------------------------------------ originate */

typedef struct orig {
    sim_api_done done;
    void *ud;
    char *app, *arg, *exten;
} orig;

static void orig_free(orig *o)
{
    free(o->app);
    free(o->arg);
    free(o->exten);
    free(o);
}

static void orig_cb(sim *s, void *ud, sim_chan *leg, const char *cause)
{
    orig *o = ud;
    char body[128];
    if (leg) {
        if (o->app) {
            const char *st[] = {o->app, o->arg};
            sim__chan_set_steps(leg, st, 1);
        } else {
            sim__extension(leg, o->exten, NULL);
        }
        if (leg->state != CS_EXECUTE)
            sim__chan_state(leg, CS_EXECUTE);
        sim__apps_pump(leg);
        snprintf(body, sizeof body, "+OK %s\n", leg->uuid);
    } else {
        snprintf(body, sizeof body, "-ERR %s\n", cause ? cause : "NORMAL_CLEARING");
    }
    o->done(s, o->ud, body);
    orig_free(o);
}

/* Words of an originate line: {…}, […] and '…' keep their spaces. */
static int orig_words(char *p, char **w, int max)
{
    int n = 0;
    while (*p && n < max) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        w[n++] = p;
        int depth = 0;
        bool quote = false;
        for (; *p && (quote || depth || *p != ' '); p++) {
            if (*p == '\'')
                quote = !quote;
            else if (!quote && (*p == '{' || *p == '['))
                depth++;
            else if (!quote && (*p == '}' || *p == ']') && depth)
                depth--;
        }
        if (*p)
            *p++ = '\0';
    }
    return n;
}

/* The dial string with the positional caller id and timeout as {vars}. */
static char *orig_dialstring(char **w, int n)
{
    sbuf b = {0};
    const char *names[] = {"origination_caller_id_name", "origination_caller_id_number",
                           "originate_timeout"};
    sim__sb_adds(&b, "{");
    for (int i = 4; i < n && i < 7; i++)
        if (strcasecmp(w[i], "undef"))
            sim__sb_addf(&b, "%s=%s,", names[i - 4], w[i]);
    const char *d = w[0];
    if (*d == '{')
        d++;
    else if (b.len > 1)
        b.p[--b.len] = '}';
    else
        b.len = 0;
    sim__sb_adds(&b, d);
    if (b.oom) {
        sim__sb_free(&b);
        return NULL;
    }
    return b.p ? b.p : sim__strdup("");
}

/* 0: done will be called (now on error, or when the call answers or fails). */
static int api_originate(api_ctx *a, char *line, sim_api_done done, void *ud)
{
    char *w[8];
    int n = orig_words(line, w, 8);
    if (n < 2) {
        usage(a, "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
                 "[<cid_name>] [<cid_num>] [<timeout_sec>]");
        return 1;
    }
    orig *o = calloc(1, sizeof *o);
    if (!o)
        return VOX_ENOMEM;
    o->done = done;
    o->ud = ud;
    if (w[1][0] == '&') {
        char *open = strchr(w[1], '('), *close = strrchr(w[1], ')');
        if (open)
            *open = '\0';
        if (open && close > open)
            *close = '\0';
        o->app = sim__strdup(w[1] + 1);
        o->arg = sim__strdup(open && close > open ? open + 1 : "");
    } else {
        o->exten = sim__strdup(w[1]);
    }
    char *ds = orig_dialstring(w, n);
    if (!ds || (!o->app && !o->exten) || (o->app && !o->arg)) {
        free(ds);
        orig_free(o);
        return VOX_ENOMEM;
    }
    sim_dial *d = sim__dial(a->s, ds, NULL, orig_cb, o);
    free(ds);
    if (!d) {
        orig_free(o);
        sim__sb_adds(&a->out, "-ERR DESTINATION_OUT_OF_ORDER\n");
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ dispatch */

static int run(api_ctx *a, const char *name, char *args, sim_api_done done, void *ud)
{
    if (!strcmp(name, "originate"))
        return api_originate(a, args, done, ud);
    if (!strcmp(name, "hash")) {
        api_hash(a, args);
        return 1;
    }
    bool setvar = !strcmp(name, "uuid_setvar");
    split_args(a, args, setvar ? 3 : 16);
    static const struct {
        const char *name;
        void (*fn)(api_ctx *a);
    } T[] = {
        {"status", api_status},       {"uptime", api_uptime},         {"show", api_show},
        {"uuid_dump", api_dump},      {"uuid_getvar", api_getvar},    {"uuid_kill", api_kill},
        {"uuid_park", api_park},      {"uuid_transfer", api_transfer}, {"uuid_bridge", api_bridge},
        {"uuid_answer", api_answer},  {"uuid_broadcast", api_broadcast},
        {"uuid_exists", api_exists},  {"hupall", api_hupall},
        {"global_getvar", api_global_getvar},
    };
    if (setvar) {
        api_setvar(a, a->argc > 2 ? a->argv[2] : NULL);
    } else if (!strcmp(name, "uuid_send_dtmf") || !strcmp(name, "uuid_recv_dtmf")) {
        api_dtmf(a, name[5] == 'r');
    } else if (!strcmp(name, "version")) {
        sim__sb_adds(&a->out, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    } else if (!strcmp(name, "reloadxml")) {
        sim__sb_adds(&a->out, "+OK [Success]\n");
    } else {
        size_t i = 0;
        while (i < sizeof T / sizeof T[0] && strcmp(name, T[i].name))
            i++;
        if (i == sizeof T / sizeof T[0])
            return -1;
        T[i].fn(a);
    }
    return 1;
}

int sim__api(sim *s, const char *cmd, sim_api_done done, void *ud)
{
    char *line = sim__strdup(cmd ? cmd : "");
    if (!line)
        return VOX_ENOMEM;
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t len = strlen(p);
    while (len && strchr(" \t\r\n", p[len - 1]))
        p[--len] = '\0';
    char *args = p + strcspn(p, " ");
    if (*args)
        *args++ = '\0';
    api_ctx a = {.s = s, .c = s->calls};
    int rc = run(&a, p, args, done, ud);
    if (rc == -1)
        sim__sb_addf(&a.out, "-ERR %s Command not found!\n", p);
    if (a.out.oom)
        rc = VOX_ENOMEM;
    else if (rc != 0)
        done(s, ud, a.out.len ? a.out.p : "-ERR no reply\n");
    sim__sb_free(&a.out);
    free(line);
    return rc < 0 && rc != -1 ? rc : 0;
}
