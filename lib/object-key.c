/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Builds the S3 object key of a run's log (docs/behaviour.md §4). The user id is never put into the
 * key itself, only its SHA-256, so the key is safe whatever the id contains; the other components
 * are checked so that none of them can add or remove a level of the key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "object-key.h"
#include "sha256.h"
#include "string-util.h"

/* A key component must be non-empty, must not contain '/', and must not be "." or ".." (some S3
 * clients and proxies normalise such segments away) nor contain control characters. */
static int component_check(const char *s) {
        if (!s || !*s)
                return -EINVAL;
        if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return -EINVAL;
        if (strchr(s, '/') || string_has_cc(s))
                return -EINVAL;
        return 0;
}

int object_key_build(const char *stack, const char *fleet, const char *access_mode, const char *user_id,
                     const char *session_id, const char *event, const char *context, char **ret) {
        char hash[SHA256_HEX_SIZE];
        char *key = NULL;
        int r;

        if (!ret || !user_id)
                return -EINVAL;
        if (component_check(stack) < 0 || component_check(fleet) < 0 ||
            component_check(access_mode) < 0 || component_check(session_id) < 0 ||
            component_check(event) < 0 || component_check(context) < 0)
                return -EINVAL;

        r = sha256_string_hex(user_id, hash);
        if (r < 0)
                return r;

        if (asprintf(&key, "%s/%s/%s/%s/%s/SessionScriptsLogs/%s/%s.log",
                     stack, fleet, access_mode, hash, session_id, event, context) < 0)
                return -ENOMEM;

        *ret = key;
        return 0;
}
