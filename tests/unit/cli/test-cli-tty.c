/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The built `session-scripts` (argv[1]) on a pseudo-terminal: colours and progress lines are
 * decided per stream. A refused bundle's message on stderr is red only when stderr itself is a
 * terminal (not when only stdout is one), never with NO_COLOR or SYSTEMD_COLORS=0; the progress
 * line of `wait-home-folder` appears on a terminal stderr after a second and never in a file; and
 * `install-bundle --json` and `wait-home-folder --json` print one document (also for a refused
 * bundle, or a timeout) and nothing else on stdout.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "session-scripts/session-scripts.h"
#include "tests.h"

static const char *binary;
static char scratch[] = "/tmp/test-cli-tty.XXXXXX";

typedef struct Result {
        int status;
        char tty[16384];        /* what the program wrote to the terminal */
        char file[16384];       /* what it wrote to the other stream (a file) */
} Result;

/* Which of the two streams is the terminal. */
typedef enum TtyOn {
        TTY_ON_STDOUT,
        TTY_ON_STDERR,
} TtyOn;

static void read_fd_all(int fd, char *buf, size_t size) {
        size_t n = 0;

        ASSERT_TRUE(lseek(fd, 0, SEEK_SET) == 0);
        for (;;) {
                ssize_t k = read(fd, buf + n, size - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = 0;
}

/* Runs the binary with argv (NULL-terminated, without the binary) and env assignments ("NAME=value" or
 * "NAME" to unset), the terminal on the stream tty_on and a file on the other. */
static void run(Result *res, TtyOn tty_on, const char *const *env, const char *const *argv) {
        _cleanup_(closep) int master = -EBADF, file = -EBADF;
        const char *args[16] = { binary };
        size_t n = 1, got = 0;
        int slave;
        pid_t pid;

        for (; argv[n - 1] && n < ELEMENTSOF(args) - 1; n++)
                args[n] = argv[n - 1];
        args[n] = NULL;

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        ASSERT_TRUE(master >= 0);
        ASSERT_OK(grantpt(master));
        ASSERT_OK(unlockpt(master));
        slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        ASSERT_TRUE(slave >= 0);
        file = memfd_create("test-cli-tty", MFD_CLOEXEC);
        ASSERT_TRUE(file >= 0);

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDONLY);

                if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 ||
                    dup2(tty_on == TTY_ON_STDOUT ? slave : file, STDOUT_FILENO) < 0 ||
                    dup2(tty_on == TTY_ON_STDERR ? slave : file, STDERR_FILENO) < 0)
                        _exit(127);
                unsetenv("NO_COLOR");
                unsetenv("SYSTEMD_COLORS");
                setenv("TERM", "xterm", 1);
                for (const char *const *e = env; e && *e; e++) {
                        const char *eq = strchr(*e, '=');
                        if (eq) {
                                char name[64];
                                snprintf(name, sizeof name, "%.*s", (int) (eq - *e), *e);
                                setenv(name, eq + 1, 1);
                        } else
                                unsetenv(*e);
                }
                execv(binary, (char **) args);
                _exit(127);
        }
        (void) close(slave);

        /* Read the terminal until the program is gone (the master then reads EIO). */
        for (;;) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                ssize_t k;

                ASSERT_TRUE(poll(&p, 1, 30000) > 0);
                k = read(master, res->tty + got, sizeof res->tty - 1 - got);
                if (k <= 0)
                        break;
                got += (size_t) k;
        }
        res->tty[got] = 0;
        ASSERT_EQ(waitpid(pid, &res->status, 0), pid);
        ASSERT_TRUE(WIFEXITED(res->status));
        res->status = WEXITSTATUS(res->status);
        read_fd_all(file, res->file, sizeof res->file);
        fprintf(stderr, "   %s → %d\n   tty: %s\n   file: %s\n", argv[0], res->status, res->tty, res->file);
}

static void write_file(const char *path, const char *content) {
        _cleanup_(closep) int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
}

