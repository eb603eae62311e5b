/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What `session-scripts status` found, and its two renderings: the text for people and the --json
 * document (fields documented in session-scripts(1)). cli/verb-status.c gathers a StatusReport;
 * everything it prints is written here, like the other verbs' output in format.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "script-config.h"
#include "settings.h"
#include "sha256.h"
#include "time-util.h"

#define STATUS_DAEMON_UNIT "session-scripts.service"
#define STATUS_UPLOADER_UNIT "session-scripts-upload.service"

typedef struct UnitState {
        char *active_state;
        char *sub_state;
        uint32_t main_pid;
        bool known;             /* false: systemd could not be asked */
} UnitState;

typedef struct SpoolState {
        int error;              /* -errno when the directory could not be read */
        uint64_t entries;
        uint64_t bytes;
        usec_t oldest_usec;     /* CLOCK_REALTIME mtime of the oldest entry, 0 = none */
} SpoolState;

typedef struct BaselineState {
        bool have_file;
        char sha256[SHA256_HEX_SIZE];
        usec_t mtime_usec;
        usec_t recorded_usec;           /* the daemon's last "Loaded configuration" entry, 0 = none */
        bool last_load_refused;         /* a later load kept the previous config */
} BaselineState;

typedef struct UploadState {
        usec_t last_success_usec;       /* the uploader's newest "Uploaded s3://…" entry, 0 = none */
        usec_t last_failure_usec;       /* its newest upload-failure entry, 0 = none */
        char *last_failure_message;
} UploadState;

typedef struct Failure {
        usec_t realtime_usec;
        char *message;
        char *session_id;
        char *kind;             /* "run" or "upload" */
} Failure;

typedef struct StatusReport {
        UnitState daemon;
        UnitState uploader;
        bool daemon_answers;            /* a Ping on the bus name was answered */
        bool daemon_active;
        bool uploader_active;

        const char *config_path;        /* not owned */
        int config_read_error;          /* -errno, 0 when config.json was read */
        FindingList findings;
        bool config_valid;
        BaselineState baseline;

        SpoolState spool;
        Settings settings;
        FindingList settings_problems;
        UploadState upload;
        bool uploads_working;           /* set up, the uploader runs, nothing failed since the last success */

        unsigned n_failures_max;        /* --failures */
        Failure *failures;              /* oldest first */
        size_t n_failures;
} StatusReport;

/* Frees what the report owns (not config_path). */
void status_report_done(StatusReport *s);

/* The --json document. Returns a new object or NULL (OOM). */
struct json_object *status_report_to_json(const StatusReport *s);

/* The text for people, coloured when colours are on for f; now_usec (CLOCK_REALTIME) dates the
 * spool's oldest entry. */
void status_report_print(FILE *f, const StatusReport *s, usec_t now_usec);
