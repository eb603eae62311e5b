/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam_session_scripts.so: the PAM session hook of session-scripts.
 *
 * open_session asks session-scriptsd (over the system bus) to start the SessionStart scripts
 * of the session and waits — at most the event's waitingTime plus a small grace — until they
 * have ended; close_session does the same for SessionTermination. The module is fail-open: when
 * the daemon cannot be reached, it logs why and lets the session go on, without waiting.
 *
 *   session optional pam_session_scripts.so [debug] [timeout_grace=SECONDS]
 *                                             [skip_services=NAME,NAME,…] [require_success]
 *
 *   debug               log debug messages (pam_syslog, LOG_DEBUG)
 *   timeout_grace=N     whole seconds 0…30 (default 3) added to the event's waitingTime before
 *                       the module stops waiting for the scripts; the calls that only register
 *                       or drop the session (OpenSession, CloseSession, RefuseSession) wait at
 *                       most REGISTER_USEC, whatever N is
 *   skip_services=a,b   PAM services for which the module does nothing (PAM_IGNORE); replaces
 *                       the default list SKIP_SERVICES_DEFAULT below; empty value: skip nothing;
 *                       the last occurrence counts
 *   require_success     a failed or timed-out SessionStart makes open_session return
 *                       PAM_SESSION_ERR (the script's last line shown as the reason) and tells
 *                       the daemon (RefuseSession), which then never runs the session's
 *                       SessionTermination and forgets it. The result is always asked for, also
 *                       when the daemon knew the session already (a second line of this module
 *                       in the stack: it must not let in what the first one saw fail). Only a
 *                       "required"/"requisite" line really refuses the session; with "optional"
 *                       the refusal is shown but ignored by libpam (unless the module is the only
 *                       session module, PAM's rule for "optional") — the user gets in, yet the
 *                       daemon has dropped the session, so use the option only on a
 *                       required/requisite line. A daemon that cannot be reached still fails
 *                       open — the option is about the scripts' result.
 *
 * A session refused by one line of this module stays refused for the later lines of the same
 * stack (PAM data): they neither register it again nor run its start scripts a second time.
 * Unknown or invalid arguments are logged and ignored.
 *
 * It links only libpam and libsystemd (sd-bus) and logs only through pam_syslog(): a PAM
 * module runs inside every login program, so it must not write to their stdout/stderr nor drag
 * further libraries into them.
 */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <systemd/sd-bus.h>

#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "session-id.h"
#include "session-scripts/session-scripts.h"
#include "time-util.h"
#include "utf8.h"

#define _public_ __attribute__((__visibility__("default")))

/* All deadlines below are CLOCK_MONOTONIC: they must not move when the wall clock is set during a
 * login. */

/* The grace added to the event's waitingTime before the module stops waiting for the daemon's
 * answer. The scripts' own deadline is enforced by systemd (RuntimeMaxSec=waitingTime); the grace
 * only covers the daemon noticing and answering. Bounded so that a typo in the PAM configuration
 * cannot make every login hang for minutes. */
#define GRACE_USEC_DEFAULT (3 * USEC_PER_SEC)
#define GRACE_SEC_MAX 30U

/* OpenSession and CloseSession only register the session and start the scripts (RefuseSession only
 * drops it); the daemon answers them at once. When it cannot — the bus is wedged, or the daemon
 * owns its name but is stuck — the login must not wait for it: an unreachable daemon may cost a
 * login about one second (docs/behaviour.md §6, pam_session_scripts(8) FAILURE HANDLING), so each
 * such call, connecting and authenticating to the bus included, is bounded by this (counted from
 * the start of the hook for OpenSession/CloseSession). Not the grace: that is for the daemon to
 * notice the end of the scripts, which is waited for separately (WaitSessionEvent, bounded by the
 * event's waitingTime plus the grace). A daemon that is not running (and not activatable) fails
 * much faster: the bus answers ServiceUnknown at once, or there is no bus socket at all. */
#define REGISTER_USEC (900 * USEC_PER_MSEC)

/* On the daemon's own socket the module knows the daemon's process (the socket's peer), so a busy
 * daemon — a login storm — is told from a stuck one by whether it makes progress: a daemon that has
 * used no CPU time for this long while our call is unanswered is stuck (stopped, or blocked), and
 * the login goes on without it. A busy one is waited for, bounded by the event's waiting time plus
 * the grace (SESSION_SCRIPTS_WAIT_FILE), like the whole login. Checked every PROGRESS_POLL_USEC. */
#define REGISTER_STALL_USEC REGISTER_USEC
#define PROGRESS_POLL_USEC (100 * USEC_PER_MSEC)

/* waitingTime is 1…60 s (docs/behaviour.md §2). The daemon's wait_usec is trusted only up to that,
 * so that a confused daemon cannot make a login wait indefinitely. Termination may additionally wait
 * for a still-running SessionStart of the same session (up to one more waitingTime). */
#define START_WAIT_USEC_MAX (60 * USEC_PER_SEC)
#define TERMINATION_WAIT_USEC_MAX (2 * 60 * USEC_PER_SEC)

/* Hard limits on what is passed along or shown: PAM environment values are forwarded only up to
 * this size; text from the daemon shown to the user is capped (the last_line of a script is a
 * short reason, the message a sentence). */
#define ENV_VALUE_MAX 4096U
#define LAST_LINE_MAX 256U
#define MESSAGE_MAX 1024U

/* The default skip list. systemd-user is user@.service's own PAM session: running scripts for it
 * would run them twice on every login. cron/atd jobs and su/sudo/runuser are not logins. */
#define SKIP_SERVICES_DEFAULT "systemd-user,cron,crond,atd,su,su-l,sudo,sudo-i,runuser,runuser-l"

/* Key of the session id in pam_set_data(), from open_session to close_session. */
#define DATA_SESSION_ID "pam_session_scripts:session_id"

/* Key of the mark that this module refused the session (require_success): a later line of the
 * module in the same stack must neither register the session again (its start scripts would run
 * twice) nor let it in, and close_session has nothing to close. */
#define DATA_REFUSED "pam_session_scripts:refused"

#define TIMEOUT_TEXT "Session scripts did not finish in time."

/* The entries of the PAM environment the daemon is given; everything else stays private. */
static const char *const forwarded_env[] = {
        SESSION_SCRIPTS_ENV_SESSION_ID,
        SESSION_SCRIPTS_ENV_USER_NAME,
        SESSION_SCRIPTS_ENV_ACCESS_MODE,
        SESSION_SCRIPTS_ENV_STACK_NAME,
        SESSION_SCRIPTS_ENV_RESOURCE_NAME,
        "XDG_SESSION_ID",
};

typedef struct ModuleArgs {
        bool debug;
        bool require_success;
        usec_t grace_usec;
        const char *skip_services; /* comma-separated; points into argv or SKIP_SERVICES_DEFAULT */
} ModuleArgs;

typedef struct EventOutcome {
        bool success;
        char *message;   /* sanitised, never NULL after a successful wait */
        char *last_line; /* sanitised, never NULL after a successful wait */
} EventOutcome;

static void event_outcome_done(EventOutcome *o) {
        free(o->message);
        free(o->last_line);
        *o = (EventOutcome) {};
}

#define pam_debug_syslog(handle, debug, ...)                            \
        do {                                                            \
                if (debug)                                              \
                        pam_syslog(handle, LOG_DEBUG, __VA_ARGS__);     \
        } while (0)

/* The text of a failed bus call for the log: the bus error's message when there is one. */
static const char *bus_error_text(const sd_bus_error *error, int r) {
        if (sd_bus_error_is_set(error) && error->message)
                return error->message;
        return strerror(-r);
}

/* Returns a malloc'd copy of s for the user's terminal: valid UTF-8 (as D-Bus and the terminal
 * need it; broken sequences and non-characters dropped), without C0 controls, DEL and the C1
 * controls (U+0080…U+009F, e.g. the 8-bit CSI), so a script cannot send escape sequences to the
 * login terminal; at most max_bytes bytes, cut only between characters. Returns NULL on OOM. */
static char *text_sanitize(const char *s, size_t max_bytes) {
        char *t;

        t = malloc(max_bytes + 1);
        if (!t)
                return NULL;
        s = s ?: "";
        (void) utf8_sanitize_copy(t, max_bytes + 1, s, strlen(s),
                                  UTF8_DROP_INVALID | UTF8_DROP_CONTROL | UTF8_CONTROL_C1);
        return t;
}

/* Removes leading and trailing blanks from s in place (the sanitised text has no tabs any more). A
 * script's reason line of only blanks then counts as no reason. Returns s. */
static char *strip_blanks(char *s) {
        size_t start = strspn(s, " "), len = strlen(s);

        while (len > start && s[len - 1] == ' ')
                len--;
        memmove(s, s + start, len - start);
        s[len - start] = 0;
        return s;
}

/* Returns true when service is one of the comma-separated names in list. */
static bool service_in_list(const char *list, const char *service) {
        size_t l = strlen(service);

        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ",");

                if (n == l && strncmp(p, service, n) == 0)
                        return true;

                p += n;
                if (*p == ',')
                        p++;
        }

        return false;
}

