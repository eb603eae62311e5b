/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One run of one executable (see runner.h for the contract): tamper check, start of a child that
 * waits until systemd has put it into its own transient scope, privilege drop and exec of the
 * verified fd, then output capture into the journal and the spool, the deadline, and the summary.
 * Everything is asynchronous on the caller's sd-event loop; nothing here waits for a child or for
 * systemd synchronously, so the daemon stays responsive while scripts run.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <spawn.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

/* Script output lines carry our fields only, not CODE_FILE=runner.c and the like. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "cleanup.h"
#include "default-limits.h"
#include "exec-helper.h"
#include "output.h"
#include "runner.h"
#include "session-scripts/session-scripts.h"
#include "time-util.h"


/* Our own backstop after the deadline: if systemd's stop did not end the main process within
 * TimeoutStop + this, we ask systemd to SIGKILL the whole scope (and SIGKILL the main process
 * ourselves). */
#define RUN_BACKSTOP_SLACK_USEC (1 * USEC_PER_SEC)

/* After the backstop kill, output pipes that still have not reached EOF (a process that left the
 * scope but kept our pipe) are abandoned after this much longer, so a run always ends. */
#define RUN_CAPTURE_GRACE_USEC (5 * USEC_PER_SEC)

/* Timer accuracy of the deadline: the user waits on it, so no coalescing beyond 1 ms. */
#define RUN_DEADLINE_ACCURACY_USEC (1 * USEC_PER_MSEC)

/* Output capture: read in 64 KiB chunks, at most 16 per wakeup so that one very chatty script does
 * not starve the bus and other runs; pipes enlarged to 1 MiB (fewer wakeups at high throughput). */
#define RUN_READ_CHUNK (64U * 1024U)
#define RUN_READS_PER_DISPATCH 16U
#define RUN_PIPE_SIZE (1024 * 1024)

/* Per-run journal rate limit. journald limits per service (all runs of the daemon share it) and
 * would drop the excess anyway, but only after we paid a send per line; limiting here keeps capture
 * fast (≥ 100 MiB/s) and one noisy run from using up everybody's budget. The spool keeps all bytes;
 * a note in the journal says how many lines were left out. */
#define RUN_JOURNAL_BURST 10000U
#define RUN_JOURNAL_INTERVAL_USEC (30 * USEC_PER_SEC)

/* Upper bound of one run's spool log: 60 s at full speed could fill a disk otherwise. */
#define RUN_SPOOL_LOG_MAX (UINT64_C(512) * 1024 * 1024)

/* Bound of the session id part of a unit name (unit names are at most 255 characters). */
#define RUN_UNIT_SESSION_MAX 64U

/* Supplementary groups we accept from the caller (the kernel's NGROUPS_MAX). */
#define RUN_GROUPS_MAX 65536U

/* Raw bytes kept of the last stdout line: enough for OUTPUT_LAST_LINE_MAX bytes of text even when
 * some control characters in it are dropped. */
#define RUN_LAST_RAW_MAX (4U * OUTPUT_LAST_LINE_MAX)


typedef enum RunPhase {
        RUN_PHASE_NEW,          /* no process (tampered, or failed before it was started) */
        RUN_PHASE_STARTING,     /* the helper waits on the go socket; scope job pending */
        RUN_PHASE_RUNNING,      /* go sent: the child is in its scope and execs */
} RunPhase;

typedef struct RunStream {
        Run *run;
        int fd;
        sd_event_source *source;
        LineSplitter splitter;
        bool is_stderr;
} RunStream;

typedef struct JobWatch JobWatch;

struct Run {
        unsigned n_ref;
        bool self_ref;          /* the run holds a reference on itself until run_is_done() */

        sd_event *event;
        sd_bus *bus;
        RunFinishedFn callback;
        void *userdata;

        /* Copied parameters. */
        char *session_id, *user, *executable, *home, *spool_key;
        ScriptEvent event_kind;
        ScriptContext context;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        char **argv, **envp;
        unsigned waiting_time_sec;

        char *unit;
        bool unit_requested;    /* StartTransientUnit was sent */
        bool unit_created;      /* ... and systemd accepted it */
        bool scope_ready;       /* the start job of the scope is done: the process is in it */
        bool held;              /* RunParams.hold, until run_release() */
        char *go_status;        /* the home-folder status sent with the go message, or NULL */

        RunPhase phase;
        uint64_t start_usec;    /* CLOCK_MONOTONIC */
        pid_t pid;
        int go_fd;              /* our end of the go socket */
        int cgroup_events_fd;   /* the scope cgroup's cgroup.events (unified hierarchy), or -EBADF */
        int status_fd;          /* read end of the child's status pipe */
        sd_event_source *child_source, *deadline_source, *backstop_source, *defer_source;
        unsigned backstop_stage;
        sd_bus_slot *start_slot;

        JobWatch *watch;
        Run *watch_next, *watch_prev;
        char *job_path;

        RunStream streams[2];
        unsigned n_streams_open;
        SpoolEntry *spool;
        bool spool_broken, spool_truncated, spool_finished;

        /* The last non-empty stdout line, raw (its first bytes only); made presentable only when
         * the result is reported, so that capture does no per-byte work for it. */
        char last_raw[RUN_LAST_RAW_MAX];
        size_t last_raw_len;
        char last_line[OUTPUT_LAST_LINE_MAX + 1];

        RunResultKind pending_kind;     /* for the deferred early finish */
        char *error;
        bool finished;          /* the callback fired (or would have, if detached) */
        bool reaped;            /* no child process left to wait for */
        bool capture_done;

        /* Prebuilt journal fields. */
        char *f_session, *f_event, *f_context, *f_user, *f_exe, *f_unit, *f_ident;
        char *msg_buf;          /* "MESSAGE=" + up to OUTPUT_LINE_MAX bytes */

        uint64_t jl_begin_usec;
        unsigned jl_n;
        uint64_t jl_suppressed;
};

/* One JobRemoved match per bus connection, shared by all runs that wait for their scope job. */
struct JobWatch {
        sd_bus *bus;
        sd_bus_slot *slot;
        Run *runs;
        JobWatch *next;
};

static JobWatch *job_watches;
static char *spool_dir_override;
static unsigned n_active_runs;

static const char *const run_result_table[_RUN_RESULT_MAX] = {
        [RUN_RESULT_SUCCESS] = "success",
        [RUN_RESULT_EXIT_CODE] = "exit-code",
        [RUN_RESULT_SIGNAL] = "signal",
        [RUN_RESULT_TIMEOUT] = "timeout",
        [RUN_RESULT_TAMPERED] = "tampered",
        [RUN_RESULT_FAILED] = "failed",
};

const char *run_result_to_string(RunResultKind k) {
        if ((unsigned) k >= _RUN_RESULT_MAX)
                return NULL;
        return run_result_table[k];
}

int run_set_spool_dir(const char *dir) {
        char *d = NULL;

        if (dir) {
                d = strdup(dir);
                if (!d)
                        return -ENOMEM;
        }
        free(spool_dir_override);
        spool_dir_override = d;
        return 0;
}

static const char *spool_dir(void) {
        return spool_dir_override ?: SESSION_SCRIPTS_SPOOL_DIR;
}

unsigned run_n_active(void) {
        return n_active_runs;
}

