/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of lib/basic/: session-id.c, time-util.c and macro.h. */

#include <string.h>
#include <time.h>

#include "macro.h"
#include "session-id.h"
#include "tests.h"
#include "time-util.h"

static void test_id_valid(void) {
        char long_id[SESSION_SCRIPTS_SESSION_ID_MAX + 2];

        ASSERT_TRUE(session_id_is_valid("a"));
        ASSERT_TRUE(session_id_is_valid("0f3c-AB_x.y"));
        ASSERT_TRUE(!session_id_is_valid(""));
        ASSERT_TRUE(!session_id_is_valid(NULL));
        ASSERT_TRUE(!session_id_is_valid("a/b"));
        ASSERT_TRUE(!session_id_is_valid(".."));
        ASSERT_TRUE(!session_id_is_valid("."));
        ASSERT_TRUE(!session_id_is_valid("a b"));
        ASSERT_TRUE(!session_id_is_valid("ä"));
        ASSERT_TRUE(!session_id_is_valid("a\n"));

        memset(long_id, 'x', sizeof long_id);
        long_id[SESSION_SCRIPTS_SESSION_ID_MAX] = 0;
        ASSERT_TRUE(session_id_is_valid(long_id));
        long_id[SESSION_SCRIPTS_SESSION_ID_MAX] = 'x';
        long_id[SESSION_SCRIPTS_SESSION_ID_MAX + 1] = 0;
        ASSERT_TRUE(!session_id_is_valid(long_id));
}

static void test_id_generate(void) {
        char a[SESSION_SCRIPTS_SESSION_ID_UUID_LEN + 1], b[SESSION_SCRIPTS_SESSION_ID_UUID_LEN + 1];

        ASSERT_OK(session_id_generate(a));
        ASSERT_OK(session_id_generate(b));
        ASSERT_EQ(strlen(a), 36);
        ASSERT_TRUE(strcmp(a, b) != 0);
        ASSERT_TRUE(session_id_is_valid(a));
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23)
                        ASSERT_TRUE(a[i] == '-');
                else
                        ASSERT_TRUE(strchr("0123456789abcdef", a[i]) != NULL);
        }
        ASSERT_TRUE(a[14] == '4'); /* version 4 */
        ASSERT_TRUE(strchr("89ab", a[19]) != NULL);
}

static void test_time(void) {
        struct timespec ts = { .tv_sec = 3, .tv_nsec = 999999 };
        usec_t a, b;

        ASSERT_EQ(timespec_load(&ts), 3 * USEC_PER_SEC + 999);
        ts.tv_sec = -1;
        ASSERT_EQ(timespec_load(&ts), 0);
        ts = (struct timespec) { .tv_sec = (time_t) (UINT64_MAX / 1000), .tv_nsec = 0 };
        ASSERT_TRUE(timespec_load(&ts) == USEC_INFINITY);

        a = now(CLOCK_MONOTONIC);
        b = now(CLOCK_MONOTONIC);
        ASSERT_TRUE(a > 0 && b >= a);
        ASSERT_TRUE(now(CLOCK_REALTIME) > 1500000000 * USEC_PER_SEC);
        ASSERT_EQ(now((clockid_t) 12345), 0);
}

static void test_macros(void) {
        int i = 0, a[7];

        /* Each argument once, also nested. */
        ASSERT_EQ(MIN(i++, 10), 0);
        ASSERT_EQ(i, 1);
        ASSERT_EQ(MAX(MIN(5, 3), MIN(4, 9)), 4);
        ASSERT_EQ(ELEMENTSOF(a), 7);
        ASSERT_TRUE(streq_ptr(NULL, NULL) && !streq_ptr("a", NULL) && streq_ptr("a", "a"));
        ASSERT_TRUE(streq(startswith("SessionStart", "Session"), "Start"));
        ASSERT_TRUE(startswith("Session", "SessionStart") == NULL);
        (void) a;
}

int main(void) {
        test_id_valid();
        test_id_generate();
        test_time();
        test_macros();
        return 0;
}
