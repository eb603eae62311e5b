/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal entries of a run (see run-journal.h). */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>

/* Script output lines carry our fields only, not CODE_FILE=run-journal.c and the like. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "cleanup.h"
#include "log.h"
#include "output.h"
#include "run-journal.h"
#include "session-scripts/session-scripts.h"
#include "time-util.h"

#define IOVEC_STR(s) ((struct iovec) { (void *) (s), strlen(s) })

int run_fields_init(RunFields *f, const char *session_id, ScriptEvent event, ScriptContext context,
                    const char *user, const char *executable, const char *unit) {
        char user_clean[256], exe[1024];
        const char *base;

        utf8_sanitize(user_clean, sizeof user_clean, user, strlen(user), true);
        utf8_sanitize(exe, sizeof exe, executable, strlen(executable), true);
        base = strrchr(exe, '/');
        base = base && base[1] ? base + 1 : exe;

        if (asprintf(&f->session, SESSION_SCRIPTS_FIELD_SESSION_ID "=%s", session_id) < 0 ||
            asprintf(&f->event, SESSION_SCRIPTS_FIELD_EVENT "=%s", script_event_to_string(event)) < 0 ||
            asprintf(&f->context, SESSION_SCRIPTS_FIELD_CONTEXT "=%s",
                     script_context_to_string(context)) < 0 ||
            asprintf(&f->user, SESSION_SCRIPTS_FIELD_USER "=%s", user_clean) < 0 ||
            asprintf(&f->exe, SESSION_SCRIPTS_FIELD_EXECUTABLE "=%s", exe) < 0 ||
            asprintf(&f->unit, SESSION_SCRIPTS_FIELD_UNIT "=%s", unit) < 0 ||
            asprintf(&f->ident, "SYSLOG_IDENTIFIER=%s", base) < 0)
                return -ENOMEM;

        f->message = malloc(strlen("MESSAGE=") + OUTPUT_LINE_MAX);
        if (!f->message)
                return -ENOMEM;
        memcpy(f->message, "MESSAGE=", strlen("MESSAGE="));
        return 0;
}

void run_fields_done(RunFields *f) {
        free(f->session);
        free(f->event);
        free(f->context);
        free(f->user);
        free(f->exe);
        free(f->unit);
        free(f->ident);
        free(f->message);
        *f = (RunFields) {};
}

/* The fields naming the run (not the unit), appended to iov at *n: 5 entries. */
static void run_fields_append(const RunFields *f, struct iovec *iov, size_t *n) {
        iov[(*n)++] = IOVEC_STR(f->session);
        iov[(*n)++] = IOVEC_STR(f->event);
        iov[(*n)++] = IOVEC_STR(f->context);
        iov[(*n)++] = IOVEC_STR(f->user);
        iov[(*n)++] = IOVEC_STR(f->exe);
}

void run_journal_line(RunFields *f, bool is_stderr, const char *line, size_t len) {
        static const char prio_out[] = "PRIORITY=6", prio_err[] = "PRIORITY=4";
        static const char stream_out[] = SESSION_SCRIPTS_FIELD_STREAM "=stdout",
                          stream_err[] = SESSION_SCRIPTS_FIELD_STREAM "=stderr";
        const size_t prefix = strlen("MESSAGE=");
        struct iovec iov[10];
        size_t n = 0;

        /* MESSAGE= is the line exactly as written: sd_journal_sendv() takes it as a byte string. */
        memcpy(f->message + prefix, line, len);
        iov[n++] = (struct iovec) { f->message, prefix + len };
        iov[n++] = is_stderr ? (struct iovec) { (void *) prio_err, sizeof prio_err - 1 }
                             : (struct iovec) { (void *) prio_out, sizeof prio_out - 1 };
        iov[n++] = is_stderr ? (struct iovec) { (void *) stream_err, sizeof stream_err - 1 }
                             : (struct iovec) { (void *) stream_out, sizeof stream_out - 1 };
        run_fields_append(f, iov, &n);
        iov[n++] = IOVEC_STR(f->unit);
        iov[n++] = IOVEC_STR(f->ident);

        (void) sd_journal_sendv(iov, (int) n);
}

