/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Direct D-Bus connections on the daemon's own socket (see private-bus.h). Each accepted
 * connection is a server-side sd-bus object on the daemon's event loop with the manager's object
 * added; it is dropped when the peer disconnects. The methods check the peer's credentials exactly
 * as on the system bus (bus_check_root(): on a direct connection sd-bus takes them from the
 * socket's SO_PEERCRED), so the socket's mode is a second fence, not the only one.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "manager-dbus.h"
#include "private-bus.h"
#include "time-util.h"

typedef struct PrivateConnection PrivateConnection;

struct PrivateConnection {
        PrivateBus *owner;
        sd_bus *bus;
        PrivateConnection *prev, *next;
};

struct PrivateBus {
        Manager *manager;
        char *path;
        int fd;
        sd_event_source *source, *retry_source;
        sd_id128_t server_id;
        PrivateConnection *connections;
        unsigned n_connections;
};

static PrivateConnection *private_connection_free(PrivateConnection *c) {
        PrivateBus *p;

        if (!c)
                return NULL;
        p = c->owner;
        if (c->prev)
                c->prev->next = c->next;
        else
                p->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        p->n_connections--;

        /* Unanswered calls (a WaitSessionEvent of a login that went away) hold references of their
         * own; the connection object goes with the last of them. */
        sd_bus_flush_close_unref(c->bus);
        free(c);

        return NULL;
}

static int on_disconnected(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        private_connection_free(userdata);
        return 0;
}

static int private_connection_new(PrivateBus *p, int fd) {
        _cleanup_(closep) int fd_owned = fd;
        PrivateConnection *c;
        sd_bus *bus = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;

        r = sd_bus_new(&bus);
        if (r < 0)
                goto fail;
        r = sd_bus_set_fd(bus, fd, fd);
        if (r < 0)
                goto fail;
        TAKE_FD(fd_owned);
        r = sd_bus_set_server(bus, true, p->server_id);
        if (r < 0)
                goto fail;
        (void) sd_bus_set_description(bus, "private-connection");

        /* The peer is told (synthetically, by sd-bus) when the connection is gone: then we drop it. */
        r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, c);
        if (r < 0)
                goto fail;
        r = manager_dbus_add_object(p->manager, bus);
        if (r < 0)
                goto fail;
        r = sd_bus_start(bus);
        if (r < 0)
                goto fail;
        r = sd_bus_attach_event(bus, p->manager->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                goto fail;

        c->owner = p;
        c->bus = bus;
        c->next = p->connections;
        if (p->connections)
                p->connections->prev = c;
        p->connections = c;
        p->n_connections++;
        return 0;

fail:
        sd_bus_close_unref(bus);
        free(c);
        return r;
}

static int on_accept_retry(sd_event_source *source, uint64_t usec, void *userdata) {
        PrivateBus *p = userdata;

        p->retry_source = sd_event_source_disable_unref(p->retry_source);
        (void) sd_event_source_set_enabled(p->source, SD_EVENT_ON);
        return 0;
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        PrivateBus *p = userdata;

        /* Everything the backlog holds: under a login storm one wakeup takes many connections. */
        for (;;) {
                int cfd, r;

                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return 0;
                        /* Out of descriptors (EMFILE, ENFILE) or memory: the backlog stays readable,
                         * so stop listening for a moment rather than spin; the logins waiting there
                         * see a daemon that makes no progress and go on. */
                        log_warning_errno(errno, "Failed to accept a connection on the private socket, pausing for 100 ms: %m");
                        (void) sd_event_source_set_enabled(source, SD_EVENT_OFF);
                        if (!p->retry_source)
                                (void) sd_event_add_time_relative(p->manager->event, &p->retry_source,
                                                                  CLOCK_MONOTONIC, 100 * USEC_PER_MSEC, 10 * USEC_PER_MSEC,
                                                                  on_accept_retry, p);
                        return 0;
                }

                if (p->n_connections >= PRIVATE_BUS_CONNECTIONS_MAX) {
                        /* Closed unanswered: the PAM module sees the connection fail and takes the
                         * system bus instead, rather than waiting for a slot. */
                        safe_close(cfd);
                        continue;
                }

                r = private_connection_new(p, cfd);
                if (r < 0)
                        log_warning_errno(r, "Failed to set up a private connection, ignoring: %m");
        }
}

int private_bus_listen(Manager *m, const char *path, PrivateBus **ret) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
        } addr = { .un.sun_family = AF_UNIX };
        _cleanup_(private_bus_freep) PrivateBus *p = NULL;
        int r;

        if (strlen(path) >= sizeof addr.un.sun_path)
                return -ENAMETOOLONG;
        strcpy(addr.un.sun_path, path);

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->manager = m;
        p->fd = -EBADF;
        p->path = strdup(path);
        if (!p->path)
                return -ENOMEM;

        r = sd_id128_randomize(&p->server_id);
        if (r < 0)
                return r;

        p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p->fd < 0)
                return -errno;

        /* A stale socket of a previous instance; the directory is root's (RuntimeDirectory=). The
         * mode is set before listen(): root's login programs only, nobody may connect in between. */
        (void) unlink(path);
        if (bind(p->fd, &addr.sa, sizeof addr.un) < 0)
                return -errno;
        if (chmod(path, 0600) < 0)
                return -errno;
        /* A storm of logins queues here while the daemon works through them. */
        if (listen(p->fd, SOMAXCONN) < 0)
                return -errno;

        r = sd_event_add_io(m->event, &p->source, p->fd, EPOLLIN, on_accept, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(p->source, "private-socket");

        *ret = TAKE_PTR(p);
        return 0;
}

PrivateBus *private_bus_free(PrivateBus *p) {
        if (!p)
                return NULL;
        while (p->connections)
                private_connection_free(p->connections);
        p->source = sd_event_source_disable_unref(p->source);
        p->retry_source = sd_event_source_disable_unref(p->retry_source);
        if (p->fd >= 0 && p->path)
                /* Ours (bound by us): a login that comes now goes through the system bus. */
                (void) unlink(p->path);
        safe_close(p->fd);
        free(p->path);
        free(p);
        return NULL;
}
