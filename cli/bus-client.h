/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command line tool's side of the daemon's bus API (SESSION_SCRIPTS_BUS_INTERFACE) and of the
 * few systemd properties `status` shows. Errors are returned with the D-Bus error for the caller
 * to print; nothing here prints.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "format.h"

/* A method call to the daemon may take this long at most (RunEvent, Reload, lists). */
#define CLI_BUS_TIMEOUT_USEC (30 * USEC_PER_SEC)

/* Connects to the system bus. Returns 0 or -errno. */
int cli_bus_open(sd_bus **ret);

/* Whether calls to the daemon may start it through bus activation (default: yes). With false, a
 * daemon that is not running fails the call with org.freedesktop.DBus.Error.NameHasNoOwner at once
 * instead of being started — what shell completion wants (`sessions --no-auto-start`). */
void cli_bus_set_auto_start(bool b);

/*
 * Calls method of the daemon's manager interface with the arguments of types (sd_bus_message_append()
 * syntax; NULL for none), honouring cli_bus_set_auto_start(), with CLI_BUS_TIMEOUT_USEC. Returns 0
 * and the reply in *ret_reply (may be NULL), or -errno with error set.
 */
int cli_bus_call(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **ret_reply,
                 const char *types, ...);

/* True when error says the daemon refused a configuration (SESSION_SCRIPTS_ERROR_INVALID_CONFIG). */
bool cli_bus_error_is_invalid_config(const sd_bus_error *error);

/* ListRuns(session_id) into a new array (caller frees with run_info_done() each + free()).
 * Returns 0 or -errno with error set. */
int cli_bus_list_runs(sd_bus *bus, const char *session_id, RunInfo **ret, size_t *ret_n, sd_bus_error *error);

/* ListSessions() and ListRuns() of each into a new array (session_infos_free()). A session that
 * vanished between the calls is listed without runs. Returns 0 or -errno with error set. */
int cli_bus_list_sessions(sd_bus *bus, SessionInfo **ret, size_t *ret_n, sd_bus_error *error);

/* Prints "session-scripts VERB: WHAT: MESSAGE" for a failed call on stderr; returns 1… for use as
 * `return cli_bus_error(…)`: the value of exit_status. */
int cli_bus_log_error(const char *verb, const char *what, int r, const sd_bus_error *error, int exit_status);
