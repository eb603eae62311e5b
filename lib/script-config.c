/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The config.json engine (SPEC §2).
 *
 * Parsing happens in two steps over the same bytes:
 *
 *  1. A strict RFC 8259 scanner (below, "position index") validates the syntax — json-c's own
 *     "strict" mode still accepts single quotes, NaN, "1.", raw control characters in strings and
 *     trailing bytes after a NUL — and records, for every value of the containers the walker reads
 *     (the schema below; nothing under unknown keys), its line and column and the line and column
 *     of its key, and for a syntax error the JSON path it is in. json-c gives no positions of
 *     values, so this index is what lets every finding name the exact place.
 *  2. The walker applies the rules of the SPEC §2 table to the index; json-c (with UTF-8
 *     validation, without its strict mode: see script_config_parse()) decodes each scalar value it
 *     reads from that value's own span of the text, so a node and its value can never be
 *     mismatched (as they were with duplicate keys, when json-c kept the last value for the first
 *     node).
 *
 * The walker fills the typed ScriptConfig. Everything here is pure: no I/O, no logging, no global
 * state — except script_config_check_files() at the end, which looks at the real files.
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
#include "utf8.h"

/* How many characters of a value or key are quoted in a message before it is cut off with "…". */
#define EXCERPT_MAX 48U
/* Members/elements per indexed container, i.e. one the walker reads (the format needs ≤ 5; more is
 * refused as an error). Containers below unknown keys are not indexed and not limited. */
#define INDEX_MAX_CHILDREN 1024U

#ifndef MIN
#endif
#ifndef MAX
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
 * (overlong forms, surrogates and code points above U+10FFFF are not). Non-characters are well
 * formed: JSON allows them (and they can be written as \u escapes anyway); what goes on the bus is
 * checked by the daemon with sd-bus's rule. */
