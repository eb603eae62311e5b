/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Session ids (session-id.h). */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "session-id.h"

bool session_id_is_valid(const char *id) {
        size_t n;

        if (!id)
                return false;
        n = strnlen(id, SESSION_SCRIPTS_SESSION_ID_MAX + 1);
        if (n < 1 || n > SESSION_SCRIPTS_SESSION_ID_MAX)
                return false;
        if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return false;
        return strspn(id, SESSION_SCRIPTS_SESSION_ID_CHARS) == n;
}

int session_id_generate(char ret[static SESSION_SCRIPTS_SESSION_ID_UUID_LEN + 1]) {
        uint8_t b[16];
        size_t got = 0;

        while (got < sizeof b) {
                ssize_t k = getrandom(b + got, sizeof b - got, 0);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t) k;
        }

        /* RFC 9562: version 4 in the high nibble of byte 6, variant 10 in the top bits of byte 8. */
        b[6] = (uint8_t) ((b[6] & 0x0f) | 0x40);
        b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80);

        (void) snprintf(ret, SESSION_SCRIPTS_SESSION_ID_UUID_LEN + 1,
                        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                        b[14], b[15]);
        return 0;
}
