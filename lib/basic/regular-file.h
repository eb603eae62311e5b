/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening a file that someone else may have put in our way: only a regular file is read (not a FIFO
 * that would hang the reader, not a device), and only up to a size bound the caller states.
 */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

/*
 * Opens path (relative to dir_fd; AT_FDCWD for the working directory) read-only, close-on-exec and
 * non-blocking, with flags added (e.g. O_NOFOLLOW, O_NOCTTY), and checks that it is a regular file
 * of at most max bytes. Returns the descriptor (owned by the caller) and, when ret_stat is not NULL,
 * its fstat() in *ret_stat; -EBADFD when it is not a regular file, -EFBIG when it is larger than
 * max, or -errno of open()/fstat().
 */
int open_regular_file_bounded(int dir_fd, const char *path, int flags, uint64_t max, struct stat *ret_stat);
