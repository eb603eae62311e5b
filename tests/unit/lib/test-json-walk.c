/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the strict scanner (lib/json-scan.c) and of the table-driven walker (lib/json-walk.c)
 * with a schema of their own, apart from config.json's: which containers are indexed, positions of
 * decoded string bytes, excerpts; and the walker's rules — type errors, required and unknown keys,
 * duplicates (the last one counts), case-insensitive keys with canonical paths, array limits, the
 * order in which fields are read, and the begin/end hooks with their ok flag.
 */
#include <stddef.h>
#include <stdlib.h>

#include "cleanup.h"
#include "json-scan.h"
#include "json-util.h"
#include "json-walk.h"
#include "tests.h"

typedef struct Item {
        long value;
} Item;

typedef struct Doc {
        char *name;
        long count;
        bool flag;
        Item items[4];
        size_t n_items_ok, n_items_bad;
        char order[16];                 /* the fields in the order they were parsed */
} Doc;

static void doc_done(Doc *d) {
        free(d->name);
}

static void order_add(JsonWalker *w, char c) {
        Doc *d = w->userdata;
        size_t n = strlen(d->order);

        if (n + 1 < sizeof(d->order))
                d->order[n] = c;
}

static int parse_string(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path, void *data) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;
        char **target = (char **) ((char *) data + f->offset);

        order_add(w, 's');
        if (n->type != JSON_NODE_STRING) {
                json_walk_type_error(w, n, path, "\"name\"", "a string", NULL);
                return -EINVAL;
        }
        j = json_walk_decode(w, n, path);
        if (!j)
                return -EINVAL;
        free(*target);
        *target = strdup(json_object_get_string(j));
        return *target ? 0 : -ENOMEM;
}

static int parse_number(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path, void *data) {
        _cleanup_(json_object_putp) struct json_object *j = NULL;

        order_add(w, 'n');
        if (n->type != JSON_NODE_NUMBER) {
                json_walk_type_error(w, n, path, "a number field", "a number", NULL);
                return -EINVAL;
        }
        j = json_walk_decode(w, n, path);
        if (!j)
                return -EINVAL;
        *(long *) ((char *) data + f->offset) = (long) json_object_get_int64(j);
        return 0;
}

static int parse_flag(JsonWalker *w, const JsonField *f, const JsonNode *n, const char *path, void *data) {
        order_add(w, 'f');
        *(bool *) ((char *) data + f->offset) = n->type == JSON_NODE_BOOLEAN;
        return 0;
}

typedef struct ItemParse {
        Item item;
        size_t index;
        Item *items;
} ItemParse;

static int item_begin(JsonWalker *w, void *data, void *parent, size_t index) {
        ItemParse *p = data;

        order_add(w, 'b');
        p->index = index;
        p->items = parent;
        return 0;
}

static int item_end(JsonWalker *w, void *data, bool ok) {
        ItemParse *p = data;
        Doc *d = w->userdata;

        order_add(w, 'e');
        if (ok && p->index < ELEMENTSOF(d->items)) {
                p->items[p->index] = p->item;
                d->n_items_ok++;
        } else
                d->n_items_bad++;
        return 0;
}

static const JsonField item_fields[] = {
        { "value", parse_number, NULL, offsetof(ItemParse, item.value), .required = " value" },
};

static const JsonSchema item_schema = {
        .fields = item_fields,
        .n_fields = ELEMENTSOF(item_fields),
        .what = "An item",
        .expected = "an object",
        .subject = "This item",
        .unknown_noun = "key",
        .unknown_where = " in an item",
        .known_label = "known keys:",
        .data_size = sizeof(ItemParse),
        .begin = item_begin,
        .end = item_end,
};

static const JsonSchema items_schema = {
        .element = &item_schema,
        .max_elements = 2,
        .max_elements_hint = " (two is plenty)",
        .expected = "an array",
};

static const JsonField inner_fields[] = {
        { "flag", parse_flag, NULL, 0 },
};

static const JsonSchema inner_schema = {
        .fields = inner_fields,
        .n_fields = ELEMENTSOF(inner_fields),
        .expected = "an object",
        .unknown_noun = "key",
        .unknown_where = " inside",
        .known_label = "known keys:",
};

static const JsonField doc_fields[] = {
        { "items", NULL, &items_schema, offsetof(Doc, items) },
        { "Name", parse_string, NULL, offsetof(Doc, name), .required = "; give it one" },
        { "inner", NULL, &inner_schema, offsetof(Doc, flag), .required = " object" },
        { "count", parse_number, NULL, offsetof(Doc, count) },
};

