/* vox-sim api commands: FreeSWITCH's texts for status, uptime, show,
 * uuid_*, hupall, hash, global_getvar, version … (originate is dial.c's),
 * dispatched as mod_commands does. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calls.h"

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

/* A uuid_* command's channel (its first word), or NULL after the usage
 * (fewer than need words) or the -ERR. */
static sim_chan *chan_arg(api_ctx *a, int need, const char *syntax)
{
    if (a->argc < need) {
        usage(a, syntax);
        return NULL;
    }
    return api_chan(a, 0);
}

/* s as a JSON string, as cJSON prints it. */
static void json_add(sbuf *b, const char *s)
{
    vox_buf t = {0};
    if (sim__json_string(&t, s) == 0)
        sim__sb_add(b, t.data, t.len);
    else
        b->oom = true;
    vox_buf_free(&t);
}

/* "name":"value" */
static void json_pair(sbuf *b, const char *name, const char *value)
{
    json_add(b, name);
    sim__sb_adds(b, ":");
    json_add(b, value);
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
    sim__sb_addf(b, "0 session(s) per Sec out of max 100, peak %u, last 5min %u \n", a->c->peak,
                 a->c->peak);
    sim__sb_adds(b, "1000 session(s) max\nmin idle cpu 0.00/100.00\n"
                    "Current Stack Size/Max 240K/8192K\n");
}

static void api_uptime(api_ctx *a)
{
    static const struct {
        const char *unit;
        uint64_t div;
    } U[] = {{"us", 1},
             {"microseconds", 1},
             {"ms", 1000},
             {"milliseconds", 1000},
             {"s", 1000000},
             {"seconds", 1000000},
             {"m", 60000000},
             {"minutes", 60000000},
             {"h", 3600000000ULL},
             {"hours", 3600000000ULL},
             {"d", 86400000000ULL},
             {"days", 86400000000ULL}};
    uint64_t div = 1000000;
    for (size_t i = 0; a->argc && i < sizeof U / sizeof U[0]; i++)
        if (!strcasecmp(a->argv[0], U[i].unit))
            div = U[i].div;
    sim__sb_addf(&a->out, "%llu\n",
                 (unsigned long long)((sim__now_us(a->s) - a->c->start_us) / div));
}

/* ------------------------------------------------------------ show */

/* The columns of FreeSWITCH's channels and calls tables, as its header
 * lines list them. */
static const char CHAN_COLS[] =
    "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,"
    "application_data,dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,"
    "write_rate,write_bit_rate,secure,hostname,presence_id,presence_data,accountcode,callstate,"
    "callee_name,callee_num,callee_direction,call_uuid,sent_callee_name,sent_callee_num,"
    "initial_cid_name,initial_cid_num,initial_ip_addr,initial_dest,initial_dialplan,"
    "initial_context";
static const char CALL_COLS[] =
    "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,presence_id,"
    "presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,"
    "hostname,sent_callee_name,sent_callee_num,b_uuid,b_direction,b_created,b_created_epoch,"
    "b_name,b_state,b_cid_name,b_cid_num,b_ip_addr,b_dest,b_presence_id,b_presence_data,"
    "b_accountcode,b_callstate,b_callee_name,b_callee_num,b_callee_direction,"
    "b_sent_callee_name,b_sent_callee_num,call_created_epoch";

static const char *S(const char *v)
{
    return v ? v : "";
}

/* Columns that are one of the channel's strings. */
static const struct {
    const char *col;
    size_t off;
} STR_COLS[] = {
    {"name", offsetof(sim_chan, name)},
    {"cid_name", offsetof(sim_chan, cid_name)},
    {"cid_num", offsetof(sim_chan, cid_num)},
    {"dest", offsetof(sim_chan, dest)},
    {"dialplan", offsetof(sim_chan, dialplan)},
    {"context", offsetof(sim_chan, context)},
    {"presence_id", offsetof(sim_chan, presence_id)},
    {"callee_name", offsetof(sim_chan, callee_name)},
    {"callee_num", offsetof(sim_chan, callee_num)},
};

/* Columns with the same value on every channel (the codec here is L16). */
static const char *const FIXED_COLS[][2] = {
    {"read_codec", "L16"},  {"write_codec", "L16"},      {"read_rate", "8000"},
    {"write_rate", "8000"}, {"read_bit_rate", "128000"}, {"write_bit_rate", "128000"},
};

