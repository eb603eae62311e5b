/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of the scripts' resource limits without PID 1's answer (daemon/default-limits.c): the
 * table holds every limit with soft ≤ hard, the RLIMIT_NOFILE soft limit at most 1024, and
 * otherwise PID 1's own limits as /proc/1/limits shows them (parsed here independently, by row).
 * The answer from PID 1 is covered by the integration scenario tests/integration/adversarial/
 * test-rlimits.sh.
 */

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "default-limits.h"
#include "tests.h"

static rlim_t value(const char *s) {
        return strcmp(s, "unlimited") == 0 ? RLIM_INFINITY : (rlim_t) strtoull(s, NULL, 10);
}

int main(void) {
        const struct rlimit *l;
        char line[256];
        FILE *f;
        int row = -1, checked = 0;

        default_limits_init();
        l = default_limits_get();
        ASSERT_TRUE(l);

        for (int i = 0; i < DEFAULT_LIMITS_N; i++)
                ASSERT_TRUE(l[i].rlim_cur <= l[i].rlim_max);
        ASSERT_TRUE(l[RLIMIT_NOFILE].rlim_cur <= 1024);

        /* The kernel lists the limits in RLIMIT_* order after a header line. */
        f = fopen("/proc/1/limits", "re");
        if (!f) {
                fprintf(stderr, "/proc/1/limits not readable, only the invariants were checked\n");
                return 0;
        }
        while (fgets(line, sizeof line, f)) {
                char soft[32], hard[32];

                if (row++ < 0 || row - 1 >= DEFAULT_LIMITS_N || strlen(line) < 26)
                        continue;
                ASSERT_EQ(sscanf(line + 25, "%31s %31s", soft, hard), 2);
                if (row - 1 == RLIMIT_NOFILE) {
                        ASSERT_TRUE(l[RLIMIT_NOFILE].rlim_max == value(hard));
                        ASSERT_TRUE(l[RLIMIT_NOFILE].rlim_cur == (value(hard) < 1024 ? value(hard) : 1024));
                } else {
                        ASSERT_TRUE(l[row - 1].rlim_cur == value(soft));
                        ASSERT_TRUE(l[row - 1].rlim_max == value(hard));
                }
                checked++;
        }
        fclose(f);
        ASSERT_EQ(checked, DEFAULT_LIMITS_N);
        return 0;
}
