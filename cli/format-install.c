/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The renderings of `install-bundle`; see format-install.h.
 */
#include <stdlib.h>

#include "cleanup.h"
#include "format.h"
#include "format-install.h"
#include "json-util.h"
#include "verbs.h"

void install_done(Install *i) {
        finding_list_done(&i->findings);
        bundle_report_done(&i->report);
        free(i->reload_error);
}

struct json_object *install_to_json(const Install *i) {
        _cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
        struct json_object *files = json_object_new_array(), *warnings = json_object_new_array(),
                           *errors = json_object_new_array();

        if (!doc || !files || !warnings || !errors) {
                json_object_put(files);
                json_object_put(warnings);
                json_object_put(errors);
                return NULL;
        }
        for (size_t k = 0; k < i->report.n_files; k++) {
                struct json_object *o = json_object_new_object();
                char mode[8];

                if (!o)
                        goto oom;
                snprintf(mode, sizeof mode, "%04o", (unsigned) i->report.files[k].mode);
                json_object_object_add(o, "path", json_object_new_string(i->report.files[k].path));
                json_object_object_add(o, "mode", json_object_new_string(mode));
                json_object_object_add(o, "size", json_object_new_int64((int64_t) i->report.files[k].size));
                json_object_array_add(files, o);
        }
        for (size_t k = 0; k < i->findings.n; k++) {
                struct json_object *o = finding_to_json(&i->findings.items[k]);

                if (!o)
                        goto oom;
                json_object_array_add(i->findings.items[k].severity == FINDING_ERROR ? errors : warnings, o);
        }

        json_object_object_add(doc, "source", json_object_new_string(i->source));
        json_object_object_add(doc, "path", json_object_new_string(i->target));
        json_object_object_add(doc, "installed", json_object_new_boolean(i->installed));
        json_object_object_add(doc, "files", files);
        json_object_object_add(doc, "warnings", warnings);
        json_object_object_add(doc, "errors", errors);
        json_object_object_add(doc, "credentials", i->credentials != CREDENTIAL_SOURCE_NONE ?
                               json_object_new_string(credential_source_to_string(i->credentials)) : NULL);
        json_object_object_add(doc, "dropin", i->dropin ? json_object_new_string(i->dropin) : NULL);
        json_object_object_add(doc, "active", json_object_new_boolean(i->active));
        json_object_object_add(doc, "reload_requested", json_object_new_boolean(i->reload_requested));
        json_object_object_add(doc, "reloaded", json_object_new_boolean(i->reloaded));
        json_object_object_add(doc, "reload_error",
                               i->reload_error ? json_object_new_string(i->reload_error) : NULL);
        json_object_object_add(doc, "error", i->error[0] ? json_object_new_string(i->error) : NULL);
        return TAKE_PTR(doc);

oom:
        json_object_put(files);
        json_object_put(warnings);
        json_object_put(errors);
        return NULL;
}

static void install_findings_print(FILE *f, const Install *i) {
        _cleanup_(freep) char *cfg = NULL;

        if (asprintf(&cfg, "%s/config.json", i->target) < 0)
                return;
        for (size_t k = 0; k < i->findings.n; k++)
                finding_print(f, cfg, &i->findings.items[k]);
}

void install_refused_print(FILE *f, const Install *i) {
        install_findings_print(f, i);
        /* Colour by the stream written to: stdout may be a terminal while stderr goes to a file, or
         * the other way round. */
        fprintf(f, "%s%s install-bundle: bundle %s refused: %s%s\n", color_for(f, ANSI_RED), program_name,
                i->source, i->error, color_for(f, ANSI_NORMAL));
        fprintf(f, "The installed bundle (if any) was left as it was.\n");
}

void install_installed_print(FILE *f, const Install *i) {
        install_findings_print(stderr, i);
        fprintf(f, "Installed %s into %s (%zu file%s, %zu warning%s).\n", i->source, i->target,
                i->report.n_files, i->report.n_files == 1 ? "" : "s", i->findings.n_warnings,
                i->findings.n_warnings == 1 ? "" : "s");
}
