/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging of session-scriptsd: every message goes to the journal (sd_journal_print) with its
 * priority and the source location, and — when the daemon runs in a terminal (tests, debugging)
 * — to stderr as well. The *_errno() variants set errno from the error code so "%m" works, and
 * return the (negative) error, so "log where handled, return in one expression" reads as
 *
 *         return log_error_errno(r, "Failed to load sessions: %m");
 */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

/* Whether messages are copied to stderr (set once by main() when stderr is a terminal). */
extern bool log_to_stderr;

/* Logs a message at priority (LOG_ERR, …). error is 0 or an errno value (sign ignored) that "%m"
 * refers to. Returns -abs(error). */
int log_internal(int priority, int error, const char *file, int line, const char *func, const char *format, ...)
        __attribute__((format(printf, 6, 7)));

#define log_full_errno(priority, error, ...) \
        log_internal((priority), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...) ((void) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__))
#define log_info(...) ((void) log_full_errno(LOG_INFO, 0, __VA_ARGS__))
#define log_notice(...) ((void) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__))
#define log_warning(...) ((void) log_full_errno(LOG_WARNING, 0, __VA_ARGS__))
#define log_error(...) ((void) log_full_errno(LOG_ERR, 0, __VA_ARGS__))

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