/* A column of the channel's strings or a fixed one: its value, or NULL. */
static const char *table_col(const sim_chan *ch, const char *col)
{
    for (size_t i = 0; i < sizeof STR_COLS / sizeof STR_COLS[0]; i++)
        if (!strcmp(col, STR_COLS[i].col))
            return S(*(char *const *)((const char *)ch + STR_COLS[i].off));
    for (size_t i = 0; i < sizeof FIXED_COLS / sizeof FIXED_COLS[0]; i++)
        if (!strcmp(col, FIXED_COLS[i][0]))
            return FIXED_COLS[i][1];
    return NULL;
}

/* The other columns of a channel ("" for those not kept here). */
static const char *state_col(sim *s, sim_chan *ch, const char *col)
{
    if (!strcmp(col, "uuid") || !strcmp(col, "call_uuid"))
        return ch->uuid;
    if (!strcmp(col, "direction"))
        return ch->outbound ? "outbound" : "inbound";
    if (!strcmp(col, "state"))
        return sim__cs_name(ch->state);
    if (!strcmp(col, "callstate"))
        return sim__ccs_name(ch->callstate);
    if (!strcmp(col, "application"))
        return S(sim__var(ch, "current_application"));
    if (!strcmp(col, "application_data"))
        return S(sim__var(ch, "current_application_data"));
    if (!strcmp(col, "hostname"))
        return s->o.hostname;
    return "";
}

/* One column of a channel's row in FreeSWITCH's channels table (ch NULL:
 * the empty b_* columns of a call without a b-leg). */
static void col_value(sim *s, sim_chan *ch, const char *col, char *out, size_t n)
{
    if (!strncmp(col, "initial_", 8))
        col += 8;
    if (ch && !strcmp(col, "created")) {
        sim__date(ch->t_created, out, n);
    } else if (ch && (!strcmp(col, "created_epoch") || !strcmp(col, "call_created_epoch"))) {
        snprintf(out, n, "%llu", (unsigned long long)(ch->t_created / 1000000));
    } else {
        const char *v = ch ? table_col(ch, col) : "";
        snprintf(out, n, "%s", v ? v : state_col(s, ch, col));
    }
}

static void add_row(api_ctx *a, sbuf *rows, sim_chan *ch, const char *cols, bool json)
{
    sim_chan *b = ch->bridged && ch->peer[0] ? sim__chan_find(a->s, ch->peer) : NULL;
    char col[64], v[256];
    sim__sb_adds(rows, json ? (rows->len ? ",{" : "{") : "");
    for (const char *p = cols; *p;) {
        size_t n = strcspn(p, ",");
        snprintf(col, sizeof col, "%.*s", (int)n, p);
        bool other = !strncmp(col, "b_", 2);
        col_value(a->s, other ? b : ch, col + (other ? 2 : 0), v, sizeof v);
        sim__sb_adds(rows, p == cols ? "" : ",");
        if (json)
            json_pair(rows, col, v);
        else
            sim__sb_adds(rows, v);
        p += n + (p[n] == ',');
    }
    sim__sb_adds(rows, json ? "}" : "\n");
}

static void show_rows(api_ctx *a, bool calls, bool json, bool count)
{
    const char *cols = calls ? CALL_COLS : CHAN_COLS;
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
        sim__sb_addf(&a->out, "%s%s%s\n%u total.\n", n ? cols : "", n ? "\n" : "",
                     sim__sb_str(&rows), n);
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
    sim_chan *ch = chan_arg(a, 1, "<uuid> [format]");
    if (!ch)
        return;
    sim_event *e = sim__event_new(a->s, "CHANNEL_DATA", NULL);
    if (!e)
        return;
    sim__chan_add_headers(ch, e, true);
    const char *f = a->argc > 1 ? a->argv[1] : "";
    vox_format fmt = !strcasecmp(f, "json")  ? VOX_FMT_JSON
                     : !strcasecmp(f, "xml") ? VOX_FMT_XML
                                             : VOX_FMT_PLAIN;
    vox_buf b = {0};
    if (sim__event_serialize(e, fmt, &b) == 0)
        sim__sb_add(&a->out, b.data, b.len);
    else
        a->out.oom = true;
    vox_buf_free(&b);
    sim__event_free(e);
}