static const JsonSchema doc_schema = {
        .fields = doc_fields,
        .n_fields = ELEMENTSOF(doc_fields),
        .what = "The document",
        .expected = "an object",
        .subject = "The document",
        .unknown_noun = "thing",
        .unknown_where = "",
        .known_label = "known are",
};

/* Scans and walks text into *d; returns what json_walk() returned (scan errors abort the test). */
static int walk(const char *text, Doc *d, FindingList *f) {
        _cleanup_(json_tokener_freep) struct json_tokener *tok = json_tokener_new();
        _cleanup_(json_scan_error_done) JsonScanError error = {};
        _cleanup_(json_node_done) JsonNode root = {};
        JsonWalker w;
        int r;

        ASSERT_TRUE(tok);
        ASSERT_OK(json_scan(text, strlen(text), &doc_schema, &root, &error));
        w = (JsonWalker) {
                .text = text,
                .len = strlen(text),
                .findings = f,
                .tok = tok,
                .userdata = d,
        };
        r = json_walk(&w, &doc_schema, &root, d);
        ASSERT_OK(finding_list_sort_from(f, 0));
        return r;
}

static void dump(const FindingList *f) {
        for (size_t i = 0; i < f->n; i++)
                fprintf(stderr, "  %u:%u [%s] %s\n", f->items[i].line, f->items[i].column,
                        f->items[i].json_path, f->items[i].message);
}

static void expect(const FindingList *f, size_t i, FindingSeverity severity, unsigned line,
                   unsigned column, const char *path, const char *message) {
        if (i >= f->n || f->items[i].severity != severity || f->items[i].line != line ||
            f->items[i].column != column || strcmp(f->items[i].json_path, path) != 0 ||
            strcmp(f->items[i].message, message) != 0) {
                fprintf(stderr, "finding %zu is not %u:%u [%s] %s; the findings are:\n", i, line, column,
                        path, message);
                dump(f);
                abort();
        }
}

static void test_valid(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(doc_done) Doc d = {};

        ASSERT_OK(walk("{\"items\": [{\"value\": 1}, {\"VALUE\": 2}], \"name\": \"x\", "
                       "\"inner\": {\"flag\": true}, \"count\": 7}", &d, &f));
        ASSERT_EQ(f.n, 0);
        ASSERT_STREQ(d.name, "x");
        ASSERT_EQ(d.count, 7);
        ASSERT_TRUE(d.flag);
        ASSERT_EQ(d.items[0].value, 1);
        ASSERT_EQ(d.items[1].value, 2);
        ASSERT_EQ(d.n_items_ok, 2);
        ASSERT_EQ(d.n_items_bad, 0);
        /* Objects in document order (inner: f), then values in table order (Name: s, count: n), then
         * arrays (items: begin, value, end, twice). */
        ASSERT_STREQ(d.order, "fsnbnebne");
}

static void test_rules(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(doc_done) Doc d = {};

        ASSERT_OK(walk("{\"items\": [{\"value\": \"one\"}, {}, {\"value\": 3, \"x\": 0}],\n"
                       " \"count\": 1, \"COUNT\": 2, \"zz\": {\"deep\": [1]}}", &d, &f));
        /* Missing: the objects first, then the values, each in table order. */
        expect(&f, 0, FINDING_ERROR, 1, 1, "", "The document has no \"inner\" object");
        expect(&f, 1, FINDING_ERROR, 1, 1, "", "The document has no \"Name\"; give it one");
        expect(&f, 2, FINDING_ERROR, 1, 22, "items[0].value",
               "a number field must be a number, but it is the string \"one\"");
        expect(&f, 3, FINDING_ERROR, 1, 30, "items[1]", "This item has no \"value\" value");
        expect(&f, 4, FINDING_ERROR, 1, 34, "items[2]",
               "\"items\" has 3 entries, but at most 2 are allowed (two is plenty)");
        expect(&f, 5, FINDING_WARNING, 1, 47, "items[2].x",
               "Unknown key \"x\" in an item is ignored (known keys: value)");
        expect(&f, 6, FINDING_ERROR, 2, 14, "count",
               "The keys \"count\" (line 2, column 2) and \"COUNT\" name the same setting, because key "
               "names are case-insensitive; keep only one of them");
        expect(&f, 7, FINDING_WARNING, 2, 26, "zz",
               "Unknown thing \"zz\" is ignored (known are items, Name, inner, count)");
        ASSERT_EQ(f.n, 8);
        /* The last of the duplicates counts; the third item is read although it is one too many. */
        ASSERT_EQ(d.count, 2);
        ASSERT_EQ(d.n_items_ok, 1);
        ASSERT_EQ(d.n_items_bad, 2);
        ASSERT_EQ(d.items[2].value, 3);
}

