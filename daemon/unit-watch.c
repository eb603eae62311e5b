/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Waiting for systemd units to be gone, and stopping one (see unit-watch.h): shared signal
 * matches per bus, one GetUnit/ActiveState query per watch, all asynchronous on the caller's event
 * loop.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
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

typedef struct UnitWatchBus UnitWatchBus;

struct UnitWatch {
        UnitWatchBus *owner;
        UnitWatch *prev, *next;

        char *unit;
        char *path;             /* the unit's object path, from sd_bus_path_encode() */
        sd_bus_slot *query_slot;        /* GetUnit or Get(ActiveState) in flight */

        UnitWatchGoneFn callback;
        void *userdata;
        bool fired;
};

/* The matches of one bus connection, and the watches that use them. */
struct UnitWatchBus {
        sd_bus *bus;
        sd_bus_slot *properties_slot, *removed_slot;
        UnitWatch *watches;
        UnitWatchBus *next;
};

static UnitWatchBus *watch_buses;

bool unit_name_is_scope(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n <= strlen(".scope") || n > UNIT_NAME_MAX || strcmp(s + n - strlen(".scope"), ".scope") != 0)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == ':' || *p == '_' || *p == '.' || *p == '-' || *p == '\\'))
                        return false;
        return true;
}

const char *unit_watch_get_unit(const UnitWatch *w) {
        return w ? w->unit : NULL;
}

static void watch_bus_free(UnitWatchBus *b) {
        for (UnitWatchBus **p = &watch_buses; *p; p = &(*p)->next)
                if (*p == b) {
                        *p = b->next;
                        break;
                }
        sd_bus_slot_unref(b->properties_slot);
        sd_bus_slot_unref(b->removed_slot);
        sd_bus_unref(b->bus);
        free(b);
}

UnitWatch *unit_watch_free(UnitWatch *w) {
        UnitWatchBus *b;

        if (!w)
                return NULL;

        b = w->owner;
        if (b) {
                if (w->prev)
                        w->prev->next = w->next;
                else
                        b->watches = w->next;
                if (w->next)
                        w->next->prev = w->prev;
                /* The last watch of the connection: drop the matches, so that the bus stops sending
                 * us every unit's state changes. */
                if (!b->watches)
                        watch_bus_free(b);
        }

        sd_bus_slot_unref(w->query_slot);
        free(w->unit);
        free(w->path);
        free(w);
        return NULL;
}

static UnitWatchBus *watch_bus_find(sd_bus *bus) {
        for (UnitWatchBus *b = watch_buses; b; b = b->next)
                if (b->bus == bus)
                        return b;
        return NULL;
}

/* Fires w's callback once. The callback may free w. */
static void watch_fire(UnitWatch *w) {
        if (w->fired)
                return;
        w->fired = true;
        w->query_slot = sd_bus_slot_unref(w->query_slot);
        if (w->callback)
                w->callback(w, w->userdata);
}

/* Fires every not yet fired watch of bus for which match(w, data) holds. A callback may free any
 * watch (its own, typically) and with the last one the connection's record, so that record is
 * looked up again, and its list searched from the head, after each call. */
static void watch_bus_fire(sd_bus *bus, bool (*match)(const UnitWatch *w, const void *data),
                           const void *data) {
        for (;;) {
                UnitWatchBus *b = watch_bus_find(bus);
                UnitWatch *w = NULL;

                for (UnitWatch *i = b ? b->watches : NULL; i; i = i->next)
                        if (!i->fired && match(i, data)) {
                                w = i;
                                break;
                        }
                if (!w)
                        return;
                watch_fire(w);
        }
}

static bool match_path(const UnitWatch *w, const void *data) {
        return strcmp(w->path, data) == 0;
}

static bool match_unit(const UnitWatch *w, const void *data) {
        return strcmp(w->unit, data) == 0;
}

static bool match_any(const UnitWatch *w, const void *data) {
        return true;
}

static bool active_state_is_gone(const char *state) {
        /* "inactive" or "failed": no process of the scope is left (a scope is "deactivating" while
         * systemd still stops it). */
        return state && (strcmp(state, "inactive") == 0 || strcmp(state, "failed") == 0);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatchBus *b = userdata;
        const char *path = sd_bus_message_get_path(m), *iface, *name, *state = NULL;
        int r;

        if (!path)
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || strcmp(iface, SYSTEMD_UNIT_INTERFACE) != 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return 0;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return 0;
                if (strcmp(name, "ActiveState") == 0) {
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
                watch_bus_fire(b->bus, match_path, path);
        return 0;
}

static int on_unit_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatchBus *b = userdata;
        const char *unit, *path;

        if (sd_bus_message_read(m, "so", &unit, &path) < 0)
                return 0;
        watch_bus_fire(b->bus, match_unit, unit);
        return 0;
}

