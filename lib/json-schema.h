/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tables that say which parts of a JSON document are interpreted and how (in the manner of
 * systemd's ConfigTableItem): one JsonSchema per object or array level, whose fields name the known
 * keys with their kind, parser and target. The scanner (json-scan.h) indexes exactly the containers
 * that have a schema and spells known keys canonically in JSON paths; the walker (json-walk.h)
 * interprets the index with the same tables.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct JsonNode JsonNode;
typedef struct JsonWalker JsonWalker;
typedef struct JsonSchema JsonSchema;
typedef struct JsonField JsonField;

/*
 * Parses the value n of the field f into the target at (char *) data + f->offset, data being the
 * object's (JsonSchema.data_size). path is the value's JSON path. Reports every problem itself
 * (json_walk_report() and friends). Returns 0, -EINVAL when the value was refused (the object is
 * then not valid: JsonSchema.end sees ok = false) or -ENOMEM.
 */
typedef int (*JsonFieldParser)(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path,
                               void *data);

struct JsonField {
        const char *name;               /* canonical spelling; keys match it case-insensitively */
        JsonFieldParser parse;          /* for a value read whole (string, number, boolean) … */
        const JsonSchema *schema;       /* … or for an object or array walked with its own table */
        size_t offset;                  /* of the target in the object's data (a container's data
                                         * is at this offset too) */
        /* NULL when the key may be left out; else what follows "<subject> has no \"<name>\"" in
         * the error about its absence. */
        const char *required;
};

struct JsonSchema {
        /* An object: its known keys, in the order that messages list them and parsers run. */
        const JsonField *fields;
        size_t n_fields;
        /* An array: the schema of its elements (objects), and at most how many it may have (0: no
         * limit beyond the scanner's) with what the error about more adds. */
        const JsonSchema *element;
        unsigned max_elements;
        const char *max_elements_hint;

        /* The type error: "<what> must be <expected>, but it is …"; what NULL means the quoted
         * canonical key name. */
        const char *what;
        const char *expected;
        /* The subject of "… has no \"key\"" errors; NULL means the quoted canonical key name. */
        const char *subject;
        /* The unknown-key warning: "Unknown <unknown_noun> \"key\"<unknown_where> is ignored
         * (<known_label> <the names of the fields>)". */
        const char *unknown_noun;
        const char *unknown_where;
        const char *known_label;

        /* An object with data_size > 0 gets data of its own, zeroed, for its fields' targets;
         * otherwise its data is its parent's at the field's offset (the document's: what
         * json_walk() is given). begin() runs once the value is known to be an object, before its
         * fields; end() after them, with ok false when a field was refused or a required one is
         * missing, and must free what the data owns. Both may be NULL; they return 0 or -ENOMEM. */
        size_t data_size;
        int (*begin)(JsonWalker *w, void *data, void *parent, size_t index);
        int (*end)(JsonWalker *w, void *data, bool ok);
};

/* The field of the object schema s whose name is key (key_len bytes, ASCII case-insensitively; a
 * key with an embedded NUL matches none), or NULL. s may be NULL (then NULL). */
const JsonField *json_schema_field(const JsonSchema *s, const char *key, size_t key_len);

/* The names of the fields of s, comma-separated, in a new string; NULL on allocation failure. */
char *json_schema_field_names(const JsonSchema *s);

/* Compares n bytes case-insensitively in ASCII (as strncasecmp in the C locale), but without
 * stopping at a NUL: decoded keys may contain one (written as \u0000). */
int memcasecmp_ascii(const char *a, const char *b, size_t n);
