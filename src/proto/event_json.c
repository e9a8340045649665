/* text/event-json: one flat JSON object whose values are strings (arrays of
 * strings for multi-valued headers), the event's body under "_body". A small
 * strict reader turns it into the same header index as plain events, with
 * every string unescaped into one arena the message owns: one allocation,
 * so an allocation failure is always told apart from bad input. Numbers,
 * true, false and null are kept as their text; nested objects are refused. */
#include "proto_int.h"

typedef struct jr {
    const char *p, *end;
    char *out; /* arena */
    size_t off;
    const char *reason;
} jr;

static void ws(jr *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int bad(jr *j, const char *why)
{
    j->reason = why;
    return VOX_EPROTO;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = (c >= '0' && c <= '9')                     ? c - '0'
                : ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') ? (c | 0x20) - 'a' + 10
                                                           : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | (unsigned)d;
    }
    return 0;
}

static size_t utf8(char *o, unsigned v)
{
    if (v < 0x80) {
        o[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        o[0] = (char)(0xC0 | v >> 6);
        o[1] = (char)(0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        o[0] = (char)(0xE0 | v >> 12);
        o[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        o[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | v >> 18);
    o[1] = (char)(0x80 | ((v >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((v >> 6) & 0x3F));
    o[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

/* \uXXXX (and a following low surrogate) after the backslash-u. */
static int unicode(jr *j, char *o, size_t *n)
{
    unsigned v, lo;
    if (j->end - j->p < 4 || hex4(j->p, &v))
        return bad(j, "bad \\u escape in JSON event");
    j->p += 4;
    if (v >= 0xD800 && v < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' &&
        !hex4(j->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
        j->p += 6;
    } else if (v >= 0xD800 && v < 0xE000) {
        v = 0xFFFD; /* a lone surrogate */
    }
    *n += utf8(o + *n, v);
    return 0;
}

static int escape(jr *j, char *o, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (j->p >= j->end)
        return bad(j, "unterminated JSON string in event");
    char c = *j->p++;
    if (c == 'u')
        return unicode(j, o, n);
    const char *k = memchr(from, c, sizeof from - 1);
    if (!k)
        return bad(j, "bad escape in JSON event");
    o[(*n)++] = to[k - from];
    return 0;
}

/* A string after its opening quote, unescaped into the arena. */
static int string(jr *j, size_t *at, size_t *len)
{
    char *o = j->out + j->off;
    size_t n = 0;
    for (;;) {
        const char *q = j->p;
        while (q < j->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        memcpy(o + n, j->p, (size_t)(q - j->p));
        n += (size_t)(q - j->p);
        j->p = q;
        if (q >= j->end)
            return bad(j, "unterminated JSON string in event");
        j->p++;
        if (*q == '"')
            break;
        if (*q != '\\')
            return bad(j, "control character in JSON string in event");
        int rc = escape(j, o, &n);
        if (rc)
            return rc;
    }
    o[n] = '\0';
    *at = j->off;
    *len = n;
    j->off += n + 1;
    return 0;
}

/* A number, true, false or null: its text. */
static int literal(jr *j, size_t *at, size_t *len)
{
    const char *s = j->p;
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || (*j->p >= 'a' && *j->p <= 'z') ||
                             *j->p == '-' || *j->p == '+' || *j->p == '.' || *j->p == 'E'))
        j->p++;
    size_t n = (size_t)(j->p - s);
    int ok = n && (strncmp(s, "true", n) == 0 || strncmp(s, "false", n) == 0 ||
                   (*s == '-' || (*s >= '0' && *s <= '9')));
    if (!ok && !(n == 4 && memcmp(s, "null", 4) == 0))
        return bad(j, "bad JSON value in event");
    if (n == 4 && memcmp(s, "null", 4) == 0)
        n = 0;
    memcpy(j->out + j->off, s, n);
    j->out[j->off + n] = '\0';
    *at = j->off;
    *len = n;
    j->off += n + 1;
    return 0;
}

static int scalar(jr *j, size_t *at, size_t *len)
{
    ws(j);
    if (j->p < j->end && *j->p == '"') {
        j->p++;
        return string(j, at, len);
    }
    if (j->p < j->end && (*j->p == '{' || *j->p == '['))
        return bad(j, "JSON event value is neither a string nor an array of strings");
    return literal(j, at, len);
}

static int sep(jr *j, char c)
{
    ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

/* A value: a scalar, or an array of scalars stored one after another. */
static int value(jr *j, vox__hdr *h)
{
    size_t at, len;
    int rc;
    if (!sep(j, '[')) {
        if ((rc = scalar(j, &at, &len)) != 0)
            return rc;
        *h = (vox__hdr){h->name, (uint32_t)at, (uint32_t)len, h->nlen, 1};
        return 0;
    }
    size_t first = j->off, flen = 0;
    uint32_t n = 0;
    if (!sep(j, ']')) {
        do {
            if ((rc = scalar(j, &at, &len)) != 0)
                return rc;
            flen = n++ ? flen : len;
        } while (n < VOX__MAX_VALUES && sep(j, ','));
        if (!sep(j, ']'))
            return bad(j, "bad JSON array in event");
    }
    if (!n) { /* an empty array: one empty value */
        j->out[j->off++] = '\0';
        n = 1;
    }
    *h = (vox__hdr){h->name, (uint32_t)first, (uint32_t)flen, h->nlen, (uint16_t)n};
    return 0;
}

static int member(jr *j, struct vox_event *ev, size_t max_headers)
{
    size_t at, len;
    if (!sep(j, '"'))
        return bad(j, "JSON event key is not a string");
    int rc = string(j, &at, &len);
    if (rc)
        return rc;
    if (!sep(j, ':'))
        return bad(j, "missing ':' in JSON event");
    if (len > VOX__MAX_NAME)
        return bad(j, "JSON event key too long");
    vox__hdr h = {(uint32_t)at, 0, 0, (uint16_t)len, 0};
    if ((rc = value(j, &h)) != 0)
        return rc;
    if (len == 5 && memcmp(j->out + at, "_body", 5) == 0) {
        ev->body = j->out + h.val;
        ev->body_len = h.vlen;
        return 0;
    }
    if (ev->nhdr >= max_headers) {
        j->reason = "too many headers";
        return VOX_ELIMIT;
    }
    ev->hdr[ev->nhdr++] = h;
    return 0;
}

static int object(jr *j, struct vox_event *ev, size_t max_headers)
{
    if (!sep(j, '{'))
        return bad(j, "JSON event is not an object");
    if (!sep(j, '}')) {
        do {
            int rc = member(j, ev, max_headers);
            if (rc)
                return rc;
        } while (sep(j, ','));
        if (!sep(j, '}'))
            return bad(j, "JSON event object not closed");
    }
    ws(j);
    return j->p == j->end ? 0 : bad(j, "bytes after the JSON event");
}

int vox__read_json(vox_msg *m, char *arena, size_t max_headers, const char **reason)
{
    jr j = {m->body, m->body + m->body_len, arena, 0, NULL};
    int rc = object(&j, &m->ev, max_headers);
    *reason = j.reason;
    return rc;
}
