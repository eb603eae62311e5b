/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The config.json engine (SPEC §2): a pure parser from a byte buffer to a typed ScriptConfig plus a
 * list of findings (errors and warnings, each with line, column and JSON path), and the separate
 * file-security checks that look at the real files. Used by the daemon and the CLI.
 *
 * The parser does no I/O and no logging; the fuzz target in tests/fuzz drives it directly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Limits of SPEC §2. */
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

typedef enum FindingSeverity {
        FINDING_WARNING,
        FINDING_ERROR,
} FindingSeverity;

typedef struct Finding {
        FindingSeverity severity;
        unsigned line;          /* 1-based; 0 when there is no position (config.json itself) */
        unsigned column;        /* 1-based, in characters (UTF-8 sequences count once) */
        char *json_path;        /* e.g. "SessionStart.executables[1].context", known keys in their
                                 * canonical spelling; "" for the document */
        char *file;             /* for file-security findings: the file concerned (an executable's
                                 * finding is positioned at its "filename" value); else NULL */
        char *message;          /* one sentence a person understands, no trailing period needed */
} Finding;

typedef struct FindingList {
        Finding *items;
        size_t n;
        size_t n_errors;
        size_t n_warnings;
} FindingList;

/* Frees the findings (not the list struct itself) and resets it to empty; accepts an empty list. */
void finding_list_done(FindingList *l);

/* At most this many findings are stored per list; one more entry then says that the rest were
 * left out (its severity is "error" when any left-out finding was an error). */
#define SCRIPT_CONFIG_MAX_FINDINGS 100U
/* Deepest nesting of arrays and objects accepted in config.json (the format itself needs 4). */
#define SCRIPT_CONFIG_MAX_DEPTH 32U

/*
 * Appends a finding (message formatted printf-style; json_path and file may be NULL, meaning ""
 * and "no file"). Counts it in n_errors/n_warnings. Returns 0 or -ENOMEM; past
 * SCRIPT_CONFIG_MAX_FINDINGS the finding is not stored (see above) and 0 is returned.
 */
int finding_list_add(FindingList *l, FindingSeverity severity, unsigned line, unsigned column,
                     const char *json_path, const char *file, const char *format, ...)
        __attribute__((format(printf, 7, 8)));

/*
 * Parses config.json from buf (len bytes, need not be NUL-terminated; any bytes accepted).
 * Appends every error and warning to *findings (which the caller initialised to {}), in document
 * order. On success (no errors; warnings allowed) returns 0 and, if ret_config is non-NULL, stores a
 * newly allocated config the caller frees. Returns -EINVAL when there were errors (ret_config
 * untouched), -ENOMEM on allocation failure.
 */
int script_config_parse(const char *buf, size_t len, ScriptConfig **ret_config, FindingList *findings);

/*
 * Splits an `arguments` string into words like a POSIX shell: blanks separate words; '…' keeps
 * everything literally; "…" keeps everything but lets \ escape $ ` " \ and newline; outside
 * quotes \ escapes the next character. No expansion of any kind. On success returns 0 and a
 * NULL-terminated array in *ret (possibly empty). Returns -EINVAL on an unbalanced quote or a
 * trailing lone backslash, with *ret_error_offset (if non-NULL) set to the byte offset of the
 * opening quote (or the backslash). -ENOMEM on allocation failure.
 */
int argv_split(const char *s, char ***ret, size_t *ret_error_offset);

/*
 * File-security checks of SPEC §2 on the real files (these do I/O, the parser does not):
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
