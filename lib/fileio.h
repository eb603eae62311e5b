/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading small files whole: the one read loop the binaries share (config.json, settings, state,
 * spool metadata, credentials files, the home-folder status, /etc/default/locale).
 */
#pragma once

#include <sys/types.h>

/* Reads from fd into buf until size bytes are in or the end of the file, retrying on EINTR.
 * Returns the number of bytes read — less than size only at the end of the file — or -errno (then
 * buf holds what was read before the error). */
ssize_t loop_read(int fd, void *buf, size_t size);

/* Reads all of fd, at most max bytes, into a new NUL-terminated buffer (owned by the caller) and
 * its length. Returns 0, -EFBIG when fd holds more than max bytes, -ENOMEM or -errno; the
 * out-parameters are set only on success. */
int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len);
