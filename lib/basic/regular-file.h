/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening and reading a file that someone else may have put in our way (a spool shared with another
 * user, a state, config or credentials file): only a regular file is read (not a FIFO that would
 * hang the reader, not a device), and only up to a size bound the caller states.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/*
 * Opens path (relative to dir_fd; AT_FDCWD for the working directory) read-only, close-on-exec and
 * non-blocking, with flags added (e.g. O_NOFOLLOW, O_NOCTTY), and checks that it is a regular file
 * of at most max bytes. Returns the descriptor (owned by the caller) and, when ret_stat is not NULL,
 * its fstat() in *ret_stat; -EISDIR for a directory, -EBADFD when it is something else that is not
 * a regular file (a FIFO, a device, a socket), -EFBIG when it is larger than max, or -errno of
 * open()/fstat().
 */
int open_regular_file_bounded(int dir_fd, const char *path, int flags, uint64_t max, struct stat *ret_stat);

/* The checks of open_regular_file_bounded() on a descriptor opened elsewhere (e.g. beneath a
 * directory with openat2()): 0 and, when ret_stat is not NULL, its fstat() in *ret_stat; -EISDIR,
 * -EBADFD, -EFBIG or -errno of fstat(). */
int fd_check_regular_bounded(int fd, uint64_t max, struct stat *ret_stat);

/*
 * Reads all of the regular file open at fd, at most max bytes, into a new NUL-terminated buffer
 * (owned by the caller) and its length: fd_check_regular_bounded(), then read_fd_bounded(). Returns
 * 0; -EISDIR, -EBADFD (open FIFOs and devices with O_NONBLOCK, so that opening does not hang
 * either); -EFBIG when the file has, or grows to, more than max bytes; -ENOMEM or another -errno.
 * The out-parameters are set only on success.
 */
int read_regular_fd(int fd, size_t max, char **ret, size_t *ret_len);

/*
 * Reads the regular file at path (relative to dir_fd, or AT_FDCWD) whole, at most max bytes, into a
 * new NUL-terminated buffer owned by the caller, and its length: open_regular_file_bounded() with
 * O_NOCTTY and flags (O_NOFOLLOW: -ELOOP for a symlink in the last component), then
 * read_fd_bounded() (which is what counts for a file still growing). Never blocks on a FIFO or
 * device. Returns 0, -EISDIR, -EBADFD for something else than a regular file, -EFBIG for more than
 * max bytes, -ENOMEM or another -errno (-ENOENT…); the out-parameters are set only on success.
 */
int read_regular_file_at(int dir_fd, const char *path, int flags, size_t max, char **ret, size_t *ret_len);
