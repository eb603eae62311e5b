/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * scope-floor: what systemd and the kernel alone take to run a session's scripts the way the
 * behaviour contract demands, without the daemon, the PAM module or any bookkeeping: every script
 * runs in a transient scope of its own, one per context (system.slice as root, user-UID.slice as
 * the user), and a process may only run its script once systemd has put it into its scope. So per
 * session: two processes are forked and wait; systemd is asked for their two scopes without waiting
 * in between; each process executes the script as soon as its scope's start job is done; the
 * session is over when both have exited. The users' groups are looked up before the clock starts.
 * The benchmarks put the module's figures next to this floor, measured in the same test bed.
 *
 *   scope-floor latency ITERATIONS USER
 *       One session after the other, /usr/bin/true in both scopes; between two sessions (not
 *       timed) systemd is left to remove the previous scopes. Prints one line per session,
 *       "floor USEC ok|failed".
 *
 *   scope-floor storm N PREFIX EXECUTABLE
 *       N sessions at once, of the users PREFIX001 … PREFIXnnn, EXECUTABLE in both scopes (its
 *       environment: AppStream_UserName, AppStream_Session_ID "floor-I",
 *       AppStream_Session_Context "floor-system" or "floor-user"). Prints "storm_floor USEC
 *       ok|failed" once: from the first fork until every process has exited.
 *
 * A scope that systemd refuses or fails to start has its process killed (its script never runs
 * outside a scope) and makes the session "failed"; so does a script that exits non-zero or a
 * session not over within two minutes. Exits 1 when any session failed. Root only, on a booted
 * systemd.
 */

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "time-util.h"

#define SESSION_TIMEOUT_USEC (120 * USEC_PER_SEC)
#define SETTLE_TIMEOUT_USEC (5 * USEC_PER_SEC)

typedef struct User {
        char *name;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        int n_groups;
} User;

typedef struct Scope {
        char unit[64];
        pid_t pid;
        int go;                 /* write end; the process goes on at EOF */
        bool done;              /* the start job ended (or the start failed) */
        bool failed;
        bool removed;           /* systemd dropped the unit */
} Scope;

static Scope *scopes;
static size_t n_scopes, n_done, n_removed;

/* The scope's start is over: its process runs the script (ok) or is killed. */
static void scope_started(Scope *s, bool ok) {
        if (s->done)
                return;
        s->done = true;
        s->failed = !ok;
        if (!ok && s->pid > 0)
                (void) kill(s->pid, SIGKILL);
        if (s->go >= 0)
                close(s->go);
        s->go = -1;
        n_done++;
}

static Scope *scope_by_unit(const char *unit) {
        for (size_t i = 0; i < n_scopes; i++)
                if (strcmp(unit, scopes[i].unit) == 0)
                        return &scopes[i];
        return NULL;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *result, *path;
        uint32_t id;
        Scope *s;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && (s = scope_by_unit(unit)))
                scope_started(s, strcmp(result, "done") == 0);
        return 0;
}

static int on_unit_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *path;
        Scope *s;

        if (sd_bus_message_read(m, "so", &unit, &path) >= 0 && (s = scope_by_unit(unit)) && !s->removed) {
                s->removed = true;
                n_removed++;
        }
        return 0;
}

/* StartTransientUnit's reply: an error means no job, so no JobRemoved will come. */
static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Scope *s = userdata;

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                fprintf(stderr, "Failed to start %s: %s\n", s->unit, e && e->message ? e->message : "?");
                scope_started(s, false);
                s->removed = true;
                n_removed++;
        }
        return 0;
}

/* Forks a process that waits for EOF on its go pipe, then becomes u (root when NULL) and executes
 * argv with envp. */
static pid_t fork_waiting(const User *u, char *const *argv, char *const *envp, int *ret_go) {
        int p[2];
        pid_t pid;
        char c;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return -1;
        }
        if (pid == 0) {
                /* Only our own go pipe (as descriptor 3): nothing else of the parent's, above all
                 * not the others' write ends. */
                if (dup2(p[0], 3) < 0)
                        _exit(125);
                (void) close_range(4, ~0U, 0);
                (void) read(3, &c, 1);
                close(3);
                if (u && (setgroups(u->n_groups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
                          setresuid(u->uid, u->uid, u->uid) < 0))
                        _exit(126);
                execve(argv[0], argv, envp);
                _exit(127);
        }
        close(p[0]);
        *ret_go = p[1];
        return pid;
}

/* Asks for the scope as the daemon does (daemon/runner.c): job mode "fail" in system.slice,
 * "replace" in the user's slice. */
static int start_scope(sd_bus *bus, Scope *s, const char *slice, bool user) {
        sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", s->unit, user ? "replace" : "fail");
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sv)", 4, "Slice", "s", slice, "PIDs", "au", 1, (uint32_t) s->pid,
                                          "RuntimeMaxUSec", "t", SESSION_TIMEOUT_USEC, "CollectMode", "s",
                                          "inactive-or-failed");
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_start_reply, s, SESSION_TIMEOUT_USEC);
        sd_bus_message_unref(m);
        return r;
}

/* Dispatches bus messages until *counter reaches target or the deadline passes; with
 * deadline 0 only what is queued now. Returns false on a bus error or when the deadline passed. */
static bool bus_run_until(sd_bus *bus, const size_t *counter, size_t target, uint64_t deadline) {
        for (;;) {
                int r = sd_bus_process(bus, NULL);
                uint64_t n;

                if (r < 0)
                        return false;
                if (r > 0)
                        continue;
                if (deadline == 0 || *counter >= target)
                        return true;
                n = now(CLOCK_MONOTONIC);
                if (n >= deadline || sd_bus_wait(bus, deadline - n) < 0)
                        return false;
        }
}