static size_t utf8_sequence_length(const unsigned char *s, size_t n) {
        return utf8_decode((const char *) s, n, NULL);
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
 *
 * `decoded` is for decoded strings (keys and string values), which messages show inside "…": a '"'
 * and a '\' in them are escaped as \" and \\, so the quoting in the message stays unambiguous.
 * Raw document text (!decoded) is shown as written: its quotes and escapes are JSON's own.
 */
static char *excerpt(const char *s, size_t n, bool decoded) {
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

static size_t utf8_count_chars(const char *s, size_t n) {
        size_t chars = 0;

        for (size_t i = 0; i < n; i++)
                if ((((unsigned char) s[i]) & 0xC0) != 0x80)
                        chars++;
        return chars;
}

/* Compares n bytes case-insensitively in ASCII (as strncasecmp in the C locale), but without
 * stopping at a NUL: decoded keys may contain one (written as \u0000). */
static int memcasecmp_ascii(const char *a, const char *b, size_t n) {
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

/* ---- the schema: which parts of the document are interpreted ------------------------------------ */

/*
 * What a value of the document is to the walker. The scanner keeps the children (indexes) only of
 * the containers the walker reads, so that a big value below an unknown key costs no memory and
 * hits no limit; and both name known keys by their canonical spelling in JSON paths.
 */
typedef enum SchemaKind {
        SCHEMA_DOCUMENT,        /* the top level: the events */
        SCHEMA_EVENT,           /* "SessionStart"/"SessionTermination": executables, waitingTime */
        SCHEMA_EXECUTABLES,     /* an event's "executables": the entries */
        SCHEMA_ENTRY,           /* one entry: context, filename, arguments, s3LogEnabled */
        SCHEMA_SETTING,         /* a value that is read as a whole (string, number, boolean) */
        SCHEMA_IGNORED,         /* below an unknown key, or where the document has another type */
} SchemaKind;

static const char *const event_keys[] = { "executables", "waitingTime" };
static const char *const entry_keys[] = { "context", "filename", "arguments", "s3LogEnabled" };

/* Containers of these kinds are indexed (the walker looks at their children). */
static bool schema_indexed(SchemaKind k) {
        return k == SCHEMA_DOCUMENT || k == SCHEMA_EVENT || k == SCHEMA_EXECUTABLES || k == SCHEMA_ENTRY;
}

/*
 * The canonical spelling of the member `key` (key_len bytes, matched case-insensitively) of an
 * object of kind `parent`, and in *ret_kind (if non-NULL) the kind of its value. Returns NULL and
 * SCHEMA_IGNORED for a key that is unknown there. Returns static strings.
 */
static const char *schema_member(SchemaKind parent, const char *key, size_t key_len, SchemaKind *ret_kind) {
        const char *const *names = NULL;
        size_t n = 0;

        if (ret_kind)
                *ret_kind = SCHEMA_IGNORED;
        if (!key)
                return NULL;

        switch (parent) {
        case SCHEMA_DOCUMENT:
                names = event_names;
                n = _SCRIPT_EVENT_MAX;
                break;
        case SCHEMA_EVENT:
                names = event_keys;
                n = ELEMENTSOF(event_keys);
                break;
        case SCHEMA_ENTRY:
                names = entry_keys;
                n = ELEMENTSOF(entry_keys);
                break;
        default:
                return NULL;
        }

        for (size_t i = 0; i < n; i++)
                if (strlen(names[i]) == key_len && memcasecmp_ascii(key, names[i], key_len) == 0) {
                        if (ret_kind)
                                *ret_kind = parent == SCHEMA_DOCUMENT ? SCHEMA_EVENT :
                                            parent == SCHEMA_EVENT && i == 0 ? SCHEMA_EXECUTABLES :
                                            SCHEMA_SETTING;
                        return names[i];
                }
        return NULL;
}

/* The kind of the elements of an array of kind `parent`. */
static SchemaKind schema_element(SchemaKind parent) {
        return parent == SCHEMA_EXECUTABLES ? SCHEMA_ENTRY : SCHEMA_IGNORED;
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
        /* For objects and arrays that the walker reads (schema_indexed()), at most
         * INDEX_MAX_CHILDREN: */
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

/* Room for the JSON path of the value being scanned: at most SCRIPT_CONFIG_MAX_DEPTH segments, each
 * a '.' and a key excerpt (≤ 4 bytes per character plus "…") or an index. */
#define SCANNER_PATH_MAX (SCRIPT_CONFIG_MAX_DEPTH * (EXCERPT_MAX * 4 + 8) + 1)

typedef struct Scanner {
        const char *text;
        size_t len;
        size_t i;
        Pos pos;
        /* The JSON path of the innermost member or element being scanned ("" at the top), with known
         * keys in their canonical spelling, so that a syntax error can say where it is. */
        char path[SCANNER_PATH_MAX];
        size_t path_len;
        /* The first syntax error: */
        bool failed;
        int error;              /* -ENOMEM or -EINVAL */
        Pos error_pos;
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

/* Appends the member `key` of an object of kind `parent` to the path (canonical when known, else an
 * excerpt as written) and stores the kind of its value in *ret_kind and the previous path length in
 * *ret_saved. Returns 0 or -ENOMEM. */
static int scanner_path_push_member(Scanner *s, SchemaKind parent, const char *key, size_t key_len,
                                    SchemaKind *ret_kind, size_t *ret_saved) {
        _cleanup_(freep) char *e = NULL;
        const char *name;

        name = schema_member(parent, key, key_len, ret_kind);
        if (!name) {
                e = excerpt(key ?: "", key_len, true);
                if (!e)
                        return -ENOMEM;
                name = e;
        }
        *ret_saved = scanner_path_push(s, "%s%s", s->path_len > 0 ? "." : "", name);
        return 0;
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

static int scan_value(Scanner *s, Node *node, SchemaKind kind, unsigned depth);

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

/*
 * Scans an object or array into `node`. Its children are kept in node->children only when the walker
 * reads a container of this kind (schema_indexed()); below unknown keys everything is validated
 * but nothing is kept, and no count limit applies.
 */
static int scan_container(Scanner *s, Node *node, SchemaKind kind, unsigned depth) {
        bool object = s->text[s->i] == '{';
        char close = object ? '}' : ']';
        Pos open_pos = s->pos, comma_pos;
        bool have_comma = false;
        size_t count = 0;
        bool keep = schema_indexed(kind);
        int r;

        if (depth >= SCRIPT_CONFIG_MAX_DEPTH)
                return scanner_fail(s, s->pos, "Arrays and objects are nested more than %u levels deep",
                                    SCRIPT_CONFIG_MAX_DEPTH);

        scanner_advance(s, 1);

        for (;;) {
                _cleanup_(node_done) Node child = {};
                SchemaKind child_kind;
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
                        r = scanner_path_push_member(s, kind, child.key, child.key_len, &child_kind, &saved);
                        if (r < 0)
                                return scanner_oom(s);
                        scanner_skip_blanks(s);
                        if (s->i >= s->len || s->text[s->i] != ':')
                                return scanner_fail_expected(s, "':' after the key name", NULL);
                        scanner_advance(s, 1);
                } else {
                        child_kind = schema_element(kind);
                        saved = scanner_path_push(s, "[%zu]", count);
                }

                r = scan_value(s, &child, child_kind, depth + 1);
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

static int scan_value(Scanner *s, Node *node, SchemaKind kind, unsigned depth) {
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
                node->type = c == '{' ? NODE_OBJECT : NODE_ARRAY;
                r = scan_container(s, node, kind, depth);
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

        r = scan_value(s, root, SCHEMA_DOCUMENT, 0);
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

/* ---- the walker ------------------------------------------------------------------------------- */

typedef struct Walker {
        const char *text;       /* the document (after an optional BOM) */
        size_t len;
        FindingList *findings;
        ScriptConfig *config;
        struct json_tokener *tok;       /* decodes the values that the walker reads */
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

/*
 * The JSON path of the member `child` of the object at `parent`, an object of kind `kind`: a known
 * key in its canonical spelling ("SessionStart.executables" also for "sessionstart"/"Executables"),
 * an unknown one as written (as an escaped excerpt).
 */
static char *path_join_member(const char *parent, SchemaKind kind, const Node *child) {
        _cleanup_(freep) char *k = NULL;
        const char *name;
        char *p = NULL;

        name = schema_member(kind, child->key, child->key_len, NULL);
        if (!name) {
                k = excerpt(child->key ?: "", child->key_len, true);
                if (!k)
                        return NULL;
                name = k;
        }
        if (asprintf(&p, "%s%s%s", parent, parent[0] ? "." : "", name) < 0)
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
                e = excerpt(w->text + n->offset, n->end - n->offset, false);
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

/* Case-insensitive; a key with an embedded NUL (\u0000) matches no name. */
static bool key_equal_ci(const Node *child, const char *name) {
        return child->key && child->key_len == strlen(name) &&
                memcasecmp_ascii(child->key, name, child->key_len) == 0;
}

/*
 * Decodes the value of the scalar node n (a string, number, true or false: what the walker reads)
 * with json-c, from the node's own span of the text. Only the values the walker reads are decoded —
 * a big value below an unknown key costs no memory — and a value always belongs to its node, also
 * when a key is given twice. The node type is the scanner's, so the json-c type matches it. Returns
 * a new reference (the caller puts it), or NULL with an error reported (or w->error set).
 */
static struct json_object *walker_decode(Walker *w, const Node *n, const char *path) {
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
                walker_report(w, FINDING_ERROR, n->pos, path, "This value cannot be decoded");
                return NULL;
        }
        /* json-c refusing what the strict scanner accepted (not expected; or out of memory). */
        walker_report(w, FINDING_ERROR, n->pos, path, "This value cannot be decoded (%s)",
                      json_tokener_error_desc(e));
        return NULL;
}

static int key_compare_ci(const void *a, const void *b) {
        const Node *const *x = a, *const *y = b;
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
 * Reports every key that occurs a second time in the object `obj` of kind `kind` (case-insensitively,
 * as key names are matched case-insensitively: "waitingTime" and "WaitingTime" name the same
 * setting), and returns an array with one flag per member: true for a member that a later one of
 * the same name shadows. Only the last of such members is interpreted: it is also the one whose value
 * json-c kept, so the index node and the json-c value always describe the same text, and a
 * duplicate draws just the one error about it. Returns NULL (w->error set) on allocation failure.
 */
static bool *walker_check_duplicates(Walker *w, const Node *obj, SchemaKind kind, const char *path) {
        _cleanup_(freep) const Node **sorted = NULL;
        _cleanup_(freep) bool *shadowed = NULL;

        shadowed = calloc(MAX(obj->n_children, 1U), sizeof(bool));
        if (!shadowed) {
                w->error = -ENOMEM;
                return NULL;
        }
        if (obj->n_children < 2)
                return TAKE_PTR(shadowed);

        sorted = calloc(obj->n_children, sizeof(Node *));
        if (!sorted) {
                w->error = -ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i < obj->n_children; i++)
                sorted[i] = &obj->children[i];
        qsort(sorted, obj->n_children, sizeof(Node *), key_compare_ci);

        for (size_t i = 1, group = 0; i < obj->n_children; i++) {
                const Node *first = sorted[group], *dup = sorted[i];
                _cleanup_(freep) char *k1 = NULL, *k2 = NULL, *p = NULL;

                if (first->key_len != dup->key_len ||
                    memcasecmp_ascii(first->key, dup->key, dup->key_len) != 0) {
                        group = i;
                        continue;
                }

                /* Within a group the order is the document's: the one before this one is shadowed. */
                shadowed[sorted[i - 1] - obj->children] = true;

                k1 = excerpt(first->key, first->key_len, true);
                k2 = excerpt(dup->key, dup->key_len, true);
                p = path_join_member(path, kind, dup);
                if (!k1 || !k2 || !p) {
                        w->error = -ENOMEM;
                        return NULL;
                }
                if (memcmp(first->key, dup->key, dup->key_len) == 0)
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
        return TAKE_PTR(shadowed);
}

static void walker_unknown_key(Walker *w, const Node *child, const char *path, const char *where,
                               const char *known) {
        _cleanup_(freep) char *k = NULL;

        k = excerpt(child->key ?: "", child->key_len, true);
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

static void walker_executable(Walker *w, ScriptEvent event, const Node *entry, const char *path,
                              size_t index,
                              const Node *context_seen[_SCRIPT_CONTEXT_MAX]) {
        static const char known[] = "context, filename, arguments, s3LogEnabled";
        const Node *n_context = NULL, *n_filename = NULL, *n_arguments = NULL, *n_s3 = NULL;
        _cleanup_(json_object_putp) struct json_object *j_context = NULL, *j_filename = NULL,
                *j_arguments = NULL, *j_s3 = NULL;
        ScriptExecutable x = { .present = true, .s3_log_enabled = true, .json_index = (unsigned) index };
        _cleanup_(freep) bool *shadowed = NULL;
        bool ok = true;
        int context = -1;

        if (entry->type != NODE_OBJECT) {
                walker_type_error(w, entry, path, "Each entry of \"executables\"",
                                  "an object like {\"context\": \"system\", \"filename\": "
                                  "\"/path/to/script\"}",
                                  NULL);
                return;
        }

        shadowed = walker_check_duplicates(w, entry, SCHEMA_ENTRY, path);
        if (!shadowed)
                return;

        for (size_t i = 0; i < entry->n_children; i++) {
                const Node *c = &entry->children[i];
                _cleanup_(freep) char *p = NULL;

                if (shadowed[i])
                        continue;       /* a duplicate, already reported; the last one counts */

                if (key_equal_ci(c, "context"))
                        n_context = c;
                else if (key_equal_ci(c, "filename"))
                        n_filename = c;
                else if (key_equal_ci(c, "arguments"))
                        n_arguments = c;
                else if (key_equal_ci(c, "s3LogEnabled"))
                        n_s3 = c;
                else {
                        p = path_join_member(path, SCHEMA_ENTRY, c);
                        if (!p) {
                                w->error = -ENOMEM;
                                return;
                        }
                        walker_unknown_key(w, c, p, "in an executable entry", known);
                }
        }

        /* context: required, "user" or "system". The documents write it in lowercase; the value is
         * matched case-insensitively like the key names, so "System" is accepted too. */
        if (!n_context) {
                walker_report(w, FINDING_ERROR, entry->pos, path,
                              "This executable has no \"context\"; it is required and must be \"user\" or "
                              "\"system\"");
                ok = false;
        } else {
                _cleanup_(freep) char *p = path_join_member(path, SCHEMA_ENTRY, n_context);

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (n_context->type != NODE_STRING) {
                        walker_type_error(w, n_context, p, "\"context\"",
                                                           "the string \"user\" or \"system\"", NULL);
                        ok = false;
                } else if (!(j_context = walker_decode(w, n_context, p)))
                        ok = false;
                else {
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
                _cleanup_(freep) char *p = path_join_member(path, SCHEMA_ENTRY, n_filename);

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (n_filename->type != NODE_STRING) {
                        walker_type_error(w, n_filename, p, "\"filename\"",
                                          "a string with the full path of the executable (\"\" for none)",
                                          NULL);
                        ok = false;
                } else if (!(j_filename = walker_decode(w, n_filename, p)))
                        ok = false;
                else {
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
                                _cleanup_(freep) char *e = excerpt(s, sl, true);
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
                                /* For the file checks, which report at the value naming the file. */
                                x.filename_line = n_filename->pos.line;
                                x.filename_column = n_filename->pos.column;
                        }
                }
        }

        /* arguments: ≤ 1000 characters, split like a POSIX shell splits words. */
        if (n_arguments) {
                _cleanup_(freep) char *p = path_join_member(path, SCHEMA_ENTRY, n_arguments);

                if (!p) {
                        w->error = -ENOMEM;
                        goto finish;
                }
                if (n_arguments->type != NODE_STRING) {
                        walker_type_error(w, n_arguments, p, "\"arguments\"",
                                          "a string with the arguments (\"\" for none)", NULL);
                        ok = false;
                } else if (!(j_arguments = walker_decode(w, n_arguments, p)))
                        ok = false;
                else {
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
                _cleanup_(freep) char *p = path_join_member(path, SCHEMA_ENTRY, n_s3);

                if (!p) {
                        w->error = -ENOMEM;
                        goto finish;
                }
                if (n_s3->type != NODE_BOOLEAN) {
                        const char *hint = NULL;

                        if (n_s3->type == NODE_STRING && (j_s3 = walker_decode(w, n_s3, p))) {
                                const char *s = json_object_get_string(j_s3);

                                if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0))
                                        hint = " (write true or false without quotes)";
                        }
                        walker_type_error(w, n_s3, p, "\"s3LogEnabled\"", "true or false", hint);
                        ok = false;
                } else if (!(j_s3 = walker_decode(w, n_s3, p)))
                        ok = false;
                else
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

static void walker_event(Walker *w, ScriptEvent event, const Node *ev, const char *path) {
        static const char known[] = "executables, waitingTime";
        const Node *n_exec = NULL, *n_wait = NULL;
        _cleanup_(json_object_putp) struct json_object *j_wait = NULL;
        ScriptEventConfig *cfg = w->config ? &w->config->events[event] : NULL;
        _cleanup_(freep) bool *shadowed = NULL;

        if (ev->type != NODE_OBJECT) {
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

        shadowed = walker_check_duplicates(w, ev, SCHEMA_EVENT, path);
        if (!shadowed)
                return;

        for (size_t i = 0; i < ev->n_children; i++) {
                const Node *c = &ev->children[i];

                if (shadowed[i])
                        continue;       /* a duplicate, already reported; the last one counts */

                if (key_equal_ci(c, "executables"))
                        n_exec = c;
                else if (key_equal_ci(c, "waitingTime"))
                        n_wait = c;
                else {
                        _cleanup_(freep) char *p = path_join_member(path, SCHEMA_EVENT, c);

                        if (!p) {
                                w->error = -ENOMEM;
                                return;
                        }
                        walker_unknown_key(w, c, p, "in an event", known);
                }
        }

        if (n_wait) {
                _cleanup_(freep) char *p = path_join_member(path, SCHEMA_EVENT, n_wait);

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (n_wait->type == NODE_NUMBER && !(j_wait = walker_decode(w, n_wait, p)))
                        ;       /* reported */
                else if (n_wait->type == NODE_NUMBER && json_object_is_type(j_wait, json_type_int)) {
                        int64_t v = json_object_get_int64(j_wait);

                        if (v < SCRIPT_CONFIG_WAITING_TIME_MIN || v > SCRIPT_CONFIG_WAITING_TIME_MAX) {
                                _cleanup_(freep) char *e = excerpt(w->text + n_wait->offset,
                                                                   n_wait->end - n_wait->offset, false);

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
                _cleanup_(freep) char *p = path_join_member(path, SCHEMA_EVENT, n_exec);
                const Node *context_seen[_SCRIPT_CONTEXT_MAX] = {};

                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }
                if (n_exec->type != NODE_ARRAY) {
                        walker_type_error(w, n_exec, p, "\"executables\"",
                                                        "an array of executable objects ([…])",
                                          NULL);
                        return;
                }

                for (size_t i = 0; i < n_exec->n_children && w->error == 0; i++) {
                        _cleanup_(freep) char *pi = path_join_index(p, i);

                        if (!pi) {
                                w->error = -ENOMEM;
                                return;
                        }
                        if (i == SCRIPT_CONFIG_MAX_EXECUTABLES)
                                walker_report(w, FINDING_ERROR, n_exec->children[i].pos, pi,
                                              "\"executables\" has %zu entries, but at most %u are allowed "
                                              "(one for the user context, one for the system context)",
                                              n_exec->n_children,
                                              SCRIPT_CONFIG_MAX_EXECUTABLES);
                        walker_executable(w, event, &n_exec->children[i], pi, i, context_seen);
                }
        }
}

static void walker_document(Walker *w, const Node *root) {
        static const char known[] = "SessionStart, SessionTermination";
        const Node *seen[_SCRIPT_EVENT_MAX] = {};
        _cleanup_(freep) bool *shadowed = NULL;

        if (root->type != NODE_OBJECT) {
                walker_type_error(w, root, "", "The top level of config.json",
                                  "an object ({\"SessionStart\": {…}, \"SessionTermination\": {…}})", NULL);
                return;
        }

        shadowed = walker_check_duplicates(w, root, SCHEMA_DOCUMENT, "");
        if (!shadowed)
                return;

        for (size_t i = 0; i < root->n_children && w->error == 0; i++) {
                const Node *c = &root->children[i];
                _cleanup_(freep) char *p = NULL;
                const char *name;
                int e;

                if (shadowed[i])
                        continue;       /* a duplicate, already reported; the last one counts */

                p = path_join_member("", SCHEMA_DOCUMENT, c);
                if (!p) {
                        w->error = -ENOMEM;
                        return;
                }

                /* Not script_event_from_string(c->key): a key with an embedded NUL is no event. */
                name = schema_member(SCHEMA_DOCUMENT, c->key, c->key_len, NULL);
                e = name ? script_event_from_string(name) : -EINVAL;
                if (e < 0) {
                        _cleanup_(freep) char *k = excerpt(c->key ?: "", c->key_len, true);

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

                walker_event(w, (ScriptEvent) e, c, p);
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

int script_config_parse(const char *buf, size_t len, ScriptConfig **ret_config, FindingList *findings) {
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
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
                r = finding_list_add(findings, FINDING_ERROR, s.error_pos.line, s.error_pos.column,
                                     s.error_path, NULL, "%s", s.error_message);
                return r < 0 ? r : -EINVAL;
        }

        /* The scanner accepted the text; json-c decodes the values that the walker reads, each from
         * its own span (see walker_decode()): values below unknown keys are never materialised, so
         * memory stays in proportion to what is interpreted.
         *
         * Not JSON_TOKENER_STRICT: the scanner above is the strict syntax check (stricter than
         * json-c's), and json-c 0.18's strict mode refuses every byte >= 0x80 inside a string (it
         * compares a plain char with 0x1f, so a valid "ü" reads as a control character and is
         * reported as "invalid utf-8 string"). UTF-8 validation stays on as a second check of what
         * the scanner already verified. */
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);

        config = calloc(1, sizeof(ScriptConfig));
        if (!config)
                return -ENOMEM;
        for (size_t e = 0; e < _SCRIPT_EVENT_MAX; e++)
                config->events[e].waiting_time_sec = SCRIPT_CONFIG_WAITING_TIME_DEFAULT;

        w = (Walker) { .text = text, .len = len, .findings = findings, .config = config, .tok = tok };
        walker_document(&w, &root);
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
        unsigned line, column;          /* of the value that names the file; 0 for config.json */
        const char *what;               /* "The executable /x.sh" or "The config file": starts messages */
        const char *dir_suffix;         /* after "The directory /d": which file it leads to, or "" */
        /* Directories already reported for this file, to report each once. */
        dev_t reported_dev[64];
        ino_t reported_ino[64];
        size_t n_reported;
} FileCheck;

/* Adds an error about the file being checked (position, .file and .json_path from fc). */
__attribute__((format(printf, 2, 3)))
static int file_error(FileCheck *fc, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = finding_list_addv(fc->findings, FINDING_ERROR, fc->line, fc->column, fc->json_path, fc->file,
                              format, ap);
        va_end(ap);
        return r;
}

__attribute__((format(printf, 2, 3)))
static int file_warning(FileCheck *fc, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = finding_list_addv(fc->findings, FINDING_WARNING, fc->line, fc->column, fc->json_path,
                              fc->file, format, ap);
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
 * every directory above them, so only root can change what runs as root (or as the user).
 * `subject` starts the messages ("The executable /x.sh", "The directory /d (on the way to …)"). */
static int check_owner_and_mode(FileCheck *fc, const char *subject, const struct stat *st, bool directory) {
        int r;

        if (st->st_uid != 0) {
                r = file_error(fc, "%s is owned by uid %u, not by root; only root may own it (chown root)",
                               subject, (unsigned) st->st_uid);
                if (r < 0)
                        return r;
        }

        /* A root-owned directory with the sticky bit (like /tmp, mode 1777) may be writable by
         * others: there only the owner of an entry (or of the directory) can rename or remove it,
         * so others cannot replace root's entries, and every entry that we pass through in such a
         * directory must be root's (check_path_walk() checks that for symbolic links, the other
         * entries are checked for owner root anyway). A sticky directory owned by someone else was
         * reported just above: its owner can do anything in it. */
        if (directory && st->st_uid == 0 && (st->st_mode & S_ISVTX))
                return 0;

        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                r = file_error(fc, "%s is writable by %s (mode %04o); it must be writable by root only "
                                   "(chmod go-w)",
                               subject,
                               (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others" :
                               (st->st_mode & S_IWGRP) ? "its group" : "others",
                               (unsigned) (st->st_mode & 07777));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_directory(FileCheck *fc, const char *path, const struct stat *st) {
        _cleanup_(freep) char *subject = NULL;

        for (size_t i = 0; i < fc->n_reported; i++)
                if (fc->reported_dev[i] == st->st_dev && fc->reported_ino[i] == st->st_ino)
                        return 0;
        if (fc->n_reported < ELEMENTSOF(fc->reported_dev)) {
                fc->reported_dev[fc->n_reported] = st->st_dev;
                fc->reported_ino[fc->n_reported] = st->st_ino;
                fc->n_reported++;
        }

        if (asprintf(&subject, "The directory %s%s", path, fc->dir_suffix) < 0)
                return -ENOMEM;
        return check_owner_and_mode(fc, subject, st, /* directory= */ true);
}

/* A symbolic link passed through in a directory that others may write to (accepted above only because
 * it is sticky and root's) must be root's too: its owner could replace it. Elsewhere only who may
 * write to the directory matters (a link's own owner cannot change where it points). Returns 1 when
 * fine, 0 when a finding was reported, or -errno. */
static int check_symlink_owner(FileCheck *fc, const char *link, const char *parent, const struct stat *st) {
        struct stat pst;
        int r;

        if (st->st_uid == 0)
                return 1;
        if (lstat(parent, &pst) < 0)
                return -errno;
        if ((pst.st_mode & (S_IWGRP | S_IWOTH)) == 0)
                return 1;       /* only root can replace it */
        r = file_error(fc, "%s cannot be trusted: the symbolic link %s is owned by uid %u in %s, a "
                           "directory that others can write to; only root's entries are safe there",
                       fc->what, link, (unsigned) st->st_uid, parent);
        return r < 0 ? r : 0;
}

/* Reports the file itself being a symbolic link, naming where it leads. */
static int report_final_symlink(FileCheck *fc, const char *candidate) {
        _cleanup_(freep) char *real = NULL;
        char target[PATH_MAX];
        ssize_t n;

        real = realpath(candidate, NULL);
        if (real)
                return file_error(fc, "%s is a symbolic link to %s; name the real file instead (symbolic "
                                      "links are refused, so that the checked file is the one that runs)",
                                  fc->what, real);

        n = readlink(candidate, target, sizeof(target) - 1);
        if (n < 0)
                return file_error(fc, "%s is a symbolic link; name the real file instead (symbolic links "
                                      "are refused, so that the checked file is the one that runs)",
                                  fc->what);
        target[n] = 0;
        return file_error(fc, "%s is a symbolic link to %s, which does not lead to a file; name the real "
                              "file instead (symbolic links are refused)",
                          fc->what, target);
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
                                return report_final_symlink(fc, candidate);

                        r = check_symlink_owner(fc, candidate, resolved[0] ? resolved : "/", &st);
                        if (r <= 0)
                                return r;
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

                r = check_owner_and_mode(fc, fc->what, &st, /* directory= */ false);
                if (r < 0)
                        return r;

                *ret_st = st;
                return 1;
        }
}

static int check_executable(FindingList *findings, const ScriptExecutable *ex, const char *json_path,
                            ScriptContext context) {
        _cleanup_(freep) char *what = NULL, *dir_suffix = NULL;
        FileCheck fc = {
                .findings = findings,
                .file = ex->filename,
                .json_path = json_path,
                .line = ex->filename_line,
                .column = ex->filename_column,
        };
        struct stat st;
        int r;

        /* Every message names the file: the finding is reported at the config's "filename" value,
         * so the message is what says which file is meant. */
        if (asprintf(&what, "The executable %s", ex->filename) < 0 ||
            asprintf(&dir_suffix, " (on the way to the executable %s)", ex->filename) < 0)
                return -ENOMEM;
        fc.what = what;
        fc.dir_suffix = dir_suffix;

        r = check_path_walk(&fc, ex->filename, &st);
        if (r <= 0)
                return r;

        if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
                r = file_error(&fc, "%s has no execute permission (mode %04o); make it executable "
                                    "(chmod 755)",
                               what, (unsigned) (st.st_mode & 07777));
                if (r < 0)
                        return r;
        } else if (context == SCRIPT_CONTEXT_USER && (st.st_mode & S_IXOTH) == 0) {
                /* User-context scripts run with the user's credentials; a root-owned file without the
                 * "others" execute bit only runs for users in its group. */
                r = file_warning(&fc, "%s runs in the user context but is not executable by others "
                                      "(mode %04o); it only starts for members of group %u",
                                 what, (unsigned) (st.st_mode & 07777), (unsigned) st.st_gid);
                if (r < 0)
                        return r;
        }

        if ((uint64_t) st.st_size > SCRIPT_CONFIG_EXECUTABLE_WARN_SIZE) {
                r = file_warning(&fc, "%s is %llu bytes large, over 100 MB, which slows down provisioning "
                                      "and the tamper check",
                                 what, (unsigned long long) st.st_size);
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
                        .what = "The config file",
                        .dir_suffix = "",
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

                        r = check_executable(findings, ex, path, (ScriptContext) x);
                        if (r < 0)
                                return r;
                }

        return 0;
}
