/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Installing an Elastic-fleet bundle with libarchive; see bundle.h. Every file operation inside the
 * new tree goes through directory file descriptors with O_NOFOLLOW, so nothing in the archive and
 * nothing already on disk can redirect a write outside it. The paths config.json names are
 * resolved the same way (bundle_open_beneath()), and their mode is changed on the descriptor that
 * was opened and checked, never again by name.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bundle.h"
#include "cleanup.h"
#include "fileio.h"
#include "regular-file.h"
#include "format.h"
#include "string-util.h"

#define COPY_BUFFER_SIZE (64U * 1024U)
/* Bound on the recursion of the tree removal (an old bundle made by hand may be deeper than what
 * we extract, but not absurdly). */
#define REMOVE_MAX_DEPTH 64U

DEFINE_POINTER_CLEANUP_FUNC(struct archive *, archive_read_free, archive_read_freep);

int bundle_path_split(const char *path, char **ret_buf, const char *ret_components[static BUNDLE_MAX_DEPTH + 1]) {
        _cleanup_(freep) char *buf = NULL;
        size_t n = 0;
        char *p, *save = NULL;

        if (!path || !path[0] || path[0] == '/' || strlen(path) > BUNDLE_MAX_PATH)
                return -EINVAL;
        if (string_has_cc(path) || strchr(path, '\\'))
                return -EINVAL;

        buf = strdup(path);
        if (!buf)
                return -ENOMEM;
        for (p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
                if (strcmp(p, ".") == 0)
                        continue;
                if (strcmp(p, "..") == 0)
                        return -EINVAL;
                if (n >= BUNDLE_MAX_DEPTH)
                        return -EINVAL;
                ret_components[n++] = p;
        }
        if (n == 0)
                return -EINVAL;
        ret_components[n] = NULL;
        *ret_buf = TAKE_PTR(buf);
        return (int) n;
}

int bundle_open_beneath_walk(int dir_fd, const char *path, int flags) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(closep) int fd = -EBADF;
        const char *components[BUNDLE_MAX_DEPTH + 1];
        int n;

        n = bundle_path_split(path, &buf, components);
        if (n < 0)
                return n;
        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                /* O_NOFOLLOW on every component: a symlink anywhere on the way is refused. The
                 * directories are opened for reading, not O_PATH: O_PATH|O_NOFOLLOW would hand
                 * back the link itself instead of refusing it. */
                bool last = i + 1 == n;
                int next = openat(fd, components[i],
                                  last ? flags | O_NOFOLLOW | O_CLOEXEC
                                       : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        struct stat st;

                        /* With O_DIRECTORY a symlink is ENOTDIR: say ELOOP, like openat2(). */
                        if (errno == ENOTDIR && !last &&
                            fstatat(fd, components[i], &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode))
                                return -ELOOP;
                        return -errno;
                }
                close(fd);
                fd = next;
        }
        return TAKE_FD(fd);
}

int bundle_open_beneath(int dir_fd, const char *path, int flags) {
        _cleanup_(freep) char *buf = NULL;
        const char *components[BUNDLE_MAX_DEPTH + 1];
        struct open_how how = {
                .flags = (uint64_t) (flags | O_NOFOLLOW | O_CLOEXEC),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int r, fd;

        /* The same syntax rules as for an entry of the zip, whichever way it is then resolved;
         * the kernel's checks below stay in force against what is actually on disk. */
        r = bundle_path_split(path, &buf, components);
        if (r < 0)
                return r;
        fd = (int) syscall(__NR_openat2, dir_fd, path, &how, sizeof how);
        if (fd >= 0)
                return fd;
        /* Kernels before 5.6, and seccomp filters that do not know the call (some answer EPERM):
         * the walk enforces the same rules one component at a time. */
        if (errno == ENOSYS || errno == EPERM)
                return bundle_open_beneath_walk(dir_fd, path, flags);
        return -errno;
}

/* Opens (creating with mode 0755 when missing) the directory name below dfd, never following a
 * symlink. Returns the fd or -errno (-ENOTDIR when something else is in the way). */
static int dir_open_or_create(int dfd, const char *name) {
        int fd;

        if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP ? -ENOTDIR : -errno;
        /* Explicit mode: the umask must not make it narrower, nor anything wider. */
        if (fchmod(fd, 0755) < 0 || (geteuid() == 0 && fchown(fd, 0, 0) < 0)) {
                int k = -errno;
                close(fd);
                return k;
        }
        return fd;
}

/* Opens the directory of components[0..n) below root (creating them). Returns fd or -errno. */
static int dir_walk(int root, const char *const *components, size_t n) {
        _cleanup_(closep) int fd = fcntl(root, F_DUPFD_CLOEXEC, 3);

        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                int next = dir_open_or_create(fd, components[i]);
                if (next < 0)
                        return next;
                close(fd);
                fd = next;
        }
        return TAKE_FD(fd);
}

