/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * AWS credentials and their sources, in the AWS SDKs' order: the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
 * else ~/.aws/credentials — which the sandboxed service, without a home, never has; profile from
 * AWS_PROFILE, else the Profile= setting, else "default"), and
 * the EC2 instance metadata service IMDSv2 (see credential-provider.h for the asynchronous part).
 *
 * This file holds the pure, testable half: parsing the credentials file and the IMDS answer, and the
 * expiry arithmetic. Secrets are never logged by anything here; callers must not log them either.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "time-util.h"

/* Bounds on what we read from files and answers we did not write. */
#define CREDENTIALS_FILE_MAX_SIZE (256U * 1024U)
#define CREDENTIALS_FIELD_MAX 4096U
/* Refresh temporary credentials this long before they expire (the SDKs use a few minutes). */
#define CREDENTIALS_REFRESH_MARGIN_USEC (5U * 60U * USEC_PER_SEC)
/* Credentials are not used for signing once less than this is left: a request signed now may reach
 * S3 a little later. */
#define CREDENTIALS_EXPIRY_SLACK_USEC (60U * USEC_PER_SEC)

typedef enum CredentialSource {
        CREDENTIAL_SOURCE_NONE,
        CREDENTIAL_SOURCE_ENVIRONMENT,
        CREDENTIAL_SOURCE_FILE,
        CREDENTIAL_SOURCE_IMDS,
} CredentialSource;

typedef struct Credentials {
        char *access_key_id;
        char *secret_access_key;
        char *session_token;            /* NULL for long-term keys */
        uint64_t expiration_usec;       /* CLOCK_REALTIME; 0 = does not expire */
        uint64_t obtained_usec;         /* CLOCK_REALTIME when they were fetched; 0 = unknown */
        CredentialSource source;
} Credentials;

/* Wipes a string that may hold a secret (a secret key, a session or IMDS token) and frees it, so that
 * it does not outlive its use in freed heap memory that a later bug could leak. Accepts NULL; returns
 * NULL. */
char *secret_free(char *s);

/* Frees the strings (the secrets are wiped first); accepts a zeroed struct. */
void credentials_done(Credentials *c);

/* A name for logs: "environment", "credentials file", "instance metadata (IMDSv2)". */
const char *credential_source_to_string(CredentialSource s);

/*
 * Reads credentials from the environment. Returns 0 and *ret, -ENOENT when AWS_ACCESS_KEY_ID or
 * AWS_SECRET_ACCESS_KEY is unset or empty (the chain goes on), -ENOMEM.
 */
int credentials_from_environment(Credentials *ret);

/*
 * Parses the text of an AWS shared credentials file and takes profile's section: "[name]" (and, as
 * the CLI's config file writes it, "[profile name]"), keys aws_access_key_id, aws_secret_access_key,
 * aws_session_token (case-insensitive), blanks around names, '=' and values ignored, full-line
 * comments and " #"/" ;" comments after a value. Returns 0 and *ret, -ENOENT when the profile is not
 * in the file, -ENODATA when it lacks the key id or the secret, -EFBIG, -ENOMEM.
 */
int credentials_file_parse(const char *text, size_t len, const char *profile, Credentials *ret);

/* Reads path (bounded) and parses it as above. Returns what the parser returns, or -errno of the
 * file (-ENOENT when it does not exist). */
int credentials_file_load(const char *path, const char *profile, Credentials *ret);

/*
 * Parses the IMDS answer of /latest/meta-data/iam/security-credentials/ROLE (JSON: Code "Success",
 * AccessKeyId, SecretAccessKey, Token, Expiration "YYYY-MM-DDTHH:MM:SSZ"). Returns 0 and *ret (source
 * IMDS), -EBADMSG for anything else (malformed JSON, Code not Success, missing fields), -ENOMEM.
 */
int credentials_imds_parse(const char *json, size_t len, Credentials *ret);

/* Parses an ISO 8601 UTC timestamp "YYYY-MM-DDTHH:MM:SS[.fff]Z" to µs since the epoch. Returns 0 or
 * -EINVAL. */
int iso8601_utc_parse(const char *s, uint64_t *ret_usec);

/* The first line of IMDS's role list (trimmed; a role name is [A-Za-z0-9+=,.@_-]{1,128}). Returns 0
 * and a new string, -EBADMSG when there is none, -ENOMEM. */
int imds_role_name_parse(const char *text, size_t len, char **ret);

/*
 * When temporary credentials should be fetched again (CLOCK_REALTIME): a fixed point computed from
 * when they were obtained and when they expire, never from "now" (a point relative to now would move
 * along with every call and never be reached). CREDENTIALS_REFRESH_MARGIN_USEC before expiry; for
 * credentials that live shorter than twice the margin, half-way from obtained_usec to the last moment
 * they are usable (expiry minus CREDENTIALS_EXPIRY_SLACK_USEC); obtained_usec when they were already
 * unusable when obtained. UINT64_MAX for credentials that do not expire.
 */
uint64_t credentials_refresh_at(const Credentials *c);

/* True when c has an expiry and now_usec reached credentials_refresh_at(c). */
bool credentials_need_refresh(const Credentials *c, uint64_t now_usec);

/* True when c can still sign a request at now_usec (set, and not expiring within
 * CREDENTIALS_EXPIRY_SLACK_USEC). */
bool credentials_usable(const Credentials *c, uint64_t now_usec);
