/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `session-scripts install-bundle FILE.zip|s3://BUCKET/KEY.zip [--no-reload]`: installs an
 * Elastic-fleet bundle (config.json plus its executables in one zip) as
 * SESSION_SCRIPTS_BUNDLE_DIR (see bundle.h for the safety rules), makes it the active
 * configuration and asks the daemon to reload.
 *
 * Activation: the daemon reads ConfigFile= (default SESSION_SCRIPTS_CONFIG_PATH). When that is the
 * default, this writes the drop-in BUNDLE_DROPIN (ConfigFile=<bundle>/config.json), so the bundle
 * is what runs — the point of installing it. When the administrator chose another ConfigFile=,
 * that choice stays and the tool says what to set instead.
 *
 * Exit status: 0 installed (and the daemon reloaded), 1 the bundle was refused (unsafe, too big,
 * invalid config.json), 2 usage or system error (unreadable file, download failed), 3 installed but
 * the daemon could not be asked to reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle-fetch.h"
#include "bundle.h"
#include "bus-client.h"
#include "cleanup.h"
#include "format.h"
#include "session-scripts/session-scripts.h"
#include "settings.h"
#include "verbs.h"

#define BUNDLE_CONFIG_PATH SESSION_SCRIPTS_BUNDLE_DIR "/config.json"
#define BUNDLE_DROPIN SESSION_SCRIPTS_SETTINGS_DROPIN_DIR "/50-install-bundle.conf"

static void help(void) {
        printf("%s install-bundle [OPTIONS…] FILE.zip|s3://BUCKET/KEY.zip\n\n"
               "Install an Elastic-fleet bundle (a zip with config.json at its top and the\n"
               "executables it names) into %s, make it the active\n"
               "configuration and ask the daemon to reload. Root only.\n\n"
               "  -h --help        Show this help\n"
               "     --no-reload   Do not ask the daemon to reload\n\n"
               "s3:// bundles are fetched with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and\n"
               "AWS_SESSION_TOKEN from the environment, and [S3] Region=/Endpoint= from the settings.\n"
               "Exit status: 0 installed, 1 bundle refused, 2 usage or system error,\n"
               "3 installed but the daemon could not be asked to reload.\n",
               program_name, SESSION_SCRIPTS_BUNDLE_DIR);
}

static void print_findings(const FindingList *l, const char *config_path) {
        for (size_t i = 0; i < l->n; i++) {
                const Finding *f = &l->items[i];
                const char *sev = f->severity == FINDING_ERROR ? "error" : "warning";
                bool jp = f->json_path && f->json_path[0];

                if (f->file)
                        fprintf(stderr, "%s: %s: %s%s%s%s\n", f->file, sev, f->message, jp ? " [" : "",
                                jp ? f->json_path : "", jp ? "]" : "");
                else
                        fprintf(stderr, "%s:%u:%u: %s: %s%s%s%s\n", config_path, f->line, f->column, sev, f->message,
                                jp ? " [" : "", jp ? f->json_path : "", jp ? "]" : "");
        }
}

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

/* Makes the bundle the configuration the daemon reads (see the top of this file). Returns 0. */
static int activate(void) {
        Settings s = {};
        int r;

        r = settings_load(NULL, &s, NULL, NULL);
        if (r < 0) {
                fprintf(stderr,
                        "%s install-bundle: cannot read the settings (%s); set ConfigFile=%s in [Session] of %s.\n",
                        program_name, strerror(-r), BUNDLE_CONFIG_PATH, SESSION_SCRIPTS_SETTINGS_PATH);
                return 0;
        }
        if (s.config_file && strcmp(s.config_file, BUNDLE_CONFIG_PATH) == 0)
                printf("ConfigFile= already points at the bundle.\n");
        else if (!s.config_file || strcmp(s.config_file, SESSION_SCRIPTS_CONFIG_PATH) == 0) {
                r = write_dropin();
                if (r < 0)
                        fprintf(stderr,
                                "%s install-bundle: cannot write %s (%s); set ConfigFile=%s in [Session] of %s.\n",
                                program_name, BUNDLE_DROPIN, strerror(-r), BUNDLE_CONFIG_PATH,
                                SESSION_SCRIPTS_SETTINGS_PATH);
                else
                        printf("Activated: %s sets ConfigFile=%s.\n", BUNDLE_DROPIN, BUNDLE_CONFIG_PATH);
        } else
                fprintf(stderr, "%sNote: ConfigFile=%s is configured, so the bundle is not what runs;\n"
                        "set ConfigFile=%s in [Session] of %s to use it.%s\n",
                        color(ANSI_YELLOW), s.config_file, BUNDLE_CONFIG_PATH, SESSION_SCRIPTS_SETTINGS_PATH,
                        color(ANSI_NORMAL));
        settings_done(&s);
        return 0;
}

