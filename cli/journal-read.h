/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the daemon's journal entries about sessions and runs with sd-journal, for the `logs`,
 * `run` and `status` verbs: open the local journal, read the current entry into a LogEntry, and
 * wait for more while following.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-journal.h>

#include "format.h"

/*
 * Opens the local journal with a match on SESSION_SCRIPTS_SESSION_ID=session_id (all entries of
 * the daemon's sessions when session_id is NULL: the entries of session-scripts.service that carry
 * that field are picked by journal_read_entry()). Returns 0 or -errno (-EACCES/-EPERM when the
 * caller may not read the system journal).
 */
int journal_open_sessions(const char *session_id, sd_journal **ret);

/*
 * Reads the current entry of j into *ret (caller calls log_entry_done()). Returns 1 when the entry
 * belongs to a session (has SESSION_SCRIPTS_SESSION_ID), 0 when it does not (ret untouched),
 * -errno on failure.
 */
int journal_read_entry(sd_journal *j, LogEntry *ret);

/* Copies the value of field of the current entry (without "FIELD=") as a NUL-terminated string
 * (bytes as they are). Returns 0, -ENOENT when the entry has no such field, -errno. */
int journal_get_field(sd_journal *j, const char *field, char **ret, size_t *ret_len);
