/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of lib/sha256.c: FIPS 180-2 vectors, the docs/behaviour.md §4 user-id vector, and hashing a
 * file descriptor without moving its offset.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "sha256.h"
#include "tests.h"

static void test_vectors(void) {
        char hex[SHA256_HEX_SIZE];

        ASSERT_OK(sha256_string_hex("", hex));
        ASSERT_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        ASSERT_OK(sha256_string_hex("abc", hex));
        ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        ASSERT_OK(sha256_string_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex));
        ASSERT_STREQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_spec_vector(void) {
        char hex[SHA256_HEX_SIZE];

        /* docs/behaviour.md §4: the S3 key's user-id hash. */
        ASSERT_OK(sha256_string_hex("testuser@mydomain.com", hex));
        ASSERT_STREQ(hex, "a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13");
}

static void test_buffer_and_hex(void) {
        uint8_t d[SHA256_DIGEST_SIZE];
        char hex[SHA256_HEX_SIZE];

        ASSERT_OK(sha256_buffer("abc", 3, d));
        sha256_to_hex(d, hex);
        ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        ASSERT_OK(sha256_buffer(NULL, 0, d));
        sha256_to_hex(d, hex);
        ASSERT_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        ASSERT_ERROR(sha256_buffer(NULL, 1, d), EINVAL);
        ASSERT_ERROR(sha256_string_hex(NULL, hex), EINVAL);
}

static void test_fd(void) {
        char path[] = "/tmp/test-sha256-XXXXXX";
        _cleanup_(closep) int fd = -EBADF;
        uint8_t d[SHA256_DIGEST_SIZE], e[SHA256_DIGEST_SIZE];
        char hex[SHA256_HEX_SIZE];
        _cleanup_(freep) char *big = NULL;
        const size_t big_size = 300 * 1000 + 17;        /* several read chunks */

        fd = mkostemp(path, O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(unlink(path));

        ASSERT_OK(sha256_fd(fd, d));
        sha256_to_hex(d, hex);
        ASSERT_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

        big = malloc(big_size);
        ASSERT_TRUE(big);
        for (size_t i = 0; i < big_size; i++)
                big[i] = (char) (i * 7 + 3);
        ASSERT_EQ(write(fd, big, big_size), (ssize_t) big_size);

        /* The whole file is hashed (pread from 0) and the offset stays where it was. */
        ASSERT_OK(sha256_fd(fd, d));
        ASSERT_OK(sha256_buffer(big, big_size, e));
        ASSERT_TRUE(memcmp(d, e, sizeof(d)) == 0);
        ASSERT_EQ(lseek(fd, 0, SEEK_CUR), (off_t) big_size);

        ASSERT_ERROR(sha256_fd(-1, d), EBADF);
}

int main(void) {
        TEST_RUN(test_vectors);
        TEST_RUN(test_spec_vector);
        TEST_RUN(test_buffer_and_hex);
        TEST_RUN(test_fd);
        return 0;
}
