/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the built pam_session_scripts.so through the real libpam: every case writes a PAM
 * service file into a temporary directory and runs pam_start_confdir() + pam_open_session() /
 * pam_close_session() on it, with a conversation function that records what the user would see.
 *
 *   test-pam-session-scripts MODULE.so PEER nobus   cases that need no bus daemon (argument
 *                                                   handling, skip list, unreachable/wedged bus)
 *   test-pam-session-scripts MODULE.so PEER bus     a private dbus-daemon plus PEER (a fake
 *                                                   session-scriptsd, test-bus-peer.c): results,
 *                                                   require_success (also with the module twice
 *                                                   in a stack), a daemon that does not answer
 *
 * DBUS_SYSTEM_BUS_ADDRESS points the module at the bus under test in each case.
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

#include "cleanup.h"
#include "macro.h"
#include "session-scripts/session-scripts.h"
#include "tests.h"
#include "time-util.h"

#define NONEXISTENT_BUS "unix:path=/nonexistent"

static const char *module_path, *peer_path;
static char tmpdir[] = "/tmp/test-pam-session-scripts.XXXXXX";
static char record_path[PATH_MAX];
static pid_t bus_pid = -1, peer_pid = -1;

/* ---- conversation that records messages ------------------------------------------------------ */

static char conv_log[16384];

static int record_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *userdata) {
        struct pam_response *r;

        r = calloc(n, sizeof(struct pam_response));
        if (!r)
                return PAM_BUF_ERR;

        for (int i = 0; i < n; i++) {
                size_t len = strlen(conv_log);
                snprintf(conv_log + len, sizeof(conv_log) - len, "%s:%s\n",
                         msg[i]->msg_style == PAM_ERROR_MSG ? "E" : "I", msg[i]->msg);
        }

        *resp = r;
        return PAM_SUCCESS;
}

static const struct pam_conv conv = { record_conv, NULL };

/* ---- helpers --------------------------------------------------------------------------------- */

static double now_sec(void) {
        return (double) now(CLOCK_MONOTONIC) / USEC_PER_SEC;
}

/* Writes the service file NAME with "session CONTROL <module> ARGS" (+ an optional second line). */
static void write_service(const char *name, const char *control, const char *args, const char *extra_line) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        f = fopen(path, "we");
        ASSERT_TRUE(f);
        fprintf(f, "#%%PAM-1.0\nsession %s %s %s\n%s", control, module_path, args ?: "", extra_line ?: "");
        ASSERT_EQ(fclose(f), 0);
}

static pam_handle_t *start(const char *service, const char *user) {
        pam_handle_t *pamh = NULL;

        conv_log[0] = 0;
        ASSERT_EQ(pam_start_confdir(service, user, &conv, tmpdir, &pamh), PAM_SUCCESS);
        ASSERT_TRUE(pamh);
        return pamh;
}

/* A new PAM handle for user on the service "login", and pam_open_session(flags) on it, which must
 * return expected and show the user exactly shown ("E:" lines of the conversation). */
static pam_handle_t *open_login(const char *user, int flags, int expected, const char *shown) {
        pam_handle_t *pamh = start("login", user);

        ASSERT_EQ(pam_open_session(pamh, flags), expected);
        ASSERT_STREQ(conv_log, shown);
        return pamh;
}

static void end(pam_handle_t *pamh) {
        ASSERT_EQ(pam_end(pamh, PAM_SUCCESS), PAM_SUCCESS);
}

