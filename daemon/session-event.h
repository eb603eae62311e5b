/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state machine of one event (SessionStart or SessionTermination) of one session
 * (docs/behaviour.md §3).
 *
 * Words: a run has *finished* when the runner reported its result (SessionRun.finished), or when it
 * was counted as timed out because it never did. An event is *done* (EVENT_STATE_DONE) when it is
 * over: every run of it has finished and no process of it is left (its scopes are gone), or it was
 * overdue. Waiters (WaitSessionEvent) are answered as soon as every run has finished — a login need
 * not wait for processes a script left in its scope — while the termination waits for the start to
 * be done.
 *
 * States:
 *   NOT_RUN   not started; the termination also while nobody asked for it
 *   PENDING   termination only: requested while the start still runs; starts when the start is done
 *   RUNNING   runs started; the event waits for their results, then for their scopes to be gone
 *   DONE      over; the result (success, message, last line) is recorded and every waiter answered
 *
 * Inputs and transitions (event_transition(); "results" = every run finished, "over" = results
 * and no scope waited for):
 *
 *   input          NOT_RUN               PENDING               RUNNING                    DONE
 *   START          RUNNING, start runs   RUNNING, start runs   -EALREADY                  -EALREADY
 *   STARTED        —                     —                     over: DONE; else arm the   —
 *                                                              overdue timer, save
 *   TERMINATE      start runs: PENDING;  -EALREADY             -EALREADY                  -EALREADY
 *                  else RUNNING, start
 *   RUN_REPORTED,  —                     —                     over: DONE; results: record —
 *   SCOPE_GONE                                                 (saved), answer waiters
 *   OVERDUE        —                     —                     DONE, unreported runs       —
 *                                                              timed out, scopes dropped
 *   RESUME         start: DONE, unknown  start: DONE, unknown  a scope watched: arm the   —
 *                                                              timer; else DONE, unknown
 *   REFUSE         —                     NOT_RUN, waiters get  termination: -EBUSY        termination: -EBUSY
 *                                        "nothing ran"
 *   WAIT           reply "nothing ran"   queue the waiter      results: reply; else queue reply
 *
 * (A full queue of waiters, SESSION_EVENT_WAITERS_MAX, refuses WAIT with -EBUSY.)
 *
 * TERMINATE is both CloseSession and logind's word that the login session ended: the termination
 * starts exactly once whichever comes first. Entering DONE (EVENT_ACTION_DONE) disarms the overdue
 * timer, records the result, answers the waiters, and then what follows the event for the session:
 * the pending termination starts after the start, a refused session is forgotten, a done
 * termination removes the state file and announces SessionEnded. A restarted daemon feeds RESUME
 * for each event it loads: it never runs an event twice, an event of the previous instance that
 * was running stays RUNNING while its scopes are there and is DONE with an unknown (successful)
 * result when they are gone.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "script-config.h"

typedef struct Session Session;
typedef struct SessionEvent SessionEvent;

typedef enum EventState {
        EVENT_STATE_NOT_RUN,
        EVENT_STATE_PENDING,
        EVENT_STATE_RUNNING,
        EVENT_STATE_DONE,
        _EVENT_STATE_MAX,
} EventState;

/* "not-run", "pending", "running", "done" (the state file's and ListSessions' words); NULL when
 * out of range. */
const char *event_state_to_string(EventState s);
/* Returns the state or -EINVAL. */
int event_state_from_string(const char *s);

typedef enum EventInput {
        EVENT_INPUT_START,              /* run the event now (OpenSession, RunEvent, the start is done) */
        EVENT_INPUT_STARTED,            /* the runs were started (or failed to); facts are fresh */
        EVENT_INPUT_TERMINATE,          /* CloseSession or logind's word (termination only) */
        EVENT_INPUT_RUN_REPORTED,       /* the runner reported a run's result */
        EVENT_INPUT_SCOPE_GONE,         /* systemd says a run's scope is gone */
        EVENT_INPUT_OVERDUE,            /* the deadline plus the stop timeout and a margin passed */
        EVENT_INPUT_RESUME,             /* loaded from the state file by a restarted daemon */
        EVENT_INPUT_REFUSE,             /* RefuseSession */
        EVENT_INPUT_WAIT,               /* a WaitSessionEvent() call */
        _EVENT_INPUT_MAX,
} EventInput;

/* What the caller knows of the event and its session when feeding an input. */
typedef struct EventFacts {
        ScriptEvent event;
        bool results_known;             /* every used run has finished (session_event_results_known()) */
        bool over;                      /* and no scope is waited for (session_event_is_over()) */
        bool start_running;             /* TERMINATE: the session's start event is RUNNING */
        bool waiters_full;              /* WAIT: SESSION_EVENT_WAITERS_MAX callers wait already */
} EventFacts;

