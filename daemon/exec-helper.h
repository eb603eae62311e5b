/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The contract between session-scriptsd and session-scripts-exec, the small program it starts for
 * every process it needs (daemon/exec-helper.c). The daemon never fork()s itself: copying its
 * address space for every run — and the copy-on-write faults and TLB shootdowns that follow in the
 * daemon — was its biggest cost under a login storm. posix_spawn() runs the helper at once (the
 * daemon's memory is shared only until the helper's exec), and the helper does the slow, privileged
 * setup in a process of its own:
 *
 *   session-scripts-exec run [--script] [--user UID GID GROUPS HOME] --limits LIMITS -- ARGV…
 *       A run's process. Descriptors: 0 /dev/null, 1 and 2 the output pipes, EXEC_FD_EXE the
 *       verified executable, EXEC_FD_STATUS the status pipe, EXEC_FD_GO the go socket; the
 *       environment is the script's. Waits for the go message (the process is in its scope by
 *       then; the message is the home-folder status, "True", "False" or "Unknown", which goes into
 *       AppStream_Home_Folder_Mount_Status, or "-"),
 *       resets signals, applies LIMITS, drops to the user (or to root without supplementary
 *       groups), enters HOME (or /) and executes EXEC_FD_EXE with ARGV. --script: the executable
 *       is a script, which the kernel reads through /dev/fd/EXEC_FD_EXE, so that descriptor
 *       survives the exec. A failure before the exec is written to the status pipe as a
 *       ChildStatus and to stderr.
 *
 *   session-scripts-exec home-status UID GID GROUPS HOME
 *       Drops to the user and writes the home-folder mount status (one byte, a HomeFolderStatus)
 *       to stdout.
 *
 * GROUPS is a comma-separated list of gids ("" for none). LIMITS is RLIMIT_NLIMITS entries
 * "SOFT:HARD" separated by commas, indexed by RLIMIT_*, with "-" for infinity.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where the helper is installed. */
#define EXEC_HELPER_PATH LIBEXECDIR "/session-scripts-exec"

#define EXEC_FD_EXE 3
#define EXEC_FD_STATUS 4
#define EXEC_FD_GO 5

/* What the helper reports through its status pipe when it fails before or at the exec. */
typedef enum ChildStage {
        CHILD_STAGE_FDS,
        CHILD_STAGE_RLIMIT,
        CHILD_STAGE_GROUPS,
        CHILD_STAGE_GID,
        CHILD_STAGE_UID,
        CHILD_STAGE_EXEC,
        _CHILD_STAGE_MAX,
} ChildStage;

typedef struct ChildStatus {
        int32_t stage;
        int32_t error;
} ChildStatus;

/* "failed to change user", …: what the stage failed to do; NULL when out of range. */
static inline const char *child_stage_to_string(int stage) {
        static const char *const table[_CHILD_STAGE_MAX] = {
                [CHILD_STAGE_FDS] = "failed to set up file descriptors",
                [CHILD_STAGE_RLIMIT] = "failed to reset resource limits",
                [CHILD_STAGE_GROUPS] = "failed to set supplementary groups",
                [CHILD_STAGE_GID] = "failed to change group",
                [CHILD_STAGE_UID] = "failed to change user",
                [CHILD_STAGE_EXEC] = "failed to execute",
        };

        return stage >= 0 && stage < _CHILD_STAGE_MAX ? table[stage] : NULL;
}

/* The daemon's side, starting the helper and building its arguments, is daemon/exec-spawn.h. */
