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
