/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of the spool writer (daemon/output.c): RUNID.log + RUNID.meta creation (the .meta
 * first, so a .log never exists without it), modes, appends, the atomic STATE=finished rewrite,
 * control characters in meta values, and spool_recover() of entries a crashed daemon left running.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "output.h"
#include "session-scripts/session-scripts.h"
#include "tests.h"

static char *read_file(const char *dir, const char *id, const char *suffix, size_t *ret_len) {
        char path[4096];
        FILE *f;
        char *buf;
        long n;

        snprintf(path, sizeof path, "%s/%s%s", dir, id, suffix);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        ASSERT_EQ(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        rewind(f);
        buf = malloc(n + 1);
        ASSERT_TRUE(buf);
        ASSERT_EQ(fread(buf, 1, n, f), (size_t) n);
        buf[n] = 0;
        fclose(f);
        if (ret_len)
                *ret_len = (size_t) n;
        return buf;
}

static unsigned count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        ASSERT_TRUE(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0))
                        n++;
        closedir(d);
        return n;
}

static void test_entry(const char *dir) {
        _cleanup_(spool_entry_freep) SpoolEntry *e = NULL;
        SpoolMeta meta = {
                .key = "stack/fleet/userpool/abc/sess-1/SessionScriptsLogs/SessionStart/user.log",
                .session_id = "sess-1",
                .event = "SessionStart",
                .context = "user",
                .user = "alice\nSTATE=finished",   /* must not become a line of its own */
        };
        char path[4096], data[3] = { 'a', 0, '\n' };
        _cleanup_(freep) char *m = NULL, *l = NULL, *m2 = NULL;
        size_t len;
        struct stat st;

        ASSERT_OK(spool_entry_create(dir, &meta, &e));
        ASSERT_EQ(strlen(spool_entry_get_id(e)), 32u);

        snprintf(path, sizeof path, "%s/%s.log", dir, spool_entry_get_id(e));
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0640);
        ASSERT_EQ(st.st_size, 0);

        m = read_file(dir, spool_entry_get_id(e), ".meta", NULL);
        ASSERT_TRUE(m);
        ASSERT_STREQ(m, "KEY=stack/fleet/userpool/abc/sess-1/SessionScriptsLogs/SessionStart/user.log\n"
                        "STATE=running\n"
                        "SESSION_ID=sess-1\n"
                        "EVENT=SessionStart\n"
                        "CONTEXT=user\n"
                        "USER=alice_STATE=finished\n");
        snprintf(path, sizeof path, "%s/%s.meta", dir, spool_entry_get_id(e));
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0640);

        /* Bytes as written, NUL included. */
        ASSERT_OK(spool_entry_append(e, "hello\r\n", 7));
        ASSERT_OK(spool_entry_append(e, data, 3));
        ASSERT_EQ(spool_entry_get_size(e), 10u);
        l = read_file(dir, spool_entry_get_id(e), ".log", &len);
        ASSERT_EQ(len, 10u);
        ASSERT_TRUE(memcmp(l, "hello\r\na\0\n", 10) == 0);

        ASSERT_OK(spool_entry_finish(e));
        ASSERT_OK(spool_entry_finish(e));       /* idempotent */
        m2 = read_file(dir, spool_entry_get_id(e), ".meta", NULL);
        ASSERT_TRUE(strstr(m2, "\nSTATE=finished\n"));
        ASSERT_TRUE(!strstr(m2, "running"));

        /* No temp file left behind: exactly .log and .meta. */
        ASSERT_EQ(count_entries(dir), 2u);
}

static void test_recover(const char *dir) {
        SpoolEntry *a = NULL, *b = NULL;
        SpoolMeta meta = { .key = "k", .session_id = "s", .event = "SessionTermination", .context = "system",
                           .user = "bob" };
        char ida[SPOOL_RUN_ID_SIZE], idb[SPOOL_RUN_ID_SIZE], path[4096];
        _cleanup_(freep) char *ma = NULL, *mb = NULL;
        int fd;

        ASSERT_OK(spool_entry_create(dir, &meta, &a));
        ASSERT_OK(spool_entry_create(dir, &meta, &b));
        strcpy(ida, spool_entry_get_id(a));
        strcpy(idb, spool_entry_get_id(b));
        ASSERT_TRUE(strcmp(ida, idb) != 0);
        ASSERT_OK(spool_entry_finish(b));
        /* "Crash": a is never finished. */
        a = spool_entry_free(a);
        b = spool_entry_free(b);

        /* A leftover temp file of an interrupted meta write, and files that are not ours. */
        snprintf(path, sizeof path, "%s/.%s.meta.tmp", dir, ida);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        snprintf(path, sizeof path, "%s/notours.meta", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "STATE=running\n", 14), 14);
        close(fd);

        ASSERT_EQ(spool_recover(dir), 1);
        ma = read_file(dir, ida, ".meta", NULL);
        mb = read_file(dir, idb, ".meta", NULL);
        ASSERT_STREQ(ma, "KEY=k\nSTATE=finished\nSESSION_ID=s\nEVENT=SessionTermination\n"
                         "CONTEXT=system\nUSER=bob\n");
        ASSERT_STREQ(ma, mb);
        snprintf(path, sizeof path, "%s/.%s.meta.tmp", dir, ida);
        ASSERT_TRUE(access(path, F_OK) < 0);
        snprintf(path, sizeof path, "%s/notours.meta", dir);
        ASSERT_EQ(access(path, F_OK), 0);       /* not a run id: left alone */

        /* Nothing left to do the second time; a missing directory is no error. */
        ASSERT_EQ(spool_recover(dir), 0);
        ASSERT_EQ(spool_recover("/nonexistent/session-scripts-spool"), 0);
}

