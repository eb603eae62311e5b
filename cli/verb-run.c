/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `session-scripts run SessionStart|SessionTermination --user USER [--session-id ID] [--json]`:
 * the image builder's edit-run loop. Asks the daemon (RunEvent, root only) to run the event's
 * executables exactly as a login would — same scopes, environment, timeout, journal, spool and
 * upload — prints their output live from the journal (SESSION_SCRIPTS_SESSION_ID=ID, followed from
 * the moment before the call), then each run's summary.
 *
 * Exit status: 0 every run succeeded (or nothing ran), 1 a run failed, timed out or was skipped,
 * 2 usage error, or the run could not be started (daemon unreachable, not root, no such user).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "bus-client.h"
#include "cleanup.h"
#include "format.h"
#include "journal-read.h"
#include "json-util.h"
#include "script-config.h"
#include "session-id.h"
#include "session-scripts/session-scripts.h"
#include "verbs.h"
#include "time-util.h"


/* Beyond the event's own bound (wait_usec): the daemon's overdue guard (10 s) plus slack, so that
 * the CLI never gives up before the daemon does. */
#define RUN_WAIT_GRACE_USEC (20ULL * USEC_PER_SEC)
/* After the result: how long we keep reading the journal for summary entries that are still on
 * their way to journald. */
#define RUN_JOURNAL_DRAIN_USEC (3ULL * USEC_PER_SEC)
/* Poll tick: progress line updates and journal checks. */
#define RUN_TICK_MSEC 200

/* The metadata a login's PAM environment may carry; passed on from ours when set. */
static const char *const passthrough_env[] = {
        SESSION_SCRIPTS_ENV_USER_NAME,
        SESSION_SCRIPTS_ENV_ACCESS_MODE,
        SESSION_SCRIPTS_ENV_STACK_NAME,
        SESSION_SCRIPTS_ENV_RESOURCE_NAME,
};

static void help(void) {
        printf("%s run SessionStart|SessionTermination --user USER [OPTIONS…]\n\n"
               "Run an event's session scripts for USER exactly as a login would (same units,\n"
               "environment, timeout, journal and upload), without a login; print their output\n"
               "live and a summary of each run. Root only.\n\n"
               "  -h --help             Show this help\n"
               "  -u --user USER        The user the session belongs to (required)\n"
               "     --session-id ID    Use this session id (default: a fresh UUID)\n"
               "     --json             Print one JSON document at the end instead\n\n"
               "AppStream_UserName, AppStream_User_Access_Mode, AppStream_Stack_Name and\n"
               "AppStream_Resource_Name are passed on from the environment when set.\n\n"
               "Exit status: 0 every run succeeded, 1 a run failed, timed out or was skipped,\n"
               "2 usage error or the run could not be started.\n",
               program_name);
}

typedef struct RunWait {
        bool done;
        bool failed;            /* the call itself failed (error set) */
        bool success;
        char *message;
        char *last_line;
        sd_bus_error error;
} RunWait;

static int on_wait_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        RunWait *w = userdata;
        const char *message = "", *last = "";
        int success = 0, r;

        w->done = true;
        if (sd_bus_message_is_method_error(reply, NULL)) {
                w->failed = true;
                (void) sd_bus_error_copy(&w->error, sd_bus_message_get_error(reply));
                return 0;
        }
        r = sd_bus_message_read(reply, "bss", &success, &message, &last);
        if (r < 0) {
                w->failed = true;
                (void) sd_bus_error_set_errno(&w->error, r);
                return 0;
        }
        w->success = success;
        w->message = strdup(message);
        w->last_line = strdup(last);
        return 0;
}

