/* Shared helpers of the network benchmarks: clocks, CPU time, resident
 * memory, fixture frames, loopback sockets, and a fast fake FreeSWITCH (the
 * inbound side: port 8021) on a thread of its own that answers auth and then
 * either streams a pre-built buffer of framed events as fast as the socket
 * takes it, or answers every `api` with a small api/response.
 *
 * Everything is bounded: every wait of the fake server gives up after
 * BU_IO_TIMEOUT_MS and ends the program, so a benchmark never hangs.
 */
#ifndef VOX_BENCH_UTIL_H
#define VOX_BENCH_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RUSAGE_THREAD */
#endif

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vox/vox.h>

/* The async side is used when its headers exist (-DBU_NO_ACLIENT or
 * -DBU_NO_ASERVER leave one half out). */
#if defined(__has_include)
#if __has_include(<vox/uv.h>)
#define BU_HAVE_UV 1
#endif
#endif
#if defined(BU_HAVE_UV) && !defined(BU_NO_ACLIENT)
#define BU_ACLIENT 1
#endif
#if defined(BU_HAVE_UV) && !defined(BU_NO_ASERVER)
#define BU_ASERVER 1
#endif

#define BU_IO_TIMEOUT_MS 20000

static inline void bu_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ------------------------------------------------------------ clocks */

