/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of the command line the daemon gives session-scripts-exec (daemon/exec-spawn.c): the
 * run argv in the order exec-helper.h documents, GROUPS and LIMITS as the helper parses them.
 * Starting the helper itself is covered by tests/integration/runner/.
 */

#include <string.h>
#include <sys/resource.h>

#include "cleanup.h"
#include "exec-spawn.h"
#include "tests.h"

static void test_format_groups(void) {
        _cleanup_(freep) char *none = NULL, *some = NULL;

        ASSERT_OK(exec_helper_format_groups(NULL, 0, &none));
        ASSERT_STREQ(none, "");
        ASSERT_OK(exec_helper_format_groups((const gid_t[]) { 100, 0, 4294967294U }, 3, &some));
        ASSERT_STREQ(some, "100,0,4294967294");
}

static void test_format_limits(void) {
        const struct rlimit l[] = {
                { .rlim_cur = 0, .rlim_max = RLIM_INFINITY },
                { .rlim_cur = 1024, .rlim_max = 524288 },
                { .rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY },
        };
        _cleanup_(freep) char *s = NULL, *empty = NULL;

        ASSERT_OK(exec_helper_format_limits(l, 3, &s));
        ASSERT_STREQ(s, "0:-,1024:524288,-:-");
        ASSERT_OK(exec_helper_format_limits(l, 0, &empty));
        ASSERT_STREQ(empty, "");
}

static size_t count(char **l) {
        size_t n = 0;

        while (l[n])
                n++;
        return n;
}

static void test_run_argv(void) {
        struct rlimit limits[RLIMIT_NLIMITS];
        char *script_argv[] = { (char *) "/etc/s/start.sh", (char *) "--flag", (char *) "", NULL };
        _cleanup_(strv_freep) char **system = NULL, **user = NULL;

        for (size_t i = 0; i < RLIMIT_NLIMITS; i++)
                limits[i] = (struct rlimit) { .rlim_cur = i, .rlim_max = RLIM_INFINITY };

        /* System context, a binary: no --script, no --user. */
        ASSERT_OK(exec_helper_run_argv(&(ExecHelperRun) { .limits = limits, .argv = script_argv }, &system));
        ASSERT_EQ(count(system), 5 + 3);
        ASSERT_STREQ(system[0], "session-scripts-exec");
        ASSERT_STREQ(system[1], "run");
        ASSERT_STREQ(system[2], "--limits");
        ASSERT_TRUE(strncmp(system[3], "0:-,1:-,2:-,", 12) == 0);
        ASSERT_STREQ(system[4], "--");
        ASSERT_STREQ(system[5], "/etc/s/start.sh");
        ASSERT_STREQ(system[6], "--flag");
        ASSERT_STREQ(system[7], "");

        /* User context, a script: --script, then --user UID GID GROUPS HOME ("/" without a home). */
        ASSERT_OK(exec_helper_run_argv(&(ExecHelperRun) {
                                               .script = true,
                                               .user = true,
                                               .uid = 1000,
                                               .gid = 1001,
                                               .groups = (const gid_t[]) { 1001, 27 },
                                               .n_groups = 2,
                                               .limits = limits,
                                               .argv = script_argv,
                                       },
                                       &user));
        ASSERT_EQ(count(user), 11 + 3);
        ASSERT_STREQ(user[2], "--script");
        ASSERT_STREQ(user[3], "--user");
        ASSERT_STREQ(user[4], "1000");
        ASSERT_STREQ(user[5], "1001");
        ASSERT_STREQ(user[6], "1001,27");
        ASSERT_STREQ(user[7], "/");
        ASSERT_STREQ(user[8], "--limits");
        ASSERT_STREQ(user[10], "--");
        ASSERT_STREQ(user[11], "/etc/s/start.sh");
}

int main(void) {
        test_format_groups();
        test_format_limits();
        test_run_argv();
        return 0;
}