/* Parses a whole number of seconds in 0…GRACE_SEC_MAX; plain digits only (strtoul alone would
 * accept leading blanks and a minus sign). Returns 0 or -EINVAL/-ERANGE. */
static int parse_grace(const char *s, usec_t *ret_usec) {
        unsigned long v;
        char *end;

        if (!s || s[0] < '0' || s[0] > '9')
                return -EINVAL;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != 0)
                return -EINVAL;
        if (v > GRACE_SEC_MAX)
                return -ERANGE;

        *ret_usec = (usec_t) v * USEC_PER_SEC;
        return 0;
}

/* Fills args from the module arguments. Unknown or invalid arguments are logged and ignored:
 * a typo in /etc/pam.d must not lock anyone out. */
static void parse_argv(pam_handle_t *handle, int argc, const char **argv, ModuleArgs *args) {
        *args = (ModuleArgs) {
                .grace_usec = GRACE_USEC_DEFAULT,
                .skip_services = SKIP_SERVICES_DEFAULT,
        };

        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *v;

                if (!a)
                        continue;

                if (streq(a, "debug"))
                        args->debug = true;
                else if (streq(a, "require_success"))
                        args->require_success = true;
                else if ((v = startswith(a, "timeout_grace="))) {
                        int r;

                        r = parse_grace(v, &args->grace_usec);
                        if (r < 0)
                                pam_syslog(handle, LOG_WARNING,
                                           "Invalid timeout_grace=%s (whole seconds, 0…%u), using %u s.",
                                           v, GRACE_SEC_MAX,
                                           (unsigned) (GRACE_USEC_DEFAULT / USEC_PER_SEC));
                } else if ((v = startswith(a, "skip_services=")))
                        /* Replaces the default list; an empty value skips nothing. */
                        args->skip_services = v;
                else
                        pam_syslog(handle, LOG_WARNING, "Unknown module argument '%s', ignoring.", a);
        }
}

/* Shows text to the user as a PAM_ERROR_MSG unless the application asked for PAM_SILENT. A
 * conversation failure is logged and otherwise ignored: the message is a courtesy. */