static int on_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatchBus *b = userdata;
        const sd_bus_error *e;

        if (!sd_bus_message_is_method_error(m, NULL))
                return 0;

        /* Without the match we would wait for a change we cannot see; the caller's deadline would
         * end the wait, but later than need be. Give up watching instead: report every unit gone. */
        e = sd_bus_message_get_error(m);
        log_warning("Failed to subscribe to systemd's unit signals, not waiting for scopes to end: %s",
                    e && e->message ? e->message : "unknown error");
        watch_bus_fire(b->bus, match_any, NULL);
        return 0;
}

static int on_active_state(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatch *w = userdata;
        const char *state = NULL;

        w->query_slot = sd_bus_slot_unref(w->query_slot);

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                /* The unit went away between GetUnit and Get: gone. Anything else: we cannot tell,
                 * and must not hold a session for it. */
                if (!sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownObject") &&
                    !sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                        log_warning("Failed to read the state of %s, not waiting for it: %s", w->unit,
                                    e && e->message ? e->message : "unknown error");
                watch_fire(w);
                return 0;
        }

        if (sd_bus_message_read(m, "v", "s", &state) < 0 || active_state_is_gone(state))
                watch_fire(w);
        /* Else it still runs (or is being stopped): the matches tell us when that is over. */
        return 0;
}

static int on_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        UnitWatch *w = userdata;
        const char *path;
        int r;

        w->query_slot = sd_bus_slot_unref(w->query_slot);

        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                /* NoSuchUnit: not loaded, i.e. stopped and garbage-collected already. */
                if (!sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                        log_warning("Failed to look up %s, not waiting for it: %s", w->unit,
                                    e && e->message ? e->message : "unknown error");
                watch_fire(w);
                return 0;
        }

        if (sd_bus_message_read(m, "o", &path) < 0) {
                watch_fire(w);
                return 0;
        }

        r = sd_bus_call_method_async(w->owner->bus, &w->query_slot, SYSTEMD_BUS_NAME, path,
                                     "org.freedesktop.DBus.Properties", "Get", on_active_state, w, "ss",
                                     SYSTEMD_UNIT_INTERFACE, "ActiveState");
        if (r < 0) {
                log_warning_errno(r, "Failed to ask for the state of %s, not waiting for it: %m", w->unit);
                watch_fire(w);
        }
        return 0;
}

static int watch_bus_get(sd_bus *bus, UnitWatchBus **ret) {
        UnitWatchBus *b;
        int r;

        b = watch_bus_find(bus);
        if (b) {
                *ret = b;
                return 0;
        }

        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->bus = sd_bus_ref(bus);

        /* Both matches go out before the first GetUnit of a watch: the bus applies our AddMatch
         * calls before it routes our later calls to systemd, so no state change between systemd's
         * answer and the match can pass unseen. */
        r = sd_bus_add_match_async(bus, &b->properties_slot, MATCH_PROPERTIES_CHANGED, on_properties_changed,
                                   on_match_installed, b);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, &b->removed_slot, SYSTEMD_BUS_NAME, SYSTEMD_PATH,
                                              SYSTEMD_MANAGER_INTERFACE, "UnitRemoved", on_unit_removed,
                                              on_match_installed, b);
        if (r < 0) {
                sd_bus_slot_unref(b->properties_slot);
                sd_bus_unref(b->bus);
                free(b);
                return r;
        }
        (void) sd_bus_slot_set_description(b->properties_slot, "session-scripts-unit-changed");
        (void) sd_bus_slot_set_description(b->removed_slot, "session-scripts-unit-removed");

        b->next = watch_buses;
        watch_buses = b;
        *ret = b;
        return 0;
}

int unit_watch_new(sd_bus *bus, const char *unit, UnitWatchGoneFn callback, void *userdata,
                   UnitWatch **ret) {
        _cleanup_(unit_watch_freep) UnitWatch *w = NULL;
        UnitWatchBus *b;
        int r;

        if (!bus || !ret || !unit_name_is_scope(unit))
                return -EINVAL;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->callback = callback;
        w->userdata = userdata;
        w->unit = strdup(unit);
        if (!w->unit)
                return -ENOMEM;
        r = sd_bus_path_encode(SYSTEMD_UNIT_PATH_PREFIX, unit, &w->path);
        if (r < 0)
                return r;

        r = watch_bus_get(bus, &b);
        if (r < 0)
                return r;
        w->owner = b;
        w->next = b->watches;
        if (b->watches)
                b->watches->prev = w;
        b->watches = w;

        /* GetUnit does not load a unit that is not loaded (Get on the object path would, as a
         * "not-found" stub). */
        r = sd_bus_call_method_async(bus, &w->query_slot, SYSTEMD_BUS_NAME, SYSTEMD_PATH,
                                     SYSTEMD_MANAGER_INTERFACE, "GetUnit", on_get_unit, w, "s", unit);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(w);
        return 0;
}

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