static void test_refusal_colors(void) {
        char zip[512], target[512];
        Result r;

        snprintf(zip, sizeof zip, "%s/not-a-zip.zip", scratch);
        snprintf(target, sizeof target, "%s/bundle", scratch);
        write_file(zip, "this is no zip archive\n");
        const char *const argv[] = { "install-bundle", "--target", target, zip, NULL };

        /* Only stdout is a terminal: stderr (a file) gets no escape sequences. */
        run(&r, TTY_ON_STDOUT, NULL, argv);
        ASSERT_EQ(r.status, 1);
        ASSERT_TRUE(strstr(r.file, "refused"));
        ASSERT_TRUE(!strchr(r.file, '\x1b'));

        /* stderr is the terminal: red there. */
        run(&r, TTY_ON_STDERR, NULL, argv);
        ASSERT_EQ(r.status, 1);
        ASSERT_TRUE(strstr(r.tty, "\x1b[0;31m"));
        ASSERT_TRUE(strstr(r.tty, "refused"));

        /* … but not with NO_COLOR, SYSTEMD_COLORS=0 or TERM=dumb. */
        run(&r, TTY_ON_STDERR, (const char *const[]) { "NO_COLOR=1", NULL }, argv);
        ASSERT_TRUE(strstr(r.tty, "refused"));
        ASSERT_TRUE(!strchr(r.tty, '\x1b'));
        run(&r, TTY_ON_STDERR, (const char *const[]) { "SYSTEMD_COLORS=0", NULL }, argv);
        ASSERT_TRUE(strstr(r.tty, "refused"));
        ASSERT_TRUE(!strchr(r.tty, '\x1b'));
        run(&r, TTY_ON_STDERR, (const char *const[]) { "TERM=dumb", NULL }, argv);
        ASSERT_TRUE(strstr(r.tty, "refused"));
        ASSERT_TRUE(!strchr(r.tty, '\x1b'));
}

static void test_wait_progress(void) {
        const char *const argv[] = { "wait-home-folder", "--home", scratch, "--timeout", "2", NULL };
        Result r;

        /* stderr on a terminal: the progress line after the first second, cleared at the end. */
        run(&r, TTY_ON_STDERR, NULL, argv);
        ASSERT_EQ(r.status, 1);
        ASSERT_TRUE(strstr(r.tty, "Waiting for the home folder… 1s"));
        ASSERT_TRUE(strstr(r.tty, "\r\x1b[K"));
        ASSERT_TRUE(strstr(r.tty, "was not mounted within 2 s"));

        /* stderr in a file (a script's stderr is a pipe): never. */
        run(&r, TTY_ON_STDOUT, NULL, argv);
        ASSERT_EQ(r.status, 1);
        ASSERT_TRUE(strstr(r.file, "was not mounted within 2 s"));
        ASSERT_TRUE(!strstr(r.file, "Waiting"));
        ASSERT_TRUE(!strchr(r.file, '\x1b'));
        ASSERT_TRUE(!strstr(r.tty, "Waiting"));
}

static void test_wait_json(void) {
        const char *const argv[] = { "wait-home-folder", "--home", scratch, "--timeout", "0", "--json", NULL };
        char dir[600], status[700];
        struct json_object *doc, *v;
        Result r;

        /* Not mounted: one object on stdout (a file here), mounted false, exit 1. */
        run(&r, TTY_ON_STDERR, NULL, argv);
        ASSERT_EQ(r.status, 1);
        doc = json_tokener_parse(r.file);
        ASSERT_TRUE(doc);
        ASSERT_TRUE(json_object_object_get_ex(doc, "mounted", &v) && !json_object_get_boolean(v));
        ASSERT_TRUE(json_object_object_get_ex(doc, "home", &v));
        ASSERT_STREQ(json_object_get_string(v), scratch);
        ASSERT_TRUE(json_object_object_get_ex(doc, "timeout_sec", &v) && json_object_get_int64(v) == 0);
        json_object_put(doc);

        snprintf(dir, sizeof dir, "%s/.config", scratch);
        (void) mkdir(dir, 0755);
        snprintf(dir, sizeof dir, "%s/.config/appstream-home-folder", scratch);
        (void) mkdir(dir, 0755);
        snprintf(status, sizeof status, "%s/%s", scratch, SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE);
        write_file(status, SESSION_SCRIPTS_HOME_FOLDER_STATUS_KEY "=True\n");
        run(&r, TTY_ON_STDERR, NULL, argv);
        ASSERT_EQ(r.status, 0);
        doc = json_tokener_parse(r.file);
        ASSERT_TRUE(doc);
        ASSERT_TRUE(json_object_object_get_ex(doc, "mounted", &v) && json_object_get_boolean(v));
        json_object_put(doc);
        ASSERT_OK(unlink(status));
}

