/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The output capture of a run: pipes → lines → journal and spool (see run-capture.h). */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cleanup.h"
#include "macro.h"
#include "run-capture.h"
#include "session-scripts/session-scripts.h"
#include "string-util.h"

/* Read in 64 KiB chunks, at most 16 per wakeup so that one very chatty script does not starve the
 * bus and other runs. */
#define RUN_READ_CHUNK (64U * 1024U)
#define RUN_READS_PER_DISPATCH 16U

/* Raw bytes kept of the last stdout line: enough for OUTPUT_LAST_LINE_MAX bytes of text even when
 * some control characters in it are dropped. */
#define RUN_LAST_RAW_MAX (4U * OUTPUT_LAST_LINE_MAX)

typedef struct RunStream {
        RunCapture *capture;
        int fd;
        sd_event_source *source;
        LineSplitter splitter;
        bool is_stderr;
} RunStream;

struct RunCapture {
        sd_event *event;
        RunFields *fields;
        char *executable;
        RunCaptureOverFn callback;
        void *userdata;

        RunStream streams[2];           /* stdout, stderr */
        unsigned n_streams_open;
        bool over;
        bool result_reported;

        char *spool_dir, *spool_key, *session_id, *user;
        ScriptEvent event_kind;
        ScriptContext context;
        SpoolEntry *spool;
        bool spool_broken, spool_truncated, spool_finished;

        /* The last non-empty stdout line, raw (its first bytes only); made presentable only when
         * asked for, so that capture does no per-byte work for it. */
        char last_raw[RUN_LAST_RAW_MAX];
        size_t last_raw_len;
        char last_line[OUTPUT_LAST_LINE_MAX + 1];

        /* Journal rate limit: lines sent in the interval that began at journal_begin_usec, and
         * lines left out since the last note. */
        usec_t journal_begin_usec;
        unsigned journal_n;
        uint64_t journal_suppressed;
};

/* The loop's notion of now (cached per iteration: cheap enough to call per line). */
static usec_t capture_now(RunCapture *c) {
        usec_t t;

        if (sd_event_now(c->event, CLOCK_MONOTONIC, &t) < 0)
                return now(CLOCK_MONOTONIC);
        return t;
}

static void run_stream_release(RunStream *s) {
        s->source = sd_event_source_disable_unref(s->source);
        s->fd = safe_close(s->fd);
        line_splitter_done(&s->splitter);
}

int run_capture_new(sd_event *event, RunFields *fields, const char *executable, const RunSpoolParams *spool,
                     RunCaptureOverFn callback, void *userdata, RunCapture **ret) {
        _cleanup_(run_capture_freep) RunCapture *c = NULL;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->fields = fields;
        c->callback = callback;
        c->userdata = userdata;
        for (size_t i = 0; i < ELEMENTSOF(c->streams); i++)
                c->streams[i] = (RunStream) { .capture = c, .fd = -EBADF, .is_stderr = i == 1 };
        c->journal_begin_usec = capture_now(c);

        c->executable = strdup(executable);
        if (!c->executable)
                return -ENOMEM;
        if (spool->key) {
                c->spool_key = strdup(spool->key);
                c->spool_dir = strdup(spool->dir ?: SESSION_SCRIPTS_SPOOL_DIR);
                c->session_id = strdup(spool->session_id);
                c->user = strdup(spool->user);
                if (!c->spool_key || !c->spool_dir || !c->session_id || !c->user)
                        return -ENOMEM;
        }
        c->event_kind = spool->event;
        c->context = spool->context;

        *ret = TAKE_PTR(c);
        return 0;
}

