/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of script_config_parse() (lib/config-schema.c): every rule of the docs/behaviour.md §2 table,
 * valid and invalid; the seed's sample config in both key casings; the seed's PowerShell-style arguments and
 * Linux paths; non-ASCII values with the installed json-c; syntax errors with line:column;
 * duplicate and unknown keys; and that every finding carries a line, a column and a JSON path.
 */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cleanup.h"
#include "script-config.h"
#include "tests.h"

/* The seed's sample config (AppStream documentation), with Linux paths instead of "". */
static const char seed_sample[] =
        "{\n"
        "  \"SessionStart\": {\n"
        "    \"executables\": [\n"
        "      {\n"
        "        \"context\": \"system\",\n"
        "        \"filename\": \"\",\n"
        "        \"arguments\": \"\",\n"
        "        \"s3LogEnabled\": true\n"
        "      },\n"
        "      {\n"
        "        \"context\": \"user\",\n"
        "        \"filename\": \"\",\n"
        "        \"arguments\": \"\",\n"
        "        \"s3LogEnabled\": true\n"
        "      }\n"
        "    ],\n"
        "    \"waitingTime\": 30\n"
        "  },\n"
        "  \"SessionTermination\": {\n"
        "    \"executables\": [\n"
        "      {\n"
        "        \"context\": \"system\",\n"
        "        \"filename\": \"\",\n"
        "        \"arguments\": \"\",\n"
        "        \"s3LogEnabled\": true\n"
        "      },\n"
        "      {\n"
        "        \"context\": \"user\",\n"
        "        \"filename\": \"\",\n"
        "        \"arguments\": \"\",\n"
        "        \"s3LogEnabled\": true\n"
        "      }\n"
        "    ],\n"
        "    \"waitingTime\": 30\n"
        "  }\n"
        "}\n";

/* The same in the casing of the seed's parameter table (WaitingTime, Executables, S3LogEnabled…). */
static const char seed_sample_upper[] =
        "{\n"
        "  \"SessionStart\": {\n"
        "    \"Executables\": [\n"
        "      { \"Context\": \"system\", \"Filename\": \"/opt/appstream/SessionScripts/start-system.sh\",\n"
        "        \"Arguments\": \"\", \"S3LogEnabled\": true },\n"
        "      { \"Context\": \"user\", \"Filename\": \"/opt/appstream/SessionScripts/start-user.sh\",\n"
        "        \"Arguments\": \"--verbose \\\"a b\\\"\", \"S3LogEnabled\": false }\n"
        "    ],\n"
        "    \"WaitingTime\": 45\n"
        "  },\n"
        "  \"SessionTermination\": { \"Executables\": [], \"WaitingTime\": 30 }\n"
        "}\n";

/* Checks that every finding has a position (or a file) and a path, as the issue asks. */
static void check_findings_complete(const FindingList *f) {
        size_t e = 0, w = 0;

        for (size_t i = 0; i < f->n; i++) {
                const Finding *x = &f->items[i];

                ASSERT_TRUE(x->message && x->message[0]);
                ASSERT_TRUE(x->json_path);
                if (!x->file) {
                        ASSERT_TRUE(x->line >= 1 || i == SCRIPT_CONFIG_MAX_FINDINGS);
                        ASSERT_TRUE(x->column >= 1 || i == SCRIPT_CONFIG_MAX_FINDINGS);
                }
                if (x->severity == FINDING_ERROR)
                        e++;
                else
                        w++;
        }
        ASSERT_EQ(e, f->n_errors);
        ASSERT_EQ(w, f->n_warnings);
}

static void dump(const char *text, const FindingList *f) {
        fprintf(stderr, "--- input:\n%s\n--- findings:\n", text);
        for (size_t i = 0; i < f->n; i++)
                fprintf(stderr, "%u:%u: %s: %s [%s]\n", f->items[i].line, f->items[i].column,
                        f->items[i].severity == FINDING_ERROR ? "error" : "warning", f->items[i].message,
                        f->items[i].json_path);
}

/* Parses text that must be valid (no errors) and must draw exactly n_warnings warnings. */
static ScriptConfig *parse_valid(const char *text, size_t n_warnings) {
        _cleanup_(finding_list_done) FindingList f = {};
        ScriptConfig *c = NULL;
        int r;

        r = script_config_parse(text, strlen(text), &c, &f);
        if (r < 0 || f.n_warnings != n_warnings)
                dump(text, &f);
        ASSERT_OK(r);
        ASSERT_TRUE(c);
        ASSERT_EQ(f.n_errors, 0);
        ASSERT_EQ(f.n_warnings, n_warnings);
        check_findings_complete(&f);
        return c;
}

/*
 * Parses text that must be invalid and checks that one error has the given line, column (0: any),
 * JSON path (NULL: any) and contains the message fragment.
 */
static void expect_finding(const char *text, FindingSeverity severity, unsigned line, unsigned column,
                           const char *path, const char *fragment) {
        _cleanup_(finding_list_done) FindingList f = {};
        ScriptConfig *c = (ScriptConfig *) 0x1;
        int r;
        bool found = false;

        r = script_config_parse(text, strlen(text), &c, &f);
        check_findings_complete(&f);
        if (severity == FINDING_ERROR) {
                if (r != -EINVAL)
                        dump(text, &f);
                ASSERT_ERROR(r, EINVAL);
                ASSERT_TRUE(c == (ScriptConfig *) 0x1);        /* untouched on failure */
        } else if (r >= 0)
                script_config_free(c);

        for (size_t i = 0; i < f.n; i++) {
                const Finding *x = &f.items[i];

                if (x->severity == severity && x->line == line && (column == 0 || x->column == column) &&
                    (!path || strcmp(x->json_path, path) == 0) && strstr(x->message, fragment))
                        found = true;
        }
        if (!found) {
                dump(text, &f);
                fprintf(stderr, "expected %s at %u:%u [%s] containing \"%s\"\n",
                        severity == FINDING_ERROR ? "error" : "warning", line, column, path ?: "*",
                        fragment);
        }
        ASSERT_TRUE(found);
}

