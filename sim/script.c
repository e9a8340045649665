/* vox-sim scripted calls: each one placed (as originate would), its scripted
 * DTMF presses and caller hangup, the account of its steps, and its result
 * checked against its expectations. The results are shared with other
 * threads (vox_sim_place, vox_sim_wait, vox_sim_result_get) under the calls
 * part's mutex. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/internal.h"
#include "calls.h"

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
void sim__script_answered(sim_chan *ch)
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
        ch->hangup_timer = sim__after(c, ch, (uint64_t)r->call.hangup_ms, caller_hangup_task, NULL);
}

static const char *check_expect(sim_callrec *r, sim_chan *ch, char *why, size_t n)
{
    if (r->call.expect_cause && strcmp(r->call.expect_cause, ch->cause)) {
        snprintf(why, n, "cause %s, expected %s", ch->cause[0] ? ch->cause : "(none)",
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

/* The call is over: its cause, why it is not as scripted ("" when it is),
 * and the waiters woken. */
static void rec_end(sim_calls *c, sim_callrec *r, const char *cause, const char *why)
{
    pthread_mutex_lock(&c->mu);
    free(r->cause);
    r->cause = sim__strdup(cause);
    free(r->why);
    r->why = sim__strdup(why);
    r->ended = true;
    r->as_scripted = !*why;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void sim__script_end(sim_chan *ch)
{
    sim_callrec *r = ch->rec;
    if (!r)
        return;
    char why[512];
    const char *bad = check_expect(r, ch, why, sizeof why);
    rec_end(ch->s->calls, r, ch->cause, bad ? bad : "");
    ch->rec = NULL;
}

/* The caller's channel, as mod_sofia makes it. */
static sim_chan *caller_chan(sim_calls *c, const vox_sim_call *k)
{
    char name[256], pres[256];
    const char *host = c->s->o.hostname;
    snprintf(name, sizeof name, "sofia/internal/%s@%s", k->caller_number, host);
    sim_chan *ch =
        sim__chan_new(c->s, name, false, k->caller_name, k->caller_number, k->destination);
    if (!ch)
        return NULL;
    free(ch->source);
    ch->source = sim__strdup("mod_sofia");
    snprintf(pres, sizeof pres, "%s@%s", k->caller_number, host);
    ch->presence_id = sim__strdup(pres);
    sim__var_set(ch, "sip_from_user", k->caller_number);
    sim__var_set(ch, "sip_to_user", k->destination);
    return ch;
}

static void start_call(sim_calls *c, sim_chan *unused, void *arg)
{
    (void)unused;
    sim_callrec *r = arg;
    const vox_sim_call *k = &r->call;
    sim_chan *ch = caller_chan(c, k);
    if (!ch) {
        rec_end(c, r, "", "out of memory");
        return;
    }
    ch->rec = r;
    pthread_mutex_lock(&c->mu);
    memcpy(r->uuid, ch->uuid, sizeof r->uuid);
    pthread_mutex_unlock(&c->mu);
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

static void place_on_loop(sim *s, void *ud)
{
    sim_calls *c = s->calls;
    sim_callrec *r = ud;
    if (c->closing) { /* placed while the simulator was stopping */
        rec_end(c, r, "", "not placed: the simulator stopped");
        return;
    }
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

struct sim_snap {
    struct sim_snap *next;
    char *s[5];
};

static void rec_free(sim_callrec *r)
{
    if (!r)
        return;
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

void sim__script_free(sim_calls *c)
{
    for (size_t i = 0; i < c->nrecs; i++)
        rec_free(c->recs[i]);
    free(c->recs);
    c->recs = NULL;
    c->nrecs = c->caprecs = 0;
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

static int copy_dtmf(sim_callrec *r, const vox_sim_call *k)
{
    if (!k->ndtmf)
        return 0;
    r->dtmf = calloc(k->ndtmf, sizeof *r->dtmf);
    r->dtmf_digits = calloc(k->ndtmf, sizeof *r->dtmf_digits);
    if (!r->dtmf || !r->dtmf_digits)
        return VOX_ENOMEM;
    r->call.dtmf = r->dtmf;
    for (size_t i = 0; i < k->ndtmf; i++, r->call.ndtmf++) {
        const char *d = k->dtmf[i].digits;
        r->dtmf[i].at_ms = k->dtmf[i].at_ms;
        r->dtmf[i].digits = r->dtmf_digits[i] = sim__strdup(d ? d : "");
        if (!r->dtmf_digits[i])
            return VOX_ENOMEM;
    }
    return 0;
}

static int copy_expect(sim_callrec *r, const vox_sim_call *k)
{
    size_t n = 0;
    while (k->expect_vars && k->expect_vars[n])
        n++;
    if (!n)
        return 0;
    r->expect = calloc(n + 1, sizeof *r->expect);
    if (!r->expect)
        return VOX_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(r->expect[i] = sim__strdup(k->expect_vars[i])))
            return VOX_ENOMEM;
    r->call.expect_vars = (const char *const *)r->expect;
    return 0;
}

/* A deep copy of k with its defaults; on VOX_ENOMEM what was copied is
 * freed with r. */
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
    int rc = copy_dtmf(r, k);
    return rc ? rc : copy_expect(r, k);
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
    sim_callrec **v = rc ? NULL : sim__grow(c->recs, &c->caprecs, c->nrecs + 1, sizeof *v);
    if (v) {
        c->recs = v;
        c->recs[c->nrecs++] = r;
    }
    pthread_mutex_unlock(&c->mu);
    if (!v) {
        rec_free(r);
        return rc ? rc : VOX_ENOMEM;
    }
    rc = sim__post(s, place_on_loop, r);
    if (rc) { /* kept in the results as a call that never ran */
        rec_end(c, r, "",
                rc == VOX_ECLOSED ? "not placed: the simulator stopped"
                                  : "not placed: out of memory");
        return rc;
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
    struct timespec dl = vox__deadline_in(timeout_ms); /* c->cv runs on CLOCK_MONOTONIC */
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