static char *read_record(void) {
        static char buf[65536];
        ssize_t n;
        int fd;

        buf[0] = 0;
        fd = open(record_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return buf;
        n = read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = 0;
        close(fd);
        return buf;
}

static void reset_record(void) {
        (void) unlink(record_path);
}

#define ASSERT_CONTAINS(haystack, needle)                                                                 \
        do {                                                                                              \
                if (!strstr((haystack), (needle))) {                                                      \
                        fprintf(stderr, "%s:%d: \"%s\" not in:\n%s\n", __FILE__, __LINE__, (needle), (haystack)); \
                        abort();                                                                          \
                }                                                                                         \
        } while (0)

#define ASSERT_NOT_CONTAINS(haystack, needle)                                                             \
        do {                                                                                              \
                if (strstr((haystack), (needle))) {                                                       \
                        fprintf(stderr, "%s:%d: \"%s\" unexpectedly in:\n%s\n", __FILE__, __LINE__, (needle), (haystack)); \
                        abort();                                                                          \
                }                                                                                         \
        } while (0)

#define ASSERT_BETWEEN(v, lo, hi)                                                                         \
        do {                                                                                              \
                double _v_ = (v);                                                                         \
                if (!(_v_ >= (lo) && _v_ < (hi))) {                                                       \
                        fprintf(stderr, "%s:%d: %s = %.3f not in [%.3f, %.3f)\n", __FILE__, __LINE__, #v, _v_, \
                                (double) (lo), (double) (hi));                                            \
                        abort();                                                                          \
                }                                                                                         \
        } while (0)

/* Calls hook (pam_open_session or pam_close_session, named name) on pamh and asserts that it returns
 * expected within lo ≤ t < hi seconds; with what set, the time is printed, labelled by it. */
static void session_hook_expect(int (*hook)(pam_handle_t *, int), const char *name, pam_handle_t *pamh,
                                int flags, int expected, const char *what, double lo, double hi) {
        double t = now_sec();

        ASSERT_EQ(hook(pamh, flags), expected);
        t = now_sec() - t;
        if (what)
                fprintf(stderr, "   %s: %s returned after %.3f s\n", what, name, t);
        ASSERT_BETWEEN(t, lo, hi);
}

#define open_expect(pamh, flags, expected, what, lo, hi) \
        session_hook_expect(pam_open_session, "open_session", pamh, flags, expected, what, lo, hi)
#define close_expect(pamh, expected, what, lo, hi) \
        session_hook_expect(pam_close_session, "close_session", pamh, 0, expected, what, lo, hi)

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void stop_child(pid_t *pid) {
        if (*pid <= 0)
                return;
        (void) kill(*pid, SIGTERM);
        (void) waitpid(*pid, NULL, 0);
        *pid = -1;
}

static void cleanup_all(void) {
        stop_child(&peer_pid);
        stop_child(&bus_pid);
        (void) nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Forks and execs argv with stdout on a pipe; returns the first line of its stdout in line (or
 * fails the test after 10 s). The child dies with us (PR_SET_PDEATHSIG), also on an abort(). */
static pid_t spawn_and_read_line(char *const argv[], char *line, size_t size) {
        int pipefd[2];
        size_t len = 0;
        pid_t pid;

        ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        close(pipefd[1]);

        while (len < size - 1) {
                struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
                ssize_t n;

                ASSERT_TRUE(poll(&p, 1, 10000) == 1);
                n = read(pipefd[0], line + len, 1);
                ASSERT_TRUE(n == 1);
                if (line[len] == '\n')
                        break;
                len++;
        }
        line[len] = 0;
        close(pipefd[0]);
        return pid;
}

/* A unix socket that listens but never accepts: a "wedged" bus. connect() succeeds, the D-Bus
 * handshake never does. Returns the listening fd. */
static int listen_wedged_bus(char *address, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/wedged", tmpdir);
        (void) unlink(sa.sun_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        ASSERT_EQ(listen(fd, 16), 0);
        snprintf(address, size, "unix:path=%s", sa.sun_path);
        return fd;
}

/* Returns the number of connections waiting on the listening socket (and accepts them). */
static int count_connections(int fd) {
        int n = 0, c;

        while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
                close(c);
                n++;
        }
        ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
        return n;
}

typedef int (*pam_sm_fn)(pam_handle_t *, int, int, const char **);

/* ---- cases without a bus daemon -------------------------------------------------------------- */

/* Only the two session hooks are exported (version script); nothing else is reachable. */
static void test_exports(void) {
        void *dl;

        dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
        ASSERT_TRUE(dl);
        ASSERT_TRUE(dlsym(dl, "pam_sm_open_session"));
        ASSERT_TRUE(dlsym(dl, "pam_sm_close_session"));
        ASSERT_TRUE(!dlsym(dl, "pam_sm_authenticate"));
        ASSERT_TRUE(!dlsym(dl, "pam_sm_acct_mgmt"));
        ASSERT_TRUE(!dlsym(dl, "pam_sm_setcred"));
        ASSERT_TRUE(!dlsym(dl, "parse_argv"));
        ASSERT_TRUE(!dlsym(dl, "text_sanitize"));
        dlclose(dl);
}

/* The default skip list: each service gets PAM_IGNORE from both hooks (the whole stack of one
 * ignoring module yields PAM_PERM_DENIED), and the module does not even connect to the bus. */
static void test_skip_default_services(void) {
        static const char *const skipped[] = {
                "systemd-user", "cron", "crond", "atd", "su", "su-l", "sudo", "sudo-i", "runuser", "runuser-l",
        };
        const char *args[] = { "debug" };
        char address[PATH_MAX];
        pam_sm_fn open_fn, close_fn;
        void *dl;
        int lfd;

        lfd = listen_wedged_bus(address, sizeof(address));
        ASSERT_EQ(setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1), 0);

        dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
        ASSERT_TRUE(dl);
        open_fn = (pam_sm_fn) dlsym(dl, "pam_sm_open_session");
        close_fn = (pam_sm_fn) dlsym(dl, "pam_sm_close_session");
        ASSERT_TRUE(open_fn && close_fn);

        for (size_t i = 0; i < ELEMENTSOF(skipped); i++) {
                pam_handle_t *pamh;

                write_service(skipped[i], "required", "debug", NULL);
                pamh = start(skipped[i], "alice");
                open_expect(pamh, 0, PAM_PERM_DENIED, NULL, 0, 0.1);
                ASSERT_EQ(pam_close_session(pamh, 0), PAM_PERM_DENIED);
                /* The hooks themselves, called directly on the same handle: exactly PAM_IGNORE. */
                ASSERT_EQ(open_fn(pamh, 0, 1, args), PAM_IGNORE);
                ASSERT_EQ(close_fn(pamh, 0, 1, args), PAM_IGNORE);
                end(pamh);
        }
        ASSERT_EQ(count_connections(lfd), 0);

        /* skip_services= replaces the list: "foo" is skipped now, "sudo" is not. */
        {
                const char *a[] = { "skip_services=foo,bar", "timeout_grace=0" };
                pam_handle_t *pamh;
                double t;

                write_service("foo", "required", "skip_services=foo,bar", NULL);
                pamh = start("foo", "alice");
                ASSERT_EQ(pam_open_session(pamh, 0), PAM_PERM_DENIED);
                ASSERT_EQ(open_fn(pamh, 0, 1, a), PAM_IGNORE);
                end(pamh);
                ASSERT_EQ(count_connections(lfd), 0);

                /* sudo reaches the (wedged) bus and gives up within the registration bound. */
                pamh = start("sudo", "alice");
                t = now_sec();
                ASSERT_EQ(open_fn(pamh, 0, 2, a), PAM_SUCCESS);
                t = now_sec() - t;
                fprintf(stderr, "   wedged bus, timeout_grace=0: open_session returned after %.3f s\n", t);
                ASSERT_BETWEEN(t, 0.8, 1.2);
                ASSERT_EQ(count_connections(lfd), 1);
                end(pamh);
        }

        /* skip_services= with an empty value skips nothing, not even systemd-user. */
        {
                const char *a[] = { "skip_services=" };
                pam_handle_t *pamh;

                ASSERT_EQ(setenv("DBUS_SYSTEM_BUS_ADDRESS", NONEXISTENT_BUS, 1), 0);
                write_service("systemd-user", "required", "skip_services=", NULL);
                pamh = start("systemd-user", "alice");
                ASSERT_EQ(pam_open_session(pamh, 0), PAM_SUCCESS);
                ASSERT_EQ(open_fn(pamh, 0, 1, a), PAM_SUCCESS);
                ASSERT_EQ(close_fn(pamh, 0, 1, a), PAM_SUCCESS);
                ASSERT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS);
                end(pamh);
        }

        dlclose(dl);
        close(lfd);
}

