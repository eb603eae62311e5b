/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session lifecycle of session-scriptsd (SPEC §3): loading settings and config.json (with the
 * tamper baseline of the provisioned instance), opening and closing sessions, starting the runs of
 * an event through the runner, collecting their results, waiting for their scopes to be gone,
 * answering waiters, and keeping the per-session state file current. See manager.h.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "manager-dbus.h"
#include "cleanup.h"
#include "fileio.h"
#include "home-folder.h"
#include "home-probe.h"
#include "log.h"
#include "logind-watch.h"
#include "manager.h"
#include "object-key.h"
#include "output.h"
#include "runner.h"
#include "session-scripts/session-scripts.h"
#include "unit-watch.h"
#include "user-env.h"
#include "time-util.h"


static char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

int manager_new(sd_event *event, const char *settings_path, const char *config_path, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(Manager));

        if (!m)
                return -ENOMEM;

        m->event = sd_event_ref(event);
        m->settings_path = strdup_or_null(settings_path);
        m->config_path_override = strdup_or_null(config_path);
        m->sessions_dir = strdup(SESSION_SCRIPTS_SESSIONS_DIR);
        m->spool_dir = strdup(SESSION_SCRIPTS_SPOOL_DIR);
        m->baseline_path = strdup(MANAGER_BASELINE_FILE);
        m->waiting_times_path = strdup(SESSION_SCRIPTS_WAIT_FILE);
        if ((settings_path && !m->settings_path) || (config_path && !m->config_path_override) ||
            !m->sessions_dir || !m->spool_dir || !m->baseline_path || !m->waiting_times_path)
                return -ENOMEM;

        *ret = TAKE_PTR(m);
        return 0;
}

static void manager_unlink_session(Manager *m, Session *s) {
        if (s->prev)
                s->prev->next = s->next;
        else
                m->sessions = s->next;
        if (s->next)
                s->next->prev = s->prev;
        s->prev = s->next = NULL;
        m->n_sessions--;
}

static void manager_link_session(Manager *m, Session *s) {
        s->manager = m;
        s->prev = NULL;
        s->next = m->sessions;
        if (m->sessions)
                m->sessions->prev = s;
        m->sessions = s;
        m->n_sessions++;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        while (m->sessions) {
                Session *s = m->sessions;
                manager_unlink_session(m, s);
                session_free(s);
        }

        m->trim_source = sd_event_source_disable_unref(m->trim_source);
        m->logind_watch = logind_watch_free(m->logind_watch);
        m->subscribers = bus_subscribers_free(m->subscribers);  /* holds a bus reference */
        script_config_free(m->config);
        tamper_baseline_done(&m->baseline);
        settings_done(&m->settings);
        free(m->config_path);
        free(m->lang);
        free(m->settings_path);
        free(m->config_path_override);
        free(m->sessions_dir);
        free(m->spool_dir);
        free(m->baseline_path);
        free(m->waiting_times_path);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

Session *manager_find_session(Manager *m, const char *id) {
        Session *s = session_find(m->sessions, id);

        return s && !s->hidden ? s : NULL;
}

Session *manager_find_session_any(Manager *m, const char *id) {
        return session_find(m->sessions, id);
}

/* ---- Settings and config --------------------------------------------------------------------- */

static void settings_report(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: %s", file ?: "(settings)", line, message);
}

static void log_findings(const char *path, const FindingList *f) {
        for (size_t i = 0; i < f->n; i++) {
                const Finding *x = &f->items[i];
                int prio = x->severity == FINDING_ERROR ? LOG_ERR : LOG_WARNING;
                const char *what = x->severity == FINDING_ERROR ? "error" : "warning";

                if (x->line > 0)
                        log_full_errno(prio, 0, "%s:%u:%u: %s: %s%s%s", path, x->line, x->column, what,
                                       x->message, x->json_path && x->json_path[0] ? " at " : "",
                                       x->json_path ?: "");
                else
                        log_full_errno(prio, 0, "%s: %s: %s%s%s", x->file ?: path, what, x->message,
                                       x->json_path && x->json_path[0] ? " at " : "", x->json_path ?: "");
        }
}

/* Collects config_path and every executable that runs, for the tamper baseline. */
static int config_collect_paths(const ScriptConfig *c, const char *config_path, char ***ret) {
        char **l = calloc(1 + _SCRIPT_EVENT_MAX * _SCRIPT_CONTEXT_MAX + 1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        if (!(l[n++] = strdup(config_path))) {
                strv_free(l);
                return -ENOMEM;
        }
        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (ScriptContext x = 0; x < _SCRIPT_CONTEXT_MAX; x++) {
                        const ScriptExecutable *exe = &c->events[e].executables[x];
                        if (!c->events[e].present || !script_executable_runs(exe))
                                continue;
                        if (!(l[n++] = strdup(exe->filename))) {
                                strv_free(l);
                                return -ENOMEM;
                        }
                }
        *ret = l;
        return 0;
}

/* Opens the configuration file for reading: through the stored baseline when there is one (so
 * that the bytes read are the bytes verified), else plainly. *ret_tampered tells that it does not
 * match the baseline. Returns the fd or -errno. */
static int config_open(const char *path, const TamperBaseline *stored, bool *ret_tampered) {
        int fd;

        *ret_tampered = false;
        if (stored) {
                fd = tamper_verify_open(stored, path);
                if (fd != -EBADMSG)
                        return fd;
                *ret_tampered = true;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

static uint64_t manager_event_wait_usec(Manager *m, ScriptEvent e);

/* Publishes the events' waiting times for the PAM module (SESSION_SCRIPTS_WAIT_FILE), atomically.
 * Best effort: without it the module bounds a busy registration by the largest waiting time. */
static void manager_write_waiting_times(Manager *m) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(closep) int fd = -EBADF;
        char buf[128];
        int n;

        if (!m->waiting_times_path)
                return;
        n = snprintf(buf, sizeof buf, "%s=%u\n%s=%u\n", SESSION_SCRIPTS_EVENT_START,
                     (unsigned) (manager_event_wait_usec(m, SCRIPT_EVENT_START) / USEC_PER_SEC),
                     SESSION_SCRIPTS_EVENT_TERMINATION,
                     (unsigned) (manager_event_wait_usec(m, SCRIPT_EVENT_TERMINATION) / USEC_PER_SEC));
        if (asprintf(&tmp, "%s.tmp", m->waiting_times_path) < 0) {
                tmp = NULL;
                return;
        }
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || loop_write(fd, buf, (size_t) n) < 0 || rename(tmp, m->waiting_times_path) < 0) {
                log_debug_errno(errno, "Failed to write %s, ignoring: %m", m->waiting_times_path);
                (void) unlink(tmp);
        }
}

static int manager_load_config(Manager *m, bool provision) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        _cleanup_(finding_list_done) FindingList findings = {};
        _cleanup_(freep) char *buf = NULL, *path = NULL;
        _cleanup_(strv_freep) char **paths = NULL;
        _cleanup_(tamper_baseline_done) TamperBaseline stored = {};
        _cleanup_(closep) int fd = -EBADF;
        TamperBaseline baseline = {};
        bool reuse = false, tampered = false;
        size_t len = 0;
        int r;

        path = strdup(m->config_path_override ?: m->settings.config_file ?: SESSION_SCRIPTS_CONFIG_PATH);
        if (!path)
                return log_oom();

        /* A daemon restarted after its predecessor died (crash, watchdog) checks against what was
         * provisioned (that one's start, or its last reload), not against what is on disk now:
         * otherwise making it crash would bless a modified executable. A clean stop removes the
         * stored baseline (main.c), so a deliberate start or restart provisions anew. */
        if (!provision) {
                r = tamper_baseline_load(m->baseline_path, &stored);
                if (r == -ENOMEM)
                        return log_oom();
                if (r >= 0)
                        reuse = true;
                else if (r != -ENOENT && r != -ESTALE)
                        log_warning_errno(r, "Ignoring the stored tamper baseline %s, recording a new one: %m",
                                          m->baseline_path);
        }

        fd = config_open(path, reuse ? &stored : NULL, &tampered);
        if (fd >= 0)
                r = read_fd_bounded(fd, SCRIPT_CONFIG_MAX_FILE_SIZE, &buf, &len);
        else
                r = fd;
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                if (r == -ENOENT)
                        log_notice("No configuration file %s; %s", path,
                                   m->config ? "keeping the previous configuration." :
                                               "no session scripts will run.");
                else
                        log_error_errno(r, "Failed to read configuration file %s%s: %m; %s", path,
                                        r == -EFBIG ? " (too large)" : "",
                                        m->config ? "keeping the previous configuration." :
                                                    "no session scripts will run.");
                return -EBADMSG;
        }

        r = script_config_parse(buf, len, &c, &findings);
        if (r == -ENOMEM)
                return log_oom();
        if (r >= 0) {
                r = script_config_check_files(c, path, &findings);
                if (r < 0)
                        return log_oom();
        }
        log_findings(path, &findings);

        if (findings.n_errors > 0 || !c) {
                log_error("Configuration %s has %zu error(s); %s", path, findings.n_errors,
                          m->config ? "keeping the previous configuration." : "no session scripts will run.");
                return -EBADMSG;
        }

        if (reuse) {
                baseline = stored;
                stored = (TamperBaseline) {};
        } else {
                /* The instance is "provisioned" now: record what the executables are, so that a
                 * later change is caught before a run (SPEC §3, tamper check), and keep the record
                 * for a restarted daemon. */
                r = config_collect_paths(c, path, &paths);
                if (r < 0)
                        return log_oom();
                r = tamper_baseline_record(&baseline, paths);
                if (r < 0)
                        return log_error_errno(r, "Failed to record the tamper baseline: %m");
                r = tamper_baseline_save(&baseline, m->baseline_path);
                if (r < 0)
                        log_warning_errno(r, "Failed to store the tamper baseline in %s, a restarted daemon will record a new one: %m",
                                          m->baseline_path);
        }

        tamper_baseline_done(&m->baseline);
        m->baseline = baseline;
        m->config_tampered = tampered;
        script_config_free(m->config);
        m->config = TAKE_PTR(c);
        free(m->config_path);
        m->config_path = TAKE_PTR(path);
        manager_write_waiting_times(m);

        if (tampered)
                log_error("Configuration %s was modified after the instance was provisioned; none of its executables will run until the daemon is reloaded (systemctl reload session-scripts.service).",
                          m->config_path);
        else if (reuse)
                /* Not "Loaded configuration …": `session-scripts status` reads the time of the last
                 * recording from that entry, and nothing was recorded now. */
                log_info("Using configuration %s (%zu warning(s)) with the tamper baseline of %zu file(s) recorded when the instance was provisioned.",
                         m->config_path, findings.n_warnings, m->baseline.n);
        else
                log_info("Loaded configuration %s (%zu warning(s)); tamper baseline of %zu file(s) recorded.",
                         m->config_path, findings.n_warnings, m->baseline.n);
        return 0;
}

