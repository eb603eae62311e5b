/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uploader's view of the spool directory (format and contract in lib/spool-format.h, which
 * also names, parses and loads the files): the start-up scan of the directory, crash leftovers (a
 * .log without .meta), and which stuck finished entries go first when the spool is over its size
 * bound. No logging, no network: the pure half of the uploader, covered by the unit tests.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spool-format.h"

/* One entry found by spool_scan(). */
typedef struct SpoolScanItem {
        char run_id[SPOOL_RUN_ID_LEN + 1];
        bool has_log;           /* RUNID.log exists (else: STATE=finished → the upload completed, remove
                                 * the .meta; STATE=running → the daemon is about to create the .log) */
        uint64_t log_size;      /* st_size of RUNID.log */
        uint64_t meta_size;     /* st_size of RUNID.meta */
        uint64_t mtime_usec;    /* last change of RUNID.log (else of the .meta); sort key, oldest first */
} SpoolScanItem;

/* What spool_pick_evictions() needs to know of an entry. */
typedef struct SpoolUsage {
        uint64_t size;          /* bytes the entry takes in the spool (.log + .meta) */
        uint64_t mtime_usec;    /* age: older entries are evicted first */
        bool finished;          /* only finished entries are evicted; running ones are still written */
        bool in_flight;         /* a PUT of it is under way: never evicted, its answer decides */
        bool stuck;             /* it had its chance: its own upload failed, or S3 as a whole is failing */
} SpoolUsage;

/*
 * Lists the entries of the spool directory dir_fd: one item per RUNID.meta (a .log without its
 * .meta is not an entry: see spool_scan_orphan_logs()). Sorted oldest first.
 * Returns 0 and a malloc()ed array in *ret with *ret_n items (caller frees), or -errno.
 */
int spool_scan(int dir_fd, SpoolScanItem **ret, size_t *ret_n);

/*
 * Lists the RUNID.log files of dir_fd (regular files only) that have no RUNID.meta (of any type) and
 * whose mtime is older than now_usec - min_age_usec (CLOCK_REALTIME): crash leftovers that would
 * otherwise never be uploaded, counted or removed. Items have has_log set, log_size and mtime_usec;
 * sorted oldest first. Returns 0 and a malloc()ed array in *ret with *ret_n items, or -errno.
 */
int spool_scan_orphan_logs(int dir_fd, uint64_t now_usec, uint64_t min_age_usec, SpoolScanItem **ret,
                           size_t *ret_n);

/*
 * Decides which entries to evict so that the total size of all n entries drops to at most max. The
 * bound is on the backlog, not on logs in transit, so an entry is a candidate only when it is
 * finished, not in flight, stuck (it had its chance to be uploaded), and not the newest entry of all
 * (largest mtime; ties: higher index); candidates go oldest first (ties: lower index first). Writes
 * the chosen indices, in eviction order, to ret_indices (room for n) and their number to *ret_n.
 * Returns the total size that remains afterwards (may still exceed max when the entries that are not
 * candidates alone do).
 */
uint64_t spool_pick_evictions(const SpoolUsage *items, size_t n, uint64_t max, size_t *ret_indices,
                              size_t *ret_n);