/* Unknown arguments are logged and ignored, never fatal. */
static void test_unknown_args(void) {
        pam_handle_t *pamh;

        ASSERT_EQ(setenv("DBUS_SYSTEM_BUS_ADDRESS", NONEXISTENT_BUS, 1), 0);
        write_service("login", "required", "debug frobnicate=1 timeout_grace TIMEOUT_GRACE=2 --x", NULL);
        pamh = start("login", "alice");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SUCCESS);
        ASSERT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS);
        end(pamh);
}

/* No bus at all: both hooks return PAM_SUCCESS within 1 s, show nothing, set nothing. */
static void test_unreachable(void) {
        pam_handle_t *pamh;

        ASSERT_EQ(setenv("DBUS_SYSTEM_BUS_ADDRESS", NONEXISTENT_BUS, 1), 0);
        write_service("login", "required", "debug", NULL);
        pamh = start("login", "alice");
        open_expect(pamh, 0, PAM_SUCCESS, "no bus", 0, 1.0);
        ASSERT_TRUE(!pam_getenv(pamh, SESSION_SCRIPTS_ENV_SESSION_ID));
        close_expect(pamh, PAM_SUCCESS, "no bus", 0, 1.0);
        ASSERT_STREQ(conv_log, "");
        end(pamh);

        /* require_success is about the scripts' result: no daemon still fails open. */
        write_service("login", "required", "require_success", NULL);
        pamh = start("login", "alice");
        open_expect(pamh, 0, PAM_SUCCESS, NULL, 0, 1.0);
        end(pamh);
}

/* Invalid timeout_grace values are ignored and never fatal (their effect on the wait is measured in
 * test_grace_bounds_wait). A wedged bus holds neither hook longer than the registration bound
 * (< 1.2 s), whatever the grace: the grace is for waiting on scripts, not on a daemon. */
