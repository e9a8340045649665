/* vox-sim: the commands of mod_event_socket and their exact answers
 * (parse_command in FreeSWITCH: prefix matches, case-insensitive, in the
 * same order, with the same texts and the same quirks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../src/internal.h"
#include "wire.h"

static int prefix(const char *s, const char *p)
{
    return strncasecmp(s, p, strlen(p)) == 0;
}

/* atoi without its undefined overflow. */
static long to_long(const char *s)
{
    return strtol(s, NULL, 10);
}

static const char *cmd_header(const wire_cmd *c, const char *name)
{
    return sim__header(c->h, c->n, name);
}

/* The channel this connection controls, if it still exists. */
static sim_chan *chan_of(sim_conn *k)
{
    if (k->chan)
        return k->chan;
    return k->has_session ? sim__chan_find(k->s, k->sess) : NULL;
}

/* Commands that need a session: 1 (after the -ERR reply) when there is none. */
static int no_session(sim_conn *k, const char *reply)
{
    if (!k->has_session)
        wire__conn_reply(k, reply);
    return !k->has_session;
}

/* ------------------------------------------------------------- auth */

static void auth_ok(sim_conn *k, const char *extra)
{
    k->authed = 1;
    wire__conn_reply_with(k, "+OK accepted", extra);
    const char *garbage = k->s->o.faults.garbage;
    if (garbage && *garbage)
        wire__conn_sends(k, garbage);
}

static void auth_fail(sim_conn *k)
{
    wire__conn_reply(k, "-ERR invalid");
    wire__conn_finish(k, WIRE_GOODBYE);
}

static int user_ok(const sim *s, const char *user, const char *domain, const char *pass)
{
    static const char *const dflt[] = {"1000@127.0.0.1:secret1000", NULL};
    const char *const *u = s->o.users ? s->o.users : dflt;
    size_t ul = strlen(user), dl = strlen(domain);
    for (; *u; u++) {
        const char *e = *u;
        if (strncmp(e, user, ul) || e[ul] != '@' || strncmp(e + ul + 1, domain, dl) ||
            e[ul + 1 + dl] != ':')
            continue;
        if (pass && *pass && !strcmp(e + ul + dl + 2, pass))
            return 1;
    }
    return 0;
}

static void cmd_userauth(sim_conn *k, const char *arg)
{
    char *copy = sim__strdup(arg), *domain = NULL, *pass = NULL, *tmp;
    if (!copy) {
        auth_fail(k);
        return;
    }
    if ((domain = strchr(copy, '@')))
        *domain++ = '\0';
    if (domain && (pass = strchr(domain, ':')))
        *pass++ = '\0';
    if ((tmp = strchr(copy, ':'))) {
        *tmp++ = '\0';
        pass = tmp;
    }
    int ok = *copy && domain && *domain && !k->s->o.faults.reject_auth &&
             user_ok(k->s, copy, domain, pass);
    free(copy);
    if (ok)
        auth_ok(k, "Allowed-Events: all\nAllowed-API: all\nAllowed-LOG: true\n");
    else
        auth_fail(k);
}

static void cmd_unauthed(sim_conn *k, const char *line)
{
    const char *pw = k->s->o.password ? k->s->o.password : "ClueCon";
    if (prefix(line, "auth ")) {
        if (!k->s->o.faults.reject_auth && !strcmp(line + 5, pw))
            auth_ok(k, "");
        else
            auth_fail(k);
    } else if (prefix(line, "userauth ")) {
        cmd_userauth(k, line + 9);
    } else {
        wire__conn_reply(k, "-ERR command not found");
    }
}

/* ------------------------------------------------------------- filters */

static void filter_del(sim_conn *k, const char *name, const char *value)
{
    size_t j = 0;
    for (size_t i = 0; i < k->nfilters; i++) {
        wire_filter *f = &k->filters[i];
        if (!strcasecmp(f->name, name) && (!value || !strcmp(f->value, value))) {
            free(f->name);
            free(f->value);
            continue;
        }
        k->filters[j++] = *f;
    }
    k->nfilters = j;
}

