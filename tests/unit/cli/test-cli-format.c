/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the command line tool's formatters (cli/format.c) — durations, sizes, timestamps,
 * terminal-safe text, the `sessions` table and JSON, the `logs` lines and JSON, the colour decision
 * per stream, progress lines, findings as JSON — and of the S3 URL helpers of `install-bundle
 * s3://…` (cli/bundle-fetch.c, and upload/s3.c for the object URL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle-fetch.h"
#include "cleanup.h"
#include "format.h"
#include "s3.h"
#include "tests.h"

const char *program_name = "test-cli-format";

/* Runs fn into a memory stream and returns what it wrote. */
#define CAPTURE(buf, size, call)                                                                 \
        do {                                                                                     \
                FILE *_f = open_memstream(&(buf), &(size));                                      \
                ASSERT_TRUE(_f);                                                                 \
                call;                                                                            \
                fclose(_f);                                                                      \
        } while (0)

static void test_duration(void) {
        char b[32];

        ASSERT_STREQ(format_duration(b, sizeof b, 0), "0ms");
        ASSERT_STREQ(format_duration(b, sizeof b, 850000), "850ms");
        ASSERT_STREQ(format_duration(b, sizeof b, 1250000), "1.25s");
        ASSERT_STREQ(format_duration(b, sizeof b, 200000000), "3min 20s");
        ASSERT_STREQ(format_duration(b, sizeof b, 7500ULL * 1000000ULL), "2h 5min");
        ASSERT_STREQ(format_duration(b, sizeof b, 3ULL * 86400ULL * 1000000ULL + 4ULL * 3600ULL * 1000000ULL), "3d 4h");
}

static void test_bytes(void) {
        char b[32];

        ASSERT_STREQ(format_bytes(b, sizeof b, 0), "0 B");
        ASSERT_STREQ(format_bytes(b, sizeof b, 1023), "1023 B");
        ASSERT_STREQ(format_bytes(b, sizeof b, 1536), "1.5 KiB");
        ASSERT_STREQ(format_bytes(b, sizeof b, 20ULL * 1024 * 1024), "20.0 MiB");
        ASSERT_STREQ(format_bytes(b, sizeof b, 3ULL << 30), "3.0 GiB");
}

static void test_timestamp(void) {
        char b[64];

        ASSERT_STREQ(format_timestamp(b, sizeof b, 0), "-");
        ASSERT_STREQ(format_timestamp(b, sizeof b, 1700000000ULL * 1000000ULL), "2023-11-14 22:13:20");
        ASSERT_STREQ(format_timestamp_utc(b, sizeof b, 1700000000ULL * 1000000ULL + 42), "2023-11-14T22:13:20.000042Z");
        ASSERT_STREQ(format_timestamp_utc(b, sizeof b, 0), "");
}

static void test_sanitize(void) {
        char b[64];

        ASSERT_STREQ(text_sanitize(b, sizeof b, "plain\ttext", 10), "plain\ttext");
        /* An escape sequence must not reach the terminal. */
        ASSERT_STREQ(text_sanitize(b, sizeof b, "\x1b[31mred\r\n", 10), "?[31mred??");
        ASSERT_STREQ(text_sanitize(b, sizeof b, "caf\xc3\xa9", 5), "caf\xc3\xa9");
        ASSERT_STREQ(text_sanitize(b, sizeof b, "bad\xff!", 5), "bad\xef\xbf\xbd!");
        /* Overlong encoding of '/', a C1 control, a NUL. */
        ASSERT_STREQ(text_sanitize(b, sizeof b, "\xc0\xaf", 2), "\xef\xbf\xbd\xef\xbf\xbd");
        ASSERT_STREQ(text_sanitize(b, sizeof b, "\xc2\x9b", 2), "?");
        ASSERT_STREQ(text_sanitize(b, sizeof b, "a\0b", 3), "a?b");
        /* Truncation on a character boundary. */
        ASSERT_STREQ(text_sanitize(b, 5, "ab\xc3\xa9\xc3\xa9", 6), "ab\xc3\xa9");
}

static void test_run_result(void) {
        char b[64];
        RunInfo r = { .result = (char *) "exit-code", .exit_status = 3 };

        ASSERT_STREQ(format_run_result(b, sizeof b, &r), "exit status 3");
        ASSERT_TRUE(!run_info_succeeded(&r));
        r.result = (char *) "signal";
        r.signal = 9;
        ASSERT_STREQ(format_run_result(b, sizeof b, &r), "killed by SIGKILL");
        r.result = (char *) "timeout";
        ASSERT_STREQ(format_run_result(b, sizeof b, &r), "timed out");
        r.result = (char *) "tampered";
        ASSERT_STREQ(format_run_result(b, sizeof b, &r), "skipped: modified after provisioning");
        r.result = (char *) "success";
        ASSERT_STREQ(format_run_result(b, sizeof b, &r), "success");
        ASSERT_TRUE(run_info_succeeded(&r));
}

static SessionInfo *make_sessions(size_t *ret_n) {
        SessionInfo *s = calloc(2, sizeof(SessionInfo));

        ASSERT_TRUE(s);
        s[0] = (SessionInfo) {
                .id = strdup("11111111-2222-3333-4444-555555555555"),
                .user = strdup("alice"),
                .uid = 1000,
                .since_usec = 1700000000ULL * 1000000ULL,
                .start_state = strdup("done"),
                .term_state = strdup("not-run"),
                .n_runs = 2,
        };
        s[0].runs = calloc(2, sizeof(RunInfo));
        ASSERT_TRUE(s[0].runs);
        s[0].runs[0] = (RunInfo) { strdup("SessionStart"), strdup("system"), strdup("ss-1.scope"),
                                   strdup("/opt/start.sh"), strdup("success"), 0, 0, 1250000 };
        s[0].runs[1] = (RunInfo) { strdup("SessionStart"), strdup("user"), strdup("ss-2.scope"),
                                   strdup("/opt/user.sh"), strdup("exit-code"), 3, 0, 40000 };
        s[1] = (SessionInfo) {
                .id = strdup("evil\x1b]0;title\x07"),
                .user = strdup("bob"),
                .uid = 1001,
                .start_state = strdup("running"),
                .term_state = strdup("not-run"),
        };
        *ret_n = 2;
        return s;
}

static void test_sessions_print(void) {
        _cleanup_(freep) char *out = NULL;
        size_t size = 0, n = 0;
        SessionInfo *s = make_sessions(&n);

        CAPTURE(out, size, sessions_print(_f, s, n, false));
        fputs(out, stderr);
        ASSERT_TRUE(strstr(out, "SESSION                              USER             SINCE               START    TERMINATION\n"));
        ASSERT_TRUE(strstr(out, "11111111-2222-3333-4444-555555555555 alice            2023-11-14 22:13:20 done     not-run    \n"));
        ASSERT_TRUE(strstr(out, "  SessionStart/system           /opt/start.sh  success  1.25s\n"));
        ASSERT_TRUE(strstr(out, "  SessionStart/user             /opt/user.sh  exit status 3  40ms\n"));
        /* The control characters of an id never reach the terminal. */
        ASSERT_TRUE(!strchr(out, '\x1b'));
        ASSERT_TRUE(!strchr(out, '\x07'));
        ASSERT_TRUE(strstr(out, "\n2 sessions.\n"));
        free(out);
        out = NULL;

        /* Colours only when asked. */
        CAPTURE(out, size, sessions_print(_f, s, n, true));
        ASSERT_TRUE(strstr(out, ANSI_GREEN "success" ANSI_NORMAL));
        ASSERT_TRUE(strstr(out, ANSI_RED "exit status 3" ANSI_NORMAL));
        free(out);
        out = NULL;

        CAPTURE(out, size, sessions_print(_f, NULL, 0, false));
        ASSERT_STREQ(out, "No sessions.\n");

        session_infos_free(s, n);
}

static void test_sessions_json(void) {
        size_t n = 0;
        SessionInfo *s = make_sessions(&n);
        struct json_object *o = sessions_to_json(s, n), *x, *runs, *r;

        ASSERT_TRUE(o);
        ASSERT_EQ(json_object_array_length(o), 2);
        x = json_object_array_get_idx(o, 0);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(x, "id")), "11111111-2222-3333-4444-555555555555");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(x, "user")), "alice");
        ASSERT_EQ(json_object_get_int(json_object_object_get(x, "uid")), 1000);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(x, "since")), "2023-11-14T22:13:20.000000Z");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(x, "start_state")), "done");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(x, "termination_state")), "not-run");
        runs = json_object_object_get(x, "runs");
        ASSERT_EQ(json_object_array_length(runs), 2);
        r = json_object_array_get_idx(runs, 1);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(r, "context")), "user");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(r, "result")), "exit-code");
        ASSERT_EQ(json_object_get_int(json_object_object_get(r, "exit_status")), 3);
        ASSERT_EQ(json_object_get_int64(json_object_object_get(r, "duration_usec")), 40000);
        ASSERT_TRUE(!json_object_get_boolean(json_object_object_get(r, "success")));
        json_object_put(o);
        session_infos_free(s, n);
}