static void test_bad_grace(void) {
        static const char *const bad[] = {
                "timeout_grace=", "timeout_grace=abc", "timeout_grace=-1", "timeout_grace=31",
                "timeout_grace=+3", "timeout_grace= 3", "timeout_grace=3s", "timeout_grace=1.5",
                "timeout_grace=99999999999999999999999",
        };
        char address[PATH_MAX];
        pam_handle_t *pamh;
        int lfd;

        ASSERT_EQ(setenv("DBUS_SYSTEM_BUS_ADDRESS", NONEXISTENT_BUS, 1), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                write_service("login", "required", bad[i], NULL);
                pamh = start("login", "alice");
                open_expect(pamh, 0, PAM_SUCCESS, NULL, 0, 1.0);
                ASSERT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS);
                end(pamh);
        }

        lfd = listen_wedged_bus(address, sizeof(address));
        ASSERT_EQ(setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1), 0);

        write_service("login", "required", "timeout_grace=31", NULL);
        pamh = start("login", "alice");
        open_expect(pamh, 0, PAM_SUCCESS, "wedged bus, timeout_grace=31 (invalid, default 3)", 0.8, 1.2);
        end(pamh);

        write_service("login", "required", "timeout_grace=30 require_success", NULL);
        pamh = start("login", "alice");
        open_expect(pamh, 0, PAM_SUCCESS, "wedged bus, timeout_grace=30 require_success", 0.8, 1.2);
        close_expect(pamh, PAM_SUCCESS, "wedged bus, timeout_grace=30", 0.8, 1.2);
        ASSERT_STREQ(conv_log, "");
        end(pamh);

        ASSERT_TRUE(count_connections(lfd) == 3);
        close(lfd);
}

/* ---- cases with a private bus and the fake daemon -------------------------------------------- */

static void start_bus_and_peer(void) {
        char config[PATH_MAX], address[1024], line[64];
        FILE *f;

        if (access("/usr/bin/dbus-daemon", X_OK) < 0) {
                fprintf(stderr, "dbus-daemon not installed (package dbus); cannot run the bus cases.\n");
                cleanup_all();
                exit(77); /* meson: skipped */
        }

        snprintf(config, sizeof(config), "%s/bus.conf", tmpdir);
        f = fopen(config, "we");
        ASSERT_TRUE(f);
        /* A bus that allows everything: the policy of the real bus is not under test here. */
        fprintf(f,
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig>\n"
                "  <listen>unix:path=%s/system_bus_socket</listen>\n"
                "  <auth>EXTERNAL</auth>\n"
                "  <policy context=\"default\">\n"
                "    <allow user=\"*\"/>\n"
                "    <allow own=\"*\"/>\n"
                "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                "    <allow receive_sender=\"*\"/>\n"
                "  </policy>\n"
                "</busconfig>\n",
                tmpdir);
        ASSERT_EQ(fclose(f), 0);

        {
                char arg[PATH_MAX + 32];
                char *const argv[] = { (char *) "/usr/bin/dbus-daemon", arg, (char *) "--nofork",
                                       (char *) "--print-address", NULL };

                snprintf(arg, sizeof(arg), "--config-file=%s", config);
                bus_pid = spawn_and_read_line(argv, address, sizeof(address));
        }
        ASSERT_TRUE(strncmp(address, "unix:", 5) == 0);
        ASSERT_EQ(setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1), 0);
        fprintf(stderr, "   private bus at %s\n", address);

        {
                char *const argv[] = { (char *) peer_path, record_path, NULL };
                peer_pid = spawn_and_read_line(argv, line, sizeof(line));
        }
        ASSERT_STREQ(line, "READY");
}

/* The normal path: the id comes back into the PAM environment, the right environment entries
 * (and only those) reach the daemon, and close_session uses the id from open_session. */
static void test_open_close(void) {
        pam_handle_t *pamh;
        const char *rec;

        reset_record();
        write_service("login", "required", "debug timeout_grace=1", NULL);
        pamh = start("login", "alice");
        ASSERT_EQ(pam_set_item(pamh, PAM_TTY, "tty7"), PAM_SUCCESS);
        ASSERT_EQ(pam_set_item(pamh, PAM_RHOST, "host.example"), PAM_SUCCESS);
        ASSERT_EQ(pam_putenv(pamh, "AppStream_Stack_Name=stack1"), PAM_SUCCESS);
        ASSERT_EQ(pam_putenv(pamh, "AppStream_User_Access_Mode=userpool"), PAM_SUCCESS);
        ASSERT_EQ(pam_putenv(pamh, "XDG_SESSION_ID=42"), PAM_SUCCESS);
        ASSERT_EQ(pam_putenv(pamh, "SECRET=do-not-forward"), PAM_SUCCESS);

        open_expect(pamh, 0, PAM_SUCCESS, "wait_usec 200 ms, answered at once", 0.0, 1.0);
        ASSERT_STREQ(pam_getenv(pamh, SESSION_SCRIPTS_ENV_SESSION_ID), "sid-alice");
        ASSERT_STREQ(conv_log, "");

        rec = read_record();
        ASSERT_CONTAINS(rec, "OpenSession user=alice service=login env=");
        ASSERT_CONTAINS(rec, "AppStream_Stack_Name=stack1;");
        ASSERT_CONTAINS(rec, "AppStream_User_Access_Mode=userpool;");
        ASSERT_CONTAINS(rec, "XDG_SESSION_ID=42;");
        ASSERT_CONTAINS(rec, "PAM_TTY=tty7;");
        ASSERT_CONTAINS(rec, "PAM_RHOST=host.example;");
        ASSERT_NOT_CONTAINS(rec, "SECRET");
        ASSERT_CONTAINS(rec, "WaitSessionEvent id=sid-alice event=SessionStart\n");

        /* The stored id wins over a changed PAM environment. */
        ASSERT_EQ(pam_putenv(pamh, "AppStream_Session_ID=changed"), PAM_SUCCESS);
        ASSERT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS);
        ASSERT_STREQ(conv_log, "");
        rec = read_record();
        ASSERT_CONTAINS(rec, "CloseSession id=sid-alice env=");
        ASSERT_CONTAINS(rec, "WaitSessionEvent id=sid-alice event=SessionTermination\n");
        end(pamh);
}

