/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure parts of talking to S3: object URLs (path-style, key encoded the way SigV4 canonicalises
 * it), S3's XML error code, what an answer means for the spool entry (done, retry, keep for the
 * operator), and the retry backoff. No I/O here; covered by the unit tests.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "time-util.h"

/* Bounds of the exponential backoff between attempts (transient failures). */
#define S3_BACKOFF_MIN_USEC (1U * USEC_PER_SEC)
#define S3_BACKOFF_MAX_USEC (300U * USEC_PER_SEC)
/* Retry interval for answers an operator has to fix (NoSuchBucket, …): long, but not forever idle. */
#define S3_PERMANENT_RETRY_USEC (900U * USEC_PER_SEC)

#define S3_ERROR_CODE_MAX 64

/* What an upload attempt's result means. */
typedef enum S3Outcome {
        S3_OUTCOME_SUCCESS,     /* 2xx: the object holds exactly what was sent */
        S3_OUTCOME_TRANSIENT,   /* S3 as a whole: no connection, stalled transfer, 5xx, throttling, a skewed
                                 * clock; every entry waits (backoff) */
        S3_OUTCOME_ENTRY_RETRY, /* this request only (RequestTimeout, BadDigest, our own file could not be
                                 * read): S3 works, only this entry waits (its own backoff) */
        S3_OUTCOME_AUTH,        /* 401/403, expired token: retry with backoff after fetching credentials again */
        S3_OUTCOME_PERMANENT,   /* other 4xx (NoSuchBucket, …): keep the entry, journal, retry rarely */
} S3Outcome;

/*
 * Percent-encodes an object key as SigV4 canonicalises S3 paths: every byte except A–Z a–z 0–9
 * '-' '.' '_' '~' and '/' becomes %XX (uppercase hex). Returns 0 and a new string in *ret, -ENOMEM.
 */
int s3_key_escape(const char *key, char **ret);

/*
 * Builds the path-style URL ENDPOINT/BUCKET/ESCAPED-KEY. endpoint NULL means
 * https://s3.REGION.amazonaws.com; a trailing '/' of endpoint is dropped. Returns 0 and *ret, -EINVAL
 * when the endpoint is neither https:// nor http://, -ENOMEM.
 */
int s3_object_url(const char *endpoint, const char *region, const char *bucket, const char *key, char **ret);

/*
 * Extracts the text of the first <Code>…</Code> of an S3 XML error body (len bytes, need not be
 * NUL-terminated) into ret (at most S3_ERROR_CODE_MAX-1 characters of [A-Za-z0-9._-]). Returns true
 * when found.
 */
bool s3_error_code_parse(const char *body, size_t len, char ret[S3_ERROR_CODE_MAX]);

/* Classifies an attempt: curl's result, the HTTP status (0 when none), S3's error code (NULL or ""
 * when none), and whether the request carried a session token (temporary credentials: some servers,
 * radosgw among them, answer a stale or broken token with a plain 400 InvalidArgument). */
S3Outcome s3_classify(CURLcode result, long http_status, const char *error_code, bool with_session_token);

/*
 * The delay before retry number attempt (1 for the first retry): min(MIN·2^(attempt-1), MAX), with
 * "equal jitter": half of it fixed, the other half scaled by random (any 64-bit value, e.g. from
 * random_u64()). Never less than S3_BACKOFF_MIN_USEC/2.
 */
uint64_t s3_backoff_usec(unsigned attempt, uint64_t random);