int manager_load(Manager *m, bool provision) {
        Settings s = {};
        char *lang = NULL;
        bool settings_failed = false;
        int r;

        r = settings_load(m->settings_path, &s, settings_report, m);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_error_errno(r, "Failed to read settings %s: %m; keeping the previous settings.",
                                m->settings_path ?: SESSION_SCRIPTS_SETTINGS_PATH);
                settings_failed = true;
        } else {
                settings_done(&m->settings);
                m->settings = s;
        }

        if (!m->settings.bucket && !m->bucket_logged) {
                log_info("No Bucket= configured in [S3]; session script logs go to the journal only.");
                m->bucket_logged = true;
        }

        r = locale_lang_read(USER_ENV_LOCALE_PATH, &lang);
        if (r < 0)
                log_warning_errno(r, "Failed to read %s, using LANG=%s: %m", USER_ENV_LOCALE_PATH,
                                  USER_ENV_LANG_DEFAULT);
        free(m->lang);
        m->lang = r > 0 ? lang : NULL;

        r = manager_load_config(m, provision);
        if (r < 0)
                return r;
        return settings_failed ? -EBADMSG : 0;
}

int manager_reload(Manager *m) {
        int r;

        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration…");
        r = manager_load(m, true);
        (void) sd_notify(false, "READY=1\nSTATUS=Processing requests…");
        return r;
}

/* ---- Runs and events ------------------------------------------------------------------------- */

static void session_save(Session *s) {
        int r;

        /* A RunEvent session dies with the daemon: nothing of it is to be resumed. */
        if (s->transient)
                return;
        r = session_state_save(s, s->manager->sessions_dir);
        if (r < 0)
                log_warning_errno(r, "Failed to save state of session %s, ignoring: %m", s->id);
}

static void session_arm_forget(Session *s, uint64_t delay_usec);

static int on_trim(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->trim_source = sd_event_source_disable_unref(m->trim_source);
        /* A burst of logins leaves the heap fragmented: free pages in the middle of it go back to
         * the kernel only when asked, so the daemon's memory would otherwise stay at what its
         * busiest moment needed. */
        (void) malloc_trim(0);
        return 0;
}

/* Trims the heap once forgetting has quietened down: at most one trim per MANAGER_TRIM_DELAY_USEC,
 * coalesced so that a burst of ending sessions costs one trim, not one each. */
static void manager_schedule_trim(Manager *m) {
        int r;

        if (m->trim_source)
                return;
        r = sd_event_add_time_relative(m->event, &m->trim_source, CLOCK_MONOTONIC, MANAGER_TRIM_DELAY_USEC,
                                       USEC_PER_SEC, on_trim, m);
        if (r < 0)
                log_debug_errno(r, "Failed to arm the heap trim timer, ignoring: %m");
}

/* Drops a session: its state file, its entry in the list, the object. A refused session announces
 * its end now (an accepted one did so when its termination finished) and is only hidden at first
 * (see Session.hidden); the next call, MANAGER_FORGET_DELAY_USEC later, frees it. The caller must
 * not be inside a callback of one of s's runs (use session_arm_forget() with delay 0 there). */
static void manager_forget_session(Manager *m, Session *s) {
        int r;

        if (!s->hidden) {
                r = session_state_remove(s->id, m->sessions_dir);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove state of session %s, ignoring: %m", s->id);
        }

        if (s->refused && !s->hidden) {
                manager_dbus_emit_session_ended(m, s);
                log_debug("Forgetting refused session %s; its id stays refused for a while.", s->id);
                s->hidden = true;
                s->forget_source = sd_event_source_disable_unref(s->forget_source);
                session_arm_forget(s, MANAGER_FORGET_DELAY_USEC);
                return;
        }

        log_debug("Forgetting session %s.", s->id);
        manager_unlink_session(m, s);
        session_free(s);
        manager_schedule_trim(m);
}

