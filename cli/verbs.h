/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The verbs of the session-scripts command line tool. Each verb gets the arguments from its own
 * name on (argv[0] is the verb) and returns the process exit status. Each first parses its options
 * with getopt_long into its own XxxOptions struct (a static xxx_parse_argv(): 1 go on, 0 --help
 * was shown, -EINVAL a usage error already said with cli_usage_error(); validate keeps its usage
 * errors for the verb, which says them in its --json document too), then acts; everything it
 * prints is rendered by format.c (format-status.c for `status`, format-install.c for
 * `install-bundle`), messages on stderr go through
 * cli_error()/cli_warn()/cli_notice(). main.c dispatches through the table in verb_table[].
 */
#pragma once

/* Exit statuses shared by all verbs (validate documents 0/1/2 exactly like this). */
#define EXIT_VALID 0
#define EXIT_INVALID 1          /* validate: errors found; wait-home-folder: timed out */
#define EXIT_USAGE 2            /* bad command line, unreadable file, system error */
/* The other verbs: 1 = "the thing asked about is not fine" (a run failed, the daemon is down, the
 * bundle was refused), 2 = usage or system error, as above. */
#define EXIT_FAILED 1
/* install-bundle: the bundle is installed, but the daemon could not be asked to reload. */
#define EXIT_RELOAD_FAILED 3

/* `session-scripts validate [--json] [--no-file-checks] [PATH]` (session-scripts(1)). */
int verb_validate(int argc, char *argv[]);

/* `session-scripts wait-home-folder [--timeout SECONDS] [--home DIR] [--json]`
 * (docs/behaviour.md §3). */
int verb_wait_home_folder(int argc, char *argv[]);

/* `session-scripts status [--json] [--failures N]`: daemon, uploader, config, spool, failures. */
int verb_status(int argc, char *argv[]);

/* `session-scripts sessions [--json] [--no-auto-start]`: active sessions and their runs. */
int verb_sessions(int argc, char *argv[]);

/* `session-scripts run EVENT --user USER [--session-id ID] [--json]`: one event without a login. */
int verb_run(int argc, char *argv[]);

/* `session-scripts logs [SESSION] [--json] [-f]`: the journal lines of sessions' runs. */
int verb_logs(int argc, char *argv[]);

/* `session-scripts install-bundle FILE.zip|s3://BUCKET/KEY.zip [--no-reload] [--json]`: Elastic
 * fleets. */
int verb_install_bundle(int argc, char *argv[]);

/* The program name for messages ("session-scripts"). */
extern const char *program_name;
