/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of lib/settings.c: defaults, the main file, drop-ins in lexical order, comments, empty
 * assignments resetting to defaults, and that invalid values, unknown keys and trailing comments
 * are reported (with file and line) while the default stays.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "settings.h"
#include "session-scripts/session-scripts.h"
#include "tests.h"

typedef struct Reports {
        size_t n;
        char text[4096];
} Reports;

static void collect(const char *file, unsigned line, const char *message, void *userdata) {
        Reports *r = userdata;
        const char *base = strrchr(file, '/');
        size_t o = strlen(r->text);

        snprintf(r->text + o, sizeof(r->text) - o, "%s:%u: %s\n", base ? base + 1 : file, line, message);
        r->n++;
}

static void write_file(const char *dir, const char *name, const char *content) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(fclosep) FILE *f = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) > 0);
        f = fopen(p, "we");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fputs(content, f) >= 0);
}

static void test_defaults(void) {
        _cleanup_(settings_done) Settings s = {};
        Reports r = {};

        ASSERT_OK(settings_load("/nonexistent/session-scripts.conf", &s, collect, &r));
        ASSERT_EQ(r.n, 0);
        ASSERT_STREQ(s.stack_name, "default");
        ASSERT_STREQ(s.fleet_name, "default");
        ASSERT_STREQ(s.access_mode, "custom");
        ASSERT_STREQ(s.config_file, SESSION_SCRIPTS_CONFIG_PATH);
        ASSERT_TRUE(s.bucket == NULL);
        ASSERT_STREQ(s.region, "us-east-1");
        ASSERT_TRUE(s.endpoint == NULL);
        ASSERT_TRUE(s.server_side_encryption);
        ASSERT_EQ(s.max_spool_size, 1ULL << 30);
        ASSERT_TRUE(s.profile == NULL);
}

static void test_file_and_dropins(void) {
        char dir[] = "/tmp/test-settings-XXXXXX";
        _cleanup_(freep) char *path = NULL, *dropins = NULL;
        _cleanup_(settings_done) Settings s = {};
        Reports r = {};

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_TRUE(asprintf(&path, "%s/session-scripts.conf", dir) > 0);
        ASSERT_TRUE(asprintf(&dropins, "%s/session-scripts.conf.d", dir) > 0);
        ASSERT_OK(mkdir(dropins, 0755));

        write_file(dir, "session-scripts.conf",
                   "# comment\n"
                   "; another comment\n"
                   "[Session]\n"
                   "StackName = stack-1\n"
                   "FleetName=fleet-1\n"
                   "AccessMode=userpool\n"
                   "ConfigFile=/etc/session-scripts/config.json\n"
                   "\n"
                   "[S3]\n"
                   "Bucket=appstream-logs-eu-central-1-123456789012-abcdef\n"
                   "Region=eu-central-1\n"
                   "Endpoint=http://127.0.0.1:9000\n"
                   "ServerSideEncryption=no\n"
                   "MaxSpoolSize=512M\n"
                   "Profile=logs\n");
        /* Applied in lexical order, after the main file; other names are ignored. */
        write_file(dropins, "20-fleet.conf", "[Session]\nFleetName=fleet-20\n");
        write_file(dropins, "10-fleet.conf", "[Session]\nFleetName=fleet-10\nStackName=stack-10\n");
        write_file(dropins, "30-reset.conf", "[S3]\nProfile=\n");
        write_file(dropins, "99-ignored.conf.bak", "[Session]\nFleetName=ignored\n");

        ASSERT_OK(settings_load(path, &s, collect, &r));
        if (r.n)
                fprintf(stderr, "%s", r.text);
        ASSERT_EQ(r.n, 0);
        ASSERT_STREQ(s.stack_name, "stack-10");
        ASSERT_STREQ(s.fleet_name, "fleet-20");
        ASSERT_STREQ(s.access_mode, "userpool");
        ASSERT_STREQ(s.config_file, "/etc/session-scripts/config.json");
        ASSERT_STREQ(s.bucket, "appstream-logs-eu-central-1-123456789012-abcdef");
        ASSERT_STREQ(s.region, "eu-central-1");
        ASSERT_STREQ(s.endpoint, "http://127.0.0.1:9000");
        ASSERT_TRUE(!s.server_side_encryption);
        ASSERT_EQ(s.max_spool_size, 512ULL << 20);
        ASSERT_TRUE(s.profile == NULL);         /* reset by the empty assignment */

        /* A drop-in dir without a main file works too. */
        settings_done(&s);
        ASSERT_OK(unlink(path));
        ASSERT_OK(settings_load(path, &s, collect, &r));
        ASSERT_STREQ(s.fleet_name, "fleet-20");
        ASSERT_STREQ(s.access_mode, "custom");

        {
                _cleanup_(freep) char *cmd = NULL;
                ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
                ASSERT_EQ(system(cmd), 0);
        }
}

