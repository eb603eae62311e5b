/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of `session-scripts validate` (cli/verb-validate.c), run as the built binary (argv[1]) on
 * configs written to a temporary directory: exit statuses 0/1/2, the compiler-style lines and the
 * verdict, and that --json output is a JSON document with the documented fields.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "json-util.h"
#include "tests.h"

static const char *binary;
static char dir[64];

static char *write_config(const char *name, const char *content) {
        _cleanup_(fclosep) FILE *f = NULL;
        char *p = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) > 0);
        f = fopen(p, "we");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fputs(content, f) >= 0);
        return p;
}

/* Runs the binary with the given arguments (NULL-terminated); returns its exit status and its
 * stdout in *ret_out. stderr is passed through. */
static int run(char **ret_out, ...) {
        const char *argv[16] = { binary };
        size_t n = 1;
        int pipefd[2], status;
        _cleanup_(freep) char *out = NULL;
        size_t have = 0, size = 0;
        va_list ap;
        pid_t pid;

        va_start(ap, ret_out);
        while (n < ELEMENTSOF(argv) - 1 && (argv[n] = va_arg(ap, const char *)))
                n++;
        va_end(ap);
        argv[n] = NULL;

        ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                if (dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execv(binary, (char **) argv);
                _exit(127);
        }
        close(pipefd[1]);

        for (;;) {
                ssize_t k;

                if (have + 4096 + 1 > size) {
                        size = (have + 4096 + 1) * 2;
                        out = realloc(out, size);
                        ASSERT_TRUE(out);
                }
                k = read(pipefd[0], out + have, size - have - 1);
                ASSERT_TRUE(k >= 0);
                if (k == 0)
                        break;
                have += (size_t) k;
        }
        close(pipefd[0]);
        out[have] = 0;

        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        fprintf(stderr, "$ %s … → %d\n%s", binary, WEXITSTATUS(status), out);
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        return WEXITSTATUS(status);
}

static const char valid_config[] =
        "{\n"
        "  \"SessionStart\": {\n"
        "    \"executables\": [\n"
        "      { \"context\": \"system\", \"filename\": \"/opt/appstream/SessionScripts/start.sh\", "
        "\"arguments\": \"-v\" },\n"
        "      { \"context\": \"user\", \"filename\": \"\" }\n"
        "    ],\n"
        "    \"WaitingTime\": 30,\n"
        "    \"comment\": \"an unknown key, a warning\"\n"
        "  }\n"
        "}\n";

static const char invalid_config[] =
        "{\n"
        "  \"SessionStart\": {\n"
        "    \"executables\": [\n"
        "      { \"context\": \"admin\", \"filename\": \"start.sh\" }\n"
        "    ],\n"
        "    \"waitingTime\": 90\n"
        "  }\n"
        "}\n";

static void test_valid(void) {
        _cleanup_(freep) char *p = write_config("valid.json", valid_config), *out = NULL, *verdict = NULL;

        ASSERT_EQ(run(&out, "validate", "--no-file-checks", p, NULL), 0);
        ASSERT_TRUE(asprintf(&verdict, "%s: valid (0 errors, 1 warning)\n", p) > 0);
        ASSERT_TRUE(strstr(out, verdict));
        ASSERT_TRUE(strstr(out, ":8:5: warning: Unknown key \"comment\""));
        ASSERT_TRUE(strstr(out, "[SessionStart.comment]"));
}

static void test_invalid(void) {
        _cleanup_(freep) char *p = write_config("invalid.json", invalid_config), *out = NULL, *line = NULL;

        ASSERT_EQ(run(&out, "validate", "--no-file-checks", p, NULL), 1);
        ASSERT_TRUE(asprintf(&line, "%s:4:20: error: ", p) > 0);
        ASSERT_TRUE(strstr(out, line));
        ASSERT_TRUE(strstr(out, "[SessionStart.executables[0].context]"));
        ASSERT_TRUE(strstr(out, "[SessionStart.executables[0].filename]"));
        ASSERT_TRUE(strstr(out, "[SessionStart.waitingTime]"));
        ASSERT_TRUE(strstr(out, ": invalid (3 errors, 0 warnings)\n"));
}

static void test_syntax(void) {
        _cleanup_(freep) char *p = write_config("syntax.json", "{\n  \"SessionStart\": {},\n}\n"),
                              *out = NULL, *line = NULL;

        ASSERT_EQ(run(&out, "validate", "--no-file-checks", p, NULL), 1);
        ASSERT_TRUE(asprintf(&line, "%s:2:21: error: Trailing comma", p) > 0);
        ASSERT_TRUE(strstr(out, line));
}

