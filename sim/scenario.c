/* Scenario files (docs/scenario.md): one directive per line, words separated
 * by blanks, double quotes around words that hold blanks, whole-line `#`
 * comments. Directives before the first `call` are global; each `call NAME`
 * opens a block that lasts until the next `call` or the end of the file. */
#include "scenario.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 16
#define MAX_CALLS 10000
#define MAX_LIST 256          /* endpoints, users, dtmf presses and vars of a call */
#define MAX_DIGITS 128        /* digits of one dtmf directive */
#define MAX_FILE (16u << 20)  /* a scenario file is text written by hand */
#define MAX_BYTES (1ul << 30) /* huge_event */

typedef struct parser {
    vox_sim_scenario *scn;
    const char *name;
    unsigned line;
    char *err;
    size_t errlen;
} parser;

enum { GLOBAL, CALL };

typedef struct directive {
    const char *name;
    int scope;
    int min, max; /* argument words after the directive's name */
    int (*fn)(parser *p, char **w, int n);
    const char *usage;
} directive;

static int perr(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(parser *p, const char *fmt, ...)
{
    va_list ap;
    if (!p->err || !p->errlen)
        return -1;
    int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
    if (n < 0 || (size_t)n >= p->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Keywords compare with '-' and '_' as the same character, so both
 * `no-answer` and `no_answer` read naturally. */
static int kw(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '-' ? '_' : *a;
        char y = *b == '-' ? '_' : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static vox_sim_call *cur(parser *p)
{
    return &p->scn->calls[p->scn->ncalls - 1];
}

/* Replace an owned string. */
static int set_str(parser *p, const char **slot, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return perr(p, "out of memory");
    free((void *)*slot);
    *slot = d;
    return 0;
}

/* Append an owned copy of v to a NULL-terminated list. */
static int list_add(parser *p, const char *const **list, const char *v)
{
    size_t n = 0;
    while (*list && (*list)[n])
        n++;
    if (n >= MAX_LIST)
        return perr(p, "too many entries (at most %d)", MAX_LIST);
    const char **l = realloc((void *)*list, (n + 2) * sizeof *l);
    if (!l)
        return perr(p, "out of memory");
    *list = l;
    l[n] = strdup(v);
    l[n + 1] = NULL;
    return l[n] ? 0 : perr(p, "out of memory");
}

static void list_free(const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        free((void *)list[i]);
    free((void *)list);
}

/* ------------------------------------------------------------ values */

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int num(parser *p, const char *what, const char *s, unsigned long max, unsigned long *out)
{
    if (parse_ulong(s, max, out))
        return perr(p, "bad number '%s' for %s (0..%lu)", s, what, max);
    return 0;
}

static int dur(parser *p, const char *what, const char *s, uint32_t *ms)
{
    if (vox_sim_scenario_duration(s, ms))
        return perr(p, "bad duration '%s' for %s (e.g. 1500ms, 2s, 0.5s)", s, what);
    return 0;
}

int vox_sim_scenario_duration(const char *s, uint32_t *ms)
{
    uint64_t whole = 0, frac = 0, scale = 1;
    const char *q = s;

    if (!q || !isdigit((unsigned char)*q))
        return -1;
    for (; isdigit((unsigned char)*q); q++) {
        whole = whole * 10 + (uint64_t)(*q - '0');
        if (whole > UINT32_MAX)
            return -1;
    }
    if (*q == '.') {
        if (!isdigit((unsigned char)*++q))
            return -1;
        for (; isdigit((unsigned char)*q); q++) {
            if (scale < 1000000) { /* finer than a microsecond does not matter */
                frac = frac * 10 + (uint64_t)(*q - '0');
                scale *= 10;
            }
        }
    }
    uint64_t v;
    if (!strcmp(q, "s"))
        v = whole * 1000 + frac * 1000 / scale;
    else if ((!strcmp(q, "ms") || !*q) && scale == 1)
        v = whole;
    else
        return -1;
    if (v > UINT32_MAX)
        return -1;
    *ms = (uint32_t)v;
    return 0;
}

int vox_sim_scenario_socket_ok(const char *s)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    unsigned long port;
    if (!colon || colon == s || parse_ulong(colon + 1, 65535, &port) || port == 0)
        return 0;
    for (const char *q = s; q < colon; q++)
        if (isspace((unsigned char)*q) || iscntrl((unsigned char)*q))
            return 0;
    return 1;
}

static int socket_val(parser *p, const char *s, const char **slot)
{
    if (!vox_sim_scenario_socket_ok(s))
        return perr(p, "bad socket '%s' (HOST:PORT, port 1..65535)", s);
    return set_str(p, slot, s);
}

/* A hangup cause as FreeSWITCH names them: NORMAL_CLEARING, USER_BUSY … */
static int cause_val(parser *p, const char *s, const char **slot)
{
    if (!*s || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(s))
        return perr(p, "bad hangup cause '%s' (e.g. NORMAL_CLEARING, USER_BUSY)", s);
    return set_str(p, slot, s);
}

static int text_val(parser *p, const char *what, const char *s, const char **slot)
{
    if (!*s)
        return perr(p, "empty %s", what);
    return set_str(p, slot, s);
}

/* ------------------------------------------------------------ global */

static int d_speed(parser *p, char **w, int n)
{
    char *end;
    if (!isdigit((unsigned char)w[1][0]))
        return perr(p, "bad speed '%s' (a positive number, e.g. 10 or 0.5)", w[1]);
    errno = 0;
    double v = strtod(w[1], &end);
    if (errno || *end || !isfinite(v) || v <= 0 || v > 1e6)
        return perr(p, "bad speed '%s' (a positive number, e.g. 10 or 0.5)", w[1]);
    p->scn->opts.speed = v;
    return 0;
}

static int d_socket(parser *p, char **w, int n)
{
    return socket_val(p, w[1], &p->scn->opts.socket);
}

static int d_heartbeat(parser *p, char **w, int n)
{
    return dur(p, "heartbeat", w[1], &p->scn->opts.heartbeat_ms);
}

static int d_password(parser *p, char **w, int n)
{
    return text_val(p, "password", w[1], &p->scn->opts.password);
}

static int d_hostname(parser *p, char **w, int n)
{
    return text_val(p, "hostname", w[1], &p->scn->opts.hostname);
}

static int d_wait_clients(parser *p, char **w, int n)
{
    unsigned long v;
    if (num(p, "wait_clients", w[1], 10000, &v))
        return -1;
    p->scn->opts.wait_clients = (unsigned)v;
    return 0;
}

static int d_user(parser *p, char **w, int n)
{
    const char *at = strchr(w[1], '@');
    const char *colon = at ? strchr(at, ':') : NULL;
    if (!at || at == w[1] || !colon || colon == at + 1 || !colon[1])
        return perr(p, "bad user '%s' (USER@DOMAIN:PASSWORD)", w[1]);
    return list_add(p, &p->scn->opts.users, w[1]);
}

/* endpoint NAME [ring DUR] [answer | fail CAUSE | no_answer] [talk DUR] */
static int endpoint_word(parser *p, vox_sim_endpoint *e, char **w, int n, int *i, int *outcome)
{
    const char *k = w[*i];
    int valued = kw(k, "ring") || kw(k, "talk") || kw(k, "fail");
    if (valued && *i + 1 >= n)
        return perr(p, "endpoint %s: '%s' needs a value", e->name, k);
    if ((kw(k, "answer") || kw(k, "fail") || kw(k, "no_answer")) && (*outcome)++)
        return perr(p, "endpoint %s: answer, fail and no_answer exclude each other", e->name);
    if (kw(k, "ring"))
        return dur(p, "ring", w[++*i], &e->ring_ms);
    if (kw(k, "talk"))
        return dur(p, "talk", w[++*i], &e->talk_ms);
    if (kw(k, "fail"))
        return cause_val(p, w[++*i], &e->fail_cause);
    if (kw(k, "no_answer"))
        e->no_answer = 1;
    else if (!kw(k, "answer"))
        return perr(p,
                    "endpoint %s: unknown word '%s' (ring DUR, answer, fail CAUSE, "
                    "no_answer, talk DUR)",
                    e->name, k);
    return 0;
}

static int d_endpoint(parser *p, char **w, int n)
{
    vox_sim_opts *o = &p->scn->opts;
    if (o->nendpoints >= MAX_LIST)
        return perr(p, "too many endpoints (at most %d)", MAX_LIST);
    if (!*w[1])
        return perr(p, "empty endpoint name");
    vox_sim_endpoint *e = realloc((void *)o->endpoints, (o->nendpoints + 1) * sizeof *e);
    if (!e)
        return perr(p, "out of memory");
    o->endpoints = e;
    e += o->nendpoints++;
    memset(e, 0, sizeof *e);
    if (set_str(p, &e->name, w[1]))
        return -1;
    int outcome = 0;
    for (int i = 2; i < n; i++)
        if (endpoint_word(p, e, w, n, &i, &outcome))
            return -1;
    return 0;
}

static int fault_flag(parser *p, char **w, int n, int *flag)
{
    if (n != 2)
        return perr(p, "fault %s takes no value", w[1]);
    *flag = 1;
    return 0;
}

static int fault_count(parser *p, char **w, int n, unsigned long max, unsigned long *v)
{
    if (n != 3)
        return perr(p, "fault %s needs a value", w[1]);
    return num(p, w[1], w[2], max, v);
}

static int d_fault(parser *p, char **w, int n)
{
    vox_sim_faults *f = &p->scn->opts.faults;
    unsigned long v;
    int rc;

    if (kw(w[1], "reject_auth"))
        return fault_flag(p, w, n, &f->reject_auth);
    if (kw(w[1], "acl_reject"))
        return fault_flag(p, w, n, &f->acl_reject);
    if (kw(w[1], "garbage"))
        return n != 3 ? perr(p, "fault garbage needs a value")
                      : text_val(p, "garbage", w[2], &f->garbage);
    if (kw(w[1], "slow_write") || kw(w[1], "slow_read")) {
        if (n != 3)
            return perr(p, "fault %s needs a value", w[1]);
        return dur(p, w[1], w[2], kw(w[1], "slow_write") ? &f->slow_write_ms : &f->slow_read_ms);
    }
    if (kw(w[1], "huge_event")) {
        rc = fault_count(p, w, n, MAX_BYTES, &v);
        f->huge_event_bytes = rc ? f->huge_event_bytes : (size_t)v;
    } else if (kw(w[1], "flood")) {
        rc = fault_count(p, w, n, 10000000, &v);
        f->flood_events = rc ? f->flood_events : (size_t)v;
    } else if (kw(w[1], "drop_after")) {
        rc = fault_count(p, w, n, 1000000, &v);
        f->drop_after = rc ? f->drop_after : (unsigned)v;
    } else if (kw(w[1], "drop") || kw(w[1], "no_full") || kw(w[1], "no_async")) {
        return perr(p, "fault %s is a call's fault: put it in a call block", w[1]);
    } else {
        return perr(p,
                    "unknown fault '%s' (reject_auth, acl_reject, garbage, huge_event, "
                    "flood, slow_write, slow_read, drop_after)",
                    w[1]);
    }
    return rc;
}

/* ------------------------------------------------------------ calls */

static int d_call(parser *p, char **w, int n)
{
    vox_sim_scenario *scn = p->scn;
    if (scn->ncalls >= MAX_CALLS)
        return perr(p, "too many calls (at most %d)", MAX_CALLS);
    for (size_t i = 0; n > 1 && i < scn->ncalls; i++)
        if (scn->calls[i].name && !strcmp(scn->calls[i].name, w[1]))
            return perr(p, "call %s already defined at line %u", w[1], scn->call_line[i]);
    vox_sim_call *c = realloc(scn->calls, (scn->ncalls + 1) * sizeof *c);
    if (!c)
        return perr(p, "out of memory");
    scn->calls = c;
    unsigned *l = realloc(scn->call_line, (scn->ncalls + 1) * sizeof *l);
    if (!l)
        return perr(p, "out of memory");
    scn->call_line = l;
    c += scn->ncalls;
    l[scn->ncalls++] = p->line;
    memset(c, 0, sizeof *c);
    c->hangup_ms = -1;
    if (n > 1 && !*w[1])
        return perr(p, "empty call name");
    return n > 1 ? set_str(p, &c->name, w[1]) : 0;
}

/* caller NUMBER [NAME ...]: the name is the rest of the line. */
static int d_caller(parser *p, char **w, int n)
{
    vox_sim_call *c = cur(p);
    char name[VOX_SIM_SCN_MAX_LINE + 1] = "";
    size_t len = 0;

    if (text_val(p, "caller number", w[1], &c->caller_number))
        return -1;
    for (int i = 2; i < n; i++) {
        int k = snprintf(name + len, sizeof name - len, "%s%s", i > 2 ? " " : "", w[i]);
        len += (size_t)k; /* the words come from one line: they always fit */
    }
    return n > 2 ? text_val(p, "caller name", name, &c->caller_name) : 0;
}

static int d_destination(parser *p, char **w, int n)
{
    return text_val(p, "destination", w[1], &cur(p)->destination);
}

static int d_call_socket(parser *p, char **w, int n)
{
    return socket_val(p, w[1], &cur(p)->socket);
}

static int d_start(parser *p, char **w, int n)
{
    return dur(p, "start", w[1], &cur(p)->start_ms);
}

static int d_no_answer(parser *p, char **w, int n)
{
    cur(p)->no_answer = 1;
    return 0;
}

static int d_hangup(parser *p, char **w, int n)
{
    uint32_t ms;
    if (dur(p, "hangup", w[1], &ms))
        return -1;
    cur(p)->hangup_ms = ms;
    return 0;
}

static int d_dtmf(parser *p, char **w, int n)
{
    vox_sim_call *c = cur(p);
    uint32_t ms;
    size_t len = strlen(w[2]);

    if (dur(p, "dtmf", w[1], &ms))
        return -1;
    if (!len || len > MAX_DIGITS || strspn(w[2], "0123456789*#ABCDabcd") != len)
        return perr(p, "bad dtmf digits '%s' (0-9 * # A-D, at most %d)", w[2], MAX_DIGITS);
    if (c->ndtmf >= MAX_LIST)
        return perr(p, "too many dtmf lines (at most %d)", MAX_LIST);
    vox_sim_dtmf *d = realloc((void *)c->dtmf, (c->ndtmf + 1) * sizeof *d);
    if (!d)
        return perr(p, "out of memory");
    c->dtmf = d;
    d += c->ndtmf++;
    d->at_ms = ms;
    d->digits = NULL;
    return set_str(p, &d->digits, w[2]);
}

static int d_call_fault(parser *p, char **w, int n)
{
    vox_sim_call *c = cur(p);
    unsigned long step;

    if (c->fault != VOX_SIM_CALL_OK)
        return perr(p, "a call has one socket fault, and this one has one already");
    if (kw(w[1], "drop")) {
        if (n != 3)
            return perr(p, "usage: fault drop STEP (the sendmsg number, from 1)");
        if (num(p, "drop", w[2], 1000000, &step))
            return -1;
        if (step == 0)
            return perr(p, "fault drop: steps count from 1");
        c->fault = VOX_SIM_CALL_DROP;
        c->fault_step = (unsigned)step;
        return 0;
    }
    if (!kw(w[1], "no_full") && !kw(w[1], "no_async"))
        return perr(p,
                    "unknown call fault '%s' (drop STEP, no_full, no_async; inbound faults "
                    "go before the first call)",
                    w[1]);
    if (n != 2)
        return perr(p, "fault %s takes no value", w[1]);
    c->fault = kw(w[1], "no_full") ? VOX_SIM_CALL_NO_FULL : VOX_SIM_CALL_NO_ASYNC;
    return 0;
}

/* expect cause CAUSE | expect var NAME=VALUE */
static int d_expect(parser *p, char **w, int n)
{
    vox_sim_call *c = cur(p);
    if (kw(w[1], "cause"))
        return cause_val(p, w[2], &c->expect_cause);
    if (!kw(w[1], "var"))
        return perr(p, "unknown expectation '%s' (cause CAUSE, var NAME=VALUE)", w[1]);
    const char *eq = strchr(w[2], '=');
    if (!eq || eq == w[2])
        return perr(p, "bad variable expectation '%s' (NAME=VALUE)", w[2]);
    return list_add(p, &c->expect_vars, w[2]);
}

static const directive directives[] = {
    {"speed", GLOBAL, 1, 1, d_speed, "speed X"},
    {"socket", GLOBAL, 1, 1, d_socket, "socket HOST:PORT"},
    {"heartbeat", GLOBAL, 1, 1, d_heartbeat, "heartbeat DURATION"},
    {"password", GLOBAL, 1, 1, d_password, "password PASSWORD"},
    {"hostname", GLOBAL, 1, 1, d_hostname, "hostname NAME"},
    {"wait_clients", GLOBAL, 1, 1, d_wait_clients, "wait_clients N"},
    {"user", GLOBAL, 1, 1, d_user, "user USER@DOMAIN:PASSWORD"},
    {"endpoint", GLOBAL, 1, 7, d_endpoint,
     "endpoint NAME [ring DURATION] [answer | fail CAUSE | no_answer] [talk DURATION]"},
    {"fault", GLOBAL, 1, 2, d_fault, "fault NAME [VALUE]"},
    {"call", GLOBAL, 0, 1, d_call, "call [NAME]"},
    {"call", CALL, 0, 1, d_call, "call [NAME]"},
    {"caller", CALL, 1, MAX_WORDS - 1, d_caller, "caller NUMBER [NAME]"},
    {"destination", CALL, 1, 1, d_destination, "destination NUMBER"},
    {"socket", CALL, 1, 1, d_call_socket, "socket HOST:PORT"},
    {"start", CALL, 1, 1, d_start, "start DURATION"},
    {"no_answer", CALL, 0, 0, d_no_answer, "no_answer"},
    {"dtmf", CALL, 2, 2, d_dtmf, "dtmf DURATION DIGITS"},
    {"hangup", CALL, 1, 1, d_hangup, "hangup DURATION"},
    {"fault", CALL, 1, 2, d_call_fault, "fault drop STEP | fault no_full | fault no_async"},
    {"expect", CALL, 2, 2, d_expect, "expect cause CAUSE | expect var NAME=VALUE"},
};

static int run_directive(parser *p, char **w, int n)
{
    int scope = p->scn->ncalls ? CALL : GLOBAL;
    const directive *other = NULL;

    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
        const directive *d = &directives[i];
        if (!kw(w[0], d->name))
            continue;
        if (d->scope != scope) {
            other = d;
            continue;
        }
        if (n - 1 < d->min || n - 1 > d->max)
            return perr(p, "usage: %s", d->usage);
        return d->fn(p, w, n);
    }
    if (other && other->scope == CALL)
        return perr(p, "'%s' belongs in a call block (after `call NAME`)", w[0]);
    if (other)
        return perr(p, "'%s' is a global setting: put it before the first call", w[0]);
    return perr(p, "unknown directive '%s'", w[0]);
}

/* ------------------------------------------------------------ lines */

static int unescape(parser *p, char c, char *out)
{
    switch (c) {
    case '\\': *out = '\\'; return 0;
    case '"': *out = '"'; return 0;
    case 'n': *out = '\n'; return 0;
    case 'r': *out = '\r'; return 0;
    case 't': *out = '\t'; return 0;
    default: return perr(p, "bad escape '\\%c' in quotes (\\\\ \\\" \\n \\r \\t)", c ? c : ' ');
    }
}

/* One word starting at *sp, rewritten in place (quotes removed, escapes
 * decoded: the result is never longer). */
static int word(parser *p, char **sp)
{
    char *s = *sp, *out = s;
    while (*s && *s != ' ' && *s != '\t') {
        if (*s != '"') {
            *out++ = *s++;
            continue;
        }
        for (s++; *s && *s != '"'; s++) {
            if (*s == '\\') {
                if (!s[1])
                    return perr(p, "unterminated quote");
                s++;
                if (unescape(p, *s, s))
                    return -1;
            }
            *out++ = *s;
        }
        if (!*s)
            return perr(p, "unterminated quote");
        s++;
    }
    int more = *s != '\0';
    *out = '\0';
    *sp = more ? s + 1 : s;
    return 0;
}

static int split(parser *p, char *s, char **w, int *n)
{
    *n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            return 0;
        if (*n == MAX_WORDS)
            return perr(p, "too many words (at most %d)", MAX_WORDS);
        w[(*n)++] = s;
        if (word(p, &s))
            return -1;
    }
}

static int parse_line(parser *p, const char *text, size_t len)
{
    char buf[VOX_SIM_SCN_MAX_LINE + 1];
    char *w[MAX_WORDS];
    int n;

    if (len && text[len - 1] == '\r')
        len--;
    if (len > VOX_SIM_SCN_MAX_LINE)
        return perr(p, "line too long (more than %d bytes)", VOX_SIM_SCN_MAX_LINE);
    if (memchr(text, '\0', len))
        return perr(p, "NUL byte in line");
    memcpy(buf, text, len);
    buf[len] = '\0';
    size_t lead = strspn(buf, " \t");
    if (buf[lead] == '#' || buf[lead] == '\0')
        return 0;
    if (split(p, buf, w, &n))
        return -1;
    return run_directive(p, w, n);
}

static void scenario_init(vox_sim_scenario *scn)
{
    memset(scn, 0, sizeof *scn);
    scn->opts.speed = 1.0;
    scn->opts.heartbeat_ms = 20000;
    scn->opts.log_level = 2;
}

int vox_sim_scenario_parse(vox_sim_scenario *scn, const char *name, const char *text, size_t len,
                           char *err, size_t errlen)
{
    parser p = {.scn = scn, .name = name ? name : "-", .err = err, .errlen = errlen};
    size_t pos = 0;

    scenario_init(scn);
    if (err && errlen)
        err[0] = '\0';
    scn->file = strdup(p.name);
    if (!scn->file)
        return perr(&p, "out of memory");
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        p.line++;
        if (parse_line(&p, text + pos, end - pos)) {
            vox_sim_scenario_free(scn);
            return -1;
        }
        pos = end + 1;
    }
    return 0;
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap || ferror(f))
            break;
        char *nb = cap < MAX_FILE ? realloc(b, cap * 2) : NULL;
        if (!nb) {
            free(b);
            errno = cap < MAX_FILE ? ENOMEM : EFBIG;
            return NULL;
        }
        b = nb;
        cap *= 2;
    }
    if (b && ferror(f)) {
        int e = errno ? errno : EIO;
        free(b);
        errno = e;
        return NULL;
    }
    *len = n;
    return b;
}

