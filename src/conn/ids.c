/* Generated ids: uuid v4 texts for Event-UUID and Job-UUID headers.
 * Not cryptographic: the ids only have to be unique among the requests of
 * the process and hard to guess by accident. Each conn has its own
 * splitmix64 stream, seeded from the user's seed, its address and a global
 * counter, so two conns never share a stream even with the same seed. */
#include <stdatomic.h>
#include <stdio.h>

#include <vox/conn.h>

#include "conn_int.h"

static atomic_uint_fast64_t g_counter;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void vox__ids_seed(vox_conn *c)
{
    uint64_t n = atomic_fetch_add(&g_counter, 1) + 1;
    uint64_t s = c->o.seed ^ (uint64_t)(uintptr_t)c ^ (n * 0xd1b54a32d192ed03ULL);
    c->rng = splitmix64(&s);
}

void vox__uuid(vox_conn *c, char out[37])
{
    uint64_t hi = splitmix64(&c->rng);
    uint64_t lo = splitmix64(&c->rng);
    /* version 4 in the 13th hex digit, variant 10xx in the 17th */
    hi = (hi & ~0xf000ULL) | 0x4000ULL;
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
             (unsigned)((hi >> 16) & 0xffff), (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
             (unsigned long long)(lo & 0xffffffffffffULL));
}