RunCapture *run_capture_free(RunCapture *c) {
        if (!c)
                return NULL;

        for (size_t i = 0; i < ELEMENTSOF(c->streams); i++)
                run_stream_release(&c->streams[i]);
        spool_entry_free(c->spool);
        free(c->executable);
        free(c->spool_dir);
        free(c->spool_key);
        free(c->session_id);
        free(c->user);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

bool run_capture_is_over(const RunCapture *c) {
        return c->over;
}

/* ---- Journal ------------------------------------------------------------------------------------- */

static void capture_flush_suppressed(RunCapture *c) {
        if (c->journal_suppressed == 0)
                return;

        run_log(c->fields, LOG_WARNING, 0,
                "Suppressed %" PRIu64 " lines of output of %s (at most %u lines per %u s of one run go to "
                "the journal)%s.",
                c->journal_suppressed, c->executable, RUN_JOURNAL_BURST,
                (unsigned) (RUN_JOURNAL_INTERVAL_USEC / USEC_PER_SEC),
                c->spool ? "; the run's log has the complete output" : "");
        c->journal_suppressed = 0;
}

static bool capture_ratelimit(RunCapture *c) {
        usec_t t = capture_now(c);

        if (t - c->journal_begin_usec >= RUN_JOURNAL_INTERVAL_USEC) {
                capture_flush_suppressed(c);
                c->journal_begin_usec = t;
                c->journal_n = 0;
        }
        if (c->journal_n < RUN_JOURNAL_BURST) {
                c->journal_n++;
                return true;
        }
        c->journal_suppressed++;
        return false;
}

/* ---- Spool --------------------------------------------------------------------------------------- */

static void capture_spool_append(RunCapture *c, const void *data, size_t len) {
        /* The uploader and readers of the log find the cut by SPOOL_MARKER_TEXT (spool-format.h). */
        static const char note[] = "\n[" SPOOL_MARKER_TEXT ", the log of one run is limited to "
                                   STRINGIFY(RUN_SPOOL_LOG_MAX_MIB) " MiB]\n";
        uint64_t size;
        size_t n;
        int r;

        if (!c->spool || c->spool_broken || c->spool_truncated)
                return;

        size = spool_entry_get_size(c->spool);
        n = (size_t) MIN((uint64_t) len, RUN_SPOOL_LOG_MAX - MIN(size, RUN_SPOOL_LOG_MAX));

        r = spool_entry_append(c->spool, data, n);
        if (r >= 0 && n < len) {
                c->spool_truncated = true;
                r = spool_entry_append(c->spool, note, sizeof note - 1);
        }
        if (r < 0) {
                /* Keep journaling; the spool entry just stops growing (and is still finished). */
                c->spool_broken = true;
                run_log(c->fields, LOG_ERR, r,
                        "Failed to write the log of %s to the spool, no longer spooling: %m", c->executable);
        }
}

void run_capture_open_spool(RunCapture *c) {
        SpoolMeta meta;
        int r;

        if (!c->spool_key || c->spool || c->spool_broken || c->spool_finished)
                return;

        meta = (SpoolMeta) {
                .key = c->spool_key,
                .session_id = c->session_id,
                .event = script_event_to_string(c->event_kind),
                .context = script_context_to_string(c->context),
                .user = c->user,
        };
        r = spool_entry_create(c->spool_dir, &meta, &c->spool);
        if (r < 0) {
                c->spool_broken = true;
                run_log(c->fields, LOG_ERR, r,
                        "Failed to create a spool entry in %s for %s, the run's output is journaled only: %m",
                        c->spool_dir, c->executable);
        }
}

static void capture_spool_finish(RunCapture *c) {
        int r;

        if (!c->spool)
                return;
        r = spool_entry_finish(c->spool);
        if (r < 0)
                run_log(c->fields, LOG_ERR, r, "Failed to mark spool entry %s finished: %m",
                        spool_entry_get_id(c->spool));
        c->spool = spool_entry_free(c->spool);
        c->spool_finished = true;
}

void run_capture_note(RunCapture *c, const char *line) {
        run_capture_open_spool(c);
        capture_spool_append(c, line, strlen(line));
}

/* ---- Pipes --------------------------------------------------------------------------------------- */

static void on_line(const char *line, size_t len, void *userdata) {
        RunStream *s = userdata;
        RunCapture *c = s->capture;

        if (!s->is_stderr) {
                const char *p = line;
                size_t n = len;

                /* Usually the first byte already shows the line is not empty. */
                while (n > 0 && char_is_cc(*p)) {
                        p++;
                        n--;
                }
                if (n > 0) {
                        c->last_raw_len = MIN(n, sizeof c->last_raw);
                        memcpy(c->last_raw, p, c->last_raw_len);
                }
        }

        if (capture_ratelimit(c))
                run_journal_line(c->fields, s->is_stderr, line, len);
}

void run_capture_end(RunCapture *c) {
        if (c->over)
                return;

        for (size_t i = 0; i < ELEMENTSOF(c->streams); i++) {
                RunStream *s = &c->streams[i];

                if (s->fd >= 0)
                        line_splitter_flush(&s->splitter, on_line, s);
                run_stream_release(s);
        }
        c->n_streams_open = 0;

        capture_flush_suppressed(c);
        c->over = true;

        /* Usually the pipes reach EOF just before the loop sees the child exit: finishing (fsync)
         * now would delay the result; run_capture_result_reported() does it then. */
        if (c->result_reported)
                capture_spool_finish(c);
}

static void run_stream_eof(RunStream *s) {
        RunCapture *c = s->capture;

        line_splitter_flush(&s->splitter, on_line, s);
        run_stream_release(s);

        if (c->n_streams_open > 0)
                c->n_streams_open--;
        if (c->n_streams_open == 0)
                run_capture_end(c);
}

/* Reads what the pipe has, at most max_reads chunks. At EOF the stream is closed (and the capture
 * may be over). */
static void run_stream_read(RunStream *s, unsigned max_reads) {
        /* One buffer for all runs: the daemon is single-threaded and the data is consumed before we
         * return to the loop. */
        static char buf[RUN_READ_CHUNK];
        RunCapture *c = s->capture;

        for (unsigned i = 0; i < max_reads && s->fd >= 0; i++) {
                ssize_t n = read(s->fd, buf, sizeof buf);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        run_log(c->fields, LOG_WARNING, errno,
                                "Failed to read output of %s, ending capture: %m", c->executable);
                        n = 0;
                }
                if (n == 0) {
                        run_stream_eof(s);
                        return;
                }

                capture_spool_append(c, buf, (size_t) n);

                if (line_splitter_feed(&s->splitter, buf, (size_t) n, on_line, s) < 0)
                        run_log(c->fields, LOG_ERR, ENOMEM, "Out of memory while journaling output of %s.",
                                c->executable);
        }
}

