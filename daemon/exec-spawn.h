/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's side of session-scripts-exec (exec-helper.h): building the helper's command line
 * and starting it with posix_spawn() (daemon/exec-spawn.c). Used for every run (runner.c) and every
 * home-folder status read (home-probe.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "exec-helper.h"

/*
 * Starts the helper with posix_spawn(): argv[0] is EXEC_HELPER_PATH's name, the rest as in
 * exec-helper.h; envp its environment; fds[i] (for i < n_fds) becomes descriptor i of the helper,
 * -1 for a closed one (nothing of the daemon's own descriptor i is passed on). The daemon's signal
 * mask is kept (the helper resets it). Returns 0 and the pid in *ret_pid, or -errno (e.g. -ENOENT
 * when the helper is not installed).
 */
int exec_helper_spawn(char *const *argv, char *const *envp, const int *fds, int n_fds, pid_t *ret_pid);

/* Formats groups as the helper's GROUPS argument ("G1,G2,…", "" for none) into a new string in
 * *ret. Returns 0 or -ENOMEM. */
int exec_helper_format_groups(const gid_t *groups, size_t n_groups, char **ret);

/* Formats n limits (indexed by RLIMIT_*) as the helper's LIMITS argument ("SOFT:HARD,…", "-" for
 * infinity) into a new string in *ret. Returns 0 or -ENOMEM. */
int exec_helper_format_limits(const struct rlimit *limits, size_t n, char **ret);

/* What a run's process is to be (session-scripts-exec run …). */
typedef struct ExecHelperRun {
        bool script;                    /* --script: the executable starts with "#!" */
        bool user;                      /* --user: drop to uid/gid/groups and enter home */
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
        const char *home;               /* NULL: "/" */
        const struct rlimit *limits;    /* RLIMIT_NLIMITS entries */
        char * const *argv;             /* the script's argv */
} ExecHelperRun;

/* Builds the helper's argv for p into a new strv in *ret. Returns 0 or -ENOMEM. */
int exec_helper_run_argv(const ExecHelperRun *p, char ***ret);
