/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's log sink: journal with CODE_FILE/CODE_LINE/CODE_FUNC, optionally stderr. See log.h.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "log.h"

bool log_to_stderr = false;

int log_internal(int priority, int error, const char *file, int line, const char *func, const char *format, ...) {
        char buf[2048], code_file[1024], code_line[32];
        va_list ap;

        error = abs(error);

        /* Let "%m" in format refer to error, not whatever errno happens to be. */
        errno = error;
        va_start(ap, format);
        (void) vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        (void) snprintf(code_file, sizeof code_file, "CODE_FILE=%s", file);
        (void) snprintf(code_line, sizeof code_line, "CODE_LINE=%d", line);

        /* sd_journal_send_with_location() is what the sd_journal_send() macro uses; call it
         * directly so the location is the caller's, not ours. */
        if (error > 0)
                (void) sd_journal_send_with_location(code_file, code_line, func, "MESSAGE=%s", buf,
                                                     "PRIORITY=%i", priority, "ERRNO=%i", error, NULL);
        else
                (void) sd_journal_send_with_location(code_file, code_line, func, "MESSAGE=%s", buf,
                                                     "PRIORITY=%i", priority, NULL);

        if (log_to_stderr && priority <= LOG_INFO)
                (void) fprintf(stderr, "%s\n", buf);

        errno = error;
        return -error;
}
