/* libvox proto — the sans-I/O layer: an incremental parser for what
 * FreeSWITCH sends, the message and event model, and the serialization of
 * every command a client sends. Nothing here touches a socket, a clock or a
 * thread.
 *
 * Thread rules: a vox_parser is used by one thread at a time. A vox_msg (and
 * the vox_event inside it) may be handed to another thread, but is read by
 * one thread at a time: event values are decoded lazily, in memory the
 * message owns. Reference counting (vox_msg_ref/vox_msg_free) is atomic.
 * The serializers and vox_url_decode are pure and thread-safe.
 *
 * NULL: every vox_msg_* and vox_event_* accessor accepts a NULL msg or ev
 * and answers as for an empty one (NULL, "", 0 or VOX_EINVAL).
 */
#ifndef VOX_PROTO_H
#define VOX_PROTO_H

#include <vox/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ limits */

/* Hard limits on what one message from the peer may be. A message over a
 * limit is a sticky VOX_ELIMIT error. Zero in a field means "the default". */
typedef struct vox_limits {
    size_t max_header_block; /* bytes of one header block; default 1 MiB
                              * (the outbound connect reply exceeds 64 KiB) */
    size_t max_body;         /* bytes of one body; default 256 MiB */
    size_t max_headers;      /* headers in one block or event; default 8192 */
} vox_limits;

#define VOX_DEFAULT_MAX_HEADER_BLOCK ((size_t)1 << 20)
#define VOX_DEFAULT_MAX_BODY ((size_t)256 << 20)
#define VOX_DEFAULT_MAX_HEADERS ((size_t)8192)

/* ---------------------------------------------------------------- messages */

typedef enum vox_content_type {
    VOX_CT_UNKNOWN = 0,       /* no or an unknown Content-Type */
    VOX_CT_AUTH_REQUEST,      /* auth/request */
    VOX_CT_COMMAND_REPLY,     /* command/reply */
    VOX_CT_API_RESPONSE,      /* api/response */
    VOX_CT_EVENT_PLAIN,       /* text/event-plain */
    VOX_CT_EVENT_JSON,        /* text/event-json */
    VOX_CT_EVENT_XML,         /* text/event-xml */
    VOX_CT_LOG_DATA,          /* log/data */
    VOX_CT_DISCONNECT_NOTICE, /* text/disconnect-notice */
    VOX_CT_RUDE_REJECTION,    /* text/rude-rejection */
} vox_content_type;

/* One message from FreeSWITCH: a header block and an optional body.
 * Reference counted; the parser hands out one reference. */
typedef struct vox_msg vox_msg;
/* The event view of a message (see below). Lives inside its vox_msg. */
typedef struct vox_event vox_event;

/* Take another reference; returns msg (NULL stays NULL). */
VOX_EXPORT vox_msg *vox_msg_ref(vox_msg *msg);
/* Drop a reference; the last one frees the message and its event view.
 * NULL is ignored. */
VOX_EXPORT void vox_msg_free(vox_msg *msg);

/* The Content-Type as an enum (VOX_CT_UNKNOWN when absent or unknown). */
VOX_EXPORT vox_content_type vox_msg_type(const vox_msg *msg);
/* The Content-Type header as sent, "" when absent. Borrowed from msg. */
VOX_EXPORT const char *vox_msg_content_type(const vox_msg *msg);
/* The first header called name (case-insensitive), its value exactly as
 * sent (not URL-decoded), or NULL. Borrowed from msg. */
VOX_EXPORT const char *vox_msg_header(const vox_msg *msg, const char *name);
/* Number of headers in the header block, and the i-th of them in wire
 * order (0, or VOX_EINVAL when i is out of range; NULL out-pointers are
 * allowed). Borrowed from msg. */
VOX_EXPORT size_t vox_msg_header_count(const vox_msg *msg);
VOX_EXPORT int vox_msg_header_at(const vox_msg *msg, size_t i, const char **name,
                                 const char **value);
/* The body exactly as sent, NUL-terminated (it may also contain NULs: use
 * len), "" with len 0 when there is none. len may be NULL. Borrowed. */