static void test_usage_and_unreadable(void) {
        _cleanup_(freep) char *missing = NULL;

        ASSERT_TRUE(asprintf(&missing, "%s/missing.json", dir) > 0);
        ASSERT_EQ(run(NULL, "validate", missing, NULL), 2);
        ASSERT_EQ(run(NULL, "validate", dir, NULL), 2);                 /* a directory */
        ASSERT_EQ(run(NULL, "validate", "--bogus", NULL), 2);
        ASSERT_EQ(run(NULL, "validate", "a.json", "b.json", NULL), 2);
        ASSERT_EQ(run(NULL, "no-such-verb", NULL), 2);
        ASSERT_EQ(run(NULL, NULL), 2);
        ASSERT_EQ(run(NULL, "--help", NULL), 0);
        ASSERT_EQ(run(NULL, "--version", NULL), 0);
        ASSERT_EQ(run(NULL, "validate", "--help", NULL), 0);
}

/* --json prints a document also when it stops early (unreadable file, usage error), exit 2. */
static void check_json_failure(const char *out, const char *path, const char *file, const char *fragment) {
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        struct json_object *v, *findings, *f0;

        doc = json_tokener_parse(out);
        ASSERT_TRUE(doc);
        ASSERT_TRUE(json_object_object_get_ex(doc, "path", &v));
        ASSERT_STREQ(json_object_get_string(v), path);
        ASSERT_TRUE(json_object_object_get_ex(doc, "valid", &v));
        ASSERT_TRUE(!json_object_get_boolean(v));
        ASSERT_TRUE(json_object_object_get_ex(doc, "errors", &v));
        ASSERT_EQ(json_object_get_int(v), 1);
        ASSERT_TRUE(json_object_object_get_ex(doc, "warnings", &v));
        ASSERT_EQ(json_object_get_int(v), 0);
        ASSERT_TRUE(json_object_object_get_ex(doc, "findings", &findings));
        ASSERT_EQ(json_object_array_length(findings), 1);
        f0 = json_object_array_get_idx(findings, 0);
        ASSERT_TRUE(json_object_object_get_ex(f0, "severity", &v));
        ASSERT_STREQ(json_object_get_string(v), "error");
        ASSERT_TRUE(json_object_object_get_ex(f0, "line", &v));
        ASSERT_EQ(json_object_get_int(v), 0);
        ASSERT_TRUE(json_object_object_get_ex(f0, "column", &v));
        ASSERT_EQ(json_object_get_int(v), 0);
        ASSERT_TRUE(json_object_object_get_ex(f0, "path", &v));
        ASSERT_STREQ(json_object_get_string(v), "");
        ASSERT_TRUE(json_object_object_get_ex(f0, "file", &v));
        if (file)
                ASSERT_STREQ(json_object_get_string(v), file);
        else
                ASSERT_TRUE(v == NULL);
        ASSERT_TRUE(json_object_object_get_ex(f0, "message", &v));
        ASSERT_TRUE(strstr(json_object_get_string(v), fragment));
}

static void test_json_failures(void) {
        _cleanup_(freep) char *missing = NULL, *fifo = NULL, *out = NULL;

        ASSERT_TRUE(asprintf(&missing, "%s/missing.json", dir) > 0);
        ASSERT_EQ(run(&out, "validate", "--json", missing, NULL), 2);
        check_json_failure(out, missing, missing, "cannot read");
        free(out);

        /* Not a regular file: said so, not "File descriptor in bad state". */
        ASSERT_TRUE(asprintf(&fifo, "%s/fifo", dir) > 0);
        ASSERT_OK(mkfifo(fifo, 0600));
        ASSERT_EQ(run(&out, "validate", "--json", fifo, NULL), 2);
        check_json_failure(out, fifo, fifo, "is not a regular file (it is a FIFO)");
        free(out);
        ASSERT_EQ(run(&out, "validate", "--json", "/dev/null", NULL), 2);
        check_json_failure(out, "/dev/null", "/dev/null",
                           "is not a regular file (it is a character device)");
        free(out);
        ASSERT_EQ(run(&out, "validate", "--json", dir, NULL), 2);
        check_json_failure(out, dir, dir, "is not a regular file (it is a directory)");
        free(out);

        /* Usage errors, also with --json after the bad option. */
        ASSERT_EQ(run(&out, "validate", "--bogus", "--json", missing, NULL), 2);
        check_json_failure(out, missing, NULL, "'--bogus'");
        free(out);
        ASSERT_EQ(run(&out, "validate", "--json", "a.json", "b.json", NULL), 2);
        check_json_failure(out, "a.json", NULL, "too many arguments");
        free(out);
        ASSERT_EQ(run(&out, "validate", "--json", "", NULL), 2);
        check_json_failure(out, "", NULL, "must not be empty");
        free(out);

        /* Without --json nothing goes to stdout for these. */
        ASSERT_EQ(run(&out, "validate", missing, NULL), 2);
        ASSERT_STREQ(out, "");
}