static void test_invalid_values(void) {
        char dir[] = "/tmp/test-settings-XXXXXX";
        _cleanup_(freep) char *path = NULL, *cmd = NULL;
        _cleanup_(settings_done) Settings s = {};
        Reports r = {};

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_TRUE(asprintf(&path, "%s/s.conf", dir) > 0);
        write_file(dir, "s.conf",
                   "Stray=1\n"                          /* 1: outside a section */
                   "[Session]\n"
                   "AccessMode=admin\n"                 /* 3 */
                   "StackName=a/b\n"                    /* 4 */
                   "ConfigFile=relative.json\n"         /* 5 */
                   "Colour=blue\n"                      /* 6 */
                   "[S3]\n"
                   "Bucket=Invalid_Bucket\n"            /* 8 */
                   "MaxSpoolSize=lots\n"                /* 9 */
                   "MaxSpoolSize=99999999999999999999G\n" /* 10 */
                   "ServerSideEncryption=maybe\n"       /* 11 */
                   "Endpoint=ftp://x\n"                 /* 12 */
                   "Region=EU Central\n"                /* 13 */
                   "no equals sign\n"                   /* 14 */
                   "[Extra]\n"                          /* 15 */
                   "Key=value\n");                      /* 16: silently skipped, section reported */

        ASSERT_OK(settings_load(path, &s, collect, &r));
        fprintf(stderr, "%s", r.text);
        ASSERT_EQ(r.n, 13);
        ASSERT_TRUE(strstr(r.text, "s.conf:1: "));
        ASSERT_TRUE(strstr(r.text, "s.conf:3: Invalid AccessMode=admin"));
        ASSERT_TRUE(strstr(r.text, "s.conf:6: Unknown key Colour="));
        ASSERT_TRUE(strstr(r.text, "s.conf:10: "));
        ASSERT_TRUE(strstr(r.text, "s.conf:15: Unknown section [Extra]"));
        /* Defaults stay. */
        ASSERT_STREQ(s.access_mode, "custom");
        ASSERT_STREQ(s.stack_name, "default");
        ASSERT_STREQ(s.config_file, SESSION_SCRIPTS_CONFIG_PATH);
        ASSERT_TRUE(s.bucket == NULL);
        ASSERT_EQ(s.max_spool_size, 1ULL << 30);
        ASSERT_TRUE(s.server_side_encryption);
        ASSERT_TRUE(s.endpoint == NULL);
        ASSERT_STREQ(s.region, "us-east-1");

        /* A NULL report callback is allowed. */
        settings_done(&s);
        ASSERT_OK(settings_load(path, &s, NULL, NULL));

        ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        ASSERT_EQ(system(cmd), 0);
}

/*
 * Trailing comments, as in the example the README once had: every such assignment is refused with
 * a report naming file, line and key (no value silently keeps the comment text, no bucket is
 * silently dropped), and the assignments around them still apply.
 */
static void test_trailing_comments(void) {
        char dir[] = "/tmp/test-settings-XXXXXX";
        _cleanup_(freep) char *path = NULL, *cmd = NULL;
        _cleanup_(settings_done) Settings s = {};
        Reports r = {};

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_TRUE(asprintf(&path, "%s/s.conf", dir) > 0);
        write_file(dir, "s.conf",
                   "[Session]\n"
                   "StackName=my-stack          # defaults for the session metadata\n"   /* 2 */
                   "FleetName=my-fleet\n"
                   "AccessMode=custom           # userpool | federated | custom\n"      /* 4 */
                   "ConfigFile=/opt/appstream/SessionScripts/config.json\n"
                   "\n"
                   "[S3]\n"
                   "Bucket=appstream-logs-us-west-2-123456789012-abcdefg   # without Bucket= logs stay\n" /* 8 */
                   "Region=us-west-2\n"
                   "#Endpoint=https://s3.example.internal                   # S3-compatible\n"
                   "ServerSideEncryption=no\t; x-amz-server-side-encryption\n"        /* 11 */
                   "MaxSpoolSize=1G\n"
                   "   # an indented comment line is a comment\n"
                   "Profile=a#b\n");                                                   /* 14: no blank before '#' */

        ASSERT_OK(settings_load(path, &s, collect, &r));
        fprintf(stderr, "%s", r.text);
        ASSERT_EQ(r.n, 4);
        ASSERT_TRUE(strstr(r.text, "s.conf:2: StackName= has a trailing comment"));
        ASSERT_TRUE(strstr(r.text, "s.conf:4: AccessMode= has a trailing comment"));
        ASSERT_TRUE(strstr(r.text, "s.conf:8: Bucket= has a trailing comment"));
        ASSERT_TRUE(strstr(r.text, "s.conf:11: ServerSideEncryption= has a trailing comment"));
        ASSERT_TRUE(strstr(r.text, "comments must be on a line of their own"));
        /* Refused assignments leave the defaults; the others apply. */
        ASSERT_STREQ(s.stack_name, "default");
        ASSERT_STREQ(s.fleet_name, "my-fleet");
        ASSERT_STREQ(s.access_mode, "custom");
        ASSERT_TRUE(s.bucket == NULL);
        ASSERT_STREQ(s.region, "us-west-2");
        ASSERT_TRUE(s.endpoint == NULL);
        ASSERT_TRUE(s.server_side_encryption);
        ASSERT_STREQ(s.profile, "a#b");

        ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        ASSERT_EQ(system(cmd), 0);
}

static void test_unreadable(void) {
        char dir[] = "/tmp/test-settings-XXXXXX";
        _cleanup_(freep) char *cmd = NULL;
        Settings s = { .stack_name = (char *) "untouched" };

        /* A path that exists but is not a readable file is an error; *ret stays untouched. */
        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_ERROR(settings_load(dir, &s, NULL, NULL), EISDIR);
        ASSERT_STREQ(s.stack_name, "untouched");
        ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        ASSERT_EQ(system(cmd), 0);
}

int main(void) {
        TEST_RUN(test_defaults);
        TEST_RUN(test_file_and_dropins);
        TEST_RUN(test_invalid_values);
        TEST_RUN(test_trailing_comments);
        TEST_RUN(test_unreadable);
        return 0;
}