static int on_forget(sd_event_source *source, uint64_t usec, void *userdata) {
        Session *s = userdata;

        manager_forget_session(s->manager, s);
        return 0;
}

/* Forgets s after delay_usec (0: on the next turn of the event loop, outside of any callback of
 * its runs). The late forget may be coalesced by a second; an immediate one gets accuracy 1 µs
 * (0 would mean sd-event's default of 250 ms), so a refused session is gone without delay. */
static void session_arm_forget(Session *s, uint64_t delay_usec) {
        int r;

        if (s->forget_source)
                return;
        r = sd_event_add_time_relative(s->manager->event, &s->forget_source, CLOCK_MONOTONIC, delay_usec,
                                       delay_usec > 0 ? USEC_PER_SEC : 1, on_forget, s);
        if (r < 0)
                log_warning_errno(r, "Failed to arm forget timer of session %s, ignoring: %m", s->id);
}

static int session_start_event(Session *s, ScriptEvent e);
static void session_logind_check(Session *s);

/* Answers one WaitSessionEvent() call with the recorded result of e. The start of a refused session
 * reads as failed whatever its runs did: a second pam_session_scripts line with require_success
 * must refuse it too, not let it in. */
static int session_reply_wait(const Session *s, ScriptEvent e, sd_bus_message *msg) {
        const SessionEvent *ev = &s->events[e];
        bool refused = e == SCRIPT_EVENT_START && s->refused;
        const char *message = ev->message ?: "";

        if (refused && !message[0])
                message = "This session was refused.";
        return manager_dbus_reply_wait(msg, ev->success && !refused, message, ev->last_line ?: "");
}

/* The results of all runs of the event are in: compose the event's result and answer its waiters.
 * Called as soon as the results are known (the PAM call need not wait for processes a script left
 * in its scope: systemd stops them at the deadline anyway), and again when the event finishes. */
static void session_answer_waiters(Session *s, ScriptEvent e, bool save) {
        SessionEvent *ev = &s->events[e];
        int r;

        if (!ev->result_recorded) {
                r = session_event_compose_result(ev);
                if (r < 0) {
                        log_oom();
                        ev->success = false;
                }
                ev->result_recorded = true;
                /* Recorded before anybody is told: a daemon restarted from here on must give later
                 * waiters the same answer. */
                if (save)
                        session_save(s);
        }

        for (size_t i = 0; i < ev->n_waiters; i++) {
                r = session_reply_wait(s, e, ev->waiters[i]);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a waiter of session %s, ignoring: %m", s->id);
                sd_bus_message_unref(ev->waiters[i]);
        }
        ev->waiters = (free(ev->waiters), NULL);
        ev->n_waiters = 0;
}

/* All runs of the event have ended and their scopes are gone (or none was to run): record,
 * answer, go on. */
static void session_finish_event(Session *s, ScriptEvent e) {
        Manager *m = s->manager;
        SessionEvent *ev = &s->events[e];

        ev->overdue_source = sd_event_source_disable_unref(ev->overdue_source);
        session_answer_waiters(s, e, false);   /* the state is saved below, with state DONE */
        ev->state = EVENT_STATE_DONE;

        if (ev->success)
                log_info("%s of session %s (user %s) finished successfully.", script_event_to_string(e), s->id,
                         s->user);
        else
                log_notice("%s of session %s (user %s) finished: %s", script_event_to_string(e), s->id, s->user,
                           ev->message ?: "");

        if (s->transient) {
                /* RunEvent: the one event of the manual run is over. Termination never follows a
                 * transient start (marked done: the session is not counted as active any more);
                 * kept a while so that a late WaitSessionEvent/ListRuns still gets the result. */
                if (e == SCRIPT_EVENT_START) {
                        s->events[SCRIPT_EVENT_TERMINATION].state = EVENT_STATE_DONE;
                        s->events[SCRIPT_EVENT_TERMINATION].success = true;
                }
                manager_dbus_emit_session_ended(m, s);
                session_arm_forget(s, MANAGER_FORGET_DELAY_USEC);
                return;
        }

        if (e == SCRIPT_EVENT_START && s->refused) {
                /* RefuseSession came while the start ran: nothing more happens to this session.
                 * Deferred, as this may run inside a run's finished callback. */
                session_save(s);
                session_arm_forget(s, 0);
                return;
        }

        if (e == SCRIPT_EVENT_START && s->events[SCRIPT_EVENT_TERMINATION].state == EVENT_STATE_PENDING) {
                /* CloseSession came while the start ran: termination starts now, its deadline counts
                 * from now (session_start_event() saves the state). */
                (void) session_start_event(s, SCRIPT_EVENT_TERMINATION);
                return;
        }

        if (e == SCRIPT_EVENT_TERMINATION) {
                /* Over for good: nothing of it is left for a restarted daemon to resume, so its state
                 * file goes now; the result stays in memory a while for late callers. */
                int r = session_state_remove(s->id, m->sessions_dir);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove state of session %s, ignoring: %m", s->id);
                manager_dbus_emit_session_ended(m, s);
                session_arm_forget(s, MANAGER_FORGET_DELAY_USEC);
                return;
        }

        session_save(s);
}

static void session_run_record_failure(SessionRun *r, RunResultKind kind, const char *error) {
        r->finished = true;
        r->kind = kind;
        free(r->error);
        r->error = strdup_or_null(error);
        free(r->last_line);
        r->last_line = strdup("");
}

/* Finishes e when it runs and nothing of it is left to wait for; answers its waiters already when
 * only processes left in scopes are. */
static void session_event_check(Session *s, ScriptEvent e) {
        SessionEvent *ev = &s->events[e];

        if (ev->state != EVENT_STATE_RUNNING)
                return;
        if (session_event_all_finished(ev))
                session_finish_event(s, e);
        else if (session_event_results_known(ev))
                session_answer_waiters(s, e, true);
}

static void on_scope_gone(UnitWatch *w, void *userdata) {
        SessionRun *r = userdata;
        Session *s = r->session;

        log_debug("Scope %s of session %s is gone.", unit_watch_get_unit(w), s->id);
        r->scope_watch = unit_watch_free(r->scope_watch);
        session_event_check(s, r->event);
}

static void on_run_finished(Run *run, const RunResult *result, void *userdata) {
        SessionRun *r = userdata;
        Session *s = r->session;
        char last[OUTPUT_LAST_LINE_MAX + 1];

        if (r->finished)
                return;

        r->finished = true;
        r->kind = result->kind;
        r->exit_status = result->exit_status;
        r->signal = result->signal;
        r->duration_usec = result->duration_usec;
        if (result->unit) {
                free(r->unit);
                r->unit = strdup(result->unit);
        }
        /* The runner sanitises already; bound and clean again, the text goes to a user's screen. */
        last[0] = 0;
        if (result->last_line)
                (void) utf8_sanitize(last, sizeof last, result->last_line, strlen(result->last_line), true);
        free(r->last_line);
        r->last_line = strdup(last);
        free(r->error);
        r->error = strdup_or_null(result->error);

        manager_dbus_emit_run_finished(s->manager, r);

        /* The result is known, but the event is over only once no process of the run is left:
         * at the deadline systemd is only beginning to stop the scope, and a script may have left
         * children behind. Termination must not overlap with them. The kernel says at once when
         * the scope's cgroup is empty (the common case: the script and all it started have exited);
         * else, or when it cannot tell, wait for systemd to report the scope gone. */
        if (r->unit && !r->scope_watch && run_scope_populated(run) != 0) {
                int k = unit_watch_new(s->manager->bus, r->unit, on_scope_gone, r, &r->scope_watch);
                if (k < 0)
                        log_warning_errno(k, "Failed to watch scope %s of session %s, not waiting for it to end: %m",
                                          r->unit, s->id);
        }

        /* Everything the session keeps of the run is copied above: the run's pidfd, pipes and
         * buffers go as soon as its capture ends, not when the session is forgotten. Our caller
         * (the runner) holds a reference of its own while calling us. */
        if (r->run == run) {
                run_detach(run);
                r->run = run_unref(r->run);
        }

        session_event_check(s, r->event);
}

