/* text/event-xml: <event><headers><Name>value</Name>…</headers>
 * [<body>text</body>]</event>. Values are XML-escaped and, inside that,
 * URL-encoded as in plain events; both are undone here, once, into an arena
 * the message owns. A small strict reader: anything else is a protocol
 * error, never a guess. */
#include "proto_int.h"

typedef struct xr {
    const char *p, *end;
    char *out; /* arena for names and values */
    size_t off;
    const char *reason;
} xr;

static void skip_ws(xr *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
        x->p++;
}

static int lit(xr *x, const char *s)
{
    size_t n = strlen(s);
    skip_ws(x);
    if ((size_t)(x->end - x->p) < n || memcmp(x->p, s, n) != 0)
        return 0;
    x->p += n;
    return 1;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
}

/* An entity after '&': writes its character(s), advances past ';'. */
static int entity(xr *x, char *dst, size_t *n)
{
    static const struct {
        const char *s;
        char c;
    } ents[] = {{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}};
    for (size_t i = 0; i < VOX__ARRAY_LEN(ents); i++) {
        size_t l = strlen(ents[i].s);
        if ((size_t)(x->end - x->p) >= l && memcmp(x->p, ents[i].s, l) == 0) {
            dst[(*n)++] = ents[i].c;
            x->p += l;
            return 0;
        }
    }
    if (x->p < x->end && *x->p == '#') {
        int hex = x->p + 1 < x->end && (x->p[1] == 'x' || x->p[1] == 'X');
        const char *q = x->p + 1 + hex;
        unsigned long v = 0;
        int digits = 0;
        for (; q < x->end && *q != ';' && digits < 8; q++, digits++) {
            char c = (char)(*q | 0x20);
            int d = (*q >= '0' && *q <= '9')        ? *q - '0'
                    : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                    : -1;
            if (d < 0)
                break;
            v = v * (hex ? 16 : 10) + (unsigned long)d;
        }
        if (q < x->end && *q == ';' && digits && v < 0x80) {
            dst[(*n)++] = (char)v;
            x->p = q + 1;
            return 0;
        }
        if (q < x->end && *q == ';' && digits && v < 0x110000) { /* UTF-8 encode */
            if (v < 0x800) {
                dst[(*n)++] = (char)(0xC0 | (v >> 6));
            } else if (v < 0x10000) {
                dst[(*n)++] = (char)(0xE0 | (v >> 12));
                dst[(*n)++] = (char)(0x80 | ((v >> 6) & 0x3F));
            } else {
                dst[(*n)++] = (char)(0xF0 | (v >> 18));
                dst[(*n)++] = (char)(0x80 | ((v >> 12) & 0x3F));
                dst[(*n)++] = (char)(0x80 | ((v >> 6) & 0x3F));
            }
            dst[(*n)++] = (char)(0x80 | (v & 0x3F));
            x->p = q + 1;
            return 0;
        }
    }
    x->reason = "bad XML entity in event";
    return VOX_EPROTO;
}

/* Text up to the next '<', entities undone, into the arena; NUL-terminated.
 * Returns its offset; *len its length. */
static int text(xr *x, size_t *at, size_t *len)
{
    char *dst = x->out + x->off;
    size_t n = 0;
    while (x->p < x->end && *x->p != '<') {
        char c = *x->p++;
        if (c == '&') {
            if (entity(x, dst, &n))
                return VOX_EPROTO;
        } else {
            dst[n++] = c;
        }
    }
    dst[n] = '\0';
    *at = x->off;
    *len = n;
    x->off += n + 1;
    return 0;
}

/* "<Name>" or "<Name/>": copies the name; *empty for the second form. */
static int open_tag(xr *x, size_t *at, size_t *len, int *empty)
{
    if (!lit(x, "<") || x->p >= x->end || !name_char(*x->p)) {
        x->reason = "expected an XML element in event";
        return VOX_EPROTO;
    }
    const char *s = x->p;
    while (x->p < x->end && name_char(*x->p))
        x->p++;
    *len = (size_t)(x->p - s);
    *empty = lit(x, "/>");
    if (!*empty && !lit(x, ">")) {
        x->reason = "bad XML tag in event";
        return VOX_EPROTO;
    }
    memcpy(x->out + x->off, s, *len);
    x->out[x->off + *len] = '\0';
    *at = x->off;
    x->off += *len + 1;
    return 0;
}

static int close_tag(xr *x, const char *name, size_t len)
{
    if (lit(x, "</") && (size_t)(x->end - x->p) > len && memcmp(x->p, name, len) == 0 &&
        (x->p += len, lit(x, ">")))
        return 0;
    x->reason = "XML element not closed in event";
    return VOX_EPROTO;
}

static int header(xr *x, vox__hdr *h)
{
    size_t nat, nlen, vat = 0, vlen = 0;
    int empty, rc = open_tag(x, &nat, &nlen, &empty);
    if (rc)
        return rc;
    if (empty) {
        x->out[x->off] = '\0';
        vat = x->off++;
    } else if ((rc = text(x, &vat, &vlen)) != 0 || (rc = close_tag(x, x->out + nat, nlen)) != 0) {
        return rc;
    }
    if (nlen > VOX__MAX_NAME) {
        x->reason = "XML element name too long in event";
        return VOX_EPROTO;
    }
    vlen = vox_url_decode(x->out + vat, x->out + vat, vlen);
    uint32_t nv = vox__split_array(x->out + vat, vlen);
    *h = (vox__hdr){(uint32_t)nat, (uint32_t)vat, (uint32_t)strlen(x->out + vat), (uint16_t)nlen,
                    (uint16_t)(nv > VOX__MAX_VALUES ? VOX__MAX_VALUES : nv)};
    return 0;
}

static int body(xr *x, struct vox_event *ev)
{
    size_t at, len;
    const char *save = x->p;
    if (!lit(x, "<body>")) {
        x->p = save;
        return 0;
    }
    int rc = text(x, &at, &len);
    if (rc || (rc = close_tag(x, "body", 4)) != 0)
        return rc;
    ev->body = x->out + at;
    ev->body_len = len;
    return 0;
}

static int parse(xr *x, struct vox_event *ev, size_t max_headers)
{
    if (lit(x, "<?")) {
        const char *q = x->p;
        while (q + 1 < x->end && !(q[0] == '?' && q[1] == '>'))
            q++;
        x->p = q + 2 <= x->end ? q + 2 : x->end;
    }
    x->reason = "XML event without <event><headers>";
    if (!lit(x, "<event>") || !lit(x, "<headers>"))
        return VOX_EPROTO;
    const char *save;
    for (;;) {
        save = x->p;
        if (lit(x, "</headers>"))
            break;
        x->p = save;
        if (ev->nhdr >= max_headers) {
            x->reason = "too many headers";
            return VOX_ELIMIT;
        }
        int rc = header(x, &ev->hdr[ev->nhdr]);
        if (rc)
            return rc;
        ev->nhdr++;
    }
    int rc = body(x, ev);
    if (rc)
        return rc;
    x->reason = "XML event not closed by </event>";
    if (!lit(x, "</event>"))
        return VOX_EPROTO;
    skip_ws(x);
    x->reason = "bytes after </event>";
    return x->p == x->end ? 0 : VOX_EPROTO;
}

int vox__read_xml(vox_msg *m, char *arena, size_t max_headers, const char **reason)
{
    xr x = {m->body, m->body + m->body_len, arena, 0, NULL};
    int rc = parse(&x, &m->ev, max_headers);
    *reason = x.reason;
    return rc;
}
