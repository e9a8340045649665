/* vox: a command-line tool over libvox. main() only dispatches to the
 * subcommands; each lives in its own file and takes (argc, argv) with
 * argv[0] set to its name. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

typedef struct cli_cmd {
    const char *name;
    cli_main_fn main;
    const char *usage;
    const char *summary;
} cli_cmd;

static const cli_cmd commands[] = {
    {"parse", cli_parse_main, cli_parse_usage,
     "print a captured FreeSWITCH byte stream as JSON, one message per line"},
    {"api", cli_api_main, cli_api_usage, "run an api command on FreeSWITCH and print its output"},
    {"bgapi", cli_bgapi_main, cli_bgapi_usage, "run a background job and print its result"},
    {"events", cli_events_main, cli_events_usage, "print FreeSWITCH's events as JSON lines"},
};

void cli_errorf(const char *name, const char *fmt, ...)
{
    va_list ap;

    if (name)
        fprintf(stderr, "vox %s: ", name);
    else
        fputs("vox: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void usage(FILE *out)
{
    fputs("usage: vox COMMAND [ARGS]\n"
          "       vox help [COMMAND]\n"
          "       vox --version\n\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

static const cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* vox help [COMMAND] */
static int help(int argc, char **argv)
{
    const cli_cmd *cmd;

    if (argc < 2) {
        usage(stdout);
        return CLI_OK;
    }
    cmd = find_command(argv[1]);
    if (!cmd || argc > 2) {
        if (!cmd)
            cli_errorf(NULL, "unknown command '%s'", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    fputs(cmd->usage, stdout);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    const cli_cmd *cmd;

    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("vox %s (libvox %s)\n", VOX_VERSION_STRING, vox_version());
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return help(1, argv);
    if (!strcmp(argv[1], "help"))
        return help(argc - 1, argv + 1);
    cmd = find_command(argv[1]);
    if (!cmd) {
        cli_errorf(NULL, "unknown command '%s'", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    return cmd->main(argc - 1, argv + 1);
}
