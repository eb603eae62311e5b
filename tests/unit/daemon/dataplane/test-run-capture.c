/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of a run's output capture (daemon/run-capture.c) on pipes of its own, without systemd:
 * the last stdout line (a line without '\n' counts, control characters go), every byte in the
 * spool log, when the capture is over (EOF of both pipes; at once for a run without pipes), and
 * the spool entry finished only once the capture is over and the result was reported. The journal
 * entries go nowhere when there is no journal; their fields are covered by
 * tests/integration/runner/.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "run-capture.h"
#include "run-journal.h"
#include "tests.h"

static unsigned n_over;

static void on_over(RunCapture *c, void *userdata) {
        n_over++;
}

/* The contents of the one file in dir whose name ends in suffix. */
static char *read_entry(const char *dir, const char *suffix) {
        char path[4096], *buf = NULL;
        struct dirent *de;
        size_t len = 0;
        DIR *d;
        FILE *f;

        d = opendir(dir);
        ASSERT_TRUE(d);
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);

                if (n > strlen(suffix) && strcmp(de->d_name + n - strlen(suffix), suffix) == 0)
                        break;
        }
        ASSERT_TRUE(de);
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        closedir(d);

        f = fopen(path, "re");
        ASSERT_TRUE(f);
        buf = calloc(1, 65536);
        ASSERT_TRUE(buf);
        len = fread(buf, 1, 65535, f);
        buf[len] = 0;
        fclose(f);
        return buf;
}

static void fields_init(RunFields *f) {
        ASSERT_OK(run_fields_init(f, "sess-1", SCRIPT_EVENT_START, SCRIPT_CONTEXT_SYSTEM, "alice",
                                  "/etc/scripts/start.sh", "session-scripts-start-system-sess-1-00.scope"));
}

static void test_pipes(sd_event *event, const char *dir) {
        _cleanup_(run_capture_freep) RunCapture *c = NULL;
        _cleanup_(freep) char *log = NULL, *meta = NULL;
        RunFields f = {};
        int out[2], err[2];

        fields_init(&f);
        ASSERT_OK(pipe2(out, O_CLOEXEC | O_NONBLOCK));
        ASSERT_OK(pipe2(err, O_CLOEXEC | O_NONBLOCK));

        ASSERT_OK(run_capture_new(event, &f, "/etc/scripts/start.sh",
                                  &(RunSpoolParams) {
                                          .dir = dir,
                                          .key = "stack/fleet/pool/alice/sess-1/SessionScriptsLogs/SessionStart/system.log",
                                          .session_id = "sess-1",
                                          .event = SCRIPT_EVENT_START,
                                          .context = SCRIPT_CONTEXT_SYSTEM,
                                          .user = "alice",
                                  },
                                  on_over, NULL, &c));
        ASSERT_OK(run_capture_start(c, out[0], err[0]));
        run_capture_open_spool(c);

        ASSERT_EQ(write(out[1], "first\n\x01\n\x02 second\n", 17), 17);
        ASSERT_EQ(write(err[1], "warning\n", 8), 8);
        ASSERT_EQ(write(out[1], "partial", 7), 7);

        /* The result is taken while the writers are still there: the partial line is the last. */
        ASSERT_STREQ(run_capture_drain(c), "partial");
        ASSERT_TRUE(!run_capture_is_over(c));

        /* EOF on one pipe is not the end. */
        close(out[1]);
        while (n_over == 0 && sd_event_run(event, 100 * 1000) > 0)
                ;
        ASSERT_TRUE(!run_capture_is_over(c));
        ASSERT_EQ(n_over, 0);

        close(err[1]);
        while (n_over == 0)
                ASSERT_TRUE(sd_event_run(event, 5 * 1000 * 1000) >= 0);
        ASSERT_EQ(n_over, 1);
        ASSERT_TRUE(run_capture_is_over(c));

        /* Over, but the result not yet reported: the entry is still running. */
        meta = read_entry(dir, ".meta");
        ASSERT_TRUE(strstr(meta, "STATE=running\n"));
        free(meta);

        run_capture_result_reported(c);
        meta = read_entry(dir, ".meta");
        ASSERT_TRUE(strstr(meta, "STATE=finished\n"));
        log = read_entry(dir, ".log");
        ASSERT_TRUE(strstr(log, "first\n"));
        ASSERT_TRUE(strstr(log, "\x02 second\n"));
        ASSERT_TRUE(strstr(log, "warning\n"));
        ASSERT_TRUE(strstr(log, "partial"));

        c = run_capture_free(c);
        run_fields_done(&f);
}

static void test_no_pipes(sd_event *event, const char *dir) {
        _cleanup_(run_capture_freep) RunCapture *c = NULL;
        _cleanup_(freep) char *log = NULL, *meta = NULL;
        RunFields f = {};

        fields_init(&f);
        ASSERT_OK(run_capture_new(event, &f, "/etc/scripts/start.sh",
                                  &(RunSpoolParams) {
                                          .dir = dir,
                                          .key = "k",
                                          .session_id = "sess-1",
                                          .user = "alice",
                                  },
                                  on_over, NULL, &c));
        ASSERT_STREQ(run_capture_drain(c), "");
        run_capture_note(c, "session-scripts: could not be started\n");
        ASSERT_TRUE(!run_capture_is_over(c));

        /* Nothing to wait for: over (without the callback) and finished with the result. */
        run_capture_result_reported(c);
        ASSERT_TRUE(run_capture_is_over(c));
        ASSERT_EQ(n_over, 1);
        meta = read_entry(dir, ".meta");
        ASSERT_TRUE(strstr(meta, "STATE=finished\n"));
        log = read_entry(dir, ".log");
        ASSERT_STREQ(log, "session-scripts: could not be started\n");

        c = run_capture_free(c);
        run_fields_done(&f);
}

int main(void) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        char a[] = "/tmp/test-run-capture-XXXXXX", b[] = "/tmp/test-run-capture-XXXXXX";
        char cmd[256];

        ASSERT_OK(sd_event_new(&event));
        ASSERT_TRUE(mkdtemp(a));
        ASSERT_TRUE(mkdtemp(b));

        test_pipes(event, a);
        test_no_pipes(event, b);

        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", a, b);
        ASSERT_EQ(system(cmd), 0);
        return 0;
}
