/* vox-sim: events — building them, FreeSWITCH's three wire formats (plain,
 * json, xml), and delivery to the connections that want them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <regex.h>
#include <time.h>

#include "../src/internal.h"
#include "wire.h"

/* FreeSWITCH's event names (switch_event.c), ALL last. */
static const char *const EV_NAMES[] = {
    "CUSTOM",
    "CLONE",
    "CHANNEL_CREATE",
    "CHANNEL_DESTROY",
    "CHANNEL_STATE",
    "CHANNEL_CALLSTATE",
    "CHANNEL_ANSWER",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_EXECUTE",
    "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_HOLD",
    "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_OUTGOING",
    "CHANNEL_PARK",
    "CHANNEL_UNPARK",
    "CHANNEL_APPLICATION",
    "CHANNEL_ORIGINATE",
    "CHANNEL_UUID",
    "API",
    "LOG",
    "INBOUND_CHAN",
    "OUTBOUND_CHAN",
    "STARTUP",
    "SHUTDOWN",
    "PUBLISH",
    "UNPUBLISH",
    "TALK",
    "NOTALK",
    "SESSION_CRASH",
    "MODULE_LOAD",
    "MODULE_UNLOAD",
    "DTMF",
    "MESSAGE",
    "PRESENCE_IN",
    "NOTIFY_IN",
    "PRESENCE_OUT",
    "PRESENCE_PROBE",
    "MESSAGE_WAITING",
    "MESSAGE_QUERY",
    "ROSTER",
    "CODEC",
    "BACKGROUND_JOB",
    "DETECTED_SPEECH",
    "DETECTED_TONE",
    "PRIVATE_COMMAND",
    "HEARTBEAT",
    "TRAP",
    "ADD_SCHEDULE",
    "DEL_SCHEDULE",
    "EXE_SCHEDULE",
    "RE_SCHEDULE",
    "RELOADXML",
    "NOTIFY",
    "PHONE_FEATURE",
    "PHONE_FEATURE_SUBSCRIBE",
    "SEND_MESSAGE",
    "RECV_MESSAGE",
    "REQUEST_PARAMS",
    "CHANNEL_DATA",
    "GENERAL",
    "COMMAND",
    "SESSION_HEARTBEAT",
    "CLIENT_DISCONNECTED",
    "SERVER_DISCONNECTED",
    "SEND_INFO",
    "RECV_INFO",
    "RECV_RTCP_MESSAGE",
    "SEND_RTCP_MESSAGE",
    "CALL_SECURE",
    "NAT",
    "RECORD_START",
    "RECORD_STOP",
    "PLAYBACK_START",
    "PLAYBACK_STOP",
    "CALL_UPDATE",
    "FAILURE",
    "SOCKET_DATA",
    "MEDIA_BUG_START",
    "MEDIA_BUG_STOP",
    "CONFERENCE_DATA_QUERY",
    "CONFERENCE_DATA",
    "CALL_SETUP_REQ",
    "CALL_SETUP_RESULT",
    "CALL_DETAIL",
    "DEVICE_STATE",
    "TEXT",
    "SHUTDOWN_REQUESTED",
    "ALL",
};
#define EV_N ((int)VOX__ARRAY_LEN(EV_NAMES))

int wire__ev_count(void)
{
    return EV_N;
}
int wire__ev_all(void)
{
    return EV_N - 1;
}
const char *wire__ev_name(int id)
{
    return id >= 0 && id < EV_N ? EV_NAMES[id] : "CLONE";
}
int wire__ev_custom(void)
{
    return 0;
}

int wire__ev_index(const char *name)
{
    if (!name)
        return -1;
    if (!strncasecmp(name, "SWITCH_EVENT_", 13))
        name += 13;
    for (int i = 0; i < EV_N; i++)
        if (!strcasecmp(name, EV_NAMES[i]))
            return i;
    return -1;
}

/* Where FreeSWITCH creates each event (from the captures): the default
 * Event-Calling-* of a new event; the calls part may set others. */
