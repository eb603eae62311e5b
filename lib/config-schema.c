/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The config.json parser (docs/behaviour.md §2): the schema tables of config.json, the parsers of
 * its settings, and script_config_parse(), which runs the two steps over the same bytes:
 *
 *  1. the strict scanner (json-scan.h) validates the syntax and builds the position index of the
 *     parts that the tables below name;
 *  2. the walker (json-walk.h) applies the tables to the index; json-c decodes each value a parser
 *     reads from that value's own span of the text.
 *
 * Everything here is pure: no I/O, no logging, no global state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv-split.h"
#include "cleanup.h"
#include "json-scan.h"
#include "json-util.h"
#include "json-walk.h"
#include "script-config.h"
#include "string-util.h"

/* What the parsers of one document share. */
typedef struct ConfigParse {
        /* The value of the first "context" of each kind in the event being read, for the error
         * about a second one. */
        const JsonNode *context_seen[_SCRIPT_CONTEXT_MAX];
} ConfigParse;

/* One entry of "executables" while it is read: stored in the event once it is valid. */
typedef struct EntryParse {
        ScriptExecutable x;
        int context;                    /* ScriptContext, or -1 while unknown */
        ScriptExecutable *event_executables;
} EntryParse;

static size_t utf8_count_chars(const char *s, size_t n) {
        size_t chars = 0;

        for (size_t i = 0; i < n; i++)
                if ((((unsigned char) s[i]) & 0xC0) != 0x80)
                        chars++;
        return chars;
}

/*
 * Decodes the string value n of the field f, of at most max_chars characters, into *ret (a new json-c
 * reference). Reports a value that is not a string ("\"<name>\" must be <expected>, …") or is too
 * long. Returns 0, -EINVAL (reported) or -ENOMEM.
 */
static int decode_string(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path,
                         const char *expected, size_t max_chars, struct json_object **ret) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;
        _cleanup_(freep) char *what = NULL;
        size_t chars;

        if (n->type != JSON_NODE_STRING) {
                if (asprintf(&what, "\"%s\"", f->name) < 0)
                        return -ENOMEM;
                json_walk_type_error(w, n, path, what, expected, NULL);
                return -EINVAL;
        }
        j = json_walk_decode(w, n, path);
        if (!j)
                return -EINVAL;

        chars = utf8_count_chars(json_object_get_string(j), (size_t) json_object_get_string_len(j));
        if (chars > max_chars) {
                json_walk_report(w, FINDING_ERROR, n->pos, path,
                                 "\"%s\" is %zu characters long, but at most %zu are allowed",
                                 f->name, chars, max_chars);
                return -EINVAL;
        }

        *ret = TAKE_PTR(j);
        return 0;
}

/* ---- the parsers of the settings ---------------------------------------------------------------- */

/* "context": "user" or "system". The documents write it in lowercase; the value is matched
 * case-insensitively like the key names, so "System" is accepted too. */
static int parse_context(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path,
                         void *data) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;
        ConfigParse *cp = w->userdata;
        EntryParse *e = data;
        const char *s;
        int context, r;

        r = decode_string(w, f, n, path, "the string \"user\" or \"system\"", SIZE_MAX, &j);
        if (r < 0)
                return r;

        s = json_object_get_string(j);
        /* A value with an embedded NUL (\u0000) names no context. */
        context = strlen(s) == (size_t) json_object_get_string_len(j) ? script_context_from_string(s)
                                                                       : -EINVAL;
        if (context < 0) {
                json_walk_type_error(w, n, path, "\"context\"", "\"user\" or \"system\"", NULL);
                return -EINVAL;
        }
        if (cp->context_seen[context]) {
                json_walk_report(w, FINDING_ERROR, n->pos, path,
                                 "A second executable with context \"%s\" (the first is at line %u, column "
                                 "%u); each event allows at most one executable per context",
                                 script_context_to_string(context), cp->context_seen[context]->pos.line,
                                 cp->context_seen[context]->pos.column);
                return -EINVAL;
        }
        cp->context_seen[context] = n;
        e->context = context;
        return 0;
}

