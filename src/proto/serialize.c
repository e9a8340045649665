/* Serialization of every command a client sends to FreeSWITCH.
 *
 * Every command is first described as a `command` (the words of its command
 * line, its headers, an optional body), then checked as a whole, then
 * measured, and only then written into space reserved in one step. So a
 * command is appended entirely or not at all: a bad argument or a failed
 * allocation leaves the caller's buffer exactly as it was.
 */
#include <stdio.h>

#include "../internal.h"

#define MAX_WORDS 4
#define MAX_FIXED 10

/* One command as it will appear on the wire. Words that are NULL or empty
 * are optional parts left out; fixed headers with a NULL value likewise. */
typedef struct command {
    const char *words[MAX_WORDS];
    size_t nwords;
    vox_header fixed[MAX_FIXED]; /* names are ours, values the caller's */
    size_t nfixed;
    const vox_header *user; /* checked strictly: they are the caller's */
    size_t nuser;
    const char *body_type; /* content-type to announce the body with, or NULL */
    const char *body;
    size_t body_len;
    char clen[24]; /* the body length as decimal text */
} command;

/* Writes into reserved space, or only counts when p is NULL. */
typedef struct wr {
    char *p;
    size_t n;
} wr;

static void put(wr *w, const char *s, size_t n)
{
    if (w->p && n)
        memcpy(w->p + w->n, s, n);
    w->n += n;
}

static void puts0(wr *w, const char *s)
{
    put(w, s, strlen(s));
}

static int present(const char *s)
{
    return s && *s;
}

static void add_word(command *c, const char *w)
{
    if (present(w))
        c->words[c->nwords++] = w;
}

static void add_fixed(command *c, const char *name, const char *value)
{
    if (value)
        c->fixed[c->nfixed++] = (vox_header){name, value};
}

static const char *fmt_word(vox_format fmt)
{
    switch (fmt) {
    case VOX_FMT_PLAIN: return "plain";
    case VOX_FMT_JSON: return "json";
    case VOX_FMT_XML: return "xml";
    }
    return NULL;
}

int vox__format_ok(vox_format fmt)
{
    return fmt_word(fmt) != NULL;
}

const char *vox_format_name(vox_format fmt)
{
    const char *s = fmt_word(fmt);
    return s ? s : "unknown";
}

/* ------------------------------------------------------------- checking */

static int bad_text(const char *s)
{
    return !s || vox__has_crlf(s, (size_t)-1);
}

/* A header the caller wrote: a real name, no line breaks, and nothing that
 * would change how FreeSWITCH frames the command. */
static int bad_user_header(const command *c, const vox_header *h)
{
    if (!present(h->name) || bad_text(h->name) || bad_text(h->value))
        return 1;
    if (strchr(h->name, ':'))
        return 1;
    size_t n = strlen(h->name);
    if (vox__ieq(h->name, n, "content-length"))
        return 1;
    return c->body_type && vox__ieq(h->name, n, "content-type");
}

static int check(const command *c)
{
    if (c->nwords == 0)
        return VOX_EINVAL;
    for (size_t i = 0; i < c->nwords; i++) {
        if (bad_text(c->words[i]))
            return VOX_EINVAL;
    }
    for (size_t i = 0; i < c->nfixed; i++) {
        if (bad_text(c->fixed[i].value))
            return VOX_EINVAL;
    }
    if (c->nuser && !c->user)
        return VOX_EINVAL;
    for (size_t i = 0; i < c->nuser; i++) {
        if (bad_user_header(c, &c->user[i]))
            return VOX_EINVAL;
    }
    if ((c->body_len && !c->body) || c->body_len > VOX_MAX_COMMAND_BODY)
        return VOX_EINVAL; /* FreeSWITCH drops a connection that sends more */
    return 0;
}

/* -------------------------------------------------------------- writing */

static void put_header(wr *w, const char *name, const char *value)
{
    puts0(w, name);
    put(w, ": ", 2);
    puts0(w, value);
    put(w, "\n", 1);
}