/* A session id supplied in the PAM environment is the one the session gets. wait_usec 0: no wait. */
static void test_given_id_and_nowait(void) {
        pam_handle_t *pamh;
        const char *rec;

        reset_record();
        write_service("login", "required", "", NULL);
        pamh = start("login", "bob");
        ASSERT_EQ(pam_putenv(pamh, "AppStream_Session_ID=given-id-1"), PAM_SUCCESS);
        /* Values D-Bus cannot carry or that are over-long are left out, the rest still goes. */
        ASSERT_EQ(pam_putenv(pamh, "AppStream_Resource_Name=bad\xff\xfeutf8"), PAM_SUCCESS);
        {
                char big[6000];

                memcpy(big, "AppStream_UserName=", 19);
                memset(big + 19, 'u', sizeof(big) - 20);
                big[sizeof(big) - 1] = 0;
                ASSERT_EQ(pam_putenv(pamh, big), PAM_SUCCESS);
        }
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SUCCESS);
        ASSERT_STREQ(pam_getenv(pamh, SESSION_SCRIPTS_ENV_SESSION_ID), "given-id-1");
        rec = read_record();
        ASSERT_CONTAINS(rec, "OpenSession user=bob service=login env=AppStream_Session_ID=given-id-1;PAM_USER=bob;\n");
        ASSERT_NOT_CONTAINS(rec, "AppStream_Resource_Name");
        ASSERT_NOT_CONTAINS(rec, "AppStream_UserName");
        end(pamh);

        reset_record();
        pamh = start("login", "nowait");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SUCCESS);
        ASSERT_STREQ(pam_getenv(pamh, SESSION_SCRIPTS_ENV_SESSION_ID), "sid-nowait");
        ASSERT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS);
        rec = read_record();
        ASSERT_CONTAINS(rec, "CloseSession id=sid-nowait");
        ASSERT_NOT_CONTAINS(rec, "WaitSessionEvent");
        end(pamh);

        /* With require_success the result is asked for even when there is nothing to wait for: a
         * session the daemon knew already may have failed its start. */
        reset_record();
        write_service("login", "required", "require_success timeout_grace=0", NULL);
        pamh = start("login", "nowait");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SUCCESS);
        ASSERT_CONTAINS(read_record(), "OpenSession user=nowait service=login env=PAM_USER=nowait;\n"
                                       "WaitSessionEvent id=sid-nowait event=SessionStart\n");
        end(pamh);
}

/* The module twice in one stack, with the same session (the first line registers it and keeps its
 * id in PAM data; the second only asks for the result). An optional line without the option, then
 * a required line with require_success: the second must still ask for the result, and refuse what
 * the first saw fail.
 * The other way round: the refusal of the first line stands for the second, which registers
 * nothing again (the start scripts would run twice). */
static void test_stack_twice(void) {
        pam_handle_t *pamh;
        const char *rec;
        char line[PATH_MAX + 64];

        snprintf(line, sizeof line, "session required %s debug require_success\n", module_path);
        reset_record();
        write_service("login", "optional", "debug", line);
        pamh = start("login", "fail");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SESSION_ERR);
        ASSERT_CONTAINS(conv_log, "E:Session script /opt/x failed with exit status 1.\n");
        ASSERT_CONTAINS(conv_log, "E:Session refused: Second[1m session not allowed!\n");
        rec = read_record();
        ASSERT_CONTAINS(rec, "OpenSession user=fail service=login env=PAM_USER=fail;\n"
                             "WaitSessionEvent id=sid-fail event=SessionStart\n"
                             "WaitSessionEvent id=sid-fail event=SessionStart\n"
                             "RefuseSession id=sid-fail\n");
        /* The second line asks for the result of the first one's registration, never registers
         * the login again (the daemon would take that for another login). */
        ASSERT_NOT_CONTAINS(strstr(rec, "OpenSession") + 1, "OpenSession");
        /* Refused: close_session has nothing to close. (What libpam returns is its business: the
         * close stack replays the results open_session had, so it fails here whatever we return.) */
        reset_record();
        (void) pam_close_session(pamh, 0);
        ASSERT_NOT_CONTAINS(read_record(), "CloseSession");
        end(pamh);

        /* The same stack with a passing script: both lines let the session in. */
        reset_record();
        pamh = open_login("dave", 0, PAM_SUCCESS, "");
        rec = read_record();
        ASSERT_CONTAINS(rec, "OpenSession user=dave service=login env=PAM_USER=dave;\n"
                             "WaitSessionEvent id=sid-dave event=SessionStart\n"
                             "WaitSessionEvent id=sid-dave event=SessionStart\n");
        ASSERT_NOT_CONTAINS(rec, "RefuseSession");
        end(pamh);

        /* Required with require_success first, optional without it second. */
        snprintf(line, sizeof line, "session optional %s debug\n", module_path);
        reset_record();
        write_service("login", "required", "debug require_success", line);
        pamh = open_login("fail", 0, PAM_SESSION_ERR, "E:Session refused: Second[1m session not allowed!\n");
        rec = read_record();
        ASSERT_CONTAINS(rec, "RefuseSession id=sid-fail\n");
        ASSERT_NOT_CONTAINS(strstr(rec, "OpenSession") + 1, "OpenSession");
        ASSERT_NOT_CONTAINS(strstr(rec, "WaitSessionEvent") + 1, "WaitSessionEvent");
        end(pamh);

        /* Two lines both with require_success: one refusal, one registration. */
        snprintf(line, sizeof line, "session required %s require_success\n", module_path);
        reset_record();
        write_service("login", "required", "require_success", line);
        pamh = start("login", "fail");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SESSION_ERR);
        rec = read_record();
        ASSERT_NOT_CONTAINS(strstr(rec, "OpenSession") + 1, "OpenSession");
        ASSERT_NOT_CONTAINS(strstr(rec, "RefuseSession") + 1, "RefuseSession");
        end(pamh);
}

