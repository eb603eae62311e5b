/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's matches on systemd's signals and the watches they are dispatched to (see
 * unit-watch.h), all asynchronous on the bus's event loop.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "macro.h"
#include "unit-watch.h"

#define SYSTEMD_BUS_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER_INTERFACE "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT_INTERFACE "org.freedesktop.systemd1.Unit"
#define SYSTEMD_UNIT_PATH_PREFIX "/org/freedesktop/systemd1/unit"

/* systemd's own bound on unit names. */
#define UNIT_NAME_MAX 255

/* Only the state changes of units: the match names the interface whose properties changed (arg0)
 * and the unit object subtree, so the bus does not send us the manager's own changes. */
#define MATCH_PROPERTIES_CHANGED                                                                   \
        "type='signal',sender='" SYSTEMD_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"  \
        "member='PropertiesChanged',path_namespace='" SYSTEMD_UNIT_PATH_PREFIX "',"                 \
        "arg0='" SYSTEMD_UNIT_INTERFACE "'"

struct SystemdWatch {
        unsigned n_ref;
        sd_bus *bus;

        /* JobRemoved, while there is a job watch. */
        sd_bus_slot *job_slot;
        JobWatch *jobs;

        /* PropertiesChanged and UnitRemoved, while there is a unit watch. */
        sd_bus_slot *properties_slot, *removed_slot;
        UnitWatch *units;
};

struct JobWatch {
        SystemdWatch *owner;
        JobWatch *prev, *next;

        char *unit;
        char *job_path;         /* NULL until job_watch_set_path() */

        JobWatchDoneFn callback;
        void *userdata;
        bool fired;
};

struct UnitWatch {
        SystemdWatch *owner;
        UnitWatch *prev, *next;

        char *unit;
        char *path;             /* the unit's object path, from sd_bus_path_encode() */
        sd_bus_slot *query_slot;        /* GetUnit or Get(ActiveState) in flight */

        UnitWatchGoneFn callback;
        void *userdata;
        bool fired;
};

/* Linking into and out of the owner's doubly linked lists (JobWatch and UnitWatch alike). */
#define WATCH_LINK(head, item)                          \
        do {                                            \
                (item)->prev = NULL;                    \
                (item)->next = (head);                  \
                if (head)                               \
                        (head)->prev = (item);          \
                (head) = (item);                        \
        } while (0)
#define WATCH_UNLINK(head, item)                        \
        do {                                            \
                if ((item)->prev)                       \
                        (item)->prev->next = (item)->next; \
                else                                    \
                        (head) = (item)->next;          \
                if ((item)->next)                       \
                        (item)->next->prev = (item)->prev; \
                (item)->prev = (item)->next = NULL;     \
        } while (0)

/* ---- SystemdWatch -------------------------------------------------------------------------------- */

int systemd_watch_new(sd_bus *bus, SystemdWatch **ret) {
        SystemdWatch *w;

        if (!bus || !ret)
                return -EINVAL;
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->n_ref = 1;
        w->bus = sd_bus_ref(bus);
        *ret = w;
        return 0;
}

SystemdWatch *systemd_watch_ref(SystemdWatch *w) {
        if (w)
                w->n_ref++;
        return w;
}

SystemdWatch *systemd_watch_unref(SystemdWatch *w) {
        if (!w || --w->n_ref > 0)
                return NULL;

        /* Every watch holds a reference: none is left. */
        sd_bus_slot_unref(w->job_slot);
        sd_bus_slot_unref(w->properties_slot);
        sd_bus_slot_unref(w->removed_slot);
        sd_bus_unref(w->bus);
        free(w);
        return NULL;
}

sd_bus *systemd_watch_get_bus(const SystemdWatch *w) {
        return w ? w->bus : NULL;
}

/* ---- Job watches (JobRemoved) -------------------------------------------------------------------- */

