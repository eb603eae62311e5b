/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table-driven walker over the position index (json-walk.h). */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json-walk.h"

/* Records an allocation failure; walking stops at it. Returns -ENOMEM. */
static int walker_oom(JsonWalker *w) {
        if (w->error == 0)
                w->error = -ENOMEM;
        return -ENOMEM;
}

void json_walk_report(JsonWalker *w, FindingSeverity severity, JsonPos at, const char *path,
                      const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = finding_list_addv(w->findings, severity, at.line, at.column, path, NULL, format, ap);
        va_end(ap);
        if (r < 0)
                (void) walker_oom(w);
}

/*
 * The JSON path of the member `child` of the object at `parent`, which has the schema `schema`: a
 * known key in its canonical spelling ("SessionStart.executables" also for
 * "sessionstart"/"Executables"), an unknown one as written (as an escaped excerpt).
 */
static char *path_join_member(const char *parent, const JsonSchema *schema, const JsonNode *child) {
        _cleanup_(freep) char *k = NULL;
        const JsonField *f;
        const char *name;
        char *p = NULL;

        f = json_schema_field(schema, child->key, child->key_len);
        name = f ? f->name : NULL;
        if (!name) {
                k = json_excerpt(child->key ?: "", child->key_len, true);
                if (!k)
                        return NULL;
                name = k;
        }
        if (asprintf(&p, "%s%s%s", parent, parent[0] ? "." : "", name) < 0)
                return NULL;
        return p;
}

static const char *node_type_name(JsonNodeType t) {
        switch (t) {
        case JSON_NODE_OBJECT:
                return "an object";
        case JSON_NODE_ARRAY:
                return "an array";
        case JSON_NODE_STRING:
                return "a string";
        case JSON_NODE_NUMBER:
                return "a number";
        case JSON_NODE_BOOLEAN:
                return "a boolean";
        default:
                return "null";
        }
}

/* "a string (\"30\")", "the number 1.5", "true", "an object": how a found value is named. */
static char *describe_value(const JsonWalker *w, const JsonNode *n) {
        _cleanup_(freep) char *e = NULL;
        char *d = NULL;

        switch (n->type) {
        case JSON_NODE_STRING:
        case JSON_NODE_NUMBER:
                e = json_excerpt(w->text + n->offset, n->end - n->offset, false);
                if (!e)
                        return NULL;
                if (asprintf(&d, n->type == JSON_NODE_STRING ? "the string %s" : "the number %s", e) < 0)
                        return NULL;
                return d;
        case JSON_NODE_BOOLEAN:
        case JSON_NODE_NULL:
                return strndup(w->text + n->offset, n->end - n->offset);
        default:
                return strdup(node_type_name(n->type));
        }
}

/* Reports a type mismatch: `<what> must be <expected>, but it is <found>`, plus an optional hint. */
void json_walk_type_error(JsonWalker *w, const JsonNode *n, const char *path, const char *what,
                          const char *expected, const char *hint) {
        _cleanup_(freep) char *found = NULL;

        found = describe_value(w, n);
        if (!found) {
                (void) walker_oom(w);
                return;
        }
        json_walk_report(w, FINDING_ERROR, n->pos, path, "%s must be %s, but it is %s%s", what, expected,
                         found, hint ?: "");
}

struct json_object *json_walk_decode(JsonWalker *w, const JsonNode *n, const char *path) {
        struct json_object *j;
        enum json_tokener_error e;

        json_tokener_reset(w->tok);
        j = json_tokener_parse_ex(w->tok, w->text + n->offset, (int) (n->end - n->offset));
        if (!j && json_tokener_get_error(w->tok) == json_tokener_continue)
                /* A number or literal is only complete once json-c sees its end. */
                j = json_tokener_parse_ex(w->tok, "", 1);
        if (j)
                return j;

        e = json_tokener_get_error(w->tok);
        if (e == json_tokener_success || e == json_tokener_continue) {
                /* NULL with success is "null", which the walker never decodes; say so anyway. */
                json_walk_report(w, FINDING_ERROR, n->pos, path, "This value cannot be decoded");
                return NULL;
        }
        /* json-c refusing what the strict scanner accepted (not expected; or out of memory). */
        json_walk_report(w, FINDING_ERROR, n->pos, path, "This value cannot be decoded (%s)",
                         json_tokener_error_desc(e));
        return NULL;
}

static int key_compare_ci(const void *a, const void *b) {
        const JsonNode *const *x = a, *const *y = b;
        size_t n = MIN((*x)->key_len, (*y)->key_len);
        int r;

        r = memcasecmp_ascii((*x)->key, (*y)->key, n);
        if (r != 0)
                return r;
        if ((*x)->key_len != (*y)->key_len)
                return (*x)->key_len < (*y)->key_len ? -1 : 1;
        /* Equal keys: keep document order. */
        return (*x)->key_offset < (*y)->key_offset ? -1 : (*x)->key_offset > (*y)->key_offset;
}

