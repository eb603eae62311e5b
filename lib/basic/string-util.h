/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Control characters in text (header-only, libc only; lib/basic/ is dependency-free).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True for an ASCII control character: U+0000…U+001F and DEL. */
static inline bool char_is_cc(char c) {
        return (unsigned char) c < 0x20 || c == 0x7f;
}

/* True when the first n bytes of s contain a control character. */
static inline bool memory_has_cc(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (char_is_cc(s[i]))
                        return true;
        return false;
}

/* True when the NUL-terminated s contains a control character (other than its end). */
static inline bool string_has_cc(const char *s) {
        for (; *s; s++)
                if (char_is_cc(*s))
                        return true;
        return false;
}
