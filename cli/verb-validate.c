/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `session-scripts validate [--json] [--no-file-checks] [PATH]`: what an image builder runs before
 * creating an image. Parses config.json with the shared engine, runs the file-security checks
 * (config.json itself and every executable it names), and prints every finding plus a verdict —
 * as compiler-style lines or as one JSON document (fields documented in session-scripts(1)).
 *
 * `session-scripts validate --settings [--json] [PATH]` does the same for the daemon's and
 * uploader's settings file and its drop-ins: every problem the loader reports (each one means an
 * assignment was ignored) with file:line, and whether uploads are configured at all.
 *
 * Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error or unreadable file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-check.h"
#include "fileio.h"
#include "format.h"
#include "json-util.h"
#include "script-config.h"
#include "session-scripts/session-scripts.h"
#include "settings.h"
#include "verbs.h"

static void help(void) {
        printf("%s validate [OPTIONS…] [PATH]\n\n"
               "Check a session scripts config.json: JSON syntax, the rules of every key, and the\n"
               "security of config.json and of the executables it names. With --settings, check the\n"
               "settings file and its drop-ins instead.\n\n"
               "  -h --help            Show this help\n"
               "     --json            Print the findings as a JSON document\n"
               "     --no-file-checks  Do not look at the files (for a config whose scripts are\n"
               "                       not installed on this machine yet)\n"
               "     --settings        Check the settings (PATH and PATH.d/*.conf): every ignored\n"
               "                       assignment with file:line, and whether uploads are set up\n\n"
               "PATH defaults to %s (with --settings: %s).\n"
               "Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage error or unreadable file.\n",
               program_name, SESSION_SCRIPTS_CONFIG_PATH, SESSION_SCRIPTS_SETTINGS_PATH);
}

/*
 * Reads at most SCRIPT_CONFIG_MAX_FILE_SIZE + 1 bytes (one more than the parser accepts, so that it
 * can say "too large" instead of us silently cutting the file). Returns 0 or -errno.
 */
static int read_config(const char *path, char **ret, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        const size_t max = SCRIPT_CONFIG_MAX_FILE_SIZE + 1;
        ssize_t n;
        struct stat st;

        /* O_NONBLOCK: a FIFO given by mistake must not hang the validator. -EISDIR and -EBADFD (not a
         * regular file) are told apart by validate_fail_read(). */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        buf = malloc(max);
        if (!buf)
                return -ENOMEM;

        n = loop_read(fd, buf, max);
        if (n < 0)
                return (int) n;

        *ret = TAKE_PTR(buf);
        *ret_len = (size_t) n;
        return 0;
}

/* The file checks need an absolute path (they walk it from /); a relative PATH is taken relative
 * to the working directory, without resolving symlinks (a symlinked config.json is a finding). */
