/* Messages: built in one allocation from a complete frame, then read through
 * accessors. Layout: the vox_msg, the frame header index, the event header
 * index, a copy of the header block (names and values NUL-terminated in
 * place), the body (NUL-terminated), and the decode region of the event. */
#include <stdint.h>

#include "proto_int.h"

static const struct {
    const char *name;
    vox_content_type type;
} g_types[] = {
    {"text/event-plain", VOX_CT_EVENT_PLAIN},
    {"command/reply", VOX_CT_COMMAND_REPLY},
    {"api/response", VOX_CT_API_RESPONSE},
    {"text/event-json", VOX_CT_EVENT_JSON},
    {"text/event-xml", VOX_CT_EVENT_XML},
    {"log/data", VOX_CT_LOG_DATA},
    {"auth/request", VOX_CT_AUTH_REQUEST},
    {"text/disconnect-notice", VOX_CT_DISCONNECT_NOTICE},
    {"text/rude-rejection", VOX_CT_RUDE_REJECTION},
};

static const vox__hdr *find(const vox__hdr *h, size_t n, const char *base, const char *name,
                            size_t nlen)
{
    for (size_t i = 0; i < n; i++) {
        if (h[i].nlen == nlen && vox__ieq(base + h[i].name, nlen, name))
            return &h[i];
    }
    return NULL;
}

static vox_content_type classify(const char *frame, const vox__hvec *fh, const vox__hdr **ct)
{
    *ct = find(fh->v, fh->n, frame, "content-type", 12);
    if (!*ct)
        return VOX_CT_UNKNOWN;
    for (size_t i = 0; i < VOX__ARRAY_LEN(g_types); i++) {
        size_t n = strlen(g_types[i].name);
        if ((*ct)->vlen == n && memcmp(frame + (*ct)->val, g_types[i].name, n) == 0)
            return g_types[i].type;
    }
    return VOX_CT_UNKNOWN;
}

typedef struct plain_ev {
    size_t body_off, body_len; /* relative to the frame body */
} plain_ev;

/* Indexes a text/event-plain body: header lines, an empty line, and when the
 * event has a body of its own, a Content-Length header (dropped from the
 * view) and that many bytes after the empty line. */
static int index_plain(const char *body, size_t blen, vox__hvec *ev, size_t max_headers,
                       plain_ev *pe, const char **reason, size_t *err_at)
{
    vox__scan s = {0, 0, max_headers, NULL, 0};
    size_t end = 0;
    ev->n = 0;
    int rc = vox__scan_block(&s, body, blen, ev, &end);
    if (rc <= 0) {
        *reason = rc ? s.reason : "event header block without its empty line";
        *err_at = rc ? s.err_at : blen;
        return rc ? rc : VOX_EPROTO;
    }
    pe->body_off = 0; /* no Content-Length inside: no body (the bytes after are ignored) */
    pe->body_len = 0;
    for (size_t i = 0; i < ev->n; i++) {
        vox__hdr *h = &ev->v[i];
        if (h->nlen != 14 || !vox__ieq(body + h->name, 14, "content-length"))
            continue;
        size_t n = 0, k;
        for (k = 0; k < h->vlen && body[h->val + k] >= '0' && body[h->val + k] <= '9'; k++)
            n = n > SIZE_MAX / 10 ? SIZE_MAX : n * 10 + (size_t)(body[h->val + k] - '0');
        if (k != h->vlen || k == 0 || n > blen - end) {
            *reason = "bad Content-Length inside the event";
            *err_at = h->val;
            return VOX_EPROTO;
        }
        pe->body_off = end;
        pe->body_len = n;
        memmove(h, h + 1, (ev->n - i - 1) * sizeof *h);
        ev->n--;
        i--;
    }
    return 0;
}

static size_t count_char(const char *p, size_t n, char c)
{
    size_t k = 0;
    const char *q;
    while ((q = memchr(p, c, n))) {
        k++;
        n -= (size_t)(q - p) + 1;
        p = q + 1;
    }
    return k;
}

/* A json or xml event: its strings are unescaped into an arena of their own
 * (msg->extra), with room for nh headers. */
static int event_arena(vox_msg *m, size_t nh, size_t max_headers, vox__reader read,
                       const char **reason)
{
    size_t hsz = nh * sizeof(vox__hdr), asz = 2 * (m->body_len + 1) + 16;
    if (nh > UINT32_MAX / 2 || asz > UINT32_MAX) {
        *reason = "event too large";
        return VOX_ELIMIT;
    }
    char *mem = vox__malloc(hsz + asz);
    if (!mem)
        return VOX_ENOMEM;
    char *arena = mem + hsz;
    m->ev = (struct vox_event){m, arena, arena, (vox__hdr *)mem, 0, "", 0, 1};
    int rc = read(m, arena, max_headers, reason);
    if (rc) {
        vox__free(mem);
        m->ev = (struct vox_event){0};
        return rc;
    }
    m->extra = mem;
    m->has_event = 1;
    return 0;
}

