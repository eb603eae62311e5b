/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Findings: the errors and warnings that the config.json parser and the file checks report, each
 * with the place it is about (line, column and JSON path in config.json, or the file concerned).
 * The CLI prints them and adds its own; the daemon logs them.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

typedef enum FindingSeverity {
        FINDING_WARNING,
        FINDING_ERROR,
} FindingSeverity;

typedef struct Finding {
        FindingSeverity severity;
        unsigned line;          /* 1-based; 0 when there is no position (config.json itself) */
        unsigned column;        /* 1-based, in characters (UTF-8 sequences count once) */
        char *json_path;        /* e.g. "SessionStart.executables[1].context", known keys in their
                                 * canonical spelling; "" for the document */
        char *file;             /* for file-security findings: the file concerned (an executable's
                                 * finding is positioned at its "filename" value); else NULL */
        char *message;          /* one sentence a person understands, no trailing period needed */
} Finding;

typedef struct FindingList {
        Finding *items;
        size_t n;
        size_t n_errors;
        size_t n_warnings;
} FindingList;

/* Frees the findings (not the list struct itself) and resets it to empty; accepts an empty list. */
void finding_list_done(FindingList *l);

/* At most this many findings are stored per list; one more entry then says that the rest were
 * left out (its severity is "error" when any left-out finding was an error). */
#define SCRIPT_CONFIG_MAX_FINDINGS 100U

/*
 * Appends a finding (message formatted printf-style; json_path and file may be NULL, meaning ""
 * and "no file"). Counts it in n_errors/n_warnings. Returns 0 or -ENOMEM; past
 * SCRIPT_CONFIG_MAX_FINDINGS the finding is not stored (see above) and 0 is returned.
 */
int finding_list_add(FindingList *l, FindingSeverity severity, unsigned line, unsigned column,
                     const char *json_path, const char *file, const char *format, ...)
        __attribute__((format(printf, 7, 8)));
int finding_list_addv(FindingList *l, FindingSeverity severity, unsigned line, unsigned column,
                      const char *json_path, const char *file, const char *format, va_list ap)
        __attribute__((format(printf, 7, 0)));

/* Orders the findings from index `first` on by line and column, keeping the order in which they
 * were added for equal positions; the "more findings" entry stays last. Returns 0 or -ENOMEM (the
 * list is then unchanged). */
int finding_list_sort_from(FindingList *l, size_t first);
