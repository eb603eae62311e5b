/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uploader engine (see uploader.h): spool entries, their scheduling, the streaming signed PUT,
 * outcome handling with backoff, eviction, journal messages and the service status.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <systemd/sd-daemon.h>

#include "alloc-util.h"
#include "cleanup.h"
#include "credential-provider.h"
#include "curl-glue.h"
#include "log.h"
#include "macro.h"
#include "regular-file.h"
#include "s3.h"
#include "session-scripts/session-scripts.h"
#include "sha256.h"
#include "spool.h"
#include "time-util.h"
#include "uploader.h"

/* Transfers at once, over as many reused keep-alive connections. Enough to hide the server's
 * per-request latency when a backlog drains (16 drained 1,000 small logs ~1.5× faster than 8 against
 * radosgw), few enough for S3 and for our RSS (curl's upload buffer per active transfer). */
#define MAX_PARALLEL_UPLOADS 16L
/* A running entry is uploaded again at most this often (docs/behaviour.md §4: "periodically while it
 * runs"), and never more often than twice the duration of its last upload (huge logs). */
#define RUNNING_UPLOAD_INTERVAL_USEC (5U * USEC_PER_SEC)
/* Bytes hashed per event-loop iteration: a 256 MiB log is hashed in slices of a few milliseconds so
 * that other transfers keep moving. */
#define HASH_SLICE (4U * 1024U * 1024U)
#define IO_BUFFER_SIZE (256U * 1024U)
/* curl's per-transfer upload buffer: fewer, larger reads and sends; bounded RSS (× parallel). */
#define UPLOAD_BUFFER_SIZE (128L * 1024L)
/* Connect timeout; a stalled transfer (below 1 KiB/s for 30 s) is aborted and retried. No total
 * timeout: a 256 MiB log over a slow link may legitimately take long. */
#define CONNECT_TIMEOUT_S 10L
#define LOW_SPEED_LIMIT_BPS 1024L
#define LOW_SPEED_TIME_S 30L
/* S3's limit for a single PUT; larger logs would need multipart uploads. */
#define S3_MAX_PUT_SIZE (UINT64_C(5) << 30)
/* Bound on an S3 error document we keep. */
#define ERROR_BODY_MAX (16U * 1024U)
/* STATUS= is refreshed at most this often. */
#define STATUS_INTERVAL_USEC (1U * USEC_PER_SEC)
/* How often the spool is swept for crash leftovers (spool.h, SPOOL_ORPHAN_AGE_USEC): a leftover is
 * removed between SPOOL_ORPHAN_AGE_USEC and that plus this after its last change. A readdir() of the
 * spool every few minutes costs nothing; new entries are noticed by inotify, not by this. */
#define SWEEP_INTERVAL_USEC (5U * 60U * USEC_PER_SEC)

typedef struct Entry Entry;

/* The journal fields of an entry's messages (log.h), so that `journalctl SESSION_SCRIPTS_SESSION_ID=…`
 * shows the upload of that session's logs too. */
typedef enum EntryField {
        ENTRY_FIELD_OBJECT_KEY,
        ENTRY_FIELD_SESSION_ID,
        ENTRY_FIELD_EVENT,
        ENTRY_FIELD_CONTEXT,
        ENTRY_FIELD_USER,
        _ENTRY_FIELD_MAX,
} EntryField;

/* The extra fields of a message about entry e (may be NULL): for LOG_FIELDS(). */
#define ENTRY_FIELDS(e)                                                 \
        (e) ? (e)->fields[ENTRY_FIELD_OBJECT_KEY] : NULL,               \
        (e) ? (e)->fields[ENTRY_FIELD_SESSION_ID] : NULL,               \
        (e) ? (e)->fields[ENTRY_FIELD_EVENT] : NULL,                    \
        (e) ? (e)->fields[ENTRY_FIELD_CONTEXT] : NULL,                  \
        (e) ? (e)->fields[ENTRY_FIELD_USER] : NULL

#define MESSAGE_ID_UPLOAD_FAILED LOG_MESSAGE_ID(SESSION_SCRIPTS_MESSAGE_UPLOAD_FAILED)
#define MESSAGE_ID_SPOOL_EVICTED LOG_MESSAGE_ID(SESSION_SCRIPTS_MESSAGE_SPOOL_EVICTED)

DEFINE_POINTER_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free, evp_md_ctx_freep);

/* One PUT of the first `size` bytes of an entry's log: first hashed (in slices), then sent. */
typedef struct Upload {
        Uploader *uploader;
        Entry *entry;
        int fd;
        uint64_t size;
        uint64_t offset;                /* read position of curl's read callback */
        uint64_t hashed;                /* bytes of the log covered by entry->prefix_ctx so far */
        bool final;                     /* the entry was finished when this started: size is all of it */
        bool read_failed;               /* the read callback could not read the log (our side, this entry) */
        bool with_session_token;        /* signed with temporary credentials */
        uint64_t start_usec;
        sd_event_source *hash_source;
        CURL *easy;
        struct curl_slist *headers;
        CurlBuffer body;
        char error_buffer[CURL_ERROR_SIZE];
        char sha256_hex[SHA256_HEX_SIZE];
} Upload;

struct Entry {
        Uploader *uploader;
        char run_id[SPOOL_RUN_ID_LEN + 1];
        SpoolMeta meta;
        char *fields[_ENTRY_FIELD_MAX]; /* "NAME=value" of meta for the journal, NULL when unknown */
        char *url;
        bool broken;                    /* unusable .meta: journaled once, skipped until it changes */
        bool has_log;                   /* RUNID.log exists (the daemon creates it right after the .meta) */
        uint64_t log_size, meta_size;
        uint64_t mtime_usec;            /* age, for eviction: of the .log, else of the .meta (CLOCK_REALTIME) */
        uint64_t meta_mtime_usec;       /* last change of the .meta (CLOCK_REALTIME) */
        uint64_t seen_usec;             /* CLOCK_MONOTONIC when first seen */
        bool uploaded;                  /* an upload of uploaded_size bytes succeeded */
        uint64_t uploaded_size;
        uint64_t last_start_usec, last_duration_usec;
        uint64_t not_before_usec;       /* per-entry backoff (CLOCK_MONOTONIC) */
        unsigned failures;
        char last_error[512];           /* what was last journaled for this entry ("" = nothing) */
        EVP_MD_CTX *prefix_ctx;         /* SHA-256 state over log[0..prefix_size): logs only grow */
        uint64_t prefix_size;
        Upload *upload;
        Entry *prev, *next;
};