static int on_event_overdue(sd_event_source *source, uint64_t usec, void *userdata) {
        SessionEvent *ev = userdata;
        Session *s = ev->runs[0].session;

        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                SessionRun *r = &ev->runs[c];

                if (r->used && !r->finished) {
                        log_error("Run of %s (%s context) of session %s did not report its end; counting it as timed out.",
                                  r->executable, script_context_to_string(c), s->id);
                        if (r->run) {
                                run_detach(r->run);
                                r->run = run_unref(r->run);
                        }
                        session_run_record_failure(r, RUN_RESULT_TIMEOUT, NULL);
                        manager_dbus_emit_run_finished(s->manager, r);
                }
                if (r->scope_watch) {
                        /* systemd SIGKILLed the scope RUN_TIMEOUT_STOP_USEC after the deadline; if it
                         * still is not gone, something else is wrong, and the session must go on. */
                        log_warning("Scope %s of session %s is still there %.1f s after its deadline; no longer waiting for it.",
                                    unit_watch_get_unit(r->scope_watch), s->id,
                                    (double) (RUN_TIMEOUT_STOP_USEC + MANAGER_OVERDUE_GRACE_USEC) / USEC_PER_SEC);
                        r->scope_watch = unit_watch_free(r->scope_watch);
                }
        }
        if (ev->state == EVENT_STATE_RUNNING)
                session_finish_event(s, ev->runs[0].event);
        return 0;
}

/* Builds argv = [filename, split arguments…]. */
static int executable_argv(const ScriptExecutable *x, char ***ret) {
        size_t n = 0;
        char **l;

        while (x->argv && x->argv[n])
                n++;
        l = calloc(n + 2, sizeof(char *));
        if (!l)
                return -ENOMEM;
        l[0] = strdup(x->filename);
        if (!l[0]) {
                free(l);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (!(l[i + 1] = strdup(x->argv[i]))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        *ret = l;
        return 0;
}

static int session_start_run(Session *s, ScriptEvent e, ScriptContext c, const ScriptEventConfig *ec,
                             const char *runtime_dir) {
        static const TamperBaseline empty_baseline = {};
        Manager *m = s->manager;
        const ScriptExecutable *x = &ec->executables[c];
        SessionRun *r = &s->events[e].runs[c];
        _cleanup_(strv_freep) char **env = NULL, **argv = NULL;
        _cleanup_(freep) char *key = NULL;
        int k;

        r->used = true;
        r->finished = false;
        r->waiting_time_sec = ec->waiting_time_sec;
        r->scope_watch = unit_watch_free(r->scope_watch);
        free(r->unit);
        r->unit = NULL;
        free(r->executable);
        r->executable = strdup(x->filename);
        if (!r->executable)
                return -ENOMEM;

        if (!s->user_resolved) {
                /* Only after a restart when the user vanished meanwhile: without uid, groups and home
                 * nothing can run on the user's behalf, in either context. */
                session_run_record_failure(r, RUN_RESULT_FAILED, "the user could not be looked up");
                manager_dbus_emit_run_started(m, r);
                manager_dbus_emit_run_finished(m, r);
                return 0;
        }

        UserEnvParams p = {
                .event = e,
                .context = c,
                .user = s->user,
                .uid = s->uid,
                .home = s->home,
                .shell = s->shell,
                .lang = m->lang,
                .xdg_runtime_dir = runtime_dir,
                .session_id = s->id,
                .user_name = s->user_name,
                .access_mode = s->access_mode,
                .stack_name = s->stack_name,
                .resource_name = s->resource_name,
                .home_folder_status = home_folder_status_to_string(s->home_folder_status),
        };
        k = user_env_build(&p, &env);
        if (k < 0)
                return k;
        k = executable_argv(x, &argv);
        if (k < 0)
                return k;

        /* Spool (and so S3 upload) only when a bucket is configured and the entry wants it. */
        if (m->settings.bucket && x->s3_log_enabled) {
                k = object_key_build(s->stack_name, s->resource_name, s->access_mode, s->user_name, s->id,
                                     script_event_to_string(e), script_context_to_string(c), &key);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        log_warning_errno(k, "Cannot build the S3 object key for session %s, logging to the journal only: %m",
                                          s->id);
        }

        RunParams params = {
                .session_id = s->id,
                .event = e,
                .context = c,
                .user = s->user,
                .uid = s->uid,
                .gid = s->gid,
                .groups = s->groups,
                .n_groups = s->n_groups,
                .home = s->home,
                .argv = argv,
                .envp = env,
                .waiting_time_sec = ec->waiting_time_sec,
                /* A config.json that is not the provisioned one names nothing that may run: verified
                 * against an empty baseline, every executable reads as tampered. */
                .baseline = m->config_tampered ? &empty_baseline : &m->baseline,
                .spool_key = key,
                /* The home-folder status is still being read (on_home_probe_done() releases it). */
                .hold = s->probe_pending && s->probe_event == e,
        };

        r->run = run_unref(r->run);
        k = run_start(m->event, m->bus, &params, on_run_finished, r, &r->run);
        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                log_error_errno(k, "Failed to start %s (%s context) of session %s: %m", x->filename,
                                script_context_to_string(c), s->id);
                session_run_record_failure(r, RUN_RESULT_FAILED, NULL);
                /* Listeners see every run that was to start, also one that could not. */
                manager_dbus_emit_run_started(m, r);
                manager_dbus_emit_run_finished(m, r);
                return 0;
        }

        manager_dbus_emit_run_started(m, r);
        return 0;
}

/* The bound of an event: its deadline, then the scopes' stop timeout and a margin (see
 * MANAGER_OVERDUE_GRACE_USEC). Accuracy 10 ms: a login may be waiting for it. */
static void session_event_arm_overdue(Session *s, SessionEvent *ev) {
        int r;

        ev->overdue_source = sd_event_source_disable_unref(ev->overdue_source);
        r = sd_event_add_time(s->manager->event, &ev->overdue_source, CLOCK_MONOTONIC,
                              ev->deadline_usec + RUN_TIMEOUT_STOP_USEC + MANAGER_OVERDUE_GRACE_USEC,
                              10 * 1000, on_event_overdue, ev);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the overdue timer of session %s, ignoring: %m", s->id);
}

static int session_start_event(Session *s, ScriptEvent e) {
        Manager *m = s->manager;
        SessionEvent *ev = &s->events[e];
        const ScriptEventConfig *ec = m->config ? &m->config->events[e] : NULL;
        _cleanup_(freep) char *runtime_dir = NULL;
        uint64_t now = 0;
        int r = 0;

        ev->state = EVENT_STATE_RUNNING;
        ev->waiting_time_sec = 0;
        ev->result_recorded = false;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);

        if (!m->config)
                log_notice("No valid configuration; nothing runs at %s of session %s.", script_event_to_string(e),
                           s->id);

        if (ec && ec->present) {
                if (s->user_resolved && user_env_runtime_dir(s->uid, &runtime_dir) < 0) {
                        r = log_oom();
                        goto finish;
                }

                /* Every executable of the event starts at once (SPEC §3). */
                for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                        if (!script_executable_runs(&ec->executables[c]))
                                continue;
                        ev->waiting_time_sec = ec->waiting_time_sec;
                        r = session_start_run(s, e, c, ec, runtime_dir);
                        if (r < 0) {
                                log_oom();
                                session_run_record_failure(&ev->runs[c], RUN_RESULT_FAILED, "out of memory");
                                manager_dbus_emit_run_started(m, &ev->runs[c]);
                                manager_dbus_emit_run_finished(m, &ev->runs[c]);
                        }
                }
        }

