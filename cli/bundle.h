/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Installing an Elastic-fleet bundle: a zip with config.json at its top and the executables it
 * names, unpacked with libarchive into a fresh directory next to the target, checked, then swapped
 * in with one atomic rename (RENAME_EXCHANGE), so a reader sees either the old bundle or the new
 * one, never a mix. Everything in the zip is untrusted: only regular files and directories with
 * relative paths free of "..", within hard limits; files are created anew (O_EXCL|O_NOFOLLOW, never
 * through an existing link), root-owned when run as root, directories 0755, files 0644, or 0755 when
 * the entry had an execute bit or config.json names the file as an executable. Every executable
 * config.json names must be a regular file of the bundle, named by a plain path below the bundle
 * directory: no "..", no symlink on the way (resolved with openat2(RESOLVE_BENEATH|
 * RESOLVE_NO_SYMLINKS), its mode changed on the descriptor that was opened and checked).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "script-config.h"

/* Default hard limits: entries, bytes of one file, bytes of all files (uncompressed). */
#define BUNDLE_MAX_ENTRIES 1000U
#define BUNDLE_MAX_ENTRY_SIZE (100ULL * 1024ULL * 1024ULL)
#define BUNDLE_MAX_TOTAL_SIZE (1024ULL * 1024ULL * 1024ULL)
/* Deepest directory nesting and longest entry path accepted. */
#define BUNDLE_MAX_DEPTH 16U
#define BUNDLE_MAX_PATH 1024U

typedef struct BundleLimits {
        size_t max_entries;
        uint64_t max_entry_size;
        uint64_t max_total_size;
} BundleLimits;

#define BUNDLE_LIMITS_DEFAULT                                                                    \
        ((BundleLimits) {                                                                        \
                .max_entries = BUNDLE_MAX_ENTRIES,                                               \
                .max_entry_size = BUNDLE_MAX_ENTRY_SIZE,                                         \
                .max_total_size = BUNDLE_MAX_TOTAL_SIZE,                                         \
        })

/* One regular file of an installed bundle: its path below the bundle directory, its mode as
 * installed (0644 or 0755) and its size. */
typedef struct BundleFile {
        char *path;
        mode_t mode;
        uint64_t size;
} BundleFile;

/* Called while unpacking, after every chunk written: bytes unpacked so far and entries seen. */
typedef void (*BundleProgressFn)(uint64_t bytes, size_t entries, void *userdata);

/* What the caller wants to hear about an installation besides the findings; may be NULL. */
typedef struct BundleReport {
        BundleProgressFn progress;      /* in: may be NULL */
        void *userdata;                 /* in: for progress */
        BundleFile *files;              /* out: the regular files installed, in archive order */
        size_t n_files;
} BundleReport;

/* Frees the file list of report (not report itself); accepts NULL and an empty report. */
void bundle_report_done(BundleReport *report);

/*
 * Installs the zip read from archive_fd as target_dir (absolute; its parent is created, mode
 * 0755, when missing). config.json is validated with the shared engine — with the file-security
 * checks when file_checks — against the paths it will have once installed; every finding goes to
 * *findings (initialised to {} by the caller), with paths shown as installed.
 *
 * report (may be NULL) gets progress calls while unpacking and, when installed, the list of files
 * (caller calls bundle_report_done(); on failure the list is empty).
 *
 * Returns 0 when installed; -EINVAL when the bundle was refused (unsafe entry, limits, missing or
 * invalid config.json, a named executable missing from the bundle), with a sentence in reason;
 * another -errno on a system error (also with a sentence). On any failure target_dir is as it was.
 */
int bundle_install(int archive_fd, const char *target_dir, const BundleLimits *limits, bool file_checks,
                   FindingList *findings, BundleReport *report, char *reason, size_t reason_size);

/*
 * Checks one entry path of a zip and splits it into components (pointers into *ret_buf, a copy
 * the caller frees): relative, no "..", no empty result, no control characters or backslashes, at
 * most BUNDLE_MAX_PATH bytes and BUNDLE_MAX_DEPTH components; "." and empty components (a trailing
 * "/" of a directory entry) are dropped. Returns the number of components, or -EINVAL.
 */
int bundle_path_split(const char *path, char **ret_buf, const char *ret_components[static BUNDLE_MAX_DEPTH + 1]);

/*
 * Opens path (relative, checked like a zip entry by bundle_path_split()) below dir_fd with flags
 * (O_NOFOLLOW and O_CLOEXEC are added), never leaving dir_fd's tree and never following a
 * symlink in any component: openat2() with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or, where the
 * kernel (or a seccomp filter) lacks it, bundle_open_beneath_walk(). Not for O_CREAT. Returns the
 * fd, -EINVAL (path syntax: absolute, "..", …), -ELOOP (a symlink on the way), -EXDEV (would
 * leave the tree), or another -errno.
 */
int bundle_open_beneath(int dir_fd, const char *path, int flags);

/* The fallback of bundle_open_beneath(): one openat(O_NOFOLLOW) per component. Exported for the
 * tests, which check that both ways refuse the same things. */
int bundle_open_beneath_walk(int dir_fd, const char *path, int flags);
