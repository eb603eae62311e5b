/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The credential chain with its asynchronous IMDSv2 client (see credential-provider.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "credential-provider.h"
#include "s3.h"
#include "time-util.h"

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
/* IMDS answers within milliseconds on a real instance; a second to connect and two for the whole
 * request keep an instance without IMDS (or a test without the fixture) from stalling the chain. */
#define IMDS_CONNECT_TIMEOUT_MS 1000L
#define IMDS_TIMEOUT_MS 2000L
/* Attempts per request before the chain counts as failed (then the provider's backoff applies). */
#define IMDS_ATTEMPTS 3U
/* The token TTL we ask for (the maximum, 6 h; we fetch a new token per refresh anyway). */
#define IMDS_TOKEN_TTL "21600"
/* Bound on IMDS answers: a role's credentials document is ~1.5 KiB. */
#define IMDS_MAX_ANSWER (64U * 1024U)
/* A failed background refresh (the current credentials still work) is tried again after this. */
#define IMDS_REFRESH_RETRY_USEC (10U * USEC_PER_SEC)
/* How often a credentials file we use is checked for changes (stat only). */
#define FILE_CHECK_INTERVAL_USEC (1U * USEC_PER_SEC)

typedef enum ImdsStep {
        IMDS_STEP_NONE,
        IMDS_STEP_TOKEN,
        IMDS_STEP_ROLE,
        IMDS_STEP_CREDENTIALS,
} ImdsStep;

struct CredentialProvider {
        sd_event *event;
        CurlGlue *glue;
        char *profile_setting;
        CredentialsResolvedFn cb;
        void *userdata;

        Credentials creds;
        /* The credentials file the current credentials came from, to notice an operator's edit. */
        char *file_path;
        struct stat file_stat;
        uint64_t file_checked_usec;

        /* IMDS request in flight. */
        ImdsStep step;
        unsigned attempt;
        CURL *easy;
        struct curl_slist *headers;
        CurlBuffer answer;
        char *token;
        char *role;

        /* Failure of the chain and when it may be tried again (CLOCK_MONOTONIC). */
        int error;
        unsigned failures;
        uint64_t retry_usec;
        char error_text[512];
};

static void imds_request_cancel(CredentialProvider *p) {
        if (p->easy) {
                curl_glue_cancel(p->glue, p->easy);
                curl_easy_cleanup(p->easy);
                p->easy = NULL;
        }
        curl_slist_free_all(p->headers);
        p->headers = NULL;
        curl_buffer_done(&p->answer);
}

static void imds_reset(CredentialProvider *p) {
        imds_request_cancel(p);
        p->token = secret_free(p->token);
        free(p->role);
        p->role = NULL;
        p->step = IMDS_STEP_NONE;
        p->attempt = 0;
}

CredentialProvider *credential_provider_free(CredentialProvider *p) {
        if (!p)
                return NULL;
        imds_reset(p);
        credentials_done(&p->creds);
        free(p->file_path);
        free(p->profile_setting);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

int credential_provider_new(sd_event *event, CurlGlue *glue, const char *profile, CredentialsResolvedFn cb,
                            void *userdata, CredentialProvider **ret) {
        CredentialProvider *p;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(event);
        p->glue = glue;
        p->cb = cb;
        p->userdata = userdata;
        if (profile) {
                p->profile_setting = strdup(profile);
                if (!p->profile_setting) {
                        credential_provider_free(p);
                        return -ENOMEM;
                }
        }

        *ret = p;
        return 0;
}

const char *credential_provider_error(CredentialProvider *p) {
        return p->error_text;
}

static const char *effective_profile(CredentialProvider *p) {
        const char *e = getenv("AWS_PROFILE");

        if (e && *e)
                return e;
        return p->profile_setting ?: "default";
}

/* The shared credentials file's path: AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials. */
static int credentials_file_path(char **ret) {
        const char *e = getenv("AWS_SHARED_CREDENTIALS_FILE"), *home;

        if (e && *e) {
                *ret = strdup(e);
                return *ret ? 0 : -ENOMEM;
        }
        home = getenv("HOME");
        if (!home || home[0] != '/')
                return -ENOENT;
        if (asprintf(ret, "%s/.aws/credentials", strcmp(home, "/") == 0 ? "" : home) < 0)
                return -ENOMEM;
        return 0;
}

static bool imds_disabled(void) {
        const char *e = getenv("AWS_EC2_METADATA_DISABLED");

        return e && strcasecmp(e, "true") == 0;
}

static void chain_failed(CredentialProvider *p, int error) {
        uint64_t rnd = 0;

        (void) getrandom(&rnd, sizeof rnd, GRND_NONBLOCK);
        p->error = error;
        p->failures++;
        p->retry_usec = now(CLOCK_MONOTONIC) + s3_backoff_usec(p->failures, rnd);
}

static void chain_succeeded(CredentialProvider *p, Credentials *c) {
        /* The refresh point is fixed from here (see credentials_refresh_at()). */
        if (c->obtained_usec == 0)
                c->obtained_usec = now(CLOCK_REALTIME);
        credentials_done(&p->creds);
        p->creds = *c;
        *c = (Credentials) {};
        p->error = 0;
        p->failures = 0;
        p->retry_usec = 0;
        p->error_text[0] = 0;
}

static void imds_finish(CredentialProvider *p, int error) {
        imds_reset(p);
        if (error < 0) {
                if (credentials_usable(&p->creds, now(CLOCK_REALTIME))) {
                        /* A failed background refresh while the current credentials still sign: keep
                         * them, try again in a little while, and tell nobody it failed — uploads go
                         * on. It becomes a failure only once they are no longer usable. */
                        p->retry_usec = now(CLOCK_MONOTONIC) + IMDS_REFRESH_RETRY_USEC;
                        error = 0;
                } else
                        chain_failed(p, error);
        }
        if (p->cb)
                p->cb(p, error, p->userdata);
}

static int imds_start_step(CredentialProvider *p);

static void imds_on_done(CurlGlue *g, CURL *easy, CURLcode result, void *userdata) {
        CredentialProvider *p = userdata;
        long status = 0;
        int r;

        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(easy);
        p->easy = NULL;
        curl_slist_free_all(p->headers);
        p->headers = NULL;

        if (result != CURLE_OK || status != 200) {
                curl_buffer_done(&p->answer);
                if (++p->attempt < IMDS_ATTEMPTS) {
                        r = imds_start_step(p);
                        if (r >= 0)
                                return;
                }
                if (result != CURLE_OK)
                        snprintf(p->error_text, sizeof p->error_text,
                                 "instance metadata service did not answer (%s)", curl_easy_strerror(result));
                else
                        snprintf(p->error_text, sizeof p->error_text,
                                 "instance metadata service answered HTTP %ld%s", status,
                                 p->step == IMDS_STEP_ROLE && status == 404 ? " (no IAM role attached)" : "");
                imds_finish(p, result != CURLE_OK ? -EHOSTUNREACH : -EACCES);
                return;
        }

        switch (p->step) {
        case IMDS_STEP_TOKEN:
                if (p->answer.size == 0 || p->answer.size > 4096) {
                        snprintf(p->error_text, sizeof p->error_text, "instance metadata service sent no token");
                        imds_finish(p, -EBADMSG);
                        return;
                }
                p->token = TAKE_PTR(p->answer.data);
                p->answer.size = 0;
                /* A token is one line of base64: drop a trailing newline, if any. */
                p->token[strcspn(p->token, "\r\n")] = 0;
                p->step = IMDS_STEP_ROLE;
                break;

        case IMDS_STEP_ROLE:
                r = imds_role_name_parse(p->answer.data ?: "", p->answer.size, &p->role);
                curl_buffer_done(&p->answer);
                if (r < 0) {
                        snprintf(p->error_text, sizeof p->error_text,
                                 "instance metadata service lists no usable IAM role");
                        imds_finish(p, r);
                        return;
                }
                p->step = IMDS_STEP_CREDENTIALS;
                break;

        case IMDS_STEP_CREDENTIALS: {
                _cleanup_(credentials_done) Credentials c = {};

                r = credentials_imds_parse(p->answer.data ?: "", p->answer.size, &c);
                curl_buffer_done(&p->answer);
                if (r < 0) {
                        snprintf(p->error_text, sizeof p->error_text,
                                 "instance metadata service sent unusable credentials for role %s", p->role);
                        imds_finish(p, r);
                        return;
                }
                chain_succeeded(p, &c);
                imds_finish(p, 0);
                return;
        }

        default:
                return;
        }

        p->attempt = 0;
        r = imds_start_step(p);
        if (r < 0) {
                snprintf(p->error_text, sizeof p->error_text, "could not start an instance metadata request: %s",
                         strerror(-r));
                imds_finish(p, r);
        }
}

static int imds_start_step(CredentialProvider *p) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_(freep) char *url = NULL, *token_header = NULL;
        const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        size_t blen;
        int r;

        if (!base || !*base)
                base = IMDS_DEFAULT_ENDPOINT;
        blen = strlen(base);
        while (blen > 0 && base[blen - 1] == '/')
                blen--;

        switch (p->step) {
        case IMDS_STEP_TOKEN:
                r = asprintf(&url, "%.*s/latest/api/token", (int) blen, base);
                break;
        case IMDS_STEP_ROLE:
                r = asprintf(&url, "%.*s/latest/meta-data/iam/security-credentials/", (int) blen, base);
                break;
        case IMDS_STEP_CREDENTIALS:
                r = asprintf(&url, "%.*s/latest/meta-data/iam/security-credentials/%s", (int) blen, base, p->role);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return -ENOMEM;

        r = curl_easy_new_for(url, &c);
        if (r < 0)
                return r;

        if (p->step == IMDS_STEP_TOKEN) {
                p->headers = curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL);
                if (!p->headers)
                        return -ENOMEM;
                if (curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT") != CURLE_OK)
                        return -EINVAL;
        } else {
                struct curl_slist *l;

                if (asprintf(&token_header, "X-aws-ec2-metadata-token: %s", p->token) < 0)
                        return -ENOMEM;
                l = curl_slist_append(NULL, token_header);
                explicit_bzero(token_header, strlen(token_header));
                if (!l)
                        return -ENOMEM;
                p->headers = l;
        }

        p->answer = (CurlBuffer) { .max = IMDS_MAX_ANSWER };

        if (curl_easy_setopt(c, CURLOPT_HTTPHEADER, p->headers) != CURLE_OK ||
            /* IMDS is link-local: never through a proxy from the environment. */
            curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, IMDS_CONNECT_TIMEOUT_MS) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, IMDS_TIMEOUT_MS) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_buffer_write) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &p->answer) != CURLE_OK)
                return -EINVAL;

        r = curl_glue_add(p->glue, c, imds_on_done, p);
        if (r < 0)
                return r;

        p->easy = TAKE_PTR(c);
        return 0;
}

