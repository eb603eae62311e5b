/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What `session-scripts install-bundle` did, and its renderings: the --json document (fields
 * documented in session-scripts(1)) and the text for people. cli/verb-install-bundle.c fills an
 * Install as it goes; the other verbs' output is in format.c.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

#include "bundle-fetch.h"
#include "bundle.h"
#include "script-config.h"

/* Everything that happened, for the JSON document and the exit status. */
typedef struct Install {
        bool json;
        const char *source;
        const char *target;
        bool custom_target;
        bool installed;
        FindingList findings;
        BundleReport report;
        CredentialSource credentials;   /* s3:// only */
        const char *dropin;             /* the drop-in that makes the bundle active, NULL = none */
        bool active;                    /* the daemon's ConfigFile= is the bundle's config.json */
        bool reload_requested;
        bool reloaded;
        char *reload_error;
        char error[1024];               /* why it was not installed, "" when it was */
} Install;

/* Frees what i owns. */
void install_done(Install *i);

/* The --json document, for every outcome. Returns a new object or NULL (OOM). */
struct json_object *install_to_json(const Install *i);

/* The findings about the bundle's config.json (under TARGET/config.json), then "session-scripts
 * install-bundle: bundle SOURCE refused: ERROR" (red when colours are on for f) and that the
 * installed bundle was left as it was. */
void install_refused_print(FILE *f, const Install *i);

/* The findings (on stderr, like every finding), then "Installed SOURCE into TARGET (N files, M
 * warnings)." on f. */
void install_installed_print(FILE *f, const Install *i);
