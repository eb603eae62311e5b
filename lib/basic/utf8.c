/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-8 validation and sanitising with the rule of sd-bus (see utf8.h): libc only, no allocation,
 * every function bounded by the lengths it is given.
 */

#include <string.h>

#include "utf8.h"

bool unichar_is_valid(uint32_t c) {
        if (c > 0x10ffff)
                return false;
        if (c >= 0xd800 && c <= 0xdfff)                 /* UTF-16 surrogates */
                return false;
        if (c >= 0xfdd0 && c <= 0xfdef)                 /* the non-characters in Arabic Presentation Forms-A */
                return false;
        if ((c & 0xfffe) == 0xfffe)                     /* the last two code points of every plane */
                return false;
        return true;
}

size_t utf8_decode(const char *s, size_t n, uint32_t *ret) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t c, min;
        size_t len;

        if (n == 0)
                return 0;

        if (p[0] < 0x80) {
                len = 1;
                c = p[0];
                min = 0;
        } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {    /* 0xc0 and 0xc1 only start overlong forms */
                len = 2;
                c = p[0] & 0x1f;
                min = 0x80;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                len = 3;
                c = p[0] & 0x0f;
                min = 0x800;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {    /* ≥ 0xf5 only starts code points above U+10FFFF */
                len = 4;
                c = p[0] & 0x07;
                min = 0x10000;
        } else
                return 0;                               /* a continuation byte, or never used */

        if (len > n)
                return 0;                               /* cut short */
        for (size_t i = 1; i < len; i++) {
                /* Also stops at a NUL terminator inside the expected sequence: NUL is no
                 * continuation byte, so nothing after it is read. */
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }

        if (c < min)                                    /* overlong: a shorter form exists */
                return 0;
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;

        if (ret)
                *ret = c;
        return len;
}

size_t utf8_char_length(const char *s, size_t n) {
        uint32_t c;
        size_t len;

        len = utf8_decode(s, n, &c);
        if (len == 0 || !unichar_is_valid(c))
                return 0;
        return len;
}

bool utf8_is_valid_n(const char *s, size_t n) {
        if (!s)
                return n == 0;

        for (size_t i = 0; i < n;) {
                size_t len;

                if (s[i] == 0)
                        return false;
                len = utf8_char_length(s + i, n - i);
                if (len == 0)
                        return false;
                i += len;
        }
        return true;
}

bool utf8_is_valid(const char *s) {
        if (!s)
                return false;

        /* The terminator bounds every sequence (see utf8_decode()), so SIZE_MAX as the length never
         * reads past it. */
        for (size_t i = 0; s[i] != 0;) {
                size_t len = utf8_char_length(s + i, SIZE_MAX - i);

                if (len == 0)
                        return false;
                i += len;
        }
        return true;
}

static bool is_control(uint32_t c, Utf8SanitizeFlags flags) {
        if (c == '\t' && (flags & UTF8_CONTROL_KEEP_TAB))
                return false;
        if (c < 0x20 || c == 0x7f)
                return true;
        return (flags & UTF8_CONTROL_C1) && c >= 0x80 && c <= 0x9f;
}

/* Appends the l bytes at p to ret when they fit before the terminator; returns false when not. */
static bool append(char *ret, size_t size, size_t *o, const void *p, size_t l) {
        if (l > size - 1 - *o)
                return false;
        memcpy(ret + *o, p, l);
        *o += l;
        return true;
}

size_t utf8_sanitize_copy(char *ret, size_t size, const char *s, size_t n, Utf8SanitizeFlags flags) {
        const char *replacement = (flags & UTF8_DROP_INVALID) ? "" :
                                  (flags & UTF8_REPLACE_FFFD) ? UTF8_REPLACEMENT_CHARACTER : "?";
        size_t o = 0;

        if (size == 0)
                return 0;

        for (size_t i = 0; i < n;) {
                uint32_t c;
                size_t len;
                bool ok;

                len = utf8_decode(s + i, n - i, &c);
                if (len == 0) {
                        /* Ill-formed: one replacement per byte, then resynchronise on the next. */
                        ok = append(ret, size, &o, replacement, strlen(replacement));
                        len = 1;
                } else if (!unichar_is_valid(c))
                        /* A non-character is well-formed: one replacement for all of it. */
                        ok = append(ret, size, &o, replacement, strlen(replacement));
                else if ((flags & (UTF8_DROP_CONTROL | UTF8_REPLACE_CONTROL)) && is_control(c, flags))
                        ok = (flags & UTF8_DROP_CONTROL) || append(ret, size, &o, "?", 1);
                else if (c == 0)
                        /* Kept controls, but a NUL would end the result early. */
                        ok = append(ret, size, &o, replacement, strlen(replacement));
                else
                        ok = append(ret, size, &o, s + i, len);
                if (!ok)
                        break;
                i += len;
        }

        ret[o] = 0;
        return o;
}
