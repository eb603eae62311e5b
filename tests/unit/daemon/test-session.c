/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/session.c: the state file round trip (also
 * through the file system), the user-facing result sentences, and CloseSession's id resolution.
 */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "session.h"
#include "tests.h"

static void test_metadata_valid(void) {
        ASSERT_TRUE(session_metadata_is_valid("user@example.com"));
        ASSERT_TRUE(session_metadata_is_valid("Grüße"));
        ASSERT_TRUE(!session_metadata_is_valid(""));
        ASSERT_TRUE(!session_metadata_is_valid("a\tb"));
        ASSERT_TRUE(!session_metadata_is_valid("\xff\xfe"));
}

static Session *make_session(void) {
        Session *s = session_new();

        ASSERT_TRUE(s);
        s->id = strdup("sess-42");
        s->user = strdup("alice");
        s->service = strdup("sshd");
        s->xdg_session_id = strdup("7");
        s->uid = 1000;
        s->user_name = strdup("alice\\with\nnewline\x01");
        s->access_mode = strdup("userpool");
        s->stack_name = strdup("stack=1");
        s->resource_name = strdup("fleet");
        s->home_folder_status = HOME_FOLDER_STATUS_FALSE;
        s->since_realtime_usec = 1700000000123456ULL;
        s->events[SCRIPT_EVENT_START].state = EVENT_STATE_DONE;
        s->events[SCRIPT_EVENT_START].success = false;
        s->events[SCRIPT_EVENT_START].message = strdup("Session script /x (user context) exited with status 3.");
        s->events[SCRIPT_EVENT_START].last_line = strdup("oops: \\n");
        s->events[SCRIPT_EVENT_TERMINATION].state = EVENT_STATE_PENDING;
        return s;
}

static void check_round_trip(const Session *a, const Session *b) {
        ASSERT_STREQ(b->id, a->id);
        ASSERT_STREQ(b->user, a->user);
        ASSERT_STREQ(b->service, a->service);
        ASSERT_STREQ(b->xdg_session_id, a->xdg_session_id);
        ASSERT_EQ(b->uid, a->uid);
        ASSERT_STREQ(b->user_name, a->user_name);
        ASSERT_STREQ(b->access_mode, a->access_mode);
        ASSERT_STREQ(b->stack_name, a->stack_name);
        ASSERT_STREQ(b->resource_name, a->resource_name);
        ASSERT_EQ(b->home_folder_status, a->home_folder_status);
        ASSERT_EQ(b->since_realtime_usec, a->since_realtime_usec);
        ASSERT_EQ(b->events[SCRIPT_EVENT_START].state, EVENT_STATE_DONE);
        ASSERT_EQ(b->events[SCRIPT_EVENT_START].success, false);
        ASSERT_STREQ(b->events[SCRIPT_EVENT_START].message, a->events[SCRIPT_EVENT_START].message);
        ASSERT_STREQ(b->events[SCRIPT_EVENT_START].last_line, a->events[SCRIPT_EVENT_START].last_line);
        ASSERT_EQ(b->events[SCRIPT_EVENT_TERMINATION].state, EVENT_STATE_PENDING);
        ASSERT_TRUE(!b->user_resolved);
}

static void test_state_round_trip(void) {
        _cleanup_(session_freep) Session *a = make_session(), *b = NULL;
        _cleanup_(freep) char *buf = NULL;

        ASSERT_OK(session_state_serialize(a, &buf));
        /* One line per key: the newline inside a value is escaped. */
        ASSERT_TRUE(strstr(buf, "USER_NAME=alice\\\\with\\nnewline\\x01\n") != NULL);
        ASSERT_OK(session_state_deserialize(buf, strlen(buf), &b));
        check_round_trip(a, b);
        /* Not refused: no key at all (older daemons read the file the same way). */
        ASSERT_TRUE(strstr(buf, "REFUSED") == NULL);
        ASSERT_TRUE(!b->refused);
}

