/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of lib/object-key.c: the S3 key layout of docs/behaviour.md §4 and the refusal of components
 * that would add or remove a level of the key.
 */
#include <stdlib.h>

#include "cleanup.h"
#include "object-key.h"
#include "tests.h"

static void test_spec_layout(void) {
        _cleanup_(freep) char *k = NULL;

        ASSERT_OK(object_key_build("mystack", "myfleet", "userpool", "testuser@mydomain.com",
                                   "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "SessionStart", "user", &k));
        ASSERT_STREQ(k, "mystack/myfleet/userpool/"
                        "a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13/"
                        "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9/SessionScriptsLogs/SessionStart/user.log");
}

static void test_user_id_is_hashed(void) {
        _cleanup_(freep) char *k = NULL;

        /* The user id may contain anything, '/' included: it only appears hashed. */
        ASSERT_OK(object_key_build("s", "f", "custom", "DOMAIN/evil/../user", "sid", "SessionTermination",
                                   "system", &k));
        ASSERT_TRUE(strstr(k, "evil") == NULL);
        ASSERT_TRUE(strncmp(k, "s/f/custom/", 11) == 0);
        ASSERT_TRUE(strstr(k, "/sid/SessionScriptsLogs/SessionTermination/system.log") != NULL);
}

static void test_invalid_components(void) {
        char *k = (char *) "untouched";

        ASSERT_ERROR(object_key_build("", "f", "custom", "u", "sid", "SessionStart", "user", &k), EINVAL);
        ASSERT_ERROR(object_key_build("a/b", "f", "custom", "u", "sid", "SessionStart", "user", &k), EINVAL);
        ASSERT_ERROR(object_key_build("s", "..", "custom", "u", "sid", "SessionStart", "user", &k), EINVAL);
        ASSERT_ERROR(object_key_build("s", "f", "cus/tom", "u", "sid", "SessionStart", "user", &k), EINVAL);
        ASSERT_ERROR(object_key_build("s", "f", "custom", "u", "s/id", "SessionStart", "user", &k), EINVAL);
        ASSERT_ERROR(object_key_build("s", "f", "custom", "u", "", "SessionStart", "user", &k), EINVAL);
        ASSERT_ERROR(object_key_build("s", "f", "custom", "u", "sid\n", "SessionStart", "user", &k), EINVAL);
        ASSERT_ERROR(object_key_build(NULL, "f", "custom", "u", "sid", "SessionStart", "user", &k), EINVAL);
        ASSERT_ERROR(object_key_build("s", "f", "custom", NULL, "sid", "SessionStart", "user", &k), EINVAL);
        /* Out-parameter untouched on failure. */
        ASSERT_STREQ(k, "untouched");
}

int main(void) {
        TEST_RUN(test_spec_layout);
        TEST_RUN(test_user_id_is_hashed);
        TEST_RUN(test_invalid_components);
        return 0;
}
