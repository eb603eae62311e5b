/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The event state machine (see session-event.h): the pure transition function first, then the
 * driver that feeds it the inputs of one session and performs the actions it returns.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "alloc-util.h"
#include "cleanup.h"
#include "log.h"
#include "logind-watch.h"
#include "macro.h"
#include "manager-dbus.h"
#include "manager.h"
#include "object-key.h"
#include "output.h"
#include "runner.h"
#include "session-event.h"
#include "session.h"
#include "time-util.h"
#include "unit-watch.h"
#include "user-env.h"

static const char *const event_state_table[_EVENT_STATE_MAX] = {
        [EVENT_STATE_NOT_RUN] = "not-run",
        [EVENT_STATE_PENDING] = "pending",
        [EVENT_STATE_RUNNING] = "running",
        [EVENT_STATE_DONE] = "done",
};

const char *event_state_to_string(EventState s) {
        if (s < 0 || s >= _EVENT_STATE_MAX)
                return NULL;
        return event_state_table[s];
}

int event_state_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _EVENT_STATE_MAX; i++)
                if (streq(event_state_table[i], s))
                        return i;
        return -EINVAL;
}

/* ---- Transitions ----------------------------------------------------------------------------- */

#define TRANSITION(s, a) ((EventTransition) { .state = (s), .actions = (a) })
#define REJECT(s, e) ((EventTransition) { .state = (s), .error = (e) })

EventTransition event_transition(EventState state, EventInput input, const EventFacts *f) {
        bool running = state == EVENT_STATE_RUNNING;
        bool termination = f->event == SCRIPT_EVENT_TERMINATION;

        switch (input) {

        case EVENT_INPUT_START:
                if (state == EVENT_STATE_NOT_RUN || state == EVENT_STATE_PENDING)
                        return TRANSITION(EVENT_STATE_RUNNING, EVENT_ACTION_START_RUNS);
                return REJECT(state, -EALREADY);

        case EVENT_INPUT_STARTED:
                if (!running)
                        break;
                /* Just started: nobody waits for a start yet, and a termination's waiters are
                 * answered once the runs report. */
                if (f->over)
                        return TRANSITION(EVENT_STATE_DONE, EVENT_ACTION_DONE);
                return TRANSITION(EVENT_STATE_RUNNING, EVENT_ACTION_ARM_OVERDUE | EVENT_ACTION_SAVE);

        case EVENT_INPUT_TERMINATE:
                if (!termination || state != EVENT_STATE_NOT_RUN)
                        return REJECT(state, -EALREADY);
                /* Ordered after the start: it runs when the start is done. */
                if (f->start_running)
                        return TRANSITION(EVENT_STATE_PENDING, EVENT_ACTION_SAVE);
                return TRANSITION(EVENT_STATE_RUNNING, EVENT_ACTION_START_RUNS);

        case EVENT_INPUT_RUN_REPORTED:
        case EVENT_INPUT_SCOPE_GONE:
                if (!running)
                        break;
                if (f->over)
                        return TRANSITION(EVENT_STATE_DONE, EVENT_ACTION_DONE);
                /* Only processes left in scopes are waited for: not the waiters' business. */
                if (f->results_known)
                        return TRANSITION(EVENT_STATE_RUNNING, EVENT_ACTION_RECORD_RESULT);
                break;

        case EVENT_INPUT_OVERDUE:
                if (!running)
                        break;
                return TRANSITION(EVENT_STATE_DONE, EVENT_ACTION_TIME_OUT | EVENT_ACTION_DONE);

        case EVENT_INPUT_RESUME:
                if (running)
                        return f->over ? TRANSITION(EVENT_STATE_DONE, EVENT_ACTION_MARK_UNKNOWN) :
                                         TRANSITION(EVENT_STATE_RUNNING, EVENT_ACTION_ARM_OVERDUE);
                /* A start the previous instance did not run (or did not finish recording) never runs
                 * now: its session is past it. A termination not yet run still runs when asked. */
                if (!termination && state != EVENT_STATE_DONE)
                        return TRANSITION(EVENT_STATE_DONE, EVENT_ACTION_MARK_UNKNOWN);
                break;

        case EVENT_INPUT_REFUSE:
                if (!termination)
                        break;
                if (state == EVENT_STATE_RUNNING || state == EVENT_STATE_DONE)
                        return REJECT(state, -EBUSY);
                if (state == EVENT_STATE_PENDING)
                        return TRANSITION(EVENT_STATE_NOT_RUN, EVENT_ACTION_ANSWER_NOTHING);
                break;

        case EVENT_INPUT_WAIT:
                if (state == EVENT_STATE_DONE || (running && f->results_known))
                        return TRANSITION(state, EVENT_ACTION_REPLY);
                if (state == EVENT_STATE_NOT_RUN)
                        return TRANSITION(state, EVENT_ACTION_REPLY_NOTHING);
                if (f->waiters_full)
                        return REJECT(state, -EBUSY);
                return TRANSITION(state, EVENT_ACTION_QUEUE_WAITER);

        default:
                break;
        }

        return TRANSITION(state, 0);
}

