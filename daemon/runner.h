/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One run of one executable of one event of one session (see session-scriptsd(8)):
 *
 *   run_start() verifies the executable against the tamper baseline, starts a child with
 *   posix_spawn() (session-scripts-exec, exec-helper.h) that waits on a socket, asks systemd
 *   (StartTransientUnit, after subscribing to JobRemoved) for a scope unit that contains the child,
 *   with RuntimeMaxUSec = waiting time, in system.slice (system context) or user-UID.slice (user
 *   context); once the job is done (and the run is released, RunParams.hold) the child drops
 *   privileges (user context: setgroups/setresgid/setresuid to the user, cwd $HOME), resets
 *   signals, rlimits and fds (stdin /dev/null, stdout/stderr to pipes, nothing else) and execs the
 *   verified fd with the given argv and a clean environment.
 *
 *   While it runs, every line of stdout/stderr becomes a journal entry (SESSION_SCRIPTS_* fields,
 *   OBJECT_SYSTEMD_UNIT=<scope>, stderr at LOG_WARNING) and, when a spool key was given, the raw
 *   bytes are appended to the run's spool log (session-scripts.h, "Spool").
 *
 *   The finished callback fires exactly once: when the main process exited, or when the deadline
 *   (start + waiting time) passed, or at once on a tamper/start failure. A summary journal entry
 *   with MESSAGE_ID=SESSION_SCRIPTS_MESSAGE_RUN_FINISHED (or _RUN_TAMPERED) is written then. Output
 *   capture may continue after the callback until the pipes reach EOF; the spool entry is marked
 *   STATE=finished when capture ends.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "script-config.h"
#include "tamper.h"

typedef enum RunResultKind {
        RUN_RESULT_SUCCESS,     /* exited 0 */
        RUN_RESULT_EXIT_CODE,   /* exited non-zero */
        RUN_RESULT_SIGNAL,      /* killed by a signal before the deadline */
        RUN_RESULT_TIMEOUT,     /* still running at the deadline (systemd stops the scope) */
        RUN_RESULT_TAMPERED,    /* not run: the executable changed since the baseline */
        RUN_RESULT_FAILED,      /* not run: could not be started (fork, unit, exec, user lookup) */
        _RUN_RESULT_MAX,
} RunResultKind;

/* "success", "exit-code", "signal", "timeout", "tampered", "failed" (SESSION_SCRIPTS_RESULT). */
const char *run_result_to_string(RunResultKind k);

typedef struct RunResult {
        RunResultKind kind;
        int exit_status;                /* for EXIT_CODE/SUCCESS, else 0 */
        int signal;                     /* for SIGNAL (and TIMEOUT if known), else 0 */
        uint64_t duration_usec;
        const char *unit;               /* scope unit name, or NULL when none was created */
        const char *last_line;          /* last non-empty stdout line so far (may be ""), valid in cb */
        const char *error;              /* for FAILED/TAMPERED: a sentence saying why, else NULL */
} RunResult;

typedef struct RunParams {
        const char *session_id;
        ScriptEvent event;
        ScriptContext context;
        const char *user;               /* the session's user name (journal field, user context) */
        uid_t uid;                      /* user context: run as this uid/gid with these groups */
        gid_t gid;
        const gid_t *groups;            /* supplementary groups (getgrouplist() of user, gid) */
        size_t n_groups;
        const char *home;               /* user context: working directory */
        char * const *argv;             /* argv[0] = the executable's path, then split arguments */
        char * const *envp;             /* complete environment for the script (built by the caller) */
        unsigned waiting_time_sec;      /* 1…60: RuntimeMaxUSec of the scope, and our deadline */
        const TamperBaseline *baseline;
        const char *spool_key;          /* object key for the spool .meta; NULL = no spool (journal only) */
        /* The process is started and its scope set up, but it executes the script only after
         * run_release() as well: so that what is still being learnt about the session (the
         * home-folder status) overlaps with setting up the scope instead of coming before it. */
        bool hold;
} RunParams;

typedef struct Run Run;

typedef void (*RunFinishedFn)(Run *run, const RunResult *result, void *userdata);

/*
 * Starts a run. Copies what it needs from params. On success returns 0 and a new Run in *ret (the
 * caller holds one reference; the run keeps itself alive until capture ended). The callback is
 * always invoked later from the event loop, never from within run_start(), also for TAMPERED and
 * FAILED. Returns -errno only on allocation failure or invalid params.
 */
int run_start(sd_event *event, sd_bus *bus, const RunParams *params, RunFinishedFn callback, void *userdata,
              Run **ret);

Run *run_ref(Run *r);
Run *run_unref(Run *r);
static inline void run_unrefp(Run **r) {
        run_unref(*r);
}

/* The scope unit name (valid for the run's lifetime; NULL before it is known). */
const char *run_get_unit(const Run *r);

/* Stops calling the callback (the owner goes away); the run itself still captures to its end. */
void run_detach(Run *r);

/* Lets a run started with RunParams.hold execute its script once its scope is ready, with
 * AppStream_Home_Folder_Mount_Status set to home_folder_status ("True", "False", "Unknown") in its
 * environment. A no-op for a run that is not held (or NULL). */
void run_release(Run *r, const char *home_folder_status);

/* ---- Additions of the runner (the functions above are the fixed interface) -------------------- */

/* How long systemd waits after SIGTERM (sent at RuntimeMaxSec) before it SIGKILLs what is left of a
 * run's scope (the scope's TimeoutStopUSec). Short on purpose: the user's session start already
 * waited the full waiting time, and a script that ignores SIGTERM must not linger for systemd's
 * default 90 s. The manager waits for a scope to be gone at most this long after the deadline. */
#define RUN_TIMEOUT_STOP_USEC (UINT64_C(2) * 1000000U)

/* The directory of spool entries (default SESSION_SCRIPTS_SPOOL_DIR); for tests and for a daemon
 * setting. Copies dir. Returns 0 or -ENOMEM. */
int run_set_spool_dir(const char *dir);

/* Number of runs whose capture has not ended yet (a daemon that wants to exit, or a test driver,
 * waits for 0 so that every spool entry reaches STATE=finished). */
unsigned run_n_active(void);

/* True once the run has fully ended: the callback fired, the main process was reaped and the
 * output capture ended (the spool entry says STATE=finished). */
bool run_is_done(const Run *r);

/* Whether any process is left in the run's scope, read from the kernel (the scope cgroup's
 * cgroup.events, opened while the main process was in it): 1 populated, 0 empty or removed, -errno
 * when it cannot be told (no scope yet, no unified cgroup hierarchy, or asked outside the run's
 * finished callback: the file is closed right after it). Cheaper and earlier than waiting for
 * systemd to mark the scope inactive. */
int run_scope_populated(const Run *r);