static void render(const command *c, wr *w)
{
    for (size_t i = 0; i < c->nwords; i++) {
        if (i)
            put(w, " ", 1);
        puts0(w, c->words[i]);
    }
    put(w, "\n", 1);
    for (size_t i = 0; i < c->nfixed; i++)
        put_header(w, c->fixed[i].name, c->fixed[i].value);
    for (size_t i = 0; i < c->nuser; i++)
        put_header(w, c->user[i].name, c->user[i].value);
    if (c->body_len) {
        if (c->body_type)
            put_header(w, "content-type", c->body_type);
        put_header(w, "content-length", c->clen);
    }
    put(w, "\n", 1);
    if (c->body_len)
        put(w, c->body, c->body_len);
}

/* Check, measure, reserve, write: all or nothing. */
static int emit(vox_buf *b, command *c)
{
    if (!b)
        return VOX_EINVAL;
    int rc = check(c);
    if (rc)
        return rc;
    snprintf(c->clen, sizeof c->clen, "%zu", c->body_len);
    wr w = {NULL, 0};
    render(c, &w);
    if (vox__buf_reserve(b, w.n))
        return VOX_ENOMEM;
    w = (wr){b->data + b->len, 0};
    render(c, &w);
    b->len += w.n;
    b->data[b->len] = '\0';
    return 0;
}

/* A command line of up to three words, the first one fixed. */
static int emit_line(vox_buf *b, const char *w0, const char *w1, const char *w2)
{
    command c = {0};
    add_word(&c, w0);
    add_word(&c, w1);
    add_word(&c, w2);
    return emit(b, &c);
}

/* ------------------------------------------------------------- commands */

/* `userauth` takes user@domain:password; anything else is a plain password.
 * The '@' must come first and have a user before it. */
static int is_userauth(const char *pw)
{
    const char *at = strchr(pw, '@');
    return at && at > pw && strchr(at + 1, ':') && !memchr(pw, ':', (size_t)(at - pw));
}

int vox_cmd_auth(vox_buf *b, const char *password)
{
    if (!present(password))
        return VOX_EINVAL;
    return emit_line(b, is_userauth(password) ? "userauth" : "auth", password, NULL);
}

int vox_cmd_api(vox_buf *b, const char *cmd, const char *args)
{
    if (!present(cmd))
        return VOX_EINVAL;
    return emit_line(b, "api", cmd, args);
}

int vox_cmd_bgapi(vox_buf *b, const char *cmd, const char *args, const char *job_uuid)
{
    if (!present(cmd))
        return VOX_EINVAL;
    command c = {0};
    add_word(&c, "bgapi");
    add_word(&c, cmd);
    add_word(&c, args);
    if (present(job_uuid))
        add_fixed(&c, "Job-UUID", job_uuid);
    return emit(b, &c);
}

int vox_cmd_event(vox_buf *b, vox_format fmt, const char *events)
{
    if (!fmt_word(fmt) || !present(events))
        return VOX_EINVAL;
    return emit_line(b, "event", fmt_word(fmt), events);
}

int vox_cmd_nixevent(vox_buf *b, const char *events)
{
    if (!present(events))
        return VOX_EINVAL;
    return emit_line(b, "nixevent", events, NULL);
}

int vox_cmd_myevents(vox_buf *b, const char *uuid, vox_format fmt)
{
    if (!fmt_word(fmt))
        return VOX_EINVAL;
    return emit_line(b, "myevents", uuid, fmt == VOX_FMT_PLAIN ? NULL : fmt_word(fmt));
}

/* FreeSWITCH splits `filter <header> <value>` at the first space: a header
 * name with a space in it cannot be expressed. */
static int bad_filter_header(const char *h)
{
    return !present(h) || strchr(h, ' ');
}

int vox_cmd_filter(vox_buf *b, const char *header, const char *value)
{
    if (bad_filter_header(header) || !present(value))
        return VOX_EINVAL;
    return emit_line(b, "filter", header, value);
}

int vox_cmd_filter_delete(vox_buf *b, const char *header, const char *value)
{
    command c = {0};
    add_word(&c, "filter");
    add_word(&c, "delete");
    if (!header) {
        if (value)
            return VOX_EINVAL;
        add_word(&c, "all");
        return emit(b, &c);
    }
    if (bad_filter_header(header))
        return VOX_EINVAL;
    add_word(&c, header);
    add_word(&c, value);
    return emit(b, &c);
}

