/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tamper check (docs/behaviour.md §3): when the instance is provisioned — the first daemon
 * start of the boot, and every explicit reload — the daemon records the identity (device, inode,
 * size, mtime, ctime) and SHA-256 of config.json and of every executable it names. Before each run the
 * executable is opened again, compared with the record, and — only if unchanged — that very file
 * descriptor is what the runner execs, so the bytes that run are the bytes that were verified.
 *
 * The baseline is kept in a root-only file under /run, so that a daemon restarted after it died (a
 * crash, the watchdog) goes on checking against what was provisioned instead of taking whatever
 * is on disk now as the new truth. A clean stop removes it (a deliberate restart provisions).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sha256.h"

typedef struct TamperRecord {
        char *path;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
        struct timespec ctime;
        uint8_t sha256[SHA256_DIGEST_SIZE];
} TamperRecord;

typedef struct TamperBaseline {
        TamperRecord *records;
        size_t n;
} TamperBaseline;

/* Records every path of paths (NULL-terminated; duplicates recorded once). A path that cannot be
 * opened is recorded as missing (and then never verifies). Returns 0 or -ENOMEM. */
int tamper_baseline_record(TamperBaseline *ret, char * const *paths);

/* Frees the records; accepts an empty baseline. */
void tamper_baseline_done(TamperBaseline *b);

/* Looks up path; NULL when it was not recorded. */
const TamperRecord *tamper_baseline_find(const TamperBaseline *b, const char *path);

/*
 * Opens path (O_RDONLY|O_NOFOLLOW|O_CLOEXEC), checks it is the recorded file with the recorded
 * content. Returns the open fd (the caller owns it and execs it), -EBADMSG when the file changed,
 * was replaced (also by a symlink or a directory), was deleted or was never recorded (docs/behaviour.md
 * §3: "modified after the instance was provisioned"), or another -errno when it cannot be opened for
 * another reason (EACCES, EMFILE, …).
 */
int tamper_verify_open(const TamperBaseline *b, const char *path);

/*
 * Writes b to path atomically (a temporary file next to it with mode 0600, fsync, rename()),
 * together with the current boot ID. path's directory must exist and be root's. Returns 0,
 * -EINVAL when a recorded path cannot be stored (it contains a newline), or -errno.
 */
int tamper_baseline_save(const TamperBaseline *b, const char *path);

/*
 * Reads what tamper_baseline_save() wrote into *ret (an empty baseline; set only on success). Returns 0,
 * -ENOENT when there is no such file, -ESTALE when it was written in another boot, -EPERM when
 * the file is not ours alone (another owner, or readable or writable by others: it is not trusted),
 * -EBADMSG when it is malformed, -EFBIG, -ENOMEM, or another -errno.
 */
int tamper_baseline_load(const char *path, TamperBaseline *ret);
