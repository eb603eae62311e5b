/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The config.json engine (SPEC §2).
 *
 * Parsing happens in two passes over the same bytes:
 *
 *  1. A strict RFC 8259 scanner (below, "position index") validates the syntax — json-c's own
 *     "strict" mode still accepts single quotes, NaN, "1.", raw control characters in strings and
 *     trailing bytes after a NUL — and records, for every value down to the depth the format has,
 *     its line and column and the line and column of its key. json-c gives no positions of values,
 *     so this index is what lets every finding name the exact place.
 *  2. json-c (with JSON_TOKENER_STRICT and UTF-8 validation) decodes the values; its error offset
 *     is turned into line:column should it ever refuse what the scanner accepted.
 *
 * A walker then applies the rules of the SPEC §2 table to the pair (index node, json-c value) and
 * fills the typed ScriptConfig. Everything here is pure: no I/O, no logging, no global state —
 * except script_config_check_files() at the end, which looks at the real files.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "json-util.h"
#include "script-config.h"

/* How many characters of a value or key are quoted in a message before it is cut off with "…". */
#define EXCERPT_MAX 48U
/* Members/elements per indexed container (the format needs ≤ 5; more is refused as an error). */
#define INDEX_MAX_CHILDREN 1024U
/* Levels of the document that the position index keeps: document, event, executables array,
 * executable entry, field. Deeper values are validated but not indexed. */
#define INDEX_MAX_LEVEL 4U

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

/* ---- names ---------------------------------------------------------------------------------- */

static const char *const event_names[_SCRIPT_EVENT_MAX] = {
        [SCRIPT_EVENT_START] = "SessionStart",
        [SCRIPT_EVENT_TERMINATION] = "SessionTermination",
};

static const char *const context_names[_SCRIPT_CONTEXT_MAX] = {
        [SCRIPT_CONTEXT_SYSTEM] = "system",
        [SCRIPT_CONTEXT_USER] = "user",
};

const char *script_event_to_string(ScriptEvent e) {
        if ((unsigned) e >= _SCRIPT_EVENT_MAX)
                return NULL;
        return event_names[e];
}

const char *script_context_to_string(ScriptContext c) {
        if ((unsigned) c >= _SCRIPT_CONTEXT_MAX)
                return NULL;
        return context_names[c];
}

int script_event_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _SCRIPT_EVENT_MAX; i++)
                if (strcasecmp(s, event_names[i]) == 0)
                        return i;
        return -EINVAL;
}

int script_context_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _SCRIPT_CONTEXT_MAX; i++)
                if (strcasecmp(s, context_names[i]) == 0)
                        return i;
        return -EINVAL;
}

bool script_executable_runs(const ScriptExecutable *x) {
        return x && x->present && x->filename && x->filename[0];
}

ScriptConfig *script_config_free(ScriptConfig *c) {
        if (!c)
                return NULL;

        for (size_t e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (size_t x = 0; x < _SCRIPT_CONTEXT_MAX; x++) {
                        ScriptExecutable *ex = &c->events[e].executables[x];

                        free(ex->filename);
                        free(ex->arguments);
                        strv_free(ex->argv);
                }
        free(c);
        return NULL;
}

/* ---- findings ------------------------------------------------------------------------------- */

void finding_list_done(FindingList *l) {
        if (!l)
                return;

        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].json_path);
                free(l->items[i].file);
                free(l->items[i].message);
        }
        free(l->items);
        *l = (FindingList) {};
}

static void finding_list_count(FindingList *l, FindingSeverity severity, int delta) {
        if (severity == FINDING_ERROR)
                l->n_errors += (size_t) delta;
        else
                l->n_warnings += (size_t) delta;
}

__attribute__((format(printf, 7, 0)))
static int finding_list_addv(FindingList *l, FindingSeverity severity, unsigned line, unsigned column,
                             const char *json_path, const char *file, const char *format, va_list ap) {
        _cleanup_(freep) char *message = NULL, *path_copy = NULL, *file_copy = NULL;
        Finding *items;

        if (!l || !format)
                return -EINVAL;

        if (l->n > SCRIPT_CONFIG_MAX_FINDINGS) {
                /* Already capped: the marker entry turns into an error if an error was left out,
                 * so a list that had errors never reads as "valid". */
                Finding *marker = &l->items[l->n - 1];

                if (severity == FINDING_ERROR && marker->severity != FINDING_ERROR) {
                        finding_list_count(l, marker->severity, -1);
                        marker->severity = FINDING_ERROR;
                        finding_list_count(l, FINDING_ERROR, +1);
                }
                return 0;
        }

        if (l->n == SCRIPT_CONFIG_MAX_FINDINGS) {
                if (asprintf(&message, "More than %u findings; the rest are not shown",
                             SCRIPT_CONFIG_MAX_FINDINGS) < 0)
                        return -ENOMEM;
                line = column = 0;
                json_path = "";
                file = NULL;
        } else if (vasprintf(&message, format, ap) < 0)
                return -ENOMEM;

        path_copy = strdup(json_path ?: "");
        if (!path_copy)
                return -ENOMEM;
        if (file) {
                file_copy = strdup(file);
                if (!file_copy)
                        return -ENOMEM;
        }

        items = reallocarray(l->items, l->n + 1, sizeof(Finding));
        if (!items)
                return -ENOMEM;
        l->items = items;

        l->items[l->n++] = (Finding) {
                .severity = severity,
                .line = line,
                .column = column,
                .json_path = TAKE_PTR(path_copy),
                .file = TAKE_PTR(file_copy),
                .message = TAKE_PTR(message),
        };
        finding_list_count(l, severity, +1);
        return 0;
}

int finding_list_add(FindingList *l, FindingSeverity severity, unsigned line, unsigned column,
                     const char *json_path, const char *file, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = finding_list_addv(l, severity, line, column, json_path, file, format, ap);
        va_end(ap);
        return r;
}

/* ---- text helpers ------------------------------------------------------------------------------ */

typedef struct Pos {
        unsigned line;          /* 1-based */
        unsigned column;        /* 1-based, in characters */
} Pos;

/* Length of the well-formed UTF-8 sequence at s[0..n) (1…4), or 0 when it is not well formed
 * (overlong forms, surrogates and code points above U+10FFFF are not). */
static size_t utf8_sequence_length(const unsigned char *s, size_t n) {
        unsigned char c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
        if (c >= 0xE0 && c <= 0xEF) {
                if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
                        return 0;
                if (c == 0xE0 && s[1] < 0xA0)
                        return 0;       /* overlong */
                if (c == 0xED && s[1] >= 0xA0)
                        return 0;       /* UTF-16 surrogate */
                return 3;
        }
        if (c >= 0xF0 && c <= 0xF4) {
                if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
                        return 0;
                if (c == 0xF0 && s[1] < 0x90)
                        return 0;       /* overlong */
                if (c == 0xF4 && s[1] >= 0x90)
                        return 0;       /* above U+10FFFF */
                return 4;
        }
        return 0;
}