static void test_log_entry(void) {
        _cleanup_(freep) char *out = NULL;
        size_t size = 0;
        LogEntry e = {
                .realtime_usec = 1700000000ULL * 1000000ULL,
                .session_id = (char *) "s1",
                .event = (char *) "SessionStart",
                .context = (char *) "user",
                .stream = (char *) "stdout",
                .message = (char *) "hello \x1b[2Jworld",
                .message_len = 15,
        };
        struct json_object *o;

        CAPTURE(out, size, log_entry_print(_f, &e, false, false));
        ASSERT_STREQ(out, "2023-11-14 22:13:20 SessionStart/user: hello ?[2Jworld\n");
        free(out);
        out = NULL;

        e.stream = (char *) "stderr";
        CAPTURE(out, size, log_entry_print(_f, &e, true, false));
        ASSERT_STREQ(out, "2023-11-14 22:13:20 s1 SessionStart/user [stderr]: hello ?[2Jworld\n");
        free(out);
        out = NULL;

        CAPTURE(out, size, log_entry_print(_f, &e, false, true));
        ASSERT_STREQ(out, "2023-11-14 22:13:20 SessionStart/user [stderr]: " ANSI_RED "hello ?[2Jworld" ANSI_NORMAL "\n");
        free(out);
        out = NULL;

        e.stream = NULL;
        e.result = (char *) "exit-code";
        e.message = (char *) "SessionStart script /x (user context) for alice exited with status 1 after 5ms.";
        e.message_len = strlen(e.message);
        CAPTURE(out, size, log_entry_print(_f, &e, false, false));
        ASSERT_STREQ(out, "2023-11-14 22:13:20 SessionStart/user [result]: SessionStart script /x (user context) for "
                          "alice exited with status 1 after 5ms.\n");
        free(out);
        out = NULL;

        e.event = e.context = e.result = NULL;
        e.message = (char *) "Session s1 of user alice opened.";
        e.message_len = strlen(e.message);
        CAPTURE(out, size, log_entry_print(_f, &e, false, false));
        ASSERT_STREQ(out, "2023-11-14 22:13:20 session: Session s1 of user alice opened.\n");

        /* JSON keeps control characters (escaped by json-c) and replaces invalid UTF-8. */
        e.event = (char *) "SessionStart";
        e.context = (char *) "system";
        e.stream = (char *) "stdout";
        e.message = (char *) "a\tb\xff";
        e.message_len = 4;
        o = log_entry_to_json(&e);
        ASSERT_TRUE(o);
        ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "message")), "a\tb\xef\xbf\xbd");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "time")), "2023-11-14T22:13:20.000000Z");
        ASSERT_STREQ(json_object_get_string(json_object_object_get(o, "stream")), "stdout");
        ASSERT_TRUE(json_object_object_get(o, "result") == NULL);
        json_object_put(o);
}

