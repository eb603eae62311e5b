/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scope-bound cleanup in the style of systemd: _cleanup_(fn) runs fn(&var) when var goes out of
 * scope; TAKE_PTR()/TAKE_FD() hand ownership on and leave NULL/-EBADF behind so the cleanup
 * does nothing. Every destructor here accepts NULL (or a negative fd).
 *
 * For libsystemd objects use its own exported sd_*_unrefp (sd_bus_unrefp, sd_event_unrefp, …).
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#include "macro.h"

#define _cleanup_(f) __attribute__((__cleanup__(f)))

/* Returns the value of x and sets x to its "empty" value, without evaluating x twice. */
#define TAKE_GENERIC(var, type, nullvalue)                      \
        ({                                                      \
                type *_pvar_ = &(var);                          \
                type _var_ = *_pvar_;                           \
                type _nullvalue_ = nullvalue;                   \
                *_pvar_ = _nullvalue_;                          \
                _var_;                                          \
        })
#define TAKE_PTR(ptr) TAKE_GENERIC(ptr, typeof(ptr), NULL)
#define TAKE_FD(fd) TAKE_GENERIC(fd, int, -EBADF)

/* Defines static inline void name(type *p) that calls func(*p) when *p is not NULL. */
#define DEFINE_POINTER_CLEANUP_FUNC(type, func, name)   \
        static inline void name(type *p) {              \
                if (*p)                                 \
                        func(*p);                       \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}

/* Frees a NULL-terminated array of strings and the array. */
static inline void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}
DEFINE_POINTER_CLEANUP_FUNC(char **, strv_free, strv_freep);

/* Number of entries of a NULL-terminated array of strings; 0 for NULL. */
static inline size_t strv_length(char * const *l) {
        size_t n = 0;

        for (; l && *l; l++)
                n++;
        return n;
}

/* Closes fd unless it is negative; keeps errno as it was (close() in cleanup must not clobber it). */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved_errno = errno;
                (void) close(fd);
                errno = saved_errno;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}

static inline void close_pairp(int (*pair)[2]) {
        (*pair)[0] = safe_close((*pair)[0]);
        (*pair)[1] = safe_close((*pair)[1]);
}

DEFINE_POINTER_CLEANUP_FUNC(FILE *, fclose, fclosep);
DEFINE_POINTER_CLEANUP_FUNC(DIR *, closedir, closedirp);

/* json-c: json_object_put() accepts NULL already; curl's cleanups as well. The wrappers are
 * defined next to their users (lib/json-util.h, upload/) so this header needs neither library. */
