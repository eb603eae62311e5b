/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fetching a bundle from S3 for `install-bundle s3://BUCKET/KEY.zip`: one signed GET (AWS
 * Signature V4 by libcurl) into an unnamed temporary file. Credentials come from the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); region and endpoint from the
 * settings' [S3] Region= and Endpoint=. The CLI does this, never the daemon (which has no network
 * code).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "settings.h"

/* Longest bundle download accepted (the unpacked size is bounded separately). */
#define BUNDLE_FETCH_MAX_SIZE (1024ULL * 1024ULL * 1024ULL)
/* Connect and total time limits of the download (seconds). */
#define BUNDLE_FETCH_CONNECT_TIMEOUT_SEC 10L
#define BUNDLE_FETCH_TIMEOUT_SEC 600L

/* Splits "s3://BUCKET/KEY" into new strings. Returns 0 or -EINVAL (not such a URL, empty bucket
 * or key, a bucket name with characters S3 does not allow). */
int s3_url_parse(const char *url, char **ret_bucket, char **ret_key);

/* Builds the path-style URL ENDPOINT/BUCKET/KEY (key percent-encoded except '/'); endpoint NULL
 * means https://s3.REGION.amazonaws.com. Returns 0 or -ENOMEM. */
int s3_object_url(const char *endpoint, const char *region, const char *bucket, const char *key, char **ret);

/* Downloads s3_url into a new unnamed file and returns its fd (positioned at 0). Returns the fd,
 * or -errno with a sentence in reason. */
int bundle_fetch_s3(const char *s3_url, const Settings *settings, char *reason, size_t reason_size);
