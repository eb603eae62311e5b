/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tamper check (docs/behaviour.md §3): a baseline of identity + SHA-256 per file, recorded when
 * the instance is provisioned, kept in a file so that it survives daemon restarts, and the
 * verification before each run that hands the caller the very fd it verified. See tamper.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "hexdecoct.h"
#include "tamper.h"

/* The baseline file holds a line per config.json and executable (at most 1 + 2 × 2 of them);
 * anything bigger is not ours. */
#define TAMPER_FILE_MAX (64U * 1024U)
#define TAMPER_FILE_HEADER "# session-scriptsd tamper baseline; do not edit\n"

/* A path that could not be recorded (absent, not a regular file, unreadable) has size -1: it never
 * verifies, because we cannot tell what was provisioned. */
#define TAMPER_SIZE_MISSING ((off_t) -1)

#define IN_SET_ERRNO(r, a, b, c) ((r) == -(a) || (r) == -(b) || (r) == -(c))

static bool timespec_equal(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Opens a file for recording or verification: no symlinks (the config names the real file), and
 * O_NONBLOCK so that a FIFO planted at the path cannot hang the daemon in open(). */
static int open_checked(const char *path, struct stat *ret_st) {
        _cleanup_(closep) int fd = -EBADF;
        int flags;

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, ret_st) < 0)
                return -errno;
        if (!S_ISREG(ret_st->st_mode))
                return -EBADMSG;

        /* Back to a normal fd now that we know it is a regular file. */
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                return -errno;

        return TAKE_FD(fd);
}

static void tamper_record_fill(TamperRecord *rec) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;

        rec->size = TAMPER_SIZE_MISSING;

        fd = open_checked(rec->path, &st);
        if (fd < 0)
                return;
        if (sha256_fd(fd, rec->sha256) < 0)
                return;

        rec->dev = st.st_dev;
        rec->ino = st.st_ino;
        rec->size = st.st_size;
        rec->mtime = st.st_mtim;
        rec->ctime = st.st_ctim;
}

int tamper_baseline_record(TamperBaseline *ret, char * const *paths) {
        TamperBaseline b = {};
        size_t n = 0;

        for (char * const *p = paths; p && *p; p++)
                n++;

        if (n > 0) {
                b.records = calloc(n, sizeof(TamperRecord));
                if (!b.records)
                        return -ENOMEM;
        }

        for (char * const *p = paths; p && *p; p++) {
                TamperRecord *rec;

                if (tamper_baseline_find(&b, *p))
                        continue;

                rec = &b.records[b.n];
                rec->path = strdup(*p);
                if (!rec->path) {
                        tamper_baseline_done(&b);
                        return -ENOMEM;
                }
                b.n++;

                tamper_record_fill(rec);
        }

        *ret = b;
        return 0;
}

void tamper_baseline_done(TamperBaseline *b) {
        if (!b)
                return;
        for (size_t i = 0; i < b->n; i++)
                free(b->records[i].path);
        free(b->records);
        *b = (TamperBaseline) {};
}

const TamperRecord *tamper_baseline_find(const TamperBaseline *b, const char *path) {
        if (!b || !path)
                return NULL;
        for (size_t i = 0; i < b->n; i++)
                if (strcmp(b->records[i].path, path) == 0)
                        return &b->records[i];
        return NULL;
}

int tamper_verify_open(const TamperBaseline *b, const char *path) {
        _cleanup_(closep) int fd = -EBADF;
        const TamperRecord *rec;
        uint8_t digest[SHA256_DIGEST_SIZE];
        struct stat st;
        int r;

        rec = tamper_baseline_find(b, path);
        if (!rec || rec->size == TAMPER_SIZE_MISSING)
                return -EBADMSG;

        fd = open_checked(path, &st);
        /* Gone, or its path now leads elsewhere (a symlink, a directory in between): the file that
         * was provisioned is not there any more, which is a modification like any other. */
        if (IN_SET_ERRNO(fd, ENOENT, ELOOP, ENOTDIR))
                return -EBADMSG;
        if (fd < 0)
                return fd;

        /* Cheap identity first: a different inode (replaced file), size or time stamp is a change
         * no matter what the content hashes to. ctime catches chmod/chown and writes that restored
         * mtime. */
        if (st.st_dev != rec->dev || st.st_ino != rec->ino || st.st_size != rec->size ||
            !timespec_equal(&st.st_mtim, &rec->mtime) || !timespec_equal(&st.st_ctim, &rec->ctime))
                return -EBADMSG;

        /* Then the content, read from the fd we are going to exec. Root (the only one who may write
         * these files, per the config's security rules) could still change the file between this
         * hash and the exec; that is outside what the check is for (an image changed after
         * provisioning). */
        r = sha256_fd(fd, digest);
        if (r < 0)
                return r;
        if (memcmp(digest, rec->sha256, sizeof digest) != 0)
                return -EBADMSG;

        return TAKE_FD(fd);
}

/* ---- The baseline file ------------------------------------------------------------------------- */

