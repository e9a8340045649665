/* Blocking applications: build the argument, run it with event-lock
 * through vox_exec, wait for its completion. */
#include <stdarg.h>
#include <stdio.h>

#include "app_int.h"

int vox_run_app(vox_call *call, const char *app, const char *arg, vox_msg **complete)
{
    if (complete)
        *complete = NULL;
    if (!call || !vox__app_word(app) || (arg && !vox__app_text(arg)))
        return VOX_EINVAL;
    vox_execute x = {.app = app, .arg = arg && *arg ? arg : NULL, .event_lock = 1};
    return vox_exec(call, &x, complete);
}

static int run0(vox_call *call, const char *app)
{
    return vox_run_app(call, app, NULL, NULL);
}

/* Run app with the argument a builder left in b (rc its result), free b. */
static int run_buf(vox_call *call, const char *app, vox_buf *b, int rc, vox_msg **complete)
{
    if (!rc)
        rc = vox_run_app(call, app, b->data, complete);
    vox_buf_free(b);
    return rc;
}

/* Run app with a required text argument. */
static int run_text(vox_call *call, const char *app, const char *arg)
{
    if (!vox__app_text(arg) || !*arg)
        return VOX_EINVAL;
    return vox_run_app(call, app, arg, NULL);
}

/* Run app with its words joined by spaces (a NULL ends the list). */
static int run_words(vox_call *call, const char *app, const char *const *w, size_t n)
{
    vox_buf b = {0};
    size_t mark;
    int rc = vox__app_begin(&b, &mark);
    for (size_t i = 0; !rc && i < n && w[i]; i++) {
        if (!vox__app_word(w[i]))
            rc = VOX_EINVAL;
        else
            rc = vox__app_cat(&b, i ? " " : "", w[i], NULL);
    }
    return run_buf(call, app, &b, rc, NULL);
}

int vox_answer(vox_call *call)
{
    return run0(call, "answer");
}
int vox_pre_answer(vox_call *call)
{
    return run0(call, "pre_answer");
}
int vox_park(vox_call *call)
{
    return run0(call, "park");
}
int vox_echo(vox_call *call)
{
    return run0(call, "echo");
}

int vox_hangup(vox_call *call, const char *cause)
{
    const char *w[] = {cause};
    return run_words(call, "hangup", w, 1);
}

int vox_playback(vox_call *call, const char *file)
{
    return run_text(call, "playback", file);
}

/* Run a digit-collecting application and copy variable_<var> out. */
static int run_digits(vox_call *call, const char *app, vox_buf *b, int rc, const char *var,
                      char *digits, size_t size)
{
    vox_msg *done = NULL;

    if (!digits || size == 0) {
        vox_buf_free(b);
        return VOX_EINVAL;
    }
    digits[0] = '\0';
    rc = run_buf(call, app, b, rc, &done);
    if (!rc) {
        const vox_event *ev = vox_msg_event(done);
        rc = ev ? vox_digits_from_complete(ev, var, digits, size) : VOX_EPROTO;
    }
    vox_msg_free(done);
    return rc;
}

int vox_play_and_get_digits(vox_call *call, const vox_pagd *o, char *digits, size_t size)
{
    vox_buf b = {0};
    int rc = vox_arg_play_and_get_digits(&b, o);
    return run_digits(call, "play_and_get_digits", &b, rc, rc ? NULL : o->var, digits, size);
}

int vox_read(vox_call *call, const vox_read_opts *o, char *digits, size_t size)
{
    vox_buf b = {0};
    int rc = vox_arg_read(&b, o);
    return run_digits(call, "read", &b, rc, rc ? NULL : o->var, digits, size);
}

int vox_record(vox_call *call, const char *path, unsigned limit_s)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%u", limit_s);
    const char *w[] = {path ? path : "", limit_s ? lim : NULL};
    return run_words(call, "record", w, 2);
}

int vox_bridge(vox_call *call, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n, rc;

    if (!fmt)
        return VOX_EINVAL;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return VOX_EINVAL;
    s = vox__malloc((size_t)n + 1);
    if (!s)
        return VOX_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = run_text(call, "bridge", s);
    vox__free(s);
    return rc;
}

int vox_bridge_ex(vox_call *call, const vox_bridge_opts *o)
{
    vox_buf b = {0};
    int rc = vox_arg_bridge(&b, o);
    return run_buf(call, "bridge", &b, rc, NULL);
}

int vox_att_xfer(vox_call *call, const char *ep)
{
    return run_text(call, "att_xfer", ep);
}
int vox_deflect(vox_call *call, const char *uri)
{
    return run_text(call, "deflect", uri);
}
int vox_redirect(vox_call *call, const char *uri)
{
    return run_text(call, "redirect", uri);
}

