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

int strv_extendf(char ***l, const char *format, ...) {
        _cleanup_(freep) char *c = NULL;
        size_t n = strv_length(*l);
        va_list ap;
        char **a;
        int r;

        va_start(ap, format);
        r = vasprintf(&c, format, ap);
        va_end(ap);
        if (r < 0) {
                c = NULL;
                return -ENOMEM;
        }

        a = realloc(*l, (n + 2) * sizeof(char *));
        if (!a)
                return -ENOMEM;
        a[n] = TAKE_PTR(c);
        a[n + 1] = NULL;
        *l = a;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_extendf(l, "%s", s);
}
