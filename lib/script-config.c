/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The typed config of script-config.h: the names of the contexts, and freeing. The parser and the
 * names of the events (the keys of the document's table) are in config-schema.c, the file checks in
 * config-check-files.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "cleanup.h"
#include "script-config.h"

static const char *const context_names[_SCRIPT_CONTEXT_MAX] = {
        [SCRIPT_CONTEXT_SYSTEM] = "system",
        [SCRIPT_CONTEXT_USER] = "user",
};

const char *script_context_to_string(ScriptContext c) {
        if ((unsigned) c >= _SCRIPT_CONTEXT_MAX)
                return NULL;
        return context_names[c];
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
