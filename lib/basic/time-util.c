/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Microsecond time (time-util.h). */

#include "time-util.h"

usec_t timespec_load(const struct timespec *ts) {
        if (ts->tv_sec < 0 || ts->tv_nsec < 0)
                return 0;
        if ((uint64_t) ts->tv_sec > (USEC_INFINITY - 1 - (uint64_t) ts->tv_nsec / NSEC_PER_USEC) / USEC_PER_SEC)
                return USEC_INFINITY;
        return (usec_t) ts->tv_sec * USEC_PER_SEC + (usec_t) ts->tv_nsec / NSEC_PER_USEC;
}

usec_t now(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return timespec_load(&ts);
}
