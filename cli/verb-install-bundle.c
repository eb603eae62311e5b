/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `session-scripts install-bundle FILE.zip|s3://BUCKET/KEY.zip [--no-reload] [--json]`: installs an
 * Elastic-fleet bundle (config.json plus its executables in one zip) as
 * SESSION_SCRIPTS_BUNDLE_DIR (see bundle.h for the safety rules), makes it the active
 * configuration and asks the daemon to reload.
 *
 * Activation: the daemon reads ConfigFile= (default SESSION_SCRIPTS_CONFIG_PATH). When that is the
 * default, this writes the drop-in BUNDLE_DROPIN (ConfigFile=<bundle>/config.json), so the bundle
 * is what runs — the point of installing it. When the administrator chose another ConfigFile=,
 * that choice stays and the tool says what to set instead.
 *
 * --json prints one document on stdout for every outcome (see format-install.h and
 * session-scripts(1)); people get sentences on stdout, and refusals, warnings and notes on stderr,
 * coloured only when stderr itself is a terminal.
 *
 * Exit status: 0 installed (and the daemon reloaded), 1 the bundle was refused (unsafe, too big,
 * invalid config.json), 2 usage or system error (unreadable file, download failed), 3 installed but
 * the daemon could not be asked to reload or refused the configuration (it then keeps the previous
 * one).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle-fetch.h"
#include "bundle.h"
#include "bus-client.h"
#include "cleanup.h"
#include "format.h"
#include "format-install.h"
#include "json-util.h"
#include "session-scripts/session-scripts.h"
#include "settings.h"
#include "verbs.h"

#define BUNDLE_CONFIG_PATH SESSION_SCRIPTS_BUNDLE_DIR "/config.json"
#define BUNDLE_DROPIN SESSION_SCRIPTS_SETTINGS_DROPIN_DIR "/50-install-bundle.conf"
/* One step of the wait for the daemon's Reload reply (the progress line is refreshed in between);
 * the call itself is bounded by CLI_BUS_TIMEOUT_USEC. */
#define RELOAD_TICK_USEC (250 * USEC_PER_MSEC)

static void help(void) {
        printf("%s install-bundle [OPTIONS…] FILE.zip|s3://BUCKET/KEY.zip\n\n"
               "Install an Elastic-fleet bundle (a zip with config.json at its top and the\n"
               "executables it names) into %s, make it the active\n"
               "configuration and ask the daemon to reload. Root only.\n\n"
               "  -h --help        Show this help\n"
               "     --no-reload   Do not ask the daemon to reload\n"
               "     --json        Print a JSON document on stdout\n\n"
               "s3:// bundles are fetched with the uploader's AWS credential chain: the environment\n"
               "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the shared credentials\n"
               "file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials; profile AWS_PROFILE, [S3]\n"
               "Profile= or \"default\"), then the instance metadata service (IMDSv2); [S3] Region= and\n"
               "Endpoint= come from the settings.\n"
               "Exit status: 0 installed, 1 bundle refused, 2 usage or system error,\n"
               "3 installed but the daemon could not be asked to reload or refused the config.\n",
               program_name, SESSION_SCRIPTS_BUNDLE_DIR);
}

/* A sentence for people: on stderr, unless --json (then the document says it). stdout first, so
 * that both streams on one terminal or in one file keep their order. */
#define install_note(i, ...)                                    \
        do {                                                    \
                if (!(i)->json) {                               \
                        fflush(stdout);                         \
                        cli_notice(__VA_ARGS__);                \
                }                                               \
        } while (0)
/* The same as "session-scripts install-bundle: MESSAGE". */
#define install_warn(i, ...)                                    \
        do {                                                    \
                if (!(i)->json) {                               \
                        fflush(stdout);                         \
                        cli_warn("install-bundle", __VA_ARGS__); \
                }                                               \
        } while (0)

