/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fetching a bundle from S3 for `install-bundle s3://BUCKET/KEY.zip`: one signed GET (AWS
 * Signature V4 by libcurl) into an unnamed temporary file. Credentials come from the chain the
 * uploader uses too (lib/s3/credential-provider.h, linked, not copied): the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials; profile AWS_PROFILE, else [S3] Profile=,
 * else "default"), then IMDSv2 — so an Elastic-fleet instance needs nothing but its IAM role.
 * Region and endpoint come from the settings' [S3] Region= and Endpoint=. The CLI does this, never
 * the daemon (which has no network code).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "credentials.h"
#include "format.h"
#include "settings.h"

/* Longest bundle download accepted (the unpacked size is bounded separately). */
#define BUNDLE_FETCH_MAX_SIZE (1024ULL * 1024ULL * 1024ULL)
/* Connect and total time limits of the download (seconds). */
#define BUNDLE_FETCH_CONNECT_TIMEOUT_SEC 10L
#define BUNDLE_FETCH_TIMEOUT_SEC 600L
/* Bound on the whole credential chain. Its IMDS part has its own per-request bounds (1 s to
 * connect, 2 s per request, 3 attempts; lib/s3/credential-provider.c): three requests, so at most
 * ~18 s on an instance whose metadata service misbehaves; a little more than that here. */
#define BUNDLE_CREDENTIALS_TIMEOUT_USEC (20ULL * 1000000ULL)

/* Splits "s3://BUCKET/KEY" into new strings. Returns 0 or -EINVAL (not such a URL, empty bucket
 * or key, a bucket name with characters S3 does not allow). */
int s3_url_parse(const char *url, char **ret_bucket, char **ret_key);

/*
 * Walks the credential chain (see the top of this file) with profile as the Profile= setting (may
 * be NULL), waiting at most BUNDLE_CREDENTIALS_TIMEOUT_USEC; progress (may be NULL) is updated
 * while IMDS is asked. Returns 0 and *ret (caller calls credentials_done(); ret->source says
 * where they came from), or -errno with a sentence in reason (never containing a secret).
 */
int bundle_credentials_get(const char *profile, Progress *progress, Credentials *ret, char *reason,
                           size_t reason_size);

/* Downloads s3_url into a new unnamed file signed with creds and returns its fd (positioned at 0);
 * progress (may be NULL) is updated as bytes arrive. Returns the fd, or -errno with a sentence in
 * reason. */
int bundle_fetch_s3(const char *s3_url, const Settings *settings, const Credentials *creds, Progress *progress,
                    char *reason, size_t reason_size);
