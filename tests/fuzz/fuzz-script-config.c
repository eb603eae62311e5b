/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target of the config.json parser: any bytes go to script_config_parse() (which must
 * never crash, leak or read out of bounds, and must keep its counters consistent) and, as a C
 * string, to argv_split().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "script-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(finding_list_done) FindingList findings = {};
        _cleanup_(script_config_freep) ScriptConfig *config = NULL;
        _cleanup_(strv_freep) char **words = NULL;
        _cleanup_(freep) char *copy = NULL;
        size_t n_errors = 0, offset = 0;
        int r;

        r = script_config_parse((const char *) data, size, &config, &findings);
        if (r < 0 && r != -EINVAL)
                abort();        /* only -ENOMEM is allowed besides, and the fuzzer does not inject it */

        /* Invariants: valid ⇔ no errors; every finding printable and positioned. */
        for (size_t i = 0; i < findings.n; i++) {
                const Finding *f = &findings.items[i];

                if (!f->message || !f->json_path || f->file)
                        abort();
                if (i < SCRIPT_CONFIG_MAX_FINDINGS && (f->line == 0 || f->column == 0))
                        abort();
                for (const char *p = f->json_path; *p; p++)
                        if ((unsigned char) *p < 0x20)
                                abort();
                if (f->severity == FINDING_ERROR)
                        n_errors++;
        }
        if (n_errors != findings.n_errors || (r == 0) != (n_errors == 0) || (r == 0) != (config != NULL))
                abort();

        if (config)
                for (size_t e = 0; e < _SCRIPT_EVENT_MAX; e++)
                        for (size_t x = 0; x < _SCRIPT_CONTEXT_MAX; x++) {
                                const ScriptExecutable *ex = &config->events[e].executables[x];

                                if (ex->present && (!ex->argv || !ex->arguments))
                                        abort();
                                if (ex->filename && ex->filename[0] != '/')
                                        abort();
                        }

        copy = strndup((const char *) data, size);
        if (!copy)
                return 0;
        r = argv_split(copy, &words, &offset);
        if (r == -EINVAL && offset >= strlen(copy))
                abort();

        return 0;
}
