/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small macros every part of the tree uses. Header-only, libc only (lib/basic/ is the
 * dependency-free base: see lib/basic/meson.build).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Names unique per expansion, so that MIN(MIN(a, b), c) does not shadow its own temporaries. */
#define XCONCATENATE(x, y) x##y
#define CONCATENATE(x, y) XCONCATENATE(x, y)
#define UNIQ_T(x, uniq) CONCATENATE(_uniq_, CONCATENATE(x, uniq))

/* Each argument is evaluated once; both must have compatible types. */
#define MIN(a, b) MIN_UNIQ(__COUNTER__, (a), (b))
#define MIN_UNIQ(q, a, b)                                                               \
        ({                                                                              \
                const __typeof__(a) UNIQ_T(A, q) = (a);                                 \
                const __typeof__(b) UNIQ_T(B, q) = (b);                                 \
                UNIQ_T(A, q) < UNIQ_T(B, q) ? UNIQ_T(A, q) : UNIQ_T(B, q);              \
        })
#define MAX(a, b) MAX_UNIQ(__COUNTER__, (a), (b))
#define MAX_UNIQ(q, a, b)                                                               \
        ({                                                                              \
                const __typeof__(a) UNIQ_T(A, q) = (a);                                 \
                const __typeof__(b) UNIQ_T(B, q) = (b);                                 \
                UNIQ_T(A, q) > UNIQ_T(B, q) ? UNIQ_T(A, q) : UNIQ_T(B, q);              \
        })

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

/* Like streq(), but NULL equals NULL and nothing else. */
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

/* Returns the part of s after prefix, or NULL when s does not start with prefix. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);

        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* A macro's value as a string literal: STRINGIFY(512) is "512". */
#define XSTRINGIFY(x) #x
#define STRINGIFY(x) XSTRINGIFY(x)
