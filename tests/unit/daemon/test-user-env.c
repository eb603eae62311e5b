/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/user-env.c: the clean environment of each context, and LANG from
 * /etc/default/locale-style files.
 */

#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "session-scripts/session-scripts.h"
#include "tests.h"
#include "user-env.h"

static const char *env_get(char **l, const char *key) {
        size_t n = strlen(key);
        for (char **i = l; i && *i; i++)
                if (strncmp(*i, key, n) == 0 && (*i)[n] == '=')
                        return *i + n + 1;
        return NULL;
}

static UserEnvParams params(ScriptContext c) {
        return (UserEnvParams) {
                .event = SCRIPT_EVENT_START,
                .context = c,
                .user = "alice",
                .uid = 1000,
                .home = "/home/alice",
                .shell = "/bin/bash",
                .lang = NULL,
                .xdg_runtime_dir = "/run/user/1000",
                .session_id = "sess-1",
                .user_name = "alice@example.com",
                .access_mode = "custom",
                .stack_name = "stack",
                .resource_name = "fleet",
                .home_folder_status = "True",
        };
}

static void test_user_context(void) {
        _cleanup_(strv_freep) char **l = NULL;
        UserEnvParams p = params(SCRIPT_CONTEXT_USER);

        ASSERT_OK(user_env_build(&p, &l));
        ASSERT_STREQ(env_get(l, "HOME"), "/home/alice");
        ASSERT_STREQ(env_get(l, "USER"), "alice");
        ASSERT_STREQ(env_get(l, "LOGNAME"), "alice");
        ASSERT_STREQ(env_get(l, "SHELL"), "/bin/bash");
        ASSERT_STREQ(env_get(l, "PATH"), USER_ENV_PATH);
        ASSERT_STREQ(env_get(l, "LANG"), "C.UTF-8");
        ASSERT_STREQ(env_get(l, "XDG_RUNTIME_DIR"), "/run/user/1000");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_SESSION_ID), "sess-1");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_USER_NAME), "alice@example.com");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_ACCESS_MODE), "custom");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_STACK_NAME), "stack");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_RESOURCE_NAME), "fleet");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_HOME_FOLDER_STATUS), "True");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_EVENT), "SessionStart");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_CONTEXT), "user");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_SESSION_USER), "alice");
        /* Exactly these, nothing inherited. */
        ASSERT_EQ(strv_length(l), 16);
}

static void test_system_context(void) {
        _cleanup_(strv_freep) char **l = NULL;
        UserEnvParams p = params(SCRIPT_CONTEXT_SYSTEM);

        p.event = SCRIPT_EVENT_TERMINATION;
        p.lang = "de_DE.UTF-8";
        ASSERT_OK(user_env_build(&p, &l));
        ASSERT_STREQ(env_get(l, "HOME"), "/root");
        ASSERT_STREQ(env_get(l, "USER"), "root");
        ASSERT_STREQ(env_get(l, "LOGNAME"), "root");
        ASSERT_STREQ(env_get(l, "SHELL"), "/bin/sh");
        ASSERT_STREQ(env_get(l, "LANG"), "de_DE.UTF-8");
        ASSERT_TRUE(env_get(l, "XDG_RUNTIME_DIR") == NULL);
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_USER_NAME), "alice@example.com");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_EVENT), "SessionTermination");
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_CONTEXT), "system");
        /* USER is root here: the session's PAM user (not the metadata's user id) is named apart. */
        ASSERT_STREQ(env_get(l, SESSION_SCRIPTS_ENV_SESSION_USER), "alice");
        ASSERT_EQ(strv_length(l), 15);
}

static void test_missing_fields(void) {
        char **l = NULL;
        UserEnvParams p = params(SCRIPT_CONTEXT_USER);

        p.session_id = NULL;
        ASSERT_ERROR(user_env_build(&p, &l), EINVAL);
        p = params(SCRIPT_CONTEXT_USER);
        p.home = NULL;
        ASSERT_ERROR(user_env_build(&p, &l), EINVAL);
        /* The system context needs no home, but it does need the user it acts for. */
        p = params(SCRIPT_CONTEXT_SYSTEM);
        p.home = NULL;
        ASSERT_OK(user_env_build(&p, &l));
        strv_free(l);
        l = NULL;
        p.user = NULL;
        ASSERT_ERROR(user_env_build(&p, &l), EINVAL);
        ASSERT_TRUE(l == NULL);
}

static void test_locale_parse(void) {
        char *v = NULL;
        const char *a = "# generated\nLANG=en_US.UTF-8\n";
        const char *b = "LC_ALL=C\nexport LANG=\"de_DE.UTF-8\"\r\n";
        const char *c = "LANG=$(rm -rf /)\n";
        const char *d = "LANG=fr_FR.UTF-8\nLANG='sv_SE.UTF-8'\n";
        const char *e = "LANGUAGE=en\n";

        ASSERT_EQ(locale_lang_parse(a, strlen(a), &v), 1);
        ASSERT_STREQ(v, "en_US.UTF-8");
        free(v);
        ASSERT_EQ(locale_lang_parse(b, strlen(b), &v), 1);
        ASSERT_STREQ(v, "de_DE.UTF-8");
        free(v);
        v = NULL;
        ASSERT_EQ(locale_lang_parse(c, strlen(c), &v), 0);
        ASSERT_TRUE(v == NULL);
        ASSERT_EQ(locale_lang_parse(d, strlen(d), &v), 1);
        ASSERT_STREQ(v, "sv_SE.UTF-8");
        free(v);
        v = NULL;
        ASSERT_EQ(locale_lang_parse(e, strlen(e), &v), 0);
        ASSERT_EQ(locale_lang_read("/nonexistent/locale", &v), 0);
}

static void test_locale_read(void) {
        char path[] = "/tmp/test-user-env-XXXXXX";
        char *v = NULL;
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "LANG=C.UTF-8\n", 13), 13);
        close(fd);
        ASSERT_EQ(locale_lang_read(path, &v), 1);
        ASSERT_STREQ(v, "C.UTF-8");
        free(v);
        unlink(path);
}

static void test_runtime_dir(void) {
        char *p = (char *) "x";

        /* No such directory for an absurd uid. */
        ASSERT_OK(user_env_runtime_dir(4000000000U, &p));
        ASSERT_TRUE(p == NULL);
}

int main(void) {
        TEST_RUN(test_user_context);
        TEST_RUN(test_system_context);
        TEST_RUN(test_missing_fields);
        TEST_RUN(test_locale_parse);
        TEST_RUN(test_locale_read);
        TEST_RUN(test_runtime_dir);
        return 0;
}