static uint64_t now_monotonic(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* The loop's notion of now (cached per iteration: cheap enough to call per line). */
static uint64_t run_now(Run *r) {
        uint64_t t;

        if (sd_event_now(r->event, CLOCK_MONOTONIC, &t) < 0)
                return now_monotonic();
        return t;
}

/* Copies l, with room for `extra` more entries (left NULL) before the terminating NULL. */
static char **strv_copy_extra(char * const *l, size_t extra) {
        size_t n = 0;
        char **c;

        for (char * const *i = l; i && *i; i++)
                n++;
        c = calloc(n + extra + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i]) {
                        strv_free(c);
                        return NULL;
                }
        }
        return c;
}

static char **strv_copy(char * const *l) {
        return strv_copy_extra(l, 0);
}

/* ---- Logging ------------------------------------------------------------------------------------- */

/* Logs a message about this run with its session fields (so `journalctl
 * SESSION_SCRIPTS_SESSION_ID=…` shows it). Returns -abs(error) for `return run_log(...)`. */
static int run_log(Run *r, int priority, int error, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
static int run_log(Run *r, int priority, int error, const char *format, ...) {
        _cleanup_(freep) char *msg = NULL, *m = NULL, *prio = NULL;
        struct iovec iov[9];
        size_t n = 0;
        va_list ap;
        int k;

        errno = abs(error);
        va_start(ap, format);
        k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (k < 0)
                return -abs(error);
        if (asprintf(&prio, "PRIORITY=%i", priority) < 0 || asprintf(&m, "MESSAGE=%s", msg) < 0)
                return -abs(error);

        iov[n++] = (struct iovec) { m, strlen(m) };
        iov[n++] = (struct iovec) { prio, strlen(prio) };
        if (r) {
                iov[n++] = (struct iovec) { r->f_session, strlen(r->f_session) };
                iov[n++] = (struct iovec) { r->f_event, strlen(r->f_event) };
                iov[n++] = (struct iovec) { r->f_context, strlen(r->f_context) };
                iov[n++] = (struct iovec) { r->f_user, strlen(r->f_user) };
                iov[n++] = (struct iovec) { r->f_exe, strlen(r->f_exe) };
                if (r->f_unit && r->unit_requested)
                        iov[n++] = (struct iovec) { r->f_unit, strlen(r->f_unit) };
        }
        (void) sd_journal_sendv(iov, (int) n);
        return -abs(error);
}

/* ---- Lifetime ------------------------------------------------------------------------------------ */

static void job_watch_remove(Run *r);

static void run_stream_release(RunStream *s) {
        s->source = sd_event_source_disable_unref(s->source);
        s->fd = safe_close(s->fd);
        line_splitter_done(&s->splitter);
}

static Run *run_free(Run *r) {
        job_watch_remove(r);

        r->start_slot = sd_bus_slot_unref(r->start_slot);
        r->child_source = sd_event_source_disable_unref(r->child_source);
        r->deadline_source = sd_event_source_disable_unref(r->deadline_source);
        r->backstop_source = sd_event_source_disable_unref(r->backstop_source);
        r->defer_source = sd_event_source_disable_unref(r->defer_source);
        for (size_t i = 0; i < ELEMENTSOF(r->streams); i++)
                run_stream_release(&r->streams[i]);
        safe_close(r->go_fd);
        safe_close(r->status_fd);
        safe_close(r->cgroup_events_fd);
        spool_entry_free(r->spool);

        free(r->session_id);
        free(r->user);
        free(r->executable);
        free(r->home);
        free(r->spool_key);
        free(r->groups);
        strv_free(r->argv);
        strv_free(r->envp);
        free(r->unit);
        free(r->go_status);
        free(r->job_path);
        free(r->error);
        free(r->f_session);
        free(r->f_event);
        free(r->f_context);
        free(r->f_user);
        free(r->f_exe);
        free(r->f_unit);
        free(r->f_ident);
        free(r->msg_buf);

        sd_bus_unref(r->bus);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

Run *run_ref(Run *r) {
        if (r)
                r->n_ref++;
        return r;
}

Run *run_unref(Run *r) {
        if (!r)
                return NULL;
        if (--r->n_ref > 0)
                return NULL;
        return run_free(r);
}

const char *run_get_unit(const Run *r) {
        return r && r->unit_requested ? r->unit : NULL;
}

void run_detach(Run *r) {
        if (!r)
                return;
        r->callback = NULL;
        r->userdata = NULL;
}

bool run_is_done(const Run *r) {
        return r->finished && r->reaped && r->capture_done;
}

/* Drops the run's reference on itself once nothing is left to wait for. The caller holds a
 * reference of its own while calling this (the run may be freed by it otherwise). */
static void run_maybe_release(Run *r) {
        if (!r->self_ref || !run_is_done(r))
                return;

        r->deadline_source = sd_event_source_disable_unref(r->deadline_source);
        r->backstop_source = sd_event_source_disable_unref(r->backstop_source);
        r->child_source = sd_event_source_disable_unref(r->child_source);     /* its pidfd */
        job_watch_remove(r);

        r->self_ref = false;
        n_active_runs--;
        run_unref(r);
}

/* ---- Journal ------------------------------------------------------------------------------------- */

static void run_journal_line(Run *r, bool is_stderr, const char *line, size_t len) {
        static const char prio_out[] = "PRIORITY=6", prio_err[] = "PRIORITY=4";
        static const char stream_out[] = SESSION_SCRIPTS_FIELD_STREAM "=stdout",
                          stream_err[] = SESSION_SCRIPTS_FIELD_STREAM "=stderr";
        const size_t prefix = strlen("MESSAGE=");
        struct iovec iov[10];
        size_t n = 0;

        /* MESSAGE= is the line exactly as written: sd_journal_sendv() takes it as a byte string,
         * so NULs, '%' and invalid UTF-8 are all safe. */
        memcpy(r->msg_buf + prefix, line, len);
        iov[n++] = (struct iovec) { r->msg_buf, prefix + len };
        iov[n++] = is_stderr ? (struct iovec) { (void *) prio_err, sizeof prio_err - 1 }
                             : (struct iovec) { (void *) prio_out, sizeof prio_out - 1 };
        iov[n++] = is_stderr ? (struct iovec) { (void *) stream_err, sizeof stream_err - 1 }
                             : (struct iovec) { (void *) stream_out, sizeof stream_out - 1 };
        iov[n++] = (struct iovec) { r->f_session, strlen(r->f_session) };
        iov[n++] = (struct iovec) { r->f_event, strlen(r->f_event) };
        iov[n++] = (struct iovec) { r->f_context, strlen(r->f_context) };
        iov[n++] = (struct iovec) { r->f_user, strlen(r->f_user) };
        iov[n++] = (struct iovec) { r->f_exe, strlen(r->f_exe) };
        iov[n++] = (struct iovec) { r->f_unit, strlen(r->f_unit) };
        iov[n++] = (struct iovec) { r->f_ident, strlen(r->f_ident) };

        (void) sd_journal_sendv(iov, (int) n);
}

static void run_journal_flush_suppressed(Run *r) {
        if (r->jl_suppressed == 0)
                return;

        run_log(r, LOG_WARNING, 0,
                "Suppressed %" PRIu64 " lines of output of %s (at most %u lines per %u s of one run go to "
                "the journal)%s.",
                r->jl_suppressed, r->executable, RUN_JOURNAL_BURST,
                (unsigned) (RUN_JOURNAL_INTERVAL_USEC / USEC_PER_SEC),
                r->spool ? "; the run's log has the complete output" : "");
        r->jl_suppressed = 0;
}

static bool run_journal_ratelimit(Run *r) {
        uint64_t now = run_now(r);

        if (now - r->jl_begin_usec >= RUN_JOURNAL_INTERVAL_USEC) {
                run_journal_flush_suppressed(r);
                r->jl_begin_usec = now;
                r->jl_n = 0;
        }
        if (r->jl_n < RUN_JOURNAL_BURST) {
                r->jl_n++;
                return true;
        }
        r->jl_suppressed++;
        return false;
}

static const char *run_context_string(Run *r) {
        return script_context_to_string(r->context);
}

static void format_duration(char *buf, size_t size, uint64_t usec) {
        snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 "s", usec / USEC_PER_SEC, (usec % USEC_PER_SEC) / 1000);
}

/* The one summary entry per run (SPEC §4), written when the result is known. */
static void run_journal_summary(Run *r, const RunResult *res) {
        _cleanup_(freep) char *msg = NULL, *f_result = NULL, *f_detail = NULL, *f_duration = NULL;
        const char *event = script_event_to_string(r->event_kind), *what;
        char duration[32], text[128];
        struct iovec iov[14];
        size_t n = 0;
        int priority, k;

        format_duration(duration, sizeof duration, res->duration_usec);

        if (res->kind == RUN_RESULT_TAMPERED) {
                /* The SPEC's sentence, exactly, as the message (and in the run's log). */
                k = asprintf(&msg, "MESSAGE=%s", SESSION_SCRIPTS_TAMPERED_TEXT);
                priority = LOG_ERR;
        } else {
                switch (res->kind) {
                case RUN_RESULT_SUCCESS:
                        snprintf(text, sizeof text, "exited successfully after %s", duration);
                        priority = LOG_INFO;
                        break;
                case RUN_RESULT_EXIT_CODE:
                        snprintf(text, sizeof text, "exited with status %i after %s", res->exit_status,
                                 duration);
                        priority = LOG_WARNING;
                        break;
                case RUN_RESULT_SIGNAL:
                        snprintf(text, sizeof text, "was killed by signal SIG%s after %s",
                                 sigabbrev_np(res->signal) ?: "?", duration);
                        priority = LOG_WARNING;
                        break;
                case RUN_RESULT_TIMEOUT:
                        snprintf(text, sizeof text,
                                 "was still running at the %us deadline and is being stopped",
                                 r->waiting_time_sec);
                        priority = LOG_WARNING;
                        break;
                default:
                        snprintf(text, sizeof text, "could not be started");
                        priority = LOG_ERR;
                        break;
                }
                what = text;
                k = asprintf(&msg, "MESSAGE=%s script %s (%s context) for %s %s%s%s.", event, r->executable,
                             run_context_string(r), r->user, what, res->error ? ": " : "",
                             res->error ?: "");
        }
        if (k < 0)
                return;

        if (asprintf(&f_result, SESSION_SCRIPTS_FIELD_RESULT "=%s", run_result_to_string(res->kind)) < 0 ||
            asprintf(&f_duration, SESSION_SCRIPTS_FIELD_DURATION_USEC "=%" PRIu64, res->duration_usec) < 0)
                return;
        if ((res->kind == RUN_RESULT_SUCCESS || res->kind == RUN_RESULT_EXIT_CODE) &&
            asprintf(&f_detail, SESSION_SCRIPTS_FIELD_EXIT_STATUS "=%i", res->exit_status) < 0)
                return;
        if (res->kind == RUN_RESULT_SIGNAL &&
            asprintf(&f_detail, SESSION_SCRIPTS_FIELD_SIGNAL "=%i", res->signal) < 0)
                return;

        char prio[16];
        snprintf(prio, sizeof prio, "PRIORITY=%i", priority);
        const char *mid = res->kind == RUN_RESULT_TAMPERED
                                  ? "MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_RUN_TAMPERED
                                  : "MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_RUN_FINISHED;

        iov[n++] = (struct iovec) { msg, strlen(msg) };
        iov[n++] = (struct iovec) { (void *) mid, strlen(mid) };
        iov[n++] = (struct iovec) { prio, strlen(prio) };
        iov[n++] = (struct iovec) { f_result, strlen(f_result) };
        iov[n++] = (struct iovec) { f_duration, strlen(f_duration) };
        if (f_detail)
                iov[n++] = (struct iovec) { f_detail, strlen(f_detail) };
        iov[n++] = (struct iovec) { r->f_session, strlen(r->f_session) };
        iov[n++] = (struct iovec) { r->f_event, strlen(r->f_event) };
        iov[n++] = (struct iovec) { r->f_context, strlen(r->f_context) };
        iov[n++] = (struct iovec) { r->f_user, strlen(r->f_user) };
        iov[n++] = (struct iovec) { r->f_exe, strlen(r->f_exe) };
        if (res->unit)
                iov[n++] = (struct iovec) { r->f_unit, strlen(r->f_unit) };

        (void) sd_journal_sendv(iov, (int) n);
}

/* ---- Spool --------------------------------------------------------------------------------------- */

static void run_spool_append(Run *r, const void *data, size_t len) {
        static const char note[] = "\n[session-scripts: output truncated, the log of one run is limited to "
                                   "512 MiB]\n";
        uint64_t size;
        size_t k;
        int q;

        if (!r->spool || r->spool_broken || r->spool_truncated)
                return;

        size = spool_entry_get_size(r->spool);
        k = (size_t) MIN((uint64_t) len, RUN_SPOOL_LOG_MAX - MIN(size, RUN_SPOOL_LOG_MAX));

        q = spool_entry_append(r->spool, data, k);
        if (q >= 0 && k < len) {
                r->spool_truncated = true;
                q = spool_entry_append(r->spool, note, sizeof note - 1);
        }
        if (q < 0) {
                /* Keep journaling; the spool entry just stops growing (and is still finished). */
                r->spool_broken = true;
                run_log(r, LOG_ERR, q, "Failed to write the log of %s to the spool, no longer spooling: %m",
                        r->executable);
        }
}

static void run_spool_open(Run *r) {
        SpoolMeta meta;
        int q;

        if (!r->spool_key || r->spool || r->spool_broken || r->spool_finished)
                return;

        meta = (SpoolMeta) {
                .key = r->spool_key,
                .session_id = r->session_id,
                .event = script_event_to_string(r->event_kind),
                .context = run_context_string(r),
                .user = r->user,
        };
        q = spool_entry_create(spool_dir(), &meta, &r->spool);
        if (q < 0) {
                r->spool_broken = true;
                run_log(r, LOG_ERR, q, "Failed to create a spool entry in %s for %s, the run's output is "
                        "journaled only: %m", spool_dir(), r->executable);
        }
}

static void run_spool_finish(Run *r) {
        int q;

        if (!r->spool)
                return;
        q = spool_entry_finish(r->spool);
        if (q < 0)
                run_log(r, LOG_ERR, q, "Failed to mark spool entry %s finished: %m",
                        spool_entry_get_id(r->spool));
        r->spool = spool_entry_free(r->spool);
        r->spool_finished = true;
}

/* ---- Result ------------------------------------------------------------------------------------ */

static void run_set_error(Run *r, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void run_set_error(Run *r, const char *format, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        /* Sent over D-Bus by the caller: valid UTF-8 only. */
        char clean[512];
        utf8_sanitize(clean, sizeof clean, buf, strlen(buf), true);

        free(r->error);
        r->error = strdup(clean);
}

static void run_capture_end(Run *r);
static bool run_stream_read(RunStream *s, unsigned max_reads);

/* The result is known: summary entry, then the callback. Fires once. */
static void run_finish(Run *r, RunResultKind kind, int exit_status, int sig) {
        RunResultKind k = kind;
        RunResult res;

        if (r->finished)
                return;
        r->finished = true;

        if (k == RUN_RESULT_TAMPERED && !r->error)
                r->error = strdup(SESSION_SCRIPTS_TAMPERED_TEXT);

        /* What the main process wrote before it exited is in the pipes already, but the loop may
         * have seen SIGCHLD first: take it in now, so that the last line is the last line. Bounded
         * (a grandchild may still be writing): a full pipe's worth per stream. */
        for (size_t i = 0; i < ELEMENTSOF(r->streams); i++)
                if (r->streams[i].fd >= 0)
                        (void) run_stream_read(&r->streams[i], RUN_PIPE_SIZE / RUN_READ_CHUNK + 1);

        /* A last line without '\n' is still in the splitter; it counts, too. */
        (void) last_line_update(r->last_line, r->last_raw, r->last_raw_len);
        if (r->streams[0].fd >= 0 && r->streams[0].splitter.n > 0)
                (void) last_line_update(r->last_line, r->streams[0].splitter.buf,
                                        MIN(r->streams[0].splitter.n, (size_t) RUN_LAST_RAW_MAX));

        res = (RunResult) {
                .kind = k,
                .exit_status = (k == RUN_RESULT_SUCCESS || k == RUN_RESULT_EXIT_CODE) ? exit_status : 0,
                .signal = sig,
                .duration_usec = run_now(r) - MIN(run_now(r), r->start_usec),
                .unit = r->unit_created ? r->unit : NULL,
                .last_line = r->last_line,
                .error = (k == RUN_RESULT_TAMPERED || k == RUN_RESULT_FAILED) ? (r->error ?: "unknown error")
                                                                                  : NULL,
        };

        /* A run that never got to run has only this to say in its log (a failed exec already wrote
         * its reason to stderr, which is in the log). */
        if (k == RUN_RESULT_TAMPERED || (k == RUN_RESULT_FAILED && r->phase != RUN_PHASE_RUNNING)) {
                _cleanup_(freep) char *line = NULL;

                run_spool_open(r);
                if (asprintf(&line, "%s%s\n", k == RUN_RESULT_FAILED ? "session-scripts: " : "",
                             res.error) >= 0)
                        run_spool_append(r, line, strlen(line));
        }

        run_journal_summary(r, &res);

        if (r->callback)
                r->callback(r, &res, r->userdata);
        /* Asked (run_scope_populated()) only from the callback: no need to hold it longer. */
        r->cgroup_events_fd = safe_close(r->cgroup_events_fd);

        /* Capture ended before the result was known: the spool entry was left for now, so that its
         * fsync()s happen after the caller got the result, not before. */
        if (r->capture_done)
                run_spool_finish(r);
}

static int on_deferred_finish(sd_event_source *s, void *userdata) {
        Run *r = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(r);

        r->defer_source = sd_event_source_disable_unref(r->defer_source);
        run_finish(r, r->pending_kind, 0, 0);
        if (r->n_streams_open == 0)
                run_capture_end(r);
        run_maybe_release(r);
        return 0;
}

/* Finishes from the event loop (run_start() must never call back directly). */
static int run_finish_later(Run *r, RunResultKind kind) {
        int q;

        r->pending_kind = kind;
        q = sd_event_add_defer(r->event, &r->defer_source, on_deferred_finish, r);
        if (q < 0)
                return q;
        (void) sd_event_source_set_description(r->defer_source, "run-finish");
        return 0;
}

/* ---- Capture ----------------------------------------------------------------------------------- */

static bool is_control(char c) {
        return (unsigned char) c < 0x20 || c == 0x7f;
}

static void on_line(const char *line, size_t len, void *userdata) {
        RunStream *s = userdata;
        Run *r = s->run;

        if (!s->is_stderr) {
                const char *p = line;
                size_t n = len;

                /* Usually the first byte already shows the line is not empty. */
                while (n > 0 && is_control(*p)) {
                        p++;
                        n--;
                }
                if (n > 0) {
                        r->last_raw_len = MIN(n, sizeof r->last_raw);
                        memcpy(r->last_raw, p, r->last_raw_len);
                }
        }

        if (run_journal_ratelimit(r))
                run_journal_line(r, s->is_stderr, line, len);
}

static void run_capture_end(Run *r) {
        if (r->capture_done)
                return;

        for (size_t i = 0; i < ELEMENTSOF(r->streams); i++) {
                RunStream *s = &r->streams[i];

                if (s->fd >= 0)
                        line_splitter_flush(&s->splitter, on_line, s);
                run_stream_release(s);
        }
        r->n_streams_open = 0;

        run_journal_flush_suppressed(r);
        r->capture_done = true;

        /* Usually the pipes reach EOF just before the loop sees the child exit: finishing (fsync) now
         * would delay the result; run_finish() does it after the callback. */
        if (r->finished)
                run_spool_finish(r);
}

static void run_stream_eof(RunStream *s) {
        Run *r = s->run;

        line_splitter_flush(&s->splitter, on_line, s);
        run_stream_release(s);

        if (r->n_streams_open > 0)
                r->n_streams_open--;
        if (r->n_streams_open == 0)
                run_capture_end(r);
}

/* Reads what the pipe has, at most max_reads chunks. Returns true at EOF (the stream is closed
 * then, and the capture may have ended). */
static bool run_stream_read(RunStream *s, unsigned max_reads) {
        /* One buffer for all runs: the daemon is single-threaded and the data is consumed before we
         * return to the loop. */
        static char buf[RUN_READ_CHUNK];
        Run *r = s->run;

        for (unsigned i = 0; i < max_reads && s->fd >= 0; i++) {
                ssize_t n = read(s->fd, buf, sizeof buf);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return false;
                        run_log(r, LOG_WARNING, errno, "Failed to read output of %s, ending capture: %m",
                                r->executable);
                        n = 0;
                }
                if (n == 0) {
                        run_stream_eof(s);
                        return true;
                }

                run_spool_append(r, buf, (size_t) n);

                if (line_splitter_feed(&s->splitter, buf, (size_t) n, on_line, s) < 0)
                        run_log(r, LOG_ERR, ENOMEM, "Out of memory while journaling output of %s.",
                                r->executable);
        }
        return false;
}

static int on_stream_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        RunStream *s = userdata;
        Run *r = s->run;
        _cleanup_(run_unrefp) Run *ref = run_ref(r);

        if (run_stream_read(s, RUN_READS_PER_DISPATCH))
                run_maybe_release(r);
        return 0;
}

