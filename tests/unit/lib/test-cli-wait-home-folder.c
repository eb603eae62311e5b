/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of `session-scripts wait-home-folder` (cli/verb-wait-home-folder.c), run as the built binary
 * (argv[1]): the status file appearing (directories included) while it waits → exit 0; a file that
 * stays False → exit 1 after the timeout; usage errors → exit 2.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "session-scripts/session-scripts.h"
#include "tests.h"

static const char *binary;

static double now_sec(void) {
        struct timespec ts;

        ASSERT_OK(clock_gettime(CLOCK_MONOTONIC, &ts));
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static pid_t spawn(const char *home_env, ...) {
        const char *argv[16] = { binary, "wait-home-folder" };
        size_t n = 2;
        va_list ap;
        pid_t pid;

        va_start(ap, home_env);
        while (n < ELEMENTSOF(argv) - 1 && (argv[n] = va_arg(ap, const char *)))
                n++;
        va_end(ap);
        argv[n] = NULL;

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                if (home_env)
                        setenv("HOME", home_env, 1);
                execv(binary, (char **) argv);
                _exit(127);
        }
        return pid;
}

static int wait_exit(pid_t pid) {
        int status;

        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void write_status(const char *home, const char *value) {
        _cleanup_(freep) char *p = NULL, *tmp = NULL, *content = NULL;
        _cleanup_(closep) int fd = -EBADF;

        ASSERT_TRUE(asprintf(&p, "%s/%s", home, SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE) > 0);
        ASSERT_TRUE(asprintf(&tmp, "%s.tmp", p) > 0);
        ASSERT_TRUE(asprintf(&content, "%s=%s\n", SESSION_SCRIPTS_HOME_FOLDER_STATUS_KEY, value) > 0);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ASSERT_OK(rename(tmp, p));      /* as a writer that replaces atomically would */
}

static void mkdirs(const char *home) {
        _cleanup_(freep) char *a = NULL, *b = NULL;

        ASSERT_TRUE(asprintf(&a, "%s/.config", home) > 0);
        ASSERT_TRUE(asprintf(&b, "%s/.config/appstream-home-folder", home) > 0);
        (void) mkdir(a, 0755);
        (void) mkdir(b, 0755);
}

static void test_becomes_true(void) {
        char home[] = "/tmp/test-wait-home-XXXXXX";
        double t0;
        pid_t pid;

        ASSERT_TRUE(mkdtemp(home));

        /* Neither the directories nor the file exist when it starts waiting. */
        t0 = now_sec();
        pid = spawn(home, "--timeout", "10", NULL);
        usleep(300 * 1000);
        mkdirs(home);
        write_status(home, "False");
        usleep(50 * 1000);
        write_status(home, "True");
        ASSERT_EQ(wait_exit(pid), 0);
        /* Woken by inotify, not by the 10 s timeout. */
        ASSERT_TRUE(now_sec() - t0 < 5.0);
        fprintf(stderr, "returned after %.2f s\n", now_sec() - t0);

        /* Already True: returns at once, also with --timeout 0; --home instead of $HOME. */
        ASSERT_EQ(wait_exit(spawn("/nonexistent", "--timeout", "0", "--home", home, NULL)), 0);

        {
                _cleanup_(freep) char *cmd = NULL;
                ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", home) > 0);
                ASSERT_EQ(system(cmd), 0);
        }
}

static void test_in_place_write(void) {
        char home[] = "/tmp/test-wait-home-XXXXXX";
        _cleanup_(freep) char *p = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        pid_t pid;

        ASSERT_TRUE(mkdtemp(home));
        mkdirs(home);
        write_status(home, "False");

        pid = spawn(home, "--timeout", "10", NULL);
        usleep(300 * 1000);
        /* Rewritten in place (truncate + write), as `echo … > file` does. */
        ASSERT_TRUE(asprintf(&p, "%s/%s", home, SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE) > 0);
        f = fopen(p, "we");
        ASSERT_TRUE(f);
        fprintf(f, "%s=True\n", SESSION_SCRIPTS_HOME_FOLDER_STATUS_KEY);
        ASSERT_EQ(fclose(TAKE_PTR(f)), 0);
        ASSERT_EQ(wait_exit(pid), 0);

        {
                _cleanup_(freep) char *cmd = NULL;
                ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", home) > 0);
                ASSERT_EQ(system(cmd), 0);
        }
}

static void test_timeout(void) {
        char home[] = "/tmp/test-wait-home-XXXXXX";
        double t0, elapsed;

        ASSERT_TRUE(mkdtemp(home));
        mkdirs(home);
        write_status(home, "False");

        t0 = now_sec();
        ASSERT_EQ(wait_exit(spawn(home, "--timeout", "1", NULL)), 1);
        elapsed = now_sec() - t0;
        fprintf(stderr, "timed out after %.2f s\n", elapsed);
        ASSERT_TRUE(elapsed >= 0.95 && elapsed < 5.0);

        /* No status file at all, timeout 0: immediate exit 1. */
        ASSERT_EQ(wait_exit(spawn("/nonexistent-home", "--timeout", "0", NULL)), 1);

        {
                _cleanup_(freep) char *cmd = NULL;
                ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", home) > 0);
                ASSERT_EQ(system(cmd), 0);
        }
}

static void test_usage(void) {
        ASSERT_EQ(wait_exit(spawn("/tmp", "--timeout", "abc", NULL)), 2);
        ASSERT_EQ(wait_exit(spawn("/tmp", "--timeout", "-1", NULL)), 2);
        ASSERT_EQ(wait_exit(spawn("/tmp", "--timeout", "86401", NULL)), 2);
        ASSERT_EQ(wait_exit(spawn("/tmp", "--home", "relative", NULL)), 2);
        ASSERT_EQ(wait_exit(spawn("/tmp", "extra", NULL)), 2);
        ASSERT_EQ(wait_exit(spawn("/tmp", "--help", NULL)), 0);
}

int main(int argc, char *argv[]) {
        ASSERT_TRUE(argc == 2);
        binary = argv[1];

        TEST_RUN(test_becomes_true);
        TEST_RUN(test_in_place_write);
        TEST_RUN(test_timeout);
        TEST_RUN(test_usage);
        return 0;
}