finish:
        ev->deadline_usec = now + ev->waiting_time_sec * USEC_PER_SEC;

        if (session_event_all_finished(ev)) {
                session_finish_event(s, e);
                return r;
        }

        session_event_arm_overdue(s, ev);

        session_save(s);
        return r;
}

/* Remaining time of a running event, from now. */
static uint64_t session_event_remaining_usec(Manager *m, const SessionEvent *ev) {
        uint64_t now = 0;

        if (ev->state != EVENT_STATE_RUNNING)
                return 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        return ev->deadline_usec > now ? ev->deadline_usec - now : 0;
}

/* The waiting time the configured event would have if it started now (0 when nothing runs). */
static uint64_t manager_event_wait_usec(Manager *m, ScriptEvent e) {
        const ScriptEventConfig *ec = m->config ? &m->config->events[e] : NULL;

        if (!ec || !ec->present)
                return 0;
        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++)
                if (script_executable_runs(&ec->executables[c]))
                        return ec->waiting_time_sec * USEC_PER_SEC;
        return 0;
}

/* ---- Sessions -------------------------------------------------------------------------------- */

/* A metadata value from the PAM environment when usable, else the setting. Values that become S3 key
 * components must not contain '/'. */
static int pick_metadata(const char *name, const char *from_env, const char *from_settings, bool key_component,
                         char **ret) {
        const char *v = from_settings ?: "default";

        if (from_env && from_env[0]) {
                if (session_metadata_is_valid(from_env) && !(key_component && strchr(from_env, '/')))
                        v = from_env;
                else
                        log_warning("Ignoring invalid %s from the PAM environment.", name);
        }
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static void session_journal_opened(const Session *s) {
        const char *hf = home_folder_status_to_string(s->home_folder_status);

        (void) sd_journal_send("MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_HOME_FOLDER,
                               "MESSAGE=Home folder mount status of session %s (user %s): %s", s->id, s->user, hf,
                               "PRIORITY=%i", LOG_INFO,
                               SESSION_SCRIPTS_FIELD_HOME_FOLDER_STATUS "=%s", hf,
                               SESSION_SCRIPTS_FIELD_SESSION_ID "=%s", s->id,
                               SESSION_SCRIPTS_FIELD_USER "=%s", s->user,
                               NULL);
        (void) sd_journal_send("MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_SESSION_OPENED,
                               "MESSAGE=Session %s of user %s opened (PAM service %s).", s->id, s->user,
                               s->service && s->service[0] ? s->service : "unknown",
                               "PRIORITY=%i", LOG_INFO,
                               SESSION_SCRIPTS_FIELD_SESSION_ID "=%s", s->id,
                               SESSION_SCRIPTS_FIELD_USER "=%s", s->user,
                               "SESSION_SCRIPTS_SERVICE=%s", s->service ?: "",
                               "SESSION_SCRIPTS_USER_NAME=%s", s->user_name,
                               "SESSION_SCRIPTS_ACCESS_MODE=%s", s->access_mode,
                               "SESSION_SCRIPTS_STACK_NAME=%s", s->stack_name,
                               "SESSION_SCRIPTS_RESOURCE_NAME=%s", s->resource_name,
                               NULL);
}

/*
 * Only when the table is full: drops the oldest session that is over and only lingers for late
 * callers (its termination done, a manual run finished, a refused session keeping its id refused:
 * every such session has its forget timer armed). A session whose login ended without a close is
 * not among the live ones for long: logind's word ends it (logind-watch.h). Returns true when one
 * was dropped.
 */
static bool manager_evict_ended_session(Manager *m) {
        Session *victim = NULL;

        for (Session *s = m->sessions; s; s = s->next)
                if (s->forget_source && (!victim || s->since_realtime_usec < victim->since_realtime_usec))
                        victim = s;
        if (!victim)
                return false;

        log_debug("Session table full; forgetting ended session %s early.", victim->id);
        if (!victim->hidden)
                (void) session_state_remove(victim->id, m->sessions_dir);
        manager_unlink_session(m, victim);
        session_free(victim);
        return true;
}

/* With no good configuration (none when the daemon started, or an invalid one), the instance is
 * provisioned when one appears: an image builder or a package's first install starts the daemon
 * before config.json is in place, and the next login must not silently run nothing. Retried at
 * each session start, but read only when config.json changed since the last attempt (identity and
 * times), so a missing or broken file costs one stat(). */
static void manager_retry_config(Manager *m) {
        const char *path = m->config_path_override ?: m->settings.config_file ?: SESSION_SCRIPTS_CONFIG_PATH;
        struct stat st, *last = &m->config_retry_stat;

        if (m->config)
                return;
        if (stat(path, &st) < 0)
                return;
        if (last->st_ino != 0 && st.st_dev == last->st_dev && st.st_ino == last->st_ino &&
            st.st_size == last->st_size && st.st_mtim.tv_sec == last->st_mtim.tv_sec &&
            st.st_mtim.tv_nsec == last->st_mtim.tv_nsec && st.st_ctim.tv_sec == last->st_ctim.tv_sec &&
            st.st_ctim.tv_nsec == last->st_ctim.tv_nsec)
                return;
        *last = st;
        log_info("No configuration was loaded yet and %s is there now; loading it.", path);
        /* Not a provisioning when a crashed predecessor left its baseline: checked against that
         * one, so that removing config.json around a crash cannot bless modified files. */
        (void) manager_load_config(m, false);
}

/* The home-folder status is known: journal it with the opened session, and let the runs of the
 * first event (started already, held until now) execute their scripts with it. */
static void on_home_probe_done(HomeFolderStatus status, void *userdata) {
        Session *s = userdata;
        SessionEvent *ev = &s->events[s->probe_event];

        s->home_probe = NULL;   /* frees itself */
        s->probe_pending = false;
        s->home_folder_status = status;
        session_journal_opened(s);

        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++)
                run_release(ev->runs[c].run, home_folder_status_to_string(status));
}

