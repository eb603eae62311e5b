/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of the tamper check (daemon/tamper.c): record, verify unchanged (the returned fd is the
 * file), modified content, a replaced file (new inode, same bytes), a touched file, a path never
 * recorded, a missing file at record time, a symlink, duplicates, a deleted file and one replaced
 * by a symlink (both "modified"); the baseline file: save and load (the loaded baseline verifies
 * the same files), mode 0600, another boot's file, a file others could write, damaged files.
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

static void write_raw(const char *path, const char *content, mode_t mode) {
        int fd;

        (void) unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ASSERT_EQ(fchmod(fd, mode), 0);
        ASSERT_EQ(close(fd), 0);
}

/* The baseline a restarted daemon reads back: the same records, checked the same way. */
static void test_baseline_file(const char *dir) {
        char exe[4096], missing[4096], path[4096], spaced[4096], buf[8192];
        TamperBaseline rec = {}, loaded = {}, none = {};
        struct stat st;
        int fd, n;

        fprintf(stderr, "== baseline file\n");
        snprintf(exe, sizeof exe, "%s/exe.sh", dir);
        snprintf(spaced, sizeof spaced, "%s/with blank.sh", dir);
        snprintf(missing, sizeof missing, "%s/never-there.sh", dir);
        snprintf(path, sizeof path, "%s/tamper-baseline", dir);
        write_file(exe, "#!/bin/sh\necho exe\n");
        write_file(spaced, "#!/bin/sh\necho spaced\n");

        char *paths[] = { exe, spaced, missing, NULL };
        ASSERT_OK(tamper_baseline_record(&rec, paths));
        ASSERT_OK(tamper_baseline_save(&rec, path));
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0600);

        ASSERT_OK(tamper_baseline_load(path, &loaded));
        ASSERT_EQ(loaded.n, 3u);
        for (size_t i = 0; i < rec.n; i++) {
                const TamperRecord *x = &rec.records[i], *y = tamper_baseline_find(&loaded, x->path);

                ASSERT_TRUE(y);
                ASSERT_EQ(x->dev, y->dev);
                ASSERT_EQ(x->ino, y->ino);
                ASSERT_EQ(x->size, y->size);
                ASSERT_EQ(x->mtime.tv_nsec, y->mtime.tv_nsec);
                ASSERT_EQ(x->ctime.tv_sec, y->ctime.tv_sec);
                ASSERT_TRUE(memcmp(x->sha256, y->sha256, sizeof x->sha256) == 0);
        }
        fd = tamper_verify_open(&loaded, exe);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        fd = tamper_verify_open(&loaded, spaced);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_ERROR(tamper_verify_open(&loaded, missing), EBADMSG);

        /* A change made while no daemon ran is caught by the loaded baseline. */
        write_file(exe, "#!/bin/sh\necho evil\n");
        ASSERT_ERROR(tamper_verify_open(&loaded, exe), EBADMSG);
        tamper_baseline_done(&loaded);

        /* Written in another boot (the clock and inodes mean nothing now): not used. */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        n = read(fd, buf, sizeof buf - 1);
        ASSERT_TRUE(n > 0);
        buf[n] = 0;
        close(fd);
        char *boot = strstr(buf, "BOOT_ID=");
        ASSERT_TRUE(boot);
        char orig = boot[8];
        boot[8] = orig == '0' ? '1' : '0';
        write_raw(path, buf, 0600);
        ASSERT_ERROR(tamper_baseline_load(path, &none), ESTALE);
        boot[8] = orig;

        /* Not ours alone: not trusted. */
        write_raw(path, buf, 0644);
        ASSERT_ERROR(tamper_baseline_load(path, &none), EPERM);

        /* Cut short, or garbage in a record. */
        write_raw(path, buf, 0600);
        ASSERT_OK(tamper_baseline_load(path, &loaded));
        tamper_baseline_done(&loaded);
        buf[n - 1] = 0;         /* the last newline */
        write_raw(path, buf, 0600);
        ASSERT_ERROR(tamper_baseline_load(path, &none), EBADMSG);
        buf[n - 1] = '\n';
        char *rec_line = strchr(boot, '\n') + 1;
        rec_line[0] = 'x';
        write_raw(path, buf, 0600);
        ASSERT_ERROR(tamper_baseline_load(path, &none), EBADMSG);
        ASSERT_EQ(none.n, 0u);

        ASSERT_ERROR(tamper_baseline_load("/nonexistent/tamper-baseline", &none), ENOENT);

        /* A path with a newline cannot be stored (the config parser refuses such paths anyway). */
        char nl[4096];
        snprintf(nl, sizeof nl, "%s/new\nline", dir);
        char *nl_paths[] = { nl, NULL };
        TamperBaseline bad = {};
        ASSERT_OK(tamper_baseline_record(&bad, nl_paths));
        ASSERT_ERROR(tamper_baseline_save(&bad, path), EINVAL);
        tamper_baseline_done(&bad);

        tamper_baseline_done(&rec);
        ASSERT_EQ(unlink(path), 0);
        ASSERT_EQ(unlink(exe), 0);
        ASSERT_EQ(unlink(spaced), 0);
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

        fprintf(stderr, "== deleted after the baseline, replaced by a symlink: modified, not \"failed\"\n");
        ASSERT_EQ(unlink(b), 0);
        ASSERT_ERROR(tamper_verify_open(&bl, b), EBADMSG);
        ASSERT_EQ(symlink(a, b), 0);
        ASSERT_ERROR(tamper_verify_open(&bl, b), EBADMSG);
        ASSERT_EQ(unlink(b), 0);

        test_baseline_file(dir);

        tamper_baseline_done(&bl);
        tamper_baseline_done(&bl);              /* empty baseline is fine */
        ASSERT_EQ(bl.n, 0u);

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
        return 0;
}
