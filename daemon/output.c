/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's journal and spool writer, without the event loop: the line splitter (bytes → journal
 * lines), the last-line text for the user, UTF-8 sanitising for D-Bus strings, and the writer's side
 * of the spool (lib/spool-format.h): entries, their size bound, and the start-up recovery of
 * entries a previous daemon left running. See output.h.
 *
 * The spool's global bound (MaxSpoolSize=) is enforced here, where the bytes are written, so that
 * no script can fill the disk while S3 is unreachable (the uploader only evicts whole, finished
 * entries, later). The daemon counts the spool: a scan of the directory (the sum of the sizes of
 * its regular files, as the uploader counts) at the first use, plus what it writes itself; the
 * uploader deletes entries meanwhile, so when the count says the bound is near the directory is
 * scanned again, at most once a second. The bound M is split so that one flood cannot starve
 * everybody else's logs:
 *
 *   [0, M − R)        any run's bytes;
 *   [M − R, M − R/2)  only the first SPOOL_FIRST_BYTES of each run (and new entries' .meta): the
 *                     logins that come during a flood still get their first lines spooled;
 *   [M − R/2, M]      only the truncation marker lines (one per run, about 100 bytes each);
 *
 * with the reserve R = MIN(M / 16, 4 MiB). A run whose next bytes do not fit gets the part that
 * fits, then the marker line, and everything it writes afterwards is dropped from the spool (the
 * journal is not affected). An entry that cannot even get its .meta is not created (-EDQUOT).
 * The .meta rewrites in flight (temporary file next to the old one) may exceed the bound by the
 * size of a .meta each for a moment.
 *
 * Finishing an entry (fdatasync of a .log of up to hundreds of MiB, then the STATE=finished .meta)
 * is done by one worker thread (spool_sync_start()), never on the event loop. Its only shared state
 * is the queue below; the entries it gets are copies with descriptors of their own. The daemon
 * starts script children while this thread may hold the queue's lock or be inside malloc(): that is
 * fine because it starts them with posix_spawn() of session-scripts-exec (daemon/exec-spawn.c), so no
 * code of the daemon runs in the child.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "output.h"
#include "session-scripts/session-scripts.h"
#include "spool-format.h"
#include "string-util.h"
#include "time-util.h"
#include "utf8.h"

/* The spool bound's reserve (see the top of this file): R = MIN(M / 16, SPOOL_RESERVE_MAX). */
#define SPOOL_RESERVE_MAX (UINT64_C(4) * 1024 * 1024)

/* What every run may write into the reserve: enough for a script's usual few lines (and the error
 * of a failed one), small enough that many runs cannot eat the markers' part. */
#define SPOOL_FIRST_BYTES (UINT64_C(16) * 1024)

/* The directory is scanned again at most this often while the count says the bound is near. */
#define SPOOL_RESCAN_USEC USEC_PER_SEC

/* ---- Line splitting ---------------------------------------------------------------------------- */

/* Adds one segment of a line (eol: the segment ends with the line's '\n', which is not included). */
static int splitter_add(LineSplitter *s, const char *p, size_t len, bool eol, LineFn fn, void *userdata) {
        /* Fast path: nothing buffered, so hand on straight from the caller's data. */
        if (s->n == 0) {
                while (len >= OUTPUT_LINE_MAX && !(eol && len == OUTPUT_LINE_MAX)) {
                        fn(p, OUTPUT_LINE_MAX, userdata);
                        s->continued = true;
                        p += OUTPUT_LINE_MAX;
                        len -= OUTPUT_LINE_MAX;
                }
                if (eol) {
                        /* An over-long line whose length is a multiple of the bound ends here: its
                         * last piece was already handed on, no empty line follows. */
                        if (len > 0 || !s->continued)
                                fn(p, len, userdata);
                        s->continued = false;
                        return 0;
                }
        }

        if (len > 0 && !s->buf) {
                s->buf = malloc(OUTPUT_LINE_MAX);
                if (!s->buf)
                        return -ENOMEM;
        }

        while (len > 0) {
                size_t k = MIN(len, OUTPUT_LINE_MAX - s->n);

                memcpy(s->buf + s->n, p, k);
                s->n += k;
                p += k;
                len -= k;

                if (s->n == OUTPUT_LINE_MAX && (len > 0 || !eol)) {
                        fn(s->buf, s->n, userdata);
                        s->n = 0;
                        s->continued = true;
                }
        }

        if (eol) {
                if (s->n > 0 || !s->continued)
                        fn(s->buf ?: "", s->n, userdata);
                s->n = 0;
                s->continued = false;
        }
        return 0;
}

int line_splitter_feed(LineSplitter *s, const void *data, size_t len, LineFn fn, void *userdata) {
        const char *p = data, *end = p + len;
        int r;

        /* Allocate up front, so -ENOMEM means "nothing consumed" as documented. */
        if (!s->buf && len > 0) {
                s->buf = malloc(OUTPUT_LINE_MAX);
                if (!s->buf)
                        return -ENOMEM;
        }

        while (p < end) {
                const char *nl = memchr(p, '\n', end - p);

                r = splitter_add(s, p, (nl ?: end) - p, nl, fn, userdata);
                if (r < 0)
                        return r;
                if (!nl)
                        break;
                p = nl + 1;
        }
        return 0;
}

void line_splitter_flush(LineSplitter *s, LineFn fn, void *userdata) {
        if (s->n > 0)
                fn(s->buf, s->n, userdata);
        s->n = 0;
        s->continued = false;
}

void line_splitter_done(LineSplitter *s) {
        free(s->buf);
        s->buf = NULL;
        s->n = 0;
        s->continued = false;
}

/* ---- UTF-8 ------------------------------------------------------------------------------------- */

/* lib/basic's sanitiser, whose "valid" is sd-bus's: what this returns can always be put on the bus. */
size_t utf8_sanitize(char *ret, size_t size, const char *s, size_t len, bool strip_control) {
        return utf8_sanitize_copy(ret, size, s, len, strip_control ? UTF8_DROP_CONTROL : 0);
}

bool last_line_update(char ret[static OUTPUT_LAST_LINE_MAX + 1], const char *line, size_t len) {
        char buf[OUTPUT_LAST_LINE_MAX + 1];
        size_t n;

        /* Only the first bytes can make it into the bound; but skip leading controls first, so that
         * a line that starts with many of them still yields its text. */
        while (len > 0 && char_is_cc(*line)) {
                line++;
                len--;
        }

        n = utf8_sanitize(buf, sizeof buf, line, MIN(len, (size_t) OUTPUT_LAST_LINE_MAX * 4), true);
        if (n == 0)
                return false;

        memcpy(ret, buf, n + 1);
        return true;
}

/* ---- Spool ------------------------------------------------------------------------------------- */

struct SpoolEntry {
        int dir_fd;
        int log_fd;
        gid_t gid;              /* the uploader's group, or (gid_t) -1 when it does not exist */
        char id[SPOOL_RUN_ID_LEN + 1];
        char *dir;              /* the spool directory's path, for the bound's count */
        SpoolMeta meta;         /* what the .meta says; finished once the entry is */
        uint64_t size;          /* bytes written to the .log, the marker included */
        bool finished;
        bool truncated;         /* the spool bound was reached: the rest of the run is dropped */
        bool mid_line;          /* the .log does not end with '\n' */
        SpoolEntry *sync_next;  /* in the sync worker's queue */
};

/* ---- Spool bound --------------------------------------------------------------------------------- */

static struct {
        const uint64_t *max_size;       /* MaxSpoolSize=, read at every check; NULL: unbounded */
        char *dir;                      /* the directory counted (NULL: not yet) */
        uint64_t used;                  /* bytes in it: the last scan plus what we wrote since */
        usec_t scan_usec;               /* CLOCK_MONOTONIC of the last scan */
        bool scanned;
} bound;

void spool_set_max_size(const uint64_t *max_size) {
        bound.max_size = max_size;
}

static uint64_t sat_sub(uint64_t a, uint64_t b) {
        return a > b ? a - b : 0;
}

static uint64_t bound_reserve(uint64_t max) {
        return MIN(max / 16, SPOOL_RESERVE_MAX);
}

/* Sums the sizes of the regular files in the spool directory (everything there counts, whoever
 * wrote it). On failure the old count stays: it can only be too high (the uploader deletes). */
static void bound_scan(int dir_fd) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        uint64_t sum = 0;
        int fd;

        bound.scan_usec = now(CLOCK_MONOTONIC);

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return;
        }

        while ((errno = 0, de = readdir(d))) {
                struct stat st;

                if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                sum += (uint64_t) st.st_size;
        }
        if (errno != 0)
                return;

        bound.used = sum;
        bound.scanned = true;
}

