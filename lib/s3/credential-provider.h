/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The credential chain at run time: environment, then the shared credentials file (re-read when it
 * changes, so an operator's fix takes effect without a restart), then IMDSv2 fetched asynchronously
 * on the uploader's curl multi handle and refreshed well before the credentials expire.
 *
 * IMDS: PUT BASE/latest/api/token (X-aws-ec2-metadata-token-ttl-seconds: 21600), GET
 * BASE/latest/meta-data/iam/security-credentials/ (role name), GET …/ROLE (JSON credentials), each
 * with the token in X-aws-ec2-metadata-token. BASE is http://169.254.169.254 unless
 * AWS_EC2_METADATA_SERVICE_ENDPOINT says otherwise (as in the AWS SDKs; tests point it at a local
 * fixture); AWS_EC2_METADATA_DISABLED=true turns IMDS off.
 */
#pragma once

#include <systemd/sd-event.h>

#include "credentials.h"
#include "curl-glue.h"

typedef struct CredentialProvider CredentialProvider;

/* Called when an asynchronous resolution ended: error 0 = usable credentials are available now (new
 * ones, or — after a failed background refresh — the current ones, which still sign), else the -errno
 * of the failure, only when no usable credentials remain (credential_provider_error() says what
 * failed). */
typedef void (*CredentialsResolvedFn)(CredentialProvider *p, int error, void *userdata);

/*
 * Creates a provider. profile is the Profile= setting (may be NULL; AWS_PROFILE wins over it, "default"
 * when neither is set). Both event and glue must outlive the provider. Returns 0 and *ret, or -errno.
 */
int credential_provider_new(sd_event *event, CurlGlue *glue, const char *profile, CredentialsResolvedFn cb,
                            void *userdata, CredentialProvider **ret);

/* Cancels a running IMDS request, wipes the credentials, frees. Accepts NULL; returns NULL. */
CredentialProvider *credential_provider_free(CredentialProvider *p);
static inline void credential_provider_freep(CredentialProvider **p) {
        credential_provider_free(*p);
}

/*
 * Current credentials. Returns 1 and *ret (owned by the provider, valid until the next call into it)
 * when usable credentials exist (a refresh may be started in the background); 0 when they are being
 * fetched (the callback follows); -errno when the chain failed recently (retried by a later call once
 * the provider's backoff passed).
 */
int credential_provider_get(CredentialProvider *p, const Credentials **ret);

/* Forgets the current credentials (S3 rejected them): the next credential_provider_get() walks the
 * chain again. */
void credential_provider_invalidate(CredentialProvider *p);

/* A sentence on the last failure of the chain for the journal (never contains a secret), or "". */
const char *credential_provider_error(CredentialProvider *p);