static void api_getvar(api_ctx *a)
{
    sim_chan *ch = chan_arg(a, 2, "<uuid> <var>");
    const char *v = ch ? sim__var(ch, a->argv[1]) : NULL;
    if (ch)
        sim__sb_adds(&a->out, v ? v : "_undef_");
}

static void api_setvar(api_ctx *a, const char *value)
{
    sim_chan *ch = chan_arg(a, 2, "<uuid> <var> [value]");
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
    sim_chan *ch = chan_arg(a, 1, "<uuid> [cause]");
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

/* uuid_park, uuid_answer: fn on the channel, after the reply went out. */
static void uuid_task(api_ctx *a, sim_task_fn fn)
{
    sim_chan *ch = chan_arg(a, 1, "<uuid>");
    if (ch && sim__after(a->c, ch, 0, fn, NULL))
        sim__sb_adds(&a->out, "+OK\n");
}

static void api_park(api_ctx *a)
{
    uuid_task(a, park_task);
}

static void api_transfer(api_ctx *a)
{
    int i = a->argc > 1 && a->argv[1][0] == '-' ? 2 : 1;
    sim_chan *ch = chan_arg(a, i + 1, "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]");
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
        usage(a, "<uuid> <dtmf_data>");
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
    uuid_task(a, answer_task);
}

/* uuid_broadcast <uuid> <path|app::args> [aleg|bleg|both]: queued as a sendmsg. */
static void api_broadcast(api_ctx *a)
{
    sim_chan *ch = chan_arg(a, 2, "<uuid> <path> [aleg|bleg|both]");
    if (!ch)
        return;
    char app[128] = "playback";
    const char *arg = a->argv[1];
    const char *sep = strstr(arg, "::");
    if (sep) {
        snprintf(app, sizeof app, "%.*s", (int)(sep - arg), arg);
        arg = sep + 2;
    }
    vox_header h[] = {{"call-command", "execute"},
                      {"execute-app-name", app},
                      {"execute-app-arg", arg},
                      {"async", "true"}};
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
    char *v = NULL;
    if (h && ifempty) {
        sim__sb_adds(&a->out, "-ERR key already exists\n");
        return;
    }
    if (h && !(v = sim__strdup(val)))
        return;
    if (h) {
        free(h->value);
        h->value = v;
    } else if (!sim__pair_add(&c->hash, &c->nhash, &c->caphash, k, val)) {
        return;
    }
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
    const char *g[][2] = {{"hostname", host},           {"switchname", host},
                          {"local_ip_v4", "127.0.0.1"}, {"domain", "127.0.0.1"},
                          {"domain_name", "127.0.0.1"}, {"core_uuid", a->s->core_uuid}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        if (!a->argc)
            sim__sb_addf(&a->out, "%s=%s\n", g[i][0], g[i][1]);
        else if (!strcmp(a->argv[0], g[i][0]))
            sim__sb_adds(&a->out, g[i][1]);
    }
}

/* ------------------------------------------------------------ dispatch */

/* 0: done will be called later; 1: the answer is in a->out; -1: no such
 * command; VOX_ENOMEM. */
static int run(api_ctx *a, const char *name, char *args, sim_api_done done, void *ud)
{
    if (!strcmp(name, "originate"))
        return sim__originate(a->s, args, &a->out, done, ud);
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
        {"status", api_status},
        {"uptime", api_uptime},
        {"show", api_show},
        {"uuid_dump", api_dump},
        {"uuid_getvar", api_getvar},
        {"uuid_kill", api_kill},
        {"uuid_park", api_park},
        {"uuid_transfer", api_transfer},
        {"uuid_bridge", api_bridge},
        {"uuid_answer", api_answer},
        {"uuid_broadcast", api_broadcast},
        {"uuid_exists", api_exists},
        {"hupall", api_hupall},
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
    if (rc == 1 || rc == -1)
        rc = a.out.oom ? VOX_ENOMEM : 1;
    if (rc == 1)
        done(s, ud, a.out.len ? a.out.p : "-ERR no reply\n");
    sim__sb_free(&a.out);
    free(line);
    return rc < 0 ? rc : 0;
}
