/* Shared checks and buffer steps of the app layer (application arguments
 * and api command lines). */
#ifndef VOX_APP_INT_H
#define VOX_APP_INT_H

#include <vox/app.h>

#include "../internal.h"

/* 1 when s is a usable word: not NULL, not "", no space, tab, CR or LF. */
VOX__HIDDEN int vox__app_word(const char *s);
/* 1 when s is usable text: not NULL, no CR or LF (may be ""). */
VOX__HIDDEN int vox__app_text(const char *s);
/* Append the NUL-terminated strings given (ending with NULL) to out. */
VOX__HIDDEN int vox__app_cat(vox_buf *out, ...);
/* Append a number in decimal. */
VOX__HIDDEN int vox__app_num(vox_buf *out, unsigned long v);
/* Start a builder: makes sure out->data exists and returns the mark to
 * roll back to. */
VOX__HIDDEN int vox__app_begin(vox_buf *out, size_t *mark);
/* End a builder: on error, cut out back to mark. Returns rc. */
VOX__HIDDEN int vox__app_end(vox_buf *out, size_t mark, int rc);

#endif
