/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Output helpers and formatters of the command line tool; see format.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "format.h"
#include "json-util.h"
#include "session-scripts/session-scripts.h"
#include "time-util.h"
#include "utf8.h"
#include "verbs.h"


/* Room for a session id on screen (the daemon bounds ids to 64 characters). */
#define SESSION_ID_TEXT_MAX 256

/* A bounded line of script output on screen (the daemon bounds lines too). */
#define LINE_SCREEN_MAX 16384

/* errno_saved: errno at the caller's call, for %m (the prefix may change errno). */
static void message_print(bool prefix, const char *verb, int errno_saved, const char *format, va_list ap) {
        if (prefix)
                fprintf(stderr, "%s%s%s: ", program_name, verb ? " " : "", verb ?: "");
        errno = errno_saved;
        vfprintf(stderr, format, ap);
        fputc('\n', stderr);
}

int cli_error(const char *verb, int exit_status, const char *format, ...) {
        int errno_saved = errno;
        va_list ap;

        va_start(ap, format);
        message_print(true, verb, errno_saved, format, ap);
        va_end(ap);
        return exit_status;
}

int cli_oom(const char *verb) {
        return cli_error(verb, EXIT_USAGE, "out of memory");
}

void cli_notice(const char *format, ...) {
        int errno_saved = errno;
        va_list ap;

        va_start(ap, format);
        message_print(false, NULL, errno_saved, format, ap);
        va_end(ap);
}

int reasonf(char *reason, size_t size, int r, const char *format, ...) {
        va_list ap;

        if (reason && size > 0) {
                va_start(ap, format);
                (void) vsnprintf(reason, size, format, ap);
                va_end(ap);
        }
        return r;
}

/* A boolean of SYSTEMD_COLORS: 1 on, 0 off, -1 not a boolean (unset or a value we do not know). */
static int systemd_colors_parse(const char *s) {
        static const char *const on[] = { "1", "yes", "y", "true", "t", "on", "16", "256", "24bit" };
        static const char *const off[] = { "0", "no", "n", "false", "f", "off" };

        if (!s)
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(on); i++)
                if (strcasecmp(s, on[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(off); i++)
                if (strcasecmp(s, off[i]) == 0)
                        return 0;
        return -1;
}

bool color_decide(bool is_tty, const char *no_color, const char *systemd_colors, const char *term) {
        int b = systemd_colors_parse(systemd_colors);

        if (b >= 0)
                return b;
        if (no_color)
                return false;
        return is_tty && !(term && strcmp(term, "dumb") == 0);
}

static bool colors_decide_fd(int fd) {
        return color_decide(fd >= 0 && isatty(fd), getenv("NO_COLOR"), getenv("SYSTEMD_COLORS"),
                            getenv("TERM"));
}

bool colors_enabled_for(FILE *f) {
        /* Cached for the two standard streams: they do not change while we run. */
        static int cached[3] = { -1, -1, -1 };
        int fd = f ? fileno(f) : -1;

        if (fd == STDOUT_FILENO || fd == STDERR_FILENO) {
                if (cached[fd] < 0)
                        cached[fd] = colors_decide_fd(fd);
                return cached[fd];
        }
        return colors_decide_fd(fd);
}

const char *color_for(FILE *f, const char *ansi) {
        return colors_enabled_for(f) ? ansi : "";
}

bool colors_enabled(void) {
        return colors_enabled_for(stdout);
}

bool progress_enabled(void) {
        static int cached = -1;

        if (cached < 0) {
                const char *term = getenv("TERM");
                cached = isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);
        }
        return cached;
}

void progress_show(const char *text) {
        if (!progress_enabled())
                return;
        /* \r + "erase line": the progress line never mixes with real output. */
        fprintf(stderr, "\r\x1b[K%s", text ?: "");
        fflush(stderr);
}

char *progress_format(char *buf, size_t size, const char *what, const char *detail, uint64_t elapsed_usec) {
        snprintf(buf, size, "%s… %s%s%" PRIu64 "s", what, detail ?: "", detail ? ", " : "",
                 elapsed_usec / USEC_PER_SEC);
        return buf;
}

