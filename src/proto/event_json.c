/* text/event-json: one JSON object of string values (arrays for multi-valued
 * headers), the event's body under "_body". The object is turned into the
 * same header index as plain events, its strings copied into one arena the
 * message owns, so no JSON value outlives the parse. */
#include <stdio.h>

#include <jansson.h>

#include "proto_int.h"

/* The text of a scalar, written into out (room for 32 bytes) when it is not
 * a string. NULL for objects and arrays. */
static const char *scalar_text(const json_t *v, char *out, size_t *len)
{
    const char *s = NULL;
    switch (json_typeof(v)) {
    case JSON_STRING:
        *len = json_string_length(v);
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(out, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = out;
        break;
    case JSON_REAL: snprintf(out, 32, "%.17g", json_real_value(v)); s = out; break;
    case JSON_TRUE: s = "true"; break;
    case JSON_FALSE: s = "false"; break;
    case JSON_NULL: s = ""; break;
    default: return NULL;
    }
    *len = strlen(s);
    return s;
}

/* Bytes the arena needs for one value (an array: all its elements). */
static int value_size(const json_t *v, size_t *size)
{
    char tmp[32];
    size_t len;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        *size += json_array_size(v) ? 0 : 1;
        json_array_foreach(v, i, e) {
            if (!scalar_text(e, tmp, &len))
                return VOX_EPROTO;
            *size += len + 1;
        }
        return 0;
    }
    if (!scalar_text(v, tmp, &len))
        return VOX_EPROTO;
    *size += len + 1;
    return 0;
}

static size_t put(char *arena, size_t *off, const char *s, size_t len)
{
    size_t at = *off;
    memcpy(arena + at, s, len);
    arena[at + len] = '\0';
    *off += len + 1;
    return at;
}

/* Copies one value (or every element) into the arena; returns how many. */
static uint32_t put_value(const json_t *v, char *arena, size_t *off, uint32_t *first,
                          uint32_t *flen)
{
    char tmp[32];
    size_t len = 0;
    if (!json_is_array(v)) {
        const char *s = scalar_text(v, tmp, &len);
        *first = (uint32_t)put(arena, off, s, strlen(s) < len ? strlen(s) : len);
        *flen = (uint32_t)strlen(arena + *first);
        return 1;
    }
    size_t i;
    json_t *e;
    *first = (uint32_t)*off;
    if (!json_array_size(v))
        put(arena, off, "", 0);
    json_array_foreach(v, i, e) {
        const char *s = scalar_text(e, tmp, &len);
        put(arena, off, s, strlen(s) < len ? strlen(s) : len);
    }
    *flen = (uint32_t)strlen(arena + *first);
    return json_array_size(v) ? (uint32_t)json_array_size(v) : 1;
}

static int measure(json_t *root, size_t *nhdr, size_t *size, const char **reason)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (value_size(v, size)) {
            *reason = "JSON event value is neither a string nor an array of strings";
            return VOX_EPROTO;
        }
        if (strcmp(key, "_body") != 0) {
            *size += strlen(key) + 1;
            (*nhdr)++;
        }
    }
    return 0;
}

static void fill(vox_msg *m, json_t *root, vox__hdr *h, char *arena)
{
    const char *key;
    json_t *v;
    size_t off = 0, n = 0;
    struct vox_event *ev = &m->ev;
    *ev = (struct vox_event){m, arena, arena, h, 0, "", 0, 1};
    json_object_foreach(root, key, v) {
        uint32_t first, flen;
        if (strcmp(key, "_body") == 0) {
            put_value(v, arena, &off, &first, &flen);
            ev->body = arena + first;
            ev->body_len = flen;
            continue;
        }
        size_t klen = strlen(key);
        h[n].name = (uint32_t)put(arena, &off, key, klen);
        h[n].nlen = (uint32_t)klen;
        h[n].nvals = put_value(v, arena, &off, &first, &flen);
        h[n].val = h[n].dec = first;
        h[n].vlen = flen;
        n++;
    }
    ev->nhdr = (uint32_t)n;
}

int vox__event_json(vox_msg *m, size_t max_headers, const char **reason)
{
    json_error_t err;
    json_t *root = json_loadb(m->body, m->body_len, JSON_ALLOW_NUL, &err);
    if (!root) {
        *reason = "bad JSON in event";
        return json_error_code(&err) == json_error_out_of_memory ? VOX_ENOMEM : VOX_EPROTO;
    }
    int rc = VOX_EPROTO;
    size_t nhdr = 0, size = 0;
    *reason = "JSON event is not an object";
    if (!json_is_object(root) || (rc = measure(root, &nhdr, &size, reason)) != 0)
        goto out;
    rc = VOX_ELIMIT;
    *reason = "too many headers";
    if (nhdr > max_headers || size > UINT32_MAX)
        goto out;
    rc = VOX_ENOMEM;
    size_t hsz = nhdr * sizeof(vox__hdr);
    char *mem = vox__malloc(hsz + size + 1);
    if (!mem)
        goto out;
    m->extra = mem;
    fill(m, root, (vox__hdr *)mem, mem + hsz);
    m->has_event = 1;
    rc = 0;
out:
    json_decref(root);
    return rc;
}