static void cmd_filter(sim_conn *k, const char *arg)
{
    char *copy = sim__strdup(arg), *name = copy, *val, reply[1024];
    if (!copy)
        return;
    while (*name == ' ')
        name++;
    if ((val = strchr(name, ' ')))
        *val++ = '\0';
    if (!strcasecmp(name, "delete") && val) {
        name = val;
        if ((val = strchr(name, ' ')))
            *val++ = '\0';
        if (!strcasecmp(name, "all")) {
            sim__pairs_free(k->filters, k->nfilters);
            k->filters = NULL;
            k->nfilters = k->capfilters = 0;
        } else {
            filter_del(k, name, val);
        }
        snprintf(reply, sizeof reply, "+OK filter deleted. [%s][%s]", name, val ? val : "");
    } else if (val) {
        if (!strcasecmp(name, "add")) {
            name = val;
            if ((val = strchr(name, ' ')))
                *val++ = '\0';
        }
        if (val)
            sim__pair_add(&k->filters, &k->nfilters, &k->capfilters, name, val);
        snprintf(reply, sizeof reply, "+OK filter added. [%s]=[%s]", name, val ? val : "(null)");
    } else {
        snprintf(reply, sizeof reply, "-ERR invalid syntax");
    }
    wire__conn_reply(k, reply);
    free(copy);
}

/* ------------------------------------------------------------- events */

static void add_sub(sim_conn *k, const char *sub)
{
    for (size_t i = 0; i < k->nsub; i++)
        if (!strcmp(k->sub[i], sub))
            return;
    char **a = realloc(k->sub, (k->nsub + 1) * sizeof *a);
    if (!a)
        return;
    k->sub = a;
    if ((a[k->nsub] = sim__strdup(sub)))
        k->nsub++;
}

static void del_sub(sim_conn *k, const char *sub)
{
    for (size_t i = 0; i < k->nsub; i++) {
        if (!strcmp(k->sub[i], sub)) {
            free(k->sub[i]);
            k->sub[i] = k->sub[--k->nsub];
            return;
        }
    }
}

static void set_all(sim_conn *k, uint8_t v, int with_all)
{
    int all = wire__ev_all();
    for (int x = 0; x < all; x++)
        k->evlist[x] = v;
    if (with_all)
        k->evlist[all] = v;
}

/* One word of `event`: 1 when it was an event name. */
static int event_word(sim_conn *k, const char *w, int *custom)
{
    if (*custom) {
        add_sub(k, w);
        return 0;
    }
    int id = wire__ev_index(w);
    if (id < 0)
        return 0;
    if (id == wire__ev_all())
        set_all(k, 1, 1);
    k->evlist[id] = 1;
    if (id == wire__ev_custom())
        (*custom)++;
    return 1;
}

static int set_format(sim_conn *k, const char *w)
{
    if (!strcasecmp(w, "xml"))
        k->fmt = VOX_FMT_XML;
    else if (!strcasecmp(w, "plain"))
        k->fmt = VOX_FMT_PLAIN;
    else if (!strcasecmp(w, "json"))
        k->fmt = VOX_FMT_JSON;
    else
        return 0;
    return 1;
}

/* The words after `event` or `nixevent` (the first may be a format) given
 * to fn: 1 when some were event names, else 0 after the -ERR reply (or on
 * ENOMEM). */
static int each_word(sim_conn *k, const char *line, int format,
                     int (*fn)(sim_conn *k, const char *w, int *custom))
{
    char *copy = sim__strdup(line), *cur;
    int keys = 0, custom = 0;
    if (!copy)
        return 0;
    if ((cur = strchr(copy + 5, ' '))) {
        cur++;
        for (int count = 0; cur; count++) {
            char *next = strchr(cur, ' ');
            if (next)
                *next++ = '\0';
            if (!(format && count == 0 && set_format(k, cur)))
                keys += fn(k, cur, &custom);
            cur = next;
        }
    }
    free(copy);
    if (!keys)
        wire__conn_reply(k, "-ERR no keywords supplied");
    return keys > 0;
}