/* ---- Job watch (JobRemoved) --------------------------------------------------------------------- */

static void run_job_done(Run *r, const char *result);
static void run_abort_start(Run *r, const char *format, ...) __attribute__((format(printf, 2, 3)));

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWatch *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        int q;

        q = sd_bus_message_read(m, "uoss", &id, &path, &unit, &result);
        if (q < 0) {
                run_log(NULL, LOG_WARNING, q, "Failed to parse JobRemoved signal, ignoring: %m");
                return 0;
        }

        /* Matched by unit name (unique per run), and by job path once the reply told us: the unit
         * name also works if the signal is seen before the reply. */
        for (Run *i = w->runs; i; i = i->watch_next)
                if (streq_ptr(i->unit, unit) && (!i->job_path || streq_ptr(i->job_path, path))) {
                        _cleanup_(run_unrefp) Run *ref = run_ref(i);

                        run_job_done(i, result);        /* may free w */
                        run_maybe_release(i);
                        break;
                }
        return 0;
}

static int on_job_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        JobWatch *w = userdata;
        const sd_bus_error *e;

        if (!sd_bus_message_is_method_error(m, NULL))
                return 0;

        /* Without the match we would never learn that the scope is ready: fail those waiting. */
        e = sd_bus_message_get_error(m);
        while (w->runs) {
                Run *i = w->runs;
                _cleanup_(run_unrefp) Run *ref = run_ref(i);
                bool last = !i->watch_next;

                run_abort_start(i, "Failed to subscribe to systemd's job signals: %s", e ? e->message : "?");
                run_maybe_release(i);
                if (last)
                        break;          /* w is gone with its last run */
        }
        return 0;
}

