/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tamper check (SPEC §3): a baseline of identity + SHA-256 per file, recorded when the daemon
 * starts, and the verification before each run that hands the caller the very fd it verified.
 * See tamper.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "tamper.h"

/* A path that could not be recorded (absent, not a regular file, unreadable) has size -1: it never
 * verifies, because we cannot tell what was provisioned. */
#define TAMPER_SIZE_MISSING ((off_t) -1)

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
