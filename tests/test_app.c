/* The app layer: every argument builder's exact text, CR/LF refusal for
 * every string argument, digits from a real EXECUTE_COMPLETE, and the
 * blocking helpers end to end against a scripted FreeSWITCH. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vox/app.h>
#include <vox/server.h>

#include "util/fakefs.h"
#include "util/testutil.h"

/* ------------------------------------------------------ builder table */

static const char *const EP2[] = {"user/1000", "user/1001"};
static const char *const EP4[] = {"a/1", "a/2", "b/1", "b/2"};
static const size_t G22[] = {2, 2};
static const size_t G13[] = {1, 3};
static const vox_header V2[] = {{"a", "b"}, {"c", "d"}};
static const vox_header VESC[] = {{"codecs", "PCMU,PCMA"}, {"name", "John Doe"}};

static int b_vars(vox_buf *b) { return vox_arg_vars(b, V2, 2); }
static int b_vars_none(vox_buf *b) { return vox_arg_vars(b, NULL, 0); }
static int b_vars_esc(vox_buf *b) { return vox_arg_vars(b, VESC, 2); }
static int b_vars_brace(vox_buf *b)
{
    return vox_arg_vars(b, (vox_header[]){{"a", "x}y"}}, 1);
}
static int b_vars_quote(vox_buf *b)
{
    return vox_arg_vars(b, (vox_header[]){{"a", "it's"}}, 1);
}
static int b_vars_badname(vox_buf *b)
{
    return vox_arg_vars(b, (vox_header[]){{"a=b", "x"}}, 1);
}
static int b_bridge1(vox_buf *b)
{
    return vox_arg_bridge(b, &(vox_bridge_opts){.endpoints = EP2, .nendpoints = 1});
}
static int b_bridge2(vox_buf *b)
{
    return vox_arg_bridge(b, &(vox_bridge_opts){.endpoints = EP2, .nendpoints = 2});
}
static int b_bridge_vars(vox_buf *b)
{
    return vox_arg_bridge(
        b, &(vox_bridge_opts){.endpoints = EP2, .nendpoints = 2, .vars = V2, .nvars = 2});
}
static int b_bridge_groups(vox_buf *b)
{
    return vox_arg_bridge(
        b, &(vox_bridge_opts){.endpoints = EP4, .nendpoints = 4, .groups = G22, .ngroups = 2});
}
static int b_bridge_groups13(vox_buf *b)
{
    return vox_arg_bridge(b, &(vox_bridge_opts){.endpoints = EP4, .nendpoints = 4,
                                                .groups = G13, .ngroups = 2, .vars = VESC,
                                                .nvars = 1});
}
static int b_bridge_badsum(vox_buf *b)
{
    return vox_arg_bridge(
        b, &(vox_bridge_opts){.endpoints = EP4, .nendpoints = 4, .groups = G13, .ngroups = 1});
}
static int b_bridge_leg_vars(vox_buf *b)
{
    const char *ep[] = {"[x=1,y=2]user/1000"};
    return vox_arg_bridge(b, &(vox_bridge_opts){.endpoints = ep, .nendpoints = 1});
}
static int b_bridge_comma(vox_buf *b)
{
    const char *ep[] = {"user/1000,user/1001"};
    return vox_arg_bridge(b, &(vox_bridge_opts){.endpoints = ep, .nendpoints = 1});
}
static int b_bridge_empty(vox_buf *b)
{
    return vox_arg_bridge(b, &(vox_bridge_opts){.endpoints = EP2, .nendpoints = 0});
}
static int b_pagd_defaults(vox_buf *b)
{
    return vox_arg_play_and_get_digits(b, &(vox_pagd){.file = "enter.wav"});
}
static int b_pagd_ivr(vox_buf *b)
{
    return vox_arg_play_and_get_digits(
        b, &(vox_pagd){.file = "tone_stream://%(200,0,440)",
                       .invalid_file = "silence_stream://250", .min = 1, .max = 4, .tries = 1,
                       .timeout_ms = 3000, .terminators = "#", .var = "ivr_digits",
                       .regexp = "\\d+"});
}
static int b_pagd_digit_timeout(vox_buf *b)
{
    return vox_arg_play_and_get_digits(
        b, &(vox_pagd){.file = "f.wav", .invalid_file = "bad.wav", .digit_timeout_ms = 2000});
}
static int b_pagd_minmax(vox_buf *b)
{
    return vox_arg_play_and_get_digits(b, &(vox_pagd){.file = "f", .min = 5, .max = 3});
}
static int b_pagd_space(vox_buf *b)
{
    return vox_arg_play_and_get_digits(b, &(vox_pagd){.file = "my file.wav"});
}
static int b_read_defaults(vox_buf *b)
{
    return vox_arg_read(b, &(vox_read_opts){.file = "x.wav"});
}
static int b_read_all(vox_buf *b)
{
    return vox_arg_read(b, &(vox_read_opts){.file = "x.wav", .min = 2, .max = 6,
                                            .timeout_ms = 7000, .terminators = "*",
                                            .var = "pin"});
}
static int b_set(vox_buf *b) { return vox_arg_set(b, "foo", "bar baz"); }
static int b_set_empty(vox_buf *b) { return vox_arg_set(b, "foo", ""); }
static int b_set_badname(vox_buf *b) { return vox_arg_set(b, "a=b", "c"); }
static int b_multiset(vox_buf *b) { return vox_arg_multiset(b, V2, 2); }
static int b_multiset_colon(vox_buf *b)
{
    return vox_arg_multiset(b, (vox_header[]){{"a", "b:c"}}, 1);
}
static int b_export(vox_buf *b) { return vox_arg_export(b, "foo", NULL, 0); }
static int b_export_val(vox_buf *b) { return vox_arg_export(b, "foo", "bar", 0); }
static int b_export_nolocal(vox_buf *b) { return vox_arg_export(b, "foo", "bar", 1); }
static int b_transfer1(vox_buf *b) { return vox_arg_transfer(b, "1000", NULL, NULL); }
static int b_transfer3(vox_buf *b) { return vox_arg_transfer(b, "1000", "XML", "default"); }
static int b_transfer_ctx_only(vox_buf *b) { return vox_arg_transfer(b, "1000", NULL, "d"); }
static int b_meta(vox_buf *b)
{
    return vox_arg_bind_meta_app(b, &(vox_meta_app){'2', "a", "s", "execute_extension",
                                                    "dx XML features"});
}
static int b_meta_noparams(vox_buf *b)
{
    return vox_arg_bind_meta_app(b, &(vox_meta_app){'*', "ab", "so", "hangup", NULL});
}
static int b_meta_badkey(vox_buf *b)
{
    return vox_arg_bind_meta_app(b, &(vox_meta_app){'x', "a", "s", "hangup", NULL});
}
static int b_orig_ext(vox_buf *b)
{
    return vox_api_cmd_originate(b, &(vox_originate){.endpoint = "user/1000",
                                                     .extension = "9100"});
}
static int b_orig_full(vox_buf *b)
{
    return vox_api_cmd_originate(
        b, &(vox_originate){.endpoint = "sofia/gateway/gw/555", .extension = "1000",
                            .dialplan = "XML", .context = "default", .cid_name = "John Doe",
                            .cid_num = "5551234", .timeout_s = 30, .vars = V2, .nvars = 1});
}
static int b_orig_app(vox_buf *b)
{
    return vox_api_cmd_originate(b, &(vox_originate){.endpoint = "loopback/9101/default",
                                                     .app = "park"});
}
static int b_orig_app_args(vox_buf *b)
{
    return vox_api_cmd_originate(
        b, &(vox_originate){.endpoint = "user/1000", .app = "playback",
                            .app_args = "/tmp/a.wav", .context = "public"});
}
static int b_orig_app_paren(vox_buf *b)
{
    return vox_api_cmd_originate(b, &(vox_originate){.endpoint = "user/1000", .app = "playback",
                                                     .app_args = "tone_stream://%(1,0,440)"});
}
static int b_orig_both(vox_buf *b)
{
    return vox_api_cmd_originate(
        b, &(vox_originate){.endpoint = "user/1000", .app = "park", .extension = "1"});
}
static int b_orig_neither(vox_buf *b)
{
    return vox_api_cmd_originate(b, &(vox_originate){.endpoint = "user/1000"});
}
static int b_hupall0(vox_buf *b) { return vox_api_cmd_hupall(b, NULL, NULL, NULL); }
static int b_hupall1(vox_buf *b) { return vox_api_cmd_hupall(b, "NORMAL_CLEARING", NULL, NULL); }
static int b_hupall3(vox_buf *b)
{
    return vox_api_cmd_hupall(b, "MANAGER_REQUEST", "campaign", "42");
}
static int b_hupall_novalue(vox_buf *b) { return vox_api_cmd_hupall(b, "X", "v", NULL); }
static int b_hash_ins(vox_buf *b) { return vox_api_cmd_hash(b, VOX_HASH_INSERT, "r", "k", "v 1"); }
static int b_hash_sel(vox_buf *b) { return vox_api_cmd_hash(b, VOX_HASH_SELECT, "r", "k", NULL); }
static int b_hash_del(vox_buf *b) { return vox_api_cmd_hash(b, VOX_HASH_DELETE, "r", "k", NULL); }
static int b_hash_slash(vox_buf *b) { return vox_api_cmd_hash(b, VOX_HASH_SELECT, "r/x", "k", NULL); }
static int b_xfer(vox_buf *b) { return vox_api_cmd_uuid_transfer(b, "U", NULL, "1000", NULL, NULL); }
static int b_xfer_all(vox_buf *b)
{
    return vox_api_cmd_uuid_transfer(b, "U", "-bleg", "1000", "XML", "default");
}
static int b_xfer_badleg(vox_buf *b)
{
    return vox_api_cmd_uuid_transfer(b, "U", "-aleg", "1000", NULL, NULL);
}
static int b_rec_start(vox_buf *b) { return vox_api_cmd_uuid_record(b, "U", 1, "/tmp/a.wav", 60); }
static int b_rec_stop(vox_buf *b) { return vox_api_cmd_uuid_record(b, "U", 0, "/tmp/a.wav", 0); }
static int b_words(vox_buf *b)
{
    const char *w[] = {"U", "NORMAL_CLEARING"};
    return vox_api_cmd_words(b, "uuid_kill", w, 2);
}
static int b_words_gap(vox_buf *b)
{
    const char *w[] = {"U", NULL, "x"};
    return vox_api_cmd_words(b, "uuid_kill", w, 3);
}
static int b_words_space(vox_buf *b)
{
    const char *w[] = {"U V"};
    return vox_api_cmd_words(b, "uuid_kill", w, 1);
}

