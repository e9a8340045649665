/* libvox's inbound side used end to end against vox-sim, as a program that
 * controls FreeSWITCH uses it: the blocking client (auth and userauth, api
 * replies and -ERR bodies, bgapi, originate to an outbound server and the
 * events of that call, sendmsg, sendevent, filters, the api command builders
 * of vox/app.h and the api helpers), and the async client on libuv (hooks by
 * name and CUSTOM subclass in arrival order, api/bgapi callbacks, reconnect
 * to a restarted simulator with the subscription replayed, a wrong
 * password). Every wait is bounded; the simulator runs fast, libvox's own
 * timeouts are real time. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <vox/app.h>
#include <vox/async.h>
#include <vox/server.h>
#include <vox/uv.h>

#include "sim.h"
#include "util/testutil.h"

#define SPEED 100
#define WAIT_MS 10000 /* real time: any single wait of a test */

static const char NIL_UUID[] = "00000000-0000-0000-0000-000000000000";

static vox_sim *sim_up(const vox_sim_opts *extra)
{
    vox_sim_opts o = extra ? *extra : (vox_sim_opts){0};
    o.speed = o.speed ? o.speed : SPEED;
    vox_sim *s = NULL;
    assert_int_equal(vox_sim_start(&s, &o), 0);
    assert_true(vox_sim_port(s) > 0);
    return s;
}

static vox_client *client(vox_sim *s, const char *events)
{
    vox_client_opts o = {.port = vox_sim_port(s),
                         .events = events,
                         .connect_timeout_ms = WAIT_MS,
                         .command_timeout_ms = WAIT_MS};
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &o), 0);
    assert_non_null(c);
    return c;
}

/* `api cmd`: checks the status, returns a copy of the body. */
static char *api_rc(vox_client *c, const char *cmd, int want)
{
    vox_msg *r = NULL;
    int rc = vox_api(c, cmd, &r);
    if (rc != want)
        fail_msg("api %s: %s (%d), body [%s]", cmd, vox_strerror(rc), rc,
                 r ? vox_msg_body(r, NULL) : "");
    assert_non_null(r);
    assert_int_equal(vox_msg_type(r), VOX_CT_API_RESPONSE);
    assert_int_equal(vox_msg_is_error(r), want == VOX_EREPLY);
    char *s = strdup(vox_msg_body(r, NULL));
    vox_msg_free(r);
    return s;
}

static void api_is(vox_client *c, const char *cmd, int want_rc, const char *want)
{
    char *s = api_rc(c, cmd, want_rc);
    if (strcmp(s, want))
        fail_msg("api %s: got [%s], want [%s]", cmd, s, want);
    free(s);
}

/* The api command a builder wrote, sent with vox_api; b is released. */
static char *api_buf(vox_client *c, vox_buf *b, int want)
{
    assert_non_null(b->data);
    char *s = api_rc(c, b->data, want);
    vox_buf_free(b);
    return s;
}

static void body_is(vox_msg *r, const char *want)
{
    assert_non_null(r);
    assert_string_equal(vox_msg_body(r, NULL), want);
    vox_msg_free(r);
}

/* "+OK <uuid>\n" -> uuid (37 bytes). */
static void ok_uuid(const char *body, char *uuid)
{
    if (strncmp(body, "+OK ", 4) || strlen(body) != 41 || body[40] != '\n')
        fail_msg("not +OK <uuid>: [%s]", body);
    memcpy(uuid, body + 4, 36);
    uuid[36] = '\0';
}

/* The next event named name (and of channel uuid, and of application app,
 * when given); other events are skipped. Fails after WAIT_MS. */
static vox_msg *wait_event(vox_client *c, const char *name, const char *uuid, const char *app)
{
    uint64_t end = tu_now_ms() + WAIT_MS;
    for (;;) {
        uint64_t now = tu_now_ms();
        vox_msg *m = NULL;
        int rc = now < end ? vox_next_event(c, (uint32_t)(end - now), &m) : VOX_ETIMEDOUT;
        if (rc)
            fail_msg("waiting for %s %s %s: %s", name, uuid ? uuid : "", app ? app : "",
                     vox_strerror(rc));
        const vox_event *e = vox_msg_event(m);
        const char *id = vox_event_get(e, "Unique-ID");
        const char *a = vox_event_get(e, "Application");
        if (!strcmp(vox_event_name(e), name) && (!uuid || (id && !strcmp(id, uuid))) &&
            (!app || (a && !strcmp(a, app))))
            return m;
        vox_msg_free(m);
    }
}

static const char *ev_get(vox_msg *m, const char *name)
{
    const char *v = vox_event_get(vox_msg_event(m), name);
    return v ? v : "(unset)";
}

/* CHANNEL_HANGUP_COMPLETE of each of n channels, in any order; their
 * causes go to causes[i] (32 bytes each). */
static void wait_hangups(vox_client *c, const char *const *uuids, size_t n, char (*causes)[32])
{
    size_t left = n;
    for (size_t i = 0; i < n; i++)
        causes[i][0] = '\0';
    uint64_t end = tu_now_ms() + WAIT_MS;
    while (left) {
        uint64_t now = tu_now_ms();
        vox_msg *m = NULL;
        int rc = now < end ? vox_next_event(c, (uint32_t)(end - now), &m) : VOX_ETIMEDOUT;
        if (rc)
            fail_msg("waiting for %zu hangup(s): %s", left, vox_strerror(rc));
        const vox_event *e = vox_msg_event(m);
        const char *id = vox_event_get(e, "Unique-ID");
        for (size_t i = 0; id && i < n; i++) {
            if (!strcmp(vox_event_name(e), "CHANNEL_HANGUP_COMPLETE") && !strcmp(id, uuids[i]) &&
                !causes[i][0]) {
                snprintf(causes[i], 32, "%s", vox_event_get(e, "Hangup-Cause"));
                left--;
            }
        }
        vox_msg_free(m);
    }
}

/* ------------------------------------------------------------ auth */

