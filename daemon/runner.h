/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One run of one executable of one event of one session (see session-scriptsd(8)):
 *
 *   run_start() verifies the executable against the tamper baseline, starts a process with
 *   posix_spawn() (session-scripts-exec, exec-helper.h, exec-spawn.h) that waits on a socket, asks systemd
 *   (StartTransientUnit, after subscribing to JobRemoved: unit-watch.h) for a scope unit that
 *   contains the process, with RuntimeMaxUSec = waiting time, in system.slice (system context) or
 *   user-UID.slice (user context); once the job is done (and the run is released, RunParams.hold)
 *   the process is told to go: it drops privileges (user context: setgroups/setresgid/setresuid to
 *   the user, cwd $HOME), resets signals, rlimits and fds (stdin /dev/null, stdout/stderr to pipes,
 *   nothing else) and execs the verified fd with the given argv and a clean environment.
 *
 *   While it runs, every line of stdout/stderr becomes a journal entry (run-journal.h) and, when a
 *   spool key was given, the raw bytes are appended to the run's spool log (run-capture.h).
 *
 * When a run is over. Three things end, in any order:
 *
 *   the result is reported — the finished callback fires, exactly once: when the main process
 *     exited, or when the deadline (start + waiting time) passed, or at once (from the loop) on a
 *     tamper/start failure. A summary journal entry with MESSAGE_ID=SESSION_SCRIPTS_MESSAGE_RUN_FINISHED
 *     (or _RUN_TAMPERED) is written then. This is all the manager waits for from the runner;
 *   the main process is reaped (or there never was one);
 *   the output capture is over — both pipes reached EOF, or were abandoned by the backstop
 *     (RUN_TIMEOUT_STOP_USEC + 1 s after the deadline, plus 5 s); the spool entry is marked
 *     STATE=finished then.
 *
 * Once all three happened the run is over (run_is_done()); it keeps itself alive until then,
 * whatever its owner does with its reference. Processes the script left behind in its scope are
 * not the run's concern: whether the scope is gone is told by run_scope_populated() (from the
 * callback) and by a UnitWatch (unit-watch.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "script-config.h"
#include "tamper.h"
#include "time-util.h"
#include "unit-watch.h"

/* How long systemd waits after SIGTERM (sent at RuntimeMaxSec) before it SIGKILLs what is left of a
 * run's scope (the scope's TimeoutStopUSec). Short on purpose: the user's session start already
 * waited the full waiting time, and a script that ignores SIGTERM must not linger for systemd's
 * default 90 s. The manager waits for a scope to be gone at most this long after the deadline. */
#define RUN_TIMEOUT_STOP_USEC (2 * USEC_PER_SEC)

typedef enum RunResultKind {
        RUN_RESULT_SUCCESS,     /* exited 0 */
        RUN_RESULT_EXIT_CODE,   /* exited non-zero */
        RUN_RESULT_SIGNAL,      /* killed by a signal before the deadline */
        RUN_RESULT_TIMEOUT,     /* still running at the deadline (systemd stops the scope) */
        RUN_RESULT_TAMPERED,    /* not run: the executable changed since the baseline */
        RUN_RESULT_FAILED,      /* not run: could not be started (spawn, unit, exec, user lookup) */
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
        const char *spool_dir;          /* where spool entries go; NULL = SESSION_SCRIPTS_SPOOL_DIR */
        /* The process is started and its scope set up, but it executes the script only after
         * run_release() as well: so that what is still being learnt about the session (the
         * home-folder status) overlaps with setting up the scope instead of coming before it. */
        bool hold;
} RunParams;

typedef struct Run Run;

/*
 * What the runs of one daemon share: the event loop, the watch of systemd's signals on the system
 * bus (unit-watch.h), and the count of runs not over yet. Created once by the manager (or a test
 * driver); every run holds a reference until it is over.
 */
typedef struct RunnerContext RunnerContext;

/* Returns 0 and a new context in *ret (one reference for the caller), or -ENOMEM. Takes references
 * on event and watch. */
int runner_context_new(sd_event *event, SystemdWatch *watch, RunnerContext **ret);
RunnerContext *runner_context_ref(RunnerContext *c);
RunnerContext *runner_context_unref(RunnerContext *c);
static inline void runner_context_unrefp(RunnerContext **c) {
        runner_context_unref(*c);
}

/* Number of runs of c that are not over (a daemon that wants to exit, or a test driver, waits for
 * 0 so that every spool entry reaches STATE=finished). */
unsigned runner_context_n_active(const RunnerContext *c);

/* Called once per run when its result is known (see "When a run is over" above). The callee may
 * drop its reference to the run (the run holds one on itself while calling). */
typedef void (*RunFinishedFn)(Run *run, const RunResult *result, void *userdata);

/*
 * Starts a run. Copies what it needs from params. On success returns 0 and a new Run in *ret (the
 * caller holds one reference). The callback is always invoked later from the event loop, never
 * from within run_start(), also for TAMPERED and FAILED. Returns -errno only on allocation failure
 * or invalid params.
 */
int run_start(RunnerContext *context, const RunParams *params, RunFinishedFn callback, void *userdata, Run **ret);

Run *run_ref(Run *run);
Run *run_unref(Run *run);
static inline void run_unrefp(Run **run) {
        run_unref(*run);
}

/* The scope unit name (valid for the run's lifetime; NULL before it is known). */
const char *run_get_unit(const Run *run);

/* Stops calling the callback (the owner goes away); the run itself still goes on until it is over. */
void run_detach(Run *run);

/* Lets a run started with RunParams.hold execute its script once its scope is ready, with
 * AppStream_Home_Folder_Mount_Status set to home_folder_status ("True", "False", "Unknown") in its
 * environment. A no-op for a run that is not held (or NULL). */
void run_release(Run *run, const char *home_folder_status);

/* True once the run is over: its result was reported, its main process reaped and its output
 * capture over (see "When a run is over" above). */
bool run_is_done(const Run *run);

/* Whether any process is left in the run's scope, read from the kernel (the scope cgroup's
 * cgroup.events, opened while the main process was in it): 1 populated, 0 empty or removed, -errno
 * when it cannot be told (no scope yet, no unified cgroup hierarchy, or asked outside the run's
 * finished callback: the file is closed right after it). Cheaper and earlier than waiting for
 * systemd to mark the scope inactive. */
int run_scope_populated(const Run *run);
