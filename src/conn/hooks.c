/* Event hooks: by Event-Name, by Event-Subclass (CUSTOM), or every event,
 * run in the order they were added, then on_event. */
#include <string.h>

#include <vox/conn.h>

#include "conn_int.h"

/* A hash of the ASCII-lowercased name: its length and its last 8 bytes
 * (event names share their first ones: CHANNEL_...), or every byte of a
 * shorter one. Equal names, whatever their case, hash the same. */
static uint32_t fold_hash(const char *s, size_t *len)
{
    size_t n = strlen(s);
    uint64_t h = n * 0x9e3779b97f4a7c15ull, v = 0;
    *len = n;
    if (n >= 8) {
        memcpy(&v, s + n - 8, 8);
        v |= 0x2020202020202020ull; /* the case bit, and harmless elsewhere */
    } else {
        for (size_t i = 0; i < n; i++)
            v = v << 8 | ((unsigned char)s[i] | 0x20u);
    }
    h ^= v * 0xff51afd7ed558ccdull;
    return (uint32_t)(h ^ h >> 32);
}

int vox_conn_hook(vox_conn *c, const char *name, vox_event_cb cb, void *userdata)
{
    if (!c || !cb || (name && !*name))
        return VOX_EINVAL;
    if (c->nhooks == c->hooks_cap) {
        size_t cap = c->hooks_cap ? c->hooks_cap * 2 : 8;
        vox__hook *h = vox__realloc(c->hooks, cap * sizeof *h);
        if (!h)
            return VOX_ENOMEM;
        c->hooks = h;
        c->hooks_cap = cap;
    }
    char *copy = NULL;
    if (name && !(copy = vox__strdup(name)))
        return VOX_ENOMEM;
    size_t len = 0;
    uint32_t hash = copy ? fold_hash(copy, &len) : 0;
    c->hooks[c->nhooks++] = (vox__hook){copy, len, hash, cb, userdata};
    return 0;
}

/* An event's name or subclass, hashed once for every hook. */
typedef struct key {
    const char *s;
    size_t len;
    uint32_t hash;
} key;

static int key_matches(const vox__hook *h, const key *k)
{
    return k->s && h->hash == k->hash && h->len == k->len &&
           (memcmp(k->s, h->name, k->len) == 0 || vox__ieq(k->s, k->len, h->name));
}

static int hook_matches(const vox__hook *h, const key *name, const key *sub)
{
    return !h->name || key_matches(h, name) || key_matches(h, sub);
}

/* Hooks added by a hook run from the next event on; a close inside any
 * callback stops the rest. c->hooks may move while a callback runs: a
 * hook's callback and userdata are read before it is called. */
void vox__hooks_dispatch(vox_conn *c, const vox_event *ev)
{
    size_t n = c->nhooks;
    key name = {vox_event_name(ev), 0, 0}, sub = {NULL, 0, 0};
    if (n) {
        name.hash = fold_hash(name.s, &name.len);
        if (name.len == 6 && strcmp(name.s, "CUSTOM") == 0 && (sub.s = vox_event_subclass(ev)))
            sub.hash = fold_hash(sub.s, &sub.len);
    }
    for (size_t i = 0; i < n && !c->ended; i++) {
        const vox__hook *h = &c->hooks[i];
        if (!hook_matches(h, &name, &sub))
            continue;
        vox_event_cb cb = h->cb;
        cb(c, ev, h->ud);
    }
    if (!c->ended && c->o.on_event)
        c->o.on_event(c, ev, c->o.userdata);
}

void vox__hooks_free(vox_conn *c)
{
    for (size_t i = 0; i < c->nhooks; i++)
        vox__free(c->hooks[i].name);
    vox__free(c->hooks);
    c->hooks = NULL;
    c->nhooks = c->hooks_cap = 0;
}
