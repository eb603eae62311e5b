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
#include <time.h>
#include <unistd.h>

#include "bus-client.h"
#include "cleanup.h"
#include "config-check.h"
#include "format.h"
#include "journal-read.h"
#include "json-util.h"
#include "session-scripts/session-scripts.h"
#include "settings.h"
#include "sha256.h"
#include "verbs.h"
#include "time-util.h"


#define DAEMON_UNIT "session-scripts.service"
#define UPLOADER_UNIT "session-scripts-upload.service"

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

DEFINE_POINTER_CLEANUP_FUNC(sd_journal *, sd_journal_close, journal_closep_status);

typedef struct UnitState {
        char *active_state;
        char *sub_state;
        uint32_t main_pid;
        bool known;
} UnitState;

static void unit_state_done(UnitState *u) {
        free(u->active_state);
        free(u->sub_state);
}

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

typedef struct SpoolState {
        int error;              /* -errno when the directory could not be read */
        uint64_t entries;
        uint64_t bytes;
        uint64_t oldest_usec;   /* CLOCK_REALTIME mtime of the oldest entry, 0 = none */
} SpoolState;

/* Counts the runs in the spool (one RUNID.meta each, see session-scripts.h), their log bytes and
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
                size_t len = strlen(de->d_name);
                bool is_meta = len > strlen(SESSION_SCRIPTS_SPOOL_META_SUFFIX) &&
                               strcmp(de->d_name + len - strlen(SESSION_SCRIPTS_SPOOL_META_SUFFIX),
                                      SESSION_SCRIPTS_SPOOL_META_SUFFIX) == 0;
                bool is_log = len > strlen(SESSION_SCRIPTS_SPOOL_LOG_SUFFIX) &&
                              strcmp(de->d_name + len - strlen(SESSION_SCRIPTS_SPOOL_LOG_SUFFIX),
                                     SESSION_SCRIPTS_SPOOL_LOG_SUFFIX) == 0;
                struct stat st;
                uint64_t mtime;

                if (de->d_name[0] == '.' || (!is_meta && !is_log))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                mtime = timespec_load(&st.st_mtim);
                if (is_log) {
                        /* A .log whose .meta is not written yet still counts as backlog bytes. */
                        ret->bytes += (uint64_t) st.st_size;
                        continue;
                }
                ret->entries++;
                if (ret->oldest_usec == 0 || mtime < ret->oldest_usec)
                        ret->oldest_usec = mtime;
        }
}

typedef struct BaselineState {
        bool have_file;
        char sha256[SHA256_HEX_SIZE];
        uint64_t mtime_usec;
        uint64_t recorded_usec;         /* the daemon's last "Loaded configuration" entry, 0 = none */
        bool last_load_refused;         /* a later load kept the previous config */
} BaselineState;

static void baseline_get(const char *path, BaselineState *ret) {
        _cleanup_(journal_closep_status) sd_journal *j = NULL;
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
                if (strncmp(msg, "Loaded configuration ", strlen("Loaded configuration ")) == 0) {
                        (void) sd_journal_get_realtime_usec(j, &ret->recorded_usec);
                        break;
                }
                if (strstr(msg, "keeping the previous configuration"))
                        ret->last_load_refused = true;
        }
}

typedef struct Failure {
        uint64_t realtime_usec;
        char *message;
        char *session_id;
        char *kind;     /* "run" or "upload" */
} Failure;

/* The last n failures, oldest first: run summaries whose result is not success (tampered runs
 * included) and the uploader's failures. */
static size_t failures_get(unsigned n, Failure *ret) {
        _cleanup_(journal_closep_status) sd_journal *j = NULL;
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

typedef struct UploadState {
        uint64_t last_success_usec;     /* the uploader's newest "Uploaded s3://…" entry, 0 = none */
        uint64_t last_failure_usec;     /* its newest upload-failure entry, 0 = none */
        char *last_failure_message;
} UploadState;

/* The uploader's last success and last failure, from its own journal entries (newest first,
 * bounded like the other scans). */
static void upload_state_get(UploadState *ret) {
        _cleanup_(journal_closep_status) sd_journal *j = NULL;

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
                } else if (ret->last_success_usec == 0 && strncmp(msg, "Uploaded s3://", strlen("Uploaded s3://")) == 0)
                        (void) sd_journal_get_realtime_usec(j, &ret->last_success_usec);
        }
}

