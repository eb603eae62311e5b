/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The org.sessionscripts.Manager1 interface on the system bus: method handlers, signals, and the
 * acquisition of the well-known name. See manager-dbus.h and units/org.sessionscripts.Manager1.xml.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "bus-run.h"
#include "bus-subscribers.h"
#include "cleanup.h"
#include "log.h"
#include "manager-dbus.h"
#include "output.h"
#include "session-scripts/session-scripts.h"

/* Bounds on what a caller may send: the PAM environment is small; anything beyond is refused. */
#define BUS_ENV_ENTRIES_MAX 1024
#define BUS_ENV_STRING_MAX 8192
#define BUS_USER_MAX 256

/* D-Bus strings must be valid UTF-8; script output and metadata may not be. Bounded copy. */
#define BUS_TEXT_MAX 4096

static const char *bus_text(char buf[static BUS_TEXT_MAX + 1], const char *s);

/*
 * Checks that the caller's effective uid is 0. This is the daemon's own check, on top of the bus
 * policy (which already keeps others away from these methods), so that a lax or missing policy
 * file cannot open the door. It is the check that decides: the methods are registered with
 * SD_BUS_VTABLE_UNPRIVILEGED, so sd-bus does not refuse first by its own rule (CAP_SYS_ADMIN),
 * which would also turn away root without that capability and leave this check untested. Fails
 * closed when the uid cannot be determined. Returns 1 for root, 0 with error set otherwise, -errno
 * on failure.
 */
int bus_check_root(sd_bus_message *msg, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t euid;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0 || euid != 0) {
                sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Only root may call this method.");
                return 0;
        }
        return 1;
}

/* The caller's uid (for the per-user views), or -errno. */
static int bus_get_caller_uid(sd_bus_message *msg, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        return sd_bus_creds_get_euid(creds, ret);
}

/* Reads the a{ss} environment into req (pointers into msg, valid while msg is). */
int bus_read_environment(sd_bus_message *msg, SessionRequest *req, sd_bus_error *error) {
        const char *k, *v;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(msg, "{ss}", &k, &v)) > 0) {
                if (++n > BUS_ENV_ENTRIES_MAX || strlen(k) > BUS_ENV_STRING_MAX || strlen(v) > BUS_ENV_STRING_MAX)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                "Environment too large.");

                if (strcmp(k, SESSION_SCRIPTS_ENV_SESSION_ID) == 0)
                        req->session_id = v;
                else if (strcmp(k, SESSION_SCRIPTS_ENV_USER_NAME) == 0)
                        req->user_name = v;
                else if (strcmp(k, SESSION_SCRIPTS_ENV_ACCESS_MODE) == 0)
                        req->access_mode = v;
                else if (strcmp(k, SESSION_SCRIPTS_ENV_STACK_NAME) == 0)
                        req->stack_name = v;
                else if (strcmp(k, SESSION_SCRIPTS_ENV_RESOURCE_NAME) == 0)
                        req->resource_name = v;
                else if (strcmp(k, "XDG_SESSION_ID") == 0)
                        req->xdg_session_id = v;
                else if (strcmp(k, "PAM_USER") == 0 && !req->user)
                        /* CloseSession: the user of the login that closes (OpenSession names it as
                         * an argument, which wins). */
                        req->user = v;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

int manager_dbus_open_session(Manager *m, sd_bus_message *msg, const SessionRequest *req, sd_bus_error *error) {
        uint64_t wait_usec = 0;
        Session *s;
        int r;

        r = manager_open_session(m, req, &s, &wait_usec);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No such user: %s", req->user);
        if (r == -EUSERS)
                return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "Too many sessions.");
        if (r < 0)
                return r;

        return sd_bus_reply_method_return(msg, "st", s->id, wait_usec);
}

static int method_open_session(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        SessionRequest req = {};
        int r;

        r = bus_check_root(msg, error);
        if (r <= 0)
                return r;

        r = sd_bus_message_read(msg, "ss", &req.user, &req.service);
        if (r < 0)
                return r;
        if (!req.user[0] || strlen(req.user) > BUS_USER_MAX || strlen(req.service) > BUS_USER_MAX)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid user or service name.");
        r = bus_read_environment(msg, &req, error);
        if (r < 0)
                return r;

        return manager_dbus_open_session(m, msg, &req, error);
}

