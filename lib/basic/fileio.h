/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and writing files whole: the read and write loops the binaries share (config.json,
 * settings, state, spool metadata and logs, credentials files, the home-folder status,
 * /etc/default/locale, the tamper baseline, bundles).
 */
#pragma once

#include <sys/types.h>

/* Reads from fd into buf until size bytes are in or the end of the file, retrying on EINTR.
 * Returns the number of bytes read — less than size only at the end of the file — or -errno (then
 * buf holds what was read before the error). */
ssize_t loop_read(int fd, void *buf, size_t size);

/* Like loop_read(), but from offset on with pread(): the descriptor's own file offset does not move.
 * Returns the number of bytes read (less than size only at the end of the file) or -errno. */
ssize_t loop_pread(int fd, void *buf, size_t size, off_t offset);

/* Reads all of fd, at most max bytes, into a new NUL-terminated buffer (owned by the caller) and
 * its length. Returns 0, -EFBIG when fd holds more than max bytes, -ENOMEM or -errno; the
 * out-parameters are set only on success. */
int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len);

/* Writes all of buf (size bytes) to fd, retrying on EINTR and after short writes. Returns 0 or
 * -errno (then an unknown part of buf was written). */
int loop_write(int fd, const void *buf, size_t size);