static void show_error(pam_handle_t *handle, int flags, const char *text) {
        int r;

        if (flags & PAM_SILENT)
                return;

        r = pam_error(handle, "%s", text);
        if (r != PAM_SUCCESS)
                pam_syslog(handle, LOG_WARNING, "Failed to show message to the user: %s",
                           pam_strerror(handle, r));
}

/* Appends one "{ss}" entry. Values that are over-long or not UTF-8 are left out (logged): the
 * PAM environment may carry values an earlier module took from user-controlled places. */
static int append_env_entry(pam_handle_t *handle, sd_bus_message *m, const char *key, const char *value) {
        if (!value)
                return 0;

        if (strnlen(value, ENV_VALUE_MAX + 1) > ENV_VALUE_MAX || !utf8_is_valid(value)) {
                pam_syslog(handle, LOG_WARNING, "Value of %s is too long or not UTF-8, not passing it on.", key);
                return 0;
        }

        return sd_bus_message_append(m, "{ss}", key, value);
}

/* Appends the a{ss} environment for the daemon: the forwarded PAM environment entries, and
 * PAM_TTY/PAM_RHOST when set. Returns 0 or -errno. */
static int append_env(pam_handle_t *handle, sd_bus_message *m) {
        static const struct {
                int item;
                const char *key;
        } items[] = {
                { PAM_TTY, "PAM_TTY" },
                { PAM_RHOST, "PAM_RHOST" },
                /* For CloseSession: the daemon ends a session only for the user it belongs to. */
                { PAM_USER, "PAM_USER" },
        };
        int r;

        r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(forwarded_env); i++) {
                r = append_env_entry(handle, m, forwarded_env[i], pam_getenv(handle, forwarded_env[i]));
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                const void *v = NULL;

                if (pam_get_item(handle, items[i].item, &v) != PAM_SUCCESS || !v || !*(const char *) v)
                        continue;

                r = append_env_entry(handle, m, items[i].key, v);
                if (r < 0)
                        return r;
        }

        return sd_bus_message_close_container(m);
}

typedef struct PendingCall {
        sd_bus_message *reply;
} PendingCall;

static void pending_call_done(PendingCall *c) {
        c->reply = sd_bus_message_unref(c->reply);
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PendingCall *c = userdata;

        c->reply = sd_bus_message_ref(m);
        return 0;
}

/* Reads /proc/PID/NAME into buf (at most size - 1 bytes, NUL-terminated). Returns the number of
 * bytes read or -errno. */
static ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t size) {
        _cleanup_(closep) int fd = -EBADF;
        char path[64];
        ssize_t n;

        (void) snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, name);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = loop_read(fd, buf, size - 1);
        if (n < 0)
                return n;
        buf[n] = 0;
        return n;
}

/* A measure of the work the process pid has done: from /proc/PID/schedstat (CONFIG_SCHED_INFO)
 * its time on a CPU in nanoseconds plus the number of times it was scheduled — any work at all
 * changes it, however short —, else from /proc/PID/stat its CPU time in clock ticks (user + system;
 * the process name may contain anything, so fields are counted after its last ')'). Returns ≥ 0,
 * or -errno. */
static int64_t process_progress(pid_t pid) {
        char buf[1024];
        unsigned long long a, b, c;
        const char *p;
        ssize_t n;

        n = read_proc_file(pid, "schedstat", buf, sizeof buf);
        if (n > 0 && sscanf(buf, "%llu %llu %llu", &a, &b, &c) == 3)
                return (int64_t) ((a + c) & INT64_MAX);

        n = read_proc_file(pid, "stat", buf, sizeof buf);
        if (n < 0)
                return n;
        if (n == 0)
                return -EIO;

        p = strrchr(buf, ')');
        /* After ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
         * utime stime — utime is the 12th field from here. */
        if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &a, &b) != 2)
                return -EBADMSG;
        return (int64_t) ((a + b) & INT64_MAX);
}

/* Sends m and waits for its reply until deadline_usec (CLOCK_MONOTONIC). Unlike sd_bus_call(),
 * the deadline also covers connecting and authenticating to the bus, so a wedged bus cannot hold
 * the login beyond it. With progress_pid > 0 (the daemon, when talking to it directly), the wait
 * also ends early when that process has made no progress (was not on a CPU at all) for
 * REGISTER_STALL_USEC: a stuck daemon, not a busy one. On success stores the reply in *ret_reply
 * and returns 0; a D-Bus error reply is copied to ret_error and returned as -errno; -ETIMEDOUT when
 * the deadline passed or the daemon is stuck. */
static int bus_call_until(
                sd_bus *bus,
                sd_bus_message *m,
                usec_t deadline_usec,
                pid_t progress_pid,
                sd_bus_error *ret_error,
                sd_bus_message **ret_reply) {

        _cleanup_(pending_call_done) PendingCall call = {};
        /* Declared after call so that it is released first: that cancels the callback. */
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        int64_t progress = progress_pid > 0 ? process_progress(progress_pid) : -1;
        usec_t n, last_progress_usec;
        int r;

        n = last_progress_usec = now(CLOCK_MONOTONIC);
        if (n >= deadline_usec)
                return -ETIMEDOUT;

        r = sd_bus_call_async(bus, &slot, m, on_reply, &call, deadline_usec - n);
        if (r < 0)
                return r;

        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (call.reply)
                        break;
                if (r < 0)
                        return r;

                n = now(CLOCK_MONOTONIC);
                if (n >= deadline_usec)
                        return -ETIMEDOUT;
                if (r > 0) /* did something, there may be more to do at once */
                        continue;

                if (progress >= 0) {
                        int64_t t = process_progress(progress_pid);

                        if (t != progress) {
                                /* It worked (or is gone: then the connection breaks at once). */
                                progress = t;
                                last_progress_usec = n;
                        } else if (n - last_progress_usec >= REGISTER_STALL_USEC)
                                return -ETIMEDOUT;
                }

                r = sd_bus_wait(bus, progress >= 0 ? MIN(deadline_usec - n, PROGRESS_POLL_USEC)
                                                : deadline_usec - n);
                if (r < 0 && r != -EINTR)
                        return r;
        }

        if (sd_bus_message_is_method_error(call.reply, NULL)) {
                r = sd_bus_error_copy(ret_error, sd_bus_message_get_error(call.reply));
                return r < 0 ? r : -EIO;
        }

        *ret_reply = TAKE_PTR(call.reply);
        return 0;
}