int manager_open_session(Manager *m, const SessionRequest *req, Session **ret, uint64_t *ret_wait_usec) {
        _cleanup_(session_freep) Session *s = NULL;
        char uuid[SESSION_SCRIPTS_SESSION_ID_UUID_LEN + 1];
        const char *id;
        Session *existing;
        int r;

        if (!req->user || !req->user[0])
                return -EINVAL;

        if (req->session_id && session_id_is_valid(req->session_id))
                id = req->session_id;
        else {
                if (req->session_id && req->session_id[0])
                        log_warning("Ignoring invalid %s from the PAM environment of user %s; generating one.",
                                    SESSION_SCRIPTS_ENV_SESSION_ID, req->user);
                r = session_id_generate(uuid);
                if (r < 0)
                        return log_error_errno(r, "Failed to generate a session id: %m");
                id = uuid;
        }

        manager_retry_config(m);

        if (m->n_sessions >= MANAGER_SESSIONS_MAX && !manager_evict_ended_session(m))
                return log_error_errno(EUSERS, "Too many sessions (%u), refusing session of user %s.",
                                       MANAGER_SESSIONS_MAX, req->user);

        s = session_new();
        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->transient = req->transient;
        s->id = strdup(id);
        s->user = strdup(req->user);
        s->service = strdup(req->service ?: "");
        if (!s->id || !s->user || !s->service)
                return -ENOMEM;
        if (req->xdg_session_id && session_metadata_is_valid(req->xdg_session_id) &&
            !(s->xdg_session_id = strdup(req->xdg_session_id)))
                return -ENOMEM;

        r = session_resolve_user(s);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_error_errno(r == -ESRCH ? ESRCH : r, "Failed to look up user %s: %m", req->user);

        /* XDG_SESSION_ID is followed (the session ends when logind says so) only when logind knows
         * it as a session of this very user. */
        if (s->xdg_session_id) {
                r = logind_session_belongs_to(s->xdg_session_id, s->uid);
                if (r <= 0) {
                        if (r < 0)
                                log_debug_errno(r, "Failed to ask logind about session %s: %m", s->xdg_session_id);
                        else
                                log_warning("Ignoring XDG_SESSION_ID=%s of user %s: logind knows no such session of that user.",
                                            s->xdg_session_id, s->user);
                        free(s->xdg_session_id);
                        s->xdg_session_id = NULL;
                } else if (m->logind_watch)
                        (void) logind_watch_ensure(m->logind_watch);
        }

        /* A session id names one login of one user. The same id again from the same login (a
         * second line of this module in its stack: same user, same logind session) gets the
         * session as it is, a refused one stays refused. Any other login presenting it — another
         * user, or another login of the same user — never reaches that session nor its stored
         * result: it is registered under an id of its own, and the attempt is journaled. */
        existing = manager_find_session_any(m, id);
        if (existing) {
                if (existing->uid == s->uid && strcmp(existing->user, s->user) == 0 && !existing->transient &&
                    existing->xdg_session_id && s->xdg_session_id &&
                    strcmp(existing->xdg_session_id, s->xdg_session_id) == 0) {
                        if (existing->refused)
                                log_info("Session %s was refused; not registering it again.", id);
                        else
                                log_info("Session %s is already open; not running its start again.", id);
                        *ret = existing;
                        *ret_wait_usec = session_event_remaining_usec(m, &existing->events[SCRIPT_EVENT_START]);
                        return 0;
                }

                r = session_id_generate(uuid);
                if (r < 0)
                        return log_error_errno(r, "Failed to generate a session id: %m");
                log_warning("Session id %s presented by a login of user %s (PAM service %s) is already in use by %s; registering this login as session %s instead.",
                            id, s->user, s->service[0] ? s->service : "unknown",
                            existing->uid == s->uid ? "another login of the same user" : "another user's session",
                            uuid);
                free(s->id);
                s->id = strdup(uuid);
                if (!s->id)
                        return -ENOMEM;
        }

        if (pick_metadata(SESSION_SCRIPTS_ENV_USER_NAME, req->user_name, req->user, false, &s->user_name) < 0 ||
            pick_metadata(SESSION_SCRIPTS_ENV_ACCESS_MODE, req->access_mode, m->settings.access_mode, true,
                          &s->access_mode) < 0 ||
            pick_metadata(SESSION_SCRIPTS_ENV_STACK_NAME, req->stack_name, m->settings.stack_name, true,
                          &s->stack_name) < 0 ||
            pick_metadata(SESSION_SCRIPTS_ENV_RESOURCE_NAME, req->resource_name, m->settings.fleet_name, true,
                          &s->resource_name) < 0)
                return -ENOMEM;

        {
                struct timespec ts;
                (void) clock_gettime(CLOCK_REALTIME, &ts);
                s->since_realtime_usec = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        }

        manager_link_session(m, s);
        manager_dbus_emit_session_started(m, s);

        /* The session is the manager's from here on. */
        Session *t = TAKE_PTR(s);
        ScriptEvent first = SCRIPT_EVENT_START;
        if (t->transient && req->transient_event == SCRIPT_EVENT_START) {
                /* RunEvent SessionStart: no termination follows a manual run. Marked done from the
                 * outset, so that a running manual start lists as start "running", termination
                 * "done" — a login's termination reads "not-run" or "pending" then — and a policy
                 * script that counts a user's active sessions does not count it. */
                t->events[SCRIPT_EVENT_TERMINATION].state = EVENT_STATE_DONE;
                t->events[SCRIPT_EVENT_TERMINATION].success = true;
        }
        if (t->transient && req->transient_event == SCRIPT_EVENT_TERMINATION) {
                /* RunEvent SessionTermination without a start: the start counts as done, unrun. */
                t->events[SCRIPT_EVENT_START].state = EVENT_STATE_DONE;
                t->events[SCRIPT_EVENT_START].success = true;
                first = SCRIPT_EVENT_TERMINATION;
        }
        /* The home-folder status is read off the event loop, as the user, bounded (home-probe.h).
         * The first event's runs start first, so that systemd sets up their scopes meanwhile; they
         * execute their scripts once the status is known, with it in their environment
         * (RunParams.hold, released by on_home_probe_done()). */
        t->probe_event = first;
        t->probe_pending = true;
        r = session_start_event(t, first);
        if (r < 0)
                log_warning_errno(r, "Starting the scripts of session %s failed partly: %m", t->id);

        r = home_probe_start(m->event, t->home, t->uid, t->gid, t->groups, t->n_groups, on_home_probe_done, t,
                             &t->home_probe);
        if (r < 0) {
                log_warning_errno(r, "Failed to start reading the home-folder status of user %s, assuming Unknown: %m",
                                  t->user);
                on_home_probe_done(HOME_FOLDER_STATUS_UNKNOWN, t);
        }

        /* The login may be over already (a PAMName= unit whose process exited at once): its
         * termination then follows the start. */
        session_logind_check(t);

        *ret = t;
        *ret_wait_usec = session_event_remaining_usec(m, &t->events[first]);
        return 0;
}

/* How long a caller of CloseSession must wait from now for the termination of s: the rest of a
 * still-running start plus the termination's waiting time, the rest of a running termination, or 0
 * when it is over. */
static uint64_t session_termination_wait_usec(Manager *m, const Session *s) {
        const SessionEvent *start = &s->events[SCRIPT_EVENT_START], *term = &s->events[SCRIPT_EVENT_TERMINATION];

        if (term->state == EVENT_STATE_PENDING)
                return session_event_remaining_usec(m, start) + manager_event_wait_usec(m, SCRIPT_EVENT_TERMINATION);
        return session_event_remaining_usec(m, term);
}

