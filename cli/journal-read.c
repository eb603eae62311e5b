/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the daemon's journal entries about sessions and runs; see journal-read.h.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "journal-read.h"
#include "session-scripts/session-scripts.h"

/* Longest field value we copy (a script line is bounded by the daemon well below this). */
#define JOURNAL_FIELD_MAX (64U * 1024U)


int journal_add_daemon_matches(sd_journal *j) {
        int r;

        /* Trusted fields only (journald sets them from SCM_CREDENTIALS and the sender's cgroup, a
         * client cannot send fields starting with '_'): the daemon runs as root in its own service
         * unit. A user-context script runs under its user's uid, so what it logs itself never
         * matches, not even before the daemon moved it into its scope. */
        r = sd_journal_add_match(j, "_UID=0", 0);
        if (r < 0)
                return r;
        return sd_journal_add_match(j, "_SYSTEMD_UNIT=" JOURNAL_DAEMON_UNIT, 0);
}

int journal_add_uploader_matches(sd_journal *j) {
        struct passwd *pw;
        int r;

        r = sd_journal_add_match(j, "_SYSTEMD_UNIT=" JOURNAL_UPLOADER_UNIT, 0);
        if (r < 0)
                return r;
        /* Only root can place a process in a system service's cgroup; the uid is a second check
         * where the package created the user (it always does; a missing one leaves the unit). */
        pw = getpwnam(JOURNAL_UPLOADER_USER);
        if (pw) {
                char match[64];

                snprintf(match, sizeof match, "_UID=%u", (unsigned) pw->pw_uid);
                r = sd_journal_add_match(j, match, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* True when the current entry's field has exactly value. */
static bool journal_field_is(sd_journal *j, const char *field, const char *value) {
        const void *data;
        size_t len, flen = strlen(field), vlen = strlen(value);

        if (sd_journal_get_data(j, field, &data, &len) < 0)
                return false;
        return len == flen + 1 + vlen && memcmp((const char *) data + flen + 1, value, vlen) == 0;
}

bool journal_entry_from_daemon(sd_journal *j) {
        return journal_field_is(j, "_UID", "0") && journal_field_is(j, "_SYSTEMD_UNIT", JOURNAL_DAEMON_UNIT);
}

int journal_open_sessions(const char *session_id, sd_journal **ret) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_(freep) char *match = NULL;
        int r;

        /* Local only (no remote journals), and the system journal only: the daemon's entries are
         * there, and users' own journals hold nothing but what users wrote. */
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0)
                return r;

        if (session_id) {
                if (asprintf(&match, SESSION_SCRIPTS_FIELD_SESSION_ID "=%s", session_id) < 0)
                        return -ENOMEM;
                r = sd_journal_add_match(j, match, 0);
                if (r < 0)
                        return r;
        }
        /* The daemon writes every session entry itself (the scripts' output arrives over its
         * pipes), so they all carry its unit and uid; anything else is someone else's. */
        r = journal_add_daemon_matches(j);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(j);
        return 0;
}

int journal_get_field(sd_journal *j, const char *field, char **ret, size_t *ret_len) {
        const void *data;
        size_t len, flen = strlen(field);
        char *s;
        int r;

        r = sd_journal_get_data(j, field, &data, &len);
        if (r < 0)
                return r;
        if (len < flen + 1)
                return -EBADMSG;
        len -= flen + 1;
        if (len > JOURNAL_FIELD_MAX)
                len = JOURNAL_FIELD_MAX;
        s = malloc(len + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, (const char *) data + flen + 1, len);
        s[len] = 0;
        *ret = s;
        if (ret_len)
                *ret_len = len;
        return 0;
}

/* An optional field: NULL when absent. */
static int journal_get_optional(sd_journal *j, const char *field, char **ret, size_t *ret_len) {
        int r = journal_get_field(j, field, ret, ret_len);

        if (r == -ENOENT) {
                *ret = NULL;
                if (ret_len)
                        *ret_len = 0;
                return 0;
        }
        return r;
}

int journal_read_entry(sd_journal *j, LogEntry *ret) {
        _cleanup_(log_entry_done) LogEntry e = {};
        int r;

        /* The matches selected the daemon's entries already; checked again here, so that a caller
         * with other matches cannot show a forged entry as the daemon's. */
        if (!journal_entry_from_daemon(j))
                return 0;
        r = journal_get_optional(j, SESSION_SCRIPTS_FIELD_SESSION_ID, &e.session_id, NULL);
        if (r < 0)
                return r;
        if (!e.session_id)
                return 0;

        r = sd_journal_get_realtime_usec(j, &e.realtime_usec);
        if (r < 0)
                return r;
        if ((r = journal_get_optional(j, SESSION_SCRIPTS_FIELD_EVENT, &e.event, NULL)) < 0 ||
            (r = journal_get_optional(j, SESSION_SCRIPTS_FIELD_CONTEXT, &e.context, NULL)) < 0 ||
            (r = journal_get_optional(j, SESSION_SCRIPTS_FIELD_STREAM, &e.stream, NULL)) < 0 ||
            (r = journal_get_optional(j, SESSION_SCRIPTS_FIELD_RESULT, &e.result, NULL)) < 0 ||
            (r = journal_get_optional(j, "MESSAGE_ID", &e.message_id, NULL)) < 0 ||
            (r = journal_get_optional(j, "MESSAGE", &e.message, &e.message_len)) < 0)
                return r;

        *ret = e;
        e = (LogEntry) {};
        return 1;
}