/* Removes name below dfd and everything in it, without following symlinks. Returns 0 or -errno. */
static int tree_remove_at(int dfd, const char *name, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd, r = 0;

        if (unlinkat(dfd, name, 0) >= 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        if (depth >= REMOVE_MAX_DEPTH)
                return -ELOOP;

        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                int k;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                k = tree_remove_at(dirfd(d), de->d_name, depth + 1);
                if (k < 0 && r == 0)
                        r = k;
        }
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = -errno;
        return r;
}

/* Copies the current entry's data into fd, within the limits. Returns 0, -EFBIG (too large) or -EIO
 * (archive error, with reason set) / -errno (write). */
static int entry_copy(struct archive *a, int fd, const BundleLimits *limits, uint64_t *total, size_t entries,
                      const BundleReport *report, char *reason, size_t reason_size, const char *path) {
        _cleanup_(freep) char *buf = malloc(COPY_BUFFER_SIZE);
        uint64_t size = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf, COPY_BUFFER_SIZE);

                if (n < 0)
                        return reasonf(reason, reason_size, -EINVAL, "%s: cannot be read from the zip: %s", path,
                                       archive_error_string(a) ?: "unknown error");
                if (n == 0)
                        return 0;
                /* Counted as it is unpacked: the sizes in the zip's headers may lie. */
                size += (uint64_t) n;
                *total += (uint64_t) n;
                if (size > limits->max_entry_size)
                        return reasonf(reason, reason_size, -EINVAL, "%s: larger than %llu bytes", path,
                                       (unsigned long long) limits->max_entry_size);
                if (*total > limits->max_total_size)
                        return reasonf(reason, reason_size, -EINVAL, "the bundle unpacks to more than %llu bytes",
                                       (unsigned long long) limits->max_total_size);
                r = loop_write(fd, buf, (size_t) n);
                if (r < 0)
                        return reasonf(reason, reason_size, r, "%s: cannot be written: %s", path, strerror(-r));
                if (report && report->progress)
                        report->progress(*total, entries, report->userdata);
        }
}

void bundle_report_done(BundleReport *report) {
        if (!report)
                return;
        for (size_t i = 0; i < report->n_files; i++)
                free(report->files[i].path);
        free(report->files);
        report->files = NULL;
        report->n_files = 0;
}

/* Records a regular file of the new tree (its components joined with '/'). Returns 0 or -ENOMEM. */
static int report_add_file(BundleReport *report, const char *const *components, size_t n) {
        BundleFile *l;
        size_t len = 0;
        char *path;

        if (!report)
                return 0;
        for (size_t i = 0; i < n; i++)
                len += strlen(components[i]) + 1;
        path = malloc(len + 1);
        if (!path)
                return -ENOMEM;
        len = 0;
        for (size_t i = 0; i < n; i++) {
                size_t cl = strlen(components[i]);

                if (i > 0)
                        path[len++] = '/';
                memcpy(path + len, components[i], cl);
                len += cl;
        }
        path[len] = 0;
        /* At most limits->max_entries files: the list is bounded like the archive. */
        l = reallocarray(report->files, report->n_files + 1, sizeof(BundleFile));
        if (!l) {
                free(path);
                return -ENOMEM;
        }
        report->files = l;
        report->files[report->n_files++] = (BundleFile) { .path = path };
        return 0;
}

