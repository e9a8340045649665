/* The outbound call: the body of each call's thread (handshake, the user's
 * call function, the linger until the session ends) and the vox_call_*
 * accessors for the channel data. */
#include <stdio.h>
#include <unistd.h>

#include "call_int.h"

static void log_handshake_error(vox__srv_call *k, vox_client *c, int rc)
{
    const vox_server *s = k->srv;
    const char *why = c ? vox_conn_error_text(vox_client_conn(c)) : NULL;
    why = why && *why ? why : vox_strerror(rc);
    if (rc == VOX_ENOTFULL || rc == VOX_ENOTASYNC)
        vox__srv_log(s, 0, "call from %s refused: the dialplan's socket needs `async full` (%s)",
                     k->peer, why);
    else if (rc == VOX_ETIMEDOUT)
        vox__srv_log(s, 1, "call from %s: no handshake within %u ms", k->peer,
                     (unsigned)s->o.handshake_timeout_ms);
    else
        vox__srv_log(s, 1, "call from %s: handshake failed: %s", k->peer, why);
}

static int handshake(vox__srv_call *k, vox_client **out)
{
    const vox_server *s = k->srv;
    vox_conn_opts o = {
        .role = VOX_ROLE_OUTBOUND,
        .format = s->o.format,
        .linger_seconds = s->o.linger_seconds,
        .handshake_timeout_ms = s->o.handshake_timeout_ms,
        .pause_after_handshake = 1, /* events wait for the call's hooks */
    };
    uint32_t tmo = s->o.command_timeout_ms ? s->o.command_timeout_ms : UINT32_MAX;
    int rc = vox__client_open(out, k->fd, &o, tmo);
    if (rc)
        return rc;
    /* The engine's own handshake deadline ends it; this one only guards
     * against a clock that never reaches the engine. */
    uint64_t deadline = vox__now_ms() + s->o.handshake_timeout_ms + 1000;
    rc = vox__block_run(*out, &(*out)->ready, deadline);
    return rc ? rc : (*out)->ready_status;
}

void *vox__call_main(void *arg)
{
    vox__srv_call *k = arg;
    const vox_server *s = k->srv;
    vox_client *c = NULL;
    int rc = handshake(k, &c);
    if (rc) {
        log_handshake_error(k, c, rc);
    } else {
        vox__srv_log(s, 3, "call %s from %s: started", vox_call_uuid(c), k->peer);
        s->fn(c, s->userdata);
        /* Rule 5: the session lingers on by itself, its hooks still running,
         * until it has seen the hangup and the linger notice (or EOF, or the
         * server's stop shuts the socket down). */
        vox__block_drain(c, UINT64_MAX);
        vox__srv_log(s, 3, "call %s from %s: ended", vox_call_uuid(c), k->peer);
    }
    int fd = k->fd;
    vox__srv_release_fd(k);
    if (c)
        vox__client_free(c);
    else
        close(fd);
    vox__srv_call_done(k);
    return NULL;
}

/* ---------------------------------------------------------- the call */

const char *vox_call_uuid(const vox_call *call)
{
    return call && call->conn ? vox_conn_uuid(call->conn) : NULL;
}

const vox_event *vox_call_data(vox_call *call)
{
    if (!call || !call->conn)
        return NULL;
    const vox_event *ev = call->data ? vox_msg_event(call->data) : NULL;
    return ev ? ev : vox_conn_channel_data(call->conn);
}

const char *vox_call_variable(vox_call *call, const char *name)
{
    const vox_event *ev = vox_call_data(call);
    if (!ev || !name || !*name)
        return NULL;
    char key[256];
    size_t n = strlen(name);
    if (n > sizeof key - sizeof "variable_")
        return NULL; /* no variable has such a name */
    memcpy(key, "variable_", 9);
    memcpy(key + 9, name, n + 1);
    return vox_event_get(ev, key);
}

int vox_call_hungup(const vox_call *call)
{
    return call && call->conn ? vox_conn_hungup(call->conn) : 0;
}

/* uuid_dump's output is the channel's event serialized as `Name: value`
 * lines (URL-encoded), which is exactly the body of a text/event-plain
 * frame: frame it so and let the parser build the event view. The body
 * must end with the empty line that closes an event's headers. */
static int has_empty_line(const char *p, size_t len)
{
    for (size_t i = 1; i < len; i++)
        if (p[i] == '\n' && p[i - 1] == '\n')
            return 1;
    return 0;
}

static int frame_dump(vox_buf *b, const char *body, size_t len)
{
    const char *tail = "";
    if (!has_empty_line(body, len))
        tail = len && body[len - 1] == '\n' ? "\n" : "\n\n";
    size_t tlen = strlen(tail);
    char head[96];
    int n = snprintf(head, sizeof head, "Content-Length: %zu\nContent-Type: text/event-plain\n\n",
                     len + tlen);
    if (vox__buf_append(b, head, (size_t)n) || vox__buf_append(b, body, len) ||
        vox__buf_append(b, tail, tlen))
        return VOX_ENOMEM;
    return 0;
}

static int parse_dump(const vox_msg *reply, vox_msg **out)
{
    size_t len = 0, used = 0;
    const char *body = vox_msg_body(reply, &len);
    vox_buf b = {0};
    vox_parser *p = NULL;
    int rc = frame_dump(&b, body, len);
    if (!rc)
        rc = vox_parser_new(&p, NULL);
    if (!rc)
        rc = vox_parser_feed(p, b.data, b.len, &used, out);
    if (rc == 1)
        rc = vox_msg_event(*out) ? 0 : VOX_EPROTO;
    else if (rc == 0)
        rc = VOX_EPROTO; /* cannot happen: the frame is complete */
    if (rc) {
        vox_msg_free(*out);
        *out = NULL;
    }
    vox_parser_free(p);
    vox_buf_free(&b);
    return rc;
}

int vox_call_update(vox_call *call)
{
    const char *uuid = vox_call_uuid(call);
    if (!uuid)
        return call ? VOX_ESTATE : VOX_EINVAL;
    char cmd[sizeof "uuid_dump " + 128];
    if ((size_t)snprintf(cmd, sizeof cmd, "uuid_dump %s", uuid) >= sizeof cmd)
        return VOX_EINVAL;
    vox_msg *reply = NULL, *dump = NULL;
    int rc = vox_api(call, cmd, &reply);
    if (!rc)
        rc = parse_dump(reply, &dump);
    vox_msg_free(reply);
    if (rc)
        return rc;
    vox_msg_free(call->data);
    call->data = dump;
    return 0;
}