#define EXPECT_ERROR(text, line, column, path, fragment) \
        expect_finding(text, FINDING_ERROR, line, column, path, fragment)
#define EXPECT_WARNING(text, line, column, path, fragment) \
        expect_finding(text, FINDING_WARNING, line, column, path, fragment)

/* Wraps one executable entry (JSON text) into a SessionStart event on line 1. */
static char *with_entry(const char *entry) {
        char *s = NULL;

        ASSERT_TRUE(asprintf(&s, "{\"SessionStart\": {\"executables\": [%s]}}", entry) > 0);
        return s;
}
/* Column of the entry text inside with_entry(). */
#define ENTRY_COL 35

static void test_seed_sample(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;

        c = parse_valid(seed_sample, 0);
        for (size_t e = 0; e < _SCRIPT_EVENT_MAX; e++) {
                ASSERT_TRUE(c->events[e].present);
                ASSERT_EQ(c->events[e].waiting_time_sec, 30);
                for (size_t x = 0; x < _SCRIPT_CONTEXT_MAX; x++) {
                        const ScriptExecutable *ex = &c->events[e].executables[x];

                        ASSERT_TRUE(ex->present);
                        ASSERT_TRUE(ex->filename == NULL);       /* "" = not run */
                        ASSERT_TRUE(!script_executable_runs(ex));
                        ASSERT_STREQ(ex->arguments, "");
                        ASSERT_TRUE(ex->argv && ex->argv[0] == NULL);
                        ASSERT_TRUE(ex->s3_log_enabled);
                }
        }
        ASSERT_EQ(c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_SYSTEM].json_index, 0);
        ASSERT_EQ(c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_USER].json_index, 1);
}

static void test_seed_sample_upper(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        const ScriptExecutable *sys, *usr;

        c = parse_valid(seed_sample_upper, 0);
        ASSERT_EQ(c->events[SCRIPT_EVENT_START].waiting_time_sec, 45);
        sys = &c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_SYSTEM];
        usr = &c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_USER];
        ASSERT_STREQ(sys->filename, "/opt/appstream/SessionScripts/start-system.sh");
        ASSERT_TRUE(script_executable_runs(sys));
        ASSERT_TRUE(sys->s3_log_enabled);
        ASSERT_STREQ(usr->filename, "/opt/appstream/SessionScripts/start-user.sh");
        ASSERT_STREQ(usr->arguments, "--verbose \"a b\"");
        ASSERT_STREQ(usr->argv[0], "--verbose");
        ASSERT_STREQ(usr->argv[1], "a b");
        ASSERT_TRUE(usr->argv[2] == NULL);
        ASSERT_TRUE(!usr->s3_log_enabled);
        ASSERT_TRUE(c->events[SCRIPT_EVENT_TERMINATION].present);
        ASSERT_TRUE(!c->events[SCRIPT_EVENT_TERMINATION].executables[0].present);
        ASSERT_TRUE(!c->events[SCRIPT_EVENT_TERMINATION].executables[1].present);
}

static void test_spec_example(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        const char *text =
                "{\n"
                "  \"SessionStart\": {\n"
                "    \"executables\": [\n"
                "      { \"context\": \"system\", "
                "\"filename\": \"/opt/appstream/SessionScripts/start-system.sh\", "
                "\"arguments\": \"\", \"s3LogEnabled\": true },\n"
                "      { \"context\": \"user\",   "
                "\"filename\": \"/opt/appstream/SessionScripts/start-user.sh\",   "
                "\"arguments\": \"--verbose \\\"a b\\\"\", \"s3LogEnabled\": true }\n"
                "    ],\n"
                "    \"waitingTime\": 30\n"
                "  },\n"
                "  \"SessionTermination\": { \"executables\": [], \"waitingTime\": 30 }\n"
                "}\n";

        c = parse_valid(text, 0);
        ASSERT_STREQ(c->events[0].executables[SCRIPT_CONTEXT_USER].argv[1], "a b");
}

static void test_powershell_arguments(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        _cleanup_(freep) char *t = NULL;
        const ScriptExecutable *x;

        /* The seed's PowerShell example, with its JSON escaping, on a Linux path. */
        t = with_entry("{\"context\": \"system\", \"filename\": \"/usr/bin/pwsh\", "
                       "\"arguments\": \"-File \\\"C:\\\\path\\\\to\\\\session\\\\script.ps1\\\"\"}");
        c = parse_valid(t, 0);
        x = &c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_SYSTEM];
        ASSERT_STREQ(x->arguments, "-File \"C:\\path\\to\\session\\script.ps1\"");
        ASSERT_STREQ(x->argv[0], "-File");
        ASSERT_STREQ(x->argv[1], "C:\\path\\to\\session\\script.ps1");
        ASSERT_TRUE(x->argv[2] == NULL);
}

static void test_linux_paths(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        _cleanup_(freep) char *t = NULL;
        const ScriptExecutable *x;

        t = with_entry("{\"context\": \"user\", "
                       "\"filename\": \"/opt/appstream/SessionScripts/My Scripts/ünï.sh\", "
                       "\"arguments\": \"--home \\\"$HOME\\\" --name 'a b' c\\\\ d\"}");
        c = parse_valid(t, 0);
        x = &c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_USER];
        ASSERT_STREQ(x->filename, "/opt/appstream/SessionScripts/My Scripts/ünï.sh");
        ASSERT_STREQ(x->argv[0], "--home");
        ASSERT_STREQ(x->argv[1], "$HOME");
        ASSERT_STREQ(x->argv[2], "--name");
        ASSERT_STREQ(x->argv[3], "a b");
        ASSERT_STREQ(x->argv[4], "c d");
        ASSERT_TRUE(x->argv[5] == NULL);
}

/*
 * Non-ASCII text in every value the walker decodes, with the json-c this binary is linked against
 * (whatever the distribution ships: json-c 0.18's strict mode took every byte >= 0x80 in a string
 * for a control character, so a valid path like the one below was "invalid utf-8 string"). Two-,
 * three- and four-byte characters, raw and as \u escapes (also a surrogate pair), in filename and
 * arguments of both events and contexts: each must come out byte for byte.
 */
