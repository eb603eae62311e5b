/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading small files whole (fileio.h). */

#include <errno.h>
#include <unistd.h>

#include "fileio.h"

ssize_t loop_read(int fd, void *buf, size_t size) {
        size_t have = 0;

        while (have < size) {
                ssize_t n = read(fd, (char *) buf + have, size - have);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                have += (size_t) n;
        }
        return (ssize_t) have;
}
