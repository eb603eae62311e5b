/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in for session-scriptsd in the PAM module tests: owns SESSION_SCRIPTS_BUS_NAME on the
 * bus named by DBUS_SYSTEM_BUS_ADDRESS (a private dbus-daemon the test started) and answers
 * OpenSession, WaitSessionEvent, CloseSession and RefuseSession. It runs no scripts; its answers
 * are chosen by the user name, which becomes the session id "sid-<user>":
 *
 *   …hang…      OpenSession/CloseSession say wait_usec = 1 s; WaitSessionEvent never answers
 *   slowopen    OpenSession never answers (a daemon that owns its name but is stuck)
 *   …slowclose… CloseSession never answers
 *   nowait      wait_usec = 0 (the module must not call WaitSessionEvent)
 *   fail        SessionStart fails with a message and a last_line full of control characters
 *   faillong    SessionStart fails with a 1000-byte last_line
 *   failempty   SessionStart fails with a message and an empty last_line
 *   failblank   SessionStart fails with a message and a last_line of blanks only
 *   failpad     SessionStart fails with a last_line padded with blanks
 *   failterm    SessionTermination fails
 *   failnorefuse  SessionStart fails; RefuseSession answers UnknownMethod (an older daemon)
 *   anything    success after wait_usec = 200 ms
 *
 * Like the real daemon, an OpenSession whose AppStream_Session_ID names a session this peer opened
 * before registers nothing and answers wait_usec = 0 (its start is over): the module must still
 * ask for the result with require_success (a second module line in the stack).
 *
 * Every call is appended as one line to the file named by argv[1], so the test can check what
 * the module sent. "READY" goes to stdout once the name is owned.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "cleanup.h"
#include "session-scripts/session-scripts.h"

#define WAIT_USEC_DEFAULT 200000ULL
#define WAIT_USEC_HANG 1000000ULL
#define PENDING_MAX 256
#define OPENED_MAX 256

static const char *record_path;

/* Calls that are deliberately never answered; the references keep sd-bus from replying. */
static sd_bus_message *pending[PENDING_MAX];
static size_t n_pending;

/* The ids of the sessions OpenSession answered. */
static char *opened[OPENED_MAX];
static size_t n_opened;

static bool was_opened(const char *id) {
        for (size_t i = 0; i < n_opened; i++)
                if (strcmp(opened[i], id) == 0)
                        return true;
        return false;
}

static void remember_opened(const char *id) {
        if (n_opened < OPENED_MAX && !was_opened(id))
                opened[n_opened++] = strdup(id);
}

static void record(const char *format, ...) __attribute__((__format__(printf, 1, 2)));
static void record(const char *format, ...) {
        _cleanup_(closep) int fd = -EBADF;
        va_list ap;

        fd = open(record_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return;

        va_start(ap, format);
        (void) vdprintf(fd, format, ap);
        va_end(ap);
}

static int keep_pending(sd_bus_message *m) {
        if (n_pending >= PENDING_MAX)
                return -ENOBUFS;
        pending[n_pending++] = sd_bus_message_ref(m);
        return 1;
}

/* Reads an a{ss} into a "K=V;K=V;" string for the record, and remembers two values. */
static int read_env(sd_bus_message *m, char *buf, size_t size, char **ret_session_id, char **ret_xdg) {
        const char *k, *v;
        size_t len = 0;
        int r;

        buf[0] = 0;
        r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;

        while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) {
                int n = snprintf(buf + len, size - len, "%s=%s;", k, v);
                if (n > 0 && (size_t) n < size - len)
                        len += n;
                if (strcmp(k, SESSION_SCRIPTS_ENV_SESSION_ID) == 0 && ret_session_id)
                        *ret_session_id = strdup(v);
                if (strcmp(k, "XDG_SESSION_ID") == 0 && ret_xdg)
                        *ret_xdg = strdup(v);
        }
        if (r < 0)
                return r;

        return sd_bus_message_exit_container(m);
}

static uint64_t wait_usec_for(const char *id) {
        if (strstr(id, "nowait"))
                return 0;
        if (strstr(id, "hang"))
                return WAIT_USEC_HANG;
        return WAIT_USEC_DEFAULT;
}