/* RefuseSession's mark survives a restart, so the new daemon forgets the session instead of
 * terminating it. */
static void test_state_refused(void) {
        _cleanup_(session_freep) Session *a = make_session(), *b = NULL;
        _cleanup_(freep) char *buf = NULL;

        a->refused = true;
        ASSERT_OK(session_state_serialize(a, &buf));
        ASSERT_TRUE(strstr(buf, "\nREFUSED=yes\n") != NULL);
        ASSERT_OK(session_state_deserialize(buf, strlen(buf), &b));
        check_round_trip(a, b);
        ASSERT_TRUE(b->refused);
}

/* A running event keeps its deadline and the scopes of its runs that may still have processes, so
 * that a restarted daemon waits for them (start before termination). A run whose scope is known to
 * be gone is not written; a scope name that is not one of ours is not read back. */
static void test_state_running_scopes(void) {
        _cleanup_(session_freep) Session *a = make_session(), *b = NULL, *c = NULL;
        _cleanup_(freep) char *buf = NULL;
        SessionEvent *ev = &a->events[SCRIPT_EVENT_START];
        const char *bad = "ID=x\nUSER=alice\nSTART_STATE=running\nSTART_DEADLINE_USEC=12\n"
                          "START_UNIT_SYSTEM=../../etc/passwd\nSTART_UNIT_USER=ok-1.scope\n";
        const char *bad_deadline = "ID=x\nUSER=alice\nSTART_STATE=running\nSTART_DEADLINE_USEC=-1\n";

        ev->state = EVENT_STATE_RUNNING;
        ev->deadline_usec = 123456789;
        ev->runs[SCRIPT_CONTEXT_SYSTEM].used = true;
        ev->runs[SCRIPT_CONTEXT_SYSTEM].unit = strdup("session-scripts-start-system-s1-0badcafe.scope");
        ev->runs[SCRIPT_CONTEXT_USER].used = true;
        ev->runs[SCRIPT_CONTEXT_USER].finished = true;       /* reported, scope not watched: gone */
        ev->runs[SCRIPT_CONTEXT_USER].unit = strdup("session-scripts-start-user-s1-00000001.scope");
        ASSERT_TRUE(ev->runs[SCRIPT_CONTEXT_SYSTEM].unit && ev->runs[SCRIPT_CONTEXT_USER].unit);

        ASSERT_OK(session_state_serialize(a, &buf));
        ASSERT_TRUE(strstr(buf, "\nSTART_DEADLINE_USEC=123456789\n") != NULL);
        ASSERT_TRUE(strstr(buf, "\nSTART_UNIT_SYSTEM=session-scripts-start-system-s1-0badcafe.scope\n") != NULL);
        ASSERT_TRUE(strstr(buf, "START_UNIT_USER") == NULL);
        ASSERT_TRUE(strstr(buf, "TERMINATION_DEADLINE_USEC") == NULL);

        ASSERT_OK(session_state_deserialize(buf, strlen(buf), &b));
        ASSERT_EQ(b->events[SCRIPT_EVENT_START].state, EVENT_STATE_RUNNING);
        ASSERT_EQ(b->events[SCRIPT_EVENT_START].deadline_usec, 123456789);
        ASSERT_STREQ(b->events[SCRIPT_EVENT_START].runs[SCRIPT_CONTEXT_SYSTEM].unit,
                     "session-scripts-start-system-s1-0badcafe.scope");
        /* Only the scope is known after a restart, not a run of ours. */
        ASSERT_TRUE(!b->events[SCRIPT_EVENT_START].runs[SCRIPT_CONTEXT_SYSTEM].used);
        ASSERT_TRUE(!b->events[SCRIPT_EVENT_START].runs[SCRIPT_CONTEXT_USER].unit);

        ASSERT_OK(session_state_deserialize(bad, strlen(bad), &c));
        ASSERT_TRUE(!c->events[SCRIPT_EVENT_START].runs[SCRIPT_CONTEXT_SYSTEM].unit);
        ASSERT_STREQ(c->events[SCRIPT_EVENT_START].runs[SCRIPT_CONTEXT_USER].unit, "ok-1.scope");
        ASSERT_EQ(c->events[SCRIPT_EVENT_START].deadline_usec, 12);

        session_free(c);
        c = NULL;
        ASSERT_ERROR(session_state_deserialize(bad_deadline, strlen(bad_deadline), &c), EBADMSG);
        ASSERT_TRUE(c == NULL);
}

