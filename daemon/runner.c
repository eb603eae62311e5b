/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One run of one executable (see runner.h for the contract): the tamper check, the start handshake
 * (job watch, StartTransientUnit, the process put into its scope, then "go"), the deadline and the
 * backstop, the result, and when the run is over. The process's setup is session-scripts-exec's
 * (exec-helper.c, started by exec-spawn.c); its output is the capture's (run-capture.c); its journal
 * entries are run-journal.c's. Everything is asynchronous on the context's sd-event loop; nothing
 * here waits for a child or for systemd synchronously, so the daemon stays responsive while
 * scripts run.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cleanup.h"
#include "default-limits.h"
#include "exec-spawn.h"
#include "macro.h"
#include "output.h"
#include "run-capture.h"
#include "run-journal.h"
#include "runner.h"
#include "session-scripts/session-scripts.h"
#include "strv.h"
#include "time-util.h"

/* Our own backstop after the deadline: if systemd's stop did not end the main process within
 * TimeoutStop + this, we ask systemd to SIGKILL the whole scope (and SIGKILL the main process
 * ourselves). */
#define RUN_BACKSTOP_SLACK_USEC (1 * USEC_PER_SEC)

/* After the backstop kill, output pipes that still have not reached EOF (a process that left the
 * scope but kept our pipe) are abandoned after this much longer, so a run always ends. */
#define RUN_CAPTURE_GRACE_USEC (5 * USEC_PER_SEC)

/* Timer accuracy of the deadline: the user waits on it, so no coalescing beyond 1 ms. */
#define RUN_DEADLINE_ACCURACY_USEC (1 * USEC_PER_MSEC)

/* Supplementary groups we accept from the caller (the kernel's NGROUPS_MAX). */
#define RUN_GROUPS_MAX 65536U

struct RunnerContext {
        unsigned n_ref;
        sd_event *event;
        SystemdWatch *watch;
        unsigned n_active;      /* runs not over */
};

typedef enum RunPhase {
        RUN_PHASE_NEW,          /* no process (tampered, or failed before it was started) */
        RUN_PHASE_STARTING,     /* the helper waits on the go socket; scope job pending */
        RUN_PHASE_RUNNING,      /* go sent: the process is in its scope and execs */
} RunPhase;

struct Run {
        unsigned n_ref;
        bool self_ref;          /* the run holds a reference on itself until it is over */

        RunnerContext *context;
        sd_event *event;
        sd_bus *bus;
        RunFinishedFn callback;
        void *userdata;

        /* Copied parameters. */
        char *user, *executable, *home;
        ScriptEvent event_kind;
        ScriptContext script_context;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        char **argv, **envp;
        unsigned waiting_time_sec;

        char *unit;
        bool unit_requested;    /* StartTransientUnit was sent */
        bool unit_created;      /* ... and systemd accepted it */
        bool scope_ready;       /* the start job of the scope is done: the process is in it */
        bool held;              /* RunParams.hold, until run_release() */
        char *go_status;        /* the home-folder status sent with the go message, or NULL */
        JobWatch *job_watch;    /* while the scope's start job is pending */
        sd_bus_slot *start_slot;        /* StartTransientUnit in flight */

        RunPhase phase;
        usec_t start_usec;      /* CLOCK_MONOTONIC */
        pid_t pid;
        int go_fd;              /* our end of the go socket */
        int status_fd;          /* read end of the helper's status pipe */
        int cgroup_events_fd;   /* the scope cgroup's cgroup.events (unified hierarchy), or -EBADF */
        sd_event_source *child_source, *deadline_source, *backstop_source, *defer_source;
        unsigned backstop_stage;

        RunFields fields;
        RunCapture *capture;

        RunResultKind pending_kind;     /* for the deferred early result */
        char *error;

        /* When the run is over (runner.h): all three. The capture's own is run_capture_is_over(). */
        bool result_reported;   /* the callback fired (or would have, if detached) */
        bool reaped;            /* no process of ours left to wait for */
};

static const char *const run_result_table[_RUN_RESULT_MAX] = {
        [RUN_RESULT_SUCCESS] = "success",
        [RUN_RESULT_EXIT_CODE] = "exit-code",
        [RUN_RESULT_SIGNAL] = "signal",
        [RUN_RESULT_TIMEOUT] = "timeout",
        [RUN_RESULT_TAMPERED] = "tampered",
        [RUN_RESULT_FAILED] = "failed",
};

