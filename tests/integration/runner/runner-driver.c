/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test driver of the runner (daemon/runner.c) for the integration bed: inside the booted container
 * it connects to the system bus, records a tamper baseline of the executable, runs one run_start()
 * exactly as the daemon would, prints the RunResult as key=value lines when the callback fires, and
 * exits once the capture has ended (spool entry finished).
 *
 *   runner-driver [--context system|user] [--user NAME] [--event start|termination] [--wait SEC]
 *                 [--session-id ID] [--spool-dir DIR] [--spool-key KEY] [--tamper] [--count N]
 *                 -- EXE [ARG…]
 *
 * --tamper appends a line to EXE after the baseline was recorded (the "modified after the instance
 * was provisioned" case). Output: result=, exit_status=, signal=, duration_usec=, unit=,
 * last_line=, error=, then callback_usec= and capture_usec= (time since run_start()), spool_dir=.
 * --count N starts N runs at once in the one event loop (session ids ID-0 … ID-N-1; the result lines
 * are prefixed "I.") and prints max_callback_usec= — the concurrency check: all runs share the
 * one JobRemoved match (unit-watch.h), and none waits for another.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cleanup.h"
#include "runner.h"
#include "session-scripts/session-scripts.h"
#include "tamper.h"
#include "time-util.h"

#define DRIVER_MAX_RUNS 64U

static uint64_t start_usec, max_callback_usec;
static unsigned n_runs = 1;

static void on_finished(Run *run, const RunResult *res, void *userdata) {
        unsigned i = (unsigned) (uintptr_t) userdata;
        uint64_t t = now(CLOCK_MONOTONIC) - start_usec;
        char p[16] = "";

        if (n_runs > 1)
                snprintf(p, sizeof p, "%u.", i);
        printf("%sresult=%s\n", p, run_result_to_string(res->kind));
        printf("%sexit_status=%i\n", p, res->exit_status);
        printf("%ssignal=%i\n", p, res->signal);
        printf("%sduration_usec=%llu\n", p, (unsigned long long) res->duration_usec);
        printf("%sunit=%s\n", p, res->unit ?: "");
        printf("%slast_line=%s\n", p, res->last_line ?: "");
        printf("%serror=%s\n", p, res->error ?: "");
        printf("%scallback_usec=%llu\n", p, (unsigned long long) t);
        fflush(stdout);
        if (t > max_callback_usec)
                max_callback_usec = t;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "context", required_argument, NULL, 'c' },
                { "user", required_argument, NULL, 'u' },
                { "event", required_argument, NULL, 'e' },
                { "wait", required_argument, NULL, 'w' },
                { "session-id", required_argument, NULL, 's' },
                { "spool-dir", required_argument, NULL, 'd' },
                { "spool-key", required_argument, NULL, 'k' },
                { "tamper", no_argument, NULL, 't' },
                { "count", required_argument, NULL, 'n' },
                {}
        };
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(systemd_watch_unrefp) SystemdWatch *watch = NULL;
        _cleanup_(runner_context_unrefp) RunnerContext *runner = NULL;
        Run *runs[DRIVER_MAX_RUNS] = {};
        const char *context = "system", *user = "root", *ev = "start", *session_id = "test-session",
                   *spool_dir = NULL, *spool_key = NULL;
        unsigned wait_sec = 10;
        bool tamper = false;
        TamperBaseline baseline = {};
        sigset_t mask;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'c': context = optarg; break;
                case 'u': user = optarg; break;
                case 'e': ev = optarg; break;
                case 'w': wait_sec = (unsigned) strtoul(optarg, NULL, 10); break;
                case 's': session_id = optarg; break;
                case 'd': spool_dir = optarg; break;
                case 'k': spool_key = optarg; break;
                case 't': tamper = true; break;
                case 'n': n_runs = (unsigned) strtoul(optarg, NULL, 10); break;
                default: return 2;
                }
        if (n_runs < 1 || n_runs > DRIVER_MAX_RUNS) {
                fprintf(stderr, "--count must be 1…%u\n", DRIVER_MAX_RUNS);
                return 2;
        }
        if (optind >= argc) {
                fprintf(stderr, "usage: runner-driver [options] -- EXE [ARG…]\n");
                return 2;
        }

        /* As the daemon's main.c does: sd-event needs SIGCHLD blocked for child sources. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* And like a daemon may: ignored SIGPIPE is inherited across exec unless the runner resets it. */
        signal(SIGPIPE, SIG_IGN);

        struct passwd *pw = getpwnam(user);
        if (!pw) {
                fprintf(stderr, "no such user: %s\n", user);
                return 1;
        }
        gid_t groups[256];
        int n_groups = 256;
        if (getgrouplist(user, pw->pw_gid, groups, &n_groups) < 0) {
                fprintf(stderr, "too many groups\n");
                return 1;
        }

        char *env[16];
        size_t n_env = 0;
        char e_home[1100], e_user[300], e_logname[300], e_shell[1100], e_sid[300], e_event[100], e_ctx[100];
        snprintf(e_home, sizeof e_home, "HOME=%s", pw->pw_dir);
        snprintf(e_user, sizeof e_user, "USER=%s", pw->pw_name);
        snprintf(e_logname, sizeof e_logname, "LOGNAME=%s", pw->pw_name);
        snprintf(e_shell, sizeof e_shell, "SHELL=%s", pw->pw_shell);
        snprintf(e_sid, sizeof e_sid, SESSION_SCRIPTS_ENV_SESSION_ID "=%s", session_id);
        snprintf(e_event, sizeof e_event, SESSION_SCRIPTS_ENV_EVENT "=%s",
                 strcmp(ev, "start") == 0 ? SESSION_SCRIPTS_EVENT_START : SESSION_SCRIPTS_EVENT_TERMINATION);
        snprintf(e_ctx, sizeof e_ctx, SESSION_SCRIPTS_ENV_CONTEXT "=%s", context);
        env[n_env++] = e_home;
        env[n_env++] = e_user;
        env[n_env++] = e_logname;
        env[n_env++] = e_shell;
        env[n_env++] = (char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        env[n_env++] = (char *) "LANG=C.UTF-8";
        env[n_env++] = e_sid;
        env[n_env++] = e_event;
        env[n_env++] = e_ctx;
        env[n_env] = NULL;

        char *paths[] = { argv[optind], NULL };
        r = tamper_baseline_record(&baseline, paths);
        if (r < 0)
                return 1;
        if (tamper) {
                int fd = open(argv[optind], O_WRONLY | O_APPEND | O_CLOEXEC);
                if (fd < 0 || write(fd, "# modified\n", 11) != 11) {
                        perror("tamper");
                        return 1;
                }
                close(fd);
        }

        r = sd_event_default(&event);
        if (r < 0)
                return 1;
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the system bus: %s\n", strerror(-r));
                return 1;
        }
        r = sd_bus_attach_event(bus, event, 0);
        if (r < 0)
                return 1;

        /* As the daemon's main.c does: one watch of systemd's signals, one context for all runs. */
        if (systemd_watch_new(bus, &watch) < 0 || runner_context_new(event, watch, &runner) < 0)
                return 1;

        RunParams p = {
                .session_id = session_id,
                .event = strcmp(ev, "start") == 0 ? SCRIPT_EVENT_START : SCRIPT_EVENT_TERMINATION,
                .context = strcmp(context, "user") == 0 ? SCRIPT_CONTEXT_USER : SCRIPT_CONTEXT_SYSTEM,
                .user = user,
                .uid = pw->pw_uid,
                .gid = pw->pw_gid,
                .groups = groups,
                .n_groups = (size_t) n_groups,
                .home = pw->pw_dir,
                .argv = argv + optind,
                .envp = env,
                .waiting_time_sec = wait_sec,
                .baseline = &baseline,
                .spool_key = spool_key,
                .spool_dir = spool_dir,
        };

        start_usec = now(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < n_runs; i++) {
                char sid[256];

                if (n_runs > 1) {
                        snprintf(sid, sizeof sid, "%s-%u", session_id, i);
                        p.session_id = sid;
                }
                r = run_start(runner, &p, on_finished, (void *) (uintptr_t) i, &runs[i]);
                if (r < 0) {
                        fprintf(stderr, "run_start() failed: %s\n", strerror(-r));
                        return 1;
                }
        }

        while (runner_context_n_active(runner) > 0) {
                r = sd_event_run(event, UINT64_MAX);
                if (r < 0) {
                        fprintf(stderr, "sd_event_run() failed: %s\n", strerror(-r));
                        return 1;
                }
        }

        printf("capture_usec=%llu\n", (unsigned long long) (now(CLOCK_MONOTONIC) - start_usec));
        if (n_runs > 1)
                printf("max_callback_usec=%llu\n", (unsigned long long) max_callback_usec);
        for (unsigned i = 0; i < n_runs; i++)
                run_unref(runs[i]);
        printf("spool_dir=%s\n", spool_dir ?: SESSION_SCRIPTS_SPOOL_DIR);
        tamper_baseline_done(&baseline);
        return 0;
}