/* Parses the --json output and checks the documented fields. */
static void check_json(const char *out, const char *path, bool valid, int errors, int warnings) {
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        struct json_object *v, *findings;

        doc = json_tokener_parse(out);
        ASSERT_TRUE(doc);
        ASSERT_TRUE(json_object_object_get_ex(doc, "path", &v));
        ASSERT_STREQ(json_object_get_string(v), path);
        ASSERT_TRUE(json_object_object_get_ex(doc, "valid", &v));
        ASSERT_EQ(json_object_get_boolean(v), valid);
        ASSERT_TRUE(json_object_object_get_ex(doc, "errors", &v));
        ASSERT_EQ(json_object_get_int(v), errors);
        ASSERT_TRUE(json_object_object_get_ex(doc, "warnings", &v));
        ASSERT_EQ(json_object_get_int(v), warnings);
        ASSERT_TRUE(json_object_object_get_ex(doc, "findings", &findings));
        ASSERT_TRUE(json_object_is_type(findings, json_type_array));
        ASSERT_EQ(json_object_array_length(findings), errors + warnings);

        for (size_t i = 0; i < json_object_array_length(findings); i++) {
                struct json_object *f = json_object_array_get_idx(findings, i);
                static const char *const fields[] = {
                        "severity", "line", "column", "path", "file", "message",
                };

                for (size_t k = 0; k < ELEMENTSOF(fields); k++)
                        ASSERT_TRUE(json_object_object_get_ex(f, fields[k], NULL));
                ASSERT_TRUE(json_object_object_get_ex(f, "severity", &v));
                ASSERT_TRUE(strcmp(json_object_get_string(v), "error") == 0 ||
                            strcmp(json_object_get_string(v), "warning") == 0);
        }
}

static void test_json(void) {
        _cleanup_(freep) char *pv = write_config("valid.json", valid_config),
                              *pi = write_config("invalid.json", invalid_config), *out = NULL;

        ASSERT_EQ(run(&out, "validate", "--json", "--no-file-checks", pv, NULL), 0);
        check_json(out, pv, true, 0, 1);
        free(out);

        ASSERT_EQ(run(&out, "validate", "--no-file-checks", "--json", pi, NULL), 1);
        check_json(out, pi, false, 3, 0);
        {
                _cleanup_(json_object_putp) struct json_object *doc = json_tokener_parse(out);
                struct json_object *findings, *f0, *v;

                ASSERT_TRUE(json_object_object_get_ex(doc, "findings", &findings));
                f0 = json_object_array_get_idx(findings, 0);
                ASSERT_TRUE(json_object_object_get_ex(f0, "line", &v));
                ASSERT_EQ(json_object_get_int(v), 4);
                ASSERT_TRUE(json_object_object_get_ex(f0, "column", &v));
                ASSERT_EQ(json_object_get_int(v), 20);
                ASSERT_TRUE(json_object_object_get_ex(f0, "path", &v));
                ASSERT_STREQ(json_object_get_string(v), "SessionStart.executables[0].context");
                ASSERT_TRUE(json_object_object_get_ex(f0, "file", &v));
                ASSERT_TRUE(v == NULL);         /* JSON null: not a file finding */
        }
}

