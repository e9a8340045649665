/* vox-sim scenario files: a small line-based text format that says how the
 * simulator behaves (global settings, bridge endpoints, inbound faults) and
 * which calls it plays. The format is described in docs/scenario.md.
 *
 * Every function here is pure parsing: no sockets, no threads. Errors come
 * back as "FILE:LINE: message" text, never as a crash or an exit.
 */
#ifndef VOX_SIM_SCENARIO_H
#define VOX_SIM_SCENARIO_H
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

/* Longest accepted line, newline excluded. */
#define VOX_SIM_SCN_MAX_LINE 1024

/* A parsed scenario. Owns every string and array it points to (in opts, in
 * the endpoints and in every call); vox_sim_scenario_free releases them.
 * opts is ready for vox_sim_start except for the listening host and port,
 * which a scenario does not set. Fields the file does not mention keep their
 * defaults: speed 1.0, heartbeat_ms 20000, log_level 2, every call's
 * hangup_ms -1 (the caller never hangs up), every other field 0 / NULL
 * (the simulator's own defaults). */
typedef struct vox_sim_scenario {
    vox_sim_opts opts;
    vox_sim_call *calls;
    size_t ncalls;
    unsigned *call_line; /* the line of each call's `call` directive */
    char *file;          /* the name used in messages */
} vox_sim_scenario;

/* Parse len bytes of text; name is used in messages ("NAME:LINE: …").
 * 0, or -1 with the message in err (truncated to errlen). On error *scn is
 * left empty; vox_sim_scenario_free is safe either way. */
int vox_sim_scenario_parse(vox_sim_scenario *scn, const char *name, const char *text, size_t len,
                           char *err, size_t errlen);
/* Read and parse a file. A file that cannot be read gives
 * "PATH: cannot read: <reason>". */
int vox_sim_scenario_load(vox_sim_scenario *scn, const char *path, char *err, size_t errlen);
/* Every call needs an outbound server: its own `socket`, else the file's
 * global one, else dflt (a command-line --socket; may be NULL). 0, or -1 with
 * "FILE:LINE: call NAME has no socket …" for the first call lacking one. */
int vox_sim_scenario_check(const vox_sim_scenario *scn, const char *dflt, char *err, size_t errlen);
void vox_sim_scenario_free(vox_sim_scenario *scn);

/* Helpers shared with the binary's flags. */
/* A duration: digits with an optional `ms` (the default) or `s` suffix; `s`
 * allows a fraction ("1.5s"). 0, or -1 when malformed or over 2^32-1 ms. */
int vox_sim_scenario_duration(const char *s, uint32_t *ms);
/* 1 when s is HOST:PORT with a non-empty host and a port 1..65535. */
int vox_sim_scenario_socket_ok(const char *s);

#endif
