/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NULL-terminated arrays of malloc'd strings ("strv"), as execve() takes them. strv_free() and
 * strv_length() are in cleanup.h. libc only (lib/basic/ is dependency-free).
 */
#pragma once

#include <stddef.h>

/* Returns a deep copy of l (an empty array for NULL), or NULL on allocation failure. */
char **strv_copy(char * const *l);

/* Appends a copy of s to *l (which may be NULL: a new array then). On failure *l is unchanged.
 * Returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);

/* Appends the formatted string to *l, like strv_extend(). Returns 0 or -ENOMEM. */
int strv_extendf(char ***l, const char *format, ...) __attribute__((format(printf, 2, 3)));