/* File checks (default on) cover config.json and the executables; they need root-owned files. */
static void test_file_checks(void) {
        char root_dir[] = "/run/test-cli-validate-XXXXXX";
        _cleanup_(freep) char *cfg = NULL, *script = NULL, *text = NULL, *out = NULL, *cmd = NULL;
        _cleanup_(fclosep) FILE *f = NULL;

        if (geteuid() != 0) {
                fprintf(stderr, "Not root, skipping the file checks.\n");
                return;
        }

        ASSERT_TRUE(mkdtemp(root_dir));
        ASSERT_OK(chmod(root_dir, 0755));
        ASSERT_TRUE(asprintf(&cfg, "%s/config.json", root_dir) > 0);
        ASSERT_TRUE(asprintf(&script, "%s/start.sh", root_dir) > 0);
        ASSERT_TRUE(asprintf(&text, "{\"SessionStart\": {\"executables\": [{\"context\": \"system\", "
                                    "\"filename\": \"%s\"}]}}", script) > 0);
        f = fopen(cfg, "we");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fputs(text, f) >= 0);
        ASSERT_EQ(fclose(TAKE_PTR(f)), 0);
        ASSERT_OK(chmod(cfg, 0644));

        /* The executable does not exist yet: invalid, reported at the "filename" value that names it
         * (CONFIG:LINE:COL), the message naming the file, the JSON "file" too. */
        ASSERT_EQ(run(&out, "validate", cfg, NULL), 1);
        {
                _cleanup_(freep) char *line = NULL;

                ASSERT_TRUE(asprintf(&line, "%s:1:69: error: The executable %s does not exist "
                                            "[SessionStart.executables[0].filename]\n", cfg, script) > 0);
                ASSERT_TRUE(strstr(out, line));
        }
        free(out);
        out = NULL;
        ASSERT_EQ(run(&out, "validate", "--json", cfg, NULL), 1);
        check_json(out, cfg, false, 1, 0);
        {
                _cleanup_(json_object_putp) struct json_object *doc = json_tokener_parse(out);
                struct json_object *findings, *f0, *v;

                ASSERT_TRUE(json_object_object_get_ex(doc, "findings", &findings));
                f0 = json_object_array_get_idx(findings, 0);
                ASSERT_TRUE(json_object_object_get_ex(f0, "line", &v));
                ASSERT_EQ(json_object_get_int(v), 1);
                ASSERT_TRUE(json_object_object_get_ex(f0, "column", &v));
                ASSERT_EQ(json_object_get_int(v), 69);
                ASSERT_TRUE(json_object_object_get_ex(f0, "file", &v));
                ASSERT_STREQ(json_object_get_string(v), script);
                ASSERT_TRUE(json_object_object_get_ex(f0, "path", &v));
                ASSERT_STREQ(json_object_get_string(v), "SessionStart.executables[0].filename");
        }
        free(out);
        out = NULL;

        /* --no-file-checks: valid. */
        ASSERT_EQ(run(NULL, "validate", "--no-file-checks", cfg, NULL), 0);

        f = fopen(script, "we");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fputs("#!/bin/sh\nexit 0\n", f) >= 0);
        ASSERT_EQ(fclose(TAKE_PTR(f)), 0);
        ASSERT_OK(chmod(script, 0755));
        ASSERT_EQ(run(NULL, "validate", cfg, NULL), 0);

        /* config.json itself is checked too: printed under the config's path, without a position. */
        ASSERT_OK(chmod(cfg, 0666));
        ASSERT_EQ(run(&out, "validate", "--json", cfg, NULL), 1);
        check_json(out, cfg, false, 1, 0);
        ASSERT_TRUE(strstr(out, "writable by group and others"));
        free(out);
        out = NULL;
        {
                _cleanup_(freep) char *line = NULL;

                ASSERT_EQ(run(&out, "validate", cfg, NULL), 1);
                ASSERT_TRUE(asprintf(&line, "%s: error: The config file is writable by group and others",
                                     cfg) > 0);
                ASSERT_TRUE(strstr(out, line));
                free(out);
                out = NULL;
        }

        /* A relative PATH: the findings and the verdict spell it the same way, also in --json. */
        {
                _cleanup_(freep) char *cwd = get_current_dir_name();

                ASSERT_TRUE(cwd);
                ASSERT_OK(chdir(root_dir));
                ASSERT_EQ(run(&out, "validate", "config.json", NULL), 1);
                ASSERT_TRUE(strstr(out, "\nconfig.json: error: The config file is writable") ||
                            strncmp(out, "config.json: error: The config file is writable", 47) == 0);
                ASSERT_TRUE(strstr(out, "config.json: invalid (1 error, 0 warnings)\n"));
                ASSERT_TRUE(!strstr(out, root_dir));
                free(out);
                out = NULL;
                ASSERT_EQ(run(&out, "validate", "--json", "config.json", NULL), 1);
                check_json(out, "config.json", false, 1, 0);
                ASSERT_TRUE(strstr(out, "\"file\": \"config.json\""));
                ASSERT_OK(chdir(cwd));
        }

        ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", root_dir) > 0);
        ASSERT_EQ(system(cmd), 0);
}

int main(int argc, char *argv[]) {
        _cleanup_(freep) char *cmd = NULL;

        ASSERT_TRUE(argc == 2);
        /* Absolute: a test below runs it from another working directory. */
        binary = realpath(argv[1], NULL);
        ASSERT_TRUE(binary);

        strcpy(dir, "/tmp/test-cli-validate-XXXXXX");
        ASSERT_TRUE(mkdtemp(dir));

        TEST_RUN(test_valid);
        TEST_RUN(test_invalid);
        TEST_RUN(test_syntax);
        TEST_RUN(test_usage_and_unreadable);
        TEST_RUN(test_json);
        TEST_RUN(test_json_failures);
        TEST_RUN(test_file_checks);

        ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        ASSERT_EQ(system(cmd), 0);
        return 0;
}
