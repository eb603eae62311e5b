/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * session-scripts-upload: the sandboxed service that ships spooled script logs to S3. Reads [S3] of
 * the settings, runs the uploader engine on sd-event until SIGTERM, tells systemd when it is ready
 * (Type=notify) and what it is doing (STATUS=). SIGHUP retries everything at once with freshly
 * resolved credentials. Without Bucket= it says so once and idles (nothing is spooled then).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "cleanup.h"
#include "log.h"
#include "session-scripts/session-scripts.h"
#include "settings.h"
#include "uploader.h"

static const char *arg_config = NULL;
static const char *arg_spool_dir = SESSION_SCRIPTS_SPOOL_DIR;
static bool arg_exit_when_empty = false;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Uploads the session scripts' spooled logs to S3 (session-scripts-upload.service).\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --config=PATH       Settings file (default: " SESSION_SCRIPTS_SETTINGS_PATH ")\n"
               "     --spool-dir=PATH    Spool directory (default: " SESSION_SCRIPTS_SPOOL_DIR ")\n"
               "     --exit-when-empty   Exit once the spool is empty (tests, benchmarks)\n\n"
               "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], the shared\n"
               "credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE or Profile=), else IMDSv2.\n",
               program_invocation_short_name);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_CONFIG, ARG_SPOOL_DIR, ARG_EXIT_WHEN_EMPTY };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "spool-dir", required_argument, NULL, ARG_SPOOL_DIR },
                { "exit-when-empty", no_argument, NULL, ARG_EXIT_WHEN_EMPTY },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("session-scripts-upload %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case ARG_SPOOL_DIR:
                        arg_spool_dir = optarg;
                        break;
                case ARG_EXIT_WHEN_EMPTY:
                        arg_exit_when_empty = true;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "%s takes no positional arguments.\n", program_invocation_short_name);
                return -EINVAL;
        }
        return 1;
}

static void on_settings_report(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: %s", file, line, message);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        uploader_retry_now(userdata);
        return 0;
}

/* Nothing to do without a bucket: stay up (Restart=always would otherwise loop) and say why. */
static int run_idle(sd_event *event) {
        int r;

        log_notice("No Bucket= configured in [S3] of %s; logs are kept in the journal only.",
                   arg_config ?: SESSION_SCRIPTS_SETTINGS_PATH);
        if (arg_exit_when_empty)
                return 0;

        (void) sd_notify(false, "READY=1\nSTATUS=No Bucket= configured; logs are kept in the journal only.");
        r = sd_event_loop(event);
        (void) sd_notify(false, "STOPPING=1");
        return r;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(uploader_freep) Uploader *u = NULL;
        _cleanup_(settings_done) Settings settings = {};
        sigset_t mask;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        /* Under systemd (JOURNAL_STREAM set) only to the journal; from a shell also to stderr. */
        log_identifier = "session-scripts-upload";
        log_to_stderr = !getenv("JOURNAL_STREAM");

        r = settings_load(arg_config, &settings, on_settings_report, NULL);
        if (r < 0) {
                log_error_errno(r, "Failed to load settings: %m");
                return EXIT_FAILURE;
        }

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("Failed to initialise libcurl.");
                return EXIT_FAILURE;
        }

        /* Signals arrive through sd-event's signalfd, so they must be blocked for the process. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* A peer closing a connection must be an error from send(), not a fatal signal. */
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                /* Pings the service manager's watchdog (WatchdogSec=) from the loop itself, so a hung
                 * loop gets the service restarted. */
                r = sd_event_set_watchdog(event, true);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the event loop: %m");
                r = EXIT_FAILURE;
                goto finish;
        }

        if (!settings.bucket) {
                r = run_idle(event) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
                goto finish;
        }

        r = uploader_new(event,
                         &(UploaderConfig) {
                                 .spool_dir = arg_spool_dir,
                                 .bucket = settings.bucket,
                                 .region = settings.region,
                                 .endpoint = settings.endpoint,
                                 .profile = settings.profile,
                                 .server_side_encryption = settings.server_side_encryption,
                                 .max_spool_size = settings.max_spool_size,
                                 .exit_when_empty = arg_exit_when_empty,
                         },
                         &u);
        if (r < 0) {
                r = EXIT_FAILURE;
                goto finish;
        }

        r = sd_event_add_signal(event, NULL, SIGHUP, on_sighup, u);
        if (r < 0) {
                log_error_errno(r, "Failed to watch SIGHUP: %m");
                r = EXIT_FAILURE;
                goto finish;
        }

        r = uploader_start(u);
        if (r < 0) {
                r = EXIT_FAILURE;
                goto finish;
        }

        (void) sd_notify(false, "READY=1");
        r = sd_event_loop(event);
        (void) sd_notify(false, "STOPPING=1");
        r = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

finish:
        u = uploader_free(u);
        event = sd_event_unref(event);
        curl_global_cleanup();
        return r;
}
