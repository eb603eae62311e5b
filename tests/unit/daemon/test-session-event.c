/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the event state machine's transition function (daemon/session-event.h): every state ×
 * input for both events, the termination starting exactly once whichever of CloseSession and
 * logind comes first, the answers waiters get, and what a restarted daemon resumes.
 */

#include <errno.h>
#include <stdio.h>

#include "macro.h"
#include "session-event.h"
#include "tests.h"

#define NR EVENT_STATE_NOT_RUN
#define PE EVENT_STATE_PENDING
#define RU EVENT_STATE_RUNNING
#define DO EVENT_STATE_DONE

#define A_START EVENT_ACTION_START_RUNS
#define A_ARM EVENT_ACTION_ARM_OVERDUE
#define A_SAVE EVENT_ACTION_SAVE
#define A_RECORD EVENT_ACTION_RECORD_RESULT
#define A_TIMEOUT EVENT_ACTION_TIME_OUT
#define A_DONE EVENT_ACTION_DONE
#define A_UNKNOWN EVENT_ACTION_MARK_UNKNOWN
#define A_REPLY EVENT_ACTION_REPLY
#define A_NOTHING EVENT_ACTION_REPLY_NOTHING
#define A_QUEUE EVENT_ACTION_QUEUE_WAITER
#define A_CANCEL EVENT_ACTION_ANSWER_NOTHING

/* Facts: which runs have finished, and what else the caller knows. */
enum {
        F_NONE = 0,
        F_RESULTS = 1 << 0,             /* every run finished, a scope is still watched */
        F_OVER = 1 << 1,                /* every run finished, no scope left */
        F_START_RUNNING = 1 << 2,
        F_WAITERS_FULL = 1 << 3,
};

typedef struct Case {
        ScriptEvent event;
        EventState state;
        EventInput input;
        unsigned facts;
        EventState new_state;
        unsigned actions;
        int error;
} Case;

#define S SCRIPT_EVENT_START
#define T SCRIPT_EVENT_TERMINATION

static EventFacts facts_of(ScriptEvent e, unsigned f) {
        return (EventFacts) {
                .event = e,
                .results_known = f & (F_RESULTS | F_OVER),
                .over = f & F_OVER,
                .start_running = f & F_START_RUNNING,
                .waiters_full = f & F_WAITERS_FULL,
        };
}

