/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting session-scripts-exec (see exec-helper.h) without fork(): posix_spawn() shares the
 * daemon's memory with the new process only until it executes the helper, so the daemon pays no
 * copy of its address space and no copy-on-write faults afterwards, however many runs it starts.
 */

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec-helper.h"

#define SPAWN_FDS_MAX 16

int exec_helper_spawn(char *const *argv, char *const *envp, const int *fds, int n_fds, pid_t *ret_pid) {
        posix_spawn_file_actions_t actions;
        int lifted[SPAWN_FDS_MAX];
        pid_t pid;
        int r = 0;

        if (n_fds < 0 || n_fds > SPAWN_FDS_MAX)
                return -EINVAL;

        /* The file actions run one after the other: a source that is itself one of the targets
         * 0…n_fds-1 could be overwritten before it is copied. Every source is first copied above
         * them (O_CLOEXEC: the copies stay behind). */
        for (int i = 0; i < n_fds; i++) {
                lifted[i] = fds[i] < 0 ? -EBADF : fcntl(fds[i], F_DUPFD_CLOEXEC, n_fds);
                if (fds[i] >= 0 && lifted[i] < 0 && r == 0)
                        r = errno;
        }

        if (r == 0)
                r = posix_spawn_file_actions_init(&actions);
        if (r == 0) {
                /* dup2() onto each target clears its FD_CLOEXEC; all else the daemon holds is
                 * O_CLOEXEC and stays behind. */
                for (int i = 0; i < n_fds && r == 0; i++)
                        r = lifted[i] >= 0 ? posix_spawn_file_actions_adddup2(&actions, lifted[i], i)
                                           : posix_spawn_file_actions_addclose(&actions, i);
                if (r == 0)
                        r = posix_spawn(&pid, EXEC_HELPER_PATH, &actions, NULL, argv, envp);
                (void) posix_spawn_file_actions_destroy(&actions);
        }

        for (int i = 0; i < n_fds; i++)
                safe_close(lifted[i]);
        if (r != 0)
                return -r;

        *ret_pid = pid;
        return 0;
}

int exec_helper_format_groups(const gid_t *groups, size_t n_groups, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n_groups; i++)
                fprintf(f, "%s%u", i > 0 ? "," : "", (unsigned) groups[i]);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}
