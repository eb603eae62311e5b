/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loader of the daemon's and uploader's settings file (INI in the style of systemd's *.conf files)
 * and its drop-ins. Does no logging itself: every complaint goes to the caller's report callback
 * with file and line, and an invalid value leaves the previous (default) value in place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "regular-file.h"
#include "session-scripts/session-scripts.h"
#include "settings.h"
#include "string-util.h"

/* Hard limits on what an administrator controls. */
#define SETTINGS_MAX_FILE_SIZE (256U * 1024U)   /* per file */
#define SETTINGS_MAX_DROPINS 256U               /* *.conf files read from the drop-in dir */
#define SETTINGS_MAX_VALUE 4096U                /* characters of one value */

typedef struct ParseState {
        const char *file;
        unsigned line;
        SettingsReportFn report;
        void *userdata;
} ParseState;

__attribute__((format(printf, 2, 3))) static void report(const ParseState *st, const char *fmt, ...);

static void report(const ParseState *st, const char *fmt, ...) {
        char msg[1024];
        va_list ap;

        if (!st->report)
                return;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        st->report(st->file, st->line, msg, st->userdata);
}

void settings_done(Settings *s) {
        if (!s)
                return;

        free(s->stack_name);
        free(s->fleet_name);
        free(s->access_mode);
        free(s->config_file);
        free(s->bucket);
        free(s->region);
        free(s->endpoint);
        free(s->profile);
        *s = (Settings) {};
}

/* Replaces *field by a copy of value (NULL value: by NULL). */
static int set_string(char **field, const char *value) {
        char *copy = NULL;

        if (value) {
                copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
        }
        free(*field);
        *field = copy;
        return 0;
}

/* Parses yes/no/true/false/on/off/1/0 (case-insensitive) like systemd's parse_boolean(). */
static int parse_boolean(const char *v) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

/* Parses a byte size: decimal digits with an optional K, M, G or T suffix (base 1024, an optional
 * trailing "B"/"iB" accepted). Rejects overflow, signs, blanks inside. */
static int parse_size(const char *v, uint64_t *ret) {
        uint64_t n = 0, mul = 1;
        const char *p = v;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (n > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                n = n * 10 + (uint64_t) (*p - '0');
        }

        switch (*p) {
        case 0:
                break;
        case 'K': case 'k':
                mul = UINT64_C(1) << 10;
                p++;
                break;
        case 'M': case 'm':
                mul = UINT64_C(1) << 20;
                p++;
                break;
        case 'G': case 'g':
                mul = UINT64_C(1) << 30;
                p++;
                break;
        case 'T': case 't':
                mul = UINT64_C(1) << 40;
                p++;
                break;
        case 'B':
                break;
        default:
                return -EINVAL;
        }
        if (strcmp(p, "") != 0 && strcmp(p, "B") != 0 && strcmp(p, "iB") != 0)
                return -EINVAL;
        if (mul > 1 && strcmp(p, "") == 0 && p[-1] == 'B')
                return -EINVAL;
        if (n > UINT64_MAX / mul)
                return -ERANGE;

        *ret = n * mul;
        return 0;
}

/* A key component of the S3 object key (stack, fleet): no '/', no control characters, not "."/"..". */
static bool name_is_valid(const char *v) {
        return *v && !strchr(v, '/') && !string_has_cc(v) && strcmp(v, ".") != 0 &&
                strcmp(v, "..") != 0 && strlen(v) <= 255;
}

/* S3 bucket naming rules: 3…63 characters of lowercase letters, digits, '.', '-', starting and
 * ending with a letter or digit. */
static bool bucket_is_valid(const char *v) {
        size_t n = strlen(v);

        if (n < 3 || n > 63)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = v[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

                if (!alnum && c != '.' && c != '-')
                        return false;
                if ((i == 0 || i == n - 1) && !alnum)
                        return false;
        }
        return true;
}

/* An AWS region name such as eu-central-1: lowercase letters, digits and '-'. */
static bool region_is_valid(const char *v) {
        size_t n = strlen(v);

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
                        return false;
        return true;
}

static bool endpoint_is_valid(const char *v) {
        const char *host;

        if (strncmp(v, "https://", 8) == 0)
                host = v + 8;
        else if (strncmp(v, "http://", 7) == 0)
                host = v + 7;
        else
                return false;
        return *host && *host != '/' && !string_has_cc(v) && !strchr(v, ' ');
}

static bool profile_is_valid(const char *v) {
        return *v && strlen(v) <= 128 && !string_has_cc(v) && !strchr(v, '[') && !strchr(v, ']');
}

static bool access_mode_is_valid(const char *v) {
        return streq(v, "userpool") || streq(v, "federated") || streq(v, "custom");
}

static bool config_file_is_valid(const char *v) {
        return v[0] == '/' && !string_has_cc(v) && strlen(v) < PATH_MAX;
}

typedef struct SettingsItem SettingsItem;

/* Stores value, which is not empty, at target. Returns 0, -EINVAL when the value is invalid (the
 * caller reports it) or -ENOMEM. */
typedef int (*SettingsParser)(const SettingsItem *i, const char *value, void *target);

/* One key of the settings file, in the manner of systemd's ConfigTableItem. */
struct SettingsItem {
        const char *section;            /* matched case-insensitively */
        const char *key;                /* matched case-sensitively */
        SettingsParser parse;
        size_t offset;                  /* of the target in Settings */
        /* The value before any assignment and after an empty one ("Key="), as the parser reads
         * it; NULL: unset (for strings only). */
        const char *default_value;
        bool (*is_valid)(const char *v);        /* for strings */
        const char *invalid_hint;       /* appended to "Invalid Key=value" */
};

static int parse_string_item(const SettingsItem *i, const char *value, void *target) {
        if (i->is_valid && !i->is_valid(value))
                return -EINVAL;
        return set_string(target, value);
}

static int parse_boolean_item(const SettingsItem *i, const char *value, void *target) {
        int r;

        r = parse_boolean(value);
        if (r < 0)
                return r;
        *(bool *) target = r;
        return 0;
}

static int parse_size_item(const SettingsItem *i, const char *value, void *target) {
        uint64_t v;

        if (parse_size(value, &v) < 0 || v == 0)
                return -EINVAL;
        *(uint64_t *) target = v;
        return 0;
}

static const SettingsItem settings_table[] = {
        { "Session", "StackName", parse_string_item, offsetof(Settings, stack_name), "default",
          name_is_valid, " (must not contain '/' or control characters)" },
        { "Session", "FleetName", parse_string_item, offsetof(Settings, fleet_name), "default",
          name_is_valid, " (must not contain '/' or control characters)" },
        { "Session", "AccessMode", parse_string_item, offsetof(Settings, access_mode), "custom",
          access_mode_is_valid, " (expected userpool, federated or custom)" },
        { "Session", "ConfigFile", parse_string_item, offsetof(Settings, config_file),
          SESSION_SCRIPTS_CONFIG_PATH, config_file_is_valid, " (expected an absolute path)" },
        { "S3", "Bucket", parse_string_item, offsetof(Settings, bucket), NULL,
          bucket_is_valid, " (3…63 lowercase letters, digits, '.' and '-')" },
        { "S3", "Region", parse_string_item, offsetof(Settings, region), "us-east-1",
          region_is_valid, "" },
        { "S3", "Endpoint", parse_string_item, offsetof(Settings, endpoint), NULL,
          endpoint_is_valid, " (expected an https:// or http:// URL)" },
        { "S3", "ServerSideEncryption", parse_boolean_item, offsetof(Settings, server_side_encryption),
          "yes", NULL, " (expected yes or no)" },
        { "S3", "MaxSpoolSize", parse_size_item, offsetof(Settings, max_spool_size), "1G",
          NULL, " (expected a size such as 512M or 1G)" },
        { "S3", "Profile", parse_string_item, offsetof(Settings, profile), NULL,
          profile_is_valid, "" },
};

/* Sets the item's default value (also what an empty assignment does, as in systemd). Returns 0 or
 * -ENOMEM. */
static int settings_item_reset(Settings *s, const SettingsItem *i) {
        void *target = (char *) s + i->offset;

        if (!i->default_value)
                return set_string(target, NULL);
        return i->parse(i, i->default_value, target);
}

static int settings_defaults(Settings *s) {
        *s = (Settings) {};

        for (size_t i = 0; i < ELEMENTSOF(settings_table); i++)
                if (settings_item_reset(s, &settings_table[i]) < 0) {
                        settings_done(s);
                        return -ENOMEM;
                }
        return 0;
}

static bool section_is_known(const char *section) {
        for (size_t i = 0; i < ELEMENTSOF(settings_table); i++)
                if (strcasecmp(section, settings_table[i].section) == 0)
                        return true;
        return false;
}

/* Applies one assignment. Returns 0 (also when the value was rejected and reported), -ENOMEM. */
static int settings_assign(Settings *s, const ParseState *st, const char *section, const char *key,
                           const char *value) {
        int r;

        if (strlen(value) > SETTINGS_MAX_VALUE) {
                report(st, "Value of %s= is longer than %u characters, ignoring.", key, SETTINGS_MAX_VALUE);
                return 0;
        }

        for (size_t k = 0; k < ELEMENTSOF(settings_table); k++) {
                const SettingsItem *i = &settings_table[k];

                if (strcasecmp(section, i->section) != 0 || !streq(key, i->key))
                        continue;

                if (value[0] == 0)
                        return settings_item_reset(s, i);
                r = i->parse(i, value, (char *) s + i->offset);
                if (r == -EINVAL) {
                        report(st, "Invalid %s=%s%s, ignoring.", key, value, i->invalid_hint);
                        return 0;
                }
                return r;
        }

        report(st, "Unknown key %s= in section [%s], ignoring.", key, section);
        return 0;
}

static char *strip(char *s) {
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
                e--;
        *e = 0;
        return s;
}

/* Whether value contains a blank followed by '#' or ';': what a trailing comment looks like. No
 * valid value of any key has that (names, bucket, region, URLs, paths and sizes carry no such
 * sequence in practice), so it is always a misplaced comment. */
static bool has_trailing_comment(const char *value) {
        for (const char *p = value; *p; p++)
                if ((*p == ' ' || *p == '\t') && (p[1] == '#' || p[1] == ';'))
                        return true;
        return false;
}

/* Parses one file's text (NUL-terminated, modified in place). */
static int settings_parse_text(Settings *s, char *text, const char *file, SettingsReportFn rep,
                               void *userdata) {
        ParseState st = { .file = file, .report = rep, .userdata = userdata };
        char section[64] = "";
        bool section_known = false;
        char *line, *next;
        int r;

        for (line = text; line; line = next) {
                char *eq, *l, *key, *value;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                st.line++;

                l = strip(line);
                if (*l == 0 || *l == '#' || *l == ';')
                        continue;

                if (*l == '[') {
                        size_t n = strlen(l);

                        if (l[n - 1] != ']' || n < 3 || n - 2 >= sizeof(section)) {
                                report(&st, "Invalid section header '%s', ignoring the section.", l);
                                section_known = false;
                                strcpy(section, "?");
                                continue;
                        }
                        memcpy(section, l + 1, n - 2);
                        section[n - 2] = 0;
                        section_known = section_is_known(section);
                        if (!section_known)
                                report(&st, "Unknown section [%s], ignoring.", section);
                        continue;
                }

                eq = strchr(l, '=');
                if (!eq) {
                        report(&st,
                               "Line is neither a section header nor a Key=Value assignment, ignoring.");
                        continue;
                }
                if (section[0] == 0) {
                        report(&st, "Assignment outside of any section, ignoring.");
                        continue;
                }
                if (!section_known)
                        continue;

                *eq = 0;
                key = strip(l);
                value = strip(eq + 1);
                if (*key == 0) {
                        report(&st, "Assignment without a key, ignoring.");
                        continue;
                }

                /* This format has comments only on lines of their own, like systemd's: in
                 * "Bucket=name   # logs go here" everything after '=' is the value. Taking such a
                 * value as written would be silently wrong (a stack name with the comment in it,
                 * or a bucket name that is invalid and so no uploads at all), so the assignment is
                 * refused with a message that says what happened and how to write it. */
                if (has_trailing_comment(value)) {
                        report(&st, "%s= has a trailing comment: '#' or ';' after a blank does not start a "
                                    "comment here (comments must be on a line of their own), ignoring the "
                                    "assignment.",
                               key);
                        continue;
                }

                r = settings_assign(s, &st, section, key, value);
                if (r < 0)
                        return r;
        }

        return 0;
}

/* Reads one file. Returns 0 when it was parsed, 0 when it does not exist, -errno otherwise. */
static int settings_load_file(Settings *s, int dir_fd, const char *name, const char *display,
                              SettingsReportFn rep, void *userdata) {
        _cleanup_(freep) char *text = NULL;
        size_t n;
        int r;

        r = read_regular_file_at(dir_fd, name, 0, SETTINGS_MAX_FILE_SIZE, &text, &n);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (memchr(text, 0, n))
                return -EBADMSG;       /* NUL bytes: not a text file */

        return settings_parse_text(s, text, display, rep, userdata);
}

static int string_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool is_conf_name(const char *n) {
        size_t l = strlen(n);

        return n[0] != '.' && l > 5 && strcmp(n + l - 5, ".conf") == 0;
}

int settings_load(const char *path, Settings *ret, SettingsReportFn rep, void *userdata) {
        _cleanup_(settings_done) Settings s = {};
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_(strv_freep) char **names = NULL;
        _cleanup_(freep) char *dropin_dir = NULL;
        size_t n_names = 0;
        int r;

        if (!ret)
                return -EINVAL;
        if (!path)
                path = SESSION_SCRIPTS_SETTINGS_PATH;

        r = settings_defaults(&s);
        if (r < 0)
                return r;

        r = settings_load_file(&s, AT_FDCWD, path, path, rep, userdata);
        if (r < 0)
                return r;

        if (asprintf(&dropin_dir, "%s.d", path) < 0)
                return -ENOMEM;

        d = opendir(dropin_dir);
        if (!d) {
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
        } else {
                struct dirent *de;

                names = calloc(SETTINGS_MAX_DROPINS + 1, sizeof(char *));
                if (!names)
                        return -ENOMEM;

                while ((errno = 0, de = readdir(d))) {
                        if (!is_conf_name(de->d_name))
                                continue;
                        if (n_names >= SETTINGS_MAX_DROPINS) {
                                ParseState st = { .file = dropin_dir, .report = rep, .userdata = userdata };

                                report(&st, "More than %u drop-in files, ignoring the rest.",
                                            SETTINGS_MAX_DROPINS);
                                break;
                        }
                        names[n_names] = strdup(de->d_name);
                        if (!names[n_names])
                                return -ENOMEM;
                        n_names++;
                }
                if (errno != 0)
                        return -errno;

                qsort(names, n_names, sizeof(char *), string_compare);

                for (size_t i = 0; i < n_names; i++) {
                        _cleanup_(freep) char *display = NULL;

                        if (asprintf(&display, "%s/%s", dropin_dir, names[i]) < 0)
                                return -ENOMEM;
                        r = settings_load_file(&s, dirfd(d), names[i], display, rep, userdata);
                        if (r < 0)
                                return r;
                }
        }

        *ret = s;
        s = (Settings) {};
        return 0;
}