static void cmd_event(sim_conn *k, wire_cmd *c)
{
    const char *line = c->line;
    if (!each_word(k, line, 1, event_word))
        return;
    k->events = 1;
    char reply[64];
    snprintf(reply, sizeof reply, "+OK event listener enabled %s", vox_format_name(k->fmt));
    wire__conn_reply(k, reply);
    if (!k->outbound)
        wire__subscribed(k->s, k);
}

static int nix_word(sim_conn *k, const char *w, int *custom)
{
    if (*custom) {
        del_sub(k, w);
        return 0;
    }
    int id = wire__ev_index(w), all = wire__ev_all();
    if (id < 0)
        return 0;
    if (id == wire__ev_custom()) {
        (*custom)++;
    } else if (id == all) {
        set_all(k, 0, 1);
    } else {
        if (k->evlist[all]) {
            k->evlist[all] = 0;
            set_all(k, 1, 0);
        }
        k->evlist[id] = 0;
    }
    return 1;
}

static void cmd_nixevent(sim_conn *k, wire_cmd *c)
{
    const char *line = c->line;
    if (!each_word(k, line, 0, nix_word))
        return;
    k->events = 1;
    wire__conn_reply(k, "+OK events nixed");
}

static void cmd_noevents(sim_conn *k, wire_cmd *c)
{
    (void)c;
    wire__conn_drop_events(k);
    if (!k->events) {
        wire__conn_reply(k, "-ERR not listening for events");
        return;
    }
    k->events = 0;
    set_all(k, 0, 1);
    for (size_t i = 0; i < k->nsub; i++)
        free(k->sub[i]);
    k->nsub = 0;
    wire__conn_reply(k, "+OK no longer listening for events");
}

/* ------------------------------------------------------------- session */

static const char *const MYEVENTS[] = {
    "CHANNEL_ANSWER",
    "CHANNEL_APPLICATION",
    "CHANNEL_BRIDGE",
    "CHANNEL_CREATE",
    "CHANNEL_DATA",
    "CHANNEL_DESTROY",
    "CHANNEL_EXECUTE",
    "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_ORIGINATE",
    "CHANNEL_UUID",
    "CHANNEL_OUTGOING",
    "CHANNEL_PARK",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_STATE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_UNPARK",
    "DETECTED_SPEECH",
    "DTMF",
    "NOTALK",
    "TALK",
};

/* Inbound `myevents <uuid> [format]`: 0 to go on, -1 when answered. As in
 * FreeSWITCH, the format of an inbound myevents is cut off with the uuid and
 * never applied (inbound_18); an unknown uuid without a format is accepted
 * with no session at all. */
static int myevents_inbound(sim_conn *k, const char *arg)
{
    char uuid[256];
    snprintf(uuid, sizeof uuid, "%s", arg);
    char *fmt = strchr(uuid, ' ');
    if (fmt)
        *fmt++ = '\0';
    sim_chan *c = sim__chan_find(k->s, uuid);
    if (!c && fmt) {
        wire__conn_reply(k, "-ERR invalid uuid");
        return -1;
    }
    if (c) {
        k->has_session = 1;
        snprintf(k->sess, sizeof k->sess, "%s", sim__chan_uuid(c));
        const char *name = sim__chan_var(c, "channel_name");
        if (name)
            snprintf(k->chan_name, sizeof k->chan_name, "%s", name);
    }
    k->async = 1;
    return 0;
}

