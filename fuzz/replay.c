/* Runs a fuzz target over files named on the command line, without
 * libFuzzer, so the corpus replays under any compiler and sanitizer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file; NULL on error. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *p = realloc(buf, ncap);
            if (!p)
                goto fail;
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        size_t len = 0;
        uint8_t *data = slurp(argv[i], &len);
        if (!data) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 2;
        }
        /* An exact-size copy, so the sanitizers catch a read past the end. */
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact) {
            free(data);
            return 2;
        }
        for (size_t k = 0; k < len; k++)
            exact[k] = data[k];
        free(data);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
        printf("replayed %s (%zu bytes)\n", argv[i], len);
    }
    return 0;
}
