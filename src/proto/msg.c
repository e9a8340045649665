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
 * view) and that many bytes after the empty line. The eager scanner: for
 * blocks the lazy one leaves to it, and to report their errors. */
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
    m->ev = (struct vox_event){
        .msg = m, .base = arena, .dec = arena, .hdr = (vox__hdr *)mem, .body = "", .names_nul = 1};
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

/* How a plain event body was read: lazily (its bits in the message) or by
 * the eager scanner (its headers in the scratch vector). */
typedef struct plain_read {
    int lazy;
    vox__plain lz;
    plain_ev pe;
    size_t nev;   /* index entries to make room for */
    size_t words; /* room for newline bits, then colon bits and a spare
                   * word, then decoded bits */
} plain_read;

static int read_plain(const char *body, size_t blen, uint64_t *bits, vox__scratch *sc,
                      size_t max_headers, plain_read *pr, const char **reason, size_t *err_at)
{
    uint64_t *colon = bits + pr->words;
    if (vox__plain_scan(body, blen, max_headers, bits, colon, &pr->lz)) {
        /* no value is decoded yet */
        memset(colon + pr->words + 1, 0, vox__plain_words(pr->lz.hend) * sizeof *bits);
        pr->lazy = 1;
        pr->nev = pr->lz.nlines;
        return 0;
    }
    int rc = index_plain(body, blen, &sc->hv, max_headers, &pr->pe, reason, err_at);
    pr->nev = sc->hv.n;
    return rc;
}

/* Memory for a message of at least size bytes: the spare one when it is
 * large enough. */
static vox_msg *msg_alloc(vox__scratch *sc, size_t size, size_t *got)
{
    vox_msg *m = sc->spare;
    sc->spare = NULL;
    if (m && m->size >= size) {
        *got = m->size;
        return m;
    }
    vox__free(m);
    /* a little slack, so that slightly larger events reuse it too */
    size_t want = size + size / 4 + 256;
    if ((m = vox__malloc(want)) != NULL)
        *got = want;
    else if ((m = vox__malloc(size)) != NULL)
        *got = size;
    return m;
}

/* Grows m (keeping its first bytes) to size; frees it when that fails. */
static vox_msg *msg_grow(vox_msg *m, size_t size, size_t *got)
{
    if (size <= *got)
        return m;
    vox_msg *g = vox__realloc(m, size);
    if (!g)
        vox__free(m);
    *got = size;
    return g;
}

/* The event view of a plain body read lazily: bits, index room, mirror. */
static void lazy_event(vox_msg *m, const plain_read *pr, uint64_t *bits, vox__hdr *evh, char *decr)
{
    m->ev = (struct vox_event){.msg = m,
                               .base = m->body,
                               .dec = decr,
                               .hdr = evh,
                               .body_len = pr->lz.body_len,
                               .nl = bits,
                               .colon = bits + pr->words,
                               .done = bits + 2 * pr->words + 1,
                               .nwords = vox__plain_words(pr->lz.hend),
                               .hend = pr->lz.hend,
                               .nview = pr->lz.nlines - pr->lz.ncl,
                               .body_off = pr->lz.body_off};
    m->has_event = 1;
}

/* The event view of a plain body the eager scanner indexed. */
static void eager_event(vox_msg *m, const plain_ev *pe, vox__hdr *evh, size_t nev, char *decr)
{
    const char *eb = pe->body_len ? m->body + pe->body_off : "";
    if (pe->body_len && pe->body_off + pe->body_len < m->body_len) {
        /* bytes follow the event's body: NUL-terminate a copy in the mirror */
        memcpy(decr + pe->body_off, eb, pe->body_len);
        decr[pe->body_off + pe->body_len] = '\0';
        eb = decr + pe->body_off;
    }
    m->ev = (struct vox_event){.msg = m,
                               .base = m->body,
                               .dec = decr,
                               .hdr = evh,
                               .nhdr = (uint32_t)nev,
                               .body = eb,
                               .body_len = pe->body_len,
                               .nview = nev,
                               .indexed = 1};
    m->has_event = 1;
}

/* The frame's header block, NUL-terminated in place, and its index. */
static void copy_head(vox_msg *m, const char *frame, size_t hlen, const vox__hvec *fh,
                      const vox__hdr *ct)
{
    memcpy(m->hdr, fh->v, fh->n * sizeof(vox__hdr));
    memcpy(m->base, frame, hlen);
    for (uint32_t i = 0; i < m->nhdr; i++) {
        m->base[m->hdr[i].name + m->hdr[i].nlen] = '\0';
        m->base[m->hdr[i].val + m->hdr[i].vlen] = '\0';
    }
    m->base[hlen - 1] = '\0';
    m->ctype = ct ? m->base + ct->val : "";
}

void vox__msg_own(vox_msg *m)
{
    if (!m->borrowed)
        return;
    char *own = m->ev.dec - m->body_len - 1; /* kept for it, before the mirror */
    memcpy(own, m->body, m->body_len);
    own[m->body_len] = '\0';
    m->body = own;
    m->ev.base = own;
    m->borrowed = 0;
}

/* Memory past this is given back rather than kept for the next message. */
#define SPARE_MAX ((size_t)256 << 10)

void vox__msg_release(vox_msg *m, vox__scratch *sc)
{
    if (!m)
        return;
    if (sc->spare || m->size > SPARE_MAX ||
        atomic_load_explicit(&m->refs, memory_order_acquire) != 1) {
        vox_msg_free(m);
        return;
    }
    vox__free(m->extra); /* the last reference: nobody else sees m */
    m->extra = NULL;
    sc->spare = m;
}