static void cmd_myevents(sim_conn *k, const char *line)
{
    if (k->myevents) {
        wire__conn_reply(k, "-ERR aready enabled.");
        return;
    }
    const char *fmtword = line;
    if (!k->has_session) {
        if (myevents_inbound(k, line + 9) < 0)
            return;
        fmtword = ""; /* the format went with the uuid */
    }
    for (size_t i = 0; i < VOX__ARRAY_LEN(MYEVENTS); i++)
        k->evlist[wire__ev_index(MYEVENTS[i])] = 1;
    k->myevents = 1;
    k->events = 1;
    if (strstr(fmtword, "xml") || strstr(fmtword, "XML"))
        k->fmt = VOX_FMT_XML;
    if (strstr(fmtword, "json") || strstr(fmtword, "JSON"))
        k->fmt = VOX_FMT_JSON;
    wire__conn_reply(k, "+OK Events Enabled");
}

/* The channel's headers: its profile again as Channel-* when the channel's
 * own headers do not have it, then those. */
static void channel_data(sim_conn *k, sim_chan *c, sim_event *e)
{
    sim_event *t = calloc(1, sizeof *t);
    if (!t)
        return;
    sim__chan_headers(c, t);
    if (!sim__event_get(t, "Channel-Direction")) {
        for (size_t i = 0; i < t->n; i++) {
            if (strncmp(t->h[i].name, "Caller-", 7))
                continue;
            char name[512];
            snprintf(name, sizeof name, "Channel-%s", t->h[i].name + 7);
            sim__event_add(e, name, t->h[i].value);
        }
    }
    for (size_t i = 0; i < t->n; i++)
        sim__event_add(e, t->h[i].name, t->h[i].value);
    const char *cn = sim__event_get(t, "Channel-Name");
    if (cn)
        snprintf(k->chan_name, sizeof k->chan_name, "%s", cn);
    sim__event_free(t);
}

/* The connect reply: the channel's data as one command/reply header block
 * (switch_caller_profile_event_set_data with prefix "Channel", then the
 * channel's own headers), as in every outbound capture. */
void wire__connect_reply(sim_conn *k)
{
    sim_event *e = sim__event_new(k->s, "CHANNEL_DATA", NULL);
    sim_chan *c = chan_of(k);
    if (!e)
        return;
    if (c)
        channel_data(k, c, e);
    sim__event_add(e, "Content-Type", "command/reply");
    sim__event_add(e, "Reply-Text", "+OK\n");
    sim__event_add(e, "Socket-Mode", k->async ? "async" : "static");
    sim__event_add(e, "Control", k->full ? "full" : "single-channel");
    vox_buf b = {0};
    if (sim__event_serialize(e, VOX_FMT_PLAIN, &b) == 0)
        wire__conn_send(k, b.data, b.len);
    vox_buf_free(&b);
    sim__event_free(e);
    if (k->outbound && !k->connected && k->chan) {
        k->connected = 1;
        sim__chan_socket_ready(k->chan);
    }
}

static void cmd_getvar(sim_conn *k, const char *line)
{
    const char *arg = strchr(line, ' ');
    sim_chan *c = chan_of(k);
    const char *val = arg && c ? sim__chan_var(c, arg + 1) : NULL;
    /* An empty answer becomes FreeSWITCH's default reply. */
    wire__conn_reply(k, val && *val ? val : "-ERR command not found");
}

/* Commands of a connection with a session (and inbound myevents): 1 when
 * answered. */
static int cmd_session(sim_conn *k, const char *line)
{
    if (prefix(line, "connect")) {
        wire__connect_reply(k);
        return 1;
    }
    if (prefix(line, "getvar")) {
        cmd_getvar(k, line);
        return 1;
    }
    if (prefix(line, "myevents")) {
        cmd_myevents(k, line);
        return 1;
    }
    return 0;
}

static void cmd_divert(sim_conn *k, const char *line)
{
    const char *v = line + 13;
    if (no_session(k, "-ERR not controlling a session."))
        return;
    while (*v == ' ')
        v++;
    if (!*v) {
        wire__conn_reply(k, "-ERR missing value.");
        return;
    }
    k->divert = !strcasecmp(v, "on");
    wire__conn_reply(k, k->divert ? "+OK events diverted" : "+OK events not diverted");
}

