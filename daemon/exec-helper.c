/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * session-scripts-exec: the process setup of session-scriptsd, apart from the daemon's bookkeeping
 * (see exec-helper.h for the command line and the descriptors). It runs as root, started by the
 * daemon with posix_spawn(); everything it needs comes on its command line, in its environment
 * (the script's) and on its descriptors. It is not setuid: run by anyone else it can drop to
 * nobody and do nothing the caller could not.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec-helper.h"
#include "home-folder.h"
#include "session-scripts/session-scripts.h"

/* The kernel's NGROUPS_MAX; the daemon passes at most this many. */
#define GROUPS_MAX 65536U

typedef struct Setup {
        bool script;
        bool user;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        const char *home;
        struct rlimit limits[RLIM_NLIMITS];
        bool have_limits;
        char **argv;
} Setup;

/* Reports a failure to the daemon (status pipe) and, past the descriptor setup, to the script's
 * stderr (which is its log), then exits. */
_Noreturn static void fail(ChildStage stage, int error) {
        ChildStatus st = { .stage = stage, .error = error };
        const char *name = strerrorname_np(error) ?: "?", *what = child_stage_to_string(stage);
        struct iovec iov[] = {
                { (void *) "session-scripts: ", 17 },
                { (void *) what, strlen(what) },
                { (void *) ": ", 2 },
                { (void *) name, strlen(name) },
                { (void *) "\n", 1 },
        };

        (void) write(EXEC_FD_STATUS, &st, sizeof st);
        if (stage != CHILD_STAGE_FDS)
                (void) writev(STDERR_FILENO, iov, ELEMENTSOF(iov));
        _exit(127);
}

/* Parses a decimal number ≤ max, digits only. Returns 0 or -EINVAL. */
static int parse_number(const char *s, unsigned long long max, unsigned long long *ret) {
        unsigned long long v;
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_id(const char *s, unsigned *ret) {
        unsigned long long v;
        int r = parse_number(s, UINT_MAX - 1, &v);      /* (uid_t) -1 is no id */

        if (r < 0)
                return r;
        *ret = (unsigned) v;
        return 0;
}

/* "G1,G2,…" or "". */
static int parse_groups(const char *s, Setup *c) {
        size_t n = *s ? 1 : 0;

        for (const char *p = s; *p; p++)
                n += *p == ',';
        if (n > GROUPS_MAX)
                return -E2BIG;
        c->groups = calloc(n ?: 1, sizeof(gid_t));
        if (!c->groups)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                char buf[16];
                size_t l = strcspn(s, ",");
                unsigned g;

                if (l == 0 || l >= sizeof buf)
                        return -EINVAL;
                memcpy(buf, s, l);
                buf[l] = 0;
                if (parse_id(buf, &g) < 0)
                        return -EINVAL;
                c->groups[i] = g;
                s += l + (s[l] == ',');
        }
        c->n_groups = n;
        return 0;
}

/* "SOFT:HARD,…" (RLIM_NLIMITS entries, "-" = infinity). */
static int parse_limits(const char *s, Setup *c) {
        for (int i = 0; i < RLIM_NLIMITS; i++) {
                rlim_t v[2];

                for (int k = 0; k < 2; k++) {
                        char buf[32];
                        size_t l = strcspn(s, k == 0 ? ":" : ",");
                        unsigned long long x;

                        if (l == 0 || l >= sizeof buf)
                                return -EINVAL;
                        memcpy(buf, s, l);
                        buf[l] = 0;
                        if (streq(buf, "-"))
                                v[k] = RLIM_INFINITY;
                        else if (parse_number(buf, RLIM_INFINITY - 1, &x) < 0)
                                return -EINVAL;
                        else
                                v[k] = (rlim_t) x;
                        s += l;
                        if (*s)
                                s++;
                }
                if (v[0] > v[1])
                        return -EINVAL;
                c->limits[i] = (struct rlimit) { .rlim_cur = v[0], .rlim_max = v[1] };
        }
        if (*s)
                return -EINVAL;
        c->have_limits = true;
        return 0;
}

/* Gives the process the limits of c (as root, before dropping privileges, so hard limits may be
 * raised as well as lowered). Where a hard limit cannot be raised (no CAP_SYS_RESOURCE in the
 * daemon's bounding set), the current hard limit stays and the soft one is kept under it. */
static int set_limits(const Setup *c) {
        for (int i = 0; i < RLIM_NLIMITS; i++) {
                struct rlimit rl = c->limits[i], cur;

                if (setrlimit(i, &rl) >= 0)
                        continue;
                if (errno != EPERM || getrlimit(i, &cur) < 0)
                        return -errno;
                rl.rlim_max = cur.rlim_max;
                if (rl.rlim_cur > rl.rlim_max)
                        rl.rlim_cur = rl.rlim_max;
                if (setrlimit(i, &rl) < 0)
                        return -errno;
        }
        return 0;
}

/* Drops to uid/gid/groups for good: groups first, while we still may, then gid, then uid, all
 * three ids each, so nothing of root is left to return to; verified afterwards, as a partial drop
 * must never go on. Returns 0 or the failed stage (negative errno in *ret_error). */
static int drop_privileges(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, int *ret_error) {
        uid_t ru, eu, su;
        gid_t rg, eg, sg;

        if (setgroups(n_groups, groups) < 0)
                return (*ret_error = errno), CHILD_STAGE_GROUPS;
        if (setresgid(gid, gid, gid) < 0)
                return (*ret_error = errno), CHILD_STAGE_GID;
        if (setresuid(uid, uid, uid) < 0)
                return (*ret_error = errno), CHILD_STAGE_UID;
        if (getresgid(&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid)
                return (*ret_error = EPERM), CHILD_STAGE_GID;
        if (getresuid(&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid)
                return (*ret_error = EPERM), CHILD_STAGE_UID;
        return -1;
}

_Noreturn static void run(const Setup *c) {
        sigset_t mask;
        int stage, error = 0;
        char go[16];
        ssize_t n;

        /* The executable stays open across the exec only for a script: the kernel runs the
         * interpreter with /dev/fd/EXEC_FD_EXE as the script's path, and the interpreter opens it.
         * The status pipe and the go socket never do; nothing else of the daemon is here (it opens
         * everything O_CLOEXEC, and what is left is closed anyway). */
        if (fcntl(EXEC_FD_EXE, F_SETFD, c->script ? 0 : FD_CLOEXEC) < 0 ||
            fcntl(EXEC_FD_STATUS, F_SETFD, FD_CLOEXEC) < 0 || fcntl(EXEC_FD_GO, F_SETFD, FD_CLOEXEC) < 0)
                fail(CHILD_STAGE_FDS, errno);
        if (close_range(EXEC_FD_GO + 1, ~0U, 0) < 0)
                for (int fd = EXEC_FD_GO + 1; fd < 65536; fd++)
                        (void) close(fd);

        /* Own session and process group: no controlling terminal, and a signal to the daemon's
         * process group does not hit scripts. */
        (void) setsid();

        /* The daemon blocks SIGCHLD/SIGTERM/… for sd-event and ignores SIGPIPE, and posix_spawn()
         * leaves libc's two internal signals (32, 33) ignored; the mask and ignored signals survive
         * exec, so reset all of them. Straight to the kernel: libc's sigaction() refuses its
         * internal signals. */
        for (int sig = 1; sig < _NSIG; sig++) {
                struct {
                        void *handler;
                        unsigned long flags;
                        void *restorer;
                        uint64_t mask;
                } ksa = { .handler = SIG_DFL };

                (void) syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof ksa.mask);
        }
        sigemptyset(&mask);
        (void) sigprocmask(SIG_SETMASK, &mask, NULL);

        /* Wait until the daemon says we are in our scope. EOF (daemon gone or giving up) → exit.
         * The message is the home-folder status, "-" when the environment has it already. */
        do
                n = read(EXEC_FD_GO, go, sizeof go - 1);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                _exit(EXIT_FAILURE);
        go[n] = 0;
        (void) close(EXEC_FD_GO);
        if (streq(go, "True") || streq(go, "False") || streq(go, "Unknown"))
                (void) setenv(SESSION_SCRIPTS_ENV_HOME_FOLDER_STATUS, go, 1);

        /* Not the daemon's limits (its unit raises RLIMIT_NOFILE, an administrator's drop-in may
         * set others): scripts of both contexts start with what systemd gives the units it starts,
         * like a service or a login of the user would (pam_limits aside). */
        if (c->have_limits && set_limits(c) < 0)
                fail(CHILD_STAGE_RLIMIT, errno);

        (void) umask(0022);

        if (c->user) {
                stage = drop_privileges(c->uid, c->gid, c->groups, c->n_groups, &error);
                if (stage >= 0)
                        fail(stage, error);
                /* As the user, so the user's permissions decide; a missing home is not fatal. */
                if (!c->home || chdir(c->home) < 0)
                        (void) chdir("/");
        } else {
                /* Root, without whatever supplementary groups the daemon had. */
                if (setgroups(0, NULL) < 0)
                        fail(CHILD_STAGE_GROUPS, errno);
                (void) chdir("/");
        }

        /* Exec exactly the file the tamper check verified, never the path again. */
        (void) execveat(EXEC_FD_EXE, "", c->argv, environ, AT_EMPTY_PATH);
        fail(CHILD_STAGE_EXEC, errno);
}

/* home-status UID GID GROUPS HOME: the status, read with the user's rights, as one byte. */
static int home_status(char **argv) {
        Setup c = {};
        HomeFolderStatus status = HOME_FOLDER_STATUS_UNKNOWN;
        int error = 0;
        unsigned char b;

        if (!argv[0] || !argv[1] || !argv[2] || !argv[3] || argv[4] || parse_id(argv[0], &c.uid) < 0 ||
            parse_id(argv[1], &c.gid) < 0 || parse_groups(argv[2], &c) < 0 || argv[3][0] != '/')
                return EXIT_FAILURE;
        if (drop_privileges(c.uid, c.gid, c.groups, c.n_groups, &error) >= 0)
                return EXIT_FAILURE;
        if (home_folder_status_read(argv[3], &status) < 0)
                status = HOME_FOLDER_STATUS_UNKNOWN;
        b = (unsigned char) status;
        return write(STDOUT_FILENO, &b, 1) == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char *argv[]) {
        Setup c = {};
        int i;

        if (argc >= 2 && streq(argv[1], "home-status"))
                return home_status(argv + 2);
        if (argc < 2 || !streq(argv[1], "run"))
                goto usage;

        for (i = 2; i < argc; i++) {
                if (streq(argv[i], "--")) {
                        i++;
                        break;
                } else if (streq(argv[i], "--script"))
                        c.script = true;
                else if (streq(argv[i], "--user") && i + 4 < argc) {
                        c.user = true;
                        if (parse_id(argv[i + 1], &c.uid) < 0 || parse_id(argv[i + 2], &c.gid) < 0 ||
                            parse_groups(argv[i + 3], &c) < 0)
                                fail(CHILD_STAGE_FDS, EINVAL);
                        c.home = argv[i + 4];
                        i += 4;
                } else if (streq(argv[i], "--limits") && i + 1 < argc) {
                        if (parse_limits(argv[++i], &c) < 0)
                                fail(CHILD_STAGE_FDS, EINVAL);
                } else
                        fail(CHILD_STAGE_FDS, EINVAL);
        }
        if (i >= argc)
                fail(CHILD_STAGE_FDS, EINVAL);
        c.argv = argv + i;
        run(&c);

usage:
        fprintf(stderr, "This program is internal to session-scriptsd (see exec-helper.h); it takes "
                        "'run …' or 'home-status …'.\n");
        return EXIT_FAILURE;
}