/* "filename": an absolute path of at most 1000 characters; empty or absent means "not run". */
static int parse_filename(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path,
                          void *data) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;
        EntryParse *e = data;
        const char *s;
        size_t sl;
        int r;

        r = decode_string(w, f, n, path, "a string with the full path of the executable (\"\" for none)",
                          SCRIPT_CONFIG_MAX_FILENAME, &j);
        if (r < 0)
                return r;

        s = json_object_get_string(j);
        sl = (size_t) json_object_get_string_len(j);
        if (sl == 0)
                return 0;
        if (memory_has_cc(s, sl)) {
                json_walk_report(w, FINDING_ERROR, n->pos, path,
                                 "\"filename\" contains a control character (such as a NUL byte, tab or "
                                 "newline), which a file name here must not contain");
                return -EINVAL;
        }
        if (s[0] != '/') {
                _cleanup_(freep) char *q = json_excerpt(s, sl, true);
                bool windows = sl >= 2 && s[1] == ':';

                if (!q)
                        return -ENOMEM;
                json_walk_report(w, FINDING_ERROR, n->pos, path,
                                 "\"filename\" must be an absolute path starting with '/', but it is "
                                 "\"%s\"%s", q,
                                 windows ? " (a Windows path; on Linux use e.g. "
                                           "/opt/appstream/SessionScripts/script.sh)" : "");
                return -EINVAL;
        }

        e->x.filename = strdup(s);
        if (!e->x.filename)
                return -ENOMEM;
        /* For the file checks, which report at the value naming the file. */
        e->x.filename_line = n->pos.line;
        e->x.filename_column = n->pos.column;
        return 0;
}

/* "arguments": at most 1000 characters, split like a POSIX shell splits words. */
static int parse_arguments(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path,
                           void *data) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;
        _cleanup_(strv_freep) char **argv = NULL;
        EntryParse *e = data;
        size_t bad = 0;
        const char *s;
        int r;

        r = decode_string(w, f, n, path, "a string with the arguments (\"\" for none)",
                          SCRIPT_CONFIG_MAX_ARGUMENTS, &j);
        if (r < 0)
                return r;

        s = json_object_get_string(j);
        if (strlen(s) != (size_t) json_object_get_string_len(j)) {
                json_walk_report(w, FINDING_ERROR, json_string_position(w->text, n, strlen(s)), path,
                                 "\"arguments\" contains a NUL character (\\u0000), which no argument can "
                                 "contain");
                return -EINVAL;
        }

        r = argv_split(s, &argv, &bad);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                JsonPos at = json_string_position(w->text, n, bad);

                if (s[bad] == '\\')
                        json_walk_report(w, FINDING_ERROR, at, path,
                                         "\"arguments\" ends with a lone backslash, which escapes nothing");
                else
                        json_walk_report(w, FINDING_ERROR, at, path,
                                         "\"arguments\" has an unbalanced quote: the %s quote (%c) here is "
                                         "never closed",
                                         s[bad] == '"' ? "double" : "single", s[bad]);
                return -EINVAL;
        }

        e->x.arguments = strdup(s);
        if (!e->x.arguments)
                return -ENOMEM;
        e->x.argv = TAKE_PTR(argv);
        return 0;
}

/* A boolean at the field's offset (true or false, not quoted). */
static int parse_boolean(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path,
                         void *data) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;
        _cleanup_(freep) char *what = NULL;

        if (n->type == JSON_NODE_BOOLEAN) {
                j = json_walk_decode(w, n, path);
                if (!j)
                        return -EINVAL;
                *(bool *) ((char *) data + f->offset) = json_object_get_boolean(j);
                return 0;
        }

        if (asprintf(&what, "\"%s\"", f->name) < 0)
                return -ENOMEM;
        if (n->type == JSON_NODE_STRING && (j = json_walk_decode(w, n, path))) {
                const char *s = json_object_get_string(j);

                if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)) {
                        json_walk_type_error(w, n, path, what, "true or false",
                                             " (write true or false without quotes)");
                        return -EINVAL;
                }
        }
        json_walk_type_error(w, n, path, what, "true or false", NULL);
        return -EINVAL;
}