/* Fills in the modes and sizes of the recorded files as they are in the finished tree. */
static int report_stat_files(BundleReport *report, int root) {
        if (!report)
                return 0;
        for (size_t i = 0; i < report->n_files; i++) {
                struct stat st;

                if (fstatat(root, report->files[i].path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                report->files[i].mode = st.st_mode & 07777;
                report->files[i].size = (uint64_t) st.st_size;
        }
        return 0;
}

/* Unpacks every entry into root. Returns 0, -EINVAL (refused, reason set), -errno. */
static int bundle_unpack(int archive_fd, int root, const BundleLimits *limits, BundleReport *report,
                         char *reason, size_t reason_size) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        struct archive_entry *entry;
        uint64_t total = 0;
        size_t n = 0;
        int r;

        if (!a)
                return -ENOMEM;
        /* Zip only: that is what a bundle is; no other format (or filter) is tried on the input. */
        if (archive_read_support_format_zip(a) != ARCHIVE_OK ||
            archive_read_open_fd(a, archive_fd, COPY_BUFFER_SIZE) != ARCHIVE_OK)
                return reasonf(reason, reason_size, -EINVAL, "not a zip archive: %s",
                               archive_error_string(a) ?: "unknown error");

        for (;;) {
                _cleanup_(freep) char *buf = NULL;
                _cleanup_(closep) int dfd = -EBADF, fd = -EBADF;
                const char *components[BUNDLE_MAX_DEPTH + 1];
                const char *path;
                mode_t type;
                int nc;

                r = archive_read_next_header(a, &entry);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return reasonf(reason, reason_size, -EINVAL, "damaged zip archive: %s",
                                       archive_error_string(a) ?: "unknown error");

                if (++n > limits->max_entries)
                        return reasonf(reason, reason_size, -EINVAL, "more than %zu entries", limits->max_entries);

                path = archive_entry_pathname(entry);
                type = archive_entry_filetype(entry);
                if (!path)
                        return reasonf(reason, reason_size, -EINVAL, "entry %zu has no usable name", n);
                if (archive_entry_hardlink(entry))
                        return reasonf(reason, reason_size, -EINVAL, "%s: hard links are not allowed", path);
                if (type == AE_IFLNK || archive_entry_symlink(entry))
                        return reasonf(reason, reason_size, -EINVAL, "%s: symbolic links are not allowed", path);
                if (type != AE_IFREG && type != AE_IFDIR)
                        return reasonf(reason, reason_size, -EINVAL,
                                       "%s: only regular files and directories are allowed", path);

                nc = bundle_path_split(path, &buf, components);
                if (nc == -ENOMEM)
                        return -ENOMEM;
                if (nc < 0)
                        return reasonf(reason, reason_size, -EINVAL,
                                       "%s: not a safe relative path (absolute, \"..\", too long or too deep)", path);

                if (archive_entry_size_is_set(entry) && archive_entry_size(entry) >= 0 &&
                    (uint64_t) archive_entry_size(entry) > limits->max_entry_size)
                        return reasonf(reason, reason_size, -EINVAL, "%s: larger than %llu bytes", path,
                                       (unsigned long long) limits->max_entry_size);

                if (type == AE_IFDIR) {
                        dfd = dir_walk(root, components, (size_t) nc);
                        if (dfd < 0)
                                return reasonf(reason, reason_size, dfd == -ENOTDIR ? -EINVAL : dfd,
                                               "%s: cannot create the directory: %s", path, strerror(-dfd));
                        continue;
                }

                dfd = dir_walk(root, components, (size_t) nc - 1);
                if (dfd < 0)
                        return reasonf(reason, reason_size, dfd == -ENOTDIR ? -EINVAL : dfd,
                                       "%s: cannot create its directory: %s", path, strerror(-dfd));
                /* O_EXCL|O_NOFOLLOW: a second entry of the same name, or anything already there, is
                 * an error rather than something to write through. */
                fd = openat(dfd, components[nc - 1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return reasonf(reason, reason_size, errno == EEXIST ? -EINVAL : -errno,
                                       "%s: cannot create the file: %s", path,
                                       errno == EEXIST ? "the zip has it twice" : strerror(errno));
                r = entry_copy(a, fd, limits, &total, n, report, reason, reason_size, path);
                if (r < 0)
                        return r;
                r = report_add_file(report, components, (size_t) nc);
                if (r < 0)
                        return r;
                /* Root-owned with safe modes: only an execute bit of the entry survives. */
                if ((geteuid() == 0 && fchown(fd, 0, 0) < 0) ||
                    fchmod(fd, (archive_entry_perm(entry) & 0111) ? 0755 : 0644) < 0 || fsync(fd) < 0)
                        return reasonf(reason, reason_size, -errno, "%s: cannot set its owner and mode: %s", path,
                                       strerror(errno));
        }
        return 0;
}

/* Reads root/config.json (a regular file), from the descriptor that was checked. */
static int read_config_at(int root, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;

        fd = bundle_open_beneath(root, "config.json", O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return fd;
        return read_regular_fd(fd, SCRIPT_CONFIG_MAX_FILE_SIZE, ret, ret_len);
}

/* Makes the executable exe (a path below root) 0755, on the descriptor opened beneath root and
 * checked to be a regular file: a path that climbs out ("..") or passes a symlink never gets here,
 * and nothing can be swapped in between the check and the chmod. Returns 0 or -EINVAL (reason
 * set; filename is what config.json says, for the message), -errno. */
static int executable_fixup(int root, const char *exe, const char *filename, char *reason,
                            size_t reason_size) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;

        fd = bundle_open_beneath(root, exe, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd == -ENOMEM)
                return fd;
        if (fd == -EINVAL || fd == -EXDEV)
                return reasonf(reason, reason_size, -EINVAL,
                               "config.json names %s, which is not a plain path inside the bundle "
                               "(\"..\", too long or too deep)", filename);
        if (fd == -ELOOP)
                return reasonf(reason, reason_size, -EINVAL,
                               "config.json names %s, whose path passes through a symbolic link", filename);
        /* ENOTDIR: a file of the bundle where the path needs a directory. */
        if (fd == -ENOENT || fd == -ENOTDIR)
                return reasonf(reason, reason_size, -EINVAL,
                               "config.json names %s, which the bundle does not contain", filename);
        if (fd < 0)
                return reasonf(reason, reason_size, fd, "cannot open %s in the unpacked bundle: %s", filename,
                               strerror(-fd));
        if (fstat(fd, &st) < 0)
                return reasonf(reason, reason_size, -errno, "cannot look at %s in the unpacked bundle: %s",
                               filename, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return reasonf(reason, reason_size, -EINVAL,
                               "config.json names %s, which the bundle does not contain as a regular file",
                               filename);
        if (fchmod(fd, 0755) < 0)
                return reasonf(reason, reason_size, -errno, "cannot make %s executable: %s", filename,
                               strerror(errno));
        return 0;
}

/* Replaces prefix from (a directory path) by to in *s, when *s is below from. */
static int path_rebase(char **s, const char *from, const char *to) {
        size_t l = strlen(from);
        char *n;

        if (!*s || strncmp(*s, from, l) != 0 || ((*s)[l] != '/' && (*s)[l] != 0))
                return 0;
        if (asprintf(&n, "%s%s", to, *s + l) < 0)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

/*
 * Validates the unpacked config.json as it will be once installed: every executable it names must
 * be a regular file of the bundle, named by a plain path below target (made 0755); the file checks
 * look at the unpacked copies (paths rebased to tmp_path and back for the findings). A bundle is
 * self-contained: a name outside it would make the installed configuration run a file the bundle
 * does not vouch for. Returns 0 (findings may hold errors), -EINVAL (refused, reason set), -errno.
 */
static int bundle_validate(int root, const char *tmp_path, const char *target, bool file_checks,
                           FindingList *findings, char *reason, size_t reason_size) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        _cleanup_(freep) char *buf = NULL, *config_tmp = NULL;
        size_t len = 0, first;
        int r;

        r = read_config_at(root, &buf, &len);
        if (r == -ENOENT)
                return reasonf(reason, reason_size, -EINVAL, "the bundle has no config.json at its top level");
        if (r < 0)
                return reasonf(reason, reason_size, r == -ENOMEM ? r : -EINVAL, "config.json cannot be read: %s",
                               strerror(-r));

        r = script_config_parse(buf, len, &c, findings);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !c)
                return 0;       /* the findings say why */

        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (ScriptContext x = 0; x < _SCRIPT_CONTEXT_MAX; x++) {
                        ScriptExecutable *exe = &c->events[e].executables[x];
                        size_t tl = strlen(target);

                        if (!c->events[e].present || !script_executable_runs(exe))
                                continue;
                        if (strncmp(exe->filename, target, tl) != 0 || exe->filename[tl] != '/')
                                return reasonf(reason, reason_size, -EINVAL,
                                               "config.json names %s, which is outside the bundle "
                                               "directory %s", exe->filename, target);
                        r = executable_fixup(root, exe->filename + tl + 1, exe->filename, reason,
                                             reason_size);
                        if (r < 0)
                                return r;
                        r = path_rebase(&exe->filename, target, tmp_path);
                        if (r < 0)
                                return r;
                }

        if (!file_checks)
                return 0;
        if (asprintf(&config_tmp, "%s/config.json", tmp_path) < 0)
                return -ENOMEM;
        first = findings->n;
        r = script_config_check_files(c, config_tmp, findings);
        if (r < 0)
                return r;
        for (size_t i = first; i < findings->n; i++) {
                r = path_rebase(&findings->items[i].file, tmp_path, target);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* mkdir -p of an absolute path, mode 0755 for what is created. */
static int mkdir_parents(const char *path) {
        _cleanup_(freep) char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int bundle_install(int archive_fd, const char *target_dir, const BundleLimits *limits, bool file_checks,
                   FindingList *findings, BundleReport *report, char *reason, size_t reason_size) {
        _cleanup_(freep) char *target = NULL, *parent = NULL, *tmp_path = NULL;
        _cleanup_(closep) int parent_fd = -EBADF, root = -EBADF;
        const char *name, *tmp_name;
        struct stat st;
        bool exists;
        int r;

        if (reason && reason_size > 0)
                reason[0] = 0;
        if (!target_dir || target_dir[0] != '/' || strlen(target_dir) > 4096)
                return reasonf(reason, reason_size, -EINVAL, "the target directory must be an absolute path");

        target = strdup(target_dir);
        if (!target)
                return -ENOMEM;
        while (strlen(target) > 1 && target[strlen(target) - 1] == '/')
                target[strlen(target) - 1] = 0;
        name = strrchr(target, '/') + 1;
        if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return reasonf(reason, reason_size, -EINVAL, "invalid target directory %s", target_dir);
        parent = strndup(target, (size_t) (name - target) > 1 ? (size_t) (name - target - 1) : 1);
        if (!parent)
                return -ENOMEM;

        r = mkdir_parents(parent);
        if (r < 0)
                return reasonf(reason, reason_size, r, "cannot create %s: %s", parent, strerror(-r));
        parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return reasonf(reason, reason_size, -errno, "cannot open %s: %s", parent, strerror(errno));

        /* The existing target must be a real directory: a symlink there is refused, not followed. */
        exists = fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0;
        if (!exists && errno != ENOENT)
                return reasonf(reason, reason_size, -errno, "cannot look at %s: %s", target, strerror(errno));
        if (exists && !S_ISDIR(st.st_mode))
                return reasonf(reason, reason_size, -EINVAL,
                               "%s exists and is not a directory (refusing to replace it)", target);

        /* The new tree is built next to the target (same file system, so the rename is atomic),
         * mode 0700 until it is complete. */
        if (asprintf(&tmp_path, "%s/.%s.new-XXXXXX", strcmp(parent, "/") == 0 ? "" : parent, name) < 0)
                return -ENOMEM;
        if (!mkdtemp(tmp_path))
                return reasonf(reason, reason_size, -errno, "cannot create a directory next to %s: %s", target,
                               strerror(errno));
        tmp_name = strrchr(tmp_path, '/') + 1;
        root = openat(parent_fd, tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0) {
                r = reasonf(reason, reason_size, -errno, "cannot open %s: %s", tmp_path, strerror(errno));
                goto fail;
        }

        bundle_report_done(report);
        r = bundle_unpack(archive_fd, root, limits, report, reason, reason_size);
        if (r < 0)
                goto fail;

        if ((geteuid() == 0 && fchown(root, 0, 0) < 0) || fchmod(root, 0755) < 0) {
                r = reasonf(reason, reason_size, -errno, "cannot set the mode of %s: %s", tmp_path,
                            strerror(errno));
                goto fail;
        }

        r = bundle_validate(root, tmp_path, target, file_checks, findings, reason, reason_size);
        if (r < 0)
                goto fail;
        if (findings->n_errors > 0) {
                r = reasonf(reason, reason_size, -EINVAL, "config.json of the bundle is invalid (%zu error%s)",
                            findings->n_errors, findings->n_errors == 1 ? "" : "s");
                goto fail;
        }

        r = report_stat_files(report, root);
        if (r < 0) {
                r = reasonf(reason, reason_size, r, "cannot look at the unpacked files: %s", strerror(-r));
                goto fail;
        }

        /* Everything on disk before the switch, so a crash leaves one complete tree or the other. */
        if (syncfs(root) < 0) {
                r = reasonf(reason, reason_size, -errno, "cannot sync %s: %s", tmp_path, strerror(errno));
                goto fail;
        }

        if (exists)
                r = renameat2(parent_fd, tmp_name, parent_fd, name, RENAME_EXCHANGE);
        else
                r = renameat2(parent_fd, tmp_name, parent_fd, name, RENAME_NOREPLACE);
        if (r < 0) {
                r = reasonf(reason, reason_size, -errno, "cannot move the new bundle into place: %s",
                            strerror(errno));
                goto fail;
        }
        (void) fsync(parent_fd);

        /* After an exchange the old bundle is at the temporary name. */
        if (exists) {
                r = tree_remove_at(parent_fd, tmp_name, 0);
                if (r < 0)
                        cli_notice("Warning: cannot remove the previous bundle at %s: %s", tmp_path,
                                   strerror(-r));
        }
        return 0;

fail:
        (void) tree_remove_at(parent_fd, tmp_name, 0);
        bundle_report_done(report);
        return r;
}
