#include "util/capture.h"

#include <stdlib.h>
#include <string.h>

#include "util/fakefs.h"
#include "util/testutil.h"

void cap_load(capture *c, const char *name)
{
    size_t len;
    char *raw = tu_fixture(name, &len);
    memset(c, 0, sizeof *c);
    c->f = fs_frames(raw, len, &c->n);
    free(raw);
}

const char *cap_keep(capture *c, char *s)
{
    assert_non_null(s);
    assert_true(c->nkeep < sizeof c->keep / sizeof c->keep[0]);
    c->keep[c->nkeep++] = s;
    return s;
}

void cap_free(capture *c)
{
    fs_frames_free(c->f);
    for (size_t i = 0; i < c->nkeep; i++)
        free(c->keep[i]);
    c->nkeep = 0;
}

const char *cap_with_event_uuid(capture *c, size_t i)
{
    const char *f = c->f[i], *tag = strstr(f, "Application-UUID: ");
    assert_non_null(tag);
    char uuid[37];
    memcpy(uuid, tag + 18, 36);
    uuid[36] = '\0';
    char *out = calloc(1, strlen(f) + 1);
    assert_non_null(out);
    size_t o = 0;
    for (const char *p = f; *p;) {
        if (!strncmp(p, uuid, 36)) {
            memcpy(out + o, "${event-uuid}", 13);
            o += 13;
            p += 36;
        } else {
            out[o++] = *p++;
        }
    }
    return cap_keep(c, out);
}
