/* Internal layout of messages and events, shared by the proto files. */
#ifndef VOX_PROTO_INT_H
#define VOX_PROTO_INT_H

#include <stdatomic.h>

#include "../internal.h"

/* One header. Offsets are relative to the owning block's base (the frame
 * copy for frame headers, the event's base for event headers), so the index
 * can be built before the message exists and copied in one go. */
typedef struct vox__hdr {
    uint32_t name; /* the name, not NUL-terminated in plain event bodies */
    uint32_t val;  /* the value as sent */
    uint32_t vlen;
    uint16_t nlen;  /* names are short: a longer one is a protocol error */
    uint16_t nvals; /* values after decoding; 0 = not decoded yet */
} vox__hdr;

#define VOX__MAX_NAME 65535
#define VOX__MAX_VALUES 65535

struct vox_event {
    vox_msg *msg;
    const char *base; /* names and raw values */
    char *dec;        /* decode region, a mirror of base: a value decodes to
                       * its own offset (decoding never lengthens it), and a
                       * plain event's name is copied to its offset there,
                       * NUL-terminated where its ':' was */
    vox__hdr *hdr;
    uint32_t nhdr;
    const char *body;
    size_t body_len;
    int names_nul; /* names are NUL-terminated in base (all but plain bodies) */
};

struct vox_msg {
    atomic_int refs;
    vox_content_type type;
    const char *ctype;
    vox__hdr *hdr; /* frame headers; names and values NUL-terminated in base */
    uint32_t nhdr;
    char *base; /* the header block, then a NUL, the body, a NUL */
    const char *body;
    size_t body_len;
    int has_event;
    struct vox_event ev;
    void *extra; /* json/xml events: the arena their strings live in */
};

/* Growable array of headers used while scanning. */
typedef struct vox__hvec {
    vox__hdr *v;
    size_t n, cap;
} vox__hvec;

VOX__HIDDEN int vox__hvec_push(vox__hvec *hv, const vox__hdr *h);
VOX__HIDDEN void vox__hvec_free(vox__hvec *hv);

/* Scans "Name: value" lines of base[0, len) from line_start, searching for
 * '\n' from where the last call stopped. Returns 1 when the empty line ending
 * the block was found (*end = offset just after it), 0 when more input is
 * needed, or VOX_EPROTO/VOX_ELIMIT/VOX_ENOMEM with err_at the offset of the
 * offending line and reason set; a call after VOX_ENOMEM resumes at the line
 * that failed. */
typedef struct vox__scan {
    size_t line_start;
    size_t scanned;
    size_t max_headers;
    const char *reason;
    size_t err_at;
} vox__scan;
VOX__HIDDEN int vox__scan_block(vox__scan *s, const char *base, size_t len, vox__hvec *out,
                                size_t *end);

/* Builds a message from a complete frame: hlen bytes of header block (with
 * its blank line) and blen bytes of body; frame headers already scanned. On a
 * malformed event body returns VOX_EPROTO/VOX_ELIMIT with *reason and *err_at
 * (offset within the frame). */
VOX__HIDDEN int vox__msg_build(const char *frame, size_t hlen, size_t blen, const vox__hvec *fh,
                               vox__hvec *scratch, size_t max_headers, vox_msg **out,
                               const char **reason, size_t *err_at);

/* Readers of json and xml event bodies: they fill m->ev (set up over an
 * arena of 2 * (body_len + 1) + 16 bytes, room enough for every string
 * they unescape and its NUL) and return 0 or VOX_EPROTO/VOX_ELIMIT with a
 * reason. */
typedef int (*vox__reader)(vox_msg *m, char *arena, size_t max_headers, const char **reason);
VOX__HIDDEN int vox__read_json(vox_msg *m, char *arena, size_t max_headers, const char **reason);
VOX__HIDDEN int vox__read_xml(vox_msg *m, char *arena, size_t max_headers, const char **reason);

/* Splits a decoded "ARRAY::a|:b" in place into "a\0b\0"; returns the number
 * of values (1 when s is not an array) and the new length of the first. */
VOX__HIDDEN uint32_t vox__split_array(char *s, size_t len);

#endif
