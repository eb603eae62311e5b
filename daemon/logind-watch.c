/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Follows logind's session records with inotify (see logind-watch.h). logind writes each record
 * /run/systemd/sessions/ID atomically (a temporary file renamed over it) whenever the session's
 * state changes — in particular when it starts closing, which happens when the login program's
 * session reference is gone: it called close_session and exited, or it died — and removes it when
 * the session is finalized. One inotify watch on the directory tells which record changed, so a
 * change costs one sd-login lookup of that session, however many sessions are followed.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <systemd/sd-login.h>

#include "cleanup.h"
#include "log.h"
#include "logind-watch.h"

/* Where logind keeps its session records (the sd-login API reads them there). */
#define LOGIND_SESSIONS_DIR "/run/systemd/sessions"

struct LogindWatch {
        sd_event *event;
        int inotify_fd;
        int wd;                 /* -1 while the directory is not watched */
        sd_event_source *source;
        LogindChangedFn callback;
        void *userdata;
};

/* logind's session ids are short words of letters and digits ("4", "c12"); the directory also
 * holds each session's FIFO ("ID.ref") and logind's temporary files (".#…"), which are not
 * records. */
static bool record_name_is_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > 64)
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                        return false;
        return true;
}

static int on_inotify(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        LogindWatch *w = userdata;
        /* Aligned as inotify_event requires; big enough for many events per read. */
        union {
                struct inotify_event ev;
                char raw[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
        } buf;

        for (;;) {
                ssize_t n = read(fd, &buf, sizeof buf);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                log_warning_errno(errno, "Failed to read logind session changes, ignoring: %m");
                        return 0;
                }

                for (char *p = buf.raw; p < buf.raw + n;) {
                        struct inotify_event *e = (struct inotify_event *) p;

                        p += sizeof(struct inotify_event) + e->len;

                        if (e->mask & IN_Q_OVERFLOW) {
                                /* Changes were lost: every followed session is to be checked. */
                                w->callback(NULL, w->userdata);
                                continue;
                        }
                        if (e->mask & IN_IGNORED) {
                                /* The directory went away (logind's runtime directory removed, e.g.
                                 * logind restarting): watch it again, now if it is back already,
                                 * else at the next session that names a logind session. */
                                if (e->wd == w->wd) {
                                        w->wd = -1;
                                        (void) logind_watch_ensure(w);
                                }
                                w->callback(NULL, w->userdata);
                                continue;
                        }
                        if (e->len > 0 && record_name_is_valid(e->name))
                                w->callback(e->name, w->userdata);
                }
        }
}

int logind_watch_ensure(LogindWatch *w) {
        if (w->wd >= 0)
                return 1;

        /* IN_MOVED_TO: a record was (re)written; IN_DELETE: a session was finalized. IN_ONLYDIR and
         * IN_DONT_FOLLOW: logind's own directory, not whatever a symlink there would name. */
        w->wd = inotify_add_watch(w->inotify_fd, LOGIND_SESSIONS_DIR,
                                  IN_MOVED_TO | IN_DELETE | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW);
        if (w->wd < 0) {
                if (errno == ENOENT)
                        return 0;
                return -errno;
        }
        return 1;
}

int logind_watch_new(sd_event *event, LogindChangedFn callback, void *userdata, LogindWatch **ret) {
        _cleanup_(freep) LogindWatch *w = NULL;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->wd = -1;
        w->callback = callback;
        w->userdata = userdata;

        w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->inotify_fd < 0)
                return -errno;

        r = sd_event_add_io(event, &w->source, w->inotify_fd, EPOLLIN, on_inotify, w);
        if (r < 0) {
                safe_close(w->inotify_fd);
                return r;
        }
        (void) sd_event_source_set_description(w->source, "logind-sessions");

        r = logind_watch_ensure(w);
        if (r < 0)
                log_warning_errno(r, "Failed to watch %s, sessions end at close_session only until it works: %m",
                                  LOGIND_SESSIONS_DIR);

        *ret = TAKE_PTR(w);
        return 0;
}

LogindWatch *logind_watch_free(LogindWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->source);
        safe_close(w->inotify_fd);
        free(w);
        return NULL;
}

int logind_session_is_over(const char *logind_session_id) {
        _cleanup_(freep) char *state = NULL;
        int r;

        r = sd_session_get_state(logind_session_id, &state);
        if (r == -ENXIO || r == -ENOENT)
                return 1;       /* logind has finalized it */
        if (r < 0)
                return r;
        return strcmp(state, "closing") == 0;
}

int logind_session_belongs_to(const char *logind_session_id, uid_t uid) {
        uid_t owner;
        int r;

        r = sd_session_get_uid(logind_session_id, &owner);
        if (r == -ENXIO || r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return owner == uid;
}
