/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `session-scripts wait-home-folder [--timeout SECONDS] [--home DIR] [--json]`: for a session script
 * that needs the user's home folder (docs/behaviour.md §3). Waits until the mount-status file below
 * the home directory says True, using inotify — no polling: it watches the deepest directory on the
 * way to the file that exists, re-arms as the missing directories appear, and re-reads the file on
 * every change.
 *
 * While it waits, and only when stderr is a terminal (a person ran it), a progress line
 * "Waiting for the home folder… Ns" appears after the first second; scripts' stderr is a pipe to the
 * daemon, so their logs never get it.
 *
 * --json prints {"home","file","mounted","waited_usec","timeout_sec"} at the end (not for usage
 * errors), for scripts that log what they waited for.
 *
 * Exit status: 0 the home folder is mounted, 1 timed out, 2 usage or system error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "format.h"
#include "home-folder.h"
#include "json-util.h"
#include "session-scripts/session-scripts.h"
#include "verbs.h"

#define DEFAULT_TIMEOUT_SEC 60U
/* A day: longer than any session start; a bound so a typo cannot make a script wait forever. */
#define MAX_TIMEOUT_SEC 86400U
/* With a progress line on a terminal, poll() wakes up this often to refresh it (only then: a
 * script's wait stays purely event-driven). */
#define PROGRESS_TICK_MSEC 250

static void help(void) {
        printf("%s wait-home-folder [OPTIONS…]\n\n"
               "Wait until the home folder is mounted, i.e. until\n"
               "  ~/%s\n"
               "reads %s=True.\n\n"
               "  -h --help             Show this help\n"
               "     --timeout SECONDS  Give up after SECONDS (0…%u, default %u)\n"
               "     --home DIR         The home directory (default $HOME, else the user's from\n"
               "                        the password database)\n"
               "     --json             Print the outcome as a JSON object on stdout\n\n"
               "Exit status: 0 mounted, 1 timed out, 2 usage or system error.\n",
               program_name, SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE, SESSION_SCRIPTS_HOME_FOLDER_STATUS_KEY,
               MAX_TIMEOUT_SEC, DEFAULT_TIMEOUT_SEC);
}

static int parse_timeout(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || v > MAX_TIMEOUT_SEC)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

/*
 * Watches the deepest existing directory of `file`'s ancestors. When the file's own directory
 * exists, the watch reports the file being written, replaced or created; otherwise it reports the
 * next missing directory being created (then we re-arm one level deeper). *wd is updated.
 */
static int watch_arm(int inotify_fd, const char *file, int *wd) {
        char dir[PATH_MAX];
        bool own_dir = true;

        if (strlen(file) >= sizeof(dir))
                return -ENAMETOOLONG;
        strcpy(dir, file);

        for (;;) {
                char *slash = strrchr(dir, '/');
                uint32_t mask;
                int w;

                if (!slash)
                        return -ENOENT;
                if (slash == dir)
                        slash[1] = 0;   /* "/" */
                else
                        *slash = 0;

                mask = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
                if (own_dir)
                        mask |= IN_CLOSE_WRITE | IN_MODIFY;

                /* Adding a watch for an inode already watched returns the same descriptor and only
                 * updates the mask (no event), so re-arming on every wake-up is cheap and quiet. The
                 * previous watch is removed only when we moved one level deeper; its IN_IGNORED
                 * causes exactly one more wake-up. */
                w = inotify_add_watch(inotify_fd, dir, mask);
                if (w >= 0) {
                        if (*wd >= 0 && *wd != w)
                                (void) inotify_rm_watch(inotify_fd, *wd);
                        *wd = w;
                        return 0;
                }
                if (errno != ENOENT && errno != ENOTDIR && errno != EACCES)
                        return -errno;
                if (strcmp(dir, "/") == 0)
                        return -errno;
                own_dir = false;
        }
}

static int status_is_true(const char *home, bool *ret) {
        HomeFolderStatus s;
        int r;

        r = home_folder_status_read(home, &s);
        if (r < 0)
                return r;
        *ret = s == HOME_FOLDER_STATUS_TRUE;
        return 0;
}

/*
 * Waits until the status file says True or deadline (CLOCK_MONOTONIC) passes, refreshing progress.
 * Returns 1 mounted, 0 timed out, -errno (already reported on stderr) on a system error.
 */