struct Uploader {
        sd_event *event;
        CurlGlue *glue;
        CredentialProvider *creds;

        char *spool_dir, *bucket, *region, *endpoint;
        bool sse;
        uint64_t max_spool_size;
        bool exit_when_empty;

        int dir_fd;
        int inotify_fd;
        sd_event_source *inotify_source;
        sd_event_source *dispatch_source;       /* defer: coalesces many triggers into one pass */
        sd_event_source *timer_source;          /* the next entry's due time */
        sd_event_source *status_source;
        sd_event_source *sweep_source;          /* crash leftovers, every SWEEP_INTERVAL_USEC */

        Entry *entries, *entries_tail;
        size_t n_entries;
        long n_active;

        /* All-entries gate after transient/auth failures: S3 down or credentials bad is not per entry. */
        unsigned global_failures;
        uint64_t gate_usec;
        char global_error[512];         /* journaled global failure ("" = healthy) */
        uint64_t last_success_usec;     /* CLOCK_MONOTONIC of the last 2xx: S3 and the credentials worked */
        bool over_limit_warned;

        uint64_t delivered_objects, delivered_bytes;
        bool status_dirty;
        char *status;

        uint8_t *io_buffer;
};

static void uploader_schedule(Uploader *u);
static void uploader_status_dirty(Uploader *u);

static uint64_t random_u64(void) {
        uint64_t v = 0;

        /* Jitter only: a failed getrandom() leaves 0, i.e. no jitter, which is harmless. */
        (void) getrandom(&v, sizeof v, GRND_NONBLOCK);
        return v;
}

/* ---- Entries ----------------------------------------------------------------------------------- */

static Entry *entry_find(Uploader *u, const char *run_id) {
        for (Entry *e = u->entries; e; e = e->next)
                if (strcmp(e->run_id, run_id) == 0)
                        return e;
        return NULL;
}

static void upload_free(Upload *up) {
        if (!up)
                return;

        sd_event_source_disable_unref(up->hash_source);
        if (up->easy) {
                curl_glue_cancel(up->uploader->glue, up->easy);
                curl_easy_cleanup(up->easy);
        }
        /* The header list may hold the session token: wipe it before curl frees it. */
        for (struct curl_slist *l = up->headers; l; l = l->next)
                explicit_bzero(l->data, strlen(l->data));
        curl_slist_free_all(up->headers);
        curl_buffer_done(&up->body);
        safe_close(up->fd);

        if (up->entry) {
                up->entry->upload = NULL;
                up->uploader->n_active--;
        }
        free(up);
}

static void entry_fields_done(Entry *e) {
        for (size_t i = 0; i < ELEMENTSOF(e->fields); i++) {
                free(e->fields[i]);
                e->fields[i] = NULL;
        }
}

/* Builds the journal fields from e->meta. Returns 0 or -ENOMEM (then the fields are partial). */
static int entry_fields_update(Entry *e) {
        const struct {
                EntryField field;
                const char *name, *value;
        } table[] = {
                { ENTRY_FIELD_OBJECT_KEY, SESSION_SCRIPTS_FIELD_OBJECT_KEY, e->meta.key },
                { ENTRY_FIELD_SESSION_ID, SESSION_SCRIPTS_FIELD_SESSION_ID, e->meta.session_id },
                { ENTRY_FIELD_EVENT, SESSION_SCRIPTS_FIELD_EVENT, e->meta.event },
                { ENTRY_FIELD_CONTEXT, SESSION_SCRIPTS_FIELD_CONTEXT, e->meta.context },
                { ENTRY_FIELD_USER, SESSION_SCRIPTS_FIELD_USER, e->meta.user },
        };

        entry_fields_done(e);
        if (!e->meta.key)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].value && asprintf(&e->fields[table[i].field], "%s=%s", table[i].name,
                                               table[i].value) < 0) {
                        e->fields[table[i].field] = NULL;
                        return -ENOMEM;
                }
        return 0;
}

static void entry_free(Entry *e) {
        Uploader *u;

        if (!e)
                return;
        u = e->uploader;

        upload_free(e->upload);
        if (e->prev)
                e->prev->next = e->next;
        else
                u->entries = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                u->entries_tail = e->prev;
        u->n_entries--;

        EVP_MD_CTX_free(e->prefix_ctx);
        spool_meta_done(&e->meta);
        entry_fields_done(e);
        free(e->url);
        free(e);
        uploader_status_dirty(u);
}

static int entry_new(Uploader *u, const char *run_id, Entry **ret) {
        Entry *e;

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->uploader = u;
        memcpy(e->run_id, run_id, sizeof e->run_id);
        e->seen_usec = now(CLOCK_MONOTONIC);

        e->prev = u->entries_tail;
        if (u->entries_tail)
                u->entries_tail->next = e;
        else
                u->entries = e;
        u->entries_tail = e;
        u->n_entries++;

        *ret = e;
        return 0;
}