static void test_s3_url(void) {
        char *b = NULL, *k = NULL, *u = NULL;

        ASSERT_OK(s3_url_parse("s3://my-bucket.1/dir/bundle v2.zip", &b, &k));
        ASSERT_STREQ(b, "my-bucket.1");
        ASSERT_STREQ(k, "dir/bundle v2.zip");
        ASSERT_OK(s3_object_url("http://127.0.0.1:7480/", "eu-west-1", b, k, &u));
        ASSERT_STREQ(u, "http://127.0.0.1:7480/my-bucket.1/dir/bundle%20v2.zip");
        free(u);
        ASSERT_OK(s3_object_url(NULL, "eu-west-1", b, "a+b~c.zip", &u));
        ASSERT_STREQ(u, "https://s3.eu-west-1.amazonaws.com/my-bucket.1/a%2Bb~c.zip");
        free(u);
        free(b);
        free(k);

        ASSERT_EQ(s3_url_parse("https://x/y", &b, &k), -EINVAL);
        ASSERT_EQ(s3_url_parse("s3://bucket", &b, &k), -EINVAL);
        ASSERT_EQ(s3_url_parse("s3://bucket/", &b, &k), -EINVAL);
        ASSERT_EQ(s3_url_parse("s3:///key", &b, &k), -EINVAL);
        ASSERT_EQ(s3_url_parse("s3://Bad_Bucket/key", &b, &k), -EINVAL);
        ASSERT_EQ(s3_url_parse("s3://b/k\nx", &b, &k), -EINVAL);
}