typedef struct bcase {
    const char *name;
    int (*build)(vox_buf *b);
    int rc;
    const char *want;
} bcase;

static const bcase CASES[] = {
    {"vars", b_vars, 0, "{a=b,c=d}"},
    {"vars none", b_vars_none, 0, ""},
    {"vars escaped", b_vars_esc, 0, "{codecs=PCMU\\,PCMA,name='John Doe'}"},
    {"vars brace", b_vars_brace, VOX_EINVAL, NULL},
    {"vars quote", b_vars_quote, VOX_EINVAL, NULL},
    {"vars bad name", b_vars_badname, VOX_EINVAL, NULL},
    {"bridge one", b_bridge1, 0, "user/1000"},
    {"bridge two", b_bridge2, 0, "user/1000,user/1001"},
    {"bridge vars", b_bridge_vars, 0, "{a=b,c=d}user/1000,user/1001"},
    {"bridge groups", b_bridge_groups, 0, "a/1,a/2|b/1,b/2"},
    {"bridge groups 1+3", b_bridge_groups13, 0, "{codecs=PCMU\\,PCMA}a/1|a/2,b/1,b/2"},
    {"bridge bad sum", b_bridge_badsum, VOX_EINVAL, NULL},
    {"bridge leg vars", b_bridge_leg_vars, 0, "[x=1,y=2]user/1000"},
    {"bridge comma", b_bridge_comma, VOX_EINVAL, NULL},
    {"bridge empty", b_bridge_empty, VOX_EINVAL, NULL},
    {"pagd defaults", b_pagd_defaults, 0,
     "1 2 3 5000 # enter.wav silence_stream://250 read_digits_var \\d+"},
    {"pagd ivr", b_pagd_ivr, 0,
     "1 4 1 3000 # tone_stream://%(200,0,440) silence_stream://250 ivr_digits \\d+"},
    {"pagd digit timeout", b_pagd_digit_timeout, 0,
     "1 2 3 5000 # f.wav bad.wav read_digits_var \\d+ 2000"},
    {"pagd min>max", b_pagd_minmax, VOX_EINVAL, NULL},
    {"pagd space", b_pagd_space, VOX_EINVAL, NULL},
    {"read defaults", b_read_defaults, 0, "1 2 x.wav read_digits_var 5000 #"},
    {"read all", b_read_all, 0, "2 6 x.wav pin 7000 *"},
    {"set", b_set, 0, "foo=bar baz"},
    {"set empty", b_set_empty, 0, "foo="},
    {"set bad name", b_set_badname, VOX_EINVAL, NULL},
    {"multiset", b_multiset, 0, "^^:a=b:c=d"},
    {"multiset colon", b_multiset_colon, VOX_EINVAL, NULL},
    {"export", b_export, 0, "foo"},
    {"export value", b_export_val, 0, "foo=bar"},
    {"export nolocal", b_export_nolocal, 0, "nolocal:foo=bar"},
    {"transfer", b_transfer1, 0, "1000"},
    {"transfer full", b_transfer3, 0, "1000 XML default"},
    {"transfer context only", b_transfer_ctx_only, VOX_EINVAL, NULL},
    {"bind_meta_app", b_meta, 0, "2 a s execute_extension::dx XML features"},
    {"bind_meta_app bare", b_meta_noparams, 0, "* ab so hangup"},
    {"bind_meta_app bad key", b_meta_badkey, VOX_EINVAL, NULL},
    {"originate ext", b_orig_ext, 0, "originate user/1000 9100"},
    {"originate full", b_orig_full, 0,
     "originate {origination_caller_id_name='John Doe',origination_caller_id_number=5551234,"
     "originate_timeout=30,a=b}sofia/gateway/gw/555 1000 XML default"},
    {"originate app", b_orig_app, 0, "originate loopback/9101/default &park()"},
    {"originate app args", b_orig_app_args, 0,
     "originate user/1000 &playback(/tmp/a.wav) XML public"},
    {"originate app args paren", b_orig_app_paren, VOX_EINVAL, NULL},
    {"originate both", b_orig_both, VOX_EINVAL, NULL},
    {"originate neither", b_orig_neither, VOX_EINVAL, NULL},
    {"hupall", b_hupall0, 0, "hupall"},
    {"hupall cause", b_hupall1, 0, "hupall NORMAL_CLEARING"},
    {"hupall var", b_hupall3, 0, "hupall MANAGER_REQUEST campaign 42"},
    {"hupall no value", b_hupall_novalue, VOX_EINVAL, NULL},
    {"hash insert", b_hash_ins, 0, "hash insert/r/k/v 1"},
    {"hash select", b_hash_sel, 0, "hash select/r/k"},
    {"hash delete", b_hash_del, 0, "hash delete/r/k"},
    {"hash slash", b_hash_slash, VOX_EINVAL, NULL},
    {"uuid_transfer", b_xfer, 0, "uuid_transfer U 1000"},
    {"uuid_transfer full", b_xfer_all, 0, "uuid_transfer U -bleg 1000 XML default"},
    {"uuid_transfer bad leg", b_xfer_badleg, VOX_EINVAL, NULL},
    {"uuid_record start", b_rec_start, 0, "uuid_record U start /tmp/a.wav 60"},
    {"uuid_record stop", b_rec_stop, 0, "uuid_record U stop /tmp/a.wav"},
    {"words", b_words, 0, "uuid_kill U NORMAL_CLEARING"},
    {"words gap", b_words_gap, VOX_EINVAL, NULL},
    {"words space", b_words_space, VOX_EINVAL, NULL},
};

