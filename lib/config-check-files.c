/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The file-security checks of config.json and of the executables it names (docs/behaviour.md §2),
 * on the real files: script_config_check_files() of script-config.h. Unlike the parser, these do
 * I/O.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "file-type.h"
#include "script-config.h"

#define CHECK_MAX_SYMLINKS 40U

typedef struct FileCheck {
        FindingList *findings;
        const char *file;               /* the file the findings are about (for .file) */
        const char *json_path;
        unsigned line, column;          /* of the value that names the file; 0 for config.json */
        const char *what;               /* "The executable /x.sh" or "The config file": starts messages */
        const char *dir_suffix;         /* after "The directory /d": which file it leads to, or "" */
        /* Directories already reported for this file, to report each once. */
        dev_t reported_dev[64];
        ino_t reported_ino[64];
        size_t n_reported;
} FileCheck;

/* Adds an error or a warning about the file being checked (position, .file and .json_path from fc). */
__attribute__((format(printf, 3, 4)))
static int file_report(FileCheck *fc, FindingSeverity severity, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = finding_list_addv(fc->findings, severity, fc->line, fc->column, fc->json_path, fc->file, format,
                              ap);
        va_end(ap);
        return r;
}

#define file_error(fc, ...) file_report(fc, FINDING_ERROR, __VA_ARGS__)
#define file_warning(fc, ...) file_report(fc, FINDING_WARNING, __VA_ARGS__)

/* Owner root, not writable by group or others: the property docs/behaviour.md §2 asks of the
 * files and of every directory above them, so only root can change what runs as root (or as the
 * user).
 * `subject` starts the messages ("The executable /x.sh", "The directory /d (on the way to …)"). */