static int job_watch_add(Run *r) {
        JobWatch *w;
        int q;

        for (w = job_watches; w; w = w->next)
                if (w->bus == r->bus)
                        break;

        if (!w) {
                w = calloc(1, sizeof *w);
                if (!w)
                        return -ENOMEM;
                w->bus = r->bus;

                /* Subscribe before the StartTransientUnit call is sent: the broker handles our AddMatch
                 * before the call, so the JobRemoved of our job cannot pass us by. */
                q = sd_bus_match_signal_async(r->bus, &w->slot, "org.freedesktop.systemd1",
                                              "/org/freedesktop/systemd1",
                                              "org.freedesktop.systemd1.Manager", "JobRemoved",
                                              on_job_removed, on_job_match_installed, w);
                if (q < 0) {
                        free(w);
                        return q;
                }
                (void) sd_bus_slot_set_description(w->slot, "session-scripts-job-removed");
                w->next = job_watches;
                job_watches = w;
        }

        r->watch = w;
        r->watch_prev = NULL;
        r->watch_next = w->runs;
        if (w->runs)
                w->runs->watch_prev = r;
        w->runs = r;
        return 0;
}

static void job_watch_remove(Run *r) {
        JobWatch *w = r->watch;

        if (!w)
                return;

        if (r->watch_prev)
                r->watch_prev->watch_next = r->watch_next;
        else
                w->runs = r->watch_next;
        if (r->watch_next)
                r->watch_next->watch_prev = r->watch_prev;
        r->watch = NULL;
        r->watch_next = r->watch_prev = NULL;

        if (w->runs)
                return;

        /* Last waiting run: drop the match (a new one is added with the next run). */
        for (JobWatch **p = &job_watches; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        sd_bus_slot_unref(w->slot);
        free(w);
}

/* The scope could not be set up: the child never execs. Kill it (it is our unreaped child, so the
 * pid cannot have been reused) and report FAILED. */
static void run_abort_start(Run *r, const char *format, ...) {
        char buf[400];
        va_list ap;

        if (r->finished)
                return;

        va_start(ap, format);
        (void) vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        job_watch_remove(r);
        r->start_slot = sd_bus_slot_unref(r->start_slot);
        r->go_fd = safe_close(r->go_fd);        /* EOF on the go socket makes the child exit, too */
        if (!r->reaped && r->pid > 0)
                (void) kill(r->pid, SIGKILL);

        run_set_error(r, "%s", buf);
        run_finish(r, RUN_RESULT_FAILED, 0, 0);
}

/* Opens cgroup.events of the cgroup pid is in, on the unified hierarchy (cgroup v2, or the
 * "unified" tree of a hybrid setup). The file stays readable after the process is gone, and reads
 * fail with ENODEV once systemd removed the cgroup. Returns the fd or -errno. */
static int cgroup_events_open(pid_t pid) {
        _cleanup_(fclosep) FILE *f = NULL;
        char proc[64], line[4096], path[4200];
        const char *root;
        struct statfs sfs;
        int fd;

        snprintf(proc, sizeof proc, "/proc/%d/cgroup", (int) pid);
        f = fopen(proc, "re");
        if (!f)
                return -errno;
        /* The unified hierarchy's line is "0::/path". */
        for (;;) {
                if (!fgets(line, sizeof line, f))
                        return -ENOENT;
                if (strncmp(line, "0::/", 4) == 0)
                        break;
        }
        line[strcspn(line, "\n")] = 0;

        if (statfs("/sys/fs/cgroup", &sfs) < 0)
                return -errno;
        root = sfs.f_type == CGROUP2_SUPER_MAGIC ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
        if ((size_t) snprintf(path, sizeof path, "%s%s/cgroup.events", root, line + 3) >= sizeof path)
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

int run_scope_populated(const Run *r) {
        char buf[256];
        const char *p;
        ssize_t n;

        if (!r || r->cgroup_events_fd < 0)
                return -EBADF;
        n = pread(r->cgroup_events_fd, buf, sizeof buf - 1, 0);
        if (n < 0)
                return errno == ENODEV ? 0 : -errno;    /* ENODEV: the cgroup was removed */
        buf[n] = 0;
        p = strstr(buf, "populated ");
        if (!p)
                return -EBADMSG;
        return p[strlen("populated ")] == '1';
}

/* Lets the process execute the script once it is in its scope and no longer held (run_release()).
 * The go message is the home-folder status for the script's environment (exec-helper.h). */
static void run_send_go(Run *r) {
        const char *status = r->go_status ?: "";

        if (r->phase != RUN_PHASE_STARTING || r->finished || !r->scope_ready || r->held)
                return;

        /* A socket (not a pipe) with MSG_NOSIGNAL, so a child that died meanwhile gives us EPIPE,
         * never SIGPIPE. One short message: the helper reads it in one go. */
        if (send(r->go_fd, status[0] ? status : "-", status[0] ? strlen(status) : 1,
                 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                int err = errno;
                run_abort_start(r, "Failed to let the process of %s start: %s", r->executable,
                                strerror(err));
                return;
        }
        r->go_fd = safe_close(r->go_fd);
        r->phase = RUN_PHASE_RUNNING;

        /* The spool entry is created while the child execs (its fsyncs overlap with the script
         * starting, not with systemd setting up the scope); no output is read before we return. */
        run_spool_open(r);
}

void run_release(Run *r, const char *home_folder_status) {
        if (!r || !r->held)
                return;
        free(r->go_status);
        r->go_status = home_folder_status ? strdup(home_folder_status) : NULL;
        r->held = false;
        run_send_go(r);
}

static void run_job_done(Run *r, const char *result) {
        job_watch_remove(r);
        if (r->phase != RUN_PHASE_STARTING || r->finished)
                return;

        if (!streq_ptr(result, "done")) {
                run_abort_start(r, "systemd failed to start scope %s (job result: %s)", r->unit, result);
                return;
        }

        /* The child is in its scope now: note its cgroup (for run_scope_populated()), then let it
         * exec. Without it the manager waits for systemd's word on the scope instead. */
        r->unit_created = true;
        r->scope_ready = true;
        r->cgroup_events_fd = cgroup_events_open(r->pid);      /* < 0 is fine: see above */
        run_send_go(r);
}

static int on_start_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Run *r = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(r);
        const char *path;
        int q;

        r->start_slot = sd_bus_slot_unref(r->start_slot);

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                run_abort_start(r, "Failed to start scope %s: %s", r->unit,
                                e && e->message ? e->message : "?");
                run_maybe_release(r);
                return 0;
        }

        r->unit_created = true;
        q = sd_bus_message_read(m, "o", &path);
        if (q < 0) {
                run_log(r, LOG_WARNING, q, "Failed to parse the reply of StartTransientUnit, ignoring: %m");
                return 0;
        }
        if (r->phase == RUN_PHASE_STARTING && !r->finished && !r->job_path)
                r->job_path = strdup(path);     /* NULL on OOM: then the unit name alone matches */
        return 0;
}

/* ---- Deadline and backstop ----------------------------------------------------------------------- */

static int on_backstop(sd_event_source *s, uint64_t usec, void *userdata) {
        Run *r = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(r);
        int q;

        if (r->backstop_stage == 0) {
                /* systemd should have stopped the scope by now (SIGTERM at RuntimeMaxSec, SIGKILL
                 * TimeoutStopSec later). Something is off: make sure, twice. */
                if (!r->reaped || !r->capture_done) {
                        if (r->unit_created) {
                                q = sd_bus_call_method_async(r->bus, NULL, "org.freedesktop.systemd1",
                                                             "/org/freedesktop/systemd1",
                                                             "org.freedesktop.systemd1.Manager", "KillUnit",
                                                             NULL, NULL, "ssi", r->unit, "all", SIGKILL);
                                if (q < 0)
                                        run_log(r, LOG_WARNING, q, "Failed to ask systemd to kill %s: %m",
                                                r->unit);
                        }
                        if (!r->reaped && r->pid > 0)
                                (void) kill(r->pid, SIGKILL);
                }

                r->backstop_stage = 1;
                (void) sd_event_source_set_time_relative(s, RUN_CAPTURE_GRACE_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }

        if (!r->capture_done) {
                /* Someone outside the scope holds our pipe; stop listening so the run ends. */
                run_log(r, LOG_WARNING, 0,
                        "Output of %s still open %us after its deadline, no longer capturing it.",
                        r->executable,
                        (unsigned) ((RUN_TIMEOUT_STOP_USEC + RUN_BACKSTOP_SLACK_USEC +
                                     RUN_CAPTURE_GRACE_USEC) / USEC_PER_SEC));
                run_capture_end(r);
        }
        run_maybe_release(r);
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Run *r = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(r);
        int q;

        if (!r->finished) {
                if (r->phase == RUN_PHASE_STARTING)
                        run_abort_start(r, "systemd did not start scope %s within %us", r->unit,
                                        r->waiting_time_sec);
                else
                        /* systemd stops the scope itself (RuntimeMaxSec): we only report. */
                        run_finish(r, RUN_RESULT_TIMEOUT, 0, 0);
        }

        if (!run_is_done(r) && !r->backstop_source) {
                q = sd_event_add_time_relative(r->event, &r->backstop_source, CLOCK_MONOTONIC,
                                               RUN_TIMEOUT_STOP_USEC + RUN_BACKSTOP_SLACK_USEC,
                                               RUN_DEADLINE_ACCURACY_USEC, on_backstop, r);
                if (q < 0)
                        run_log(r, LOG_ERR, q, "Failed to arm the stop backstop of %s: %m", r->executable);
                else
                        (void) sd_event_source_set_description(r->backstop_source, "run-backstop");
        }

        run_maybe_release(r);
        return 0;
}

/* ---- Child ------------------------------------------------------------------------------------- */


static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Run *r = userdata;
        _cleanup_(run_unrefp) Run *ref = run_ref(r);
        ChildStatus st = { .stage = -1 };
        siginfo_t reaped = {};
        int code = si->si_code, status = si->si_status;

        /* Reap now ourselves (sd-event would, after we return; doing it here keeps the order simple:
         * from here on the pid is gone and must not be signalled). */
        (void) waitid(P_PID, r->pid, &reaped, WEXITED | WNOHANG);
        r->reaped = true;

        /* A start failure already queued its result (and killed the child): nothing to add. */
        if (!r->finished && !r->defer_source) {
                ssize_t n = r->status_fd >= 0 ? read(r->status_fd, &st, sizeof st) : -1;

                if (n == (ssize_t) sizeof st && child_stage_to_string(st.stage)) {
                        run_set_error(r, "%s %s: %s", child_stage_to_string(st.stage),
                                      st.stage == CHILD_STAGE_EXEC ? r->executable
                                      : st.stage == CHILD_STAGE_UID || st.stage == CHILD_STAGE_GID ||
                                                      st.stage == CHILD_STAGE_GROUPS
                                              ? r->user
                                              : "",
                                      strerror(st.error));
                        run_finish(r, RUN_RESULT_FAILED, 0, 0);
                } else if (r->phase != RUN_PHASE_RUNNING) {
                        run_abort_start(r, "The process of %s ended before it could start", r->executable);
                } else if (code == CLD_EXITED)
                        run_finish(r, status == 0 ? RUN_RESULT_SUCCESS : RUN_RESULT_EXIT_CODE, status, 0);
                else
                        run_finish(r, RUN_RESULT_SIGNAL, 0, status);
        }

        r->status_fd = safe_close(r->status_fd);
        run_maybe_release(r);
        return 0;
}

/* ---- Start --------------------------------------------------------------------------------------- */

static void sanitize_unit_part(char *ret, size_t size, const char *s) {
        size_t o = 0;

        /* Unit names allow [A-Za-z0-9:_.\\-]; everything else (and '\\', which would read as an
         * escape) becomes '_'. */
        for (; s && *s && o + 1 < size; s++)
                ret[o++] = ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                            (*s >= '0' && *s <= '9') || *s == ':' || *s == '_' || *s == '.' || *s == '-')
                                   ? *s
                                   : '_';
        if (o == 0 && size > 1)
                ret[o++] = '_';
        ret[o] = 0;
}