/* Removes RUNID.log, then RUNID.meta (a .meta without its .log means "done", never the reverse). */
static int spool_remove(Uploader *u, const char *run_id) {
        char name[SPOOL_NAME_SIZE];

        (void) spool_name_format(name, run_id, SPOOL_FILE_LOG);
        if (unlinkat(u->dir_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        (void) spool_name_format(name, run_id, SPOOL_FILE_META);
        if (unlinkat(u->dir_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Refreshes what we know of RUNID.log. Returns 0, or -ENOENT when it is not there (not yet, or
 * not any more). */
static int entry_stat_log(Entry *e) {
        char name[SPOOL_NAME_SIZE];
        struct stat st;

        (void) spool_name_format(name, e->run_id, SPOOL_FILE_LOG);
        if (fstatat(e->uploader->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT) {
                        e->has_log = false;
                        e->log_size = 0;
                        e->mtime_usec = e->meta_mtime_usec;
                }
                return -errno;
        }
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        if ((uint64_t) st.st_size != e->log_size)
                uploader_status_dirty(e->uploader);
        e->has_log = true;
        e->log_size = (uint64_t) st.st_size;
        e->mtime_usec = timespec_load(&st.st_mtim);
        return 0;
}

/* (Re)reads RUNID.meta and the log's size; creates, updates or drops the entry accordingly. */
static int entry_load(Uploader *u, const char *run_id) {
        _cleanup_(spool_meta_done) SpoolMeta m = {};
        char name[SPOOL_NAME_SIZE];
        Entry *e = entry_find(u, run_id);
        struct stat st;
        int r;

        r = spool_meta_load(u->dir_fd, run_id, &m);
        if (r == -ENOENT) {
                /* Removed behind our back (an operator): nothing left to upload. */
                entry_free(e);
                return 0;
        }
        if (r == -ENOMEM)
                return r;

        if (!e) {
                r = entry_new(u, run_id, &e);
                if (r < 0)
                        return r;
        }

        (void) spool_name_format(name, run_id, SPOOL_FILE_META);
        if (fstatat(u->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                e->meta_size = (uint64_t) st.st_size;
                e->meta_mtime_usec = timespec_load(&st.st_mtim);
        }

        if (r < 0) {
                if (!e->broken)
                        log_struct_errno(LOG_WARNING, r, LOG_FIELDS(MESSAGE_ID_UPLOAD_FAILED),
                                         "Spool entry %s has an unusable %s (%m); keeping it, not uploading "
                                         "it.", run_id, name);
                e->broken = true;
                (void) entry_stat_log(e);
                return 0;
        }
        e->broken = false;

        r = entry_stat_log(e);
        if (r == -ENOENT && m.finished) {
                /* The daemon creates the .log right after the .meta and never removes it: a finished
                 * .meta alone is a completed upload (or an eviction) whose .meta removal was
                 * interrupted. */
                if (unlinkat(u->dir_fd, name, 0) < 0 && errno != ENOENT)
                        log_warning_errno(errno, "Failed to remove %s: %m, ignoring.", name);
                entry_free(e);
                return 0;
        }
        /* A running .meta alone: the daemon is about to create the .log (it writes the .meta first).
         * Kept, with nothing to upload yet; uploader_sweep() removes it if the .log never comes. */

        if (!e->meta.key || strcmp(e->meta.key, m.key) != 0) {
                char *url = NULL;

                r = s3_object_url(u->endpoint, u->region, u->bucket, m.key, &url);
                if (r < 0)
                        return r;
                free(e->url);
                e->url = url;
                /* A different object: what was uploaded before does not count. */
                e->uploaded = false;
                e->uploaded_size = 0;
        }
        spool_meta_done(&e->meta);
        e->meta = m;
        m = (SpoolMeta) {};
        uploader_status_dirty(u);
        /* Without the fields the messages lose their session context, not their text. */
        (void) entry_fields_update(e);
        return 0;
}

/* The entry is delivered: remove it from the spool and from memory. */
static void entry_complete(Entry *e) {
        Uploader *u = e->uploader;
        int r;

        r = spool_remove(u, e->run_id);
        if (r < 0) {
                char what[256];

                /* Delivered, but it stays (permissions?): try again later, say so once. */
                snprintf(what, sizeof what, "cannot remove spool entry %s: %s", e->run_id, strerror(-r));
                e->failures++;
                e->not_before_usec = now(CLOCK_MONOTONIC) + s3_backoff_usec(e->failures, random_u64());
                if (strcmp(e->last_error, what) != 0) {
                        snprintf(e->last_error, sizeof e->last_error, "%s", what);
                        log_struct(LOG_ERR, LOG_FIELDS(ENTRY_FIELDS(e)),
                                   "Uploaded s3://%s/%s, but %s.", u->bucket, e->meta.key, what);
                }
                return;
        }

        log_struct(LOG_INFO, LOG_FIELDS(ENTRY_FIELDS(e)),
                   "Uploaded s3://%s/%s (%" PRIu64 " bytes).", u->bucket, e->meta.key, e->uploaded_size);
        u->delivered_objects++;
        u->delivered_bytes += e->uploaded_size;
        entry_free(e);
}

/* When the entry wants an upload next (CLOCK_MONOTONIC); UINT64_MAX for "nothing to do now". */
static uint64_t entry_due_usec(const Entry *e) {
        uint64_t due = e->not_before_usec, interval;

        if (e->broken || e->upload)
                return UINT64_MAX;

        if (e->meta.finished)
                return due;

        /* Running: only when there is something new, and not more often than the interval. */
        if (e->log_size == 0 || (e->uploaded && e->uploaded_size == e->log_size))
                return UINT64_MAX;
        interval = RUNNING_UPLOAD_INTERVAL_USEC;
        if (e->last_duration_usec * 2 > interval)
                interval = e->last_duration_usec * 2;
        if (e->last_start_usec > 0 && e->last_start_usec + interval > due)
                due = e->last_start_usec + interval;
        /* The first upload of a run waits one interval too: most scripts end before that. */
        if (e->seen_usec + RUNNING_UPLOAD_INTERVAL_USEC > due)
                due = e->seen_usec + RUNNING_UPLOAD_INTERVAL_USEC;
        return due;
}

/* ---- Failures ---------------------------------------------------------------------------------- */

static void global_failure(Uploader *u, const Entry *e, const char *what) {
        usec_t t = now(CLOCK_MONOTONIC);

        /* One wave of failures (all parallel transfers failing at once) counts once. */
        if (t >= u->gate_usec) {
                u->global_failures++;
                u->gate_usec = t + s3_backoff_usec(u->global_failures, random_u64());
        }

        /* Once per change of what is wrong, not per retry. */
        if (strcmp(u->global_error, what) != 0) {
                snprintf(u->global_error, sizeof u->global_error, "%s", what);
                log_struct(LOG_ERR, LOG_FIELDS(MESSAGE_ID_UPLOAD_FAILED, ENTRY_FIELDS(e)),
                           "Uploading to s3://%s failed: %s. %zu spool entries are kept and retried with "
                           "backoff.",
                           u->bucket, what, u->n_entries);
        }
        uploader_status_dirty(u);
}

/* One entry could not be uploaded, but S3 as such works (or the trouble is on our side of this one
 * transfer): this entry waits with its own backoff, the others go on. Journaled once per change of
 * what is wrong with the entry. */
static void entry_failure(Entry *e, const char *what) {
        Uploader *u = e->uploader;

        e->failures++;
        e->not_before_usec = now(CLOCK_MONOTONIC) + s3_backoff_usec(e->failures, random_u64());
        if (strcmp(e->last_error, what) != 0) {
                snprintf(e->last_error, sizeof e->last_error, "%s", what);
                log_struct(LOG_WARNING, LOG_FIELDS(MESSAGE_ID_UPLOAD_FAILED, ENTRY_FIELDS(e)),
                           "Uploading s3://%s/%s failed: %s. Keeping the spool entry %s; retrying it with "
                           "backoff.",
                           u->bucket, e->meta.key, what, e->run_id);
        }
        uploader_status_dirty(u);
}

static void global_success(Uploader *u) {
        if (u->global_error[0]) {
                log_notice("Uploading to s3://%s works again.", u->bucket);
                u->global_error[0] = 0;
        }
        u->global_failures = 0;
        u->gate_usec = 0;
}

/* ---- Upload ------------------------------------------------------------------------------------ */

static size_t upload_read(char *buffer, size_t size, size_t nitems, void *userdata) {
        Upload *up = userdata;
        size_t want = size * nitems;
        ssize_t k;

        if (up->offset >= up->size)
                return 0;
        if (want > up->size - up->offset)
                want = (size_t) (up->size - up->offset);

        /* pread: the bytes hashed and the bytes sent are the same range of the same file. */
        do
                k = pread(up->fd, buffer, want, (off_t) up->offset);
        while (k < 0 && errno == EINTR);
        if (k <= 0) {
                /* Shrunk or unreadable: fail this attempt of this entry, retry it later. */
                up->read_failed = true;
                return CURL_READFUNC_ABORT;
        }

        up->offset += (uint64_t) k;
        return (size_t) k;
}

static int upload_seek(void *userdata, curl_off_t offset, int origin) {
        Upload *up = userdata;

        /* curl rewinds to resend the body (e.g. a reused connection closed by the server). */
        if (origin != SEEK_SET || offset < 0 || (uint64_t) offset > up->size)
                return CURL_SEEKFUNC_FAIL;
        up->offset = (uint64_t) offset;
        return CURL_SEEKFUNC_OK;
}

static void upload_on_done(CurlGlue *g, CURL *easy, CURLcode result, void *userdata) {
        Upload *up = userdata;
        Entry *e = up->entry;
        Uploader *u = up->uploader;
        char code[S3_ERROR_CODE_MAX] = "", what[512];
        long status = 0;
        S3Outcome outcome;
        usec_t t = now(CLOCK_MONOTONIC);

        up->easy = NULL;
        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(easy);

        if (result == CURLE_OK && (status < 200 || status >= 300))
                (void) s3_error_code_parse(up->body.data, up->body.size, code);
        outcome = s3_classify(result, status, code, up->with_session_token);

        e->last_duration_usec = t - up->start_usec;

        if (up->read_failed) {
                /* Whatever curl made of the aborted read: it is about this entry's file. */
                outcome = S3_OUTCOME_ENTRY_RETRY;
                snprintf(what, sizeof what, "cannot read spool entry %s (it shrank or is unreadable)", e->run_id);
        } else if (result != CURLE_OK)
                snprintf(what, sizeof what, "%s", up->error_buffer[0] ? up->error_buffer : curl_easy_strerror(result));
        else
                snprintf(what, sizeof what, "HTTP %ld%s%s%s", status, code[0] ? " (" : "", code, code[0] ? ")" : "");

        switch (outcome) {
        case S3_OUTCOME_SUCCESS: {
                bool final = up->final;

                u->last_success_usec = t;
                e->uploaded = true;
                e->uploaded_size = up->size;
                e->failures = 0;
                e->not_before_usec = 0;
                if (e->last_error[0]) {
                        log_struct(LOG_NOTICE, LOG_FIELDS(ENTRY_FIELDS(e)),
                                   "Uploaded s3://%s/%s after earlier failures.", u->bucket, e->meta.key);
                        e->last_error[0] = 0;
                }
                global_success(u);
                upload_free(up);
                if (final)
                        entry_complete(e);
                break;
        }

        case S3_OUTCOME_ENTRY_RETRY: {
                bool answered = result == CURLE_OK && !up->read_failed;

                if (strcmp(code, "XAmzContentSHA256Mismatch") == 0 || strcmp(code, "BadDigest") == 0 ||
                    up->read_failed) {
                        /* What we hashed is not what we sent: forget the prefix digest. */
                        EVP_MD_CTX_free(e->prefix_ctx);
                        e->prefix_ctx = NULL;
                        e->prefix_size = 0;
                }
                upload_free(up);
                entry_failure(e, what);
                /* An answer from the server means the service as such works. */
                if (answered)
                        global_success(u);
                break;
        }

        case S3_OUTCOME_TRANSIENT:
        case S3_OUTCOME_AUTH:
                if (u->last_success_usec > up->start_usec) {
                        /* Other uploads succeeded, with the same credentials, while this one was under
                         * way: whatever broke (a reset connection, a 403 for this key) is about this
                         * entry, not about S3 or the credentials. */
                        upload_free(up);
                        entry_failure(e, what);
                        break;
                }
                /* S3 away or credentials rejected: every entry is affected alike, so the global gate
                 * waits, not this entry's own backoff (when the gate opens, everything goes). */
                if (outcome == S3_OUTCOME_AUTH)
                        credential_provider_invalidate(u->creds);
                global_failure(u, e, what);
                upload_free(up);
                break;

        case S3_OUTCOME_PERMANENT:
                /* Needs the operator (missing bucket, policy …): keep the entry, say so once. */
                e->failures++;
                e->not_before_usec = t + S3_PERMANENT_RETRY_USEC;
                if (strcmp(e->last_error, what) != 0) {
                        snprintf(e->last_error, sizeof e->last_error, "%s", what);
                        log_struct(LOG_ERR, LOG_FIELDS(MESSAGE_ID_UPLOAD_FAILED, ENTRY_FIELDS(e)),
                                   "Uploading s3://%s/%s failed: %s. Keeping the spool entry %s; retrying "
                                   "every %u min.",
                                   u->bucket, e->meta.key, what, e->run_id,
                                   (unsigned) (S3_PERMANENT_RETRY_USEC / (60U * USEC_PER_SEC)));
                }
                /* The server answered: the service as such works. */
                global_success(u);
                upload_free(up);
                break;
        }

        uploader_status_dirty(u);
        uploader_schedule(u);
}

/* Appends "name: value" to the request's header list. */
static int upload_add_header(Upload *up, const char *name, const char *value) {
        _cleanup_(freep) char *h = NULL;
        struct curl_slist *l;

        if (asprintf(&h, "%s: %s", name, value) < 0)
                return -ENOMEM;
        l = curl_slist_append(up->headers, h);
        explicit_bzero(h, strlen(h));
        if (!l)
                return -ENOMEM;
        up->headers = l;
        return 0;
}

/* Hashing is done: sign and send. */
static int upload_send(Upload *up, const Credentials *c) {
        Uploader *u = up->uploader;
        _cleanup_(curl_easy_cleanupp) CURL *easy = NULL;
        _cleanup_(freep) char *sigv4 = NULL;
        int r;

        r = curl_easy_new_for(up->entry->url, &easy);
        if (r < 0)
                return r;

        if (asprintf(&sigv4, "aws:amz:%s:s3", u->region) < 0)
                return -ENOMEM;

        /* curl 7.88 signs with the payload hash we put into x-amz-content-sha256 (it cannot hash a
         * streamed body itself); S3 checks the body against it. */
        r = upload_add_header(up, "x-amz-content-sha256", up->sha256_hex);
        if (r >= 0)
                r = upload_add_header(up, "Content-Type", "text/plain");
        if (r >= 0 && u->sse)
                r = upload_add_header(up, "x-amz-server-side-encryption", "AES256");
        if (r >= 0 && c->session_token) {
                r = upload_add_header(up, "x-amz-security-token", c->session_token);
                up->with_session_token = true;
        }
        if (r < 0)
                return r;

        up->body = (CurlBuffer) { .max = ERROR_BODY_MAX };
        up->offset = 0;

        if (curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t) up->size) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_READFUNCTION, upload_read) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_READDATA, up) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, upload_seek) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_SEEKDATA, up) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER_SIZE) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, curl_buffer_write) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_WRITEDATA, &up->body) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, up->headers) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, sigv4) != CURLE_OK ||
            /* Key id and secret as separate options: no "user:password" string to split or leak. */
            curl_easy_setopt(easy, CURLOPT_USERNAME, c->access_key_id) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_PASSWORD, c->secret_access_key) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT_BPS) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, up->error_buffer) != CURLE_OK)
                return -EINVAL;

        r = curl_glue_add(u->glue, easy, upload_on_done, up);
        if (r < 0)
                return r;
        up->easy = TAKE_PTR(easy);
        return 0;
}

