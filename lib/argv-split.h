/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Word splitting of the "arguments" value of config.json (docs/behaviour.md §2): pure, no I/O.
 */
#pragma once

#include <stddef.h>

/*
 * Splits an `arguments` string into words like a POSIX shell: blanks separate words; '…' keeps
 * everything literally; "…" keeps everything but lets \ escape $ ` " \ and newline; outside
 * quotes \ escapes the next character. No expansion of any kind. On success returns 0 and a
 * NULL-terminated array in *ret (possibly empty). Returns -EINVAL on an unbalanced quote or a
 * trailing lone backslash, with *ret_error_offset (if non-NULL) set to the byte offset of the
 * opening quote (or the backslash). -ENOMEM on allocation failure.
 */
int argv_split(const char *s, char ***ret, size_t *ret_error_offset);