static int check_owner_and_mode(FileCheck *fc, const char *subject, const struct stat *st, bool directory) {
        int r;

        if (st->st_uid != 0) {
                r = file_error(fc, "%s is owned by uid %u, not by root; only root may own it (chown root)",
                               subject, (unsigned) st->st_uid);
                if (r < 0)
                        return r;
        }

        /* A root-owned directory with the sticky bit (like /tmp, mode 1777) may be writable by
         * others: there only the owner of an entry (or of the directory) can rename or remove it,
         * so others cannot replace root's entries, and every entry that we pass through in such a
         * directory must be root's (check_path_walk() checks that for symbolic links, the other
         * entries are checked for owner root anyway). A sticky directory owned by someone else was
         * reported just above: its owner can do anything in it. */
        if (directory && st->st_uid == 0 && (st->st_mode & S_ISVTX))
                return 0;

        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                r = file_error(fc, "%s is writable by %s (mode %04o); it must be writable by root only "
                                   "(chmod go-w)",
                               subject,
                               (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others" :
                               (st->st_mode & S_IWGRP) ? "its group" : "others",
                               (unsigned) (st->st_mode & 07777));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_directory(FileCheck *fc, const char *path, const struct stat *st) {
        _cleanup_(freep) char *subject = NULL;

        for (size_t i = 0; i < fc->n_reported; i++)
                if (fc->reported_dev[i] == st->st_dev && fc->reported_ino[i] == st->st_ino)
                        return 0;
        if (fc->n_reported < ELEMENTSOF(fc->reported_dev)) {
                fc->reported_dev[fc->n_reported] = st->st_dev;
                fc->reported_ino[fc->n_reported] = st->st_ino;
                fc->n_reported++;
        }

        if (asprintf(&subject, "The directory %s%s", path, fc->dir_suffix) < 0)
                return -ENOMEM;
        return check_owner_and_mode(fc, subject, st, /* directory= */ true);
}

/* A symbolic link passed through in a directory that others may write to (accepted above only because
 * it is sticky and root's) must be root's too: its owner could replace it. Elsewhere only who may
 * write to the directory matters (a link's own owner cannot change where it points). Returns 1 when
 * fine, 0 when a finding was reported, or -errno. */
static int check_symlink_owner(FileCheck *fc, const char *link, const char *parent, const struct stat *st) {
        struct stat pst;
        int r;

        if (st->st_uid == 0)
                return 1;
        if (lstat(parent, &pst) < 0)
                return -errno;
        if ((pst.st_mode & (S_IWGRP | S_IWOTH)) == 0)
                return 1;       /* only root can replace it */
        r = file_error(fc, "%s cannot be trusted: the symbolic link %s is owned by uid %u in %s, a "
                           "directory that others can write to; only root's entries are safe there",
                       fc->what, link, (unsigned) st->st_uid, parent);
        return r < 0 ? r : 0;
}

/* Reports the file itself being a symbolic link, naming where it leads. */
static int report_final_symlink(FileCheck *fc, const char *candidate) {
        _cleanup_(freep) char *real = NULL;
        char target[PATH_MAX];
        ssize_t n;

        real = realpath(candidate, NULL);
        if (real)
                return file_error(fc, "%s is a symbolic link to %s; name the real file instead (symbolic "
                                      "links are refused, so that the checked file is the one that runs)",
                                  fc->what, real);

        n = readlink(candidate, target, sizeof(target) - 1);
        if (n < 0)
                return file_error(fc, "%s is a symbolic link; name the real file instead (symbolic links "
                                      "are refused, so that the checked file is the one that runs)",
                                  fc->what);
        target[n] = 0;
        return file_error(fc, "%s is a symbolic link to %s, which does not lead to a file; name the real "
                              "file instead (symbolic links are refused)",
                          fc->what, target);
}

/*
 * Walks `path` like the kernel does, component by component, following symlinks in the
 * directories above the file by hand, so that every directory actually traversed — also those
 * only reached through a symlink — is checked. The final component must not be a symlink: the
 * daemon opens executables with O_NOFOLLOW and executes the descriptor it verified, and a symlink
 * would let its target (possibly not root-owned, possibly swapped later) stand in for the checked
 * name; refusing it is the safer choice, and the fix (name the real path) is easy.
 * On success, *ret_st is the file's stat and 1 is returned; 0 when a finding was reported.
 */
static int check_path_walk(FileCheck *fc, const char *path, struct stat *ret_st) {
        char resolved[PATH_MAX], todo[PATH_MAX];
        unsigned symlinks = 0;
        struct stat st;
        int r;

        if (!path || path[0] != '/' || strlen(path) >= sizeof(todo))
                return file_error(fc, "%s is not named by a usable absolute path", fc->what);

        strcpy(todo, path);
        resolved[0] = 0;        /* "" stands for "/" */

        if (lstat("/", &st) < 0)
                return -errno;
        r = check_directory(fc, "/", &st);
        if (r < 0)
                return r;

        for (;;) {
                char *comp = todo, *rest, candidate[PATH_MAX];
                bool last;

                while (*comp == '/')
                        comp++;
                if (*comp == 0)
                        /* The path ended in '/' (or was "/"): it names a directory. */
                        return file_error(fc, "%s is named by a directory path (ending in '/')", fc->what);

                rest = strchr(comp, '/');
                if (rest)
                        *rest++ = 0;
                while (rest && *rest == '/')
                        rest++;
                last = !rest || *rest == 0;

                if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
                        if (comp[1] == '.') {
                                char *slash = strrchr(resolved, '/');
                                if (slash)
                                        *slash = 0;
                        }
                        if (last)
                                return file_error(fc, "%s is named by a directory path (ending in '.' or "
                                                      "'..')", fc->what);
                        memmove(todo, rest, strlen(rest) + 1);
                        continue;
                }

                if ((size_t) snprintf(candidate, sizeof(candidate), "%s/%s",
                                                                    resolved, comp) >= sizeof(candidate))
                        return file_error(fc, "%s has a path that is too long", fc->what);

                if (lstat(candidate, &st) < 0) {
                        if (errno == ENOENT && last)
                                return file_error(fc, "%s does not exist", fc->what);
                        if (errno == ENOENT)
                                return file_error(fc, "%s does not exist (the directory %s is missing)",
                                                  fc->what, candidate);
                        if (errno == ENOTDIR || errno == EACCES || errno == ELOOP || errno == ENAMETOOLONG)
                                return file_error(fc, "%s cannot be checked: %s: %s", fc->what, candidate,
                                                  strerror(errno));
                        return -errno;
                }

                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX], next[PATH_MAX];
                        ssize_t n;

                        if (last)
                                return report_final_symlink(fc, candidate);

                        r = check_symlink_owner(fc, candidate, resolved[0] ? resolved : "/", &st);
                        if (r <= 0)
                                return r;
                        if (++symlinks > CHECK_MAX_SYMLINKS)
                                return file_error(fc,
                                                  "%s cannot be found: too many levels of symbolic links",
                                                  fc->what);

                        n = readlink(candidate, target, sizeof(target) - 1);
                        if (n < 0)
                                return -errno;
                        target[n] = 0;

                        if ((size_t) snprintf(next, sizeof(next), "%s/%s",
                                                                  target, rest ?: "") >= sizeof(next))
                                return file_error(fc, "%s has a path that is too long once its symbolic "
                                                      "links are resolved",
                                                  fc->what);
                        if (target[0] == '/')
                                resolved[0] = 0;
                        strcpy(todo, next);
                        continue;
                }

                if (!last) {
                        if (!S_ISDIR(st.st_mode))
                                return file_error(fc, "%s does not exist (%s is not a directory)", fc->what,
                                                  candidate);
                        r = check_directory(fc, candidate, &st);
                        if (r < 0)
                                return r;
                        strcpy(resolved, candidate);
                        memmove(todo, rest, strlen(rest) + 1);
                        continue;
                }

                /* The file itself. */
                if (!S_ISREG(st.st_mode))
                        return file_error(fc, "%s is %s; it must be a regular file", fc->what,
                                          file_type_name(st.st_mode) ?: "not a regular file");

                r = check_owner_and_mode(fc, fc->what, &st, /* directory= */ false);
                if (r < 0)
                        return r;

                *ret_st = st;
                return 1;
        }
}

