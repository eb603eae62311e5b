/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The strict JSON scanner of config.json and the position index it builds.
 *
 * json-c's own "strict" mode still accepts single quotes, NaN, "1.", raw control characters in
 * strings and trailing bytes after a NUL, and gives no positions of values. This scanner validates
 * RFC 8259 syntax and records, for every value of the containers that have a schema
 * (json-schema.h; nothing under unknown keys), its line and column and those of its key, and for a
 * syntax error the JSON path it is in, so that every finding can name the exact place. It decodes
 * keys only; the walker decodes the values it reads (json-walk.h). Pure: no I/O, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "json-schema.h"

/* How many characters of a value or key are quoted in a message before it is cut off with "…". */
#define JSON_EXCERPT_MAX 48U

typedef struct JsonPos {
        unsigned line;          /* 1-based */
        unsigned column;        /* 1-based, in characters */
} JsonPos;

typedef enum JsonNodeType {
        JSON_NODE_OBJECT,
        JSON_NODE_ARRAY,
        JSON_NODE_STRING,
        JSON_NODE_NUMBER,
        JSON_NODE_BOOLEAN,
        JSON_NODE_NULL,
} JsonNodeType;

struct JsonNode {
        JsonNodeType type;
        JsonPos pos;            /* of the value's first character */
        size_t offset;          /* byte span of the value in the text */
        size_t end;
        /* For members of an object: */
        char *key;              /* decoded (may contain NUL when written as \u0000; see key_len) */
        size_t key_len;
        JsonPos key_pos;        /* of the key's opening quote */
        size_t key_offset;      /* byte offset of the key's opening quote */
        /* The members or elements, only of the objects and arrays that have a schema (at most
         * 1024 of them: more is a syntax error there); none elsewhere. */
        JsonNode *children;
        size_t n_children;
};

/* Frees what n owns (its key and children) and resets it; accepts NULL. */
void json_node_done(JsonNode *n);

typedef struct JsonScanError {
        JsonPos pos;
        char *message;          /* one sentence, e.g. "Trailing comma: JSON does not allow …" */
        char *path;             /* the JSON path the error is in ("" at the top) */
} JsonScanError;

void json_scan_error_done(JsonScanError *e);

/*
 * Validates text[0..len) (any bytes; text[0] is at line 1, column 1) as one strict JSON document
 * whose top level has the schema `schema`, nested no deeper than SCRIPT_CONFIG_MAX_DEPTH, and
 * builds the position index in *ret_root (the caller frees it with json_node_done()). Returns 0;
 * -EINVAL for the first syntax error, described in *ret_error (the caller frees it with
 * json_scan_error_done()); or -ENOMEM. Out-parameters are set only for those returns.
 */
int json_scan(const char *text, size_t len, const JsonSchema *schema, JsonNode *ret_root,
              JsonScanError *ret_error);

/* Line and column of byte offset `offset` of text, counting from byte `base`, which is at
 * `base_pos`. */
JsonPos json_text_position(const char *text, size_t base, JsonPos base_pos, size_t offset);

/*
 * The position in text of the character that produced the byte at decoded_offset of the decoded
 * value of the string node n (an escape like \" counts as the one byte it decodes to).
 */
JsonPos json_string_position(const char *text, const JsonNode *n, size_t decoded_offset);

/*
 * Writes a printable excerpt of s[0..n) into a new string: control characters and invalid bytes
 * as \xNN, at most JSON_EXCERPT_MAX characters, "…" appended when cut. Used for every piece of the
 * document that goes into a message or a JSON path, so findings are always safe to print.
 *
 * `decoded` is for decoded strings (keys and string values), which messages show inside "…": a '"'
 * and a '\' in them are escaped as \" and \\, so the quoting in the message stays unambiguous.
 * Raw document text (!decoded) is shown as written: its quotes and escapes are JSON's own.
 * Returns NULL on allocation failure.
 */
char *json_excerpt(const char *s, size_t n, bool decoded);