/* Calls method (OpenSession or CloseSession) with its leading arguments (types and the values
 * after it, as sd_bus_message_append() takes them) and the a{ss} environment, waits for the reply as
 * bus_call_until() does for deadline_usec and daemon_pid, and parses the (s session_id, t
 * wait_usec) reply both methods give. The session id is validated (no control characters, bounded)
 * as it goes into the PAM environment. Returns 0 or -errno; ret_session_id is malloc'd and owned
 * by the caller. */
static int call_registration(
                pam_handle_t *handle,
                sd_bus *bus,
                pid_t daemon_pid,
                usec_t deadline_usec,
                sd_bus_error *ret_error,
                char **ret_session_id,
                usec_t *ret_wait_usec,
                const char *method,
                const char *types,
                ...) {

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *id = NULL;
        const char *s;
        uint64_t wait_usec;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                           SESSION_SCRIPTS_BUS_INTERFACE, method);
        if (r < 0)
                return r;

        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;

        r = append_env(handle, m);
        if (r < 0)
                return r;

        r = bus_call_until(bus, m, deadline_usec, daemon_pid, ret_error, &reply);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "st", &s, &wait_usec);
        if (r < 0)
                return r;

        if (!session_id_is_valid(s))
                return -EBADMSG;
        id = strdup(s);
        if (!id)
                return -ENOMEM;

        *ret_session_id = TAKE_PTR(id);
        *ret_wait_usec = wait_usec;
        return 0;
}

/* Calls OpenSession(user, service, env): registers this login with the daemon, which starts its
 * SessionStart scripts (or, for a login it knows already, answers with that session). Returns as
 * call_registration(), with the session id and the time to wait for SessionStart. */
static int call_open_session(pam_handle_t *handle, sd_bus *bus, pid_t daemon_pid, usec_t deadline_usec,
                             const char *user, const char *service,
                             sd_bus_error *ret_error, char **ret_session_id, usec_t *ret_wait_usec) {
        return call_registration(handle, bus, daemon_pid, deadline_usec, ret_error, ret_session_id,
                                 ret_wait_usec, "OpenSession", "ss", user, service);
}

/* Calls CloseSession(session_id, env): asks the daemon to end a registered session of the PAM user
 * and start its SessionTermination scripts; session_id "" lets the daemon find the session from
 * XDG_SESSION_ID in env. Returns as call_registration(), with the session's id and the time to wait
 * for SessionTermination; an unknown session is SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION in
 * ret_error. */
static int call_close_session(pam_handle_t *handle, sd_bus *bus, pid_t daemon_pid, usec_t deadline_usec,
                              const char *session_id,
                              sd_bus_error *ret_error, char **ret_session_id, usec_t *ret_wait_usec) {
        return call_registration(handle, bus, daemon_pid, deadline_usec, ret_error, ret_session_id,
                                 ret_wait_usec, "CloseSession", "s", session_id);
}

/* Calls WaitSessionEvent(id, event) and waits for the answer until deadline_usec. On success
 * fills ret_outcome (sanitised texts, owned by the caller) and returns 0; -ETIMEDOUT when the
 * daemon did not answer in time; other -errno on failure (details in ret_error). */
static int call_wait_event(
                sd_bus *bus,
                const char *session_id,
                const char *event,
                usec_t deadline_usec,
                sd_bus_error *ret_error,
                EventOutcome *ret_outcome) {

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(freep) char *message = NULL, *last_line = NULL;
        const char *msg, *line;
        int success, r;

        r = sd_bus_message_new_method_call(bus, &m, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                           SESSION_SCRIPTS_BUS_INTERFACE, "WaitSessionEvent");
        if (r < 0)
                return r;

        r = sd_bus_message_append(m, "ss", session_id, event);
        if (r < 0)
                return r;

        /* No progress check: the daemon is rightly idle while the scripts run. */
        r = bus_call_until(bus, m, deadline_usec, 0, ret_error, &reply);
        if (r < 0)
                return r;

        r = sd_bus_message_read(reply, "bss", &success, &msg, &line);
        if (r < 0)
                return r;

        /* The daemon sanitises already; this module does it again because it is the one writing
         * to the user's terminal. */
        message = text_sanitize(msg, MESSAGE_MAX);
        last_line = text_sanitize(line, LAST_LINE_MAX);
        if (!message || !last_line)
                return -ENOMEM;
        (void) strip_blanks(last_line);

        *ret_outcome = (EventOutcome) {
                .success = success,
                .message = TAKE_PTR(message),
                .last_line = TAKE_PTR(last_line),
        };
        return 0;
}

/* Tells the daemon that this module refuses the session (require_success): it forgets the session
 * and never runs its termination. Best effort, bounded by deadline_usec: the refusal stands either
 * way (close_session will not come for a session whose open failed). */