/* Every case appends to a buffer that already holds text: on success the
 * text is extended by exactly want, on error it is left as it was. */
static void test_builders(void **state)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const bcase *k = &CASES[i];
        vox_buf b = {0};
        assert_int_equal(vox_arg_set(&b, "pre", "x"), 0);
        int rc = k->build(&b);
        if (rc != k->rc)
            fail_msg("%s: rc %d, want %d", k->name, rc, k->rc);
        char want[512];
        snprintf(want, sizeof want, "pre=x%s", k->want ? k->want : "");
        if (strcmp(b.data, want) != 0 || b.len != strlen(want))
            fail_msg("%s: got [%s], want [%s]", k->name, b.data, want);
        vox_buf_free(&b);
    }
}

/* The allocator fails every allocation from k on: a builder returns
 * VOX_ENOMEM and leaves the buffer as it was, for every k, without leaks. */
static void test_builders_nomem(void **state)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        if (CASES[i].rc)
            continue;
        for (long k = 0; k < 16; k++) {
            vox_buf b = {0};
            tu_fail_after(k);
            int rc = CASES[i].build(&b);
            tu_fail_off();
            if (rc == 0) {
                assert_string_equal(b.data, CASES[i].want);
                vox_buf_free(&b);
                break;
            }
            assert_int_equal(rc, VOX_ENOMEM);
            assert_true(b.len == 0);
            vox_buf_free(&b);
        }
        assert_int_equal(tu_live(), 0);
    }
}

