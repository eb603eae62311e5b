/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The output capture of one run: the read ends of the script's stdout and stderr pipes, split into
 * lines that go to the journal (run-journal.h; at most RUN_JOURNAL_BURST lines per
 * RUN_JOURNAL_INTERVAL_USEC, the rest counted and noted), the raw bytes appended to the run's
 * spool entry (output.h; at most RUN_SPOOL_LOG_MAX), and the last non-empty stdout line kept for the
 * result.
 *
 * The capture is over when both pipes reached EOF (every process that held their write ends is
 * gone), or when run_capture_end() abandoned them. The spool entry is finished (STATE=finished)
 * once the capture is over and the run's result was reported (run_capture_result_reported()),
 * whichever comes last: so that its fsync()s come after the caller got the result, not before.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "output.h"
#include "run-journal.h"
#include "script-config.h"
#include "time-util.h"

/* Per-run journal rate limit. journald limits per service (all runs of the daemon share it) and
 * would drop the excess anyway, but only after we paid a send per line; limiting here keeps capture
 * fast (≥ 100 MiB/s) and one noisy run from using up everybody's budget. The spool keeps all bytes;
 * a note in the journal says how many lines were left out. */
#define RUN_JOURNAL_BURST 10000U
#define RUN_JOURNAL_INTERVAL_USEC (30 * USEC_PER_SEC)

/* Upper bound of one run's spool log: 60 s at full speed could fill a disk otherwise. */
#define RUN_SPOOL_LOG_MAX_MIB 512
#define RUN_SPOOL_LOG_MAX ((uint64_t) RUN_SPOOL_LOG_MAX_MIB * 1024 * 1024)

/* Output pipes are enlarged to this (fewer wakeups at high throughput; best effort). */
#define RUN_PIPE_SIZE (1024 * 1024)

typedef struct RunCapture RunCapture;

/* Called from the event loop when the capture became over because the pipes reached EOF (not when
 * run_capture_end() or run_capture_drain() ended it). The callee may free the capture. */
typedef void (*RunCaptureOverFn)(RunCapture *c, void *userdata);

/* Where and under which name the run's output is spooled. spool_key NULL: not spooled. */
typedef struct RunSpoolParams {
        const char *dir;
        const char *key;
        const char *session_id;
        ScriptEvent event;
        ScriptContext context;
        const char *user;
} RunSpoolParams;

/*
 * Creates the capture of a run, with no pipes yet (a run that never starts a process is over as
 * soon as run_capture_end() is called). fields must outlive the capture; executable names the run
 * in messages; spool is copied. Returns 0 and the capture in *ret, or -ENOMEM.
 */
int run_capture_new(sd_event *event, RunFields *fields, const char *executable, const RunSpoolParams *spool,
                     RunCaptureOverFn callback, void *userdata, RunCapture **ret);
RunCapture *run_capture_free(RunCapture *c);
static inline void run_capture_freep(RunCapture **c) {
        run_capture_free(*c);
}

/* Starts reading the read ends of the stdout and stderr pipes (non-blocking; the capture takes
 * them over, also on failure). Returns 0 or -errno. */
int run_capture_start(RunCapture *c, int stdout_fd, int stderr_fd);

/* Creates the spool entry now (if the run is spooled), so that its creation overlaps with the
 * script starting. Failures are logged; the output is then journaled only. */
void run_capture_open_spool(RunCapture *c);

/* Writes line (with its newline) into the run's log, creating the spool entry if need be: the
 * only words of a run that never started. */
void run_capture_note(RunCapture *c, const char *line);

/* Takes in what the pipes hold already, bounded (a full pipe's worth per stream, a grandchild may
 * still be writing), and returns the last non-empty stdout line, made presentable (valid UTF-8, no
 * control characters, at most OUTPUT_LAST_LINE_MAX bytes; "" when there was none). A last line
 * without '\n' counts, too. The string is owned by the capture. */
const char *run_capture_drain(RunCapture *c);

/* The result was reported: the spool entry is finished as soon as the capture is over. */
void run_capture_result_reported(RunCapture *c);

/* Ends the capture now: what was read is flushed, the pipes are closed (a process that left the
 * scope but kept them is no longer listened to). No-op when over already. */
void run_capture_end(RunCapture *c);

/* Whether the capture is over (see above). */
bool run_capture_is_over(const RunCapture *c);
