/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Waiting for a systemd unit (a run's scope) to be gone: inactive, failed, or unloaded. An event of
 * a session counts as finished only when the scopes of its runs are gone — not when the runner
 * reported the main process's end or the deadline — so that a termination never starts while
 * processes of the start still run (systemd stops a scope at RuntimeMaxSec, but that takes up to
 * its stop timeout). It also lets a restarted daemon learn when a start of the previous instance
 * is over, from the scope names kept in the session state file.
 *
 * One PropertiesChanged and one UnitRemoved match per bus connection, shared by all watches and
 * only installed while there is one (like the runner's JobRemoved match); each watch asks systemd
 * once (GetUnit, then ActiveState) after the matches are in place, so no transition is missed.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct UnitWatch UnitWatch;

/* Called once, from a bus callback, when the unit is gone (or when it can no longer be watched:
 * the daemon must not wait for something it cannot observe; the caller's own deadline bounds the
 * wait anyway). The callee may free the watch. */
typedef void (*UnitWatchGoneFn)(UnitWatch *w, void *userdata);

/*
 * Starts watching `unit` on `bus` (the system bus, systemd's API). The callback is never invoked
 * from within this call. Returns 0 and a new watch in *ret (owned by the caller; freeing it cancels
 * the callback), -EINVAL for an invalid unit name, -ENOMEM, or -errno from sending.
 */
int unit_watch_new(sd_bus *bus, const char *unit, UnitWatchGoneFn callback, void *userdata, UnitWatch **ret);

/* Stops watching and frees; accepts NULL (also from within the callback). Returns NULL. */
UnitWatch *unit_watch_free(UnitWatch *w);
static inline void unit_watch_freep(UnitWatch **w) {
        unit_watch_free(*w);
}

/* The unit watched (owned by the watch). */
const char *unit_watch_get_unit(const UnitWatch *w);

/*
 * Asks systemd to send its unit and job signals on the bus (Manager.Subscribe): systemd emits
 * PropertiesChanged and UnitRemoved on the system bus only while some client is subscribed, and
 * the daemon must not rely on another program (logind) having done that. Asynchronous; failures
 * are logged. Returns 0 or -errno from sending.
 */
int unit_watch_subscribe(sd_bus *bus);

/* Asks systemd to stop unit (StopUnit, mode "replace": SIGTERM to what is left in a scope, SIGKILL
 * after its stop timeout). Asynchronous, nothing to free; a failure to send is logged. Returns 0
 * or -errno from sending. */
int unit_stop(sd_bus *bus, const char *unit);

/* True when s is a plausible unit name of ours to watch: 1…255 characters of [A-Za-z0-9:_.\\-],
 * ending in ".scope". Used to vet names read back from a state file. */
bool unit_name_is_scope(const char *s);
