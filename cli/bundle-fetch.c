/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fetching a bundle from S3 with libcurl, with the uploader's credential chain; see bundle-fetch.h.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "bundle-fetch.h"
#include "cleanup.h"
#include "credential-provider.h"
#include "fileio.h"
#include "s3.h"
#include "string-util.h"

/* SHA-256 of the empty body: a GET's payload hash (SigV4 needs x-amz-content-sha256). */
#define EMPTY_PAYLOAD_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int s3_url_parse(const char *url, char **ret_bucket, char **ret_key) {
        const char *b, *slash;
        char *bucket, *key;

        b = startswith(url, "s3://");
        if (!b)
                return -EINVAL;
        slash = strchr(b, '/');
        if (!slash || slash == b || !slash[1] || (size_t) (slash - b) > 63 || strlen(slash + 1) > 1024)
                return -EINVAL;
        /* Bucket names: lowercase letters, digits, '.', '-' (the rules of S3). */
        for (const char *c = b; c < slash; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
                        return -EINVAL;
        if (string_has_cc(slash + 1))
                return -EINVAL;
        bucket = strndup(b, (size_t) (slash - b));
        key = strdup(slash + 1);
        if (!bucket || !key) {
                free(bucket);
                free(key);
                return -ENOMEM;
        }
        *ret_bucket = bucket;
        *ret_key = key;
        return 0;
}

/* The provider's callback only says that IMDS answered (or gave up); credential_provider_get()
 * then returns the outcome, with credential_provider_error() for a failure. */
static void on_credentials_resolved(CredentialProvider *p, int error, void *userdata) {
        bool *done = userdata;

        *done = true;
}

static int credentials_copy(const Credentials *c, Credentials *ret) {
        _cleanup_(credentials_done) Credentials n = {
                .expiration_usec = c->expiration_usec,
                .source = c->source,
        };

        n.access_key_id = strdup(c->access_key_id);
        n.secret_access_key = strdup(c->secret_access_key);
        if (!n.access_key_id || !n.secret_access_key)
                return -ENOMEM;
        if (c->session_token) {
                n.session_token = strdup(c->session_token);
                if (!n.session_token)
                        return -ENOMEM;
        }
        *ret = n;
        n = (Credentials) {};
        return 0;
}

int bundle_credentials_get(const char *profile, Progress *progress, Credentials *ret, char *reason,
                           size_t reason_size) {
        /* Freed in reverse order: the provider (cancelling its IMDS request) before the glue,
         * the glue before the event loop. */
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(curl_glue_freep) CurlGlue *glue = NULL;
        _cleanup_(credential_provider_freep) CredentialProvider *p = NULL;
        const Credentials *c = NULL;
        bool done = false;
        usec_t deadline;
        int r;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return reasonf(reason, reason_size, -EIO, "cannot initialise libcurl");
        r = sd_event_new(&event);
        if (r < 0)
                return reasonf(reason, reason_size, r, "cannot create an event loop: %s", strerror(-r));
        r = curl_glue_new(event, &glue);
        if (r < 0)
                return reasonf(reason, reason_size, r, "cannot set up libcurl: %s", strerror(-r));
        r = credential_provider_new(event, glue, profile, on_credentials_resolved, &done, &p);
        if (r < 0)
                return reasonf(reason, reason_size, r, "cannot set up the credential chain: %s", strerror(-r));

        /* 1: from the environment or the file, right away; 0: IMDS is being asked, the callback
         * says when it is done; -errno: the chain failed. */
        deadline = now(CLOCK_MONOTONIC) + BUNDLE_CREDENTIALS_TIMEOUT_USEC;
        r = credential_provider_get(p, &c);
        while (r == 0) {
                usec_t n = now(CLOCK_MONOTONIC);

                if (done) {
                        done = false;
                        r = credential_provider_get(p, &c);
                        continue;
                }
                if (n >= deadline)
                        return reasonf(reason, reason_size, -ETIMEDOUT,
                                       "no AWS credentials: the instance metadata service did not answer "
                                       "within %llu s", BUNDLE_CREDENTIALS_TIMEOUT_USEC / USEC_PER_SEC);
                /* Short steps, for the progress line. */
                r = sd_event_run(event, MIN(deadline - n, PROGRESS_REFRESH_USEC));
                if (r < 0)
                        return reasonf(reason, reason_size, r, "cannot run the event loop: %s", strerror(-r));
                if (progress)
                        progress_update(progress, NULL);
                r = 0;
        }
        if (r < 0) {
                const char *e = credential_provider_error(p);

                return reasonf(reason, reason_size, r, "%s", e && e[0] ? e : strerror(-r));
        }

        r = credentials_copy(c, ret);
        if (r < 0)
                return reasonf(reason, reason_size, r, "out of memory");
        return 0;
}