void progress_begin(Progress *p, const char *what) {
        *p = (Progress) { .what = what, .start_usec = now(CLOCK_MONOTONIC) };
}

void progress_update(Progress *p, const char *detail) {
        usec_t n;
        char text[256];

        if (!p->what || !progress_enabled())
                return;
        n = now(CLOCK_MONOTONIC);
        if (n - p->start_usec < PROGRESS_DELAY_USEC ||
            (p->shown_usec > 0 && n - p->shown_usec < PROGRESS_REFRESH_USEC))
                return;
        progress_format(text, sizeof text, p->what, detail, n - p->start_usec);
        if (p->shown_usec > 0 && strcmp(text, p->shown) == 0)
                return;
        progress_show(text);
        p->shown_usec = n;
        snprintf(p->shown, sizeof p->shown, "%s", text);
}

void progress_end(Progress *p) {
        if (p->shown_usec > 0)
                progress_show(NULL);
        p->shown_usec = 0;
}

char *format_duration(char *buf, size_t size, uint64_t usec) {
        if (usec < USEC_PER_SEC)
                snprintf(buf, size, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
        else if (usec < USEC_PER_MINUTE)
                snprintf(buf, size, "%" PRIu64 ".%02" PRIu64 "s", usec / USEC_PER_SEC,
                         (usec % USEC_PER_SEC) / (10 * USEC_PER_MSEC));
        else if (usec < USEC_PER_HOUR)
                snprintf(buf, size, "%" PRIu64 "min %" PRIu64 "s", usec / USEC_PER_MINUTE,
                         (usec % USEC_PER_MINUTE) / USEC_PER_SEC);
        else if (usec < USEC_PER_DAY)
                snprintf(buf, size, "%" PRIu64 "h %" PRIu64 "min", usec / USEC_PER_HOUR,
                         (usec % USEC_PER_HOUR) / USEC_PER_MINUTE);
        else
                snprintf(buf, size, "%" PRIu64 "d %" PRIu64 "h", usec / USEC_PER_DAY,
                         (usec % USEC_PER_DAY) / USEC_PER_HOUR);
        return buf;
}

char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
        double v = (double) bytes;
        size_t i = 0;

        if (bytes < 1024) {
                snprintf(buf, size, "%" PRIu64 " B", bytes);
                return buf;
        }
        v /= 1024.0;
        while (v >= 1024.0 && i + 1 < ELEMENTSOF(units)) {
                v /= 1024.0;
                i++;
        }
        snprintf(buf, size, "%.1f %s", v, units[i]);
        return buf;
}

