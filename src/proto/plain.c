/* text/event-plain bodies, read lazily. At parse time one pass over the
 * event's header block, 64 bytes at a time, checks it as the eager scanner
 * would (every line has a non-empty name before a ':', no NUL, an empty line
 * ends it) and keeps two bits per byte: where the newlines and the colons
 * are. Nothing is indexed then. A lookup finds its header from those bits
 * alone: a header called `name` (n bytes) is a newline followed n + 1 bytes
 * later by a colon, so one shift and one AND per 64 bytes list the few lines
 * worth comparing. The full index is built only when headers are iterated.
 * Anything unusual (a bad line, a NUL, a huge block, many headers) is left
 * to the eager scanner, which reports the same error as before. */
#include <stdint.h>

#include "proto_int.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define PAD 'x' /* neither a newline, a colon nor a NUL */

typedef struct bits {
    uint64_t nl, colon, nul;
} bits;

static inline bits bits_scalar(const char *p)
{
    bits b = {0, 0, 0};
    for (unsigned i = 0; i < 64; i++) {
        b.nl |= (uint64_t)(p[i] == '\n') << i;
        b.colon |= (uint64_t)(p[i] == ':') << i;
        b.nul |= (uint64_t)(p[i] == '\0') << i;
    }
    return b;
}

#ifdef HAVE_X86
static inline uint64_t sse_mask(__m128i a, __m128i b, __m128i c, __m128i d, __m128i x)
{
    uint64_t m0 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, x));
    uint64_t m1 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, x));
    uint64_t m2 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(c, x));
    uint64_t m3 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(d, x));
    return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}

static inline bits bits_sse2(const char *p)
{
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    return (bits){sse_mask(a, b, c, d, _mm_set1_epi8('\n')),
                  sse_mask(a, b, c, d, _mm_set1_epi8(':')),
                  sse_mask(a, b, c, d, _mm_setzero_si128())};
}

__attribute__((target("avx2"))) static inline uint64_t avx_mask(__m256i a, __m256i b, __m256i x)
{
    uint64_t lo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, x));
    uint64_t hi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, x));
    return lo | hi << 32;
}

__attribute__((target("avx2"))) static inline bits bits_avx2(const char *p)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    return (bits){avx_mask(a, b, _mm256_set1_epi8('\n')), avx_mask(a, b, _mm256_set1_epi8(':')),
                  avx_mask(a, b, _mm256_setzero_si256())};
}

__attribute__((target("avx512bw"))) static inline bits bits_avx512(const char *p)
{
    __m512i v = _mm512_loadu_si512((const void *)p);
    return (bits){_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n')),
                  _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(':')), _mm512_testn_epi8_mask(v, v)};
}
#endif

#ifdef HAVE_X86
/* The last n < 64 bytes: lanes past them read as zero, not loaded (so
 * never past the body), and their NUL bits dropped. */
__attribute__((target("avx512bw"))) static inline bits tail_avx512(const char *p, size_t n)
{
    uint64_t in = (1ull << n) - 1;
    __m512i v = _mm512_maskz_loadu_epi8(in, (const void *)p);
    return (bits){_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n')),
                  _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(':')),
                  _mm512_testn_epi8_mask(v, v) & in};
}
#endif

/* The last n < 64 bytes, from a padded copy. */
#define TAIL_COPY(name, load, attr)                                                                \
    attr static inline bits name(const char *p, size_t n)                                          \
    {                                                                                              \
        char tail[64];                                                                             \
        memset(tail, PAD, sizeof tail);                                                            \
        memcpy(tail, p, n);                                                                        \
        return load(tail);                                                                         \
    }
TAIL_COPY(tail_scalar, bits_scalar, )
#ifdef HAVE_X86
TAIL_COPY(tail_sse2, bits_sse2, )
TAIL_COPY(tail_avx2, bits_avx2, __attribute__((target("avx2"))))
#endif

