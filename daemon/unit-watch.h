/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd's unit and job signals on the system bus, in one place: a SystemdWatch holds the
 * daemon's matches (JobRemoved; PropertiesChanged and UnitRemoved of units) and dispatches each
 * signal to the watches that wait for it.
 *
 *   JobWatch: a run waits for the start job of its scope (runner.c). The match is added before the
 *   StartTransientUnit call is sent: the bus applies our AddMatch before it routes our later calls,
 *   so the JobRemoved of that job cannot pass unseen.
 *
 *   UnitWatch: waiting for a unit (a run's scope) to be gone: inactive, failed, or unloaded. An
 *   event of a session counts as finished only when the scopes of its runs are gone — not when the
 *   runner reported the main process's end or the deadline — so that a termination never starts
 *   while processes of the start still run (systemd stops a scope at RuntimeMaxSec, but that takes
 *   up to its stop timeout). It also lets a restarted daemon learn when a start of the previous
 *   instance is over, from the scope names kept in the session state file. Each watch asks systemd
 *   once (GetUnit, then ActiveState) after the matches are in place, so no transition is missed.
 *
 * Each kind of match is installed only while a watch of that kind exists, so that the bus does not
 * send us every unit's state changes while nothing waits. Every watch holds a reference on its
 * SystemdWatch; callbacks come from bus callbacks only, never from within the call that made the
 * watch.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct SystemdWatch SystemdWatch;
typedef struct JobWatch JobWatch;
typedef struct UnitWatch UnitWatch;

/* Creates the watch of systemd on bus (the system bus; a reference is taken). Created once by the
 * manager (or a test driver) and passed to the runs and to unit_watch_new(). Returns 0 and the
 * object in *ret (one reference for the caller), or -ENOMEM. */
int systemd_watch_new(sd_bus *bus, SystemdWatch **ret);
SystemdWatch *systemd_watch_ref(SystemdWatch *w);
/* Accepts NULL; returns NULL. */
SystemdWatch *systemd_watch_unref(SystemdWatch *w);
static inline void systemd_watch_unrefp(SystemdWatch **w) {
        systemd_watch_unref(*w);
}

/* The bus the watch listens on. */
sd_bus *systemd_watch_get_bus(const SystemdWatch *w);

/* Called once, from a bus callback, when a JobRemoved of the watched job arrived: result is its
 * result ("done", "failed", "canceled", …). When the JobRemoved match could not be installed,
 * result is NULL and error says why (the job can then not be watched at all). The callee may free
 * any job watch, its own included. */
typedef void (*JobWatchDoneFn)(JobWatch *j, const char *result, const char *error, void *userdata);

/*
 * Starts waiting for the job systemd will queue for `unit`. Call it before asking systemd for the
 * job (StartTransientUnit), then job_watch_set_path() with the job path of the reply. Until the
 * path is known, a JobRemoved of any job of `unit` matches (unit names of runs are unique, and the
 * signal may arrive before the reply). Returns 0 and the watch in *ret (owned by the caller;
 * freeing it cancels the callback), -EINVAL, -ENOMEM, or -errno from sending the AddMatch.
 */
int job_watch_new(SystemdWatch *w, const char *unit, JobWatchDoneFn callback, void *userdata, JobWatch **ret);

/* From now on only a JobRemoved of job_path matches. Returns 0 or -ENOMEM (then the unit name alone
 * keeps matching). */
int job_watch_set_path(JobWatch *j, const char *job_path);

/* Stops waiting and frees; accepts NULL (also from within the callback). Returns NULL. */
JobWatch *job_watch_free(JobWatch *j);
static inline void job_watch_freep(JobWatch **j) {
        job_watch_free(*j);
}

/* Called once, from a bus callback, when the unit is gone (or when it can no longer be watched:
 * the daemon must not wait for something it cannot observe; the caller's own deadline bounds the
 * wait anyway). The callee may free the watch. */
typedef void (*UnitWatchGoneFn)(UnitWatch *u, void *userdata);

/*
 * Starts watching `unit`. The callback is never invoked from within this call. Returns 0 and a new
 * watch in *ret (owned by the caller; freeing it cancels the callback), -EINVAL for an invalid unit
 * name, -ENOMEM, or -errno from sending.
 */
int unit_watch_new(SystemdWatch *w, const char *unit, UnitWatchGoneFn callback, void *userdata, UnitWatch **ret);

/* Stops watching and frees; accepts NULL (also from within the callback). Returns NULL. */
UnitWatch *unit_watch_free(UnitWatch *u);
static inline void unit_watch_freep(UnitWatch **u) {
        unit_watch_free(*u);
}

/* The unit watched (owned by the watch). */
const char *unit_watch_get_unit(const UnitWatch *u);

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
