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

#include "log.h"
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

/* The most fields run_fields_list() gives. */
#define RUN_FIELDS_LIST_MAX 6

/* Points ret at the "NAME=value" fields of f that name the run in the daemon's own messages
 * (session, event, context, user, executable, and the unit once it was asked for). Returns how many
 * (0 for NULL). The strings are owned by f. */
size_t run_fields_list(const RunFields *f, const char *ret[static RUN_FIELDS_LIST_MAX]);

/* Logs a message about a run through lib/log/log.h with the run's fields (f may be NULL: then
 * without them). error is 0 or an errno value "%m" refers to. Returns -abs(error), for
 * `return run_log(...)`. */
#define run_log(f, priority, error, ...)                                                        \
        ({                                                                                      \
                const char *_run_fields_[RUN_FIELDS_LIST_MAX];                                  \
                size_t _n_run_fields_ = run_fields_list((f), _run_fields_);                     \
                log_internal((priority), (error), __FILE__, __LINE__, __func__, _run_fields_,   \
                             _n_run_fields_, __VA_ARGS__);                                      \
        })