static int run_make_names(Run *r) {
        char sid[RUN_UNIT_SESSION_MAX + 1], user[256], exe[1024];
        uint8_t rnd[4] = {};
        const char *base;

        if (getrandom(rnd, sizeof rnd, GRND_INSECURE) < 0)
                for (size_t i = 0; i < sizeof rnd; i++)
                        rnd[i] = (uint8_t) random();

        sanitize_unit_part(sid, sizeof sid, r->session_id);
        if (asprintf(&r->unit, "session-scripts-%s-%s-%s-%02x%02x%02x%02x.scope",
                     r->event_kind == SCRIPT_EVENT_START ? "start" : "termination", run_context_string(r),
                     sid, rnd[0], rnd[1], rnd[2], rnd[3]) < 0)
                return -ENOMEM;

        /* Journal field values: valid UTF-8 and no control characters, so that entries render. */
        utf8_sanitize(user, sizeof user, r->user, strlen(r->user), true);
        utf8_sanitize(exe, sizeof exe, r->executable, strlen(r->executable), true);
        base = strrchr(exe, '/');
        base = base && base[1] ? base + 1 : exe;

        if (asprintf(&r->f_session, SESSION_SCRIPTS_FIELD_SESSION_ID "=%s", r->session_id) < 0 ||
            asprintf(&r->f_event, SESSION_SCRIPTS_FIELD_EVENT "=%s",
                     script_event_to_string(r->event_kind)) < 0 ||
            asprintf(&r->f_context, SESSION_SCRIPTS_FIELD_CONTEXT "=%s", run_context_string(r)) < 0 ||
            asprintf(&r->f_user, SESSION_SCRIPTS_FIELD_USER "=%s", user) < 0 ||
            asprintf(&r->f_exe, SESSION_SCRIPTS_FIELD_EXECUTABLE "=%s", exe) < 0 ||
            asprintf(&r->f_unit, SESSION_SCRIPTS_FIELD_UNIT "=%s", r->unit) < 0 ||
            asprintf(&r->f_ident, "SYSLOG_IDENTIFIER=%s", base) < 0)
                return -ENOMEM;

        r->msg_buf = malloc(strlen("MESSAGE=") + OUTPUT_LINE_MAX);
        if (!r->msg_buf)
                return -ENOMEM;
        memcpy(r->msg_buf, "MESSAGE=", strlen("MESSAGE="));
        return 0;
}

