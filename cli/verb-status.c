/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `session-scripts status [--json] [--failures N]`: one look at the whole component — the daemon's
 * unit (ActiveState/SubState, MainPID, via systemd's bus) and whether it answers on its bus name,
 * the uploader's unit, the configured config.json (settings' ConfigFile=) checked like the daemon
 * does, its tamper baseline (the file's SHA-256 and mtime now, and when the daemon last recorded a
 * baseline, from its journal), the spool backlog, and the last failures from the journal. Also
 * every problem in the settings (what `validate --settings` reports: assignments that were ignored,
 * with file:line) and whether uploads are configured and working (the uploader's last successful
 * upload and last failure, from its journal, and the backlog in the spool).
 *
 * Exit status: 0 the daemon is active and the config is valid, 1 otherwise, 2 usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "bus-client.h"
#include "cleanup.h"
#include "config-check.h"
#include "format.h"
#include "format-status.h"
#include "journal-read.h"
#include "json-util.h"
#include "session-scripts/session-scripts.h"
#include "spool-format.h"
#include "settings.h"
#include "sha256.h"
#include "time-util.h"
#include "verbs.h"

#define DAEMON_UNIT STATUS_DAEMON_UNIT
#define UPLOADER_UNIT STATUS_UPLOADER_UNIT

/* How long the daemon may take to answer a Ping before we call it unresponsive. */
#define PING_TIMEOUT_USEC (2ULL * USEC_PER_SEC)
/* Failures listed by default and at most (--failures). */
#define FAILURES_DEFAULT 5U
#define FAILURES_MAX 100U
/* Journal entries looked at, newest first, to find failures and the baseline entry: a bound on
 * the time `status` takes on a big journal. */
#define JOURNAL_SCAN_MAX 20000U
/* Spool files looked at (the spool is size-bounded by MaxSpoolSize= anyway). */
#define SPOOL_SCAN_MAX 100000U

static void help(void) {
        printf("%s status [OPTIONS…]\n\n"
               "Show the state of the daemon and the uploader, the validity and tamper baseline of\n"
               "config.json, the upload spool backlog and the last failures.\n\n"
               "  -h --help            Show this help\n"
               "     --json           Print a JSON document\n"
               "     --failures N     List the last N failures (0…%u, default %u)\n\n"
               "Exit status: 0 daemon active and config valid, 1 otherwise, 2 usage error.\n",
               program_name, FAILURES_MAX, FAILURES_DEFAULT);
}

/* ActiveState, SubState and MainPID of a unit from systemd (LoadUnit works for units that are
 * not loaded, too). */
static void unit_state_get(sd_bus *bus, const char *unit, UnitState *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;

        if (!bus || sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "LoadUnit", &error, &reply, "s",
                                       unit) < 0 ||
            sd_bus_message_read(reply, "o", &path) < 0)
                return;
        if (sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                       "ActiveState", &error, &ret->active_state) < 0 ||
            sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                       "SubState", &error, &ret->sub_state) < 0)
                return;
        (void) sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path,
                                           "org.freedesktop.systemd1.Service", "MainPID", &error, 'u',
                                           &ret->main_pid);
        ret->known = true;
}

/* Whether the daemon answers a Ping on its name — without starting it through bus activation. */
static bool daemon_answers(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;

        if (!bus || sd_bus_message_new_method_call(bus, &m, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                                   "org.freedesktop.DBus.Peer", "Ping") < 0 ||
            sd_bus_message_set_auto_start(m, false) < 0)
                return false;
        return sd_bus_call(bus, m, PING_TIMEOUT_USEC, NULL, &reply) >= 0;
}

/* Counts the runs in the spool (one RUNID.meta each, see lib/spool-format.h), their log bytes and
 * the oldest entry. Needs root (the spool is root:session-scripts-upload 0770). */
