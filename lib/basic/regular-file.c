/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening regular files only, bounded (regular-file.h). */

#include <errno.h>
#include <fcntl.h>

#include "cleanup.h"
#include "fileio.h"
#include "regular-file.h"

int fd_check_regular_bounded(int fd, uint64_t max, struct stat *ret_stat) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;

        if (ret_stat)
                *ret_stat = st;
        return 0;
}

int open_regular_file_bounded(int dir_fd, const char *path, int flags, uint64_t max, struct stat *ret_stat) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;

        int r;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
        if (fd < 0)
                return -errno;
        r = fd_check_regular_bounded(fd, max, &st);
        if (r < 0)
                return r;

        if (ret_stat)
                *ret_stat = st;
        return TAKE_FD(fd);
}

int read_regular_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        int r;

        r = fd_check_regular_bounded(fd, max, NULL);
        if (r < 0)
                return r;
        /* -EFBIG from here too: the file grew while we read it. */
        return read_fd_bounded(fd, max, ret, ret_len);
}

int read_regular_file_at(int dir_fd, const char *path, int flags, size_t max, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;

        fd = open_regular_file_bounded(dir_fd, path, O_NOCTTY | flags, max, NULL);
        if (fd < 0)
                return fd;
        return read_fd_bounded(fd, max, ret, ret_len);
}
