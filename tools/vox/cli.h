/* The vox command-line tool: what its files share. */
#ifndef VOX_CLI_H
#define VOX_CLI_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <vox/vox.h>

/* Exit statuses of every subcommand. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* A subcommand: argv[0] is its name. Returns an exit status. */
typedef int (*cli_main_fn)(int argc, char **argv);

/* Print "vox NAME: " and the formatted message on stderr. */
void cli_errorf(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- parse.c */
int cli_parse_main(int argc, char **argv);
extern const char cli_parse_usage[];

/* ---- api.c: the blocking client (api, bgapi, events) */
int cli_api_main(int argc, char **argv);
int cli_bgapi_main(int argc, char **argv);
int cli_events_main(int argc, char **argv);
extern const char cli_api_usage[];
extern const char cli_bgapi_usage[];
extern const char cli_events_usage[];

/* ---- json.c: JSON views of messages and events (one owned reference,
 * or NULL when out of memory). */

/* A JSON string from len bytes that may not be UTF-8: every byte outside a
 * well-formed UTF-8 sequence becomes U+FFFD; NUL bytes stay (\u0000). */
json_t *cli_json_bytes(const char *p, size_t len);
/* {"name", ["subclass",] "headers", "body"} with decoded values. */
json_t *cli_json_event(const vox_event *ev);
/* {"content_type", "headers", "body" [, "event"]} with values as sent. */
json_t *cli_json_msg(const vox_msg *msg);
/* Write v compactly on one line of out. Returns 0 or -1. */
int cli_json_print(json_t *v, FILE *out);

#endif
