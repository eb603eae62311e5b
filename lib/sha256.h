/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 through OpenSSL's EVP interface: of a buffer, of a string as lowercase hex (the S3 key's
 * user-id hash, docs/behaviour.md §4), and of everything readable from a file descriptor (the tamper
 * check).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (SHA256_DIGEST_SIZE * 2 + 1)

/* Writes the digest of buf[0..len) to ret. Returns 0 or -ENOMEM/-EIO. */
int sha256_buffer(const void *buf, size_t len, uint8_t ret[SHA256_DIGEST_SIZE]);

/* Writes lowercase hex of the digest of s (without its NUL) to ret. Returns 0 or -errno. */
int sha256_string_hex(const char *s, char ret[SHA256_HEX_SIZE]);

/* Hashes from fd's current offset (pread from offset 0, the offset is not moved) to EOF. */
int sha256_fd(int fd, uint8_t ret[SHA256_DIGEST_SIZE]);

/* Formats a digest as lowercase hex into ret. */
void sha256_to_hex(const uint8_t d[SHA256_DIGEST_SIZE], char ret[SHA256_HEX_SIZE]);
