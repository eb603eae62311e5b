/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 through OpenSSL's EVP interface (never a hand-written hash): buffers, strings as hex for
 * the S3 key, and whole files by descriptor for the tamper check.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cleanup.h"
#include "fileio.h"
#include "sha256.h"

DEFINE_POINTER_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free, evp_md_ctx_freep);

/* Allocates a context initialised for SHA-256. */
static int sha256_ctx_new(EVP_MD_CTX **ret) {
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = NULL;

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                return -EIO;

        *ret = TAKE_PTR(ctx);
        return 0;
}

static int sha256_ctx_finish(EVP_MD_CTX *ctx, uint8_t ret[SHA256_DIGEST_SIZE]) {
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (EVP_DigestFinal_ex(ctx, d, &n) != 1 || n != SHA256_DIGEST_SIZE)
                return -EIO;
        for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++)
                ret[i] = d[i];
        return 0;
}

int sha256_buffer(const void *buf, size_t len, uint8_t ret[SHA256_DIGEST_SIZE]) {
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = NULL;
        int r;

        if (!buf && len > 0)
                return -EINVAL;

        r = sha256_ctx_new(&ctx);
        if (r < 0)
                return r;
        if (len > 0 && EVP_DigestUpdate(ctx, buf, len) != 1)
                return -EIO;

        return sha256_ctx_finish(ctx, ret);
}

void sha256_to_hex(const uint8_t d[SHA256_DIGEST_SIZE], char ret[SHA256_HEX_SIZE]) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
                ret[2 * i] = hex[d[i] >> 4];
                ret[2 * i + 1] = hex[d[i] & 0xF];
        }
        ret[SHA256_HEX_SIZE - 1] = 0;
}

int sha256_string_hex(const char *s, char ret[SHA256_HEX_SIZE]) {
        uint8_t d[SHA256_DIGEST_SIZE];
        int r;

        if (!s)
                return -EINVAL;

        r = sha256_buffer(s, strlen(s), d);
        if (r < 0)
                return r;

        sha256_to_hex(d, ret);
        return 0;
}

int sha256_fd(int fd, uint8_t ret[SHA256_DIGEST_SIZE]) {
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = NULL;
        uint8_t buf[64 * 1024];
        off_t offset = 0;
        int r;

        if (fd < 0)
                return -EBADF;

        r = sha256_ctx_new(&ctx);
        if (r < 0)
                return r;

        /* pread() so the descriptor's own offset stays where it is: the daemon hashes the very
         * descriptor it later passes to fexecve(). */
        for (;;) {
                ssize_t n;

                n = loop_pread(fd, buf, sizeof(buf), offset);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                if (EVP_DigestUpdate(ctx, buf, (size_t) n) != 1)
                        return -EIO;
                offset += n;
        }

        return sha256_ctx_finish(ctx, ret);
}