static const struct {
    const char *name, *file, *func;
    int line;
} CALLERS[] = {
    {"API", "switch_loadable_module.c", "switch_api_execute", 3140},
    {"BACKGROUND_JOB", "mod_event_socket.c", "api_exec", 1580},
    {"CALL_UPDATE", "switch_channel.c", "switch_channel_flip_cid", 3279},
    {"CHANNEL_ANSWER", "switch_channel.c", "switch_channel_perform_mark_answered", 3848},
    {"CHANNEL_BRIDGE", "switch_ivr_bridge.c", "audio_bridge_on_exchange_media", 806},
    {"CHANNEL_CALLSTATE", "switch_channel.c", "switch_channel_perform_set_callstate", 302},
    {"CHANNEL_CREATE", "switch_core_state_machine.c", "switch_core_session_run", 626},
    {"CHANNEL_DATA", "mod_event_socket.c", "parse_command", 2029},
    {"CHANNEL_DESTROY", "switch_core_session.c", "switch_core_session_perform_destroy", 1588},
    {"CHANNEL_EXECUTE", "switch_core_session.c", "switch_core_session_exec", 2949},
    {"CHANNEL_EXECUTE_COMPLETE", "switch_core_session.c", "switch_core_session_exec", 2972},
    {"CHANNEL_HANGUP", "switch_channel.c", "switch_channel_perform_hangup", 3447},
    {"CHANNEL_HANGUP_COMPLETE", "switch_core_state_machine.c",
     "switch_core_session_reporting_state", 943},
    {"CHANNEL_ORIGINATE", "switch_core_state_machine.c", "switch_core_session_run", 632},
    {"CHANNEL_OUTGOING", "switch_core_session.c", "switch_core_session_outgoing_channel", 768},
    {"CHANNEL_PARK", "switch_ivr.c", "switch_ivr_park", 1002},
    {"CHANNEL_PROGRESS", "switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3590},
    {"CHANNEL_STATE", "switch_channel.c", "switch_channel_perform_set_running_state", 2409},
    {"CHANNEL_UNBRIDGE", "switch_ivr_bridge.c", "audio_bridge_on_exchange_media", 968},
    {"CHANNEL_UNPARK", "switch_ivr.c", "switch_ivr_park", 1213},
    {"CODEC", "switch_core_codec.c", "switch_core_session_set_read_codec", 300},
    {"DTMF", "switch_channel.c", "switch_channel_dequeue_dtmf", 678},
    {"HEARTBEAT", "switch_core.c", "send_heartbeat", 95},
    {"RE_SCHEDULE", "switch_scheduler.c", "switch_scheduler_execute", 73},
};

/* ------------------------------------------------------------- dates */

static const char *const WDAY[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const MON[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void sim__date(uint64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void date_gmt(uint64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", WDAY[tm.tm_wday % 7], tm.tm_mday,
             MON[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The two date texts of an event; the time functions are slow enough to
 * matter in floods, so the texts of the current second are kept. */
static void event_dates(wire *w, uint64_t now, char local[32], char gmt[48])
{
    uint64_t sec = now / 1000000;
    if (!w || w->date_sec != sec || !w->date_local[0]) {
        sim__date(now, local, 32);
        date_gmt(now, gmt, 48);
        if (!w)
            return;
        w->date_sec = sec;
        memcpy(w->date_local, local, 32);
        memcpy(w->date_gmt, gmt, 48);
        return;
    }
    memcpy(local, w->date_local, 32);
    memcpy(gmt, w->date_gmt, 48);
}

/* ------------------------------------------------------------- building */

static void add_callers(sim_event *e, const char *name)
{
    for (size_t i = 0; i < VOX__ARRAY_LEN(CALLERS); i++) {
        if (!strcmp(CALLERS[i].name, name)) {
            sim__event_add(e, "Event-Calling-File", CALLERS[i].file);
            sim__event_add(e, "Event-Calling-Function", CALLERS[i].func);
            sim__event_addf(e, "Event-Calling-Line-Number", "%d", CALLERS[i].line);
            return;
        }
    }
    sim__event_add(e, "Event-Calling-File", "switch_event.c");
    sim__event_add(e, "Event-Calling-Function", "switch_event_fire_detailed");
    sim__event_add(e, "Event-Calling-Line-Number", "1");
}

sim_event *sim__event_new(sim *s, const char *name, const char *subclass)
{
    sim_event *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->name = sim__strdup(subclass ? "CUSTOM" : (name ? name : "CLONE"));
    if (!e->name) {
        free(e);
        return NULL;
    }
    uint64_t now = sim__now_us(s);
    char local[32], gmt[48];
    const char *host = s->o.hostname ? s->o.hostname : "vox-sim";
    wire *w = wire_of(s);
    event_dates(w, now, local, gmt);

    sim__event_add(e, "Event-Name", e->name);
    sim__event_add(e, "Core-UUID", s->core_uuid);
    sim__event_add(e, "FreeSWITCH-Hostname", host);
    sim__event_add(e, "FreeSWITCH-Switchname", host);
    sim__event_add(e, "FreeSWITCH-IPv4", w && w->ipv4[0] ? w->ipv4 : "127.0.0.1");
    sim__event_add(e, "FreeSWITCH-IPv6", "::1");
    sim__event_add(e, "Event-Date-Local", local);
    sim__event_add(e, "Event-Date-GMT", gmt);
    sim__event_addf(e, "Event-Date-Timestamp", "%llu", (unsigned long long)now);
    add_callers(e, e->name);
    sim__event_addf(e, "Event-Sequence", "%llu", (unsigned long long)++s->seq);
    if (subclass)
        sim__event_add(e, "Event-Subclass", subclass);
    return e;
}

void sim__event_add(sim_event *e, const char *name, const char *value)
{
    if (e && name)
        sim__pair_add(&e->h, &e->n, &e->cap, name, value ? value : "");
}

void sim__event_addf(sim_event *e, const char *name, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len < sizeof small) {
        sim__event_add(e, name, small);
        return;
    }
    char *big = malloc((size_t)len + 1);
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)len + 1, fmt, ap);
    va_end(ap);
    sim__event_add(e, name, big);
    free(big);
}

void sim__event_set(sim_event *e, const char *name, const char *value)
{
    if (!e || !name)
        return;
    for (size_t i = 0; i < e->n; i++) {
        if (!strcasecmp(e->h[i].name, name)) {
            char *v = sim__strdup(value ? value : "");
            if (!v)
                return;
            free(e->h[i].value);
            e->h[i].value = v;
            return;
        }
    }
    sim__event_add(e, name, value);
}

const char *sim__event_get(const sim_event *e, const char *name)
{
    return e && name ? sim__pair_get(e->h, e->n, name) : NULL;
}

void sim__event_body(sim_event *e, const char *body)
{
    if (!e)
        return;
    char *b = body ? sim__strdup(body) : NULL;
    if (body && !b)
        return;
    free(e->body);
    e->body = b;
}

void sim__event_free(sim_event *e)
{
    if (!e)
        return;
    sim__pairs_free(e->h, e->n);
    free(e->body);
    free(e->name);
    free(e);
}

/* ------------------------------------------------------------- formats */

static int is_hex_upper(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* switch_url_encode: unsafe characters, controls and non-ASCII bytes become
 * %XX (upper case), but a %XX already valid (upper-case hex) is kept. */
int wire__url_encode(vox_buf *b, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char unsafe[] = "\r\n #%&+:;<=>?@[\\]^`{|}\"";
    size_t n = strlen(v);
    if (vox__buf_reserve(b, n * 3))
        return VOX_ENOMEM;
    char *o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        int keep = c == '%' && i + 2 < n && is_hex_upper(v[i + 1]) && is_hex_upper(v[i + 2]);
        if (!keep && (c < ' ' || c > '~' || strchr(unsafe, c))) {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

static int append_body_len(vox_buf *b, size_t n)
{
    char tmp[64];
    int len = snprintf(tmp, sizeof tmp, "Content-Length: %zu\n\n", n);
    return vox__buf_append(b, tmp, (size_t)len);
}

static int event_plain(const sim_event *e, vox_buf *out)
{
    int rc = 0;
    for (size_t i = 0; i < e->n && !rc; i++) {
        rc |= vox__buf_appends(out, e->h[i].name);
        rc |= vox__buf_append(out, ": ", 2);
        if (e->h[i].value[0])
            rc |= wire__url_encode(out, e->h[i].value);
        else
            rc |= vox__buf_appends(out, "_undef_"); /* as switch_event_serialize */
        rc |= vox__buf_append(out, "\n", 1);
    }
    if (!rc && e->body && e->body[0]) {
        rc |= append_body_len(out, strlen(e->body));
        rc |= vox__buf_appends(out, e->body);
    } else if (!rc) {
        rc |= vox__buf_append(out, "\n", 1);
    }
    return rc ? VOX_ENOMEM : 0;
}

/* cJSON's string printer: ", \ and control characters escaped, the rest
 * (UTF-8 included) as is. */
int sim__json_string(vox_buf *b, const char *s)
{
    int rc = vox__buf_append(b, "\"", 1);
    const char *run = s;
    for (; *s && !rc; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 32 && c != '"' && c != '\\')
            continue;
        rc |= vox__buf_append(b, run, (size_t)(s - run));
        char esc[8];
        switch (c) {
        case '"': memcpy(esc, "\\\"", 3); break;
        case '\\': memcpy(esc, "\\\\", 3); break;
        case '\b': memcpy(esc, "\\b", 3); break;
        case '\f': memcpy(esc, "\\f", 3); break;
        case '\n': memcpy(esc, "\\n", 3); break;
        case '\r': memcpy(esc, "\\r", 3); break;
        case '\t': memcpy(esc, "\\t", 3); break;
        default: snprintf(esc, sizeof esc, "\\u%04x", c); break;
        }
        rc |= vox__buf_appends(b, esc);
        run = s + 1;
    }
    rc |= vox__buf_appends(b, run);
    rc |= vox__buf_append(b, "\"", 1);
    return rc;
}

/* A multi-valued header is kept as FreeSWITCH serializes it in plain:
 * "ARRAY::a|:b". */
static int json_value(vox_buf *b, const char *v)
{
    if (strncmp(v, "ARRAY::", 7) != 0)
        return sim__json_string(b, v);
    int rc = vox__buf_append(b, "[", 1);
    char *copy = sim__strdup(v + 7);
    if (!copy)
        return VOX_ENOMEM;
    char *p = copy;
    for (int first = 1; p && !rc; first = 0) {
        char *sep = strstr(p, "|:");
        if (sep)
            *sep = '\0';
        if (!first)
            rc |= vox__buf_append(b, ",", 1);
        rc |= sim__json_string(b, p);
        p = sep ? sep + 2 : NULL;
    }
    free(copy);
    return rc | vox__buf_append(b, "]", 1);
}

static int event_json(const sim_event *e, vox_buf *b)
{
    int rc = vox__buf_append(b, "{", 1);
    for (size_t i = 0; i < e->n && !rc; i++) {
        if (i)
            rc |= vox__buf_append(b, ",", 1);
        rc |= sim__json_string(b, e->h[i].name);
        rc |= vox__buf_append(b, ":", 1);
        rc |= json_value(b, e->h[i].value);
    }
    if (!rc && e->body) {
        char len[32];
        snprintf(len, sizeof len, "%zu", strlen(e->body));
        rc |= vox__buf_appends(b, e->n ? ",\"Content-Length\":" : "\"Content-Length\":");
        rc |= sim__json_string(b, len);
        rc |= vox__buf_appends(b, ",\"_body\":");
        rc |= sim__json_string(b, e->body);
    }
    rc |= vox__buf_append(b, "}", 1);
    return rc ? VOX_ENOMEM : 0;
}

/* switch_xml_ampencode for text. */
static int xml_text(vox_buf *b, const char *s)
{
    int rc = 0;
    const char *run = s;
    for (; *s && !rc; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '\r': rep = "&#xD;"; break;
        default: continue;
        }
        rc |= vox__buf_append(b, run, (size_t)(s - run));
        rc |= vox__buf_appends(b, rep);
        run = s + 1;
    }
    return rc | vox__buf_appends(b, run);
}

/* One <name>url-encoded value</name> line at indent. */
static int xml_header(vox_buf *b, const char *indent, const char *name, const char *value)
{
    vox_buf enc = {0};
    int rc = wire__url_encode(&enc, value);
    rc |= vox__buf_appends(b, indent);
    rc |= vox__buf_append(b, "<", 1);
    rc |= vox__buf_appends(b, name);
    rc |= vox__buf_append(b, ">", 1);
    if (!rc)
        rc |= xml_text(b, enc.data ? enc.data : "");
    rc |= vox__buf_append(b, "</", 2);
    rc |= vox__buf_appends(b, name);
    rc |= vox__buf_append(b, ">\n", 2);
    vox_buf_free(&enc);
    return rc;
}

static int xml_headers(const sim_event *e, vox_buf *b)
{
    int rc = 0;
    for (size_t i = 0; i < e->n && !rc; i++) {
        const char *v = e->h[i].value;
        if (strncmp(v, "ARRAY::", 7) != 0) {
            rc |= xml_header(b, "    ", e->h[i].name, v);
            continue;
        }
        char *copy = sim__strdup(v + 7);
        if (!copy)
            return VOX_ENOMEM;
        for (char *p = copy; p && !rc;) {
            char *sep = strstr(p, "|:");
            if (sep)
                *sep = '\0';
            rc |= xml_header(b, "    ", e->h[i].name, p);
            p = sep ? sep + 2 : NULL;
        }
        free(copy);
    }
    return rc;
}

static int event_xml(const sim_event *e, vox_buf *b)
{
    int rc = vox__buf_appends(b, "<event>\n  <headers>\n");
    rc |= xml_headers(e, b);
    rc |= vox__buf_appends(b, "  </headers>\n");
    if (!rc && e->body && e->body[0]) {
        char len[32];
        snprintf(len, sizeof len, "%zu", strlen(e->body));
        rc |= xml_header(b, "  ", "Content-Length", len);
        rc |= vox__buf_appends(b, "  <body>");
        rc |= xml_text(b, e->body);
        rc |= vox__buf_appends(b, "</body>\n");
    }
    rc |= vox__buf_appends(b, "</event>\n");
    return rc ? VOX_ENOMEM : 0;
}

int sim__event_serialize(const sim_event *e, vox_format fmt, vox_buf *out)
{
    switch (fmt) {
    case VOX_FMT_JSON: return event_json(e, out);
    case VOX_FMT_XML: return event_xml(e, out);
    default: return event_plain(e, out);
    }
}

int sim__event_frame(const sim_event *e, vox_format fmt, vox_buf *out)
{
    if (!e || !out)
        return VOX_EINVAL;
    vox_buf body = {0};
    int rc = sim__event_serialize(e, fmt, &body);
    if (!rc) {
        char head[96];
        int n = snprintf(head, sizeof head, "Content-Length: %zu\nContent-Type: text/event-%s\n\n",
                         body.len, vox_format_name(fmt));
        size_t before = out->len;
        rc = vox__buf_append(out, head, (size_t)n);
        if (!rc && (rc = vox__buf_append(out, body.data, body.len)))
            out->len = before;
    }
    vox_buf_free(&body);
    return rc;
}

/* ------------------------------------------------------------- delivery */

static int subscribed_to(const sim_conn *k, const sim_event *e)
{
    if (k->evlist[wire__ev_all()])
        return 1;
    int id = wire__ev_index(e->name);
    if (id < 0 || !k->evlist[id])
        return 0;
    if (id != wire__ev_custom())
        return 1;
    const char *sub = sim__event_get(e, "Event-Subclass");
    if (!sub)
        return 1;
    for (size_t i = 0; i < k->nsub; i++)
        if (!strcmp(k->sub[i], sub))
            return 1;
    return 0;
}

/* switch_regex_perform with "/re/flags": POSIX extended is close enough. */
static int regex_match(const char *value, const char *pattern)
{
    char *p = sim__strdup(pattern + 1), *end;
    if (!p)
        return 0;
    int flags = REG_EXTENDED | REG_NOSUB;
    if ((end = strrchr(p, '/'))) {
        if (strchr(end + 1, 'i'))
            flags |= REG_ICASE;
        *end = '\0';
    }
    regex_t re;
    int hit = 0;
    if (regcomp(&re, p, flags) == 0) {
        hit = regexec(&re, value, 0, NULL, 0) == 0;
        regfree(&re);
    }
    free(p);
    return hit;
}

/* FreeSWITCH's filters: once any exists, an event passes when one filter
 * matches it; a value prefixed with '-' rejects the events it matches. */
static int filters_pass(const sim_conn *k, const sim_event *e)
{
    int send = 0;
    for (size_t i = 0; i < k->nfilters; i++) {
        const wire_filter *f = &k->filters[i];
        const char *hval = sim__event_get(e, f->name);
        if (!hval)
            continue;
        const char *cmp_to = f->value;
        int pos = 1;
        for (; *cmp_to; cmp_to++) {
            if (*cmp_to == '+')
                pos = 1;
            else if (*cmp_to == '-')
                pos = 0;
            else if (*cmp_to != ' ')
                break;
        }
        if (send && pos)
            continue;
        int hit = f->value[0] == '/' ? regex_match(hval, cmp_to) : !strcasecmp(hval, cmp_to);
        if (hit && pos) {
            send = 1;
        } else if (hit) {
            return 0;
        }
    }
    return send;
}

int wire__wants(const sim_conn *k, const sim_event *e)
{
    if (!k->events || !subscribed_to(k, e))
        return 0;
    if (k->nfilters && !filters_pass(k, e))
        return 0;
    if (k->myevents) {
        const char *uuid = sim__event_get(e, "Unique-ID");
        if (!uuid || (k->has_session && strcmp(uuid, k->sess)))
            return 0;
    }
    return 1;
}

/* The event in each format, made once for all the connections. */
static void deliver(sim_conn *k, const sim_event *e, vox_buf cache[3], int made[3])
{
    int f = k->fmt == VOX_FMT_JSON ? 1 : k->fmt == VOX_FMT_XML ? 2 : 0;
    if (!made[f])
        made[f] = sim__event_frame(e, k->fmt, &cache[f]) == 0 ? 1 : -1;
    if (made[f] > 0)
        wire__conn_queue(k, cache[f].data, cache[f].len, 1);
}

void sim__fire(sim *s, sim_event *e)
{
    if (!e)
        return;
    wire *w = wire_of(s);
    wire__count_event(s, e);
    const char *uuid = sim__event_get(e, "Unique-ID");
    vox_buf cache[3] = {{0}};
    int made[3] = {0};
    for (sim_conn *k = w ? w->conns : NULL, *next; k; k = next) {
        next = k->next; /* delivery may kill k (lost events) */
        if (k->close_state != WIRE_CLOSE_RUNNING)
            continue;
        int mine = k->has_session && uuid && !strcmp(uuid, k->sess);
        if (mine) {
            const char *cn = sim__event_get(e, "Channel-Name");
            if (cn)
                snprintf(k->chan_name, sizeof k->chan_name, "%s", cn);
        }
        if (wire__wants(k, e))
            deliver(k, e, cache, made);
        if (mine && !k->outbound)
            wire__conn_session_event(k, e);
    }
    for (int i = 0; i < 3; i++)
        vox_buf_free(&cache[i]);
    sim__event_free(e);
}
