/* vox-sim outgoing calls: the dial strings of bridge and originate ({vars},
 * [vars], ',' legs at once, '|' failover groups, loopback pairs,
 * socket/HOST:PORT, the configured endpoints), their legs' lives until one
 * answers, and the originate api command. */
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
    size_t nvars, capvars;
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

/* "a=b,c='x y',d=1\,2" as FreeSWITCH reads a {…} or […] block, appended to
 * *out (*n used, *cap allocated). */
static void vars_parse(const char *p, size_t len, sim_var **out, size_t *n, size_t *cap)
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
        if (eq) {
            *eq = '\0';
            sim__pair_add(out, n, cap, tok, eq + 1);
        }
        t = 0;
    }
    free(tok);
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
    const char *cname = sim__pair_get(lv, nlv, "origination_caller_id_name");
    const char *cnum = sim__pair_get(lv, nlv, "origination_caller_id_number");
    cname = cname ? cname : sim__pair_get(d->vars, d->nvars, "origination_caller_id_name");
    cnum = cnum ? cnum : sim__pair_get(d->vars, d->nvars, "origination_caller_id_number");
    cname = cname ? cname : caller ? caller->cid_name : NULL;
    cnum = cnum ? cnum : caller ? caller->cid_num : NULL;
    sim_chan *ch = sim__chan_new(d->s, name, outbound, cname, cnum, dest);
    if (!ch)
        return NULL;
    const char *uuid = outbound ? sim__pair_get(d->vars, d->nvars, "origination_uuid") : NULL;
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
static void loopback_leg(sim_dial *d, const char *exten, const char *target, const sim_var *lv,
                         size_t nlv)
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
    sim__extension(b, exten, target);
    /* later: nothing may answer or fail while the group is being set up */
    if (!sim__after(d->s->calls, b, 0, begin_task, NULL))
        sim__chan_hangup(b, "DESTINATION_OUT_OF_ORDER");
}

static void start_leg(sim_dial *d, const char *text)
{
    sim_var *lv = NULL;
    size_t nlv = 0, caplv = 0;
    const char *ep = text;
    while (*ep == ' ')
        ep++;
    if (*ep == '[') {
        const char *e = strchr(ep, ']');
        if (e) {
            vars_parse(ep + 1, (size_t)(e - ep - 1), &lv, &nlv, &caplv);
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
    sim__pairs_free(lv, nlv);
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
    leg_fail(d, leg->uuid, leg->cause[0] ? leg->cause : "NORMAL_CLEARING");
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
    sim__pairs_free(d->vars, d->nvars);
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
    const char *t = sim__pair_get(d->vars, d->nvars, "originate_timeout");
    t = t ? t : sim__pair_get(d->vars, d->nvars, "leg_timeout");
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
            vars_parse(p + 1, (size_t)(e - p - 1), &d->vars, &d->nvars, &d->capvars);
            p = e + 1;
        }
    }
    d->groups = split_outside(p, '|', &d->ngroups);
    if (!d->groups || !d->ngroups) {
        strv_free(d->groups, d->ngroups);
        sim__pairs_free(d->vars, d->nvars);
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

/* What runs on the answered leg: &app(arg), or an extension. */
static int orig_target(orig *o, char *what)
{
    if (what[0] == '&') {
        char *open = strchr(what, '('), *close = strrchr(what, ')');
        bool args = open && close && close > open;
        if (open)
            *open = '\0';
        if (args)
            *close = '\0';
        o->app = sim__strdup(what + 1);
        o->arg = sim__strdup(args ? open + 1 : "");
    } else {
        o->exten = sim__strdup(what);
    }
    return (!o->app && !o->exten) || (o->app && !o->arg) ? VOX_ENOMEM : 0;
}

int sim__originate(sim *s, char *args, sbuf *out, sim_api_done done, void *ud)
{
    char *w[8];
    int n = orig_words(args, w, 8);
    if (n < 2) {
        sim__sb_adds(out, "-USAGE: <call url> <exten>|&<application_name>(<app_args>) "
                          "[<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n");
        return 1;
    }
    orig *o = calloc(1, sizeof *o);
    if (!o)
        return VOX_ENOMEM;
    o->done = done;
    o->ud = ud;
    char *ds = orig_target(o, w[1]) ? NULL : orig_dialstring(w, n);
    if (!ds) {
        orig_free(o);
        return VOX_ENOMEM;
    }
    sim_dial *d = sim__dial(s, ds, NULL, orig_cb, o);
    free(ds);
    if (!d) {
        orig_free(o);
        sim__sb_adds(out, "-ERR DESTINATION_OUT_OF_ORDER\n");
        return 1;
    }
    return 0;
}