/* Makes the count fit the entry's directory, scanning it when it was never scanned or when adding
 * want bytes would reach the reserve and the last scan is older than SPOOL_RESCAN_USEC. Returns
 * the bound, or UINT64_MAX when there is none. */
static uint64_t bound_prepare(const char *spool_dir, int dir_fd, uint64_t want) {
        uint64_t max;

        if (!bound.max_size)
                return UINT64_MAX;
        max = *bound.max_size;

        /* Another directory (the tests use several): its own count. */
        if (spool_dir && (!bound.dir || strcmp(bound.dir, spool_dir) != 0)) {
                char *d = strdup(spool_dir);

                if (d) {
                        free(bound.dir);
                        bound.dir = d;
                }
                bound.scanned = false;
                bound.used = 0;
                bound.scan_usec = 0;
        }

        /* (A scan that failed is retried no more often either: the count is then just ours.) */
        if ((!bound.scanned || bound.used + want > sat_sub(max, bound_reserve(max))) &&
            now(CLOCK_MONOTONIC) - bound.scan_usec >= SPOOL_RESCAN_USEC)
                bound_scan(dir_fd);
        return max;
}

/* How many of len bytes appended to an entry of size bytes fit under the bound max (see the top of
 * this file): its first SPOOL_FIRST_BYTES up to M − R/2, the rest up to M − R. */