static void spool_scan(const char *dir, SpoolState *ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        size_t seen = 0;

        d = opendir(dir);
        if (!d) {
                ret->error = -errno;
                return;
        }
        while ((de = readdir(d)) && seen++ < SPOOL_SCAN_MAX) {
                char run_id[SPOOL_RUN_ID_LEN + 1];
                SpoolFileKind kind;
                struct stat st;
                uint64_t mtime;

                if (spool_name_parse(de->d_name, run_id, &kind) < 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                mtime = timespec_load(&st.st_mtim);
                if (kind == SPOOL_FILE_LOG) {
                        /* A .log whose .meta is not written yet still counts as backlog bytes. */
                        ret->bytes += (uint64_t) st.st_size;
                        continue;
                }
                ret->entries++;
                if (ret->oldest_usec == 0 || mtime < ret->oldest_usec)
                        ret->oldest_usec = mtime;
        }
}

static void baseline_get(const char *path, BaselineState *ret) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_(closep) int fd = -EBADF;
        uint8_t digest[SHA256_DIGEST_SIZE];
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode) && sha256_fd(fd, digest) >= 0) {
                sha256_to_hex(digest, ret->sha256);
                ret->mtime_usec = timespec_load(&st.st_mtim);
                ret->have_file = true;
        }

        /* The daemon journals one entry each time it (re)loads the config (manager_load_config()):
         * "Loaded configuration …; tamper baseline of N file(s) recorded." or, for an invalid one,
         * "… keeping the previous configuration." */
        if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM) < 0 ||
            sd_journal_add_match(j, "CODE_FUNC=manager_load_config", 0) < 0 ||
            journal_add_daemon_matches(j) < 0 || sd_journal_seek_tail(j) < 0)
                return;
        for (unsigned i = 0; i < JOURNAL_SCAN_MAX && sd_journal_previous(j) > 0; i++) {
                _cleanup_(freep) char *msg = NULL;

                if (journal_get_field(j, "MESSAGE", &msg, NULL) < 0)
                        continue;
                if (startswith(msg, "Loaded configuration ")) {
                        (void) sd_journal_get_realtime_usec(j, &ret->recorded_usec);
                        break;
                }
                if (strstr(msg, "keeping the previous configuration"))
                        ret->last_load_refused = true;
        }
}

/* The last n failures, oldest first: run summaries whose result is not success (tampered runs
 * included) and the uploader's failures. */
static size_t failures_get(unsigned n, Failure *ret) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        size_t k = 0;

        /* (a run's summary AND written by the daemon) OR (an upload failure AND written by the
         * uploader): a MESSAGE_ID alone can be sent by anyone (systemd-cat, logger --journald). */
        if (n == 0 || sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM) < 0 ||
            sd_journal_add_match(j, "MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_RUN_FINISHED, 0) < 0 ||
            sd_journal_add_match(j, "MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_RUN_TAMPERED, 0) < 0 ||
            journal_add_daemon_matches(j) < 0 || sd_journal_add_disjunction(j) < 0 ||
            sd_journal_add_match(j, "MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_UPLOAD_FAILED, 0) < 0 ||
            journal_add_uploader_matches(j) < 0 || sd_journal_seek_tail(j) < 0)
                return 0;
        for (unsigned i = 0; i < JOURNAL_SCAN_MAX && k < n && sd_journal_previous(j) > 0; i++) {
                _cleanup_(freep) char *mid = NULL, *result = NULL, *msg = NULL, *sid = NULL;
                size_t len = 0;

                if (journal_get_field(j, "MESSAGE_ID", &mid, NULL) < 0)
                        continue;
                if (strcmp(mid, SESSION_SCRIPTS_MESSAGE_RUN_FINISHED) == 0 &&
                    journal_get_field(j, SESSION_SCRIPTS_FIELD_RESULT, &result, NULL) >= 0 &&
                    strcmp(result, "success") == 0)
                        continue;
                if (journal_get_field(j, "MESSAGE", &msg, &len) < 0)
                        continue;
                (void) journal_get_field(j, SESSION_SCRIPTS_FIELD_SESSION_ID, &sid, NULL);
                ret[k] = (Failure) {
                        .message = TAKE_PTR(msg),
                        .session_id = TAKE_PTR(sid),
                        .kind = strdup(strcmp(mid, SESSION_SCRIPTS_MESSAGE_UPLOAD_FAILED) == 0 ? "upload" : "run"),
                };
                (void) sd_journal_get_realtime_usec(j, &ret[k].realtime_usec);
                k++;
        }
        /* Oldest first. */
        for (size_t i = 0; i < k / 2; i++) {
                Failure t = ret[i];
                ret[i] = ret[k - 1 - i];
                ret[k - 1 - i] = t;
        }
        return k;
}

/* The uploader's last success and last failure, from its own journal entries (newest first,
 * bounded like the other scans). */
static void upload_state_get(UploadState *ret) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;

        if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM) < 0 ||
            journal_add_uploader_matches(j) < 0 || sd_journal_seek_tail(j) < 0)
                return;
        for (unsigned i = 0; i < JOURNAL_SCAN_MAX && sd_journal_previous(j) > 0 &&
                             (ret->last_success_usec == 0 || ret->last_failure_usec == 0); i++) {
                _cleanup_(freep) char *mid = NULL, *msg = NULL;

                if (journal_get_field(j, "MESSAGE", &msg, NULL) < 0)
                        continue;
                (void) journal_get_field(j, "MESSAGE_ID", &mid, NULL);
                if (ret->last_failure_usec == 0 && mid && strcmp(mid, SESSION_SCRIPTS_MESSAGE_UPLOAD_FAILED) == 0) {
                        (void) sd_journal_get_realtime_usec(j, &ret->last_failure_usec);
                        ret->last_failure_message = TAKE_PTR(msg);
                } else if (ret->last_success_usec == 0 && startswith(msg, "Uploaded s3://"))
                        (void) sd_journal_get_realtime_usec(j, &ret->last_success_usec);
        }
}

