/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RunEvent(s user, s event, a{ss} environment) → (s session_id, t wait_usec): the method behind
 * `session-scripts run`, which runs one event's executables for a user exactly as a login would,
 * but without a login. Registered in the manager's vtable by manager-dbus.c.
 */
#pragma once

#include <systemd/sd-bus.h>

/*
 * The method handler (userdata: the Manager). Root only. Opens a transient session for `user`
 * (metadata and AppStream_Session_ID from `environment`, like OpenSession) that runs only `event`
 * ("SessionStart" or "SessionTermination"; the latter without a start), and replies with the
 * session id and the longest the event may take from now. The caller then uses
 * WaitSessionEvent(session_id, event) and ListRuns(session_id); the session is never terminated
 * and is forgotten MANAGER_FORGET_DELAY_USEC after the event ended. Errors: AccessDenied,
 * InvalidArgs (unknown event or user, bad session id, an existing session's id), LimitsExceeded.
 */
int bus_run_method_run_event(sd_bus_message *msg, void *userdata, sd_bus_error *error);
