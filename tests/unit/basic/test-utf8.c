/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/basic/utf8.c: the edge cases of the validator and the sanitiser, and a cross-check against the
 * libsystemd we link: sd-bus must accept exactly the strings utf8_is_valid() accepts, because the
 * module and the daemon rely on "valid" meaning "can be sent" (a string sd-bus refuses makes the whole
 * call fail, which in the module means failing open).
 */

#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "tests.h"
#include "macro.h"
#include "utf8.h"


/* One case: bytes (with their length, so that NULs and cut sequences can be written) and whether
 * they are valid (sd-bus's rule) and well-formed (utf8_decode() over all of them). */
typedef struct Case {
        const char *name;
        const char *s;
        size_t n;
        bool valid;
        bool well_formed;
} Case;

#define C(name, lit, valid, wf) { name, lit, sizeof(lit) - 1, valid, wf }

static const Case cases[] = {
        C("empty", "", true, true),
        C("ascii", "alice@example", true, true),
        C("tab, newline, DEL", "a\tb\nc\x7f", true, true),
        C("U+0080 (C1)", "\xc2\x80", true, true),
        C("é", "caf\xc3\xa9", true, true),
        C("U+07FF", "\xdf\xbf", true, true),
        C("U+0800", "\xe0\xa0\x80", true, true),
        C("U+D7FF", "\xed\x9f\xbf", true, true),
        C("U+E000", "\xee\x80\x80", true, true),
        C("U+FDCF", "\xef\xb7\x8f", true, true),
        C("U+FDD0 (non-character)", "\xef\xb7\x90", false, true),
        C("U+FDEF (non-character)", "\xef\xb7\xaf", false, true),
        C("U+FDF0", "\xef\xb7\xb0", true, true),
        C("U+FFFD", "\xef\xbf\xbd", true, true),
        C("U+FFFE (non-character)", "\xef\xbf\xbe", false, true),
        C("U+FFFF (non-character)", "\xef\xbf\xbf", false, true),
        C("U+FFFE inside text", "host\xef\xbf\xbe.example", false, true),
        C("U+10000", "\xf0\x90\x80\x80", true, true),
        C("U+1F600", "\xf0\x9f\x98\x80", true, true),
        C("U+1FFFE (non-character)", "\xf0\x9f\xbf\xbe", false, true),
        C("U+10FFFD", "\xf4\x8f\xbf\xbd", true, true),
        C("U+10FFFE (non-character)", "\xf4\x8f\xbf\xbe", false, true),
        C("U+10FFFF (non-character)", "\xf4\x8f\xbf\xbf", false, true),
        C("U+110000", "\xf4\x90\x80\x80", false, false),
        C("lead 0xf5", "\xf5\x80\x80\x80", false, false),
        C("lead 0xff", "\xff", false, false),
        C("surrogate U+D800", "\xed\xa0\x80", false, false),
        C("surrogate U+DFFF", "\xed\xbf\xbf", false, false),
        C("surrogate pair (CESU-8)", "\xed\xa0\xbd\xed\xb8\x80", false, false),
        C("overlong NUL", "\xc0\x80", false, false),
        C("overlong '/'", "\xc0\xaf", false, false),
        C("overlong 0xc1", "\xc1\xbf", false, false),
        C("overlong 3 bytes", "\xe0\x9f\xbf", false, false),
        C("overlong 4 bytes", "\xf0\x8f\xbf\xbf", false, false),
        C("stray continuation", "a\x80z", false, false),
        C("latin-1 user name", "j\xf6rg", false, false),
        C("truncated 2", "\xc3", false, false),
        C("truncated 3", "\xe2\x82", false, false),
        C("truncated 4", "\xf0\x9f\x98", false, false),
        C("lead then ascii", "\xe2(a", false, false),
        C("5-byte form", "\xf8\x88\x80\x80\x80", false, false),
};

