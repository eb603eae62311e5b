/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Daemon and uploader settings: /etc/session-scripts/session-scripts.conf plus drop-ins in
 * session-scripts.conf.d/ (INI like systemd's *.conf: [Section], Key=Value, # and ; comments on lines
 * of their own — a trailing comment is refused with a report, not taken into the value —, later
 * assignments win, drop-ins applied after the main file in lexical order, only *.conf files).
 * A missing file is not an error; unknown sections and keys are reported as warnings.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Settings {
        /* [Session] */
        char *stack_name;               /* StackName=, default "default" */
        char *fleet_name;               /* FleetName=, default "default" */
        char *access_mode;              /* AccessMode= userpool|federated|custom, default "custom" */
        char *config_file;              /* ConfigFile=, default SESSION_SCRIPTS_CONFIG_PATH */
        /* [S3] */
        char *bucket;                   /* Bucket=, NULL when unset: nothing is uploaded */
        char *region;                   /* Region=, default "us-east-1" */
        char *endpoint;                 /* Endpoint=, NULL = https://s3.REGION.amazonaws.com */
        bool server_side_encryption;    /* ServerSideEncryption=, default yes (AES256) */
        uint64_t max_spool_size;        /* MaxSpoolSize= bytes (K/M/G suffixes, base 1024), default 1G */
        char *profile;                  /* Profile=, default NULL (AWS_PROFILE, then "default") */
} Settings;

/* Callback for warnings and errors while loading: file, line (1-based), message. */
typedef void (*SettingsReportFn)(const char *file, unsigned line, const char *message, void *userdata);

/*
 * Loads settings from path and its drop-in dir (path + ".d"). path NULL means
 * SESSION_SCRIPTS_SETTINGS_PATH. Invalid values are reported through report (may be NULL) and
 * leave the default in place. Returns 0 and fills *ret (caller calls settings_done()), or -errno
 * on a file that exists but cannot be read, or -ENOMEM.
 */
int settings_load(const char *path, Settings *ret, SettingsReportFn report, void *userdata);

/* Frees what settings_load() allocated; accepts a zeroed struct. */
void settings_done(Settings *s);
