/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a run writes to the journal (docs/behaviour.md §4): every entry carries the run's fields
 * (SESSION_SCRIPTS_SESSION_ID, _EVENT, _CONTEXT, _USER, _EXECUTABLE and, once there is a scope,
 * _UNIT), so that `journalctl SESSION_SCRIPTS_SESSION_ID=…` shows all of a session. Three kinds:
 * one entry per line of script output (run_journal_line(), SYSLOG_IDENTIFIER the executable's
 * name, stderr at LOG_WARNING), the one summary entry per run (run_journal_summary()), and the
 * daemon's own messages about the run (run_log()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "runner.h"
#include "script-config.h"

/* The journal fields of one run, built once (values sanitized: valid UTF-8, no control
 * characters, so that entries render). */
typedef struct RunFields {
        char *session, *event, *context, *user, *exe, *unit, *ident;
        /* "MESSAGE=" followed by room for OUTPUT_LINE_MAX bytes: the buffer of output lines. */
        char *message;
        /* Whether run_log() names the unit: only once the scope was asked for (it may never be). */
        bool unit_known;
} RunFields;

/* Builds the fields. On failure the fields built so far are left for run_fields_done(). Returns 0
 * or -ENOMEM. */
int run_fields_init(RunFields *f, const char *session_id, ScriptEvent event, ScriptContext context,
                    const char *user, const char *executable, const char *unit);
void run_fields_done(RunFields *f);

/* One line of output (any bytes: NULs, '%' and invalid UTF-8 are fine), at most OUTPUT_LINE_MAX. */
void run_journal_line(RunFields *f, bool is_stderr, const char *line, size_t len);

/* The summary entry of a run with result res (MESSAGE_ID SESSION_SCRIPTS_MESSAGE_RUN_FINISHED, or
 * _RUN_TAMPERED with SESSION_SCRIPTS_TAMPERED_TEXT as its message). */
void run_journal_summary(const RunFields *f, const RunResult *res, const char *executable, const char *user,
                         ScriptEvent event, ScriptContext context, unsigned waiting_time_sec);

/* Logs a message about a run with its fields (f may be NULL: then without them). A thin wrapper
 * in the manner of daemon/log.h: error is 0 or an errno value "%m" refers to; copied to stderr
 * when log_to_stderr is set. Returns -abs(error), for `return run_log(...)`. */
int run_log(const RunFields *f, int priority, int error, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