VOX_EXPORT const char *vox_msg_body(const vox_msg *msg, size_t *len);
/* The reply text: Reply-Text of a command/reply (URL-decoded when the reply
 * is the outbound connect reply, whose text is "+OK\n"), or the body of an
 * api/response as sent (it usually ends with a newline). NULL for other
 * types and for a command/reply without Reply-Text. Borrowed from msg. */
VOX_EXPORT const char *vox_msg_reply_text(const vox_msg *msg);
/* 1 when the message is a command/reply or api/response whose text starts
 * with "-ERR" (or "-USAGE"), else 0. */
VOX_EXPORT int vox_msg_is_error(const vox_msg *msg);
/* The event this message carries, or NULL: every text/event-* message, and a
 * command/reply whose header block is itself a serialized event (the reply to
 * an outbound `connect`, whose headers are the channel data). Borrowed from
 * msg: it lives as long as msg does. */
VOX_EXPORT const vox_event *vox_msg_event(const vox_msg *msg);

/* ------------------------------------------------------------------ events */

/* One event, the same view whatever the wire format (plain, json, xml).
 * Every value is returned decoded (URL-decoding for plain and xml, XML
 * entities for xml, JSON escapes for json), NUL-terminated and borrowed from
 * the message. Header names compare case-insensitively. A multi-valued
 * header (a JSON array, a plain `ARRAY::a|:b`) is one header with several
 * values. A value that cannot be decoded (a bad %-escape) is returned as
 * sent. Decoding is lazy and done once per header. */

/* Event-Name, e.g. "CHANNEL_ANSWER" or "CUSTOM"; "" when absent. */
VOX_EXPORT const char *vox_event_name(const vox_event *ev);
/* Event-Subclass of a CUSTOM event, e.g. "sofia::register", or NULL. */
VOX_EXPORT const char *vox_event_subclass(const vox_event *ev);
/* The (first) value of header name, or NULL when absent. */
VOX_EXPORT const char *vox_event_get(const vox_event *ev, const char *name);
/* Number of headers (a name repeated in the event counts once per
 * occurrence; vox_event_get finds the first), and the i-th one in wire order
 * with its (first) value and how many values it has. NULL out-pointers are
 * allowed. 0, or VOX_EINVAL when i is out of range. */
VOX_EXPORT size_t vox_event_header_count(const vox_event *ev);
VOX_EXPORT int vox_event_header_at(const vox_event *ev, size_t i, const char **name,
                                   const char **value, size_t *nvalues);
/* The k-th value (from 0) of the i-th header, NULL when out of range. */
VOX_EXPORT const char *vox_event_value_at(const vox_event *ev, size_t i, size_t k);
/* The event's own body (plain: after its inner Content-Length; json:
 * "_body"; xml: <body>), "" with len 0 when none. len may be NULL. */
VOX_EXPORT const char *vox_event_body(const vox_event *ev, size_t *len);
/* The message this view belongs to (to take a reference on it). */
VOX_EXPORT vox_msg *vox_event_msg(const vox_event *ev);

/* ------------------------------------------------------------------ parser */

typedef struct vox_parser vox_parser;

/* Create a parser. limits may be NULL (defaults); it is copied. *out is set
 * on success. Errors: VOX_EINVAL (out NULL), VOX_ENOMEM. Free with
 * vox_parser_free (NULL is ignored); the messages it handed out stay valid
 * (they own their memory). */
VOX_EXPORT int vox_parser_new(vox_parser **out, const vox_limits *limits);
VOX_EXPORT void vox_parser_free(vox_parser *p);

