/* The incremental framing parser: header blocks ended by an empty line, then
 * Content-Length bytes of body. A frame that lies whole inside the caller's
 * buffer is built straight from it; otherwise its bytes are gathered in the
 * parser's own buffer, never beyond the end of the current frame, so the
 * result does not depend on how the stream is split. */
#include "proto_int.h"

struct vox_parser {
    vox_limits lim;
    vox_buf buf;          /* the frame in progress */
    vox__scan scan;       /* header scanning state over buf */
    vox__hvec hdrs;       /* frame headers scanned so far */
    vox__scratch scratch; /* reused from message to message */
    int borrow;           /* the caller lends its input (vox__parser_feed_borrowed) */
    size_t hlen;          /* header block length once known, else 0 */
    size_t blen;          /* body length once hlen is known */
    uint64_t offset;      /* stream bytes consumed */
    uint64_t frame_off;   /* stream offset of the frame in progress */
    int err;
    const char *reason;
    uint64_t err_off;
};

int vox__hvec_push(vox__hvec *hv, const vox__hdr *h)
{
    if (hv->n == hv->cap) {
        size_t cap = hv->cap ? hv->cap * 2 : 64;
        vox__hdr *v = vox__realloc(hv->v, cap * sizeof *v);
        if (!v)
            return VOX_ENOMEM;
        hv->v = v;
        hv->cap = cap;
    }
    hv->v[hv->n++] = *h;
    return 0;
}

void vox__hvec_free(vox__hvec *hv)
{
    vox__free(hv->v);
    hv->v = NULL;
    hv->n = hv->cap = 0;
}

/* The first '\n' in [p, end), or NULL; *colon is the first ':' before it
 * (NULL when none) and *nul says whether a NUL byte came before it. One pass
 * for all three: most of a plain event's parse time goes to finding these
 * characters on every line. */
#if defined(__SSE2__)
#include <emmintrin.h>

static const char *find_line(const char *p, const char *end, const char **colon, int *nul)
{
    const __m128i nl = _mm_set1_epi8('\n'), co = _mm_set1_epi8(':'), z = _mm_setzero_si128();
    unsigned zeros = 0;
    *colon = NULL;
    for (; end - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned mn = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl));
        unsigned mc = *colon ? 0 : (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, co));
        unsigned mz = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, z));
        unsigned before = mn ? (1u << __builtin_ctz(mn)) - 1 : 0xFFFFu;
        mc &= before; /* only what lies before the newline counts */
        zeros |= mz & before;
        if (mc)
            *colon = p + __builtin_ctz(mc);
        if (mn) {
            *nul = zeros != 0;
            return p + __builtin_ctz(mn);
        }
    }
    for (; p < end; p++) {
        if (*p == '\n') {
            *nul = zeros != 0;
            return p;
        }
        zeros |= *p == '\0';
        if (*p == ':' && !*colon)
            *colon = p;
    }
    return NULL;
}
#else
static const char *find_line(const char *p, const char *end, const char **colon, int *nul)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *colon = nl ? memchr(p, ':', (size_t)(nl - p)) : NULL;
    *nul = nl && memchr(p, '\0', (size_t)(nl - p));
    return nl;
}
#endif

static int add_line(vox__scan *s, const char *base, size_t ls, size_t ll, const char *colon,
                    vox__hvec *out)
{
    const char *line = base + ls;
    if (VOX__UNLIKELY(!colon || colon == line)) {
        s->reason = colon ? "empty header name" : "header line without ':'";
        s->err_at = ls;
        return VOX_EPROTO;
    }
    if (VOX__UNLIKELY(out->n >= s->max_headers || colon - line > VOX__MAX_NAME)) {
        s->reason = out->n >= s->max_headers ? "too many headers" : "header name too long";
        s->err_at = ls;
        return VOX_ELIMIT;
    }
    size_t v = (size_t)(colon - base) + 1, end = ls + ll;
    while (v < end && (base[v] == ' ' || base[v] == '\t'))
        v++;
    vox__hdr h = {(uint32_t)ls, (uint32_t)v, (uint32_t)(end - v), (uint16_t)(colon - line), 0};
    if (VOX__LIKELY(out->n < out->cap)) {
        out->v[out->n++] = h;
        return 0;
    }
    return vox__hvec_push(out, &h);
}

