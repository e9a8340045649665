/* Time and waiting for the tests and the fakes (no cmocka here, so the fakes
 * can use it too). */
#ifndef VOX_TEST_CLOCK_H
#define VOX_TEST_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds, for deadlines and elapsed times. */
uint64_t tu_now_ms(void);
/* The CLOCK_REALTIME time ms from now, as pthread_cond_timedwait takes it. */
struct timespec tu_abs_in(uint32_t ms);

/* A count other threads raise and a test thread waits on, with a bound:
 * tu_flag_wait returns 1 once the count reached n, 0 after timeout_ms. */
typedef struct tu_flag {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
} tu_flag;
#define TU_FLAG_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}
void tu_flag_raise(tu_flag *f);
int tu_flag_wait(tu_flag *f, int n, uint32_t timeout_ms);
int tu_flag_get(tu_flag *f);

#endif
