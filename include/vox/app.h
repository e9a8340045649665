/* libvox app — applications run on a call, and api commands run by
 * FreeSWITCH, as straight-line blocking helpers and as argument builders.
 *
 * Two namespaces, as FreeSWITCH has them:
 *   - applications (mod_dptools: answer, bridge, playback, …) run on one
 *     channel with sendmsg execute: vox_answer(call), vox_bridge(call, …).
 *     Each blocks until the application's CHANNEL_EXECUTE_COMPLETE (the
 *     sendmsg carries event-lock), through vox_exec (vox/client.h).
 *   - api commands (mod_commands: originate, uuid_kill, …) run by FreeSWITCH
 *     on any connection: vox_api_originate(client, …), through vox_api.
 *
 * Builders: every helper first writes its text with a builder that async
 * users can call too: vox_arg_* writes an application argument (give it to
 * vox_conn_execute as vox_execute.arg), vox_api_cmd_* writes an api command
 * line without the leading "api " (give it to vox_conn_api as cmd).
 * A builder appends to out (a zeroed or reused vox_buf; release with
 * vox_buf_free); out->data is NUL-terminated after success. On error out's
 * length and text are left as they were (though a fresh out may have been
 * given memory: release it anyway). out NULL -> VOX_EINVAL. Every builder
 * returns 0, VOX_EINVAL or VOX_ENOMEM, and reads its arguments during the
 * call only.
 *
 * Argument checks (every string, in every function): NULL or "" where a
 * value is required, a CR or LF anywhere -> VOX_EINVAL. Where FreeSWITCH
 * splits the argument on spaces ("words" below), a word holding a space or
 * a tab is refused with VOX_EINVAL too; texts documented as "text" may hold
 * spaces.
 *
 * Channel variables in `{a=b,c=d}` blocks (bridge, originate): FreeSWITCH
 * splits the block on ',' and strips single quotes, honouring a backslash
 * before ',', '\'' and '"'. So a value's ',' is written as `\,`, a value
 * holding a space is wrapped in single quotes, and a value holding '{', '}',
 * '\'', '"' or '\\' is refused (VOX_EINVAL): FreeSWITCH finds the end of the
 * block by brace matching and older versions unescape backslashes
 * differently. A name must be a word without '=', ',', '{', '}', '[', ']',
 * '\'', '"' or '\\'.
 *
 * Blocking helpers: call is the vox_call handed to the call function; they
 * run on the call's own channel. An inbound vox_client gets VOX_EINVAL
 * (vox_exec needs a channel uuid there, and these give none): inbound, build
 * the argument and call vox_exec with x->uuid. Errors besides VOX_EINVAL
 * (call NULL, a bad argument) and VOX_ENOMEM are vox_exec's: VOX_EHANGUP,
 * VOX_EREPLY, VOX_ETIMEDOUT, VOX_ECLOSED. An application that ran and
 * failed (a bridge that found nobody) still returns 0: read its result from
 * the channel variables (vox_call_variable) or from the completion event
 * (vox_run_app).
 *
 * Api helpers: c is an inbound client or a call. *reply (may be NULL when
 * not wanted) is the api/response as vox_api gives it; caller frees with
 * vox_msg_free; NULL on any other error. VOX_EREPLY when its body starts
 * with -ERR or -USAGE (*reply is set then too). Errors: VOX_EINVAL (c NULL,
 * a bad argument as the builder says) and vox_api's.
 *
 * Thread rules: builders are pure and thread-safe. Blocking helpers follow
 * the handle's rules: one thread at a time per call or client.
 */
#ifndef VOX_APP_H
#define VOX_APP_H

#include <vox/client.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define VOX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VOX_PRINTF(f, a)
#endif

/* ============================================================ builders */

/* `{a=b,c=d}` from n channel variables (nothing at all when n is 0), with
 * the escaping described above. vars NULL with n > 0: VOX_EINVAL. */
VOX_EXPORT int vox_arg_vars(vox_buf *out, const vox_header *vars, size_t n);