const char *run_result_to_string(RunResultKind k) {
        if ((unsigned) k >= _RUN_RESULT_MAX)
                return NULL;
        return run_result_table[k];
}

/* ---- Context ------------------------------------------------------------------------------------- */

int runner_context_new(sd_event *event, SystemdWatch *watch, RunnerContext **ret) {
        RunnerContext *c;

        if (!event || !watch || !ret)
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->event = sd_event_ref(event);
        c->watch = systemd_watch_ref(watch);
        *ret = c;
        return 0;
}

RunnerContext *runner_context_ref(RunnerContext *c) {
        if (c)
                c->n_ref++;
        return c;
}

RunnerContext *runner_context_unref(RunnerContext *c) {
        if (!c || --c->n_ref > 0)
                return NULL;
        systemd_watch_unref(c->watch);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

unsigned runner_context_n_active(const RunnerContext *c) {
        return c ? c->n_active : 0;
}

/* ---- Lifetime ------------------------------------------------------------------------------------ */

/* The loop's notion of now (cached per iteration). */
static usec_t run_now(Run *run) {
        usec_t t;

        if (sd_event_now(run->event, CLOCK_MONOTONIC, &t) < 0)
                return now(CLOCK_MONOTONIC);
        return t;
}

static Run *run_free(Run *run) {
        job_watch_free(run->job_watch);
        sd_bus_slot_unref(run->start_slot);
        sd_event_source_disable_unref(run->child_source);
        sd_event_source_disable_unref(run->deadline_source);
        sd_event_source_disable_unref(run->backstop_source);
        sd_event_source_disable_unref(run->defer_source);
        run_capture_free(run->capture);
        safe_close(run->go_fd);
        safe_close(run->status_fd);
        safe_close(run->cgroup_events_fd);
        run_fields_done(&run->fields);

        free(run->user);
        free(run->executable);
        free(run->home);
        free(run->groups);
        strv_free(run->argv);
        strv_free(run->envp);
        free(run->unit);
        free(run->go_status);
        free(run->error);

        sd_bus_unref(run->bus);
        sd_event_unref(run->event);
        runner_context_unref(run->context);
        free(run);
        return NULL;
}

Run *run_ref(Run *run) {
        if (run)
                run->n_ref++;
        return run;
}

Run *run_unref(Run *run) {
        if (!run)
                return NULL;
        if (--run->n_ref > 0)
                return NULL;
        return run_free(run);
}

const char *run_get_unit(const Run *run) {
        return run && run->unit_requested ? run->unit : NULL;
}

void run_detach(Run *run) {
        if (!run)
                return;
        run->callback = NULL;
        run->userdata = NULL;
}

bool run_is_done(const Run *run) {
        return run->result_reported && run->reaped && run_capture_is_over(run->capture);
}

/* Drops the run's reference on itself once it is over. The caller holds a reference of its own
 * while calling this (the run may be freed by it otherwise). */
static void run_maybe_release(Run *run) {
        if (!run->self_ref || !run_is_done(run))
                return;

        run->deadline_source = sd_event_source_disable_unref(run->deadline_source);
        run->backstop_source = sd_event_source_disable_unref(run->backstop_source);
        run->child_source = sd_event_source_disable_unref(run->child_source);     /* its pidfd */
        run->job_watch = job_watch_free(run->job_watch);

        run->self_ref = false;
        run->context->n_active--;
        run_unref(run);
}

/* ---- Result -------------------------------------------------------------------------------------- */

/* Results of a process that exited, and of a run that never got to run. */
static bool result_is_exit(RunResultKind kind) {
        return kind == RUN_RESULT_SUCCESS || kind == RUN_RESULT_EXIT_CODE;
}

static bool result_is_not_run(RunResultKind kind) {
        return kind == RUN_RESULT_TAMPERED || kind == RUN_RESULT_FAILED;
}

static void run_set_error(Run *run, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void run_set_error(Run *run, const char *format, ...) {
        char buf[512], clean[512];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        /* Sent over D-Bus by the caller: valid UTF-8 only. */
        utf8_sanitize(clean, sizeof clean, buf, strlen(buf), true);

        free(run->error);
        run->error = strdup(clean);
}

/* The result is known: summary entry, then the callback. Fires once. */
static void run_report(Run *run, RunResultKind kind, int exit_status, int sig) {
        RunResult res;

        if (run->result_reported)
                return;
        run->result_reported = true;

        if (kind == RUN_RESULT_TAMPERED && !run->error)
                run->error = strdup(SESSION_SCRIPTS_TAMPERED_TEXT);

        res = (RunResult) {
                .kind = kind,
                .exit_status = result_is_exit(kind) ? exit_status : 0,
                .signal = sig,
                .last_line = run_capture_drain(run->capture),
                .duration_usec = run_now(run) - MIN(run_now(run), run->start_usec),
                .unit = run->unit_created ? run->unit : NULL,
                .error = result_is_not_run(kind) ? (run->error ?: "unknown error") : NULL,
        };

        /* A run that never got to run has only this to say in its log (a failed exec already wrote
         * its reason to stderr, which is in the log). */
        if (kind == RUN_RESULT_TAMPERED || (kind == RUN_RESULT_FAILED && run->phase != RUN_PHASE_RUNNING)) {
                _cleanup_(freep) char *line = NULL;

                if (asprintf(&line, "%s%s\n", kind == RUN_RESULT_FAILED ? "session-scripts: " : "",
                             res.error) >= 0)
                        run_capture_note(run->capture, line);
                else
                        line = NULL;
        }

        run_journal_summary(&run->fields, &res, run->executable, run->user, run->event_kind,
                            run->script_context, run->waiting_time_sec);

        if (run->callback)
                run->callback(run, &res, run->userdata);
        /* Asked (run_scope_populated()) only from the callback: no need to hold it longer. */
        run->cgroup_events_fd = safe_close(run->cgroup_events_fd);

        run_capture_result_reported(run->capture);
}

static int on_deferred_report(sd_event_source *s, void *userdata) {
        Run *run = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(run);

        run->defer_source = sd_event_source_disable_unref(run->defer_source);
        run_report(run, run->pending_kind, 0, 0);
        run_maybe_release(run);
        return 0;
}

/* Reports from the event loop (run_start() must never call back directly). */
static int run_report_later(Run *run, RunResultKind kind) {
        int r;

        run->pending_kind = kind;
        r = sd_event_add_defer(run->event, &run->defer_source, on_deferred_report, run);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(run->defer_source, "run-report");
        return 0;
}

/* The scope could not be set up: the process never execs. Kill it (it is our unreaped child, so the
 * pid cannot have been reused) and report FAILED. */
static void run_abort_start(Run *run, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void run_abort_start(Run *run, const char *format, ...) {
        char buf[400];
        va_list ap;

        if (run->result_reported)
                return;

        va_start(ap, format);
        (void) vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        run->job_watch = job_watch_free(run->job_watch);
        run->start_slot = sd_bus_slot_unref(run->start_slot);
        run->go_fd = safe_close(run->go_fd);        /* EOF on the go socket makes the helper exit, too */
        if (!run->reaped && run->pid > 0)
                (void) kill(run->pid, SIGKILL);

        run_set_error(run, "%s", buf);
        run_report(run, RUN_RESULT_FAILED, 0, 0);
}

/* ---- Scope --------------------------------------------------------------------------------------- */

/* Opens cgroup.events of the cgroup pid is in, on the unified hierarchy (cgroup v2, or the
 * "unified" tree of a hybrid setup). The file stays readable after the process is gone, and reads
 * fail with ENODEV once systemd removed the cgroup. Returns the fd or -errno. */
static int cgroup_events_open(pid_t pid) {
        _cleanup_(fclosep) FILE *f = NULL;
        char proc[64], line[4096], path[4200];
        const char *root;
        struct statfs sfs;
        int fd;

        snprintf(proc, sizeof proc, "/proc/%d/cgroup", (int) pid);
        f = fopen(proc, "re");
        if (!f)
                return -errno;
        /* The unified hierarchy's line is "0::/path". */
        for (;;) {
                if (!fgets(line, sizeof line, f))
                        return -ENOENT;
                if (startswith(line, "0::/"))
                        break;
        }
        line[strcspn(line, "\n")] = 0;

        if (statfs("/sys/fs/cgroup", &sfs) < 0)
                return -errno;
        root = sfs.f_type == CGROUP2_SUPER_MAGIC ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
        if ((size_t) snprintf(path, sizeof path, "%s%s/cgroup.events", root, line + 3) >= sizeof path)
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

int run_scope_populated(const Run *run) {
        char buf[256];
        const char *p;
        ssize_t n;

        if (!run || run->cgroup_events_fd < 0)
                return -EBADF;
        n = pread(run->cgroup_events_fd, buf, sizeof buf - 1, 0);
        if (n < 0)
                return errno == ENODEV ? 0 : -errno;    /* ENODEV: the cgroup was removed */
        buf[n] = 0;
        p = strstr(buf, "populated ");
        if (!p)
                return -EBADMSG;
        return p[strlen("populated ")] == '1';
}

/* Lets the process execute the script once it is in its scope and no longer held (run_release()).
 * The go message is the home-folder status for the script's environment (exec-helper.h). */
static void run_send_go(Run *run) {
        const char *status = run->go_status ?: "";

        if (run->phase != RUN_PHASE_STARTING || run->result_reported || !run->scope_ready || run->held)
                return;

        /* A socket (not a pipe) with MSG_NOSIGNAL, so a helper that died meanwhile gives us EPIPE,
         * never SIGPIPE. One short message: the helper reads it in one go. */
        if (send(run->go_fd, status[0] ? status : "-", status[0] ? strlen(status) : 1,
                 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                int err = errno;
                run_abort_start(run, "Failed to let the process of %s start: %s", run->executable,
                                strerror(err));
                return;
        }
        run->go_fd = safe_close(run->go_fd);
        run->phase = RUN_PHASE_RUNNING;

        /* The spool entry is created while the process execs (its fsyncs overlap with the script
         * starting, not with systemd setting up the scope); no output is read before we return. */
        run_capture_open_spool(run->capture);
}

void run_release(Run *run, const char *home_folder_status) {
        if (!run || !run->held)
                return;
        free(run->go_status);
        run->go_status = home_folder_status ? strdup(home_folder_status) : NULL;
        run->held = false;
        run_send_go(run);
}

/* The scope's start job ended with result (NULL: it cannot be watched, error says why). */
static void on_job_done(JobWatch *j, const char *result, const char *error, void *userdata) {
        Run *run = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(run);

        run->job_watch = job_watch_free(run->job_watch);

        if (run->phase == RUN_PHASE_STARTING && !run->result_reported) {
                if (!result)
                        run_abort_start(run, "%s", error);
                else if (!streq(result, "done"))
                        run_abort_start(run, "systemd failed to start scope %s (job result: %s)", run->unit,
                                        result);
                else {
                        /* The process is in its scope now: note its cgroup (for
                         * run_scope_populated(); without it the manager waits for systemd's word on
                         * the scope instead), then let it exec. */
                        run->unit_created = true;
                        run->scope_ready = true;
                        run->cgroup_events_fd = cgroup_events_open(run->pid);
                        run_send_go(run);
                }
        }

        run_maybe_release(run);
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Run *run = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(run);
        const char *path;
        int r;

        run->start_slot = sd_bus_slot_unref(run->start_slot);

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                run_abort_start(run, "Failed to start scope %s: %s", run->unit,
                                e && e->message ? e->message : "?");
                run_maybe_release(run);
                return 0;
        }

        run->unit_created = true;
        r = sd_bus_message_read(m, "o", &path);
        if (r < 0) {
                run_log(&run->fields, LOG_WARNING, r,
                        "Failed to parse the reply of StartTransientUnit, ignoring: %m");
                return 0;
        }
        /* From now on only our job matches; on OOM the unit name alone still does. */
        if (run->job_watch)
                (void) job_watch_set_path(run->job_watch, path);
        return 0;
}

static int run_send_start_unit(Run *run) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *description = NULL;
        char slice[64], user[256];
        int r;

        if (run->script_context == SCRIPT_CONTEXT_USER)
                snprintf(slice, sizeof slice, "user-%u.slice", (unsigned) run->uid);
        else
                snprintf(slice, sizeof slice, "system.slice");

        utf8_sanitize(user, sizeof user, run->user, strlen(run->user), true);
        if (asprintf(&description, "Session script %s (%s) for %s", script_event_to_string(run->event_kind),
                     script_context_to_string(run->script_context), user) < 0)
                return -ENOMEM;

        r = sd_bus_message_new_method_call(run->bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                           "StartTransientUnit");
        if (r < 0)
                return r;

        /* The unit name is new, so the mode only matters for the slice the scope goes into. The
         * system context uses "fail": nothing of system.slice may be replaced (at shutdown that
         * would fight the shutdown transaction). The user context uses "replace": when the user's
         * last session ends, logind queues a stop job for user-UID.slice, and a termination scope
         * started right then must replace that stop job (the slice stays up until the scope is
         * gone) instead of failing as a "destructive" transaction. systemd's shutdown jobs are
         * irreversible, so "replace" cannot hold up a shutdown. */
        r = sd_bus_message_append(m, "ss", run->unit,
                                  run->script_context == SCRIPT_CONTEXT_USER ? "replace" : "fail");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", description, "Slice", "s", slice,
                                   "PIDs", "au", 1, (uint32_t) run->pid);
        if (r < 0)
                return r;
        /* The timeout itself (docs/behaviour.md §3): systemd stops the scope and every process in
         * it at the waiting time, also grandchildren the script left behind. */
        r = sd_bus_message_append(m, "(sv)(sv)", "RuntimeMaxUSec", "t",
                                   (uint64_t) run->waiting_time_sec * USEC_PER_SEC, "TimeoutStopUSec", "t",
                                   (uint64_t) RUN_TIMEOUT_STOP_USEC);
        if (r < 0)
                return r;
        /* No SendSIGHUP: scripts have no terminal, SIGTERM is the one stop signal they should
         * expect. CollectMode: a failed scope must not pile up in systemd's memory. */
        r = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;

        /* The call may take at most the run's waiting time; the deadline timer backs this up. */
        r = sd_bus_call_async(run->bus, &run->start_slot, m, on_start_reply, run,
                               (uint64_t) run->waiting_time_sec * USEC_PER_SEC);
        if (r < 0)
                return r;
        (void) sd_bus_slot_set_description(run->start_slot, "session-scripts-start-unit");
        run->unit_requested = true;
        run->fields.unit_known = true;
        return 0;
}

/* ---- Deadline and backstop ----------------------------------------------------------------------- */

static int on_backstop(sd_event_source *s, uint64_t usec, void *userdata) {
        Run *run = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(run);
        int r;

        if (run->backstop_stage == 0) {
                /* systemd should have stopped the scope by now (SIGTERM at RuntimeMaxSec, SIGKILL
                 * TimeoutStopSec later). Something is off: make sure, twice. */
                if (!run->reaped || !run_capture_is_over(run->capture)) {
                        if (run->unit_created) {
                                r = sd_bus_call_method_async(run->bus, NULL, "org.freedesktop.systemd1",
                                                              "/org/freedesktop/systemd1",
                                                              "org.freedesktop.systemd1.Manager", "KillUnit",
                                                              NULL, NULL, "ssi", run->unit, "all", SIGKILL);
                                if (r < 0)
                                        run_log(&run->fields, LOG_WARNING, r,
                                                "Failed to ask systemd to kill %s: %m", run->unit);
                        }
                        if (!run->reaped && run->pid > 0)
                                (void) kill(run->pid, SIGKILL);
                }

                run->backstop_stage = 1;
                (void) sd_event_source_set_time_relative(s, RUN_CAPTURE_GRACE_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }

        if (!run_capture_is_over(run->capture)) {
                /* Someone outside the scope holds our pipe; stop listening so the run ends. */
                run_log(&run->fields, LOG_WARNING, 0,
                        "Output of %s still open %us after its deadline, no longer capturing it.",
                        run->executable,
                        (unsigned) ((RUN_TIMEOUT_STOP_USEC + RUN_BACKSTOP_SLACK_USEC +
                                     RUN_CAPTURE_GRACE_USEC) / USEC_PER_SEC));
                run_capture_end(run->capture);
        }
        run_maybe_release(run);
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Run *run = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(run);
        int r;

        if (!run->result_reported) {
                if (run->phase == RUN_PHASE_STARTING)
                        run_abort_start(run, "systemd did not start scope %s within %us", run->unit,
                                        run->waiting_time_sec);
                else
                        /* systemd stops the scope itself (RuntimeMaxSec): we only report. */
                        run_report(run, RUN_RESULT_TIMEOUT, 0, 0);
        }

        if (!run_is_done(run) && !run->backstop_source) {
                r = sd_event_add_time_relative(run->event, &run->backstop_source, CLOCK_MONOTONIC,
                                                RUN_TIMEOUT_STOP_USEC + RUN_BACKSTOP_SLACK_USEC,
                                                RUN_DEADLINE_ACCURACY_USEC, on_backstop, run);
                if (r < 0)
                        run_log(&run->fields, LOG_ERR, r, "Failed to arm the stop backstop of %s: %m",
                                run->executable);
                else
                        (void) sd_event_source_set_description(run->backstop_source, "run-backstop");
        }

        run_maybe_release(run);
        return 0;
}

/* ---- Process ------------------------------------------------------------------------------------- */

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Run *run = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(run);
        ChildStatus st = { .stage = -1 };
        siginfo_t reaped = {};
        int code = si->si_code, status = si->si_status;

        /* Reap now ourselves (sd-event would, after we return; doing it here keeps the order simple:
         * from here on the pid is gone and must not be signalled). */
        (void) waitid(P_PID, run->pid, &reaped, WEXITED | WNOHANG);
        run->reaped = true;

        /* A start failure already queued its result (and killed the process): nothing to add. */
        if (!run->result_reported && !run->defer_source) {
                ssize_t n = run->status_fd >= 0 ? read(run->status_fd, &st, sizeof st) : -1;

                if (n == (ssize_t) sizeof st && child_stage_to_string(st.stage)) {
                        run_set_error(run, "%s %s: %s", child_stage_to_string(st.stage),
                                      st.stage == CHILD_STAGE_EXEC ? run->executable
                                      : st.stage == CHILD_STAGE_UID || st.stage == CHILD_STAGE_GID ||
                                                      st.stage == CHILD_STAGE_GROUPS
                                              ? run->user
                                              : "",
                                      strerror(st.error));
                        run_report(run, RUN_RESULT_FAILED, 0, 0);
                } else if (run->phase != RUN_PHASE_RUNNING)
                        run_abort_start(run, "The process of %s ended before it could start",
                                        run->executable);
                else if (code == CLD_EXITED)
                        run_report(run, status == 0 ? RUN_RESULT_SUCCESS : RUN_RESULT_EXIT_CODE, status, 0);
                else
                        run_report(run, RUN_RESULT_SIGNAL, 0, status);
        }

        run->status_fd = safe_close(run->status_fd);
        run_maybe_release(run);
        return 0;
}

/* Capture ended by EOF: the run may be over. */
static void on_capture_over(RunCapture *c, void *userdata) {
        Run *run = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(run);

        run_maybe_release(run);
}

/* Starts the run's process: session-scripts-exec, which waits for the go message (exec-helper.h)
 * with fds[i] as its descriptor i. Returns 0 and the pid, or -errno. */
static int run_spawn_helper(Run *run, int exe_fd, const int fds[static 6], pid_t *ret_pid) {
        _cleanup_(strv_freep) char **argv = NULL;
        char magic[2] = {};
        bool script;
        int r;

        script = pread(exe_fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!';
        r = exec_helper_run_argv(
                        &(ExecHelperRun) {
                                .script = script,
                                .user = run->script_context == SCRIPT_CONTEXT_USER,
                                .uid = run->uid,
                                .gid = run->gid,
                                .groups = run->groups,
                                .n_groups = run->n_groups,
                                .home = run->home,
                                .limits = default_limits_get(),
                                .argv = run->argv,
                        },
                        &argv);
        if (r < 0)
                return r;

        return exec_helper_spawn(argv, run->envp, fds, 6, ret_pid);
}

/* Starts the run's process and asks systemd for its scope. On failure the run is reported later
 * as FAILED with run->error set; returns -ENOMEM only when even that cannot be arranged. */
static int run_spawn(Run *run, int exe_fd) {
        _cleanup_(close_pairp) int out[2] = { -EBADF, -EBADF }, err[2] = { -EBADF, -EBADF },
                                   go[2] = { -EBADF, -EBADF }, status[2] = { -EBADF, -EBADF };
        _cleanup_(closep) int null_fd = -EBADF;
        pid_t pid;
        int r;

        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null_fd < 0) {
                run_set_error(run, "Failed to open /dev/null: %s", strerror(errno));
                return -errno;
        }
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0) {
                run_set_error(run, "Failed to create pipes: %s", strerror(errno));
                return -errno;
        }
        /* Our ends never block the loop. Bigger pipes: fewer wakeups for chatty scripts (best effort,
         * an unprivileged limit may refuse). */
        if (fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(err[0], F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(status[0], F_SETFL, O_NONBLOCK) < 0) {
                run_set_error(run, "Failed to make pipes non-blocking: %s", strerror(errno));
                return -errno;
        }
        (void) fcntl(out[0], F_SETPIPE_SZ, RUN_PIPE_SIZE);
        (void) fcntl(err[0], F_SETPIPE_SZ, RUN_PIPE_SIZE);

        r = run_spawn_helper(run, exe_fd, (int[]) { null_fd, out[1], err[1], exe_fd, status[1], go[1] },
                             &pid);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                run_set_error(run, "Failed to start %s: %s", EXEC_HELPER_PATH, strerror(-r));
                return r;
        }

        run->pid = pid;
        run->phase = RUN_PHASE_STARTING;
        run->reaped = false;
        run->go_fd = TAKE_FD(go[0]);
        run->status_fd = TAKE_FD(status[0]);

        /* From here the process exists: every failure below must kill it, so it has to be watched. */
        r = sd_event_add_child(run->event, &run->child_source, pid, WEXITED, on_child_exit, run);
        if (r < 0) {
                /* Without SIGCHLD blocked (or on OOM) we cannot watch it: kill and reap right away,
                 * it has not executed the script yet (it waits for the go message). */
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                run->reaped = true;
                run_set_error(run, "Failed to watch the child process: %s", strerror(-r));
                return r;
        }
        (void) sd_event_source_set_description(run->child_source, "run-child");

        r = run_capture_start(run->capture, TAKE_FD(out[0]), TAKE_FD(err[0]));
        if (r < 0)
                goto kill;

        /* The start handshake: subscribe to JobRemoved first, then ask for the scope. */
        r = job_watch_new(run->context->watch, run->unit, on_job_done, run, &run->job_watch);
        if (r < 0)
                goto kill;

        r = run_send_start_unit(run);
        if (r < 0)
                goto kill;

        return 0;

kill:
        run->job_watch = job_watch_free(run->job_watch);
        run->go_fd = safe_close(run->go_fd);
        (void) kill(pid, SIGKILL);
        run_set_error(run, "Failed to ask systemd for scope %s: %s", run->unit, strerror(-r));
        return r;
}

/* ---- Start --------------------------------------------------------------------------------------- */

static void sanitize_unit_part(char *ret, size_t size, const char *s) {
        size_t o = 0;

        /* Unit names allow [A-Za-z0-9:_.\\-]; everything else (and '\\', which would read as an
         * escape) becomes '_'. */
        for (; s && *s && o + 1 < size; s++)
                ret[o++] = ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                            (*s >= '0' && *s <= '9') || *s == ':' || *s == '_' || *s == '.' || *s == '-')
                                   ? *s
                                   : '_';
        if (o == 0 && size > 1)
                ret[o++] = '_';
        ret[o] = 0;
}

