/* vox-sim, the applications' private header: a running application and the
 * sendmsg it came from, shared by apps.c (the sendmsg queue, execution, the
 * simple applications), digits.c (play_and_get_digits, read) and bridge.c
 * (bridge). Loop thread only. */
#ifndef VOX_SIM_APPS_H
#define VOX_SIM_APPS_H
#include "calls.h"

typedef struct pagd pagd; /* a digit collection (digits.c) */

typedef struct app_def {
    const char *name;
    void (*start)(sim_chan *ch, sim_run *r);
    const char *abort_resp; /* NULL: the last application's response */
    bool parking;           /* queued messages run on top of it */
} app_def;

struct sim_run {
    const app_def *def;
    char *name, *arg;
    char uuid[64];
    sim_msg *msg; /* NULL: a dialplan step */
    bool lock, ending;
    uint64_t timer, started_ms, dur_ms;
    pagd *pg;
    sim_dial *dial;
};

/* The application on top of ch's stack (the one running), or NULL. */
sim_run *sim__app_top(sim_chan *ch);
/* r ends at once, with no Application-Response. */
void sim__app_done_none(sim_chan *ch, sim_run *r);
/* The playback_* variables after ms of media played. */
void sim__playback_vars(sim_chan *ch, uint64_t ms);

/* Applications of digits.c and bridge.c (their table is apps.c's). */
void sim__app_pagd(sim_chan *ch, sim_run *r);
void sim__app_read(sim_chan *ch, sim_run *r);
void sim__app_bridge(sim_chan *ch, sim_run *r);

#endif