/* Finishes the digest of log[0..size) from the entry's prefix state without consuming that state. */
static int upload_finish_hash(Upload *up) {
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *copy = NULL;
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        copy = EVP_MD_CTX_new();
        if (!copy)
                return -ENOMEM;
        if (EVP_MD_CTX_copy_ex(copy, up->entry->prefix_ctx) != 1 || EVP_DigestFinal_ex(copy, d, &n) != 1 ||
            n != SHA256_DIGEST_SIZE)
                return -EIO;
        sha256_to_hex(d, up->sha256_hex);
        return 0;
}

static void upload_failed_locally(Upload *up, int r) {
        Entry *e = up->entry;
        Uploader *u = up->uploader;
        char what[256];

        /* Our own trouble with this entry (file vanished, unreadable, out of memory): retry this entry
         * later; the others are not affected. */
        snprintf(what, sizeof what, "cannot read spool entry %s: %s", e->run_id, strerror(-r));
        upload_free(up);
        entry_failure(e, what);
        uploader_schedule(u);
}

static int upload_on_hash_slice(sd_event_source *s, void *userdata) {
        Upload *up = userdata;
        Uploader *u = up->uploader;
        Entry *e = up->entry;
        uint64_t end = up->hashed + HASH_SLICE;
        const Credentials *c = NULL;
        int r;

        if (end > up->size)
                end = up->size;

        while (up->hashed < end) {
                size_t want = end - up->hashed > IO_BUFFER_SIZE ? IO_BUFFER_SIZE : (size_t) (end - up->hashed);
                ssize_t k = pread(up->fd, u->io_buffer, want, (off_t) up->hashed);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        upload_failed_locally(up, k < 0 ? -errno : -ENODATA);
                        return 0;
                }
                if (EVP_DigestUpdate(e->prefix_ctx, u->io_buffer, (size_t) k) != 1) {
                        upload_failed_locally(up, -EIO);
                        return 0;
                }
                up->hashed += (uint64_t) k;
                e->prefix_size = up->hashed;
        }

        if (up->hashed < up->size)
                return 0;       /* next slice on the next loop iteration */

        up->hash_source = sd_event_source_disable_unref(up->hash_source);

        r = upload_finish_hash(up);
        if (r >= 0) {
                r = credential_provider_get(u->creds, &c);
                if (r == 0)
                        r = -EAGAIN;
        }
        if (r == -EAGAIN || (r < 0 && r != -EIO && r != -ENOMEM)) {
                /* Credentials went away meanwhile: put the entry back; the dispatcher waits for them. */
                upload_free(up);
                uploader_schedule(u);
                return 0;
        }
        if (r >= 0)
                r = upload_send(up, c);
        if (r < 0)
                upload_failed_locally(up, r);
        return 0;
}

