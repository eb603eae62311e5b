/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemons' log sink: journal with CODE_FILE/CODE_LINE/CODE_FUNC and extra fields, optionally
 * stderr. See log.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

/* Bound on the extra fields of one message; more are dropped (a caller's bug, not a reason to lose
 * the message). */
#define LOG_FIELDS_MAX 16U
/* Longer messages are truncated. */
#define LOG_MESSAGE_MAX 2048U
#define MESSAGE_PREFIX "MESSAGE="
#define MESSAGE_PREFIX_LEN (sizeof MESSAGE_PREFIX - 1)

bool log_to_stderr = false;
const char *log_identifier = NULL;

static struct iovec iovec_from_string(const char *s) {
        return (struct iovec) { .iov_base = (char *) s, .iov_len = strlen(s) };
}

static int log_internalv(int priority, int error, const char *file, int line, const char *func,
                         const char * const *fields, size_t n_fields, const char *format, va_list ap) {
        /* The MESSAGE= field; the text is formatted in place after the prefix. */
        char message[MESSAGE_PREFIX_LEN + LOG_MESSAGE_MAX] = MESSAGE_PREFIX;
        char *text = message + MESSAGE_PREFIX_LEN;
        char prio[32], errno_field[32], code_file[1024], code_line[32], ident[256];
        struct iovec iov[4 + LOG_FIELDS_MAX];
        size_t n = 0;

        error = abs(error);

        /* Let "%m" in format refer to error, not whatever errno happens to be. */
        errno = error;
        (void) vsnprintf(text, LOG_MESSAGE_MAX, format, ap);

        (void) snprintf(code_file, sizeof code_file, "CODE_FILE=%s", file);
        (void) snprintf(code_line, sizeof code_line, "CODE_LINE=%d", line);
        (void) snprintf(prio, sizeof prio, "PRIORITY=%i", priority);

        iov[n++] = iovec_from_string(message);
        iov[n++] = iovec_from_string(prio);
        if (error > 0) {
                (void) snprintf(errno_field, sizeof errno_field, "ERRNO=%i", error);
                iov[n++] = iovec_from_string(errno_field);
        }
        if (log_identifier) {
                (void) snprintf(ident, sizeof ident, "SYSLOG_IDENTIFIER=%s", log_identifier);
                iov[n++] = iovec_from_string(ident);
        }
        for (size_t i = 0; i < n_fields && n < ELEMENTSOF(iov); i++)
                if (fields[i])
                        iov[n++] = iovec_from_string(fields[i]);

        /* The _with_location() variant, so that the location is the caller's, not ours. */
        (void) sd_journal_sendv_with_location(code_file, code_line, func, iov, (int) n);

        if (log_to_stderr && priority <= LOG_INFO)
                (void) fprintf(stderr, "%s\n", text);

        errno = error;
        return -error;
}

int log_internal(int priority, int error, const char *file, int line, const char *func,
                 const char * const *fields, size_t n_fields, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_internalv(priority, error, file, line, func, fields, n_fields, format, ap);
        va_end(ap);
        return r;
}
