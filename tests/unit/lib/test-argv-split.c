/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of argv_split() (lib/argv-split.c): POSIX word splitting without expansion, as the
 * `arguments` key of config.json is split (docs/behaviour.md §2).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "cleanup.h"
#include "script-config.h"
#include "tests.h"

/* Splits s and compares with the expected words (NULL-terminated list). */
static void check(const char *s, ...) {
        _cleanup_(strv_freep) char **l = NULL;
        va_list ap;
        size_t i = 0;
        const char *w;

        ASSERT_OK(argv_split(s, &l, NULL));
        va_start(ap, s);
        while ((w = va_arg(ap, const char *))) {
                if (!l[i])
                        fprintf(stderr, "input <%s>: missing word %zu <%s>\n", s, i, w);
                ASSERT_TRUE(l[i]);
                ASSERT_STREQ(l[i], w);
                i++;
        }
        va_end(ap);
        if (l[i])
                fprintf(stderr, "input <%s>: extra word <%s>\n", s, l[i]);
        ASSERT_TRUE(l[i] == NULL);
}

static void check_fail(const char *s, size_t offset) {
        char **l = NULL;
        size_t off = (size_t) -1;

        ASSERT_ERROR(argv_split(s, &l, &off), EINVAL);
        ASSERT_TRUE(l == NULL);
        ASSERT_EQ(off, offset);
}

static void test_basic(void) {
        check("", NULL);
        check("   \t\n ", NULL);
        check("a", "a", NULL);
        check("  a   b\tc\nd  ", "a", "b", "c", "d", NULL);
        check("--verbose \"a b\"", "--verbose", "a b", NULL);
        check("--name=\"Jane Doe\" -x", "--name=Jane Doe", "-x", NULL);
}

static void test_quotes(void) {
        check("'a b' 'c'\"d\"e", "a b", "cde", NULL);
        check("'it'\\''s'", "it's", NULL);
        check("'\\n \"x\" $HOME'", "\\n \"x\" $HOME", NULL);      /* nothing special inside '' */
        check("\"\\$HOME \\` \\\" \\\\ \\n\"", "$HOME ` \" \\ \\n", NULL);
        check("\"\" ''", "", "", NULL);                          /* empty quotes make empty words */
        check("a\"\"b", "ab", NULL);
        check("\"a\\\nb\"", "ab", NULL);                         /* backslash-newline continues */
}

static void test_backslash(void) {
        check("a\\ b", "a b", NULL);
        check("\\'x\\'", "'x'", NULL);
        check("\\\\", "\\", NULL);
        check("a\\\nb", "ab", NULL);
}

static void test_no_expansion(void) {
        check("$HOME ~ *.sh `id` $(id) ; | & > < # x",
              "$HOME", "~", "*.sh", "`id`", "$(id)", ";", "|", "&", ">", "<", "#", "x", NULL);
}

static void test_powershell_seed(void) {
        /* The seed's `"arguments": "-File \"C:\\path\\to\\session\\script.ps1\""` decodes to
         * -File "C:\path\to\session\script.ps1": inside double quotes \p stays \p (POSIX). */
        check("-File \"C:\\path\\to\\session\\script.ps1\"",
              "-File", "C:\\path\\to\\session\\script.ps1", NULL);
}

static void test_linux_examples(void) {
        check("--config /etc/app/app.conf --log-level=debug", "--config", "/etc/app/app.conf",
              "--log-level=debug", NULL);
        check("-c 'echo \"hello world\"'", "-c", "echo \"hello world\"", NULL);
        check("/opt/My\\ Apps/run.sh", "/opt/My Apps/run.sh", NULL);
        check("über 'ünïcödé ✓'", "über", "ünïcödé ✓", NULL);
}

static void test_unbalanced(void) {
        check_fail("\"abc", 0);
        check_fail("a 'b", 2);
        check_fail("x \"a\\\"", 2);             /* the escaped quote does not close */
        check_fail("ok \"fine\" 'not", 10);
        check_fail("abc\\", 3);                 /* trailing lone backslash */
        check_fail("'a'\"", 3);
}

static void test_bounds(void) {
        _cleanup_(freep) char *s = NULL;
        _cleanup_(strv_freep) char **l = NULL;
        const size_t n = 1000;
        size_t count = 0;

        /* Many one-letter words: the worst case of the word array. */
        s = malloc(n + 1);
        ASSERT_TRUE(s);
        for (size_t i = 0; i < n; i++)
                s[i] = i % 2 ? ' ' : 'x';
        s[n] = 0;
        ASSERT_OK(argv_split(s, &l, NULL));
        while (l[count])
                count++;
        ASSERT_EQ(count, n / 2);

        ASSERT_ERROR(argv_split(NULL, &l, NULL), EINVAL);
}

int main(void) {
        TEST_RUN(test_basic);
        TEST_RUN(test_quotes);
        TEST_RUN(test_backslash);
        TEST_RUN(test_no_expansion);
        TEST_RUN(test_powershell_seed);
        TEST_RUN(test_linux_examples);
        TEST_RUN(test_unbalanced);
        TEST_RUN(test_bounds);
        return 0;
}
