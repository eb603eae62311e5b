/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcurl multi on sd-event (see curl-glue.h): the socket callback maps curl's wishes for each socket
 * onto an sd-event I/O source, the timer callback onto one sd-event timer, and each event is fed back
 * with curl_multi_socket_action(); finished transfers are handed to their owners' callbacks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "cleanup.h"
#include "curl-glue.h"
#include "time-util.h"

/* One socket curl asked us to watch; kept in a list so that curl_glue_free() can release sources of
 * sockets curl did not tell us to remove before the multi handle went away. */
typedef struct CurlIo {
        CurlGlue *glue;
        sd_event_source *source;
        curl_socket_t fd;
        struct CurlIo *prev, *next;
} CurlIo;

/* What the glue keeps per transfer (in CURLOPT_PRIVATE). */
typedef struct CurlTask {
        CurlGlue *glue;
        CURL *easy;
        CurlDoneFn done;
        void *userdata;
        struct CurlTask *prev, *next;
} CurlTask;

struct CurlGlue {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        CurlIo *ios;
        CurlTask *tasks;        /* transfers added and not yet finished or cancelled */
};

/* Unlinks a task from its glue and frees it. */
static void curl_task_free(CurlTask *t) {
        if (!t)
                return;
        if (t->prev)
                t->prev->next = t->next;
        else
                t->glue->tasks = t->next;
        if (t->next)
                t->next->prev = t->prev;
        free(t);
}

CURLM *curl_glue_get_multi(CurlGlue *g) {
        return g->multi;
}

static void curl_io_free(CurlIo *io) {
        if (!io)
                return;
        if (io->prev)
                io->prev->next = io->next;
        else
                io->glue->ios = io->next;
        if (io->next)
                io->next->prev = io->prev;
        sd_event_source_disable_unref(io->source);
        free(io);
}

/* Hands every finished transfer to its owner. The owner's callback may add new transfers. */
static void curl_glue_check_finished(CurlGlue *g) {
        CURLMsg *msg;
        int left = 0;

        while ((msg = curl_multi_info_read(g->multi, &left))) {
                CurlTask *task = NULL;
                CURL *easy = msg->easy_handle;
                CURLcode result = msg->data.result;

                if (msg->msg != CURLMSG_DONE)
                        continue;

                (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &task);
                (void) curl_multi_remove_handle(g->multi, easy);
                (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);

                if (task) {
                        CurlDoneFn done = task->done;
                        void *userdata = task->userdata;

                        curl_task_free(task);
                        done(g, easy, result, userdata);
                } else
                        curl_easy_cleanup(easy);
        }
}

static int curl_glue_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CurlIo *io = userdata;
        CurlGlue *g = io->glue;
        int action = 0, running = 0;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;

        /* io may be freed inside (CURL_POLL_REMOVE); do not touch it afterwards. */
        (void) curl_multi_socket_action(g->multi, fd, action, &running);
        curl_glue_check_finished(g);
        return 0;
}

static int curl_glue_socket_callback(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp) {
        CurlGlue *g = userdata;
        CurlIo *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        (void) curl_multi_assign(g->multi, fd, NULL);
                        curl_io_free(io);
                }
                return 0;
        }

        if (what == CURL_POLL_IN)
                events = EPOLLIN;
        else if (what == CURL_POLL_OUT)
                events = EPOLLOUT;
        else if (what == CURL_POLL_INOUT)
                events = EPOLLIN | EPOLLOUT;

        if (io) {
                if (sd_event_source_set_io_events(io->source, events) < 0 ||
                    sd_event_source_set_enabled(io->source, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }

        io = calloc(1, sizeof *io);
        if (!io)
                return -1;
        io->glue = g;
        io->fd = fd;
        if (sd_event_add_io(g->event, &io->source, fd, events, curl_glue_on_io, io) < 0) {
                free(io);
                return -1;
        }
        (void) sd_event_source_set_description(io->source, "curl-io");

        io->next = g->ios;
        if (g->ios)
                g->ios->prev = io;
        g->ios = io;

        if (curl_multi_assign(g->multi, fd, io) != CURLM_OK) {
                curl_io_free(io);
                return -1;
        }
        return 0;
}

static int curl_glue_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CurlGlue *g = userdata;
        int running = 0;

        (void) curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        curl_glue_check_finished(g);
        return 0;
}

