/* The runner's log: one line per record, to stderr or a file opened for
 * appending, reopened by path when logrotate has renamed it. Written from
 * any thread: the descriptor is swapped and written under one lock, and
 * each line is a single write, so lines never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <vox/runner.h>

#include "../internal.h"

/* Room for the timestamp, level and source in front of the text. */
#define LINE_MAX_TEXT 4000
#define LINE_BUF (LINE_MAX_TEXT + 256)

struct vox_logger {
    pthread_mutex_t mu; /* guards fd against reopen */
    int fd;             /* STDERR_FILENO when path is NULL */
    char *path;
    atomic_int level;
};

static int level_ok(int level)
{
    return level >= VOX_LOG_ERROR && level <= VOX_LOG_DEBUG;
}

static int clamp(int level)
{
    return level < VOX_LOG_ERROR ? VOX_LOG_ERROR : level > VOX_LOG_DEBUG ? VOX_LOG_DEBUG : level;
}

static int open_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int vox_logger_open(vox_logger **out, const char *path, int level)
{
    vox_logger *lg;

    if (!out || !level_ok(level))
        return VOX_EINVAL;
    *out = NULL;
    if (!(lg = vox__calloc(1, sizeof *lg)))
        return VOX_ENOMEM;
    lg->fd = STDERR_FILENO;
    atomic_init(&lg->level, level);
    if (path && *path && strcmp(path, "-") != 0) {
        if (!(lg->path = vox__strdup(path))) {
            vox__free(lg);
            return VOX_ENOMEM;
        }
        if ((lg->fd = open_file(path)) < 0) {
            int e = errno;
            vox__free(lg->path);
            vox__free(lg);
            errno = e;
            return VOX_ESYS;
        }
    }
    pthread_mutex_init(&lg->mu, NULL);
    *out = lg;
    return 0;
}

void vox_logger_free(vox_logger *lg)
{
    if (!lg)
        return;
    if (lg->path)
        close(lg->fd);
    pthread_mutex_destroy(&lg->mu);
    vox__free(lg->path);
    vox__free(lg);
}

int vox_logger_reopen(vox_logger *lg)
{
    int fd, old;

    if (!lg)
        return VOX_EINVAL;
    if (!lg->path)
        return 0;
    /* Open first: when it fails the old file is still better than nothing. */
    if ((fd = open_file(lg->path)) < 0)
        return VOX_ESYS;
    pthread_mutex_lock(&lg->mu);
    old = lg->fd;
    lg->fd = fd;
    pthread_mutex_unlock(&lg->mu);
    close(old);
    return 0;
}

int vox_logger_set_level(vox_logger *lg, int level)
{
    if (!lg || !level_ok(level))
        return VOX_EINVAL;
    atomic_store(&lg->level, level);
    return 0;
}

int vox_logger_level(const vox_logger *lg)
{
    return lg ? atomic_load(&lg->level) : VOX_LOG_ERROR;
}

const char *vox_log_level_name(int level)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    return level_ok(level) ? names[level] : "?";
}

int vox_log_level_parse(const char *text, int *level)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};

    if (!text || !level)
        return VOX_EINVAL;
    for (int i = 0; i < 4; i++) {
        if (vox__ieq(text, strlen(text), names[i]) ||
            (text[0] == '0' + i && text[1] == '\0')) {
            *level = i;
            return 0;
        }
    }
    if (vox__ieq(text, strlen(text), "warn")) {
        *level = VOX_LOG_WARNING;
        return 0;
    }
    return VOX_EINVAL;
}

/* ------------------------------------------------------------ a line */

/* "2024-05-01T12:34:56.789Z", UTC: logs from many hosts sort together. */
static size_t timestamp(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    char base[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    if (!gmtime_r(&ts.tv_sec, &tm) || !strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm))
        base[0] = '\0';
    int n = snprintf(out, size, "%s.%03ldZ", base, (long)(ts.tv_nsec / 1000000));
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Copies text, control characters made spaces so a record stays one line
 * whatever a peer put in an error text; cut at LINE_MAX_TEXT. */
static size_t clean_copy(char *out, const char *text)
{
    size_t n = 0;
    for (; text[n] && n < LINE_MAX_TEXT; n++) {
        unsigned char ch = (unsigned char)text[n];
        out[n] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
    }
    return n;
}

static void write_all(vox_logger *lg, const char *p, size_t len)
{
    pthread_mutex_lock(&lg->mu);
    while (len > 0) {
        ssize_t n = write(lg->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* a full disk must not stop the program */
        p += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&lg->mu);
}

void vox_logger_write(vox_logger *lg, int level, const char *source, const char *text)
{
    char line[LINE_BUF];
    size_t n;
    int e = errno;

    level = clamp(level);
    if (!lg || level > atomic_load(&lg->level))
        return;
    n = timestamp(line, sizeof line);
    int m = snprintf(line + n, sizeof line - n, " %s [%.100s] ", vox_log_level_name(level),
                     source && *source ? source : "vox");
    if (m > 0)
        n += (size_t)m;
    n += clean_copy(line + n, text ? text : "");
    line[n++] = '\n';
    write_all(lg, line, n);
    errno = e; /* callers log right after a failed call and then look at errno */
}

void vox_logger_printf(vox_logger *lg, int level, const char *source, const char *fmt, ...)
{
    char text[LINE_MAX_TEXT + 1];
    va_list ap;

    if (!lg || !fmt || clamp(level) > atomic_load(&lg->level))
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    vox_logger_write(lg, level, source, text);
}

void vox_logger_fn(int level, const char *line, void *userdata)
{
    vox_logger_write(userdata, level, "vox", line);
}
