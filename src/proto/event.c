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
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
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

/* The decoded first value of h, decoding it now if needed. A plain event's
 * names are not NUL-terminated inside the body, which stays as sent: their
 * slot has room for a copy of the name after the value. */
static const char *value_of(const vox_event *ev, vox__hdr *h)
{
    char *slot = ev->dec + h->val;
    if (!h->nvals) {
        size_t n = vox_url_decode(slot, ev->base + h->val, h->vlen);
        uint32_t nv = vox__split_array(slot, n);
        h->nvals = (uint16_t)(nv > VOX__MAX_VALUES ? VOX__MAX_VALUES : nv);
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

const char *vox_event_get(const vox_event *ev, const char *name)
{
    if (!ev || !name)
        return NULL;
    vox__hdr *h = lookup(ev, name);
    return h ? value_of(ev, h) : NULL;
}

const char *vox_event_name(const vox_event *ev)
{
    const char *n = vox_event_get(ev, "Event-Name");
    return n ? n : "";
}

const char *vox_event_subclass(const vox_event *ev)
{
    return vox_event_get(ev, "Event-Subclass");
}

size_t vox_event_header_count(const vox_event *ev)
{
    return ev ? ev->nhdr : 0;
}

int vox_event_header_at(const vox_event *ev, size_t i, const char **name, const char **value,
                        size_t *nvalues)
{
    if (!ev || i >= ev->nhdr)
        return VOX_EINVAL;
    vox__hdr *h = &ev->hdr[i];
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
    if (!ev || i >= ev->nhdr)
        return NULL;
    vox__hdr *h = &ev->hdr[i];
    const char *v = value_of(ev, h);
    if (k >= h->nvals)
        return NULL;
    while (k--)
        v += strlen(v) + 1;
    return v;
}

const char *vox_event_body(const vox_event *ev, size_t *len)
{
    if (len)
        *len = ev ? ev->body_len : 0;
    return ev ? ev->body : "";
}

vox_msg *vox_event_msg(const vox_event *ev)
{
    return ev ? ev->msg : NULL;
}