int vox_sim_scenario_load(vox_sim_scenario *scn, const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = NULL;
    FILE *f = fopen(path, "rb");

    scenario_init(scn);
    if (f) {
        errno = 0; /* read_all's error, if any, is the one to report */
        text = read_all(f, &len);
        int e = errno;
        fclose(f);
        errno = e;
    }
    if (!text) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read: %s", path,
                     errno == EFBIG ? "file too large" : strerror(errno));
        return -1;
    }
    int rc = vox_sim_scenario_parse(scn, path, text, len, err, errlen);
    free(text);
    return rc;
}

int vox_sim_scenario_check(const vox_sim_scenario *scn, const char *dflt, char *err, size_t errlen)
{
    for (size_t i = 0; i < scn->ncalls; i++) {
        const vox_sim_call *c = &scn->calls[i];
        if (c->socket || scn->opts.socket || dflt)
            continue;
        if (err && errlen) {
            char name[32];
            snprintf(name, sizeof name, "%zu", i + 1);
            snprintf(err, errlen,
                     "%s:%u: call %s has no socket (add `socket HOST:PORT` to it or before "
                     "the first call, or use --socket)",
                     scn->file ? scn->file : "-", scn->call_line[i], c->name ? c->name : name);
        }
        return -1;
    }
    return 0;
}

static void call_free(vox_sim_call *c)
{
    free((void *)c->name);
    free((void *)c->caller_number);
    free((void *)c->caller_name);
    free((void *)c->destination);
    free((void *)c->socket);
    for (size_t i = 0; i < c->ndtmf; i++)
        free((void *)c->dtmf[i].digits);
    free((void *)c->dtmf);
    free((void *)c->expect_cause);
    list_free(c->expect_vars);
}

void vox_sim_scenario_free(vox_sim_scenario *scn)
{
    vox_sim_opts *o = &scn->opts;
    for (size_t i = 0; i < scn->ncalls; i++)
        call_free(&scn->calls[i]);
    free(scn->calls);
    free(scn->call_line);
    for (size_t i = 0; i < o->nendpoints; i++) {
        free((void *)o->endpoints[i].name);
        free((void *)o->endpoints[i].fail_cause);
    }
    free((void *)o->endpoints);
    free((void *)o->password);
    free((void *)o->hostname);
    free((void *)o->socket);
    free((void *)o->faults.garbage);
    list_free(o->users);
    free(scn->file);
    scenario_init(scn);
}
