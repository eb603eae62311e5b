/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building the clean environment of a script. See user-env.h for the choices made.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "session-scripts/session-scripts.h"
#include "user-env.h"

#define LOCALE_FILE_MAX (64U * 1024U)

static int strv_push_pair(char **l, size_t *n, const char *key, const char *value) {
        if (asprintf(&l[*n], "%s=%s", key, value ?: "") < 0) {
                l[*n] = NULL;
                return -ENOMEM;
        }
        (*n)++;
        l[*n] = NULL;
        return 0;
}

int user_env_build(const UserEnvParams *p, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        bool system = p->context == SCRIPT_CONTEXT_SYSTEM;
        const char *event = script_event_to_string(p->event), *context = script_context_to_string(p->context);
        size_t n = 0;
        int r;

        if (!event || !context || !p->session_id || !p->user_name || !p->access_mode || !p->stack_name ||
            !p->resource_name)
                return -EINVAL;
        if (!p->user || (!system && !p->home))
                return -EINVAL;

        l = calloc(32, sizeof(char *));
        if (!l)
                return -ENOMEM;

#define PUSH(k, v)                                      \
        do {                                            \
                r = strv_push_pair(l, &n, (k), (v));    \
                if (r < 0)                              \
                        return r;                       \
        } while (0)

        /* The system context acts for the session but runs as root: root's identity. */
        PUSH("HOME", system ? "/root" : p->home);
        PUSH("USER", system ? "root" : p->user);
        PUSH("LOGNAME", system ? "root" : p->user);
        PUSH("SHELL", system ? "/bin/sh" : (p->shell ?: "/bin/sh"));
        PUSH("PATH", USER_ENV_PATH);
        PUSH("LANG", p->lang ?: USER_ENV_LANG_DEFAULT);
        if (!system && p->xdg_runtime_dir)
                PUSH("XDG_RUNTIME_DIR", p->xdg_runtime_dir);
        PUSH(SESSION_SCRIPTS_ENV_SESSION_ID, p->session_id);
        PUSH(SESSION_SCRIPTS_ENV_SESSION_USER, p->user);
        PUSH(SESSION_SCRIPTS_ENV_USER_NAME, p->user_name);
        PUSH(SESSION_SCRIPTS_ENV_ACCESS_MODE, p->access_mode);
        PUSH(SESSION_SCRIPTS_ENV_STACK_NAME, p->stack_name);
        PUSH(SESSION_SCRIPTS_ENV_RESOURCE_NAME, p->resource_name);
        PUSH(SESSION_SCRIPTS_ENV_HOME_FOLDER_STATUS, p->home_folder_status ?: "Unknown");
        PUSH(SESSION_SCRIPTS_ENV_EVENT, event);
        PUSH(SESSION_SCRIPTS_ENV_CONTEXT, context);
#undef PUSH

        *ret = TAKE_PTR(l);
        return 0;
}

static bool lang_value_is_valid(const char *v, size_t n) {
        if (n == 0 || n > 128)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-", v[i]) || !v[i])
                        return false;
        return true;
}

int locale_lang_parse(const char *buf, size_t len, char **ret) {
        const char *p = buf, *end = buf + len;
        char *found = NULL;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)) ?: end;
                const char *q = p, *v, *ve;

                while (q < eol && (*q == ' ' || *q == '\t'))
                        q++;
                if (eol - q > 7 && memcmp(q, "export ", 7) == 0)
                        q += 7;
                if (eol - q >= 5 && memcmp(q, "LANG=", 5) == 0) {
                        v = q + 5;
                        ve = eol;
                        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
                                ve--;
                        if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) {
                                v++;
                                ve--;
                        }
                        /* The last valid assignment wins, as when the shell sources the file. */
                        if (lang_value_is_valid(v, (size_t) (ve - v))) {
                                char *c = strndup(v, (size_t) (ve - v));
                                if (!c) {
                                        free(found);
                                        return -ENOMEM;
                                }
                                free(found);
                                found = c;
                        }
                }
                p = eol + 1;
        }

        if (!found)
                return 0;
        *ret = found;
        return 1;
}

int locale_lang_read(const char *path, char **ret) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;

        buf = malloc(LOCALE_FILE_MAX);
        if (!buf)
                return -ENOMEM;
        /* A longer file is read only in part: LANG= is near the top. */
        n = loop_read(fd, buf, LOCALE_FILE_MAX);
        if (n < 0)
                return (int) n;

        return locale_lang_parse(buf, (size_t) n, ret);
}

int user_env_runtime_dir(uid_t uid, char **ret) {
        _cleanup_(freep) char *p = NULL;
        struct stat st;

        if (asprintf(&p, "/run/user/%u", (unsigned) uid) < 0)
                return -ENOMEM;

        /* Only a real directory of the user (logind's), never something else placed there. */
        if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid) {
                *ret = NULL;
                return 0;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
