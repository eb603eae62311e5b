/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strict JSON scanner and its position index (json-scan.h). */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "hexdecoct.h"
#include "json-scan.h"
#include "script-config.h"
#include "string-util.h"
#include "utf8.h"

/* Members/elements per indexed container, i.e. one the walker reads (the format needs ≤ 5; more is
 * refused as an error). Containers below unknown keys are not indexed and not limited. */
#define INDEX_MAX_CHILDREN 1024U

void json_node_done(JsonNode *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n_children; i++)
                json_node_done(&n->children[i]);
        free(n->children);
        free(n->key);
        *n = (JsonNode) {};
}

JsonPos json_text_position(const char *text, size_t base, JsonPos base_pos, size_t offset) {
        JsonPos p = base_pos;

        for (size_t i = base; i < offset; i++) {
                unsigned char c = (unsigned char) text[i];

                if (c == '\n') {
                        p.line++;
                        p.column = 1;
                } else if ((c & 0xC0) != 0x80)
                        p.column++;
        }
        return p;
}

char *json_excerpt(const char *s, size_t n, bool decoded) {
        size_t chars = 0, o = 0;
        char *out;

        out = malloc(JSON_EXCERPT_MAX * 4 + 8);
        if (!out)
                return NULL;

        for (size_t i = 0; i < n; ) {
                const unsigned char *u = (const unsigned char *) s + i;
                size_t l;

                if (chars >= JSON_EXCERPT_MAX) {
                        memcpy(out + o, "…", strlen("…"));
                        o += strlen("…");
                        break;
                }

                l = utf8_decode((const char *) u, n - i, NULL);
                if (l == 0 || char_is_cc((char) *u)) {
                        o += (size_t) snprintf(out + o, 5, "\\x%02x", *u);
                        i++;
                } else if (decoded && (*u == '"' || *u == '\\')) {
                        out[o++] = '\\';
                        out[o++] = (char) *u;
                        i++;
                } else {
                        memcpy(out + o, u, l);
                        o += l;
                        i += l;
                }
                chars++;
        }
        out[o] = 0;
        return out;
}

/* ---- the strict scanner and position index ----------------------------------------------------- */

#define IN_SET_BLANK(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

/* Room for the JSON path of the value being scanned: at most SCRIPT_CONFIG_MAX_DEPTH segments, each
 * a '.' and a key excerpt (≤ 4 bytes per character plus "…") or an index. */
#define SCANNER_PATH_MAX (SCRIPT_CONFIG_MAX_DEPTH * (JSON_EXCERPT_MAX * 4 + 8) + 1)

typedef struct Scanner {
        const char *text;
        size_t len;
        size_t i;
        JsonPos pos;
        /* The JSON path of the innermost member or element being scanned ("" at the top), with known
         * keys in their canonical spelling, so that a syntax error can say where it is. */
        char path[SCANNER_PATH_MAX];
        size_t path_len;
        /* The first syntax error: */
        bool failed;
        int error;              /* -ENOMEM or -EINVAL */
        JsonPos error_pos;
        char *error_message;
        char *error_path;
} Scanner;

static void scanner_done(Scanner *s) {
        free(s->error_message);
        free(s->error_path);
}

/* Appends a segment to the path; returns the previous length for scanner_path_restore(). A segment
 * that does not fit is left out (the depth limit makes sure it fits: best effort otherwise). */
__attribute__((format(printf, 2, 3)))
static size_t scanner_path_push(Scanner *s, const char *format, ...) {
        size_t saved = s->path_len;
        va_list ap;
        int k;

        va_start(ap, format);
        k = vsnprintf(s->path + saved, sizeof(s->path) - saved, format, ap);
        va_end(ap);
        if (k < 0 || (size_t) k >= sizeof(s->path) - saved)
                s->path[saved] = 0;
        else
                s->path_len += (size_t) k;
        return saved;
}

static void scanner_path_restore(Scanner *s, size_t saved) {
        s->path_len = saved;
        s->path[saved] = 0;
}

/* Appends the member `key` of an object with the schema `parent` to the path (canonical when known,
 * else an excerpt as written) and stores the schema of its value in *ret_schema (NULL: not indexed)
 * and the previous path length in *ret_saved. Returns 0 or -ENOMEM. */