static bool sd_bus_accepts(sd_bus *bus, const char *s) {
        sd_bus_message *m = NULL;
        int r;

        /* A new message each time: a failed append poisons the message. */
        ASSERT_OK(sd_bus_message_new_signal(bus, &m, "/org/example", "org.example.Test", "Probe"));
        r = sd_bus_message_append(m, "s", s);
        sd_bus_message_unref(m);
        if (r >= 0)
                return true;
        ASSERT_EQ(r, -EINVAL);
        return false;
}

/* A bus object that can build messages without a bus daemon: one end of a socket pair, started,
 * so it is past BUS_UNSET (message constructors refuse an unstarted bus). Nothing is ever sent. */
static sd_bus *message_factory(int fds[static 2]) {
        sd_bus *bus = NULL;

        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0 ? -errno : 0);
        ASSERT_OK(sd_bus_new(&bus));
        ASSERT_OK(sd_bus_set_fd(bus, fds[0], fds[0]));
        ASSERT_OK(sd_bus_start(bus));
        return bus;
}

static void test_cases(void) {
        int fds[2];
        sd_bus *bus = message_factory(fds);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                char z[64];
                bool wf = true;

                fprintf(stderr, "   %s\n", c->name);
                ASSERT_TRUE(c->n < sizeof z);
                memcpy(z, c->s, c->n);
                z[c->n] = 0;

                ASSERT_EQ(utf8_is_valid_n(c->s, c->n), c->valid);
                ASSERT_EQ(utf8_is_valid(z), c->valid);
                ASSERT_EQ(sd_bus_accepts(bus, z), c->valid);

                for (size_t k = 0; k < c->n;) {
                        size_t l = utf8_decode(c->s + k, c->n - k, NULL);
                        if (l == 0) {
                                wf = false;
                                break;
                        }
                        k += l;
                }
                ASSERT_EQ(wf, c->well_formed);
        }

        sd_bus_close_unref(bus);
        close(fds[1]);
}

/* Every code point, encoded, agrees with sd-bus, plus every 1- and 2-byte sequence and the 3- and
 * 4-byte sequences around the boundaries: nothing where the two rules could drift apart is left out. */
static size_t encode(uint32_t c, char out[static 5]) {
        size_t l;

        if (c < 0x80) {
                out[0] = (char) c;
                l = 1;
        } else if (c < 0x800) {
                out[0] = (char) (0xc0 | (c >> 6));
                out[1] = (char) (0x80 | (c & 0x3f));
                l = 2;
        } else if (c < 0x10000) {
                out[0] = (char) (0xe0 | (c >> 12));
                out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                l = 3;
        } else {
                out[0] = (char) (0xf0 | (c >> 18));
                out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
                out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[3] = (char) (0x80 | (c & 0x3f));
                l = 4;
        }
        out[l] = 0;
        return l;
}

static void test_all_code_points_against_sd_bus(void) {
        int fds[2];
        sd_bus *bus = message_factory(fds);
        size_t n_valid = 0;

        for (uint32_t c = 1; c <= 0x13ffff; c++) {
                char b[5];
                size_t l = encode(c, b);
                bool v = utf8_is_valid(b);
                uint32_t d;

                if (v != sd_bus_accepts(bus, b)) {
                        fprintf(stderr, "U+%04X: utf8_is_valid()=%d, sd-bus disagrees\n", c, v);
                        abort();
                }
                ASSERT_EQ(v, unichar_is_valid(c));
                if (c <= 0x10ffff && !(c >= 0xd800 && c <= 0xdfff)) {
                        ASSERT_EQ(utf8_decode(b, l, &d), l);
                        ASSERT_EQ(d, c);
                } else
                        ASSERT_EQ(utf8_decode(b, l, NULL), 0);
                n_valid += v;
        }
        /* U+0001…U+10FFFF, minus 2048 surrogates, the 32 of U+FDD0…U+FDEF and the last 2 of each of
         * the 17 planes. */
        ASSERT_EQ(n_valid, 0x10ffff - 2048 - 32 - 2 * 17);

        /* All two-byte sequences, and every three-byte sequence with a lead of 0xe0, 0xed or 0xef
         * and four-byte ones with 0xf0, 0xf4, 0xf5: overlongs, surrogates and bad continuations. */
        for (unsigned a = 0x01; a <= 0xff; a++)
                for (unsigned b = 0x01; b <= 0xff; b++) {
                        char s[3] = { (char) a, (char) b, 0 };
                        ASSERT_EQ(utf8_is_valid(s), sd_bus_accepts(bus, s));
                }
        for (unsigned a = 0xe0; a <= 0xf5; a++)
                for (unsigned b = 0x70; b <= 0xc0; b++)
                        for (unsigned c = 0x70; c <= 0xc0; c += 0x0f) {
                                char s3[4] = { (char) a, (char) b, (char) c, 0 };
                                char s4[5] = { (char) a, (char) b, (char) c, (char) 0x80, 0 };
                                ASSERT_EQ(utf8_is_valid(s3), sd_bus_accepts(bus, s3));
                                ASSERT_EQ(utf8_is_valid(s4), sd_bus_accepts(bus, s4));
                        }

        sd_bus_close_unref(bus);
        close(fds[1]);
}

