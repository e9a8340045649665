/* Api command lines (without the leading "api "): originate, hupall, hash,
 * uuid_transfer, uuid_record, and the plain `cmd word word …` form. */
#include <stdio.h>

#include "app_int.h"

/* `cmd w1 w2 …` up to the first NULL; words after a NULL are refused. */
static int append_words(vox_buf *out, const char *cmd, const char *const *words, size_t n)
{
    size_t used = 0;

    if (!vox__app_word(cmd) || (n && !words))
        return VOX_EINVAL;
    while (used < n && words[used])
        used++;
    for (size_t i = used; i < n; i++)
        if (words[i])
            return VOX_EINVAL;
    for (size_t i = 0; i < used; i++)
        if (!vox__app_word(words[i]))
            return VOX_EINVAL;
    int rc = vox__buf_appends(out, cmd);
    for (size_t i = 0; !rc && i < used; i++)
        rc = vox__app_cat(out, " ", words[i], NULL);
    return rc;
}

int vox_api_cmd_words(vox_buf *out, const char *cmd, const char *const *words, size_t n)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc)
        rc = append_words(out, cmd, words, n);
    return vox__app_end(out, mark, rc);
}

/* ------------------------------------------------------------- originate */

static int originate_check(const vox_originate *o)
{
    if (!o || !vox__app_word(o->endpoint) || !o->extension == !o->app)
        return VOX_EINVAL;
    if (o->extension && !vox__app_word(o->extension))
        return VOX_EINVAL;
    if (o->app && (!vox__app_word(o->app) || strpbrk(o->app, "()")))
        return VOX_EINVAL;
    if (o->app_args && (!vox__app_word(o->app_args) || strchr(o->app_args, ')')))
        return VOX_EINVAL;
    if ((o->dialplan && !vox__app_word(o->dialplan)) || (o->context && !vox__app_word(o->context)))
        return VOX_EINVAL;
    if (o->nvars && !o->vars)
        return VOX_EINVAL;
    return 0;
}

/* Caller id and timeout travel as channel variables, ahead of the user's. */
static int originate_vars(vox_buf *out, const vox_originate *o)
{
    vox_header *all = NULL;
    char tmo[16];
    size_t n = 0;
    int rc;

    all = vox__calloc(o->nvars + 3, sizeof *all);
    if (!all)
        return VOX_ENOMEM;
    if (o->cid_name)
        all[n++] = (vox_header){"origination_caller_id_name", o->cid_name};
    if (o->cid_num)
        all[n++] = (vox_header){"origination_caller_id_number", o->cid_num};
    if (o->timeout_s) {
        snprintf(tmo, sizeof tmo, "%u", o->timeout_s);
        all[n++] = (vox_header){"originate_timeout", tmo};
    }
    for (size_t i = 0; i < o->nvars; i++)
        all[n++] = o->vars[i];
    rc = vox_arg_vars(out, all, n);
    vox__free(all);
    return rc;
}

static int originate_target(vox_buf *out, const vox_originate *o)
{
    if (o->extension)
        return vox__app_cat(out, " ", o->extension, NULL);
    return vox__app_cat(out, " &", o->app, "(", o->app_args ? o->app_args : "", ")", NULL);
}

int vox_api_cmd_originate(vox_buf *out, const vox_originate *o)
{
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc)
        rc = originate_check(o);
    if (!rc)
        rc = vox__buf_appends(out, "originate ");
    if (!rc)
        rc = originate_vars(out, o);
    if (!rc)
        rc = vox__buf_appends(out, o->endpoint);
    if (!rc)
        rc = originate_target(out, o);
    if (!rc && (o->dialplan || o->context))
        rc = vox__app_cat(out, " ", o->dialplan ? o->dialplan : "XML", NULL);
    if (!rc && o->context)
        rc = vox__app_cat(out, " ", o->context, NULL);
    return vox__app_end(out, mark, rc);
}

/* ------------------------------------------------------- other commands */

int vox_api_cmd_hupall(vox_buf *out, const char *cause, const char *var, const char *value)
{
    const char *w[] = {cause, var, value};
    if ((var && !cause) || (value && !var) || (var && !value))
        return VOX_EINVAL;
    return vox_api_cmd_words(out, "hupall", w, 3);
}

static int hash_ok(vox_hash_op op, const char *realm, const char *key, const char *value)
{
    if (!vox__app_word(realm) || !vox__app_word(key) || strchr(realm, '/') || strchr(key, '/'))
        return 0;
    if (op == VOX_HASH_INSERT)
        return vox__app_text(value) && *value;
    return (op == VOX_HASH_SELECT || op == VOX_HASH_DELETE) && !value;
}

int vox_api_cmd_hash(vox_buf *out, vox_hash_op op, const char *realm, const char *key,
                     const char *value)
{
    static const char *const ops[] = {"insert", "select", "delete"};
    size_t mark;
    int rc = vox__app_begin(out, &mark);
    if (!rc && !hash_ok(op, realm, key, value))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__app_cat(out, "hash ", ops[op], "/", realm, "/", key, NULL);
    if (!rc && value)
        rc = vox__app_cat(out, "/", value, NULL);
    return vox__app_end(out, mark, rc);
}

int vox_api_cmd_uuid_transfer(vox_buf *out, const char *uuid, const char *leg, const char *dest,
                              const char *dialplan, const char *context)
{
    if (leg && strcmp(leg, "-bleg") != 0 && strcmp(leg, "-both") != 0)
        return VOX_EINVAL;
    if (!uuid || !dest || (context && !dialplan))
        return VOX_EINVAL;
    const char *w[] = {uuid, leg ? leg : dest, leg ? dest : dialplan, leg ? dialplan : context,
                       leg ? context : NULL};
    return vox_api_cmd_words(out, "uuid_transfer", w, 5);
}

int vox_api_cmd_uuid_record(vox_buf *out, const char *uuid, int start, const char *path,
                            unsigned limit_s)
{
    char lim[16] = "";

    if (!uuid || !path || (!start && limit_s))
        return VOX_EINVAL;
    if (limit_s)
        snprintf(lim, sizeof lim, "%u", limit_s);
    const char *w[] = {uuid, start ? "start" : "stop", path, limit_s ? lim : NULL};
    return vox_api_cmd_words(out, "uuid_record", w, 4);
}