static int scanner_path_push_member(Scanner *s, const JsonSchema *parent, const char *key,
                                    size_t key_len, const JsonSchema **ret_schema, size_t *ret_saved) {
        _cleanup_(freep) char *e = NULL;
        const JsonField *f;
        const char *name;

        f = json_schema_field(parent, key, key_len);
        *ret_schema = f ? f->schema : NULL;
        name = f ? f->name : NULL;
        if (!name) {
                e = json_excerpt(key ?: "", key_len, true);
                if (!e)
                        return -ENOMEM;
                name = e;
        }
        *ret_saved = scanner_path_push(s, "%s%s", s->path_len > 0 ? "." : "", name);
        return 0;
}

static void scanner_advance(Scanner *s, size_t n) {
        s->pos = json_text_position(s->text, s->i, s->pos, s->i + n);
        s->i += n;
}

__attribute__((format(printf, 3, 4)))
static int scanner_fail(Scanner *s, JsonPos at, const char *format, ...) {
        va_list ap;
        int r;

        if (s->failed)
                return s->error;

        s->failed = true;
        s->error_pos = at;
        va_start(ap, format);
        r = vasprintf(&s->error_message, format, ap);
        va_end(ap);
        s->error = r < 0 ? -ENOMEM : -EINVAL;
        if (r < 0)
                s->error_message = NULL;
        else {
                s->error_path = strdup(s->path);
                if (!s->error_path)
                        s->error = -ENOMEM;
        }
        return s->error;
}

/* Records an allocation failure (not a finding: the parse fails with -ENOMEM). */
static int scanner_oom(Scanner *s) {
        if (!s->failed) {
                s->failed = true;
                s->error = -ENOMEM;
        }
        return s->error;
}

/* Skips JSON white space (space, tab, CR, LF; nothing else is white space in JSON). */
static void scanner_skip_blanks(Scanner *s) {
        while (s->i < s->len && IN_SET_BLANK(s->text[s->i]))
                scanner_advance(s, 1);
}

/* Describes the character at the scanner position for a message, e.g. "'}'", "the end of the
 * file", "U+00E9 'é'", "the byte 0xff". Returns a static or caller-provided buffer. */
static const char *scanner_describe_here(const Scanner *s, char buf[static 32]) {
        const unsigned char *u = (const unsigned char *) s->text + s->i;
        size_t l;

        if (s->i >= s->len)
                return "the end of the file";
        if (*u == 0)
                return "a NUL byte";
        if (*u >= 0x20 && *u < 0x7f) {
                snprintf(buf, 32, "'%c'", *u);
                return buf;
        }
        if (char_is_cc((char) *u)) {
                snprintf(buf, 32, "the control character 0x%02x", *u);
                return buf;
        }
        l = utf8_decode((const char *) u, s->len - s->i, NULL);
        if (l == 0) {
                snprintf(buf, 32, "the byte 0x%02x", *u);
                return buf;
        }
        snprintf(buf, 32, "'%.*s'", (int) l, (const char *) u);
        return buf;
}

/* Fails with "invalid UTF-8" when the scanner stands on a byte that starts no valid sequence. */
static int scanner_check_utf8_here(Scanner *s) {
        const unsigned char *u = (const unsigned char *) s->text + s->i;

        if (s->i < s->len && *u >= 0x80 && utf8_decode((const char *) u, s->len - s->i, NULL) == 0)
                return scanner_fail(s, s->pos,
                                    "Invalid UTF-8: the byte 0x%02x does not start a valid UTF-8 character "
                                    "(config.json must be UTF-8 text)", *u);
        return 0;
}

static int scan_hex4(const Scanner *s, size_t at, unsigned *ret) {
        unsigned v = 0;

        if (at + 4 > s->len)
                return -EINVAL;
        for (size_t k = 0; k < 4; k++) {
                int h = unhexchar(s->text[at + k]);
                if (h < 0)
                        return -EINVAL;
                v = v * 16 + (unsigned) h;
        }
        *ret = v;
        return 0;
}