static void test_embedded_nul(void) {
        ASSERT_TRUE(!utf8_is_valid_n("a\0b", 3));
        ASSERT_TRUE(utf8_is_valid_n("a\0b", 1));
        ASSERT_TRUE(utf8_is_valid("a\0\xff"));          /* a C string ends at its NUL */
        ASSERT_TRUE(!utf8_is_valid(NULL));
        ASSERT_TRUE(utf8_is_valid_n(NULL, 0));
        /* A sequence cut by the terminator is invalid, and nothing after the terminator is read. */
        ASSERT_TRUE(!utf8_is_valid("\xe2\x82"));
        ASSERT_EQ(utf8_decode("\xe2\0\xac", 3, NULL), 0);
        ASSERT_EQ(utf8_decode("x", 0, NULL), 0);
}

static void test_sanitize(void) {
        char b[32];

        /* Default: '?' per invalid byte, one per non-character, controls kept. */
        ASSERT_EQ(utf8_sanitize_copy(b, sizeof b, "a\xff" "b", 3, 0), 3);
        ASSERT_STREQ(b, "a?b");
        utf8_sanitize_copy(b, sizeof b, "x\xef\xbf\xbey\xef\xb7\x90z", 9, 0);
        ASSERT_STREQ(b, "x?y?z");
        utf8_sanitize_copy(b, sizeof b, "\xc0\xaf", 2, 0);
        ASSERT_STREQ(b, "??");
        utf8_sanitize_copy(b, sizeof b, "\xed\xa0\x80", 3, 0);
        ASSERT_STREQ(b, "???");
        utf8_sanitize_copy(b, sizeof b, "\xf4\x90\x80\x80!", 5, 0);
        ASSERT_STREQ(b, "????" "!");
        utf8_sanitize_copy(b, sizeof b, "tab\there\x1b[0m", 12, 0);
        ASSERT_STREQ(b, "tab\there\x1b[0m");
        utf8_sanitize_copy(b, sizeof b, "a\0b", 3, 0);
        ASSERT_STREQ(b, "a?b");
        utf8_sanitize_copy(b, sizeof b, "\xe2\x82", 2, 0);      /* truncated at the end */
        ASSERT_STREQ(b, "??");

        /* U+FFFD, dropping. */
        utf8_sanitize_copy(b, sizeof b, "bad\xff!", 5, UTF8_REPLACE_FFFD);
        ASSERT_STREQ(b, "bad\xef\xbf\xbd!");
        utf8_sanitize_copy(b, sizeof b, "\xef\xbf\xbf", 3, UTF8_REPLACE_FFFD);
        ASSERT_STREQ(b, "\xef\xbf\xbd");
        utf8_sanitize_copy(b, sizeof b, "r\xef\xbf\xbeh\xffo\xf4\x8f\xbf\xbfst", 14, UTF8_DROP_INVALID);
        ASSERT_STREQ(b, "rhost");

        /* Controls. */
        utf8_sanitize_copy(b, sizeof b, "\x1b[31mred\r\n\x7f", 11, UTF8_DROP_CONTROL);
        ASSERT_STREQ(b, "[31mred");
        utf8_sanitize_copy(b, sizeof b, "a\tb\x01", 4, UTF8_REPLACE_CONTROL | UTF8_CONTROL_KEEP_TAB);
        ASSERT_STREQ(b, "a\tb?");
        utf8_sanitize_copy(b, sizeof b, "a\tb", 3, UTF8_DROP_CONTROL);
        ASSERT_STREQ(b, "ab");
        utf8_sanitize_copy(b, sizeof b, "\xc2\x9b" "1m\xc2\xa0", 6, UTF8_REPLACE_CONTROL | UTF8_CONTROL_C1);
        ASSERT_STREQ(b, "?1m\xc2\xa0");
        utf8_sanitize_copy(b, sizeof b, "\xc2\x9b", 2, UTF8_DROP_CONTROL);
        ASSERT_STREQ(b, "\xc2\x9b");                           /* C1 only with UTF8_CONTROL_C1 */
        utf8_sanitize_copy(b, sizeof b, "a\0b", 3, UTF8_DROP_CONTROL);
        ASSERT_STREQ(b, "ab");

        /* Cut only between characters: "ab" + "é" + "é" into 5 bytes (4 + NUL) keeps "abé". */
        ASSERT_EQ(utf8_sanitize_copy(b, 5, "ab\xc3\xa9\xc3\xa9", 6, 0), 4);
        ASSERT_STREQ(b, "ab\xc3\xa9");
        ASSERT_EQ(utf8_sanitize_copy(b, 4, "ab\xc3\xa9", 4, 0), 2);
        ASSERT_STREQ(b, "ab");
        ASSERT_EQ(utf8_sanitize_copy(b, 5, "a\xf0\x9f\x98\x80", 5, 0), 1);
        ASSERT_STREQ(b, "a");
        /* A replacement that does not fit is not cut either. */
        ASSERT_EQ(utf8_sanitize_copy(b, 4, "ab\xff", 3, UTF8_REPLACE_FFFD), 2);
        ASSERT_STREQ(b, "ab");
        ASSERT_EQ(utf8_sanitize_copy(b, 1, "abc", 3, 0), 0);
        ASSERT_STREQ(b, "");
        b[0] = 'X';
        ASSERT_EQ(utf8_sanitize_copy(b, 0, "abc", 3, 0), 0);
        ASSERT_EQ(b[0], 'X');
}