typedef struct Download {
        int fd;
        uint64_t size;
        bool too_large;
        int error;
        Progress *progress;
} Download;

static size_t download_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Download *d = userdata;
        size_t n = size * nmemb;
        int r;

        if (d->size + n > BUNDLE_FETCH_MAX_SIZE) {
                d->too_large = true;
                return 0;       /* makes curl fail with CURLE_WRITE_ERROR */
        }
        r = loop_write(d->fd, ptr, n);
        if (r < 0) {
                d->error = r;
                return 0;
        }
        d->size += n;
        if (d->progress) {
                char detail[32];
                progress_update(d->progress, format_bytes(detail, sizeof detail, d->size));
        }
        return n;
}

/* An unnamed file for the download: in /var/tmp (disk, not memory, for up to 1 GiB), else memfd. */
static int open_unnamed_file(void) {
        int fd = open("/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

        if (fd >= 0)
                return fd;
        fd = memfd_create("session-scripts-bundle", MFD_CLOEXEC);
        return fd >= 0 ? fd : -errno;
}

int bundle_fetch_s3(const char *s3_url, const Settings *settings, const Credentials *creds, Progress *progress,
                    char *reason, size_t reason_size) {
        _cleanup_(freep) char *bucket = NULL, *key = NULL, *url = NULL, *sigv4 = NULL, *token_header = NULL;
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(closep) int fd = -EBADF;
        const char *token = creds->session_token;
        const char *region = settings->region ?: "us-east-1";
        char errbuf[CURL_ERROR_SIZE] = "";
        Download d = { .progress = progress };
        long status = 0;
        CURLcode cc;
        int r;

        r = s3_url_parse(s3_url, &bucket, &key);
        if (r < 0)
                return reasonf(reason, reason_size, r, "invalid S3 URL %s (expected s3://BUCKET/KEY)", s3_url);
        r = s3_object_url(settings->endpoint, region, bucket, key, &url);
        if (r == -EINVAL)
                return reasonf(reason, reason_size, r,
                               "invalid [S3] Endpoint=%s (expected https:// or http://)", settings->endpoint);
        if (r < 0)
                return r;
        if (asprintf(&sigv4, "aws:amz:%s:s3", region) < 0)
                return -ENOMEM;

        fd = open_unnamed_file();
        if (fd < 0)
                return reasonf(reason, reason_size, fd, "cannot create a temporary file: %s", strerror(-fd));
        d.fd = fd;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return reasonf(reason, reason_size, -EIO, "cannot initialise libcurl");
        c = curl_easy_init();
        if (!c)
                return -ENOMEM;
        headers = curl_slist_append(NULL, "x-amz-content-sha256: " EMPTY_PAYLOAD_SHA256);
        if (!headers)
                return -ENOMEM;
        if (token && token[0]) {
                struct curl_slist *l;
                if (asprintf(&token_header, "x-amz-security-token: %s", token) < 0)
                        return -ENOMEM;
                l = curl_slist_append(headers, token_header);
                /* curl copied it; the secret does not stay in our heap. */
                explicit_bzero(token_header, strlen(token_header));
                if (!l)
                        return -ENOMEM;
                headers = l;
        }

        /* HTTPS with verification; plain HTTP only when the administrator configured such an
         * Endpoint=. No redirects (a redirect would carry the signature elsewhere). */
        if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, settings->endpoint ? "http,https" : "https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERAGENT, "session-scripts/" PACKAGE_VERSION) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERNAME, creds->access_key_id) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PASSWORD, creds->secret_access_key) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) BUNDLE_FETCH_MAX_SIZE) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, BUNDLE_FETCH_CONNECT_TIMEOUT_SEC) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TIMEOUT, BUNDLE_FETCH_TIMEOUT_SEC) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, download_write) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &d) != CURLE_OK)
                return reasonf(reason, reason_size, -EIO, "cannot set up the download");

        /* A blocking transfer is fine here: this is a command line tool, not the daemon. */
        cc = curl_easy_perform(c);
        if (d.too_large)
                return reasonf(reason, reason_size, -EFBIG, "%s is larger than %llu bytes", s3_url,
                               (unsigned long long) BUNDLE_FETCH_MAX_SIZE);
        if (d.error < 0)
                return reasonf(reason, reason_size, d.error, "cannot write the download: %s", strerror(-d.error));
        if (cc != CURLE_OK)
                return reasonf(reason, reason_size, -EIO, "cannot fetch %s: %s", s3_url,
                               errbuf[0] ? errbuf : curl_easy_strerror(cc));
        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299)
                return reasonf(reason, reason_size, -EIO, "cannot fetch %s: HTTP status %ld", s3_url, status);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return TAKE_FD(fd);
}