/* -------------------------------------------------------- CR/LF refusal */

/* Each function puts s in one string argument of one builder. */
typedef int (*inject_fn)(vox_buf *b, const char *s);

static int i_vars_name(vox_buf *b, const char *s)
{
    return vox_arg_vars(b, (vox_header[]){{s, "v"}}, 1);
}
static int i_vars_value(vox_buf *b, const char *s)
{
    return vox_arg_vars(b, (vox_header[]){{"n", s}}, 1);
}
static int i_bridge_ep(vox_buf *b, const char *s)
{
    const char *ep[] = {"user/1", s};
    return vox_arg_bridge(b, &(vox_bridge_opts){.endpoints = ep, .nendpoints = 2});
}
static int i_bridge_var(vox_buf *b, const char *s)
{
    return vox_arg_bridge(b, &(vox_bridge_opts){.endpoints = EP2, .nendpoints = 1,
                                                .vars = (vox_header[]){{"n", s}}, .nvars = 1});
}
#define PAGD_FIELD(fn, field)                                                                    \
    static int fn(vox_buf *b, const char *s)                                                     \
    {                                                                                            \
        vox_pagd o = {.file = "f"};                                                              \
        o.field = s;                                                                             \
        return vox_arg_play_and_get_digits(b, &o);                                               \
    }
PAGD_FIELD(i_pagd_file, file)
PAGD_FIELD(i_pagd_invalid, invalid_file)
PAGD_FIELD(i_pagd_term, terminators)
PAGD_FIELD(i_pagd_var, var)
PAGD_FIELD(i_pagd_regexp, regexp)
#define READ_FIELD(fn, field)                                                                    \
    static int fn(vox_buf *b, const char *s)                                                     \
    {                                                                                            \
        vox_read_opts o = {.file = "f"};                                                         \
        o.field = s;                                                                             \
        return vox_arg_read(b, &o);                                                              \
    }
READ_FIELD(i_read_file, file)
READ_FIELD(i_read_term, terminators)
READ_FIELD(i_read_var, var)
static int i_set_name(vox_buf *b, const char *s) { return vox_arg_set(b, s, "v"); }
static int i_set_value(vox_buf *b, const char *s) { return vox_arg_set(b, "n", s); }
static int i_mset_name(vox_buf *b, const char *s)
{
    return vox_arg_multiset(b, (vox_header[]){{"a", "b"}, {s, "v"}}, 2);
}
static int i_mset_value(vox_buf *b, const char *s)
{
    return vox_arg_multiset(b, (vox_header[]){{"a", "b"}, {"n", s}}, 2);
}
static int i_export_name(vox_buf *b, const char *s) { return vox_arg_export(b, s, "v", 1); }
static int i_export_value(vox_buf *b, const char *s) { return vox_arg_export(b, "n", s, 0); }
static int i_xfer_ext(vox_buf *b, const char *s) { return vox_arg_transfer(b, s, "XML", "d"); }
static int i_xfer_dp(vox_buf *b, const char *s) { return vox_arg_transfer(b, "1", s, "d"); }
static int i_xfer_ctx(vox_buf *b, const char *s) { return vox_arg_transfer(b, "1", "XML", s); }
#define META_FIELD(fn, field)                                                                    \
    static int fn(vox_buf *b, const char *s)                                                     \
    {                                                                                            \
        vox_meta_app m = {'1', "a", "s", "app", "p"};                                            \
        m.field = s;                                                                             \
        return vox_arg_bind_meta_app(b, &m);                                                     \
    }