static void test_connect_auth(void **state)
{
    (void)state;
    const char *users[] = {"1001@example.org:pw1001", "1002@example.org:pw1002", NULL};
    vox_sim *s = sim_up(&(vox_sim_opts){.password = "s3cret", .users = users});
    vox_client_opts o = {
        .port = vox_sim_port(s), .password = "s3cret", .command_timeout_ms = WAIT_MS};
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &o), 0);
    assert_int_equal(vox_is_open(c), 1);
    api_is(c, "version", 0, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    vox_close(c);

    /* userauth: user@domain:password */
    o.password = "1002@example.org:pw1002";
    c = NULL;
    assert_int_equal(vox_connect(&c, &o), 0);
    char *st = api_rc(c, "status", 0);
    assert_non_null(strstr(st, "is ready"));
    free(st);
    vox_close(c);

    const char *bad[] = {"ClueCon", "S3cret", "1001@example.org:pw1002", "1003@example.org:pw1001",
                         "1001@example.com:pw1001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.password = bad[i];
        c = (vox_client *)&o; /* must be left alone */
        int rc = vox_connect(&c, &o);
        if (rc != VOX_EAUTH)
            fail_msg("password [%s]: %s", bad[i], vox_strerror(rc));
        assert_ptr_equal(c, (vox_client *)&o);
    }
    /* the simulator is unharmed */
    o.password = "s3cret";
    assert_int_equal(vox_connect(&c, &o), 0);
    vox_close(c);
    vox_sim_free(s);
}

/* ------------------------------------------------------------ api replies */

static void test_api_replies(void **state)
{
    (void)state;
    vox_sim *s = sim_up(&(vox_sim_opts){.hostname = "simhost"});
    vox_client *c = client(s, NULL);
    char *b = api_rc(c, "status", 0);
    assert_non_null(strstr(b, "UP 0 years, 0 days, 0 hours, 0 minutes, "));
    assert_non_null(strstr(b, "FreeSWITCH (Version 1.11.3-dev  64bit) is ready\n"));
    free(b);
    vox_msg *r = NULL;
    assert_int_equal(vox_api_status(c, &r), 0);
    assert_non_null(strstr(vox_msg_body(r, NULL), "is ready"));
    assert_string_equal(vox_msg_reply_text(r), vox_msg_body(r, NULL));
    vox_msg_free(r);
    api_is(c, "version", 0, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    b = api_rc(c, "uptime", 0);
    char *end = NULL;
    strtol(b, &end, 10);
    assert_true(end != b && !strcmp(end, "\n"));
    free(b);

    /* show channels as json, parsed */
    assert_int_equal(vox_api_show_channels(c, &r), 0);
    json_error_t je;
    json_t *j = json_loads(vox_msg_body(r, NULL), 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "row_count")), 0);
    json_decref(j);
    vox_msg_free(r);

    api_is(c, "global_getvar hostname", 0, "simhost");
    assert_int_equal(vox_api_global_getvar(c, "switchname", &r), 0);
    body_is(r, "simhost");

    /* -ERR and -USAGE: VOX_EREPLY, the body kept, the client still usable */
    r = NULL;
    assert_int_equal(vox_api(c, "no_such_cmd now", &r), VOX_EREPLY);
    assert_non_null(r);
    assert_string_equal(vox_msg_body(r, NULL), "-ERR no_such_cmd Command not found!\n");
    assert_string_equal(vox_msg_reply_text(r), "-ERR no_such_cmd Command not found!\n");
    assert_int_equal(vox_msg_is_error(r), 1);
    vox_msg_free(r);
    api_is(c, "uuid_kill 00000000-0000-0000-0000-000000000000", VOX_EREPLY,
           "-ERR No such channel!\n");
    b = api_rc(c, "originate", VOX_EREPLY);
    assert_int_equal(strncmp(b, "-USAGE: <call url> <exten>", 26), 0);
    free(b);
    assert_int_equal(vox_api_global_getvar(c, "no_such_var", &r), VOX_EREPLY);
    body_is(r, "-ERR no reply\n");
    assert_int_equal(vox_api(c, "status", NULL), 0);

    /* bad arguments never reach the wire */
    r = (vox_msg *)c;
    assert_int_equal(vox_api(c, "status\nexit", &r), VOX_EINVAL);
    assert_null(r);
    assert_int_equal(vox_api(c, "", NULL), VOX_EINVAL);
    api_is(c, "global_getvar hostname", 0, "simhost");
    vox_close(c);
    vox_sim_free(s);
}

/* ------------------------------------------------------------ bgapi */

static const vox_sim_endpoint EPS[] = {
    {.name = "user/busy", .fail_cause = "USER_BUSY", .ring_ms = 300},
    {.name = "user/ok", .ring_ms = 200},
};

static void test_bgapi(void **state)
{
    (void)state;
    vox_sim *s = sim_up(&(vox_sim_opts){.endpoints = EPS, .nendpoints = 2});
    vox_client *c = client(s, NULL);
    vox_msg *m = NULL;
    assert_int_equal(vox_bgapi(c, "status", &m), 0);
    const vox_event *e = vox_msg_event(m);
    assert_string_equal(vox_event_name(e), "BACKGROUND_JOB");
    assert_string_equal(vox_event_get(e, "Job-Command"), "status");
    assert_int_equal(strlen(vox_event_get(e, "Job-UUID")), 36);
    assert_non_null(strstr(vox_event_body(e, NULL), "is ready"));
    vox_msg_free(m);
    /* the job's output may itself be an -ERR: still 0 */
    assert_int_equal(vox_bgapi(c, "uuid_kill 00000000-0000-0000-0000-000000000000", &m), 0);
    e = vox_msg_event(m);
    assert_string_equal(vox_event_get(e, "Job-Command"), "uuid_kill");
    assert_string_equal(vox_event_get(e, "Job-Command-Arg"), NIL_UUID);
    assert_string_equal(vox_event_body(e, NULL), "-ERR No such channel!\n");
    vox_msg_free(m);
    /* a job that takes simulated time: the endpoint rings, then is busy */
    assert_int_equal(vox_bgapi(c, "originate user/busy &park", &m), 0);
    assert_string_equal(vox_event_body(vox_msg_event(m), NULL), "-ERR USER_BUSY\n");
    vox_msg_free(m);
    assert_int_equal(vox_bgapi(c, "originate user/ok &park", &m), 0);
    char uuid[40];
    ok_uuid(vox_event_body(vox_msg_event(m), NULL), uuid);
    vox_msg_free(m);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "uuid_exists %s", uuid);
    api_is(c, cmd, 0, "true");
    assert_int_equal(vox_api_uuid_kill(c, uuid, NULL, NULL), 0);
    /* every event is queued for vox_next_event, the jobs' too: the four
     * BACKGROUND_JOBs vox_bgapi returned are there again, in order */
    const char *cmds[] = {"status", "uuid_kill", "originate", "originate"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(vox_next_event(c, 0, &m), 0);
        e = vox_msg_event(m);
        assert_string_equal(vox_event_name(e), "BACKGROUND_JOB");
        assert_string_equal(vox_event_get(e, "Job-Command"), cmds[i]);
        vox_msg_free(m);
    }
    assert_int_equal(vox_next_event(c, 0, &m), VOX_ETIMEDOUT);
    vox_close(c);
    vox_sim_free(s);
}