static int make_absolute(const char *path, char **ret) {
        _cleanup_(freep) char *cwd = NULL;
        char *p = NULL;

        if (path[0] == '/') {
                p = strdup(path);
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }

        cwd = get_current_dir_name();
        if (!cwd)
                return -errno;
        if (asprintf(&p, "%s/%s", cwd, path) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static void print_human(const char *path, const FindingList *l) {
        for (size_t i = 0; i < l->n; i++)
                finding_print(stdout, path, &l->items[i]);

        printf("%s: %s (%zu error%s, %zu warning%s)\n", path, l->n_errors > 0 ? "invalid" : "valid",
               l->n_errors, l->n_errors == 1 ? "" : "s", l->n_warnings, l->n_warnings == 1 ? "" : "s");
}

static int print_json(const char *path, const FindingList *l) {
        _cleanup_(json_object_putp) struct json_object *doc = NULL;
        struct json_object *arr;

        doc = json_object_new_object();
        arr = json_object_new_array();
        if (!doc || !arr) {
                json_object_put(arr);
                return -ENOMEM;
        }

        json_object_object_add(doc, "path", json_object_new_string(path));
        json_object_object_add(doc, "valid", json_object_new_boolean(l->n_errors == 0));
        json_object_object_add(doc, "errors", json_object_new_int64((int64_t) l->n_errors));
        json_object_object_add(doc, "warnings", json_object_new_int64((int64_t) l->n_warnings));
        json_object_object_add(doc, "findings", arr);

        for (size_t i = 0; i < l->n; i++) {
                struct json_object *o = finding_to_json(&l->items[i]);

                if (!o)
                        return -ENOMEM;
                if (json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
        }

        puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}

/*
 * Stops before (or instead of) a verdict on the contents: a usage error, an unreadable file, no
 * memory. Says why on stderr and — with --json — also prints a JSON document with that one error on
 * stdout, so that a program reading stdout always gets a document ("file" is the file concerned, or
 * null). Returns EXIT_USAGE, the exit status for all of these.
 */
__attribute__((format(printf, 4, 5)))
static int validate_fail(bool json, const char *path, const char *file, const char *format, ...) {
        _cleanup_(finding_list_done) FindingList l = {};
        _cleanup_(freep) char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0)
                return cli_oom("validate");

        cli_warn("validate", "%s", message);
        if (json && finding_list_add(&l, FINDING_ERROR, 0, 0, "", file, "%s", message) >= 0 &&
            print_json(path, &l) >= 0)
                (void) fflush(stdout);
        return EXIT_USAGE;
}

/* Says why `path` could not be read (r from read_config()), e.g. "it is not a regular file (it is a
 * FIFO)" rather than the strerror() of EBADFD. */
static int validate_fail_read(bool json, const char *path, int r) {
        struct stat st;

        if (r == -EBADFD || r == -EISDIR) {
                const char *type = "of another kind";

                if (stat(path, &st) >= 0)
                        type = S_ISDIR(st.st_mode) ? "a directory" :
                               S_ISFIFO(st.st_mode) ? "a FIFO" :
                               S_ISCHR(st.st_mode) ? "a character device" :
                               S_ISBLK(st.st_mode) ? "a block device" :
                               S_ISSOCK(st.st_mode) ? "a socket" : type;
                return validate_fail(json, path, path, "cannot read %s: it is not a regular file (it is %s)",
                                     path, type);
        }
        return validate_fail(json, path, path, "cannot read %s: %s", path, strerror(-r));
}

/* The file checks ran on the absolute path; findings about config.json itself name it as the user
 * wrote it, like the verdict does. */
static int findings_respell_config(FindingList *l, size_t first, const char *abs_path, const char *path) {
        for (size_t i = first; i < l->n; i++) {
                Finding *f = &l->items[i];
                char *p;

                if (!f->file || strcmp(f->file, abs_path) != 0 || strcmp(abs_path, path) == 0)
                        continue;
                p = strdup(path);
                if (!p)
                        return -ENOMEM;
                free(f->file);
                f->file = p;
        }
        return 0;
}

static void settings_print_human(const char *path, const FindingList *l, const Settings *s) {
        for (size_t i = 0; i < l->n; i++) {
                const Finding *f = &l->items[i];

                if (f->line > 0)
                        printf("%s:%u: ", f->file ?: path, f->line);
                else
                        printf("%s: ", f->file ?: path);
                printf("%s: %s\n", f->severity == FINDING_ERROR ? "error" : "warning", f->message);
        }
        if (s->bucket)
                printf("%s: uploads to s3://%s/ (Region=%s%s%s)\n", path, s->bucket, s->region,
                       s->endpoint ? ", Endpoint=" : "", s->endpoint ?: "");
        printf("%s: %s (%zu error%s, %zu warning%s)\n", path, l->n_errors > 0 ? "invalid" : "valid",
               l->n_errors, l->n_errors == 1 ? "" : "s", l->n_warnings, l->n_warnings == 1 ? "" : "s");
}

static int settings_print_json(const char *path, const FindingList *l, const Settings *s) {
        _cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
        struct json_object *arr = json_object_new_array(), *up = json_object_new_object();

        if (!doc || !arr || !up) {
                json_object_put(arr);
                json_object_put(up);
                return -ENOMEM;
        }
        json_object_object_add(doc, "path", json_object_new_string(path));
        json_object_object_add(doc, "valid", json_object_new_boolean(l->n_errors == 0));
        json_object_object_add(doc, "errors", json_object_new_int64((int64_t) l->n_errors));
        json_object_object_add(doc, "warnings", json_object_new_int64((int64_t) l->n_warnings));
        json_object_object_add(doc, "findings", arr);
        for (size_t i = 0; i < l->n; i++) {
                struct json_object *o = finding_to_json(&l->items[i]);

                if (!o || json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
        }
        json_object_object_add(up, "configured", json_object_new_boolean(s->bucket != NULL));
        json_object_object_add(up, "bucket", s->bucket ? json_object_new_string(s->bucket) : NULL);
        json_object_object_add(up, "region", json_object_new_string(s->region));
        json_object_object_add(up, "endpoint", s->endpoint ? json_object_new_string(s->endpoint) : NULL);
        json_object_object_add(doc, "uploads", up);
        json_print(stdout, doc, true);
        return 0;
}

/* `validate --settings [PATH]`. A missing default file is fine (the built-in defaults apply); a
 * PATH given explicitly must exist. */
static int validate_settings(bool json, const char *path, bool explicit_path) {
        _cleanup_(finding_list_done) FindingList findings = {};
        _cleanup_(settings_done) Settings settings = {};
        struct stat st;
        int r;

        if (explicit_path && stat(path, &st) < 0)
                return validate_fail_read(json, path, -errno);

        r = settings_load(path, &settings, settings_collect_findings, &findings);
        if (r == -ENOMEM)
                return validate_fail(json, path, NULL, "out of memory");
        if (r < 0)
                return validate_fail_read(json, path, r);

        if (!settings.bucket &&
            finding_list_add(&findings, FINDING_WARNING, 0, 0, "", path, "%s",
                             "No Bucket= in [S3]: the scripts' logs stay in the journal and nothing is "
                             "uploaded to S3") < 0)
                return validate_fail(json, path, NULL, "out of memory");

        if (json) {
                if (settings_print_json(path, &findings, &settings) < 0)
                        return validate_fail(false, path, NULL, "out of memory");
        } else
                settings_print_human(path, &findings, &settings);

        if (fflush(stdout) != 0)
                return cli_error("validate", EXIT_USAGE, "cannot write the result: %m");
        return findings.n_errors > 0 ? EXIT_INVALID : EXIT_VALID;
}

int verb_validate(int argc, char *argv[]) {
        enum {
                ARG_JSON = 0x100,
                ARG_NO_FILE_CHECKS,
                ARG_SETTINGS,
        };
        static const struct option options[] = {
                { "help",           no_argument, NULL, 'h'                },
                { "json",           no_argument, NULL, ARG_JSON           },
                { "no-file-checks", no_argument, NULL, ARG_NO_FILE_CHECKS },
                { "settings",       no_argument, NULL, ARG_SETTINGS       },
                {}
        };
        _cleanup_(script_config_freep) ScriptConfig *config = NULL;
        _cleanup_(finding_list_done) FindingList findings = {};
        _cleanup_(freep) char *buf = NULL, *abs_path = NULL, *usage = NULL;
        bool json = false, file_checks = true, settings = false;
        const char *path = SESSION_SCRIPTS_CONFIG_PATH;
        size_t len = 0;
        int c, r;

        /* getopt's own messages are off: a bad option is reported below, after all options are read,
         * so that --json (also when it comes later) gets its JSON document. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_JSON:
                        json = true;
                        break;
                case ARG_NO_FILE_CHECKS:
                        file_checks = false;
                        break;
                case ARG_SETTINGS:
                        settings = true;
                        break;
                default:
                        if (usage)
                                break;
                        if (optopt > 0 && optopt < 0x80 && optopt != '-')
                                r = asprintf(&usage, "unknown option '-%c'; see --help", optopt);
                        else
                                r = asprintf(&usage, "unknown or invalid option '%s'; see --help",
                                             argv[optind - 1]);
                        if (r < 0)
                                return validate_fail(json, path, NULL, "out of memory");
                }

        if (settings)
                path = SESSION_SCRIPTS_SETTINGS_PATH;
        if (optind < argc)
                path = argv[optind];
        if (usage)
                return validate_fail(json, path, NULL, "%s", usage);
        if (argc - optind > 1)
                return validate_fail(json, path, NULL, "too many arguments; expected at most one PATH");
        if (path[0] == 0)
                return validate_fail(json, path, NULL, "PATH must not be empty");
        if (settings && !file_checks)
                return validate_fail(json, path, NULL, "--no-file-checks applies to config.json, not to --settings");
        if (settings)
                return validate_settings(json, path, optind < argc);

        r = read_config(path, &buf, &len);
        if (r < 0)
                return validate_fail_read(json, path, r);

        r = script_config_parse(buf, len, &config, &findings);
        if (r == -ENOMEM)
                return validate_fail(json, path, NULL, "out of memory");

        if (file_checks) {
                size_t first = findings.n;

                r = make_absolute(path, &abs_path);
                if (r >= 0)
                        /* On a config with errors there is no parsed config: only config.json itself
                         * is checked then. */
                        r = script_config_check_files(config, abs_path, &findings);
                if (r >= 0)
                        r = findings_respell_config(&findings, first, abs_path, path);
                if (r < 0)
                        return validate_fail(json, path, path, "cannot check the files of %s: %s", path,
                                             strerror(-r));
        }

        if (json) {
                r = print_json(path, &findings);
                if (r < 0)
                        return validate_fail(false, path, NULL, "out of memory");
        } else
                print_human(path, &findings);

        if (fflush(stdout) != 0)
                return cli_error("validate", EXIT_USAGE, "cannot write the result: %m");

        return findings.n_errors > 0 ? EXIT_INVALID : EXIT_VALID;
}
