/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a regular file whole (regular-file.h). */

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fileio.h"
#include "regular-file.h"

int read_regular_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;

        /* -EFBIG from here too: the file grew while we read it. */
        return read_fd_bounded(fd, max, ret, ret_len);
}