static int curl_glue_timer_callback(CURLM *multi, long timeout_ms, void *userdata) {
        CurlGlue *g = userdata;
        uint64_t now_usec, when;

        if (timeout_ms < 0) {
                if (g->timer && sd_event_source_set_enabled(g->timer, SD_EVENT_OFF) < 0)
                        return -1;
                return 0;
        }

        if (sd_event_now(g->event, CLOCK_MONOTONIC, &now_usec) < 0)
                return -1;
        /* Round up to the next millisecond so that curl never sees its timeout "not yet" expired. */
        when = now_usec + (usec_t) timeout_ms * USEC_PER_MSEC + USEC_PER_MSEC - 1;

        if (g->timer) {
                if (sd_event_source_set_time(g->timer, when) < 0 ||
                    sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }

        if (sd_event_add_time(g->event, &g->timer, CLOCK_MONOTONIC, when, 0, curl_glue_on_timer, g) < 0)
                return -1;
        (void) sd_event_source_set_description(g->timer, "curl-timer");
        return 0;
}

CurlGlue *curl_glue_free(CurlGlue *g) {
        if (!g)
                return NULL;

        /* Transfers still running are cancelled silently: their owners are going away too and
         * free their easy handles themselves. */
        while (g->tasks) {
                if (g->multi)
                        (void) curl_multi_remove_handle(g->multi, g->tasks->easy);
                (void) curl_easy_setopt(g->tasks->easy, CURLOPT_PRIVATE, NULL);
                curl_task_free(g->tasks);
        }
        if (g->multi)
                (void) curl_multi_cleanup(g->multi);
        while (g->ios)
                curl_io_free(g->ios);
        sd_event_source_disable_unref(g->timer);
        sd_event_unref(g->event);
        free(g);
        return NULL;
}

int curl_glue_new(sd_event *event, CurlGlue **ret) {
        _cleanup_(curl_glue_freep) CurlGlue *g = NULL;

        g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->event = sd_event_ref(event);

        g->multi = curl_multi_init();
        if (!g->multi)
                return -ENOMEM;

        if (curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, curl_glue_socket_callback) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, curl_glue_timer_callback) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK)
                return -EINVAL;

        *ret = TAKE_PTR(g);
        return 0;
}

int curl_glue_add(CurlGlue *g, CURL *easy, CurlDoneFn done, void *userdata) {
        CurlTask *task;

        task = malloc(sizeof *task);
        if (!task)
                return -ENOMEM;
        *task = (CurlTask) { .glue = g, .easy = easy, .done = done, .userdata = userdata, .next = g->tasks };
        if (g->tasks)
                g->tasks->prev = task;
        g->tasks = task;

        if (curl_easy_setopt(easy, CURLOPT_PRIVATE, task) != CURLE_OK ||
            curl_multi_add_handle(g->multi, easy) != CURLM_OK) {
                (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
                curl_task_free(task);
                return -EIO;
        }
        return 0;
}

void curl_glue_cancel(CurlGlue *g, CURL *easy) {
        CurlTask *task = NULL;

        if (!easy)
                return;
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &task);
        if (!task)
                return;         /* not ours (or already finished) */
        (void) curl_multi_remove_handle(g->multi, easy);
        (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        curl_task_free(task);
}

int curl_easy_new_for(const char *url, CURL **ret) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;

        c = curl_easy_init();
        if (!c)
                return -ENOMEM;

        /* CURLOPT_VERBOSE is never set: its trace would print the Authorization header, and the
         * session token, to stderr and thus into the journal. */
        if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERAGENT, "session-scripts-upload/" PACKAGE_VERSION) != CURLE_OK ||
            /* No SIGALRM-based DNS timeouts in a single-threaded event loop. */
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            /* Never follow redirects: a signed request must not be replayed to another host. */
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            /* Only HTTP(S), also on redirects we do not follow: no file://, no other schemes. */
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            /* TLS peer and host verification stay at curl's defaults (on, system CA bundle); set
             * explicitly so that nobody "fixes" a test by turning them off here. */
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK)
                return -EINVAL;

        *ret = TAKE_PTR(c);
        return 0;
}

size_t curl_buffer_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        CurlBuffer *b = userdata;
        size_t n = size * nmemb, take;
        char *d;

        if (b->size >= b->max)
                return n;
        take = n < b->max - b->size ? n : b->max - b->size;

        d = realloc(b->data, b->size + take + 1);
        if (!d)
                return 0;       /* makes curl fail the transfer with CURLE_WRITE_ERROR */
        memcpy(d + b->size, ptr, take);
        b->data = d;
        b->size += take;
        b->data[b->size] = 0;
        return n;
}

void curl_buffer_done(CurlBuffer *b) {
        if (!b)
                return;
        if (b->data)
                explicit_bzero(b->data, b->size);
        free(b->data);
        b->data = NULL;
        b->size = 0;
}
