/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of lib/basic/strv.c. */

#include "cleanup.h"
#include "strv.h"
#include "tests.h"

static void test_extend(void) {
        _cleanup_(strv_freep) char **l = NULL;

        ASSERT_OK(strv_extend(&l, "a"));
        ASSERT_OK(strv_extendf(&l, "%s-%u", "b", 7U));
        ASSERT_OK(strv_extend(&l, ""));
        ASSERT_EQ(strv_length(l), 3);
        ASSERT_STREQ(l[0], "a");
        ASSERT_STREQ(l[1], "b-7");
        ASSERT_STREQ(l[2], "");
        ASSERT_TRUE(l[3] == NULL);
}

static void test_copy(void) {
        char *src[] = { (char *) "x", (char *) "yz", NULL };
        _cleanup_(strv_freep) char **c = NULL, **e = NULL;

        c = strv_copy(src);
        ASSERT_TRUE(c);
        ASSERT_EQ(strv_length(c), 2);
        ASSERT_TRUE(c[0] != src[0]);
        ASSERT_STREQ(c[1], "yz");

        e = strv_copy(NULL);
        ASSERT_TRUE(e);
        ASSERT_EQ(strv_length(e), 0);
}

int main(void) {
        test_extend();
        test_copy();
        return 0;
}