static const Case cases[] = {
        /* START: only an event that has not run yet starts; a pending termination starts too. */
        { S, NR, EVENT_INPUT_START, F_NONE, RU, A_START, 0 },
        { S, RU, EVENT_INPUT_START, F_NONE, RU, 0, -EALREADY },
        { S, DO, EVENT_INPUT_START, F_OVER, DO, 0, -EALREADY },
        { T, NR, EVENT_INPUT_START, F_NONE, RU, A_START, 0 },
        { T, PE, EVENT_INPUT_START, F_NONE, RU, A_START, 0 },
        { T, RU, EVENT_INPUT_START, F_NONE, RU, 0, -EALREADY },
        { T, DO, EVENT_INPUT_START, F_OVER, DO, 0, -EALREADY },

        /* STARTED: nothing to wait for is done at once, else the overdue timer bounds it. */
        { S, RU, EVENT_INPUT_STARTED, F_OVER, DO, A_DONE, 0 },
        { S, RU, EVENT_INPUT_STARTED, F_NONE, RU, A_ARM | A_SAVE, 0 },
        { S, RU, EVENT_INPUT_STARTED, F_RESULTS, RU, A_ARM | A_SAVE, 0 },
        { T, RU, EVENT_INPUT_STARTED, F_OVER, DO, A_DONE, 0 },
        { S, NR, EVENT_INPUT_STARTED, F_OVER, NR, 0, 0 },
        { T, PE, EVENT_INPUT_STARTED, F_OVER, PE, 0, 0 },
        { S, DO, EVENT_INPUT_STARTED, F_OVER, DO, 0, 0 },

        /* TERMINATE: once; after the start. */
        { T, NR, EVENT_INPUT_TERMINATE, F_NONE, RU, A_START, 0 },
        { T, NR, EVENT_INPUT_TERMINATE, F_START_RUNNING, PE, A_SAVE, 0 },
        { T, PE, EVENT_INPUT_TERMINATE, F_START_RUNNING, PE, 0, -EALREADY },
        { T, PE, EVENT_INPUT_TERMINATE, F_NONE, PE, 0, -EALREADY },
        { T, RU, EVENT_INPUT_TERMINATE, F_NONE, RU, 0, -EALREADY },
        { T, DO, EVENT_INPUT_TERMINATE, F_OVER, DO, 0, -EALREADY },
        { S, NR, EVENT_INPUT_TERMINATE, F_NONE, NR, 0, -EALREADY },
        { S, RU, EVENT_INPUT_TERMINATE, F_NONE, RU, 0, -EALREADY },

        /* RUN_REPORTED and SCOPE_GONE: results first (waiters answered), done when over. */
        { S, RU, EVENT_INPUT_RUN_REPORTED, F_NONE, RU, 0, 0 },
        { S, RU, EVENT_INPUT_RUN_REPORTED, F_RESULTS, RU, A_RECORD, 0 },
        { S, RU, EVENT_INPUT_RUN_REPORTED, F_OVER, DO, A_DONE, 0 },
        { T, RU, EVENT_INPUT_RUN_REPORTED, F_OVER, DO, A_DONE, 0 },
        { S, RU, EVENT_INPUT_SCOPE_GONE, F_NONE, RU, 0, 0 },
        { S, RU, EVENT_INPUT_SCOPE_GONE, F_RESULTS, RU, A_RECORD, 0 },
        { T, RU, EVENT_INPUT_SCOPE_GONE, F_OVER, DO, A_DONE, 0 },
        { S, NR, EVENT_INPUT_RUN_REPORTED, F_OVER, NR, 0, 0 },
        { T, PE, EVENT_INPUT_SCOPE_GONE, F_OVER, PE, 0, 0 },
        { S, DO, EVENT_INPUT_RUN_REPORTED, F_OVER, DO, 0, 0 },
        { T, DO, EVENT_INPUT_SCOPE_GONE, F_OVER, DO, 0, 0 },

        /* OVERDUE: a running event is done, whatever is left. */
        { S, RU, EVENT_INPUT_OVERDUE, F_NONE, DO, A_TIMEOUT | A_DONE, 0 },
        { T, RU, EVENT_INPUT_OVERDUE, F_RESULTS, DO, A_TIMEOUT | A_DONE, 0 },
        { S, NR, EVENT_INPUT_OVERDUE, F_NONE, NR, 0, 0 },
        { T, PE, EVENT_INPUT_OVERDUE, F_NONE, PE, 0, 0 },
        { S, DO, EVENT_INPUT_OVERDUE, F_OVER, DO, 0, 0 },

        /* RESUME: nothing runs twice. */
        { S, RU, EVENT_INPUT_RESUME, F_RESULTS, RU, A_ARM, 0 },
        { S, RU, EVENT_INPUT_RESUME, F_OVER, DO, A_UNKNOWN, 0 },
        { T, RU, EVENT_INPUT_RESUME, F_RESULTS, RU, A_ARM, 0 },
        { T, RU, EVENT_INPUT_RESUME, F_OVER, DO, A_UNKNOWN, 0 },
        { S, NR, EVENT_INPUT_RESUME, F_OVER, DO, A_UNKNOWN, 0 },
        { S, PE, EVENT_INPUT_RESUME, F_OVER, DO, A_UNKNOWN, 0 },
        { S, DO, EVENT_INPUT_RESUME, F_OVER, DO, 0, 0 },
        { T, NR, EVENT_INPUT_RESUME, F_OVER, NR, 0, 0 },
        { T, PE, EVENT_INPUT_RESUME, F_OVER, PE, 0, 0 },
        { T, DO, EVENT_INPUT_RESUME, F_OVER, DO, 0, 0 },

        /* REFUSE: a pending termination is cancelled, a started one is too late. */
        { T, NR, EVENT_INPUT_REFUSE, F_NONE, NR, 0, 0 },
        { T, PE, EVENT_INPUT_REFUSE, F_START_RUNNING, NR, A_CANCEL, 0 },
        { T, RU, EVENT_INPUT_REFUSE, F_NONE, RU, 0, -EBUSY },
        { T, DO, EVENT_INPUT_REFUSE, F_OVER, DO, 0, -EBUSY },
        { S, NR, EVENT_INPUT_REFUSE, F_NONE, NR, 0, 0 },
        { S, RU, EVENT_INPUT_REFUSE, F_NONE, RU, 0, 0 },
        { S, DO, EVENT_INPUT_REFUSE, F_OVER, DO, 0, 0 },

        /* WAIT: answered when the results are known or nothing runs, else queued (bounded). */
        { S, NR, EVENT_INPUT_WAIT, F_OVER, NR, A_NOTHING, 0 },
        { T, NR, EVENT_INPUT_WAIT, F_OVER, NR, A_NOTHING, 0 },
        { T, PE, EVENT_INPUT_WAIT, F_OVER, PE, A_QUEUE, 0 },
        { T, PE, EVENT_INPUT_WAIT, F_OVER | F_WAITERS_FULL, PE, 0, -EBUSY },
        { S, RU, EVENT_INPUT_WAIT, F_NONE, RU, A_QUEUE, 0 },
        { S, RU, EVENT_INPUT_WAIT, F_WAITERS_FULL, RU, 0, -EBUSY },
        { S, RU, EVENT_INPUT_WAIT, F_RESULTS, RU, A_REPLY, 0 },
        { S, RU, EVENT_INPUT_WAIT, F_RESULTS | F_WAITERS_FULL, RU, A_REPLY, 0 },
        { T, DO, EVENT_INPUT_WAIT, F_OVER, DO, A_REPLY, 0 },
        { S, DO, EVENT_INPUT_WAIT, F_OVER | F_WAITERS_FULL, DO, A_REPLY, 0 },
};