/* Fires j's callback once. The callback may free j, and any other watch. */
static void job_watch_fire(JobWatch *j, const char *result, const char *error) {
        if (j->fired)
                return;
        j->fired = true;
        if (j->callback)
                j->callback(j, result, error, j->userdata);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(systemd_watch_unrefp) SystemdWatch *w = systemd_watch_ref(userdata);
        const char *path, *unit, *result;
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "uoss", &id, &path, &unit, &result);
        if (r < 0) {
                log_warning_errno(r, "Failed to parse JobRemoved signal, ignoring: %m");
                return 0;
        }

        for (JobWatch *j = w->jobs; j; j = j->next)
                if (!j->fired && streq(j->unit, unit) && (!j->job_path || streq(j->job_path, path))) {
                        job_watch_fire(j, result, NULL);        /* may free j and others */
                        break;
                }
        return 0;
}

static int on_job_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(systemd_watch_unrefp) SystemdWatch *w = systemd_watch_ref(userdata);
        const sd_bus_error *e;
        char error[256];

        if (!sd_bus_message_is_method_error(m, NULL))
                return 0;

        /* Without the match no job can be watched: tell every waiting watch. A watch made from now
         * on tries with a match of its own. */
        e = sd_bus_message_get_error(m);
        (void) snprintf(error, sizeof error, "Failed to subscribe to systemd's job signals: %s",
                        e && e->message ? e->message : "unknown error");
        w->job_slot = sd_bus_slot_unref(w->job_slot);
        for (;;) {
                JobWatch *j = w->jobs;

                while (j && j->fired)
                        j = j->next;
                if (!j)
                        break;
                job_watch_fire(j, NULL, error);
        }
        return 0;
}

int job_watch_new(SystemdWatch *w, const char *unit, JobWatchDoneFn callback, void *userdata,
                  JobWatch **ret) {
        _cleanup_(job_watch_freep) JobWatch *j = NULL;
        int r;

        if (!w || !unit || !ret)
                return -EINVAL;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->callback = callback;
        j->userdata = userdata;
        j->unit = strdup(unit);
        if (!j->unit)
                return -ENOMEM;

        if (!w->job_slot) {
                r = sd_bus_match_signal_async(w->bus, &w->job_slot, SYSTEMD_BUS_NAME, SYSTEMD_PATH,
                                              SYSTEMD_MANAGER_INTERFACE, "JobRemoved", on_job_removed,
                                              on_job_match_installed, w);
                if (r < 0)
                        return r;
                (void) sd_bus_slot_set_description(w->job_slot, "session-scripts-job-removed");
        }

        j->owner = systemd_watch_ref(w);
        WATCH_LINK(w->jobs, j);

        *ret = TAKE_PTR(j);
        return 0;
}

int job_watch_set_path(JobWatch *j, const char *job_path) {
        char *p;

        p = strdup(job_path);
        if (!p)
                return -ENOMEM;
        free(j->job_path);
        j->job_path = p;
        return 0;
}

JobWatch *job_watch_free(JobWatch *j) {
        SystemdWatch *w;

        if (!j)
                return NULL;

        w = j->owner;
        if (w) {
                WATCH_UNLINK(w->jobs, j);
                /* The last job watch: drop the match (the next one adds it again). */
                if (!w->jobs)
                        w->job_slot = sd_bus_slot_unref(w->job_slot);
                systemd_watch_unref(w);
        }

        free(j->unit);
        free(j->job_path);
        free(j);
        return NULL;
}

/* ---- Unit watches (PropertiesChanged, UnitRemoved) ----------------------------------------------- */

bool unit_name_is_scope(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n <= strlen(".scope") || n > UNIT_NAME_MAX || !streq(s + n - strlen(".scope"), ".scope"))
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == ':' || *p == '_' || *p == '.' || *p == '-' || *p == '\\'))
                        return false;
        return true;
}

const char *unit_watch_get_unit(const UnitWatch *u) {
        return u ? u->unit : NULL;
}

UnitWatch *unit_watch_free(UnitWatch *u) {
        SystemdWatch *w;

        if (!u)
                return NULL;

        w = u->owner;
        if (w) {
                WATCH_UNLINK(w->units, u);
                /* The last unit watch: drop the matches, so that the bus stops sending us every
                 * unit's state changes. */
                if (!w->units) {
                        w->properties_slot = sd_bus_slot_unref(w->properties_slot);
                        w->removed_slot = sd_bus_slot_unref(w->removed_slot);
                }
                systemd_watch_unref(w);
        }

        sd_bus_slot_unref(u->query_slot);
        free(u->unit);
        free(u->path);
        free(u);
        return NULL;
}