bool session_event_results_known(const SessionEvent *e) {
        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++)
                if (e->runs[c].used && !e->runs[c].finished)
                        return false;
        return true;
}

bool session_event_is_over(const SessionEvent *e) {
        if (!session_event_results_known(e))
                return false;
        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++)
                if (e->runs[c].scope_watch)
                        return false;
        return true;
}

/* ---- The driver ------------------------------------------------------------------------------ */

static int session_event_feed(Session *s, ScriptEvent e, EventInput input, sd_bus_message *msg);

static EventFacts session_event_facts(const Session *s, ScriptEvent e) {
        const SessionEvent *ev = &s->events[e];

        return (EventFacts) {
                .event = e,
                .results_known = session_event_results_known(ev),
                .over = session_event_is_over(ev),
                .start_running = s->events[SCRIPT_EVENT_START].state == EVENT_STATE_RUNNING,
                .waiters_full = ev->n_waiters >= SESSION_EVENT_WAITERS_MAX,
        };
}

void session_save(Session *s) {
        int r;

        /* A RunEvent session dies with the daemon: nothing of it is to be resumed. */
        if (s->transient)
                return;
        r = session_state_save(s, s->manager->sessions_dir);
        if (r < 0)
                log_warning_errno(r, "Failed to save state of session %s, ignoring: %m", s->id);
}

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

/* Answers and drops every queued waiter of e: with the result, or with success, nothing ran. */
static void session_event_answer_waiters(Session *s, ScriptEvent e, bool nothing_ran) {
        SessionEvent *ev = &s->events[e];
        int r;

        for (size_t i = 0; i < ev->n_waiters; i++) {
                r = nothing_ran ? manager_dbus_reply_wait(ev->waiters[i], true, "", "") :
                                  session_reply_wait(s, e, ev->waiters[i]);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a waiter of session %s, ignoring: %m", s->id);
                sd_bus_message_unref(ev->waiters[i]);
        }
        ev->waiters = mfree(ev->waiters);
        ev->n_waiters = 0;
}

/* The results of all runs of the event are in: compose the event's result (once) and answer its
 * waiters. The result is recorded, and saved when save is true, before anybody is told: a daemon
 * restarted from here on must give later waiters the same answer. */
static void session_event_record_result(Session *s, ScriptEvent e, bool save) {
        SessionEvent *ev = &s->events[e];
        int r;

        if (!ev->result_recorded) {
                r = session_event_compose_result(ev);
                if (r < 0) {
                        log_oom();
                        ev->success = false;
                }
                ev->result_recorded = true;
                if (save)
                        session_save(s);
        }

        session_event_answer_waiters(s, e, false);
}

