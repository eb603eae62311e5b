/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging of the daemons (session-scriptsd, session-scripts-upload): every message goes to the
 * journal with its priority, the source location (CODE_FILE, CODE_LINE, CODE_FUNC) and, for the
 * *_errno() variants, ERRNO=; when log_to_stderr is set (a terminal, a test run) messages up to
 * LOG_INFO are copied to stderr as well. The *_errno() variants set errno from the error code so
 * "%m" works, and return the (negative) error, so "log where handled, return in one expression" reads
 *
 *         return log_error_errno(r, "Failed to load sessions: %m");
 *
 * Structured messages carry extra journal fields, each a complete "NAME=value" string (names from
 * include/session-scripts/session-scripts.h); NULL entries are skipped, so optional fields need no
 * branches at the call site:
 *
 *         log_struct(LOG_WARNING,
 *                    LOG_FIELDS(LOG_MESSAGE_ID(SESSION_SCRIPTS_MESSAGE_SPOOL_EVICTED), key_field),
 *                    "Evicted %s.", run_id);
 *
 * (a field array built at run time goes straight to log_internal(), as run_log() does). Not for
 * programs that are not daemons (the CLI prints to its terminal), nor for libraries (they return
 * errors and let the caller log).
 */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "macro.h"

/* Whether messages are copied to stderr (set once by main(), e.g. when stderr is a terminal). */
extern bool log_to_stderr;

/* SYSLOG_IDENTIFIER= of every message (set once by main(); NULL: none). journald does not fill it
 * in for messages sent over its native protocol, and `journalctl -t NAME` matches it. */
extern const char *log_identifier;

/* Logs a message at priority (LOG_ERR, …) with n_fields extra journal fields ("NAME=value", NULL
 * entries skipped; fields may be NULL when n_fields is 0). error is 0 or an errno value (sign
 * ignored) that "%m" refers to. Sets errno to abs(error) and returns -abs(error). */
int log_internal(int priority, int error, const char *file, int line, const char *func,
                 const char * const *fields, size_t n_fields, const char *format, ...)
        __attribute__((format(printf, 8, 9)));

/* The extra fields of a structured message: a list of "NAME=value" expressions. */
#define LOG_FIELDS(...)                                                 \
        ((const char * const[]) { __VA_ARGS__ }),                       \
        ELEMENTSOF(((const char * const[]) { __VA_ARGS__ }))
#define LOG_NO_FIELDS NULL, 0
/* The MESSAGE_ID= field of a catalog message, from an id given as a string literal. */
#define LOG_MESSAGE_ID(id) ("MESSAGE_ID=" id)

#define log_struct_errno(priority, error, fields, ...) \
        log_internal((priority), (error), __FILE__, __LINE__, __func__, fields, __VA_ARGS__)
#define log_struct(priority, fields, ...) ((void) log_struct_errno((priority), 0, fields, __VA_ARGS__))

#define log_full_errno(priority, error, ...) \
        log_struct_errno((priority), (error), LOG_NO_FIELDS, __VA_ARGS__)

#define log_debug(...) ((void) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__))
#define log_info(...) ((void) log_full_errno(LOG_INFO, 0, __VA_ARGS__))
#define log_notice(...) ((void) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__))
#define log_warning(...) ((void) log_full_errno(LOG_WARNING, 0, __VA_ARGS__))
#define log_error(...) ((void) log_full_errno(LOG_ERR, 0, __VA_ARGS__))

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_notice_errno(error, ...) log_full_errno(LOG_NOTICE, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