void vox__scratch_free(vox__scratch *sc)
{
    vox__hvec_free(&sc->hv);
    vox__free(sc->spare);
    sc->spare = NULL;
}

/* The json or xml event of m, read into an arena of its own. */
static int markup_event(vox_msg *m, size_t max_headers, const char **reason)
{
    /* bounds on the header count: a member needs a ':', an element two '<' */
    int json = m->type == VOX_CT_EVENT_JSON;
    size_t nh = json ? count_char(m->body, m->body_len, ':') + 1
                     : count_char(m->body, m->body_len, '<') / 2 + 1;
    int rc = event_arena(m, nh, max_headers, json ? vox__read_json : vox__read_xml, reason);
    m->ev.nview = m->ev.nhdr;
    m->ev.indexed = 1;
    return rc;
}

/* Fills the message whose memory is m: layout and every view but the event
 * of a json or xml body. */
static void msg_fill(vox_msg *m, size_t size, vox_content_type type, const char *frame, size_t hlen,
                     size_t blen, const vox__hvec *fh, const vox__hdr *ct, const plain_read *pr,
                     size_t bsz, int borrow)
{
    memset(m, 0, sizeof *m);
    m->size = size;
    atomic_init(&m->refs, 1);
    m->type = type;
    uint64_t *bits = (uint64_t *)(void *)(m + 1);
    m->hdr = (vox__hdr *)(void *)((char *)bits + bsz);
    m->nhdr = (uint32_t)fh->n;
    size_t hsz = (fh->n + pr->nev) * sizeof(vox__hdr);
    m->base = (char *)m->hdr + hsz;
    copy_head(m, frame, hlen, fh, ct);
    m->body = m->base + hlen;
    m->body_len = blen;
    char *decr = m->base + hlen + blen + 1;
    vox__hdr *evh = m->hdr + fh->n;
    if (pr->lazy && borrow) {
        m->body = frame + hlen; /* copied by vox__msg_own if it must outlive frame */
        m->borrowed = 1;
    } else {
        memcpy(m->base + hlen, frame + hlen, blen);
        m->base[hlen + blen] = '\0';
    }
    if (pr->lazy) {
        lazy_event(m, pr, bits, evh, decr);
    } else if (type == VOX_CT_EVENT_PLAIN) {
        eager_event(m, &pr->pe, evh, pr->nev, decr);
    } else if (type == VOX_CT_COMMAND_REPLY && find(fh->v, fh->n, frame, "event-name", 10)) {
        /* the outbound connect reply: its headers are an event */
        m->ev = (struct vox_event){.msg = m,
                                   .base = m->base,
                                   .dec = decr,
                                   .hdr = m->hdr,
                                   .nhdr = m->nhdr,
                                   .body = "",
                                   .names_nul = 1,
                                   .nview = m->nhdr,
                                   .indexed = 1};
        m->has_event = 1;
    }
}

int vox__msg_build(const char *frame, size_t hlen, size_t blen, const vox__hvec *fh,
                   vox__scratch *sc, size_t max_headers, int borrow, vox_msg **out,
                   const char **reason, size_t *err_at)
{
    const vox__hdr *ct;
    vox_content_type type = classify(frame, fh, &ct);
    int plain = type == VOX_CT_EVENT_PLAIN;
    plain_read pr = {0};
    size_t dec = plain ? blen + 1 : type == VOX_CT_COMMAND_REPLY ? hlen + 1 : 0, got = 0;
    pr.words = plain ? vox__plain_words(blen < VOX__MAX_NAME ? blen : VOX__MAX_NAME) : 0;
    size_t bsz = plain ? (3 * pr.words + 1) * sizeof(uint64_t) : 0;
    size_t fixed = sizeof(vox_msg) + bsz + fh->n * sizeof(vox__hdr) + hlen + 1 + blen + 1 + dec;
    /* room for a line every 32 bytes of header block, which real events
     * need; a lazy block is at most VOX__MAX_NAME bytes */
    size_t guess = plain ? (blen < VOX__MAX_NAME ? blen : VOX__MAX_NAME) / 32 + 8 : 0;
    vox_msg *m = msg_alloc(sc, fixed + guess * sizeof(vox__hdr), &got);
    if (!m)
        return VOX_ENOMEM;
    if (plain) {
        int rc = read_plain(frame + hlen, blen, (uint64_t *)(void *)(m + 1), sc, max_headers, &pr,
                            reason, err_at);
        if (rc) {
            m->size = got; /* never shared: kept as the spare */
            m->extra = NULL;
            sc->spare = m;
            *err_at += hlen;
            return rc;
        }
    }
    if (!(m = msg_grow(m, fixed + pr.nev * sizeof(vox__hdr), &got)))
        return VOX_ENOMEM;
    msg_fill(m, got, type, frame, hlen, blen, fh, ct, &pr, bsz, borrow);
    if (plain && !pr.lazy && pr.nev)
        memcpy(m->ev.hdr, sc->hv.v, pr.nev * sizeof(vox__hdr));
    if (type == VOX_CT_EVENT_JSON || type == VOX_CT_EVENT_XML) {
        int rc = markup_event(m, max_headers, reason);
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
        vox__msg_own(msg); /* a borrowed message is about to outlive its input */
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
    if (msg) /* read by one thread at a time: the message may change itself */
        vox__msg_own((vox_msg *)msg);
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
