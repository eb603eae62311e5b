/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Output helpers of the command line tool: colours (decided per stream: only on a terminal, never
 * with NO_COLOR or SYSTEMD_COLORS=0), progress lines for waits longer than a second,
 * durations, sizes and timestamps for people, making untrusted text (script output from the
 * journal) safe for a terminal and for JSON, and the formatters of the `sessions` and `logs`
 * verbs. The formatters write to a FILE * and take the colour decision as a parameter, so the unit
 * tests drive them into memory streams.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "script-config.h"
#include "settings.h"
#include "time-util.h"

/*
 * The one way the verbs print messages on stderr. cli_error() writes "session-scripts VERB: MESSAGE\n"
 * ("session-scripts: MESSAGE\n" when verb is NULL); the format has no trailing newline and may use
 * %m (errno is kept as it was at the call). It returns exit_status, for `return cli_error(…)`.
 * cli_warn() is the same where the verb goes on; cli_usage_error() returns -EINVAL, for the verbs'
 * parse_argv(); cli_oom() is cli_error(verb, EXIT_USAGE, "out of memory"). cli_notice() writes
 * "MESSAGE\n" without the prefix (hints and notes for people, such as "No journal entries.").
 */
int cli_error(const char *verb, int exit_status, const char *format, ...) __attribute__((format(printf, 3, 4)));
#define cli_warn(verb, ...) ((void) cli_error((verb), 0, __VA_ARGS__))
#define cli_usage_error(verb, ...) cli_error((verb), -EINVAL, __VA_ARGS__)
int cli_oom(const char *verb);
void cli_notice(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Writes a sentence for people into reason (size bytes, may be NULL/0: then nothing) for the
 * functions that report why they failed into a caller's buffer; returns r, for
 * `return reasonf(reason, reason_size, -EINVAL, …)`. */
int reasonf(char *reason, size_t size, int r, const char *format, ...) __attribute__((format(printf, 4, 5)));

#define ANSI_RED "\x1b[0;31m"
#define ANSI_GREEN "\x1b[0;32m"
#define ANSI_YELLOW "\x1b[0;33m"
#define ANSI_GREY "\x1b[0;38;5;245m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_NORMAL "\x1b[0m"

/*
 * The colour decision for one output stream, as a pure function: SYSTEMD_COLORS wins when it is a
 * boolean ("0"/"no"/"false"/"off" turn colours off, "1"/"yes"/"true"/"on", "16", "256" and "24bit"
 * turn them on even without a terminal, like systemd's tools); else NO_COLOR (set at all) turns
 * them off; else they are on when the stream is a terminal and $TERM is not "dumb". Each argument
 * may be NULL (variable unset).
 */
bool color_decide(bool is_tty, const char *no_color, const char *systemd_colors, const char *term);

/* color_decide() for the stream f (isatty(fileno(f)) and the environment); decided once for stdout
 * and stderr. A memory stream gets colours only when SYSTEMD_COLORS forces them. */
bool colors_enabled_for(FILE *f);

/* ansi when colours are on for f (colors_enabled_for(f)), else "". Pass the stream the text is
 * written to: stdout and stderr are decided separately. */
const char *color_for(FILE *f, const char *ansi);

/* The same for stdout, where most output goes. */
bool colors_enabled(void);

/* True when stderr is a terminal and $TERM is not "dumb" (progress lines go there, and only then). */
bool progress_enabled(void);

/* Writes (over the previous one) or clears (text NULL) a one-line progress message on stderr,
 * when progress_enabled(). */
void progress_show(const char *text);

/* A progress line for a wait: nothing during the first PROGRESS_DELAY_USEC (most waits are short),
 * then "WHAT… [DETAIL, ]Ns" on stderr when progress_enabled(), refreshed at most every
 * PROGRESS_REFRESH_USEC. */
#define PROGRESS_DELAY_USEC (1 * USEC_PER_SEC)
#define PROGRESS_REFRESH_USEC (250 * USEC_PER_MSEC)
typedef struct Progress {
        const char *what;       /* e.g. "Waiting for the home folder"; not copied */
        usec_t start_usec;      /* CLOCK_MONOTONIC */
        usec_t shown_usec;      /* when the line was last written, 0 = never */
        char shown[256];        /* what it said then (unchanged text is not written again) */
} Progress;

/* Starts measuring the wait (the line appears only later, from progress_update()). */
void progress_begin(Progress *p, const char *what);

/* Shows or refreshes the line (detail may be NULL) when the wait is long enough. */
void progress_update(Progress *p, const char *detail);

/* Clears the line if it was shown. Safe on a Progress that never started. */
void progress_end(Progress *p);

/* The text of the line: "WHAT… 3s" or "WHAT… DETAIL, 3s" (elapsed in whole seconds); returns buf. */
char *progress_format(char *buf, size_t size, const char *what, const char *detail, uint64_t elapsed_usec);

/* "850ms", "1.25s", "3min 20s", "2h 5min", "3d 4h"; returns buf. */
char *format_duration(char *buf, size_t size, uint64_t usec);

/* "512 B", "1.5 KiB", "20.0 MiB", …; returns buf. */
char *format_bytes(char *buf, size_t size, uint64_t bytes);

/* Local time "YYYY-MM-DD HH:MM:SS" of a CLOCK_REALTIME µs value ("-" for 0); returns buf. */
char *format_timestamp(char *buf, size_t size, uint64_t realtime_usec);

/* ISO 8601 UTC "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" for JSON ("" for 0); returns buf. */
char *format_timestamp_utc(char *buf, size_t size, uint64_t realtime_usec);

/*
 * Copies src[0..len) into dst (size bytes, NUL-terminated, truncated on a character boundary) as
 * valid UTF-8 in which every control character but TAB is replaced by '?' and every invalid byte (and
 * every non-character) by U+FFFD: script output comes from users and must not drive the terminal.
 * Returns dst.
 */
char *text_sanitize(char *dst, size_t size, const char *src, size_t len);

/* json-c: a string value, or null for NULL. For values that came over D-Bus or were written by
 * the daemon (valid UTF-8); script output goes through the sanitising path in log_entry_to_json(). */
struct json_object *json_string_or_null(const char *s);

/* json-c: format_timestamp_utc() of a CLOCK_REALTIME µs value as a string, or null for 0. */
struct json_object *json_timestamp_or_null(usec_t realtime_usec);

/* One run as ListRuns reports it. */
typedef struct RunInfo {
        char *event;
        char *context;
        char *unit;
        char *executable;
        char *result;           /* success|exit-code|signal|timeout|tampered|failed|running */
        uint64_t exit_status;
        int32_t signal;
        uint64_t duration_usec;
} RunInfo;

/* One session as ListSessions reports it, plus its runs. */
typedef struct SessionInfo {
        char *id;
        char *user;
        uint32_t uid;
        uint64_t since_usec;
        char *start_state;
        char *term_state;
        RunInfo *runs;
        size_t n_runs;
} SessionInfo;

/* Frees what the infos own (and the arrays). Accept NULL/0. */
void run_info_done(RunInfo *r);
void session_infos_free(SessionInfo *s, size_t n);

/* A short description of a run's result: "success", "exit status 3", "killed by SIGKILL",
 * "timed out", "skipped: modified after provisioning", "could not be started", "running". */
char *format_run_result(char *buf, size_t size, const RunInfo *r);

/* True when the result counts as a success (exit 0). */
bool run_info_succeeded(const RunInfo *r);

/* Prints one line per run: "  EVENT/CONTEXT  EXECUTABLE  RESULT  DURATION" (coloured when
 * colors). */
void run_infos_print(FILE *f, const RunInfo *runs, size_t n, bool colors);

/* Prints the sessions table with each session's runs below it; "No sessions." when n == 0. */
void sessions_print(FILE *f, const SessionInfo *s, size_t n, bool colors);

/* JSON of one run / of the session list (an array). Returns a new object or NULL (OOM). */
struct json_object *run_info_to_json(const RunInfo *r);
struct json_object *sessions_to_json(const SessionInfo *s, size_t n);

/* One journal entry of a session's runs (see cli/journal-read.h). */
typedef struct LogEntry {
        uint64_t realtime_usec;
        char *session_id;
        char *event;            /* NULL for session-level entries */
        char *context;
        char *stream;           /* "stdout"/"stderr" for script output, else NULL */
        char *result;           /* set on the per-run summary entry */
        char *message_id;
        char *message;          /* raw bytes, NUL-terminated (may contain invalid UTF-8) */
        size_t message_len;
} LogEntry;

void log_entry_done(LogEntry *e);

/*
 * Prints "TIME [SESSION ]EVENT/CONTEXT: MESSAGE" (script stdout), "… EVENT/CONTEXT [stderr]: …"
 * (stderr, red), "… EVENT/CONTEXT [result]: …" (the run summary) or "… session: …" (session
 * events), the message sanitised for a terminal. show_session adds the session id column.
 */
void log_entry_print(FILE *f, const LogEntry *e, bool show_session, bool colors);

/* {"time":"…","time_usec":N,"session_id":…,"event":…,"context":…,"stream":…,"result":…,
 * "message":…} (absent values as null). Returns a new object or NULL. */
struct json_object *log_entry_to_json(const LogEntry *e);

/* A finding of the config checks as `validate --json` prints it: {"severity","line","column","path",
 * "file","message"}. Returns a new object or NULL (OOM). */
struct json_object *finding_to_json(const Finding *f);

/* Prints a finding for people, under the config's path as the user spelled it:
 * "CONFIG:LINE:COL: error: MESSAGE [json.path]" when it has a position (also a finding about an
 * executable: it points at the "filename" value naming it, and the message names the file), else
 * "CONFIG: error: MESSAGE" (config.json itself, the whole document). */
void finding_print(FILE *out, const char *config_path, const Finding *f);

/* `run`'s progress line: "Waiting for EVENT… 3s elapsed (at most 1min 30s)" (elapsed in whole
 * seconds); returns buf. */
char *run_progress_format(char *buf, size_t size, const char *event, usec_t elapsed_usec, usec_t max_usec);

/* `run`: "Running EVENT for user USER (session ID)…" in bold, before the scripts' output. */
void run_header_print(FILE *f, const char *event, const char *user, const char *session_id);

/* `run`'s summary for people: the runs of event among runs[0..n), then "All scripts succeeded." or
 * message (a default when NULL or empty). Coloured when colours are on for f. */
void run_outcome_print(FILE *f, const char *event, const char *user, bool success, const char *message,
                       const RunInfo *runs, size_t n);

/* `run --json`: {"session_id","event","user","success","message","last_line","runs","output"}, the
 * runs of event among runs[0..n); output (an array of log_entry_to_json() objects) is consumed, also
 * on failure. Returns a new object or NULL (OOM). */
struct json_object *run_outcome_to_json(const char *session_id, const char *event, const char *user, bool success,
                                        const char *message, const char *last_line, const RunInfo *runs, size_t n,
                                        struct json_object *output);

/* `wait-home-folder --json`: {"home","file","mounted","waited_usec","timeout_sec"}. Returns a new
 * object or NULL (OOM). */
struct json_object *home_wait_to_json(const char *home, const char *file, bool mounted, usec_t waited_usec,
                                      unsigned timeout_sec);

/* `validate`: every finding (finding_print()) and the verdict "PATH: valid|invalid (N errors, M
 * warnings)". */
void findings_print(FILE *f, const char *path, const FindingList *l);

/* `validate --json`: {"path","valid","errors","warnings","findings":[finding_to_json()…]}. Returns a
 * new object or NULL (OOM). */
struct json_object *findings_to_json(const char *path, const FindingList *l);

/* `validate --settings`: "FILE:LINE: error: MESSAGE" for each problem, where uploads go (when a
 * bucket is set) and the verdict as findings_print() says it. */
void settings_findings_print(FILE *f, const char *path, const FindingList *l, const Settings *s);

/* `validate --settings --json`: findings_to_json() plus "uploads":
 * {"configured","bucket","region","endpoint"}. Returns a new object or NULL (OOM). */
struct json_object *settings_findings_to_json(const char *path, const FindingList *l, const Settings *s);

/* Prints a JSON document on stdout: pretty (pretty) or as one line. */
void json_print(FILE *f, struct json_object *o, bool pretty);