/* The first 8 bytes of a name, ASCII letters folded to lower case, as a
 * cheap first test of a candidate line (only when n >= 8). */
static inline uint64_t fold8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v | 0x2020202020202020ull;
}

/* The state carried from one 64-byte block to the next. */
typedef struct walk {
    uint64_t open;  /* 1: the line in progress has no colon yet */
    uint64_t start; /* 1: the next block starts a line */
    uint64_t nul;   /* NUL bits seen in the header block */
    size_t lines;   /* newlines before the empty line */
    size_t end;     /* the header block's length once found, else 0 */
    int give_up;    /* the eager scanner must decide */
    int cl;         /* a line may be a Content-Length header */
} walk;

/* The first newline in a that follows a newline with no colon in between
 * (or the start of the body) ends the block when it ends an empty line; any
 * other such newline ends a line without a name: the eager scanner reports
 * it. The sum propagates a carry from just after each newline across bytes
 * that are neither newline nor colon, so it lands on a newline exactly when
 * no colon came first. */
static inline int step(walk *s, const char *body, size_t at, bits b)
{
    uint64_t starts = b.nl << 1 | s->start, quiet = ~(b.nl | b.colon), sum;
    uint64_t carry = __builtin_add_overflow(quiet, b.nl << 1 | s->open, &sum);
    uint64_t bare = sum & b.nl;
    if (VOX__UNLIKELY(b.colon & starts)) {
        s->give_up = 1; /* an empty name */
        return 1;
    }
    if (bare) {
        uint64_t first = bare & (0 - bare);
        size_t p = at + (size_t)__builtin_ctzll(bare);
        /* an empty line: the newline starts its line, or follows a lone CR */
        int empty = (first & starts) || (body[p - 1] == '\r' && (p == 1 || body[p - 2] == '\n'));
        s->nul |= b.nul & (first - 1);
        s->lines += (size_t)__builtin_popcountll(b.nl & (first - 1));
        s->end = p + 1;
        s->give_up = !empty;
        return 1;
    }
    s->nul |= b.nul;
    s->lines += (size_t)__builtin_popcountll(b.nl);
    s->open = carry | b.nl >> 63;
    s->start = b.nl >> 63;
    return 0;
}

/* Lines starting in the block at `at` whose first 14 bytes may be a name
 * before a colon (cand: the newlines before them), checked for a
 * Content-Length header by their first 8 bytes; the rest of the check is
 * the lookup's, for the few events that pass this one. */
static inline int maybe_cl(const char *body, size_t at, uint64_t cand)
{
    for (; cand; cand &= cand - 1) {
        /* the colon 14 bytes further is a byte of the body: 8 bytes are */
        if (fold8(body + at + (size_t)__builtin_ctzll(cand) + 1) == fold8("content-"))
            return 1;
    }
    return 0;
}

/* Blocks of the body up to the end of its header block; the last partial
 * block is read by loadn, never past the body. The state is a local copy:
 * the stores to nl and colon could otherwise alias it. A Content-Length
 * line is looked for one block behind, once the colon 15 bytes after its
 * newline is known. */
#define WALK(name, load, loadn, attr)                                                              \
    attr static void name(walk *s, const char *body, size_t len, uint64_t *nl, uint64_t *colon,    \
                          size_t nwords)                                                           \
    {                                                                                              \
        walk st = *s;                                                                              \
        uint64_t pnl = 0, pcolon = 0; /* the previous block's */                                   \
        size_t w = 0, full = len / 64;                                                             \
        int stop = 0;                                                                              \
        for (; w < nwords && !stop; w++) {                                                         \
            bits b = w < full ? load(body + w * 64) : loadn(body + w * 64, len - w * 64);          \
            nl[w] = b.nl;                                                                          \
            colon[w] = b.colon;                                                                    \
            uint64_t cand = pnl & (pcolon >> 15 | b.colon << 49);                                  \
            if (VOX__UNLIKELY(cand))                                                               \
                st.cl |= maybe_cl(body, w * 64 - 64, cand);                                        \
            stop = step(&st, body, w * 64, b);                                                     \
            pnl = b.nl;                                                                            \
            pcolon = b.colon;                                                                      \
        }                                                                                          \
        if (st.end && (pnl & pcolon >> 15)) /* the last block's own lines */                       \
            st.cl |= maybe_cl(body, w * 64 - 64, pnl & pcolon >> 15);                              \
        *s = st;                                                                                   \
    }