/* Settings problems, each an assignment (or line, or section) the daemon and uploader ignore. */
static void settings_collect(const char *file, unsigned line, const char *message, void *userdata) {
        FindingList *l = userdata;

        if (finding_list_add(l, FINDING_ERROR, line, 0, "", file, "%s", message) < 0)
                l->n_errors++;
}

static const char *unit_color(const UnitState *u) {
        if (!u->known || !u->active_state)
                return color(ANSI_YELLOW);
        if (strcmp(u->active_state, "active") == 0 || strcmp(u->active_state, "reloading") == 0)
                return color(ANSI_GREEN);
        if (strcmp(u->active_state, "failed") == 0)
                return color(ANSI_RED);
        return color(ANSI_YELLOW);
}

static void print_unit(const char *label, const char *unit, const UnitState *u) {
        printf("%-10s %s: %s%s (%s)%s", label, unit, unit_color(u), u->known ? u->active_state : "unknown",
               u->known ? u->sub_state : "systemd not reachable", color(ANSI_NORMAL));
        if (u->main_pid > 0)
                printf(", PID %" PRIu32, u->main_pid);
}

static struct json_object *unit_to_json(const char *unit, const UnitState *u) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "unit", json_object_new_string(unit));
        json_object_object_add(o, "active_state", u->known ? json_object_new_string(u->active_state) : NULL);
        json_object_object_add(o, "sub_state", u->known ? json_object_new_string(u->sub_state) : NULL);
        json_object_object_add(o, "main_pid", json_object_new_int64(u->main_pid));
        return o;
}