static int method_close_session(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        SessionRequest req = {};
        const char *id;
        Session *s;
        uint64_t wait_usec = 0;
        int r;

        r = bus_check_root(msg, error);
        if (r <= 0)
                return r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        r = bus_read_environment(msg, &req, error);
        if (r < 0)
                return r;

        r = manager_close_session(m, id, &req, &s, &wait_usec);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION, "No such session%s%s.",
                                         id[0] ? ": " : "", id);
        if (r == -EPERM)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "The session does not belong to user %s.", req.user);
        if (r < 0)
                return r;

        return sd_bus_reply_method_return(msg, "st", s->id, wait_usec);
}

static int method_wait_session_event(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *id, *event;
        Session *s;
        int e, r;

        r = bus_check_root(msg, error);
        if (r <= 0)
                return r;

        r = sd_bus_message_read(msg, "ss", &id, &event);
        if (r < 0)
                return r;

        e = script_event_from_string(event);
        if (e < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown event: %s", event);
        /* Also a refused session that is over: a module that found its id by OpenSession learns
         * that it was refused. */
        s = manager_find_session_any(m, id);
        if (!s)
                return sd_bus_error_setf(error, SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION, "No such session: %s", id);

        r = manager_wait_session_event(m, s, e, msg);
        if (r == -EBUSY)
                return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "Too many waiters.");
        /* ≥ 0: answered now, or later (then returning without a reply is how sd-bus does async). */
        return r < 0 ? r : 1;
}

/* Closes the array container of a method reply and sends it. */
static int bus_close_and_send(sd_bus_message *reply) {
        int r;

        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_sessions(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        uid_t caller;
        int r;

        /* Anyone may ask; an unprivileged caller sees only its own sessions. Unknown uid: nothing. */
        r = bus_get_caller_uid(msg, &caller);
        if (r < 0)
                caller = (uid_t) -1;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssutss)");
        if (r < 0)
                return r;
        for (Session *s = m->sessions; s; s = s->next) {
                char ib[BUS_TEXT_MAX + 1], ub[BUS_TEXT_MAX + 1];

                /* A refused session never existed for its user; it only lingers until its start
                 * runs have ended. Not listing it also keeps it from counting in a policy script
                 * that looks for a user's other sessions. */
                if (s->refused || (caller != 0 && caller != s->uid))
                        continue;
                r = sd_bus_message_append(reply, "(ssutss)", bus_text(ib, s->id), bus_text(ub, s->user),
                                          (uint32_t) s->uid,
                                          s->since_realtime_usec,
                                          event_state_to_string(s->events[SCRIPT_EVENT_START].state),
                                          event_state_to_string(s->events[SCRIPT_EVENT_TERMINATION].state));
                if (r < 0)
                        return r;
        }
        return bus_close_and_send(reply);
}

static int method_list_runs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *id;
        Session *s;
        uid_t caller;
        int r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;

        r = bus_get_caller_uid(msg, &caller);
        if (r < 0)
                caller = (uid_t) -1;
        s = manager_find_session(m, id);
        /* Someone else's session looks the same as no session: ids are not to be probed. A refused
         * session never existed for its user, as in ListSessions. */
        if (!s || s->refused || (caller != 0 && caller != s->uid))
                return sd_bus_error_setf(error, SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION, "No such session: %s", id);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssstit)");
        if (r < 0)
                return r;
        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                        const SessionRun *run = &s->events[e].runs[c];
                        const char *unit = session_run_get_unit(run);
                        char ub[BUS_TEXT_MAX + 1], xb[BUS_TEXT_MAX + 1];

                        if (!run->used)
                                continue;
                        r = sd_bus_message_append(reply, "(ssssstit)", script_event_to_string(e),
                                                  script_context_to_string(c), bus_text(ub, unit),
                                                  bus_text(xb, run->executable),
                                                  run->finished ? run_result_to_string(run->kind) : "running",
                                                  (uint64_t) (run->finished ? run->exit_status : 0),
                                                  (int32_t) (run->finished ? run->signal : 0),
                                                  run->finished ? run->duration_usec : (uint64_t) 0);
                        if (r < 0)
                                return r;
                }
        return bus_close_and_send(reply);
}

