/* Blocking api commands: build the command line, run it with vox_api. */
#include <stdio.h>

#include "app_int.h"

/* Run the command a builder left in b (rc its result), free b. */
static int api_buf(vox_client *c, vox_buf *b, int rc, vox_msg **reply)
{
    if (reply)
        *reply = NULL;
    if (!rc && !c)
        rc = VOX_EINVAL;
    if (!rc) {
        vox_msg *r = NULL;
        rc = vox_api(c, b->data, &r);
        if (reply)
            *reply = r;
        else
            vox_msg_free(r);
    }
    vox_buf_free(b);
    return rc;
}

static int api_words(vox_client *c, const char *cmd, const char *const *w, size_t n,
                     vox_msg **reply)
{
    vox_buf b = {0};
    int rc = vox_api_cmd_words(&b, cmd, w, n);
    return api_buf(c, &b, rc, reply);
}

int vox_api_status(vox_client *c, vox_msg **reply)
{
    return api_words(c, "status", NULL, 0, reply);
}

int vox_api_originate(vox_client *c, const vox_originate *o, vox_msg **reply)
{
    vox_buf b = {0};
    int rc = vox_api_cmd_originate(&b, o);
    return api_buf(c, &b, rc, reply);
}

int vox_api_fsctl(vox_client *c, const char *args, vox_msg **reply)
{
    vox_buf b = {0};
    size_t mark;
    int rc = vox__app_begin(&b, &mark);
    if (!rc && (!vox__app_text(args) || !*args))
        rc = VOX_EINVAL;
    if (!rc)
        rc = vox__app_cat(&b, "fsctl ", args, NULL);
    return api_buf(c, &b, rc, reply);
}

int vox_api_hupall(vox_client *c, const char *cause, const char *var, const char *value,
                   vox_msg **reply)
{
    vox_buf b = {0};
    int rc = vox_api_cmd_hupall(&b, cause, var, value);
    return api_buf(c, &b, rc, reply);
}

int vox_api_hash(vox_client *c, vox_hash_op op, const char *realm, const char *key,
                 const char *value, vox_msg **reply)
{
    vox_buf b = {0};
    int rc = vox_api_cmd_hash(&b, op, realm, key, value);
    return api_buf(c, &b, rc, reply);
}

/* A command on one channel: `cmd uuid [a [b]]`; uuid is required. */
static int api_uuid(vox_client *c, const char *cmd, const char *uuid, const char *a, const char *b,
                    vox_msg **reply)
{
    const char *w[] = {uuid, a, b};
    if (!uuid) {
        if (reply)
            *reply = NULL;
        return VOX_EINVAL;
    }
    return api_words(c, cmd, w, 3, reply);
}

int vox_api_uuid_park(vox_client *c, const char *uuid, vox_msg **reply)
{
    return api_uuid(c, "uuid_park", uuid, NULL, NULL, reply);
}

int vox_api_uuid_bridge(vox_client *c, const char *uuid, const char *other, vox_msg **reply)
{
    if (!other) {
        if (reply)
            *reply = NULL;
        return VOX_EINVAL;
    }
    return api_uuid(c, "uuid_bridge", uuid, other, NULL, reply);
}

int vox_api_uuid_kill(vox_client *c, const char *uuid, const char *cause, vox_msg **reply)
{
    return api_uuid(c, "uuid_kill", uuid, cause, NULL, reply);
}

int vox_api_uuid_transfer(vox_client *c, const char *uuid, const char *leg, const char *dest,
                          const char *dialplan, const char *context, vox_msg **reply)
{
    vox_buf b = {0};
    int rc = vox_api_cmd_uuid_transfer(&b, uuid, leg, dest, dialplan, context);
    return api_buf(c, &b, rc, reply);
}

int vox_api_uuid_dump(vox_client *c, const char *uuid, vox_msg **reply)
{
    return api_uuid(c, "uuid_dump", uuid, NULL, NULL, reply);
}

int vox_api_uuid_getvar(vox_client *c, const char *uuid, const char *name, vox_msg **reply)
{
    if (!name) {
        if (reply)
            *reply = NULL;
        return VOX_EINVAL;
    }
    return api_uuid(c, "uuid_getvar", uuid, name, NULL, reply);
}

int vox_api_uuid_setvar(vox_client *c, const char *uuid, const char *name, const char *value,
                        vox_msg **reply)
{
    vox_buf b = {0};
    const char *w[] = {uuid, name};
    int rc = uuid && name ? vox_api_cmd_words(&b, "uuid_setvar", w, 2) : VOX_EINVAL;
    /* FreeSWITCH takes the rest of the line as the value: spaces are fine. */
    if (!rc && value && (!vox__app_text(value) || !*value))
        rc = VOX_EINVAL;
    if (!rc && value)
        rc = vox__app_cat(&b, " ", value, NULL);
    return api_buf(c, &b, rc, reply);
}

int vox_api_uuid_broadcast(vox_client *c, const char *uuid, const char *path, const char *leg,
                           vox_msg **reply)
{
    if (!path || (leg && strcmp(leg, "aleg") && strcmp(leg, "bleg") && strcmp(leg, "both"))) {
        if (reply)
            *reply = NULL;
        return VOX_EINVAL;
    }
    return api_uuid(c, "uuid_broadcast", uuid, path, leg, reply);
}

int vox_api_uuid_record(vox_client *c, const char *uuid, int start, const char *path,
                        unsigned limit_s, vox_msg **reply)
{
    vox_buf b = {0};
    int rc = vox_api_cmd_uuid_record(&b, uuid, start, path, limit_s);
    return api_buf(c, &b, rc, reply);
}

int vox_api_uuid_send_dtmf(vox_client *c, const char *uuid, const char *digits, vox_msg **reply)
{
    if (!digits) {
        if (reply)
            *reply = NULL;
        return VOX_EINVAL;
    }
    return api_uuid(c, "uuid_send_dtmf", uuid, digits, NULL, reply);
}

/* "true" or "false", allowing the trailing newline FreeSWITCH may add. */
static int body_is(const char *body, const char *word)
{
    size_t n = strlen(word);
    return strncmp(body, word, n) == 0 && strspn(body + n, "\r\n") == strlen(body + n);
}

int vox_api_uuid_exists(vox_client *c, const char *uuid)
{
    vox_msg *r = NULL;
    int rc = api_uuid(c, "uuid_exists", uuid, NULL, NULL, &r);
    if (!rc) {
        const char *body = vox_msg_body(r, NULL);
        rc = body_is(body, "true") ? 1 : body_is(body, "false") ? 0 : VOX_EPROTO;
    }
    vox_msg_free(r);
    return rc;
}

int vox_api_show_channels(vox_client *c, vox_msg **reply)
{
    const char *w[] = {"channels", "as", "json"};
    return api_words(c, "show", w, 3, reply);
}

int vox_api_show_calls(vox_client *c, vox_msg **reply)
{
    const char *w[] = {"calls", "as", "json"};
    return api_words(c, "show", w, 3, reply);
}

int vox_api_global_getvar(vox_client *c, const char *name, vox_msg **reply)
{
    const char *w[] = {name};
    if (!name) {
        if (reply)
            *reply = NULL;
        return VOX_EINVAL;
    }
    return api_words(c, "global_getvar", w, 1, reply);
}

int vox_api_reloadxml(vox_client *c, vox_msg **reply)
{
    return api_words(c, "reloadxml", NULL, 0, reply);
}
