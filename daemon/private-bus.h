/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's own socket for the PAM module (SESSION_SCRIPTS_PRIVATE_SOCKET): direct D-Bus
 * connections (no broker in between) that serve the same org.sessionscripts.Manager1 methods as
 * the system bus. A login's open_session then costs one connection to the daemon itself instead of
 * a connection, authentication and Hello through the system bus broker, which a login storm
 * saturates first. The socket is root's alone (mode 0600): only root's login programs use it;
 * everybody else, and a daemon that does not listen yet, goes through the system bus.
 */
#pragma once

#include "manager.h"

typedef struct PrivateBus PrivateBus;

/* Most direct connections served at once: one per login in progress, as many as the daemon keeps
 * sessions. A connection beyond it is closed at once, and the PAM module then goes through the
 * system bus: it must never wait, unanswered, for a slot. */
#define PRIVATE_BUS_CONNECTIONS_MAX 4096U

/* Creates the socket at path (replacing a stale one) and serves it on m's event loop. Returns 0
 * and the listener in *ret, or -errno. */
int private_bus_listen(Manager *m, const char *path, PrivateBus **ret);

/* Closes the listener and every connection; accepts NULL. Returns NULL. */
PrivateBus *private_bus_free(PrivateBus *p);
static inline void private_bus_freep(PrivateBus **p) {
        private_bus_free(*p);
}