static int check_executable(FindingList *findings, const ScriptExecutable *ex, const char *json_path,
                            ScriptContext context) {
        _cleanup_(freep) char *what = NULL, *dir_suffix = NULL;
        FileCheck fc = {
                .findings = findings,
                .file = ex->filename,
                .json_path = json_path,
                .line = ex->filename_line,
                .column = ex->filename_column,
        };
        struct stat st;
        int r;

        /* Every message names the file: the finding is reported at the config's "filename" value,
         * so the message is what says which file is meant. */
        if (asprintf(&what, "The executable %s", ex->filename) < 0 ||
            asprintf(&dir_suffix, " (on the way to the executable %s)", ex->filename) < 0)
                return -ENOMEM;
        fc.what = what;
        fc.dir_suffix = dir_suffix;

        r = check_path_walk(&fc, ex->filename, &st);
        if (r <= 0)
                return r;

        if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
                r = file_error(&fc, "%s has no execute permission (mode %04o); make it executable "
                                    "(chmod 755)",
                               what, (unsigned) (st.st_mode & 07777));
                if (r < 0)
                        return r;
        } else if (context == SCRIPT_CONTEXT_USER && (st.st_mode & S_IXOTH) == 0) {
                /* User-context scripts run with the user's credentials; a root-owned file without the
                 * "others" execute bit only runs for users in its group. */
                r = file_warning(&fc, "%s runs in the user context but is not executable by others "
                                      "(mode %04o); it only starts for members of group %u",
                                 what, (unsigned) (st.st_mode & 07777), (unsigned) st.st_gid);
                if (r < 0)
                        return r;
        }

        if ((uint64_t) st.st_size > SCRIPT_CONFIG_EXECUTABLE_WARN_SIZE) {
                r = file_warning(&fc, "%s is %llu bytes large, over 100 MB, which slows down provisioning "
                                      "and the tamper check",
                                 what, (unsigned long long) st.st_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

int script_config_check_files(const ScriptConfig *c, const char *config_path, FindingList *findings) {
        int r;

        if (!findings)
                return -EINVAL;

        if (config_path) {
                FileCheck fc = {
                        .findings = findings,
                        .file = config_path,
                        .json_path = "",
                        .what = "The config file",
                        .dir_suffix = "",
                };
                struct stat st;

                r = check_path_walk(&fc, config_path, &st);
                if (r < 0)
                        return r;
        }

        if (!c)
                return 0;

        for (size_t e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (size_t x = 0; x < _SCRIPT_CONTEXT_MAX; x++) {
                        const ScriptExecutable *ex = &c->events[e].executables[x];
                        _cleanup_(freep) char *path = NULL;

                        if (!c->events[e].present || !script_executable_runs(ex))
                                continue;

                        if (asprintf(&path, "%s.executables[%u].filename",
                                     script_event_to_string((ScriptEvent) e), ex->json_index) < 0)
                                return -ENOMEM;

                        r = check_executable(findings, ex, path, (ScriptContext) x);
                        if (r < 0)
                                return r;
                }

        return 0;
}