/* Writes the settings drop-in that points ConfigFile= at the bundle (temp file, fsync, rename). */
static int write_dropin(void) {
        static const char text[] =
                "# Written by `session-scripts install-bundle`: the Elastic-fleet bundle's config.json is the\n"
                "# active configuration. Remove this file (and reload session-scripts.service) to go back\n"
                "# to ConfigFile= of session-scripts.conf.\n"
                "[Session]\n"
                "ConfigFile=" BUNDLE_CONFIG_PATH "\n";
        char tmp[] = SESSION_SCRIPTS_SETTINGS_DROPIN_DIR "/.50-install-bundle.conf.XXXXXX";
        _cleanup_(closep) int fd = -EBADF;

        char dir[] = SESSION_SCRIPTS_SETTINGS_DROPIN_DIR;

        /* mkdir -p: /etc/session-scripts may be missing on a minimal install. */
        for (char *p = dir + 1;; p++)
                if (*p == '/' || *p == 0) {
                        char saved = *p;
                        *p = 0;
                        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = saved;
                        if (saved == 0)
                                break;
                }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, text, sizeof text - 1) != (ssize_t) (sizeof text - 1) || fchmod(fd, 0644) < 0 ||
            fsync(fd) < 0 || rename(tmp, BUNDLE_DROPIN) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return r ?: -EIO;
        }
        return 0;
}

/* Makes the bundle the configuration the daemon reads (see the top of this file). A failure here
 * is not fatal (the bundle is installed; the administrator is told what to set). */
static void activate(Install *i) {
        Settings s = {};
        int r;

        r = settings_load(NULL, &s, NULL, NULL);
        if (r < 0) {
                install_warn(i, "cannot read the settings (%s); set ConfigFile=%s in [Session] of %s.",
                             strerror(-r), BUNDLE_CONFIG_PATH, SESSION_SCRIPTS_SETTINGS_PATH);
                return;
        }
        if (s.config_file && strcmp(s.config_file, BUNDLE_CONFIG_PATH) == 0) {
                /* Ours from an earlier install, or the administrator's own setting. */
                i->active = true;
                i->dropin = access(BUNDLE_DROPIN, F_OK) >= 0 ? BUNDLE_DROPIN : NULL;
                if (!i->json)
                        printf("ConfigFile= already points at the bundle.\n");
        } else if (!s.config_file || strcmp(s.config_file, SESSION_SCRIPTS_CONFIG_PATH) == 0) {
                r = write_dropin();
                if (r < 0)
                        install_warn(i, "cannot write %s (%s); set ConfigFile=%s in [Session] of %s.",
                                     BUNDLE_DROPIN, strerror(-r), BUNDLE_CONFIG_PATH,
                                     SESSION_SCRIPTS_SETTINGS_PATH);
                else {
                        i->active = true;
                        i->dropin = BUNDLE_DROPIN;
                        if (!i->json)
                                printf("Activated: %s sets ConfigFile=%s.\n", BUNDLE_DROPIN,
                                       BUNDLE_CONFIG_PATH);
                }
        } else
                install_note(i, "%sNote: ConfigFile=%s is configured, so the bundle is not what runs;\n"
                             "set ConfigFile=%s in [Session] of %s to use it.%s",
                             color_for(stderr, ANSI_YELLOW), s.config_file, BUNDLE_CONFIG_PATH,
                             SESSION_SCRIPTS_SETTINGS_PATH, color_for(stderr, ANSI_NORMAL));
        settings_done(&s);
}

typedef struct ReloadWait {
        bool done;
        sd_bus_error error;
} ReloadWait;

static int on_reload_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ReloadWait *w = userdata;

        w->done = true;
        if (sd_bus_message_is_method_error(reply, NULL))
                (void) sd_bus_error_copy(&w->error, sd_bus_message_get_error(reply));
        return 0;
}

/* Asks the daemon to reload, with a progress line while it re-reads and re-hashes (a big bundle
 * takes a while). Returns 0, or -errno with error set (the daemon's InvalidConfig among them). */
