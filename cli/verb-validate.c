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
#include "file-type.h"
#include "fileio.h"
#include "regular-file.h"
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

        /* A FIFO given by mistake must not hang the validator. -EISDIR and -EBADFD (not a regular
         * file) are told apart by validate_fail_read(). No size bound here: see above. */
        fd = open_regular_file_bounded(AT_FDCWD, path, O_NOCTTY, UINT64_MAX, NULL);
        if (fd < 0)
                return fd;

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
        if (json && finding_list_add(&l, FINDING_ERROR, 0, 0, "", file, "%s", message) >= 0) {
                _cleanup_(json_object_putp) struct json_object *doc = findings_to_json(path, &l);

                if (doc) {
                        json_print(stdout, doc, true);
                        (void) fflush(stdout);
                }
        }
        return EXIT_USAGE;
}

/* Says why `path` could not be read (r from read_config()), e.g. "it is not a regular file (it is a
 * FIFO)" rather than the strerror() of EBADFD. */
static int validate_fail_read(bool json, const char *path, int r) {
        struct stat st;

        if (r == -EBADFD || r == -EISDIR) {
                const char *type = "of another kind";

                if (stat(path, &st) >= 0)
                        type = file_type_name(st.st_mode) ?: type;
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
                _cleanup_(json_object_putp) struct json_object *doc = settings_findings_to_json(path, &findings,
                                                                                                 &settings);

                if (!doc)
                        return validate_fail(false, path, NULL, "out of memory");
                json_print(stdout, doc, true);
        } else
                settings_findings_print(stdout, path, &findings, &settings);

        if (fflush(stdout) != 0)
                return cli_error("validate", EXIT_USAGE, "cannot write the result: %m");
        return findings.n_errors > 0 ? EXIT_INVALID : EXIT_VALID;
}

typedef struct ValidateOptions {
        const char *path;
        bool explicit_path;     /* PATH was given (else the default of config.json or --settings) */
        bool json;
        bool file_checks;
        bool settings;
        /* The first bad option, reported by the verb (with --json as a document, also when --json
         * comes after it): bad_option_char for an unknown short option, else bad_option. */
        int bad_option_char;
        const char *bad_option;
        size_t n_args;          /* positional arguments */
} ValidateOptions;

/* Returns 1 to go on, 0 when --help was shown. Usage errors are left in *ret for the verb. */
static int validate_parse_argv(int argc, char *argv[], ValidateOptions *ret) {
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
        ValidateOptions o = { .file_checks = true };
        int c;

        /* getopt's own messages are off: a bad option is reported by the verb, after all options are
         * read, so that --json (also when it comes later) gets its JSON document. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_JSON:
                        o.json = true;
                        break;
                case ARG_NO_FILE_CHECKS:
                        o.file_checks = false;
                        break;
                case ARG_SETTINGS:
                        o.settings = true;
                        break;
                default:
                        if (o.bad_option_char || o.bad_option)
                                break;
                        if (optopt > 0 && optopt < 0x80 && optopt != '-')
                                o.bad_option_char = optopt;
                        else
                                o.bad_option = argv[optind - 1];
                }

        o.path = o.settings ? SESSION_SCRIPTS_SETTINGS_PATH : SESSION_SCRIPTS_CONFIG_PATH;
        if (optind < argc) {
                o.path = argv[optind];
                o.explicit_path = true;
        }
        o.n_args = (size_t) (argc - optind);

        *ret = o;
        return 1;
}

int verb_validate(int argc, char *argv[]) {
        _cleanup_(script_config_freep) ScriptConfig *config = NULL;
        _cleanup_(finding_list_done) FindingList findings = {};
        _cleanup_(freep) char *buf = NULL, *abs_path = NULL;
        ValidateOptions arg = {};
        const char *path;
        bool json;
        size_t len = 0;
        int r;

        r = validate_parse_argv(argc, argv, &arg);
        if (r <= 0)
                return EXIT_VALID;
        path = arg.path;
        json = arg.json;

        if (arg.bad_option_char)
                return validate_fail(json, path, NULL, "unknown option '-%c'; see --help", arg.bad_option_char);
        if (arg.bad_option)
                return validate_fail(json, path, NULL, "unknown or invalid option '%s'; see --help",
                                     arg.bad_option);
        if (arg.n_args > 1)
                return validate_fail(json, path, NULL, "too many arguments; expected at most one PATH");
        if (path[0] == 0)
                return validate_fail(json, path, NULL, "PATH must not be empty");
        if (arg.settings && !arg.file_checks)
                return validate_fail(json, path, NULL,
                                     "--no-file-checks applies to config.json, not to --settings");
        if (arg.settings)
                return validate_settings(json, path, arg.explicit_path);

        r = read_config(path, &buf, &len);
        if (r < 0)
                return validate_fail_read(json, path, r);

        r = script_config_parse(buf, len, &config, &findings);
        if (r == -ENOMEM)
                return validate_fail(json, path, NULL, "out of memory");

        if (arg.file_checks) {
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
                _cleanup_(json_object_putp) struct json_object *doc = findings_to_json(path, &findings);

                if (!doc)
                        return validate_fail(false, path, NULL, "out of memory");
                json_print(stdout, doc, true);
        } else
                findings_print(stdout, path, &findings);

        if (fflush(stdout) != 0)
                return cli_error("validate", EXIT_USAGE, "cannot write the result: %m");

        return findings.n_errors > 0 ? EXIT_INVALID : EXIT_VALID;
}