int vox__msg_build(const char *frame, size_t hlen, size_t blen, const vox__hvec *fh,
                   vox__hvec *scratch, size_t max_headers, vox_msg **out, const char **reason,
                   size_t *err_at)
{
    const vox__hdr *ct;
    vox_content_type type = classify(frame, fh, &ct);
    const char *body = frame + hlen;
    plain_ev pe = {0, 0};
    size_t nev = 0, dec = 0;
    int over_frame = 0;
    if (type == VOX_CT_EVENT_PLAIN) {
        int rc = index_plain(body, blen, scratch, max_headers, &pe, reason, err_at);
        if (rc) {
            *err_at += hlen;
            return rc;
        }
        nev = scratch->n;
        dec = blen + 1;
    } else if (type == VOX_CT_COMMAND_REPLY && find(fh->v, fh->n, frame, "event-name", 10)) {
        over_frame = 1; /* the outbound connect reply: its headers are an event */
        dec = hlen + 1;
    }
    size_t hsz = (fh->n + nev) * sizeof(vox__hdr);
    size_t total = sizeof(vox_msg) + hsz + hlen + 1 + blen + 1 + dec;
    vox_msg *m = vox__malloc(total);
    if (!m)
        return VOX_ENOMEM;
    memset(m, 0, sizeof *m);
    atomic_init(&m->refs, 1);
    m->type = type;
    m->hdr = (vox__hdr *)(m + 1);
    m->nhdr = (uint32_t)fh->n;
    memcpy(m->hdr, fh->v, fh->n * sizeof(vox__hdr));
    vox__hdr *evh = m->hdr + fh->n;
    if (nev)
        memcpy(evh, scratch->v, nev * sizeof(vox__hdr));
    m->base = (char *)m->hdr + hsz;
    memcpy(m->base, frame, hlen + blen);
    m->base[hlen + blen] = '\0';
    for (uint32_t i = 0; i < m->nhdr; i++) {
        m->base[m->hdr[i].name + m->hdr[i].nlen] = '\0';
        m->base[m->hdr[i].val + m->hdr[i].vlen] = '\0';
    }
    m->base[hlen - 1] = '\0';
    m->ctype = ct ? m->base + ct->val : "";
    m->body = m->base + hlen;
    m->body_len = blen;
    char *decr = m->base + hlen + blen + 1;
    if (type == VOX_CT_EVENT_PLAIN) {
        const char *eb = pe.body_len ? m->body + pe.body_off : "";
        if (pe.body_len && pe.body_off + pe.body_len < blen) {
            /* bytes follow the event's body: NUL-terminate a copy in the mirror */
            memcpy(decr + pe.body_off, eb, pe.body_len);
            decr[pe.body_off + pe.body_len] = '\0';
            eb = decr + pe.body_off;
        }
        m->ev = (struct vox_event){m, m->body, decr, evh, (uint32_t)nev, eb, pe.body_len, 0};
        m->has_event = 1;
    } else if (over_frame) {
        m->ev = (struct vox_event){m, m->base, decr, m->hdr, m->nhdr, "", 0, 1};
        m->has_event = 1;
    } else if (type == VOX_CT_EVENT_JSON || type == VOX_CT_EVENT_XML) {
        /* bounds on the header count: a member needs a ':', an element two '<' */
        int json = type == VOX_CT_EVENT_JSON;
        size_t nh =
            json ? count_char(m->body, blen, ':') + 1 : count_char(m->body, blen, '<') / 2 + 1;
        int rc = event_arena(m, nh, max_headers, json ? vox__read_json : vox__read_xml, reason);
        if (rc) {
            vox_msg_free(m);
            *err_at = hlen;
            return rc;
        }
    }
    *out = m;
    return 0;
}

vox_msg *vox_msg_ref(vox_msg *msg)
{
    if (msg)
        atomic_fetch_add_explicit(&msg->refs, 1, memory_order_relaxed);
    return msg;
}

void vox_msg_free(vox_msg *msg)
{
    if (!msg || atomic_fetch_sub_explicit(&msg->refs, 1, memory_order_acq_rel) != 1)
        return;
    vox__free(msg->extra);
    vox__free(msg);
}

vox_content_type vox_msg_type(const vox_msg *msg)
{
    return msg ? msg->type : VOX_CT_UNKNOWN;
}

const char *vox_msg_content_type(const vox_msg *msg)
{
    return msg ? msg->ctype : "";
}

const char *vox_msg_header(const vox_msg *msg, const char *name)
{
    if (!msg || !name)
        return NULL;
    const vox__hdr *h = find(msg->hdr, msg->nhdr, msg->base, name, strlen(name));
    return h ? msg->base + h->val : NULL;
}

size_t vox_msg_header_count(const vox_msg *msg)
{
    return msg ? msg->nhdr : 0;
}

int vox_msg_header_at(const vox_msg *msg, size_t i, const char **name, const char **value)
{
    if (!msg || i >= msg->nhdr)
        return VOX_EINVAL;
    if (name)
        *name = msg->base + msg->hdr[i].name;
    if (value)
        *value = msg->base + msg->hdr[i].val;
    return 0;
}

const char *vox_msg_body(const vox_msg *msg, size_t *len)
{
    if (len)
        *len = msg ? msg->body_len : 0;
    return msg ? msg->body : "";
}

const char *vox_msg_reply_text(const vox_msg *msg)
{
    if (!msg)
        return NULL;
    if (msg->type == VOX_CT_API_RESPONSE)
        return msg->body;
    if (msg->type != VOX_CT_COMMAND_REPLY)
        return NULL;
    if (msg->has_event)
        return vox_event_get(&msg->ev, "Reply-Text");
    return vox_msg_header(msg, "Reply-Text");
}

int vox_msg_is_error(const vox_msg *msg)
{
    const char *t = vox_msg_reply_text(msg);
    return t && (strncmp(t, "-ERR", 4) == 0 || strncmp(t, "-USAGE", 6) == 0);
}

const vox_event *vox_msg_event(const vox_msg *msg)
{
    return msg && msg->has_event ? &msg->ev : NULL;
}