/* Starts the asynchronous IMDS part of the chain. Returns 0 (started) or -errno. */
static int imds_start(CredentialProvider *p) {
        int r;

        imds_reset(p);
        p->step = IMDS_STEP_TOKEN;
        r = imds_start_step(p);
        if (r < 0) {
                imds_reset(p);
                return r;
        }
        return 0;
}

/* Walks the chain. Returns 1 when credentials are there now, 0 when IMDS is being asked, -errno. */
static int chain_resolve(CredentialProvider *p) {
        _cleanup_(credentials_done) Credentials c = {};
        _cleanup_(freep) char *path = NULL;
        const char *profile = effective_profile(p);
        char file_note[256] = "";
        struct stat st;
        int r;

        r = credentials_from_environment(&c);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                chain_succeeded(p, &c);
                return 1;
        }

        r = credentials_file_path(&path);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                r = credentials_file_load(path, profile, &c);
                if (r >= 0 && stat(path, &st) >= 0) {
                        chain_succeeded(p, &c);
                        free(p->file_path);
                        p->file_path = TAKE_PTR(path);
                        p->file_stat = st;
                        p->file_checked_usec = now(CLOCK_MONOTONIC);
                        return 1;
                }
                if (r == -ENOMEM)
                        return r;
                if (r != -ENOENT || access(path, F_OK) >= 0)
                        snprintf(file_note, sizeof file_note, "; %s: %s", path,
                                 r == -ENOENT ? "no such profile" :
                                 r == -ENODATA ? "profile lacks aws_access_key_id or aws_secret_access_key" :
                                 strerror(-r));
        }

        if (imds_disabled()) {
                snprintf(p->error_text, sizeof p->error_text,
                         "no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset, no profile \"%s\" in the "
                         "shared credentials file%s, instance metadata disabled", profile, file_note);
                chain_failed(p, -ENOKEY);
                return -ENOKEY;
        }

        r = imds_start(p);
        if (r < 0) {
                snprintf(p->error_text, sizeof p->error_text, "could not start an instance metadata request: %s",
                         strerror(-r));
                chain_failed(p, r);
                return r;
        }
        return 0;
}