static void cmd_sendmsg(sim_conn *k, wire_cmd *c)
{
    char uuid[256], reply[512] = "";
    const char *u = c->line + 7;
    while (*u == ' ')
        u++;
    if (!*u)
        u = cmd_header(c, "session-id");
    snprintf(uuid, sizeof uuid, "%s", u ? u : "");
    if (*uuid && k->has_session && !strcmp(uuid, k->sess))
        uuid[0] = '\0';
    sim_chan *ch = NULL;
    if (!*uuid && k->has_session) {
        ch = chan_of(k);
        if (!ch)
            snprintf(reply, sizeof reply, "+OK"); /* the session is still held */
    } else if (!*uuid || !(ch = sim__chan_find(k->s, uuid))) {
        snprintf(reply, sizeof reply, "-ERR invalid session id [%s]", uuid);
    }
    if (ch) {
        sim__chan_sendmsg(ch, c->h, c->n, c->body, reply, sizeof reply);
        if (!*reply && ch == k->chan) {
            k->reply_wait = 1; /* static socket: sim__socket_reply later */
            return;
        }
        if (!*reply)
            snprintf(reply, sizeof reply, "+OK");
    }
    wire__conn_reply(k, reply);
}

/* ------------------------------------------------------------- sendevent */

static int skip_sendevent_header(const char *name)
{
    static const char *const skip[] = {"Content-Length", "Event-Name", "Event-Subclass",
                                       "Event-UUID"};
    for (size_t i = 0; i < VOX__ARRAY_LEN(skip); i++)
        if (!strcasecmp(name, skip[i]))
            return 1;
    return 0;
}

/* An event with the Unique-ID of a channel goes to that session's queue, not
 * to the listeners: only a connection that diverts that session's events
 * gets it. */
static int divert_event(sim *s, sim_event *e)
{
    const char *uuid = sim__event_get(e, "Unique-ID");
    if (!uuid || !sim__chan_find(s, uuid))
        return 0;
    for (sim_conn *k = wire_of(s)->conns; k; k = k->next) {
        if (k->divert && k->has_session && !strcmp(k->sess, uuid) && k->events &&
            k->close_state == WIRE_CLOSE_RUNNING) {
            vox_buf f = {0};
            if (sim__event_frame(e, k->fmt, &f) == 0)
                wire__conn_queue(k, f.data, f.len, 1);
            vox_buf_free(&f);
        }
    }
    sim__event_free(e);
    return 1;
}

static void cmd_sendevent(sim_conn *k, wire_cmd *c)
{
    const char *name = c->line + 9;
    while (*name == ' ' || *name == '\t')
        name++;
    int id = wire__ev_index(name);
    const char *sub = cmd_header(c, "Event-Subclass");
    sim_event *e;
    if (id == wire__ev_custom() && sub)
        e = sim__event_new(k->s, NULL, sub);
    else
        e = sim__event_new(k->s, id >= 0 ? wire__ev_name(id) : "CLONE", NULL);
    char uuid[37];
    sim__uuid(uuid);
    if (e) {
        for (size_t i = 0; i < c->n; i++)
            if (!skip_sendevent_header(c->h[i].name))
                sim__event_add(e, c->h[i].name, c->h[i].value);
        sim__event_add(e, "Event-UUID", uuid);
        if (c->body)
            sim__event_body(e, c->body);
        if (!divert_event(k->s, e))
            sim__fire(k->s, e);
    }
    char reply[64];
    snprintf(reply, sizeof reply, "+OK %s", uuid);
    wire__conn_reply(k, reply);
}

/* ------------------------------------------------------------- api */