typedef enum EventAction {
        EVENT_ACTION_START_RUNS         = 1 << 0,  /* start the configured runs, then feed STARTED */
        EVENT_ACTION_ARM_OVERDUE        = 1 << 1,
        EVENT_ACTION_SAVE               = 1 << 2,  /* write the session's state file */
        EVENT_ACTION_RECORD_RESULT      = 1 << 3,  /* compose the result once, save it, answer waiters */
        EVENT_ACTION_TIME_OUT           = 1 << 4,  /* unreported runs count as timed out; stop watching scopes */
        EVENT_ACTION_DONE               = 1 << 5,  /* the event entered DONE: record, answer, go on */
        EVENT_ACTION_MARK_UNKNOWN       = 1 << 6,  /* DONE with the recorded result, else unknown (successful) */
        EVENT_ACTION_REPLY              = 1 << 7,  /* WAIT: reply with the result (composed if need be) */
        EVENT_ACTION_REPLY_NOTHING      = 1 << 8,  /* WAIT: reply success, nothing ran */
        EVENT_ACTION_QUEUE_WAITER       = 1 << 9,  /* WAIT: keep the call, answered at RECORD_RESULT/DONE */
        EVENT_ACTION_ANSWER_NOTHING     = 1 << 10, /* REFUSE: answer the queued waiters "nothing ran" */
} EventAction;

typedef struct EventTransition {
        EventState state;               /* the new state (the old one when nothing changes) */
        unsigned actions;               /* EventAction flags, for the caller to perform */
        int error;                      /* 0, -EALREADY (started or requested before), -EBUSY */
} EventTransition;

/*
 * The transition table above: pure, no side effects, no loops. Inputs that do not apply to a state
 * leave it unchanged without actions.
 */
EventTransition event_transition(EventState state, EventInput input, const EventFacts *facts);

/* True when every used run of e has finished (also when none is used), whether or not processes
 * they left behind are still in their scopes: what a waiter of the event (the PAM module) needs. */
bool session_event_results_known(const SessionEvent *e);

/* True when every used run of e has finished (also when none is used) and no scope of e is still
 * waited for (scope_watch). */
bool session_event_is_over(const SessionEvent *e);

/* ---- Driving the machine of a session (needs s->manager) ------------------------------------- */

/* Feeds START to event e of s: starts its runs (or none), arms its overdue timer, saves the state.
 * Returns 0, -EALREADY when e started before, or -ENOMEM when a run could not be set up (that run
 * counts as failed and the event goes on). */
int session_event_start(Session *s, ScriptEvent e);

/* Feeds TERMINATE: starts the termination of s, exactly once per session: right away, or — ordered
 * after the start — when a still-running start is done. Returns 0 when it was started (or queued)
 * now, -EALREADY when it was requested before. */
int session_begin_termination(Session *s);

/* Asks logind whether the login session of s (its XDG session id) is over and, if so, begins its
 * termination (once; Session.termination_by_logind). */
void session_logind_check(Session *s);

/* Feeds RESUME to event e of a session loaded from its state file: a running event stays running
 * while one of its recorded scopes is there, bounded by its deadline plus the stop timeout, else it
 * is done, its result unknown; an unstarted start is done without running. Returns 0 or -ENOMEM. */
int session_event_resume(Session *s, ScriptEvent e);

/* Marks ev DONE, successful, without running it: the event a manual run (RunEvent) does not run. */
void session_event_skip(SessionEvent *ev);

/* Marks ev DONE as a restarted daemon finds it: with the result the previous instance recorded,
 * else unknown — counted as successful rather than run anything twice. Returns 0 or -ENOMEM. */
int session_event_mark_done_unknown(SessionEvent *ev);

/* Feeds REFUSE to the termination of s: a pending one goes back to NOT_RUN and its waiters get
 * success, nothing ran. Returns 0, or -EBUSY when it runs or ran already. */
int session_termination_refuse(Session *s);

/* Feeds WAIT: answers msg now, or keeps a reference and answers when the results are in. Returns
 * ≥ 0, -EBUSY (too many waiters), or -errno. */
int session_event_wait(Session *s, ScriptEvent e, sd_bus_message *msg);

/* The remaining time of event e of s from now, 0 when it is not running. */
uint64_t session_event_remaining_usec(const Session *s, ScriptEvent e);

/* How long a caller of CloseSession must wait from now for the termination of s: the rest of a
 * still-running start plus the termination's waiting time, the rest of a running termination, or 0
 * when it is over. */
uint64_t session_termination_wait_usec(const Session *s);

/* Writes the state file of s (not for a transient one); failures are journaled. */
void session_save(Session *s);
