/* Event hooks: by Event-Name, by Event-Subclass (CUSTOM), or every event,
 * run in the order they were added, then on_event. */
#include <string.h>

#include <vox/conn.h>

#include "conn_int.h"

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
    c->hooks[c->nhooks++] = (vox__hook){copy, cb, userdata};
    return 0;
}

static int hook_matches(const vox__hook *h, const char *name, const char *sub)
{
    return !h->name || vox__str_ieq(name, h->name) || vox__str_ieq(sub, h->name);
}

/* Hooks added by a hook run from the next event on; a close inside any
 * callback stops the rest. c->hooks may move while a callback runs. */
void vox__hooks_dispatch(vox_conn *c, const vox_event *ev)
{
    const char *name = vox_event_name(ev);
    const char *sub = strcmp(name, "CUSTOM") ? NULL : vox_event_subclass(ev);
    size_t n = c->nhooks;
    for (size_t i = 0; i < n && !c->ended; i++) {
        vox__hook h = c->hooks[i];
        if (hook_matches(&h, name, sub))
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
