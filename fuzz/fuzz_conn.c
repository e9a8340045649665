/* Fuzz target for the connection engine: the input is what FreeSWITCH sends,
 * fed in chunks whose sizes come from the input, while a few requests are
 * made, time moves on and the output is drained. The callbacks check the
 * engine's promises: each request completes exactly once with a status its
 * callback may receive, on_close runs once and after every completion.
 *
 * Input layout:
 *   byte 0   bit 0: role (0 inbound with a password, events and filters;
 *            1 outbound); bit 1: json events; bits 2-4: k, the number of
 *            chunk-size bytes (0: one byte at a time); bits 5-6: what a
 *            callback does on the third event (nothing, vox_conn_close,
 *            vox_conn_free, a new api request); bit 7: a fast clock (about
 *            0.3 s per chunk, so deadlines expire) instead of a slow one
 *   k bytes  chunk sizes (each value + 1), used in turn, cycling
 *   rest     the bytes FreeSWITCH would send
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vox/vox.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

enum { R_API, R_BGAPI, R_EXEC, R_CMD, R_LATE, R_COUNT };

typedef struct req {
    int queued; /* the request was accepted: its callback must run once */
    int calls;
} req;

typedef struct world {
    vox_conn *c;
    int freed; /* vox_conn_free was called from a callback */
    int action;
    int nevents;
    int closes;
    int readies;
    req reqs[R_COUNT];
} world;

static world g;
static volatile size_t g_sink;

static void touch(const char *s)
{
    if (s)
        g_sink += strlen(s);
}

static void read_event(const vox_event *ev)
{
    touch(vox_event_name(ev));
    touch(vox_event_subclass(ev));
    size_t n = vox_event_header_count(ev);
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL, *value = NULL;
        size_t nv = 0;
        CHECK(vox_event_header_at(ev, i, &name, &value, &nv) == 0);
        touch(name);
        touch(value);
    }
    size_t blen = 0;
    const char *body = vox_event_body(ev, &blen);
    CHECK(body && body[blen] == '\0');
}

/* Every completion: once, before on_close, on the conn it belongs to. */
static void completed(vox_conn *c, void *ud)
{
    req *r = ud;
    CHECK(c == g.c);
    CHECK(r->queued);
    CHECK(r->calls == 0);
    CHECK(g.closes == 0);
    r->calls++;
}

static void on_reply(vox_conn *c, int status, const vox_msg *reply, void *ud)
{
    completed(c, ud);
    CHECK(status == 0 || status == VOX_EREPLY || status == VOX_ECLOSED || status == VOX_ETIMEDOUT);
    if (status == 0 || status == VOX_EREPLY)
        CHECK(reply != NULL);
    if (reply)
        touch(vox_msg_reply_text(reply));
}

static void on_exec(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    completed(c, ud);
    CHECK(status == 0 || status == VOX_EREPLY || status == VOX_EHANGUP || status == VOX_ECLOSED ||
          status == VOX_ETIMEDOUT);
    if (status == 0)
        CHECK(ev != NULL);
    if (ev)
        read_event(ev);
}

static void on_job(vox_conn *c, int status, const vox_event *ev, void *ud)
{
    completed(c, ud);
    CHECK(status == 0 || status == VOX_EREPLY || status == VOX_ECLOSED || status == VOX_ETIMEDOUT);
    if (status == 0)
        CHECK(ev != NULL);
    if (ev)
        read_event(ev);
}

static void on_ready(vox_conn *c, int status, void *ud)
{
    CHECK(c == g.c && ud == &g);
    CHECK(g.readies++ == 0);
    CHECK(g.closes == 0);
}

/* The third event makes the callback do what the input asked for. */
static void act(vox_conn *c)
{
    switch (g.action) {
    case 1: vox_conn_close(c, 0); break;
    case 2:
        vox_conn_free(c);
        g.freed = 1;
        break;
    case 3:
        g.reqs[R_LATE].queued = vox_conn_api(c, "status", NULL, 0, on_reply, &g.reqs[R_LATE]) == 0;
        break;
    }
}

static void on_event(vox_conn *c, const vox_event *ev, void *ud)
{
    CHECK(c == g.c && ud == &g);
    CHECK(g.closes == 0 && !g.freed);
    read_event(ev);
    if (++g.nevents == 3)
        act(c);
}

static void on_hook(vox_conn *c, const vox_event *ev, void *ud)
{
    CHECK(c == g.c && ud == &g);
    touch(vox_event_name(ev));
}

static void on_msg(vox_conn *c, const vox_msg *msg, void *ud)
{
    CHECK(c == g.c && ud == &g);
    size_t len = 0;
    const char *body = vox_msg_body(msg, &len);
    CHECK(body && body[len] == '\0');
}

static void on_close(vox_conn *c, int reason, void *ud)
{
    CHECK(c == g.c && ud == &g);
    CHECK(g.closes++ == 0);
    CHECK(reason <= 0);
}