/* ------------------------------------------------------------ originate to an outbound server */

typedef struct srv {
    vox_server *s;
    char target[64];
    pthread_mutex_t mu;
    int calls;
    char uuid[64], cid[64], dest[64];
    int rc_play, rc_park, done;
} srv;

/* The outbound side of an originated call: a playback, then park until the
 * inbound client ends the call. */
static void park_fn(vox_call *call, void *ud)
{
    srv *v = ud;
    const vox_event *d = vox_call_data(call);
    pthread_mutex_lock(&v->mu);
    v->calls++;
    snprintf(v->uuid, sizeof v->uuid, "%s", vox_call_uuid(call));
    snprintf(v->cid, sizeof v->cid, "%s", vox_event_get(d, "Caller-Caller-ID-Number"));
    snprintf(v->dest, sizeof v->dest, "%s", vox_event_get(d, "Caller-Destination-Number"));
    pthread_mutex_unlock(&v->mu);
    int rp = vox_playback(call, "silence_stream://500");
    int rk = vox_park(call);
    pthread_mutex_lock(&v->mu);
    v->rc_play = rp;
    v->rc_park = rk;
    v->done = 1;
    pthread_mutex_unlock(&v->mu);
}

static void srv_start(srv *v)
{
    memset(v, 0, sizeof *v);
    pthread_mutex_init(&v->mu, NULL);
    vox_server_opts o = {.port = 0, .drain_timeout_ms = WAIT_MS};
    assert_int_equal(vox_server_start(&v->s, &o, park_fn, v), 0);
    snprintf(v->target, sizeof v->target, "127.0.0.1:%u", vox_server_port(v->s));
}

/* A copy of what the call saw so far (asserts run outside the lock). */
static srv srv_seen(srv *v)
{
    pthread_mutex_lock(&v->mu);
    srv copy = *v;
    pthread_mutex_unlock(&v->mu);
    return copy;
}

/* Joins the call threads: what they saw can be read without the lock. */
static void srv_stop(srv *v)
{
    vox_server_stop(v->s);
    pthread_mutex_destroy(&v->mu);
}

#define CALL_EVENTS                                                                                \
    "CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE "                      \
    "CHANNEL_HANGUP_COMPLETE"

/* sendmsg to a channel from the inbound side: an application, the same
 * through vox_exec, and a channel that does not exist. */
static void check_sendmsg(vox_client *c, const char *a)
{
    vox_header set[] = {{"call-command", "execute"},
                        {"execute-app-name", "set"},
                        {"execute-app-arg", "vox_color=green"}};
    vox_msg *r = NULL;
    assert_int_equal(vox_sendmsg(c, a, set, 3, NULL, 0, &r), 0);
    assert_string_equal(vox_msg_reply_text(r), "+OK");
    vox_msg_free(r);
    vox_msg *m = wait_event(c, "CHANNEL_EXECUTE_COMPLETE", a, "set");
    assert_string_equal(ev_get(m, "variable_vox_color"), "green");
    vox_msg_free(m);
    vox_msg *done = NULL;
    vox_execute x = {.app = "set", .arg = "vox_size=42", .uuid = a, .event_lock = 1};
    assert_int_equal(vox_exec(c, &x, &done), 0);
    assert_string_equal(ev_get(done, "Application-Data"), "vox_size=42");
    assert_string_equal(ev_get(done, "variable_vox_size"), "42");
    vox_msg_free(done);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "uuid_getvar %s vox_color", a);
    api_is(c, cmd, 0, "green");
    /* sendmsg to a channel that does not exist */
    r = NULL;
    assert_int_equal(vox_sendmsg(c, NIL_UUID, set, 3, NULL, 0, &r), VOX_EREPLY);
    assert_string_equal(vox_msg_reply_text(r),
                        "-ERR invalid session id [00000000-0000-0000-0000-000000000000]");
    vox_msg_free(r);
    /* the same through vox_exec: the -ERR comes back as the reply */
    x.uuid = NIL_UUID;
    assert_int_equal(vox_exec(c, &x, &done), VOX_EREPLY);
    assert_int_equal(vox_msg_type(done), VOX_CT_COMMAND_REPLY);
    assert_int_equal(vox_msg_is_error(done), 1);
    vox_msg_free(done);
}