META_FIELD(i_meta_listen, listen_to)
META_FIELD(i_meta_respond, respond_on)
META_FIELD(i_meta_app, app)
META_FIELD(i_meta_params, params)
#define ORIG_FIELD(fn, field)                                                                    \
    static int fn(vox_buf *b, const char *s)                                                     \
    {                                                                                            \
        vox_originate o = {.endpoint = "e", .extension = "x", .dialplan = "XML",                \
                           .context = "c", .cid_name = "n", .cid_num = "1"};                    \
        o.field = s;                                                                             \
        return vox_api_cmd_originate(b, &o);                                                     \
    }
ORIG_FIELD(i_orig_ep, endpoint)
ORIG_FIELD(i_orig_ext, extension)
ORIG_FIELD(i_orig_dp, dialplan)
ORIG_FIELD(i_orig_ctx, context)
ORIG_FIELD(i_orig_cidname, cid_name)
ORIG_FIELD(i_orig_cidnum, cid_num)
static int i_orig_app(vox_buf *b, const char *s)
{
    return vox_api_cmd_originate(b, &(vox_originate){.endpoint = "e", .app = s});
}
static int i_orig_app_args(vox_buf *b, const char *s)
{
    return vox_api_cmd_originate(b, &(vox_originate){.endpoint = "e", .app = "a", .app_args = s});
}
static int i_orig_var(vox_buf *b, const char *s)
{
    return vox_api_cmd_originate(b, &(vox_originate){.endpoint = "e", .extension = "x",
                                                     .vars = (vox_header[]){{"n", s}},
                                                     .nvars = 1});
}
static int i_hup_cause(vox_buf *b, const char *s) { return vox_api_cmd_hupall(b, s, "v", "x"); }
static int i_hup_var(vox_buf *b, const char *s) { return vox_api_cmd_hupall(b, "C", s, "x"); }
static int i_hup_value(vox_buf *b, const char *s) { return vox_api_cmd_hupall(b, "C", "v", s); }
static int i_hash_realm(vox_buf *b, const char *s)
{
    return vox_api_cmd_hash(b, VOX_HASH_INSERT, s, "k", "v");
}
static int i_hash_key(vox_buf *b, const char *s)
{
    return vox_api_cmd_hash(b, VOX_HASH_INSERT, "r", s, "v");
}
static int i_hash_value(vox_buf *b, const char *s)
{
    return vox_api_cmd_hash(b, VOX_HASH_INSERT, "r", "k", s);
}
static int i_ux_uuid(vox_buf *b, const char *s)
{
    return vox_api_cmd_uuid_transfer(b, s, NULL, "1", "XML", "d");
}
static int i_ux_dest(vox_buf *b, const char *s)
{
    return vox_api_cmd_uuid_transfer(b, "U", "-both", s, "XML", "d");
}
static int i_ux_dp(vox_buf *b, const char *s)
{
    return vox_api_cmd_uuid_transfer(b, "U", NULL, "1", s, "d");
}
static int i_ux_ctx(vox_buf *b, const char *s)
{
    return vox_api_cmd_uuid_transfer(b, "U", NULL, "1", "XML", s);
}
static int i_ur_uuid(vox_buf *b, const char *s) { return vox_api_cmd_uuid_record(b, s, 1, "p", 0); }
static int i_ur_path(vox_buf *b, const char *s) { return vox_api_cmd_uuid_record(b, "U", 1, s, 0); }
static int i_words_cmd(vox_buf *b, const char *s) { return vox_api_cmd_words(b, s, NULL, 0); }
static int i_words_word(vox_buf *b, const char *s)
{
    const char *w[] = {"a", s};
    return vox_api_cmd_words(b, "cmd", w, 2);
}

static const inject_fn INJECT[] = {
    i_vars_name,   i_vars_value,   i_bridge_ep,     i_bridge_var,   i_pagd_file,
    i_pagd_invalid, i_pagd_term,   i_pagd_var,      i_pagd_regexp,  i_read_file,
    i_read_term,   i_read_var,     i_set_name,      i_set_value,    i_mset_name,
    i_mset_value,  i_export_name,  i_export_value,  i_xfer_ext,     i_xfer_dp,
    i_xfer_ctx,    i_meta_listen,  i_meta_respond,  i_meta_app,     i_meta_params,
    i_orig_ep,     i_orig_ext,     i_orig_dp,       i_orig_ctx,     i_orig_cidname,
    i_orig_cidnum, i_orig_app,     i_orig_app_args, i_orig_var,     i_hup_cause,
    i_hup_var,     i_hup_value,    i_hash_realm,    i_hash_key,     i_hash_value,
    i_ux_uuid,     i_ux_dest,      i_ux_dp,         i_ux_ctx,       i_ur_uuid,
    i_ur_path,     i_words_cmd,    i_words_word,
};

/* Each argument accepts a plain value (so the refusal below is the CR/LF
 * check, not another one) and refuses the same value with CR or LF. */
