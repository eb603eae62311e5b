/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `session-scripts logs [SESSION] [--json] [-f]`: the journal lines of a session's runs — every
 * stdout/stderr line of its scripts, the runs' summaries and the session's own entries — read with
 * sd-journal by SESSION_SCRIPTS_SESSION_ID. Without SESSION: those of every session, in the order
 * they were written, with the session id as a column. -f follows.
 *
 * Exit status: 0 success (also when there are no entries), 2 usage error or the journal cannot be
 * read.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "format.h"
#include "journal-read.h"
#include "json-util.h"
#include "session-id.h"
#include "session-scripts/session-scripts.h"
#include "verbs.h"

/* How long one sd_journal_wait() blocks while following (it returns earlier on new entries). */
#define LOGS_FOLLOW_WAIT_USEC (1 * USEC_PER_SEC)

static void help(void) {
        printf("%s logs [OPTIONS…] [SESSION]\n\n"
               "Show the journal lines of a session's runs (all sessions when SESSION is omitted):\n"
               "  TIME [SESSION] EVENT/CONTEXT: LINE             a line the script wrote to stdout\n"
               "  TIME [SESSION] EVENT/CONTEXT [stderr]: LINE    … to stderr\n"
               "  TIME [SESSION] EVENT/CONTEXT [result]: TEXT    how the run ended\n"
               "  TIME [SESSION] session: TEXT                   the session's own entries\n\n"
               "  -h --help     Show this help\n"
               "  -f --follow   Keep printing new lines as they come\n"
               "     --json     One JSON object per line\n\n"
               "Reading the system journal needs root or the systemd-journal group.\n"
               "Exit status: 0 success (also no entries), 2 usage error or unreadable journal.\n",
               program_name);
}

/* Prints the entries from the current position on. Returns the number printed or -errno. */
static int print_entries(sd_journal *j, bool show_session, bool json) {
        int n = 0, r;

        for (;;) {
                _cleanup_(log_entry_done) LogEntry e = {};

                r = sd_journal_next(j);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = journal_read_entry(j, &e);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (json) {
                        _cleanup_(json_object_putp) struct json_object *o = log_entry_to_json(&e);
                        if (!o)
                                return -ENOMEM;
                        json_print(stdout, o, false);
                } else
                        log_entry_print(stdout, &e, show_session, colors_enabled());
                n++;
        }
        fflush(stdout);
        return n;
}

typedef struct LogsOptions {
        const char *session;    /* NULL: all sessions */
        bool json;
        bool follow;
} LogsOptions;

/* Returns 1 to go on, 0 when --help was shown, -EINVAL on a usage error (said on stderr). */
static int logs_parse_argv(int argc, char *argv[], LogsOptions *ret) {
        enum {
                ARG_JSON = 0x100,
        };
        static const struct option options[] = {
                { "help",   no_argument, NULL, 'h'      },
                { "follow", no_argument, NULL, 'f'      },
                { "json",   no_argument, NULL, ARG_JSON },
                {}
        };
        LogsOptions o = {};
        int c;

        while ((c = getopt_long(argc, argv, "hf", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'f':
                        o.follow = true;
                        break;
                case ARG_JSON:
                        o.json = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (argc - optind > 1)
                return cli_usage_error("logs", "too many arguments; expected at most one SESSION.");
        if (optind < argc) {
                o.session = argv[optind];
                if (!session_id_is_valid(o.session))
                        return cli_usage_error("logs", "invalid session id.");
        }

        *ret = o;
        return 1;
}

int verb_logs(int argc, char *argv[]) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        LogsOptions arg = {};
        int r, n;

        r = logs_parse_argv(argc, argv, &arg);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_VALID;

        r = journal_open_sessions(arg.session, &j);
        if (r >= 0)
                r = sd_journal_seek_head(j);
        if (r < 0)
                return cli_error("logs", EXIT_USAGE, "cannot open the journal: %s", strerror(-r));

        n = print_entries(j, !arg.session, arg.json);
        if (n < 0)
                return cli_error("logs", EXIT_USAGE, "cannot read the journal: %s", strerror(-n));
        if (n == 0 && !arg.follow && !arg.json)
                cli_notice("No journal entries%s%s%s.", arg.session ? " of session " : "", arg.session ?: "",
                           geteuid() != 0 ? " (are you allowed to read the system journal?)" : "");

        while (arg.follow) {
                r = sd_journal_wait(j, LOGS_FOLLOW_WAIT_USEC);
                if (r < 0)
                        return cli_error("logs", EXIT_USAGE, "cannot follow the journal: %s", strerror(-r));
                n = print_entries(j, !arg.session, arg.json);
                if (n < 0)
                        return cli_error("logs", EXIT_USAGE, "cannot read the journal: %s", strerror(-n));
        }

        return fflush(stdout) == 0 ? EXIT_VALID : EXIT_USAGE;
}