/* A failed start script: the user sees the message, the session opens (AppStream semantics);
 * PAM_SILENT suppresses the message. The daemon is never told to refuse it. */
static void test_failure_default(void) {
        pam_handle_t *pamh;

        reset_record();
        write_service("login", "required", "", NULL);
        pamh = open_login("fail", 0, PAM_SUCCESS, "E:Session script /opt/x failed with exit status 1.\n");
        end(pamh);

        pamh = open_login("fail", PAM_SILENT, PAM_SUCCESS, "");
        end(pamh);
        ASSERT_NOT_CONTAINS(read_record(), "RefuseSession");
}

/* require_success: a failed start script refuses the session with the script's last line as the
 * reason, control characters stripped and the length capped; the daemon is told (RefuseSession,
 * after WaitSessionEvent) so that it forgets the session. */
static void test_failure_require_success(void) {
        char expected[512];
        pam_handle_t *pamh;
        const char *rec;
        size_t len;

        reset_record();
        write_service("login", "required", "require_success", NULL);
        pamh = open_login("fail", 0, PAM_SESSION_ERR, "E:Session refused: Second[1m session not allowed!\n");
        rec = read_record();
        ASSERT_CONTAINS(rec, "WaitSessionEvent id=sid-fail event=SessionStart\nRefuseSession id=sid-fail\n");
        end(pamh);

        reset_record();
        pamh = start("login", "faillong");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SESSION_ERR);
        ASSERT_TRUE(strncmp(conv_log, "E:Session refused: xxxx", 23) == 0);
        len = strlen(conv_log) - strlen("E:Session refused: ") - 1;
        ASSERT_EQ(len, 256);
        ASSERT_CONTAINS(read_record(), "RefuseSession id=sid-faillong\n");
        end(pamh);

        /* No last line: the daemon's message is the reason. */
        reset_record();
        pamh = start("login", "failempty");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SESSION_ERR);
        snprintf(expected, sizeof(expected), "E:Session refused: Session script /opt/x failed.\n");
        ASSERT_STREQ(conv_log, expected);
        ASSERT_CONTAINS(read_record(), "RefuseSession id=sid-failempty\n");
        end(pamh);

        /* A last line of blanks only is no reason either; a padded one is shown trimmed. */
        pamh = open_login("failblank", 0, PAM_SESSION_ERR, expected);
        end(pamh);
        pamh = open_login("failpad", 0, PAM_SESSION_ERR,
                          "E:Session refused: Please end your other session first.\n");
        end(pamh);

        /* A daemon without RefuseSession: the refusal stands all the same. */
        reset_record();
        pamh = open_login("failnorefuse", 0, PAM_SESSION_ERR,
                          "E:Session refused: Second[1m session not allowed!\n");
        ASSERT_CONTAINS(read_record(), "RefuseSession id=sid-failnorefuse\n");
        end(pamh);

        /* A passing script is allowed with require_success too, and not refused. */
        reset_record();
        pamh = open_login("carol", 0, PAM_SUCCESS, "");
        rec = read_record();
        ASSERT_CONTAINS(rec, "WaitSessionEvent id=sid-carol event=SessionStart\n");
        ASSERT_NOT_CONTAINS(rec, "RefuseSession");
        end(pamh);

        /* With "optional", the refusal is only advisory for libpam: the stack still succeeds. The
         * module cannot know its control flag, so the daemon is told all the same (documented:
         * use require_success on a required/requisite line only). */
        reset_record();
        write_service("login", "optional", "require_success", "session required pam_permit.so\n");
        pamh = start("login", "fail");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SUCCESS);
        ASSERT_CONTAINS(conv_log, "E:Session refused: ");
        ASSERT_CONTAINS(read_record(), "RefuseSession id=sid-fail\n");
        end(pamh);

        /* "requisite" refuses too, and stops the stack at once. */
        reset_record();
        write_service("login", "requisite", "require_success", "session required pam_permit.so\n");
        pamh = start("login", "fail");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SESSION_ERR);
        end(pamh);
}