/* Starts uploading what the entry's log holds now. Returns 0, or -errno (the entry is retried later). */
static int entry_start_upload(Entry *e) {
        Uploader *u = e->uploader;
        char name[SPOOL_NAME_SIZE];
        struct stat st;
        Upload *up;
        int r;

        up = calloc(1, sizeof *up);
        if (!up)
                return -ENOMEM;
        *up = (Upload) { .uploader = u, .entry = e, .fd = -EBADF, .final = e->meta.finished,
                         .start_usec = now(CLOCK_MONOTONIC) };
        e->upload = up;
        u->n_active++;
        e->last_start_usec = up->start_usec;

        /* The log is read by a descriptor opened without following links and checked to be a regular
         * file: the spool directory is shared with the daemon and nothing else. */
        (void) spool_name_format(name, e->run_id, SPOOL_FILE_LOG);
        r = open_regular_file_bounded(u->dir_fd, name, O_NOFOLLOW, UINT64_MAX, &st);
        if (r == -ENOENT) {
                /* Gone: already delivered by an earlier instance, or removed. */
                upload_free(up);
                (void) entry_load(u, e->run_id);
                return 0;
        }
        if (r < 0)
                goto fail;
        up->fd = r;

        /* Exactly this many bytes are hashed and sent, whatever the daemon appends meanwhile. */
        up->size = (uint64_t) st.st_size;
        e->log_size = up->size;

        if (up->final && e->uploaded && e->uploaded_size == up->size) {
                /* The last upload while it ran already holds everything: done without another PUT. */
                upload_free(up);
                entry_complete(e);
                return 0;
        }

        if (up->size > S3_MAX_PUT_SIZE) {
                r = -EFBIG;
                goto fail;
        }

        (void) posix_fadvise(up->fd, 0, 0, POSIX_FADV_SEQUENTIAL);

        /* Continue the digest of the prefix hashed for an earlier upload of this (append-only) log. */
        if (!e->prefix_ctx || e->prefix_size > up->size) {
                EVP_MD_CTX_free(e->prefix_ctx);
                e->prefix_ctx = EVP_MD_CTX_new();
                e->prefix_size = 0;
                if (!e->prefix_ctx || EVP_DigestInit_ex(e->prefix_ctx, EVP_sha256(), NULL) != 1) {
                        EVP_MD_CTX_free(e->prefix_ctx);
                        e->prefix_ctx = NULL;
                        r = -ENOMEM;
                        goto fail;
                }
        }
        up->hashed = e->prefix_size;

        r = sd_event_add_defer(u->event, &up->hash_source, upload_on_hash_slice, up);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(up->hash_source, "upload-hash");
        r = sd_event_source_set_enabled(up->hash_source, SD_EVENT_ON);
        if (r < 0)
                goto fail;
        return 0;

fail:
        upload_failed_locally(up, r);
        return r;
}

