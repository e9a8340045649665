#include "util/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fixture_dir(void)
{
    const char *d = getenv("VOX_FIXTURES");
    return d && *d ? d : "tests/fixtures";
}

char *tu_fixture(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fixture_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("fixture %s missing", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **tu_fixture_names(const char *suffix)
{
    DIR *d = opendir(fixture_dir());
    if (!d)
        fail_msg("fixture dir %s missing", fixture_dir());
    size_t n = 0, cap = 16, sl = strlen(suffix);
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= sl || strcmp(e->d_name + l - sl, suffix) != 0)
            continue;
        if (n + 2 > cap)
            names = realloc(names, (cap *= 2) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    names[n] = NULL;
    return names;
}

void tu_free_names(char **names)
{
    for (char **p = names; p && *p; p++)
        free(*p);
    free(names);
}

/* Each block carries a small header so frees can be counted. */
static long g_fail_at = -1, g_count, g_live;
typedef struct {
    size_t size;
    size_t pad;
} hdr;

static int should_fail(void)
{
    long i = g_count++;
    return g_fail_at >= 0 && i >= g_fail_at;
}

static void *t_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    hdr *h = malloc(sizeof(hdr) + n);
    if (!h)
        return NULL;
    h->size = n;
    g_live++;
    return h + 1;
}

static void *t_calloc(size_t n, size_t s)
{
    if (s && n > (size_t)-1 / s)
        return NULL;
    void *p = t_malloc(n * s);
    if (p)
        memset(p, 0, n * s);
    return p;
}

static void t_free(void *p)
{
    if (!p)
        return;
    g_live--;
    free((hdr *)p - 1);
}

static void *t_realloc(void *p, size_t n)
{
    if (!p)
        return t_malloc(n);
    if (should_fail())
        return NULL;
    hdr *h = realloc((hdr *)p - 1, sizeof(hdr) + n);
    if (!h)
        return NULL;
    h->size = n;
    return h + 1;
}

void tu_alloc_install(void)
{
    static const vox_allocator a = {t_malloc, t_calloc, t_realloc, t_free};
    g_fail_at = -1;
    g_count = 0;
    vox_set_allocator(&a);
}

void tu_alloc_uninstall(void)
{
    vox_set_allocator(NULL);
}
void tu_fail_after(long k)
{
    g_fail_at = k;
    g_count = 0;
}
void tu_fail_off(void)
{
    g_fail_at = -1;
}
long tu_alloc_count(void)
{
    return g_count;
}
long tu_live(void)
{
    return g_live;
}
