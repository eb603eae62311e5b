/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a file somebody else may have put there (read-file.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fileio.h"
#include "read-file.h"

int read_regular_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;

        fd = openat(dir_fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        /* Cheap early refusal; the bounded read below is what counts for a file still growing. */
        if ((uint64_t) st.st_size > (uint64_t) max)
                return -EFBIG;

        return read_fd_bounded(fd, max, ret, ret_len);
}
