/* libvox — common definitions: version, error codes, allocator, small views.
 *
 * Thread rules: everything here is safe to call from any thread, except
 * vox_set_allocator(), which must be called before any other libvox call
 * (and before any thread uses the library).
 */
#ifndef VOX_COMMON_H
#define VOX_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VOX_VERSION_MAJOR 0
#define VOX_VERSION_MINOR 1
#define VOX_VERSION_PATCH 0
#define VOX_VERSION_STRING "0.1.0"
/* One number that grows with every release: 0xMMmmpp. */
#define VOX_VERSION_NUM ((VOX_VERSION_MAJOR << 16) | (VOX_VERSION_MINOR << 8) | VOX_VERSION_PATCH)

#if defined(__GNUC__)
#define VOX_EXPORT __attribute__((visibility("default")))
#else
#define VOX_EXPORT
#endif

/* The version of the library linked at run time, e.g. "0.1.0" (compare
 * with VOX_VERSION_STRING, the one compiled against). Static string. */
VOX_EXPORT const char *vox_version(void);
/* The same as a number, comparable with VOX_VERSION_NUM. */
VOX_EXPORT unsigned vox_version_num(void);

/* Error codes. Every function returning int returns 0 on success or one of
 * these (negative), unless its comment says otherwise (a parser feed returns
 * 1 for a message, vox_api_uuid_exists 1 or 0). Each function's comment lists
 * the codes it can return. They never change value between releases. */
enum {
    VOX_OK = 0,
    VOX_EINVAL = -1,     /* bad argument: NULL, empty, or CR/LF in user text */
    VOX_ENOMEM = -2,     /* an allocation failed */
    VOX_EPROTO = -3,     /* the peer sent bytes that break the protocol */
    VOX_ELIMIT = -4,     /* the peer exceeded a configured limit */
    VOX_ECLOSED = -5,    /* the connection is closed or reading has ended */
    VOX_EREPLY = -6,     /* the peer answered -ERR (the reply says why) */
    VOX_ETIMEDOUT = -7,  /* a deadline passed */
    VOX_EAUTH = -8,      /* the password (or user) was rejected */
    VOX_EACCESS = -9,    /* the server's ACL refused us (rude rejection) */
    VOX_ESTATE = -10,    /* not possible in the connection's current state/role */
    VOX_EHANGUP = -11,   /* the channel hung up before the application ran */
    VOX_ENOTFULL = -12,  /* outbound socket lacks `full` (Control: single-channel) */
    VOX_ENOTASYNC = -13, /* outbound socket lacks `async` (Socket-Mode: static) */
    VOX_ESYS = -14,      /* an operating-system call failed (see errno) */
    VOX_EAGAIN = -15,    /* nothing to do now: try again later (reserved:
                          * no function returns it yet) */
    VOX_EBUSY = -16,     /* already taken (e.g. another runner owns the signals) */
};

/* A short English text for an error code, "success" for 0, "unknown
 * error" for any other value. Static string; never NULL. */
VOX_EXPORT const char *vox_strerror(int err);

/* A pluggable allocator. All of libvox's memory comes from here (not the
 * libuv adapter's handles: vox/uv.h uses the C library's). All four
 * functions are required and must behave as the C library's do; the library
 * never asks for 0 bytes and never frees NULL. They may be called from any
 * thread that uses libvox, so they must be thread-safe when it is. */
typedef struct vox_allocator {
    void *(*malloc)(size_t size);
    void *(*calloc)(size_t n, size_t size);
    void *(*realloc)(void *p, size_t size);
    void (*free)(void *p);
} vox_allocator;

/* Replace the allocator (*a is copied); NULL restores the C library's.
 * Call it before any other libvox call: memory must be freed by the
 * allocator that gave it. Not thread-safe. */
VOX_EXPORT void vox_set_allocator(const vox_allocator *a);

/* A header given by the user: name and value, NUL-terminated. Borrowed:
 * functions that take one read it during the call only, or copy it (said
 * where they do). */
typedef struct vox_header {
    const char *name;
    const char *value;
} vox_header;

#ifdef __cplusplus
}
#endif
#endif