/* ---- Eviction ---------------------------------------------------------------------------------- */

/* Keeps the backlog under MaxSpoolSize=: when the entries that could not be delivered (their own
 * upload failed, or S3 as a whole is failing) make the spool exceed the bound, the oldest of them are
 * evicted with a journal warning. Never an entry whose PUT is under way, never one that was not tried
 * while S3 works, never the newest entry (spool_pick_evictions()). */
static void uploader_enforce_limit(Uploader *u) {
        _cleanup_(freep) SpoolUsage *usage = NULL;
        _cleanup_(freep) size_t *picked = NULL;
        _cleanup_(freep) Entry **index = NULL;
        uint64_t total = 0, remaining;
        size_t n = 0, n_picked = 0;
        bool failing = u->global_error[0] != 0;

        for (Entry *e = u->entries; e; e = e->next)
                total += e->log_size + e->meta_size;
        if (total <= u->max_spool_size) {
                u->over_limit_warned = false;
                return;
        }

        usage = calloc(u->n_entries, sizeof *usage);
        picked = calloc(u->n_entries, sizeof *picked);
        index = calloc(u->n_entries, sizeof *index);
        if (!usage || !picked || !index)
                return;         /* try again on the next pass */

        for (Entry *e = u->entries; e; e = e->next, n++) {
                usage[n] = (SpoolUsage) { .size = e->log_size + e->meta_size, .mtime_usec = e->mtime_usec,
                                          .finished = e->meta.finished || e->broken,
                                          .in_flight = e->upload != NULL,
                                          .stuck = failing || e->failures > 0 || e->broken };
                index[n] = e;
        }

        remaining = spool_pick_evictions(usage, n, u->max_spool_size, picked, &n_picked);

        for (size_t i = 0; i < n_picked; i++) {
                Entry *e = index[picked[i]];
                int r = spool_remove(u, e->run_id);

                if (r < 0) {
                        log_struct_errno(LOG_ERR, r, LOG_FIELDS(ENTRY_FIELDS(e)),
                                         "Failed to evict spool entry %s: %m", e->run_id);
                        continue;
                }
                log_struct(LOG_WARNING, LOG_FIELDS(MESSAGE_ID_SPOOL_EVICTED, ENTRY_FIELDS(e)),
                           "Spool above MaxSpoolSize=%" PRIu64 " bytes while uploads fail: evicted the oldest "
                           "undelivered log %s (%" PRIu64 " bytes, s3://%s/%s) without uploading it.",
                           u->max_spool_size, e->run_id, e->log_size, u->bucket, e->meta.key ?: "?");
                entry_free(e);
        }

        if (remaining > u->max_spool_size && !u->over_limit_warned && failing) {
                log_struct(LOG_WARNING, LOG_FIELDS(MESSAGE_ID_SPOOL_EVICTED),
                           "Spool holds %" PRIu64 " bytes of running, uploading or newest logs, above "
                           "MaxSpoolSize=%" PRIu64 ".", remaining, u->max_spool_size);
                u->over_limit_warned = true;
        }
}

/* ---- Dispatch ---------------------------------------------------------------------------------- */

static int uploader_arm_timer(Uploader *u, uint64_t when) {
        int r;

        if (when == UINT64_MAX)
                return sd_event_source_set_enabled(u->timer_source, SD_EVENT_OFF);
        r = sd_event_source_set_time(u->timer_source, when);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(u->timer_source, SD_EVENT_ONESHOT);
}

static void uploader_dispatch(Uploader *u) {
        usec_t t = now(CLOCK_MONOTONIC), next = UINT64_MAX;
        bool have_creds = false;
        Entry *e, *n;
        int r;

        uploader_enforce_limit(u);

        if (u->gate_usec > t)
                next = u->gate_usec;
        else
                for (e = u->entries; e; e = n) {
                        uint64_t due;

                        n = e->next;            /* e may be freed below */
                        due = entry_due_usec(e);
                        if (due == UINT64_MAX)
                                continue;
                        if (due > t) {
                                if (due < next)
                                        next = due;
                                continue;
                        }
                        if (u->n_active >= MAX_PARALLEL_UPLOADS)
                                break;          /* a finishing transfer triggers the next pass */

                        if (!have_creds) {
                                const Credentials *c;

                                r = credential_provider_get(u->creds, &c);
                                if (r == 0)
                                        break;  /* being fetched; the provider's callback reschedules */
                                if (r < 0) {
                                        global_failure(u, NULL, credential_provider_error(u->creds)[0] ?
                                                       credential_provider_error(u->creds) : "no AWS credentials");
                                        if (u->gate_usec < next)
                                                next = u->gate_usec;
                                        break;
                                }
                                have_creds = true;
                        }

                        (void) entry_start_upload(e);
                }

        r = uploader_arm_timer(u, next);
        if (r < 0)
                log_error_errno(r, "Failed to arm the upload timer: %m");

        if (u->exit_when_empty && u->n_entries == 0 && u->n_active == 0)
                (void) sd_event_exit(u->event, 0);
}

static int on_dispatch(sd_event_source *s, void *userdata) {
        uploader_dispatch(userdata);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        uploader_dispatch(userdata);
        return 0;
}

static void uploader_schedule(Uploader *u) {
        (void) sd_event_source_set_enabled(u->dispatch_source, SD_EVENT_ONESHOT);
}

static void on_credentials(CredentialProvider *p, int error, void *userdata) {
        Uploader *u = userdata;

        /* The provider reports an error only when no usable credentials remain; a failed background
         * refresh while the current ones still sign comes as 0 and must not stop anything. */
        if (error < 0)
                global_failure(u, NULL, credential_provider_error(p));
        uploader_schedule(u);
}