/* Starts the termination of s, exactly once per session: right away, or — ordered after the start —
 * when a still-running start is over. Returns 0 when it was started (or queued) now, -EALREADY when
 * it was requested before. */
static int session_begin_termination(Session *s) {
        SessionEvent *start = &s->events[SCRIPT_EVENT_START], *term = &s->events[SCRIPT_EVENT_TERMINATION];
        int r;

        if (term->state != EVENT_STATE_NOT_RUN)
                return -EALREADY;

        if (start->state == EVENT_STATE_RUNNING) {
                term->state = EVENT_STATE_PENDING;
                session_save(s);
                log_info("Session %s ends while its start still runs; termination follows it.", s->id);
                return 0;
        }

        r = session_start_event(s, SCRIPT_EVENT_TERMINATION);
        if (r < 0)
                log_warning_errno(r, "Starting the termination scripts of session %s failed partly: %m", s->id);
        return 0;
}

int manager_close_session(Manager *m, const char *id, const SessionRequest *req, Session **ret,
                          uint64_t *ret_wait_usec) {
        Session *s;
        int r;

        s = session_resolve(m->sessions, id, req ? req->session_id : NULL, req ? req->xdg_session_id : NULL);
        /* A refused session never existed for the user: there is nothing to terminate. */
        if (!s || s->refused || s->transient)
                return -ESRCH;

        /* A session belongs to the user who opened it: a close that names it for somebody else (a
         * session id taken from a PAM environment another user could influence) never ends it. */
        if (req && req->user && strcmp(req->user, s->user) != 0) {
                log_warning("Refusing to close session %s of user %s for user %s: the session id is not theirs.",
                            s->id, s->user, req->user);
                return -EPERM;
        }

        r = session_begin_termination(s);
        if (r == -EALREADY) {
                if (s->termination_by_logind && !s->close_seen) {
                        /* logind told us first that the session ended (its record may be written
                         * before close_session reaches us): this is still the login program's own
                         * close, and it waits for the termination as always. */
                        s->close_seen = true;
                        if (s->events[SCRIPT_EVENT_TERMINATION].state != EVENT_STATE_DONE)
                                session_save(s);        /* a done one has no state file any more */
                        *ret = s;
                        *ret_wait_usec = session_termination_wait_usec(m, s);
                        return 0;
                }
                log_info("Termination of session %s was requested before; not running it again.", s->id);
                *ret = s;
                *ret_wait_usec = 0;
                return 0;
        }

        s->close_seen = true;
        *ret = s;
        *ret_wait_usec = session_termination_wait_usec(m, s);
        return 0;
}

/* logind says the login session of s is over: closing (its login program called close_session and
 * exited, or died) or gone. Runs its termination unless a close did so already. */
static void session_logind_check(Session *s) {
        int r;

        if (!s->xdg_session_id || s->refused || s->transient || s->hidden ||
            s->events[SCRIPT_EVENT_TERMINATION].state != EVENT_STATE_NOT_RUN)
                return;

        r = logind_session_is_over(s->xdg_session_id);
        if (r < 0) {
                log_debug_errno(r, "Failed to ask logind about session %s, ignoring: %m", s->xdg_session_id);
                return;
        }
        if (r == 0)
                return;

        log_info("Login session %s of session %s (user %s) has ended without a close from its login program; running the termination.",
                 s->xdg_session_id, s->id, s->user);
        s->termination_by_logind = true;       /* saved by what session_begin_termination() saves */
        (void) session_begin_termination(s);
}

static void on_logind_changed(const char *logind_session_id, void *userdata) {
        Manager *m = userdata;
        Session *next;

        for (Session *s = m->sessions; s; s = next) {
                next = s->next;
                if (s->xdg_session_id && (!logind_session_id || strcmp(s->xdg_session_id, logind_session_id) == 0))
                        session_logind_check(s);
        }
}

int manager_wait_session_event(Manager *m, Session *s, ScriptEvent e, sd_bus_message *msg) {
        SessionEvent *ev = &s->events[e];
        sd_bus_message **w;

        if (ev->state == EVENT_STATE_DONE)
                return session_reply_wait(s, e, msg);
        if (ev->state == EVENT_STATE_RUNNING && session_event_results_known(ev)) {
                /* Only processes left in the runs' scopes are waited for: not the caller's business.
                 * (After a restart: the recorded result, or "unknown, successful" as ever.) */
                if (!ev->result_recorded) {
                        int r = session_event_compose_result(ev);
                        if (r < 0)
                                return r;
                }
                return session_reply_wait(s, e, msg);
        }
        if (ev->state == EVENT_STATE_NOT_RUN)
                /* Nothing runs for this event (it was not requested): nothing to wait for. */
                return manager_dbus_reply_wait(msg, true, "", "");

        if (ev->n_waiters >= SESSION_EVENT_WAITERS_MAX)
                return -EBUSY;

        w = reallocarray(ev->waiters, ev->n_waiters + 1, sizeof(sd_bus_message *));
        if (!w)
                return -ENOMEM;
        ev->waiters = w;
        ev->waiters[ev->n_waiters++] = sd_bus_message_ref(msg);
        return 1;
}

int manager_refuse_session(Manager *m, Session *s) {
        SessionEvent *start = &s->events[SCRIPT_EVENT_START], *term = &s->events[SCRIPT_EVENT_TERMINATION];

        if (s->refused)
                return 0; /* said before: nothing changes */

        /* Once termination scripts run, the session existed for the user; too late to refuse. */
        if (term->state == EVENT_STATE_RUNNING || term->state == EVENT_STATE_DONE)
                return -EBUSY;

        s->refused = true;
        log_notice("Session %s of user %s was refused by the PAM module; its termination will not run.", s->id,
                   s->user);

        if (term->state == EVENT_STATE_PENDING) {
                /* A CloseSession that came during the start: nothing will run for it. */
                term->state = EVENT_STATE_NOT_RUN;
                for (size_t i = 0; i < term->n_waiters; i++) {
                        int r = manager_dbus_reply_wait(term->waiters[i], true, "", "");
                        if (r < 0)
                                log_debug_errno(r, "Failed to answer a waiter of session %s, ignoring: %m", s->id);
                        sd_bus_message_unref(term->waiters[i]);
                }
                term->waiters = (free(term->waiters), NULL);
                term->n_waiters = 0;
        }

        if (start->state == EVENT_STATE_RUNNING) {
                /* The module gave up waiting (timeout), or its scripts are done but left processes
                 * behind. Those leftovers must not keep running as the user of a refused session:
                 * stop them now rather than at the deadline. A script still running is left to
                 * its deadline, so that its result is the script's own. Forget the session when
                 * the start ends, so that its RunFinished signals still come before SessionEnded.
                 * Saved, so a restarted daemon forgets it too. */
                for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                        const SessionRun *r = &start->runs[c];

                        if (r->finished && r->scope_watch && r->unit)
                                (void) unit_stop(m->bus, r->unit);
                }
                session_save(s);
                return 0;
        }

        /* Called from a bus handler, not from a run's callback: safe to free right away, so that
         * the very next ListSessions no longer shows it. */
        manager_forget_session(m, s);
        return 0;
}

/* ---- Restart --------------------------------------------------------------------------------- */

