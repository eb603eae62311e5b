/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uploader engine: watches the spool directory (inotify, plus a full scan at start-up and after
 * an inotify queue overflow), uploads each entry's log with a signed S3 PUT on the shared curl multi
 * handle — every few seconds while the run is still writing, at once when it finished — and deletes
 * the entry only after S3 answered 2xx for the complete log. Failures are retried with backoff
 * forever — S3-wide ones (no connection, credentials) hold back every entry, one entry's own ones
 * (RequestTimeout, BadDigest, its file unreadable) only that entry; the backlog of entries that could
 * not be delivered is kept under MaxSpoolSize= by evicting the oldest of them (never one in flight,
 * never the newest). Crash leftovers (a .log without .meta) are removed after a while.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

typedef struct Uploader Uploader;

typedef struct UploaderConfig {
        const char *spool_dir;          /* the directory watched (SESSION_SCRIPTS_SPOOL_DIR) */
        const char *bucket;             /* required */
        const char *region;             /* required */
        const char *endpoint;           /* NULL = https://s3.REGION.amazonaws.com */
        const char *profile;            /* Profile= for the shared credentials file, may be NULL */
        bool server_side_encryption;    /* send x-amz-server-side-encryption: AES256 */
        uint64_t max_spool_size;        /* bytes; bound of the undeliverable backlog (oldest evicted first) */
        bool exit_when_empty;           /* leave the event loop once nothing is left (tests, bench) */
} UploaderConfig;

/*
 * Creates the uploader on event: opens the spool directory, sets up inotify, the credential chain and
 * the curl multi handle. Nothing is uploaded before uploader_start(). The strings of config are
 * copied. Returns 0 and *ret (uploader_free()), or -errno (logged).
 */
int uploader_new(sd_event *event, const UploaderConfig *config, Uploader **ret);

/* Scans the spool directory (catching up on everything left by earlier runs) and starts dispatching.
 * Returns 0 or -errno (logged). */
int uploader_start(Uploader *u);

/* Forgets cached credentials and all backoff delays and tries every entry again (SIGHUP). */
void uploader_retry_now(Uploader *u);

/* Cancels transfers (entries stay in the spool for the next start) and frees. Accepts NULL; returns NULL. */
Uploader *uploader_free(Uploader *u);
static inline void uploader_freep(Uploader **u) {
        uploader_free(*u);
}