char *format_timestamp(char *buf, size_t size, uint64_t realtime_usec) {
        time_t t = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;

        if (realtime_usec == 0 || !localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
        return buf;
}

char *format_timestamp_utc(char *buf, size_t size, uint64_t realtime_usec) {
        time_t t = (time_t) (realtime_usec / USEC_PER_SEC);
        char base[32];
        struct tm tm;

        if (realtime_usec == 0 || !gmtime_r(&t, &tm) || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                snprintf(buf, size, "%s", "");
        else
                snprintf(buf, size, "%s.%06" PRIu64 "Z", base, realtime_usec % USEC_PER_SEC);
        return buf;
}

char *text_sanitize(char *dst, size_t size, const char *src, size_t len) {
        /* C1 controls (U+0080…U+009F) too: some terminals act on them. */
        (void) utf8_sanitize_copy(dst, size, src, len,
                                  UTF8_REPLACE_FFFD | UTF8_REPLACE_CONTROL | UTF8_CONTROL_KEEP_TAB |
                                  UTF8_CONTROL_C1);
        return dst;
}

void run_info_done(RunInfo *r) {
        if (!r)
                return;
        free(r->event);
        free(r->context);
        free(r->unit);
        free(r->executable);
        free(r->result);
        *r = (RunInfo) {};
}

void session_infos_free(SessionInfo *s, size_t n) {
        if (!s)
                return;
        for (size_t i = 0; i < n; i++) {
                free(s[i].id);
                free(s[i].user);
                free(s[i].start_state);
                free(s[i].term_state);
                for (size_t k = 0; k < s[i].n_runs; k++)
                        run_info_done(&s[i].runs[k]);
                free(s[i].runs);
        }
        free(s);
}

bool run_info_succeeded(const RunInfo *r) {
        return r->result && strcmp(r->result, "success") == 0;
}

char *format_run_result(char *buf, size_t size, const RunInfo *r) {
        const char *res = r->result ?: "";

        if (strcmp(res, "success") == 0)
                snprintf(buf, size, "success");
        else if (strcmp(res, "exit-code") == 0)
                snprintf(buf, size, "exit status %" PRIu64, r->exit_status);
        else if (strcmp(res, "signal") == 0) {
                const char *name = r->signal > 0 ? sigabbrev_np(r->signal) : NULL;
                if (name)
                        snprintf(buf, size, "killed by SIG%s", name);
                else
                        snprintf(buf, size, "killed by a signal");
        } else if (strcmp(res, "timeout") == 0)
                snprintf(buf, size, "timed out");
        else if (strcmp(res, "tampered") == 0)
                snprintf(buf, size, "skipped: modified after provisioning");
        else if (strcmp(res, "failed") == 0)
                snprintf(buf, size, "could not be started");
        else if (strcmp(res, "running") == 0)
                snprintf(buf, size, "running");
        else
                snprintf(buf, size, "%s", res);
        return buf;
}

static const char *result_color(const RunInfo *r, bool colors) {
        if (!colors)
                return "";
        if (run_info_succeeded(r))
                return ANSI_GREEN;
        if (r->result && strcmp(r->result, "running") == 0)
                return ANSI_YELLOW;
        return ANSI_RED;
}

void run_infos_print(FILE *f, const RunInfo *runs, size_t n, bool colors) {
        for (size_t i = 0; i < n; i++) {
                const RunInfo *r = &runs[i];
                char res[128], dur[32], what[64], exe[512];

                snprintf(what, sizeof what, "%s/%s", r->event ?: "?", r->context ?: "?");
                text_sanitize(exe, sizeof exe, r->executable ?: "", strlen(r->executable ?: ""));
                format_run_result(res, sizeof res, r);
                if (r->result && strcmp(r->result, "running") == 0)
                        snprintf(dur, sizeof dur, "-");
                else
                        format_duration(dur, sizeof dur, r->duration_usec);
                fprintf(f, "  %-29s %s  %s%s%s  %s\n", what, exe, result_color(r, colors), res,
                        colors ? ANSI_NORMAL : "", dur);
        }
}

void sessions_print(FILE *f, const SessionInfo *s, size_t n, bool colors) {
        if (n == 0) {
                fprintf(f, "No sessions.\n");
                return;
        }
        fprintf(f, "%s%-36s %-16s %-19s %-8s %-11s%s\n", colors ? ANSI_BOLD : "", "SESSION", "USER", "SINCE",
                "START", "TERMINATION", colors ? ANSI_NORMAL : "");
        for (size_t i = 0; i < n; i++) {
                char since[64], id[SESSION_ID_TEXT_MAX], user[128];

                text_sanitize(id, sizeof id, s[i].id ?: "", strlen(s[i].id ?: ""));
                text_sanitize(user, sizeof user, s[i].user ?: "", strlen(s[i].user ?: ""));
                fprintf(f, "%-36s %-16s %-19s %-8s %-11s\n", id, user,
                        format_timestamp(since, sizeof since, s[i].since_usec), s[i].start_state ?: "?",
                        s[i].term_state ?: "?");
                run_infos_print(f, s[i].runs, s[i].n_runs, colors);
        }
        fprintf(f, "\n%zu session%s.\n", n, n == 1 ? "" : "s");
}

struct json_object *json_string_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

struct json_object *json_timestamp_or_null(usec_t realtime_usec) {
        char ts[64];

        return realtime_usec > 0 ?
                json_object_new_string(format_timestamp_utc(ts, sizeof ts, realtime_usec)) : NULL;
}

struct json_object *run_info_to_json(const RunInfo *r) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "event", json_string_or_null(r->event));
        json_object_object_add(o, "context", json_string_or_null(r->context));
        json_object_object_add(o, "unit", r->unit && r->unit[0] ? json_object_new_string(r->unit) : NULL);
        json_object_object_add(o, "executable", json_string_or_null(r->executable));
        json_object_object_add(o, "result", json_string_or_null(r->result));
        json_object_object_add(o, "exit_status", json_object_new_int64((int64_t) r->exit_status));
        json_object_object_add(o, "signal", json_object_new_int(r->signal));
        json_object_object_add(o, "duration_usec", json_object_new_int64((int64_t) r->duration_usec));
        json_object_object_add(o, "success", json_object_new_boolean(run_info_succeeded(r)));
        return o;
}