/* "waitingTime": whole seconds, 1…60. */
static int parse_waiting_time(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path,
                              void *data) {
        static const char what[] = "\"waitingTime\"", expected[] = "a whole number of seconds (1 to 60)";
        _cleanup_(json_object_putp) struct json_object *j = NULL;
        _cleanup_(freep) char *e = NULL;
        int64_t v;

        if (n->type != JSON_NODE_NUMBER) {
                json_walk_type_error(w, n, path, what, expected,
                                     n->type == JSON_NODE_STRING ? " (write the number without quotes)"
                                                                 : NULL);
                return -EINVAL;
        }
        j = json_walk_decode(w, n, path);
        if (!j)
                return -EINVAL;
        if (!json_object_is_type(j, json_type_int)) {
                json_walk_type_error(w, n, path, what, expected, NULL);
                return -EINVAL;
        }

        v = json_object_get_int64(j);
        if (v < SCRIPT_CONFIG_WAITING_TIME_MIN || v > SCRIPT_CONFIG_WAITING_TIME_MAX) {
                e = json_excerpt(w->text + n->offset, n->end - n->offset, false);
                if (!e)
                        return -ENOMEM;
                json_walk_report(w, FINDING_ERROR, n->pos, path,
                                 "\"waitingTime\" must be between %u and %u seconds, but it is %s",
                                 SCRIPT_CONFIG_WAITING_TIME_MIN, SCRIPT_CONFIG_WAITING_TIME_MAX, e);
                return -EINVAL;
        }

        *(unsigned *) ((char *) data + f->offset) = (unsigned) v;
        return 0;
}

/* ---- the hooks of the objects ---------------------------------------------------------------------- */

static int event_begin(JsonWalker *w, void *data, void *parent, size_t index) {
        ScriptEventConfig *cfg = data;
        ConfigParse *cp = w->userdata;

        cfg->present = true;
        cfg->waiting_time_sec = SCRIPT_CONFIG_WAITING_TIME_DEFAULT;
        memset(cp->context_seen, 0, sizeof(cp->context_seen));
        return 0;
}

static int entry_begin(JsonWalker *w, void *data, void *parent, size_t index) {
        EntryParse *e = data;

        *e = (EntryParse) {
                .x = {
                        .present = true,
                        .s3_log_enabled = true,
                        .json_index = (unsigned) index,
                },
                .context = -1,
                .event_executables = parent,
        };
        return 0;
}

/* Stores a valid entry as the event's executable of its context; frees an invalid one. */
static int entry_end(JsonWalker *w, void *data, bool ok) {
        EntryParse *e = data;

        if (ok && e->context >= 0) {
                if (!e->x.arguments)
                        e->x.arguments = strdup("");
                if (!e->x.argv)
                        e->x.argv = calloc(1, sizeof(char *));
                if (e->x.arguments && e->x.argv) {
                        e->event_executables[e->context] = e->x;
                        return 0;
                }
        }

        free(e->x.filename);
        free(e->x.arguments);
        strv_free(e->x.argv);
        return ok && e->context >= 0 ? -ENOMEM : 0;
}

/* ---- the tables ---------------------------------------------------------------------------------- */

static const JsonField entry_fields[] = {
        { "context",      parse_context,   NULL, 0,
          .required = "; it is required and must be \"user\" or \"system\"" },
        { "filename",     parse_filename,  NULL, 0 },
        { "arguments",    parse_arguments, NULL, 0 },
        { "s3LogEnabled", parse_boolean,   NULL, offsetof(EntryParse, x.s3_log_enabled) },
};

static const JsonSchema entry_schema = {
        .fields = entry_fields,
        .n_fields = ELEMENTSOF(entry_fields),
        .what = "Each entry of \"executables\"",
        .expected = "an object like {\"context\": \"system\", \"filename\": \"/path/to/script\"}",
        .subject = "This executable",
        .unknown_noun = "key",
        .unknown_where = " in an executable entry",
        .known_label = "known keys:",
        .data_size = sizeof(EntryParse),
        .begin = entry_begin,
        .end = entry_end,
};

static const JsonSchema executables_schema = {
        .element = &entry_schema,
        .max_elements = SCRIPT_CONFIG_MAX_EXECUTABLES,
        .max_elements_hint = " (one for the user context, one for the system context)",
        .expected = "an array of executable objects ([…])",
};

static const JsonField event_fields[] = {
        { "executables", NULL, &executables_schema, offsetof(ScriptEventConfig, executables),
          .required = " array; it is required in an event (write \"executables\": [] for none)" },
        { "waitingTime", parse_waiting_time, NULL, offsetof(ScriptEventConfig, waiting_time_sec) },
};

static const JsonSchema event_schema = {
        .fields = event_fields,
        .n_fields = ELEMENTSOF(event_fields),
        .expected = "an object like {\"executables\": […], \"waitingTime\": 30}",
        .unknown_noun = "key",
        .unknown_where = " in an event",
        .known_label = "known keys:",
        .begin = event_begin,
};

/* Indexed by ScriptEvent: these are the names of the events (script_event_to_string()). */
static const JsonField document_fields[] = {
        [SCRIPT_EVENT_START] = { "SessionStart", NULL, &event_schema,
                                 offsetof(ScriptConfig, events[SCRIPT_EVENT_START]) },
        [SCRIPT_EVENT_TERMINATION] = { "SessionTermination", NULL, &event_schema,
                                       offsetof(ScriptConfig, events[SCRIPT_EVENT_TERMINATION]) },
};

