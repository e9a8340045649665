/* The scripted fake FreeSWITCH (see fakefs.h). One thread per fake; every
 * wait on the socket is bounded by IO_TIMEOUT_MS, and fs_wait can cut a
 * script short by shutting the sockets down, so a broken test never hangs. */
#include "fakefs.h"
#include "clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 5000

struct fakefs {
    const fs_step *script;
    const fs_step *const *scripts; /* fs_listen_n: one per connection */
    size_t nscripts;
    size_t conn_off[FS_MAX_CONNS + 1]; /* where each connection's commands start in recv */
    size_t nconns;
    pthread_t th;
    int started;
    uint16_t port;

    pthread_mutex_t mu; /* guards what both threads touch: */
    pthread_cond_t cv;
    int lfd, fd;        /* sockets (-1 when closed) */
    int finished;       /* the script ended (err says how) */
    char err[512];
    char *recv;         /* every command received */
    size_t recv_len;
    char **snaps;       /* copies handed out by fs_received */
    size_t nsnaps;

    /* the script thread's own */
    char *rbuf;
    size_t rlen, rcap;
    char *last; /* the last command received */
};

/* ------------------------------------------------------------- helpers */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("fakefs: out of memory\n", stderr);
        abort();
    }
    return q;
}

static int fail(fakefs *f, size_t step, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&f->mu);
    if (!f->err[0])
        snprintf(f->err, sizeof f->err, "step %zu: %s", step, msg);
    pthread_mutex_unlock(&f->mu);
    return -1;
}

static int get_fd(fakefs *f)
{
    pthread_mutex_lock(&f->mu);
    int fd = f->fd;
    pthread_mutex_unlock(&f->mu);
    return fd;
}

/* Waits until fd is readable: 1, 0 on timeout, -1 on error. */
static int wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int n = poll(&p, 1, IO_TIMEOUT_MS);
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -1 : n;
    }
}

