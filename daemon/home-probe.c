/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The home-folder status reader (see home-probe.h). The child — session-scripts-exec home-status,
 * started without fork() (exec-helper.h) — writes one byte, the status, into a pipe and exits.
 * The parent takes the first of: that byte, the child's exit without it (UNKNOWN), the timeout
 * (UNKNOWN, child killed). A child stuck in the kernel on a dead mount may outlive the
 * timeout; the probe stays allocated until it is reaped, with no session attached to it.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec-spawn.h"
#include "home-probe.h"
#include "log.h"

struct HomeProbe {
        pid_t pid;
        int fd;                         /* read end of the status pipe */
        sd_event_source *child_source, *io_source, *timer_source;
        HomeProbeFn callback;
        void *userdata;
        bool reaped;
};

static void home_probe_free(HomeProbe *p) {
        sd_event_source_disable_unref(p->child_source);
        sd_event_source_disable_unref(p->io_source);
        sd_event_source_disable_unref(p->timer_source);
        safe_close(p->fd);
        free(p);
}

/* Hands the status over once; the probe lives on only while its child is not reaped. */
static void home_probe_report(HomeProbe *p, HomeFolderStatus status) {
        HomeProbeFn cb = p->callback;

        p->callback = NULL;
        p->io_source = sd_event_source_disable_unref(p->io_source);
        p->timer_source = sd_event_source_disable_unref(p->timer_source);
        p->fd = safe_close(p->fd);
        if (cb)
                cb(status, p->userdata);
}

HomeProbe *home_probe_cancel(HomeProbe *p) {
        if (!p)
                return NULL;
        p->callback = NULL;
        if (p->reaped) {
                home_probe_free(p);
                return NULL;
        }
        /* Our unreaped child: the pid cannot have been reused. */
        (void) kill(p->pid, SIGKILL);
        p->io_source = sd_event_source_disable_unref(p->io_source);
        p->timer_source = sd_event_source_disable_unref(p->timer_source);
        p->fd = safe_close(p->fd);
        return NULL;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        HomeProbe *p = userdata;

        p->reaped = true;
        if (p->callback) {
                unsigned char b;

                /* The byte is in the pipe before the child exits, if it was written at all. */
                if (p->fd >= 0 && read(p->fd, &b, 1) == 1 && b <= HOME_FOLDER_STATUS_FALSE)
                        home_probe_report(p, (HomeFolderStatus) b);
                else
                        home_probe_report(p, HOME_FOLDER_STATUS_UNKNOWN);
                /* The callback may have cancelled us: then we are still ours to free, below. */
        }
        if (!p->callback)
                home_probe_free(p);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HomeProbe *p = userdata;
        unsigned char b;

        if (read(fd, &b, 1) == 1 && b <= HOME_FOLDER_STATUS_FALSE)
                home_probe_report(p, (HomeFolderStatus) b);
        else
                home_probe_report(p, HOME_FOLDER_STATUS_UNKNOWN);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        HomeProbe *p = userdata;

        log_warning("Reading the home-folder status took longer than %llu ms; assuming Unknown.",
                    (unsigned long long) (HOME_PROBE_TIMEOUT_USEC / USEC_PER_MSEC));
        (void) kill(p->pid, SIGKILL);
        home_probe_report(p, HOME_FOLDER_STATUS_UNKNOWN);
        return 0;
}

int home_probe_start(sd_event *event, const char *home, uid_t uid, gid_t gid, const gid_t *groups,
                     size_t n_groups, HomeProbeFn callback, void *userdata, HomeProbe **ret) {
        _cleanup_(close_pairp) int pipefd[2] = { -EBADF, -EBADF };
        _cleanup_(closep) int null_fd = -EBADF;
        _cleanup_(freep) char *uid_s = NULL, *gid_s = NULL, *groups_s = NULL;
        HomeProbe *p;
        pid_t pid;
        int r;

        if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null_fd < 0)
                return -errno;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->fd = -EBADF;
        p->callback = callback;
        p->userdata = userdata;

        /* session-scripts-exec home-status UID GID GROUPS HOME (exec-helper.h), stdout our pipe. */
        if (asprintf(&uid_s, "%u", (unsigned) uid) < 0) {
                uid_s = NULL;
                free(p);
                return -ENOMEM;
        }
        if (asprintf(&gid_s, "%u", (unsigned) gid) < 0) {
                gid_s = NULL;
                free(p);
                return -ENOMEM;
        }
        r = exec_helper_format_groups(groups, n_groups, &groups_s);
        if (r < 0) {
                free(p);
                return r;
        }

        r = exec_helper_spawn((char *const[]) { (char *) "session-scripts-exec", (char *) "home-status", uid_s,
                                                gid_s, groups_s, (char *) home, NULL },
                              (char *const[]) { NULL }, (int[]) { null_fd, pipefd[1], -1 }, 3, &pid);
        if (r < 0) {
                free(p);
                return r;
        }

        p->pid = pid;
        p->fd = TAKE_FD(pipefd[0]);

        r = sd_event_add_child(event, &p->child_source, pid, WEXITED, on_child, p);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                p->reaped = true;
                home_probe_free(p);
                return r;
        }
        (void) sd_event_source_set_description(p->child_source, "home-probe-child");

        r = sd_event_add_io(event, &p->io_source, p->fd, EPOLLIN, on_io, p);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &p->timer_source, CLOCK_MONOTONIC, HOME_PROBE_TIMEOUT_USEC,
                                               10 * USEC_PER_MSEC, on_timeout, p);
        if (r < 0) {
                /* The child is watched already: let the probe clean up after it. */
                home_probe_cancel(p);
                return r;
        }

        *ret = p;
        return 0;
}