static void refuse_session(pam_handle_t *handle, sd_bus *bus, pid_t daemon_pid, const char *session_id,
                           usec_t deadline_usec, bool debug) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                           SESSION_SCRIPTS_BUS_INTERFACE, "RefuseSession");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", session_id);
        if (r >= 0)
                r = bus_call_until(bus, m, deadline_usec, daemon_pid, &error, &reply);
        if (r < 0 && sd_bus_error_has_name(&error, SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION)) {
                /* Refused and forgotten before (by an earlier line, or another login program with
                 * the same session id): nothing left to tell. */
                pam_debug_syslog(handle, debug, "Session %s was refused before.", session_id);
                return;
        }
        if (r < 0) {
                pam_syslog(handle, LOG_WARNING, "Failed to tell %s that session %s is refused: %s",
                           SESSION_SCRIPTS_BUS_NAME, session_id, bus_error_text(&error, r));
                return;
        }

        pam_debug_syslog(handle, debug, "Session %s refused; the daemon forgets it.", session_id);
}

/* Connects directly to the daemon's own socket (SESSION_SCRIPTS_PRIVATE_SOCKET). Returns 0, the
 * connection (authentication still under way, driven by the first call) in *ret and the daemon's
 * pid (the socket's peer) in *ret_pid; -errno when the socket is not there, not ours to use (not
 * root), or not listened on (the daemon is not running). */