struct json_object *sessions_to_json(const SessionInfo *s, size_t n) {
        _cleanup_(json_object_putp) struct json_object *arr = json_object_new_array();

        if (!arr)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                struct json_object *o = json_object_new_object(), *runs = json_object_new_array();
                char ts[64];

                if (!o || !runs) {
                        json_object_put(o);
                        json_object_put(runs);
                        return NULL;
                }
                json_object_object_add(o, "id", json_string_or_null(s[i].id));
                json_object_object_add(o, "user", json_string_or_null(s[i].user));
                json_object_object_add(o, "uid", json_object_new_int64(s[i].uid));
                json_object_object_add(o, "since", json_object_new_string(
                                                           format_timestamp_utc(ts, sizeof ts, s[i].since_usec)));
                json_object_object_add(o, "since_usec", json_object_new_int64((int64_t) s[i].since_usec));
                json_object_object_add(o, "start_state", json_string_or_null(s[i].start_state));
                json_object_object_add(o, "termination_state", json_string_or_null(s[i].term_state));
                for (size_t k = 0; k < s[i].n_runs; k++)
                        json_object_array_add(runs, run_info_to_json(&s[i].runs[k]));
                json_object_object_add(o, "runs", runs);
                json_object_array_add(arr, o);
        }
        return TAKE_PTR(arr);
}

void log_entry_done(LogEntry *e) {
        if (!e)
                return;
        free(e->session_id);
        free(e->event);
        free(e->context);
        free(e->stream);
        free(e->result);
        free(e->message_id);
        free(e->message);
        *e = (LogEntry) {};
}

void log_entry_print(FILE *f, const LogEntry *e, bool show_session, bool colors) {
        _cleanup_(freep) char *text = malloc(LINE_SCREEN_MAX);
        char ts[64], sid[SESSION_ID_TEXT_MAX], what[96];
        const char *tag = "", *on = "", *off = colors ? ANSI_NORMAL : "";
        bool is_stderr = e->stream && strcmp(e->stream, "stderr") == 0;

        if (!text)
                return;
        text_sanitize(text, LINE_SCREEN_MAX, e->message ?: "", e->message ? e->message_len : 0);
        format_timestamp(ts, sizeof ts, e->realtime_usec);
        text_sanitize(sid, sizeof sid, e->session_id ?: "-", strlen(e->session_id ?: "-"));
        if (e->event) {
                char ev[48], cx[24];
                text_sanitize(ev, sizeof ev, e->event, strlen(e->event));
                text_sanitize(cx, sizeof cx, e->context ?: "?", strlen(e->context ?: "?"));
                snprintf(what, sizeof what, "%s/%s", ev, cx);
        } else
                snprintf(what, sizeof what, "session");

        if (is_stderr) {
                tag = " [stderr]";
                on = colors ? ANSI_RED : "";
        } else if (e->result) {
                tag = " [result]";
                on = colors ? (strcmp(e->result, "success") == 0 ? ANSI_GREEN : ANSI_RED) : "";
        } else if (!e->stream)
                on = colors ? ANSI_GREY : "";
        if (!*on)
                off = "";

        fprintf(f, "%s %s%s%s%s: %s%s%s\n", ts, show_session ? sid : "", show_session ? " " : "", what, tag, on,
                text, off);
}

struct json_object *log_entry_to_json(const LogEntry *e) {
        _cleanup_(freep) char *text = malloc(LINE_SCREEN_MAX);
        struct json_object *o;
        char ts[64];