int verb_install_bundle(int argc, char *argv[]) {
        enum {
                ARG_NO_RELOAD = 0x100,
                ARG_TARGET,
        };
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h'           },
                { "no-reload", no_argument,       NULL, ARG_NO_RELOAD },
                /* Hidden, for tests: install somewhere else; nothing is activated or reloaded. */
                { "target",    required_argument, NULL, ARG_TARGET    },
                {}
        };
        _cleanup_(finding_list_done) FindingList findings = {};
        _cleanup_(closep) int fd = -EBADF;
        const char *source, *target = SESSION_SCRIPTS_BUNDLE_DIR;
        bool reload = true, custom_target = false;
        char reason[1024] = "";
        struct stat st;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_NO_RELOAD:
                        reload = false;
                        break;
                case ARG_TARGET:
                        target = optarg;
                        custom_target = true;
                        reload = false;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (argc - optind != 1) {
                fprintf(stderr, "%s install-bundle: expected exactly one FILE.zip or s3://BUCKET/KEY.zip.\n",
                        program_name);
                return EXIT_USAGE;
        }
        source = argv[optind];
        /* The bundle's files run as root: only root installs one (and only root can write there). */
        if (!custom_target && geteuid() != 0) {
                fprintf(stderr, "%s install-bundle: must be run as root.\n", program_name);
                return EXIT_USAGE;
        }

        if (strncmp(source, "s3://", 5) == 0) {
                Settings s = {};

                r = settings_load(NULL, &s, NULL, NULL);
                if (r < 0) {
                        fprintf(stderr, "%s install-bundle: cannot read the settings: %s\n", program_name,
                                strerror(-r));
                        return EXIT_USAGE;
                }
                progress_show("Downloading the bundle…");
                fd = bundle_fetch_s3(source, &s, reason, sizeof reason);
                progress_show(NULL);
                settings_done(&s);
                if (fd < 0) {
                        fprintf(stderr, "%s install-bundle: %s\n", program_name, reason[0] ? reason : strerror(-fd));
                        return EXIT_USAGE;
                }
        } else {
                fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0 || fstat(fd, &st) < 0) {
                        fprintf(stderr, "%s install-bundle: cannot open %s: %m\n", program_name, source);
                        return EXIT_USAGE;
                }
                if (!S_ISREG(st.st_mode)) {
                        fprintf(stderr, "%s install-bundle: %s is not a regular file.\n", program_name, source);
                        return EXIT_USAGE;
                }
        }

        r = bundle_install(fd, target, &BUNDLE_LIMITS_DEFAULT, true, &findings, reason, sizeof reason);
        if (r < 0) {
                _cleanup_(freep) char *cfg = NULL;

                if (asprintf(&cfg, "%s/config.json", target) >= 0)
                        print_findings(&findings, cfg);
                fprintf(stderr, "%s%s install-bundle: bundle %s refused: %s%s\n", color(ANSI_RED), program_name,
                        source, reason[0] ? reason : strerror(-r), color(ANSI_NORMAL));
                fprintf(stderr, "The installed bundle (if any) was left as it was.\n");
                return r == -EINVAL ? EXIT_FAILED : EXIT_USAGE;
        }
        printf("Installed %s into %s (%zu warning%s).\n", source, target, findings.n_warnings,
               findings.n_warnings == 1 ? "" : "s");

        if (!custom_target)
                (void) activate();

        if (reload) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;

                r = cli_bus_open(&bus);
                if (r >= 0)
                        r = sd_bus_call_method(bus, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                               SESSION_SCRIPTS_BUS_INTERFACE, "Reload", &error, NULL, NULL);
                if (r < 0)
                        return cli_bus_log_error("install-bundle",
                                                 "the bundle is installed, but reloading the daemon failed", r,
                                                 &error, EXIT_RELOAD_FAILED);
                printf("The daemon reloaded its configuration.\n");
        }
        return fflush(stdout) == 0 ? EXIT_VALID : EXIT_USAGE;
}