static int make_conn(uint8_t ctl)
{
    static const vox_header filters[] = {{"Unique-ID", "fuzz-uuid"}};
    vox_conn_opts o = {0};
    o.role = (ctl & 1) ? VOX_ROLE_OUTBOUND : VOX_ROLE_INBOUND;
    o.format = (ctl & 2) ? VOX_FMT_JSON : VOX_FMT_PLAIN;
    if (o.role == VOX_ROLE_INBOUND) {
        o.password = "ClueCon";
        o.events = "CHANNEL_ANSWER CHANNEL_HANGUP CUSTOM sofia::register";
        o.filters = filters;
        o.nfilters = 1;
    }
    o.handshake_timeout_ms = 3000;
    o.seed = 42;
    o.on_ready = on_ready;
    o.on_event = on_event;
    o.on_log = on_msg;
    o.on_notice = on_msg;
    o.on_close = on_close;
    o.userdata = &g;
    if (vox_conn_new(&g.c, &o) != 0)
        return -1;
    if (vox_conn_hook(g.c, NULL, on_hook, &g) || vox_conn_hook(g.c, "CHANNEL_HANGUP", on_hook, &g))
        return -1;
    return 0;
}

/* Request i is made before chunk i, so some wait for the handshake. */
static void request(int i)
{
    vox_conn *c = g.c;
    req *r = &g.reqs[i];
    int rc = -1;
    if (i == R_API) {
        rc = vox_conn_api(c, "status", NULL, 0, on_reply, r);
    } else if (i == R_BGAPI) {
        char job[64];
        rc = vox_conn_bgapi(c, "version", NULL, NULL, job, sizeof job, 5000, on_job, r);
    } else if (i == R_EXEC) {
        vox_execute x = {.app = "playback", .arg = "tone_stream://%(200,0,800)", .event_lock = 1};
        if (vox_conn_role(c) == VOX_ROLE_INBOUND)
            x.uuid = "fuzz-uuid";
        char ev_uuid[64];
        rc = vox_conn_execute(c, &x, ev_uuid, sizeof ev_uuid, 20000, on_exec, r);
    } else if (i == R_CMD) {
        vox_buf b = {0};
        if (vox_cmd_line(&b, "noevents") == 0)
            rc = vox_conn_command(c, &b, 0, on_reply, r);
        vox_buf_free(&b);
    }
    r->queued = rc == 0;
    /* An execute on a channel known to be down fails at once. */
    if (rc && !(i == R_EXEC && rc == VOX_EHANGUP))
        CHECK(rc == VOX_ECLOSED || rc == VOX_ESTATE || rc == VOX_ENOMEM);
}

/* Writes part of the output, as a socket would. */
static void drain(size_t chunk)
{
    size_t len = 0;
    const char *out = vox_conn_output(g.c, &len);
    if (!len)
        return;
    CHECK(out != NULL);
    g_sink += (unsigned char)out[len - 1];
    vox_conn_consume(g.c, len < chunk ? len : chunk);
}

/* The time that passes while chunk i arrives. */
static uint64_t step(size_t i, int fast)
{
    if (fast)
        return 1 + 97 * (i % 7);
    return i % 64 == 63 ? 1000 : 1;
}

static void run(const char *d, size_t len, const uint8_t *sizes, size_t k, int fast)
{
    uint64_t now = 1000;
    size_t pos = 0, i = 0;
    vox_conn_tick(g.c, now);
    while (pos < len && !g.freed) {
        if (i < R_LATE)
            request((int)i);
        size_t n = k ? (size_t)sizes[i % k] + 1 : 1;
        if (n > len - pos)
            n = len - pos;
        int rc = vox_conn_feed(g.c, d + pos, n);
        CHECK(rc == 0 || rc == VOX_EPROTO || rc == VOX_ELIMIT || rc == VOX_ENOMEM);
        pos += n;
        i++;
        if (g.freed)
            break;
        now += step(i, fast);
        vox_conn_tick(g.c, now);
        if (g.freed)
            break;
        CHECK(vox_conn_deadline(g.c) > now || vox_conn_deadline(g.c) == UINT64_MAX);
        drain(n * 3);
        if (vox_conn_get_state(g.c) == VOX_STATE_CLOSED)
            CHECK(vox_conn_wants(g.c) & VOX_WANT_CLOSE);
    }
    for (; i < R_LATE && !g.freed; i++)
        request((int)i);
}

static void end(void)
{
    if (!g.freed) {
        drain((size_t)-1);
        vox_conn_tick(g.c, UINT64_MAX / 2);
        if (!g.freed)
            vox_conn_eof(g.c);
        if (!g.freed) {
            CHECK(vox_conn_wants(g.c) & VOX_WANT_CLOSE);
            vox_conn_free(g.c);
        }
    }
    CHECK(g.closes == 1);
    for (int i = 0; i < R_COUNT; i++)
        CHECK(g.reqs[i].calls == (g.reqs[i].queued ? 1 : 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    size_t k = (ctl >> 2) & 7;
    if (size < 1 + k)
        return 0;
    memset(&g, 0, sizeof g);
    g.action = (ctl >> 5) & 3;
    if (make_conn(ctl) != 0) {
        vox_conn_free(g.c);
        return 0;
    }
    run((const char *)data + 1 + k, size - 1 - k, data + 1, k, ctl >> 7);
    end();
    return 0;
}
