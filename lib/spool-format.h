/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spool format: the on-disk contract between the root daemon, which writes the logs of runs
 * (daemon/output.c), and the sandboxed uploader, which ships them to S3 and then deletes them
 * (upload/spool.c, upload/uploader.c). Both sides use this module for the names of the files, the
 * run ids, the text of a .meta (written and parsed) and the line that ends a cut log; the writing
 * discipline (atomic rename, fsync, ownership) and the reading policy stay with each side.
 *
 * The directory, SESSION_SCRIPTS_SPOOL_DIR, is root:SESSION_SCRIPTS_UPLOAD_USER mode 0770: both
 * sides can create and remove names in it, so each treats what it finds there as untrusted.
 *
 * An entry is one run: two regular files named by the run's id, SPOOL_RUN_ID_LEN lowercase hex
 * digits (128 random bits):
 *
 *   RUNID.meta        Lines NAME=VALUE, each ended by '\n', written in this order:
 *                         KEY=<the S3 object key without the bucket, docs/behaviour.md §4>
 *                         STATE=running | finished
 *                         SESSION_ID=<session id>
 *                         EVENT=SessionStart | SessionTermination
 *                         CONTEXT=system | user
 *                         USER=<user name>
 *                     Control characters (C0, DEL) in a value are written as '_', so that no value
 *                     can start a line of its own; a missing value is written empty. KEY passes
 *                     spool_key_is_valid(), and the file, even with STATE=finished, is at most
 *                     SPOOL_META_SIZE_MAX bytes.
 *   RUNID.log         The run's stdout and stderr, byte for byte as the script wrote them. A log
 *                     cut because the spool reached its bound (MaxSpoolSize=) ends with the line of
 *                     spool_marker_format(); one cut at the limit of a single run (daemon/run-capture.c)
 *                     ends with a line that contains SPOOL_MARKER_TEXT too.
 *   .RUNID.meta.tmp   The writer's temporary file while it replaces RUNID.meta; not part of an
 *                     entry, never read by the uploader.
 *
 * The writer (the daemon, as root), in this order:
 *   1. RUNID.meta with STATE=running: written to .RUNID.meta.tmp (created with O_EXCL after
 *      removing whatever is at that name), fsync()ed, rename()d over RUNID.meta, then the directory
 *      fsync()ed. A .meta is therefore always complete: the old one or the new one.
 *   2. RUNID.log, created with O_EXCL only after the .meta is in place, mode 0640, group
 *      SESSION_SCRIPTS_UPLOAD_USER, appended to while the run goes on. No .log exists without its
 *      .meta.
 *   3. When the run is over: the .log fdatasync()ed, then RUNID.meta replaced as in 1 with
 *      STATE=finished. STATE=finished means that the .log is complete and no longer changes.
 *   The daemon removes an entry only when creating it failed. At its start it rewrites every
 *   STATE=running .meta a previous instance left with STATE=finished (that instance's capture ended
 *   with it) and removes temporary files left by an interrupted write. It never opens an existing
 *   file for writing (O_EXCL, O_NOFOLLOW: whatever the group put at a name is not written through)
 *   and leaves a .meta it cannot parse as it is.
 *
 * The reader (the uploader, unprivileged, member of the group):
 *   - looks only at names spool_name_parse() accepts, opens them with O_NOFOLLOW and uses regular
 *     files only, and reads a .meta with a bound (spool_meta_load());
 *   - may upload a .log while its STATE is running, but completes it only after STATE=finished;
 *   - removes RUNID.log and then RUNID.meta, after S3 accepted the complete log (or to evict a
 *     finished entry from a spool over its bound). So a STATE=finished .meta without its .log is an
 *     entry whose removal was interrupted, and may be removed.
 *   What the reader must tolerate from a crashed or hostile writer:
 *   - a .meta that spool_meta_parse() refuses (cut short, binary, NUL bytes, STATE= or KEY=
 *     missing or invalid, bigger than SPOOL_META_SIZE_MAX): the entry is kept and not uploaded;
 *   - in a .meta: unknown names (ignored), a name assigned twice (the last one counts), lines
 *     without '=' (ignored), "\r\n" line ends, no '\n' after the last line;
 *   - a STATE=running .meta without its .log (a crash between 1 and 2) and a .log without any
 *     .meta (which the daemon's order never leaves): removed once unchanged for
 *     SPOOL_ORPHAN_AGE_USEC;
 *   - temporary files and names of no entry (ignored), symlinks, FIFOs and directories at entry
 *     names (never followed or read);
 *   - a .log that grows, or disappears, while it is read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session-scripts/session-scripts.h"
#include "time-util.h"

/* A run id: this many lowercase hex digits; buffers hold SPOOL_RUN_ID_LEN + 1 bytes. */
#define SPOOL_RUN_ID_LEN 32

/* The most a .meta may take: the writer never writes more, the reader never reads more. */
#define SPOOL_META_SIZE_MAX (16U * 1024U)

/* S3 allows 1,024 bytes per key. */
#define SPOOL_KEY_MAX 1024U

#define SPOOL_META_TEMP_SUFFIX ".meta.tmp"

/* Bytes of a buffer for any name of the format, the NUL included (the temporary name is the
 * longest). */
#define SPOOL_NAME_SIZE (1 + SPOOL_RUN_ID_LEN + sizeof(SPOOL_META_TEMP_SUFFIX))

/* Age after which a half-made entry (see the top of this file) is a crash leftover: the daemon
 * creates the .log right after the .meta, so nothing legitimately stays half-made beyond moments. */
#define SPOOL_ORPHAN_AGE_USEC (10U * 60U * USEC_PER_SEC)

/* What the line that ends a cut log contains, whichever bound cut it. */
#define SPOOL_MARKER_TEXT "session-scripts: output truncated"

/* Bytes of a buffer for spool_marker_format(), the NUL included. */
#define SPOOL_MARKER_SIZE 128U

typedef enum SpoolFileKind {
        SPOOL_FILE_LOG,         /* RUNID.log */
        SPOOL_FILE_META,        /* RUNID.meta */
        SPOOL_FILE_META_TEMP,   /* .RUNID.meta.tmp */
} SpoolFileKind;

/*
 * The fields of a RUNID.meta. One that spool_meta_parse(), spool_meta_load() or spool_meta_copy()
 * filled owns its strings (spool_meta_done() frees them). The strings are const so that a writer
 * can fill one with borrowed strings (literals, its own fields) only to pass it to
 * spool_meta_format() or spool_entry_create(), which never keep them; such a one is not given to
 * spool_meta_done(). NULL strings are written as empty values; a parsed meta has NULL only for
 * names not in the file.
 */
typedef struct SpoolMeta {
        const char *key;        /* KEY=, valid in the sense of spool_key_is_valid() */
        bool finished;          /* STATE=finished, else STATE=running */
        const char *session_id; /* SESSION_ID= */
        const char *event;      /* EVENT= */
        const char *context;    /* CONTEXT= */
        const char *user;       /* USER= */
} SpoolMeta;

/* True when s is a run id: exactly SPOOL_RUN_ID_LEN lowercase hex digits (false for NULL). */
bool spool_run_id_is_valid(const char *s);

/* Writes a fresh run id (128 random bits) and its NUL to ret. Never fails: without getrandom() it
 * takes weaker bits rather than fail a run over its file name. */
void spool_run_id_generate(char ret[static SPOOL_RUN_ID_LEN + 1]);

/* Writes the name of the file of the given kind of run id to ret. Returns 0, or -EINVAL when
 * run_id is not a run id (then ret is untouched). */
int spool_name_format(char ret[static SPOOL_NAME_SIZE], const char *run_id, SpoolFileKind kind);

/*
 * Splits the name of an entry file (RUNID.log or RUNID.meta) into run id and kind. Returns 0, or
 * -EINVAL for every other name, temporary files included: what the reader ignores.
 */
int spool_name_parse(const char *name, char ret_run_id[static SPOOL_RUN_ID_LEN + 1],
                     SpoolFileKind *ret_kind);

/* True when name is the temporary name of a .meta write (.RUNID.meta.tmp). */
bool spool_name_is_meta_temp(const char *name);

/*
 * True when key can be used as the S3 object key of a .meta: 1…SPOOL_KEY_MAX bytes, no control
 * characters, no leading '/', no empty, "." or ".." path components.
 */
bool spool_key_is_valid(const char *key);

/*
 * The text of RUNID.meta for m (the order and escaping described at the top of this file) in *ret
 * (malloc()ed, NUL-terminated) and its length in *ret_size. Returns 0, -EINVAL when m's key is not
 * valid, -EFBIG when the text would exceed SPOOL_META_SIZE_MAX with STATE=finished (so that an
 * entry that could be created can always be finished), -ENOMEM.
 */
int spool_meta_format(const SpoolMeta *m, char **ret, size_t *ret_size);

/*
 * Parses the text of a RUNID.meta (len bytes, need not be NUL-terminated): NAME=VALUE lines, what
 * the top of this file says a reader must tolerate tolerated. Returns 0 and fills *ret (the caller
 * frees it with spool_meta_done()), -EBADMSG when KEY= is missing or invalid or STATE= is missing
 * or neither running nor finished, -EFBIG above SPOOL_META_SIZE_MAX, -ENOMEM.
 */
int spool_meta_parse(const char *text, size_t len, SpoolMeta *ret);

/*
 * Reads and parses RUNID.meta in the directory dir_fd: not through a symlink, regular files only,
 * at most SPOOL_META_SIZE_MAX bytes, never blocking on a FIFO. Returns 0 and *ret (as
 * spool_meta_parse()), -ENOENT when there is no such file, -ELOOP for a symlink, -EISDIR for a
 * directory, -EBADFD for anything else that is no regular file, -EINVAL when run_id is no run id,
 * or what spool_meta_parse() returns.
 */
int spool_meta_load(int dir_fd, const char *run_id, SpoolMeta *ret);

/* Copies m into *ret (strings duplicated; the caller: spool_meta_done()). Returns 0 or -ENOMEM. */
int spool_meta_copy(const SpoolMeta *m, SpoolMeta *ret);

/* Frees the strings of m and zeroes it; accepts a zeroed struct and NULL. */
void spool_meta_done(SpoolMeta *m);

/*
 * Writes the line that ends a log cut because the spool reached max_spool_size bytes
 * ("session-scripts: output truncated: the log spool is full (MaxSpoolSize=N)\n"), preceded by a
 * '\n' when the log so far ends inside a line (mid_line), so that the marker is a line of its own.
 * Returns its length (without the NUL).
 */
size_t spool_marker_format(char ret[static SPOOL_MARKER_SIZE], uint64_t max_spool_size, bool mid_line);