static void test_utf8_values(void) {
        static const char text[] =
                "{\"SessionStart\": {\"executables\": [\n"
                "  {\"context\": \"system\", \"filename\": \"/opt/appstream/SessionScripts/My Scripts/ünï.sh\",\n"
                "   \"arguments\": \"--name 'Zoë Ñandú' --city 東京\"},\n"
                "  {\"context\": \"user\", \"filename\": \"/opt/appstream/SessionScripts/\\u00fcser-\\u6771.sh\",\n"
                "   \"arguments\": \"\\ud83d\\ude00 😀\"}]},\n"
                " \"SessionTermination\": {\"executables\": [\n"
                "  {\"context\": \"user\", \"filename\": \"/opt/appstream/SessionScripts/Ende €.sh\",\n"
                "   \"arguments\": \"ÄÖÜ\"}]}}\n";
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        const ScriptExecutable *x;

        fprintf(stderr, "json-c %s\n", json_c_version());
        c = parse_valid(text, 0);

        x = &c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_SYSTEM];
        ASSERT_STREQ(x->filename, "/opt/appstream/SessionScripts/My Scripts/ünï.sh");
        ASSERT_STREQ(x->argv[0], "--name");
        ASSERT_STREQ(x->argv[1], "Zoë Ñandú");
        ASSERT_STREQ(x->argv[2], "--city");
        ASSERT_STREQ(x->argv[3], "東京");
        ASSERT_TRUE(x->argv[4] == NULL);

        x = &c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_USER];
        ASSERT_STREQ(x->filename, "/opt/appstream/SessionScripts/üser-東.sh");
        ASSERT_STREQ(x->argv[0], "😀");
        ASSERT_STREQ(x->argv[1], "😀");
        ASSERT_TRUE(x->argv[2] == NULL);

        x = &c->events[SCRIPT_EVENT_TERMINATION].executables[SCRIPT_CONTEXT_USER];
        ASSERT_STREQ(x->filename, "/opt/appstream/SessionScripts/Ende €.sh");
        ASSERT_STREQ(x->arguments, "ÄÖÜ");
}

/* Rule: the top level is an object; events are optional. */
static void test_top_level(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;

        c = parse_valid("{}", 0);
        ASSERT_TRUE(!c->events[0].present && !c->events[1].present);
        ASSERT_EQ(c->events[0].waiting_time_sec, 30);
        c = script_config_free(c);

        c = parse_valid("  {\"SessionTermination\": {\"executables\": []}}  \n", 0);
        ASSERT_TRUE(!c->events[0].present && c->events[1].present);
        ASSERT_EQ(c->events[1].waiting_time_sec, 30);

        EXPECT_ERROR("[]", 1, 1, "", "must be an object");
        EXPECT_ERROR("\n  \"SessionStart\"", 2, 3, "", "but it is the string \"SessionStart\"");
        EXPECT_ERROR("30", 1, 1, "", "but it is the number 30");
        EXPECT_ERROR("null", 1, 1, "", "but it is null");
        EXPECT_ERROR("", 1, 1, "", "empty");
        EXPECT_ERROR(" \n\t ", 2, 3, "", "only white space");
}

/* Rule: no other top-level event names exist (warning); a known event must be an object. */
static void test_events(void) {
        EXPECT_WARNING("{\"SessionStart\": {\"executables\": []},\n \"SessionPause\": {}}",
                       2, 2, "SessionPause", "Unknown event \"SessionPause\"");
        EXPECT_ERROR("{\"SessionStart\": []}", 1, 18, "SessionStart", "must be an object");
        EXPECT_ERROR("{\"SessionStart\": \"x\"}", 1, 18, "SessionStart", "must be an object");
        EXPECT_ERROR("{\"SessionTermination\": null}", 1, 24, "SessionTermination", "but it is null");

        /* Event names are case-insensitive too. */
        {
                _cleanup_(script_config_freep) ScriptConfig *c =
                        parse_valid("{\"sessionstart\": {\"executables\": []}}", 0);
                ASSERT_TRUE(c->events[SCRIPT_EVENT_START].present);
        }
}

/* Rule: executables is required inside an event, an array, ≤ 2 entries, one per context. */
static void test_executables(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;

        EXPECT_ERROR("{\"SessionStart\": {\"waitingTime\": 30}}",
                     1, 18, "SessionStart", "no \"executables\"");
        EXPECT_ERROR("{\"SessionStart\": {\"executables\": {}}}", 1, 34, "SessionStart.executables",
                     "must be an array");
        EXPECT_ERROR("{\"SessionStart\": {\"executables\": \"a.sh\"}}", 1, 34, "SessionStart.executables",
                     "must be an array");
        EXPECT_ERROR("{\"SessionStart\": {\"executables\": [\n"
                     "{\"context\": \"system\"},\n"
                     "{\"context\": \"user\"},\n"
                     "{\"context\": \"user\"}]}}", 4, 1, "SessionStart.executables[2]", "at most 2");
        EXPECT_ERROR("{\"SessionStart\": {\"executables\": [\n"
                     "{\"context\": \"user\", \"filename\": \"/a\"},\n"
                     "{\"context\": \"user\", \"filename\": \"/b\"}]}}", 3, 13,
                     "SessionStart.executables[1].context", "at most one executable per context");
        EXPECT_ERROR("{\"SessionStart\": {\"executables\": [\"/bin/true\"]}}", 1, 35,
                     "SessionStart.executables[0]", "must be an object");

        c = parse_valid("{\"SessionStart\": {\"executables\": "
                        "[{\"context\": \"user\"}, {\"context\": \"system\"}]}}", 0);
        ASSERT_TRUE(c->events[0].executables[SCRIPT_CONTEXT_USER].present);
        ASSERT_TRUE(c->events[0].executables[SCRIPT_CONTEXT_SYSTEM].present);
        ASSERT_EQ(c->events[0].executables[SCRIPT_CONTEXT_USER].json_index, 0);
        ASSERT_EQ(c->events[0].executables[SCRIPT_CONTEXT_SYSTEM].json_index, 1);
}

