/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Looking up keys in schema tables (json-schema.h). */

#include <stdlib.h>
#include <string.h>

#include "json-schema.h"

int memcasecmp_ascii(const char *a, const char *b, size_t n) {
        for (size_t i = 0; i < n; i++) {
                unsigned char x = (unsigned char) a[i], y = (unsigned char) b[i];

                if (x >= 'A' && x <= 'Z')
                        x = (unsigned char) (x - 'A' + 'a');
                if (y >= 'A' && y <= 'Z')
                        y = (unsigned char) (y - 'A' + 'a');
                if (x != y)
                        return x < y ? -1 : 1;
        }
        return 0;
}

const JsonField *json_schema_field(const JsonSchema *s, const char *key, size_t key_len) {
        if (!s || !key)
                return NULL;

        for (size_t i = 0; i < s->n_fields; i++)
                if (strlen(s->fields[i].name) == key_len &&
                    memcasecmp_ascii(key, s->fields[i].name, key_len) == 0)
                        return &s->fields[i];
        return NULL;
}

char *json_schema_field_names(const JsonSchema *s) {
        size_t n = 1;
        char *names, *p;

        for (size_t i = 0; i < s->n_fields; i++)
                n += strlen(s->fields[i].name) + 2;
        names = malloc(n);
        if (!names)
                return NULL;

        p = names;
        *p = 0;
        for (size_t i = 0; i < s->n_fields; i++)
                p = stpcpy(stpcpy(p, i > 0 ? ", " : ""), s->fields[i].name);
        return names;
}