/* Appends the AppStream_* metadata and the session id to the a{ss} argument. */
static int append_environment(sd_bus_message *m, const char *session_id) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "{ss}", SESSION_SCRIPTS_ENV_SESSION_ID, session_id);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(passthrough_env); i++) {
                const char *v = getenv(passthrough_env[i]);
                if (!v || !v[0])
                        continue;
                r = sd_bus_message_append(m, "{ss}", passthrough_env[i], v);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

typedef struct Output {
        bool json;
        struct json_object *lines;      /* --json: the entries, printed at the end */
        size_t n_summaries;             /* entries with a result seen (one per run) */
        bool printed;                   /* a line was printed since the last progress update */
} Output;

/* Reads every new entry of j: prints it (or keeps it for JSON). Returns 0 or -errno. */
static int drain_journal(sd_journal *j, Output *out) {
        int r;

        if (!j)
                return 0;
        for (;;) {
                _cleanup_(log_entry_done) LogEntry e = {};

                r = sd_journal_next(j);
                if (r <= 0)
                        return r;
                r = journal_read_entry(j, &e);
                if (r < 0)
                        return r;
                /* Only the runs' lines and summaries; the session bookkeeping entries are noise in
                 * an edit-run loop (`logs` shows them). */
                if (r == 0 || !e.event)
                        continue;
                if (e.result)
                        out->n_summaries++;
                if (out->json) {
                        struct json_object *o = log_entry_to_json(&e);
                        if (!o || json_object_array_add(out->lines, o) < 0) {
                                json_object_put(o);
                                return -ENOMEM;
                        }
                } else {
                        progress_show(NULL);
                        log_entry_print(stdout, &e, false, colors_enabled());
                        fflush(stdout);
                        out->printed = true;
                }
        }
}

typedef struct RunOptions {
        const char *event;              /* script_event_to_string(): SessionStart or SessionTermination */
        const char *user;
        const char *session_id;         /* NULL: a fresh one */
        bool json;
} RunOptions;

/* Returns 1 to go on, 0 when --help was shown, -EINVAL on a usage error (said on stderr). */
static int run_parse_argv(int argc, char *argv[], RunOptions *ret) {
        enum {
                ARG_JSON = 0x100,
                ARG_SESSION_ID,
        };
        static const struct option options[] = {
                { "help",       no_argument,       NULL, 'h'            },
                { "user",       required_argument, NULL, 'u'            },
                { "session-id", required_argument, NULL, ARG_SESSION_ID },
                { "json",       no_argument,       NULL, ARG_JSON       },
                {}
        };
        RunOptions o = {};
        int c, e;

        while ((c = getopt_long(argc, argv, "hu:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'u':
                        o.user = optarg;
                        break;
                case ARG_SESSION_ID:
                        o.session_id = optarg;
                        break;
                case ARG_JSON:
                        o.json = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (argc - optind != 1)
                return cli_usage_error("run", "expected exactly one event, SessionStart or SessionTermination.");
        e = script_event_from_string(argv[optind]);
        if (e < 0)
                return cli_usage_error("run", "unknown event '%s'; expected SessionStart or SessionTermination.",
                                       argv[optind]);
        o.event = script_event_to_string(e);
        if (!o.user || !o.user[0])
                return cli_usage_error("run", "--user USER is required.");
        if (o.session_id && !session_id_is_valid(o.session_id))
                return cli_usage_error("run",
                                       "invalid --session-id '%s': expected 1…%d characters of A-Z a-z 0-9 . _ -.",
                                       o.session_id, SESSION_SCRIPTS_SESSION_ID_MAX);

        *ret = o;
        return 1;
}

int verb_run(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        RunWait wait = { .error = SD_BUS_ERROR_NULL };
        RunOptions arg = {};
        Output out = {};
        const char *id;
        char generated[SESSION_SCRIPTS_SESSION_ID_UUID_LEN + 1];
        RunInfo *runs = NULL;
        size_t n_runs = 0, n_event_runs = 0;
        usec_t wait_usec = 0, started, deadline, drain_until = 0, last_progress = 0;
        int r, ret;

        r = run_parse_argv(argc, argv, &arg);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_VALID;
        id = arg.session_id;
        if (!id) {
                r = session_id_generate(generated);
                if (r < 0)
                        return cli_error("run", EXIT_USAGE, "cannot generate a session id: %s", strerror(-r));
                id = generated;
        }

        /* The journal first, positioned at "now", so that not a line of the run is missed. */
        r = journal_open_sessions(id, &j);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, now(CLOCK_REALTIME));
        if (r < 0) {
                cli_warn("run", "cannot read the journal (%s); showing the summary only.", strerror(-r));
                sd_journal_close(j);
                j = NULL;
        }

        if (arg.json) {
                out.json = true;
                out.lines = json_object_new_array();
                if (!out.lines)
                        return EXIT_USAGE;
        }

        r = cli_bus_open(&bus);
        if (r < 0) {
                json_object_put(out.lines);
                return cli_bus_log_error("run", "cannot connect to the system bus", r, NULL, EXIT_USAGE);
        }

        r = sd_bus_message_new_method_call(bus, &call, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                           SESSION_SCRIPTS_BUS_INTERFACE, "RunEvent");
        if (r >= 0)
                r = sd_bus_message_append(call, "ss", arg.user, arg.event);
        if (r >= 0)
                r = append_environment(call, id);
        if (r >= 0)
                r = sd_bus_call(bus, call, CLI_BUS_TIMEOUT_USEC, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "st", &id, &wait_usec);
        if (r < 0) {
                json_object_put(out.lines);
                return cli_bus_log_error("run", "cannot run the scripts", r, &error, EXIT_USAGE);
        }

        if (!arg.json)
                run_header_print(stdout, arg.event, arg.user, id);
        fflush(stdout);

        r = sd_bus_call_method_async(bus, &slot, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                     SESSION_SCRIPTS_BUS_INTERFACE, "WaitSessionEvent", on_wait_reply, &wait, "ss",
                                     id, arg.event);
        if (r < 0) {
                json_object_put(out.lines);
                return cli_bus_log_error("run", "cannot wait for the scripts", r, NULL, EXIT_USAGE);
        }

        started = now(CLOCK_MONOTONIC);
        deadline = started + wait_usec + RUN_WAIT_GRACE_USEC;
        last_progress = started;

        for (;;) {
                struct pollfd p[2];
                size_t np = 0;
                usec_t t;

                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (r < 0) {
                        progress_show(NULL);
                        json_object_put(out.lines);
                        return cli_bus_log_error("run", "lost the bus connection", r, NULL, EXIT_USAGE);
                }
                if (j) {
                        (void) sd_journal_process(j);
                        r = drain_journal(j, &out);
                        if (r < 0) {
                                cli_warn("run", "cannot read the journal, ignoring: %s", strerror(-r));
                                sd_journal_close(j);
                                j = NULL;
                        }
                }

                t = now(CLOCK_MONOTONIC);
                if (wait.done && drain_until == 0) {
                        /* The result is in: the runs' summaries may still be on their way to journald. */
                        _cleanup_(sd_bus_error_free) sd_bus_error le = SD_BUS_ERROR_NULL;

                        if (cli_bus_list_runs(bus, id, &runs, &n_runs, &le) < 0) {
                                runs = NULL;
                                n_runs = 0;
                        }
                        for (size_t i = 0; i < n_runs; i++)
                                if (strcmp(runs[i].event, arg.event) == 0)
                                        n_event_runs++;
                        drain_until = t + RUN_JOURNAL_DRAIN_USEC;
                }
                if (drain_until > 0 && (!j || out.n_summaries >= n_event_runs || t >= drain_until))
                        break;
                if (!wait.done && t >= deadline) {
                        progress_show(NULL);
                        cli_warn("run", "no result from the daemon in time; giving up.");
                        json_object_put(out.lines);
                        return EXIT_FAILED;
                }

                /* The progress line, for a wait longer than a second without output. */
                if (!arg.json && !wait.done && t - started > USEC_PER_SEC && t - last_progress >= USEC_PER_SEC) {
                        char text[160];

                        progress_show(run_progress_format(text, sizeof text, arg.event, t - started,
                                                          wait_usec));
                        last_progress = t;
                }

                p[np++] = (struct pollfd) { .fd = sd_bus_get_fd(bus), .events = (short) sd_bus_get_events(bus) };
                if (j) {
                        int fd = sd_journal_get_fd(j);
                        if (fd >= 0)
                                p[np++] = (struct pollfd) { .fd = fd, .events = (short) sd_journal_get_events(j) };
                }
                (void) poll(p, np, RUN_TICK_MSEC);
        }
        progress_show(NULL);

        if (wait.failed) {
                for (size_t i = 0; i < n_runs; i++)
                        run_info_done(&runs[i]);
                free(runs);
                json_object_put(out.lines);
                r = cli_bus_log_error("run", "waiting for the scripts failed", -EIO, &wait.error, EXIT_USAGE);
                sd_bus_error_free(&wait.error);
                return r;
        }

        if (arg.json) {
                doc = run_outcome_to_json(id, arg.event, arg.user, wait.success, wait.message, wait.last_line,
                                          runs, n_runs, TAKE_PTR(out.lines));
                if (!doc)
                        return EXIT_USAGE;
                json_print(stdout, doc, true);
        } else
                run_outcome_print(stdout, arg.event, arg.user, wait.success, wait.message, runs, n_runs);

        for (size_t i = 0; i < n_runs; i++)
                run_info_done(&runs[i]);
        free(runs);
        free(wait.message);
        free(wait.last_line);
        sd_bus_error_free(&wait.error);
        ret = wait.success ? EXIT_VALID : EXIT_FAILED;
        if (fflush(stdout) != 0)
                ret = EXIT_USAGE;
        return ret;
}