static int bus_open_private(sd_bus **ret, pid_t *ret_pid) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
        } addr = { .un = { .sun_family = AF_UNIX, .sun_path = SESSION_SCRIPTS_PRIVATE_SOCKET } };
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        struct ucred ucred;
        socklen_t l = sizeof ucred;
        int r;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* An AF_UNIX connect() completes at once (queued in the daemon's backlog) or fails at once:
         * EAGAIN when the backlog is full — then the system bus is the way in. */
        if (connect(fd, &addr.sa, sizeof addr.un) < 0)
                return -errno;
        /* The listener's credentials, recorded when it called listen(): the daemon itself. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &ucred, &l) < 0)
                return -errno;
        if (ucred.uid != 0 || ucred.pid <= 0)
                return -EPERM;

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        (void) sd_bus_set_description(bus, "pam-session-scripts");
        r = sd_bus_set_fd(bus, fd, fd);
        if (r < 0)
                return r;
        TAKE_FD(fd);
        r = sd_bus_start(bus);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(bus);
        *ret_pid = ucred.pid;
        return 0;
}

/* Opens a new connection to the daemon for this one PAM call: its own socket when it listens
 * there, else the system bus (which also activates a daemon that is not running). *ret_pid is the
 * daemon's pid on the direct connection, 0 on the system bus. The connection is never cached in
 * PAM data: the PAM handle may be used again after a fork, and a connection must not be shared
 * between processes. */
static int bus_open(sd_bus **ret, pid_t *ret_pid) {
        if (bus_open_private(ret, ret_pid) >= 0)
                return 0;
        *ret_pid = 0;
        return sd_bus_open_system_with_description(ret, "pam-session-scripts");
}

/* The waiting time of event as the daemon last published it (SESSION_SCRIPTS_WAIT_FILE), or
 * START_WAIT_USEC_MAX when it cannot be read: the bound of a login's wait for a busy daemon. */
static usec_t published_wait_usec(const char *event) {
        _cleanup_(fclosep) FILE *f = NULL;
        char line[128];
        size_t l = strlen(event);

        f = fopen(SESSION_SCRIPTS_WAIT_FILE, "re");
        if (!f)
                return START_WAIT_USEC_MAX;
        while (fgets(line, sizeof line, f)) {
                unsigned long v;
                char *end;

                if (strncmp(line, event, l) != 0 || line[l] != '=' || line[l + 1] < '0' || line[l + 1] > '9')
                        continue;
                errno = 0;
                v = strtoul(line + l + 1, &end, 10);
                if (errno != 0 || (*end != '\n' && *end != 0) || v > START_WAIT_USEC_MAX / USEC_PER_SEC)
                        break;
                return (usec_t) v * USEC_PER_SEC;
        }
        return START_WAIT_USEC_MAX;
}

/* How long a registration call (OpenSession/CloseSession) may take, counted from the start of the
 * hook: on the daemon's own socket the event's waiting time plus the grace (the daemon may be busy;
 * a stuck one is caught by the progress check), at least REGISTER_USEC; on the system bus
 * REGISTER_USEC, as there the daemon's progress cannot be seen. */
static usec_t register_deadline_usec(usec_t start_usec, pid_t daemon_pid, const char *event, usec_t grace_usec) {
        if (daemon_pid <= 0)
                return start_usec + REGISTER_USEC;
        return start_usec + MAX(published_wait_usec(event) + grace_usec, REGISTER_USEC);
}

/* Releases the connection. sd_bus_flush() first establishes the connection when it is not yet
 * running and waits without a timeout of ours, which would hang the login on a wedged bus;
 * so flush only a connection that is up, and merely close any other. */
static void bus_closep(sd_bus **bus) {
        if (!*bus)
                return;
        if (sd_bus_is_ready(*bus) > 0)
                *bus = sd_bus_flush_close_unref(*bus);
        else
                *bus = sd_bus_close_unref(*bus);
}

/* True for the errors of a connection that the other side closed or broke. */
static bool error_is_disconnect(int r) {
        return r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN || r == -ECONNREFUSED || r == -ESHUTDOWN;
}

/* Called with the error r of an OpenSession or CloseSession call: when that call went to the
 * daemon's own socket and the daemon closed the connection unanswered (it is at its bound of direct
 * connections, or it went away), replaces *bus with a new system bus connection, sets *daemon_pid
 * to 0, clears error and returns 1: the caller makes its call once more there, bounded like any call
 * on the system bus (REGISTER_USEC from now). Otherwise returns the error to report: r, or the
 * failure to open the system bus. */
static int bus_fall_back_to_system(sd_bus **bus, pid_t *daemon_pid, int r, sd_bus_error *error) {
        if (*daemon_pid <= 0 || !error_is_disconnect(r))
                return r;

        bus_closep(bus);
        *daemon_pid = 0;
        r = sd_bus_open_system_with_description(bus, "pam-session-scripts");
        if (r < 0)
                return r;
        sd_bus_error_free(error);
        return 1;
}

static void cleanup_free(pam_handle_t *handle, void *data, int error_status) {
        free(data);
}

/* Makes the session id visible to the session (PAM environment) and to close_session (PAM
 * data). Failures are logged: the session itself is registered with the daemon either way. */
static void session_id_export(pam_handle_t *handle, const char *session_id) {
        _cleanup_(freep) char *assignment = NULL, *copy = NULL;
        int r;

        if (asprintf(&assignment, "%s=%s", SESSION_SCRIPTS_ENV_SESSION_ID, session_id) < 0) {
                assignment = NULL;
                pam_syslog(handle, LOG_ERR, "Out of memory.");
                return;
        }

        r = pam_putenv(handle, assignment);
        if (r != PAM_SUCCESS)
                pam_syslog(handle, LOG_ERR, "Failed to set %s in the PAM environment: %s",
                           SESSION_SCRIPTS_ENV_SESSION_ID, pam_strerror(handle, r));

        copy = strdup(session_id);
        if (!copy) {
                pam_syslog(handle, LOG_ERR, "Out of memory.");
                return;
        }

        r = pam_set_data(handle, DATA_SESSION_ID, copy, cleanup_free);
        if (r != PAM_SUCCESS) {
                pam_syslog(handle, LOG_ERR, "Failed to store the session id: %s", pam_strerror(handle, r));
                return;
        }
        TAKE_PTR(copy);
}

/* Refuses the session (require_success): shows text to the user, marks the PAM handle so that later
 * lines of this module in the stack do not let the session in either, and tells the daemon —
 * after the message, so that the user learns why at once, whatever the bus does next. Returns
 * PAM_SESSION_ERR. */
static int refuse(pam_handle_t *handle, int flags, sd_bus *bus, pid_t daemon_pid, const char *session_id,
                  const char *text, bool debug) {
        int r;

        show_error(handle, flags, text);

        /* Static data, no cleanup function: the mark carries no memory of its own. */
        r = pam_set_data(handle, DATA_REFUSED, (void *) "refused", NULL);
        if (r != PAM_SUCCESS)
                pam_syslog(handle, LOG_ERR, "Failed to mark session %s as refused: %s", session_id,
                           pam_strerror(handle, r));

        /* The daemon answers RefuseSession at once; a daemon that went away meanwhile must not hold
         * the (refused) login: bounded like the registration. */
        refuse_session(handle, bus, daemon_pid, session_id, now(CLOCK_MONOTONIC) + REGISTER_USEC, debug);
        return PAM_SESSION_ERR;
}

/* True when an earlier line of this module refused the session of this PAM handle. */
static bool session_was_refused(pam_handle_t *handle) {
        const void *data = NULL;

        return pam_get_data(handle, DATA_REFUSED, &data) == PAM_SUCCESS && data;
}

/* The PAM item as a string, or NULL when unset. */
static const char *get_item_string(pam_handle_t *handle, int item) {
        const void *v = NULL;

        if (pam_get_item(handle, item, &v) != PAM_SUCCESS)
                return NULL;
        return v;
}

/* The start of both hooks: parses the module arguments into *ret_args and the PAM service into
 * *ret_service (never NULL). Returns false when the service is in the skip list (logged with debug):
 * then the hook returns PAM_IGNORE and does nothing else. */
static bool hook_applies(pam_handle_t *handle, int argc, const char **argv, ModuleArgs *ret_args,
                         const char **ret_service) {
        const char *service;

        parse_argv(handle, argc, argv, ret_args);

        service = get_item_string(handle, PAM_SERVICE) ?: "";
        if (service_in_list(ret_args->skip_services, service)) {
                pam_debug_syslog(handle, ret_args->debug,
                                 "Service '%s' is in the skip list, not running session scripts.", service);
                return false;
        }

        *ret_service = service;
        return true;
}

_public_ int pam_sm_open_session(pam_handle_t *handle, int flags, int argc, const char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(event_outcome_done) EventOutcome outcome = {};
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        _cleanup_(freep) char *session_id = NULL, *refusal = NULL;
        const char *user, *service;
        const void *data = NULL;
        usec_t start_usec, wait_usec, wait_deadline_usec;
        pid_t daemon_pid = 0;
        bool second_line;
        ModuleArgs args;
        int r;

        start_usec = now(CLOCK_MONOTONIC);
        if (!hook_applies(handle, argc, argv, &args, &service))
                return PAM_IGNORE;

        user = get_item_string(handle, PAM_USER);
        if (!user || !*user) {
                pam_syslog(handle, LOG_ERR, "No user name in the PAM handle.");
                return PAM_SESSION_ERR;
        }
        if (strnlen(user, ENV_VALUE_MAX + 1) > ENV_VALUE_MAX || !utf8_is_valid(user)) {
                /* Such a name cannot be sent to the daemon (D-Bus strings are UTF-8). Like a missing
                 * daemon: the session opens without scripts, unless they are required to succeed. */
                pam_syslog(handle, LOG_ERR, "User name is too long or not valid UTF-8, not running session scripts.");
                if (args.require_success) {
                        show_error(handle, flags, "Session refused: the session scripts cannot run for this user name.");
                        return PAM_SESSION_ERR;
                }
                return PAM_SUCCESS;
        }

        if (session_was_refused(handle)) {
                /* An earlier line of this module refused the session: registering it again would run
                 * its start scripts a second time (and, without require_success here, let it in). */
                pam_debug_syslog(handle, args.debug,
                                 "The session was refused by an earlier pam_session_scripts line; not opening it again.");
                return args.require_success ? PAM_SESSION_ERR : PAM_SUCCESS;
        }

        pam_debug_syslog(handle, args.debug, "Opening session-scripts session for user '%s' (service '%s').",
                         user, service);

        /* An earlier line of this module in the stack registered this login already: its start
         * scripts must not run twice, and the daemon would take a second registration for another
         * login. Only its result may still be wanted (require_success). */
        second_line = pam_get_data(handle, DATA_SESSION_ID, &data) == PAM_SUCCESS && data;
        if (second_line && !args.require_success)
                return PAM_SUCCESS;

        /* Everything up to the daemon's acceptance of the session is fail-open: no daemon, no
         * scripts, and the login goes on at once — also with require_success, which is about the
         * scripts' result, not about whether the daemon is installed. */
        r = bus_open(&bus, &daemon_pid);
        if (r < 0) {
                pam_syslog(handle, LOG_WARNING, "Failed to connect to the system bus, not running session scripts: %s",
                           strerror(-r));
                return PAM_SUCCESS;
        }

        pam_debug_syslog(handle, args.debug, "Connected to %s%s.", SESSION_SCRIPTS_BUS_NAME,
                         daemon_pid > 0 ? " on its own socket" : " through the system bus");

        if (second_line) {
                session_id = strdup(data);
                if (!session_id)
                        return PAM_BUF_ERR;
                wait_usec = published_wait_usec(SESSION_SCRIPTS_EVENT_START);
        } else {
                r = call_open_session(handle, bus, daemon_pid,
                                      register_deadline_usec(start_usec, daemon_pid,
                                                             SESSION_SCRIPTS_EVENT_START, args.grace_usec),
                                      user, service, &error, &session_id, &wait_usec);
                if (r < 0) {
                        r = bus_fall_back_to_system(&bus, &daemon_pid, r, &error);
                        if (r > 0)
                                r = call_open_session(handle, bus, 0, now(CLOCK_MONOTONIC) + REGISTER_USEC,
                                                      user, service, &error, &session_id, &wait_usec);
                }
                if (r == -ENOMEM)
                        return PAM_BUF_ERR;
                if (r < 0) {
                        pam_syslog(handle, LOG_WARNING, "Failed to open session with %s, not running session scripts: %s",
                                   SESSION_SCRIPTS_BUS_NAME,
                                   r == -ETIMEDOUT && daemon_pid > 0 ? "the daemon made no progress" :
                                   bus_error_text(&error, r));
                        return PAM_SUCCESS;
                }

                pam_debug_syslog(handle, args.debug, "Session %s opened, waiting up to %llu ms for SessionStart.",
                                 session_id, (unsigned long long) (wait_usec / USEC_PER_MSEC));

                session_id_export(handle, session_id);
        }

        /* Nothing runs, or it is over. Without require_success nothing is left to learn. With it,
         * the result is always asked for: the session may be known already — a second line of this
         * module, or another login program with the same AppStream_Session_ID — with a start that
         * failed or was refused, and that must not be let in now. */
        if (wait_usec == 0 && !args.require_success)
                return PAM_SUCCESS;

        /* Never longer than the event's waitingTime plus the grace, counted from our start; when
         * there is nothing to wait for, the answer itself is bounded like the registration. */
        wait_deadline_usec = start_usec + MIN(wait_usec, START_WAIT_USEC_MAX) + args.grace_usec;
        if (wait_usec == 0)
                wait_deadline_usec = MAX(wait_deadline_usec, now(CLOCK_MONOTONIC) + REGISTER_USEC);
        r = call_wait_event(bus, session_id, SESSION_SCRIPTS_EVENT_START, wait_deadline_usec, &error, &outcome);
        if (r == -ENOMEM)
                return PAM_BUF_ERR;
        if (r == -ETIMEDOUT) {
                pam_syslog(handle, LOG_WARNING, "SessionStart scripts of session %s did not finish in time.",
                           session_id);
                if (!args.require_success) {
                        show_error(handle, flags, TIMEOUT_TEXT);
                        return PAM_SUCCESS;
                }
                return refuse(handle, flags, bus, daemon_pid, session_id, "Session refused: " TIMEOUT_TEXT,
                              args.debug);
        }
        if (r < 0) {
                /* The daemon accepted the session but its result is unknown (it crashed, say).
                 * With require_success an unconfirmed start is a refused one: otherwise stopping
                 * the daemon would be a way around the veto. */
                pam_syslog(handle, LOG_WARNING, "Failed to wait for SessionStart of session %s: %s",
                           session_id, bus_error_text(&error, r));
                if (!args.require_success)
                        return PAM_SUCCESS;
                return refuse(handle, flags, bus, daemon_pid, session_id,
                              "Session refused: the result of the session scripts is unknown.", args.debug);
        }

        if (outcome.success) {
                pam_debug_syslog(handle, args.debug, "SessionStart scripts of session %s succeeded.", session_id);
                return PAM_SUCCESS;
        }

        pam_syslog(handle, LOG_NOTICE, "SessionStart scripts of session %s failed: %s", session_id,
                   outcome.message[0] ? outcome.message : "(no message)");

        if (!args.require_success) {
                if (outcome.message[0])
                        show_error(handle, flags, outcome.message);
                return PAM_SUCCESS;
        }

        if (asprintf(&refusal, "Session refused: %s",
                     outcome.last_line[0] ? outcome.last_line :
                     outcome.message[0] ? outcome.message : "a session script failed.") < 0) {
                refusal = NULL;
                return PAM_BUF_ERR;
        }
        return refuse(handle, flags, bus, daemon_pid, session_id, refusal, args.debug);
}

_public_ int pam_sm_close_session(pam_handle_t *handle, int flags, int argc, const char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(event_outcome_done) EventOutcome outcome = {};
        _cleanup_(bus_closep) sd_bus *bus = NULL;
        _cleanup_(freep) char *session_id = NULL, *id_copy = NULL;
        const char *service, *user, *id = NULL;
        const void *data = NULL;
        usec_t start_usec, wait_usec;
        pid_t daemon_pid = 0;
        ModuleArgs args;
        int r;

        start_usec = now(CLOCK_MONOTONIC);
        if (!hook_applies(handle, argc, argv, &args, &service))
                return PAM_IGNORE;

        /* Refused by our open_session: the daemon has forgotten it, there is nothing to close. */
        if (session_was_refused(handle)) {
                pam_debug_syslog(handle, args.debug, "The session was refused; nothing to close.");
                return PAM_SUCCESS;
        }

        /* The id from our own open_session first; else the one the session was given (another
         * process may close it); else "" and the daemon resolves it from XDG_SESSION_ID. */
        if (pam_get_data(handle, DATA_SESSION_ID, &data) == PAM_SUCCESS && data)
                id = data;
        if (!id)
                id = pam_getenv(handle, SESSION_SCRIPTS_ENV_SESSION_ID);
        if (!session_id_is_valid(id))
                id = "";
        /* A copy: the PAM data it may point into is dropped below. */
        id_copy = strdup(id);
        if (!id_copy)
                return PAM_BUF_ERR;
        id = id_copy;

        /* The daemon ends a session only for the user it belongs to, and learns the user from us:
         * without a usable name there is nothing this close may end (the open failed open, too). */
        user = get_item_string(handle, PAM_USER);
        if (!user || !*user || strnlen(user, ENV_VALUE_MAX + 1) > ENV_VALUE_MAX || !utf8_is_valid(user)) {
                pam_debug_syslog(handle, args.debug, "No usable user name; nothing to close.");
                return PAM_SUCCESS;
        }

        /* Only root may end a session. An unprivileged close_session — systemd's own PAM handling
         * for units with PAMName= calls it after dropping to the user — would be refused: the daemon
         * follows such sessions through logind and runs their termination when logind says the
         * session is over. */
        if (geteuid() != 0) {
                pam_debug_syslog(handle, args.debug,
                                 "Not root; session '%s' ends when logind says it did, not by this close.", id);
                return PAM_SUCCESS;
        }

        pam_debug_syslog(handle, args.debug, "Closing session-scripts session '%s'.", id);

        /* This handle's session is over: should the application open another session with the same
         * handle, that one registers anew. A second line of this module in the stack finds the id in
         * the PAM environment. */
        if (data)
                (void) pam_set_data(handle, DATA_SESSION_ID, NULL, NULL);

        /* Closing never fails the stack: the session is over either way. */
        r = bus_open(&bus, &daemon_pid);
        if (r < 0) {
                pam_syslog(handle, LOG_WARNING, "Failed to connect to the system bus, not running session scripts: %s",
                           strerror(-r));
                return PAM_SUCCESS;
        }

        r = call_close_session(handle, bus, daemon_pid,
                               register_deadline_usec(start_usec, daemon_pid,
                                                      SESSION_SCRIPTS_EVENT_TERMINATION, args.grace_usec),
                               id, &error, &session_id, &wait_usec);
        if (r < 0) {
                r = bus_fall_back_to_system(&bus, &daemon_pid, r, &error);
                if (r > 0)
                        r = call_close_session(handle, bus, 0, now(CLOCK_MONOTONIC) + REGISTER_USEC,
                                               id, &error, &session_id, &wait_usec);
        }
        if (r < 0) {
                if (sd_bus_error_has_name(&error, SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION))
                        pam_debug_syslog(handle, args.debug, "No session-scripts session '%s' to close: %s",
                                         id, bus_error_text(&error, r));
                else
                        pam_syslog(handle, LOG_WARNING, "Failed to close session '%s' with %s: %s",
                                   id, SESSION_SCRIPTS_BUS_NAME, bus_error_text(&error, r));
                return PAM_SUCCESS;
        }

        pam_debug_syslog(handle, args.debug, "Session %s closing, waiting up to %llu ms for SessionTermination.",
                         session_id, (unsigned long long) (wait_usec / USEC_PER_MSEC));

        if (wait_usec == 0)
                return PAM_SUCCESS;

        r = call_wait_event(bus, session_id, SESSION_SCRIPTS_EVENT_TERMINATION,
                            start_usec + MIN(wait_usec, TERMINATION_WAIT_USEC_MAX) + args.grace_usec,
                            &error, &outcome);
        if (r == -ETIMEDOUT) {
                pam_syslog(handle, LOG_WARNING, "SessionTermination scripts of session %s did not finish in time.",
                           session_id);
                show_error(handle, flags, TIMEOUT_TEXT);
                return PAM_SUCCESS;
        }
        if (r < 0) {
                pam_syslog(handle, LOG_WARNING, "Failed to wait for SessionTermination of session %s: %s",
                           session_id, bus_error_text(&error, r));
                return PAM_SUCCESS;
        }

        if (!outcome.success) {
                pam_syslog(handle, LOG_NOTICE, "SessionTermination scripts of session %s failed: %s", session_id,
                           outcome.message[0] ? outcome.message : "(no message)");
                if (outcome.message[0])
                        show_error(handle, flags, outcome.message);
        } else
                pam_debug_syslog(handle, args.debug, "SessionTermination scripts of session %s succeeded.",
                                 session_id);

        return PAM_SUCCESS;
}