static int mkdir_safe(const char *path, mode_t mode) {
        struct stat st;

        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        /* Session state is root's: refuse a directory that is a symlink or someone else's. */
        if (lstat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
                return -ENOTDIR;
        if (chmod(path, mode) < 0)
                return -errno;
        return 0;
}

/* An event of a previous daemon instance is over: done, with the result it recorded, else unknown —
 * counted as successful rather than run anything twice. Returns 0 or -ENOMEM. */
static int session_event_mark_done_unknown(SessionEvent *ev) {
        ev->state = EVENT_STATE_DONE;
        if (ev->result_recorded)
                return 0;       /* known after all: the previous instance recorded it */
        ev->success = true;
        if ((!ev->message && !(ev->message = strdup(""))) ||
            (!ev->last_line && !(ev->last_line = strdup(""))))
                return -ENOMEM;
        return 0;
}

/* Resumes event e of a loaded session that was running when the previous daemon ended: it stays
 * running while a scope named in the state file is still there, bounded by its deadline plus the
 * stop timeout, and is then done (session_finish_event()). Returns 0 or -ENOMEM. */
static int session_resume_event(Session *s, ScriptEvent e) {
        Manager *m = s->manager;
        SessionEvent *ev = &s->events[e];
        uint64_t now = 0;
        unsigned n = 0;
        int r;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (ev->deadline_usec == 0 ||
            ev->deadline_usec > now + SCRIPT_CONFIG_WAITING_TIME_MAX * USEC_PER_SEC)
                /* An older state file without a deadline, or one from another boot (the clock
                 * restarted): the runs cannot be older than the longest waiting time. */
                ev->deadline_usec = now + SCRIPT_CONFIG_WAITING_TIME_MAX * USEC_PER_SEC;

        if (ev->deadline_usec + RUN_TIMEOUT_STOP_USEC + MANAGER_OVERDUE_GRACE_USEC > now)
                for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                        SessionRun *run = &ev->runs[c];

                        if (!run->unit)
                                continue;
                        r = unit_watch_new(m->bus, run->unit, on_scope_gone, run, &run->scope_watch);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0) {
                                log_warning_errno(r, "Failed to watch scope %s of session %s, not waiting for it: %m",
                                                  run->unit, s->id);
                                continue;
                        }
                        n++;
                }

        if (n == 0) {
                log_notice("%s of session %s was running when the daemon stopped; its result is unknown, counting it as done.",
                           script_event_to_string(e), s->id);
                return session_event_mark_done_unknown(ev) < 0 ? log_oom() : 0;
        }

        log_notice("%s of session %s was running when the daemon stopped; waiting for its %u scope%s to end (at most %.1f s), then counting it as done, its result unknown.",
                   script_event_to_string(e), s->id, n, n == 1 ? "" : "s",
                   (double) (ev->deadline_usec + RUN_TIMEOUT_STOP_USEC + MANAGER_OVERDUE_GRACE_USEC - now) /
                           USEC_PER_SEC);
        session_event_arm_overdue(s, ev);
        return 0;
}

int manager_load_sessions(Manager *m) {
        _cleanup_(closedirp) DIR *d = NULL;
        Session *loaded = NULL;
        struct dirent *de;
        size_t n = 0;
        int r;

        /* /run/session-scripts is the unit's RuntimeDirectory (preserved across restarts). */
        r = mkdir_safe(SESSION_SCRIPTS_RUNTIME_DIR, 0755);
        if (r >= 0)
                r = mkdir_safe(m->sessions_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to prepare %s: %m", m->sessions_dir);

        d = opendir(m->sessions_dir);
        if (!d)
                return log_error_errno(errno, "Failed to open %s: %m", m->sessions_dir);

        /* Before the sessions are resumed: one that ended while no daemon ran is found below. */
        if (!m->logind_watch) {
                r = logind_watch_new(m->event, on_logind_changed, m, &m->logind_watch);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        log_warning_errno(r, "Failed to follow logind's sessions, sessions end at close_session only: %m");
        }

        while ((de = readdir(d))) {
                Session *s = NULL;

                if (de->d_name[0] == '.') {
                        /* Leftovers of an interrupted atomic write. */
                        if (strncmp(de->d_name, ".#", 2) == 0)
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                if (n >= MANAGER_SESSIONS_MAX) {
                        log_warning("More than %u session state files; ignoring the rest.", MANAGER_SESSIONS_MAX);
                        break;
                }

                r = session_state_load(m->sessions_dir, de->d_name, &s);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0 || strcmp(s->id, de->d_name) != 0) {
                        log_warning_errno(r < 0 ? r : EBADMSG, "Removing unusable session state %s/%s: %m",
                                          m->sessions_dir, de->d_name);
                        session_free(s);
                        (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }

                s->next = loaded;
                loaded = s;
                n++;
        }

        while (loaded) {
                Session *s = loaded;
                SessionEvent *start = &s->events[SCRIPT_EVENT_START], *term = &s->events[SCRIPT_EVENT_TERMINATION];

                loaded = s->next;
                s->next = NULL;
                manager_link_session(m, s);

                r = session_resolve_user(s);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        log_warning_errno(r, "Failed to look up user %s of session %s, its scripts cannot run: %m",
                                          s->user, s->id);

                /* Fill metadata a damaged file may lack. */
                if ((!s->user_name && !(s->user_name = strdup(s->user))) ||
                    (!s->access_mode && !(s->access_mode = strdup(m->settings.access_mode ?: "custom"))) ||
                    (!s->stack_name && !(s->stack_name = strdup(m->settings.stack_name ?: "default"))) ||
                    (!s->resource_name && !(s->resource_name = strdup(m->settings.fleet_name ?: "default"))))
                        return log_oom();

                if (s->refused) {
                        /* Refused before the restart: nothing more happens to it (no termination),
                         * so there is nothing to wait for either. Forget it, as the previous
                         * daemon would have, and never terminate it. */
                        if (session_event_mark_done_unknown(start) < 0 ||
                            (term->state != EVENT_STATE_NOT_RUN &&
                             session_event_mark_done_unknown(term) < 0))
                                return log_oom();
                        log_info("Session %s of user %s was refused; forgetting it.", s->id, s->user);
                        manager_forget_session(m, s);
                        continue;
                }

                /* An event that was running when the previous daemon ended goes on while its scopes
                 * do (systemd stops them at their deadline); a close must wait for that. */
                for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++)
                        if (s->events[e].state == EVENT_STATE_RUNNING) {
                                r = session_resume_event(s, e);
                                if (r < 0)
                                        return r;
                        }
                if (start->state != EVENT_STATE_DONE && start->state != EVENT_STATE_RUNNING) {
                        r = session_event_mark_done_unknown(start);
                        if (r < 0)
                                return log_oom();
                }

                log_info("Resumed session %s of user %s (start %s, termination %s).", s->id, s->user,
                         event_state_to_string(start->state), event_state_to_string(term->state));

                if (term->state == EVENT_STATE_PENDING && start->state == EVENT_STATE_DONE)
                        /* CloseSession came before the restart; the start is over now. */
                        (void) session_start_event(s, SCRIPT_EVENT_TERMINATION);
                else {
                        /* A pending termination starts when the resumed start is over. */
                        session_save(s);
                        if (term->state == EVENT_STATE_DONE)
                                session_arm_forget(s, MANAGER_FORGET_DELAY_USEC);
                }
        }

        /* Login sessions that ended while no daemon was running (a killed login program, a
         * PAMName= unit that stopped meanwhile) end here, exactly once: their termination state is
         * in the state files. */
        on_logind_changed(NULL, m);
        return 0;
}