int tamper_baseline_save(const TamperBaseline *b, const char *path) {
        _cleanup_(freep) char *buf = NULL, *tmp = NULL;
        _cleanup_(closep) int fd = -EBADF;
        sd_id128_t boot;
        size_t size = 0;
        FILE *f;
        int r;

        if (!b || !path)
                return -EINVAL;
        for (size_t i = 0; i < b->n; i++)
                if (strchr(b->records[i].path, '\n'))
                        return -EINVAL;

        r = sd_id128_get_boot(&boot);
        if (r < 0)
                return r;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(TAMPER_FILE_HEADER, f);
        fprintf(f, "BOOT_ID=" SD_ID128_FORMAT_STR "\n", SD_ID128_FORMAT_VAL(boot));
        for (size_t i = 0; i < b->n; i++) {
                const TamperRecord *rec = &b->records[i];
                char hex[SHA256_HEX_SIZE];

                if (rec->size == TAMPER_SIZE_MISSING) {
                        fprintf(f, "MISSING %s\n", rec->path);
                        continue;
                }
                sha256_to_hex(rec->sha256, hex);
                /* The path last: it is the rest of the line, blanks and all. */
                fprintf(f, "%s %" PRIu64 " %" PRIu64 " %" PRIi64 " %" PRIi64 " %ld %" PRIi64 " %ld %s\n",
                        hex, (uint64_t) rec->dev, (uint64_t) rec->ino, (int64_t) rec->size,
                        (int64_t) rec->mtime.tv_sec, rec->mtime.tv_nsec, (int64_t) rec->ctime.tv_sec,
                        rec->ctime.tv_nsec, rec->path);
        }
        if (fclose(f) != 0 || !buf)
                return -ENOMEM;

        if (asprintf(&tmp, "%s.tmp", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }

        /* Root's alone (0600): the file says which bytes may run as root. O_NOFOLLOW and O_EXCL:
         * never write through something planted at the temporary name. */
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, buf, strlen(buf));
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

/* Parses a decimal number of at most max (no sign, no blanks). Returns 0 or -EBADMSG. */
static int parse_number(const char *s, uint64_t max, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -EBADMSG;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* One "HEX DEV INO SIZE MS MNS CS CNS PATH" or "MISSING PATH" line into rec. Returns 0, -EBADMSG,
 * -ENOMEM. */
static int parse_record(char *line, TamperRecord *rec) {
        char *fields[8], *p = line;
        uint64_t v[8];

        if (strncmp(line, "MISSING ", strlen("MISSING ")) == 0) {
                *rec = (TamperRecord) { .size = TAMPER_SIZE_MISSING };
                rec->path = strdup(line + strlen("MISSING "));
                return rec->path ? 0 : -ENOMEM;
        }

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                char *sp = strchr(p, ' ');
                if (!sp)
                        return -EBADMSG;
                *sp = 0;
                fields[i] = p;
                p = sp + 1;
        }
        if (p[0] != '/' || strlen(fields[0]) != SHA256_DIGEST_SIZE * 2)
                return -EBADMSG;

        *rec = (TamperRecord) {};
        for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
                int hi = unhexchar(fields[0][2 * i]), lo = unhexchar(fields[0][2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EBADMSG;
                rec->sha256[i] = (uint8_t) (hi << 4 | lo);
        }
        for (size_t i = 1; i < ELEMENTSOF(fields); i++)
                if (parse_number(fields[i], i <= 2 ? UINT64_MAX :
                                            (i == 5 || i == 7) ? (uint64_t) 999999999 : (uint64_t) INT64_MAX,
                                 &v[i]) < 0)
                        return -EBADMSG;

        rec->dev = (dev_t) v[1];
        rec->ino = (ino_t) v[2];
        rec->size = (off_t) v[3];
        rec->mtime = (struct timespec) { .tv_sec = (time_t) v[4], .tv_nsec = (long) v[5] };
        rec->ctime = (struct timespec) { .tv_sec = (time_t) v[6], .tv_nsec = (long) v[7] };
        rec->path = strdup(p);
        return rec->path ? 0 : -ENOMEM;
}

int tamper_baseline_load(const char *path, TamperBaseline *ret) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        TamperBaseline b = {};
        char boot_line[64];
        sd_id128_t boot;
        struct stat st;
        size_t n, lines = 0;
        char *p, *eol;
        int r;

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* Trusted only when nobody but us could have written it (the daemon runs as root). */
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077) != 0)
                return -EPERM;
        if (st.st_size > (off_t) TAMPER_FILE_MAX)
                return -EFBIG;

        r = read_fd_bounded(fd, TAMPER_FILE_MAX - 1, &buf, &n);
        if (r < 0)
                return r;
        if (memchr(buf, 0, n))
                return -EBADMSG;

        if (strncmp(buf, TAMPER_FILE_HEADER, strlen(TAMPER_FILE_HEADER)) != 0)
                return -EBADMSG;
        p = buf + strlen(TAMPER_FILE_HEADER);

        r = sd_id128_get_boot(&boot);
        if (r < 0)
                return r;
        (void) snprintf(boot_line, sizeof boot_line, "BOOT_ID=" SD_ID128_FORMAT_STR "\n",
                        SD_ID128_FORMAT_VAL(boot));
        if (strncmp(p, "BOOT_ID=", strlen("BOOT_ID=")) != 0)
                return -EBADMSG;
        if (strncmp(p, boot_line, strlen(boot_line)) != 0)
                return -ESTALE;
        p += strlen(boot_line);

        for (char *q = p; *q; q++)
                if (*q == '\n')
                        lines++;
        if (lines > 0) {
                b.records = calloc(lines, sizeof(TamperRecord));
                if (!b.records)
                        return -ENOMEM;
        }

        for (; *p; p = eol + 1) {
                eol = strchr(p, '\n');
                if (!eol) {
                        tamper_baseline_done(&b);
                        return -EBADMSG;        /* cut short: not what we wrote */
                }
                *eol = 0;
                r = parse_record(p, &b.records[b.n]);
                if (r < 0) {
                        tamper_baseline_done(&b);
                        return r;
                }
                b.n++;
        }

        *ret = b;
        return 0;
}