/* The result of the sanitiser is always valid, whatever the input and flags: every two- and
 * three-byte input (with a valid prefix), into buffers of every small size. */
static void test_sanitize_always_valid(void) {
        static const Utf8SanitizeFlags flag_sets[] = {
                0, UTF8_REPLACE_FFFD, UTF8_DROP_INVALID, UTF8_DROP_CONTROL,
                UTF8_REPLACE_CONTROL | UTF8_CONTROL_KEEP_TAB | UTF8_CONTROL_C1 | UTF8_REPLACE_FFFD,
        };

        for (size_t f = 0; f < ELEMENTSOF(flag_sets); f++)
                for (unsigned a = 0; a <= 0xff; a++)
                        for (unsigned b = 0x70; b <= 0xff; b++) {
                                char in[4] = { (char) a, (char) b, (char) 0xbe, 'z' }, out[8];

                                for (size_t size = 1; size <= sizeof out; size++) {
                                        size_t l;

                                        l = utf8_sanitize_copy(out, size, in, sizeof in, flag_sets[f]);
                                        ASSERT_TRUE(l < size);
                                        ASSERT_EQ(strlen(out), l);
                                        ASSERT_TRUE(utf8_is_valid(out));
                                }
                        }
}

int main(void) {
        TEST_RUN(test_cases);
        TEST_RUN(test_all_code_points_against_sd_bus);
        TEST_RUN(test_embedded_nul);
        TEST_RUN(test_sanitize);
        TEST_RUN(test_sanitize_always_valid);
        return 0;
}
