/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * session-scripts: entry point of the command line tool. Parses the global options (--help,
 * --version) and dispatches to the verb named by the first argument (one row of verb_table[]
 * per verb, one file per verb).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "format.h"
#include "verbs.h"

const char *program_name = "session-scripts";

typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *summary;
} Verb;

static const Verb verb_table[] = {
        { "validate",         verb_validate,         "Check config.json (syntax, rules, file security)" },
        { "wait-home-folder", verb_wait_home_folder, "Wait until the user's home folder is mounted" },
        { "status",           verb_status,           "Show daemon, uploader, config, spool and failures" },
        { "sessions",         verb_sessions,         "List the active sessions and their runs" },
        { "run",              verb_run,              "Run an event's scripts for a user without a login" },
        { "logs",             verb_logs,             "Show the journal lines of sessions' runs" },
        { "install-bundle",   verb_install_bundle,   "Install an Elastic-fleet bundle (zip) and reload" },
};

static void help(FILE *f) {
        fprintf(f,
                "%s [OPTIONS…] COMMAND [ARGS…]\n\n"
                "Run an administrator's scripts when a user's session starts and ends.\n\n"
                "Commands:\n", program_name);
        for (size_t i = 0; i < ELEMENTSOF(verb_table); i++)
                fprintf(f, "  %-18s %s\n", verb_table[i].name, verb_table[i].summary);
        fprintf(f,
                "\nOptions:\n"
                "  -h --help     Show this help\n"
                "     --version  Show the version\n\n"
                "Run '%s COMMAND --help' for the options and exit statuses of a command.\n", program_name);
}

int main(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
        };
        static const struct option options[] = {
                { "help",    no_argument, NULL, 'h'         },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        int c;

        /* "+": stop at the first non-option, which is the verb; the verb parses the rest. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(stdout);
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", program_name, PACKAGE_VERSION);
                        return 0;
                default:
                        return EXIT_USAGE;
                }

        if (optind >= argc) {
                cli_warn(NULL, "missing command.\n");
                help(stderr);
                return EXIT_USAGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(verb_table); i++)
                if (strcmp(argv[optind], verb_table[i].name) == 0) {
                        /* Each verb runs its own getopt_long from scratch on its arguments. */
                        int verb_argc = argc - optind;
                        char **verb_argv = argv + optind;

                        optind = 0;
                        return verb_table[i].run(verb_argc, verb_argv);
                }

        return cli_error(NULL, EXIT_USAGE, "unknown command '%s'; see '%s --help'.", argv[optind],
                         program_name);
}
