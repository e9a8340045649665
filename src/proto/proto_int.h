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
    uint32_t nhdr;    /* headers in hdr (a lazy event: once indexed) */
    const char *body; /* NULL: a lazy event's, not looked for yet */
    size_t body_len;
    int names_nul;    /* names are NUL-terminated in base (all but plain bodies) */
    const char *name; /* Event-Name once looked up ("" when absent) */
    /* A plain event read lazily (see plain.c) has nl != NULL: per 64 bytes
     * of its header block, the bits of the newlines, of the colons and of
     * the colons whose value is decoded. hdr has room for every line. */
    uint64_t *nl, *colon, *done;
    size_t nwords;
    size_t hend;     /* the header block's length, its empty line included */
    size_t nview;    /* headers in the view (not the Content-Length lines) */
    size_t body_off; /* the event's own body, once body is set */
    int indexed;     /* hdr holds the view */
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
    void *extra;  /* json/xml events: the arena their strings live in */
    size_t size;  /* of this allocation, for reuse */
    int borrowed; /* body points into the caller's input, not base */
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

/* What a parser keeps between messages: the eager scanner's event headers
 * and the memory of a released message. */
typedef struct vox__scratch {
    vox__hvec hv;
    vox_msg *spare;
} vox__scratch;
VOX__HIDDEN void vox__scratch_free(vox__scratch *s);

/* Builds a message from a complete frame: hlen bytes of header block (with
 * its blank line) and blen bytes of body; frame headers already scanned.
 * borrow: a plain event's body may stay in frame (see
 * vox__parser_feed_borrowed). On a malformed event body returns
 * VOX_EPROTO/VOX_ELIMIT with *reason and *err_at (offset within the
 * frame). */
VOX__HIDDEN int vox__msg_build(const char *frame, size_t hlen, size_t blen, const vox__hvec *fh,
                               vox__scratch *scratch, size_t max_headers, int borrow, vox_msg **out,
                               const char **reason, size_t *err_at);
/* A borrowed message copies its body into its own memory (room for it was
 * kept), so it no longer depends on the input. */
VOX__HIDDEN void vox__msg_own(vox_msg *m);
/* Drops the caller's reference; when it was the last, the memory is kept in
 * sc->spare for the next message instead of freed. */
VOX__HIDDEN void vox__msg_release(vox_msg *m, vox__scratch *sc);

/* Lazy plain events (plain.c). A header block seen through its bits. */
typedef struct vox__lines {
    const char *base;
    const uint64_t *nl, *colon;
    size_t nwords;
    size_t hend;
} vox__lines;

typedef struct vox__plain {
    size_t hend;               /* the header block's length, its empty line included */
    size_t nlines;             /* header lines, the Content-Length ones included */
    size_t ncl;                /* Content-Length lines */
    size_t body_off, body_len; /* the event's own body */
} vox__plain;

static inline size_t vox__plain_words(size_t len)
{
    return (len + 63) / 64;
}
/* Checks the header block of a plain event body and fills the bits of its
 * first vox__plain_words(min(blen, VOX__MAX_NAME)) words, and a zero word
 * after the last colon word used (colon has one word more). 1: the block
 * is well-formed and *out describes it; 0: the eager scanner must decide
 * (an error, or a block too large or unusual for this one). */
VOX__HIDDEN int vox__plain_scan(const char *body, size_t blen, size_t max_headers, uint64_t *nl,
                                uint64_t *colon, vox__plain *out);
/* The start of the first line at or after from whose header is called
 * name (n bytes, 0 < n, without ':' or '\n'), or SIZE_MAX. */
VOX__HIDDEN size_t vox__lines_find(const vox__lines *L, const char *name, size_t n, size_t from);
/* The header of the line starting at ls whose first colon is at colon. */
VOX__HIDDEN vox__hdr vox__lines_header(const vox__lines *L, size_t ls, size_t colon);
/* Every header but the Content-Length ones into out, in order; returns how
 * many. */
VOX__HIDDEN size_t vox__lines_index(const vox__lines *L, vox__hdr *out);
/* Tests: force the block reader (0 scalar, 1 SSE2, 2 AVX2, 3 AVX-512, or
 * the best below it the CPU has; -1 the best; -2 none: every plain event
 * goes to the eager scanner). Returns the previous setting. */
VOX__HIDDEN int vox__plain_isa(int isa);

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