/* ---- Status ------------------------------------------------------------------------------------ */

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Uploader *u = userdata;
        _cleanup_(freep) char *status = NULL;
        uint64_t bytes = 0;

        u->status_dirty = false;
        for (Entry *e = u->entries; e; e = e->next)
                bytes += e->log_size;

        if (asprintf(&status, "STATUS=Spool: %zu entries (%" PRIu64 " KiB), %ld uploading; delivered %" PRIu64
                     " objects (%" PRIu64 " KiB)%s%s",
                     u->n_entries, bytes / 1024, u->n_active, u->delivered_objects, u->delivered_bytes / 1024,
                     u->global_error[0] ? "; failing: " : "", u->global_error) < 0)
                return 0;

        if (!u->status || strcmp(u->status, status) != 0) {
                (void) sd_notify(false, status);
                free(u->status);
                u->status = TAKE_PTR(status);
        }
        return 0;
}

static void uploader_status_dirty(Uploader *u) {
        usec_t t;

        if (u->status_dirty || !u->status_source)
                return;
        u->status_dirty = true;
        t = now(CLOCK_MONOTONIC);
        (void) sd_event_source_set_time(u->status_source, t + STATUS_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(u->status_source, SD_EVENT_ONESHOT);
}

/* ---- Spool directory --------------------------------------------------------------------------- */

static int uploader_scan(Uploader *u) {
        _cleanup_(freep) SpoolScanItem *items = NULL;
        size_t n = 0;
        int r;

        r = spool_scan(u->dir_fd, &items, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to scan spool directory %s: %m", u->spool_dir);

        /* Oldest first, so that a backlog is delivered in the order it was written. */
        for (size_t i = 0; i < n; i++) {
                r = entry_load(u, items[i].run_id);
                if (r < 0)
                        return log_error_errno(r, "Failed to load spool entry %s: %m", items[i].run_id);
        }

        /* Entries we knew that are gone from the directory. */
        for (Entry *e = u->entries, *next; e; e = next) {
                bool found = false;

                next = e->next;
                for (size_t i = 0; i < n && !found; i++)
                        found = strcmp(items[i].run_id, e->run_id) == 0;
                if (!found && !e->upload)
                        entry_free(e);
        }
        return 0;
}

/*
 * Removes what a crash left half-made, so that it cannot stay in the spool forever, uncounted: a
 * RUNID.log without RUNID.meta (a .meta removed by hand; the daemon itself writes the .meta first),
 * and a STATE=running .meta whose .log never appeared (the daemon died between writing the .meta and
 * creating the .log, and has not been restarted to finish it). Both only once they have not changed
 * for SPOOL_ORPHAN_AGE_USEC, each with a journal line.
 */
static void uploader_sweep(Uploader *u) {
        _cleanup_(freep) SpoolScanItem *orphans = NULL;
        usec_t t = now(CLOCK_REALTIME);
        size_t n = 0;
        int r;

        r = spool_scan_orphan_logs(u->dir_fd, t, SPOOL_ORPHAN_AGE_USEC, &orphans, &n);
        if (r < 0)
                log_warning_errno(r, "Failed to look for leftover logs in %s: %m, ignoring.", u->spool_dir);

        for (size_t i = 0; i < n; i++) {
                char name[SPOOL_NAME_SIZE];

                (void) spool_name_format(name, orphans[i].run_id, SPOOL_FILE_LOG);
                if (unlinkat(u->dir_fd, name, 0) < 0) {
                        if (errno != ENOENT)
                                log_warning_errno(errno, "Failed to remove leftover log %s/%s: %m, ignoring.",
                                                  u->spool_dir, name);
                        continue;
                }
                log_warning("Removed %s/%s (%" PRIu64 " bytes): a log without its .meta for more than %u "
                            "min, left by a crash; it cannot be uploaded (no object key). Its output is in "
                            "the journal.",
                            u->spool_dir, name, orphans[i].log_size,
                            (unsigned) (SPOOL_ORPHAN_AGE_USEC / (60U * USEC_PER_SEC)));
        }

        for (Entry *e = u->entries, *next; e; e = next) {
                char name[SPOOL_NAME_SIZE];

                next = e->next;
                if (e->broken || e->meta.finished || e->upload || e->meta_mtime_usec > t ||
                    t - e->meta_mtime_usec < SPOOL_ORPHAN_AGE_USEC)
                        continue;
                if (entry_stat_log(e) != -ENOENT)
                        continue;

                (void) spool_name_format(name, e->run_id, SPOOL_FILE_META);
                if (unlinkat(u->dir_fd, name, 0) < 0 && errno != ENOENT) {
                        log_struct_errno(LOG_WARNING, errno, LOG_FIELDS(ENTRY_FIELDS(e)),
                                         "Failed to remove leftover %s/%s: %m, ignoring.", u->spool_dir, name);
                        continue;
                }
                log_struct(LOG_WARNING, LOG_FIELDS(ENTRY_FIELDS(e)),
                           "Removed %s/%s: a running entry whose log never appeared for more than %u min, "
                           "left by a crash.", u->spool_dir, name,
                           (unsigned) (SPOOL_ORPHAN_AGE_USEC / (60U * USEC_PER_SEC)));
                entry_free(e);
        }
}

static int on_sweep_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Uploader *u = userdata;

        uploader_sweep(u);
        (void) sd_event_source_set_time(s, usec + SWEEP_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        uploader_schedule(u);
        return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Uploader *u = userdata;
        union {
                struct inotify_event ev;
                uint8_t raw[64 * 1024];
        } buf;
        ssize_t len;

        len = read(fd, &buf, sizeof buf);
        if (len < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                return sd_event_exit(u->event, log_error_errno(errno, "Failed to read inotify events: %m"));
        }

        for (uint8_t *p = buf.raw; p < buf.raw + len;) {
                struct inotify_event *ev = (struct inotify_event *) p;
                char run_id[SPOOL_RUN_ID_LEN + 1];
                SpoolFileKind kind;
                Entry *e;

                p += sizeof *ev + ev->len;

                if (ev->mask & IN_Q_OVERFLOW) {
                        /* Events were lost: the directory itself is the truth. */
                        (void) uploader_scan(u);
                        continue;
                }
                if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                        log_error("Spool directory %s was removed or moved; exiting.", u->spool_dir);
                        return sd_event_exit(u->event, -ENOENT);
                }
                if (ev->len == 0 || spool_name_parse(ev->name, run_id, &kind) < 0)
                        continue;       /* the daemon's temporary files, strangers */

                if (kind == SPOOL_FILE_META) {
                        if (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM))
                                (void) entry_load(u, run_id);
                        continue;
                }

                e = entry_find(u, run_id);
                if (!e)
                        continue;       /* no .meta: a crash leftover (uploader_sweep()) or junk */
                if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
                        if (!e->upload)
                                (void) entry_load(u, run_id);
                } else
                        (void) entry_stat_log(e);
        }

        uploader_schedule(u);
        return 0;
}