static void test_originate_socket(void **state)
{
    (void)state;
    static srv v; /* static: a failed test leaves no thread pointing into a dead stack */
    srv_start(&v);
    vox_sim *s = sim_up(NULL);
    vox_client *c = client(s, CALL_EVENTS);
    char cmd[256], a[40], b[40];
    snprintf(cmd, sizeof cmd, "originate {origination_caller_id_number=5551000}socket/%s &park",
             v.target);
    char *body = api_rc(c, cmd, 0);
    ok_uuid(body, a);
    free(body);

    /* the a-leg's life, seen by the inbound client */
    vox_msg *m = wait_event(c, "CHANNEL_CREATE", a, NULL);
    assert_string_equal(ev_get(m, "Call-Direction"), "outbound");
    vox_msg_free(m);
    vox_msg_free(wait_event(c, "CHANNEL_ANSWER", a, NULL));
    snprintf(cmd, sizeof cmd, "uuid_getvar %s other_loopback_leg_uuid", a);
    body = api_rc(c, cmd, 0);
    snprintf(b, sizeof b, "%.36s", body);
    free(body);
    /* the b-leg is the server's call; its playback, as events */
    m = wait_event(c, "CHANNEL_EXECUTE_COMPLETE", b, "playback");
    assert_string_equal(ev_get(m, "Application-Response"), "FILE PLAYED");
    vox_msg_free(m);
    srv seen = srv_seen(&v);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.uuid, b);
    assert_string_equal(seen.cid, "5551000");
    vox_msg_free(wait_event(c, "CHANNEL_EXECUTE", b, "park"));

    /* a receive timeout: a client that subscribed nothing of the call */
    vox_client *q = client(s, "CHANNEL_PARK");
    uint64_t t0 = tu_now_ms();
    m = (vox_msg *)c;
    assert_int_equal(vox_next_event(q, 80, &m), VOX_ETIMEDOUT);
    assert_null(m);
    assert_true(tu_now_ms() - t0 >= 70);
    vox_close(q);

    check_sendmsg(c, a);

    /* hang the server's leg up with a cause: both legs go */
    vox_header hang[] = {{"call-command", "hangup"}, {"hangup-cause", "USER_BUSY"}};
    assert_int_equal(vox_sendmsg(c, b, hang, 2, NULL, 0, NULL), 0);
    char causes[2][32];
    wait_hangups(c, (const char *[]){a, b}, 2, causes);
    assert_string_equal(causes[1], "USER_BUSY");
    vox_close(c);
    vox_sim_free(s);
    srv_stop(&v);
    assert_int_equal(v.done, 1);
    assert_int_equal(v.rc_play, 0);
    /* park ran until the hangup: its completion comes with it */
    assert_int_equal(v.rc_park, 0);
}

/* The same through the simulator's dialplan (opts.socket, loopback/9100)
 * and the originate builder; ended with vox_api_uuid_kill. */
static void test_originate_loopback(void **state)
{
    (void)state;
    static srv v;
    srv_start(&v);
    vox_sim *s = sim_up(&(vox_sim_opts){.socket = v.target});
    vox_client *c = client(s, CALL_EVENTS);
    vox_msg *r = NULL;
    vox_originate o = {.endpoint = "loopback/9100",
                       .app = "park",
                       .cid_name = "Ann Smith",
                       .cid_num = "5552000",
                       .timeout_s = 10};
    assert_int_equal(vox_api_originate(c, &o, &r), 0);
    char a[40], b[40];
    ok_uuid(vox_msg_body(r, NULL), a);
    vox_msg_free(r);
    assert_int_equal(vox_api_uuid_getvar(c, a, "other_loopback_leg_uuid", &r), 0);
    snprintf(b, sizeof b, "%s", vox_msg_body(r, NULL));
    vox_msg_free(r);
    /* the server's call parks after its playback */
    vox_msg *m = wait_event(c, "CHANNEL_EXECUTE", b, "park");
    assert_string_equal(ev_get(m, "Caller-Caller-ID-Name"), "Ann Smith");
    vox_msg_free(m);
    srv seen = srv_seen(&v);
    assert_string_equal(seen.uuid, b);
    assert_string_equal(seen.cid, "5552000");
    assert_string_equal(seen.dest, "9100");
    assert_int_equal(vox_api_uuid_exists(c, a), 1);
    assert_int_equal(vox_api_uuid_exists(c, b), 1);
    assert_int_equal(vox_api_uuid_kill(c, a, "CALL_REJECTED", &r), 0);
    body_is(r, "+OK\n");
    char causes[2][32];
    wait_hangups(c, (const char *[]){a, b}, 2, causes);
    assert_string_equal(causes[0], "CALL_REJECTED");
    assert_int_equal(vox_api_uuid_exists(c, a), 0);
    vox_close(c);
    vox_sim_free(s);
    srv_stop(&v);
    assert_int_equal(v.calls, 1);
    assert_int_equal(v.rc_play, 0);
}

/* ------------------------------------------------------------ sendevent, filters */

static void send_custom(vox_client *c, const char *sub, const char *tag, const char *body,
                        char *event_uuid)
{
    vox_header h[] = {{"Event-Subclass", sub}, {"X-Tag", tag}, {"X-Note", "a b%c"}};
    vox_msg *r = NULL;
    assert_int_equal(vox_sendevent(c, "CUSTOM", h, 3, body, body ? strlen(body) : 0, &r), 0);
    const char *t = vox_msg_reply_text(r);
    assert_int_equal(strncmp(t, "+OK ", 4), 0);
    assert_int_equal(strlen(t), 40);
    if (event_uuid)
        snprintf(event_uuid, 40, "%s", t + 4);
    vox_msg_free(r);
}

static void expect_custom(vox_client *c, const char *sub, const char *tag, const char *body,
                          const char *event_uuid)
{
    vox_msg *m = NULL;
    assert_int_equal(vox_next_event(c, WAIT_MS, &m), 0);
    const vox_event *e = vox_msg_event(m);
    assert_string_equal(vox_event_name(e), "CUSTOM");
    assert_string_equal(vox_event_subclass(e), sub);
    assert_string_equal(vox_event_get(e, "X-Tag"), tag);
    assert_string_equal(vox_event_get(e, "X-Note"), "a b%c");
    if (event_uuid)
        assert_string_equal(vox_event_get(e, "Event-UUID"), event_uuid);
    size_t len = 0;
    const char *got = vox_event_body(e, &len);
    assert_int_equal(len, body ? strlen(body) : 0);
    assert_memory_equal(got, body ? body : "", len);
    vox_msg_free(m);
}