typedef struct vox_bridge_opts {
    /* Endpoints, e.g. "user/1000", "sofia/gateway/trunk/5551234". An
     * endpoint may carry its own `[a=b]` block; outside it no ',' or '|'. */
    const char *const *endpoints;
    size_t nendpoints;
    /* Failover groups: the endpoints are cut into ngroups consecutive groups
     * of groups[i] endpoints each (their sum must be nendpoints); the members
     * of one group ring at once (joined with ','), the next group is tried
     * when the previous failed (joined with '|'). ngroups 0: one group. */
    const size_t *groups;
    size_t ngroups;
    /* Channel variables for every leg: `{a=b,...}` in front. */
    const vox_header *vars;
    size_t nvars;
} vox_bridge_opts;

/* The bridge argument: `{vars}e1,e2|e3,e4`. VOX_EINVAL: o or endpoints
 * NULL, nendpoints 0, an endpoint "" or with unbalanced `[ ]`, a group of 0
 * or groups that do not add up to nendpoints, groups NULL with ngroups > 0,
 * a bad variable. */
VOX_EXPORT int vox_arg_bridge(vox_buf *out, const vox_bridge_opts *o);

/* Options of play_and_get_digits. A zero or NULL field takes the default
 * shown (Librevox's defaults; invalid_file is this library's). */
typedef struct vox_pagd {
    const char *file;          /* required, a word: the prompt */
    const char *invalid_file;  /* word; "silence_stream://250" */
    unsigned min;              /* 1 */
    unsigned max;              /* 2 */
    unsigned tries;            /* 3 */
    unsigned timeout_ms;       /* 5000 */
    const char *terminators;   /* word; "#" */
    const char *var;           /* word; "read_digits_var": where FreeSWITCH
                                * stores the digits */
    const char *regexp;        /* word; "\\d+" */
    unsigned digit_timeout_ms; /* 0: not sent (FreeSWITCH uses timeout_ms) */
} vox_pagd;

/* `min max tries timeout terminators file invalid_file var regexp
 * [digit_timeout]`. VOX_EINVAL also when max < min. */
VOX_EXPORT int vox_arg_play_and_get_digits(vox_buf *out, const vox_pagd *o);

/* Options of read (same defaults as vox_pagd). */
typedef struct vox_read_opts {
    const char *file;        /* required, a word */
    unsigned min;            /* 1 */
    unsigned max;            /* 2 */
    unsigned timeout_ms;     /* 5000 */
    const char *terminators; /* word; "#" */
    const char *var;         /* word; "read_digits_var" */
} vox_read_opts;

/* `min max file var timeout terminators`. VOX_EINVAL also when max < min. */
VOX_EXPORT int vox_arg_read(vox_buf *out, const vox_read_opts *o);

/* `^^:a=b:c=d` (FreeSWITCH's multiset with ':' as the separator). n >= 1
 * and vars not NULL; a name is a word without '='; neither names nor values
 * may hold ':'. */
VOX_EXPORT int vox_arg_multiset(vox_buf *out, const vox_header *vars, size_t n);

/* `name=value` for set (name a word without '='; value is text, may be
 * "" but not NULL). */
VOX_EXPORT int vox_arg_set(vox_buf *out, const char *name, const char *value);

/* `[nolocal:]name[=value]` for export (name a word without '='; value text,
 * NULL: export the variable's current value). */
VOX_EXPORT int vox_arg_export(vox_buf *out, const char *name, const char *value, int nolocal);

/* `extension [dialplan [context]]` for transfer (words; context needs
 * dialplan). */
VOX_EXPORT int vox_arg_transfer(vox_buf *out, const char *extension, const char *dialplan,
                                const char *context);

/* bind_meta_app: `key listen_to respond_on app[::params]`. */
typedef struct vox_meta_app {
    char key;               /* required: a DTMF digit 0-9 (also * #  A-D) */
    const char *listen_to;  /* word: "a", "b" or "ab"; required */
    const char *respond_on; /* word: "s", "o", "so", "i", … ; required */
    const char *app;        /* word; required */
    const char *params;     /* text, may be NULL */
} vox_meta_app;
VOX_EXPORT int vox_arg_bind_meta_app(vox_buf *out, const vox_meta_app *m);

/* The digits collected by play_and_get_digits or read: the value of
 * variable_<var> in its CHANNEL_EXECUTE_COMPLETE event (var NULL:
 * "read_digits_var"), copied to out (size bytes, NUL-terminated); "" when the
 * variable is absent. Returns 0 or VOX_EINVAL: ev or out NULL, size 0, var
 * not a word or over 246 bytes, or the digits do not fit (out is then "").
 * Thread-safe as the builders are, given ev is read by one thread at a time
 * (see vox/proto.h). */