static void test_state_bad(void) {
        Session *s = NULL;
        const char *no_id = "USER=alice\n";
        const char *bad_id = "ID=a/b\nUSER=alice\n";
        const char *bad_state = "ID=x\nUSER=alice\nSTART_STATE=bogus\n";
        const char *bad_escape = "ID=x\nUSER=alice\nSTACK_NAME=a\\q\n";
        const char *no_eq = "ID=x\nUSER=alice\ngarbage\n";
        const char *unknown = "ID=x\nUSER=alice\nFUTURE_KEY=1\nSTART_STATE=done\n";

        ASSERT_ERROR(session_state_deserialize(no_id, strlen(no_id), &s), EBADMSG);
        ASSERT_ERROR(session_state_deserialize(bad_id, strlen(bad_id), &s), EBADMSG);
        ASSERT_ERROR(session_state_deserialize(bad_state, strlen(bad_state), &s), EBADMSG);
        ASSERT_ERROR(session_state_deserialize(bad_escape, strlen(bad_escape), &s), EBADMSG);
        ASSERT_ERROR(session_state_deserialize(no_eq, strlen(no_eq), &s), EBADMSG);
        ASSERT_TRUE(s == NULL);

        ASSERT_OK(session_state_deserialize(unknown, strlen(unknown), &s));
        ASSERT_EQ(s->events[SCRIPT_EVENT_START].state, EVENT_STATE_DONE);
        ASSERT_STREQ(s->events[SCRIPT_EVENT_START].message, "");
        ASSERT_EQ(s->events[SCRIPT_EVENT_TERMINATION].state, EVENT_STATE_NOT_RUN);
        session_free(s);
}

static void test_state_files(void) {
        _cleanup_(session_freep) Session *a = make_session(), *b = NULL;
        char dir[] = "/tmp/test-session-XXXXXX", path[256];
        struct stat st;

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_OK(session_state_save(a, dir));
        snprintf(path, sizeof path, "%s/%s", dir, a->id);
        ASSERT_OK(stat(path, &st));
        ASSERT_EQ(st.st_mode & 07777, 0600);

        /* Saving again replaces atomically. */
        a->events[SCRIPT_EVENT_TERMINATION].state = EVENT_STATE_RUNNING;
        ASSERT_OK(session_state_save(a, dir));
        ASSERT_OK(session_state_load(dir, a->id, &b));
        ASSERT_EQ(b->events[SCRIPT_EVENT_TERMINATION].state, EVENT_STATE_RUNNING);
        a->events[SCRIPT_EVENT_TERMINATION].state = EVENT_STATE_PENDING;
        b->events[SCRIPT_EVENT_TERMINATION].state = EVENT_STATE_PENDING;
        check_round_trip(a, b);

        ASSERT_OK(session_state_remove(a->id, dir));
        ASSERT_OK(session_state_remove(a->id, dir));
        ASSERT_TRUE(stat(path, &st) < 0);
        ASSERT_ERROR(session_state_remove("../x", dir), EINVAL);
        ASSERT_OK(rmdir(dir));
}

static void set_run(SessionRun *r, ScriptContext c, const char *exe, RunResultKind kind, int status, int sig,
                    const char *last) {
        r->used = true;
        r->finished = true;
        r->context = c;
        free(r->executable);
        r->executable = strdup(exe);
        r->kind = kind;
        r->exit_status = status;
        r->signal = sig;
        r->waiting_time_sec = 30;
        free(r->last_line);
        r->last_line = last ? strdup(last) : NULL;
}