/* Fires u's callback once. The callback may free u. */
static void unit_watch_fire(UnitWatch *u) {
        if (u->fired)
                return;
        u->fired = true;
        u->query_slot = sd_bus_slot_unref(u->query_slot);
        if (u->callback)
                u->callback(u, u->userdata);
}

/* Fires every not yet fired unit watch for which match(u, data) holds. A callback may free any
 * watch (its own, typically), so the list is searched from the head again after each call; the
 * caller holds a reference on w. */
static void unit_watches_fire(SystemdWatch *w, bool (*match)(const UnitWatch *u, const void *data),
                              const void *data) {
        for (;;) {
                UnitWatch *u = NULL;

                for (UnitWatch *i = w->units; i; i = i->next)
                        if (!i->fired && match(i, data)) {
                                u = i;
                                break;
                        }
                if (!u)
                        return;
                unit_watch_fire(u);
        }
}

static bool match_path(const UnitWatch *u, const void *data) {
        return streq(u->path, data);
}

static bool match_unit(const UnitWatch *u, const void *data) {
        return streq(u->unit, data);
}

static bool match_any(const UnitWatch *u, const void *data) {
        return true;
}

static bool active_state_is_gone(const char *state) {
        /* "inactive" or "failed": no process of the scope is left (a scope is "deactivating" while
         * systemd still stops it). */
        return streq_ptr(state, "inactive") || streq_ptr(state, "failed");
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(systemd_watch_unrefp) SystemdWatch *w = systemd_watch_ref(userdata);
        const char *path = sd_bus_message_get_path(m), *iface, *name, *state = NULL;
        int r;

        if (!path)
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || !streq(iface, SYSTEMD_UNIT_INTERFACE))
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return 0;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return 0;
                if (streq(name, "ActiveState")) {
                        r = sd_bus_message_read(m, "v", "s", &state);
                        if (r < 0)
                                return 0;
                } else {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                return 0;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return 0;
        }

        if (active_state_is_gone(state))
                unit_watches_fire(w, match_path, path);
        return 0;
}

static int on_unit_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(systemd_watch_unrefp) SystemdWatch *w = systemd_watch_ref(userdata);
        const char *unit, *path;

        if (sd_bus_message_read(m, "so", &unit, &path) < 0)
                return 0;
        unit_watches_fire(w, match_unit, unit);
        return 0;
}

static int on_unit_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(systemd_watch_unrefp) SystemdWatch *w = systemd_watch_ref(userdata);
        const sd_bus_error *e;

        if (!sd_bus_message_is_method_error(m, NULL))
                return 0;

        /* Without the match we would wait for a change we cannot see; the caller's deadline would
         * end the wait, but later than need be. Give up watching instead: report every unit gone. */
        e = sd_bus_message_get_error(m);
        log_warning("Failed to subscribe to systemd's unit signals, not waiting for scopes to end: %s",
                    e && e->message ? e->message : "unknown error");
        unit_watches_fire(w, match_any, NULL);
        return 0;
}

static int on_active_state(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatch *u = userdata;
        const char *state = NULL;

        u->query_slot = sd_bus_slot_unref(u->query_slot);

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                /* The unit went away between GetUnit and Get: gone. Anything else: we cannot tell,
                 * and must not hold a session for it. */
                if (!sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownObject") &&
                    !sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                        log_warning("Failed to read the state of %s, not waiting for it: %s", u->unit,
                                    e && e->message ? e->message : "unknown error");
                unit_watch_fire(u);
                return 0;
        }

        if (sd_bus_message_read(m, "v", "s", &state) < 0 || active_state_is_gone(state))
                unit_watch_fire(u);
        /* Else it still runs (or is being stopped): the matches tell us when that is over. */
        return 0;
}

