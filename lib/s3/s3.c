/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * S3 URL building, error code extraction, outcome classification and backoff (see s3.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"

static bool char_is_unreserved(unsigned char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '.' || c == '_' || c == '~';
}

int s3_key_escape(const char *key, char **ret) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(key);
        char *out, *q;

        if (n > SIZE_MAX / 3 - 1)
                return -ENOMEM;
        out = q = malloc(n * 3 + 1);
        if (!out)
                return -ENOMEM;

        for (const unsigned char *p = (const unsigned char *) key; *p; p++) {
                if (char_is_unreserved(*p) || *p == '/')
                        *q++ = (char) *p;
                else {
                        *q++ = '%';
                        *q++ = hex[*p >> 4];
                        *q++ = hex[*p & 15];
                }
        }
        *q = 0;

        *ret = out;
        return 0;
}

int s3_object_url(const char *endpoint, const char *region, const char *bucket, const char *key, char **ret) {
        char *escaped = NULL, *url = NULL, *default_endpoint = NULL;
        size_t elen;
        int r;

        if (!endpoint) {
                if (asprintf(&default_endpoint, "https://s3.%s.amazonaws.com", region) < 0)
                        return -ENOMEM;
                endpoint = default_endpoint;
        }
        if (strncmp(endpoint, "https://", 8) != 0 && strncmp(endpoint, "http://", 7) != 0) {
                free(default_endpoint);
                return -EINVAL;
        }

        r = s3_key_escape(key, &escaped);
        if (r < 0) {
                free(default_endpoint);
                return r;
        }

        elen = strlen(endpoint);
        while (elen > 0 && endpoint[elen - 1] == '/')
                elen--;

        /* The bucket name is restricted to [a-z0-9.-] by the settings parser: nothing to encode. */
        if (asprintf(&url, "%.*s/%s/%s", (int) elen, endpoint, bucket, escaped) < 0)
                url = NULL;
        free(escaped);
        free(default_endpoint);
        if (!url)
                return -ENOMEM;

        *ret = url;
        return 0;
}

bool s3_error_code_parse(const char *body, size_t len, char ret[S3_ERROR_CODE_MAX]) {
        static const char open_tag[] = "<Code>";
        const char *p, *end = body + len;
        size_t n = 0;

        if (!body)
                return false;
        p = memmem(body, len, open_tag, strlen(open_tag));
        if (!p)
                return false;
        p += strlen(open_tag);

        for (; p < end && *p != '<'; p++) {
                char c = *p;

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-'))
                        return false;
                if (n >= S3_ERROR_CODE_MAX - 1)
                        return false;
                ret[n++] = c;
        }
        if (p >= end || n == 0)
                return false;

        ret[n] = 0;
        return true;
}

static bool code_is(const char *code, const char *s) {
        return code && strcmp(code, s) == 0;
}

S3Outcome s3_classify(CURLcode result, long http_status, const char *error_code, bool with_session_token) {
        switch (result) {
        case CURLE_OK:
                break;
        /* Our side of this one transfer: the spool file could not be read (shrunk, I/O error), or the
         * body could not be sent again. Other entries are not affected. */
        case CURLE_READ_ERROR:
        case CURLE_ABORTED_BY_CALLBACK:
        case CURLE_SEND_FAIL_REWIND:
                return S3_OUTCOME_ENTRY_RETRY;
        /* No answer at all (DNS, connect, TLS, stalled, connection reset): S3 is away for everybody. */
        default:
                return S3_OUTCOME_TRANSIENT;
        }

        if (http_status >= 200 && http_status < 300)
                return S3_OUTCOME_SUCCESS;

        /* Server trouble and throttling (503 SlowDown, 429) are "come back later", for every entry. */
        if (http_status >= 500 || http_status == 429)
                return S3_OUTCOME_TRANSIENT;

        /* Credentials: wrong or expired keys and tokens are fixed by fetching them again (IMDS) or by
         * the operator; either way the entry must wait, not be dropped. */
        if (http_status == 401 || http_status == 403 || code_is(error_code, "ExpiredToken") ||
            code_is(error_code, "TokenRefreshRequired") || code_is(error_code, "InvalidToken") ||
            code_is(error_code, "InvalidAccessKeyId") || code_is(error_code, "SignatureDoesNotMatch"))
                return S3_OUTCOME_AUTH;
        if (with_session_token && http_status == 400 && code_is(error_code, "InvalidArgument"))
                return S3_OUTCOME_AUTH;

        /* About this request only: its body was too slow (RequestTimeout, 408), or did not match the
         * hash we sent (the file changed under us: hash it again). The next attempt of this entry
         * fixes it; the others go on. */
        if (http_status == 408 || code_is(error_code, "RequestTimeout") ||
            code_is(error_code, "XAmzContentSHA256Mismatch") || code_is(error_code, "BadDigest") ||
            code_is(error_code, "IncompleteBody"))
                return S3_OUTCOME_ENTRY_RETRY;

        /* About every request: a skewed clock gets fixed by NTP; throttling and server trouble that
         * came with a 4xx status pass. */
        if (code_is(error_code, "RequestTimeTooSkewed") || code_is(error_code, "SlowDown") ||
            code_is(error_code, "InternalError") || code_is(error_code, "ServiceUnavailable"))
                return S3_OUTCOME_TRANSIENT;

        /* Everything else (NoSuchBucket, InvalidBucketName, EntityTooLarge, 3xx, …) needs the operator. */
        return S3_OUTCOME_PERMANENT;
}

uint64_t s3_backoff_usec(unsigned attempt, uint64_t random) {
        uint64_t base = S3_BACKOFF_MIN_USEC, half;

        for (unsigned i = 1; i < attempt && base < S3_BACKOFF_MAX_USEC; i++)
                base *= 2;
        if (base > S3_BACKOFF_MAX_USEC)
                base = S3_BACKOFF_MAX_USEC;

        /* Equal jitter: many uploaders (or many entries) that failed together do not retry together,
         * and no retry comes sooner than half the nominal delay. */
        half = base / 2;
        return half + random % (half + 1);
}