static const JsonSchema document_schema = {
        .fields = document_fields,
        .n_fields = ELEMENTSOF(document_fields),
        .what = "The top level of config.json",
        .expected = "an object ({\"SessionStart\": {…}, \"SessionTermination\": {…}})",
        .unknown_noun = "event",
        .unknown_where = "",
        .known_label = "the only events are",
};

const char *script_event_to_string(ScriptEvent e) {
        if ((unsigned) e >= _SCRIPT_EVENT_MAX)
                return NULL;
        return document_fields[e].name;
}

int script_event_from_string(const char *s) {
        const JsonField *f;

        f = s ? json_schema_field(&document_schema, s, strlen(s)) : NULL;
        if (!f)
                return -EINVAL;
        return (int) (f - document_fields);
}

/* ---- parse --------------------------------------------------------------------------------------- */

static bool json_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int script_config_parse(const char *buf, size_t len, ScriptConfig **ret_config, FindingList *findings) {
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(script_config_freep) ScriptConfig *config = NULL;
        _cleanup_(json_scan_error_done) JsonScanError error = {};
        _cleanup_(json_node_done) JsonNode root = {};
        size_t first = findings ? findings->n : 0, errors_before, blanks = 0;
        const char *text = buf;
        ConfigParse cp = {};
        JsonWalker w;
        int r;

        if (!findings || (!buf && len > 0))
                return -EINVAL;
        errors_before = findings->n_errors;

        if (len > SCRIPT_CONFIG_MAX_FILE_SIZE) {
                r = finding_list_add(findings, FINDING_ERROR, 1, 1, "", NULL,
                                     "config.json is larger than %u bytes, the most that is accepted",
                                     SCRIPT_CONFIG_MAX_FILE_SIZE);
                return r < 0 ? r : -EINVAL;
        }

        /* A UTF-8 byte order mark, as Windows editors write one, is skipped with a warning: it is
         * not JSON, but harmless. Editors do not show it, so the text after it starts at column 1. */
        if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
                r = finding_list_add(findings, FINDING_WARNING, 1, 1, "", NULL,
                                     "config.json starts with a UTF-8 byte order mark, which is ignored");
                if (r < 0)
                        return r;
                text += 3;
                len -= 3;
        }

        while (blanks < len && json_blank(text[blanks]))
                blanks++;
        if (blanks >= len) {
                JsonPos end = json_text_position(text, 0, (JsonPos) { 1, 1 }, len);

                r = finding_list_add(findings, FINDING_ERROR, end.line, end.column, "", NULL,
                                     len == 0 ? "config.json is empty; it must contain a JSON object"
                                              : "config.json contains only white space; it must contain a "
                                                "JSON object");
                return r < 0 ? r : -EINVAL;
        }

        r = json_scan(text, len, &document_schema, &root, &error);
        if (r == -EINVAL) {
                r = finding_list_add(findings, FINDING_ERROR, error.pos.line, error.pos.column, error.path,
                                     NULL, "%s", error.message);
                return r < 0 ? r : -EINVAL;
        }
        if (r < 0)
                return r;

        /* Not JSON_TOKENER_STRICT: the scanner is the strict syntax check (stricter than json-c's),
         * and json-c 0.18's strict mode refuses every byte >= 0x80 inside a string (it compares a
         * plain char with 0x1f, so a valid "ü" reads as a control character and is reported as
         * "invalid utf-8 string"). UTF-8 validation stays on as a second check of what the scanner
         * already verified. */
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);

        config = calloc(1, sizeof(ScriptConfig));
        if (!config)
                return -ENOMEM;
        for (size_t e = 0; e < _SCRIPT_EVENT_MAX; e++)
                config->events[e].waiting_time_sec = SCRIPT_CONFIG_WAITING_TIME_DEFAULT;

        w = (JsonWalker) {
                .text = text,
                .len = len,
                .findings = findings,
                .tok = tok,
                .userdata = &cp,
        };
        r = json_walk(&w, &document_schema, &root, config);
        if (r < 0)
                return r;

        r = finding_list_sort_from(findings, first);
        if (r < 0)
                return r;

        if (findings->n_errors > errors_before)
                return -EINVAL;

        if (ret_config)
                *ret_config = TAKE_PTR(config);
        return 0;
}
