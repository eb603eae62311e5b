/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/s3/s3.c: key escaping as SigV4 canonicalises S3 paths, path-style URLs, S3 error
 * codes, what an answer means for a spool entry, and the backoff with jitter.
 */
#include <stdlib.h>

#include "s3.h"
#include "tests.h"

static void test_key_escape(void) {
        char *s = NULL;

        ASSERT_OK(s3_key_escape("default/default/custom/a0bc/11-22/SessionScriptsLogs/SessionStart/user.log", &s));
        ASSERT_STREQ(s, "default/default/custom/a0bc/11-22/SessionScriptsLogs/SessionStart/user.log");
        free(s);

        /* Unreserved characters stay, '/' stays, everything else is %XX with uppercase hex. */
        ASSERT_OK(s3_key_escape("a b+c=d&e~f_g.h-i/ä:*", &s));
        ASSERT_STREQ(s, "a%20b%2Bc%3Dd%26e~f_g.h-i/%C3%A4%3A%2A");
        free(s);

        ASSERT_OK(s3_key_escape("%", &s));
        ASSERT_STREQ(s, "%25");
        free(s);

        ASSERT_OK(s3_key_escape("", &s));
        ASSERT_STREQ(s, "");
        free(s);
}

static void test_object_url(void) {
        char *s = NULL;

        ASSERT_OK(s3_object_url(NULL, "eu-central-1", "my-bucket", "x/y z.log", &s));
        ASSERT_STREQ(s, "https://s3.eu-central-1.amazonaws.com/my-bucket/x/y%20z.log");
        free(s);

        ASSERT_OK(s3_object_url("http://127.0.0.1:7480/", "us-east-1", "b1", "k", &s));
        ASSERT_STREQ(s, "http://127.0.0.1:7480/b1/k");
        free(s);

        ASSERT_OK(s3_object_url("https://s3.example.com", "us-east-1", "b1", "a/b", &s));
        ASSERT_STREQ(s, "https://s3.example.com/b1/a/b");
        free(s);

        ASSERT_ERROR(s3_object_url("ftp://x", "us-east-1", "b1", "k", &s), EINVAL);
}

static void test_error_code(void) {
        char code[S3_ERROR_CODE_MAX];
        const char *body =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
                "<Message>The request signature we calculated does not match</Message></Error>";

        ASSERT_TRUE(s3_error_code_parse(body, strlen(body), code));
        ASSERT_STREQ(code, "SignatureDoesNotMatch");

        ASSERT_TRUE(s3_error_code_parse("<Error><Code>NoSuchBucket</Code>", 32, code));
        ASSERT_STREQ(code, "NoSuchBucket");

        /* Not NUL-terminated at len: parse only within len. */
        ASSERT_TRUE(!s3_error_code_parse("<Code>Abc</Code>", 8, code));
        ASSERT_TRUE(!s3_error_code_parse("", 0, code));
        ASSERT_TRUE(!s3_error_code_parse(NULL, 0, code));
        ASSERT_TRUE(!s3_error_code_parse("<Code></Code>", 13, code));
        ASSERT_TRUE(!s3_error_code_parse("<Code>a b</Code>", 16, code));
        ASSERT_TRUE(!s3_error_code_parse("no xml at all", 13, code));

        /* Over-long codes are rejected, not truncated. */
        char longbody[200];
        snprintf(longbody, sizeof longbody, "<Code>%0100d</Code>", 0);
        ASSERT_TRUE(!s3_error_code_parse(longbody, strlen(longbody), code));
}

