/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny assertion header for the test binaries: no framework, just checks that print where and
 * what failed and abort, so meson sees a failure with a readable message.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT_TRUE(expr)                                                                        \
        do {                                                                                     \
                if (!(expr)) {                                                                   \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

#define ASSERT_EQ(a, b)                                                                          \
        do {                                                                                     \
                long long _a_ = (long long) (a), _b_ = (long long) (b);                          \
                if (_a_ != _b_) {                                                                \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
                                #a, #b, _a_, _b_);                                               \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                       \
        do {                                                                                     \
                const char *_a_ = (a), *_b_ = (b);                                               \
                if (!_a_ || !_b_ || strcmp(_a_, _b_) != 0) {                                     \
                        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
                                #a, #b, _a_ ?: "(null)", _b_ ?: "(null)");                       \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

/* For functions returning 0 / -errno. */
#define ASSERT_OK(expr)                                                                          \
        do {                                                                                     \
                int _r_ = (expr);                                                                \
                if (_r_ < 0) {                                                                   \
                        fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,     \
                                strerror(-_r_));                                                 \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

#define ASSERT_ERROR(expr, err) ASSERT_EQ((expr), -(err))

/* Each test is a function; TEST_RUN prints its name so a failure's context is obvious. */
#define TEST_RUN(fn)                                                                             \
        do {                                                                                     \
                fprintf(stderr, "== %s\n", #fn);                                                 \
                fn();                                                                            \
        } while (0)