static void test_type_errors(void) {
        _cleanup_(finding_list_done) FindingList f = {}, g = {};
        _cleanup_(doc_done) Doc d = {}, e = {};

        ASSERT_OK(walk("[1]", &d, &f));
        expect(&f, 0, FINDING_ERROR, 1, 1, "", "The document must be an object, but it is an array");
        ASSERT_EQ(f.n, 1);

        ASSERT_OK(walk("{\"name\": \"n\", \"items\": {}, \"inner\": 5}", &e, &g));
        expect(&g, 0, FINDING_ERROR, 1, 24, "items", "\"items\" must be an array, but it is an object");
        expect(&g, 1, FINDING_ERROR, 1, 37, "inner", "\"inner\" must be an object, but it is the number 5");
        ASSERT_EQ(g.n, 2);
}

/* The scanner keeps the children of the containers that have a schema only. */
static void test_scan_index(void) {
        _cleanup_(json_scan_error_done) JsonScanError error = {};
        _cleanup_(json_node_done) JsonNode root = {};
        const char *text = "{\"zz\": {\"a\": 1}, \"inner\": {\"flag\": [1, 2]},\n"
                           " \"Items\": [{\"value\": 1}]}";

        ASSERT_OK(json_scan(text, strlen(text), &doc_schema, &root, &error));
        ASSERT_EQ(root.type, JSON_NODE_OBJECT);
        ASSERT_EQ(root.n_children, 3);
        ASSERT_EQ(root.children[0].n_children, 0);              /* unknown: not indexed */
        ASSERT_EQ(root.children[1].n_children, 1);              /* inner */
        ASSERT_EQ(root.children[1].children[0].n_children, 0);  /* a value read whole */
        ASSERT_EQ(root.children[2].n_children, 1);              /* items */
        ASSERT_EQ(root.children[2].children[0].n_children, 1);  /* an item */
        ASSERT_EQ(root.children[2].key_pos.line, 2);
        ASSERT_EQ(root.children[2].key_pos.column, 2);
        ASSERT_EQ(root.children[2].pos.column, 11);
}

static void test_scan_error(void) {
        _cleanup_(json_scan_error_done) JsonScanError error = {};
        JsonNode root = {};
        const char *text = "{\"ITEMS\": [{\"value\": 1,}]}";

        ASSERT_ERROR(json_scan(text, strlen(text), &doc_schema, &root, &error), EINVAL);
        ASSERT_EQ(root.n_children, 0);
        ASSERT_EQ(error.pos.line, 1);
        ASSERT_EQ(error.pos.column, 23);
        ASSERT_STREQ(error.path, "items[0]");
        ASSERT_STREQ(error.message, "Trailing comma: JSON does not allow a ',' before '}'");
}

static void test_string_position(void) {
        _cleanup_(json_scan_error_done) JsonScanError error = {};
        _cleanup_(json_node_done) JsonNode root = {};
        /* Decoded: a " b é c 😀 d: bytes 0 'a', 1 '"', 2 'b', 3-4 'é', 5 'c', 6-9 '😀', 10 'd'. */
        const char *text = "{\"name\": \"a\\\"b\\u00e9c\\ud83d\\ude00d\"}";
        const JsonNode *n;

        ASSERT_OK(json_scan(text, strlen(text), &doc_schema, &root, &error));
        n = &root.children[0];
        ASSERT_EQ(n->pos.column, 10);
        ASSERT_EQ(json_string_position(text, n, 0).column, 11);
        ASSERT_EQ(json_string_position(text, n, 2).column, 14);
        ASSERT_EQ(json_string_position(text, n, 5).column, 21);
        ASSERT_EQ(json_string_position(text, n, 10).column, 34);
}

static void test_excerpt(void) {
        _cleanup_(freep) char *a = NULL, *b = NULL, *c = NULL;
        char long_text[100];

        a = json_excerpt("a\"b\\c\n\xff", 7, true);
        ASSERT_STREQ(a, "a\\\"b\\\\c\\x0a\\xff");
        b = json_excerpt("\"q\"", 3, false);
        ASSERT_STREQ(b, "\"q\"");
        memset(long_text, 'x', sizeof(long_text));
        c = json_excerpt(long_text, sizeof(long_text), false);
        ASSERT_EQ(strlen(c), JSON_EXCERPT_MAX + strlen("…"));
}

int main(void) {
        TEST_RUN(test_valid);
        TEST_RUN(test_rules);
        TEST_RUN(test_type_errors);
        TEST_RUN(test_scan_index);
        TEST_RUN(test_scan_error);
        TEST_RUN(test_string_position);
        TEST_RUN(test_excerpt);
        return 0;
}