static uint64_t bound_allow(uint64_t max, uint64_t size, uint64_t len) {
        uint64_t r = bound_reserve(max), first = 0, k;

        if (size < SPOOL_FIRST_BYTES)
                first = MIN(len, SPOOL_FIRST_BYTES - size);

        k = MIN(first, sat_sub(sat_sub(max, r / 2), bound.used));
        if (k < first)
                return k;

        return first + MIN(len - first, sat_sub(sat_sub(max, r), bound.used + first));
}

/* The group of the uploader, so that it can read (never write) what the daemon spools; (gid_t) -1
 * when there is no such group (then files stay root's). */
static gid_t upload_group(void) {
        struct group grp, *result = NULL;
        size_t size = 4096;

        /* A group with many members needs a bigger buffer; bounded at 1 MiB. */
        for (;;) {
                _cleanup_(freep) char *buf = malloc(size);
                int r;

                if (!buf)
                        return (gid_t) -1;
                r = getgrnam_r(SESSION_SCRIPTS_UPLOAD_USER, &grp, buf, size, &result);
                if (r == ERANGE && size < 1024 * 1024) {
                        size *= 4;
                        continue;
                }
                return r == 0 && result ? result->gr_gid : (gid_t) -1;
        }
}

/* Gives a file we created the spool's ownership and mode: root:session-scripts-upload 0640 (mode
 * set explicitly, the daemon's umask must not decide what the uploader can read). */
static int spool_file_fix_access(int fd, gid_t gid) {
        if (gid != (gid_t) -1 && fchown(fd, (uid_t) -1, gid) < 0)
                return -errno;
        if (fchmod(fd, 0640) < 0)
                return -errno;
        return 0;
}

/* Replaces RUNID.meta with content: temp file, fsync, rename(), fsync of the directory — so a crash
 * leaves either the old or the new .meta, never a torn one. */
static int meta_write_raw(int dir_fd, gid_t gid, const char *run_id, const char *content, size_t len) {
        char tmp[SPOOL_NAME_SIZE], name[SPOOL_NAME_SIZE];
        _cleanup_(closep) int fd = -EBADF;
        int r;

        r = spool_name_format(tmp, run_id, SPOOL_FILE_META_TEMP);
        if (r < 0)
                return r;
        r = spool_name_format(name, run_id, SPOOL_FILE_META);
        if (r < 0)
                return r;

        /* The uploader's group may write the directory: never open something it may have put at our
         * temp name, always a file of our own (O_EXCL, after removing whatever is there). */
        (void) unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;

        r = spool_file_fix_access(fd, gid);
        if (r >= 0)
                r = loop_write(fd, content, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }

        /* The rename is durable only once the directory is. */
        (void) fsync(dir_fd);
        return 0;
}