/* The scope's name: session-scripts-EVENT-CONTEXT-SESSION-RANDOM.scope (at most 255 characters:
 * the session id part is bounded by the session-id rule). */
static int run_make_unit_name(Run *run, const char *session_id) {
        char sid[SESSION_SCRIPTS_SESSION_ID_MAX + 1];
        uint8_t rnd[4] = {};

        if (getrandom(rnd, sizeof rnd, GRND_INSECURE) < 0)
                for (size_t i = 0; i < sizeof rnd; i++)
                        rnd[i] = (uint8_t) random();

        sanitize_unit_part(sid, sizeof sid, session_id);
        if (asprintf(&run->unit, "session-scripts-%s-%s-%s-%02x%02x%02x%02x.scope",
                     run->event_kind == SCRIPT_EVENT_START ? "start" : "termination",
                     script_context_to_string(run->script_context), sid, rnd[0], rnd[1], rnd[2],
                     rnd[3]) < 0) {
                run->unit = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int run_copy_params(Run *run, const RunParams *p) {
        int r;

        run->user = strdup(p->user);
        run->executable = strdup(p->argv[0]);
        run->home = p->home ? strdup(p->home) : NULL;
        run->held = p->hold;
        run->argv = strv_copy(p->argv);
        run->envp = strv_copy(p->envp);
        if (!run->user || !run->executable || (p->home && !run->home) || !run->argv || !run->envp)
                return -ENOMEM;

        /* The verified file descriptor is what runs, so a script's $0 is /dev/fd/3, not its path:
         * tell the script where it was installed, for scripts that look for files next to
         * themselves (dirname "$AppStream_Session_Script"). */
        r = strv_extendf(&run->envp, SESSION_SCRIPTS_ENV_SCRIPT_PATH "=%s", p->argv[0]);
        if (r < 0)
                return r;

        if (p->n_groups > 0) {
                run->groups = malloc(p->n_groups * sizeof(gid_t));
                if (!run->groups)
                        return -ENOMEM;
                memcpy(run->groups, p->groups, p->n_groups * sizeof(gid_t));
        }
        run->n_groups = p->n_groups;
        run->event_kind = p->event;
        run->script_context = p->context;
        run->uid = p->uid;
        run->gid = p->gid;
        run->waiting_time_sec = p->waiting_time_sec;
        return 0;
}

int run_start(RunnerContext *context, const RunParams *params, RunFinishedFn callback, void *userdata,
              Run **ret) {
        _cleanup_(run_unrefp) Run *run = NULL;
        _cleanup_(closep) int exe_fd = -EBADF;
        int r;

        if (!context || !params || !ret || !params->session_id || !params->user || !params->argv ||
            !params->argv[0] || !params->envp || !params->baseline)
                return -EINVAL;
        if ((unsigned) params->event >= _SCRIPT_EVENT_MAX ||
            (unsigned) params->context >= _SCRIPT_CONTEXT_MAX)
                return -EINVAL;
        if (params->waiting_time_sec < SCRIPT_CONFIG_WAITING_TIME_MIN ||
            params->waiting_time_sec > SCRIPT_CONFIG_WAITING_TIME_MAX)
                return -EINVAL;
        if (params->n_groups > RUN_GROUPS_MAX || (params->n_groups > 0 && !params->groups))
                return -EINVAL;

        run = calloc(1, sizeof *run);
        if (!run)
                return -ENOMEM;
        run->n_ref = 1;
        run->go_fd = run->status_fd = run->cgroup_events_fd = -EBADF;
        run->reaped = true;       /* until there is a process */
        run->context = runner_context_ref(context);
        run->event = sd_event_ref(context->event);
        run->bus = sd_bus_ref(systemd_watch_get_bus(context->watch));
        run->callback = callback;
        run->userdata = userdata;
        run->start_usec = now(CLOCK_MONOTONIC);

        r = run_copy_params(run, params);
        if (r < 0)
                return r;
        r = run_make_unit_name(run, params->session_id);
        if (r < 0)
                return r;
        r = run_fields_init(&run->fields, params->session_id, run->event_kind, run->script_context,
                            run->user, run->executable, run->unit);
        if (r < 0)
                return r;
        r = run_capture_new(run->event, &run->fields, run->executable,
                             &(RunSpoolParams) {
                                     .dir = params->spool_dir,
                                     .key = params->spool_key,
                                     .session_id = params->session_id,
                                     .event = run->event_kind,
                                     .context = run->script_context,
                                     .user = run->user,
                             },
                             on_capture_over, run, &run->capture);
        if (r < 0)
                return r;

        r = sd_event_add_time(run->event, &run->deadline_source, CLOCK_MONOTONIC,
                               run->start_usec + (usec_t) run->waiting_time_sec * USEC_PER_SEC,
                               RUN_DEADLINE_ACCURACY_USEC, on_deadline, run);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(run->deadline_source, "run-deadline");

        /* Early results are reported from the loop; the capture (of nothing, or of a killed
         * process's pipes) then ends and finishes the spool entry. */
        exe_fd = tamper_verify_open(params->baseline, run->executable);
        if (exe_fd == -EBADMSG)
                r = run_report_later(run, RUN_RESULT_TAMPERED);
        else if (exe_fd < 0) {
                run_set_error(run, "Failed to open %s: %s", run->executable, strerror(-exe_fd));
                r = run_report_later(run, RUN_RESULT_FAILED);
        } else {
                r = run_spawn(run, exe_fd);
                if (r < 0 && !(r == -ENOMEM && !run->error))
                        r = run_report_later(run, RUN_RESULT_FAILED);
        }
        if (r < 0) {
                /* Out of memory, so nothing is left to watch the process: it still waits for the
                 * go message (it ran nothing), kill and reap it here. */
                if (!run->reaped && run->pid > 0) {
                        (void) kill(run->pid, SIGKILL);
                        (void) waitpid(run->pid, NULL, 0);
                        run->reaped = true;
                }
                return r;
        }

        /* The run keeps itself alive until it is over, whatever the caller does with its ref. */
        run->self_ref = true;
        run_ref(run);
        context->n_active++;

        *ret = TAKE_PTR(run);
        return 0;
}
