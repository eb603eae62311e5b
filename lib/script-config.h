/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The config.json engine (docs/behaviour.md §2): a pure parser from a byte buffer to a typed
 * ScriptConfig plus a list of findings (errors and warnings, each with line, column and JSON path),
 * and the separate file-security checks that look at the real files. Used by the daemon and the CLI.
 *
 * The parser (config-schema.c, on json-scan.h and json-walk.h) does no I/O and no logging; the fuzz
 * target in tests/fuzz drives it directly. The file checks are in config-check-files.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "argv-split.h"
#include "finding-list.h"

/* Limits of docs/behaviour.md §2. */
#define SCRIPT_CONFIG_MAX_EXECUTABLES 2
#define SCRIPT_CONFIG_MAX_FILENAME 1000          /* characters */
#define SCRIPT_CONFIG_MAX_ARGUMENTS 1000         /* characters */
#define SCRIPT_CONFIG_WAITING_TIME_MIN 1         /* seconds */
#define SCRIPT_CONFIG_WAITING_TIME_MAX 60
#define SCRIPT_CONFIG_WAITING_TIME_DEFAULT 30
#define SCRIPT_CONFIG_EXECUTABLE_WARN_SIZE (100ULL * 1000ULL * 1000ULL) /* 100 MB */
/* A config.json larger than this is refused before parsing (nobody writes one that big). */
#define SCRIPT_CONFIG_MAX_FILE_SIZE (1024U * 1024U)

typedef enum ScriptEvent {
        SCRIPT_EVENT_START,             /* "SessionStart" */
        SCRIPT_EVENT_TERMINATION,       /* "SessionTermination" */
        _SCRIPT_EVENT_MAX,
} ScriptEvent;

typedef enum ScriptContext {
        SCRIPT_CONTEXT_SYSTEM,          /* "system" */
        SCRIPT_CONTEXT_USER,            /* "user" */
        _SCRIPT_CONTEXT_MAX,
} ScriptContext;

/* "SessionStart"/"SessionTermination", "system"/"user"; NULL when out of range. */
const char *script_event_to_string(ScriptEvent e);
const char *script_context_to_string(ScriptContext c);
/* Case-insensitive; returns the enum value or -EINVAL. */
int script_event_from_string(const char *s);
int script_context_from_string(const char *s);

typedef struct ScriptExecutable {
        bool present;           /* the event has an entry of this context */
        char *filename;         /* absolute path; NULL when empty or absent (= not run) */
        char *arguments;        /* as written in config.json, "" when absent */
        char **argv;            /* arguments split into words (NULL-terminated, never NULL) */
        bool s3_log_enabled;    /* default true */
        unsigned json_index;    /* position in the event's "executables" array (for messages) */
        unsigned filename_line;         /* where the "filename" value starts in config.json (1-based; */
        unsigned filename_column;       /* 0 when unknown), so that file findings can point at it */
} ScriptExecutable;

typedef struct ScriptEventConfig {
        bool present;                   /* the event object exists in config.json */
        unsigned waiting_time_sec;      /* 1…60, default 30 */
        ScriptExecutable executables[_SCRIPT_CONTEXT_MAX];      /* indexed by ScriptContext */
} ScriptEventConfig;

typedef struct ScriptConfig {
        ScriptEventConfig events[_SCRIPT_EVENT_MAX];            /* indexed by ScriptEvent */
} ScriptConfig;

/* True when the executable of that context of that event is to be run (present with a filename). */
bool script_executable_runs(const ScriptExecutable *x);

/* Frees the config and everything it owns; accepts NULL. Returns NULL. */
ScriptConfig *script_config_free(ScriptConfig *c);
static inline void script_config_freep(ScriptConfig **c) {
        script_config_free(*c);
}

/* Deepest nesting of arrays and objects accepted in config.json (the format itself needs 4). */
#define SCRIPT_CONFIG_MAX_DEPTH 32U

/*
 * Parses config.json from buf (len bytes, need not be NUL-terminated; any bytes accepted).
 * Appends every error and warning to *findings (which the caller initialised to {}), in document
 * order. On success (no errors; warnings allowed) returns 0 and, if ret_config is non-NULL, stores a
 * newly allocated config the caller frees. Returns -EINVAL when there were errors (ret_config
 * untouched), -ENOMEM on allocation failure.
 */
int script_config_parse(const char *buf, size_t len, ScriptConfig **ret_config, FindingList *findings);

/*
 * File-security checks of docs/behaviour.md §2 on the real files (these do I/O, the parser does not):
 * config_path and every executable that runs must be a regular file owned by root and not
 * writable by group or others, and so must every directory above it up to / — except that a
 * root-owned directory with the sticky bit (like /tmp, mode 1777) may be writable by others: they
 * cannot rename or replace root's entries there (every entry passed through in it, a symbolic link
 * too, must then be root's). A symbolic link as the file itself is refused. Executables must have
 * an execute bit; an executable over 100 MB draws a warning.
 *
 * Findings about an executable carry .file = its filename (also named in the message), the line and
 * column of its "filename" value (ScriptExecutable.filename_line/column; 0 when unknown) and the
 * JSON path of that value, e.g. "SessionStart.executables[0].filename". Findings about config_path
 * carry .file = config_path, no position and the path "". c may be NULL (only config_path is
 * checked), config_path may be NULL (only the executables are). Returns 0 (findings may contain
 * errors) or -ENOMEM (or another -errno when a file cannot be looked at for an unexpected reason).
 */
int script_config_check_files(const ScriptConfig *c, const char *config_path, FindingList *findings);
