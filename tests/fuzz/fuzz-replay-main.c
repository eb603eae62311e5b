/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replay driver for the fuzz targets without libFuzzer: feeds every file named on the command line
 * (directories: every regular file in them) to LLVMFuzzerTestOneInput(), so the corpus runs under
 * `meson test` with any compiler (and under the sanitizer build).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* Inputs larger than this are not fuzz inputs (the parser refuses > 1 MiB anyway). */
#define REPLAY_MAX_INPUT (4U * 1024U * 1024U)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(int dir_fd, const char *name, const char *display) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) uint8_t *buf = NULL;
        struct stat st;
        size_t have = 0;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "%s: %m\n", display);
                return -errno;
        }
        if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size > REPLAY_MAX_INPUT) {
                fprintf(stderr, "%s: not a regular file of at most %u bytes\n", display, REPLAY_MAX_INPUT);
                return -EINVAL;
        }

        /* An exact-size buffer, so ASan catches any read past the input. */
        buf = malloc((size_t) st.st_size ?: 1);
        if (!buf)
                return -ENOMEM;
        while (have < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + have, (size_t) st.st_size - have);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        fprintf(stderr, "%s: short read\n", display);
                        return -EIO;
                }
                have += (size_t) n;
        }

        fprintf(stderr, "replay %s (%zu bytes)\n", display, have);
        (void) LLVMFuzzerTestOneInput(buf, have);
        return 0;
}

int main(int argc, char *argv[]) {
        size_t n = 0;
        int failed = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        return 1;
                }

                if (S_ISDIR(st.st_mode)) {
                        _cleanup_(closedirp) DIR *d = opendir(argv[i]);
                        struct dirent *de;

                        if (!d) {
                                fprintf(stderr, "%s: %m\n", argv[i]);
                                return 1;
                        }
                        while ((de = readdir(d))) {
                                _cleanup_(freep) char *display = NULL;

                                if (de->d_name[0] == '.')
                                        continue;
                                if (asprintf(&display, "%s/%s", argv[i], de->d_name) < 0)
                                        return 1;
                                if (replay_file(dirfd(d), de->d_name, display) < 0)
                                        failed = 1;
                                n++;
                        }
                } else {
                        if (replay_file(AT_FDCWD, argv[i], argv[i]) < 0)
                                failed = 1;
                        n++;
                }
        }

        fprintf(stderr, "%zu inputs replayed\n", n);
        return failed || n == 0;
}
