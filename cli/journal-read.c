/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the daemon's journal entries about sessions and runs; see journal-read.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "journal-read.h"
#include "session-scripts/session-scripts.h"

/* Longest field value we copy (a script line is bounded by the daemon well below this). */
#define JOURNAL_FIELD_MAX (64U * 1024U)

DEFINE_POINTER_CLEANUP_FUNC(sd_journal *, sd_journal_close, journal_closep);

int journal_open_sessions(const char *session_id, sd_journal **ret) {
        _cleanup_(journal_closep) sd_journal *j = NULL;
        _cleanup_(freep) char *match = NULL;
        int r;

        /* Local only (no remote journals); both system and user journals, as root sees them. */
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;

        if (session_id) {
                if (asprintf(&match, SESSION_SCRIPTS_FIELD_SESSION_ID "=%s", session_id) < 0)
                        return -ENOMEM;
                r = sd_journal_add_match(j, match, 0);
        } else
                /* The daemon writes every session entry itself (the scripts' output arrives over its
                 * pipes), so they all carry its unit. */
                r = sd_journal_add_match(j, "_SYSTEMD_UNIT=session-scripts.service", 0);
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