typedef struct StatusOptions {
        bool json;
        unsigned n_failures;
} StatusOptions;

/* Returns 1 to go on, 0 when --help was shown, -EINVAL on a usage error (said on stderr). */
static int status_parse_argv(int argc, char *argv[], StatusOptions *ret) {
        enum {
                ARG_JSON = 0x100,
                ARG_FAILURES,
        };
        static const struct option options[] = {
                { "help",     no_argument,       NULL, 'h'          },
                { "json",     no_argument,       NULL, ARG_JSON     },
                { "failures", required_argument, NULL, ARG_FAILURES },
                {}
        };
        StatusOptions o = { .n_failures = FAILURES_DEFAULT };
        unsigned long v;
        char *end;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_JSON:
                        o.json = true;
                        break;
                case ARG_FAILURES:
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || optarg[0] == '-' || v > FAILURES_MAX)
                                return cli_usage_error("status", "--failures must be 0…%u.", FAILURES_MAX);
                        o.n_failures = (unsigned) v;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return cli_usage_error("status", "unexpected argument '%s'.", argv[optind]);

        *ret = o;
        return 1;
}

/* Fills s with what the system says now. Returns 0 or -ENOMEM. */
static int status_gather(StatusReport *s, unsigned n_failures_max) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0;
        int r;

        if (cli_bus_open(&bus) < 0)
                bus = NULL;
        unit_state_get(bus, DAEMON_UNIT, &s->daemon);
        unit_state_get(bus, UPLOADER_UNIT, &s->uploader);
        s->daemon_answers = daemon_answers(bus);
        s->daemon_active = s->daemon.known && s->daemon.active_state &&
                           (streq(s->daemon.active_state, "active") || streq(s->daemon.active_state, "reloading"));

        r = settings_load(NULL, &s->settings, settings_collect_findings, &s->settings_problems);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && finding_list_add(&s->settings_problems, FINDING_ERROR, 0, 0, "", SESSION_SCRIPTS_SETTINGS_PATH,
                                      "cannot be read: %s", strerror(-r)) < 0)
                return -ENOMEM;
        s->config_path = s->settings.config_file ?: SESSION_SCRIPTS_CONFIG_PATH;

        r = config_read(s->config_path, &buf, &len);
        if (r < 0)
                s->config_read_error = r;
        else if (config_check_buffer(buf, len, s->config_path, true, &s->findings, NULL) < 0)
                return -ENOMEM;
        s->config_valid = s->config_read_error == 0 && s->findings.n_errors == 0;
        baseline_get(s->config_path, &s->baseline);
        spool_scan(SESSION_SCRIPTS_SPOOL_DIR, &s->spool);

        s->n_failures_max = n_failures_max;
        if (n_failures_max > 0) {
                s->failures = calloc(n_failures_max, sizeof(Failure));
                if (!s->failures)
                        return -ENOMEM;
                s->n_failures = failures_get(n_failures_max, s->failures);
        }

        upload_state_get(&s->upload);
        s->uploader_active = s->uploader.known && s->uploader.active_state &&
                             streq(s->uploader.active_state, "active");
        s->uploads_working = s->settings.bucket && s->uploader_active &&
                             (s->upload.last_failure_usec == 0 ||
                              s->upload.last_success_usec > s->upload.last_failure_usec);
        return 0;
}

int verb_status(int argc, char *argv[]) {
        _cleanup_(status_report_done) StatusReport report = {};
        StatusOptions arg = {};
        int r;

        r = status_parse_argv(argc, argv, &arg);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_VALID;

        if (status_gather(&report, arg.n_failures) < 0)
                return EXIT_USAGE;

        if (arg.json) {
                _cleanup_(json_object_putp) struct json_object *doc = status_report_to_json(&report);

                if (!doc)
                        return EXIT_USAGE;
                json_print(stdout, doc, true);
        } else
                status_report_print(stdout, &report, now(CLOCK_REALTIME));

        if (fflush(stdout) != 0)
                return EXIT_USAGE;
        return report.daemon_active && report.config_valid ? EXIT_VALID : EXIT_FAILED;
}
