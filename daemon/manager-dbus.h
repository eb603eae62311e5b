/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The D-Bus face of session-scriptsd: the object SESSION_SCRIPTS_BUS_PATH with the interface
 * SESSION_SCRIPTS_BUS_INTERFACE (methods and signals as documented in session-scripts.h and
 * units/org.sessionscripts.Manager1.xml). Handlers check the caller's credentials (root for
 * everything that starts, ends or waits for sessions, besides the bus policy), translate -errno
 * from the manager into D-Bus errors, and never block.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "manager.h"

/* Adds the manager's object (methods and signals of SESSION_SCRIPTS_BUS_INTERFACE) to bus: the
 * system bus, or a direct connection on the private socket. Returns 0 or -errno. */
int manager_dbus_add_object(Manager *m, sd_bus *bus);

/* Adds the object vtable to m->bus and requests SESSION_SCRIPTS_BUS_NAME asynchronously; once
 * the name is ours, sends READY=1 to the service manager. When the name cannot be acquired, the
 * event loop exits with failure. Returns 0 or -errno. */
int manager_dbus_setup(Manager *m);

/* The signals of the interface. Failures are logged at debug level and otherwise ignored (a
 * signal nobody can receive is no reason to fail a session). */
void manager_dbus_emit_session_started(Manager *m, const Session *s);
void manager_dbus_emit_session_ended(Manager *m, const Session *s);
void manager_dbus_emit_run_started(Manager *m, const SessionRun *r);
void manager_dbus_emit_run_finished(Manager *m, const SessionRun *r);

/* The daemon's own root check of a method call, on top of the bus policy (every method is
 * SD_BUS_VTABLE_UNPRIVILEGED, so this is the check that decides; fails closed when the uid cannot
 * be determined). Returns 1 for root, 0 with error set otherwise, -errno on failure. */
int bus_check_root(sd_bus_message *msg, sd_bus_error *error);

/* Reads an a{ss} environment (the PAM environment: session metadata) into req; the pointers point
 * into msg and are valid while msg is. Returns ≥ 0, or < 0 (with error set for a too large
 * environment). */
int bus_read_environment(sd_bus_message *msg, SessionRequest *req, sd_bus_error *error);

/* OpenSession and RunEvent: opens the session req describes (manager_open_session()) and replies to
 * msg with (s session_id, t wait_usec). Returns ≥ 0, or < 0 with error set for an unknown user
 * (InvalidArgs) or a full session table (LimitsExceeded), or another -errno. */
int manager_dbus_open_session(Manager *m, sd_bus_message *msg, const SessionRequest *req, sd_bus_error *error);

/* Replies to a WaitSessionEvent() call with (b success, s message, s last_line); strings are made
 * valid UTF-8 first. Returns 0 or -errno. */
int manager_dbus_reply_wait(sd_bus_message *call, bool success, const char *message, const char *last_line);