static wire_req *req_new(sim_conn *k, int bg, const char *cmdline)
{
    wire *w = wire_of(k->s);
    wire_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cmd = sim__strdup(cmdline);
    if (!r->cmd) {
        free(r);
        return NULL;
    }
    char *sp = strchr(r->cmd, ' ');
    if (sp) {
        *sp = '\0';
        r->arg = sp + 1;
    }
    r->k = k;
    r->bg = bg;
    r->next = w->reqs;
    if (w->reqs)
        w->reqs->prev = r;
    w->reqs = r;
    return r;
}

void wire__req_free(sim *s, wire_req *r)
{
    wire *w = wire_of(s);
    if (r->prev)
        r->prev->next = r->next;
    else
        w->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    free(r->cmd);
    free(r);
}

static void fire_job(sim *s, wire_req *r, const char *body)
{
    sim_event *e = sim__event_new(s, "BACKGROUND_JOB", NULL);
    sim__event_add(e, "Job-UUID", r->job);
    sim__event_add(e, "Job-Command", r->cmd);
    if (r->arg)
        sim__event_add(e, "Job-Command-Arg", r->arg);
    sim__event_body(e, body);
    sim__fire(s, e);
}

static void api_response(sim_conn *k, const char *body)
{
    if (!*body)
        body = "-ERR no reply\n";
    char head[96];
    int n = snprintf(head, sizeof head, "Content-Type: api/response\nContent-Length: %zu\n\n",
                     strlen(body));
    wire__conn_send(k, head, (size_t)n);
    wire__conn_sends(k, body);
}

static void api_done(sim *s, void *ud, const char *body)
{
    wire_req *r = ud;
    sim_conn *k = r->k;
    int bg = r->bg;
    if (!body)
        body = "";
    if (r->bg) {
        fire_job(s, r, body);
        if (k && k->jobs)
            k->jobs--;
    } else if (k) {
        api_response(k, body);
        k->api = NULL;
    }
    wire__req_free(s, r);
    if (!k)
        return;
    if (k->close_state == WIRE_CLOSE_PENDING) {
        wire__conn_finish_pending(k);
        return;
    }
    if (!bg)
        wire__conn_process(k);
}

static void cmd_api(sim_conn *k, wire_cmd *c)
{
    const char *cmdline = c->line + 4;
    wire_req *r = req_new(k, 0, cmdline);
    if (!r) {
        api_response(k, "-ERR memory error\n");
        return;
    }
    k->api = r;
    if (sim__api(k->s, cmdline, api_done, r) != 0) {
        k->api = NULL;
        wire__req_free(k->s, r);
        api_response(k, "-ERR memory error\n");
    }
}

static void cmd_bgapi(sim_conn *k, wire_cmd *c)
{
    const char *cmdline = c->line + 6;
    wire_req *r = req_new(k, 1, cmdline);
    if (!r) {
        wire__conn_reply(k, "-ERR memory error");
        return;
    }
    const char *job = cmd_header(c, "job-uuid");
    if (job)
        snprintf(r->job, sizeof r->job, "%s", job); /* switch_copy_string: 36 characters */
    else
        sim__uuid(r->job);
    char text[64], more[64];
    snprintf(text, sizeof text, "+OK Job-UUID: %s", r->job);
    snprintf(more, sizeof more, "Job-UUID: %s\n", r->job);
    wire__conn_reply_with(k, text, more);
    k->jobs++;
    if (sim__api(k->s, cmdline, api_done, r) != 0) {
        k->jobs--;
        wire__req_free(k->s, r);
    }
}

/* ------------------------------------------------------------- log, linger */

static int log_level(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    int number = 1;
    for (const char *q = p; *q; q++)
        if (!(*q == '.' || (*q >= '0' && *q <= '9')))
            number = 0;
    if (number) {
        long x = to_long(s);
        return x > 64 ? 63 : x < 0 ? 0 : (int)x;
    }
    for (int i = 0; i < 8; i++)
        if (!strcasecmp(wire__log_name(i), s))
            return i;
    return 64; /* SWITCH_LOG_INVALID */
}