static void test_describe(void) {
        _cleanup_(session_freep) Session *s = session_new();
        SessionRun *r = &s->events[SCRIPT_EVENT_START].runs[SCRIPT_CONTEXT_USER];
        char *m = NULL;

        set_run(r, SCRIPT_CONTEXT_USER, "/opt/a.sh", RUN_RESULT_SUCCESS, 0, 0, NULL);
        ASSERT_OK(session_run_describe_failure(r, &m));
        ASSERT_TRUE(m == NULL);

        set_run(r, SCRIPT_CONTEXT_USER, "/opt/a.sh", RUN_RESULT_EXIT_CODE, 3, 0, NULL);
        ASSERT_OK(session_run_describe_failure(r, &m));
        ASSERT_STREQ(m, "Session script /opt/a.sh (user context) exited with status 3.");
        free(m);

        set_run(r, SCRIPT_CONTEXT_USER, "/opt/a.sh", RUN_RESULT_TIMEOUT, 0, 0, NULL);
        ASSERT_OK(session_run_describe_failure(r, &m));
        ASSERT_STREQ(m, "Session script /opt/a.sh (user context) did not finish within 30 seconds and was stopped.");
        free(m);

        set_run(r, SCRIPT_CONTEXT_SYSTEM, "/opt/s.sh", RUN_RESULT_SIGNAL, 0, SIGKILL, NULL);
        ASSERT_OK(session_run_describe_failure(r, &m));
        ASSERT_STREQ(m, "Session script /opt/s.sh (system context) was killed by signal SIGKILL.");
        free(m);

        set_run(r, SCRIPT_CONTEXT_SYSTEM, "/opt/s.sh", RUN_RESULT_TAMPERED, 0, 0, NULL);
        ASSERT_OK(session_run_describe_failure(r, &m));
        ASSERT_STREQ(m, "Session script /opt/s.sh (system context) was not run: the executable was modified after the instance was provisioned.");
        free(m);

        set_run(r, SCRIPT_CONTEXT_SYSTEM, "/opt/s.sh", RUN_RESULT_FAILED, 0, 0, NULL);
        r->error = strdup("Failed to open /opt/s.sh: No such file or directory");
        ASSERT_OK(session_run_describe_failure(r, &m));
        ASSERT_STREQ(m, "Session script /opt/s.sh (system context) could not be started: Failed to open /opt/s.sh: No such file or directory.");
        free(m);
}

static void test_compose(void) {
        _cleanup_(session_freep) Session *s = session_new();
        SessionEvent *e = &s->events[SCRIPT_EVENT_START];

        /* Nothing ran: success. */
        ASSERT_TRUE(session_event_is_over(e));
        ASSERT_OK(session_event_compose_result(e));
        ASSERT_TRUE(e->success);
        ASSERT_STREQ(e->message, "");
        ASSERT_STREQ(e->last_line, "");

        set_run(&e->runs[SCRIPT_CONTEXT_SYSTEM], SCRIPT_CONTEXT_SYSTEM, "/s", RUN_RESULT_SUCCESS, 0, 0, "fine");
        set_run(&e->runs[SCRIPT_CONTEXT_USER], SCRIPT_CONTEXT_USER, "/u", RUN_RESULT_EXIT_CODE, 2, 0, "no disk");
        e->runs[SCRIPT_CONTEXT_USER].finished = false;
        ASSERT_TRUE(!session_event_is_over(e));
        e->runs[SCRIPT_CONTEXT_USER].finished = true;
        ASSERT_TRUE(session_event_is_over(e));
        ASSERT_OK(session_event_compose_result(e));
        ASSERT_TRUE(!e->success);
        ASSERT_STREQ(e->message, "Session script /u (user context) exited with status 2.");
        ASSERT_STREQ(e->last_line, "no disk");

        /* Two failures: both sentences, last line of the first failed run (system comes first). */
        set_run(&e->runs[SCRIPT_CONTEXT_SYSTEM], SCRIPT_CONTEXT_SYSTEM, "/s", RUN_RESULT_TIMEOUT, 0, 0, "");
        ASSERT_OK(session_event_compose_result(e));
        ASSERT_STREQ(e->message,
                     "Session script /s (system context) did not finish within 30 seconds and was stopped. "
                     "Session script /u (user context) exited with status 2.");
        ASSERT_STREQ(e->last_line, "no disk");
}