/* Feed up to len bytes. The parser consumes bytes until it completes one
 * message or runs out of input; *used says how many it consumed.
 *   1  a message is complete: *msg is a new reference (caller frees with
 *      vox_msg_free); call again with the rest of the input.
 *   0  all len bytes consumed, no message completed yet (*msg = NULL).
 *  <0  VOX_EPROTO, VOX_ELIMIT or VOX_ENOMEM. Protocol and limit errors are
 *      sticky: every later call returns the same error (see
 *      vox_parser_error). VOX_ENOMEM is not sticky: the bytes *used says
 *      were consumed were kept, and repeating the call with the rest of the
 *      input (possibly none) goes on where it stopped. VOX_EINVAL (not
 *      sticky, nothing consumed): p or msg NULL, or data NULL with len > 0.
 * used may be NULL. The parser keeps no pointer into data. The result does
 * not depend on how the stream is split into calls. */
VOX_EXPORT int vox_parser_feed(vox_parser *p, const char *data, size_t len, size_t *used,
                               vox_msg **msg);
/* The sticky error: a reason (static or parser-owned text, valid until the
 * next call on p; NULL when there is no error) and the stream offset of the
 * byte that caused it (0 when none); reason and offset may be NULL.
 * Returns the error code, 0 when there is none, VOX_EINVAL for a NULL p. */
VOX_EXPORT int vox_parser_error(const vox_parser *p, const char **reason, uint64_t *offset);
/* Bytes consumed since creation (0 for NULL). */
VOX_EXPORT uint64_t vox_parser_offset(const vox_parser *p);
/* 1 when the parser holds part of a message (an EOF now would cut it); 0
 * otherwise and for NULL. */
VOX_EXPORT int vox_parser_pending(const vox_parser *p);

/* ------------------------------------------------------------ url-decoding */

/* Decode %XX escapes of src (len bytes) into dst, which has room for len+1
 * bytes; NUL-terminates and returns the decoded length. A '%' not followed by
 * two hex digits is copied as is. '+' is left as is (FreeSWITCH encodes a
 * space as %20). dst may equal src; otherwise they must not overlap. */
VOX_EXPORT size_t vox_url_decode(char *dst, const char *src, size_t len);

/* ----------------------------------------------------------- serialization */

/* A growable byte buffer the serializers append to. Zero-initialize it;
 * release with vox_buf_free, which leaves it zeroed and reusable (NULL is
 * ignored). data is the caller's to read; set len to 0 to reuse it. */
typedef struct vox_buf {
    char *data;
    size_t len;
    size_t cap;
} vox_buf;
VOX_EXPORT void vox_buf_free(vox_buf *b);

typedef enum vox_format {
    VOX_FMT_PLAIN = 0,
    VOX_FMT_JSON,
    VOX_FMT_XML,
} vox_format;
/* "plain", "json", "xml"; "unknown" for any other value. Static string. */
VOX_EXPORT const char *vox_format_name(vox_format fmt);

/* FreeSWITCH drops the connection of a client whose command body is larger:
 * the serializers refuse such a body with VOX_EINVAL instead. */
#define VOX_MAX_COMMAND_BODY ((size_t)16 << 20)

/* Every serializer appends one complete command (ending with the empty
 * line) to b and returns 0, or returns an error and leaves b as it was:
 *   VOX_EINVAL  b NULL, a required argument NULL or empty, an unknown fmt, or
 *               a text that goes into a command line or header contains CR
 *               or LF;
 *   VOX_ENOMEM  the buffer could not grow.
 * Optional arguments may be NULL ("" counts as absent). b->data is
 * NUL-terminated after success. Arguments are read during the call only.
 * Caller headers (sendevent, sendmsg, execute) are checked strictly too:
 * VOX_EINVAL for headers NULL with nheaders > 0, a name NULL, empty or
 * holding ':', a value NULL, a CR/LF in either, a Content-Length header (the
 * serializer writes it), body NULL with body_len > 0, or a body over
 * VOX_MAX_COMMAND_BODY. */

/* `auth <password>`; a password of the form user@domain:password makes
 * `userauth user@domain:password` instead. */
VOX_EXPORT int vox_cmd_auth(vox_buf *b, const char *password);
/* `api <cmd> [args]`. */
VOX_EXPORT int vox_cmd_api(vox_buf *b, const char *cmd, const char *args);
/* `bgapi <cmd> [args]`, with a `Job-UUID: <job_uuid>` header when given. */
VOX_EXPORT int vox_cmd_bgapi(vox_buf *b, const char *cmd, const char *args, const char *job_uuid);
/* `event <fmt> <events>`; events is a space-separated list of names, ALL,
 * or CUSTOM followed by subclasses. */