static int run_copy_params(Run *r, const RunParams *p) {
        r->session_id = strdup(p->session_id);
        r->user = strdup(p->user);
        r->executable = strdup(p->argv[0]);
        r->home = p->home ? strdup(p->home) : NULL;
        r->spool_key = p->spool_key ? strdup(p->spool_key) : NULL;
        r->held = p->hold;
        r->argv = strv_copy(p->argv);
        /* The verified file descriptor is what runs, so a script's $0 is /dev/fd/3, not its path:
         * tell the script where it was installed, for scripts that look for files next to
         * themselves (dirname "$AppStream_Session_Script"). */
        r->envp = strv_copy_extra(p->envp, 1);
        if (r->envp) {
                char *e;

                if (asprintf(&e, SESSION_SCRIPTS_ENV_SCRIPT_PATH "=%s", p->argv[0]) < 0)
                        return -ENOMEM;
                r->envp[strv_length(r->envp)] = e;
        }
        if (!r->session_id || !r->user || !r->executable || (p->home && !r->home) ||
            (p->spool_key && !r->spool_key) || !r->argv || !r->envp)
                return -ENOMEM;

        if (p->n_groups > 0) {
                r->groups = malloc(p->n_groups * sizeof(gid_t));
                if (!r->groups)
                        return -ENOMEM;
                memcpy(r->groups, p->groups, p->n_groups * sizeof(gid_t));
        }
        r->n_groups = p->n_groups;
        r->event_kind = p->event;
        r->context = p->context;
        r->uid = p->uid;
        r->gid = p->gid;
        r->waiting_time_sec = p->waiting_time_sec;
        return 0;
}

