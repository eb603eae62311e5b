/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of the tamper check (daemon/tamper.c): record, verify unchanged (the returned fd is the
 * file), modified content, a replaced file (new inode, same bytes), a touched file, a path never
 * recorded, a missing file at record time, a symlink, duplicates.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "tamper.h"
#include "tests.h"

static void write_file(const char *path, const char *content) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ASSERT_EQ(close(fd), 0);
}

int main(void) {
        char dir[] = "/tmp/test-tamper-XXXXXX", a[4096], b[4096], missing[4096], link[4096], tmp[4096],
             cmd[8192], buf[64];
        TamperBaseline bl = {};
        struct stat st;
        int fd;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(a, sizeof a, "%s/a.sh", dir);
        snprintf(b, sizeof b, "%s/b.sh", dir);
        snprintf(missing, sizeof missing, "%s/missing.sh", dir);
        snprintf(link, sizeof link, "%s/link.sh", dir);
        snprintf(tmp, sizeof tmp, "%s/tmp.sh", dir);
        write_file(a, "#!/bin/sh\necho a\n");
        write_file(b, "#!/bin/sh\necho b\n");
        ASSERT_EQ(symlink(a, link), 0);

        char *paths[] = { a, b, a, missing, link, NULL };
        ASSERT_OK(tamper_baseline_record(&bl, paths));
        ASSERT_EQ(bl.n, 4u);            /* the duplicate is recorded once */
        ASSERT_TRUE(tamper_baseline_find(&bl, a));
        ASSERT_TRUE(!tamper_baseline_find(&bl, "/never/recorded"));

        fprintf(stderr, "== verify unchanged\n");
        fd = tamper_verify_open(&bl, a);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(pread(fd, buf, 9, 0), 9);
        ASSERT_TRUE(memcmp(buf, "#!/bin/sh", 9) == 0);
        ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        ASSERT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
        close(fd);
        fd = tamper_verify_open(&bl, a);        /* the fd's offset was not moved by hashing either */
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(lseek(fd, 0, SEEK_CUR), 0);
        close(fd);

        fprintf(stderr, "== never recorded, missing at record time, symlink\n");
        ASSERT_ERROR(tamper_verify_open(&bl, "/never/recorded"), EBADMSG);
        write_file(missing, "#!/bin/sh\n");  /* appeared after the baseline: still not provisioned */
        ASSERT_ERROR(tamper_verify_open(&bl, missing), EBADMSG);
        ASSERT_ERROR(tamper_verify_open(&bl, link), EBADMSG);

        fprintf(stderr, "== modified content (same size)\n");
        write_file(b, "#!/bin/sh\necho c\n");
        ASSERT_ERROR(tamper_verify_open(&bl, b), EBADMSG);

        fprintf(stderr, "== content restored, mtime differs\n");
        write_file(b, "#!/bin/sh\necho b\n");
        struct timespec later[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = time(NULL) + 3600 } };
        ASSERT_EQ(utimensat(AT_FDCWD, b, later, 0), 0);
        ASSERT_ERROR(tamper_verify_open(&bl, b), EBADMSG);

        fprintf(stderr, "== replaced by a copy with the same bytes (new inode)\n");
        tamper_baseline_done(&bl);
        ASSERT_OK(tamper_baseline_record(&bl, paths));
        fd = tamper_verify_open(&bl, a);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        write_file(tmp, "#!/bin/sh\necho a\n");
        ASSERT_EQ(stat(a, &st), 0);
        /* Same mtime even, so only the inode (and ctime) give it away. */
        struct timespec times[2] = { st.st_atim, st.st_mtim };
        ASSERT_EQ(utimensat(AT_FDCWD, tmp, times, 0), 0);
        ASSERT_EQ(rename(tmp, a), 0);
        ASSERT_ERROR(tamper_verify_open(&bl, a), EBADMSG);

        fprintf(stderr, "== deleted after the baseline\n");
        ASSERT_EQ(unlink(b), 0);
        ASSERT_ERROR(tamper_verify_open(&bl, b), ENOENT);

        tamper_baseline_done(&bl);
        tamper_baseline_done(&bl);              /* empty baseline is fine */
        ASSERT_EQ(bl.n, 0u);

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
        return 0;
}
