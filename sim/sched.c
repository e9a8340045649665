/* vox-sim, the calls part's scheduler: every simulated duration is a task
 * on one libuv timer over a list sorted by due time. A channel's tasks go
 * with it; destroyed channels are freed between tasks. */
#include <stdlib.h>

#include "calls.h"

struct sim_task {
    struct sim_task *next;
    uint64_t id, due;
    sim_chan *ch;
    sim_task_fn fn;
    void *arg;
    bool owned; /* arg is freed after the task, or when it is dropped */
};

static void task_free(struct sim_task *k)
{
    if (k->owned)
        free(k->arg);
    free(k);
}

static void tick(uv_timer_t *t);

static void arm(sim_calls *c)
{
    if (!c->tasks || c->closing)
        return;
    uint64_t now = uv_now(&c->s->loop);
    uint64_t due = c->tasks->due;
    uv_timer_start(c->timer, tick, due > now ? due - now : 0, 0);
}

static void tick(uv_timer_t *t)
{
    sim_calls *c = t->data;
    uint64_t now = uv_now(&c->s->loop);
    while (c->tasks && c->tasks->due <= now && !c->closing) {
        struct sim_task *k = c->tasks;
        c->tasks = k->next;
        k->fn(c, k->ch, k->arg);
        task_free(k);
    }
    sim__chans_reap(c);
    arm(c);
}

static uint64_t after(sim_calls *c, sim_chan *ch, uint64_t sim_ms, sim_task_fn fn, void *arg,
                      bool owned)
{
    if (c->closing)
        return 0;
    if (!c->timer) {
        uv_timer_t *t = malloc(sizeof *t);
        if (!t || uv_timer_init(&c->s->loop, t)) {
            free(t);
            return 0;
        }
        t->data = c;
        c->timer = t;
    }
    struct sim_task *k = calloc(1, sizeof *k);
    if (!k)
        return 0;
    k->id = ++c->task_seq;
    /* from the true now: the loop's cached time may be several ms old */
    uv_update_time(&c->s->loop);
    k->due = uv_now(&c->s->loop) + (sim_ms ? sim__real_ms(c->s, sim_ms) : 0);
    k->ch = ch;
    k->fn = fn;
    k->arg = arg;
    k->owned = owned;
    struct sim_task **pp = &c->tasks;
    while (*pp && (*pp)->due <= k->due)
        pp = &(*pp)->next;
    k->next = *pp;
    *pp = k;
    if (c->tasks == k)
        arm(c);
    return k->id;
}

uint64_t sim__after(sim_calls *c, sim_chan *ch, uint64_t sim_ms, sim_task_fn fn, void *arg)
{
    return after(c, ch, sim_ms, fn, arg, false);
}

uint64_t sim__after_owned(sim_calls *c, sim_chan *ch, uint64_t sim_ms, sim_task_fn fn, void *arg)
{
    uint64_t id = after(c, ch, sim_ms, fn, arg, true);
    if (!id)
        free(arg);
    return id;
}

void sim__cancel(sim_calls *c, uint64_t id)
{
    if (!id)
        return;
    for (struct sim_task **pp = &c->tasks; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct sim_task *k = *pp;
            *pp = k->next;
            task_free(k);
            return;
        }
    }
}

void sim__cancel_chan(sim_calls *c, sim_chan *ch)
{
    struct sim_task **pp = &c->tasks;
    while (*pp) {
        if ((*pp)->ch == ch) {
            struct sim_task *k = *pp;
            *pp = k->next;
            task_free(k);
        } else {
            pp = &(*pp)->next;
        }
    }
}

uint64_t sim__ms(sim *s)
{
    return (sim__now_us(s) - s->sim0_us) / 1000;
}

sim_calls *sim__calls(sim *s)
{
    return s->calls;
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

/* The handle may outlive the calls part: its close callback frees it. */
static void close_timer(sim_calls *c)
{
    if (c->timer && !uv_is_closing((uv_handle_t *)c->timer))
        uv_close((uv_handle_t *)c->timer, timer_closed);
    else if (c->timer)
        c->timer->data = NULL;
    c->timer = NULL;
}

void sim__sched_stop(sim_calls *c)
{
    while (c->tasks) {
        struct sim_task *k = c->tasks;
        c->tasks = k->next;
        task_free(k);
    }
    close_timer(c);
}