static int method_refuse_session(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *id;
        Session *s;
        int r;

        /* Root only: refusing drops a session's termination, which must never be up to a user. */
        r = bus_check_root(msg, error);
        if (r <= 0)
                return r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;

        s = manager_find_session(m, id);
        if (!s)
                return sd_bus_error_setf(error, SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION, "No such session: %s", id);

        /* s may be gone after this call. */
        r = manager_refuse_session(m, s);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "The termination of session %s has started; too late to refuse it.", id);
        if (r < 0)
                return r;

        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = bus_check_root(msg, error);
        if (r <= 0)
                return r;

        /* The findings are in the journal already; the caller (`systemctl reload`, the CLI) learns
         * that the new configuration did not take, while the daemon goes on with the last good one
         * (as after SIGHUP). */
        r = manager_reload(m);
        if (r == -EBADMSG)
                return sd_bus_error_set(error, SESSION_SCRIPTS_ERROR_INVALID_CONFIG,
                                        "The configuration could not be (re)loaded (invalid or unreadable, see the "
                                        "journal of session-scripts.service); keeping the previous configuration.");
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* Anyone may subscribe: what a subscriber gets is limited to its own sessions (all for root) when
 * each signal is sent, see bus-subscribers.h. */
static int method_subscribe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = m->subscribers ? bus_subscribers_add(m->subscribers, msg) : -EXDEV;
        if (r == -EXDEV)
                return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
                                        "Signals are sent on the system bus only; subscribe there.");
        if (r == -EUSERS)
                return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "Too many subscribers.");
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_unsubscribe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = m->subscribers ? bus_subscribers_remove(m->subscribers, msg) : 0;
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* Every method is SD_BUS_VTABLE_UNPRIVILEGED: the root-only ones call bus_check_root() themselves
 * (besides the bus policy), the listings filter by the caller's uid. */