static int method_open_session(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *given_id = NULL, *id = NULL;
        const char *user, *service;
        char env[8192];
        int r;

        r = sd_bus_message_read(m, "ss", &user, &service);
        if (r < 0)
                return r;
        r = read_env(m, env, sizeof(env), &given_id, NULL);
        if (r < 0)
                return r;

        record("OpenSession user=%s service=%s env=%s\n", user, service, env);

        if (strcmp(user, "slowopen") == 0)
                return keep_pending(m);

        if (given_id && was_opened(given_id))
                return sd_bus_reply_method_return(m, "st", given_id, (uint64_t) 0);

        if (given_id)
                id = TAKE_PTR(given_id);
        else if (asprintf(&id, "sid-%s", user) < 0)
                return -ENOMEM;

        remember_opened(id);
        return sd_bus_reply_method_return(m, "st", id, wait_usec_for(id));
}

static int method_wait_session_event(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id, *event;
        int r;

        r = sd_bus_message_read(m, "ss", &id, &event);
        if (r < 0)
                return r;

        record("WaitSessionEvent id=%s event=%s\n", id, event);

        if (strstr(id, "hang"))
                return keep_pending(m);

        if (strcmp(event, SESSION_SCRIPTS_EVENT_START) == 0) {
                if (strstr(id, "faillong")) {
                        char line[1001];

                        memset(line, 'x', sizeof(line) - 1);
                        line[sizeof(line) - 1] = 0;
                        return sd_bus_reply_method_return(m, "bss", 0, "Long failure.", line);
                }
                if (strstr(id, "failempty"))
                        return sd_bus_reply_method_return(m, "bss", 0, "Session script /opt/x failed.", "");
                if (strstr(id, "failblank"))
                        return sd_bus_reply_method_return(m, "bss", 0, "Session script /opt/x failed.", "  \t  ");
                if (strstr(id, "failpad"))
                        return sd_bus_reply_method_return(m, "bss", 0, "Session script /opt/x failed.",
                                                          "   Please end your other session first.  ");
                if (strstr(id, "fail") && !strstr(id, "failterm"))
                        return sd_bus_reply_method_return(
                                        m, "bss", 0, "Session script /opt/x failed with exit status 1.",
                                        "Second\x1b[1m session\t not\xc2\x9b allowed\a!");
        } else if (strstr(id, "failterm"))
                return sd_bus_reply_method_return(m, "bss", 0, "Termination script failed.", "bye");

        return sd_bus_reply_method_return(m, "bss", 1, "", "");
}

static int method_close_session(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *env_id = NULL, *xdg = NULL, *id = NULL;
        const char *given;
        char env[8192];
        int r;

        r = sd_bus_message_read(m, "s", &given);
        if (r < 0)
                return r;
        r = read_env(m, env, sizeof(env), &env_id, &xdg);
        if (r < 0)
                return r;

        record("CloseSession id=%s env=%s\n", given, env);

        if (strstr(given, "slowclose"))
                return keep_pending(m);

        if (given[0])
                id = strdup(given);
        else if (env_id)
                id = TAKE_PTR(env_id);
        else if (xdg) {
                if (asprintf(&id, "sid-xdg-%s", xdg) < 0)
                        return -ENOMEM;
        } else
                return sd_bus_error_setf(error, SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION, "No such session.");
        if (!id)
                return -ENOMEM;

        return sd_bus_reply_method_return(m, "st", id, wait_usec_for(id));
}

static int method_refuse_session(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *id;
        int r;

        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;

        record("RefuseSession id=%s\n", id);

        if (strstr(id, "failnorefuse"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_METHOD, "Unknown method RefuseSession.");
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("OpenSession", "ssa{ss}", "st", method_open_session, 0),
        SD_BUS_METHOD("WaitSessionEvent", "ss", "bss", method_wait_session_event, 0),
        SD_BUS_METHOD("CloseSession", "sa{ss}", "st", method_close_session, 0),
        SD_BUS_METHOD("RefuseSession", "s", "", method_refuse_session, 0),
        SD_BUS_VTABLE_END,
};

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (argc != 2) {
                fprintf(stderr, "Usage: %s RECORD-FILE\n", argv[0]);
                return EXIT_FAILURE;
        }
        record_path = argv[1];

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = sd_bus_add_object_vtable(bus, NULL, SESSION_SCRIPTS_BUS_PATH, SESSION_SCRIPTS_BUS_INTERFACE,
                                     manager_vtable, NULL);
        if (r < 0) {
                fprintf(stderr, "Failed to add the object: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = sd_bus_request_name(bus, SESSION_SCRIPTS_BUS_NAME, 0);
        if (r < 0) {
                fprintf(stderr, "Failed to own %s: %s\n", SESSION_SCRIPTS_BUS_NAME, strerror(-r));
                return EXIT_FAILURE;
        }

        printf("READY\n");
        fflush(stdout);

        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break; /* the bus went away: the test is over */
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        break;
        }

        return EXIT_SUCCESS;
}
