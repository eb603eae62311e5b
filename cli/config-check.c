/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and checking a config.json like the daemon; see config-check.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-check.h"
#include "regular-file.h"

int config_read(const char *path, char **ret, size_t *ret_len) {
        /* A FIFO must not hang us; a symlinked config.json is not read (the file checks would call it
         * an error anyway). */
        return read_regular_file_at(AT_FDCWD, path, O_NOFOLLOW, SCRIPT_CONFIG_MAX_FILE_SIZE, ret, ret_len);
}

int config_check_buffer(const char *buf, size_t len, const char *config_path, bool file_checks,
                        FindingList *findings, ScriptConfig **ret_config) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        int r;

        r = script_config_parse(buf, len, &c, findings);
        if (r == -ENOMEM)
                return r;
        if (file_checks) {
                /* Like the daemon: with errors in the contents only config.json itself is checked. */
                r = script_config_check_files(c, config_path, findings);
                if (r < 0)
                        return r;
        }
        if (ret_config)
                *ret_config = TAKE_PTR(c);
        return 0;
}

void settings_collect_findings(const char *file, unsigned line, const char *message, void *userdata) {
        FindingList *l = userdata;

        if (finding_list_add(l, FINDING_ERROR, line, 0, "", file, "%s", message) < 0)
                l->n_errors++;
}