static void test_resolve(void) {
        _cleanup_(session_freep) Session *a = session_new(), *b = session_new(), *c = session_new();

        a->id = strdup("a");
        a->xdg_session_id = strdup("5");
        a->since_realtime_usec = 1;
        a->events[SCRIPT_EVENT_TERMINATION].state = EVENT_STATE_DONE;
        b->id = strdup("b");
        b->xdg_session_id = strdup("5");
        b->since_realtime_usec = 2;
        c->id = strdup("c");
        c->xdg_session_id = strdup("6");
        c->since_realtime_usec = 3;
        a->next = b;
        b->next = c;

        ASSERT_TRUE(session_find(a, "c") == c);
        ASSERT_TRUE(session_find(a, "d") == NULL);
        ASSERT_TRUE(session_resolve(a, "a", "b", "6") == a);
        ASSERT_TRUE(session_resolve(a, "", "b", "6") == b);
        ASSERT_TRUE(session_resolve(a, "", "", "6") == c);
        ASSERT_TRUE(session_resolve(a, NULL, NULL, "5") == b);
        ASSERT_TRUE(session_resolve(a, "", "zz", "5") == NULL);
        ASSERT_TRUE(session_resolve(a, "", "", "") == NULL);
        /* With both open, the most recent one wins. */
        a->events[SCRIPT_EVENT_TERMINATION].state = EVENT_STATE_NOT_RUN;
        a->since_realtime_usec = 10;
        ASSERT_TRUE(session_resolve(a, NULL, NULL, "5") == a);
        /* A refused session is never the one a close by XDG id means; by id it is still found
         * (the manager then says there is nothing to close). */
        a->refused = true;
        ASSERT_TRUE(session_resolve(a, NULL, NULL, "5") == b);
        ASSERT_TRUE(session_resolve(a, "a", NULL, "5") == a);
        c->refused = true;
        ASSERT_TRUE(session_resolve(a, "", "", "6") == NULL);

        a->next = b->next = NULL;
}

static void test_resolve_user(void) {
        _cleanup_(session_freep) Session *s = session_new();

        s->user = strdup("root");
        ASSERT_OK(session_resolve_user(s));
        ASSERT_EQ(s->uid, 0);
        ASSERT_EQ(s->gid, 0);
        ASSERT_STREQ(s->home, "/root");
        ASSERT_TRUE(s->n_groups >= 1);
        ASSERT_TRUE(s->user_resolved);

        free(s->user);
        s->user = strdup("no-such-user-hopefully-x");
        ASSERT_ERROR(session_resolve_user(s), ESRCH);
}

static void test_event_state_strings(void) {
        for (int i = 0; i < _EVENT_STATE_MAX; i++)
                ASSERT_EQ(event_state_from_string(event_state_to_string(i)), i);
        ASSERT_ERROR(event_state_from_string("x"), EINVAL);
        ASSERT_TRUE(event_state_to_string(_EVENT_STATE_MAX) == NULL);
}

int main(void) {
        TEST_RUN(test_metadata_valid);
        TEST_RUN(test_state_round_trip);
        TEST_RUN(test_state_refused);
        TEST_RUN(test_state_running_scopes);
        TEST_RUN(test_state_bad);
        TEST_RUN(test_state_files);
        TEST_RUN(test_describe);
        TEST_RUN(test_compose);
        TEST_RUN(test_resolve);
        TEST_RUN(test_resolve_user);
        TEST_RUN(test_event_state_strings);
        return 0;
}