static void test_crlf_builders(void **state)
{
    static const char *const bad[] = {"a\rb", "a\nb", "\n", "ab\r\n"};
    for (size_t i = 0; i < sizeof INJECT / sizeof INJECT[0]; i++) {
        vox_buf b = {0};
        if (INJECT[i](&b, "ab") != 0)
            fail_msg("injector %zu refuses a plain value", i);
        size_t len = b.len;
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            if (INJECT[i](&b, bad[k]) != VOX_EINVAL)
                fail_msg("injector %zu accepts CR/LF value %zu", i, k);
            assert_int_equal(b.len, len);
        }
        vox_buf_free(&b);
    }
}

/* The blocking helpers that take strings check them before touching the
 * call: a CR/LF returns VOX_EINVAL even on a closed-looking handle. A
 * non-NULL handle that is never dereferenced stands in for the call. */
static void test_crlf_blocking(void **state)
{
    vox_call *call = (vox_call *)(uintptr_t)16; /* never used: checks come first */
    vox_client *c = (vox_client *)(uintptr_t)16;
    const char *s = "a\nb";
    char d[8];
    assert_int_equal(vox_run_app(call, "app", s, NULL), VOX_EINVAL);
    assert_int_equal(vox_run_app(call, s, NULL, NULL), VOX_EINVAL);
    assert_int_equal(vox_hangup(call, s), VOX_EINVAL);
    assert_int_equal(vox_playback(call, s), VOX_EINVAL);
    assert_int_equal(vox_play_and_get_digits(call, &(vox_pagd){.file = s}, d, sizeof d),
                     VOX_EINVAL);
    assert_int_equal(vox_read(call, &(vox_read_opts){.file = s}, d, sizeof d), VOX_EINVAL);
    assert_int_equal(vox_record(call, s, 0), VOX_EINVAL);
    assert_int_equal(vox_bridge(call, "user/%s", s), VOX_EINVAL);
    assert_int_equal(vox_att_xfer(call, s), VOX_EINVAL);
    assert_int_equal(vox_deflect(call, s), VOX_EINVAL);
    assert_int_equal(vox_redirect(call, s), VOX_EINVAL);
    assert_int_equal(vox_respond(call, 403, s), VOX_EINVAL);
    assert_int_equal(vox_transfer(call, s, NULL, NULL), VOX_EINVAL);
    assert_int_equal(vox_set(call, "a", s), VOX_EINVAL);
    assert_int_equal(vox_unset(call, s), VOX_EINVAL);
    assert_int_equal(vox_export(call, s, NULL, 0), VOX_EINVAL);
    assert_int_equal(vox_gentones(call, s), VOX_EINVAL);
    assert_int_equal(vox_say(call, "en", "number", "pronounced", s), VOX_EINVAL);
    assert_int_equal(vox_say(call, s, "number", "pronounced", "1"), VOX_EINVAL);
    assert_int_equal(vox_speak(call, "flite", "kal", s), VOX_EINVAL);
    assert_int_equal(vox_speak(call, "flite", s, "hi"), VOX_EINVAL);
    assert_int_equal(vox_conference(call, s), VOX_EINVAL);
    assert_int_equal(vox_valet_park(call, "lot", s), VOX_EINVAL);
    assert_int_equal(vox_valet_park(call, s, "1"), VOX_EINVAL);
    assert_int_equal(vox_record_session(call, s), VOX_EINVAL);
    assert_int_equal(vox_stop_record_session(call, s), VOX_EINVAL);
    assert_int_equal(vox_sched_hangup(call, 5, s), VOX_EINVAL);
    assert_int_equal(vox_api_fsctl(c, s, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_park(c, s, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_bridge(c, "u", s, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_kill(c, "u", s, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_dump(c, s, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_getvar(c, "u", s, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_setvar(c, "u", "n", s, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_setvar(c, "u", s, "v", NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_broadcast(c, "u", s, NULL, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_send_dtmf(c, "u", s, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_exists(c, s), VOX_EINVAL);
    assert_int_equal(vox_api_global_getvar(c, s, NULL), VOX_EINVAL);
}

/* ---------------------------------------------------- digit extraction */

/* The CHANNEL_EXECUTE_COMPLETE of play_and_get_digits in the capture. */
static vox_msg *pagd_complete(void)
{
    size_t len, used;
    char *raw = tu_fixture("outbound_pagd_dtmf.s2c.raw", &len);
    vox_parser *p = NULL;
    vox_msg *m = NULL, *found = NULL;
    assert_int_equal(vox_parser_new(&p, NULL), 0);
    for (size_t off = 0; !found && off < len; off += used) {
        int rc = vox_parser_feed(p, raw + off, len - off, &used, &m);
        assert_true(rc >= 0);
        if (rc == 0)
            break;
        const vox_event *ev = vox_msg_event(m);
        const char *app = ev ? vox_event_get(ev, "Application") : NULL;
        if (ev && !strcmp(vox_event_name(ev), "CHANNEL_EXECUTE_COMPLETE") && app &&
            !strcmp(app, "play_and_get_digits"))
            found = m;
        else
            vox_msg_free(m);
    }
    vox_parser_free(p);
    free(raw);
    assert_non_null(found);
    return found;
}

static void test_digits_from_capture(void **state)
{
    vox_msg *m = pagd_complete();
    const vox_event *ev = vox_msg_event(m);
    char d[8] = "junk";
    assert_int_equal(vox_digits_from_complete(ev, "ivr_digits", d, sizeof d), 0);
    assert_string_equal(d, "42");
    assert_int_equal(vox_digits_from_complete(ev, "read_result", d, sizeof d), 0);
    assert_string_equal(d, "success");
    /* The default variable is absent: no digits. */
    assert_int_equal(vox_digits_from_complete(ev, NULL, d, sizeof d), 0);
    assert_string_equal(d, "");
    /* Too small for "42" and its NUL. */
    assert_int_equal(vox_digits_from_complete(ev, "ivr_digits", d, 2), VOX_EINVAL);
    assert_string_equal(d, "");
    assert_int_equal(vox_digits_from_complete(ev, "ivr digits", d, sizeof d), VOX_EINVAL);
    assert_int_equal(vox_digits_from_complete(NULL, "x", d, sizeof d), VOX_EINVAL);
    assert_int_equal(vox_digits_from_complete(ev, "x", NULL, 4), VOX_EINVAL);
    vox_msg_free(m);
}

/* ------------------------------------------------------- end to end */

#define PAGD_UUID "c0ffee06-0000-4000-8000-00000000000"

/* Frames of the capture, with the capture's Event-UUID number k replaced by
 * the placeholder for the one our client sent: both are 36 characters, so
 * the captured Content-Length stays right after expansion. */
static char *frame_for(char **frames, size_t i, int k)
{
    char uuid[40];
    snprintf(uuid, sizeof uuid, PAGD_UUID "%d", k);
    const char *f = frames[i];
    char *out = malloc(strlen(f) * 2 + 64);
    size_t n = 0;
    for (const char *p = f; *p;) {
        if (k && !strncmp(p, uuid, 36)) {
            memcpy(out + n, "${event-uuid}", 13);
            n += 13;
            p += 36;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return out;
}

/* The commands the capture's client sent, each up to its Event-UUID (ours
 * differ) or whole with its empty line: what our client must send, byte for
 * byte. */
static size_t c2s_expects(const char *name, char **out, size_t max)
{
    size_t len, n = 0;
    char *raw = tu_fixture(name, &len);
    for (char *p = raw; n < max && *p;) {
        char *end = strstr(p, "\n\n");
        assert_non_null(end);
        end += 2;
        char *uuid = strstr(p, "Event-UUID:");
        size_t keep = uuid && uuid < end ? (size_t)(uuid - p) : (size_t)(end - p);
        out[n] = malloc(keep + 1);
        memcpy(out[n], p, keep);
        out[n++][keep] = '\0';
        p = end;
    }
    free(raw);
    return n;
}

typedef struct call_result {
    int rc[4];
    char digits[16];
    int calls;
} call_result;

static void ivr_call(vox_call *call, void *ud)
{
    call_result *r = ud;
    r->rc[0] = vox_answer(call);
    r->rc[1] = vox_play_and_get_digits(
        call,
        &(vox_pagd){.file = "tone_stream://%(200,0,440)", .invalid_file = "silence_stream://250",
                    .min = 1, .max = 4, .tries = 1, .timeout_ms = 3000, .terminators = "#",
                    .var = "ivr_digits", .regexp = "\\d+"},
        r->digits, sizeof r->digits);
    r->rc[2] = vox_set(call, "ivr_result", r->digits[0] ? r->digits : "none");
    r->rc[3] = vox_hangup(call, NULL);
    r->calls++;
}

/* Which frames FreeSWITCH sends after each command, and the Event-UUID
 * number they carry: the capture's own order. */
static const struct {
    int k;
    int frames[12];
} REPLIES[] = {
    {0, {0, -1}},
    {0, {1, -1}},
    {0, {2, -1}},
    {1, {3, 5, 6, 7, 8, -1}},
    {2, {4, 9, 10, 11, 12, 13, -1}},
    {3, {14, 16, 17, -1}},
    {4, {15, 18, 19, 20, 21, 22, 23, 24, 25, 26, -1}},
};

static void test_outbound_ivr(void **state)
{
    size_t len, nframes;
    char *raw = tu_fixture("outbound_pagd_dtmf.s2c.raw", &len);
    char **frames = fs_frames(raw, len, &nframes);
    char *expect[8];
    size_t nexp = c2s_expects("outbound_pagd_dtmf.c2s.raw", expect, 8);
    assert_true(nexp >= 7);
    fs_step script[64];
    char *owned[64];
    size_t ns = 0, no = 0;
    for (size_t i = 0; i < sizeof REPLIES / sizeof REPLIES[0]; i++) {
        script[ns++] = (fs_step){FS_EXPECT, expect[i], 0};
        for (int j = 0; REPLIES[i].frames[j] >= 0; j++) {
            owned[no] = frame_for(frames, (size_t)REPLIES[i].frames[j], REPLIES[i].k);
            script[ns++] = (fs_step){FS_SEND, owned[no++], 0};
        }
    }
    script[ns++] = (fs_step){FS_EXPECT_EOF, NULL, 0};
    script[ns] = (fs_step){FS_END, NULL, 0};

    call_result r = {{-99, -99, -99, -99}, "x", 0};
    vox_server *srv = NULL;
    vox_server_opts so = {.port = 0, .drain_timeout_ms = 2000};
    assert_int_equal(vox_server_start(&srv, &so, ivr_call, &r), 0);
    fakefs *fs = NULL;
    assert_int_equal(fs_connect(&fs, vox_server_port(srv), script), 0);
    /* fs_wait returns when the script ended (the server closed) or timed out. */
    const char *err = fs_wait(fs, 10000);
    vox_server_stop(srv);
    if (err)
        fail_msg("fake FreeSWITCH: %s", err);
    assert_int_equal(r.calls, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(r.rc[i], 0);
    assert_string_equal(r.digits, "42");
    for (size_t i = 0; i < no; i++)
        free(owned[i]);
    for (size_t i = 0; i < nexp; i++)
        free(expect[i]);
    fs_frames_free(frames);
    free(raw);
}

/* The api helpers against a fake inbound FreeSWITCH: the exact command
 * bytes, and what each returns. */
#define AUTH "Content-Type: auth/request\n\n"
#define OK_REPLY(t) "Content-Type: command/reply\nReply-Text: " t "\n\n"
#define API_RESP(body_len, body)                                                                 \
    "Content-Type: api/response\nContent-Length: " #body_len "\n\n" body

static const fs_step INBOUND[] = {
    {FS_SEND, AUTH, 0},
    {FS_EXPECT, "auth ClueCon\n\n", 0},
    {FS_SEND, OK_REPLY("+OK accepted"), 0},
    {FS_EXPECT, "event plain BACKGROUND_JOB\n\n", 0},
    {FS_SEND, OK_REPLY("+OK event listener enabled plain"), 0},
    {FS_EXPECT, "api originate {origination_caller_id_name='Jane Doe',originate_timeout=20}"
                "user/1000 &park()\n\n", 0},
    {FS_SEND, API_RESP(41, "+OK 4b5e0a4e-0a0a-4c4c-9f9f-000000000001\n"), 0},
    {FS_EXPECT, "api uuid_exists 4b5e0a4e\n\n", 0},
    {FS_SEND, API_RESP(4, "true"), 0},
    {FS_EXPECT, "api uuid_exists nope\n\n", 0},
    {FS_SEND, API_RESP(5, "false"), 0},
    {FS_EXPECT, "api uuid_setvar 4b5e0a4e foo bar baz\n\n", 0},
    {FS_SEND, API_RESP(4, "+OK\n"), 0},
    {FS_EXPECT, "api uuid_kill nope USER_BUSY\n\n", 0},
    {FS_SEND, API_RESP(22, "-ERR No such channel!\n"), 0},
    {FS_EXPECT, "api hash insert/calls/k1/v1\n\n", 0},
    {FS_SEND, API_RESP(4, "+OK\n"), 0},
    {FS_EXPECT, "api show channels as json\n\n", 0},
    {FS_SEND, API_RESP(12, "{\"rows\": []}"), 0},
    {FS_EXPECT, "api status\n\n", 0},
    {FS_SEND, API_RESP(3, "UP\n"), 0},
    {FS_END, NULL, 0},
};

static void test_inbound_api(void **state)
{
    fakefs *fs = NULL;
    vox_client *c = NULL;
    vox_msg *r = NULL;
    assert_int_equal(fs_listen(&fs, INBOUND), 0);
    assert_int_equal(vox_connect(&c, &(vox_client_opts){.port = fs_port(fs),
                                                        .command_timeout_ms = 5000}),
                     0);
    assert_int_equal(vox_api_originate(c, &(vox_originate){.endpoint = "user/1000",
                                                           .app = "park",
                                                           .cid_name = "Jane Doe",
                                                           .timeout_s = 20},
                                       &r),
                     0);
    assert_string_equal(vox_msg_body(r, NULL), "+OK 4b5e0a4e-0a0a-4c4c-9f9f-000000000001\n");
    vox_msg_free(r);
    assert_int_equal(vox_api_uuid_exists(c, "4b5e0a4e"), 1);
    assert_int_equal(vox_api_uuid_exists(c, "nope"), 0);
    assert_int_equal(vox_api_uuid_setvar(c, "4b5e0a4e", "foo", "bar baz", NULL), 0);
    assert_int_equal(vox_api_uuid_kill(c, "nope", "USER_BUSY", &r), VOX_EREPLY);
    assert_non_null(r);
    assert_string_equal(vox_msg_body(r, NULL), "-ERR No such channel!\n");
    vox_msg_free(r);
    assert_int_equal(vox_api_hash(c, VOX_HASH_INSERT, "calls", "k1", "v1", NULL), 0);
    assert_int_equal(vox_api_show_channels(c, &r), 0);
    assert_string_equal(vox_msg_body(r, NULL), "{\"rows\": []}");
    vox_msg_free(r);
    assert_int_equal(vox_api_status(c, NULL), 0);
    const char *err = fs_wait(fs, 5000);
    vox_close(c);
    if (err)
        fail_msg("fake FreeSWITCH: %s", err);
}

int main(void)
{
    tu_alloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_builders_nomem),
        cmocka_unit_test(test_crlf_builders),
        cmocka_unit_test(test_crlf_blocking),
        cmocka_unit_test(test_digits_from_capture),
        cmocka_unit_test(test_outbound_ivr),
        cmocka_unit_test(test_inbound_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