VOX_EXPORT int vox_digits_from_complete(const vox_event *ev, const char *var, char *out,
                                        size_t size);

/* ======================================================== applications */

/* Run app (a word) with arg (NULL or "": none; text, CR/LF refused here
 * although vox_exec would send it as a body, since no application below
 * takes lines), with event-lock, and wait for its completion. *complete (may
 * be NULL) is the CHANNEL_EXECUTE_COMPLETE message, or the -ERR reply with
 * VOX_EREPLY (as vox_exec); caller frees with vox_msg_free. The generic form
 * of everything below. */
VOX_EXPORT int vox_run_app(vox_call *call, const char *app, const char *arg, vox_msg **complete);

/* answer, pre_answer, park, echo: no argument. */
VOX_EXPORT int vox_answer(vox_call *call);
VOX_EXPORT int vox_pre_answer(vox_call *call);
VOX_EXPORT int vox_park(vox_call *call);
VOX_EXPORT int vox_echo(vox_call *call);
/* hangup [cause] (a word, e.g. "NORMAL_CLEARING"; NULL: FreeSWITCH's
 * default; "" is refused). */
VOX_EXPORT int vox_hangup(vox_call *call, const char *cause);
/* playback <file> (text). */
VOX_EXPORT int vox_playback(vox_call *call, const char *file);
/* play_and_get_digits (see vox_pagd): the digits go to digits (size bytes,
 * "" when none came), read from variable_<o->var>. Errors as
 * vox_digits_from_complete besides the above (VOX_EINVAL: digits NULL or
 * size 0); digits is "" on any error. */
VOX_EXPORT int vox_play_and_get_digits(vox_call *call, const vox_pagd *o, char *digits,
                                       size_t size);
/* read (see vox_read_opts), digits as vox_play_and_get_digits. */
VOX_EXPORT int vox_read(vox_call *call, const vox_read_opts *o, char *digits, size_t size);
/* record <path> [limit_s] (path a word, required; limit_s 0: none). */
VOX_EXPORT int vox_record(vox_call *call, const char *path, unsigned limit_s);
/* bridge to a dialstring built printf-style, e.g.
 * vox_bridge(call, "sofia/gateway/trunk/%s", digits). The result is text
 * given to FreeSWITCH as is (VOX_EINVAL: fmt NULL, an empty result, CR/LF). */
VOX_EXPORT int vox_bridge(vox_call *call, const char *fmt, ...) VOX_PRINTF(2, 3);
/* bridge with endpoints, groups and variables (see vox_arg_bridge). */
VOX_EXPORT int vox_bridge_ex(vox_call *call, const vox_bridge_opts *o);
/* att_xfer <endpoint>, deflect <uri>, redirect <uri> (texts). */
VOX_EXPORT int vox_att_xfer(vox_call *call, const char *endpoint);
VOX_EXPORT int vox_deflect(vox_call *call, const char *uri);
VOX_EXPORT int vox_redirect(vox_call *call, const char *uri);
/* respond <code> [reason] (e.g. 403, "Forbidden"; code 100-699; reason
 * text of at most 400 bytes, or NULL). */
VOX_EXPORT int vox_respond(vox_call *call, unsigned code, const char *reason);
/* transfer (see vox_arg_transfer). */
VOX_EXPORT int vox_transfer(vox_call *call, const char *extension, const char *dialplan,
                            const char *context);
/* set name=value (see vox_arg_set), unset name (a word without '='),
 * multiset (see vox_arg_multiset), export (see vox_arg_export). */
VOX_EXPORT int vox_set(vox_call *call, const char *name, const char *value);
VOX_EXPORT int vox_unset(vox_call *call, const char *name);
VOX_EXPORT int vox_multiset(vox_call *call, const vox_header *vars, size_t n);
VOX_EXPORT int vox_export(vox_call *call, const char *name, const char *value, int nolocal);
/* gentones <tgml> (text, e.g. "%(500,0,800)"). */
VOX_EXPORT int vox_gentones(vox_call *call, const char *tgml);
/* bind_meta_app (see vox_meta_app); unbind_meta_app [key] (key 0: all,
 * else one of 0-9 * # A-D). */