/* Event e entered DONE: record, answer, and go on with what follows it for the session. */
static void session_event_done(Session *s, ScriptEvent e) {
        Manager *m = s->manager;
        SessionEvent *ev = &s->events[e];
        int r;

        ev->overdue_source = sd_event_source_disable_unref(ev->overdue_source);
        session_event_record_result(s, e, false);      /* the state is saved below, as DONE */

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
                if (e == SCRIPT_EVENT_START)
                        session_event_skip(&s->events[SCRIPT_EVENT_TERMINATION]);
                manager_dbus_emit_session_ended(m, s);
                manager_arm_forget_session(m, s, MANAGER_FORGET_DELAY_USEC);
                return;
        }

        if (e == SCRIPT_EVENT_START && s->refused) {
                /* RefuseSession came while the start ran: nothing more happens to this session.
                 * Deferred, as this may run inside a run's finished callback. */
                session_save(s);
                manager_arm_forget_session(m, s, 0);
                return;
        }

        if (e == SCRIPT_EVENT_START && s->events[SCRIPT_EVENT_TERMINATION].state == EVENT_STATE_PENDING) {
                /* CloseSession came while the start ran: termination starts now, its deadline counts
                 * from now (starting it saves the state). */
                (void) session_event_start(s, SCRIPT_EVENT_TERMINATION);
                return;
        }

        if (e == SCRIPT_EVENT_TERMINATION) {
                /* Over for good: nothing of it is left for a restarted daemon to resume, so its state
                 * file goes now; the result stays in memory a while for late callers. */
                r = session_state_remove(s->id, m->sessions_dir);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove state of session %s, ignoring: %m", s->id);
                manager_dbus_emit_session_ended(m, s);
                manager_arm_forget_session(m, s, MANAGER_FORGET_DELAY_USEC);
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

/* Runs that never reported count as timed out, and scopes that are still there are no longer
 * waited for. */
static void session_event_time_out(Session *s, ScriptEvent e) {
        SessionEvent *ev = &s->events[e];

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
}

static void on_scope_gone(UnitWatch *w, void *userdata) {
        SessionRun *sr = userdata;
        Session *s = sr->session;

        log_debug("Scope %s of session %s is gone.", unit_watch_get_unit(w), s->id);
        sr->scope_watch = unit_watch_free(sr->scope_watch);
        (void) session_event_feed(s, sr->event, EVENT_INPUT_SCOPE_GONE, NULL);
}

static void on_run_finished(Run *run, const RunResult *result, void *userdata) {
        SessionRun *sr = userdata;
        Session *s = sr->session;
        char last[OUTPUT_LAST_LINE_MAX + 1];
        int r;

        if (sr->finished)
                return;

        sr->finished = true;
        sr->kind = result->kind;
        sr->exit_status = result->exit_status;
        sr->signal = result->signal;
        sr->duration_usec = result->duration_usec;
        if (result->unit) {
                free(sr->unit);
                sr->unit = strdup(result->unit);
        }
        /* The runner sanitises already; bound and clean again, the text goes to a user's screen. */
        last[0] = 0;
        if (result->last_line)
                (void) utf8_sanitize(last, sizeof last, result->last_line, strlen(result->last_line), true);
        free(sr->last_line);
        sr->last_line = strdup(last);
        free(sr->error);
        sr->error = strdup_or_null(result->error);

        manager_dbus_emit_run_finished(s->manager, sr);

        /* The result is known, but the event is over only once no process of the run is left:
         * at the deadline systemd is only beginning to stop the scope, and a script may have left
         * children behind. Termination must not overlap with them. The kernel says at once when
         * the scope's cgroup is empty (the common case: the script and all it started have exited);
         * else, or when it cannot tell, wait for systemd to report the scope gone. */
        if (sr->unit && !sr->scope_watch && run_scope_populated(run) != 0) {
                r = unit_watch_new(s->manager->systemd_watch, sr->unit, on_scope_gone, sr, &sr->scope_watch);
                if (r < 0)
                        log_warning_errno(r, "Failed to watch scope %s of session %s, not waiting for it to end: %m",
                                          sr->unit, s->id);
        }

        /* Everything the session keeps of the run is copied above: the run's pidfd, pipes and
         * buffers go as soon as its capture ends, not when the session is forgotten. Our caller
         * (the runner) holds a reference of its own while calling us. */
        if (sr->run == run) {
                run_detach(run);
                sr->run = run_unref(sr->run);
        }

        (void) session_event_feed(s, sr->event, EVENT_INPUT_RUN_REPORTED, NULL);
}

static int on_event_overdue(sd_event_source *source, uint64_t usec, void *userdata) {
        SessionEvent *ev = userdata;
        SessionRun *first = &ev->runs[0];

        (void) session_event_feed(first->session, first->event, EVENT_INPUT_OVERDUE, NULL);
        return 0;
}

/* The bound of an event: its deadline, then the scopes' stop timeout and a margin (see
 * MANAGER_OVERDUE_GRACE_USEC). Accuracy 10 ms: a login may be waiting for it. */
static void session_event_arm_overdue(Session *s, ScriptEvent e) {
        SessionEvent *ev = &s->events[e];
        int r;

        ev->overdue_source = sd_event_source_disable_unref(ev->overdue_source);
        r = sd_event_add_time(s->manager->event, &ev->overdue_source, CLOCK_MONOTONIC,
                              ev->deadline_usec + RUN_TIMEOUT_STOP_USEC + MANAGER_OVERDUE_GRACE_USEC,
                              10 * USEC_PER_MSEC, on_event_overdue, ev);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the overdue timer of session %s, ignoring: %m", s->id);
}

/* Builds argv = [filename, split arguments…]. */
static int executable_argv(const ScriptExecutable *x, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        size_t n = 0;

        while (x->argv && x->argv[n])
                n++;
        l = calloc(n + 2, sizeof(char *));
        if (!l)
                return -ENOMEM;
        l[0] = strdup(x->filename);
        if (!l[0])
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(l[i + 1] = strdup(x->argv[i])))
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* A run that was to start and could not: it finished, failed. Listeners see every run that was to
 * start, also one that could not. */
static void session_run_failed_to_start(Session *s, SessionRun *r, const char *error) {
        session_run_record_failure(r, RUN_RESULT_FAILED, error);
        manager_dbus_emit_run_started(s->manager, r);
        manager_dbus_emit_run_finished(s->manager, r);
}

static int session_start_run(Session *s, ScriptEvent e, ScriptContext c, const ScriptEventConfig *ec,
                             const char *runtime_dir) {
        static const TamperBaseline empty_baseline = {};
        Manager *m = s->manager;
        const ScriptExecutable *x = &ec->executables[c];
        SessionRun *sr = &s->events[e].runs[c];
        _cleanup_(strv_freep) char **env = NULL, **argv = NULL;
        _cleanup_(freep) char *key = NULL;
        int r;

        sr->used = true;
        sr->finished = false;
        sr->waiting_time_sec = ec->waiting_time_sec;
        sr->scope_watch = unit_watch_free(sr->scope_watch);
        free(sr->unit);
        sr->unit = NULL;
        free(sr->executable);
        sr->executable = strdup(x->filename);
        if (!sr->executable)
                return -ENOMEM;

        if (!s->user_resolved) {
                /* Only after a restart when the user vanished meanwhile: without uid, groups and home
                 * nothing can run on the user's behalf, in either context. */
                session_run_failed_to_start(s, sr, "the user could not be looked up");
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
        r = user_env_build(&p, &env);
        if (r < 0)
                return r;
        r = executable_argv(x, &argv);
        if (r < 0)
                return r;

        /* Spool (and so S3 upload) only when a bucket is configured and the entry wants it. */
        if (m->settings.bucket && x->s3_log_enabled) {
                r = object_key_build(s->stack_name, s->resource_name, s->access_mode, s->user_name, s->id,
                                     script_event_to_string(e), script_context_to_string(c), &key);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        log_warning_errno(r, "Cannot build the S3 object key for session %s, logging to the journal only: %m",
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
                .spool_dir = m->spool_dir,
                /* The home-folder status is still being read (the manager releases the run). */
                .hold = s->probe_pending && s->probe_event == e,
        };

        sr->run = run_unref(sr->run);
        r = run_start(m->runner, &params, on_run_finished, sr, &sr->run);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_error_errno(r, "Failed to start %s (%s context) of session %s: %m", x->filename,
                                script_context_to_string(c), s->id);
                session_run_failed_to_start(s, sr, NULL);
                return 0;
        }

        manager_dbus_emit_run_started(m, sr);
        return 0;
}

/* EVENT_ACTION_START_RUNS: every executable of the event starts at once (docs/behaviour.md §3);
 * then STARTED is fed. Returns 0 or -ENOMEM (what could not start counts as failed). */
static int session_event_start_runs(Session *s, ScriptEvent e) {
        Manager *m = s->manager;
        SessionEvent *ev = &s->events[e];
        const ScriptEventConfig *ec = m->config ? &m->config->events[e] : NULL;
        _cleanup_(freep) char *runtime_dir = NULL;
        uint64_t now_usec = 0;
        int r = 0;

        ev->waiting_time_sec = 0;
        ev->result_recorded = false;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now_usec);

        if (!m->config)
                log_notice("No valid configuration; nothing runs at %s of session %s.", script_event_to_string(e),
                           s->id);

        if (ec && ec->present) {
                if (s->user_resolved && user_env_runtime_dir(s->uid, &runtime_dir) < 0)
                        r = log_oom();
                else
                        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                                if (!script_executable_runs(&ec->executables[c]))
                                        continue;
                                ev->waiting_time_sec = ec->waiting_time_sec;
                                r = session_start_run(s, e, c, ec, runtime_dir);
                                if (r < 0) {
                                        log_oom();
                                        session_run_failed_to_start(s, &ev->runs[c], "out of memory");
                                }
                        }
        }

        ev->deadline_usec = now_usec + ev->waiting_time_sec * USEC_PER_SEC;

        (void) session_event_feed(s, e, EVENT_INPUT_STARTED, NULL);
        return r;
}