int vox__scan_block(vox__scan *s, const char *base, size_t len, vox__hvec *out, size_t *end)
{
    size_t ls = s->line_start, pos = s->scanned > ls ? s->scanned : ls;
    const char *nl, *colon;
    int nul;
    while (pos < len && (nl = find_line(base + pos, base + len, &colon, &nul))) {
        size_t i = (size_t)(nl - base), ll = i - ls;
        if (pos != ls) { /* resumed inside the line: look at all of it */
            colon = memchr(base + ls, ':', ll);
            nul = memchr(base + ls, '\0', ll) != NULL;
        }
        if (VOX__UNLIKELY(nul)) {
            s->reason = "NUL byte in header block";
            s->err_at = (size_t)((const char *)memchr(base + ls, '\0', ll) - base);
            s->line_start = s->scanned = ls;
            return VOX_EPROTO;
        }
        if (ll && base[i - 1] == '\r')
            ll--;
        if (ll == 0) {
            s->line_start = s->scanned = i + 1;
            *end = i + 1;
            return 1;
        }
        int rc = add_line(s, base, ls, ll, colon, out);
        if (rc) { /* resume at this line: it was not added */
            s->line_start = s->scanned = ls;
            return rc;
        }
        ls = pos = i + 1;
    }
    s->line_start = ls;
    s->scanned = len;
    return 0;
}

static void limits_fill(vox_limits *dst, const vox_limits *src)
{
    *dst = src ? *src : (vox_limits){0};
    if (!dst->max_header_block)
        dst->max_header_block = VOX_DEFAULT_MAX_HEADER_BLOCK;
    if (!dst->max_body)
        dst->max_body = VOX_DEFAULT_MAX_BODY;
    if (!dst->max_headers)
        dst->max_headers = VOX_DEFAULT_MAX_HEADERS;
    if (dst->max_headers > UINT32_MAX / 2)
        dst->max_headers = UINT32_MAX / 2;
}

int vox_parser_new(vox_parser **out, const vox_limits *limits)
{
    if (!out)
        return VOX_EINVAL;
    vox_parser *p = vox__calloc(1, sizeof *p);
    if (!p)
        return VOX_ENOMEM;
    limits_fill(&p->lim, limits);
    p->scan.max_headers = p->lim.max_headers;
    *out = p;
    return 0;
}

void vox_parser_free(vox_parser *p)
{
    if (!p)
        return;
    vox_buf_free(&p->buf);
    vox__hvec_free(&p->hdrs);
    vox__scratch_free(&p->scratch);
    vox__free(p);
}

static int fail(vox_parser *p, int err, const char *reason, uint64_t at)
{
    p->err = err;
    p->reason = reason;
    p->err_off = at;
    return err;
}

static void frame_reset(vox_parser *p)
{
    p->buf.len = 0;
    p->scan.line_start = p->scan.scanned = 0;
    p->hdrs.n = 0;
    p->hlen = p->blen = 0;
    p->frame_off = p->offset;
}

/* The header block is complete: find Content-Length, check the block. */
static int headers_done(vox_parser *p, const char *frame, size_t hlen)
{
    p->blen = 0;
    for (size_t i = 0; i < p->hdrs.n; i++) {
        const vox__hdr *h = &p->hdrs.v[i];
        if (h->nlen != 14 || !vox__ieq(frame + h->name, 14, "content-length"))
            continue;
        uint64_t n = 0;
        if (h->vlen == 0)
            return fail(p, VOX_EPROTO, "empty Content-Length", p->frame_off + h->val);
        for (uint32_t k = 0; k < h->vlen; k++) {
            unsigned char c = (unsigned char)frame[h->val + k];
            if (c < '0' || c > '9')
                return fail(p, VOX_EPROTO, "bad Content-Length", p->frame_off + h->val + k);
            n = n * 10 + (c - '0');
            if (n > p->lim.max_body)
                return fail(p, VOX_ELIMIT, "body larger than the limit", p->frame_off + h->val);
        }
        p->blen = (size_t)n;
    }
    p->hlen = hlen;
    return 0;
}