static int on_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatch *u = userdata;
        const char *path;
        int r;

        u->query_slot = sd_bus_slot_unref(u->query_slot);

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                /* NoSuchUnit: not loaded, i.e. stopped and garbage-collected already. */
                if (!sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                        log_warning("Failed to look up %s, not waiting for it: %s", u->unit,
                                    e && e->message ? e->message : "unknown error");
                unit_watch_fire(u);
                return 0;
        }

        if (sd_bus_message_read(m, "o", &path) < 0) {
                unit_watch_fire(u);
                return 0;
        }

        r = sd_bus_call_method_async(u->owner->bus, &u->query_slot, SYSTEMD_BUS_NAME, path,
                                     "org.freedesktop.DBus.Properties", "Get", on_active_state, u, "ss",
                                     SYSTEMD_UNIT_INTERFACE, "ActiveState");
        if (r < 0) {
                log_warning_errno(r, "Failed to ask for the state of %s, not waiting for it: %m", u->unit);
                unit_watch_fire(u);
        }
        return 0;
}

/* Adds the unit matches unless they are there. */
static int unit_matches_add(SystemdWatch *w) {
        int r;

        if (w->properties_slot && w->removed_slot)
                return 0;

        /* Both matches go out before the first GetUnit of a watch: the bus applies our AddMatch
         * calls before it routes our later calls to systemd, so no state change between systemd's
         * answer and the match can pass unseen. */
        if (!w->properties_slot) {
                r = sd_bus_add_match_async(w->bus, &w->properties_slot, MATCH_PROPERTIES_CHANGED,
                                           on_properties_changed, on_unit_match_installed, w);
                if (r < 0)
                        return r;
                (void) sd_bus_slot_set_description(w->properties_slot, "session-scripts-unit-changed");
        }
        if (!w->removed_slot) {
                r = sd_bus_match_signal_async(w->bus, &w->removed_slot, SYSTEMD_BUS_NAME, SYSTEMD_PATH,
                                              SYSTEMD_MANAGER_INTERFACE, "UnitRemoved", on_unit_removed,
                                              on_unit_match_installed, w);
                if (r < 0) {
                        if (!w->units)
                                w->properties_slot = sd_bus_slot_unref(w->properties_slot);
                        return r;
                }
                (void) sd_bus_slot_set_description(w->removed_slot, "session-scripts-unit-removed");
        }
        return 0;
}

int unit_watch_new(SystemdWatch *w, const char *unit, UnitWatchGoneFn callback, void *userdata,
                   UnitWatch **ret) {
        _cleanup_(unit_watch_freep) UnitWatch *u = NULL;
        int r;

        if (!w || !ret || !unit_name_is_scope(unit))
                return -EINVAL;

        u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        u->callback = callback;
        u->userdata = userdata;
        u->unit = strdup(unit);
        if (!u->unit)
                return -ENOMEM;
        r = sd_bus_path_encode(SYSTEMD_UNIT_PATH_PREFIX, unit, &u->path);
        if (r < 0)
                return r;

        r = unit_matches_add(w);
        if (r < 0)
                return r;
        u->owner = systemd_watch_ref(w);
        WATCH_LINK(w->units, u);

        /* GetUnit does not load a unit that is not loaded (Get on the object path would, as a
         * "not-found" stub). */
        r = sd_bus_call_method_async(w->bus, &u->query_slot, SYSTEMD_BUS_NAME, SYSTEMD_PATH,
                                     SYSTEMD_MANAGER_INTERFACE, "GetUnit", on_get_unit, u, "s", unit);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(u);
        return 0;
}

/* ---- Requests to systemd ------------------------------------------------------------------------- */

static int on_subscribed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(m);

        /* AlreadySubscribed is fine; anything else means we may wait for scopes until our deadline
         * timers end the wait, which they bound. */
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.AlreadySubscribed"))
                log_warning("Failed to subscribe to systemd's signals, ending scopes may be noticed late: %s",
                            e->message ?: e->name);
        return 0;
}

int unit_stop(sd_bus *bus, const char *unit) {
        int r;

        r = sd_bus_call_method_async(bus, NULL, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                                     "StopUnit", NULL, NULL, "ss", unit, "replace");
        if (r < 0)
                log_warning_errno(r, "Failed to ask systemd to stop %s: %m", unit);
        return r;
}

int unit_watch_subscribe(sd_bus *bus) {
        return sd_bus_call_method_async(bus, NULL, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                                        "Subscribe", on_subscribed, NULL, NULL);
}
