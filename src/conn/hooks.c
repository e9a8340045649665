/* Event hooks: by Event-Name, by Event-Subclass (CUSTOM), or every event,
 * run in the order they were added, then on_event. */
#include <string.h>

#include <vox/conn.h>

#include "conn_int.h"

/* FNV-1a over the ASCII-lowercased name. */
static uint32_t fold_hash(const char *s, size_t *len)
{
    uint32_t h = 2166136261u;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char ch = (unsigned char)s[n];
        h = (h ^ (ch >= 'A' && ch <= 'Z' ? ch + 32u : ch)) * 16777619u;
    }
    *len = n;
    return h;
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
    return k->s && h->hash == k->hash && h->len == k->len && vox__ieq(k->s, k->len, h->name);
}

static int hook_matches(const vox__hook *h, const key *name, const key *sub)
{
    return !h->name || key_matches(h, name) || key_matches(h, sub);
}

/* Hooks added by a hook run from the next event on; a close inside any
 * callback stops the rest. c->hooks may move while a callback runs. */
void vox__hooks_dispatch(vox_conn *c, const vox_event *ev)
{
    size_t n = c->nhooks;
    key name = {vox_event_name(ev), 0, 0}, sub = {NULL, 0, 0};
    if (n) {
        name.hash = fold_hash(name.s, &name.len);
        if (strcmp(name.s, "CUSTOM") == 0 && (sub.s = vox_event_subclass(ev)))
            sub.hash = fold_hash(sub.s, &sub.len);
    }
    for (size_t i = 0; i < n && !c->ended; i++) {
        vox__hook h = c->hooks[i];
        if (hook_matches(&h, &name, &sub))
            h.cb(c, ev, h.ud);
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