static int run_send_start_unit(Run *r) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char slice[64], user[256];
        _cleanup_(freep) char *description = NULL;
        int q;

        if (r->context == SCRIPT_CONTEXT_USER)
                snprintf(slice, sizeof slice, "user-%u.slice", (unsigned) r->uid);
        else
                snprintf(slice, sizeof slice, "system.slice");

        utf8_sanitize(user, sizeof user, r->user, strlen(r->user), true);
        if (asprintf(&description, "Session script %s (%s) for %s", script_event_to_string(r->event_kind),
                     run_context_string(r), user) < 0)
                return -ENOMEM;

        q = sd_bus_message_new_method_call(r->bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                           "StartTransientUnit");
        if (q < 0)
                return q;

        /* The unit name is new, so the mode only matters for the slice the scope goes into. The
         * system context uses "fail": nothing of system.slice may be replaced (at shutdown that
         * would fight the shutdown transaction). The user context uses "replace": when the user's
         * last session ends, logind queues a stop job for user-UID.slice, and a termination scope
         * started right then must replace that stop job (the slice stays up until the scope is
         * gone) instead of failing as a "destructive" transaction. systemd's shutdown jobs are
         * irreversible, so "replace" cannot hold up a shutdown. */
        q = sd_bus_message_append(m, "ss", r->unit, r->context == SCRIPT_CONTEXT_USER ? "replace" : "fail");
        if (q < 0)
                return q;
        q = sd_bus_message_open_container(m, 'a', "(sv)");
        if (q < 0)
                return q;
        q = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", description, "Slice", "s", slice,
                                  "PIDs", "au", 1, (uint32_t) r->pid);
        if (q < 0)
                return q;
        /* The timeout itself (SPEC §3): systemd stops the scope and every process in it at the
         * waiting time, also grandchildren the script left behind. */
        q = sd_bus_message_append(m, "(sv)(sv)", "RuntimeMaxUSec", "t",
                                  (uint64_t) r->waiting_time_sec * USEC_PER_SEC, "TimeoutStopUSec", "t",
                                  (uint64_t) RUN_TIMEOUT_STOP_USEC);
        if (q < 0)
                return q;
        /* No SendSIGHUP: scripts have no terminal, SIGTERM is the one stop signal they should
         * expect. CollectMode: a failed scope must not pile up in systemd's memory. */
        q = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
        if (q < 0)
                return q;
        q = sd_bus_message_close_container(m);
        if (q < 0)
                return q;
        q = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (q < 0)
                return q;

        /* The call may take at most the run's waiting time; the deadline timer backs this up. */
        q = sd_bus_call_async(r->bus, &r->start_slot, m, on_start_reply, r,
                              (uint64_t) r->waiting_time_sec * USEC_PER_SEC);
        if (q < 0)
                return q;
        (void) sd_bus_slot_set_description(r->start_slot, "session-scripts-start-unit");
        r->unit_requested = true;
        return 0;
}

