/* The frames of a capture, and the strings a test makes from them for its
 * fake FreeSWITCH script, freed together. */
#ifndef VOX_CAPTURE_H
#define VOX_CAPTURE_H

#include <stddef.h>

typedef struct capture {
    char **f; /* the frames FreeSWITCH sent, in order */
    size_t n;
    char *keep[64];
    size_t nkeep;
} capture;

void cap_load(capture *c, const char *name);
/* Keeps s (malloc'd) until cap_free; returns it. */
const char *cap_keep(capture *c, char *s);
void cap_free(capture *c);
/* Frame i with its Application-UUID (every occurrence) replaced by the
 * ${event-uuid} placeholder: fakefs puts back the Event-UUID of the sendmsg
 * it just read, which has the same length, so Content-Length still holds. */
const char *cap_with_event_uuid(capture *c, size_t i);

/* The frames of outbound_9101_linger_forever_then_exit (fixtures/README.md). */
#define LINGER_CAPTURE "outbound_9101_linger_forever_then_exit.s2c.raw"
/* clang-format off */
enum {
    F_OK1 = 3, F_PARK = 4, F_OK2 = 5, F_OK3 = 6, F_OK4 = 7, F_EXEC_ANSWER = 8, F_ANSWER = 9,
    F_DONE_ANSWER = 10, F_EXEC_PLAY = 11, F_DONE_PLAY = 12, F_EXEC_SET = 13, F_DONE_SET = 14,
    F_EXEC_HANGUP = 15, F_HANGUP = 16, F_DONE_HANGUP = 17, F_UNPARK = 18, F_DONE_SOCKET = 19,
    F_STATE1 = 20, F_STATE2 = 21, F_HANGUP_COMPLETE = 22, F_LINGER = 23, F_BYE = 24,
    F_DISCONNECT = 25, F_COUNT = 26
};
/* clang-format on */

#endif
