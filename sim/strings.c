/* vox-sim: small string helpers — copies, growable arrays, name/value pairs
 * and header lookups for both halves, and the calls part's growable strings
 * (sbuf). Plain malloc: the simulator is not the library. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calls.h"

char *sim__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void *sim__grow(void *v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return v;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *p = realloc(v, n * size);
    if (p)
        *cap = n;
    return p;
}

bool sim__pair_add(sim_hdr **v, size_t *n, size_t *cap, const char *name, const char *value)
{
    sim_hdr *a = sim__grow(*v, cap, *n + 1, sizeof *a);
    if (!a)
        return false;
    *v = a;
    a[*n].name = sim__strdup(name);
    a[*n].value = sim__strdup(value);
    if (!a[*n].name || !a[*n].value) {
        free(a[*n].name);
        free(a[*n].value);
        return false;
    }
    (*n)++;
    return true;
}

void sim__pairs_free(sim_hdr *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

const char *sim__pair_get(const sim_hdr *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(v[i].name, name))
            return v[i].value;
    return NULL;
}

const char *sim__header(const vox_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name && !strcasecmp(h[i].name, name))
            return h[i].value;
    return NULL;
}

/* switch_true: the words, or a number above zero. */
bool sim__true(const char *v)
{
    if (!v)
        return false;
    static const char *const yes[] = {"yes", "on", "true", "t", "enabled", "active", "allow"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!strcasecmp(v, yes[i]))
            return true;
    return strtol(v, NULL, 10) > 0;
}

/* ------------------------------------------------------------ sbuf */

static void sb_grow(sbuf *b, size_t extra)
{
    if (b->oom)
        return;
    char *p = sim__grow(b->p, &b->cap, b->len + extra + 1, 1);
    if (p)
        b->p = p;
    else
        b->oom = true;
}

void sim__sb_add(sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sim__sb_adds(sbuf *b, const char *s)
{
    sim__sb_add(b, s, strlen(s));
}

void sim__sb_addf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_grow(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *sim__sb_str(const sbuf *b)
{
    return b->p && !b->oom ? b->p : "";
}

void sim__sb_free(sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