WALK(walk_scalar, bits_scalar, tail_scalar, )
#ifdef HAVE_X86
WALK(walk_sse2, bits_sse2, tail_sse2, )
WALK(walk_avx2, bits_avx2, tail_avx2, __attribute__((target("avx2"))))
WALK(walk_avx512, bits_avx512, tail_avx512, __attribute__((target("avx512bw"))))
#endif

typedef void (*walk_fn)(walk *s, const char *body, size_t len, uint64_t *nl, uint64_t *colon,
                        size_t nwords);

/* Forced by tests: -1 the best the CPU has, -2 the eager scanner only. */
static int g_isa = -1;

int vox__plain_isa(int isa)
{
    int old = g_isa;
    g_isa = isa;
    return old;
}

static walk_fn pick_walk(void)
{
#ifdef HAVE_X86
    static const walk_fn fns[] = {walk_scalar, walk_sse2, walk_avx2, walk_avx512};
    int best = __builtin_cpu_supports("avx512bw") ? 3 : __builtin_cpu_supports("avx2") ? 2 : 1;
    return fns[g_isa >= 0 && g_isa < best ? g_isa : best];
#else
    return walk_scalar;
#endif
}

/* ------------------------------------------------------------- lookups */

/* p (n bytes) is name (n bytes and a NUL), ASCII case aside: 8 bytes at a
 * time while they are the same, as they mostly are. */
static inline int same_name(const char *p, const char *name, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, p + i, 8);
        memcpy(&y, name + i, 8);
        if (x != y)
            break;
    }
    return vox__ieq(p + i, n - i, name + i);
}

static inline int name_at(const char *p, const char *name, size_t n, uint64_t head)
{
    return (n < 8 || fold8(p) == head) && same_name(p, name, n);
}

static size_t find_long(const vox__lines *L, const char *name, size_t n, size_t from);

size_t vox__lines_find(const vox__lines *L, const char *name, size_t n, size_t from)
{
    const char *b = L->base;
    if (from == 0 && n + 1 < L->hend && b[n] == ':' && same_name(b, name, n))
        return 0;
    size_t s = n + 1; /* a newline at i, the colon at i + s, the name between */
    if (s >= 64)
        return find_long(L, name, n, from);
    uint64_t head = n >= 8 ? fold8(name) : 0;
    const uint64_t *nl = L->nl, *colon = L->colon;
    size_t w = from ? (from - 1) >> 6 : 0, end = vox__plain_words(L->hend);
    uint64_t skip = from ? ~0ull << ((from - 1) & 63) : ~0ull;
    for (; w < end; w++, skip = ~0ull) {
        /* colon has a zero word after the last: w + 1 is always there */
        uint64_t c = nl[w] & (colon[w] >> s | colon[w + 1] << (64 - s)) & skip;
        for (; c; c &= c - 1) {
            size_t ls = w * 64 + (size_t)__builtin_ctzll(c) + 1;
            if (ls + s >= L->hend)
                return SIZE_MAX;
            if (name_at(b + ls, name, n, head))
                return ls;
        }
    }
    return SIZE_MAX;
}

/* The first set bit of v at or after pos; the caller knows there is one. */
static size_t next_bit(const uint64_t *v, size_t pos)
{
    size_t w = pos >> 6;
    uint64_t m = v[w] & (~0ull << (pos & 63));
    while (!m)
        m = v[++w];
    return w * 64 + (size_t)__builtin_ctzll(m);
}

