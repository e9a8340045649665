/* Application arguments: channel-variable blocks, bridge dialstrings,
 * play_and_get_digits, read, set, multiset, export, transfer,
 * bind_meta_app; and the digits of a completion event. */
#include <stdarg.h>
#include <stdio.h>

#include "app_int.h"

#define DEF_VAR "read_digits_var"

int vox__app_word(const char *s)
{
    return s && *s && !strpbrk(s, " \t\r\n");
}

int vox__app_text(const char *s)
{
    return s && !vox__has_crlf(s, (size_t)-1);
}

int vox__app_cat(vox_buf *out, ...)
{
    va_list ap;
    const char *s;
    int rc = 0;

    va_start(ap, out);
    while (!rc && (s = va_arg(ap, const char *)) != NULL)
        rc = vox__buf_appends(out, s);
    va_end(ap);
    return rc;
}

int vox__app_num(vox_buf *out, unsigned long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lu", v);
    return vox__buf_append(out, tmp, (size_t)n);
}

int vox__app_begin(vox_buf *out, size_t *mark)
{
    if (!out)
        return VOX_EINVAL;
    *mark = out->len;
    if (vox__buf_reserve(out, 0))
        return VOX_ENOMEM;
    out->data[out->len] = '\0'; /* a fresh buffer holds "" */
    return 0;
}

int vox__app_end(vox_buf *out, size_t mark, int rc)
{
    if (rc && out && out->data) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc;
}

/* ------------------------------------------------------ variable blocks */

/* A variable name: a word without the characters that delimit the block. */
static int var_name_ok(const char *s)
{
    return vox__app_word(s) && !strpbrk(s, "=,{}[]'\"\\");
}

static int var_value_ok(const char *s)
{
    return vox__app_text(s) && !strpbrk(s, "{}'\"\\");
}

/* The value with ',' escaped, in single quotes when it holds a space. */
static int append_var_value(vox_buf *out, const char *v)
{
    int quote = strchr(v, ' ') != NULL;
    int rc = quote ? vox__buf_append(out, "'", 1) : 0;

    for (const char *p = v; !rc && *p; p++)
        rc = *p == ',' ? vox__buf_append(out, "\\,", 2) : vox__buf_append(out, p, 1);
    if (!rc && quote)
        rc = vox__buf_append(out, "'", 1);
    return rc;
}

static int append_vars(vox_buf *out, const vox_header *vars, size_t n)
{
    int rc = 0;

    if (n == 0)
        return 0;
    if (!vars)
        return VOX_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!var_name_ok(vars[i].name) || !var_value_ok(vars[i].value))
            return VOX_EINVAL;
    rc = vox__buf_append(out, "{", 1);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = vox__app_cat(out, i ? "," : "", vars[i].name, "=", NULL);
        if (!rc)
            rc = append_var_value(out, vars[i].value);
    }
    return rc ? rc : vox__buf_append(out, "}", 1);
}

int vox_arg_vars(vox_buf *out, const vox_header *vars, size_t n)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc)
        rc = append_vars(out, vars, n);
    return vox__app_end(out, mark, rc);
}

/* ---------------------------------------------------------------- bridge */

/* An endpoint: text without ',' or '|' outside its own [..] block. */
static int endpoint_ok(const char *s)
{
    int depth = 0;

    if (!vox__app_text(s) || !*s)
        return 0;
    for (; *s; s++) {
        if (*s == '[')
            depth++;
        else if (*s == ']' && depth > 0)
            depth--;
        else if (depth == 0 && (*s == ',' || *s == '|'))
            return 0;
    }
    return depth == 0;
}

static int bridge_check(const vox_bridge_opts *o)
{
    size_t sum = 0;

    if (!o || !o->endpoints || o->nendpoints == 0 || (o->ngroups && !o->groups))
        return VOX_EINVAL;
    for (size_t i = 0; i < o->nendpoints; i++)
        if (!endpoint_ok(o->endpoints[i]))
            return VOX_EINVAL;
    for (size_t g = 0; g < o->ngroups; g++) {
        if (o->groups[g] == 0)
            return VOX_EINVAL;
        sum += o->groups[g];
    }
    return o->ngroups && sum != o->nendpoints ? VOX_EINVAL : 0;
}

static int append_endpoints(vox_buf *out, const vox_bridge_opts *o)
{
    size_t g = 0, left = o->ngroups ? o->groups[0] : o->nendpoints;
    int rc = 0;

    for (size_t i = 0; !rc && i < o->nendpoints; i++) {
        if (i > 0) {
            const char *sep = ",";
            if (left == 0) {
                left = o->groups[++g];
                sep = "|";
            }
            rc = vox__buf_appends(out, sep);
        }
        if (!rc)
            rc = vox__buf_appends(out, o->endpoints[i]);
        left--;
    }
    return rc;
}

int vox_arg_bridge(vox_buf *out, const vox_bridge_opts *o)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc)
        rc = bridge_check(o);
    if (!rc)
        rc = append_vars(out, o->vars, o->nvars);
    if (!rc)
        rc = append_endpoints(out, o);
    return vox__app_end(out, mark, rc);
}

/* ------------------------------------------------------ digit collection */

static const char *or_default(const char *s, const char *def)
{
    return s ? s : def;
}
static unsigned or_num(unsigned v, unsigned def)
{
    return v ? v : def;
}

static int pagd_check(const vox_pagd *o)
{
    if (!o || !vox__app_word(o->file))
        return VOX_EINVAL;
    const char *opt[] = {o->invalid_file, o->terminators, o->var, o->regexp};
    for (size_t i = 0; i < VOX__ARRAY_LEN(opt); i++)
        if (opt[i] && !vox__app_word(opt[i]))
            return VOX_EINVAL;
    return or_num(o->max, 2) < or_num(o->min, 1) ? VOX_EINVAL : 0;
}