int verb_status(int argc, char *argv[]) {
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
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(finding_list_done) FindingList findings = {}, settings_problems = {};
        _cleanup_(freep) char *buf = NULL;
        UnitState daemon = {}, uploader = {};
        SpoolState spool = {};
        BaselineState baseline = {};
        UploadState upload = {};
        Failure failures[FAILURES_MAX];
        Settings settings = {};
        unsigned n_failures_max = FAILURES_DEFAULT;
        size_t n_failures, len = 0;
        bool json = false, answers, daemon_active, config_valid, uploader_active, uploads_working;
        const char *config_path;
        int c, r, read_error = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_JSON:
                        json = true;
                        break;
                case ARG_FAILURES: {
                        char *end;
                        unsigned long v;
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || optarg[0] == '-' || v > FAILURES_MAX)
                                return cli_error("status", EXIT_USAGE, "--failures must be 0…%u.",
                                        FAILURES_MAX);
                        n_failures_max = (unsigned) v;
                        break;
                }
                default:
                        return EXIT_USAGE;
                }
        if (optind < argc)
                return cli_error("status", EXIT_USAGE, "unexpected argument '%s'.", argv[optind]);

        if (cli_bus_open(&bus) < 0)
                bus = NULL;
        unit_state_get(bus, DAEMON_UNIT, &daemon);
        unit_state_get(bus, UPLOADER_UNIT, &uploader);
        answers = daemon_answers(bus);
        daemon_active = daemon.known && daemon.active_state &&
                        (strcmp(daemon.active_state, "active") == 0 || strcmp(daemon.active_state, "reloading") == 0);

        r = settings_load(NULL, &settings, settings_collect, &settings_problems);
        if (r == -ENOMEM)
                return EXIT_USAGE;
        if (r < 0 && finding_list_add(&settings_problems, FINDING_ERROR, 0, 0, "", SESSION_SCRIPTS_SETTINGS_PATH,
                                      "cannot be read: %s", strerror(-r)) < 0)
                return EXIT_USAGE;
        config_path = settings.config_file ?: SESSION_SCRIPTS_CONFIG_PATH;

        r = config_read(config_path, &buf, &len);
        if (r < 0)
                read_error = r;
        else if (config_check_buffer(buf, len, config_path, true, &findings, NULL) < 0) {
                settings_done(&settings);
                return EXIT_USAGE;
        }
        config_valid = read_error == 0 && findings.n_errors == 0;
        baseline_get(config_path, &baseline);
        spool_scan(SESSION_SCRIPTS_SPOOL_DIR, &spool);
        n_failures = failures_get(n_failures_max, failures);
        upload_state_get(&upload);
        uploader_active = uploader.known && uploader.active_state && strcmp(uploader.active_state, "active") == 0;
        /* Working: set up, the uploader runs, and nothing failed since the last success. */
        uploads_working = settings.bucket && uploader_active &&
                          (upload.last_failure_usec == 0 || upload.last_success_usec > upload.last_failure_usec);

        if (json) {
                _cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
                struct json_object *d, *cfg, *errs, *bl, *sp, *fl, *st, *sperr, *up;
                char ts[64];

                if (!doc)
                        return EXIT_USAGE;
                d = unit_to_json(DAEMON_UNIT, &daemon);
                json_object_object_add(d, "answers", json_object_new_boolean(answers));
                json_object_object_add(doc, "daemon", d);
                json_object_object_add(doc, "uploader", unit_to_json(UPLOADER_UNIT, &uploader));

                cfg = json_object_new_object();
                errs = json_object_new_array();
                json_object_object_add(cfg, "path", json_object_new_string(config_path));
                json_object_object_add(cfg, "valid", json_object_new_boolean(config_valid));
                json_object_object_add(cfg, "read_error",
                                       read_error ? json_object_new_string(strerror(-read_error)) : NULL);
                json_object_object_add(cfg, "errors", json_object_new_int64((int64_t) findings.n_errors));
                json_object_object_add(cfg, "warnings", json_object_new_int64((int64_t) findings.n_warnings));
                for (size_t i = 0; i < findings.n; i++)
                        if (findings.items[i].severity == FINDING_ERROR)
                                json_object_array_add(errs, json_object_new_string(findings.items[i].message));
                json_object_object_add(cfg, "error_messages", errs);
                json_object_object_add(doc, "config", cfg);

                bl = json_object_new_object();
                json_object_object_add(bl, "sha256",
                                       baseline.have_file ? json_object_new_string(baseline.sha256) : NULL);
                json_object_object_add(bl, "mtime", baseline.have_file ? json_object_new_string(
                                                   format_timestamp_utc(ts, sizeof ts, baseline.mtime_usec)) : NULL);
                json_object_object_add(bl, "recorded", baseline.recorded_usec ? json_object_new_string(
                                                   format_timestamp_utc(ts, sizeof ts, baseline.recorded_usec)) : NULL);
                json_object_object_add(bl, "changed_since_recorded",
                                       json_object_new_boolean(baseline.have_file && baseline.recorded_usec &&
                                                               baseline.mtime_usec > baseline.recorded_usec));
                json_object_object_add(bl, "last_load_refused",
                                       json_object_new_boolean(baseline.last_load_refused));
                json_object_object_add(doc, "baseline", bl);

                sp = json_object_new_object();
                json_object_object_add(sp, "path", json_object_new_string(SESSION_SCRIPTS_SPOOL_DIR));
                json_object_object_add(sp, "readable", json_object_new_boolean(spool.error == 0));
                json_object_object_add(sp, "entries", json_object_new_int64((int64_t) spool.entries));
                json_object_object_add(sp, "bytes", json_object_new_int64((int64_t) spool.bytes));
                json_object_object_add(sp, "oldest", spool.oldest_usec ? json_object_new_string(
                                                   format_timestamp_utc(ts, sizeof ts, spool.oldest_usec)) : NULL);
                json_object_object_add(doc, "spool", sp);

                st = json_object_new_object();
                sperr = json_object_new_array();
                json_object_object_add(st, "path", json_object_new_string(SESSION_SCRIPTS_SETTINGS_PATH));
                json_object_object_add(st, "valid", json_object_new_boolean(settings_problems.n_errors == 0));
                for (size_t i = 0; i < settings_problems.n; i++) {
                        struct json_object *o = json_object_new_object();

                        json_object_object_add(o, "file", json_object_new_string(settings_problems.items[i].file ?: ""));
                        json_object_object_add(o, "line", json_object_new_int64(settings_problems.items[i].line));
                        json_object_object_add(o, "message", json_object_new_string(settings_problems.items[i].message));
                        json_object_array_add(sperr, o);
                }
                json_object_object_add(st, "problems", sperr);
                json_object_object_add(doc, "settings", st);

                up = json_object_new_object();
                json_object_object_add(up, "configured", json_object_new_boolean(settings.bucket != NULL));
                json_object_object_add(up, "bucket", settings.bucket ? json_object_new_string(settings.bucket) : NULL);
                json_object_object_add(up, "region", json_object_new_string(settings.region ?: ""));
                json_object_object_add(up, "endpoint", settings.endpoint ? json_object_new_string(settings.endpoint) : NULL);
                json_object_object_add(up, "working", json_object_new_boolean(uploads_working));
                json_object_object_add(up, "last_success", upload.last_success_usec ? json_object_new_string(
                                                   format_timestamp_utc(ts, sizeof ts, upload.last_success_usec)) : NULL);
                json_object_object_add(up, "last_failure", upload.last_failure_usec ? json_object_new_string(
                                                   format_timestamp_utc(ts, sizeof ts, upload.last_failure_usec)) : NULL);
                json_object_object_add(up, "last_failure_message", upload.last_failure_message ?
                                               json_object_new_string(upload.last_failure_message) : NULL);
                json_object_object_add(up, "backlog_entries", json_object_new_int64((int64_t) spool.entries));
                json_object_object_add(up, "backlog_bytes", json_object_new_int64((int64_t) spool.bytes));
                json_object_object_add(doc, "uploads", up);

                fl = json_object_new_array();
                for (size_t i = 0; i < n_failures; i++) {
                        struct json_object *o = json_object_new_object();
                        char text[4096];

                        json_object_object_add(o, "time", json_object_new_string(
                                                       format_timestamp_utc(ts, sizeof ts, failures[i].realtime_usec)));
                        json_object_object_add(o, "kind", json_object_new_string(failures[i].kind ?: "run"));
                        json_object_object_add(o, "session_id", failures[i].session_id ?
                                                       json_object_new_string(failures[i].session_id) : NULL);
                        json_object_object_add(o, "message", json_object_new_string(
                                                       text_sanitize(text, sizeof text, failures[i].message,
                                                                     strlen(failures[i].message))));
                        json_object_array_add(fl, o);
                }
                json_object_object_add(doc, "failures", fl);
                json_object_object_add(doc, "healthy", json_object_new_boolean(daemon_active && config_valid));
                json_print(stdout, doc, true);
        } else {
                char b1[64], b2[64], b3[64];

                print_unit("Daemon:", DAEMON_UNIT, &daemon);
                printf(", %s%s%s\n", answers ? "" : color(ANSI_YELLOW),
                       answers ? "answers on " SESSION_SCRIPTS_BUS_NAME : "does not answer on " SESSION_SCRIPTS_BUS_NAME,
                       answers ? "" : color(ANSI_NORMAL));
                print_unit("Uploader:", UPLOADER_UNIT, &uploader);
                printf("\n");

                if (read_error)
                        printf("Config:    %s: %scannot be read: %s%s\n", config_path, color(ANSI_RED),
                               strerror(-read_error), color(ANSI_NORMAL));
                else {
                        printf("Config:    %s: %s%s%s (%zu error%s, %zu warning%s)\n", config_path,
                               config_valid ? color(ANSI_GREEN) : color(ANSI_RED), config_valid ? "valid" : "invalid",
                               color(ANSI_NORMAL), findings.n_errors, findings.n_errors == 1 ? "" : "s",
                               findings.n_warnings, findings.n_warnings == 1 ? "" : "s");
                        for (size_t i = 0, shown = 0; i < findings.n && shown < 5; i++)
                                if (findings.items[i].severity == FINDING_ERROR) {
                                        printf("           %s%s\n", findings.items[i].file ? "file: " : "",
                                               findings.items[i].message);
                                        shown++;
                                }
                        if (findings.n_errors > 0)
                                printf("           (run '%s validate %s' for all findings)\n", program_name,
                                       config_path);
                }

                if (baseline.have_file)
                        printf("Baseline:  config.json sha256 %s, modified %s\n", baseline.sha256,
                               format_timestamp(b1, sizeof b1, baseline.mtime_usec));
                if (baseline.recorded_usec)
                        printf("           baseline recorded by the daemon at %s (config and executables)\n",
                               format_timestamp(b2, sizeof b2, baseline.recorded_usec));
                else
                        printf("           no baseline recorded by the daemon in the journal\n");
                if (baseline.have_file && baseline.recorded_usec && baseline.mtime_usec > baseline.recorded_usec)
                        printf("           %sconfig.json changed after the baseline was recorded; "
                               "run 'systemctl reload %s'%s\n", color(ANSI_YELLOW), DAEMON_UNIT, color(ANSI_NORMAL));
                if (baseline.last_load_refused)
                        printf("           %sthe last reload found an invalid config; "
                               "the daemon keeps the previous one%s\n", color(ANSI_YELLOW), color(ANSI_NORMAL));

                if (settings_problems.n == 0)
                        printf("Settings:  %s: %sno problems%s\n", SESSION_SCRIPTS_SETTINGS_PATH, color(ANSI_GREEN),
                               color(ANSI_NORMAL));
                else {
                        printf("Settings:  %s%zu problem%s: these assignments are ignored%s\n", color(ANSI_RED),
                               settings_problems.n, settings_problems.n == 1 ? "" : "s", color(ANSI_NORMAL));
                        for (size_t i = 0; i < settings_problems.n && i < 5; i++) {
                                const Finding *f = &settings_problems.items[i];

                                if (f->line > 0)
                                        printf("           %s:%u: %s\n", f->file, f->line, f->message);
                                else
                                        printf("           %s: %s\n", f->file, f->message);
                        }
                        printf("           (run '%s validate --settings' for all)\n", program_name);
                }

                if (!settings.bucket)
                        printf("Uploads:   %snot configured%s (no Bucket= in [S3]): logs stay in the journal\n",
                               color(ANSI_YELLOW), color(ANSI_NORMAL));
                else {
                        printf("Uploads:   s3://%s/ (Region=%s%s%s): %s%s%s\n", settings.bucket, settings.region,
                               settings.endpoint ? ", Endpoint=" : "", settings.endpoint ?: "",
                               uploads_working ? color(ANSI_GREEN) : color(ANSI_YELLOW),
                               uploads_working ? "working" :
                               !uploader_active ? "the uploader is not running" :
                               "failing since the last success", color(ANSI_NORMAL));
                        if (upload.last_success_usec)
                                printf("           last upload at %s\n",
                                       format_timestamp(b1, sizeof b1, upload.last_success_usec));
                        else
                                printf("           no upload in the journal yet\n");
                        if (upload.last_failure_usec) {
                                char text[4096];

                                printf("           last failure at %s: %s\n",
                                       format_timestamp(b2, sizeof b2, upload.last_failure_usec),
                                       text_sanitize(text, sizeof text, upload.last_failure_message,
                                                     strlen(upload.last_failure_message)));
                        }
                }

                if (spool.error)
                        printf("Spool:     %s: cannot be read: %s\n", SESSION_SCRIPTS_SPOOL_DIR,
                               strerror(-spool.error));
                else if (spool.entries == 0 && spool.bytes == 0)
                        printf("Spool:     empty (nothing waits for upload)\n");
                else
                        printf("Spool:     %" PRIu64 " entr%s, %s, oldest %s ago\n", spool.entries,
                               spool.entries == 1 ? "y" : "ies", format_bytes(b1, sizeof b1, spool.bytes),
                               spool.oldest_usec ? format_duration(b3, sizeof b3, now(CLOCK_REALTIME) > spool.oldest_usec ?
                                                                   now(CLOCK_REALTIME) - spool.oldest_usec : 0) : "-");

                if (n_failures_max > 0) {
                        if (n_failures == 0)
                                printf("Failures:  none in the journal\n");
                        else
                                printf("Failures:  last %zu\n", n_failures);
                        for (size_t i = 0; i < n_failures; i++) {
                                char text[4096];
                                printf("  %s %s%s%s\n", format_timestamp(b1, sizeof b1, failures[i].realtime_usec),
                                       color(ANSI_RED),
                                       text_sanitize(text, sizeof text, failures[i].message, strlen(failures[i].message)),
                                       color(ANSI_NORMAL));
                        }
                }
        }

        for (size_t i = 0; i < n_failures; i++) {
                free(failures[i].message);
                free(failures[i].session_id);
                free(failures[i].kind);
        }
        unit_state_done(&daemon);
        unit_state_done(&uploader);
        settings_done(&settings);
        free(upload.last_failure_message);
        if (fflush(stdout) != 0)
                return EXIT_USAGE;
        return daemon_active && config_valid ? EXIT_VALID : EXIT_FAILED;
}