static void test_sendevent_filters(void **state)
{
    (void)state;
    vox_sim *s = sim_up(NULL);
    vox_header keep[] = {{"X-Tag", "keep"}};
    /* json, so that the header values travel escaped another way */
    vox_client_opts lo = {.port = vox_sim_port(s),
                          .events = "CUSTOM vox::one vox::two",
                          .format = VOX_FMT_JSON,
                          .filters = keep,
                          .nfilters = 1,
                          .command_timeout_ms = WAIT_MS};
    vox_client *l = NULL;
    assert_int_equal(vox_connect(&l, &lo), 0);
    vox_client *w = client(s, NULL);
    char id1[40], id2[40];
    send_custom(w, "vox::one", "keep", "line one\nline two\n", id1);
    send_custom(w, "vox::one", "drop", "dropped", NULL);
    send_custom(w, "vox::three", "keep", "not subscribed", NULL);
    send_custom(w, "vox::two", "keep", NULL, id2);
    expect_custom(l, "vox::one", "keep", "line one\nline two\n", id1);
    expect_custom(l, "vox::two", "keep", NULL, id2);
    /* the filters let the jobs through (vox_connect added that filter) */
    vox_msg *m = NULL;
    assert_int_equal(vox_bgapi(l, "version", &m), 0);
    assert_string_equal(vox_event_body(vox_msg_event(m), NULL),
                        "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    vox_msg_free(m);
    assert_int_equal(vox_next_event(l, 0, &m), 0); /* queued too */
    assert_string_equal(vox_event_name(vox_msg_event(m)), "BACKGROUND_JOB");
    vox_msg_free(m);

    /* filters changed at run time with the command serializers */
    vox_buf b = {0};
    vox_msg *r = NULL;
    assert_int_equal(vox_cmd_filter(&b, "X-Tag", "drop"), 0);
    assert_int_equal(vox_command(l, &b, &r), 0);
    assert_string_equal(vox_msg_reply_text(r), "+OK filter added. [X-Tag]=[drop]");
    vox_msg_free(r);
    b.len = 0;
    send_custom(w, "vox::one", "drop", "now kept", NULL);
    expect_custom(l, "vox::one", "drop", "now kept", NULL);
    assert_int_equal(vox_cmd_filter_delete(&b, NULL, NULL), 0);
    assert_int_equal(vox_command(l, &b, &r), 0);
    assert_string_equal(vox_msg_reply_text(r), "+OK filter deleted. [all][]");
    vox_msg_free(r);
    b.len = 0;
    send_custom(w, "vox::two", "other", "no filter left", NULL);
    expect_custom(l, "vox::two", "other", "no filter left", NULL);
    /* a subscription dropped with nixevent */
    assert_int_equal(vox_cmd_nixevent(&b, "CUSTOM vox::two"), 0);
    assert_int_equal(vox_command(l, &b, &r), 0);
    assert_string_equal(vox_msg_reply_text(r), "+OK events nixed");
    vox_msg_free(r);
    vox_buf_free(&b);
    send_custom(w, "vox::two", "x", "gone", NULL);
    send_custom(w, "vox::one", "y", "last", NULL);
    expect_custom(l, "vox::one", "y", "last", NULL);
    /* a refused command: VOX_EREPLY with the reply */
    assert_int_equal(vox_cmd_line(&b, "filter"), 0);
    r = NULL;
    assert_int_equal(vox_command(l, &b, &r), VOX_EREPLY);
    assert_non_null(r);
    assert_int_equal(vox_msg_is_error(r), 1);
    vox_msg_free(r);
    vox_buf_free(&b);
    assert_int_equal(vox_next_event(l, 0, &m), VOX_ETIMEDOUT);
    vox_close(w);
    vox_close(l);
    vox_sim_free(s);
}

/* A flood past max_queued_events: the oldest are dropped and counted. */
static void test_queue_limit(void **state)
{
    (void)state;
    vox_sim *s = sim_up(&(vox_sim_opts){.faults = {.flood_events = 50}});
    vox_client_opts o = {.port = vox_sim_port(s),
                         .events = "CUSTOM sim::flood",
                         .max_queued_events = 10,
                         .command_timeout_ms = WAIT_MS};
    vox_client *c = NULL;
    assert_int_equal(vox_connect(&c, &o), 0);
    /* the flood came right behind the subscription, before this reply */
    assert_int_equal(vox_api(c, "version", NULL), 0);
    assert_int_equal(vox_dropped_events(c), 40);
    for (int i = 41; i <= 50; i++) {
        vox_msg *m = NULL;
        assert_int_equal(vox_next_event(c, 0, &m), 0);
        assert_string_equal(vox_event_subclass(vox_msg_event(m)), "sim::flood");
        assert_int_equal(strtol(ev_get(m, "Flood-Index"), NULL, 10), i);
        vox_msg_free(m);
    }
    vox_msg *m = NULL;
    assert_int_equal(vox_next_event(c, 0, &m), VOX_ETIMEDOUT);
    vox_close(c);
    vox_sim_free(s);
}

/* ------------------------------------------------------------ api builders */

static char *originate_marked(vox_client *c, const char *mark, char *uuid)
{
    vox_header vars[] = {{"vox_mark", mark}};
    vox_originate o = {.endpoint = "loopback/9105",
                       .app = "park",
                       .cid_name = "Bob Smith",
                       .cid_num = "5550100",
                       .vars = vars,
                       .nvars = 1};
    vox_buf b = {0};
    assert_int_equal(vox_api_cmd_originate(&b, &o), 0);
    char *body = api_buf(c, &b, 0);
    ok_uuid(body, uuid);
    return body;
}

static char *words(vox_client *c, const char *cmd, const char *const *w, size_t n, int want)
{
    vox_buf b = {0};
    assert_int_equal(vox_api_cmd_words(&b, cmd, w, n), 0);
    return api_buf(c, &b, want);
}

/* The other leg of a loopback call (its twin). */
static char *twin_of(vox_client *c, const char *uuid)
{
    return words(c, "uuid_getvar", (const char *[]){uuid, "other_loopback_leg_uuid"}, 2, 0);
}

/* Channel commands: uuid_getvar/setvar/exists/dump/send_dtmf/kill. */
static void test_api_builders_channel(void **state)
{
    (void)state;
    vox_sim *s = sim_up(NULL);
    vox_client *c = client(s, "DTMF CHANNEL_HANGUP_COMPLETE");
    char a[40];
    free(originate_marked(c, "yes, please", a));
    char *v = words(c, "uuid_getvar", (const char *[]){a, "vox_mark"}, 2, 0);
    assert_string_equal(v, "yes, please");
    free(v);
    v = words(c, "uuid_setvar", (const char *[]){a, "vox_k", "v1"}, 3, 0);
    assert_string_equal(v, "+OK\n");
    free(v);
    vox_msg *r = NULL;
    assert_int_equal(vox_api_uuid_getvar(c, a, "vox_k", &r), 0);
    body_is(r, "v1");
    assert_int_equal(vox_api_uuid_setvar(c, a, "vox_k", "two words", NULL), 0);
    assert_int_equal(vox_api_uuid_getvar(c, a, "vox_k", &r), 0);
    body_is(r, "two words");
    assert_int_equal(vox_api_uuid_setvar(c, a, "vox_k", NULL, NULL), 0);
    assert_int_equal(vox_api_uuid_getvar(c, a, "vox_k", &r), 0);
    body_is(r, "_undef_");
    v = words(c, "uuid_exists", (const char *[]){a}, 1, 0);
    assert_string_equal(v, "true");
    free(v);
    assert_int_equal(vox_api_uuid_exists(c, NIL_UUID), 0);

    /* uuid_dump, as json and as headers */
    v = words(c, "uuid_dump", (const char *[]){a, "json"}, 2, 0);
    json_error_t je;
    json_t *j = json_loads(v, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "Unique-ID")), a);
    assert_string_equal(json_string_value(json_object_get(j, "Caller-Caller-ID-Name")),
                        "Bob Smith");
    assert_string_equal(json_string_value(json_object_get(j, "Caller-Caller-ID-Number")),
                        "5550100");
    assert_string_equal(json_string_value(json_object_get(j, "variable_vox_mark")), "yes, please");
    json_decref(j);
    free(v);
    assert_int_equal(vox_api_uuid_dump(c, a, &r), 0);
    char want[96];
    snprintf(want, sizeof want, "\nUnique-ID: %s\n", a);
    assert_non_null(strstr(vox_msg_body(r, NULL), want));
    assert_non_null(strstr(vox_msg_body(r, NULL), "\nvariable_vox_mark: yes,%20please\n"));
    vox_msg_free(r);

    /* uuid_send_dtmf: the far end (the loopback twin) hears it */
    assert_int_equal(vox_api_uuid_send_dtmf(c, a, "5", &r), 0);
    body_is(r, "+OK Success\n");
    char *b = twin_of(c, a);
    vox_msg *m = wait_event(c, "DTMF", b, NULL);
    assert_string_equal(ev_get(m, "DTMF-Digit"), "5");
    assert_string_equal(ev_get(m, "DTMF-Source"), "APP");
    vox_msg_free(m);

    /* uuid_kill with a cause: both legs go */
    v = words(c, "uuid_kill", (const char *[]){a, "USER_BUSY"}, 2, 0);
    assert_string_equal(v, "+OK\n");
    free(v);
    char causes[2][32];
    wait_hangups(c, (const char *[]){a, b}, 2, causes);
    assert_string_equal(causes[0], "USER_BUSY");
    assert_int_equal(vox_api_uuid_exists(c, a), 0);
    free(b);
    vox_close(c);
    vox_sim_free(s);
}