/* ---- Life cycle -------------------------------------------------------------------------------- */

Uploader *uploader_free(Uploader *u) {
        if (!u)
                return NULL;

        while (u->entries)
                entry_free(u->entries);
        credential_provider_free(u->creds);
        curl_glue_free(u->glue);
        sd_event_source_disable_unref(u->inotify_source);
        sd_event_source_disable_unref(u->dispatch_source);
        sd_event_source_disable_unref(u->timer_source);
        sd_event_source_disable_unref(u->status_source);
        sd_event_source_disable_unref(u->sweep_source);
        safe_close(u->inotify_fd);
        safe_close(u->dir_fd);
        sd_event_unref(u->event);
        free(u->spool_dir);
        free(u->bucket);
        free(u->region);
        free(u->endpoint);
        free(u->status);
        free(u->io_buffer);
        free(u);
        return NULL;
}

int uploader_new(sd_event *event, const UploaderConfig *config, Uploader **ret) {
        _cleanup_(uploader_freep) Uploader *u = NULL;
        int r;

        if (!config->spool_dir || !config->bucket || !config->region)
                return -EINVAL;

        u = calloc(1, sizeof *u);
        if (!u)
                return log_oom();
        u->event = sd_event_ref(event);
        u->dir_fd = u->inotify_fd = -EBADF;
        u->sse = config->server_side_encryption;
        u->max_spool_size = config->max_spool_size;
        u->exit_when_empty = config->exit_when_empty;

        u->spool_dir = strdup_or_null(config->spool_dir);
        u->bucket = strdup_or_null(config->bucket);
        u->region = strdup_or_null(config->region);
        u->endpoint = strdup_or_null(config->endpoint);
        if ((config->spool_dir && !u->spool_dir) || (config->bucket && !u->bucket) ||
            (config->region && !u->region) || (config->endpoint && !u->endpoint))
                return log_oom();

        u->io_buffer = malloc(IO_BUFFER_SIZE);
        if (!u->io_buffer)
                return log_oom();

        u->dir_fd = open(u->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (u->dir_fd < 0)
                return log_error_errno(errno, "Failed to open spool directory %s: %m", u->spool_dir);

        u->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (u->inotify_fd < 0)
                return log_error_errno(errno, "Failed to create inotify instance: %m");
        /* IN_MOVED_TO: the daemon's atomic .meta updates; IN_CREATE: the .log appearing after its
         * .meta; IN_CLOSE_WRITE/IN_MODIFY: the .log growing; IN_DELETE/IN_MOVED_FROM: entries removed
         * by someone else. IN_ONLYDIR|IN_DONT_FOLLOW: the spool must be the real directory. */
        if (inotify_add_watch(u->inotify_fd, u->spool_dir,
                              IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM |
                              IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW) < 0)
                return log_error_errno(errno, "Failed to watch spool directory %s: %m", u->spool_dir);

        r = curl_glue_new(event, &u->glue);
        if (r < 0)
                return log_error_errno(r, "Failed to set up curl: %m");
        /* One connection cache for every transfer; a few connections per host, reused (keep-alive). */
        (void) curl_multi_setopt(curl_glue_get_multi(u->glue), CURLMOPT_MAX_HOST_CONNECTIONS, MAX_PARALLEL_UPLOADS);
        (void) curl_multi_setopt(curl_glue_get_multi(u->glue), CURLMOPT_MAXCONNECTS, MAX_PARALLEL_UPLOADS + 2L);

        r = credential_provider_new(event, u->glue, config->profile, on_credentials, u, &u->creds);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the credential chain: %m");

        r = sd_event_add_io(event, &u->inotify_source, u->inotify_fd, EPOLLIN, on_inotify, u);
        if (r < 0)
                return log_error_errno(r, "Failed to watch inotify: %m");
        r = sd_event_add_defer(event, &u->dispatch_source, on_dispatch, u);
        if (r < 0)
                return log_error_errno(r, "Failed to add dispatch source: %m");
        (void) sd_event_source_set_enabled(u->dispatch_source, SD_EVENT_OFF);
        /* The timer's accuracy: 50 ms is plenty for "every few seconds" and coalesces wake-ups. */
        r = sd_event_add_time(event, &u->timer_source, CLOCK_MONOTONIC, 0, 50000, on_timer, u);
        if (r < 0)
                return log_error_errno(r, "Failed to add timer: %m");
        (void) sd_event_source_set_enabled(u->timer_source, SD_EVENT_OFF);
        r = sd_event_add_time(event, &u->status_source, CLOCK_MONOTONIC, 0, 100000, on_status_timer, u);
        if (r < 0)
                return log_error_errno(r, "Failed to add status timer: %m");
        (void) sd_event_source_set_enabled(u->status_source, SD_EVENT_OFF);
        /* Accuracy of a minute: it only bounds how long a leftover stays. */
        r = sd_event_add_time(event, &u->sweep_source, CLOCK_MONOTONIC, 0, 60U * USEC_PER_SEC, on_sweep_timer,
                              u);
        if (r < 0)
                return log_error_errno(r, "Failed to add sweep timer: %m");
        (void) sd_event_source_set_enabled(u->sweep_source, SD_EVENT_OFF);

        *ret = TAKE_PTR(u);
        return 0;
}

int uploader_start(Uploader *u) {
        int r;

        r = uploader_scan(u);
        if (r < 0)
                return r;
        uploader_sweep(u);
        (void) sd_event_source_set_time(u->sweep_source, now(CLOCK_MONOTONIC) + SWEEP_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(u->sweep_source, SD_EVENT_ONESHOT);

        log_info("Watching %s: %zu spool entries to deliver to s3://%s%s%s.", u->spool_dir, u->n_entries,
                 u->bucket, u->endpoint ? " at " : "", u->endpoint ?: "");
        (void) on_status_timer(NULL, 0, u);
        uploader_schedule(u);
        return 0;
}

void uploader_retry_now(Uploader *u) {
        credential_provider_invalidate(u->creds);
        u->gate_usec = 0;
        u->global_failures = 0;
        for (Entry *e = u->entries; e; e = e->next) {
                e->not_before_usec = 0;
                e->failures = 0;
        }
        log_info("Retrying all %zu spool entries now.", u->n_entries);
        uploader_schedule(u);
}