static int reload_daemon(sd_bus_error *error) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        ReloadWait w = { .error = SD_BUS_ERROR_NULL };
        Progress progress;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        r = sd_bus_message_new_method_call(bus, &m, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                           SESSION_SCRIPTS_BUS_INTERFACE, "Reload");
        if (r >= 0)
                r = sd_bus_call_async(bus, &slot, m, on_reload_reply, &w, CLI_BUS_TIMEOUT_USEC);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);

        progress_begin(&progress, "Waiting for the daemon to reload");
        /* sd-bus delivers a timeout as an error reply after CLI_BUS_TIMEOUT_USEC: the loop ends. */
        while (!w.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, RELOAD_TICK_USEC);
                if (r < 0)
                        break;
                progress_update(&progress, NULL);
        }
        progress_end(&progress);
        if (!w.done)
                return sd_bus_error_set_errno(error, r);
        if (sd_bus_error_is_set(&w.error)) {
                r = sd_bus_error_get_errno(&w.error);
                sd_bus_error_move(error, &w.error);
                return r > 0 ? -r : -EIO;
        }
        return 0;
}

static void on_unpack_progress(uint64_t bytes, size_t entries, void *userdata) {
        Progress *p = userdata;
        char detail[64], b[32];

        snprintf(detail, sizeof detail, "%zu entr%s, %s", entries, entries == 1 ? "y" : "ies",
                 format_bytes(b, sizeof b, bytes));
        progress_update(p, detail);
}

/* Opens the bundle (downloading an s3:// one first). Returns the fd, or -errno with i->error set
 * (-EINVAL for a usage error). */
static int open_source(Install *i) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;
        int r;

        if (startswith(i->source, "s3://")) {
                _cleanup_(credentials_done) Credentials creds = {};
                Settings s = {};
                Progress progress;

                r = settings_load(NULL, &s, NULL, NULL);
                if (r < 0) {
                        snprintf(i->error, sizeof i->error, "cannot read the settings: %s", strerror(-r));
                        return r;
                }
                progress_begin(&progress, "Fetching AWS credentials");
                r = bundle_credentials_get(s.profile, &progress, &creds, i->error, sizeof i->error);
                progress_end(&progress);
                if (r >= 0) {
                        i->credentials = creds.source;
                        progress_begin(&progress, "Downloading the bundle");
                        r = bundle_fetch_s3(i->source, &s, &creds, &progress, i->error, sizeof i->error);
                        progress_end(&progress);
                }
                settings_done(&s);
                if (r < 0 && !i->error[0])
                        snprintf(i->error, sizeof i->error, "%s", strerror(-r));
                return r;
        }

        fd = open(i->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(i->error, sizeof i->error, "cannot open %s: %s", i->source, strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(i->error, sizeof i->error, "%s is not a regular file", i->source);
                return -EBADFD;
        }
        return TAKE_FD(fd);
}

/* Ends the verb: the JSON document when asked for, then the exit status (2 when stdout fails). */
static int install_finish(const Install *i, int exit_status) {
        if (i->json) {
                _cleanup_(json_object_putp) struct json_object *doc = install_to_json(i);

                if (!doc)
                        return cli_oom("install-bundle");
                json_print(stdout, doc, true);
        }
        return fflush(stdout) == 0 ? exit_status : EXIT_USAGE;
}

typedef struct InstallBundleOptions {
        const char *source;     /* FILE.zip or s3://BUCKET/KEY.zip */
        const char *target;
        bool custom_target;     /* --target: nothing is activated or reloaded */
        bool reload;
        bool json;
} InstallBundleOptions;