/* borrow: frame is the caller's input, not the parser's buffer. */
static int build(vox_parser *p, const char *frame, int borrow, vox_msg **msg)
{
    const char *reason = NULL;
    size_t at = 0;
    int rc = vox__msg_build(frame, p->hlen, p->blen, &p->hdrs, &p->scratch, p->lim.max_headers,
                            borrow && p->borrow, msg, &reason, &at);
    if (rc == VOX_ENOMEM)
        return rc;
    if (rc)
        return fail(p, rc, reason, p->frame_off + at);
    return 0;
}

/* Looks for the end of the header block in data[0, len) when the frame
 * starts there; returns as vox__scan_block does. */
static int scan_direct(vox_parser *p, const char *data, size_t len, size_t *end)
{
    size_t lim = len < p->lim.max_header_block ? len : p->lim.max_header_block;
    int rc = vox__scan_block(&p->scan, data, lim, &p->hdrs, end);
    if (rc == VOX_ENOMEM)
        frame_reset(p); /* not sticky: the caller may repeat the call */
    if (rc < 0)
        return rc == VOX_ENOMEM ? rc : fail(p, rc, p->scan.reason, p->frame_off + p->scan.err_at);
    if (rc == 0 && lim < len)
        return fail(p, VOX_ELIMIT, "header block larger than the limit",
                    p->frame_off + p->lim.max_header_block);
    return rc;
}

/* The header block of the frame at data is known (end bytes): builds the
 * message when its body is there too. As try_direct returns. */
static int direct_frame(vox_parser *p, const char *data, size_t len, size_t end, size_t *used,
                        vox_msg **msg)
{
    if (len - end < p->blen) {
        frame_reset(p);
        return 0;
    }
    int rc = build(p, data, 1, msg);
    if (rc != 0) {
        frame_reset(p);
        return rc;
    }
    *used = end + p->blen;
    return 1;
}

#define EVENT_HEAD_CT "\nContent-Type: text/event-plain\n\n"

/* The header block FreeSWITCH writes before every plain event, read at
 * once: "Content-Length: N", the Content-Type, the empty line. 1 with the
 * two headers in p->hdrs and *end; 0 for any other block (or a length over
 * a limit), which the general scan reads and reports. */
static int event_head(vox_parser *p, const char *data, size_t len, size_t *end)
{
    static const char cl[] = "Content-Length: ", ct[] = EVENT_HEAD_CT;
    size_t k = sizeof cl - 1, n = 0;
    if (len < k + 1 + sizeof ct - 1 || memcmp(data, cl, k) != 0 || p->lim.max_headers < 2)
        return 0;
    for (; k < len && k < 32 && data[k] >= '0' && data[k] <= '9'; k++)
        n = n * 10 + (size_t)(data[k] - '0');
    size_t dl = k - (sizeof cl - 1), hlen = k + sizeof ct - 1;
    if (dl == 0 || dl > 12 || n > p->lim.max_body || hlen > p->lim.max_header_block || len < hlen ||
        memcmp(data + k, ct, sizeof ct - 1) != 0)
        return 0;
    vox__hdr h[2] = {{0, (uint32_t)(sizeof cl - 1), (uint32_t)dl, 14, 0},
                     {(uint32_t)k + 1, (uint32_t)k + 15, 16, 12, 0}};
    if (vox__hvec_push(&p->hdrs, &h[0]) || vox__hvec_push(&p->hdrs, &h[1])) {
        p->hdrs.n = 0;
        return 0; /* the general scan meets the same shortage and says so */
    }
    p->blen = n;
    p->hlen = hlen;
    *end = hlen;
    return 1;
}

/* Fast path: the whole frame lies in data. Returns 1 with *msg, 0 when it
 * does not (nothing consumed, state reset), or an error. */
static int try_direct(vox_parser *p, const char *data, size_t len, size_t *used, vox_msg **msg)
{
    size_t end = 0;
    if (event_head(p, data, len, &end))
        return direct_frame(p, data, len, end, used, msg);
    int rc = scan_direct(p, data, len, &end);
    if (rc <= 0) {
        if (rc == 0)
            frame_reset(p);
        return rc;
    }
    if (p->hdrs.n == 0) { /* a blank line between frames: skip it */
        *used = end;
        return 2;
    }
    if ((rc = headers_done(p, data, end)) != 0)
        return rc;
    return direct_frame(p, data, len, end, used, msg);
}