static void test_table(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                EventFacts f = facts_of(c->event, c->facts);
                EventTransition t = event_transition(c->state, c->input, &f);

                if (t.state != c->new_state || t.actions != c->actions || t.error != c->error)
                        fprintf(stderr, "case %zu: got state %s actions %#x error %i\n", i,
                                event_state_to_string(t.state), t.actions, t.error);
                ASSERT_EQ(t.state, c->new_state);
                ASSERT_EQ(t.actions, c->actions);
                ASSERT_EQ(t.error, c->error);
        }
}

/* Every state × input × event × facts: the result is a valid state, an error leaves the state, and
 * only an event that has not run yet is ever told to start its runs. */
static void test_all_combinations(void) {
        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (EventState s = 0; s < _EVENT_STATE_MAX; s++)
                        for (EventInput in = 0; in < _EVENT_INPUT_MAX; in++)
                                for (unsigned f = 0; f < 16; f++) {
                                        EventFacts facts = facts_of(e, f);
                                        EventTransition t = event_transition(s, in, &facts);

                                        ASSERT_TRUE(t.state >= 0 && t.state < _EVENT_STATE_MAX);
                                        if (t.error < 0)
                                                ASSERT_TRUE(t.state == s && t.actions == 0);
                                        if (t.actions & EVENT_ACTION_START_RUNS)
                                                ASSERT_TRUE(s == NR || s == PE);
                                        if (t.actions & EVENT_ACTION_DONE)
                                                ASSERT_TRUE(s == RU && t.state == DO);
                                        if (s == DO)
                                                ASSERT_EQ(t.state, DO);
                                        if (t.state == PE && s != PE)
                                                ASSERT_EQ(e, T);
                                }
}

/* A small session of two events driven by the transition function alone, the way the driver does:
 * returns how many times the termination's runs were started. */
typedef struct Model {
        EventState state[_SCRIPT_EVENT_MAX];
        unsigned started[_SCRIPT_EVENT_MAX];
} Model;

static int model_feed(Model *m, ScriptEvent e, EventInput input, unsigned facts);

static void model_done(Model *m, ScriptEvent e) {
        if (e == S && m->state[T] == PE)
                ASSERT_OK(model_feed(m, T, EVENT_INPUT_START, F_NONE));
}

static int model_feed(Model *m, ScriptEvent e, EventInput input, unsigned facts) {
        EventFacts f = facts_of(e, facts | (m->state[S] == RU ? F_START_RUNNING : 0));
        EventTransition t = event_transition(m->state[e], input, &f);

        if (t.error < 0)
                return t.error;
        m->state[e] = t.state;
        if (t.actions & EVENT_ACTION_START_RUNS)
                m->started[e]++;
        if (t.actions & EVENT_ACTION_DONE)
                model_done(m, e);
        return 0;
}