/* Line and column of byte offset `offset` (counting from `base`, whose position is `base_pos`). */
static Pos text_position(const char *text, size_t base, Pos base_pos, size_t offset) {
        Pos p = base_pos;

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

/*
 * Writes a printable excerpt of s[0..n) into a new string: control characters and invalid bytes
 * as \xNN, at most EXCERPT_MAX characters, "…" appended when cut. Used for every piece of the
 * document that goes into a message or a JSON path, so findings are always safe to print.
 */
static char *excerpt(const char *s, size_t n) {
        size_t chars = 0, o = 0;
        char *out;

        out = malloc(EXCERPT_MAX * 4 + 8);
        if (!out)
                return NULL;

        for (size_t i = 0; i < n; ) {
                const unsigned char *u = (const unsigned char *) s + i;
                size_t l;

                if (chars >= EXCERPT_MAX) {
                        memcpy(out + o, "…", strlen("…"));
                        o += strlen("…");
                        break;
                }

                l = utf8_sequence_length(u, n - i);
                if (l == 0 || *u < 0x20 || *u == 0x7f) {
                        o += (size_t) snprintf(out + o, 5, "\\x%02x", *u);
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

static size_t utf8_count_chars(const char *s, size_t n) {
        size_t chars = 0;

        for (size_t i = 0; i < n; i++)
                if ((((unsigned char) s[i]) & 0xC0) != 0x80)
                        chars++;
        return chars;
}

/* ---- the strict scanner and position index ----------------------------------------------------- */

typedef enum NodeType {
        NODE_OBJECT,
        NODE_ARRAY,
        NODE_STRING,
        NODE_NUMBER,
        NODE_BOOLEAN,
        NODE_NULL,
} NodeType;

typedef struct Node Node;
struct Node {
        NodeType type;
        Pos pos;                /* of the value's first character */
        size_t offset;          /* byte span of the value in the text */
        size_t end;
        /* For members of an object: */
        char *key;              /* decoded (may contain NUL when written as \u0000; see key_len) */
        size_t key_len;
        Pos key_pos;            /* of the key's opening quote */
        size_t key_offset;      /* byte offset of the key's opening quote */
        /* For objects and arrays (kept only up to INDEX_MAX_LEVEL and INDEX_MAX_CHILDREN): */
        Node *children;
        size_t n_children;
};

static void node_done(Node *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n_children; i++)
                node_done(&n->children[i]);
        free(n->children);
        free(n->key);
        *n = (Node) {};
}

#define IN_SET_BLANK(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

typedef struct Scanner {
        const char *text;
        size_t len;
        size_t i;
        Pos pos;
        /* The first syntax error: */
        bool failed;
        int error;              /* -ENOMEM or -EINVAL */
        Pos error_pos;
        char *error_message;
} Scanner;

static void scanner_done(Scanner *s) {
        free(s->error_message);
}

static void scanner_advance(Scanner *s, size_t n) {
        s->pos = text_position(s->text, s->i, s->pos, s->i + n);
        s->i += n;
}

__attribute__((format(printf, 3, 4)))
static int scanner_fail(Scanner *s, Pos at, const char *format, ...) {
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
        if (*u < 0x20 || *u == 0x7f) {
                snprintf(buf, 32, "the control character 0x%02x", *u);
                return buf;
        }
        l = utf8_sequence_length(u, s->len - s->i);
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

        if (s->i < s->len && *u >= 0x80 && utf8_sequence_length(u, s->len - s->i) == 0)
                return scanner_fail(s, s->pos,
                                    "Invalid UTF-8: the byte 0x%02x does not start a valid UTF-8 character "
                                    "(config.json must be UTF-8 text)", *u);
        return 0;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int scan_hex4(const Scanner *s, size_t at, unsigned *ret) {
        unsigned v = 0;

        if (at + 4 > s->len)
                return -EINVAL;
        for (size_t k = 0; k < 4; k++) {
                int h = hex_value(s->text[at + k]);
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
        Pos start = s->pos;
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
                        return scanner_fail(s, s->pos, "Out of memory");
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
                l = utf8_sequence_length((const unsigned char *) s->text + s->i, s->len - s->i);
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
        Pos start = s->pos;

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

        while (j < s->len && j - s->i < EXCERPT_MAX &&
               ((s->text[j] >= 'a' && s->text[j] <= 'z') || (s->text[j] >= 'A' && s->text[j] <= 'Z')))
                j++;
        return j - s->i;
}

static int scan_value(Scanner *s, Node *node, unsigned level, unsigned depth);

/* Reports "expected X, found Y" at the scanner position, with hints for the usual mistakes. */
static int scanner_fail_expected(Scanner *s, const char *expected, const Pos *comma_pos) {
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

static int node_add_child(Node *parent, Node *child) {
        Node *c;

        c = reallocarray(parent->children, parent->n_children + 1, sizeof(Node));
        if (!c)
                return -ENOMEM;
        parent->children = c;
        parent->children[parent->n_children++] = *child;
        *child = (Node) {};
        return 0;
}

/* Scans an object or array; `node` may be NULL (not indexed). */
static int scan_container(Scanner *s, Node *node, unsigned level, unsigned depth) {
        bool object = s->text[s->i] == '{';
        char close = object ? '}' : ']';
        Pos open_pos = s->pos, comma_pos;
        bool have_comma = false;
        size_t count = 0;
        bool keep = node && level < INDEX_MAX_LEVEL;
        int r;

        if (depth >= SCRIPT_CONFIG_MAX_DEPTH)
                return scanner_fail(s, s->pos, "Arrays and objects are nested more than %u levels deep",
                                    SCRIPT_CONFIG_MAX_DEPTH);

        scanner_advance(s, 1);

        for (;;) {
                _cleanup_(node_done) Node child = {};

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

                /* Levels that the walker reads are bounded, so that nothing it should see is
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
                        r = scan_string(s, keep ? &child.key : NULL, &child.key_len);
                        if (r < 0)
                                return r;
                        scanner_skip_blanks(s);
                        if (s->i >= s->len || s->text[s->i] != ':')
                                return scanner_fail_expected(s, "':' after the key name", NULL);
                        scanner_advance(s, 1);
                }

                r = scan_value(s, keep ? &child : NULL, level + 1, depth + 1);
                if (r < 0)
                        return r;

                if (keep) {
                        r = node_add_child(node, &child);
                        if (r < 0)
                                return scanner_fail(s, s->pos, "Out of memory");
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

static int scan_value(Scanner *s, Node *node, unsigned level, unsigned depth) {
        Node dummy = {};
        char c;
        int r;

        if (!node)
                node = &dummy;

        scanner_skip_blanks(s);
        if (s->i >= s->len)
                return scanner_fail_expected(s, "a value", NULL);

        node->pos = s->pos;
        node->offset = s->i;

        c = s->text[s->i];
        switch (c) {
        case '{':
        case '[':
                node->type = c == '{' ? NODE_OBJECT : NODE_ARRAY;
                r = scan_container(s, node == &dummy ? NULL : node, level, depth);
                break;
        case '"':
                node->type = NODE_STRING;
                r = scan_string(s, NULL, NULL);
                break;
        case '-':
        case '0' ... '9':
                node->type = NODE_NUMBER;
                r = scan_number(s);
                break;
        default: {
                static const struct {
                        const char *word;
                        NodeType type;
                } literals[] = {
                        { "true", NODE_BOOLEAN },
                        { "false", NODE_BOOLEAN },
                        { "null", NODE_NULL },
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

/*
 * Validates text[0..len) as one strict JSON document and builds the position index in *root.
 * start_pos is the position of text[0]. Returns 0, or -EINVAL with the error in s (or -ENOMEM).
 */
static int scan_document(Scanner *s, Node *root) {
        int r;

        r = scan_value(s, root, 0, 0);
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
                                    "Unexpected %s after the end of the JSON document (only one top-level "
                                    "object is allowed)", scanner_describe_here(s, buf));
        }
        return 0;
}

/* ---- the walker ------------------------------------------------------------------------------- */

typedef struct Walker {
        const char *text;       /* the document (after an optional BOM) */
        size_t len;
        FindingList *findings;
        ScriptConfig *config;
        int error;              /* first -ENOMEM */
} Walker;

__attribute__((format(printf, 5, 6)))
static void walker_report(Walker *w, FindingSeverity severity, Pos at, const char *path,
                          const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = finding_list_addv(w->findings, severity, at.line, at.column, path, NULL, format, ap);
        va_end(ap);
        if (r < 0 && w->error == 0)
                w->error = r;
}

/* "SessionStart" + "executables" → "SessionStart.executables"; keys are shown as excerpts. */
static char *path_join_key(const char *parent, const char *key, size_t key_len) {
        _cleanup_(freep) char *k = NULL;
        char *p = NULL;

        k = excerpt(key, key_len);
        if (!k)
                return NULL;
        if (asprintf(&p, "%s%s%s", parent, parent[0] ? "." : "", k) < 0)
                return NULL;
        return p;
}

static char *path_join_index(const char *parent, size_t index) {
        char *p = NULL;

        if (asprintf(&p, "%s[%zu]", parent, index) < 0)
                return NULL;
        return p;
}

static const char *node_type_name(NodeType t) {
        switch (t) {
        case NODE_OBJECT:
                return "an object";
        case NODE_ARRAY:
                return "an array";
        case NODE_STRING:
                return "a string";
        case NODE_NUMBER:
                return "a number";
        case NODE_BOOLEAN:
                return "a boolean";
        default:
                return "null";
        }
}

/* "a string (\"30\")", "the number 1.5", "true", "an object": how a found value is named. */
static char *describe_value(const Walker *w, const Node *n) {
        _cleanup_(freep) char *e = NULL;
        char *d = NULL;

        switch (n->type) {
        case NODE_STRING:
        case NODE_NUMBER:
                e = excerpt(w->text + n->offset, n->end - n->offset);
                if (!e)
                        return NULL;
                if (asprintf(&d, n->type == NODE_STRING ? "the string %s" : "the number %s", e) < 0)
                        return NULL;
                return d;
        case NODE_BOOLEAN:
        case NODE_NULL:
                return strndup(w->text + n->offset, n->end - n->offset);
        default:
                return strdup(node_type_name(n->type));
        }
}

/* Reports a type mismatch: `<what> must be <expected>, but it is <found>`, plus an optional hint. */
static void walker_type_error(Walker *w, const Node *n, const char *path, const char *what,
                              const char *expected, const char *hint) {
        _cleanup_(freep) char *found = NULL;

        found = describe_value(w, n);
        if (!found) {
                w->error = -ENOMEM;
                return;
        }
        walker_report(w, FINDING_ERROR, n->pos, path, "%s must be %s, but it is %s%s", what, expected, found,
                      hint ?: "");
}

static bool key_equal_ci(const Node *child, const char *name) {
        return child->key && child->key_len == strlen(name) && strcasecmp(child->key, name) == 0;
}

/* Finds the json-c value of an indexed member. Returns false for keys json-c cannot represent (an
 * embedded NUL); *ret is NULL for a JSON null. */
static bool member_value(struct json_object *obj, const Node *child, struct json_object **ret) {
        *ret = NULL;
        if (!child->key || strlen(child->key) != child->key_len)
                return false;
        return json_object_object_get_ex(obj, child->key, ret);
}

static int key_compare_ci(const void *a, const void *b) {
        const Node *const *x = a, *const *y = b;
        size_t n = MIN((*x)->key_len, (*y)->key_len);
        int r;

        r = strncasecmp((*x)->key, (*y)->key, n);
        if (r != 0)
                return r;
        if ((*x)->key_len != (*y)->key_len)
                return (*x)->key_len < (*y)->key_len ? -1 : 1;
        /* Equal keys: keep document order. */
        return (*x)->key_offset < (*y)->key_offset ? -1 : (*x)->key_offset > (*y)->key_offset;
}

/*
 * Reports every key that occurs a second time in the object (case-insensitively, as key names are
 * matched case-insensitively: "waitingTime" and "WaitingTime" name the same setting).
 */
static void walker_check_duplicates(Walker *w, const Node *obj, const char *path) {
        _cleanup_(freep) const Node **sorted = NULL;

        if (obj->n_children < 2)
                return;

        sorted = calloc(obj->n_children, sizeof(Node *));
        if (!sorted) {
                w->error = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < obj->n_children; i++)
                sorted[i] = &obj->children[i];
        qsort(sorted, obj->n_children, sizeof(Node *), key_compare_ci);

        for (size_t i = 1, group = 0; i < obj->n_children; i++) {
                const Node *first = sorted[group], *dup = sorted[i];
                _cleanup_(freep) char *k1 = NULL, *k2 = NULL, *p = NULL;

                if (first->key_len != dup->key_len || strncasecmp(first->key, dup->key, dup->key_len) != 0) {
                        group = i;
                        continue;
                }

                k1 = excerpt(first->key, first->key_len);
                k2 = excerpt(dup->key, dup->key_len);
                p = path_join_key(path, dup->key, dup->key_len);
                if (!k1 || !k2 || !p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (first->key_len == dup->key_len && memcmp(first->key, dup->key, dup->key_len) == 0)
                        walker_report(w, FINDING_ERROR, dup->key_pos, p,
                                      "The key \"%s\" appears twice in this object (first at line %u, "
                                      "column %u)",
                                      k2, first->key_pos.line, first->key_pos.column);
                else
                        walker_report(w, FINDING_ERROR, dup->key_pos, p,
                                      "The keys \"%s\" (line %u, column %u) and \"%s\" name the same "
                                      "setting, because key names are case-insensitive; keep only one of "
                                      "them",
                                      k1, first->key_pos.line, first->key_pos.column, k2);
        }
}

static void walker_unknown_key(Walker *w, const Node *child, const char *path, const char *where,
                               const char *known) {
        _cleanup_(freep) char *k = NULL;

        k = excerpt(child->key ?: "", child->key_len);
        if (!k) {
                w->error = -ENOMEM;
                return;
        }
        walker_report(w, FINDING_WARNING, child->key_pos, path, "Unknown key \"%s\" %s is ignored (known "
                                                                "keys: %s)",
                      k, where, known);
}

/*
 * Maps a byte offset inside the decoded value of the string node n to the position of the
 * character in the document that produced it (escapes like \" count as one decoded byte).
 */
static Pos string_decoded_offset_position(const Walker *w, const Node *n, size_t decoded_offset) {
        size_t i = n->offset + 1, d = 0;

        while (i < n->end - 1 && d < decoded_offset) {
                if (w->text[i] == '\\') {
                        char e = w->text[i + 1];

                        if (e == 'u') {
                                unsigned cp = 0;

                                for (size_t k = 2; k < 6; k++)
                                        cp = cp * 16 + (unsigned) hex_value(w->text[i + k]);
                                if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= n->end - 1 &&
                                    w->text[i + 6] == '\\' && w->text[i + 7] == 'u') {
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
        return text_position(w->text, n->offset, n->pos, i);
}

static bool has_control_chars(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return true;
        return false;
}

/* ---- one executable entry ---- */

static void walker_executable(Walker *w, ScriptEvent event, const Node *entry, struct json_object *jentry,
                              const char *path, size_t index,
                              const Node *context_seen[_SCRIPT_CONTEXT_MAX]) {
        static const char known[] = "context, filename, arguments, s3LogEnabled";
        const Node *n_context = NULL, *n_filename = NULL, *n_arguments = NULL, *n_s3 = NULL;
        struct json_object *j_context = NULL, *j_filename = NULL, *j_arguments = NULL, *j_s3 = NULL;
        ScriptExecutable x = { .present = true, .s3_log_enabled = true, .json_index = (unsigned) index };
        bool ok = true;
        int context = -1;

        if (entry->type != NODE_OBJECT || !json_object_is_type(jentry, json_type_object)) {
                walker_type_error(w, entry, path, "Each entry of \"executables\"",
                                  "an object like {\"context\": \"system\", \"filename\": "
                                  "\"/path/to/script\"}",
                                  NULL);
                return;
        }

        walker_check_duplicates(w, entry, path);

        for (size_t i = 0; i < entry->n_children; i++) {
                const Node *c = &entry->children[i];
                struct json_object *v;
                bool found = member_value(jentry, c, &v);
                _cleanup_(freep) char *p = NULL;

                p = path_join_key(path, c->key ?: "", c->key_len);
                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }

                if (found && key_equal_ci(c, "context")) {
                        n_context = c;
                        j_context = v;
                } else if (found && key_equal_ci(c, "filename")) {
                        n_filename = c;
                        j_filename = v;
                } else if (found && key_equal_ci(c, "arguments")) {
                        n_arguments = c;
                        j_arguments = v;
                } else if (found && key_equal_ci(c, "s3LogEnabled")) {
                        n_s3 = c;
                        j_s3 = v;
                } else
                        walker_unknown_key(w, c, p, "in an executable entry", known);
        }

        /* context: required, "user" or "system". The documents write it in lowercase; the value is
         * matched case-insensitively like the key names, so "System" is accepted too. */
        if (!n_context) {
                walker_report(w, FINDING_ERROR, entry->pos, path,
                              "This executable has no \"context\"; it is required and must be \"user\" or "
                              "\"system\"");
                ok = false;
        } else {
                _cleanup_(freep) char *p = path_join_key(path, n_context->key, n_context->key_len);

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (n_context->type != NODE_STRING || !json_object_is_type(j_context, json_type_string)) {
                        walker_type_error(w, n_context, p, "\"context\"",
                                                           "the string \"user\" or \"system\"", NULL);
                        ok = false;
                } else {
                        const char *s = json_object_get_string(j_context);
                        size_t sl = (size_t) json_object_get_string_len(j_context);

                        context = strlen(s) == sl ? script_context_from_string(s) : -EINVAL;
                        if (context < 0) {
                                walker_type_error(w, n_context, p, "\"context\"",
                                                                   "\"user\" or \"system\"", NULL);
                                ok = false;
                        } else if (context_seen[context]) {
                                walker_report(w, FINDING_ERROR, n_context->pos, p,
                                              "A second executable with context \"%s\" (the first is at "
                                              "line %u, column %u); each event allows at most one "
                                              "executable per context",
                                              context_names[context], context_seen[context]->pos.line,
                                              context_seen[context]->pos.column);
                                ok = false;
                        } else
                                context_seen[context] = n_context;
                }
        }

        /* filename: absolute path, ≤ 1000 characters, empty or absent = not run. */
        if (n_filename) {
                _cleanup_(freep) char *p = path_join_key(path, n_filename->key, n_filename->key_len);

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (n_filename->type != NODE_STRING || !json_object_is_type(j_filename, json_type_string)) {
                        walker_type_error(w, n_filename, p, "\"filename\"",
                                          "a string with the full path of the executable (\"\" for none)",
                                          NULL);
                        ok = false;
                } else {
                        const char *s = json_object_get_string(j_filename);
                        size_t sl = (size_t) json_object_get_string_len(j_filename);
                        size_t chars = utf8_count_chars(s, sl);

                        if (chars > SCRIPT_CONFIG_MAX_FILENAME) {
                                walker_report(w, FINDING_ERROR, n_filename->pos, p,
                                              "\"filename\" is %zu characters long, but at most %u are "
                                              "allowed",
                                              chars, SCRIPT_CONFIG_MAX_FILENAME);
                                ok = false;
                        } else if (sl > 0 && has_control_chars(s, sl)) {
                                walker_report(w, FINDING_ERROR, n_filename->pos, p,
                                              "\"filename\" contains a control character (such as a NUL "
                                              "byte, tab or newline), which a file name here must not "
                                              "contain");
                                ok = false;
                        } else if (sl > 0 && s[0] != '/') {
                                _cleanup_(freep) char *e = excerpt(s, sl);
                                bool windows = sl >= 2 && s[1] == ':';

                                if (!e) {
                                        w->error = -ENOMEM;
                                        return;
                                }
                                walker_report(w, FINDING_ERROR, n_filename->pos, p,
                                              "\"filename\" must be an absolute path starting with '/', but "
                                              "it is \"%s\"%s", e,
                                              windows ? " (a Windows path; on Linux use e.g. "
                                                        "/opt/appstream/SessionScripts/script.sh)" : "");
                                ok = false;
                        } else if (sl > 0) {
                                x.filename = strdup(s);
                                if (!x.filename) {
                                        w->error = -ENOMEM;
                                        return;
                                }
                        }
                }
        }

        /* arguments: ≤ 1000 characters, split like a POSIX shell splits words. */
        if (n_arguments) {
                _cleanup_(freep) char *p = path_join_key(path, n_arguments->key, n_arguments->key_len);

                if (!p) {
                        w->error = -ENOMEM;
                        goto finish;
                }
                if (n_arguments->type != NODE_STRING ||
                    !json_object_is_type(j_arguments, json_type_string)) {
                        walker_type_error(w, n_arguments, p, "\"arguments\"",
                                          "a string with the arguments (\"\" for none)", NULL);
                        ok = false;
                } else {
                        const char *s = json_object_get_string(j_arguments);
                        size_t sl = (size_t) json_object_get_string_len(j_arguments);
                        size_t chars = utf8_count_chars(s, sl);
                        size_t bad = 0;
                        int r;

                        if (chars > SCRIPT_CONFIG_MAX_ARGUMENTS) {
                                walker_report(w, FINDING_ERROR, n_arguments->pos, p,
                                              "\"arguments\" is %zu characters long, but at most %u are "
                                              "allowed",
                                              chars, SCRIPT_CONFIG_MAX_ARGUMENTS);
                                ok = false;
                        } else if (strlen(s) != sl) {
                                walker_report(w, FINDING_ERROR,
                                              string_decoded_offset_position(w, n_arguments, strlen(s)), p,
                                              "\"arguments\" contains a NUL character (\\u0000), which no "
                                              "argument can contain");
                                ok = false;
                        } else {
                                r = argv_split(s, &x.argv, &bad);
                                if (r == -ENOMEM) {
                                        w->error = r;
                                        goto finish;
                                }
                                if (r < 0) {
                                        Pos at = string_decoded_offset_position(w, n_arguments, bad);

                                        if (s[bad] == '\\')
                                                walker_report(w, FINDING_ERROR, at, p,
                                                              "\"arguments\" ends with a lone backslash, "
                                                              "which escapes nothing");
                                        else
                                                walker_report(w, FINDING_ERROR, at, p,
                                                              "\"arguments\" has an unbalanced quote: the "
                                                              "%s quote (%c) here is never closed",
                                                              s[bad] == '"' ? "double" : "single", s[bad]);
                                        ok = false;
                                } else {
                                        x.arguments = strdup(s);
                                        if (!x.arguments) {
                                                w->error = -ENOMEM;
                                                goto finish;
                                        }
                                }
                        }
                }
        }

        /* s3LogEnabled: boolean, default true. */
        if (n_s3) {
                _cleanup_(freep) char *p = path_join_key(path, n_s3->key, n_s3->key_len);

                if (!p) {
                        w->error = -ENOMEM;
                        goto finish;
                }
                if (n_s3->type != NODE_BOOLEAN || !json_object_is_type(j_s3, json_type_boolean)) {
                        const char *hint = NULL;

                        if (n_s3->type == NODE_STRING) {
                                const char *s = json_object_get_string(j_s3);

                                if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0))
                                        hint = " (write true or false without quotes)";
                        }
                        walker_type_error(w, n_s3, p, "\"s3LogEnabled\"", "true or false", hint);
                        ok = false;
                } else
                        x.s3_log_enabled = json_object_get_boolean(j_s3);
        }

finish:
        if (ok && w->error == 0 && context >= 0 && w->config) {
                ScriptExecutable *dst = &w->config->events[event].executables[context];

                if (!x.arguments)
                        x.arguments = strdup("");
                if (!x.argv)
                        x.argv = calloc(1, sizeof(char *));
                if (!x.arguments || !x.argv)
                        w->error = -ENOMEM;
                *dst = x;
                return;
        }

        free(x.filename);
        free(x.arguments);
        strv_free(x.argv);
}

/* ---- one event ---- */

static void walker_event(Walker *w, ScriptEvent event, const Node *ev, struct json_object *jev,
                         const char *path) {
        static const char known[] = "executables, waitingTime";
        const Node *n_exec = NULL, *n_wait = NULL;
        struct json_object *j_exec = NULL, *j_wait = NULL;
        ScriptEventConfig *cfg = w->config ? &w->config->events[event] : NULL;

        if (ev->type != NODE_OBJECT || !json_object_is_type(jev, json_type_object)) {
                _cleanup_(freep) char *what = NULL;

                if (asprintf(&what, "\"%s\"", event_names[event]) < 0) {
                        w->error = -ENOMEM;
                        return;
                }
                walker_type_error(w, ev, path, what, "an object like {\"executables\": […], "
                                                     "\"waitingTime\": 30}",
                                  NULL);
                return;
        }

        if (cfg) {
                cfg->present = true;
                cfg->waiting_time_sec = SCRIPT_CONFIG_WAITING_TIME_DEFAULT;
        }

        walker_check_duplicates(w, ev, path);

        for (size_t i = 0; i < ev->n_children; i++) {
                const Node *c = &ev->children[i];
                struct json_object *v;
                bool found = member_value(jev, c, &v);

                if (found && key_equal_ci(c, "executables")) {
                        n_exec = c;
                        j_exec = v;
                } else if (found && key_equal_ci(c, "waitingTime")) {
                        n_wait = c;
                        j_wait = v;
                } else {
                        _cleanup_(freep) char *p = path_join_key(path, c->key ?: "", c->key_len);

                        if (!p) {
                                w->error = -ENOMEM;
                                return;
                        }
                        walker_unknown_key(w, c, p, "in an event", known);
                }
        }

        if (n_wait) {
                _cleanup_(freep) char *p = path_join_key(path, n_wait->key, n_wait->key_len);

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (n_wait->type == NODE_NUMBER && json_object_is_type(j_wait, json_type_int)) {
                        int64_t v = json_object_get_int64(j_wait);

                        if (v < SCRIPT_CONFIG_WAITING_TIME_MIN || v > SCRIPT_CONFIG_WAITING_TIME_MAX) {
                                _cleanup_(freep) char *e = excerpt(w->text + n_wait->offset,
                                                                   n_wait->end - n_wait->offset);

                                if (!e) {
                                        w->error = -ENOMEM;
                                        return;
                                }
                                walker_report(w, FINDING_ERROR, n_wait->pos, p,
                                              "\"waitingTime\" must be between %u and %u seconds, but it is "
                                              "%s",
                                              SCRIPT_CONFIG_WAITING_TIME_MIN,
                                              SCRIPT_CONFIG_WAITING_TIME_MAX, e);
                        } else if (cfg)
                                cfg->waiting_time_sec = (unsigned) v;
                } else if (n_wait->type == NODE_NUMBER)
                        walker_type_error(w, n_wait, p, "\"waitingTime\"",
                                                        "a whole number of seconds (1 to 60)",
                                          NULL);
                else if (n_wait->type == NODE_STRING)
                        walker_type_error(w, n_wait, p, "\"waitingTime\"",
                                                        "a whole number of seconds (1 to 60)",
                                          " (write the number without quotes)");
                else
                        walker_type_error(w, n_wait, p, "\"waitingTime\"",
                                                        "a whole number of seconds (1 to 60)",
                                          NULL);
        }

        if (!n_exec) {
                walker_report(w, FINDING_ERROR, ev->pos, path,
                              "\"%s\" has no \"executables\" array; it is required in an event (write "
                              "\"executables\": [] for none)", event_names[event]);
                return;
        }

        {
                _cleanup_(freep) char *p = path_join_key(path, n_exec->key, n_exec->key_len);
                const Node *context_seen[_SCRIPT_CONTEXT_MAX] = {};

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (n_exec->type != NODE_ARRAY || !json_object_is_type(j_exec, json_type_array)) {
                        walker_type_error(w, n_exec, p, "\"executables\"",
                                                        "an array of executable objects ([…])",
                                          NULL);
                        return;
                }

                for (size_t i = 0; i < n_exec->n_children && w->error == 0; i++) {
                        _cleanup_(freep) char *pi = path_join_index(p, i);
                        struct json_object *je = json_object_array_get_idx(j_exec, i);

                        if (!pi) {
                                w->error = -ENOMEM;
                                return;
                        }
                        if (i == SCRIPT_CONFIG_MAX_EXECUTABLES)
                                walker_report(w, FINDING_ERROR, n_exec->children[i].pos, pi,
                                              "\"executables\" has %zu entries, but at most %u are allowed "
                                              "(one for the user context, one for the system context)",
                                              json_object_array_length(j_exec),
                                              SCRIPT_CONFIG_MAX_EXECUTABLES);
                        /* je is NULL for a JSON null entry: the node type reports it. */
                        walker_executable(w, event, &n_exec->children[i], je, pi, i, context_seen);
                }
        }
}

static void walker_document(Walker *w, const Node *root, struct json_object *jroot) {
        static const char known[] = "SessionStart, SessionTermination";
        const Node *seen[_SCRIPT_EVENT_MAX] = {};

        if (root->type != NODE_OBJECT || !json_object_is_type(jroot, json_type_object)) {
                walker_type_error(w, root, "", "The top level of config.json",
                                  "an object ({\"SessionStart\": {…}, \"SessionTermination\": {…}})", NULL);
                return;
        }

        walker_check_duplicates(w, root, "");

        for (size_t i = 0; i < root->n_children && w->error == 0; i++) {
                const Node *c = &root->children[i];
                struct json_object *v;
                bool found = member_value(jroot, c, &v);
                _cleanup_(freep) char *p = path_join_key("", c->key ?: "", c->key_len);
                int e;

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }

                e = found ? script_event_from_string(c->key) : -EINVAL;
                if (e < 0) {
                        _cleanup_(freep) char *k = excerpt(c->key ?: "", c->key_len);

                        if (!k) {
                                w->error = -ENOMEM;
                                return;
                        }
                        walker_report(w, FINDING_WARNING, c->key_pos, p,
                                      "Unknown event \"%s\" is ignored (the only events are %s)", k, known);
                        continue;
                }
                if (seen[e])
                        continue;       /* a duplicate, already reported */
                seen[e] = c;

                walker_event(w, (ScriptEvent) e, c, v, p);
        }
}

/* ---- parse ------------------------------------------------------------------------------------- */

/* Orders findings by position; ties keep the order of insertion. */
typedef struct IndexedFinding {
        Finding f;
        size_t seq;
} IndexedFinding;

static int indexed_finding_compare(const void *a, const void *b) {
        const IndexedFinding *x = a, *y = b;

        if (x->f.line != y->f.line)
                return x->f.line < y->f.line ? -1 : 1;
        if (x->f.column != y->f.column)
                return x->f.column < y->f.column ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int findings_sort_from(FindingList *l, size_t first) {
        _cleanup_(freep) IndexedFinding *tmp = NULL;
        size_t n, n_sorted;

        if (l->n <= first + 1)
                return 0;

        /* The "more findings" marker stays last. */
        n_sorted = l->n > SCRIPT_CONFIG_MAX_FINDINGS ? l->n - 1 : l->n;
        if (n_sorted <= first + 1)
                return 0;
        n = n_sorted - first;

        tmp = calloc(n, sizeof(IndexedFinding));
        if (!tmp)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                tmp[i] = (IndexedFinding) { .f = l->items[first + i], .seq = i };
        qsort(tmp, n, sizeof(IndexedFinding), indexed_finding_compare);
        for (size_t i = 0; i < n; i++)
                l->items[first + i] = tmp[i].f;
        return 0;
}

static const char *json_tokener_error_sentence(enum json_tokener_error e) {
        switch (e) {
        case json_tokener_error_depth:
                return "Arrays and objects are nested too deeply";
        case json_tokener_continue:
        case json_tokener_error_parse_eof:
                return "Unexpected end of file";
        case json_tokener_error_parse_utf8_string:
                return "Invalid UTF-8 in the file";
        default:
                return "Syntax error";
        }
}

int script_config_parse(const char *buf, size_t len, ScriptConfig **ret_config, FindingList *findings) {
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(json_object_putp) struct json_object *jroot = NULL;
        _cleanup_(script_config_freep) ScriptConfig *config = NULL;
        _cleanup_(scanner_done) Scanner s = {};
        _cleanup_(node_done) Node root = {};
        const Pos start = { .line = 1, .column = 1 };
        size_t first = findings ? findings->n : 0, errors_before;
        const char *text = buf;
        Walker w;
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

        s = (Scanner) { .text = text, .len = len, .pos = start };
        scanner_skip_blanks(&s);
        if (s.i >= len) {
                r = finding_list_add(findings, FINDING_ERROR, s.pos.line, s.pos.column, "", NULL,
                                     len == 0 ? "config.json is empty; it must contain a JSON object"
                                              : "config.json contains only white space; it must contain a "
                                                "JSON object");
                return r < 0 ? r : -EINVAL;
        }
        s = (Scanner) { .text = text, .len = len, .pos = start };

        r = scan_document(&s, &root);
        if (r < 0) {
                if (r == -ENOMEM || !s.error_message)
                        return -ENOMEM;
                r = finding_list_add(findings, FINDING_ERROR, s.error_pos.line, s.error_pos.column, "", NULL,
                                     "%s", s.error_message);
                return r < 0 ? r : -EINVAL;
        }

        /* The scanner accepted the text; json-c decodes it. Its depth limit is a little above ours
         * so that the friendlier message above is the one that fires. */
        tok = json_tokener_new_ex(SCRIPT_CONFIG_MAX_DEPTH + 2);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

        jroot = json_tokener_parse_ex(tok, text, (int) len);
        if (!jroot && json_tokener_get_error(tok) == json_tokener_continue)
                /* A bare top-level number is only complete once json-c sees its end. */
                jroot = json_tokener_parse_ex(tok, "", 1);
        /* A document that is just "null" parses successfully to NULL; the walker reports it. */
        if (!jroot && json_tokener_get_error(tok) != json_tokener_success) {
                enum json_tokener_error e = json_tokener_get_error(tok);
                size_t off = MIN(json_tokener_get_parse_end(tok), len);
                Pos at = text_position(text, 0, start, off);

                r = finding_list_add(findings, FINDING_ERROR, at.line, at.column, "", NULL, "%s (%s)",
                                     json_tokener_error_sentence(e), json_tokener_error_desc(e));
                return r < 0 ? r : -EINVAL;
        }

        config = calloc(1, sizeof(ScriptConfig));
        if (!config)
                return -ENOMEM;
        for (size_t e = 0; e < _SCRIPT_EVENT_MAX; e++)
                config->events[e].waiting_time_sec = SCRIPT_CONFIG_WAITING_TIME_DEFAULT;

        w = (Walker) { .text = text, .len = len, .findings = findings, .config = config };
        walker_document(&w, &root, jroot);
        if (w.error < 0)
                return w.error;

        r = findings_sort_from(findings, first);
        if (r < 0)
                return r;

        if (findings->n_errors > errors_before)
                return -EINVAL;

        if (ret_config)
                *ret_config = TAKE_PTR(config);
        return 0;
}

/* ---- argv_split ------------------------------------------------------------------------------- */

int argv_split(const char *s, char ***ret, size_t *ret_error_offset) {
        _cleanup_(strv_freep) char **l = NULL;
        _cleanup_(freep) char *word = NULL;
        size_t n = 0, wl = 0, slen;
        bool started = false;

        if (!s || !ret)
                return -EINVAL;

        slen = strlen(s);
        /* Words are never longer than the input, and there are at most slen/2+1 of them. */
        word = malloc(slen + 1);
        l = calloc(slen / 2 + 2, sizeof(char *));
        if (!word || !l)
                return -ENOMEM;

        for (size_t i = 0; i <= slen; i++) {
                char c = s[i];

                if (c == 0 || c == ' ' || c == '\t' || c == '\n') {
                        if (started) {
                                l[n] = strndup(word, wl);
                                if (!l[n])
                                        return -ENOMEM;
                                n++;
                                wl = 0;
                                started = false;
                        }
                        continue;
                }

                started = true;

                if (c == '\\') {
                        if (s[i + 1] == 0) {
                                if (ret_error_offset)
                                        *ret_error_offset = i;
                                return -EINVAL;
                        }
                        i++;
                        if (s[i] != '\n')       /* backslash-newline is a line continuation */
                                word[wl++] = s[i];
                        continue;
                }

                if (c == '\'') {
                        const char *close = strchr(s + i + 1, '\'');

                        if (!close) {
                                if (ret_error_offset)
                                        *ret_error_offset = i;
                                return -EINVAL;
                        }
                        memcpy(word + wl, s + i + 1, (size_t) (close - (s + i + 1)));
                        wl += (size_t) (close - (s + i + 1));
                        i = (size_t) (close - s);
                        continue;
                }

                if (c == '"') {
                        size_t open = i;

                        for (i++;; i++) {
                                if (s[i] == 0) {
                                        if (ret_error_offset)
                                                *ret_error_offset = open;
                                        return -EINVAL;
                                }
                                if (s[i] == '"')
                                        break;
                                /* Inside double quotes a backslash only escapes $ ` " \ and newline
                                 * (POSIX 2.2.3); before any other character it stays itself, which
                                 * keeps Windows-style "C:\path" intact. */
                                if (s[i] == '\\' && s[i + 1] && strchr("$`\"\\\n", s[i + 1])) {
                                        i++;
                                        if (s[i] != '\n')
                                                word[wl++] = s[i];
                                        continue;
                                }
                                word[wl++] = s[i];
                        }
                        continue;
                }

                word[wl++] = c;
        }

        l[n] = NULL;
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- file checks ------------------------------------------------------------------------------ */

/* Hard bound on symlinks followed while resolving one path (as the kernel's 40). */
#define CHECK_MAX_SYMLINKS 40U

typedef struct FileCheck {
        FindingList *findings;
        const char *file;               /* the file the findings are about (for .file) */
        const char *json_path;
        const char *what;               /* "The executable" or "The file", to start messages */
        /* Directories already reported for this file, to report each once. */
        dev_t reported_dev[64];
        ino_t reported_ino[64];
        size_t n_reported;
} FileCheck;

/* Adds an error about the file being checked (no position; .file and .json_path from fc). */
__attribute__((format(printf, 2, 3)))
static int file_error(FileCheck *fc, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = finding_list_addv(fc->findings, FINDING_ERROR, 0, 0, fc->json_path, fc->file, format, ap);
        va_end(ap);
        return r;
}

static const char *file_type_name(mode_t m) {
        if (S_ISDIR(m))
                return "a directory";
        if (S_ISLNK(m))
                return "a symbolic link";
        if (S_ISCHR(m))
                return "a character device";
        if (S_ISBLK(m))
                return "a block device";
        if (S_ISFIFO(m))
                return "a FIFO";
        if (S_ISSOCK(m))
                return "a socket";
        return "not a regular file";
}

/* Owner root, not writable by group or others: the property SPEC §2 asks of the files and of
 * every directory above them, so only root can change what runs as root (or as the user). */
/* `path` is NULL for the file itself (the finding names it in .file). */
static int check_owner_and_mode(FileCheck *fc, const char *what, const char *path, const struct stat *st) {
        int r;

        if (st->st_uid != 0) {
                r = file_error(fc, "%s%s%s is owned by uid %u, not by root; only root may own it (chown "
                                   "root)",
                                     what, path ? " " : "", path ?: "", (unsigned) st->st_uid);
                if (r < 0)
                        return r;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                r = file_error(fc, "%s%s%s is writable by %s (mode %04o); it must be writable by root only "
                                     "(chmod go-w)",
                                     what, path ? " " : "", path ?: "",
                                     (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ?
                                             "group and others" :
                                     (st->st_mode & S_IWGRP) ? "its group" : "others",
                                     (unsigned) (st->st_mode & 07777));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_directory(FileCheck *fc, const char *path, const struct stat *st) {
        for (size_t i = 0; i < fc->n_reported; i++)
                if (fc->reported_dev[i] == st->st_dev && fc->reported_ino[i] == st->st_ino)
                        return 0;
        if (fc->n_reported < ELEMENTSOF(fc->reported_dev)) {
                fc->reported_dev[fc->n_reported] = st->st_dev;
                fc->reported_ino[fc->n_reported] = st->st_ino;
                fc->n_reported++;
        }

        return check_owner_and_mode(fc, "The directory", path, st);
}

/*
 * Walks `path` like the kernel does, component by component, following symlinks in the
 * directories above the file by hand, so that every directory actually traversed — also those
 * only reached through a symlink — is checked. The final component must not be a symlink: the
 * daemon opens executables with O_NOFOLLOW and executes the descriptor it verified, and a symlink
 * would let its target (possibly not root-owned, possibly swapped later) stand in for the checked
 * name; refusing it is the safer choice, and the fix (name the real path) is easy.
 * On success, *ret_st is the file's stat and 1 is returned; 0 when a finding was reported.
 */
static int check_path_walk(FileCheck *fc, const char *path, struct stat *ret_st) {
        char resolved[PATH_MAX], todo[PATH_MAX];
        unsigned symlinks = 0;
        struct stat st;
        int r;

        if (!path || path[0] != '/' || strlen(path) >= sizeof(todo))
                return file_error(fc, "%s is not named by a usable absolute path", fc->what);

        strcpy(todo, path);
        resolved[0] = 0;        /* "" stands for "/" */

        if (lstat("/", &st) < 0)
                return -errno;
        r = check_directory(fc, "/", &st);
        if (r < 0)
                return r;

        for (;;) {
                char *comp = todo, *rest, candidate[PATH_MAX];
                bool last;

                while (*comp == '/')
                        comp++;
                if (*comp == 0)
                        /* The path ended in '/' (or was "/"): it names a directory. */
                        return file_error(fc, "%s is named by a directory path (ending in '/')", fc->what);

                rest = strchr(comp, '/');
                if (rest)
                        *rest++ = 0;
                while (rest && *rest == '/')
                        rest++;
                last = !rest || *rest == 0;

                if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
                        if (comp[1] == '.') {
                                char *slash = strrchr(resolved, '/');
                                if (slash)
                                        *slash = 0;
                        }
                        if (last)
                                return file_error(fc, "%s is named by a directory path (ending in '.' or "
                                                      "'..')", fc->what);
                        memmove(todo, rest, strlen(rest) + 1);
                        continue;
                }

                if ((size_t) snprintf(candidate, sizeof(candidate), "%s/%s",
                                                                    resolved, comp) >= sizeof(candidate))
                        return file_error(fc, "%s has a path that is too long", fc->what);

                if (lstat(candidate, &st) < 0) {
                        if (errno == ENOENT && last)
                                return file_error(fc, "%s does not exist", fc->what);
                        if (errno == ENOENT)
                                return file_error(fc, "%s does not exist (the directory %s is missing)",
                                                        fc->what, candidate);
                        if (errno == ENOTDIR || errno == EACCES || errno == ELOOP || errno == ENAMETOOLONG)
                                return file_error(fc, "%s cannot be checked: %s: %s", fc->what, candidate,
                                                        strerror(errno));
                        return -errno;
                }

                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX], next[PATH_MAX];
                        ssize_t n;

                        if (last)
                                return file_error(fc, "%s is a symbolic link; name the real file instead "
                                                      "(symbolic links are refused, so the checked file is "
                                                      "the one that runs)",
                                                        fc->what);
                        if (++symlinks > CHECK_MAX_SYMLINKS)
                                return file_error(fc,
                                                  "%s cannot be found: too many levels of symbolic links",
                                                      
                                                        fc->what);

                        n = readlink(candidate, target, sizeof(target) - 1);
                        if (n < 0)
                                return -errno;
                        target[n] = 0;

                        if ((size_t) snprintf(next, sizeof(next), "%s/%s",
                                                                  target, rest ?: "") >= sizeof(next))
                                return file_error(fc, "%s has a path that is too long once its symbolic "
                                                      "links are resolved",
                                                        fc->what);
                        if (target[0] == '/')
                                resolved[0] = 0;
                        strcpy(todo, next);
                        continue;
                }

                if (!last) {
                        if (!S_ISDIR(st.st_mode))
                                return file_error(fc, "%s does not exist (%s is not a directory)", fc->what,
                                                        candidate);
                        r = check_directory(fc, candidate, &st);
                        if (r < 0)
                                return r;
                        strcpy(resolved, candidate);
                        memmove(todo, rest, strlen(rest) + 1);
                        continue;
                }

                /* The file itself. */
                if (!S_ISREG(st.st_mode))
                        return file_error(fc, "%s is %s; it must be a regular file", fc->what,
                                                file_type_name(st.st_mode));

                r = check_owner_and_mode(fc, fc->what, NULL, &st);
                if (r < 0)
                        return r;

                *ret_st = st;
                return 1;
        }
}

static int check_executable(FindingList *findings, const char *filename, const char *json_path,
                            ScriptContext context) {
        FileCheck fc = {
                .findings = findings,
                .file = filename,
                .json_path = json_path,
                .what = "The executable",
        };
        struct stat st;
        int r;

        r = check_path_walk(&fc, filename, &st);
        if (r <= 0)
                return r;

        if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
                r = finding_list_add(findings, FINDING_ERROR, 0, 0, json_path, filename,
                                     "The executable has no execute permission (mode %04o); make it "
                                     "executable (chmod 755)", (unsigned) (st.st_mode & 07777));
                if (r < 0)
                        return r;
        } else if (context == SCRIPT_CONTEXT_USER && (st.st_mode & S_IXOTH) == 0) {
                /* User-context scripts run with the user's credentials; a root-owned file without the
                 * "others" execute bit only runs for users in its group. */
                r = finding_list_add(findings, FINDING_WARNING, 0, 0, json_path, filename,
                                     "The executable runs in the user context but is not executable by "
                                     "others (mode %04o); it only starts for members of group %u",
                                     (unsigned) (st.st_mode & 07777), (unsigned) st.st_gid);
                if (r < 0)
                        return r;
        }

        if ((uint64_t) st.st_size > SCRIPT_CONFIG_EXECUTABLE_WARN_SIZE) {
                r = finding_list_add(findings, FINDING_WARNING, 0, 0, json_path, filename,
                                     "The executable is %llu bytes large, over 100 MB, which slows down "
                                     "provisioning and the tamper check",
                                     (unsigned long long) st.st_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

int script_config_check_files(const ScriptConfig *c, const char *config_path, FindingList *findings) {
        int r;

        if (!findings)
                return -EINVAL;

        if (config_path) {
                FileCheck fc = {
                        .findings = findings,
                        .file = config_path,
                        .json_path = "",
                        .what = "The file",
                };
                struct stat st;

                r = check_path_walk(&fc, config_path, &st);
                if (r < 0)
                        return r;
        }

        if (!c)
                return 0;

        for (size_t e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (size_t x = 0; x < _SCRIPT_CONTEXT_MAX; x++) {
                        const ScriptExecutable *ex = &c->events[e].executables[x];
                        _cleanup_(freep) char *path = NULL;

                        if (!c->events[e].present || !script_executable_runs(ex))
                                continue;

                        if (asprintf(&path, "%s.executables[%u].filename",
                                            event_names[e], ex->json_index) < 0)
                                return -ENOMEM;

                        r = check_executable(findings, ex->filename, path, (ScriptContext) x);
                        if (r < 0)
                                return r;
                }

        return 0;
}