/* A zip whose config.json is invalid (waitingTime out of range). */
static void make_invalid_zip(const char *path) {
        static const char config[] = "{ \"SessionStart\": { \"executables\": [], \"waitingTime\": 600 } }";
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();

        ASSERT_TRUE(a && e);
        ASSERT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
        ASSERT_EQ(archive_write_open_filename(a, path), ARCHIVE_OK);
        archive_entry_set_pathname(e, "config.json");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) strlen(config));
        ASSERT_TRUE(archive_write_header(a, e) >= ARCHIVE_WARN);
        ASSERT_EQ(archive_write_data(a, config, strlen(config)), (long long) strlen(config));
        ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
        archive_entry_free(e);
        archive_write_free(a);
}

static void test_json(void) {
        struct json_object *doc, *v;
        char zip[512], target[512];
        Result r;

        snprintf(zip, sizeof zip, "%s/invalid.zip", scratch);
        snprintf(target, sizeof target, "%s/bundle", scratch);
        make_invalid_zip(zip);
        const char *const argv[] = { "install-bundle", "--json", "--target", target, zip, NULL };

        /* stdout is a file here: exactly one document, no colours, no human sentences. */
        run(&r, TTY_ON_STDERR, NULL, argv);
        ASSERT_EQ(r.status, 1);
        ASSERT_TRUE(!strchr(r.file, '\x1b'));
        doc = json_tokener_parse(r.file);
        ASSERT_TRUE(doc);
        ASSERT_TRUE(json_object_object_get_ex(doc, "installed", &v) && !json_object_get_boolean(v));
        ASSERT_TRUE(json_object_object_get_ex(doc, "path", &v));
        ASSERT_STREQ(json_object_get_string(v), target);
        ASSERT_TRUE(json_object_object_get_ex(doc, "error", &v));
        ASSERT_TRUE(strstr(json_object_get_string(v), "config.json of the bundle is invalid"));
        ASSERT_TRUE(json_object_object_get_ex(doc, "errors", &v) && json_object_array_length(v) >= 1);
        ASSERT_TRUE(json_object_object_get_ex(doc, "files", &v) && json_object_array_length(v) == 0);
        ASSERT_TRUE(json_object_object_get_ex(doc, "reloaded", &v) && !json_object_get_boolean(v));
        ASSERT_TRUE(json_object_object_get_ex(doc, "dropin", &v) && v == NULL);
        json_object_put(doc);
        /* With --json the refusal is in the document, not on stderr. */
        ASSERT_TRUE(!strstr(r.tty, "refused"));
}

int main(int argc, char *argv[]) {
        char cmd[600];

        /* meson passes the built binary (tests/unit/cli/meson.build); run by hand, say what is
         * missing instead of aborting. */
        if (argc != 2) {
                fprintf(stderr, "usage: %s PATH-OF-BUILT-session-scripts (meson test passes it)\n",
                        argc > 0 ? argv[0] : "test-cli-tty");
                return 2;
        }
        binary = argv[1];
        ASSERT_TRUE(mkdtemp(scratch));

        TEST_RUN(test_refusal_colors);
        TEST_RUN(test_wait_progress);
        TEST_RUN(test_json);
        TEST_RUN(test_wait_json);

        snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", scratch);
        return system(cmd) == 0 ? 0 : 1;
}
