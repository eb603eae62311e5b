/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small allocation helpers (header only, libc only).
 */
#pragma once

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Frees p; returns NULL, for "p = mfree(p);". */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Frees p and moves q into it (q becomes NULL). */
#define free_and_replace(p, q)                  \
        do {                                    \
                free(p);                        \
                (p) = TAKE_PTR(q);              \
        } while (0)

/* strdup() that passes NULL through: NULL for NULL, else a copy or NULL on OOM (tell the two apart
 * by s). */
static inline char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}
