/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The renderings of `status`; see format-status.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "format.h"
#include "format-status.h"
#include "json-util.h"
#include "session-scripts/session-scripts.h"
#include "verbs.h"

#define DAEMON_UNIT STATUS_DAEMON_UNIT
#define UPLOADER_UNIT STATUS_UPLOADER_UNIT

void status_report_done(StatusReport *s) {
        for (size_t i = 0; i < s->n_failures; i++) {
                free(s->failures[i].message);
                free(s->failures[i].session_id);
                free(s->failures[i].kind);
        }
        free(s->failures);
        free(s->daemon.active_state);
        free(s->daemon.sub_state);
        free(s->uploader.active_state);
        free(s->uploader.sub_state);
        finding_list_done(&s->findings);
        finding_list_done(&s->settings_problems);
        settings_done(&s->settings);
        free(s->upload.last_failure_message);
        *s = (StatusReport) {};
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

struct json_object *status_report_to_json(const StatusReport *s) {
        _cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
        struct json_object *d, *cfg, *errs, *bl, *sp, *fl, *st, *sperr, *up;
        char ts[64];

        if (!doc)
                return NULL;
        d = unit_to_json(DAEMON_UNIT, &s->daemon);
        json_object_object_add(d, "answers", json_object_new_boolean(s->daemon_answers));
        json_object_object_add(doc, "daemon", d);
        json_object_object_add(doc, "uploader", unit_to_json(UPLOADER_UNIT, &s->uploader));

        cfg = json_object_new_object();
        errs = json_object_new_array();
        json_object_object_add(cfg, "path", json_object_new_string(s->config_path));
        json_object_object_add(cfg, "valid", json_object_new_boolean(s->config_valid));
        json_object_object_add(cfg, "read_error", json_string_or_null(s->config_read_error ?
                                                                      strerror(-s->config_read_error) : NULL));
        json_object_object_add(cfg, "errors", json_object_new_int64((int64_t) s->findings.n_errors));
        json_object_object_add(cfg, "warnings", json_object_new_int64((int64_t) s->findings.n_warnings));
        for (size_t i = 0; i < s->findings.n; i++)
                if (s->findings.items[i].severity == FINDING_ERROR)
                        json_object_array_add(errs, json_object_new_string(s->findings.items[i].message));
        json_object_object_add(cfg, "error_messages", errs);
        json_object_object_add(doc, "config", cfg);

        bl = json_object_new_object();
        json_object_object_add(bl, "sha256",
                               json_string_or_null(s->baseline.have_file ? s->baseline.sha256 : NULL));
        json_object_object_add(bl, "mtime", s->baseline.have_file ? json_object_new_string(
                                           format_timestamp_utc(ts, sizeof ts, s->baseline.mtime_usec)) : NULL);
        json_object_object_add(bl, "recorded", json_timestamp_or_null(s->baseline.recorded_usec));
        json_object_object_add(bl, "changed_since_recorded",
                               json_object_new_boolean(s->baseline.have_file && s->baseline.recorded_usec &&
                                                       s->baseline.mtime_usec > s->baseline.recorded_usec));
        json_object_object_add(bl, "last_load_refused",
                               json_object_new_boolean(s->baseline.last_load_refused));
        json_object_object_add(doc, "baseline", bl);

        sp = json_object_new_object();
        json_object_object_add(sp, "path", json_object_new_string(SESSION_SCRIPTS_SPOOL_DIR));
        json_object_object_add(sp, "readable", json_object_new_boolean(s->spool.error == 0));
        json_object_object_add(sp, "entries", json_object_new_int64((int64_t) s->spool.entries));
        json_object_object_add(sp, "bytes", json_object_new_int64((int64_t) s->spool.bytes));
        json_object_object_add(sp, "oldest", json_timestamp_or_null(s->spool.oldest_usec));
        json_object_object_add(doc, "spool", sp);

        st = json_object_new_object();
        sperr = json_object_new_array();
        json_object_object_add(st, "path", json_object_new_string(SESSION_SCRIPTS_SETTINGS_PATH));
        json_object_object_add(st, "valid", json_object_new_boolean(s->settings_problems.n_errors == 0));
        for (size_t i = 0; i < s->settings_problems.n; i++) {
                const Finding *p = &s->settings_problems.items[i];
                struct json_object *o = json_object_new_object();

                json_object_object_add(o, "file", json_object_new_string(p->file ?: ""));
                json_object_object_add(o, "line", json_object_new_int64(p->line));
                json_object_object_add(o, "message", json_object_new_string(p->message));
                json_object_array_add(sperr, o);
        }
        json_object_object_add(st, "problems", sperr);
        json_object_object_add(doc, "settings", st);

        up = json_object_new_object();
        json_object_object_add(up, "configured", json_object_new_boolean(s->settings.bucket != NULL));
        json_object_object_add(up, "bucket", json_string_or_null(s->settings.bucket));
        json_object_object_add(up, "region", json_object_new_string(s->settings.region ?: ""));
        json_object_object_add(up, "endpoint", json_string_or_null(s->settings.endpoint));
        json_object_object_add(up, "working", json_object_new_boolean(s->uploads_working));
        json_object_object_add(up, "last_success", json_timestamp_or_null(s->upload.last_success_usec));
        json_object_object_add(up, "last_failure", json_timestamp_or_null(s->upload.last_failure_usec));
        json_object_object_add(up, "last_failure_message", json_string_or_null(s->upload.last_failure_message));
        json_object_object_add(up, "backlog_entries", json_object_new_int64((int64_t) s->spool.entries));
        json_object_object_add(up, "backlog_bytes", json_object_new_int64((int64_t) s->spool.bytes));
        json_object_object_add(doc, "uploads", up);

        fl = json_object_new_array();
        for (size_t i = 0; i < s->n_failures; i++) {
                struct json_object *o = json_object_new_object();
                char text[4096];

                json_object_object_add(o, "time", json_object_new_string(
                                               format_timestamp_utc(ts, sizeof ts, s->failures[i].realtime_usec)));
                json_object_object_add(o, "kind", json_object_new_string(s->failures[i].kind ?: "run"));
                json_object_object_add(o, "session_id", json_string_or_null(s->failures[i].session_id));
                json_object_object_add(o, "message", json_object_new_string(
                                               text_sanitize(text, sizeof text, s->failures[i].message,
                                                             strlen(s->failures[i].message))));
                json_object_array_add(fl, o);
        }
        json_object_object_add(doc, "failures", fl);
        json_object_object_add(doc, "healthy", json_object_new_boolean(s->daemon_active && s->config_valid));
        return TAKE_PTR(doc);
}

static const char *unit_color(FILE *f, const UnitState *u) {
        if (!u->known || !u->active_state)
                return color_for(f, ANSI_YELLOW);
        if (strcmp(u->active_state, "active") == 0 || strcmp(u->active_state, "reloading") == 0)
                return color_for(f, ANSI_GREEN);
        if (strcmp(u->active_state, "failed") == 0)
                return color_for(f, ANSI_RED);
        return color_for(f, ANSI_YELLOW);
}

static void print_unit(FILE *f, const char *label, const char *unit, const UnitState *u) {
        fprintf(f, "%-10s %s: %s%s (%s)%s", label, unit, unit_color(f, u),
                u->known ? u->active_state : "unknown", u->known ? u->sub_state : "systemd not reachable",
                color_for(f, ANSI_NORMAL));
        if (u->main_pid > 0)
                fprintf(f, ", PID %" PRIu32, u->main_pid);
}

void status_report_print(FILE *f, const StatusReport *s, usec_t now_usec) {
        const char *red = color_for(f, ANSI_RED), *green = color_for(f, ANSI_GREEN),
                *yellow = color_for(f, ANSI_YELLOW), *normal = color_for(f, ANSI_NORMAL);
        char b1[64], b2[64], b3[64];

        print_unit(f, "Daemon:", DAEMON_UNIT, &s->daemon);
        fprintf(f, ", %s%s%s\n", s->daemon_answers ? "" : yellow,
                s->daemon_answers ? "answers on " SESSION_SCRIPTS_BUS_NAME : "does not answer on " SESSION_SCRIPTS_BUS_NAME,
                s->daemon_answers ? "" : normal);
        print_unit(f, "Uploader:", UPLOADER_UNIT, &s->uploader);
        fprintf(f, "\n");

        if (s->config_read_error)
                fprintf(f, "Config:    %s: %scannot be read: %s%s\n", s->config_path, red,
                        strerror(-s->config_read_error), normal);
        else {
                fprintf(f, "Config:    %s: %s%s%s (%zu error%s, %zu warning%s)\n", s->config_path,
                        s->config_valid ? green : red, s->config_valid ? "valid" : "invalid",
                        normal, s->findings.n_errors, s->findings.n_errors == 1 ? "" : "s",
                        s->findings.n_warnings, s->findings.n_warnings == 1 ? "" : "s");
                for (size_t i = 0, shown = 0; i < s->findings.n && shown < 5; i++)
                        if (s->findings.items[i].severity == FINDING_ERROR) {
                                fprintf(f, "           %s%s\n", s->findings.items[i].file ? "file: " : "",
                                        s->findings.items[i].message);
                                shown++;
                        }
                if (s->findings.n_errors > 0)
                        fprintf(f, "           (run '%s validate %s' for all findings)\n", program_name,
                                s->config_path);
        }

        if (s->baseline.have_file)
                fprintf(f, "Baseline:  config.json sha256 %s, modified %s\n", s->baseline.sha256,
                        format_timestamp(b1, sizeof b1, s->baseline.mtime_usec));
        if (s->baseline.recorded_usec)
                fprintf(f, "           baseline recorded by the daemon at %s (config and executables)\n",
                        format_timestamp(b2, sizeof b2, s->baseline.recorded_usec));
        else
                fprintf(f, "           no baseline recorded by the daemon in the journal\n");
        if (s->baseline.have_file && s->baseline.recorded_usec && s->baseline.mtime_usec > s->baseline.recorded_usec)
                fprintf(f, "           %sconfig.json changed after the baseline was recorded; "
                        "run 'systemctl reload %s'%s\n", yellow, DAEMON_UNIT, normal);
        if (s->baseline.last_load_refused)
                fprintf(f, "           %sthe last reload found an invalid config; "
                        "the daemon keeps the previous one%s\n", yellow, normal);

        if (s->settings_problems.n == 0)
                fprintf(f, "Settings:  %s: %sno problems%s\n", SESSION_SCRIPTS_SETTINGS_PATH, green,
                        normal);
        else {
                fprintf(f, "Settings:  %s%zu problem%s: these assignments are ignored%s\n", red,
                        s->settings_problems.n, s->settings_problems.n == 1 ? "" : "s", normal);
                for (size_t i = 0; i < s->settings_problems.n && i < 5; i++) {
                        const Finding *p = &s->settings_problems.items[i];

                        if (p->line > 0)
                                fprintf(f, "           %s:%u: %s\n", p->file, p->line, p->message);
                        else
                                fprintf(f, "           %s: %s\n", p->file, p->message);
                }
                fprintf(f, "           (run '%s validate --settings' for all)\n", program_name);
        }

        if (!s->settings.bucket)
                fprintf(f, "Uploads:   %snot configured%s (no Bucket= in [S3]): logs stay in the journal\n",
                        yellow, normal);
        else {
                fprintf(f, "Uploads:   s3://%s/ (Region=%s%s%s): %s%s%s\n", s->settings.bucket, s->settings.region,
                        s->settings.endpoint ? ", Endpoint=" : "", s->settings.endpoint ?: "",
                        s->uploads_working ? green : yellow,
                        s->uploads_working ? "working" :
                        !s->uploader_active ? "the uploader is not running" :
                        "failing since the last success", normal);
                if (s->upload.last_success_usec)
                        fprintf(f, "           last upload at %s\n",
                                format_timestamp(b1, sizeof b1, s->upload.last_success_usec));
                else
                        fprintf(f, "           no upload in the journal yet\n");
                if (s->upload.last_failure_usec) {
                        char text[4096];

                        fprintf(f, "           last failure at %s: %s\n",
                                format_timestamp(b2, sizeof b2, s->upload.last_failure_usec),
                                text_sanitize(text, sizeof text, s->upload.last_failure_message,
                                              strlen(s->upload.last_failure_message)));
                }
        }

        if (s->spool.error)
                fprintf(f, "Spool:     %s: cannot be read: %s\n", SESSION_SCRIPTS_SPOOL_DIR,
                        strerror(-s->spool.error));
        else if (s->spool.entries == 0 && s->spool.bytes == 0)
                fprintf(f, "Spool:     empty (nothing waits for upload)\n");
        else
                fprintf(f, "Spool:     %" PRIu64 " entr%s, %s, oldest %s ago\n", s->spool.entries,
                        s->spool.entries == 1 ? "y" : "ies", format_bytes(b1, sizeof b1, s->spool.bytes),
                        s->spool.oldest_usec ? format_duration(b3, sizeof b3, now_usec > s->spool.oldest_usec ?
                                                            now_usec - s->spool.oldest_usec : 0) : "-");

        if (s->n_failures_max > 0) {
                if (s->n_failures == 0)
                        fprintf(f, "Failures:  none in the journal\n");
                else
                        fprintf(f, "Failures:  last %zu\n", s->n_failures);
                for (size_t i = 0; i < s->n_failures; i++) {
                        char text[4096];
                        fprintf(f, "  %s %s%s%s\n", format_timestamp(b1, sizeof b1, s->failures[i].realtime_usec),
                                red,
                                text_sanitize(text, sizeof text, s->failures[i].message, strlen(s->failures[i].message)),
                                normal);
                }
        }
}
