/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The home-folder mount-status file (docs/behaviour.md §3): a pure parser of its contents and a
 * careful reader that the root daemon can point at a user-controlled home directory without being
 * tricked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "home-folder.h"
#include "session-scripts/session-scripts.h"

/* The file holds one short line; anything beyond this is not a status file. */
#define HOME_FOLDER_STATUS_MAX_SIZE 4096U

const char *home_folder_status_to_string(HomeFolderStatus s) {
        switch (s) {
        case HOME_FOLDER_STATUS_TRUE:
                return "True";
        case HOME_FOLDER_STATUS_FALSE:
                return "False";
        default:
                return "Unknown";
        }
}

/* Errors that mean "there is no usable status file here" rather than a failure: absent, a
 * component that is not a directory, a symlink refused by O_NOFOLLOW (ELOOP), not permitted. */
static bool errno_is_no_status(int e) {
        return e == ENOENT || e == ENOTDIR || e == ELOOP || e == EACCES || e == EPERM;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks (and a CR of a CRLF line end) from both ends of [*b, *e). */
static void trim(const char **b, const char **e) {
        while (*b < *e && is_blank(**b))
                (*b)++;
        while (*e > *b && is_blank((*e)[-1]))
                (*e)--;
}

static bool span_equal_ci(const char *b, const char *e, const char *s) {
        size_t n = strlen(s);

        return (size_t) (e - b) == n && strncasecmp(b, s, n) == 0;
}

HomeFolderStatus home_folder_status_parse(const char *buf, size_t len) {
        HomeFolderStatus status = HOME_FOLDER_STATUS_UNKNOWN;
        const char *p = buf, *end = buf ? buf + len : NULL;

        if (!buf)
                return HOME_FOLDER_STATUS_UNKNOWN;

        while (p < end) {
                const char *eol, *eq, *kb, *ke, *vb, *ve;

                eol = memchr(p, '\n', (size_t) (end - p));
                if (!eol)
                        eol = end;

                eq = memchr(p, '=', (size_t) (eol - p));
                if (eq) {
                        kb = p;
                        ke = eq;
                        vb = eq + 1;
                        ve = eol;
                        trim(&kb, &ke);
                        trim(&vb, &ve);
                        /* Quoted values ("True") as shells and env files write them. */
                        if (ve - vb >= 2 &&
                            ((*vb == '"' && ve[-1] == '"') || (*vb == '\'' && ve[-1] == '\''))) {
                                vb++;
                                ve--;
                        }

                        if (span_equal_ci(kb, ke, SESSION_SCRIPTS_HOME_FOLDER_STATUS_KEY)) {
                                /* The last assignment wins, as in an environment file. */
                                if (span_equal_ci(vb, ve, "true"))
                                        status = HOME_FOLDER_STATUS_TRUE;
                                else if (span_equal_ci(vb, ve, "false"))
                                        status = HOME_FOLDER_STATUS_FALSE;
                                else
                                        status = HOME_FOLDER_STATUS_UNKNOWN;
                        }
                }

                p = eol + 1;
        }

        return status;
}

int home_folder_status_read(const char *home, HomeFolderStatus *ret) {
        _cleanup_(closep) int dir_fd = -EBADF, fd = -EBADF;
        char rel[sizeof(SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE)];
        char buf[HOME_FOLDER_STATUS_MAX_SIZE];
        ssize_t n;
        struct stat st;
        char *p, *slash;

        if (!home || home[0] != '/' || !ret)
                return -EINVAL;

        /* The home directory itself is trusted (it comes from the passwd database), but everything
         * below it is the user's: every component is opened with O_NOFOLLOW relative to its parent,
         * so a symlink planted by the user (e.g. .config → /etc) cannot make the root daemon read a
         * file of the user's choosing. */
        dir_fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                if (errno_is_no_status(errno)) {
                        *ret = HOME_FOLDER_STATUS_UNKNOWN;
                        return 0;
                }
                return -errno;
        }

        /* A copy to cut into components, on the stack: the daemon calls this in a forked child
         * (daemon/home-probe.c), where only async-signal-safe calls belong. */
        memcpy(rel, SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE, sizeof rel);

        for (p = rel; (slash = strchr(p, '/')); p = slash + 1) {
                int nfd;

                *slash = 0;
                nfd = openat(dir_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0) {
                        if (errno_is_no_status(errno)) {
                                *ret = HOME_FOLDER_STATUS_UNKNOWN;
                                return 0;
                        }
                        return -errno;
                }
                safe_close(dir_fd);
                dir_fd = nfd;
        }

        /* O_NONBLOCK: a FIFO planted in place of the file must not block the daemon. */
        fd = openat(dir_fd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno_is_no_status(errno)) {
                        *ret = HOME_FOLDER_STATUS_UNKNOWN;
                        return 0;
                }
                return -errno;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                *ret = HOME_FOLDER_STATUS_UNKNOWN;
                return 0;
        }

        n = loop_read(fd, buf, sizeof(buf));
        if (n < 0)
                return (int) n;

        *ret = home_folder_status_parse(buf, (size_t) n);
        return 0;
}