/* Slow path: append to the frame buffer, never past the end of the frame.
 * *used counts the bytes taken from data. */
static int feed_buffered(vox_parser *p, const char *data, size_t len, size_t *used)
{
    size_t done = 0;
    if (!p->hlen) {
        size_t old = p->buf.len, room = p->lim.max_header_block - old;
        size_t n = len < room ? len : room, end = 0;
        if (vox__buf_append(&p->buf, data, n))
            return VOX_ENOMEM;
        int rc = vox__scan_block(&p->scan, p->buf.data, p->buf.len, &p->hdrs, &end);
        if (rc == VOX_ENOMEM) {
            *used = n; /* kept in buf; scanning resumes at the failed line */
            return rc;
        }
        if (rc < 0)
            return fail(p, rc, p->scan.reason, p->frame_off + p->scan.err_at);
        if (rc == 0) {
            *used = n;
            if (n < len)
                return fail(p, VOX_ELIMIT, "header block larger than the limit",
                            p->frame_off + p->lim.max_header_block);
            return 0;
        }
        p->buf.len = end; /* give back what lies past the header block */
        done = end - old;
        *used = done;
        if (p->hdrs.n == 0) { /* a blank line between frames */
            frame_reset(p);
            p->frame_off = p->offset + done;
            return 0;
        }
        if ((rc = headers_done(p, p->buf.data, end)) != 0)
            return rc;
    }
    size_t need = p->hlen + p->blen - p->buf.len, left = len - done;
    size_t n = left < need ? left : need;
    if (vox__buf_append(&p->buf, data + done, n))
        return VOX_ENOMEM;
    *used = done + n;
    return 0;
}

int vox_parser_feed(vox_parser *p, const char *data, size_t len, size_t *used, vox_msg **msg)
{
    size_t dummy, total = 0;
    if (!used)
        used = &dummy;
    *used = 0;
    if (msg)
        *msg = NULL;
    if (!p || !msg || (!data && len))
        return VOX_EINVAL;
    if (p->err)
        return p->err;
    int rc = 0;
    for (;;) {
        size_t n = 0;
        if (p->hlen && p->buf.len == p->hlen + p->blen) {
            if ((rc = build(p, p->buf.data, 0, msg)) == 0) {
                frame_reset(p);
                rc = 1;
            }
            break;
        }
        if (total == len) {
            rc = 0;
            break;
        }
        if (p->buf.len == 0 && p->scan.line_start == 0) {
            rc = try_direct(p, data + total, len - total, &n, msg);
            p->offset += n;
            total += n;
            if (rc < 0)
                break;
            if (rc == 1) {
                frame_reset(p);
                break;
            }
            if (rc == 2) {
                frame_reset(p);
                continue;
            }
        }
        rc = feed_buffered(p, data + total, len - total, &n);
        p->offset += n;
        total += n;
        if (rc < 0)
            break;
    }
    *used = total;
    return rc;
}

int vox__parser_feed_borrowed(vox_parser *p, const char *data, size_t len, size_t *used,
                              vox_msg **msg)
{
    if (!p)
        return VOX_EINVAL;
    p->borrow = 1;
    int rc = vox_parser_feed(p, data, len, used, msg);
    p->borrow = 0;
    return rc;
}

void vox__parser_release(vox_parser *p, vox_msg *msg)
{
    if (p)
        vox__msg_release(msg, &p->scratch);
    else
        vox_msg_free(msg);
}

int vox_parser_error(const vox_parser *p, const char **reason, uint64_t *offset)
{
    if (reason)
        *reason = p && p->err ? p->reason : NULL;
    if (offset)
        *offset = p && p->err ? p->err_off : 0;
    return p ? p->err : VOX_EINVAL;
}

uint64_t vox_parser_offset(const vox_parser *p)
{
    return p ? p->offset : 0;
}

int vox_parser_pending(const vox_parser *p)
{
    return p && (p->buf.len > 0 || p->hlen > 0);
}