/* Commands on many calls: show calls, hash, hupall (with a variable). */
static void test_api_builders_calls(void **state)
{
    (void)state;
    vox_sim *s = sim_up(NULL);
    vox_client *c = client(s, "CHANNEL_HANGUP_COMPLETE");
    char a[40], z[40];
    free(originate_marked(c, "yes, please", a));
    free(originate_marked(c, "no", z));
    char *v = words(c, "show", (const char *[]){"calls", "as", "json"}, 3, 0);
    json_error_t je;
    json_t *j = json_loads(v, 0, &je);
    assert_non_null(j);
    /* four rows: loopback legs are not bridged to each other */
    assert_int_equal(json_integer_value(json_object_get(j, "row_count")), 4);
    assert_int_equal(json_array_size(json_object_get(j, "rows")), 4);
    json_decref(j);
    free(v);
    vox_msg *r = NULL;
    assert_int_equal(vox_api_show_calls(c, &r), 0);
    assert_int_equal(strncmp(vox_msg_body(r, NULL), "{\"row_count\":4,", 15), 0);
    vox_msg_free(r);

    /* hash: insert, select, delete */
    vox_buf b = {0};
    assert_int_equal(vox_api_cmd_hash(&b, VOX_HASH_INSERT, "vox", "greeting", "hello there"), 0);
    v = api_buf(c, &b, 0);
    assert_string_equal(v, "+OK\n");
    free(v);
    assert_int_equal(vox_api_hash(c, VOX_HASH_SELECT, "vox", "greeting", NULL, &r), 0);
    body_is(r, "hello there");
    assert_int_equal(vox_api_cmd_hash(&b, VOX_HASH_DELETE, "vox", "greeting", NULL), 0);
    free(api_buf(c, &b, 0));
    assert_int_equal(vox_api_hash(c, VOX_HASH_SELECT, "vox", "greeting", NULL, &r), VOX_EREPLY);
    vox_msg_free(r);

    /* hupall with a variable: only the marked call goes (both its legs) */
    char *zt = twin_of(c, z), *at = twin_of(c, a);
    assert_int_equal(vox_api_cmd_hupall(&b, "CALL_REJECTED", "vox_mark", "no"), 0);
    v = api_buf(c, &b, 0);
    assert_string_equal(v, "+OK hangup all channels matching [vox_mark]=[no] with cause "
                           "CALL_REJECTED\n");
    free(v);
    char causes[2][32];
    wait_hangups(c, (const char *[]){z, zt}, 2, causes);
    assert_string_equal(causes[0], "CALL_REJECTED");
    assert_int_equal(vox_api_uuid_exists(c, a), 1);
    /* hupall of everything */
    assert_int_equal(vox_api_hupall(c, NULL, NULL, NULL, &r), 0);
    body_is(r, "+OK hangup all channels with cause NORMAL_CLEARING\n");
    wait_hangups(c, (const char *[]){a, at}, 2, causes);
    assert_string_equal(causes[0], "NORMAL_CLEARING");
    api_is(c, "show channels as json", 0, "{\"row_count\":0}");
    /* helpers refuse bad words before the wire */
    assert_int_equal(vox_api_uuid_kill(c, "two words", NULL, NULL), VOX_EINVAL);
    assert_int_equal(vox_api_uuid_kill(c, NIL_UUID, NULL, &r), VOX_EREPLY);
    body_is(r, "-ERR No such channel!\n");
    free(zt);
    free(at);
    vox_close(c);
    vox_sim_free(s);
}