/* Names longer than a word of bits: the lines are walked one by one. */
static size_t find_long(const vox__lines *L, const char *name, size_t n, size_t from)
{
    size_t ls = from;
    if (ls >= L->hend)
        return SIZE_MAX;
    if (ls && !(L->nl[(ls - 1) >> 6] >> ((ls - 1) & 63) & 1))
        ls = next_bit(L->nl, ls) + 1; /* the next line */
    for (; ls + n + 1 < L->hend; ls = next_bit(L->nl, ls) + 1) {
        if (L->base[ls + n] == ':' && vox__ieq(L->base + ls, n, name))
            return ls;
    }
    return SIZE_MAX;
}

vox__hdr vox__lines_header(const vox__lines *L, size_t ls, size_t colon)
{
    size_t end = next_bit(L->nl, colon), v = colon + 1;
    if (L->base[end - 1] == '\r') /* never the colon itself */
        end--;
    while (v < end && (L->base[v] == ' ' || L->base[v] == '\t'))
        v++;
    return (vox__hdr){(uint32_t)ls, (uint32_t)v, (uint32_t)(end - v), (uint16_t)(colon - ls), 0};
}

static int is_content_length(const char *b, const vox__hdr *h)
{
    return h->nlen == 14 && vox__ieq(b + h->name, 14, "content-length");
}

size_t vox__lines_index(const vox__lines *L, vox__hdr *out)
{
    size_t k = 0, ls = 0;
    for (;;) {
        size_t nl = next_bit(L->nl, ls);
        if (nl == ls || (nl == ls + 1 && L->base[ls] == '\r'))
            return k; /* the empty line */
        vox__hdr h = vox__lines_header(L, ls, next_bit(L->colon, ls));
        if (!is_content_length(L->base, &h))
            out[k++] = h;
        ls = nl + 1;
    }
}

/* The event's own body: after the empty line, as long as the last
 * Content-Length inside says. 0, or -1 when a value is not a fit length
 * (the eager scanner reports it). */
static int own_body(const vox__lines *L, size_t blen, vox__plain *out)
{
    for (size_t ls = 0; (ls = vox__lines_find(L, "content-length", 14, ls)) != SIZE_MAX; ls++) {
        vox__hdr h = vox__lines_header(L, ls, ls + 14);
        size_t n = 0, k;
        for (k = 0; k < h.vlen && L->base[h.val + k] >= '0' && L->base[h.val + k] <= '9'; k++)
            n = n > SIZE_MAX / 10 ? SIZE_MAX : n * 10 + (size_t)(L->base[h.val + k] - '0');
        if (k != h.vlen || k == 0 || n > blen - L->hend)
            return -1;
        out->body_off = L->hend;
        out->body_len = n;
        out->ncl++;
    }
    return 0;
}

int vox__plain_scan(const char *body, size_t blen, size_t max_headers, uint64_t *nl,
                    uint64_t *colon, vox__plain *out)
{
    if (g_isa == -2)
        return 0;
    walk s = {1, 1, 0, 0, 0, 0, 0};
    /* Offsets are 32-bit and names 16-bit: a larger block is rare enough
     * for the eager scanner. */
    size_t len = blen < VOX__MAX_NAME ? blen : VOX__MAX_NAME;
    pick_walk()(&s, body, len, nl, colon, vox__plain_words(len));
    if (!s.end || s.give_up || s.nul || s.lines > max_headers)
        return 0;
    *out = (vox__plain){s.end, s.lines, 0, 0, 0};
    vox__lines L = {body, nl, colon, vox__plain_words(s.end), s.end};
    colon[L.nwords] = 0; /* lookups read one word ahead */
    /* the first line, and lines maybe_cl let through, are looked at */
    if (!s.cl && !(blen > 14 && body[14] == ':'))
        return 1;
    return own_body(&L, blen, out) == 0;
}
