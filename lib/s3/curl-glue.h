/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcurl's multi interface driven by sd-event: curl tells us which sockets to watch and when its
 * next timeout is due (socket and timer callbacks), sd-event tells curl when a socket is ready or the
 * timer fired. Every transfer of the uploader (S3 PUTs, IMDS requests) goes through one CurlGlue, so
 * all of them share one connection cache and nothing ever blocks in curl_easy_perform().
 */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

typedef struct CurlGlue CurlGlue;

/* Called once when a transfer added with curl_glue_add() ended (successfully or not; result is curl's
 * verdict, the HTTP status is in CURLINFO_RESPONSE_CODE). The handle is already removed from the
 * multi handle; the callback owns it from then on (curl_easy_cleanup() it or add it again). */
typedef void (*CurlDoneFn)(CurlGlue *g, CURL *easy, CURLcode result, void *userdata);

/* Creates the glue on event (referenced). Returns 0 and *ret (free with curl_glue_free()) or -errno. */
int curl_glue_new(sd_event *event, CurlGlue **ret);

/* Aborts whatever is still running (without calling the done callbacks), frees everything.
 * Accepts NULL; returns NULL. */
CurlGlue *curl_glue_free(CurlGlue *g);
static inline void curl_glue_freep(CurlGlue **g) {
        curl_glue_free(*g);
}

/* The multi handle, for curl_multi_setopt() by the owner (connection limits). Owned by the glue. */
CURLM *curl_glue_get_multi(CurlGlue *g);

/* Starts the transfer of easy (which must not use CURLOPT_PRIVATE itself; the glue does). done is
 * called with userdata when it ends. Returns 0 or -ENOMEM/-EIO; on failure the caller keeps easy. */
int curl_glue_add(CurlGlue *g, CURL *easy, CurlDoneFn done, void *userdata);

/* Cancels a transfer started with curl_glue_add() without calling its done callback. The caller
 * keeps easy (and usually curl_easy_cleanup()s it). Accepts NULL easy. */
void curl_glue_cancel(CurlGlue *g, CURL *easy);

/* Creates an easy handle with the options every transfer of ours shares: the URL, our user agent,
 * no signals (we are single-threaded in an event loop), no redirects, TLS verification left at
 * curl's secure defaults. Returns 0 and *ret (owned by the caller) or -ENOMEM/-EINVAL. */
int curl_easy_new_for(const char *url, CURL **ret);

/* Cleanup helpers for _cleanup_(): curl's own destructors accept NULL. */
static inline void curl_easy_cleanupp(CURL **c) {
        curl_easy_cleanup(*c);
}
static inline void curl_slist_free_allp(struct curl_slist **l) {
        curl_slist_free_all(*l);
}

/* A bounded in-memory response body (IMDS answers, S3 error documents). Bytes beyond max are
 * dropped silently (the transfer goes on); data is NUL-terminated. */
typedef struct CurlBuffer {
        char *data;
        size_t size;
        size_t max;
} CurlBuffer;

/* CURLOPT_WRITEFUNCTION for a CurlBuffer passed as CURLOPT_WRITEDATA. */
size_t curl_buffer_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/* Empties the buffer (wiping it: IMDS answers hold secrets) and frees its memory. */
void curl_buffer_done(CurlBuffer *b);