/* A daemon that never answers WaitSessionEvent: open and close return after wait_usec (1 s) +
 * timeout_grace (1 s), tell the user, and (only with require_success) refuse — and then tell the
 * daemon, whose start may still be running. */
static void test_never_answers(void) {
        char what[128];
        pam_handle_t *pamh;

        reset_record();
        write_service("login", "required", "timeout_grace=1", NULL);
        pamh = start("login", "hang");
        open_expect(pamh, 0, PAM_SUCCESS, "never-answering daemon, wait 1 s + grace 1 s", 2.0, 2.5);
        ASSERT_STREQ(conv_log, "E:Session scripts did not finish in time.\n");
        ASSERT_STREQ(pam_getenv(pamh, SESSION_SCRIPTS_ENV_SESSION_ID), "sid-hang");

        conv_log[0] = 0;
        close_expect(pamh, PAM_SUCCESS, "never-answering daemon, wait 1 s + grace 1 s", 2.0, 2.5);
        ASSERT_STREQ(conv_log, "E:Session scripts did not finish in time.\n");
        end(pamh);
        ASSERT_NOT_CONTAINS(read_record(), "RefuseSession");

        reset_record();
        write_service("login", "required", "timeout_grace=1 require_success", NULL);
        pamh = start("login", "hang");
        open_expect(pamh, 0, PAM_SESSION_ERR, "never-answering daemon, require_success", 2.0, 2.5);
        ASSERT_STREQ(conv_log, "E:Session refused: Session scripts did not finish in time.\n");
        ASSERT_CONTAINS(read_record(), "RefuseSession id=sid-hang\n");
        end(pamh);

        /* OpenSession itself unanswered (the daemon owns its name but is stuck): it never accepted
         * the session, so fail open, within the registration bound whatever the grace. */
        static const char *const opts[] = { "require_success", "timeout_grace=30 require_success" };
        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                write_service("login", "required", opts[i], NULL);
                pamh = start("login", "slowopen");
                snprintf(what, sizeof what, "OpenSession unanswered, %s", opts[i]);
                open_expect(pamh, 0, PAM_SUCCESS, what, 0.8, 1.2);
                ASSERT_STREQ(conv_log, "");
                end(pamh);
        }

        /* CloseSession unanswered: the same bound for close_session. */
        write_service("login", "required", "timeout_grace=30", NULL);
        pamh = start("login", "slowclose");
        ASSERT_EQ(pam_open_session(pamh, 0), PAM_SUCCESS);
        close_expect(pamh, PAM_SUCCESS, "CloseSession unanswered, timeout_grace=30", 0.8, 1.2);
        ASSERT_STREQ(conv_log, "");
        end(pamh);
}

/* The grace bounds the wait for the scripts (not the registration): a daemon that never answers
 * WaitSessionEvent (wait_usec 1 s) holds the hook for 1 s + the grace; an invalid timeout_grace
 * means the default 3 s. */
static void test_grace_bounds_wait(void) {
        pam_handle_t *pamh;

        write_service("login", "required", "timeout_grace=31", NULL);
        pamh = start("login", "hang");
        open_expect(pamh, 0, PAM_SUCCESS, "WaitSessionEvent unanswered, timeout_grace=31 (invalid, default 3)",
                    3.95, 4.5);
        end(pamh);

        write_service("login", "required", "timeout_grace=2", NULL);
        pamh = start("login", "hang");
        ASSERT_EQ(pam_putenv(pamh, "AppStream_Session_ID=hang-close-1"), PAM_SUCCESS);
        close_expect(pamh, PAM_SUCCESS, "WaitSessionEvent unanswered, timeout_grace=2", 2.95, 3.5);
        end(pamh);
}

/* A daemon that owns its name but does not even read its socket (stopped): both hooks fail open
 * within the registration bound, also with require_success and the largest grace. */
static void test_wedged_daemon(void) {
        pam_handle_t *pamh;

        ASSERT_EQ(kill(peer_pid, SIGSTOP), 0);
        write_service("login", "required", "timeout_grace=30 require_success", NULL);
        pamh = start("login", "alice");
        open_expect(pamh, 0, PAM_SUCCESS, "wedged daemon", 0.8, 1.2);
        ASSERT_TRUE(!pam_getenv(pamh, SESSION_SCRIPTS_ENV_SESSION_ID));
        ASSERT_EQ(pam_putenv(pamh, "AppStream_Session_ID=wedged-1"), PAM_SUCCESS);
        close_expect(pamh, PAM_SUCCESS, "wedged daemon", 0.8, 1.2);
        ASSERT_STREQ(conv_log, "");
        end(pamh);

        /* Let it catch up on the calls nobody waits for any more, before the next case. */
        ASSERT_EQ(kill(peer_pid, SIGCONT), 0);
        (void) usleep(300 * 1000);
}