static inline double bu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of the calling thread, or of the process. */
static inline double bu_cpu(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
static inline double bu_thread_cpu(void)
{
    return bu_cpu(RUSAGE_THREAD);
}
static inline double bu_process_cpu(void)
{
    return bu_cpu(RUSAGE_SELF);
}

/* Resident memory of the process in KiB (VmRSS of /proc/self/status). */
static inline long bu_rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

/* Raise the open-file limit to at least n (root may raise the hard one). */
static inline void bu_raise_nofile(rlim_t n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        bu_die("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur >= n)
        return;
    rl.rlim_cur = n;
    if (rl.rlim_max < n)
        rl.rlim_max = n;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        bu_die("setrlimit(RLIMIT_NOFILE, %lu): %s", (unsigned long)n, strerror(errno));
}

/* ------------------------------------------------------------ buffers */

typedef struct bu_bytes {
    char *data;
    size_t len, cap;
    size_t count; /* frames, events: what the user counts */
} bu_bytes;

static inline void bu_append(bu_bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        char *d = realloc(b->data, cap);
        if (!d)
            bu_die("out of memory");
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* ----------------------------------------------------------- fixtures */

static inline char *bu_load(const char *name, size_t *len)
{
    const char *dir = getenv("VOX_FIXTURES");
    char path[4096];
    FILE *f;
    long n;
    char *buf;

    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "tests/fixtures", name);
    if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
        bu_die("cannot read %s", path);
    rewind(f);
    if (!(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n)
        bu_die("cannot read %s", path);
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* Called for every message of a capture with its exact wire bytes. */
typedef void (*bu_frame_fn)(const vox_msg *m, const char *frame, size_t len, void *ud);

/* Walks a capture with the parser, handing each message and its frame. */
static inline void bu_frames(const char *name, bu_frame_fn fn, void *ud)
{
    size_t len, off = 0;
    char *data = bu_load(name, &len);
    vox_parser *p;

    if (vox_parser_new(&p, NULL) != 0)
        bu_die("vox_parser_new");
    while (off < len) {
        vox_msg *m = NULL;
        size_t used = 0, start = (size_t)vox_parser_offset(p);
        int rc = vox_parser_feed(p, data + off, len - off, &used, &m);
        if (rc < 0)
            bu_die("%s does not parse", name);
        off += used;
        if (rc == 0)
            break;
        fn(m, data + start, (size_t)vox_parser_offset(p) - start, ud);
        vox_msg_free(m);
    }
    vox_parser_free(p);
    free(data);
}

/* --------------------------------------------------------- loopback */

static inline int bu_listen(uint16_t *port, int backlog)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        bu_die("socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        bu_die("bind/listen: %s", strerror(errno));
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A blocking connection to 127.0.0.1:port. */
static inline int bu_connect(uint16_t port)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        bu_die("connect: %s", strerror(errno));
    return fd;
}

/* Waits for fd to be readable (or writable), dies after the I/O timeout. */
static inline void bu_wait(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n;
    while ((n = poll(&p, 1, BU_IO_TIMEOUT_MS)) < 0 && errno == EINTR) {
    }
    if (n == 0)
        bu_die("no progress for %d ms", BU_IO_TIMEOUT_MS);
}

/* Writes everything (blocking socket). 0, or -1 when the peer went away. */
static inline int bu_send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            bu_wait(fd, POLLOUT);
            continue;
        }
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ------------------------------------------- the fake FreeSWITCH (inbound) */

enum { BU_STREAM_EVENTS, BU_ANSWER_API };

typedef struct bu_fake {
    int mode;
    /* BU_STREAM_EVENTS: after the reply to an `event` command naming
     * CHANNEL_* events, stream this buffer `repeats` times, then close. */
    const char *stream;
    size_t stream_len, repeats;
    /* BU_ANSWER_API: the api/response frame sent for every `api`. */
    const char *api_frame;
    size_t api_frame_len;
    size_t conns; /* connections served, one after the other */
    /* set by bu_fake_start */
    int lfd;
    uint16_t port;
    pthread_t thread;
    uint64_t commands; /* commands answered (read after join) */
} bu_fake;

#define BU_REPLY(text) "Content-Type: command/reply\nReply-Text: " text "\n\n"

/* Answers one command; returns 1 when the connection should start
 * streaming, -1 when it should end. */
static inline int bu_fake_command(bu_fake *f, int fd, const char *cmd, bu_bytes *out)
{
    static const char accepted[] = BU_REPLY("+OK accepted");
    static const char listening[] = BU_REPLY("+OK event listener enabled plain");
    static const char ok[] = BU_REPLY("+OK");
    static const char bye[] = BU_REPLY("+OK bye");

    f->commands++;
    if (strncmp(cmd, "auth ", 5) == 0) {
        bu_append(out, accepted, sizeof accepted - 1);
    } else if (strncmp(cmd, "event ", 6) == 0) {
        bu_append(out, listening, sizeof listening - 1);
        /* the stream starts once its events are subscribed */
        return f->mode == BU_STREAM_EVENTS && strstr(cmd, "CHANNEL_") != NULL;
    } else if (strncmp(cmd, "api ", 4) == 0) {
        bu_append(out, f->api_frame, f->api_frame_len);
    } else if (strncmp(cmd, "exit", 4) == 0) {
        bu_append(out, bye, sizeof bye - 1);
        return -1;
    } else {
        bu_append(out, ok, sizeof ok - 1);
    }
    return 0;
}

/* Answers every complete command in in[0..*len); keeps the rest. */
static inline int bu_fake_commands(bu_fake *f, int fd, char *in, size_t *len, bu_bytes *out)
{
    size_t off = 0;
    int act = 0;
    for (;;) {
        char *end = memmem(in + off, *len - off, "\n\n", 2);
        if (!end)
            break;
        *end = 0;
        act = bu_fake_command(f, fd, in + off, out);
        off = (size_t)(end - in) + 2;
        if (act)
            break;
    }
    memmove(in, in + off, *len - off);
    *len -= off;
    return act;
}

static inline void bu_fake_stream(bu_fake *f, int fd)
{
    for (size_t i = 0; i < f->repeats; i++)
        if (bu_send_all(fd, f->stream, f->stream_len) != 0)
            return;
}

/* One connection: auth/request, then commands until streaming or the end. */
static inline void bu_fake_serve(bu_fake *f, int fd)
{
    static const char hello[] = "Content-Type: auth/request\n\n";
    char in[65536];
    size_t len = 0;
    bu_bytes out = {0};
    int act = 0;

    bu_send_all(fd, hello, sizeof hello - 1);
    while (act == 0) {
        bu_wait(fd, POLLIN);
        ssize_t n = recv(fd, in + len, sizeof in - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        out.len = 0;
        act = bu_fake_commands(f, fd, in, &len, &out);
        if (len == sizeof in)
            bu_die("fake server: a command over 64 KiB");
        if (out.len && bu_send_all(fd, out.data, out.len) != 0)
            break;
    }
    if (act == 1)
        bu_fake_stream(f, fd);
    free(out.data);
}

static inline void *bu_fake_main(void *arg)
{
    bu_fake *f = arg;
    for (size_t i = 0; i < f->conns; i++) {
        bu_wait(f->lfd, POLLIN);
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            bu_die("accept: %s", strerror(errno));
        bu_fake_serve(f, fd);
        close(fd);
    }
    return NULL;
}

static inline void bu_fake_start(bu_fake *f)
{
    f->lfd = bu_listen(&f->port, 16);
    if (pthread_create(&f->thread, NULL, bu_fake_main, f) != 0)
        bu_die("pthread_create");
}

static inline void bu_fake_join(bu_fake *f)
{
    pthread_join(f->thread, NULL);
    close(f->lfd);
}

#endif