int vox_respond(vox_call *call, unsigned code, const char *reason)
{
    char arg[512];

    if (code < 100 || code > 699 || (reason && (!vox__app_text(reason) || strlen(reason) > 400)))
        return VOX_EINVAL;
    snprintf(arg, sizeof arg, "%u%s%s", code, reason ? " " : "", reason ? reason : "");
    return vox_run_app(call, "respond", arg, NULL);
}

int vox_transfer(vox_call *call, const char *extension, const char *dialplan, const char *context)
{
    vox_buf b = {0};
    int rc = vox_arg_transfer(&b, extension, dialplan, context);
    return run_buf(call, "transfer", &b, rc, NULL);
}

int vox_set(vox_call *call, const char *name, const char *value)
{
    vox_buf b = {0};
    int rc = vox_arg_set(&b, name, value);
    return run_buf(call, "set", &b, rc, NULL);
}

int vox_unset(vox_call *call, const char *name)
{
    const char *w[] = {name ? name : ""};
    if (name && strchr(name, '='))
        return VOX_EINVAL;
    return run_words(call, "unset", w, 1);
}

int vox_multiset(vox_call *call, const vox_header *vars, size_t n)
{
    vox_buf b = {0};
    int rc = vox_arg_multiset(&b, vars, n);
    return run_buf(call, "multiset", &b, rc, NULL);
}

int vox_export(vox_call *call, const char *name, const char *value, int nolocal)
{
    vox_buf b = {0};
    int rc = vox_arg_export(&b, name, value, nolocal);
    return run_buf(call, "export", &b, rc, NULL);
}

int vox_gentones(vox_call *call, const char *tgml)
{
    return run_text(call, "gentones", tgml);
}

int vox_bind_meta_app(vox_call *call, const vox_meta_app *m)
{
    vox_buf b = {0};
    int rc = vox_arg_bind_meta_app(&b, m);
    return run_buf(call, "bind_meta_app", &b, rc, NULL);
}

int vox_unbind_meta_app(vox_call *call, char key)
{
    char k[2] = {key, '\0'};
    if (key && !strchr("0123456789*#ABCD", key))
        return VOX_EINVAL;
    return vox_run_app(call, "unbind_meta_app", key ? k : NULL, NULL);
}

int vox_sleep(vox_call *call, unsigned ms)
{
    char arg[16];
    snprintf(arg, sizeof arg, "%u", ms);
    return vox_run_app(call, "sleep", arg, NULL);
}

int vox_say(vox_call *call, const char *module, const char *type, const char *method,
            const char *text)
{
    vox_buf b = {0};
    size_t mark;
    int rc = vox__app_begin(&b, &mark);
    if (!rc && (!vox__app_word(module) || !vox__app_word(type) || !vox__app_word(method) ||
                !vox__app_text(text) || !*text))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__app_cat(&b, module, " ", type, " ", method, " ", text, NULL);
    return run_buf(call, "say", &b, rc, NULL);
}

int vox_speak(vox_call *call, const char *engine, const char *voice, const char *text)
{
    vox_buf b = {0};
    size_t mark;
    int rc = vox__app_begin(&b, &mark);
    if (!rc && (!vox__app_word(engine) || !vox__app_word(voice) || strchr(engine, '|') ||
                strchr(voice, '|') || !vox__app_text(text) || !*text))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__app_cat(&b, engine, "|", voice, "|", text, NULL);
    return run_buf(call, "speak", &b, rc, NULL);
}

int vox_conference(vox_call *call, const char *spec)
{
    return run_text(call, "conference", spec);
}

int vox_valet_park(vox_call *call, const char *lot, const char *slot)
{
    vox_buf b = {0};
    size_t mark;
    int rc = vox__app_begin(&b, &mark);
    if (!rc && (!vox__app_word(lot) || !vox__app_text(slot) || !*slot))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__app_cat(&b, lot, " ", slot, NULL);
    return run_buf(call, "valet_park", &b, rc, NULL);
}

int vox_record_session(vox_call *call, const char *path)
{
    const char *w[] = {path ? path : ""};
    return run_words(call, "record_session", w, 1);
}

int vox_stop_record_session(vox_call *call, const char *path)
{
    const char *w[] = {path ? path : ""};
    return run_words(call, "stop_record_session", w, 1);
}

int vox_sched_hangup(vox_call *call, unsigned seconds, const char *cause)
{
    char secs[16];
    snprintf(secs, sizeof secs, "+%u", seconds);
    const char *w[] = {secs, cause};
    return run_words(call, "sched_hangup", w, 2);
}