/*
 * Reports every key that occurs a second time in the object `obj` with the schema `schema`
 * (case-insensitively, as key names are matched case-insensitively: "waitingTime" and "WaitingTime"
 * name the same setting), and returns an array with one flag per member: true for a member that a
 * later one of the same name shadows. Only the last of such members is interpreted, so a duplicate
 * draws just the one error about it. Returns NULL (w->error set) on allocation failure.
 */
static bool *walker_check_duplicates(JsonWalker *w, const JsonNode *obj, const JsonSchema *schema,
                                     const char *path) {
        _cleanup_(freep) const JsonNode **sorted = NULL;
        _cleanup_(freep) bool *shadowed = NULL;

        shadowed = calloc(MAX(obj->n_children, 1U), sizeof(bool));
        if (!shadowed) {
                (void) walker_oom(w);
                return NULL;
        }
        if (obj->n_children < 2)
                return TAKE_PTR(shadowed);

        sorted = calloc(obj->n_children, sizeof(JsonNode *));
        if (!sorted) {
                (void) walker_oom(w);
                return NULL;
        }
        for (size_t i = 0; i < obj->n_children; i++)
                sorted[i] = &obj->children[i];
        qsort(sorted, obj->n_children, sizeof(JsonNode *), key_compare_ci);

        for (size_t i = 1, group = 0; i < obj->n_children; i++) {
                const JsonNode *first = sorted[group], *dup = sorted[i];
                _cleanup_(freep) char *k1 = NULL, *k2 = NULL, *p = NULL;

                if (first->key_len != dup->key_len ||
                    memcasecmp_ascii(first->key, dup->key, dup->key_len) != 0) {
                        group = i;
                        continue;
                }

                /* Within a group the order is the document's: the one before this one is shadowed. */
                shadowed[sorted[i - 1] - obj->children] = true;

                k1 = json_excerpt(first->key, first->key_len, true);
                k2 = json_excerpt(dup->key, dup->key_len, true);
                p = path_join_member(path, schema, dup);
                if (!k1 || !k2 || !p) {
                        (void) walker_oom(w);
                        return NULL;
                }
                if (memcmp(first->key, dup->key, dup->key_len) == 0)
                        json_walk_report(w, FINDING_ERROR, dup->key_pos, p,
                                         "The key \"%s\" appears twice in this object (first at line %u, "
                                         "column %u)",
                                         k2, first->key_pos.line, first->key_pos.column);
                else
                        json_walk_report(w, FINDING_ERROR, dup->key_pos, p,
                                         "The keys \"%s\" (line %u, column %u) and \"%s\" name the "
                                         "same setting, because key names are case-insensitive; keep only "
                                         "one of them",
                                         k1, first->key_pos.line, first->key_pos.column, k2);
        }
        return TAKE_PTR(shadowed);
}

static void walker_unknown_key(JsonWalker *w, const JsonSchema *schema, const JsonNode *child,
                               const char *path) {
        _cleanup_(freep) char *k = NULL, *known = NULL;

        k = json_excerpt(child->key ?: "", child->key_len, true);
        known = json_schema_field_names(schema);
        if (!k || !known) {
                (void) walker_oom(w);
                return;
        }
        json_walk_report(w, FINDING_WARNING, child->key_pos, path, "Unknown %s \"%s\"%s is ignored (%s %s)",
                         schema->unknown_noun, k, schema->unknown_where, schema->known_label, known);
}

/* The quoted canonical name of a field, for "what" and "subject" texts that the schema leaves NULL. */
static char *quoted_name(const char *text, const char *name) {
        char *q = NULL;

        if (text)
                return strdup(text);
        if (asprintf(&q, "\"%s\"", name) < 0)
                return NULL;
        return q;
}

static int walk_object(JsonWalker *w, const JsonSchema *schema, const JsonNode *obj, const char *path,
                       const char *name, void *parent, size_t index);

/* Walks the array n, the value of the field f (path: its JSON path), whose elements are objects. */
static int walk_array(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path, void *data) {
        const JsonSchema *schema = f->schema;
        bool ok = true;

        if (n->type != JSON_NODE_ARRAY) {
                _cleanup_(freep) char *what = quoted_name(schema->what, f->name);

                if (!what)
                        return walker_oom(w);
                json_walk_type_error(w, n, path, what, schema->expected, NULL);
                return -EINVAL;
        }

        for (size_t i = 0; i < n->n_children && w->error == 0; i++) {
                _cleanup_(freep) char *p = NULL;

                if (asprintf(&p, "%s[%zu]", path, i) < 0)
                        return walker_oom(w);
                if (schema->max_elements > 0 && i == schema->max_elements) {
                        json_walk_report(w, FINDING_ERROR, n->children[i].pos, p,
                                         "\"%s\" has %zu entries, but at most %u are allowed%s",
                                         f->name, n->n_children, schema->max_elements,
                                         schema->max_elements_hint ?: "");
                        ok = false;
                }
                if (walk_object(w, schema->element, &n->children[i], p, NULL, (char *) data + f->offset,
                                i) < 0)
                        ok = false;
        }
        return ok ? 0 : -EINVAL;
}