static size_t utf8_encode(unsigned cp, char out[static 4]) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xC0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xE0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
                out[2] = (char) (0x80 | (cp & 0x3F));
                return 3;
        }
        out[0] = (char) (0xF0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char) (0x80 | (cp & 0x3F));
        return 4;
}

/*
 * Scans a string starting at the opening quote. If ret_decoded is non-NULL, also decodes it (escapes
 * resolved; lone surrogates become U+FFFD as json-c does) into a new buffer, NUL-terminated, with
 * its length in *ret_len.
 */
static int scan_string(Scanner *s, char **ret_decoded, size_t *ret_len) {
        _cleanup_(freep) char *out = NULL;
        JsonPos start = s->pos;
        size_t o = 0;
        int r;

        if (ret_decoded) {
                size_t j = s->i + 1;

                /* Decoding never makes a string longer than its raw text: find the raw end first,
                 * so the buffer is as large as this string and not as the rest of the file. */
                while (j < s->len && s->text[j] != '"')
                        j += s->text[j] == '\\' ? 2 : 1;
                out = malloc(MIN(j, s->len) - s->i + 1);
                if (!out)
                        return scanner_oom(s);
        }

        scanner_advance(s, 1);  /* the opening quote */

        for (;;) {
                unsigned char c;
                size_t l;

                if (s->i >= s->len)
                        return scanner_fail(s, start,
                                            "Unterminated string: the string that starts here has no "
                                            "closing '\"'");

                c = (unsigned char) s->text[s->i];
                if (c == '"') {
                        scanner_advance(s, 1);
                        break;
                }

                if (c < 0x20)
                        return scanner_fail(s, s->pos,
                                            "A string contains the control character 0x%02x, which JSON "
                                            "only allows as an escape such as \\n or \\t (is a closing '\"' "
                                            "missing?)", c);

                if (c == '\\') {
                        unsigned cp;
                        char e;

                        if (s->i + 1 >= s->len)
                                return scanner_fail(s, start,
                                                    "Unterminated string: the string that starts here has "
                                                    "no closing '\"'");
                        e = s->text[s->i + 1];
                        switch (e) {
                        case '"': case '\\': case '/':
                                cp = (unsigned char) e;
                                break;
                        case 'b':
                                cp = '\b';
                                break;
                        case 'f':
                                cp = '\f';
                                break;
                        case 'n':
                                cp = '\n';
                                break;
                        case 'r':
                                cp = '\r';
                                break;
                        case 't':
                                cp = '\t';
                                break;
                        case 'u':
                                if (scan_hex4(s, s->i + 2, &cp) < 0)
                                        return scanner_fail(s, s->pos,
                                                            "Invalid escape in a string: \\u must be "
                                                            "followed by four hexadecimal digits");
                                if (cp >= 0xD800 && cp <= 0xDBFF) {
                                        unsigned lo;

                                        if (s->i + 12 <= s->len && s->text[s->i + 6] == '\\' &&
                                            s->text[s->i + 7] == 'u' && scan_hex4(s, s->i + 8, &lo) >= 0 &&
                                            lo >= 0xDC00 && lo <= 0xDFFF) {
                                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                                scanner_advance(s, 6);
                                        } else
                                                cp = 0xFFFD;
                                } else if (cp >= 0xDC00 && cp <= 0xDFFF)
                                        cp = 0xFFFD;
                                scanner_advance(s, 4);
                                break;
                        default: {
                                char buf[32];

                                scanner_advance(s, 1);
                                return scanner_fail(s, s->pos,
                                                    "Invalid escape sequence: a backslash in a string may "
                                                    "only be followed by \" \\ / b f n r t or u, found %s "
                                                    "(write a backslash as \\\\)",
                                                    scanner_describe_here(s, buf));
                        }
                        }
                        scanner_advance(s, 2);
                        if (out)
                                o += utf8_encode(cp, out + o);
                        continue;
                }

                r = scanner_check_utf8_here(s);
                if (r < 0)
                        return r;
                l = utf8_decode(s->text + s->i, s->len - s->i, NULL);
                if (out)
                        memcpy(out + o, s->text + s->i, l);
                o += l;
                s->i += l;
                s->pos.column++;
        }

        if (ret_decoded) {
                out[o] = 0;
                *ret_decoded = TAKE_PTR(out);
                *ret_len = o;
        }
        return 0;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static int scan_number(Scanner *s) {
        size_t j = s->i;
        JsonPos start = s->pos;

        if (j < s->len && s->text[j] == '-')
                j++;
        if (j >= s->len || !is_digit(s->text[j]))
                return scanner_fail(s, start, "Invalid number: a digit must follow '-'");
        if (s->text[j] == '0' && j + 1 < s->len && is_digit(s->text[j + 1]))
                return scanner_fail(s, start, "Invalid number: JSON numbers must not have leading zeros");
        while (j < s->len && is_digit(s->text[j]))
                j++;
        if (j < s->len && s->text[j] == '.') {
                j++;
                if (j >= s->len || !is_digit(s->text[j]))
                        return scanner_fail(s, start,
                                            "Invalid number: digits must follow the decimal point");
                while (j < s->len && is_digit(s->text[j]))
                        j++;
        }
        if (j < s->len && (s->text[j] == 'e' || s->text[j] == 'E')) {
                j++;
                if (j < s->len && (s->text[j] == '+' || s->text[j] == '-'))
                        j++;
                if (j >= s->len || !is_digit(s->text[j]))
                        return scanner_fail(s, start, "Invalid number: digits must follow the exponent 'e'");
                while (j < s->len && is_digit(s->text[j]))
                        j++;
        }

        scanner_advance(s, j - s->i);
        return 0;
}

/* Length of the run of letters at the scanner position (to quote a bad literal). */
static size_t scanner_word_length(const Scanner *s) {
        size_t j = s->i;

        while (j < s->len && j - s->i < JSON_EXCERPT_MAX &&
               ((s->text[j] >= 'a' && s->text[j] <= 'z') || (s->text[j] >= 'A' && s->text[j] <= 'Z')))
                j++;
        return j - s->i;
}

static int scan_value(Scanner *s, JsonNode *node, const JsonSchema *schema, unsigned depth);

/* Reports "expected X, found Y" at the scanner position, with hints for the usual mistakes. */
static int scanner_fail_expected(Scanner *s, const char *expected, const JsonPos *comma_pos) {
        char buf[32];
        char c = s->i < s->len ? s->text[s->i] : 0;

        if (s->i >= s->len)
                return scanner_fail(s, s->pos, "Unexpected end of file: expected %s", expected);
        if (comma_pos && (c == '}' || c == ']'))
                return scanner_fail(s, *comma_pos,
                                    "Trailing comma: JSON does not allow a ',' before '%c'", c);
        if (c == '/')
                return scanner_fail(s, s->pos, "Comments are not allowed in JSON (expected %s)", expected);
        if (c == '\'')
                return scanner_fail(s, s->pos,
                                    "Strings and key names must be in double quotes (\"…\"), not single "
                                    "quotes");
        if (scanner_check_utf8_here(s) < 0)
                return s->error;
        return scanner_fail(s, s->pos, "Expected %s, found %s", expected, scanner_describe_here(s, buf));
}

static int node_add_child(JsonNode *parent, JsonNode *child) {
        JsonNode *c;

        c = reallocarray(parent->children, parent->n_children + 1, sizeof(JsonNode));
        if (!c)
                return -ENOMEM;
        parent->children = c;
        parent->children[parent->n_children++] = *child;
        *child = (JsonNode) {};
        return 0;
}

/*
 * Scans an object or array into `node`. Its children are kept in node->children only when the walker
 * has a schema for this container; below unknown keys everything is validated
 * but nothing is kept, and no count limit applies.
 */
static int scan_container(Scanner *s, JsonNode *node, const JsonSchema *schema, unsigned depth) {
        bool object = s->text[s->i] == '{';
        char close = object ? '}' : ']';
        JsonPos open_pos = s->pos, comma_pos;
        bool have_comma = false;
        size_t count = 0;
        bool keep = schema;
        int r;

        if (depth >= SCRIPT_CONFIG_MAX_DEPTH)
                return scanner_fail(s, s->pos, "Arrays and objects are nested more than %u levels deep",
                                    SCRIPT_CONFIG_MAX_DEPTH);

        scanner_advance(s, 1);

        for (;;) {
                _cleanup_(json_node_done) JsonNode child = {};
                const JsonSchema *child_schema;
                size_t saved;

                scanner_skip_blanks(s);
                if (s->i >= s->len)
                        return scanner_fail(s, open_pos,
                                            "Unexpected end of file: the %s opened here is never closed "
                                            "with '%c'",
                                            object ? "object" : "array", close);

                if (s->text[s->i] == close) {
                        if (have_comma)
                                return scanner_fail(s, comma_pos,
                                                    "Trailing comma: JSON does not allow a ',' before '%c'",
                                                    close);
                        scanner_advance(s, 1);
                        break;
                }
                if (count > 0 && !have_comma) {
                        if (s->text[s->i] == '"' || s->text[s->i] == '{' || s->text[s->i] == '[')
                                return scanner_fail(s, s->pos, "Missing ',' between two %s",
                                                    object ? "members of an object"
                                                           : "elements of an array");
                        if (object)
                                return scanner_fail_expected(s, "',' or '}' after an object member", NULL);
                        return scanner_fail_expected(s, "',' or ']' after an array element", NULL);
                }

                /* Containers that the walker reads are bounded, so that nothing it should see is
                 * left out of the index (the format needs at most 5 members per object). */
                if (keep && count >= INDEX_MAX_CHILDREN)
                        return scanner_fail(s, s->pos,
                                            "This %s has more than %u %s, far more than a config.json has",
                                            object ? "object" : "array", INDEX_MAX_CHILDREN,
                                            object ? "members" : "elements");

                if (object) {
                        if (s->text[s->i] != '"')
                                return scanner_fail_expected(s, "a key name in double quotes",
                                                             have_comma ? &comma_pos : NULL);
                        child.key_pos = s->pos;
                        child.key_offset = s->i;
                        /* Keys are decoded also where they are not kept: the path needs them. */
                        r = scan_string(s, &child.key, &child.key_len);
                        if (r < 0)
                                return r;
                        r = scanner_path_push_member(s, schema, child.key, child.key_len, &child_schema,
                                                     &saved);
                        if (r < 0)
                                return scanner_oom(s);
                        scanner_skip_blanks(s);
                        if (s->i >= s->len || s->text[s->i] != ':')
                                return scanner_fail_expected(s, "':' after the key name", NULL);
                        scanner_advance(s, 1);
                } else {
                        child_schema = schema ? schema->element : NULL;
                        saved = scanner_path_push(s, "[%zu]", count);
                }

                r = scan_value(s, &child, child_schema, depth + 1);
                if (r < 0)
                        return r;
                scanner_path_restore(s, saved);

                if (keep) {
                        r = node_add_child(node, &child);
                        if (r < 0)
                                return scanner_oom(s);
                }
                count++;

                scanner_skip_blanks(s);
                have_comma = false;
                if (s->i < s->len && s->text[s->i] == ',') {
                        have_comma = true;
                        comma_pos = s->pos;
                        scanner_advance(s, 1);
                }
        }

        return 0;
}

static int scan_value(Scanner *s, JsonNode *node, const JsonSchema *schema, unsigned depth) {
        char c;
        int r;

        scanner_skip_blanks(s);
        if (s->i >= s->len)
                return scanner_fail_expected(s, "a value", NULL);

        node->pos = s->pos;
        node->offset = s->i;

        c = s->text[s->i];
        switch (c) {
        case '{':
        case '[':
                node->type = c == '{' ? JSON_NODE_OBJECT : JSON_NODE_ARRAY;
                r = scan_container(s, node, schema, depth);
                break;
        case '"':
                node->type = JSON_NODE_STRING;
                r = scan_string(s, NULL, NULL);
                break;
        case '-':
        case '0' ... '9':
                node->type = JSON_NODE_NUMBER;
                r = scan_number(s);
                break;
        default: {
                static const struct {
                        const char *word;
                        JsonNodeType type;
                } literals[] = {
                        { "true", JSON_NODE_BOOLEAN },
                        { "false", JSON_NODE_BOOLEAN },
                        { "null", JSON_NODE_NULL },
                };
                size_t wl = scanner_word_length(s);

                for (size_t k = 0; k < ELEMENTSOF(literals); k++)
                        if (wl == strlen(literals[k].word) &&
                            memcmp(s->text + s->i, literals[k].word, wl) == 0) {
                                node->type = literals[k].type;
                                scanner_advance(s, wl);
                                node->end = s->i;
                                return 0;
                        }

                if (wl > 0) {
                        if ((wl == 4 && strncasecmp(s->text + s->i, "true", 4) == 0) ||
                            (wl == 5 && strncasecmp(s->text + s->i, "false", 5) == 0) ||
                            (wl == 4 && strncasecmp(s->text + s->i, "null", 4) == 0))
                                return scanner_fail(s, s->pos,
                                                    "Invalid literal '%.*s': JSON writes true, false and "
                                                    "null in lowercase", (int) wl, s->text + s->i);
                        if ((wl == 3 && memcmp(s->text + s->i, "NaN", 3) == 0) ||
                            (wl == 8 && memcmp(s->text + s->i, "Infinity", 8) == 0))
                                return scanner_fail(s, s->pos,
                                                    "NaN and Infinity are not valid JSON numbers");
                        return scanner_fail(s, s->pos,
                                            "Invalid literal '%.*s': expected a value (a string in double "
                                            "quotes, a number, an object, an array, true, false or null)",
                                            (int) wl, s->text + s->i);
                }
                return scanner_fail_expected(s, "a value", NULL);
        }
        }
        if (r < 0)
                return r;

        node->end = s->i;
        return 0;
}

static int scan_document(Scanner *s, JsonNode *root, const JsonSchema *schema) {
        int r;

        r = scan_value(s, root, schema, 0);
        if (r < 0)
                return r;

        scanner_skip_blanks(s);
        if (s->i < s->len) {
                char buf[32];

                if (s->text[s->i] == '/')
                        return scanner_fail(s, s->pos, "Comments are not allowed in JSON");
                if (scanner_check_utf8_here(s) < 0)
                        return s->error;
                return scanner_fail(s, s->pos,
                                    "Found %s after the end of the JSON document; only one top-level "
                                    "object is allowed", scanner_describe_here(s, buf));
        }
        return 0;
}

int json_scan(const char *text, size_t len, const JsonSchema *schema, JsonNode *ret_root,
              JsonScanError *ret_error) {
        _cleanup_(json_node_done) JsonNode root = {};
        _cleanup_(scanner_done) Scanner s = {
                .text = text,
                .len = len,
                .pos = { .line = 1, .column = 1 },
        };
        int r;

        r = scan_document(&s, &root, schema);
        if (r == -EINVAL && s.error_message && s.error_path) {
                *ret_error = (JsonScanError) {
                        .pos = s.error_pos,
                        .message = TAKE_PTR(s.error_message),
                        .path = TAKE_PTR(s.error_path),
                };
                return -EINVAL;
        }
        if (r < 0)
                return -ENOMEM;

        *ret_root = TAKE_GENERIC(root, JsonNode, (JsonNode) {});
        return 0;
}

void json_scan_error_done(JsonScanError *e) {
        free(e->message);
        free(e->path);
        *e = (JsonScanError) {};
}

JsonPos json_string_position(const char *text, const JsonNode *n, size_t decoded_offset) {
        size_t i = n->offset + 1, d = 0;

        while (i < n->end - 1 && d < decoded_offset) {
                if (text[i] == '\\') {
                        char e = text[i + 1];

                        if (e == 'u') {
                                unsigned cp = 0, lo = 0;

                                for (size_t k = 2; k < 6; k++)
                                        cp = cp * 16 + (unsigned) unhexchar(text[i + k]);
                                if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= n->end - 1 &&
                                    text[i + 6] == '\\' && text[i + 7] == 'u')
                                        for (size_t k = 8; k < 12; k++)
                                                lo = lo * 16 + (unsigned) unhexchar(text[i + k]);
                                /* Paired only with a low surrogate, as scan_string() decodes it. */
                                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                                        d += 4;
                                        i += 12;
                                } else {
                                        d += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
                                        i += 6;
                                }
                        } else {
                                d += 1;
                                i += 2;
                        }
                } else {
                        d++;
                        i++;
                }
        }
        return json_text_position(text, n->offset, n->pos, i);
}