        if (!text)
                return NULL;
        o = json_object_new_object();
        if (!o)
                return NULL;
        /* JSON keeps the control characters (json-c escapes them); only invalid UTF-8 is replaced. */
        (void) utf8_sanitize_copy(text, LINE_SCREEN_MAX, e->message ?: "", e->message ? e->message_len : 0,
                                  UTF8_REPLACE_FFFD);
        json_object_object_add(o, "time",
                               json_object_new_string(format_timestamp_utc(ts, sizeof ts, e->realtime_usec)));
        json_object_object_add(o, "time_usec", json_object_new_int64((int64_t) e->realtime_usec));
        json_object_object_add(o, "session_id", json_string_or_null(e->session_id));
        json_object_object_add(o, "event", json_string_or_null(e->event));
        json_object_object_add(o, "context", json_string_or_null(e->context));
        json_object_object_add(o, "stream", json_string_or_null(e->stream));
        json_object_object_add(o, "result", json_string_or_null(e->result));
        json_object_object_add(o, "message", json_object_new_string(text));
        return o;
}

struct json_object *finding_to_json(const Finding *f) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "severity",
                               json_object_new_string(f->severity == FINDING_ERROR ? "error" : "warning"));
        json_object_object_add(o, "line", json_object_new_int64(f->line));
        json_object_object_add(o, "column", json_object_new_int64(f->column));
        json_object_object_add(o, "path", json_object_new_string(f->json_path ?: ""));
        json_object_object_add(o, "file", f->file ? json_object_new_string(f->file) : NULL);
        json_object_object_add(o, "message", json_object_new_string(f->message ?: ""));
        return o;
}

void finding_print(FILE *out, const char *config_path, const Finding *f) {
        const char *sev = f->severity == FINDING_ERROR ? "error" : "warning";
        bool has_path = f->json_path && f->json_path[0];

        if (f->line > 0)
                fprintf(out, "%s:%u:%u: ", config_path, f->line, f->column);
        else
                fprintf(out, "%s: ", config_path);
        fprintf(out, "%s: %s%s%s%s\n", sev, f->message, has_path ? " [" : "", has_path ? f->json_path : "",
                has_path ? "]" : "");
}

char *run_progress_format(char *buf, size_t size, const char *event, usec_t elapsed_usec, usec_t max_usec) {
        char el[32], max[32];

        snprintf(buf, size, "Waiting for %s… %s elapsed (at most %s)", event,
                 format_duration(el, sizeof el, elapsed_usec / USEC_PER_SEC * USEC_PER_SEC),
                 format_duration(max, sizeof max, max_usec));
        return buf;
}

void run_header_print(FILE *f, const char *event, const char *user, const char *session_id) {
        fprintf(f, "%sRunning %s for user %s (session %s)…%s\n", color_for(f, ANSI_BOLD), event, user, session_id,
                color_for(f, ANSI_NORMAL));
}

void run_outcome_print(FILE *f, const char *event, const char *user, bool success, const char *message,
                       const RunInfo *runs, size_t n) {
        size_t k = 0;

        fprintf(f, "\n%s%s for user %s:%s\n", color_for(f, ANSI_BOLD), event, user, color_for(f, ANSI_NORMAL));
        for (size_t i = 0; i < n; i++)
                if (streq(runs[i].event, event)) {
                        run_infos_print(f, &runs[i], 1, colors_enabled_for(f));
                        k++;
                }
        if (k == 0)
                fprintf(f, "  (no executables configured for %s)\n", event);
        if (success)
                fprintf(f, "%sAll scripts succeeded.%s\n", color_for(f, ANSI_GREEN), color_for(f, ANSI_NORMAL));
        else
                fprintf(f, "%s%s%s\n", color_for(f, ANSI_RED), message && message[0] ? message :
                        "A script did not succeed.", color_for(f, ANSI_NORMAL));
}

