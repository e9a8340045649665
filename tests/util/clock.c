#include "util/clock.h"

#include <errno.h>

uint64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tu_flag_raise(tu_flag *f)
{
    pthread_mutex_lock(&f->mu);
    f->n++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

struct timespec tu_abs_in(uint32_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int tu_flag_wait(tu_flag *f, int n, uint32_t timeout_ms)
{
    struct timespec dl = tu_abs_in(timeout_ms);
    pthread_mutex_lock(&f->mu);
    while (f->n < n)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT)
            break;
    int ok = f->n >= n;
    pthread_mutex_unlock(&f->mu);
    return ok;
}

int tu_flag_get(tu_flag *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->n;
    pthread_mutex_unlock(&f->mu);
    return n;
}
