/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of the output line splitter, the last-line tracking and UTF-8 sanitising
 * (daemon/output.c): partial lines across feeds, over-long lines in pieces, CRLF kept, empty lines,
 * trailing partial line at EOF.
 */

#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "tests.h"

typedef struct Collected {
        char *lines[64];
        size_t lens[64];
        size_t n;
} Collected;

static void collect(const char *line, size_t len, void *userdata) {
        Collected *c = userdata;

        ASSERT_TRUE(c->n < sizeof c->lines / sizeof c->lines[0]);
        c->lines[c->n] = malloc(len + 1);
        ASSERT_TRUE(c->lines[c->n]);
        memcpy(c->lines[c->n], line, len);
        c->lines[c->n][len] = 0;
        c->lens[c->n] = len;
        c->n++;
}

static void collected_done(Collected *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->lines[i]);
        c->n = 0;
}

static void test_simple(void) {
        LineSplitter s = {};
        Collected c = {};

        ASSERT_OK(line_splitter_feed(&s, "a\nbb\n\nccc", 9, collect, &c));
        ASSERT_EQ(c.n, 3u);
        ASSERT_STREQ(c.lines[0], "a");
        ASSERT_STREQ(c.lines[1], "bb");
        ASSERT_STREQ(c.lines[2], "");           /* empty lines are lines */

        /* The partial line continues across feeds. */
        ASSERT_OK(line_splitter_feed(&s, "dd", 2, collect, &c));
        ASSERT_EQ(c.n, 3u);
        ASSERT_OK(line_splitter_feed(&s, "e\nf", 3, collect, &c));
        ASSERT_EQ(c.n, 4u);
        ASSERT_STREQ(c.lines[3], "cccdde");

        /* A trailing partial line is handed on at EOF, once. */
        line_splitter_flush(&s, collect, &c);
        ASSERT_EQ(c.n, 5u);
        ASSERT_STREQ(c.lines[4], "f");
        line_splitter_flush(&s, collect, &c);
        ASSERT_EQ(c.n, 5u);

        collected_done(&c);
        line_splitter_done(&s);
}

static void test_crlf_and_binary(void) {
        LineSplitter s = {};
        Collected c = {};
        const char data[] = "win\r\nnul\0byte\n%s%n\n";

        ASSERT_OK(line_splitter_feed(&s, data, sizeof data - 1, collect, &c));
        ASSERT_EQ(c.n, 3u);
        ASSERT_EQ(c.lens[0], 4u);
        ASSERT_TRUE(memcmp(c.lines[0], "win\r", 4) == 0);   /* CR kept as written */
        ASSERT_EQ(c.lens[1], 8u);
        ASSERT_TRUE(memcmp(c.lines[1], "nul\0byte", 8) == 0);
        ASSERT_STREQ(c.lines[2], "%s%n");

        collected_done(&c);
        line_splitter_done(&s);
}

static void test_long_lines(void) {
        LineSplitter s = {};
        Collected c = {};
        size_t big = 2 * OUTPUT_LINE_MAX + 100;
        char *buf = malloc(big + 1);

        ASSERT_TRUE(buf);
        memset(buf, 'x', big);
        buf[big] = '\n';

        /* In one feed: 16K, 16K, 100. */
        ASSERT_OK(line_splitter_feed(&s, buf, big + 1, collect, &c));
        ASSERT_EQ(c.n, 3u);
        ASSERT_EQ(c.lens[0], OUTPUT_LINE_MAX);
        ASSERT_EQ(c.lens[1], OUTPUT_LINE_MAX);
        ASSERT_EQ(c.lens[2], 100u);
        collected_done(&c);

        /* Byte by byte gives the same pieces. */
        for (size_t i = 0; i < big + 1; i++)
                ASSERT_OK(line_splitter_feed(&s, buf + i, 1, collect, &c));
        ASSERT_EQ(c.n, 3u);
        ASSERT_EQ(c.lens[0], OUTPUT_LINE_MAX);
        ASSERT_EQ(c.lens[1], OUTPUT_LINE_MAX);
        ASSERT_EQ(c.lens[2], 100u);
        collected_done(&c);

        /* Exactly the bound, then '\n': one line, no empty line after it (also when split). */
        buf[OUTPUT_LINE_MAX] = '\n';
        ASSERT_OK(line_splitter_feed(&s, buf, OUTPUT_LINE_MAX + 1, collect, &c));
        ASSERT_EQ(c.n, 1u);
        ASSERT_EQ(c.lens[0], OUTPUT_LINE_MAX);
        collected_done(&c);
        ASSERT_OK(line_splitter_feed(&s, buf, 10, collect, &c));
        ASSERT_OK(line_splitter_feed(&s, buf + 10, OUTPUT_LINE_MAX - 10, collect, &c));
        ASSERT_OK(line_splitter_feed(&s, "\n", 1, collect, &c));
        ASSERT_EQ(c.n, 1u);
        ASSERT_EQ(c.lens[0], OUTPUT_LINE_MAX);
        collected_done(&c);

        /* Twice the bound: two pieces, no empty third. */
        memset(buf, 'y', 2 * OUTPUT_LINE_MAX);
        buf[2 * OUTPUT_LINE_MAX] = '\n';
        ASSERT_OK(line_splitter_feed(&s, buf, 2 * OUTPUT_LINE_MAX + 1, collect, &c));
        ASSERT_EQ(c.n, 2u);
        collected_done(&c);

        /* Twice the bound without newline, then EOF: two pieces at feed, nothing at flush. */
        ASSERT_OK(line_splitter_feed(&s, buf, 2 * OUTPUT_LINE_MAX, collect, &c));
        ASSERT_EQ(c.n, 2u);
        line_splitter_flush(&s, collect, &c);
        ASSERT_EQ(c.n, 2u);
        /* ... and the next line is a line of its own. */
        ASSERT_OK(line_splitter_feed(&s, "z\n", 2, collect, &c));
        ASSERT_EQ(c.n, 3u);
        ASSERT_STREQ(c.lines[2], "z");
        collected_done(&c);

        free(buf);
        line_splitter_done(&s);
}