/* True when the credentials file changed since we read it (checked at most once a second). */
static bool credentials_file_changed(CredentialProvider *p) {
        usec_t t = now(CLOCK_MONOTONIC);
        struct stat st;

        if (t < p->file_checked_usec + FILE_CHECK_INTERVAL_USEC)
                return false;
        p->file_checked_usec = t;

        if (stat(p->file_path, &st) < 0)
                return true;
        return st.st_ino != p->file_stat.st_ino || st.st_dev != p->file_stat.st_dev ||
                st.st_size != p->file_stat.st_size || st.st_mtim.tv_sec != p->file_stat.st_mtim.tv_sec ||
                st.st_mtim.tv_nsec != p->file_stat.st_mtim.tv_nsec;
}

int credential_provider_get(CredentialProvider *p, const Credentials **ret) {
        usec_t realtime = now(CLOCK_REALTIME);
        int r;

        if (p->creds.source == CREDENTIAL_SOURCE_FILE && credentials_file_changed(p))
                credentials_done(&p->creds);

        if (credentials_usable(&p->creds, realtime)) {
                /* Temporary credentials from IMDS: fetch new ones in the background well before
                 * these expire; keep signing with these meanwhile. */
                if (p->creds.source == CREDENTIAL_SOURCE_IMDS && p->step == IMDS_STEP_NONE &&
                    credentials_need_refresh(&p->creds, realtime) &&
                    now(CLOCK_MONOTONIC) >= p->retry_usec)
                        (void) imds_start(p);
                *ret = &p->creds;
                return 1;
        }

        if (p->step != IMDS_STEP_NONE)
                return 0;
        if (p->error < 0 && now(CLOCK_MONOTONIC) < p->retry_usec)
                return p->error;

        r = chain_resolve(p);
        if (r > 0)
                *ret = &p->creds;
        return r;
}

void credential_provider_invalidate(CredentialProvider *p) {
        /* A refresh already under way will deliver new ones; else walk the chain on the next get. */
        credentials_done(&p->creds);
        p->error = 0;
        p->retry_usec = 0;
}