static void test_classify(void) {
        ASSERT_EQ(s3_classify(CURLE_OK, 200, NULL, false), S3_OUTCOME_SUCCESS);
        ASSERT_EQ(s3_classify(CURLE_OK, 204, "", false), S3_OUTCOME_SUCCESS);

        /* No answer: transient. */
        ASSERT_EQ(s3_classify(CURLE_COULDNT_CONNECT, 0, NULL, false), S3_OUTCOME_TRANSIENT);
        ASSERT_EQ(s3_classify(CURLE_OPERATION_TIMEDOUT, 0, NULL, false), S3_OUTCOME_TRANSIENT);
        ASSERT_EQ(s3_classify(CURLE_SEND_ERROR, 0, NULL, false), S3_OUTCOME_TRANSIENT);
        ASSERT_EQ(s3_classify(CURLE_PEER_FAILED_VERIFICATION, 0, NULL, false), S3_OUTCOME_TRANSIENT);

        /* Server trouble and throttling: transient. */
        ASSERT_EQ(s3_classify(CURLE_OK, 500, "InternalError", false), S3_OUTCOME_TRANSIENT);
        ASSERT_EQ(s3_classify(CURLE_OK, 503, "SlowDown", false), S3_OUTCOME_TRANSIENT);
        ASSERT_EQ(s3_classify(CURLE_OK, 429, NULL, false), S3_OUTCOME_TRANSIENT);
        ASSERT_EQ(s3_classify(CURLE_OK, 403, "RequestTimeTooSkewed", false), S3_OUTCOME_AUTH);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "RequestTimeTooSkewed", false), S3_OUTCOME_TRANSIENT);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "SlowDown", false), S3_OUTCOME_TRANSIENT);

        /* About one request only: that entry backs off, the others go on. */
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "RequestTimeout", false), S3_OUTCOME_ENTRY_RETRY);
        ASSERT_EQ(s3_classify(CURLE_OK, 408, NULL, false), S3_OUTCOME_ENTRY_RETRY);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "BadDigest", false), S3_OUTCOME_ENTRY_RETRY);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "XAmzContentSHA256Mismatch", false), S3_OUTCOME_ENTRY_RETRY);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "XAmzContentSHA256Mismatch", true), S3_OUTCOME_ENTRY_RETRY);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "IncompleteBody", false), S3_OUTCOME_ENTRY_RETRY);
        /* Our own spool file could not be read (the read callback aborted) or sent again. */
        ASSERT_EQ(s3_classify(CURLE_ABORTED_BY_CALLBACK, 0, NULL, false), S3_OUTCOME_ENTRY_RETRY);
        ASSERT_EQ(s3_classify(CURLE_READ_ERROR, 0, NULL, false), S3_OUTCOME_ENTRY_RETRY);
        ASSERT_EQ(s3_classify(CURLE_SEND_FAIL_REWIND, 0, NULL, false), S3_OUTCOME_ENTRY_RETRY);
        /* … but a connection that broke is everybody's problem. */
        ASSERT_EQ(s3_classify(CURLE_RECV_ERROR, 0, NULL, false), S3_OUTCOME_TRANSIENT);
        ASSERT_EQ(s3_classify(CURLE_COULDNT_RESOLVE_HOST, 0, NULL, false), S3_OUTCOME_TRANSIENT);

        /* Credentials: auth. */
        ASSERT_EQ(s3_classify(CURLE_OK, 403, "SignatureDoesNotMatch", false), S3_OUTCOME_AUTH);
        ASSERT_EQ(s3_classify(CURLE_OK, 403, "InvalidAccessKeyId", false), S3_OUTCOME_AUTH);
        ASSERT_EQ(s3_classify(CURLE_OK, 403, "AccessDenied", false), S3_OUTCOME_AUTH);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "ExpiredToken", false), S3_OUTCOME_AUTH);
        ASSERT_EQ(s3_classify(CURLE_OK, 401, NULL, false), S3_OUTCOME_AUTH);

        /* The operator's business: permanent (kept, journaled, retried rarely). */
        ASSERT_EQ(s3_classify(CURLE_OK, 404, "NoSuchBucket", false), S3_OUTCOME_PERMANENT);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "InvalidArgument", false), S3_OUTCOME_PERMANENT);
        ASSERT_EQ(s3_classify(CURLE_OK, 301, "PermanentRedirect", false), S3_OUTCOME_PERMANENT);
        ASSERT_EQ(s3_classify(CURLE_OK, 413, NULL, false), S3_OUTCOME_PERMANENT);

        /* A broken or stale session token: radosgw says 400 InvalidArgument. */
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "InvalidArgument", true), S3_OUTCOME_AUTH);
        ASSERT_EQ(s3_classify(CURLE_OK, 400, "InvalidBucketName", true), S3_OUTCOME_PERMANENT);
        ASSERT_EQ(s3_classify(CURLE_OK, 200, NULL, true), S3_OUTCOME_SUCCESS);
}

static void test_backoff(void) {
        /* attempt 1: base 1 s → [0.5 s, 1 s] */
        ASSERT_EQ(s3_backoff_usec(1, 0), 500000);
        ASSERT_EQ(s3_backoff_usec(1, 500000), 1000000);
        ASSERT_EQ(s3_backoff_usec(1, 500001), 500000);
        /* attempt 0 behaves like the first retry */
        ASSERT_EQ(s3_backoff_usec(0, 0), 500000);
        /* doubling */
        ASSERT_EQ(s3_backoff_usec(2, 0), 1000000);
        ASSERT_EQ(s3_backoff_usec(3, 0), 2000000);
        ASSERT_EQ(s3_backoff_usec(5, 0), 8000000);
        /* capped at 5 min, also for absurd attempt numbers (no overflow) */
        ASSERT_EQ(s3_backoff_usec(10, 0), 150000000);
        ASSERT_EQ(s3_backoff_usec(10, 150000000), 300000000);
        ASSERT_EQ(s3_backoff_usec(1000000, UINT64_MAX), S3_BACKOFF_MAX_USEC / 2 + UINT64_MAX % (S3_BACKOFF_MAX_USEC / 2 + 1));

        /* Within bounds for any randomness. */
        for (unsigned a = 1; a < 40; a++)
                for (uint64_t rnd = 1; rnd < UINT64_MAX / 3; rnd = rnd * 7 + 13) {
                        uint64_t d = s3_backoff_usec(a, rnd);
                        ASSERT_TRUE(d >= S3_BACKOFF_MIN_USEC / 2);
                        ASSERT_TRUE(d <= S3_BACKOFF_MAX_USEC);
                }
}

int main(void) {
        TEST_RUN(test_key_escape);
        TEST_RUN(test_object_url);
        TEST_RUN(test_error_code);
        TEST_RUN(test_classify);
        TEST_RUN(test_backoff);
        return 0;
}
