/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Directory scans (entries, crash leftovers) and eviction choice for the uploader (see spool.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "spool.h"
#include "time-util.h"

/* Bound on the number of entries a scan returns: far above what MaxSpoolSize lets accumulate in
 * practice, low enough that a directory full of junk cannot exhaust memory. */
#define SPOOL_SCAN_MAX 1000000U

static int scan_item_compare(const void *a, const void *b) {
        const SpoolScanItem *x = a, *y = b;

        if (x->mtime_usec != y->mtime_usec)
                return x->mtime_usec < y->mtime_usec ? -1 : 1;
        return strcmp(x->run_id, y->run_id);
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
                char run_id[SPOOL_RUN_ID_LEN + 1], log_name[SPOOL_NAME_SIZE];
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
                                             .mtime_usec = timespec_load(&st.st_mtim) };
                memcpy(items[n].run_id, run_id, sizeof run_id);

                if (spool_name_format(log_name, run_id, SPOOL_FILE_LOG) < 0)
                        continue;
                if (fstatat(dir_fd, log_name, &log_st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(log_st.st_mode)) {
                        items[n].has_log = true;
                        items[n].log_size = (uint64_t) log_st.st_size;
                        items[n].mtime_usec = timespec_load(&log_st.st_mtim);
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
                char run_id[SPOOL_RUN_ID_LEN + 1], meta_name[SPOOL_NAME_SIZE];
                SpoolFileKind kind;
                struct stat st, meta_st;
                uint64_t mtime;

                if (spool_name_parse(de->d_name, run_id, &kind) < 0 || kind != SPOOL_FILE_LOG)
                        continue;
                if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                mtime = timespec_load(&st.st_mtim);
                /* Young ones (and ones from the future: a clock set back) may still get their .meta. */
                if (mtime > now_usec || now_usec - mtime < min_age_usec)
                        continue;

                if (spool_name_format(meta_name, run_id, SPOOL_FILE_META) < 0)
                        continue;
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
