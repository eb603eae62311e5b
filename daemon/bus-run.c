/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The RunEvent method (see bus-run.h): the image builder's edit-run loop. It goes through the very
 * code a login uses (manager_open_session(): same user lookup, metadata, environment, scopes,
 * timeouts, journal fields and spool), marked transient so that the session neither lingers nor is
 * ever terminated by itself.
 */

#include <errno.h>
#include <string.h>

#include "bus-run.h"
#include "cleanup.h"
#include "log.h"
#include "manager-dbus.h"
#include "manager.h"
#include "session-scripts/session-scripts.h"

/* A user name is short (as OpenSession's, manager-dbus.c). */
#define RUN_USER_MAX 256

/* The PAM service name recorded for (and journaled with) RunEvent sessions. */
#define RUN_SERVICE_NAME "session-scripts-run"

int bus_run_method_run_event(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        SessionRequest req = {
                .service = RUN_SERVICE_NAME,
                .transient = true,
        };
        const char *event;
        int e, r;

        r = bus_check_root(msg, error);
        if (r <= 0)
                return r;

        r = sd_bus_message_read(msg, "ss", &req.user, &event);
        if (r < 0)
                return r;
        if (!req.user[0] || strlen(req.user) > RUN_USER_MAX)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid user name.");
        e = script_event_from_string(event);
        if (e < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown event: %s", event);
        req.transient_event = e;

        r = bus_read_environment(msg, &req, error);
        if (r < 0)
                return r;

        /* Unlike OpenSession (where a repeated id is the same login asking again), a manual run
         * with an id that is in use is a mistake: it must neither run nothing silently nor touch
         * that session. An invalid id is refused rather than replaced, the caller chose it. */
        if (req.session_id && req.session_id[0]) {
                if (!session_id_is_valid(req.session_id))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid session id (1…%u characters of A-Z a-z 0-9 . _ -).",
                                                 SESSION_SCRIPTS_SESSION_ID_MAX);
                /* Also a refused session's id, which stays refused for a while. */
                if (manager_find_session_any(m, req.session_id))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Session %s exists already.", req.session_id);
        }

        log_info("RunEvent: running %s for user %s without a login.", script_event_to_string(e), req.user);

        return manager_dbus_open_session(m, msg, &req, error);
}