int vox_arg_play_and_get_digits(vox_buf *out, const vox_pagd *o)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc)
        rc = pagd_check(o);
    const unsigned nums[] = {rc ? 0 : or_num(o->min, 1), rc ? 0 : or_num(o->max, 2),
                             rc ? 0 : or_num(o->tries, 3), rc ? 0 : or_num(o->timeout_ms, 5000)};
    for (size_t i = 0; !rc && i < VOX__ARRAY_LEN(nums); i++) {
        rc = vox__app_num(out, nums[i]);
        if (!rc)
            rc = vox__buf_append(out, " ", 1);
    }
    if (!rc)
        rc = vox__app_cat(out, or_default(o->terminators, "#"), " ", o->file, " ",
                          or_default(o->invalid_file, "silence_stream://250"), " ",
                          or_default(o->var, DEF_VAR), " ", or_default(o->regexp, "\\d+"), NULL);
    if (!rc && o->digit_timeout_ms) {
        rc = vox__buf_append(out, " ", 1);
        if (!rc)
            rc = vox__app_num(out, o->digit_timeout_ms);
    }
    return vox__app_end(out, mark, rc);
}

static int read_check(const vox_read_opts *o)
{
    if (!o || !vox__app_word(o->file))
        return VOX_EINVAL;
    if ((o->terminators && !vox__app_word(o->terminators)) || (o->var && !vox__app_word(o->var)))
        return VOX_EINVAL;
    return or_num(o->max, 2) < or_num(o->min, 1) ? VOX_EINVAL : 0;
}

int vox_arg_read(vox_buf *out, const vox_read_opts *o)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc)
        rc = read_check(o);
    if (!rc)
        rc = vox__app_num(out, or_num(o->min, 1));
    if (!rc)
        rc = vox__buf_append(out, " ", 1);
    if (!rc)
        rc = vox__app_num(out, or_num(o->max, 2));
    if (!rc)
        rc = vox__app_cat(out, " ", o->file, " ", or_default(o->var, DEF_VAR), " ", NULL);
    if (!rc)
        rc = vox__app_num(out, or_num(o->timeout_ms, 5000));
    if (!rc)
        rc = vox__app_cat(out, " ", or_default(o->terminators, "#"), NULL);
    return vox__app_end(out, mark, rc);
}

int vox_digits_from_complete(const vox_event *ev, const char *var, char *out, size_t size)
{
    char name[256];
    const char *v;

    if (!out || size == 0)
        return VOX_EINVAL;
    out[0] = '\0';
    if (!ev || (var && !vox__app_word(var)))
        return VOX_EINVAL;
    int n = snprintf(name, sizeof name, "variable_%s", var ? var : DEF_VAR);
    if (n < 0 || (size_t)n >= sizeof name)
        return VOX_EINVAL;
    v = vox_event_get(ev, name);
    if (!v)
        return 0;
    size_t len = strlen(v);
    if (len >= size)
        return VOX_EINVAL;
    memcpy(out, v, len + 1);
    return 0;
}

/* ------------------------------------------------------------ variables */

int vox_arg_set(vox_buf *out, const char *name, const char *value)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc && (!vox__app_word(name) || strchr(name, '=') || !vox__app_text(value)))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__app_cat(out, name, "=", value, NULL);
    return vox__app_end(out, mark, rc);
}

static int multiset_ok(const vox_header *vars, size_t n)
{
    if (!vars || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = vars[i].name, *v = vars[i].value;
        if (!vox__app_word(k) || strpbrk(k, "=:") || !vox__app_text(v) || strchr(v, ':'))
            return 0;
    }
    return 1;
}

int vox_arg_multiset(vox_buf *out, const vox_header *vars, size_t n)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc && !multiset_ok(vars, n))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__buf_appends(out, "^^");
    for (size_t i = 0; !rc && i < n; i++)
        rc = vox__app_cat(out, ":", vars[i].name, "=", vars[i].value, NULL);
    return vox__app_end(out, mark, rc);
}

int vox_arg_export(vox_buf *out, const char *name, const char *value, int nolocal)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc && (!vox__app_word(name) || strchr(name, '=') || (value && !vox__app_text(value))))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__app_cat(out, nolocal ? "nolocal:" : "", name, value ? "=" : "",
                          value ? value : "", NULL);
    return vox__app_end(out, mark, rc);
}

int vox_arg_transfer(vox_buf *out, const char *extension, const char *dialplan, const char *context)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc && (!vox__app_word(extension) || (dialplan && !vox__app_word(dialplan)) ||
                (context && (!dialplan || !vox__app_word(context)))))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__app_cat(out, extension, dialplan ? " " : "", dialplan ? dialplan : "",
                          context ? " " : "", context ? context : "", NULL);
    return vox__app_end(out, mark, rc);
}

static int meta_ok(const vox_meta_app *m)
{
    if (!m || !m->key || !strchr("0123456789*#ABCD", m->key))
        return 0;
    if (!vox__app_word(m->listen_to) || !vox__app_word(m->respond_on) || !vox__app_word(m->app))
        return 0;
    return !m->params || vox__app_text(m->params);
}

int vox_arg_bind_meta_app(vox_buf *out, const vox_meta_app *m)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc && !meta_ok(m))
        rc = VOX_EINVAL;
    if (!rc) {
        char key[2] = {m->key, '\0'};
        rc = vox__app_cat(out, key, " ", m->listen_to, " ", m->respond_on, " ", m->app,
                          m->params ? "::" : "", m->params ? m->params : "", NULL);
    }
    return vox__app_end(out, mark, rc);
}