static int meta_write(int dir_fd, gid_t gid, const char *run_id, const SpoolMeta *meta) {
        _cleanup_(freep) char *text = NULL;
        size_t size;
        int r;

        if (!spool_run_id_is_valid(run_id))
                return -EINVAL;

        r = spool_meta_format(meta, &text, &size);
        if (r < 0)
                return r;
        return meta_write_raw(dir_fd, gid, run_id, text, size);
}

int spool_meta_write(int dir_fd, const char *run_id, const SpoolMeta *meta) {
        return meta_write(dir_fd, upload_group(), run_id, meta);
}

/* mkdir that is fine with an existing directory; a new spool directory gets the uploader's group. */
static int spool_dir_ensure(const char *spool_dir, gid_t gid) {
        _cleanup_(freep) char *parent = NULL;

        parent = strdup(spool_dir);
        if (!parent)
                return -ENOMEM;
        if (mkdir(dirname(parent), 0755) < 0 && errno != EEXIST)
                return -errno;

        if (mkdir(spool_dir, 0770) < 0) {
                if (errno == EEXIST)
                        return 0;
                return -errno;
        }
        if (gid != (gid_t) -1)
                (void) chown(spool_dir, 0, gid);
        (void) chmod(spool_dir, 0770);
        return 0;
}