static int write_all(fakefs *f, size_t step, const char *p, size_t len)
{
    int fd = get_fd(f);
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(f, step, "send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads more bytes into rbuf: 1, 0 at EOF, -1 on error or timeout. */
static int read_more(fakefs *f, size_t step)
{
    int fd = get_fd(f);
    int r = wait_readable(fd);
    if (r <= 0)
        return fail(f, step, r == 0 ? "timed out reading" : "poll: %s", strerror(errno));
    if (f->rcap - f->rlen < 4096) {
        f->rcap = f->rcap * 2 + 8192;
        f->rbuf = xrealloc(f->rbuf, f->rcap);
    }
    ssize_t n = recv(fd, f->rbuf + f->rlen, f->rcap - f->rlen - 1, 0);
    if (n < 0 && errno == ECONNRESET)
        n = 0;
    if (n < 0)
        return fail(f, step, "recv: %s", strerror(errno));
    f->rlen += (size_t)n;
    f->rbuf[f->rlen] = '\0';
    return n > 0;
}

/* ------------------------------------------------------ reading commands */

/* Length of the header block at p (through its empty line), or 0. */
static size_t header_block_len(const char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] == '\n' && p[i + 1] == '\n')
            return i + 2;
        if (p[i] == '\n' && p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The value of header name in the header block of cmd (its first line
 * included: events start with Content-Length), copied to out. */
static int header_value(const char *cmd, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *line = cmd; line && *line && *line != '\n' && *line != '\r';) {
        if (!strncasecmp(line, name, nlen) && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r\n");
            snprintf(out, size, "%.*s", (int)n, v);
            return 1;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

static size_t body_len_of(const char *block)
{
    char v[32];
    if (!header_value(block, "Content-Length", v, sizeof v))
        return 0;
    return (size_t)strtoul(v, NULL, 10);
}

static void record(fakefs *f, const char *cmd, size_t len)
{
    free(f->last);
    f->last = xrealloc(NULL, len + 1);
    memcpy(f->last, cmd, len);
    f->last[len] = '\0';
    pthread_mutex_lock(&f->mu);
    f->recv = xrealloc(f->recv, f->recv_len + len + 1);
    memcpy(f->recv + f->recv_len, cmd, len);
    f->recv_len += len;
    f->recv[f->recv_len] = '\0';
    pthread_mutex_unlock(&f->mu);
}

/* Reads one command (header block and body) and records it. */
static int read_command(fakefs *f, size_t step)
{
    size_t hlen, blen, skip;
    for (;;) {
        skip = 0; /* leading blank lines are skipped, as FreeSWITCH does */
        while (skip < f->rlen && (f->rbuf[skip] == '\n' || f->rbuf[skip] == '\r'))
            skip++;
        if (skip) {
            memmove(f->rbuf, f->rbuf + skip, f->rlen - skip + 1);
            f->rlen -= skip;
        }
        hlen = f->rlen ? header_block_len(f->rbuf, f->rlen) : 0;
        if (hlen) {
            blen = body_len_of(f->rbuf);
            if (f->rlen >= hlen + blen)
                break;
        }
        int r = read_more(f, step);
        if (r <= 0)
            return r == 0 ? fail(f, step, "EOF while waiting for a command") : -1;
    }
    record(f, f->rbuf, hlen + blen);
    memmove(f->rbuf, f->rbuf + hlen + blen, f->rlen - hlen - blen + 1);
    f->rlen -= hlen + blen;
    return 0;
}

static int expect(fakefs *f, size_t step, const char *want)
{
    if (read_command(f, step))
        return -1;
    if (strncmp(f->last, want, strlen(want)))
        return fail(f, step, "expected \"%s\", got \"%.200s\"", want, f->last);
    return 0;
}

static int expect_eof(fakefs *f, size_t step)
{
    for (;;) {
        f->rlen = 0;
        int r = read_more(f, step);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
    }
}

/* ------------------------------------------------------------- sending */

/* The value a ${name} placeholder stands for, from the last command. */
static void placeholder(const fakefs *f, const char *name, size_t len, char *out, size_t size)
{
    const char *cmd = f->last ? f->last : "";
    out[0] = '\0';
    if (len == 10 && !strncmp(name, "event-uuid", len))
        header_value(cmd, "Event-UUID", out, size);
    else if (len == 8 && !strncmp(name, "job-uuid", len))
        header_value(cmd, "Job-UUID", out, size);
    else if (len == 3 && !strncmp(name, "arg", len)) {
        const char *sp = strchr(cmd, ' ');
        size_t n = sp ? strcspn(sp + 1, "\r\n") : 0;
        snprintf(out, size, "%.*s", (int)n, sp ? sp + 1 : "");
    }
}

static int send_expanded(fakefs *f, size_t step, const char *data)
{
    size_t cap = strlen(data) + 1024, len = 0;
    char *out = xrealloc(NULL, cap);
    char val[512];
    for (const char *p = data; *p;) {
        const char *end = !strncmp(p, "${", 2) ? strchr(p, '}') : NULL;
        const char *add = p;
        size_t n = 1;
        if (end) {
            placeholder(f, p + 2, (size_t)(end - p - 2), val, sizeof val);
            add = val;
            n = strlen(val);
            p = end + 1;
        } else {
            p++;
        }
        if (len + n + 1 > cap)
            out = xrealloc(out, cap = (len + n + 1) * 2);
        memcpy(out + len, add, n);
        len += n;
    }
    int rc = write_all(f, step, out, len);
    free(out);
    return rc;
}

static void close_fd(fakefs *f)
{
    pthread_mutex_lock(&f->mu);
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    pthread_mutex_unlock(&f->mu);
}

static void sleep_ms(size_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int play_step(fakefs *f, size_t i, const fs_step *s)
{
    switch (s->op) {
    case FS_SEND: return send_expanded(f, i, s->data);
    case FS_SEND_RAW: return write_all(f, i, s->data, s->len);
    case FS_EXPECT: return expect(f, i, s->data ? s->data : "");
    case FS_EXPECT_EOF: return expect_eof(f, i);
    case FS_CLOSE: close_fd(f); return 0;
    case FS_SHUT_WR: shutdown(get_fd(f), SHUT_WR); return 0;
    case FS_SLEEP_MS: sleep_ms(s->len); return 0;
    case FS_END: break;
    }
    return 0;
}

/* ------------------------------------------------------------- threads */

static int accept_one(fakefs *f)
{
    pthread_mutex_lock(&f->mu);
    int lfd = f->lfd;
    pthread_mutex_unlock(&f->mu);
    int r = wait_readable(lfd);
    if (r <= 0)
        return fail(f, 0, r == 0 ? "nobody connected" : "poll: %s", strerror(errno));
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return fail(f, 0, "accept: %s", strerror(errno));
    pthread_mutex_lock(&f->mu);
    f->fd = fd;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

/* fs_listen_n: the scripts in turn, one connection each; every
 * connection but the last is closed when its script ends. */
static void run_many(fakefs *f)
{
    for (size_t k = 0; k < f->nscripts; k++) {
        if (accept_one(f))
            return;
        pthread_mutex_lock(&f->mu);
        f->conn_off[f->nconns++] = f->recv_len;
        pthread_mutex_unlock(&f->mu);
        f->rlen = 0; /* bytes left from the previous connection are not this one's */
        const fs_step *sc = f->scripts[k];
        for (size_t i = 0; sc[i].op != FS_END; i++)
            if (play_step(f, i, &sc[i]))
                return;
        if (k + 1 < f->nscripts)
            close_fd(f);
    }
}

static void *run(void *arg)
{
    fakefs *f = arg;
    if (f->scripts)
        run_many(f);
    else if (get_fd(f) >= 0 || accept_one(f) == 0)
        for (size_t i = 0; f->script[i].op != FS_END; i++)
            if (play_step(f, i, &f->script[i]))
                break;
    pthread_mutex_lock(&f->mu);
    f->finished = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static fakefs *fake_new(const fs_step *script)
{
    fakefs *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->script = script;
    f->lfd = f->fd = -1;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    return f;
}

static int fake_start(fakefs **out, fakefs *f)
{
    if (pthread_create(&f->th, NULL, run, f) != 0) {
        fs_wait(f, 0);
        return -1;
    }
    f->started = 1;
    *out = f;
    return 0;
}

/* Binds 127.0.0.1 port 0 and starts the script thread on f. */
static int listen_start(fakefs **out, fakefs *f)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(f->lfd, 8) < 0 || getsockname(f->lfd, (struct sockaddr *)&a, &alen) < 0) {
        fs_wait(f, 0);
        return -1;
    }
    f->port = ntohs(a.sin_port);
    return fake_start(out, f);
}

int fs_listen(fakefs **out, const fs_step *script)
{
    fakefs *f = fake_new(script);
    return f ? listen_start(out, f) : -1;
}

int fs_listen_n(fakefs **out, const fs_step *const *scripts, size_t n)
{
    if (!n || n > FS_MAX_CONNS)
        return -1;
    fakefs *f = fake_new(scripts[0]);
    if (!f)
        return -1;
    f->scripts = scripts;
    f->nscripts = n;
    return listen_start(out, f);
}

uint16_t fs_port(const fakefs *f)
{
    return f->port;
}

int fs_connect(fakefs **out, uint16_t port, const fs_step *script)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    fakefs *f = fake_new(script);
    if (!f)
        return -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->fd < 0 || connect(f->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        fs_wait(f, 0);
        return -1;
    }
    return fake_start(out, f);
}

/* Waits for the script thread to finish; on timeout, wakes it by shutting
 * the sockets down (its own waits are bounded too). */
static void join_script(fakefs *f, uint32_t timeout_ms)
{
    struct timespec ts = tu_abs_in(timeout_ms);
    pthread_mutex_lock(&f->mu);
    while (!f->finished)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
            break;
    if (!f->finished) {
        snprintf(f->err, sizeof f->err, "the script did not finish within %u ms", timeout_ms);
        if (f->fd >= 0)
            shutdown(f->fd, SHUT_RDWR);
        if (f->lfd >= 0)
            shutdown(f->lfd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
}

const char *fs_wait(fakefs *f, uint32_t timeout_ms)
{
    static char result[512];
    if (!f)
        return "no fake";
    if (f->started)
        join_script(f, timeout_ms);
    snprintf(result, sizeof result, "%s", f->err);
    if (f->fd >= 0)
        close(f->fd);
    if (f->lfd >= 0)
        close(f->lfd);
    for (size_t i = 0; i < f->nsnaps; i++)
        free(f->snaps[i]);
    free(f->snaps);
    free(f->recv);
    free(f->rbuf);
    free(f->last);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    return result[0] ? result : NULL;
}

const char *fs_received_conn(const fakefs *cf, size_t k)
{
    fakefs *f = (fakefs *)cf;
    pthread_mutex_lock(&f->mu);
    size_t from = k < f->nconns ? f->conn_off[k] : f->recv_len;
    size_t to = k + 1 < f->nconns ? f->conn_off[k + 1] : f->recv_len;
    char *copy = xrealloc(NULL, to - from + 1);
    memcpy(copy, f->recv ? f->recv + from : "", to - from);
    copy[to - from] = '\0';
    f->snaps = xrealloc(f->snaps, (f->nsnaps + 1) * sizeof *f->snaps);
    f->snaps[f->nsnaps++] = copy;
    pthread_mutex_unlock(&f->mu);
    return copy;
}

const char *fs_received(const fakefs *cf)
{
    fakefs *f = (fakefs *)cf; /* the snapshot list is bookkeeping, not state */
    pthread_mutex_lock(&f->mu);
    size_t n = f->recv_len;
    char *copy = xrealloc(NULL, n + 1);
    if (n)
        memcpy(copy, f->recv, n);
    copy[n] = '\0';
    f->snaps = xrealloc(f->snaps, (f->nsnaps + 1) * sizeof *f->snaps);
    f->snaps[f->nsnaps++] = copy;
    pthread_mutex_unlock(&f->mu);
    return copy;
}

/* ------------------------------------------------------------- framing */

char *fs_event_plain(const char *headers, const char *body)
{
    size_t hl = strlen(headers), bl = body ? strlen(body) : 0;
    size_t cap = hl + bl + 128, inner;
    char *inner_s = xrealloc(NULL, cap), *out;
    if (body)
        inner = (size_t)snprintf(inner_s, cap, "%sContent-Length: %zu\n\n%s", headers, bl, body);
    else
        inner = (size_t)snprintf(inner_s, cap, "%s\n", headers);
    out = xrealloc(NULL, inner + 128);
    snprintf(out, inner + 128, "Content-Length: %zu\nContent-Type: text/event-plain\n\n%s", inner,
             inner_s);
    free(inner_s);
    return out;
}

char **fs_frames(const char *data, size_t len, size_t *n)
{
    char **v = xrealloc(NULL, sizeof *v);
    size_t count = 0, off = 0;
    while (off < len) {
        size_t h = header_block_len(data + off, len - off);
        if (!h)
            break;
        char *block = xrealloc(NULL, h + 1);
        memcpy(block, data + off, h);
        block[h] = '\0';
        size_t b = body_len_of(block);
        free(block);
        if (off + h + b > len)
            break;
        char *frame = xrealloc(NULL, h + b + 1);
        memcpy(frame, data + off, h + b);
        frame[h + b] = '\0';
        v = xrealloc(v, (count + 2) * sizeof *v);
        v[count++] = frame;
        off += h + b;
    }
    v[count] = NULL;
    if (n)
        *n = count;
    return v;
}

void fs_frames_free(char **frames)
{
    if (!frames)
        return;
    for (size_t i = 0; frames[i]; i++)
        free(frames[i]);
    free(frames);
}
