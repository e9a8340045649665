/* JSON views of messages and events, shared by the subcommands that print
 * them (parse now, events later). Wire text is not always UTF-8 (a body can
 * be anything, a decoded %XX can be any byte), so every string goes through
 * cli_json_bytes, which never fails on bad bytes. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0
 * when the byte at s does not start one within n bytes. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    /* The second byte's range excludes overlong forms and surrogates. */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Offset of the first byte that is not part of valid UTF-8, or len. */
static size_t utf8_valid_prefix(const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;

    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq_len(s + i, len - i);
        if (k == 0)
            return i;
        i += k;
    }
    return len;
}

/* A copy of p where each invalid byte is U+FFFD; caller frees. */
static char *utf8_repair(const char *p, size_t len, size_t bad, size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)p;
    char *out = malloc(bad + 3 * (len - bad) + 1);
    size_t o = bad, i = bad;

    if (!out)
        return NULL;
    memcpy(out, p, bad);
    while (i < len) {
        size_t k = utf8_seq_len(s + i, len - i);
        if (k == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        }
    }
    *outlen = o;
    return out;
}

json_t *cli_json_bytes(const char *p, size_t len)
{
    size_t bad = utf8_valid_prefix(p, len), fixed_len;
    json_t *v;
    char *fixed;

    if (bad == len)
        return json_stringn_nocheck(p, len);
    fixed = utf8_repair(p, len, bad, &fixed_len);
    if (!fixed)
        return NULL;
    v = json_stringn_nocheck(fixed, fixed_len);
    free(fixed);
    return v;
}

/* Add value under name: a second value makes the entry an array. Takes the
 * reference to value in every case. */
static int add_value(json_t *obj, const char *name, json_t *value)
{
    json_t *key = cli_json_bytes(name, strlen(name)), *old;
    int rc = -1;

    if (!key || !value)
        goto out;
    old = json_object_getn(obj, json_string_value(key), json_string_length(key));
    if (!old) {
        rc = json_object_setn_new_nocheck(obj, json_string_value(key), json_string_length(key),
                                          value);
        value = NULL;
    } else if (json_is_array(old)) {
        rc = json_array_append_new(old, value);
        value = NULL;
    } else {
        json_t *arr = json_pack("[O]", old);
        rc = arr ? json_array_append_new(arr, value) : -1;
        value = NULL;
        if (rc == 0)
            rc = json_object_setn_new_nocheck(obj, json_string_value(key), json_string_length(key),
                                              arr);
        else
            json_decref(arr);
    }
out:
    json_decref(value);
    json_decref(key);
    return rc;
}

static json_t *string_or_null(const char *p, size_t len)
{
    return len ? cli_json_bytes(p, len) : json_null();
}

/* One event header: its value, or an array when it has several. */
static json_t *event_header_value(const vox_event *ev, size_t i, size_t nvalues)
{
    json_t *arr;

    if (nvalues == 1) {
        const char *v = vox_event_value_at(ev, i, 0);
        return cli_json_bytes(v ? v : "", v ? strlen(v) : 0);
    }
    arr = json_array();
    for (size_t k = 0; arr && k < nvalues; k++) {
        const char *v = vox_event_value_at(ev, i, k);
        if (json_array_append_new(arr, cli_json_bytes(v ? v : "", v ? strlen(v) : 0))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *event_headers(const vox_event *ev)
{
    json_t *obj = json_object();
    size_t n = vox_event_header_count(ev);

    for (size_t i = 0; obj && i < n; i++) {
        const char *name;
        size_t nvalues;
        if (vox_event_header_at(ev, i, &name, NULL, &nvalues) != 0 ||
            add_value(obj, name, event_header_value(ev, i, nvalues)) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

json_t *cli_json_event(const vox_event *ev)
{
    const char *name = vox_event_name(ev), *sub = vox_event_subclass(ev), *body;
    json_t *obj = json_object();
    size_t body_len;
    int rc;

    if (!obj)
        return NULL;
    body = vox_event_body(ev, &body_len);
    rc = json_object_set_new(obj, "name", cli_json_bytes(name, strlen(name)));
    if (rc == 0 && sub)
        rc = json_object_set_new(obj, "subclass", cli_json_bytes(sub, strlen(sub)));
    if (rc == 0)
        rc = json_object_set_new(obj, "headers", event_headers(ev));
    if (rc == 0)
        rc = json_object_set_new(obj, "body", string_or_null(body, body_len));
    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *msg_headers(const vox_msg *msg)
{
    json_t *obj = json_object();
    size_t n = vox_msg_header_count(msg);

    for (size_t i = 0; obj && i < n; i++) {
        const char *name, *value;
        if (vox_msg_header_at(msg, i, &name, &value) != 0 ||
            add_value(obj, name, cli_json_bytes(value, strlen(value))) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

json_t *cli_json_msg(const vox_msg *msg)
{
    const char *ct = vox_msg_content_type(msg), *body;
    const vox_event *ev = vox_msg_event(msg);
    json_t *obj = json_object();
    size_t body_len;
    int rc;

    if (!obj)
        return NULL;
    body = vox_msg_body(msg, &body_len);
    rc = json_object_set_new(obj, "content_type", cli_json_bytes(ct, strlen(ct)));
    if (rc == 0)
        rc = json_object_set_new(obj, "headers", msg_headers(msg));
    if (rc == 0)
        rc = json_object_set_new(obj, "body", string_or_null(body, body_len));
    if (rc == 0 && ev)
        rc = json_object_set_new(obj, "event", cli_json_event(ev));
    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

int cli_json_print(json_t *v, FILE *out)
{
    if (json_dumpf(v, out, JSON_COMPACT) != 0 || putc('\n', out) == EOF)
        return -1;
    return 0;
}
