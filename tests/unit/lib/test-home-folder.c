/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of lib/home-folder.c: parsing the mount-status file and reading it below a home directory
 * without following symlinks planted by the user.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "home-folder.h"
#include "session-scripts/session-scripts.h"
#include "tests.h"

#define P(s) home_folder_status_parse(s, strlen(s))

static void test_parse(void) {
        ASSERT_EQ(P("appstream_home_folder_mount_status=True"), HOME_FOLDER_STATUS_TRUE);
        ASSERT_EQ(P("appstream_home_folder_mount_status=True\n"), HOME_FOLDER_STATUS_TRUE);
        ASSERT_EQ(P("appstream_home_folder_mount_status=False\r\n"), HOME_FOLDER_STATUS_FALSE);
        ASSERT_EQ(P("  appstream_home_folder_mount_status = true  \n"), HOME_FOLDER_STATUS_TRUE);
        ASSERT_EQ(P("other=1\nappstream_home_folder_mount_status=FALSE\nx=y"), HOME_FOLDER_STATUS_FALSE);
        ASSERT_EQ(P("appstream_home_folder_mount_status=\"True\""), HOME_FOLDER_STATUS_TRUE);
        /* The last assignment wins. */
        ASSERT_EQ(P("appstream_home_folder_mount_status=False\nappstream_home_folder_mount_status=True"),
                  HOME_FOLDER_STATUS_TRUE);
        ASSERT_EQ(P("appstream_home_folder_mount_status=True\nappstream_home_folder_mount_status=False"),
                  HOME_FOLDER_STATUS_FALSE);
        ASSERT_EQ(P(""), HOME_FOLDER_STATUS_UNKNOWN);
        ASSERT_EQ(P("appstream_home_folder_mount_status=yes"), HOME_FOLDER_STATUS_UNKNOWN);
        ASSERT_EQ(P("appstream_home_folder_mount_status_x=True"), HOME_FOLDER_STATUS_UNKNOWN);
        ASSERT_EQ(P("True"), HOME_FOLDER_STATUS_UNKNOWN);
        ASSERT_EQ(home_folder_status_parse(NULL, 0), HOME_FOLDER_STATUS_UNKNOWN);
        /* Not NUL-terminated: only len bytes count. */
        ASSERT_EQ(home_folder_status_parse("appstream_home_folder_mount_status=TrueXX", 39),
                  HOME_FOLDER_STATUS_TRUE);

        ASSERT_STREQ(home_folder_status_to_string(HOME_FOLDER_STATUS_TRUE), "True");
        ASSERT_STREQ(home_folder_status_to_string(HOME_FOLDER_STATUS_FALSE), "False");
        ASSERT_STREQ(home_folder_status_to_string(HOME_FOLDER_STATUS_UNKNOWN), "Unknown");
}

static void write_status(const char *home, const char *content) {
        _cleanup_(freep) char *p = NULL;
        _cleanup_(fclosep) FILE *f = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s", home, SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE) > 0);
        f = fopen(p, "we");
        ASSERT_TRUE(f);
        ASSERT_TRUE(fputs(content, f) >= 0);
}

__attribute__((format(printf, 1, 2)))
static void run(const char *fmt, ...) {
        _cleanup_(freep) char *cmd = NULL;
        va_list ap;

        va_start(ap, fmt);
        ASSERT_TRUE(vasprintf(&cmd, fmt, ap) > 0);
        va_end(ap);
        ASSERT_EQ(system(cmd), 0);
}

static void test_read(void) {
        char home[] = "/tmp/test-home-folder-XXXXXX";
        HomeFolderStatus s = HOME_FOLDER_STATUS_TRUE;

        ASSERT_TRUE(mkdtemp(home));

        /* Absent → Unknown. */
        ASSERT_OK(home_folder_status_read(home, &s));
        ASSERT_EQ(s, HOME_FOLDER_STATUS_UNKNOWN);
        ASSERT_OK(home_folder_status_read("/nonexistent-home", &s));
        ASSERT_EQ(s, HOME_FOLDER_STATUS_UNKNOWN);

        run("mkdir -p '%s/.config/appstream-home-folder'", home);
        write_status(home, "appstream_home_folder_mount_status=False\n");
        ASSERT_OK(home_folder_status_read(home, &s));
        ASSERT_EQ(s, HOME_FOLDER_STATUS_FALSE);
        write_status(home, "appstream_home_folder_mount_status=True\n");
        ASSERT_OK(home_folder_status_read(home, &s));
        ASSERT_EQ(s, HOME_FOLDER_STATUS_TRUE);

        /* A symlinked .config (the user pointing the root daemon elsewhere) is not followed. */
        run("mv '%s/.config' '%s/real-config' && ln -s real-config '%s/.config'", home, home, home);
        ASSERT_OK(home_folder_status_read(home, &s));
        ASSERT_EQ(s, HOME_FOLDER_STATUS_UNKNOWN);
        run("rm '%s/.config' && mv '%s/real-config' '%s/.config'", home, home, home);

        /* Nor a symlinked status file. */
        run("cd '%s/.config/appstream-home-folder' && mv appstream-home-folder-mount-status real && "
            "ln -s real appstream-home-folder-mount-status", home);
        ASSERT_OK(home_folder_status_read(home, &s));
        ASSERT_EQ(s, HOME_FOLDER_STATUS_UNKNOWN);

        /* A FIFO does not block the reader. */
        run("cd '%s/.config/appstream-home-folder' && rm appstream-home-folder-mount-status && "
            "mkfifo appstream-home-folder-mount-status", home);
        ASSERT_OK(home_folder_status_read(home, &s));
        ASSERT_EQ(s, HOME_FOLDER_STATUS_UNKNOWN);

        ASSERT_ERROR(home_folder_status_read("relative", &s), EINVAL);
        run("rm -rf '%s'", home);
}

int main(void) {
        TEST_RUN(test_parse);
        TEST_RUN(test_read);
        return 0;
}