static void cmd_log(sim_conn *k, wire_cmd *c)
{
    const char *lv = c->line + 3;
    int level = 7;
    if (*lv)
        lv++;
    if (*lv)
        level = log_level(lv);
    if (level == 64) {
        wire__conn_reply(k, "-ERR invalid log level");
        return;
    }
    k->log_level = level;
    k->log = 1;
    char reply[320];
    snprintf(reply, sizeof reply, "+OK log level %.200s [%d]", lv, level);
    wire__conn_reply(k, reply);
}

static void cmd_nolog(sim_conn *k, wire_cmd *c)
{
    (void)c;
    if (!k->log) {
        wire__conn_reply(k, "-ERR not loging");
        return;
    }
    k->log = 0;
    wire__conn_reply(k, "+OK no longer logging");
}

static void cmd_linger(sim_conn *k, wire_cmd *c)
{
    const char *line = c->line;
    if (no_session(k, "-ERR not controlling a session"))
        return;
    k->linger_secs = line[6] == ' ' && line[7] ? to_long(line + 7) : -1;
    k->linger = 1;
    char reply[96];
    if (k->linger_secs != -1)
        snprintf(reply, sizeof reply, "+OK will linger %d seconds", (int)k->linger_secs);
    else
        snprintf(reply, sizeof reply, "+OK will linger");
    wire__conn_reply(k, reply);
}

static void cmd_nolinger(sim_conn *k, wire_cmd *c)
{
    (void)c;
    if (no_session(k, "-ERR not controlling a session"))
        return;
    k->linger = 0;
    wire__conn_reply(k, "+OK will not linger");
}

/* ------------------------------------------------------------- dispatch */

/* Commands that need `full` on an outbound socket, matched by prefix in
 * parse_command's order (so "log" takes "logfoo", and "nolinger" comes
 * before "nolog"). */
static void cmd_full(sim_conn *k, wire_cmd *c)
{
    static const struct {
        const char *prefix;
        void (*fn)(sim_conn *k, wire_cmd *c);
    } T[] = {
        {"sendevent", cmd_sendevent}, {"api ", cmd_api},
        {"bgapi ", cmd_bgapi},        {"log", cmd_log},
        {"linger", cmd_linger},       {"nolinger", cmd_nolinger},
        {"nolog", cmd_nolog},         {"event", cmd_event},
        {"nixevent", cmd_nixevent},   {"noevents", cmd_noevents},
    };
    for (size_t i = 0; i < VOX__ARRAY_LEN(T); i++) {
        if (prefix(c->line, T[i].prefix)) {
            T[i].fn(k, c);
            return;
        }
    }
    wire__conn_reply(k, "-ERR command not found");
}

void wire__cmd_run(sim_conn *k, wire_cmd *c)
{
    const char *line = c->line;
    if (prefix(line, "auth") || prefix(line, "userauth")) /* no passwords in logs */
        sim__log(k->s, 3, "connection %u: %s ***", k->id,
                 prefix(line, "auth") ? "auth" : "userauth");
    else
        sim__log(k->s, 3, "connection %u: %s", k->id, line);
    if (prefix(line, "exit") || prefix(line, "...")) {
        wire__conn_reply(k, "+OK bye");
        wire__conn_finish(k, WIRE_GOODBYE);
        return;
    }
    if (!k->authed) {
        cmd_unauthed(k, line);
        return;
    }
    if (prefix(line, "filter ")) {
        cmd_filter(k, line + 7);
        return;
    }
    if (k->has_session && prefix(line, "resume")) {
        k->resume = 1;
        wire__conn_reply(k, "+OK");
        return;
    }
    if ((k->has_session || prefix(line, "myevents ")) && cmd_session(k, line))
        return;
    if (prefix(line, "divert_events")) {
        cmd_divert(k, line);
        return;
    }
    if (prefix(line, "sendmsg")) {
        cmd_sendmsg(k, c);
        return;
    }
    if (k->outbound && !k->full) {
        wire__conn_reply(k, "-ERR command not found");
        return;
    }
    cmd_full(k, c);
}