int vox_cmd_divert_events(vox_buf *b, int on)
{
    return emit_line(b, "divert_events", on ? "on" : "off", NULL);
}

int vox_cmd_linger(vox_buf *b, int seconds)
{
    char num[16];
    if (seconds <= 0)
        return emit_line(b, "linger", NULL, NULL);
    snprintf(num, sizeof num, "%d", seconds);
    return emit_line(b, "linger", num, NULL);
}

int vox_cmd_log(vox_buf *b, const char *level)
{
    if (!present(level))
        return VOX_EINVAL;
    return emit_line(b, "log", level, NULL);
}

int vox_cmd_getvar(vox_buf *b, const char *name)
{
    if (!present(name))
        return VOX_EINVAL;
    return emit_line(b, "getvar", name, NULL);
}

int vox_cmd_line(vox_buf *b, const char *line)
{
    if (!present(line))
        return VOX_EINVAL;
    return emit_line(b, line, NULL, NULL);
}

static void set_body(command *c, const vox_header *headers, size_t nheaders, const char *body,
                     size_t body_len)
{
    c->user = headers;
    c->nuser = nheaders;
    c->body = body;
    c->body_len = body_len;
}

int vox_cmd_sendevent(vox_buf *b, const char *name, const vox_header *headers, size_t nheaders,
                      const char *body, size_t body_len)
{
    if (!present(name))
        return VOX_EINVAL;
    command c = {0};
    add_word(&c, "sendevent");
    add_word(&c, name);
    set_body(&c, headers, nheaders, body, body_len);
    return emit(b, &c);
}

int vox_cmd_sendmsg(vox_buf *b, const char *uuid, const vox_header *headers, size_t nheaders,
                    const char *body, size_t body_len)
{
    command c = {0};
    add_word(&c, "sendmsg");
    add_word(&c, uuid);
    set_body(&c, headers, nheaders, body, body_len);
    return emit(b, &c);
}

/* The execute headers, in the order FreeSWITCH's own clients write them. A
 * multi-line argument cannot be a header: it becomes a text/plain body,
 * which sendmsg takes as the argument when execute-app-arg is absent. */
static void add_execute(command *c, const vox_execute *x, char *loops, size_t loops_size)
{
    int multi = x->arg && vox__has_crlf(x->arg, (size_t)-1);
    add_fixed(c, "call-command", "execute");
    add_fixed(c, "execute-app-name", x->app);
    if (present(x->arg) && !multi)
        add_fixed(c, "execute-app-arg", x->arg);
    if (x->loops > 1 || x->loops == -1) {
        snprintf(loops, loops_size, "%d", x->loops);
        add_fixed(c, "loops", loops);
    }
    if (x->event_lock)
        add_fixed(c, "event-lock", "true");
    if (x->hold_bleg)
        add_fixed(c, "hold-bleg", "true");
    if (x->async)
        add_fixed(c, "async", "true");
    if (present(x->event_uuid))
        add_fixed(c, "Event-UUID", x->event_uuid);
    if (multi) {
        c->body_type = "text/plain";
        c->body = x->arg;
        c->body_len = strlen(x->arg);
    }
}

int vox_cmd_execute(vox_buf *b, const vox_execute *x)
{
    char loops[16];
    if (!x || !present(x->app) || x->loops < -1)
        return VOX_EINVAL;
    command c = {0};
    add_word(&c, "sendmsg");
    add_word(&c, x->uuid);
    c.user = x->headers;
    c.nuser = x->nheaders;
    add_execute(&c, x, loops, sizeof loops);
    return emit(b, &c);
}

int vox_cmd_hangup(vox_buf *b, const char *uuid, const char *cause)
{
    command c = {0};
    add_word(&c, "sendmsg");
    add_word(&c, uuid);
    add_fixed(&c, "call-command", "hangup");
    if (present(cause))
        add_fixed(&c, "hangup-cause", cause);
    return emit(b, &c);
}
