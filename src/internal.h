/* Internal helpers shared by every layer. Everything here has the vox__
 * prefix and is hidden from the shared library's symbol table. */
#ifndef VOX_INTERNAL_H
#define VOX_INTERNAL_H

#include <stddef.h>
#include <string.h>
#include <time.h>

#include <vox/vox.h>

#define VOX__HIDDEN __attribute__((visibility("hidden")))
#define VOX__UNUSED(x) ((void)(x))
#define VOX__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define VOX__LIKELY(x) __builtin_expect(!!(x), 1)
#define VOX__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define VOX__LIKELY(x) (x)
#define VOX__UNLIKELY(x) (x)
#endif

/* The allocator in force (see vox_set_allocator). */
VOX__HIDDEN void *vox__malloc(size_t n);
VOX__HIDDEN void *vox__calloc(size_t n, size_t size);
VOX__HIDDEN void *vox__realloc(void *p, size_t n);
VOX__HIDDEN void vox__free(void *p);
/* A NUL-terminated copy of s (NULL stays NULL; *ok cleared on ENOMEM). */
VOX__HIDDEN char *vox__strdup(const char *s);

/* The parser's zero-copy mode, for the connection engine. As
 * vox_parser_feed, but a message may borrow bytes of data instead of copying
 * them: it is valid only until data is, unless a reference is taken
 * (vox_msg_ref copies what it borrowed; its accessors never hand out a
 * pointer into data). Hand it back with vox__parser_release, which drops
 * the reference and keeps the memory of the last one for the next message. */
VOX__HIDDEN int vox__parser_feed_borrowed(vox_parser *p, const char *data, size_t len, size_t *used,
                                          vox_msg **msg);
VOX__HIDDEN void vox__parser_release(vox_parser *p, vox_msg *msg);

/* vox_buf helpers. */
VOX__HIDDEN int vox__buf_reserve(vox_buf *b, size_t extra);
VOX__HIDDEN int vox__buf_append(vox_buf *b, const void *p, size_t n);
VOX__HIDDEN int vox__buf_appends(vox_buf *b, const char *s);
/* Drop the first n bytes. */
VOX__HIDDEN void vox__buf_consume(vox_buf *b, size_t n);

/* A deep copy of n headers (names and values required). *out is set even
 * when the copy fails half-way: free it with vox__headers_free(*out, n).
 * 0, VOX_EINVAL or VOX_ENOMEM. */
VOX__HIDDEN int vox__headers_copy(vox_header **out, const vox_header *h, size_t n);
VOX__HIDDEN void vox__headers_free(vox_header *h, size_t n);

/* 1 when s (len bytes, or up to NUL when len is (size_t)-1) holds CR or LF. */
VOX__HIDDEN int vox__has_crlf(const char *s, size_t len);
/* 1 for a vox_format the serializers know (event / myevents take it). */
VOX__HIDDEN int vox__format_ok(vox_format fmt);

/* CLOCK_MONOTONIC now + ms, as pthread_cond_timedwait takes it on a
 * condition variable whose clock was set to CLOCK_MONOTONIC. */
VOX__HIDDEN struct timespec vox__deadline_in(uint32_t ms);
/* ASCII case-insensitive comparison of a (alen bytes) with NUL-terminated b:
 * 1 when equal. Inline: header lookups and hook matching call it per header. */
static inline int vox__ieq(const char *a, size_t alen, const char *b)
{
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x != y) {
            x = (x >= 'A' && x <= 'Z') ? (unsigned char)(x + 32) : x;
            y = (y >= 'A' && y <= 'Z') ? (unsigned char)(y + 32) : y;
            if (x != y || !y)
                return 0;
        }
        if (!y)
            return 0;
    }
    return b[alen] == '\0';
}

#endif