static void test_termination_exactly_once(void) {
        /* Close during the start, then logind's word, then a second close. */
        Model m = {};

        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_START, F_NONE));
        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_STARTED, F_NONE));
        ASSERT_OK(model_feed(&m, T, EVENT_INPUT_TERMINATE, F_NONE));
        ASSERT_EQ(m.state[T], PE);
        ASSERT_ERROR(model_feed(&m, T, EVENT_INPUT_TERMINATE, F_NONE), EALREADY);
        ASSERT_EQ(m.started[T], 0u);
        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_RUN_REPORTED, F_RESULTS));
        ASSERT_EQ(m.state[T], PE);      /* a scope of the start is still there */
        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_SCOPE_GONE, F_OVER));
        ASSERT_EQ(m.state[S], DO);
        ASSERT_EQ(m.state[T], RU);
        ASSERT_EQ(m.started[T], 1u);
        ASSERT_ERROR(model_feed(&m, T, EVENT_INPUT_TERMINATE, F_NONE), EALREADY);
        ASSERT_OK(model_feed(&m, T, EVENT_INPUT_OVERDUE, F_NONE));
        ASSERT_EQ(m.state[T], DO);
        ASSERT_ERROR(model_feed(&m, T, EVENT_INPUT_TERMINATE, F_NONE), EALREADY);
        ASSERT_ERROR(model_feed(&m, T, EVENT_INPUT_START, F_NONE), EALREADY);
        ASSERT_EQ(m.started[S], 1u);
        ASSERT_EQ(m.started[T], 1u);

        /* logind's word after the start, then the close. */
        m = (Model) {};
        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_START, F_NONE));
        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_STARTED, F_OVER));
        ASSERT_EQ(m.state[S], DO);
        ASSERT_OK(model_feed(&m, T, EVENT_INPUT_TERMINATE, F_NONE));
        ASSERT_EQ(m.state[T], RU);
        ASSERT_ERROR(model_feed(&m, T, EVENT_INPUT_TERMINATE, F_NONE), EALREADY);
        ASSERT_EQ(m.started[T], 1u);
}

static void test_restart_resume(void) {
        /* The daemon stopped while the start ran and a close was pending: the start is waited for
         * (a scope left) and then done, the termination follows, once. */
        Model m = { .state = { [S] = RU, [T] = PE } };

        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_RESUME, F_RESULTS));
        ASSERT_OK(model_feed(&m, T, EVENT_INPUT_RESUME, F_OVER));
        ASSERT_EQ(m.state[S], RU);
        ASSERT_EQ(m.state[T], PE);
        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_SCOPE_GONE, F_OVER));
        ASSERT_EQ(m.state[T], RU);
        ASSERT_EQ(m.started[S], 0u);
        ASSERT_EQ(m.started[T], 1u);

        /* A termination that was running: no scope left, done without running again. */
        m = (Model) { .state = { [S] = DO, [T] = RU } };
        ASSERT_OK(model_feed(&m, S, EVENT_INPUT_RESUME, F_OVER));
        ASSERT_OK(model_feed(&m, T, EVENT_INPUT_RESUME, F_OVER));
        ASSERT_EQ(m.state[T], DO);
        ASSERT_EQ(m.started[T], 0u);
        ASSERT_ERROR(model_feed(&m, T, EVENT_INPUT_TERMINATE, F_NONE), EALREADY);

        /* Never closed before the restart: the close still runs the termination. */
        m = (Model) { .state = { [S] = DO, [T] = NR } };
        ASSERT_OK(model_feed(&m, T, EVENT_INPUT_RESUME, F_OVER));
        ASSERT_EQ(m.state[T], NR);
        ASSERT_OK(model_feed(&m, T, EVENT_INPUT_TERMINATE, F_NONE));
        ASSERT_EQ(m.started[T], 1u);
}

static void test_waiters(void) {
        /* A waiter of a pending termination is queued; a refusal answers it "nothing ran". */
        EventFacts f = facts_of(T, F_OVER);
        EventTransition t = event_transition(PE, EVENT_INPUT_WAIT, &f);

        ASSERT_EQ(t.actions, (unsigned) EVENT_ACTION_QUEUE_WAITER);
        t = event_transition(PE, EVENT_INPUT_REFUSE, &f);
        ASSERT_EQ(t.state, NR);
        ASSERT_EQ(t.actions, (unsigned) EVENT_ACTION_ANSWER_NOTHING);

        /* Queued waiters of a running event are answered when the results are in (RECORD_RESULT),
         * at the latest when it is done (DONE records and answers too). */
        f = facts_of(S, F_RESULTS);
        t = event_transition(RU, EVENT_INPUT_RUN_REPORTED, &f);
        ASSERT_TRUE(t.actions & EVENT_ACTION_RECORD_RESULT);
        f = facts_of(S, F_NONE);
        t = event_transition(RU, EVENT_INPUT_OVERDUE, &f);
        ASSERT_TRUE(t.actions & EVENT_ACTION_DONE);
}

int main(void) {
        TEST_RUN(test_table);
        TEST_RUN(test_all_combinations);
        TEST_RUN(test_termination_exactly_once);
        TEST_RUN(test_restart_resume);
        TEST_RUN(test_waiters);
        return 0;
}
