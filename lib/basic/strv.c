/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Arrays of strings (strv.h). */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strv.h"

char **strv_copy(char * const *l) {
        size_t n = strv_length(l);
        char **c;

        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i]) {
                        strv_free(c);
                        return NULL;
                }
        }
        return c;
}

/* Appends s, taking ownership of it on success only. */
static int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **c;

        c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c)
                return -ENOMEM;
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        _cleanup_(freep) char *c = NULL;
        int r;

        c = strdup(s);
        if (!c)
                return -ENOMEM;
        r = strv_consume(l, c);
        if (r < 0)
                return r;
        TAKE_PTR(c);
        return 0;
}

int strv_extendf(char ***l, const char *format, ...) {
        _cleanup_(freep) char *c = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&c, format, ap);
        va_end(ap);
        if (r < 0) {
                c = NULL;
                return -ENOMEM;
        }
        r = strv_consume(l, c);
        if (r < 0)
                return r;
        TAKE_PTR(c);
        return 0;
}
