/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who gets the daemon's signals. Signals name sessions and users, which an unrelated user must not
 * learn (ListSessions and ListRuns filter by the caller's uid for the same reason), so nothing is
 * broadcast: a bus peer calls Subscribe() and from then on receives, addressed to it alone (a
 * unicast signal with its unique name as destination), the signals about sessions of its own uid,
 * and all of them when it is root. Peers are tracked with sd_bus_track: one that disconnects is
 * dropped without asking, Unsubscribe() drops it earlier. Bus monitors (`busctl monitor`, which
 * only root may run on the system bus) see every signal once, in a copy the daemon addresses to
 * itself, and the copies sent to subscribers besides.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

/* At most this many peers subscribed at once (any user may subscribe; the bus broker bounds the
 * connections per user, this bounds what the daemon keeps). */
#define BUS_SUBSCRIBERS_MAX 1024U

typedef struct BusSubscribers BusSubscribers;

/* Allocates an empty set for peers on bus (takes a reference). Returns 0 or -ENOMEM. */
int bus_subscribers_new(sd_bus *bus, BusSubscribers **ret);

/* Forgets every subscriber and drops the bus reference. Accepts NULL. Returns NULL. */
BusSubscribers *bus_subscribers_free(BusSubscribers *s);
static inline void bus_subscribers_freep(BusSubscribers **s) {
        bus_subscribers_free(*s);
}

/* Subscribe(): adds the sender of msg, with the effective uid the bus reports for it (a peer's
 * credentials are fixed when it connects, so they are asked once). Subscribing again changes
 * nothing. Returns 0, -EUSERS when BUS_SUBSCRIBERS_MAX peers are subscribed, -EXDEV when msg did
 * not come over the bus this set is for (a direct connection: nothing to address), -errno. */
int bus_subscribers_add(BusSubscribers *s, sd_bus_message *msg);

/* Unsubscribe(): drops the sender of msg. Returns 1 when it was subscribed, 0 when not, -errno. */
int bus_subscribers_remove(BusSubscribers *s, sd_bus_message *msg);

/* How many peers are subscribed (after dropping those that left the bus). */
size_t bus_subscribers_count(BusSubscribers *s);

/*
 * Sends the signal `member` of SESSION_SCRIPTS_BUS_INTERFACE with the arguments `types`/ap to each
 * subscriber whose uid is 0 or uid, one unicast message each, and one copy to the daemon's own
 * unique name for the bus monitors. A failure to one peer does not keep the others from theirs.
 * Returns the number of subscribers it was sent to, or -errno when no message could be built.
 */
int bus_subscribers_send(BusSubscribers *s, uid_t uid, const char *member, const char *types, va_list ap);
