/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a file that somebody else may have put where it is (a spool shared with another user, a
 * state or config file): the open, type and size checks that make the read safe, in one place.
 */
#pragma once

#include <stddef.h>

/*
 * Reads the regular file at path (relative to dir_fd, or AT_FDCWD) whole, at most max bytes, into a
 * new NUL-terminated buffer owned by the caller, and its length. Never follows a symlink in the
 * last component of path, never blocks on a FIFO or device, never acquires a controlling terminal.
 * Returns 0, -ELOOP for a symlink, -EBADFD for something other than a regular file, -EFBIG for
 * more than max bytes, -ENOMEM or another -errno (-ENOENT…); the out-parameters are set only on
 * success.
 */
int read_regular_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_len);