static void test_last_line(void) {
        char last[OUTPUT_LAST_LINE_MAX + 1] = "";
        char big[1000];

        ASSERT_TRUE(last_line_update(last, "hello", 5));
        ASSERT_STREQ(last, "hello");
        /* Empty, or only controls: keeps the previous one. */
        ASSERT_TRUE(!last_line_update(last, "", 0));
        ASSERT_TRUE(!last_line_update(last, "\r\t\x1b", 3));
        ASSERT_STREQ(last, "hello");
        /* Controls stripped (an ANSI colour code leaves its printable part). */
        ASSERT_TRUE(last_line_update(last, "\x1b[31mred\x1b[0m\r", strlen("\x1b[31mred\x1b[0m\r")));
        ASSERT_STREQ(last, "[31mred[0m");
        /* Invalid UTF-8 replaced, valid kept. */
        ASSERT_TRUE(last_line_update(last, "gr\xc3\xbc\xff\xc0\xaf!", 8));
        ASSERT_STREQ(last, "gr\xc3\xbc\x3f\x3f\x3f!");
        /* Bounded, never cutting a character: 'ä' is 2 bytes, 255 bytes of them fit 127. */
        for (size_t i = 0; i < sizeof big; i += 2) {
                big[i] = '\xc3';
                big[i + 1] = '\xa4';
        }
        ASSERT_TRUE(last_line_update(last, big, sizeof big));
        ASSERT_EQ(strlen(last), 256u);
        /* A stray continuation byte becomes '?', the rest still fits whole characters only. */
        big[0] = 'a';
        ASSERT_TRUE(last_line_update(last, big, sizeof big - 1));
        ASSERT_EQ(strlen(last), 256u);
        ASSERT_TRUE(strncmp(last, "a?\xc3\xa4", 4) == 0);
        /* Leading control characters do not count against the bound. */
        memset(big, '\r', 600);
        memcpy(big + 600, "tail", 4);
        ASSERT_TRUE(last_line_update(last, big, 604));
        ASSERT_STREQ(last, "tail");
}

static void test_utf8(void) {
        char out[16];

        ASSERT_EQ(utf8_sanitize(out, sizeof out, "abc", 3, false), 3u);
        ASSERT_STREQ(out, "abc");
        /* Surrogate (ED A0 80) and overlong (E0 80 80) are invalid byte by byte. */
        utf8_sanitize(out, sizeof out, "\xed\xa0\x80|\xe0\x80\x80", 7, false);
        ASSERT_STREQ(out, "???|???");
        /* Controls kept without strip_control, dropped with. */
        utf8_sanitize(out, sizeof out, "a\tb", 3, false);
        ASSERT_STREQ(out, "a\tb");
        utf8_sanitize(out, sizeof out, "a\tb", 3, true);
        ASSERT_STREQ(out, "ab");
        /* 4-byte character does not fit into the last 3 bytes. */
        ASSERT_EQ(utf8_sanitize(out, 5, "a\xf0\x9f\x98\x80", 5, false), 1u);
        ASSERT_STREQ(out, "a");
}

int main(void) {
        TEST_RUN(test_simple);
        TEST_RUN(test_crlf_and_binary);
        TEST_RUN(test_long_lines);
        TEST_RUN(test_last_line);
        TEST_RUN(test_utf8);
        return 0;
}
