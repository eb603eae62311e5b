/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The list of findings (finding-list.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "finding-list.h"

void finding_list_done(FindingList *l) {
        if (!l)
                return;

        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].json_path);
                free(l->items[i].file);
                free(l->items[i].message);
        }
        free(l->items);
        *l = (FindingList) {};
}

static void finding_list_count(FindingList *l, FindingSeverity severity, int delta) {
        if (severity == FINDING_ERROR)
                l->n_errors += (size_t) delta;
        else
                l->n_warnings += (size_t) delta;
}

int finding_list_addv(FindingList *l, FindingSeverity severity, unsigned line, unsigned column,
                      const char *json_path, const char *file, const char *format, va_list ap) {
        _cleanup_(freep) char *message = NULL, *path_copy = NULL, *file_copy = NULL;
        Finding *items;

        if (!l || !format)
                return -EINVAL;

        if (l->n > SCRIPT_CONFIG_MAX_FINDINGS) {
                /* Already capped: the marker entry turns into an error if an error was left out,
                 * so a list that had errors never reads as "valid". */
                Finding *marker = &l->items[l->n - 1];

                if (severity == FINDING_ERROR && marker->severity != FINDING_ERROR) {
                        finding_list_count(l, marker->severity, -1);
                        marker->severity = FINDING_ERROR;
                        finding_list_count(l, FINDING_ERROR, +1);
                }
                return 0;
        }

        if (l->n == SCRIPT_CONFIG_MAX_FINDINGS) {
                if (asprintf(&message, "More than %u findings; the rest are not shown",
                             SCRIPT_CONFIG_MAX_FINDINGS) < 0)
                        return -ENOMEM;
                line = column = 0;
                json_path = "";
                file = NULL;
        } else if (vasprintf(&message, format, ap) < 0)
                return -ENOMEM;

        path_copy = strdup(json_path ?: "");
        if (!path_copy)
                return -ENOMEM;
        if (file) {
                file_copy = strdup(file);
                if (!file_copy)
                        return -ENOMEM;
        }

        items = reallocarray(l->items, l->n + 1, sizeof(Finding));
        if (!items)
                return -ENOMEM;
        l->items = items;

        l->items[l->n++] = (Finding) {
                .severity = severity,
                .line = line,
                .column = column,
                .json_path = TAKE_PTR(path_copy),
                .file = TAKE_PTR(file_copy),
                .message = TAKE_PTR(message),
        };
        finding_list_count(l, severity, +1);
        return 0;
}

int finding_list_add(FindingList *l, FindingSeverity severity, unsigned line, unsigned column,
                     const char *json_path, const char *file, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = finding_list_addv(l, severity, line, column, json_path, file, format, ap);
        va_end(ap);
        return r;
}

/* Orders findings by position; ties keep the order of insertion. */
typedef struct IndexedFinding {
        Finding f;
        size_t seq;
} IndexedFinding;

static int indexed_finding_compare(const void *a, const void *b) {
        const IndexedFinding *x = a, *y = b;

        if (x->f.line != y->f.line)
                return x->f.line < y->f.line ? -1 : 1;
        if (x->f.column != y->f.column)
                return x->f.column < y->f.column ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int finding_list_sort_from(FindingList *l, size_t first) {
        _cleanup_(freep) IndexedFinding *tmp = NULL;
        size_t n, n_sorted;

        if (l->n <= first + 1)
                return 0;

        /* The "more findings" marker stays last. */
        n_sorted = l->n > SCRIPT_CONFIG_MAX_FINDINGS ? l->n - 1 : l->n;
        if (n_sorted <= first + 1)
                return 0;
        n = n_sorted - first;

        tmp = calloc(n, sizeof(IndexedFinding));
        if (!tmp)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                tmp[i] = (IndexedFinding) { .f = l->items[first + i], .seq = i };
        qsort(tmp, n, sizeof(IndexedFinding), indexed_finding_compare);
        for (size_t i = 0; i < n; i++)
                l->items[first + i] = tmp[i].f;
        return 0;
}