/* ================================================================== async */

typedef struct actx {
    uv_loop_t loop;
    uv_timer_t guard;
    int timed_out;
    vox_aclient *c;
    int connects, disconnects, misses, customs, api_done, job_done;
    int reasons[16];
    uint32_t retries[16];
    char log[4096];
    char api_body[4][128];
    int api_status[4];
    char job_body[128], job_cmd[32];
    int job_status;
    char origin[40];
    int ping_gen;
} actx;

static void note(actx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(actx *t, const char *fmt, ...)
{
    size_t n = strlen(t->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->log + n, sizeof t->log - n, fmt, ap);
    va_end(ap);
}

static void on_guard(uv_timer_t *h)
{
    ((actx *)h->data)->timed_out = 1;
}

static void a_connect(vox_aclient *c, void *ud)
{
    actx *t = ud;
    t->connects++;
    assert_int_equal(vox_aclient_connected(c), 1);
    note(t, "connect ");
}

static void a_disconnect(vox_aclient *c, int reason, uint32_t retry_ms, void *ud)
{
    actx *t = ud;
    if (t->disconnects < 16) {
        t->reasons[t->disconnects] = reason;
        t->retries[t->disconnects] = retry_ms;
    }
    t->disconnects++;
    assert_int_equal(vox_aclient_connected(c), 0);
}

static void a_missed(vox_aclient *c, void *ud)
{
    actx *t = ud;
    t->misses++;
    note(t, "missed ");
}

static const char *ev_key(const vox_event *ev)
{
    const char *sub = vox_event_subclass(ev);
    return sub ? sub : vox_event_name(ev);
}

static void a_event(vox_aclient *c, const vox_event *ev, void *ud)
{
    note(ud, "E:%s ", ev_key(ev));
}

static void astart(actx *t, vox_aclient_opts *o, uint16_t port)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    uv_timer_init(&t->loop, &t->guard);
    t->guard.data = t;
    uv_timer_start(&t->guard, on_guard, 3 * WAIT_MS, 0);
    o->port = port;
    o->on_connect = a_connect;
    o->on_disconnect = a_disconnect;
    o->on_missed = a_missed;
    if (!o->on_event)
        o->on_event = a_event;
    o->userdata = t;
    o->command_timeout_ms = WAIT_MS;
    vox_loop l = vox_uv_loop(&t->loop);
    assert_int_equal(vox_aclient_start(&t->c, &l, o), 0);
}

static void arun(actx *t, const int *flag, int want)
{
    while (*flag < want) {
        if (t->timed_out)
            fail_msg("timed out waiting (log: %s)", t->log);
        uv_run(&t->loop, UV_RUN_ONCE);
    }
}

static void aend(actx *t)
{
    vox_aclient_stop(t->c);
    uv_close((uv_handle_t *)&t->guard, NULL);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t->loop), 0);
}

/* sendevent CUSTOM on the async client's own connection. */
static void asend(actx *t, const char *sub, const char *seq)
{
    vox_header h[] = {{"Event-Subclass", sub}, {"X-Seq", seq}};
    vox_buf b = {0};
    assert_int_equal(vox_cmd_sendevent(&b, "CUSTOM", h, 2, NULL, 0), 0);
    assert_int_equal(vox_conn_command(vox_aclient_conn(t->c), &b, WAIT_MS, NULL, NULL), 0);
    vox_buf_free(&b);
}

static void h_all(vox_aclient *c, const vox_event *ev, void *ud)
{
    const char *seq = vox_event_get(ev, "X-Seq");
    note(vox_aclient_userdata(c), "*:%s%s ", ev_key(ev), seq ? seq : "");
}

static void h_named(vox_aclient *c, const vox_event *ev, void *ud)
{
    actx *t = vox_aclient_userdata(c);
    const char *seq = vox_event_get(ev, "X-Seq");
    note(t, "%s%s ", (const char *)ud, seq ? seq : "");
    if (!strcmp(vox_event_name(ev), "CUSTOM"))
        t->customs++;
}

static void api_cb(vox_aclient *c, int status, const vox_msg *reply, void *ud)
{
    actx *t = vox_aclient_userdata(c);
    size_t i = (size_t)(uintptr_t)ud;
    t->api_status[i] = status;
    snprintf(t->api_body[i], sizeof t->api_body[i], "%s", reply ? vox_msg_body(reply, NULL) : "");
    t->api_done++;
}

static void job_cb(vox_aclient *c, int status, const vox_event *job, void *ud)
{
    actx *t = ud;
    t->job_status = status;
    snprintf(t->job_body, sizeof t->job_body, "%s", job ? vox_event_body(job, NULL) : "");
    snprintf(t->job_cmd, sizeof t->job_cmd, "%s", job ? vox_event_get(job, "Job-Command") : "");
    t->job_done++;
}