/* Appends a malloc'd copy of the formatted string to l at *n. Returns 0 or -ENOMEM. */
static int strv_push_printf(char **l, size_t *n, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int strv_push_printf(char **l, size_t *n, const char *format, ...) {
        va_list ap;
        int k;

        va_start(ap, format);
        k = vasprintf(&l[*n], format, ap);
        va_end(ap);
        if (k < 0) {
                l[*n] = NULL;
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

/* Formats a limit for the helper's --limits ("-" is infinity). */
static void limit_format(char buf[static 24], rlim_t v) {
        if (v == RLIM_INFINITY)
                strcpy(buf, "-");
        else
                (void) snprintf(buf, 24, "%llu", (unsigned long long) v);
}

/* Starts the run's process: session-scripts-exec, which waits for the go byte (see exec-helper.h)
 * with fds[i] as its descriptor i. Returns 0 and the pid, or -errno. */
static int run_spawn_helper(Run *r, int exe_fd, const int fds[static 6], pid_t *ret_pid) {
        _cleanup_(strv_freep) char **argv = NULL;
        _cleanup_(freep) char *groups = NULL, *limits = NULL;
        const struct rlimit *l = default_limits_get();
        size_t n = 0, llen = 0, argc = 0;
        char magic[2] = {};
        FILE *f;
        int q;

        while (r->argv[argc])
                argc++;
        argv = calloc(argc + 12, sizeof(char *));
        if (!argv)
                return -ENOMEM;

        /* "G1,G2,…" and "SOFT:HARD,…". */
        q = exec_helper_format_groups(r->groups, r->n_groups, &groups);
        if (q < 0)
                return q;
        f = open_memstream(&limits, &llen);
        if (!f)
                return -ENOMEM;
        for (int i = 0; i < DEFAULT_LIMITS_N; i++) {
                char soft[24], hard[24];

                limit_format(soft, l[i].rlim_cur);
                limit_format(hard, l[i].rlim_max);
                fprintf(f, "%s%s:%s", i > 0 ? "," : "", soft, hard);
        }
        if (fclose(f) != 0)
                return -ENOMEM;

        q = strv_push_printf(argv, &n, "session-scripts-exec");
        if (q >= 0)
                q = strv_push_printf(argv, &n, "run");
        /* A script is run by its interpreter through /dev/fd/N: that descriptor must stay open. */
        if (q >= 0 && pread(exe_fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!')
                q = strv_push_printf(argv, &n, "--script");
        if (q >= 0 && r->context == SCRIPT_CONTEXT_USER) {
                q = strv_push_printf(argv, &n, "--user");
                if (q >= 0)
                        q = strv_push_printf(argv, &n, "%u", (unsigned) r->uid);
                if (q >= 0)
                        q = strv_push_printf(argv, &n, "%u", (unsigned) r->gid);
                if (q >= 0)
                        q = strv_push_printf(argv, &n, "%s", groups);
                if (q >= 0)
                        q = strv_push_printf(argv, &n, "%s", r->home ?: "/");
        }
        if (q >= 0)
                q = strv_push_printf(argv, &n, "--limits");
        if (q >= 0)
                q = strv_push_printf(argv, &n, "%s", limits);
        if (q >= 0)
                q = strv_push_printf(argv, &n, "--");
        for (size_t i = 0; q >= 0 && i < argc; i++)
                q = strv_push_printf(argv, &n, "%s", r->argv[i]);
        if (q < 0)
                return q;

        return exec_helper_spawn(argv, r->envp, fds, 6, ret_pid);
}

/* Starts the run's process and asks systemd for its scope. On failure the run is finished later as FAILED
 * with r->error set; returns -ENOMEM only when even that cannot be arranged. */
static int run_spawn(Run *r, int exe_fd) {
        _cleanup_(close_pairp) int out[2] = { -EBADF, -EBADF }, err[2] = { -EBADF, -EBADF },
                                   go[2] = { -EBADF, -EBADF }, status[2] = { -EBADF, -EBADF };
        _cleanup_(closep) int null_fd = -EBADF;
        pid_t pid;
        int q;

        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null_fd < 0) {
                run_set_error(r, "Failed to open /dev/null: %s", strerror(errno));
                return -errno;
        }
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0) {
                run_set_error(r, "Failed to create pipes: %s", strerror(errno));
                return -errno;
        }
        /* Our ends never block the loop. Bigger pipes: fewer wakeups for chatty scripts (best effort,
         * an unprivileged limit may refuse). */
        if (fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(err[0], F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(status[0], F_SETFL, O_NONBLOCK) < 0) {
                run_set_error(r, "Failed to make pipes non-blocking: %s", strerror(errno));
                return -errno;
        }
        (void) fcntl(out[0], F_SETPIPE_SZ, RUN_PIPE_SIZE);
        (void) fcntl(err[0], F_SETPIPE_SZ, RUN_PIPE_SIZE);

        q = run_spawn_helper(r, exe_fd, (int[]) { null_fd, out[1], err[1], exe_fd, status[1], go[1] }, &pid);
        if (q == -ENOMEM)
                return q;
        if (q < 0) {
                run_set_error(r, "Failed to start %s: %s", EXEC_HELPER_PATH, strerror(-q));
                return q;
        }

        r->pid = pid;
        r->phase = RUN_PHASE_STARTING;
        r->reaped = false;
        r->go_fd = TAKE_FD(go[0]);
        r->status_fd = TAKE_FD(status[0]);

        /* From here the child exists: every failure below must kill it, so it has to be watched. */
        q = sd_event_add_child(r->event, &r->child_source, pid, WEXITED, on_child_exit, r);
        if (q < 0) {
                /* Without SIGCHLD blocked (or on OOM) we cannot watch it: kill and reap right away,
                 * it has not executed the script yet (it waits for the go byte). */
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                r->reaped = true;
                run_set_error(r, "Failed to watch the child process: %s", strerror(-q));
                return q;
        }
        (void) sd_event_source_set_description(r->child_source, "run-child");

        for (size_t i = 0; i < ELEMENTSOF(r->streams); i++) {
                RunStream *s = &r->streams[i];

                s->run = r;
                s->is_stderr = i == 1;
                s->fd = i == 0 ? TAKE_FD(out[0]) : TAKE_FD(err[0]);
                q = sd_event_add_io(r->event, &s->source, s->fd, EPOLLIN, on_stream_io, s);
                if (q < 0)
                        goto kill;
                (void) sd_event_source_set_description(s->source, i == 0 ? "run-stdout" : "run-stderr");
                r->n_streams_open++;
        }

        q = job_watch_add(r);
        if (q < 0)
                goto kill;

        q = run_send_start_unit(r);
        if (q < 0)
                goto kill;

        return 0;

kill:
        job_watch_remove(r);
        r->go_fd = safe_close(r->go_fd);
        (void) kill(pid, SIGKILL);
        run_set_error(r, "Failed to ask systemd for scope %s: %s", r->unit, strerror(-q));
        return q;
}

int run_start(sd_event *event, sd_bus *bus, const RunParams *params, RunFinishedFn callback, void *userdata,
              Run **ret) {
        _cleanup_(run_unrefp) Run *r = NULL;
        _cleanup_(closep) int exe_fd = -EBADF;
        int q;

        if (!event || !bus || !params || !ret || !params->session_id || !params->user || !params->argv ||
            !params->argv[0] || !params->envp || !params->baseline)
                return -EINVAL;
        if ((unsigned) params->event >= _SCRIPT_EVENT_MAX ||
            (unsigned) params->context >= _SCRIPT_CONTEXT_MAX)
                return -EINVAL;
        if (params->waiting_time_sec < SCRIPT_CONFIG_WAITING_TIME_MIN ||
            params->waiting_time_sec > SCRIPT_CONFIG_WAITING_TIME_MAX)
                return -EINVAL;
        if (params->n_groups > RUN_GROUPS_MAX || (params->n_groups > 0 && !params->groups))
                return -EINVAL;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->n_ref = 1;
        r->go_fd = r->status_fd = r->cgroup_events_fd = -EBADF;
        r->streams[0].fd = r->streams[1].fd = -EBADF;
        r->reaped = true;       /* until there is a child */
        r->event = sd_event_ref(event);
        r->bus = sd_bus_ref(bus);
        r->callback = callback;
        r->userdata = userdata;
        r->start_usec = now_monotonic();
        r->jl_begin_usec = r->start_usec;

        q = run_copy_params(r, params);
        if (q < 0)
                return q;
        q = run_make_names(r);
        if (q < 0)
                return q;

        /* The run keeps itself alive until it has ended, whatever the caller does with its ref. */
        q = sd_event_add_time(event, &r->deadline_source, CLOCK_MONOTONIC,
                              r->start_usec + (uint64_t) r->waiting_time_sec * USEC_PER_SEC,
                              RUN_DEADLINE_ACCURACY_USEC, on_deadline, r);
        if (q < 0)
                return q;
        (void) sd_event_source_set_description(r->deadline_source, "run-deadline");

        /* Early results are reported from the loop; the capture (of nothing, or of a killed child's
         * pipes) then ends and finishes the spool entry. */
        exe_fd = tamper_verify_open(params->baseline, r->executable);
        if (exe_fd == -EBADMSG)
                q = run_finish_later(r, RUN_RESULT_TAMPERED);
        else if (exe_fd < 0) {
                run_set_error(r, "Failed to open %s: %s", r->executable, strerror(-exe_fd));
                q = run_finish_later(r, RUN_RESULT_FAILED);
        } else {
                q = run_spawn(r, exe_fd);
                if (q == -ENOMEM && !r->error)
                        return q;
                if (q < 0)
                        q = run_finish_later(r, RUN_RESULT_FAILED);
        }
        if (q < 0)
                return q;

        r->self_ref = true;
        run_ref(r);
        n_active_runs++;

        *ret = TAKE_PTR(r);
        return 0;
}
