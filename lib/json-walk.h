/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table-driven walker: applies the schema tables (json-schema.h) to the position index of a
 * scanned document (json-scan.h), reporting findings with line, column and JSON path, and calls the
 * fields' parsers, which fill the caller's typed structure. Pure: no I/O, no logging.
 *
 * For each object that has a schema, in this order:
 *  1. a value that is no object draws the schema's type error, and nothing below it is read;
 *  2. every key given twice (case-insensitively, as keys are matched) draws an error, and only the
 *     last of them is interpreted;
 *  3. in document order, unknown keys draw a warning and known objects are walked;
 *  4. in table order, a required object that is missing draws an error; then, in table order, the
 *     values read whole are parsed; then, in table order, the arrays are walked (an element past
 *     JsonSchema.max_elements draws an error but is still read). A required value or array that is
 *     missing draws an error in its turn.
 * Findings are added in that order; the caller sorts them by position (finding_list_sort_from()).
 */
#pragma once

#include <json-c/json.h>

#include "finding-list.h"
#include "json-scan.h"
#include "json-schema.h"

struct JsonWalker {
        const char *text;               /* the document the index was built from */
        size_t len;
        FindingList *findings;          /* where findings go */
        struct json_tokener *tok;       /* decodes the values that parsers read (json_walk_decode()) */
        void *userdata;                 /* for the parsers and hooks */
        int error;                      /* the first -ENOMEM; walking stops at it */
};

/* Walks root (the index of w->text) with the object schema `schema`; data is the top level's data
 * (or, when the schema has a data_size, the parent passed to its begin()). Returns 0 (findings may
 * contain errors) or -ENOMEM. */
int json_walk(JsonWalker *w, const JsonSchema *schema, const JsonNode *root, void *data);

/* Adds a finding at `at` with the JSON path `path`; an allocation failure is kept in w->error. */
void json_walk_report(JsonWalker *w, FindingSeverity severity, JsonPos at, const char *path,
                      const char *format, ...) __attribute__((format(printf, 5, 6)));

/* Reports `<what> must be <expected>, but it is <the value found>` (plus hint, if not NULL) as an
 * error at n. */
void json_walk_type_error(JsonWalker *w, const JsonNode *n, const char *path, const char *what,
                          const char *expected, const char *hint);

/*
 * Decodes the value of the scalar node n (a string, number, true or false) with json-c, from the
 * node's own span of the text: only the values that are read are decoded — a big value below an
 * unknown key costs no memory — and a value always belongs to its node, also when a key is given
 * twice. The node type is the scanner's, so the json-c type matches it. Returns a new reference
 * (the caller puts it), or NULL with an error reported (or w->error set).
 */
struct json_object *json_walk_decode(JsonWalker *w, const JsonNode *n, const char *path);
