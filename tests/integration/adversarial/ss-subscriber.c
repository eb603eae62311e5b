/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bus client of the daemon's signals for the adversarial scenarios, run inside the bed as some
 * user: connects to the system bus, calls Subscribe() (with --no-subscribe it only adds a match
 * rule, as an eavesdropper would; with --unsubscribe it calls Unsubscribe() right after), and
 * prints every org.sessionscripts.Manager1 signal that reaches its connection as one line
 * "MEMBER<TAB>ARG<TAB>ARG…", flushed at once. "READY" is printed once it listens; it runs until
 * SIGTERM/SIGINT.
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define BUS_NAME "org.sessionscripts.SessionScripts1"
#define BUS_PATH "/org/sessionscripts/SessionScripts1"
#define BUS_INTERFACE "org.sessionscripts.Manager1"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        stop = 1;
}

/* A filter sees every message that reaches the connection, whether a match selected it or it was
 * addressed to us: so nothing the bus delivers goes unreported. */
static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *iface = sd_bus_message_get_interface(m);
        uint8_t kind;

        if (sd_bus_message_get_type(m, &kind) < 0 || kind != SD_BUS_MESSAGE_SIGNAL || !iface ||
            strcmp(iface, BUS_INTERFACE) != 0)
                return 0;

        printf("%s", sd_bus_message_get_member(m));
        for (;;) {
                char type;
                int r = sd_bus_message_peek_type(m, &type, NULL);

                if (r <= 0)
                        break;
                if (type == 's') {
                        const char *s;
                        if (sd_bus_message_read_basic(m, 's', &s) < 0)
                                break;
                        printf("\t%s", s);
                } else if (type == 'i') {
                        int32_t i;
                        if (sd_bus_message_read_basic(m, 'i', &i) < 0)
                                break;
                        printf("\t%" PRIi32, i);
                } else if (type == 't') {
                        uint64_t t;
                        if (sd_bus_message_read_basic(m, 't', &t) < 0)
                                break;
                        printf("\t%" PRIu64, t);
                } else {
                        if (sd_bus_message_skip(m, NULL) < 0)
                                break;
                        printf("\t?");
                }
        }
        printf("\n");
        fflush(stdout);
        return 0;
}

int main(int argc, char *argv[]) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        const char *mode = argc > 1 ? argv[1] : "";
        bool subscribe = strcmp(mode, "--no-subscribe") != 0;
        int r;

        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to the system bus: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        r = sd_bus_add_filter(bus, NULL, on_message, NULL);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='" BUS_NAME "',interface='" BUS_INTERFACE "'",
                                     NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "cannot add the match: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        if (subscribe) {
                r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, BUS_INTERFACE, "Subscribe", &error, NULL,
                                       NULL);
                if (r < 0) {
                        fprintf(stderr, "Subscribe failed: %s\n", error.message ?: strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        if (strcmp(mode, "--unsubscribe") == 0) {
                r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, BUS_INTERFACE, "Unsubscribe", &error, NULL,
                                       NULL);
                if (r < 0) {
                        fprintf(stderr, "Unsubscribe failed: %s\n", error.message ?: strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        printf("READY\n");
        fflush(stdout);

        while (!stop) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "bus: %s\n", strerror(-r));
                        return EXIT_FAILURE;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, 200 * 1000);
                if (r < 0 && r != -EINTR) {
                        fprintf(stderr, "bus: %s\n", strerror(-r));
                        return EXIT_FAILURE;
                }
        }

        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return EXIT_SUCCESS;
}
