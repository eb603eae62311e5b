/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The directory the build installs pam_session_scripts.so into (argv[1], meson's pamlibdir) is the
 * one libpam loads modules from. "session optional pam_session_scripts.so" names the module
 * relatively, and libpam resolves such a name only in its own compiled-in directory: a module
 * installed anywhere else (meson's lib64 guess on a Debian host without dpkg-dev) never loads.
 *
 * libpam is asked directly: a service file (pam_start_confdir(), in a temporary directory) names
 * pam_permit.so relatively, and the directory of the pam_permit.so that libpam then mapped into
 * this process must be the pamlibdir. Runs unprivileged; needs the distribution's pam_permit.so.
 */
#include <link.h>
#include <limits.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"

static char loaded[PATH_MAX];

static int find_permit(struct dl_phdr_info *info, size_t size, void *userdata) {
        const char *slash = strrchr(info->dlpi_name, '/');

        if (slash && strcmp(slash + 1, "pam_permit.so") == 0) {
                snprintf(loaded, sizeof loaded, "%.*s", (int) (slash - info->dlpi_name), info->dlpi_name);
                return 1;
        }
        return 0;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *userdata) {
        return PAM_CONV_ERR;
}

int main(int argc, char *argv[]) {
        static const struct pam_conv c = { conv, NULL };
        char confdir[] = "/tmp/test-pam-module-dir.XXXXXX", service[PATH_MAX], want[PATH_MAX], got[PATH_MAX];
        pam_handle_t *pamh = NULL;
        FILE *f;

        ASSERT_TRUE(argc == 2);
        ASSERT_TRUE(mkdtemp(confdir));
        snprintf(service, sizeof service, "%s/module-dir", confdir);
        f = fopen(service, "we");
        ASSERT_TRUE(f);
        fputs("auth required pam_permit.so\naccount required pam_permit.so\n", f);
        ASSERT_TRUE(fclose(f) == 0);

        ASSERT_EQ(pam_start_confdir("module-dir", "nobody", &c, confdir, &pamh), PAM_SUCCESS);
        ASSERT_EQ(pam_authenticate(pamh, 0), PAM_SUCCESS);
        dl_iterate_phdr(find_permit, NULL);
        pam_end(pamh, PAM_SUCCESS);
        ASSERT_TRUE(unlink(service) == 0 && rmdir(confdir) == 0);

        if (!loaded[0]) {
                fprintf(stderr, "libpam loaded no pam_permit.so (is libpam's module package installed?)\n");
                return 1;
        }
        /* /lib and /usr/lib are one directory on a merged-/usr system: compare what they resolve to. */
        ASSERT_TRUE(realpath(loaded, got));
        if (!realpath(argv[1], want)) {
                fprintf(stderr, "libpam loads modules from %s; the build installs into %s, which does not "
                        "exist here: configure with -Dpamlibdir=%s\n", loaded, argv[1], loaded);
                return 1;
        }
        fprintf(stderr, "libpam loads modules from %s (%s); the build installs into %s (%s)\n",
                loaded, got, argv[1], want);
        if (strcmp(got, want) != 0) {
                fprintf(stderr, "the PAM module would not be found by libpam: configure with -Dpamlibdir=%s\n",
                        loaded);
                return 1;
        }
        return 0;
}
