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
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec-spawn.h"
#include "strv.h"

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

/* Formats n items, separated by ",", into a new string in *ret: format_item() prints item i to f.
 * Returns 0 or -ENOMEM. */
static int format_list(size_t n, void (*format_item)(FILE *f, size_t i, const void *data), const void *data,
                       char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc(',', f);
                format_item(f, i, data);
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

static void format_group(FILE *f, size_t i, const void *data) {
        const gid_t *groups = data;

        fprintf(f, "%u", (unsigned) groups[i]);
}

int exec_helper_format_groups(const gid_t *groups, size_t n_groups, char **ret) {
        return format_list(n_groups, format_group, groups, ret);
}

/* One limit as the helper reads it ("-" is infinity). */
static void format_rlim(FILE *f, rlim_t v) {
        if (v == RLIM_INFINITY)
                fputc('-', f);
        else
                fprintf(f, "%llu", (unsigned long long) v);
}

static void format_limit(FILE *f, size_t i, const void *data) {
        const struct rlimit *limits = data;

        format_rlim(f, limits[i].rlim_cur);
        fputc(':', f);
        format_rlim(f, limits[i].rlim_max);
}

int exec_helper_format_limits(const struct rlimit *limits, size_t n, char **ret) {
        return format_list(n, format_limit, limits, ret);
}

int exec_helper_run_argv(const ExecHelperRun *p, char ***ret) {
        _cleanup_(strv_freep) char **argv = NULL;
        _cleanup_(freep) char *limits = NULL;
        int r;

        r = exec_helper_format_limits(p->limits, RLIMIT_NLIMITS, &limits);
        if (r < 0)
                return r;

        r = strv_extend(&argv, "session-scripts-exec");
        if (r >= 0)
                r = strv_extend(&argv, "run");
        /* A script is run by its interpreter through /dev/fd/N: that descriptor must stay open. */
        if (r >= 0 && p->script)
                r = strv_extend(&argv, "--script");
        if (r >= 0 && p->user) {
                _cleanup_(freep) char *groups = NULL;

                r = exec_helper_format_groups(p->groups, p->n_groups, &groups);
                if (r >= 0)
                        r = strv_extend(&argv, "--user");
                if (r >= 0)
                        r = strv_extendf(&argv, "%u", (unsigned) p->uid);
                if (r >= 0)
                        r = strv_extendf(&argv, "%u", (unsigned) p->gid);
                if (r >= 0)
                        r = strv_extend(&argv, groups);
                if (r >= 0)
                        r = strv_extend(&argv, p->home ?: "/");
        }
        if (r >= 0)
                r = strv_extend(&argv, "--limits");
        if (r >= 0)
                r = strv_extend(&argv, limits);
        if (r >= 0)
                r = strv_extend(&argv, "--");
        for (char * const *a = p->argv; r >= 0 && a && *a; a++)
                r = strv_extend(&argv, *a);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(argv);
        return 0;
}