/* The order in which the entry's files appear, as the uploader sees it through inotify: RUNID.meta
 * (renamed into place, complete) must be there before RUNID.log is created, so that no .log can be
 * left by a crash without the .meta that names its object. */
static void test_meta_before_log(const char *dir) {
        _cleanup_(spool_entry_freep) SpoolEntry *e = NULL;
        _cleanup_(closep) int fd = -EBADF;
        SpoolMeta meta = { .key = "s/f/custom/h/sess/SessionScriptsLogs/SessionStart/system.log", .session_id = "sess",
                           .event = "SessionStart", .context = "system", .user = "u" };
        char log_name[SPOOL_RUN_ID_SIZE + 8], meta_name[SPOOL_RUN_ID_SIZE + 8];
        union {
                struct inotify_event ev;
                char raw[16 * 1024];
        } buf;
        int meta_at = -1, log_at = -1, i = 0;
        ssize_t len;

        ASSERT_TRUE(mkdir(dir, 0770) == 0);
        fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) >= 0);

        ASSERT_OK(spool_entry_create(dir, &meta, &e));
        snprintf(log_name, sizeof log_name, "%s.log", spool_entry_get_id(e));
        snprintf(meta_name, sizeof meta_name, "%s.meta", spool_entry_get_id(e));

        len = read(fd, &buf, sizeof buf);
        ASSERT_TRUE(len > 0);
        for (char *p = buf.raw; p < buf.raw + len; i++) {
                struct inotify_event *ev = (struct inotify_event *) p;

                p += sizeof *ev + ev->len;
                if (ev->len == 0)
                        continue;
                if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && strcmp(ev->name, meta_name) == 0 && meta_at < 0)
                        meta_at = i;
                if ((ev->mask & IN_CREATE) && strcmp(ev->name, log_name) == 0 && log_at < 0)
                        log_at = i;
        }
        ASSERT_TRUE(meta_at >= 0);
        ASSERT_TRUE(log_at >= 0);
        ASSERT_TRUE(meta_at < log_at);

        /* And both are there, complete, with the contract's modes. */
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, meta_name);
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0640);
        snprintf(path, sizeof path, "%s/%s", dir, log_name);
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0640);
        ASSERT_EQ(count_entries(dir), 2u);
}

static void test_meta_write_invalid(const char *dir) {
        SpoolMeta meta = {};
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        ASSERT_TRUE(dfd >= 0);
        ASSERT_ERROR(spool_meta_write(dfd, "../../etc/passwd", &meta, "running"), EINVAL);
        ASSERT_ERROR(spool_meta_write(dfd, "0123456789abcdef0123456789ABCDEF", &meta, "running"), EINVAL);
        close(dfd);
}

int main(void) {
        char tmpl[] = "/tmp/test-output-spool-XXXXXX", sub[256], sub2[256], sub3[256], cmd[512];

        ASSERT_TRUE(mkdtemp(tmpl));
        /* The spool directory itself is created (with its parent) when missing. */
        snprintf(sub, sizeof sub, "%s/state/spool", tmpl);
        snprintf(sub2, sizeof sub2, "%s/state/spool2", tmpl);
        snprintf(sub3, sizeof sub3, "%s/state/spool3", tmpl);

        fprintf(stderr, "== %s\n", "test_entry");
        test_entry(sub);
        fprintf(stderr, "== %s\n", "test_recover");
        test_recover(sub2);
        fprintf(stderr, "== %s\n", "test_meta_before_log");
        test_meta_before_log(sub3);
        fprintf(stderr, "== %s\n", "test_meta_write_invalid");
        test_meta_write_invalid(sub2);

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
        ASSERT_EQ(system(cmd), 0);
        return 0;
}