typedef enum FieldPass {
        PASS_OBJECTS,           /* in document order, with the unknown keys */
        PASS_VALUES,
        PASS_ARRAYS,
} FieldPass;

static FieldPass field_pass(const JsonField *f) {
        if (!f->schema)
                return PASS_VALUES;
        return f->schema->element ? PASS_ARRAYS : PASS_OBJECTS;
}

/* Reads the value n of the field f. Returns 0, -EINVAL (refused) or -ENOMEM (also in w->error). */
static int walk_field(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path, void *data) {
        int r;

        switch (field_pass(f)) {
        case PASS_VALUES:
                r = f->parse(w, f, n, path, data);
                return r == -ENOMEM ? walker_oom(w) : r;
        case PASS_ARRAYS:
                return walk_array(w, f, n, path, data);
        default:
                return walk_object(w, f->schema, n, path, f->name, (char *) data + f->offset, 0);
        }
}

/*
 * Walks the object obj (path: its JSON path; name: the canonical key it is the value of, or NULL)
 * with `schema`. parent is the data of the enclosing object (at the field's offset), index the
 * position in an enclosing array. Returns 0, -EINVAL when the object is not valid, or -ENOMEM.
 */
static int walk_object(JsonWalker *w, const JsonSchema *schema, const JsonNode *obj, const char *path,
                       const char *name, void *parent, size_t index) {
        _cleanup_(freep) const JsonNode **slots = NULL;
        _cleanup_(freep) bool *shadowed = NULL;
        _cleanup_(freep) void *own = NULL;
        void *data = parent;
        bool ok = true;
        int r;

        if (obj->type != JSON_NODE_OBJECT) {
                _cleanup_(freep) char *what = quoted_name(schema->what, name);

                if (!what)
                        return walker_oom(w);
                json_walk_type_error(w, obj, path, what, schema->expected, NULL);
                return -EINVAL;
        }

        if (schema->data_size > 0) {
                own = calloc(1, schema->data_size);
                if (!own)
                        return walker_oom(w);
                data = own;
        }
        if (schema->begin) {
                r = schema->begin(w, data, parent, index);
                if (r < 0)
                        return walker_oom(w);
        }

        slots = calloc(MAX(schema->n_fields, 1U), sizeof(JsonNode *));
        if (!slots)
                (void) walker_oom(w);
        else
                shadowed = walker_check_duplicates(w, obj, schema, path);

        /* Unknown keys and objects, in document order. */
        for (size_t i = 0; i < obj->n_children && w->error == 0; i++) {
                const JsonNode *c = &obj->children[i];
                _cleanup_(freep) char *p = NULL;
                const JsonField *f;

                if (shadowed[i])
                        continue;       /* a duplicate, already reported; the last one counts */

                f = json_schema_field(schema, c->key, c->key_len);
                if (f) {
                        slots[f - schema->fields] = c;
                        if (field_pass(f) != PASS_OBJECTS)
                                continue;
                }

                p = path_join_member(path, schema, c);
                if (!p) {
                        (void) walker_oom(w);
                        break;
                }
                if (!f)
                        walker_unknown_key(w, schema, c, p);
                else if (walk_field(w, f, c, p, data) < 0)
                        ok = false;
        }

        /* In table order: the missing objects, then the values read whole, then the arrays. */
        for (FieldPass pass = PASS_OBJECTS; pass <= PASS_ARRAYS; pass++)
                for (size_t i = 0; i < schema->n_fields && w->error == 0; i++) {
                        const JsonField *f = &schema->fields[i];
                        _cleanup_(freep) char *p = NULL;

                        if (field_pass(f) != pass || (pass == PASS_OBJECTS && slots[i]))
                                continue;

                        if (!slots[i]) {
                                _cleanup_(freep) char *subject = NULL;

                                if (!f->required)
                                        continue;
                                subject = quoted_name(schema->subject, name);
                                if (!subject) {
                                        (void) walker_oom(w);
                                        break;
                                }
                                json_walk_report(w, FINDING_ERROR, obj->pos, path, "%s has no \"%s\"%s",
                                                 subject, f->name, f->required);
                                ok = false;
                                continue;
                        }

                        p = path_join_member(path, schema, slots[i]);
                        if (!p) {
                                (void) walker_oom(w);
                                break;
                        }
                        if (walk_field(w, f, slots[i], p, data) < 0)
                                ok = false;
                }

        if (schema->end) {
                r = schema->end(w, data, ok && w->error == 0);
                if (r < 0)
                        return walker_oom(w);
        }
        if (w->error < 0)
                return w->error;
        return ok ? 0 : -EINVAL;
}

int json_walk(JsonWalker *w, const JsonSchema *schema, const JsonNode *root, void *data) {
        (void) walk_object(w, schema, root, "", NULL, data, 0);
        return w->error;
}
