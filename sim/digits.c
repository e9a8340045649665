/* vox-sim digit collection: play_and_get_digits and read as
 * switch_ivr_read and switch_play_and_get_digits behave — the prompt (broken
 * by a digit already waiting or pressed), digits until a terminator, the
 * maximum or a timeout, the regexp check, the invalid file and the tries. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apps.h"

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
        sim__account(ch, "%s → (%s)", r->name,
                     sim__var(ch, "read_result") ? sim__var(ch, "read_result") : "none");
    }
    sim__app_done(ch, NULL);
}

/* A collection's timer fired: its run (the timer forgotten), or NULL when
 * the collection is over. */
static sim_run *fired(sim_chan *ch)
{
    sim_run *r = sim__app_top(ch);
    if (!r || !r->pg)
        return NULL;
    r->timer = 0;
    return r;
}

static void pg_invalid_done(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    sim_run *r = fired(ch);
    if (!r)
        return;
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
    sim__var_set(ch, "read_result",
                 st == ST_SUCCESS   ? "success"
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
    sim_run *r = fired(ch);
    if (r)
        pg_read_end(ch, r, ST_TIMEOUT);
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
    r->timer =
        sim__after(ch->s->calls, ch, g->len ? g->digit_timeout : g->timeout, pg_timeout, NULL);
}

static void pg_prompt_end(sim_chan *ch, sim_run *r, uint64_t played)
{
    sim__cancel(ch->s->calls, r->timer);
    r->timer = 0;
    sim__playback_vars(ch, played);
    pg_collect(ch, r);
}

static void pg_prompt_done(sim_calls *c, sim_chan *ch, void *arg)
{
    (void)c;
    (void)arg;
    sim_run *r = fired(ch);
    if (r)
        pg_prompt_end(ch, r, r->pg->prompt_ms);
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
            sim__playback_vars(ch, 0);
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
    sim_run *r = sim__app_top(ch);
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
void sim__app_pagd(sim_chan *ch, sim_run *r)
{
    char a[10][512] = {{0}};
    int n = sscanf(r->arg, "%511s %511s %511s %511s %511s %511s %511s %511s %511s %511s", a[0],
                   a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
    pagd *g = r->pg = calloc(1, sizeof *g);
    if (n < 7 || !g) {
        sim__log(ch->s, 1, "%s: play_and_get_digits: bad arguments", ch->name);
        sim__app_done_none(ch, r);
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
void sim__app_read(sim_chan *ch, sim_run *r)
{
    char a[6][512] = {{0}};
    int n =
        sscanf(r->arg, "%511s %511s %511s %511s %511s %511s", a[0], a[1], a[2], a[3], a[4], a[5]);
    pagd *g = r->pg = calloc(1, sizeof *g);
    if (n < 1 || !g) {
        sim__app_done_none(ch, r);
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
