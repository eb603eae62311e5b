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

/* The unit of the daemon, whose entries alone are trusted for sessions and runs. */
#define JOURNAL_DAEMON_UNIT "session-scripts.service"
#define JOURNAL_UPLOADER_UNIT "session-scripts-upload.service"
#define JOURNAL_UPLOADER_USER "session-scripts-upload"

/*
 * Adds the matches that select entries the daemon itself wrote: _UID=0 and
 * _SYSTEMD_UNIT=JOURNAL_DAEMON_UNIT. Both fields are set by journald from the sender's credentials
 * and cgroup, never by the sender, so entries that any user can write with systemd-cat, logger or
 * sd_journal_send() carrying SESSION_SCRIPTS_SESSION_ID= or a MESSAGE_ID= of ours are not picked.
 * Call after the entry's own matches of the same term (sd-journal ANDs different fields).
 * Returns 0 or -errno.
 */
int journal_add_daemon_matches(sd_journal *j);

/*
 * The same for the uploader: _SYSTEMD_UNIT=JOURNAL_UPLOADER_UNIT and, when the user
 * JOURNAL_UPLOADER_USER exists, its _UID. Returns 0 or -errno.
 */
int journal_add_uploader_matches(sd_journal *j);

/*
 * True when the current entry of j was written by the daemon (_UID=0 and
 * _SYSTEMD_UNIT=JOURNAL_DAEMON_UNIT): a second check of what the matches selected.
 */
bool journal_entry_from_daemon(sd_journal *j);

/*
 * Opens the system journal with matches on SESSION_SCRIPTS_SESSION_ID=session_id (all session
 * entries when session_id is NULL) and on the daemon as the writer (journal_add_daemon_matches()).
 * Returns 0 or -errno (-EACCES/-EPERM when the caller may not read the system journal).
 */
int journal_open_sessions(const char *session_id, sd_journal **ret);

/*
 * Reads the current entry of j into *ret (caller calls log_entry_done()). Returns 1 when the entry
 * belongs to a session (has SESSION_SCRIPTS_SESSION_ID) and was written by the daemon
 * (journal_entry_from_daemon()), 0 when not (ret untouched), -errno on failure.
 */
int journal_read_entry(sd_journal *j, LogEntry *ret);

/* Copies the value of field of the current entry (without "FIELD=") as a NUL-terminated string
 * (bytes as they are). Returns 0, -ENOENT when the entry has no such field, -errno. */
int journal_get_field(sd_journal *j, const char *field, char **ret, size_t *ret_len);