/* close_session of alice's session without our open_session, with assignment (when not NULL) in the
 * PAM environment: the module sends close_call and then waits with wait_call, or, with wait_call
 * NULL, the daemon answered NoSuchSession, which is quiet and not waited on. */
static void check_close_without_open(const char *assignment, const char *close_call, const char *wait_call) {
        pam_handle_t *pamh;
        const char *rec;

        reset_record();
        pamh = start("login", "alice");
        if (assignment)
                ASSERT_EQ(pam_putenv(pamh, assignment), PAM_SUCCESS);
        ASSERT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS);
        ASSERT_STREQ(conv_log, "");
        rec = read_record();
        ASSERT_CONTAINS(rec, close_call);
        if (wait_call)
                ASSERT_CONTAINS(rec, wait_call);
        else
                ASSERT_NOT_CONTAINS(rec, "WaitSessionEvent");
        end(pamh);
}

/* close_session without our open_session: id from the PAM environment, else "" (the daemon
 * resolves XDG_SESSION_ID and the module waits on the id it returns); NoSuchSession is quiet;
 * a failed termination script is shown but never fails the stack. */
static void test_close_variants(void) {
        pam_handle_t *pamh;

        write_service("login", "required", "debug", NULL);

        check_close_without_open("AppStream_Session_ID=env-id-7",
                                 "CloseSession id=env-id-7 "
                                 "env=AppStream_Session_ID=env-id-7;PAM_USER=alice;",
                                 "WaitSessionEvent id=env-id-7 event=SessionTermination");
        check_close_without_open("XDG_SESSION_ID=9", "CloseSession id= env=XDG_SESSION_ID=9;",
                                 "WaitSessionEvent id=sid-xdg-9 event=SessionTermination");
        check_close_without_open(NULL, "CloseSession id= env=PAM_USER=alice;\n", NULL);

        pamh = open_login("failterm", 0, PAM_SUCCESS, "");
        ASSERT_EQ(pam_close_session(pamh, 0), PAM_SUCCESS);
        ASSERT_STREQ(conv_log, "E:Termination script failed.\n");
        end(pamh);
}

/* The bus is up but nobody owns the name and nothing is activatable (ServiceUnknown); then the
 * bus is gone too (connection refused). Both fail open within 1 s. */
static void test_daemon_absent(void) {
        pam_handle_t *pamh;

        stop_child(&peer_pid);
        write_service("login", "required", "require_success", NULL);
        pamh = start("login", "alice");
        open_expect(pamh, 0, PAM_SUCCESS, "bus up, no daemon (ServiceUnknown)", 0, 1.0);
        close_expect(pamh, PAM_SUCCESS, "bus up, no daemon (ServiceUnknown)", 0, 1.0);
        ASSERT_STREQ(conv_log, "");
        end(pamh);

        stop_child(&bus_pid);
        pamh = start("login", "alice");
        open_expect(pamh, 0, PAM_SUCCESS, "bus socket dead (ECONNREFUSED)", 0, 1.0);
        close_expect(pamh, PAM_SUCCESS, NULL, 0, 1.0);
        end(pamh);
}

int main(int argc, char *argv[]) {
        if (argc != 4 || (strcmp(argv[3], "nobus") != 0 && strcmp(argv[3], "bus") != 0)) {
                fprintf(stderr, "Usage: %s MODULE.so PEER nobus|bus\n", argv[0]);
                return EXIT_FAILURE;
        }
        module_path = argv[1];
        peer_path = argv[2];
        ASSERT_TRUE(module_path[0] == '/'); /* module_path in a service file must be absolute */

        ASSERT_TRUE(mkdtemp(tmpdir));
        snprintf(record_path, sizeof(record_path), "%s/record", tmpdir);
        atexit(cleanup_all);

        if (strcmp(argv[3], "nobus") == 0) {
                TEST_RUN(test_exports);
                TEST_RUN(test_skip_default_services);
                TEST_RUN(test_unknown_args);
                TEST_RUN(test_unreachable);
                TEST_RUN(test_bad_grace);
        } else {
                start_bus_and_peer();
                TEST_RUN(test_open_close);
                TEST_RUN(test_given_id_and_nowait);
                TEST_RUN(test_failure_default);
                TEST_RUN(test_failure_require_success);
                TEST_RUN(test_never_answers);
                TEST_RUN(test_grace_bounds_wait);
                TEST_RUN(test_stack_twice);
                TEST_RUN(test_close_variants);
                TEST_RUN(test_wedged_daemon);
                TEST_RUN(test_daemon_absent);
        }

        return EXIT_SUCCESS;
}