/* Returns 1 to go on, 0 when --help was shown, -EINVAL on a usage error (said on stderr). */
static int install_bundle_parse_argv(int argc, char *argv[], InstallBundleOptions *ret) {
        enum {
                ARG_NO_RELOAD = 0x100,
                ARG_TARGET,
                ARG_JSON,
        };
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h'           },
                { "no-reload", no_argument,       NULL, ARG_NO_RELOAD },
                { "json",      no_argument,       NULL, ARG_JSON      },
                /* Hidden, for tests: install somewhere else; nothing is activated or reloaded. */
                { "target",    required_argument, NULL, ARG_TARGET    },
                {}
        };
        InstallBundleOptions o = { .target = SESSION_SCRIPTS_BUNDLE_DIR, .reload = true };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_NO_RELOAD:
                        o.reload = false;
                        break;
                case ARG_JSON:
                        o.json = true;
                        break;
                case ARG_TARGET:
                        o.target = optarg;
                        o.custom_target = true;
                        o.reload = false;
                        break;
                default:
                        return -EINVAL;
                }
        if (argc - optind != 1)
                return cli_usage_error("install-bundle",
                                       "expected exactly one FILE.zip or s3://BUCKET/KEY.zip.");
        o.source = argv[optind];

        *ret = o;
        return 1;
}

int verb_install_bundle(int argc, char *argv[]) {
        _cleanup_(install_done) Install i = {};
        _cleanup_(closep) int fd = -EBADF;
        InstallBundleOptions arg = {};
        Progress progress;
        int r;

        r = install_bundle_parse_argv(argc, argv, &arg);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_VALID;
        i.json = arg.json;
        i.source = arg.source;
        i.target = arg.target;
        i.custom_target = arg.custom_target;

        /* The bundle's files run as root: only root installs one (and only root can write there). */
        if (!i.custom_target && geteuid() != 0) {
                snprintf(i.error, sizeof i.error, "must be run as root");
                install_warn(&i, "must be run as root.");
                return install_finish(&i, EXIT_USAGE);
        }

        fd = open_source(&i);
        if (fd < 0) {
                install_warn(&i, "%s", i.error);
                return install_finish(&i, EXIT_USAGE);
        }

        progress_begin(&progress, "Unpacking the bundle");
        i.report = (BundleReport) { .progress = on_unpack_progress, .userdata = &progress };
        r = bundle_install(fd, i.target, &BUNDLE_LIMITS_DEFAULT, true, &i.findings, &i.report, i.error,
                           sizeof i.error);
        progress_end(&progress);
        if (r < 0) {
                if (!i.error[0])
                        snprintf(i.error, sizeof i.error, "%s", strerror(-r));
                if (!i.json) {
                        fflush(stdout);
                        install_refused_print(stderr, &i);
                }
                return install_finish(&i, r == -EINVAL ? EXIT_FAILED : EXIT_USAGE);
        }
        i.installed = true;
        if (!i.json)
                install_installed_print(stdout, &i);

        if (!i.custom_target)
                activate(&i);

        if (arg.reload) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

                i.reload_requested = true;
                r = reload_daemon(&error);
                if (r < 0) {
                        bool invalid = cli_bus_error_is_invalid_config(&error);
                        const char *msg = sd_bus_error_is_set(&error) ? error.message ?: error.name
                                                                      : strerror(-r);

                        /* The bundle was validated before it was swapped in, so this is about a config the
                         * daemon reads from elsewhere (another ConfigFile=) or one changed meanwhile: either
                         * way the daemon keeps running with its previous configuration. */
                        if (invalid)
                                r = asprintf(&i.reload_error, "the daemon refused the configuration and keeps "
                                             "the previous one: %s", msg);
                        else
                                r = asprintf(&i.reload_error, "reloading the daemon failed: %s", msg);
                        if (r < 0)
                                i.reload_error = NULL;
                        msg = i.reload_error ?: msg;
                        /* The daemon's message may end in a period already. */
                        install_warn(&i, "the bundle is installed, but %s%s",
                                     msg, msg[0] && msg[strlen(msg) - 1] == '.' ? "" : ".");
                        return install_finish(&i, EXIT_RELOAD_FAILED);
                }
                i.reloaded = true;
                if (!i.json)
                        printf("The daemon reloaded its configuration.\n");
        }
        return install_finish(&i, EXIT_VALID);
}
