/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `session-scripts sessions [--json] [--no-auto-start]`: the active sessions (the counterpart of Janssen's
 * /session/active): id, user, since, the states of start and termination, and each run's context,
 * result, exit status and duration — from ListSessions and ListRuns. The daemon decides what a
 * caller may see (an unprivileged caller: only its own sessions).
 *
 * Exit status: 0 listed (also when there are none), 1 the daemon could not be asked (or is not
 * running, with --no-auto-start), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "bus-client.h"
#include "cleanup.h"
#include "format.h"
#include "json-util.h"
#include "verbs.h"

static void help(void) {
        printf("%s sessions [OPTIONS…]\n\n"
               "List the sessions the daemon knows, with the runs of their events.\n"
               "Unprivileged users see only their own sessions.\n\n"
               "  -h --help          Show this help\n"
               "     --json          Print a JSON array\n"
               "     --no-auto-start Do not start the daemon when it is not running\n\n"
               "Exit status: 0 listed (also none), 1 the daemon could not be asked (not running,\n"
               "with --no-auto-start), 2 usage error.\n",
               program_name);
}

typedef struct SessionsOptions {
        bool json;
        bool auto_start;
} SessionsOptions;

/* Returns 1 to go on, 0 when --help was shown, -EINVAL on a usage error (said on stderr). */
static int sessions_parse_argv(int argc, char *argv[], SessionsOptions *ret) {
        enum {
                ARG_JSON = 0x100,
                ARG_NO_AUTO_START,
        };
        static const struct option options[] = {
                { "help",          no_argument, NULL, 'h'               },
                { "json",          no_argument, NULL, ARG_JSON          },
                { "no-auto-start", no_argument, NULL, ARG_NO_AUTO_START },
                {}
        };
        SessionsOptions o = { .auto_start = true };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_JSON:
                        o.json = true;
                        break;
                case ARG_NO_AUTO_START:
                        /* For shell completion: pressing TAB must not start a system service. */
                        o.auto_start = false;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return cli_usage_error("sessions", "unexpected argument '%s'.", argv[optind]);

        *ret = o;
        return 1;
}

int verb_sessions(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        SessionsOptions arg = {};
        SessionInfo *sessions = NULL;
        size_t n = 0;
        int r;

        r = sessions_parse_argv(argc, argv, &arg);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_VALID;
        cli_bus_set_auto_start(arg.auto_start);

        r = cli_bus_open(&bus);
        if (r < 0)
                return cli_bus_log_error("sessions", "cannot connect to the system bus", r, NULL, EXIT_FAILED);
        r = cli_bus_list_sessions(bus, &sessions, &n, &error);
        if (r < 0)
                return cli_bus_log_error("sessions", "cannot list the sessions", r, &error, EXIT_FAILED);

        if (arg.json) {
                _cleanup_(json_object_putp) struct json_object *o = sessions_to_json(sessions, n);
                if (!o) {
                        session_infos_free(sessions, n);
                        return cli_oom("sessions");
                }
                json_print(stdout, o, true);
        } else
                sessions_print(stdout, sessions, n, colors_enabled());

        session_infos_free(sessions, n);
        return fflush(stdout) == 0 ? EXIT_VALID : EXIT_USAGE;
}