VOX_EXPORT int vox_bind_meta_app(vox_call *call, const vox_meta_app *m);
VOX_EXPORT int vox_unbind_meta_app(vox_call *call, char key);
/* sleep <ms>. */
VOX_EXPORT int vox_sleep(vox_call *call, unsigned ms);
/* say <module> <type> <method> <text>, e.g. "en", "number", "pronounced",
 * "42" (module, type and method are words). */
VOX_EXPORT int vox_say(vox_call *call, const char *module, const char *type, const char *method,
                       const char *text);
/* speak <engine>|<voice>|<text> (engine and voice without '|'). */
VOX_EXPORT int vox_speak(vox_call *call, const char *engine, const char *voice, const char *text);
/* conference <name[@profile][+flags{…}]> (text). */
VOX_EXPORT int vox_conference(vox_call *call, const char *spec);
/* valet_park <lot> <slot> (words; slot e.g. "101" or "auto in 100 200" is
 * text). */
VOX_EXPORT int vox_valet_park(vox_call *call, const char *lot, const char *slot);
/* record_session <path>, stop_record_session <path> (words). */
VOX_EXPORT int vox_record_session(vox_call *call, const char *path);
VOX_EXPORT int vox_stop_record_session(vox_call *call, const char *path);
/* sched_hangup +<seconds> [cause] (cause a word, or NULL). */
VOX_EXPORT int vox_sched_hangup(vox_call *call, unsigned seconds, const char *cause);

/* ======================================================== api commands */

/* originate. Exactly one of extension and app. */
typedef struct vox_originate {
    const char *endpoint;  /* required word, e.g. "user/1000" */
    const char *extension; /* word: dialplan extension to run, or */
    const char *app;       /* word: application run as `&app(app_args)` */
    const char *app_args;  /* word inside the parentheses (no ')'), may be NULL */
    const char *dialplan;  /* word, e.g. "XML"; "XML" when only context is set */
    const char *context;   /* word, e.g. "default" */
    /* Sent as the channel variables origination_caller_id_name,
     * origination_caller_id_number and originate_timeout, so that none of
     * the positional arguments needs a placeholder. */
    const char *cid_name;
    const char *cid_num;
    unsigned timeout_s;     /* 0: FreeSWITCH's default (60 s) */
    const vox_header *vars; /* more channel variables, after those above */
    size_t nvars;
} vox_originate;

/* `originate {vars}endpoint extension|&app(args) [dialplan [context]]`. */
VOX_EXPORT int vox_api_cmd_originate(vox_buf *out, const vox_originate *o);
/* `hupall [cause [var value]]` (words; var and value go together, and
 * need cause). */
VOX_EXPORT int vox_api_cmd_hupall(vox_buf *out, const char *cause, const char *var,
                                  const char *value);

typedef enum vox_hash_op { VOX_HASH_INSERT = 0, VOX_HASH_SELECT, VOX_HASH_DELETE } vox_hash_op;
/* `hash insert/realm/key/value`, `hash select/realm/key`,
 * `hash delete/realm/key` (realm and key without '/'; value only with
 * insert, required there, a text). */
VOX_EXPORT int vox_api_cmd_hash(vox_buf *out, vox_hash_op op, const char *realm, const char *key,
                                const char *value);
/* `uuid_transfer uuid [-bleg|-both] dest [dialplan [context]]`; leg NULL,
 * "-bleg" or "-both"; the others words (uuid and dest required, context
 * needs dialplan). */
VOX_EXPORT int vox_api_cmd_uuid_transfer(vox_buf *out, const char *uuid, const char *leg,
                                         const char *dest, const char *dialplan,
                                         const char *context);
/* `uuid_record uuid start|stop path [limit_s]` (uuid and path words;
 * limit_s only with start, else VOX_EINVAL). */
VOX_EXPORT int vox_api_cmd_uuid_record(vox_buf *out, const char *uuid, int start, const char *path,
                                       unsigned limit_s);
/* A command and its words, joined by single spaces: `cmd w1 w2 …` up to the
 * first NULL among words[0..n-1] (later ones must be NULL too: VOX_EINVAL).
 * cmd and each word: no space or tab, no CR/LF, not "". words may be NULL
 * when n is 0. The building block of the simple commands below. */