static int on_stream_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        RunStream *s = userdata;
        RunCapture *c = s->capture;

        run_stream_read(s, RUN_READS_PER_DISPATCH);
        if (c->over && c->callback)
                c->callback(c, c->userdata);    /* may free c */
        return 0;
}

int run_capture_start(RunCapture *c, int stdout_fd, int stderr_fd) {
        int fds[2] = { stdout_fd, stderr_fd };
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(c->streams); i++) {
                RunStream *s = &c->streams[i];

                s->fd = fds[i];
                if (r < 0)
                        continue;       /* taken over, closed with the capture */
                r = sd_event_add_io(c->event, &s->source, s->fd, EPOLLIN, on_stream_io, s);
                if (r < 0)
                        continue;
                (void) sd_event_source_set_description(s->source, i == 0 ? "run-stdout" : "run-stderr");
                c->n_streams_open++;
        }
        return r;
}

const char *run_capture_drain(RunCapture *c) {
        RunStream *out = &c->streams[0];

        /* What the main process wrote before it exited is in the pipes already, but the loop may
         * have seen SIGCHLD first: take it in now, so that the last line is the last line. */
        for (size_t i = 0; i < ELEMENTSOF(c->streams); i++)
                if (c->streams[i].fd >= 0)
                        run_stream_read(&c->streams[i], RUN_PIPE_SIZE / RUN_READ_CHUNK + 1);

        (void) last_line_update(c->last_line, c->last_raw, c->last_raw_len);
        if (out->fd >= 0 && out->splitter.n > 0)
                (void) last_line_update(c->last_line, out->splitter.buf,
                                        MIN(out->splitter.n, (size_t) RUN_LAST_RAW_MAX));
        return c->last_line;
}

void run_capture_result_reported(RunCapture *c) {
        c->result_reported = true;

        /* Nothing to wait for without pipes (a run that never started a process). */
        if (c->n_streams_open == 0)
                run_capture_end(c);
        if (c->over)
                capture_spool_finish(c);
}