static int wait_loop(int inotify_fd, const char *file, const char *home, usec_t deadline, Progress *progress,
                     int *wd) {
        bool ok = false;
        int r;

        for (;;) {
                struct pollfd p = { .fd = inotify_fd, .events = POLLIN };
                usec_t t;
                int timeout_ms;

                /* Arm first, then read: a change between the two is caught by the watch. */
                r = watch_arm(inotify_fd, file, wd);
                if (r < 0) {
                        progress_end(progress);
                        cli_warn("wait-home-folder", "cannot watch %s: %s", file, strerror(-r));
                        return r;
                }

                r = status_is_true(home, &ok);
                if (r < 0) {
                        progress_end(progress);
                        cli_warn("wait-home-folder", "cannot read %s: %s", file, strerror(-r));
                        return r;
                }
                if (ok)
                        return 1;

                t = now(CLOCK_MONOTONIC);
                if (t >= deadline)
                        return 0;
                /* The wait is bounded by --timeout (≤ a day, so this fits an int); rounded up, so
                 * that poll() does not wake up just before the deadline. */
                timeout_ms = (int) ((deadline - t + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
                if (progress_enabled() && timeout_ms > PROGRESS_TICK_MSEC)
                        timeout_ms = PROGRESS_TICK_MSEC;
                progress_update(progress, NULL);

                r = poll(&p, 1, timeout_ms);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        progress_end(progress);
                        cli_warn("wait-home-folder", "poll() failed: %s", strerror(-r));
                        return r;
                }
                if (r == 0)
                        continue;       /* a progress tick, or the deadline: re-read once more */

                /* Drain the queue; what changed does not matter, the file is re-read. */
                for (;;) {
                        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                        ssize_t n = read(inotify_fd, buf, sizeof(buf));

                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno == EAGAIN)
                                        break;
                                r = -errno;
                                progress_end(progress);
                                cli_warn("wait-home-folder", "cannot read inotify events: %s", strerror(-r));
                                return r;
                        }
                        if (n == 0)
                                break;
                }
        }
}

typedef struct WaitHomeFolderOptions {
        unsigned timeout_sec;
        const char *home;       /* absolute; from --home, $HOME or the password database */
        bool json;
} WaitHomeFolderOptions;

/* Returns 1 to go on, 0 when --help was shown, -EINVAL on a usage error (said on stderr). */
static int wait_home_folder_parse_argv(int argc, char *argv[], WaitHomeFolderOptions *ret) {
        enum {
                ARG_TIMEOUT = 0x100,
                ARG_HOME,
                ARG_JSON,
        };
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h'         },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "home",    required_argument, NULL, ARG_HOME    },
                { "json",    no_argument,       NULL, ARG_JSON    },
                {}
        };
        WaitHomeFolderOptions o = { .timeout_sec = DEFAULT_TIMEOUT_SEC };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_TIMEOUT:
                        if (parse_timeout(optarg, &o.timeout_sec) < 0)
                                return cli_usage_error("wait-home-folder",
                                                       "invalid --timeout '%s' (expected whole seconds, 0…%u).",
                                                       optarg, MAX_TIMEOUT_SEC);
                        break;
                case ARG_HOME:
                        o.home = optarg;
                        break;
                case ARG_JSON:
                        o.json = true;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return cli_usage_error("wait-home-folder", "unexpected argument '%s'.", argv[optind]);

        if (!o.home) {
                o.home = getenv("HOME");
                if (!o.home || o.home[0] != '/') {
                        struct passwd *pw;

                        errno = 0;
                        pw = getpwuid(getuid());
                        if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
                                return cli_usage_error("wait-home-folder",
                                                       "cannot determine the home directory (HOME unset, no "
                                                       "passwd entry for uid %u); use --home.",
                                                       (unsigned) getuid());
                        o.home = pw->pw_dir;
                }
        }
        if (o.home[0] != '/')
                return cli_usage_error("wait-home-folder", "--home must be an absolute path.");

        *ret = o;
        return 1;
}

int verb_wait_home_folder(int argc, char *argv[]) {
        _cleanup_(closep) int inotify_fd = -EBADF;
        _cleanup_(freep) char *file = NULL;
        WaitHomeFolderOptions arg = {};
        Progress progress;
        usec_t deadline, started;
        int r, wd = -1;

        r = wait_home_folder_parse_argv(argc, argv, &arg);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_VALID;

        if (asprintf(&file, "%s/%s", arg.home, SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE) < 0)
                return cli_oom("wait-home-folder");

        started = now(CLOCK_MONOTONIC);
        deadline = started + (usec_t) arg.timeout_sec * USEC_PER_SEC;

        inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (inotify_fd < 0)
                return cli_error("wait-home-folder", EXIT_USAGE, "cannot create an inotify instance: %m");

        progress_begin(&progress, "Waiting for the home folder");
        r = wait_loop(inotify_fd, file, arg.home, deadline, &progress, &wd);
        progress_end(&progress);
        if (r < 0)
                return EXIT_USAGE;
        if (r == 0)
                cli_warn("wait-home-folder",
                         "the home folder was not mounted within %u s (%s does not read %s=True).",
                         arg.timeout_sec, file, SESSION_SCRIPTS_HOME_FOLDER_STATUS_KEY);
        if (arg.json) {
                _cleanup_(json_object_putp) struct json_object *o =
                        home_wait_to_json(arg.home, file, r > 0, now(CLOCK_MONOTONIC) - started,
                                          arg.timeout_sec);

                if (!o)
                        return cli_oom("wait-home-folder");
                json_print(stdout, o, false);
                if (fflush(stdout) != 0)
                        return EXIT_USAGE;
        }
        return r > 0 ? EXIT_VALID : EXIT_INVALID;
}
