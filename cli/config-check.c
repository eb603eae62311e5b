/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and checking a config.json like the daemon; see config-check.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-check.h"
#include "fileio.h"

int config_read(const char *path, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;
        const size_t max = SCRIPT_CONFIG_MAX_FILE_SIZE;
        struct stat st;

        /* O_NONBLOCK: a FIFO must not hang us; O_NOFOLLOW: a symlinked config.json is not read (the
         * file checks would call it an error anyway). */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;

        return read_fd_bounded(fd, max, ret, ret_len);
}

int config_check_buffer(const char *buf, size_t len, const char *config_path, bool file_checks,
                        FindingList *findings, ScriptConfig **ret_config) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        int r;

        r = script_config_parse(buf, len, &c, findings);
        if (r == -ENOMEM)
                return r;
        if (file_checks) {
                /* Like the daemon: with errors in the contents only config.json itself is checked. */
                r = script_config_check_files(c, config_path, findings);
                if (r < 0)
                        return r;
        }
        if (ret_config)
                *ret_config = TAKE_PTR(c);
        return 0;
}

void settings_collect_findings(const char *file, unsigned line, const char *message, void *userdata) {
        FindingList *l = userdata;

        if (finding_list_add(l, FINDING_ERROR, line, 0, "", file, "%s", message) < 0)
                l->n_errors++;
}