static void test_async_hooks(void **state)
{
    (void)state;
    vox_sim *s = sim_up(NULL);
    actx t;
    vox_aclient_opts o = {.events = "CHANNEL_CREATE CUSTOM vox::a vox::b"};
    astart(&t, &o, vox_sim_port(s));
    assert_int_equal(vox_aclient_hook(t.c, NULL, h_all, NULL), 0);
    assert_int_equal(vox_aclient_hook(t.c, "VOX::A", h_named, "A"), 0);
    assert_int_equal(vox_aclient_hook(t.c, "CUSTOM", h_named, "C"), 0);
    assert_int_equal(vox_aclient_hook(t.c, "channel_create", h_named, "CR"), 0);
    /* nothing can be sent before the connection is up */
    assert_int_equal(vox_aclient_api(t.c, "status", api_cb, NULL), VOX_ECLOSED);
    arun(&t, &t.connects, 1);
    asend(&t, "vox::a", "1");
    asend(&t, "vox::b", "2");
    asend(&t, "vox::c", "x"); /* not subscribed */
    asend(&t, "vox::a", "3");
    arun(&t, &t.customs, 5); /* A1 C1 C2 A3 C3 */
    assert_string_equal(t.log, "connect *:vox::a1 A1 C1 E:vox::a *:vox::b2 C2 E:vox::b "
                               "*:vox::a3 A3 C3 E:vox::a ");
    t.log[0] = '\0';

    /* api and bgapi callbacks */
    assert_int_equal(vox_aclient_api(t.c, "global_getvar hostname", api_cb, (void *)0), 0);
    assert_int_equal(vox_aclient_api(t.c, "nope", api_cb, (void *)1), 0);
    assert_int_equal(vox_aclient_api(t.c, "originate loopback/9105 &park", api_cb, (void *)2), 0);
    assert_int_equal(vox_aclient_bgapi(t.c, "version", job_cb, &t), 0);
    arun(&t, &t.api_done, 3);
    arun(&t, &t.job_done, 1);
    assert_int_equal(t.api_status[0], 0);
    assert_string_equal(t.api_body[0], "vox-sim");
    assert_int_equal(t.api_status[1], VOX_EREPLY);
    assert_string_equal(t.api_body[1], "-ERR nope Command not found!\n");
    assert_int_equal(t.api_status[2], 0);
    char a[40];
    ok_uuid(t.api_body[2], a);
    assert_int_equal(t.job_status, 0);
    assert_string_equal(t.job_cmd, "version");
    assert_string_equal(t.job_body, "FreeSWITCH Version 1.11.3-dev~64bit ( 64bit)\n");
    /* both legs were created before the originate answered, and the bgapi
     * waited for it; the job's event reaches the catch-all hooks too */
    assert_string_equal(t.log, "*:CHANNEL_CREATE CR E:CHANNEL_CREATE *:CHANNEL_CREATE CR "
                               "E:CHANNEL_CREATE *:BACKGROUND_JOB E:BACKGROUND_JOB ");
    aend(&t);
    assert_int_equal(t.disconnects, 0);
    vox_sim_free(s);
}

/* Records each ping and the connection generation it carries. */
static void h_ping(vox_aclient *c, const vox_event *ev, void *ud)
{
    actx *t = vox_aclient_userdata(c);
    t->ping_gen = (int)strtol(vox_event_get(ev, "X-Seq"), NULL, 10);
    note(t, "ping%s ", vox_event_get(ev, "X-Seq"));
    t->customs++;
}

static void test_async_reconnect(void **state)
{
    (void)state;
    vox_sim *s = sim_up(NULL);
    uint16_t port = vox_sim_port(s);
    actx t;
    vox_aclient_opts o = {
        .events = "CUSTOM vox::ping", .backoff_min_ms = 10, .backoff_max_ms = 100};
    astart(&t, &o, port);
    assert_int_equal(vox_aclient_hook(t.c, "vox::ping", h_ping, NULL), 0);
    arun(&t, &t.connects, 1);
    asend(&t, "vox::ping", "1");
    arun(&t, &t.customs, 1);

    /* the simulator goes away: the client notices */
    vox_sim_free(s);
    arun(&t, &t.disconnects, 1);
    assert_int_equal(t.reasons[0], VOX_ECLOSED);
    assert_true(t.retries[0] <= 100);
    /* a new one on the same port: connect, missed, the subscription is back */
    vox_sim_opts so = {.port = port};
    s = sim_up(&so);
    arun(&t, &t.connects, 2);
    assert_int_equal(t.misses, 1);
    assert_true(vox_aclient_connected(t.c));
    asend(&t, "vox::ping", "2");
    arun(&t, &t.customs, 2);
    assert_int_equal(t.ping_gen, 2);
    assert_non_null(strstr(t.log, "connect ping1 "));
    assert_non_null(strstr(t.log, "connect missed ping2 "));
    /* the attempts in between were refused */
    for (int i = 1; i < t.disconnects && i < 16; i++)
        assert_int_equal(t.reasons[i], VOX_ESYS);
    aend(&t);
    vox_sim_free(s);
}

static void test_async_wrong_password(void **state)
{
    (void)state;
    const char *users[] = {"1001@example.org:pw1001", NULL};
    vox_sim *s = sim_up(&(vox_sim_opts){.password = "right", .users = users});
    const char *bad[] = {"wrong", "1001@example.org:nope"};
    for (int i = 0; i < 2; i++) {
        actx t;
        vox_aclient_opts o = {.password = bad[i], .backoff_min_ms = 10, .backoff_max_ms = 60000};
        astart(&t, &o, vox_sim_port(s));
        arun(&t, &t.disconnects, 1);
        assert_int_equal(t.reasons[0], VOX_EAUTH);
        /* retried only at the slowest pace */
        assert_int_equal(t.retries[0], 60000);
        assert_int_equal(t.connects, 0);
        aend(&t);
    }
    /* and the right one connects */
    actx t;
    vox_aclient_opts o = {.password = "1001@example.org:pw1001"};
    astart(&t, &o, vox_sim_port(s));
    arun(&t, &t.connects, 1);
    assert_int_equal(t.disconnects, 0);
    aend(&t);
    vox_sim_free(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_auth),
        cmocka_unit_test(test_api_replies),
        cmocka_unit_test(test_bgapi),
        cmocka_unit_test(test_originate_socket),
        cmocka_unit_test(test_originate_loopback),
        cmocka_unit_test(test_sendevent_filters),
        cmocka_unit_test(test_queue_limit),
        cmocka_unit_test(test_api_builders_channel),
        cmocka_unit_test(test_api_builders_calls),
        cmocka_unit_test(test_async_hooks),
        cmocka_unit_test(test_async_reconnect),
        cmocka_unit_test(test_async_wrong_password),
    };
    if (getenv("SIMLIB_ONLY"))
        cmocka_set_test_filter(getenv("SIMLIB_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