VOX_EXPORT int vox_api_cmd_words(vox_buf *out, const char *cmd, const char *const *words, size_t n);

/* status */
VOX_EXPORT int vox_api_status(vox_client *c, vox_msg **reply);
/* originate (see vox_originate). On success the body is "+OK <uuid>". */
VOX_EXPORT int vox_api_originate(vox_client *c, const vox_originate *o, vox_msg **reply);
/* fsctl <args> (text, e.g. "loglevel 7"). */
VOX_EXPORT int vox_api_fsctl(vox_client *c, const char *args, vox_msg **reply);
/* hupall (see vox_api_cmd_hupall). */
VOX_EXPORT int vox_api_hupall(vox_client *c, const char *cause, const char *var, const char *value,
                              vox_msg **reply);
/* hash (see vox_api_cmd_hash). */
VOX_EXPORT int vox_api_hash(vox_client *c, vox_hash_op op, const char *realm, const char *key,
                            const char *value, vox_msg **reply);
/* uuid_park <uuid>; uuid_bridge <uuid> <other>; uuid_kill <uuid> [cause]
 * (words; cause may be NULL). */
VOX_EXPORT int vox_api_uuid_park(vox_client *c, const char *uuid, vox_msg **reply);
VOX_EXPORT int vox_api_uuid_bridge(vox_client *c, const char *uuid, const char *other,
                                   vox_msg **reply);
VOX_EXPORT int vox_api_uuid_kill(vox_client *c, const char *uuid, const char *cause,
                                 vox_msg **reply);
/* uuid_transfer (see vox_api_cmd_uuid_transfer). */
VOX_EXPORT int vox_api_uuid_transfer(vox_client *c, const char *uuid, const char *leg,
                                     const char *dest, const char *dialplan, const char *context,
                                     vox_msg **reply);
/* uuid_dump <uuid> (the body lists the channel's headers). */
VOX_EXPORT int vox_api_uuid_dump(vox_client *c, const char *uuid, vox_msg **reply);
/* uuid_getvar <uuid> <name> (words; body: the value, or "_undef_"). */
VOX_EXPORT int vox_api_uuid_getvar(vox_client *c, const char *uuid, const char *name,
                                   vox_msg **reply);
/* uuid_setvar <uuid> <name> [value] (uuid and name words; value text, not
 * ""; NULL unsets). */
VOX_EXPORT int vox_api_uuid_setvar(vox_client *c, const char *uuid, const char *name,
                                   const char *value, vox_msg **reply);
/* uuid_broadcast <uuid> <path> [leg] (path a word, leg "aleg", "bleg",
 * "both" or NULL). */
VOX_EXPORT int vox_api_uuid_broadcast(vox_client *c, const char *uuid, const char *path,
                                      const char *leg, vox_msg **reply);
/* uuid_record (see vox_api_cmd_uuid_record). */
VOX_EXPORT int vox_api_uuid_record(vox_client *c, const char *uuid, int start, const char *path,
                                   unsigned limit_s, vox_msg **reply);
/* uuid_send_dtmf <uuid> <digits> (digits a word, e.g. "123#" or "1@500"). */
VOX_EXPORT int vox_api_uuid_send_dtmf(vox_client *c, const char *uuid, const char *digits,
                                      vox_msg **reply);
/* uuid_exists <uuid>: 1 when the channel exists, 0 when not, or an error
 * (as the helpers above, and VOX_EPROTO when the body is neither "true" nor
 * "false"). */
VOX_EXPORT int vox_api_uuid_exists(vox_client *c, const char *uuid);
/* `show channels as json`, `show calls as json`. */
VOX_EXPORT int vox_api_show_channels(vox_client *c, vox_msg **reply);
VOX_EXPORT int vox_api_show_calls(vox_client *c, vox_msg **reply);
/* global_getvar <name> (a word; body: the value, "" when unset). */
VOX_EXPORT int vox_api_global_getvar(vox_client *c, const char *name, vox_msg **reply);
/* reloadxml */
VOX_EXPORT int vox_api_reloadxml(vox_client *c, vox_msg **reply);

#ifdef __cplusplus
}
#endif
#endif