void session_event_skip(SessionEvent *ev) {
        ev->state = EVENT_STATE_DONE;
        ev->success = true;
}

int session_event_mark_done_unknown(SessionEvent *ev) {
        ev->state = EVENT_STATE_DONE;
        if (ev->result_recorded)
                return 0;       /* known after all: the previous instance recorded it */
        ev->success = true;
        if ((!ev->message && !(ev->message = strdup(""))) ||
            (!ev->last_line && !(ev->last_line = strdup(""))))
                return -ENOMEM;
        return 0;
}

/* Feeds input to event e of s and performs the actions of the transition. msg is the call of a
 * WAIT input. Returns what the actions return (≥ 0), or the transition's error. */
static int session_event_feed(Session *s, ScriptEvent e, EventInput input, sd_bus_message *msg) {
        SessionEvent *ev = &s->events[e];
        EventFacts facts = session_event_facts(s, e);
        EventTransition t = event_transition(ev->state, input, &facts);
        sd_bus_message **w;
        int r = 0;

        if (t.error < 0)
                return t.error;
        ev->state = t.state;

        if (t.actions & EVENT_ACTION_START_RUNS)
                return session_event_start_runs(s, e);
        if (t.actions & EVENT_ACTION_TIME_OUT)
                session_event_time_out(s, e);
        if (t.actions & EVENT_ACTION_MARK_UNKNOWN && session_event_mark_done_unknown(ev) < 0)
                r = log_oom();
        if (t.actions & EVENT_ACTION_RECORD_RESULT)
                session_event_record_result(s, e, true);
        if (t.actions & EVENT_ACTION_ARM_OVERDUE)
                session_event_arm_overdue(s, e);
        if (t.actions & EVENT_ACTION_SAVE)
                session_save(s);
        if (t.actions & EVENT_ACTION_ANSWER_NOTHING)
                session_event_answer_waiters(s, e, true);

        if (t.actions & EVENT_ACTION_REPLY) {
                /* Running, with only processes left in its scopes to wait for: the result so far
                 * (after a restart: the recorded one, or "unknown, successful" as ever). */
                if (ev->state == EVENT_STATE_RUNNING && !ev->result_recorded) {
                        r = session_event_compose_result(ev);
                        if (r < 0)
                                return r;
                }
                return session_reply_wait(s, e, msg);
        }
        if (t.actions & EVENT_ACTION_REPLY_NOTHING)
                return manager_dbus_reply_wait(msg, true, "", "");
        if (t.actions & EVENT_ACTION_QUEUE_WAITER) {
                w = reallocarray(ev->waiters, ev->n_waiters + 1, sizeof(sd_bus_message *));
                if (!w)
                        return -ENOMEM;
                ev->waiters = w;
                ev->waiters[ev->n_waiters++] = sd_bus_message_ref(msg);
                return 1;
        }

        /* Last: what follows may start the next event or arm the session's forgetting. */
        if (t.actions & EVENT_ACTION_DONE)
                session_event_done(s, e);
        return r;
}