VOX_EXPORT int vox_cmd_event(vox_buf *b, vox_format fmt, const char *events);
/* `nixevent <events>`. */
VOX_EXPORT int vox_cmd_nixevent(vox_buf *b, const char *events);
/* `myevents [uuid] [fmt]` (fmt is written only when not plain). */
VOX_EXPORT int vox_cmd_myevents(vox_buf *b, const char *uuid, vox_format fmt);
/* `filter <header> <value>` (header without spaces; value required). */
VOX_EXPORT int vox_cmd_filter(vox_buf *b, const char *header, const char *value);
/* `filter delete <header> [value]` (header without spaces); header NULL
 * means `filter delete all` (value must then be NULL). */
VOX_EXPORT int vox_cmd_filter_delete(vox_buf *b, const char *header, const char *value);
/* `divert_events on|off`. */
VOX_EXPORT int vox_cmd_divert_events(vox_buf *b, int on);
/* `linger [seconds]` (seconds <= 0: bare linger, forever). */
VOX_EXPORT int vox_cmd_linger(vox_buf *b, int seconds);
/* `log <level>`; level is a number 0-7 or a name (debug, info, …). */
VOX_EXPORT int vox_cmd_log(vox_buf *b, const char *level);
/* `getvar <name>`. */
VOX_EXPORT int vox_cmd_getvar(vox_buf *b, const char *name);
/* A command without arguments: connect, noevents, nolinger, nolog, resume,
 * exit, or any other single word or line the caller checks itself. */
VOX_EXPORT int vox_cmd_line(vox_buf *b, const char *line);
/* `sendevent <name>` with headers and an optional body (Content-Length is
 * added; the body may hold any bytes, up to VOX_MAX_COMMAND_BODY). */
VOX_EXPORT int vox_cmd_sendevent(vox_buf *b, const char *name, const vox_header *headers,
                                 size_t nheaders, const char *body, size_t body_len);
/* `sendmsg [uuid]` with headers and an optional body (Content-Length is
 * added, no Content-Type: put one in headers when FreeSWITCH needs it). */
VOX_EXPORT int vox_cmd_sendmsg(vox_buf *b, const char *uuid, const vox_header *headers,
                               size_t nheaders, const char *body, size_t body_len);

/* An application to run on a channel with sendmsg. */
typedef struct vox_execute {
    const char *app;           /* required: the application name */
    const char *arg;           /* optional; when it holds CR or LF (a multi-line
                                * argument) it travels as a text/plain body */
    const char *uuid;          /* the channel; NULL: the socket's own (outbound) */
    const char *event_uuid;    /* Event-UUID, returned as Application-UUID on
                                * CHANNEL_EXECUTE[_COMPLETE]; a vox_conn fills one
                                * in when NULL */
    int loops;                 /* loops: N when > 1, or -1 for forever */
    int event_lock;            /* event-lock: true */
    int hold_bleg;             /* hold-bleg: true */
    int async;                 /* async: true */
    const vox_header *headers; /* extra sendmsg headers, checked like the rest */
    size_t nheaders;
} vox_execute;

/* sendmsg with call-command: execute. VOX_EINVAL also: x NULL, x->app NULL
 * or empty, x->loops < -1; with a multi-line arg (sent as a text/plain body)
 * x->headers may not hold Content-Type either. x->event_uuid "" counts as
 * absent. */
VOX_EXPORT int vox_cmd_execute(vox_buf *b, const vox_execute *x);
/* sendmsg with call-command: hangup and hangup-cause (uuid NULL: the
 * socket's own channel; cause may be NULL). */
VOX_EXPORT int vox_cmd_hangup(vox_buf *b, const char *uuid, const char *cause);

#ifdef __cplusplus
}
#endif
#endif
