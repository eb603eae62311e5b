/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and writing files whole (fileio.h). */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

/* read() until size bytes are in or the end of the file; with pread() from offset when offset ≥ 0. */
static ssize_t loop_read_at(int fd, void *buf, size_t size, off_t offset) {
        size_t have = 0;

        while (have < size) {
                ssize_t n = offset < 0 ? read(fd, (char *) buf + have, size - have)
                                       : pread(fd, (char *) buf + have, size - have, offset + (off_t) have);

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

ssize_t loop_read(int fd, void *buf, size_t size) {
        return loop_read_at(fd, buf, size, -1);
}

ssize_t loop_pread(int fd, void *buf, size_t size, off_t offset) {
        if (offset < 0)
                return -EINVAL;
        return loop_read_at(fd, buf, size, offset);
}

int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_(freep) char *buf = NULL;
        ssize_t n;

        /* One byte more than allowed: reading it tells "too large" from "exactly max". */
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        n = loop_read(fd, buf, max + 1);
        if (n < 0)
                return (int) n;
        if ((size_t) n > max)
                return -EFBIG;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = (size_t) n;
        return 0;
}

int loop_write(int fd, const void *buf, size_t size) {
        const char *p = buf;

        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}