int session_event_start(Session *s, ScriptEvent e) {
        return session_event_feed(s, e, EVENT_INPUT_START, NULL);
}

int session_begin_termination(Session *s) {
        int r;

        r = session_event_feed(s, SCRIPT_EVENT_TERMINATION, EVENT_INPUT_TERMINATE, NULL);
        if (r == -EALREADY)
                return r;
        if (s->events[SCRIPT_EVENT_TERMINATION].state == EVENT_STATE_PENDING)
                log_info("Session %s ends while its start still runs; termination follows it.", s->id);
        else if (r < 0)
                log_warning_errno(r, "Starting the termination scripts of session %s failed partly: %m", s->id);
        return 0;
}

void session_logind_check(Session *s) {
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
        s->termination_by_logind = true;       /* saved by what the termination's start saves */
        (void) session_begin_termination(s);
}

/* Watches the scopes a previous daemon instance recorded for the running event e, unless its bound
 * passed already. Returns how many are watched, or -ENOMEM. */
static int session_event_watch_recorded_scopes(Session *s, ScriptEvent e, uint64_t now_usec) {
        SessionEvent *ev = &s->events[e];
        unsigned n = 0;
        int r;

        if (ev->deadline_usec + RUN_TIMEOUT_STOP_USEC + MANAGER_OVERDUE_GRACE_USEC <= now_usec)
                return 0;

        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                SessionRun *sr = &ev->runs[c];

                if (!sr->unit)
                        continue;
                r = unit_watch_new(s->manager->systemd_watch, sr->unit, on_scope_gone, sr, &sr->scope_watch);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_warning_errno(r, "Failed to watch scope %s of session %s, not waiting for it: %m",
                                          sr->unit, s->id);
                        continue;
                }
                n++;
        }
        return (int) n;
}

