/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one UTF-8 decoder of the tree, shared by the PAM module, the daemon, the uploader and the CLI
 * (lib/basic/ depends on libc only, so the module can link it).
 *
 * "Valid" here means what sd-bus accepts in a D-Bus string: well-formed UTF-8 (shortest form, no
 * UTF-16 surrogates, nothing above U+10FFFF) of a code point that is not a non-character
 * (U+FDD0…U+FDEF and U+xxFFFE/U+xxFFFF), and no NUL inside. sd-bus refuses to append or read any
 * other string, so a value that passes utf8_is_valid() can always be sent, and one that does not
 * would make the whole message fail: tests/unit/basic/test-utf8.c checks both rules against the
 * libsystemd it is built with.
 *
 * utf8_decode() is the plain well-formedness rule (any Unicode scalar value, non-characters
 * included), for text that is UTF-8 but never goes onto the bus as it is, such as config.json
 * (JSON allows non-characters, and can write them as \u escapes anyway).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT_CHARACTER "\xef\xbf\xbd"

/* True for a code point that may appear in a D-Bus string: ≤ U+10FFFF, not a surrogate, not a
 * non-character. (U+0000 is a code point too; the string functions below refuse NUL bytes.) */
bool unichar_is_valid(uint32_t c);

/* Decodes the well-formed UTF-8 sequence at s, of which n bytes are readable: returns its length
 * (1…4) and stores its code point in *ret (when ret is not NULL), or returns 0 when the bytes there
 * are no well-formed sequence (a stray continuation byte, a lead byte 0xc0, 0xc1 or ≥ 0xf5, a
 * sequence cut short by n, an overlong form, a surrogate, a code point above U+10FFFF) or n is 0.
 * Non-characters are well-formed and decoded. A NUL byte decodes as U+0000 of length 1. */
size_t utf8_decode(const char *s, size_t n, uint32_t *ret);

/* Like utf8_decode(), but 0 also for a code point that unichar_is_valid() refuses: the length of
 * the character at s when D-Bus can carry it. */
size_t utf8_char_length(const char *s, size_t n);

/* True when the NUL-terminated s is valid in the sense above (false for NULL). */
bool utf8_is_valid(const char *s);

/* True when the n bytes at s are valid in the sense above; an embedded NUL makes them invalid (a
 * D-Bus string cannot hold one). */
bool utf8_is_valid_n(const char *s, size_t n);

typedef enum Utf8SanitizeFlags {
        /* What becomes of an invalid byte, or of a whole non-character (one replacement each): by
         * default '?'; U+FFFD with this flag; nothing with UTF8_DROP_INVALID. */
        UTF8_REPLACE_FFFD       = 1 << 0,
        UTF8_DROP_INVALID       = 1 << 1,
        /* C0 controls (U+0000…U+001F) and DEL are dropped, or replaced by '?'. Without either flag
         * they are kept, except NUL, which is then treated as invalid (the result is a C string). */
        UTF8_DROP_CONTROL       = 1 << 2,
        UTF8_REPLACE_CONTROL    = 1 << 3,
        /* With one of the two above: TAB is not a control, and the C1 controls (U+0080…U+009F, of
         * which terminals act on some, such as the 8-bit CSI) are. */
        UTF8_CONTROL_KEEP_TAB   = 1 << 4,
        UTF8_CONTROL_C1         = 1 << 5,
} Utf8SanitizeFlags;

/* Copies the n bytes at s into ret (size bytes, size ≥ 1) as valid UTF-8 (utf8_is_valid() holds for
 * the result), NUL-terminated, treating invalid bytes, non-characters and controls as flags says.
 * Stops before the first character (or replacement) that would not fit, so the result is never cut
 * inside a character. Returns the length of the result in bytes (0 when size is 0, and then nothing
 * is written). */
size_t utf8_sanitize_copy(char *ret, size_t size, const char *s, size_t n, Utf8SanitizeFlags flags);
