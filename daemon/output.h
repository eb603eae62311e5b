/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What happens to a run's output, without any event loop or D-Bus: splitting a byte stream into
 * lines for the journal, remembering the last non-empty stdout line for the user's error message,
 * and writing the spool entry (RUNID.log + RUNID.meta, format and contract in lib/spool-format.h)
 * that the uploader ships to S3. The runner drives these; the unit tests drive them directly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spool-format.h"

/* A line longer than this is handed on in pieces of this size (journald refuses huge fields, and
 * we never want a script to make us buffer without bound). */
#define OUTPUT_LINE_MAX (16U * 1024U)

/* Bound of the last-line text shown to the user (bytes, without the NUL). */
#define OUTPUT_LAST_LINE_MAX 256U

/* ---- Line splitting ---------------------------------------------------------------------------- */

/* Called for every line, without its '\n' (a '\r' before it is kept: the line exactly as written).
 * line points into the fed data or into the splitter's buffer; it is valid only during the call. */
typedef void (*LineFn)(const char *line, size_t len, void *userdata);

typedef struct LineSplitter {
        char *buf;              /* OUTPUT_LINE_MAX bytes, allocated on first need */
        size_t n;               /* bytes of an unfinished line in buf */
        bool continued;         /* the unfinished line already had a piece handed on */
} LineSplitter;

/*
 * Feeds data into the splitter: fn is called for every complete line, and for every
 * OUTPUT_LINE_MAX-sized piece of an over-long line (the final piece of such a line is handed on at
 * its '\n'; no empty line is produced when the line length is a multiple of the bound). A trailing
 * partial line stays buffered. Returns 0, or -ENOMEM (then nothing of data was consumed).
 */
int line_splitter_feed(LineSplitter *s, const void *data, size_t len, LineFn fn, void *userdata);

/* Hands on a buffered partial line (at EOF), if there is one, and resets the splitter. */
void line_splitter_flush(LineSplitter *s, LineFn fn, void *userdata);

/* Frees the buffer; the splitter may be fed again afterwards. */
void line_splitter_done(LineSplitter *s);

/* ---- Text for the user ------------------------------------------------------------------------- */

/*
 * Copies line[0..len) into ret (a buffer of OUTPUT_LAST_LINE_MAX + 1 bytes) with control characters
 * (C0, DEL; this includes '\r' and '\t') removed and invalid UTF-8 replaced by '?', truncated at a
 * character boundary to OUTPUT_LAST_LINE_MAX bytes — but only when the result is not empty; a line
 * that is empty after stripping leaves ret as it was. Returns true when ret was updated.
 */
bool last_line_update(char ret[static OUTPUT_LAST_LINE_MAX + 1], const char *line, size_t len);

/*
 * Writes at most size-1 bytes of valid UTF-8 taken from s[0..len) to ret (NUL-terminated; size ≥ 1):
 * invalid sequences become '?', and with strip_control, C0 controls and DEL are dropped. Never cuts a
 * character in half. Returns the length written. D-Bus strings must be valid UTF-8; script output is
 * any bytes.
 */
size_t utf8_sanitize(char *ret, size_t size, const char *s, size_t len, bool strip_control);

/* ---- Spool ------------------------------------------------------------------------------------- */

typedef struct SpoolEntry SpoolEntry;

/*
 * Creates a new spool entry in the directory spool_dir (created mode 0770 if missing, its parent
 * 0755): a fresh run id, first RUNID.meta with meta's fields (copied; meta->finished is ignored) and
 * STATE=running, written atomically (temp file, fsync, rename, fsync of the directory), then
 * RUNID.log (mode 0640, group SESSION_SCRIPTS_UPLOAD_USER when that group exists, opened for
 * appending) — so a .log never exists without its .meta. On failure nothing of the entry is left.
 * Returns 0 and the entry in *ret (owned by the caller), or -errno (-EINVAL when meta's key is not
 * valid, -EFBIG when the .meta would be too big, -EDQUOT when the spool is full, -EEXIST when the
 * run id is taken).
 */
int spool_entry_create(const char *spool_dir, const SpoolMeta *meta, SpoolEntry **ret);

/* The run id (SPOOL_RUN_ID_LEN hex digits) of the entry. */
const char *spool_entry_get_id(const SpoolEntry *e);

/* Bytes appended so far. */
uint64_t spool_entry_get_size(const SpoolEntry *e);

/* Whether the spool bound cut the entry's log (spool_entry_append() returned 1). */
bool spool_entry_get_truncated(const SpoolEntry *e);

/*
 * Appends data to RUNID.log (no fsync: the uploader reads what is there; finishing syncs), within
 * the spool's global bound (spool_set_max_size(); the split of the bound is described at the top
 * of output.c and in session-scripts.conf(5), MaxSpoolSize=): when not all of data fits, the part
 * that fits is written, then the line of spool_marker_format(), and from then on the entry takes
 * nothing more. Returns 0 when all of data was
 * written, 1 when some or all of it was dropped (now or earlier), or -errno (disk full, …; then an
 * unknown part was written, the size counts none of it, and the caller treats the entry as broken).
 */
int spool_entry_append(SpoolEntry *e, const void *data, size_t len);

/*
 * Marks the entry finished: the .log made durable (fdatasync), then the .meta rewritten atomically
 * with STATE=finished — in that order, so STATE=finished always means the log is complete. While
 * the sync worker runs (spool_sync_start()) both happen there, later, and this returns 0 right
 * away (errors are journaled by the worker); otherwise here. The entry may be freed right after.
 * Idempotent. Returns 0 or -errno.
 */
int spool_entry_finish(SpoolEntry *e);

/*
 * The spool's global bound: *max_size bytes (MaxSpoolSize=), read at every check so that a reload
 * of the settings applies at once; the pointer must stay valid. NULL (the default): no global
 * bound. Entries that would not get their .meta under the bound are refused with -EDQUOT.
 */
void spool_set_max_size(const uint64_t *max_size);

/*
 * Starts the worker thread that finishes entries off the event loop (the fsync of a big log takes
 * seconds). Returns 0 or -errno (then finishing stays synchronous). spool_sync_stop() finishes
 * what is queued and ends the thread; a no-op when it does not run.
 */
int spool_sync_start(void);
void spool_sync_stop(void);

/* Closes the entry's files (without finishing it — a daemon that crashes leaves STATE=running,
 * spool_recover() deals with that) and frees it; accepts NULL; returns NULL. */
SpoolEntry *spool_entry_free(SpoolEntry *e);
static inline void spool_entry_freep(SpoolEntry **e) {
        spool_entry_free(*e);
}

/*
 * Writes RUNID.meta in the directory dir_fd atomically, as spool_entry_create() does: the text of
 * spool_meta_format() for meta, STATE= included. Exposed for the tests. Returns 0, -EINVAL when
 * run_id is no run id, or what spool_meta_format() and the writing return.
 */
int spool_meta_write(int dir_fd, const char *run_id, const SpoolMeta *meta);

/*
 * Called once at daemon start: every RUNID.meta in spool_dir left with STATE=running by a previous
 * daemon instance (whose capture ended with it) is rewritten atomically with STATE=finished (its
 * fields kept, names the format does not know dropped; a .meta that does not parse is left as it
 * is), and stale temporary files of interrupted meta writes are removed. Only names of the spool
 * format are touched. Returns the number of entries recovered (0 also when the directory does not
 * exist), or -errno.
 */
int spool_recover(const char *spool_dir);