static void test_color_decide(void) {
        /* A terminal, nothing set: colours. */
        ASSERT_TRUE(color_decide(true, NULL, NULL, "xterm-256color"));
        ASSERT_TRUE(color_decide(true, NULL, NULL, NULL));
        /* Not a terminal (a pipe, a file, the other stream redirected): none. */
        ASSERT_TRUE(!color_decide(false, NULL, NULL, "xterm"));
        ASSERT_TRUE(!color_decide(true, NULL, NULL, "dumb"));
        /* NO_COLOR, whatever its value. */
        ASSERT_TRUE(!color_decide(true, "1", NULL, "xterm"));
        ASSERT_TRUE(!color_decide(true, "", NULL, "xterm"));
        /* SYSTEMD_COLORS: a boolean decides, like systemd's tools; anything else is ignored. */
        ASSERT_TRUE(!color_decide(true, NULL, "0", "xterm"));
        ASSERT_TRUE(!color_decide(true, NULL, "false", "xterm"));
        ASSERT_TRUE(!color_decide(true, NULL, "no", "xterm"));
        ASSERT_TRUE(color_decide(false, NULL, "1", NULL));
        ASSERT_TRUE(color_decide(false, "1", "yes", "dumb"));
        ASSERT_TRUE(color_decide(false, NULL, "256", NULL));
        ASSERT_TRUE(color_decide(true, NULL, "bogus", "xterm"));
        ASSERT_TRUE(!color_decide(false, NULL, "bogus", "xterm"));
        ASSERT_TRUE(!color_decide(true, "1", "bogus", "xterm"));
}

static void test_colors_per_stream(void) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ASSERT_TRUE(f);
        /* A stream that is no terminal gets no colours, and color_for() follows the stream passed. */
        unsetenv("SYSTEMD_COLORS");
        unsetenv("NO_COLOR");
        setenv("TERM", "xterm", 1);
        ASSERT_TRUE(!colors_enabled_for(f));
        ASSERT_STREQ(color_for(f, ANSI_RED), "");
        setenv("SYSTEMD_COLORS", "1", 1);
        ASSERT_TRUE(colors_enabled_for(f));
        ASSERT_STREQ(color_for(f, ANSI_RED), ANSI_RED);
        setenv("SYSTEMD_COLORS", "0", 1);
        ASSERT_STREQ(color_for(f, ANSI_RED), "");
        unsetenv("SYSTEMD_COLORS");
        fclose(f);
        free(buf);
}

static void test_progress_format(void) {
        char b[128];

        ASSERT_STREQ(progress_format(b, sizeof b, "Waiting for the home folder", NULL, 3999999),
                     "Waiting for the home folder… 3s");
        ASSERT_STREQ(progress_format(b, sizeof b, "Unpacking the bundle", "12 entries, 3.0 MiB", 1000000),
                     "Unpacking the bundle… 12 entries, 3.0 MiB, 1s");
}

static void test_finding_json(void) {
        Finding f = { .severity = FINDING_WARNING, .line = 4, .column = 20,
                      .json_path = (char *) "SessionStart.x", .message = (char *) "Unknown key \"x\"" };
        Finding g = { .severity = FINDING_ERROR, .file = (char *) "/opt/b/start.sh",
                      .message = (char *) "not root-owned" };
        struct json_object *o = finding_to_json(&f);

        ASSERT_TRUE(o);
        ASSERT_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                     "{\"severity\":\"warning\",\"line\":4,\"column\":20,\"path\":\"SessionStart.x\","
                     "\"file\":null,\"message\":\"Unknown key \\\"x\\\"\"}");
        json_object_put(o);
        o = finding_to_json(&g);
        ASSERT_TRUE(o);
        ASSERT_STREQ(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                     "{\"severity\":\"error\",\"line\":0,\"column\":0,\"path\":\"\","
                     "\"file\":\"/opt/b/start.sh\",\"message\":\"not root-owned\"}");
        json_object_put(o);
}

int main(void) {
        /* Fixed time zone for the human timestamps. */
        setenv("TZ", "UTC", 1);
        tzset();

        TEST_RUN(test_duration);
        TEST_RUN(test_bytes);
        TEST_RUN(test_timestamp);
        TEST_RUN(test_sanitize);
        TEST_RUN(test_run_result);
        TEST_RUN(test_sessions_print);
        TEST_RUN(test_sessions_json);
        TEST_RUN(test_log_entry);
        TEST_RUN(test_s3_url);
        TEST_RUN(test_color_decide);
        TEST_RUN(test_colors_per_stream);
        TEST_RUN(test_progress_format);
        TEST_RUN(test_finding_json);
        return 0;
}
