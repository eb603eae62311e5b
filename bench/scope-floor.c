/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * scope-floor: the least any implementation of session-scripts has to do on this machine, without
 * the daemon, the PAM module or any bookkeeping: a session's scripts run in transient scope units,
 * one per context (system.slice as root, user-UID.slice as the user), and a process may only run
 * its script once systemd has put it into its scope. So per session: two processes are forked and
 * wait; systemd is asked for their two scopes at once; each process executes the script as soon
 * as its scope's start job is done; the session is over when both have exited. The benchmarks put
 * the module's figures next to this floor, measured in the same booted test bed.
 *
 *   scope-floor latency ITERATIONS USER
 *       One session after the other, /usr/bin/true in both scopes. Prints one line per session,
 *       "floor USEC ok|failed" (pam-session-timer's format).
 *
 *   scope-floor storm N PREFIX EXECUTABLE
 *       N sessions at once, of the users PREFIX001 … PREFIXnnn, EXECUTABLE in both scopes (its
 *       environment: AppStream_UserName, AppStream_Session_ID "floor-I",
 *       AppStream_Session_Context "floor-system" or "floor-user"). Prints "storm_floor USEC
 *       ok|failed" once: from the first fork until every process has exited.
 *
 * Root only, on a booted systemd.
 */

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

typedef struct Scope {
        char unit[64];
        pid_t pid;
        int go;                 /* write end; the process goes on at EOF */
        bool done;
        bool failed;
} Scope;

static Scope *scopes;
static size_t n_scopes, n_done;

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* A scope's start job ended: its process may run. */
static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *unit, *result, *path;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        for (size_t i = 0; i < n_scopes; i++)
                if (!scopes[i].done && strcmp(unit, scopes[i].unit) == 0) {
                        scopes[i].done = true;
                        scopes[i].failed = strcmp(result, "done") != 0;
                        close(scopes[i].go);
                        scopes[i].go = -1;
                        n_done++;
                }
        return 0;
}

/* Forks a process that waits for EOF on its go pipe, then becomes pw (root when NULL) and executes
 * argv with envp. */
static pid_t fork_waiting(const struct passwd *pw, char *const *argv, char *const *envp, int *ret_go) {
        int p[2];
        pid_t pid;
        char c;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                /* Only our own go pipe: the others' write ends must not be held open here. */
                for (size_t i = 0; i < n_scopes; i++)
                        if (scopes[i].go >= 0)
                                close(scopes[i].go);
                close(p[1]);
                (void) read(p[0], &c, 1);
                if (pw && (initgroups(pw->pw_name, pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                           setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0))
                        _exit(126);
                execve(argv[0], argv, envp);
                _exit(127);
        }
        close(p[0]);
        *ret_go = p[1];
        return pid;
}

static int start_scope(sd_bus *bus, const Scope *s, const char *slice) {
        sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", s->unit, "replace");
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sv)", 4, "Slice", "s", slice, "PIDs", "au", 1, (uint32_t) s->pid,
                                          "RuntimeMaxUSec", "t", (uint64_t) 60000000, "CollectMode", "s",
                                          "inactive-or-failed");
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, NULL, NULL, 0);
        sd_bus_message_unref(m);
        return r;
}

/* Runs n sessions at once (pws[i]: the user of session i) and returns the wall time in µs; *ret_ok
 * says whether every scope started and every process exited with 0. */
static uint64_t run_sessions(sd_bus *bus, struct passwd *const *pws, size_t n, const char *executable,
                             bool *ret_ok) {
        static unsigned long serial;
        uint64_t t0 = now_usec();
        bool failed = false;

        n_scopes = 2 * n;
        n_done = 0;
        for (size_t i = 0; i < n_scopes; i++)
                scopes[i] = (Scope) { .go = -1 };

        for (size_t i = 0; i < n_scopes && !failed; i++) {
                const struct passwd *pw = i % 2 ? pws[i / 2] : NULL;
                char slice[64], user[80], id[64], context[64];
                char *argv[] = { (char *) executable, NULL };
                char *envp[] = { user, id, context, (char *) "PATH=/usr/local/bin:/usr/bin:/bin", NULL };

                snprintf(user, sizeof user, "AppStream_UserName=%s", pws[i / 2]->pw_name);
                snprintf(id, sizeof id, "AppStream_Session_ID=floor-%zu", i / 2);
                snprintf(context, sizeof context, "AppStream_Session_Context=floor-%s", pw ? "user" : "system");
                snprintf(slice, sizeof slice, pw ? "user-%u.slice" : "system.slice", pw ? (unsigned) pw->pw_uid : 0);
                snprintf(scopes[i].unit, sizeof scopes[i].unit, "scope-floor-%d-%lu-%zu.scope", (int) getpid(),
                         serial, i);
                scopes[i].pid = fork_waiting(pw, argv, envp, &scopes[i].go);
                if (scopes[i].pid < 0 || start_scope(bus, &scopes[i], slice) < 0)
                        failed = true;
        }
        serial++;

        while (!failed && n_done < n_scopes) {
                int r = sd_bus_process(bus, NULL);

                if (r < 0 || (r == 0 && sd_bus_wait(bus, 60000000) <= 0))
                        failed = true;
        }

        for (size_t i = 0; i < n_scopes; i++)
                if (scopes[i].go >= 0)
                        close(scopes[i].go);
        for (size_t i = 0; i < n_scopes; i++) {
                int status = 0;

                if (scopes[i].pid > 0 &&
                    (waitpid(scopes[i].pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0))
                        failed = true;
                failed = failed || scopes[i].failed;
        }
        *ret_ok = !failed;
        return now_usec() - t0;
}

static struct passwd *user_copy(const char *name) {
        struct passwd *pw = getpwnam(name), *c;

        if (!pw)
                return NULL;
        c = malloc(sizeof *c);
        if (!c)
                return NULL;
        *c = *pw;
        c->pw_name = strdup(pw->pw_name);
        return c->pw_name ? c : NULL;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        struct passwd **pws;
        bool storm;
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

        pws = calloc(storm ? n : 1, sizeof *pws);
        scopes = calloc(2 * (storm ? n : 1), sizeof *scopes);
        if (!pws || !scopes)
                return EXIT_FAILURE;
        for (size_t i = 0; i < (storm ? n : 1); i++) {
                char name[64];

                snprintf(name, sizeof name, storm ? "%s%03zu" : "%s", argv[3], i + 1);
                pws[i] = user_copy(name);
                if (!pws[i]) {
                        fprintf(stderr, "%s: no such user\n", name);
                        return EXIT_FAILURE;
                }
        }

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, NULL);
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "Failed to set up the system bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        for (unsigned long i = 0; i < (storm ? 1 : n); i++) {
                bool ok;
                uint64_t t = run_sessions(bus, pws, storm ? n : 1, storm ? argv[4] : "/usr/bin/true", &ok);

                printf("%s %llu %s\n", storm ? "storm_floor" : "floor", (unsigned long long) t, ok ? "ok" : "failed");
                fflush(stdout);
        }

        sd_bus_flush_close_unref(bus);
        return EXIT_SUCCESS;
}
