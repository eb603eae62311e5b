/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and checking a config.json the way the daemon does (the shared engine: parse, then the
 * file-security checks), for `status` and `install-bundle`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "script-config.h"

/*
 * Reads path (a regular file of at most SCRIPT_CONFIG_MAX_FILE_SIZE bytes, opened without
 * following a symlink in its last component) and returns its bytes. Returns 0 or -errno (-EFBIG when
 * too large, -EISDIR for a directory, -EBADFD for anything else that is not a
 * regular file).
 */
int config_read(const char *path, char **ret, size_t *ret_len);

/*
 * Parses buf and — when file_checks — runs the file-security checks with config_path as the
 * config's own path. Findings are appended to *findings. On success (even with errors in the
 * findings) returns 0 and, when ret_config is non-NULL and the config parsed, the config (else
 * NULL). Returns -ENOMEM.
 */
int config_check_buffer(const char *buf, size_t len, const char *config_path, bool file_checks,
                        FindingList *findings, ScriptConfig **ret_config);

/* A SettingsReportFn (lib/settings.h) that appends each problem of the settings to the FindingList
 * userdata as an error: each is an assignment (or line, or section) the daemon and the uploader
 * ignore. Out of memory, it still counts the error, so that the verdict stays right. */
void settings_collect_findings(const char *file, unsigned line, const char *message, void *userdata);
