/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a regular file whole from a descriptor: the checks that every reader of a configuration
 * or state file makes before it reads (libc only; lib/basic/ is dependency-free).
 */
#pragma once

#include <stddef.h>

/*
 * Reads all of the regular file open at fd, at most max bytes, into a new NUL-terminated buffer
 * (owned by the caller) and its length. Returns 0; -EISDIR for a directory, -EBADFD for anything
 * else that is not a regular file (a FIFO, a device: open those with O_NONBLOCK, so that opening
 * does not hang either); -EFBIG when the file has, or grows to, more than max bytes; -ENOMEM or
 * another -errno. The out-parameters are set only on success.
 */
int read_regular_fd(int fd, size_t max, char **ret, size_t *ret_len);
