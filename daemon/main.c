/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * session-scriptsd: the root daemon that runs the administrator's session scripts
 * (docs/behaviour.md §1, §3). Sets up the sd-event loop (SIGTERM/SIGINT exit, SIGHUP reloads,
 * watchdog), loads settings and config.json, recovers spool entries and session state of a
 * previous instance, connects to the system bus, registers the API and takes the bus name, then
 * serves until told to stop.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "cleanup.h"
#include "default-limits.h"
#include "log.h"
#include "manager-dbus.h"
#include "manager.h"
#include "output.h"
#include "private-bus.h"
#include "session-scripts/session-scripts.h"
#include "unit-watch.h"

static const char *arg_settings = NULL;
static const char *arg_config = NULL;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Runs the session scripts of config.json when PAM sessions open and close.\n"
               "Normally started by session-scripts.service or by D-Bus activation.\n\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n"
               "     --settings=PATH   Read settings from PATH (default %s)\n"
               "     --config=PATH     Read config.json from PATH (default: ConfigFile= of the\n"
               "                       settings, else %s)\n",
               program_invocation_short_name, SESSION_SCRIPTS_SETTINGS_PATH, SESSION_SCRIPTS_CONFIG_PATH);
}

/* Returns 1 to go on, 0 to exit successfully, -EINVAL on bad usage. */
static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_SETTINGS,
                ARG_CONFIG,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "settings", required_argument, NULL, ARG_SETTINGS },
                { "config", required_argument, NULL, ARG_CONFIG },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("session-scriptsd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_SETTINGS:
                        arg_settings = optarg;
                        break;
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "%s takes no positional arguments.\n", program_invocation_short_name);
                return -EINVAL;
        }
        return 1;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received SIG%s, exiting.", sigabbrev_np((int) si->ssi_signo) ?: "?");
        /* Stopped on purpose (systemctl stop/restart, an upgrade): the next start provisions anew.
         * Only a daemon that died (crash, watchdog) leaves the baseline for its successor, so that
         * making it crash cannot bless a modified executable. */
        if (unlink(m->baseline_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove the tamper baseline %s, ignoring: %m", m->baseline_path);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down…");
        return sd_event_exit(m->event, 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received SIGHUP, reloading.");
        /* An invalid configuration is journaled (and the last good one kept); there is nobody to
         * tell here, unlike for Reload() on the bus. */
        (void) manager_reload(m);
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        /* Declared after m: freed before it. */
        _cleanup_(private_bus_freep) PrivateBus *private_bus = NULL;
        sigset_t mask;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        if (isatty(STDERR_FILENO))
                log_to_stderr = true;

        /* Files we create are ours alone unless made otherwise explicitly. */
        umask(0022);

        /* The signals are handled through signalfd in the loop. SIGCHLD too: the runner watches its
         * children with sd_event_add_child(), which needs it blocked. The runner restores the mask
         * in each child before it execs a script. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        /* A script's pipe or a peer going away must not kill the daemon. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");

        r = manager_new(event, arg_settings, arg_config, &m);
        if (r < 0)
                return log_oom();

        r = sd_event_add_signal(event, NULL, SIGTERM, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGHUP, on_sighup, m);
        if (r < 0)
                return log_error_errno(r, "Failed to install signal handlers: %m");

        /* WATCHDOG_USEC from the unit (WatchdogSec=): the loop pings at half the interval. A loop
         * stuck on anything (it never should be) gets the daemon restarted. */
        r = sd_event_set_watchdog(event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");

        /* Not a provisioning when a previous instance died and left its baseline: then the daemon
         * keeps checking against what that one recorded (at its start, or its last reload). After a
         * clean stop there is none and the configuration is recorded now. A bad config is no reason
         * to exit: the daemon then runs nothing and says why, so logins are not held up. */
        r = manager_load(m, false);
        if (r < 0 && r != -EBADMSG)
                return r;

        /* A previous instance may have died while capturing: its entries are as finished as they
         * will ever be, so the uploader may ship them. */
        r = spool_recover(m->spool_dir);
        if (r < 0)
                log_warning_errno(r, "Failed to recover the spool in %s, ignoring: %m", m->spool_dir);
        else if (r > 0)
                log_info("Marked %i spool entr%s of a previous instance as finished.", r, r == 1 ? "y" : "ies");

        /* MaxSpoolSize= holds where the bytes are written (read at every check: a reload applies);
         * finished logs are made durable by a worker thread, not on the loop. */
        spool_set_max_size(&m->settings.max_spool_size);
        r = spool_sync_start();
        if (r < 0)
                log_warning_errno(r, "Failed to start the spool sync thread, syncing on the event loop: %m");

        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = sd_bus_attach_event(m->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

        /* The end of each run's scope is observed through systemd's unit signals, which systemd
         * sends only while someone is subscribed. */
        r = unit_watch_subscribe(m->bus);
        if (r < 0)
                log_warning_errno(r, "Failed to subscribe to systemd's signals, ignoring: %m");

        r = systemd_watch_new(m->bus, &m->systemd_watch);
        if (r < 0)
                return log_oom();
        r = runner_context_new(event, m->systemd_watch, &m->runner);
        if (r < 0)
                return log_oom();

        /* The resource limits scripts start with: systemd's defaults for units. */
        default_limits_init();
        r = default_limits_query(m->bus);
        if (r < 0)
                log_warning_errno(r, "Failed to ask systemd for its default resource limits, ignoring: %m");

        /* Before taking requests: resume what a previous instance left (terminations to run). */
        r = manager_load_sessions(m);
        if (r < 0)
                return r;

        r = manager_dbus_setup(m);
        if (r < 0)
                return r;

        /* The PAM module's direct way in; without it logins go through the system bus. */
        r = private_bus_listen(m, SESSION_SCRIPTS_PRIVATE_SOCKET, &private_bus);
        if (r < 0)
                log_warning_errno(r, "Failed to listen on %s, logins use the system bus: %m",
                                  SESSION_SCRIPTS_PRIVATE_SOCKET);

        (void) sd_notify(false, "STATUS=Acquiring the bus name…");
        r = sd_event_loop(event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r; /* the exit code given to sd_event_exit() */
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);

        /* Entries finished before the loop ended are made durable and marked finished. */
        spool_sync_stop();
        return r < 0 ? EXIT_FAILURE : r;
}
