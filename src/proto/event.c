/* The event view: case-insensitive lookup, iteration, and lazy decoding of
 * values into the slot the message reserved for each header. */
#include "proto_int.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t vox_url_decode(char *dst, const char *src, size_t len)
{
    /* most values have no escape at all, or start with a run without one */
    const char *pct = memchr(src, '%', len);
    size_t o = pct ? (size_t)(pct - src) : len;
    memmove(dst, src, o);
    for (size_t i = o; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        int hi, lo;
        if (c == '%' && i + 2 < len && (hi = hexval((unsigned char)src[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)src[i + 2])) >= 0) {
            dst[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o] = '\0';
    return o;
}

uint32_t vox__split_array(char *s, size_t len)
{
    if (len < 7 || memcmp(s, "ARRAY::", 7) != 0)
        return 1;
    memmove(s, s + 7, len - 7 + 1);
    len -= 7;
    uint32_t n = 1;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '|' && i + 1 < len && s[i + 1] == ':') {
            s[o++] = '\0';
            i++;
            n++;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return n;
}

/* A lazy event's bit for the value of the header whose colon is at pos:
 * set once that value is decoded. */
static int done_bit(const vox_event *ev, size_t pos, int set)
{
    uint64_t bit = 1ull << (pos & 63);
    if (set)
        ev->done[pos >> 6] |= bit;
    return (ev->done[pos >> 6] & bit) != 0;
}

static uint32_t decode(const vox_event *ev, const vox__hdr *h)
{
    size_t n = vox_url_decode(ev->dec + h->val, ev->base + h->val, h->vlen);
    uint32_t nv = vox__split_array(ev->dec + h->val, n);
    if (ev->done)
        done_bit(ev, (size_t)h->name + h->nlen, 1);
    return nv > VOX__MAX_VALUES ? VOX__MAX_VALUES : nv;
}

/* The decoded first value of h, decoding it now if needed. A plain event's
 * names are not NUL-terminated inside the body, which stays as sent: their
 * slot has room for a copy of the name after the value. */
static const char *value_of(const vox_event *ev, vox__hdr *h)
{
    char *slot = ev->dec + h->val;
    if (!h->nvals) {
        h->nvals = (uint16_t)decode(ev, h);
        if (!ev->names_nul) {
            memcpy(ev->dec + h->name, ev->base + h->name, h->nlen);
            ev->dec[h->name + h->nlen] = '\0';
        }
    }
    return slot;
}

static const char *name_of(const vox_event *ev, const vox__hdr *h)
{
    return ev->names_nul ? ev->base + h->name : ev->dec + h->name;
}

/* A lazy event indexes its view the first time it is iterated. */
static vox_event *indexed(const vox_event *ev)
{
    vox_event *e = (vox_event *)ev; /* read by one thread at a time */
    if (!e->indexed) {
        vox__lines L = {e->base, e->nl, e->colon, e->nwords, e->hend};
        e->nhdr = (uint32_t)vox__lines_index(&L, e->hdr);
        e->indexed = 1;
    }
    return e;
}

static vox__hdr *lookup(const vox_event *ev, const char *name)
{
    size_t n = strlen(name);
    for (uint32_t i = 0; i < ev->nhdr; i++) {
        vox__hdr *h = &ev->hdr[i];
        if (h->nlen == n && vox__ieq(ev->base + h->name, n, name))
            return h;
    }
    return NULL;
}

/* A lookup in a lazy event, through its bits: names that no header can
 * have (a ':' or a newline in them, the dropped Content-Length) first. */
static const char *lazy_get(const vox_event *ev, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > VOX__MAX_NAME || memchr(name, ':', n) || memchr(name, '\n', n) ||
        (n == 14 && vox__ieq("content-length", 14, name)))
        return NULL;
    vox__lines L = {ev->base, ev->nl, ev->colon, ev->nwords, ev->hend};
    size_t ls = vox__lines_find(&L, name, n, 0);
    if (ls == SIZE_MAX)
        return NULL;
    vox__hdr h = vox__lines_header(&L, ls, ls + n);
    if (!done_bit(ev, ls + n, 0))
        decode(ev, &h);
    return ev->dec + h.val;
}

const char *vox_event_get(const vox_event *ev, const char *name)
{
    if (!ev || !name)
        return NULL;
    if (ev->nl)
        return lazy_get(ev, name);
    vox__hdr *h = lookup(ev, name);
    return h ? value_of(ev, h) : NULL;
}

const char *vox_event_name(const vox_event *ev)
{
    if (!ev)
        return "";
    if (!ev->name) { /* every dispatch asks for it */
        const char *n = vox_event_get(ev, "Event-Name");
        ((vox_event *)ev)->name = n ? n : ""; /* read by one thread at a time */
    }
    return ev->name;
}

const char *vox_event_subclass(const vox_event *ev)
{
    return vox_event_get(ev, "Event-Subclass");
}

size_t vox_event_header_count(const vox_event *ev)
{
    return ev ? ev->nview : 0;
}

int vox_event_header_at(const vox_event *ev, size_t i, const char **name, const char **value,
                        size_t *nvalues)
{
    if (!ev || i >= ev->nview)
        return VOX_EINVAL;
    vox__hdr *h = &indexed(ev)->hdr[i];
    const char *v = value_of(ev, h);
    if (name)
        *name = name_of(ev, h);
    if (value)
        *value = v;
    if (nvalues)
        *nvalues = h->nvals;
    return 0;
}

const char *vox_event_value_at(const vox_event *ev, size_t i, size_t k)
{
    if (!ev || i >= ev->nview)
        return NULL;
    vox__hdr *h = &indexed(ev)->hdr[i];
    const char *v = value_of(ev, h);
    if (k >= h->nvals)
        return NULL;
    while (k--)
        v += strlen(v) + 1;
    return v;
}

/* A lazy event's own body, found the first time it is asked for: in the
 * message's copy of the frame, NUL-terminated in the mirror when bytes
 * follow it. */
static void lazy_body(vox_event *ev)
{
    vox__msg_own(ev->msg);
    const char *eb = ev->body_len ? ev->base + ev->body_off : "";
    if (ev->body_len && ev->body_off + ev->body_len < ev->msg->body_len) {
        memcpy(ev->dec + ev->body_off, eb, ev->body_len);
        ev->dec[ev->body_off + ev->body_len] = '\0';
        eb = ev->dec + ev->body_off;
    }
    ev->body = eb;
}

const char *vox_event_body(const vox_event *ev, size_t *len)
{
    if (ev && !ev->body)
        lazy_body((vox_event *)ev); /* read by one thread at a time */
    if (len)
        *len = ev ? ev->body_len : 0;
    return ev ? ev->body : "";
}

vox_msg *vox_event_msg(const vox_event *ev)
{
    return ev ? ev->msg : NULL;
}