int spool_entry_create(const char *spool_dir, const SpoolMeta *meta, SpoolEntry **ret) {
        _cleanup_(spool_entry_freep) SpoolEntry *e = NULL;
        _cleanup_(freep) char *meta_text = NULL;
        char name[SPOOL_NAME_SIZE], meta_name[SPOOL_NAME_SIZE];
        size_t meta_size;
        uint64_t max;
        int r;

        if (!spool_dir || !meta || !ret)
                return -EINVAL;

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->dir_fd = e->log_fd = -EBADF;
        e->gid = upload_group();

        r = spool_dir_ensure(spool_dir, e->gid);
        if (r < 0)
                return r;

        r = spool_meta_copy(meta, &e->meta);
        if (r < 0)
                return r;
        e->meta.finished = false;

        e->dir_fd = open(spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e->dir_fd < 0)
                return -errno;
        e->dir = strdup(spool_dir);
        if (!e->dir)
                return -ENOMEM;

        /* The .meta counts like the log: it may use the new runs' part of the reserve, not more. */
        r = spool_meta_format(&e->meta, &meta_text, &meta_size);
        if (r < 0)
                return r;
        max = bound_prepare(e->dir, e->dir_fd, meta_size);
        if (max != UINT64_MAX && bound.used + meta_size > sat_sub(max, bound_reserve(max) / 2))
                return -EDQUOT;

        /* 128 random bits: a collision is not going to happen; the checks below and O_EXCL turn one
         * into an error rather than two runs writing one entry. */
        spool_run_id_generate(e->id);
        r = spool_name_format(name, e->id, SPOOL_FILE_LOG);
        if (r >= 0)
                r = spool_name_format(meta_name, e->id, SPOOL_FILE_META);
        if (r < 0)
                return r;
        if (faccessat(e->dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0 ||
            faccessat(e->dir_fd, meta_name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return -EEXIST;

        /* The .meta first (atomically: temp file, fsync, rename), the .log right after: a .log never
         * exists without the .meta that names its object, so a crash in between cannot leave a log
         * that nobody uploads, counts or removes. A crash between the two leaves a STATE=running
         * .meta alone, which spool_recover() finishes and the uploader then drops. */
        r = meta_write_raw(e->dir_fd, e->gid, e->id, meta_text, meta_size);
        if (r < 0)
                return r;
        bound.used += meta_size;

        e->log_fd = openat(e->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                           0640);
        if (e->log_fd < 0) {
                r = -errno;
                goto fail_meta;
        }

        r = spool_file_fix_access(e->log_fd, e->gid);
        if (r < 0)
                goto fail_log;

        /* The .log's directory entry is durable once the directory is. */
        (void) fsync(e->dir_fd);

        *ret = TAKE_PTR(e);
        return 0;

fail_log:
        (void) unlinkat(e->dir_fd, name, 0);
fail_meta:
        (void) unlinkat(e->dir_fd, meta_name, 0);
        return r;
}

const char *spool_entry_get_id(const SpoolEntry *e) {
        return e->id;
}

uint64_t spool_entry_get_size(const SpoolEntry *e) {
        return e->size;
}

bool spool_entry_get_truncated(const SpoolEntry *e) {
        return e->truncated;
}

static int entry_write(SpoolEntry *e, const void *data, size_t len) {
        int r;

        r = loop_write(e->log_fd, data, len);
        if (r < 0)
                return r;
        e->size += (uint64_t) len;
        bound.used += (uint64_t) len;
        if (len > 0)
                e->mid_line = ((const char *) data)[len - 1] != '\n';
        return 0;
}

int spool_entry_append(SpoolEntry *e, const void *data, size_t len) {
        uint64_t max, k;
        int r;

        if (e->truncated)
                return 1;
        if (len == 0)
                return 0;

        max = bound_prepare(e->dir, e->dir_fd, len);
        k = max == UINT64_MAX ? len : bound_allow(max, e->size, len);

        if (k > 0) {
                r = entry_write(e, data, (size_t) k);
                if (r < 0)
                        return r;
        }
        if (k == len)
                return 0;

        /* The bound is reached: the part that fitted, then one line that says why the log ends
         * here (on a line of its own), and nothing more of this run. The markers have the last part
         * of the reserve; if even that is used up, the log just ends. */
        e->truncated = true;

        char marker[SPOOL_MARKER_SIZE];
        size_t n = spool_marker_format(marker, max, e->mid_line);
        if (bound.used + (uint64_t) n <= max) {
                r = entry_write(e, marker, n);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* The durable part of finishing: the .log's bytes, then the STATE=finished .meta (atomically). */
static int entry_sync(SpoolEntry *e) {
        /* The uploader treats STATE=finished as "the .log is complete": make the bytes durable
         * before the state says so. The .log's size is part of what must be durable, so
         * fdatasync() suffices (it skips only timestamps). */
        (void) fdatasync(e->log_fd);

        e->meta.finished = true;
        return meta_write(e->dir_fd, e->gid, e->id, &e->meta);
}

/* ---- Sync worker ------------------------------------------------------------------------------- */

static struct {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t thread;
        bool running;           /* the thread exists (only the main thread changes this) */
        bool stopping;
        SpoolEntry *head, *tail;
} syncer = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .cond = PTHREAD_COND_INITIALIZER,
};

static void *syncer_main(void *userdata) {
        pthread_mutex_lock(&syncer.lock);
        for (;;) {
                SpoolEntry *e = syncer.head;

                if (!e) {
                        if (syncer.stopping)
                                break;
                        pthread_cond_wait(&syncer.cond, &syncer.lock);
                        continue;
                }
                syncer.head = e->sync_next;
                if (!syncer.head)
                        syncer.tail = NULL;
                pthread_mutex_unlock(&syncer.lock);

                int r = entry_sync(e);
                if (r < 0)
                        log_error_errno(r, "Failed to mark spool entry %s finished: %m", e->id);
                spool_entry_free(e);

                pthread_mutex_lock(&syncer.lock);
        }
        pthread_mutex_unlock(&syncer.lock);
        return NULL;
}

int spool_sync_start(void) {
        sigset_t all, old;
        int r;

        if (syncer.running)
                return 0;

        /* Signals stay with the main thread (signalfd, sd_event_add_child() need them blocked in
         * every thread): the worker starts with all of them blocked. */
        sigfillset(&all);
        r = pthread_sigmask(SIG_SETMASK, &all, &old);
        if (r != 0)
                return -r;
        syncer.stopping = false;
        r = pthread_create(&syncer.thread, NULL, syncer_main, NULL);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0)
                return -r;

        syncer.running = true;
        return 0;
}

void spool_sync_stop(void) {
        if (!syncer.running)
                return;

        pthread_mutex_lock(&syncer.lock);
        syncer.stopping = true;
        pthread_cond_signal(&syncer.cond);
        pthread_mutex_unlock(&syncer.lock);

        (void) pthread_join(syncer.thread, NULL);
        syncer.running = false;
}

/* A copy of e for the worker: descriptors and strings of its own, so that the caller may free e
 * right away. */
static SpoolEntry *entry_clone(const SpoolEntry *e) {
        _cleanup_(spool_entry_freep) SpoolEntry *c = NULL;

        c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        *c = (SpoolEntry) {
                .gid = e->gid,
                .size = e->size,
                .truncated = e->truncated,
        };
        memcpy(c->id, e->id, sizeof c->id);
        c->dir_fd = fcntl(e->dir_fd, F_DUPFD_CLOEXEC, 3);
        c->log_fd = fcntl(e->log_fd, F_DUPFD_CLOEXEC, 3);
        c->dir = strdup(e->dir ?: "");
        if (c->dir_fd < 0 || c->log_fd < 0 || !c->dir || spool_meta_copy(&e->meta, &c->meta) < 0)
                return NULL;
        return TAKE_PTR(c);
}

int spool_entry_finish(SpoolEntry *e) {
        SpoolEntry *c;
        int r;

        if (e->finished)
                return 0;

        /* "finished" is one byte longer than "running". */
        bound.used += 1;

        /* Everything of the .log is written (appends are synchronous): the worker only has to make
         * it durable and say so. Without the worker (tests, or it could not be started) or when
         * even the copy fails, right here. */
        c = syncer.running ? entry_clone(e) : NULL;
        if (!c) {
                r = entry_sync(e);
                if (r < 0)
                        return r;
                e->finished = true;
                return 0;
        }

        pthread_mutex_lock(&syncer.lock);
        if (syncer.tail)
                syncer.tail->sync_next = c;
        else
                syncer.head = c;
        syncer.tail = c;
        pthread_cond_signal(&syncer.cond);
        pthread_mutex_unlock(&syncer.lock);

        e->finished = true;
        return 0;
}

SpoolEntry *spool_entry_free(SpoolEntry *e) {
        if (!e)
                return NULL;
        safe_close(e->log_fd);
        safe_close(e->dir_fd);
        free(e->dir);
        spool_meta_done(&e->meta);
        free(e);
        return NULL;
}

/* Rewrites RUNID.meta with STATE=finished if it says STATE=running. Returns 1 when rewritten, 0 when
 * there was nothing to do (also for a .meta that does not parse, and for something other than a
 * regular file at its name: the uploader does not upload those either), or -errno. */
static int spool_recover_one(int dir_fd, gid_t gid, const char *run_id) {
        _cleanup_(spool_meta_done) SpoolMeta meta = {};
        int r;

        r = spool_meta_load(dir_fd, run_id, &meta);
        if (r == -ENOENT || r == -ELOOP || r == -EBADFD || r == -EISDIR || r == -EBADMSG || r == -EFBIG)
                return 0;
        if (r < 0)
                return r;
        if (meta.finished)
                return 0;

        meta.finished = true;
        r = meta_write(dir_fd, gid, run_id, &meta);
        if (r < 0)
                return r;
        return 1;
}

int spool_recover(const char *spool_dir) {
        _cleanup_(closedirp) DIR *d = NULL;
        int n = 0, first_error = 0;
        struct dirent *de;
        gid_t gid = upload_group();

        d = opendir(spool_dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        while ((errno = 0, de = readdir(d))) {
                char run_id[SPOOL_RUN_ID_LEN + 1];
                SpoolFileKind kind;
                int r;

                /* A meta write that a crash interrupted: the rename never happened, so the old .meta
                 * (if any) is intact. */
                if (spool_name_is_meta_temp(de->d_name)) {
                        (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }

                if (spool_name_parse(de->d_name, run_id, &kind) < 0 || kind != SPOOL_FILE_META)
                        continue;

                r = spool_recover_one(dirfd(d), gid, run_id);
                if (r < 0) {
                        if (first_error == 0)
                                first_error = r;
                        continue;
                }
                n += r;
        }
        if (errno != 0)
                return -errno;

        /* Keep going over broken entries, but do not hide that something failed. */
        return first_error < 0 && n == 0 ? first_error : n;
}
