/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The subscribers of the daemon's signals: an sd_bus_track of the peers that called Subscribe(),
 * which notices when they leave the bus, beside a list of their uids for addressing. See
 * bus-subscribers.h.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bus-subscribers.h"
#include "cleanup.h"
#include "log.h"
#include "session-scripts/session-scripts.h"

typedef struct Subscriber {
        char *name;             /* the peer's unique name */
        uid_t uid;              /* its effective uid when it subscribed */
} Subscriber;

struct BusSubscribers {
        sd_bus *bus;
        /* The authority on who is still there: a name leaves it when its peer disconnects (sd-bus
         * watches NameOwnerChanged) or unsubscribes. */
        sd_bus_track *track;
        Subscriber *peers;      /* the uids of the names in track, possibly with some that left */
        size_t n_peers;
};

int bus_subscribers_new(sd_bus *bus, BusSubscribers **ret) {
        _cleanup_(bus_subscribers_freep) BusSubscribers *s = NULL;
        int r;

        s = calloc(1, sizeof(BusSubscribers));
        if (!s)
                return -ENOMEM;
        s->bus = sd_bus_ref(bus);

        r = sd_bus_track_new(bus, &s->track, NULL, NULL);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

BusSubscribers *bus_subscribers_free(BusSubscribers *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_peers; i++)
                free(s->peers[i].name);
        free(s->peers);
        sd_bus_track_unref(s->track);
        sd_bus_unref(s->bus);
        free(s);
        return NULL;
}

/* Drops the list entries of names the track no longer holds. */
static void prune(BusSubscribers *s) {
        size_t k = 0;

        for (size_t i = 0; i < s->n_peers; i++) {
                if (sd_bus_track_count_name(s->track, s->peers[i].name) > 0) {
                        s->peers[k++] = s->peers[i];
                        continue;
                }
                log_debug("Signal subscriber %s is gone.", s->peers[i].name);
                free(s->peers[i].name);
        }
        s->n_peers = k;
}

static Subscriber *find(BusSubscribers *s, const char *name) {
        for (size_t i = 0; i < s->n_peers; i++)
                if (strcmp(s->peers[i].name, name) == 0)
                        return &s->peers[i];
        return NULL;
}

int bus_subscribers_add(BusSubscribers *s, sd_bus_message *msg) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        _cleanup_(freep) char *name = NULL;
        const char *sender;
        Subscriber *p;
        uid_t uid;
        int r;

        /* A direct connection (the private socket) has no unique names to address signals to. */
        sender = sd_bus_message_get_sender(msg);
        if (sd_bus_message_get_bus(msg) != s->bus || !sender)
                return -EXDEV;

        prune(s);
        if (find(s, sender))
                return 0;
        if (s->n_peers >= BUS_SUBSCRIBERS_MAX)
                return -EUSERS;

        /* Fails closed: a peer whose uid is unknown gets nothing. */
        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;

        name = strdup(sender);
        if (!name)
                return -ENOMEM;
        p = reallocarray(s->peers, s->n_peers + 1, sizeof(Subscriber));
        if (!p)
                return -ENOMEM;
        s->peers = p;

        r = sd_bus_track_add_sender(s->track, msg);
        if (r < 0)
                return r;
        s->peers[s->n_peers++] = (Subscriber) { .name = TAKE_PTR(name), .uid = uid };

        log_debug("Signal subscriber %s (uid %u) added.", sender, (unsigned) uid);
        return 0;
}

int bus_subscribers_remove(BusSubscribers *s, sd_bus_message *msg) {
        const char *sender = sd_bus_message_get_sender(msg);
        int r;

        if (!sender || sd_bus_message_get_bus(msg) != s->bus)
                return 0;

        r = sd_bus_track_count_sender(s->track, msg);
        if (r > 0)
                (void) sd_bus_track_remove_sender(s->track, msg);
        prune(s);
        return r > 0;
}

size_t bus_subscribers_count(BusSubscribers *s) {
        if (!s)
                return 0;
        prune(s);
        return s->n_peers;
}

/* Sends one copy of the signal to destination. Returns 0, or -errno (logged when the peer is the
 * problem; an error building the message is the same for every peer and returned unlogged). */
static int send_one(BusSubscribers *s, const char *destination, const char *member, const char *types,
                    va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
        va_list aq;
        int r;

        /* One message per peer: the destination is part of the sealed message. */
        r = sd_bus_message_new_signal(s->bus, &sig, SESSION_SCRIPTS_BUS_PATH, SESSION_SCRIPTS_BUS_INTERFACE,
                                      member);
        if (r < 0)
                return r;
        va_copy(aq, ap);
        r = sd_bus_message_appendv(sig, types, aq);
        va_end(aq);
        if (r < 0)
                return r;
        r = sd_bus_message_set_destination(sig, destination);
        if (r >= 0)
                r = sd_bus_send(s->bus, sig, NULL);
        if (r < 0)
                return log_debug_errno(r, "Failed to send signal %s to %s, ignoring: %m", member,
                                       destination);
        return 0;
}

int bus_subscribers_send(BusSubscribers *s, uid_t uid, const char *member, const char *types, va_list ap) {
        const char *self;
        unsigned n = 0;
        int r;

        if (!s)
                return 0;

        /* The monitors' copy, addressed to the daemon itself: the bus's monitors (root only) see
         * every signal exactly once this way, as `busctl monitor` did when signals were broadcast,
         * whether or not a root client subscribed. The daemon ignores what it gets back (no match
         * of its own selects these signals). It also tells whether the message can be built at
         * all, which is the same for every peer. */
        r = sd_bus_get_unique_name(s->bus, &self);
        if (r >= 0) {
                r = send_one(s, self, member, types, ap);
                if (r < 0 && r != -ENOTCONN && r != -ECONNRESET)
                        return r;
        }

        prune(s);
        for (size_t i = 0; i < s->n_peers; i++) {
                if (s->peers[i].uid != 0 && s->peers[i].uid != uid)
                        continue;
                if (send_one(s, s->peers[i].name, member, types, ap) >= 0)
                        n++;
        }
        return (int) n;
}