static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("OpenSession", "ssa{ss}",
                                 SD_BUS_PARAM(user) SD_BUS_PARAM(service) SD_BUS_PARAM(environment),
                                 "st", SD_BUS_PARAM(session_id) SD_BUS_PARAM(wait_usec),
                                 method_open_session, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("WaitSessionEvent", "ss", SD_BUS_PARAM(session_id) SD_BUS_PARAM(event),
                                 "bss", SD_BUS_PARAM(success) SD_BUS_PARAM(message) SD_BUS_PARAM(last_line),
                                 method_wait_session_event, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("CloseSession", "sa{ss}", SD_BUS_PARAM(session_id) SD_BUS_PARAM(environment),
                                 "st", SD_BUS_PARAM(session_id) SD_BUS_PARAM(wait_usec),
                                 method_close_session, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListSessions", "", "", "a(ssutss)", SD_BUS_PARAM(sessions),
                                 method_list_sessions, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListRuns", "s", SD_BUS_PARAM(session_id), "a(ssssstit)", SD_BUS_PARAM(runs),
                                 method_list_runs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RefuseSession", "s", SD_BUS_PARAM(session_id), "", "",
                                 method_refuse_session, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", NULL, NULL, method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RunEvent", "ssa{ss}",
                                 SD_BUS_PARAM(user) SD_BUS_PARAM(event) SD_BUS_PARAM(environment),
                                 "st", SD_BUS_PARAM(session_id) SD_BUS_PARAM(wait_usec),
                                 bus_run_method_run_event, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Subscribe", NULL, NULL, method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Unsubscribe", NULL, NULL, method_unsubscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("SessionStarted", "ss", SD_BUS_PARAM(session_id) SD_BUS_PARAM(user), 0),
        SD_BUS_SIGNAL_WITH_NAMES("SessionEnded", "ss", SD_BUS_PARAM(session_id) SD_BUS_PARAM(user), 0),
        SD_BUS_SIGNAL_WITH_NAMES("RunStarted", "ssss",
                                 SD_BUS_PARAM(session_id) SD_BUS_PARAM(event) SD_BUS_PARAM(context)
                                 SD_BUS_PARAM(unit), 0),
        SD_BUS_SIGNAL_WITH_NAMES("RunFinished", "sssssit",
                                 SD_BUS_PARAM(session_id) SD_BUS_PARAM(event) SD_BUS_PARAM(context)
                                 SD_BUS_PARAM(unit) SD_BUS_PARAM(result) SD_BUS_PARAM(exit_status)
                                 SD_BUS_PARAM(duration_usec), 0),
        SD_BUS_VTABLE_END,
};

static int on_name_acquired(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e) {
                log_error("Failed to acquire bus name %s: %s", SESSION_SCRIPTS_BUS_NAME, e->message ?: e->name);
                return sd_event_exit(m->event, EXIT_FAILURE);
        }

        log_info("Acquired bus name %s; ready.", SESSION_SCRIPTS_BUS_NAME);
        (void) sd_notify(false, "READY=1\nSTATUS=Processing requests…");
        return 0;
}

int manager_dbus_add_object(Manager *m, sd_bus *bus) {
        return sd_bus_add_object_vtable(bus, NULL, SESSION_SCRIPTS_BUS_PATH, SESSION_SCRIPTS_BUS_INTERFACE,
                                        manager_vtable, m);
}

int manager_dbus_setup(Manager *m) {
        int r;

        r = manager_dbus_add_object(m, m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to register object %s: %m", SESSION_SCRIPTS_BUS_PATH);

        if (!m->subscribers) {
                r = bus_subscribers_new(m->bus, &m->subscribers);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the signal subscribers: %m");
        }

        /* Only after the object exists: a client activated us by calling it. */
        r = sd_bus_request_name_async(m->bus, NULL, SESSION_SCRIPTS_BUS_NAME, 0, on_name_acquired, m);
        if (r < 0)
                return log_error_errno(r, "Failed to request bus name %s: %m", SESSION_SCRIPTS_BUS_NAME);
        return 0;
}

/* Copies s into buf as valid UTF-8 in sd-bus's sense (lib/basic/utf8.h), bounded: whatever a session,
 * a config or a script holds, the message it goes into can be sent. NULL becomes "". */
static const char *bus_text(char buf[static BUS_TEXT_MAX + 1], const char *s) {
        buf[0] = 0;
        if (s)
                (void) utf8_sanitize(buf, BUS_TEXT_MAX + 1, s, strlen(s), false);
        return buf;
}

/* Sends a signal about a session of uid to the subscribers allowed to see it (root's and uid's own);
 * never broadcast, since signals name sessions and users. */
static void bus_emit(Manager *m, uid_t uid, const char *member, const char *types, ...) {
        va_list ap;
        int r;

        if (!m->bus || !m->subscribers)
                return;

        va_start(ap, types);
        r = bus_subscribers_send(m->subscribers, uid, member, types, ap);
        va_end(ap);
        if (r < 0)
                log_debug_errno(r, "Failed to emit signal %s, ignoring: %m", member);
}

void manager_dbus_emit_session_started(Manager *m, const Session *s) {
        char i[BUS_TEXT_MAX + 1], u[BUS_TEXT_MAX + 1];

        bus_emit(m, s->uid, "SessionStarted", "ss", bus_text(i, s->id), bus_text(u, s->user));
}

void manager_dbus_emit_session_ended(Manager *m, const Session *s) {
        char i[BUS_TEXT_MAX + 1], u[BUS_TEXT_MAX + 1];

        bus_emit(m, s->uid, "SessionEnded", "ss", bus_text(i, s->id), bus_text(u, s->user));
}

void manager_dbus_emit_run_started(Manager *m, const SessionRun *r) {
        char i[BUS_TEXT_MAX + 1], u[BUS_TEXT_MAX + 1];

        bus_emit(m, r->session->uid, "RunStarted", "ssss", bus_text(i, r->session->id),
                 script_event_to_string(r->event), script_context_to_string(r->context),
                 bus_text(u, r->run ? run_get_unit(r->run) : NULL));
}

void manager_dbus_emit_run_finished(Manager *m, const SessionRun *r) {
        char i[BUS_TEXT_MAX + 1], u[BUS_TEXT_MAX + 1];

        bus_emit(m, r->session->uid, "RunFinished", "sssssit", bus_text(i, r->session->id),
                 script_event_to_string(r->event), script_context_to_string(r->context), bus_text(u, r->unit),
                 run_result_to_string(r->kind), (int32_t) r->exit_status, r->duration_usec);
}

int manager_dbus_reply_wait(sd_bus_message *call, bool success, const char *message, const char *last_line) {
        char mb[BUS_TEXT_MAX + 1], lb[BUS_TEXT_MAX + 1];

        return sd_bus_reply_method_return(call, "bss", (int) success, bus_text(mb, message),
                                          bus_text(lb, last_line));
}
