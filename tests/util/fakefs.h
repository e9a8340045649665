/* A scripted fake FreeSWITCH for the tests: it plays a script of steps on one
 * TCP connection over loopback, on a thread of its own, and records the first
 * step that did not go as scripted. It stands in for the real thing where a
 * scripted peer is needed (the bytes come from the captures in fixtures/).
 *
 * Placeholders in FS_SEND data are replaced by values taken from the last
 * command received: ${event-uuid} (its Event-UUID header), ${job-uuid}
 * (its Job-UUID header), ${arg} (its command line after the first word),
 * and ${content-length:...} is not supported: compute lengths in the test
 * (fs_event_plain() builds a framed plain event). */
#ifndef VOX_FAKEFS_H
#define VOX_FAKEFS_H

#include <stddef.h>
#include <stdint.h>

typedef enum fs_op {
    FS_END = 0,     /* end of script: stop (the connection stays open until fs_wait) */
    FS_SEND,        /* write data (NUL-terminated, placeholders replaced) */
    FS_SEND_RAW,    /* write len bytes of data as they are */
    FS_EXPECT,      /* read one command (up to its empty line, plus its body when
                     * it has Content-Length) and check it starts with data */
    FS_EXPECT_EOF,  /* read until the peer closes (or shuts down writing) */
    FS_CLOSE,       /* close the connection */
    FS_SHUT_WR,     /* shutdown(SHUT_WR) */
    FS_SLEEP_MS,    /* wait len milliseconds (only to model FreeSWITCH's own timing) */
} fs_op;

typedef struct fs_step {
    fs_op op;
    const char *data;
    size_t len;
} fs_step;

typedef struct fakefs fakefs;

/* Listen on 127.0.0.1 port 0 and play the script on the first connection
 * accepted (FreeSWITCH's inbound side). */
int fs_listen(fakefs **out, const fs_step *script);
/* The same for n connections in turn (n <= FS_MAX_CONNS), scripts[k] on the
 * k-th accepted: a peer that reconnects finds the next script. Every
 * connection but the last is closed when its script ends. */
#define FS_MAX_CONNS 16
int fs_listen_n(fakefs **out, const fs_step *const *scripts, size_t n);
uint16_t fs_port(const fakefs *f);
/* Connect to 127.0.0.1:port and play the script (FreeSWITCH's outbound
 * socket application calling our server). */
int fs_connect(fakefs **out, uint16_t port, const fs_step *script);
/* Wait for the script to finish (at most timeout_ms), close, free. Returns
 * NULL when every step went as scripted, else a description of the first
 * step that did not (static until the next fs_wait). */
const char *fs_wait(fakefs *f, uint32_t timeout_ms);
/* Every command received so far, concatenated (valid until fs_wait). */
const char *fs_received(const fakefs *f);
/* fs_listen_n: the commands received on the k-th connection only. */
const char *fs_received_conn(const fakefs *f, size_t k);

/* A framed text/event-plain: the event headers given as "Name: value\n"
 * lines (values already URL-encoded), plus an optional body. Returns a
 * malloc'd string (caller frees). */
char *fs_event_plain(const char *headers, const char *body);

/* Split bytes FreeSWITCH sent (a .s2c.raw capture) into its messages: a
 * NULL-terminated array of malloc'd NUL-terminated frames (header block and
 * body each), *n their number (n may be NULL). A cut last frame is left out.
 * Free with fs_frames_free. */
char **fs_frames(const char *data, size_t len, size_t *n);
void fs_frames_free(char **frames);

#endif
