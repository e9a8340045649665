/* Version, error texts, byte buffers and small string checks. */
#include "../internal.h"

#include <time.h>

const char *vox_version(void)
{
    return VOX_VERSION_STRING;
}
unsigned vox_version_num(void)
{
    return VOX_VERSION_NUM;
}

const char *vox_strerror(int err)
{
    switch (err) {
    case VOX_OK: return "success";
    case VOX_EINVAL: return "invalid argument";
    case VOX_ENOMEM: return "out of memory";
    case VOX_EPROTO: return "protocol error";
    case VOX_ELIMIT: return "limit exceeded";
    case VOX_ECLOSED: return "connection closed";
    case VOX_EREPLY: return "error reply";
    case VOX_ETIMEDOUT: return "timed out";
    case VOX_EAUTH: return "authentication failed";
    case VOX_EACCESS: return "access denied by the server's ACL";
    case VOX_ESTATE: return "not possible in this state";
    case VOX_EHANGUP: return "the channel hung up";
    case VOX_ENOTFULL: return "outbound socket without `full`";
    case VOX_ENOTASYNC: return "outbound socket without `async`";
    case VOX_ESYS: return "system error";
    case VOX_EAGAIN: return "try again";
    case VOX_EBUSY: return "already in use";
    default: return "unknown error";
    }
}

void vox_buf_free(vox_buf *b)
{
    if (!b)
        return;
    vox__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int vox__buf_reserve(vox_buf *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return 0;
    size_t need = b->len + extra + 1; /* room for a NUL */
    if (need < b->len)
        return VOX_ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap * 2 > cap ? cap * 2 : need;
    char *p = vox__realloc(b->data, cap);
    if (!p)
        return VOX_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int vox__buf_append(vox_buf *b, const void *p, size_t n)
{
    if (vox__buf_reserve(b, n))
        return VOX_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int vox__buf_appends(vox_buf *b, const char *s)
{
    return vox__buf_append(b, s, strlen(s));
}

void vox__buf_consume(vox_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
    if (b->data)
        b->data[b->len] = '\0';
}

int vox__has_crlf(const char *s, size_t len)
{
    if (len == (size_t)-1)
        return s[strcspn(s, "\r\n")] != '\0';
    return memchr(s, '\r', len) || memchr(s, '\n', len);
}


struct timespec vox__deadline_in(uint32_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