/* Runs n sessions at once (users[i]: the user of session i) and returns the wall time in µs; *ret_ok
 * says whether every scope started and every process exited with 0. */
static uint64_t run_sessions(sd_bus *bus, User *const *users, size_t n, const char *executable, bool *ret_ok) {
        static unsigned long serial;
        uint64_t t0 = now(CLOCK_MONOTONIC), t;
        bool failed = false;

        n_scopes = 2 * n;
        n_done = n_removed = 0;
        for (size_t i = 0; i < n_scopes; i++)
                scopes[i] = (Scope) { .go = -1 };

        for (size_t i = 0; i < n_scopes; i++) {
                const User *u = i % 2 ? users[i / 2] : NULL;
                char slice[64], user[80], id[64], context[64];
                char *argv[] = { (char *) executable, NULL };
                char *envp[] = { user, id, context, (char *) "PATH=/usr/local/bin:/usr/bin:/bin", NULL };

                snprintf(user, sizeof user, "AppStream_UserName=%s", users[i / 2]->name);
                snprintf(id, sizeof id, "AppStream_Session_ID=floor-%zu", i / 2);
                snprintf(context, sizeof context, "AppStream_Session_Context=floor-%s", u ? "user" : "system");
                if (u)
                        snprintf(slice, sizeof slice, "user-%u.slice", (unsigned) u->uid);
                else
                        snprintf(slice, sizeof slice, "system.slice");
                snprintf(scopes[i].unit, sizeof scopes[i].unit, "scope-floor-%d-%lu-%zu.scope", (int) getpid(),
                         serial, i);
                scopes[i].pid = fork_waiting(u, argv, envp, &scopes[i].go);
                if (scopes[i].pid < 0 || start_scope(bus, &scopes[i], slice, u != NULL) < 0) {
                        scope_started(&scopes[i], false);
                        scopes[i].removed = true;
                        n_removed++;
                }
                /* Scopes ready meanwhile start their scripts now, not after the last fork. */
                (void) bus_run_until(bus, &n_done, n_scopes, 0);
        }
        serial++;

        if (!bus_run_until(bus, &n_done, n_scopes, t0 + SESSION_TIMEOUT_USEC))
                for (size_t i = 0; i < n_scopes; i++)
                        scope_started(&scopes[i], false);

        for (size_t i = 0; i < n_scopes; i++) {
                int status = 0;

                if (scopes[i].pid > 0 &&
                    (waitpid(scopes[i].pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0))
                        failed = true;
                failed = failed || scopes[i].failed;
        }
        t = now(CLOCK_MONOTONIC) - t0;
        *ret_ok = !failed;
        return t;
}

/* The user with the groups the daemon would give its processes (getgrouplist()). */
static User *user_new(const char *name) {
        struct passwd *pw = getpwnam(name);
        User *u;
        int n = 64;

        if (!pw)
                return NULL;
        u = calloc(1, sizeof *u);
        if (!u)
                return NULL;
        *u = (User) { .name = strdup(pw->pw_name), .uid = pw->pw_uid, .gid = pw->pw_gid };
        for (;;) {
                gid_t *g = realloc(u->groups, n * sizeof(gid_t));
                int k = n;

                if (!g)
                        return NULL;
                u->groups = g;
                if (getgrouplist(name, u->gid, u->groups, &k) >= 0) {
                        u->n_groups = k;
                        break;
                }
                n = k > n ? k : 2 * n;
        }
        return u->name ? u : NULL;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        User **users;
        struct rlimit rl;
        bool storm, all_ok = true;
        unsigned long n;
        int r;

        storm = argc == 5 && strcmp(argv[1], "storm") == 0;
        if (!storm && !(argc == 4 && strcmp(argv[1], "latency") == 0)) {
                fprintf(stderr, "Usage: %s latency ITERATIONS USER | storm N PREFIX EXECUTABLE\n", argv[0]);
                return EXIT_FAILURE;
        }
        n = strtoul(argv[2], NULL, 10);
        if (n == 0 || n > 10000) {
                fprintf(stderr, "%s: a count from 1 to 10000, please\n", argv[2]);
                return EXIT_FAILURE;
        }
        /* A storm holds a go pipe per process. */
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        users = calloc(storm ? n : 1, sizeof *users);
        scopes = calloc(2 * (storm ? n : 1), sizeof *scopes);
        if (!users || !scopes)
                return EXIT_FAILURE;
        for (size_t i = 0; i < (storm ? n : 1); i++) {
                char name[64];

                snprintf(name, sizeof name, storm ? "%s%03zu" : "%s", argv[3], i + 1);
                users[i] = user_new(name);
                if (!users[i]) {
                        fprintf(stderr, "%s: no such user (or out of memory)\n", name);
                        return EXIT_FAILURE;
                }
        }

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.systemd1.Manager", "UnitRemoved", on_unit_removed, NULL);
        /* As the daemon does: systemd sends its job and unit signals only while someone subscribed. */
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "Failed to set up the system bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        for (unsigned long i = 0; i < (storm ? 1 : n); i++) {
                bool ok;
                uint64_t t = run_sessions(bus, users, storm ? n : 1, storm ? argv[4] : "/usr/bin/true", &ok);

                printf("%s %llu %s\n", storm ? "storm_floor" : "floor", (unsigned long long) t, ok ? "ok" : "failed");
                fflush(stdout);
                all_ok = all_ok && ok;
                /* Not timed: systemd removes this session's scopes before the next one starts. */
                if (!storm)
                        (void) bus_run_until(bus, &n_removed, n_scopes, now(CLOCK_MONOTONIC) + SETTLE_TIMEOUT_USEC);
        }

        sd_bus_flush_close_unref(bus);
        return all_ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
