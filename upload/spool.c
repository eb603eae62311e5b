/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Spool names, .meta parsing, directory scans (entries, crash leftovers) and eviction choice for the
 * uploader (see spool.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fileio.h"
#include "session-scripts/session-scripts.h"
#include "spool.h"

/* Bound on the number of entries a scan returns: far above what MaxSpoolSize lets accumulate in
 * practice, low enough that a directory full of junk cannot exhaust memory. */
#define SPOOL_SCAN_MAX 1000000U

int spool_name_parse(const char *name, char ret_run_id[SPOOL_RUN_ID_LEN + 1], SpoolFileKind *ret_kind) {
        SpoolFileKind kind;
        const char *suffix;

        if (!name || strlen(name) <= SPOOL_RUN_ID_LEN)
                return -EINVAL;

        for (size_t i = 0; i < SPOOL_RUN_ID_LEN; i++)
                if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
                        return -EINVAL;

        suffix = name + SPOOL_RUN_ID_LEN;
        if (strcmp(suffix, SESSION_SCRIPTS_SPOOL_LOG_SUFFIX) == 0)
                kind = SPOOL_FILE_LOG;
        else if (strcmp(suffix, SESSION_SCRIPTS_SPOOL_META_SUFFIX) == 0)
                kind = SPOOL_FILE_META;
        else
                return -EINVAL;

        memcpy(ret_run_id, name, SPOOL_RUN_ID_LEN);
        ret_run_id[SPOOL_RUN_ID_LEN] = 0;
        *ret_kind = kind;
        return 0;
}

bool spool_key_is_valid(const char *key) {
        size_t n;

        if (!key)
                return false;
        n = strlen(key);
        if (n == 0 || n > SPOOL_KEY_MAX || key[0] == '/')
                return false;

        for (const unsigned char *p = (const unsigned char *) key; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;

        /* Each component between slashes: not empty, not "." or "..". */
        for (const char *c = key;;) {
                const char *e = strchrnul(c, '/');
                size_t len = (size_t) (e - c);

                if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (*e == 0)
                        break;
                c = e + 1;
        }
        return true;
}

void spool_meta_done(SpoolMeta *m) {
        if (!m)
                return;
        free(m->key);
        free(m->session_id);
        free(m->event);
        free(m->context);
        free(m->user);
        *m = (SpoolMeta) {};
}

static int set_field(char **field, const char *value, size_t len) {
        char *copy = strndup(value, len);

        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

int spool_meta_parse(const char *text, size_t len, SpoolMeta *ret) {
        _cleanup_(spool_meta_done) SpoolMeta m = {};
        int state = -1;         /* -1 unknown, 0 running, 1 finished */
        const char *p = text, *end = text + len;

        if (len > SPOOL_META_MAX_SIZE)
                return -EFBIG;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *eq, *value;
                const char *line_end = nl ?: end;
                size_t name_len, value_len;
                int r = 0;

                eq = memchr(p, '=', (size_t) (line_end - p));
                if (!eq || memchr(p, 0, (size_t) (line_end - p)))
                        goto next;      /* not an assignment (or binary junk): ignore the line */

                name_len = (size_t) (eq - p);
                value = eq + 1;
                value_len = (size_t) (line_end - value);
                if (value_len > 0 && value[value_len - 1] == '\r')
                        value_len--;

#define NAME_IS(s) (name_len == strlen(s) && memcmp(p, s, name_len) == 0)
                if (NAME_IS("KEY"))
                        r = set_field(&m.key, value, value_len);
                else if (NAME_IS("STATE")) {
                        if (value_len == strlen(SESSION_SCRIPTS_SPOOL_STATE_RUNNING) &&
                            memcmp(value, SESSION_SCRIPTS_SPOOL_STATE_RUNNING, value_len) == 0)
                                state = 0;
                        else if (value_len == strlen(SESSION_SCRIPTS_SPOOL_STATE_FINISHED) &&
                                 memcmp(value, SESSION_SCRIPTS_SPOOL_STATE_FINISHED, value_len) == 0)
                                state = 1;
                        else
                                state = -1;
                } else if (NAME_IS("SESSION_ID"))
                        r = set_field(&m.session_id, value, value_len);
                else if (NAME_IS("EVENT"))
                        r = set_field(&m.event, value, value_len);
                else if (NAME_IS("CONTEXT"))
                        r = set_field(&m.context, value, value_len);
                else if (NAME_IS("USER"))
                        r = set_field(&m.user, value, value_len);
#undef NAME_IS
                if (r < 0)
                        return r;
        next:
                if (!nl)
                        break;
                p = nl + 1;
        }

        if (state < 0 || !spool_key_is_valid(m.key))
                return -EBADMSG;

        m.finished = state == 1;
        *ret = m;
        m = (SpoolMeta) {};
        return 0;
}

int spool_meta_load(int dir_fd, const char *run_id, SpoolMeta *ret) {
        char name[SPOOL_RUN_ID_LEN + sizeof(SESSION_SCRIPTS_SPOOL_META_SUFFIX)];
        _cleanup_(closep) int fd = -EBADF;
        char buf[SPOOL_META_MAX_SIZE + 1];
        ssize_t n;
        struct stat st;

        snprintf(name, sizeof name, "%s" SESSION_SCRIPTS_SPOOL_META_SUFFIX, run_id);

        /* O_NOFOLLOW + S_ISREG: the uploader only ever reads regular files the daemon created. */
        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        n = loop_read(fd, buf, sizeof buf);
        if (n < 0)
                return (int) n;
        if ((size_t) n == sizeof buf)
                return -EFBIG;

        return spool_meta_parse(buf, (size_t) n, ret);
}

static int scan_item_compare(const void *a, const void *b) {
        const SpoolScanItem *x = a, *y = b;

        if (x->mtime_usec != y->mtime_usec)
                return x->mtime_usec < y->mtime_usec ? -1 : 1;
        return strcmp(x->run_id, y->run_id);
}

static uint64_t stat_mtime_usec(const struct stat *st) {
        return (uint64_t) st->st_mtim.tv_sec * 1000000U + (uint64_t) st->st_mtim.tv_nsec / 1000U;
}

/* Opens the spool directory for listing, from its start. A duplicate of the descriptor: closedir()
 * closes what fdopendir() got, and dir_fd stays the caller's. */
static int spool_opendir(int dir_fd, DIR **ret) {
        DIR *d;
        int fd;

        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        rewinddir(d);
        *ret = d;
        return 0;
}

/* Makes room for item n in *items (doubling). Returns 0 or -ENOMEM (then *items is as it was). */
static int scan_items_reserve(SpoolScanItem **items, size_t n, size_t *allocated) {
        SpoolScanItem *t;
        size_t a;

        if (n < *allocated)
                return 0;
        a = *allocated ? *allocated * 2 : 64;
        t = reallocarray(*items, a, sizeof **items);
        if (!t)
                return -ENOMEM;
        *items = t;
        *allocated = a;
        return 0;
}

int spool_scan(int dir_fd, SpoolScanItem **ret, size_t *ret_n) {
        _cleanup_(freep) SpoolScanItem *items = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        int r;

        r = spool_opendir(dir_fd, &d);
        if (r < 0)
                return r;

        while ((errno = 0, de = readdir(d))) {
                char run_id[SPOOL_RUN_ID_LEN + 1], log_name[SPOOL_RUN_ID_LEN + 8];
                SpoolFileKind kind;
                struct stat st, log_st;

                if (spool_name_parse(de->d_name, run_id, &kind) < 0 || kind != SPOOL_FILE_META)
                        continue;
                if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (n >= SPOOL_SCAN_MAX)
                        break;

                r = scan_items_reserve(&items, n, &allocated);
                if (r < 0)
                        return r;

                items[n] = (SpoolScanItem) { .meta_size = (uint64_t) st.st_size,
                                             .mtime_usec = stat_mtime_usec(&st) };
                memcpy(items[n].run_id, run_id, sizeof run_id);

                snprintf(log_name, sizeof log_name, "%s" SESSION_SCRIPTS_SPOOL_LOG_SUFFIX, run_id);
                if (fstatat(dir_fd, log_name, &log_st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(log_st.st_mode)) {
                        items[n].has_log = true;
                        items[n].log_size = (uint64_t) log_st.st_size;
                        items[n].mtime_usec = stat_mtime_usec(&log_st);
                }
                n++;
        }
        if (errno != 0)
                return -errno;

        if (n > 0)
                qsort(items, n, sizeof *items, scan_item_compare);

        *ret = TAKE_PTR(items);
        *ret_n = n;
        return 0;
}

int spool_scan_orphan_logs(int dir_fd, uint64_t now_usec, uint64_t min_age_usec, SpoolScanItem **ret,
                           size_t *ret_n) {
        _cleanup_(freep) SpoolScanItem *items = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        int r;

        r = spool_opendir(dir_fd, &d);
        if (r < 0)
                return r;

        while ((errno = 0, de = readdir(d))) {
                char run_id[SPOOL_RUN_ID_LEN + 1], meta_name[SPOOL_RUN_ID_LEN + 8];
                SpoolFileKind kind;
                struct stat st, meta_st;
                uint64_t mtime;

                if (spool_name_parse(de->d_name, run_id, &kind) < 0 || kind != SPOOL_FILE_LOG)
                        continue;
                if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                mtime = stat_mtime_usec(&st);
                /* Young ones (and ones from the future: a clock set back) may still get their .meta. */
                if (mtime > now_usec || now_usec - mtime < min_age_usec)
                        continue;

                snprintf(meta_name, sizeof meta_name, "%s" SESSION_SCRIPTS_SPOOL_META_SUFFIX, run_id);
                if (fstatat(dir_fd, meta_name, &meta_st, AT_SYMLINK_NOFOLLOW) >= 0 || errno != ENOENT)
                        continue;       /* has a .meta (or we cannot tell): an entry, not ours to judge here */
                if (n >= SPOOL_SCAN_MAX)
                        break;

                r = scan_items_reserve(&items, n, &allocated);
                if (r < 0)
                        return r;
                items[n] = (SpoolScanItem) { .has_log = true, .log_size = (uint64_t) st.st_size, .mtime_usec = mtime };
                memcpy(items[n].run_id, run_id, sizeof run_id);
                n++;
        }
        if (errno != 0)
                return -errno;

        if (n > 0)
                qsort(items, n, sizeof *items, scan_item_compare);

        *ret = TAKE_PTR(items);
        *ret_n = n;
        return 0;
}

static int usage_index_compare(const void *a, const void *b, void *userdata) {
        const SpoolUsage *items = userdata;
        size_t x = *(const size_t *) a, y = *(const size_t *) b;

        if (items[x].mtime_usec != items[y].mtime_usec)
                return items[x].mtime_usec < items[y].mtime_usec ? -1 : 1;
        return x < y ? -1 : x > y;
}

uint64_t spool_pick_evictions(const SpoolUsage *items, size_t n, uint64_t max, size_t *ret_indices,
                              size_t *ret_n) {
        uint64_t total = 0;
        size_t candidates = 0, picked = 0, newest = 0;

        for (size_t i = 0; i < n; i++) {
                total += items[i].size;
                if (items[i].mtime_usec >= items[newest].mtime_usec)
                        newest = i;
        }

        for (size_t i = 0; i < n; i++)
                /* Running entries are still written by the daemon; one in flight may be delivered any
                 * moment; one that was never tried while S3 works is no backlog; the newest log is the
                 * one most likely still wanted. */
                if (items[i].finished && !items[i].in_flight && items[i].stuck && i != newest)
                        ret_indices[candidates++] = i;

        qsort_r(ret_indices, candidates, sizeof *ret_indices, usage_index_compare, (void *) items);

        while (total > max && picked < candidates)
                total -= items[ret_indices[picked++]].size;

        *ret_n = picked;
        return total;
}
