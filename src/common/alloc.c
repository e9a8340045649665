/* The pluggable allocator: every allocation the library makes goes through
 * it, so allocation-failure tests reach all of them. */
#include <stdlib.h>

#include "../internal.h"

static vox_allocator g_alloc = {malloc, calloc, realloc, free};

void vox_set_allocator(const vox_allocator *a)
{
    if (a)
        g_alloc = *a;
    else
        g_alloc = (vox_allocator){malloc, calloc, realloc, free};
}

void *vox__malloc(size_t n)
{
    return g_alloc.malloc(n ? n : 1);
}
void *vox__calloc(size_t n, size_t size)
{
    return g_alloc.calloc(n ? n : 1, size ? size : 1);
}
void *vox__realloc(void *p, size_t n)
{
    return g_alloc.realloc(p, n ? n : 1);
}
void vox__free(void *p)
{
    if (p)
        g_alloc.free(p);
}

int vox__headers_copy(vox_header **out, const vox_header *h, size_t n)
{
    *out = NULL;
    if (!n)
        return 0;
    if (!h)
        return VOX_EINVAL;
    vox_header *copy = vox__calloc(n, sizeof *copy);
    if (!copy)
        return VOX_ENOMEM;
    *out = copy;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].value)
            return VOX_EINVAL;
        copy[i].name = vox__strdup(h[i].name);
        copy[i].value = vox__strdup(h[i].value);
        if (!copy[i].name || !copy[i].value)
            return VOX_ENOMEM;
    }
    return 0;
}

void vox__headers_free(vox_header *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++) {
        vox__free((char *)h[i].name);
        vox__free((char *)h[i].value);
    }
    vox__free(h);
}

char *vox__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = vox__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