static void format_duration(char *buf, size_t size, usec_t usec) {
        snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 "s", usec / USEC_PER_SEC,
                 (usec % USEC_PER_SEC) / USEC_PER_MSEC);
}

void run_journal_summary(const RunFields *f, const RunResult *res, const char *executable, const char *user,
                         ScriptEvent event, ScriptContext context, unsigned waiting_time_sec) {
        _cleanup_(freep) char *msg = NULL, *f_result = NULL, *f_detail = NULL, *f_duration = NULL;
        char duration[32], text[128], prio[16];
        struct iovec iov[14];
        const char *mid;
        size_t n = 0;
        int priority, r;

        format_duration(duration, sizeof duration, res->duration_usec);

        if (res->kind == RUN_RESULT_TAMPERED) {
                /* The sentence of docs/behaviour.md §3, exactly, as the message (and in the run's
                 * log). */
                r = asprintf(&msg, "MESSAGE=%s", SESSION_SCRIPTS_TAMPERED_TEXT);
                priority = LOG_ERR;
        } else {
                switch (res->kind) {
                case RUN_RESULT_SUCCESS:
                        snprintf(text, sizeof text, "exited successfully after %s", duration);
                        priority = LOG_INFO;
                        break;
                case RUN_RESULT_EXIT_CODE:
                        snprintf(text, sizeof text, "exited with status %i after %s", res->exit_status,
                                 duration);
                        priority = LOG_WARNING;
                        break;
                case RUN_RESULT_SIGNAL:
                        snprintf(text, sizeof text, "was killed by signal SIG%s after %s",
                                 sigabbrev_np(res->signal) ?: "?", duration);
                        priority = LOG_WARNING;
                        break;
                case RUN_RESULT_TIMEOUT:
                        snprintf(text, sizeof text,
                                 "was still running at the %us deadline and is being stopped",
                                 waiting_time_sec);
                        priority = LOG_WARNING;
                        break;
                default:
                        snprintf(text, sizeof text, "could not be started");
                        priority = LOG_ERR;
                        break;
                }
                r = asprintf(&msg, "MESSAGE=%s script %s (%s context) for %s %s%s%s.",
                             script_event_to_string(event), executable, script_context_to_string(context),
                             user, text, res->error ? ": " : "", res->error ?: "");
        }
        if (r < 0)
                return;

        if (asprintf(&f_result, SESSION_SCRIPTS_FIELD_RESULT "=%s", run_result_to_string(res->kind)) < 0 ||
            asprintf(&f_duration, SESSION_SCRIPTS_FIELD_DURATION_USEC "=%" PRIu64, res->duration_usec) < 0)
                return;
        if ((res->kind == RUN_RESULT_SUCCESS || res->kind == RUN_RESULT_EXIT_CODE) &&
            asprintf(&f_detail, SESSION_SCRIPTS_FIELD_EXIT_STATUS "=%i", res->exit_status) < 0)
                return;
        if (res->kind == RUN_RESULT_SIGNAL &&
            asprintf(&f_detail, SESSION_SCRIPTS_FIELD_SIGNAL "=%i", res->signal) < 0)
                return;

        snprintf(prio, sizeof prio, "PRIORITY=%i", priority);
        mid = res->kind == RUN_RESULT_TAMPERED ? "MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_RUN_TAMPERED
                                               : "MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_RUN_FINISHED;

        iov[n++] = IOVEC_STR(msg);
        iov[n++] = IOVEC_STR(mid);
        iov[n++] = IOVEC_STR(prio);
        iov[n++] = IOVEC_STR(f_result);
        iov[n++] = IOVEC_STR(f_duration);
        if (f_detail)
                iov[n++] = IOVEC_STR(f_detail);
        run_fields_append(f, iov, &n);
        if (res->unit)
                iov[n++] = IOVEC_STR(f->unit);

        (void) sd_journal_sendv(iov, (int) n);
}

size_t run_fields_list(const RunFields *f, const char *ret[static RUN_FIELDS_LIST_MAX]) {
        size_t n = 0;

        if (!f)
                return 0;
        ret[n++] = f->session;
        ret[n++] = f->event;
        ret[n++] = f->context;
        ret[n++] = f->user;
        ret[n++] = f->exe;
        if (f->unit_known)
                ret[n++] = f->unit;
        return n;
}
