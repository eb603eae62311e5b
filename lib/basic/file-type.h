/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names of the types of files for messages (libc only; lib/basic/ is dependency-free).
 */
#pragma once

#include <sys/types.h>

/* "a regular file", "a directory", "a symbolic link", "a character device", "a block device",
 * "a FIFO" or "a socket", by the type bits of the mode m (st_mode); NULL for an unknown type. */
const char *file_type_name(mode_t m);
