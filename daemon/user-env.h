/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The clean environment a script gets (docs/behaviour.md §3): nothing is inherited from the
 * daemon. Both contexts get HOME USER LOGNAME SHELL PATH LANG, the five AppStream_* metadata
 * variables, AppStream_Home_Folder_Mount_Status, AppStream_Session_Event, AppStream_Session_Context
 * and AppStream_Session_User (the PAM user).
 *
 * Choices (also in the README): the user context gets the user's HOME/USER/LOGNAME/SHELL and
 * XDG_RUNTIME_DIR=/run/user/UID when that directory exists (pam_systemd creates it before our
 * module runs). The system context runs as root and gets root's identity (HOME=/root, USER=
 * LOGNAME=root, SHELL=/bin/sh) and no XDG_RUNTIME_DIR: handing a root process the user's runtime
 * directory invites root-owned files there; the session's PAM user is named by
 * AppStream_Session_User instead (both contexts get it; AppStream_UserName is the user identifier
 * of the metadata, which an earlier PAM module may have set to something else, e.g. an e-mail
 * address). PATH is fixed and safe; LANG comes from /etc/default/locale, else C.UTF-8.
 */
#pragma once

#include <sys/types.h>

#include "script-config.h"

/* The fixed PATH of every script. */
#define USER_ENV_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* LANG when /etc/default/locale names none. */
#define USER_ENV_LANG_DEFAULT "C.UTF-8"
/* Where Debian keeps the system locale. */
#define USER_ENV_LOCALE_PATH "/etc/default/locale"

typedef struct UserEnvParams {
        ScriptEvent event;
        ScriptContext context;
        const char *user;               /* the session's PAM user name (required) */
        uid_t uid;
        const char *home;
        const char *shell;
        const char *lang;               /* NULL = USER_ENV_LANG_DEFAULT */
        const char *xdg_runtime_dir;    /* user context only; NULL = not set */
        const char *session_id;
        const char *user_name;          /* AppStream_UserName */
        const char *access_mode;
        const char *stack_name;
        const char *resource_name;
        const char *home_folder_status; /* "True" | "False" | "Unknown" */
} UserEnvParams;

/* Builds the NULL-terminated KEY=VALUE array for p. Returns 0 and a new strv in *ret (free with
 * strv_free()), -EINVAL when a required field is missing, -ENOMEM. */
int user_env_build(const UserEnvParams *p, char ***ret);

/* Finds LANG= in the contents of a locale file (shell-style assignments, optional quotes,
 * comments). Only values of [A-Za-z0-9_.@-] are accepted. Returns 1 and a new string in *ret, 0
 * when there is no usable LANG, -ENOMEM. */
int locale_lang_parse(const char *buf, size_t len, char **ret);

/* Reads path (≤ 64 KiB) and parses it as above. Returns 1 and *ret, 0 when absent or without
 * LANG, -errno on other errors. */
int locale_lang_read(const char *path, char **ret);

/* Returns "/run/user/UID" in *ret (new string) if that directory exists and belongs to uid, else
 * NULL in *ret. Returns 0 or -ENOMEM. */
int user_env_runtime_dir(uid_t uid, char **ret);