/* Rule: context is required, "user" or "system" (value case-insensitive). */
static void test_context(void) {
        _cleanup_(freep) char *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL;
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;

        t1 = with_entry("{\"filename\": \"/bin/true\"}");
        EXPECT_ERROR(t1, 1, ENTRY_COL, "SessionStart.executables[0]", "no \"context\"");
        t2 = with_entry("{\"context\": \"admin\"}");
        EXPECT_ERROR(t2, 1, ENTRY_COL + 12, "SessionStart.executables[0].context",
                     "must be \"user\" or \"system\", but it is the string \"admin\"");
        t3 = with_entry("{\"context\": 1}");
        EXPECT_ERROR(t3, 1, ENTRY_COL + 12, "SessionStart.executables[0].context", "the number 1");

        t4 = with_entry("{\"context\": \"System\"}");
        c = parse_valid(t4, 0);
        ASSERT_TRUE(c->events[0].executables[SCRIPT_CONTEXT_SYSTEM].present);
}

/* Rule: filename is a string, absolute, ≤ 1000 characters; empty or absent → not run. */
static void test_filename(void) {
        _cleanup_(freep) char *t = NULL, *long_name = NULL, *entry = NULL;
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;

        t = with_entry("{\"context\": \"user\", \"filename\": \"/usr/local/bin/start\"}");
        c = parse_valid(t, 0);
        ASSERT_STREQ(c->events[0].executables[SCRIPT_CONTEXT_USER].filename, "/usr/local/bin/start");
        c = script_config_free(c);
        free(t);

        t = with_entry("{\"context\": \"user\"}");
        c = parse_valid(t, 0);
        ASSERT_TRUE(c->events[0].executables[SCRIPT_CONTEXT_USER].present);
        ASSERT_TRUE(!script_executable_runs(&c->events[0].executables[SCRIPT_CONTEXT_USER]));
        c = script_config_free(c);
        free(t);

        t = with_entry("{\"context\": \"user\", \"filename\": \"start.sh\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 32, "SessionStart.executables[0].filename", "absolute path");
        free(t);
        t = with_entry("{\"context\": \"user\", \"filename\": \"C:\\\\AppStream\\\\start.bat\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 32, "SessionStart.executables[0].filename", "Windows path");
        free(t);
        t = with_entry("{\"context\": \"user\", \"filename\": 42}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 32, "SessionStart.executables[0].filename", "must be a string");
        free(t);
        t = with_entry("{\"context\": \"user\", \"filename\": \"/bin/a\\nb\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 32, "SessionStart.executables[0].filename", "control character");
        free(t);
        t = with_entry("{\"context\": \"user\", \"filename\": \"/bin/a\\u0000b\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 32, "SessionStart.executables[0].filename", "control character");
        free(t);

        /* Exactly 1000 characters is fine (multi-byte characters count once), 1001 is not. */
        long_name = malloc(1001 * 2 + 1);
        ASSERT_TRUE(long_name);
        long_name[0] = '/';
        for (size_t i = 1; i < 1000; i++)
                memcpy(long_name + 1 + (i - 1) * 2, "é", 2);
        long_name[1 + 999 * 2] = 0;
        ASSERT_TRUE(asprintf(&entry, "{\"context\": \"user\", \"filename\": \"%s\"}", long_name) > 0);
        t = with_entry(entry);
        c = parse_valid(t, 0);
        c = script_config_free(c);
        free(t);
        free(entry);

        strcat(long_name, "x");
        ASSERT_TRUE(asprintf(&entry, "{\"context\": \"user\", \"filename\": \"%s\"}", long_name) > 0);
        t = with_entry(entry);
        EXPECT_ERROR(t, 1, ENTRY_COL + 32, "SessionStart.executables[0].filename",
                     "1001 characters long, but at most 1000");
}

/* Rule: arguments is a string ≤ 1000 characters, split like a POSIX shell, quotes balanced. */
static void test_arguments(void) {
        _cleanup_(freep) char *t = NULL, *args = NULL, *entry = NULL;
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;

        t = with_entry("{\"context\": \"user\", \"arguments\": \"-a  'b c'\"}");
        c = parse_valid(t, 0);
        ASSERT_STREQ(c->events[0].executables[SCRIPT_CONTEXT_USER].argv[1], "b c");
        c = script_config_free(c);
        free(t);

        /* The column points at the unbalanced quote inside the string (escapes counted as written). */
        t = with_entry("{\"context\": \"user\", \"arguments\": \"-x \\\"abc\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 33 + 4, "SessionStart.executables[0].arguments", "unbalanced quote");
        free(t);
        t = with_entry("{\"context\": \"user\", \"arguments\": \"it's\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 33 + 3, "SessionStart.executables[0].arguments", "single quote");
        free(t);
        t = with_entry("{\"context\": \"user\", \"arguments\": \"ab\\\\\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 33 + 3, "SessionStart.executables[0].arguments", "lone backslash");
        free(t);
        t = with_entry("{\"context\": \"user\", \"arguments\": [\"-a\"]}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 33, "SessionStart.executables[0].arguments", "must be a string");
        free(t);
        t = with_entry("{\"context\": \"user\", \"arguments\": \"a\\u0000b\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 33 + 2, "SessionStart.executables[0].arguments", "NUL");
        free(t);

        args = malloc(1002);
        ASSERT_TRUE(args);
        memset(args, 'a', 1000);
        args[1000] = 0;
        ASSERT_TRUE(asprintf(&entry, "{\"context\": \"user\", \"arguments\": \"%s\"}", args) > 0);
        t = with_entry(entry);
        c = parse_valid(t, 0);
        free(t);
        free(entry);
        strcat(args, "a");
        ASSERT_TRUE(asprintf(&entry, "{\"context\": \"user\", \"arguments\": \"%s\"}", args) > 0);
        t = with_entry(entry);
        EXPECT_ERROR(t, 1, ENTRY_COL + 33, "SessionStart.executables[0].arguments", "at most 1000");
}

/* Rule: s3LogEnabled is a boolean, default true. */
static void test_s3_log_enabled(void) {
        _cleanup_(freep) char *t = NULL;
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;

        t = with_entry("{\"context\": \"user\", \"s3LogEnabled\": false}");
        c = parse_valid(t, 0);
        ASSERT_TRUE(!c->events[0].executables[SCRIPT_CONTEXT_USER].s3_log_enabled);
        c = script_config_free(c);
        free(t);
        t = with_entry("{\"context\": \"user\"}");
        c = parse_valid(t, 0);
        ASSERT_TRUE(c->events[0].executables[SCRIPT_CONTEXT_USER].s3_log_enabled);
        free(t);

        t = with_entry("{\"context\": \"user\", \"s3LogEnabled\": \"True\"}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 36, "SessionStart.executables[0].s3LogEnabled", "without quotes");
        free(t);
        t = with_entry("{\"context\": \"user\", \"s3LogEnabled\": 1}");
        EXPECT_ERROR(t, 1, ENTRY_COL + 36, "SessionStart.executables[0].s3LogEnabled",
                     "must be true or false, but it is the number 1");
}

/* Rule: waitingTime is an integer 1…60, default 30. */
static void test_waiting_time(void) {
        static const struct {
                const char *value;
                const char *fragment;
        } bad[] = {
                { "0", "between 1 and 60 seconds, but it is 0" },
                { "61", "but it is 61" },
                { "-5", "but it is -5" },
                { "1.5", "whole number" },
                { "30.0", "whole number" },
                { "3e1", "whole number" },
                { "\"30\"", "without quotes" },
                { "null", "but it is null" },
                { "true", "but it is true" },
                { "99999999999999999999", "between 1 and 60" },
                { "-99999999999999999999", "between 1 and 60" },
        };
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;

        c = parse_valid("{\"SessionStart\": {\"executables\": [], \"waitingTime\": 1},"
                        " \"SessionTermination\": {\"executables\": [], \"waitingTime\": 60}}", 0);
        ASSERT_EQ(c->events[SCRIPT_EVENT_START].waiting_time_sec, 1);
        ASSERT_EQ(c->events[SCRIPT_EVENT_TERMINATION].waiting_time_sec, 60);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(freep) char *t = NULL;

                ASSERT_TRUE(asprintf(&t, "{\"SessionStart\": {\"executables\": [],\n  \"waitingTime\": %s}}",
                                     bad[i].value) > 0);
                EXPECT_ERROR(t, 2, 18, "SessionStart.waitingTime", bad[i].fragment);
        }
}

/* Keys are case-insensitive; the same key twice (in any casing) is an error naming both. */
static void test_duplicates(void) {
        EXPECT_ERROR("{\"SessionStart\": {\"executables\": [],\n"
                     " \"waitingTime\": 10,\n \"WaitingTime\": 20}}",
                     3, 2, "SessionStart.waitingTime",
                     "\"waitingTime\" (line 2, column 2) and \"WaitingTime\"");
        EXPECT_ERROR("{\"SessionStart\": {\"executables\": []},\n\"SessionStart\": {\"executables\": []}}",
                     2, 1, "SessionStart", "appears twice");
        EXPECT_ERROR("{\"SessionStart\": {\"executables\": "
                     "[{\"context\": \"user\", \"Context\": \"user\"}]}}",
                     1, 0, "SessionStart.executables[0].context", "case-insensitive");
}

/* Parses text that must be invalid and returns its findings. */
static void parse_invalid(const char *text, FindingList *ret) {
        ScriptConfig *c = NULL;

        ASSERT_ERROR(script_config_parse(text, strlen(text), &c, ret), EINVAL);
        ASSERT_TRUE(c == NULL);
        check_findings_complete(ret);
        dump(text, ret);
}

/* A duplicate draws the one error about it and nothing else: only the last occurrence, the one whose
 * value json-c keeps, is interpreted, so the index and the values always describe the same text. */
static void test_duplicates_alone(void) {
        static const char *const texts[] = {
                /* Different contents: the first once was paired with the value of the second. */
                "{\"SessionStart\": {\"executables\": [{\"context\": \"system\", \"filename\": \"/a\"}]},\n"
                "\"SessionStart\": {\"executables\": []}}",
                "{\"SessionStart\": {\"executables\": []},\n"
                "\"SessionStart\": {\"executables\": [{\"context\": \"user\"}], \"waitingTime\": 5}}",
                "{\"SessionStart\": {\"executables\": [], \"waitingTime\": 5,\n \"waitingTime\": 7}}",
                "{\"SessionStart\": {\"executables\": [{\"context\": \"user\",\n"
                " \"context\": \"system\"}]}}",
                "{\"SessionStart\": {\"executables\": [{\"context\": \"user\", \"filename\": 5,\n "
                "\"filename\": \"/a\"}]}}",
                "{\"SessionStart\": {\"executables\": {}, \"executables\": []}}",
                "{\"x\": 1, \"SessionStart\": {\"executables\": []}, "
                "\"sessionStart\": {\"executables\": []}}",
        };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_(finding_list_done) FindingList f = {};

                parse_invalid(texts[i], &f);
                ASSERT_EQ(f.n_errors, 1);
                for (size_t k = 0; k < f.n; k++)
                        if (f.items[k].severity == FINDING_ERROR)
                                ASSERT_TRUE(strstr(f.items[k].message, "appears twice") ||
                                            strstr(f.items[k].message, "case-insensitive"));
        }

        /* The last one is the one that is interpreted: its own errors do show. */
        {
                _cleanup_(finding_list_done) FindingList f = {};

                parse_invalid("{\"SessionStart\": {\"executables\": []},\n"
                              "\"SessionStart\": {\"executables\": [], \"waitingTime\": 99}}", &f);
                ASSERT_EQ(f.n_errors, 2);
                ASSERT_STREQ(f.items[1].json_path, "SessionStart.waitingTime");
                ASSERT_TRUE(strstr(f.items[1].message, "between 1 and 60"));
        }
}

/* JSON paths name known keys canonically, whatever the casing of the document; unknown keys stay
 * as written. */
static void test_canonical_paths(void) {
        EXPECT_ERROR("{\"sessionstart\":{\"Executables\":[{\"context\":\"system\"},{\"Context\":5}]}}",
                     1, 0, "SessionStart.executables[1].context", "the number 5");
        EXPECT_ERROR("{\"SESSIONTERMINATION\":{\"EXECUTABLES\":[],\"WAITINGTIME\":0}}",
                     1, 0, "SessionTermination.waitingTime", "between 1 and 60");
        EXPECT_ERROR("{\"SessionStart\":{\"executables\":[{\"CONTEXT\":\"user\",\"FileName\":\"a\","
                     "\"Arguments\":\"'\",\"s3logenabled\":1}]}}",
                     1, 0, "SessionStart.executables[0].filename", "absolute path");
        EXPECT_ERROR("{\"SessionStart\":{\"executables\":[{\"CONTEXT\":\"user\","
                     "\"Arguments\":\"'\",\"s3logenabled\":1}]}}",
                     1, 0, "SessionStart.executables[0].arguments", "unbalanced quote");
        EXPECT_ERROR("{\"SessionStart\":{\"executables\":[{\"CONTEXT\":\"user\",\"s3logenabled\":1}]}}",
                     1, 0, "SessionStart.executables[0].s3LogEnabled", "true or false");
        EXPECT_ERROR("{\"sessionStart\":{\"Executables\":5}}", 1, 0, "SessionStart.executables",
                     "must be an array");
        EXPECT_ERROR("{\"sessionStart\":{\"Executables\":[],\"EXECUTABLES\":[]}}", 1, 0,
                     "SessionStart.executables", "case-insensitive");
        EXPECT_WARNING("{\"sessionStart\":{\"Executables\":[],\"TimeOut\":1}}", 1, 0, "SessionStart.TimeOut",
                       "Unknown key \"TimeOut\"");
        EXPECT_WARNING("{\"SessionPAUSE\":{}}", 1, 2, "SessionPAUSE", "Unknown event");
}

/* Syntax errors name the JSON path of the innermost member or element being scanned. */
static void test_syntax_error_paths(void) {
        EXPECT_ERROR("{\"SessionStart\":{\"executables\":[{\"context\":\"system\",}]}}", 1, 0,
                     "SessionStart.executables[0]", "Trailing comma");
        EXPECT_ERROR("{\"sessionstart\":{\"Executables\":[{\"context\":\"system\"},\n"
                     "{\"Filename\": \"/a\" \"x\": 1}]}}", 2, 0,
                     "SessionStart.executables[1]", "Missing ','");
        EXPECT_ERROR("{\"SessionStart\":{\"executables\":[{\"arguments\": \"a\\qb\"}]}}", 1, 0,
                     "SessionStart.executables[0].arguments", "Invalid escape");
        EXPECT_ERROR("{\"SessionStart\":{\"waitingTime\": 030}}", 1, 0, "SessionStart.waitingTime",
                     "leading zeros");
        EXPECT_ERROR("{\"SessionStart\":{\"executables\":[1, 2", 1, 0, "SessionStart.executables",
                     "never closed");
        EXPECT_ERROR("{\"SessionStart\":{\"executables\":[]}\n", 1, 1, "", "never closed");
        /* Unknown keys as written (escaped), also deep below them. */
        EXPECT_ERROR("{\"Other\": {\"List\": [0, {\"a\\\"b\": tru}]}}", 1, 0, "Other.List[1].a\\\"b",
                     "Invalid literal");
        EXPECT_ERROR("{\"SessionStart\": {} x", 1, 0, "", "Expected ',' or '}'");
        EXPECT_ERROR("{} x", 1, 4, "", "Found 'x' after the end of the JSON document");
}

/* A big value below an unknown key is only the unknown-key warning: nothing below it is indexed or
 * limited. The containers the walker reads stay bounded. */
static void test_big_unknown_values(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        _cleanup_(freep) char *t = NULL, *t2 = NULL, *t3 = NULL;
        size_t o = 0;

        t = malloc(5000 * 8 + 2000 * 24 + 256);
        ASSERT_TRUE(t);
        o += (size_t) sprintf(t + o, "{\"x\": [");
        for (size_t i = 0; i < 5000; i++)
                o += (size_t) sprintf(t + o, "%s%zu", i ? "," : "", i);
        o += (size_t) sprintf(t + o, "], \"SessionStart\": {\"executables\": [], \"y\": {");
        for (size_t i = 0; i < 2000; i++)
                o += (size_t) sprintf(t + o, "%s\"k%zu\":[[%zu]]", i ? "," : "", i, i);
        o += (size_t) sprintf(t + o, "}}}");
        c = parse_valid(t, 2);
        ASSERT_TRUE(c->events[SCRIPT_EVENT_START].present);

        /* Below an executables entry too. */
        t2 = malloc(5000 * 8 + 256);
        ASSERT_TRUE(t2);
        o = (size_t) sprintf(t2, "{\"SessionStart\": {\"executables\": [{\"context\": \"user\", \"env\": [");
        for (size_t i = 0; i < 3000; i++)
                o += (size_t) sprintf(t2 + o, "%s%zu", i ? "," : "", i);
        sprintf(t2 + o, "]}]}}");
        c = script_config_free(c);
        c = parse_valid(t2, 1);

        /* "executables" itself is read: the limit holds there (beside the "at most 2" error). */
        t3 = malloc(1100 * 4 + 256);
        ASSERT_TRUE(t3);
        o = (size_t) sprintf(t3, "{\"SessionStart\": {\"executables\": [");
        for (size_t i = 0; i < 1100; i++)
                o += (size_t) sprintf(t3 + o, "%s{}", i ? "," : "");
        sprintf(t3 + o, "]}}");
        EXPECT_ERROR(t3, 1, 0, "SessionStart.executables", "more than 1024 elements");
}

/* Messages quote keys with '"' and control characters escaped; the NUL byte message is grammatical. */
static void test_message_wording(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        ScriptConfig *c = NULL;

        EXPECT_WARNING("{\"a\\\"b\\u0001\": 1}", 1, 2, "a\\\"b\\x01", "Unknown event \"a\\\"b\\x01\"");
        EXPECT_WARNING("{\"SessionStart\": {\"executables\": [], \"q\\\\\\\"\": 1}}", 1, 0,
                       "SessionStart.q\\\\\\\"", "Unknown key \"q\\\\\\\"\"");

        ASSERT_ERROR(script_config_parse("{\"a\":1}\0", 8, &c, &f), EINVAL);
        ASSERT_EQ(f.n_errors, 1);
        ASSERT_STREQ(f.items[0].message, "Found a NUL byte after the end of the JSON document; only one "
                                         "top-level object is allowed");
        ASSERT_EQ(f.items[0].column, 8);
}

/* The position of each executable's "filename" value is kept for the file checks. */
static void test_filename_position(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        const ScriptExecutable *x;

        c = parse_valid("{\"SessionStart\": {\"executables\": [\n"
                        "  {\"context\": \"user\", \"filename\": \"/u.sh\"},\n"
                        "  {\"context\": \"system\",\n   \"filename\":   \"/é/s.sh\"}]}}", 0);
        x = &c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_USER];
        ASSERT_EQ(x->filename_line, 2);
        ASSERT_EQ(x->filename_column, 35);
        x = &c->events[SCRIPT_EVENT_START].executables[SCRIPT_CONTEXT_SYSTEM];
        ASSERT_EQ(x->filename_line, 4);
        ASSERT_EQ(x->filename_column, 18);
}

/* Unknown keys draw warnings with their path, at every level. */
static void test_unknown_keys(void) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        _cleanup_(freep) char *t = NULL;

        EXPECT_WARNING("{\"SessionStart\": {\"executables\": [], \"timeout\": 5}}",
                       1, 38, "SessionStart.timeout", "Unknown key \"timeout\"");
        t = with_entry("{\"context\": \"user\", \"workingDirectory\": \"/tmp\"}");
        EXPECT_WARNING(t, 1, ENTRY_COL + 20, "SessionStart.executables[0].workingDirectory",
                       "Unknown key \"workingDirectory\"");
        /* Warnings alone keep the config valid. */
        c = parse_valid(t, 1);
}

/* Malformed JSON: one error, at the right line and column. */
static void test_syntax_errors(void) {
        EXPECT_ERROR("{\n  \"SessionStart\": {\"executables\": [],}\n}", 2, 37, "SessionStart",
                     "Trailing comma");
        EXPECT_ERROR("{\"a\": [1, 2, ]}", 1, 12, "a", "Trailing comma");
        EXPECT_ERROR("{\n  // comment\n}", 2, 3, "", "Comments are not allowed");
        EXPECT_ERROR("{\"a\": 1 /* c */}", 1, 9, "", "Comments are not allowed");
        EXPECT_ERROR("{'SessionStart': {}}", 1, 2, "", "double quotes");
        EXPECT_ERROR("{\"a\": 1\n \"b\": 2}", 2, 2, "", "Missing ','");
        EXPECT_ERROR("{\"a\" 1}", 1, 6, "a", "':'");
        EXPECT_ERROR("{\"a\": \"abc}", 1, 7, "a", "Unterminated string");
        EXPECT_ERROR("{\n\"a\": [1, 2", 2, 6, "a", "never closed");
        EXPECT_ERROR("{\"a\": tru}", 1, 7, "a", "Invalid literal 'tru'");
        EXPECT_ERROR("{\"a\": True}", 1, 7, "a", "lowercase");
        EXPECT_ERROR("{\"a\": NaN}", 1, 7, "a", "NaN");
        EXPECT_ERROR("{\"a\": 01}", 1, 7, "a", "leading zeros");
        EXPECT_ERROR("{\"a\": 1.}", 1, 7, "a", "decimal point");
        EXPECT_ERROR("{\"a\": -}", 1, 7, "a", "digit");
        EXPECT_ERROR("{\"a\": +1}", 1, 7, "a", "Expected a value");
        EXPECT_ERROR("{\"a\": \"x\ty\"}", 1, 9, "a", "control character");
        EXPECT_ERROR("{\"a\": \"\\q\"}", 1, 9, "a", "Invalid escape");
        EXPECT_ERROR("{\"a\": \"\\u12\"}", 1, 8, "a", "four hexadecimal digits");
        EXPECT_ERROR("{} x", 1, 4, "", "after the end of the JSON document");
        EXPECT_ERROR("{}{}", 1, 3, "", "after the end of the JSON document");
        EXPECT_ERROR("{a: 1}", 1, 2, "", "key name in double quotes");
        EXPECT_ERROR("{\"a\": }", 1, 7, "a", "Expected a value");
        /* Columns count characters, not bytes: 'é' is one column. */
        EXPECT_ERROR("{\"é\": 1,}", 1, 8, "", "Trailing comma");
}

static void test_bytes(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *big = NULL, *deep = NULL;
        ScriptConfig *c = NULL;

        /* Invalid UTF-8, inside and outside strings. */
        EXPECT_ERROR("{\"a\":\n \"x\xff\"}", 2, 4, "a", "UTF-8");
        EXPECT_ERROR("{\"a\": \"\xc0\xaf\"}", 1, 8, "a", "UTF-8");          /* overlong '/' */
        EXPECT_ERROR("{\"a\": \"\xed\xa0\x80\"}", 1, 8, "a", "UTF-8");      /* surrogate */
        EXPECT_ERROR("\xfe{}", 1, 1, "", "UTF-8");

        /* A NUL byte: the buffer is taken by length, not as a C string. */
        ASSERT_ERROR(script_config_parse("{}\0{}", 5, &c, &f), EINVAL);
        ASSERT_EQ(f.n_errors, 1);
        ASSERT_EQ(f.items[0].column, 3);
        finding_list_done(&f);

        /* Only len bytes are looked at. */
        ASSERT_OK(script_config_parse("{}garbage", 2, &c, &f));
        c = script_config_free(c);
        finding_list_done(&f);

        /* A UTF-8 byte order mark is skipped with a warning. */
        ASSERT_OK(script_config_parse("\xef\xbb\xbf{}", 5, &c, &f));
        ASSERT_EQ(f.n_warnings, 1);
        c = script_config_free(c);
        finding_list_done(&f);

        /* Too large. */
        big = malloc(SCRIPT_CONFIG_MAX_FILE_SIZE + 1);
        ASSERT_TRUE(big);
        memset(big, ' ', SCRIPT_CONFIG_MAX_FILE_SIZE + 1);
        big[0] = '{';
        big[SCRIPT_CONFIG_MAX_FILE_SIZE] = '}';
        ASSERT_ERROR(script_config_parse(big, SCRIPT_CONFIG_MAX_FILE_SIZE + 1, &c, &f), EINVAL);
        ASSERT_TRUE(strstr(f.items[0].message, "larger than"));
        finding_list_done(&f);
        /* … while exactly the limit is parsed. */
        big[SCRIPT_CONFIG_MAX_FILE_SIZE - 1] = '}';
        ASSERT_OK(script_config_parse(big, SCRIPT_CONFIG_MAX_FILE_SIZE, &c, &f));
        c = script_config_free(c);
        finding_list_done(&f);

        /* Nesting is bounded. */
        deep = malloc(2 * 1000 + 1);
        ASSERT_TRUE(deep);
        for (size_t i = 0; i < 1000; i++) {
                deep[i] = '[';
                deep[1000 + i] = ']';
        }
        deep[2000] = 0;
        {
                /* The path says where: 32 levels of first elements. */
                char deep_path[SCRIPT_CONFIG_MAX_DEPTH * 3 + 1] = "";

                for (size_t i = 0; i < SCRIPT_CONFIG_MAX_DEPTH; i++)
                        strcat(deep_path, "[0]");
                EXPECT_ERROR(deep, 1, SCRIPT_CONFIG_MAX_DEPTH + 1, deep_path, "nested more than");
        }
}

/* Many findings are capped, and the cap keeps an error visible. */
static void test_findings_cap(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *t = NULL;
        ScriptConfig *c = NULL;
        size_t o = 0;

        t = malloc(300 * 16 + 64);
        ASSERT_TRUE(t);
        o += (size_t) sprintf(t + o, "{");
        for (size_t i = 0; i < 300; i++)
                o += (size_t) sprintf(t + o, "\"k%zu\": 1, ", i);
        o += (size_t) sprintf(t + o, "\"SessionStart\": 5}");

        ASSERT_ERROR(script_config_parse(t, o, &c, &f), EINVAL);
        ASSERT_EQ(f.n, SCRIPT_CONFIG_MAX_FINDINGS + 1);
        ASSERT_TRUE(strstr(f.items[f.n - 1].message, "not shown"));
        ASSERT_EQ(f.items[f.n - 1].severity, FINDING_ERROR);
        ASSERT_TRUE(f.n_errors >= 1);
}

/* Objects the walker reads are bounded: a key after the 1024th is never silently skipped. */
static void test_too_many_members(void) {
        _cleanup_(freep) char *t = NULL;
        size_t o = 0;

        t = malloc(1100 * 16 + 64);
        ASSERT_TRUE(t);
        o += (size_t) sprintf(t + o, "{");
        for (size_t i = 0; i < 1100; i++)
                o += (size_t) sprintf(t + o, "\"k%zu\":1,", i);
        sprintf(t + o, "\"SessionStart\": 5}");
        EXPECT_ERROR(t, 1, 0, "", "more than 1024 members");
}

static void test_names(void) {
        ASSERT_STREQ(script_event_to_string(SCRIPT_EVENT_START), "SessionStart");
        ASSERT_STREQ(script_event_to_string(SCRIPT_EVENT_TERMINATION), "SessionTermination");
        ASSERT_TRUE(script_event_to_string(_SCRIPT_EVENT_MAX) == NULL);
        ASSERT_STREQ(script_context_to_string(SCRIPT_CONTEXT_USER), "user");
        ASSERT_EQ(script_event_from_string("sessiontermination"), SCRIPT_EVENT_TERMINATION);
        ASSERT_EQ(script_context_from_string("SYSTEM"), SCRIPT_CONTEXT_SYSTEM);
        ASSERT_ERROR(script_context_from_string("root"), EINVAL);
        ASSERT_ERROR(script_event_from_string(NULL), EINVAL);
        ASSERT_TRUE(script_config_free(NULL) == NULL);
}

int main(void) {
        TEST_RUN(test_seed_sample);
        TEST_RUN(test_seed_sample_upper);
        TEST_RUN(test_spec_example);
        TEST_RUN(test_powershell_arguments);
        TEST_RUN(test_linux_paths);
        TEST_RUN(test_utf8_values);
        TEST_RUN(test_top_level);
        TEST_RUN(test_events);
        TEST_RUN(test_executables);
        TEST_RUN(test_context);
        TEST_RUN(test_filename);
        TEST_RUN(test_arguments);
        TEST_RUN(test_s3_log_enabled);
        TEST_RUN(test_waiting_time);
        TEST_RUN(test_duplicates);
        TEST_RUN(test_duplicates_alone);
        TEST_RUN(test_canonical_paths);
        TEST_RUN(test_syntax_error_paths);
        TEST_RUN(test_big_unknown_values);
        TEST_RUN(test_message_wording);
        TEST_RUN(test_filename_position);
        TEST_RUN(test_unknown_keys);
        TEST_RUN(test_syntax_errors);
        TEST_RUN(test_bytes);
        TEST_RUN(test_findings_cap);
        TEST_RUN(test_too_many_members);
        TEST_RUN(test_names);
        return 0;
}