int session_event_resume(Session *s, ScriptEvent e) {
        SessionEvent *ev = &s->events[e];
        bool was_running = ev->state == EVENT_STATE_RUNNING;
        uint64_t now_usec = 0;
        int r, n = 0;

        if (was_running) {
                (void) sd_event_now(s->manager->event, CLOCK_MONOTONIC, &now_usec);
                if (ev->deadline_usec == 0 ||
                    ev->deadline_usec > now_usec + SCRIPT_CONFIG_WAITING_TIME_MAX * USEC_PER_SEC)
                        /* An older state file without a deadline, or one from another boot (the clock
                         * restarted): the runs cannot be older than the longest waiting time. */
                        ev->deadline_usec = now_usec + SCRIPT_CONFIG_WAITING_TIME_MAX * USEC_PER_SEC;

                n = session_event_watch_recorded_scopes(s, e, now_usec);
                if (n < 0)
                        return log_oom();
        }

        r = session_event_feed(s, e, EVENT_INPUT_RESUME, NULL);
        if (r < 0)
                return r;
        if (!was_running)
                return 0;

        if (ev->state == EVENT_STATE_DONE)
                log_notice("%s of session %s was running when the daemon stopped; its result is unknown, counting it as done.",
                           script_event_to_string(e), s->id);
        else
                log_notice("%s of session %s was running when the daemon stopped; waiting for its %i scope%s to end (at most %.1f s), then counting it as done, its result unknown.",
                           script_event_to_string(e), s->id, n, n == 1 ? "" : "s",
                           (double) (ev->deadline_usec + RUN_TIMEOUT_STOP_USEC + MANAGER_OVERDUE_GRACE_USEC - now_usec) /
                                   USEC_PER_SEC);
        return 0;
}

int session_termination_refuse(Session *s) {
        return session_event_feed(s, SCRIPT_EVENT_TERMINATION, EVENT_INPUT_REFUSE, NULL);
}

int session_event_wait(Session *s, ScriptEvent e, sd_bus_message *msg) {
        return session_event_feed(s, e, EVENT_INPUT_WAIT, msg);
}

uint64_t session_event_remaining_usec(const Session *s, ScriptEvent e) {
        const SessionEvent *ev = &s->events[e];
        uint64_t now_usec = 0;

        if (ev->state != EVENT_STATE_RUNNING)
                return 0;
        (void) sd_event_now(s->manager->event, CLOCK_MONOTONIC, &now_usec);
        return ev->deadline_usec > now_usec ? ev->deadline_usec - now_usec : 0;
}

uint64_t session_termination_wait_usec(const Session *s) {
        if (s->events[SCRIPT_EVENT_TERMINATION].state == EVENT_STATE_PENDING)
                return session_event_remaining_usec(s, SCRIPT_EVENT_START) +
                       manager_event_wait_usec(s->manager, SCRIPT_EVENT_TERMINATION);
        return session_event_remaining_usec(s, SCRIPT_EVENT_TERMINATION);
}