struct json_object *run_outcome_to_json(const char *session_id, const char *event, const char *user, bool success,
                                        const char *message, const char *last_line, const RunInfo *runs, size_t n,
                                        struct json_object *output) {
        _cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
        struct json_object *arr = json_object_new_array();

        if (!doc || !arr) {
                json_object_put(arr);
                json_object_put(output);
                return NULL;
        }
        json_object_object_add(doc, "session_id", json_object_new_string(session_id));
        json_object_object_add(doc, "event", json_object_new_string(event));
        json_object_object_add(doc, "user", json_object_new_string(user));
        json_object_object_add(doc, "success", json_object_new_boolean(success));
        json_object_object_add(doc, "message", json_object_new_string(message ?: ""));
        json_object_object_add(doc, "last_line", json_object_new_string(last_line ?: ""));
        for (size_t i = 0; i < n; i++)
                if (streq(runs[i].event, event))
                        json_object_array_add(arr, run_info_to_json(&runs[i]));
        json_object_object_add(doc, "runs", arr);
        json_object_object_add(doc, "output", output);
        return TAKE_PTR(doc);
}

struct json_object *home_wait_to_json(const char *home, const char *file, bool mounted, usec_t waited_usec,
                                      unsigned timeout_sec) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "home", json_object_new_string(home));
        json_object_object_add(o, "file", json_object_new_string(file));
        json_object_object_add(o, "mounted", json_object_new_boolean(mounted));
        json_object_object_add(o, "waited_usec", json_object_new_int64((int64_t) waited_usec));
        json_object_object_add(o, "timeout_sec", json_object_new_int64(timeout_sec));
        return o;
}

static void verdict_print(FILE *f, const char *path, const FindingList *l) {
        fprintf(f, "%s: %s (%zu error%s, %zu warning%s)\n", path, l->n_errors > 0 ? "invalid" : "valid",
                l->n_errors, l->n_errors == 1 ? "" : "s", l->n_warnings, l->n_warnings == 1 ? "" : "s");
}

void findings_print(FILE *f, const char *path, const FindingList *l) {
        for (size_t i = 0; i < l->n; i++)
                finding_print(f, path, &l->items[i]);
        verdict_print(f, path, l);
}

struct json_object *findings_to_json(const char *path, const FindingList *l) {
        _cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
        struct json_object *arr = json_object_new_array();

        if (!doc || !arr) {
                json_object_put(arr);
                return NULL;
        }
        json_object_object_add(doc, "path", json_object_new_string(path));
        json_object_object_add(doc, "valid", json_object_new_boolean(l->n_errors == 0));
        json_object_object_add(doc, "errors", json_object_new_int64((int64_t) l->n_errors));
        json_object_object_add(doc, "warnings", json_object_new_int64((int64_t) l->n_warnings));
        json_object_object_add(doc, "findings", arr);
        for (size_t i = 0; i < l->n; i++) {
                struct json_object *o = finding_to_json(&l->items[i]);

                if (!o || json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        return NULL;
                }
        }
        return TAKE_PTR(doc);
}

void settings_findings_print(FILE *f, const char *path, const FindingList *l, const Settings *s) {
        for (size_t i = 0; i < l->n; i++) {
                const Finding *p = &l->items[i];

                if (p->line > 0)
                        fprintf(f, "%s:%u: ", p->file ?: path, p->line);
                else
                        fprintf(f, "%s: ", p->file ?: path);
                fprintf(f, "%s: %s\n", p->severity == FINDING_ERROR ? "error" : "warning", p->message);
        }
        if (s->bucket)
                fprintf(f, "%s: uploads to s3://%s/ (Region=%s%s%s)\n", path, s->bucket, s->region,
                        s->endpoint ? ", Endpoint=" : "", s->endpoint ?: "");
        verdict_print(f, path, l);
}

struct json_object *settings_findings_to_json(const char *path, const FindingList *l, const Settings *s) {
        _cleanup_(json_object_putp) struct json_object *doc = findings_to_json(path, l);
        struct json_object *up = json_object_new_object();

        if (!doc || !up) {
                json_object_put(up);
                return NULL;
        }
        json_object_object_add(up, "configured", json_object_new_boolean(s->bucket != NULL));
        json_object_object_add(up, "bucket", json_string_or_null(s->bucket));
        json_object_object_add(up, "region", json_object_new_string(s->region));
        json_object_object_add(up, "endpoint", json_string_or_null(s->endpoint));
        json_object_object_add(doc, "uploads", up);
        return TAKE_PTR(doc);
}

void json_print(FILE *f, struct json_object *o, bool pretty) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

        flags |= pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
        fprintf(f, "%s\n", json_object_to_json_string_ext(o, flags));
}
