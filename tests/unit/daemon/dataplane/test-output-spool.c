/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of the spool writer (daemon/output.c): RUNID.log + RUNID.meta creation (the .meta
 * first, so a .log never exists without it), modes, appends, the atomic STATE=finished rewrite,
 * control characters in meta values, spool_recover() of entries a crashed daemon left running, the
 * global bound (MaxSpoolSize=: a flood is cut with a marker line, later runs still get their first
 * bytes, files the uploader removed count no more after a re-scan, -EDQUOT when not even a .meta
 * fits) and the sync worker (finishing off the caller's thread, drained at stop).
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
        char ida[SPOOL_RUN_ID_LEN + 1], idb[SPOOL_RUN_ID_LEN + 1], path[4096];
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
        char log_name[SPOOL_NAME_SIZE], meta_name[SPOOL_NAME_SIZE];
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
        ASSERT_ERROR(spool_meta_write(dfd, "../../etc/passwd", &meta), EINVAL);
        ASSERT_ERROR(spool_meta_write(dfd, "0123456789abcdef0123456789ABCDEF", &meta), EINVAL);
        /* A valid name, but a key the uploader would refuse: not written either. */
        ASSERT_ERROR(spool_meta_write(dfd, "0123456789abcdef0123456789abcdef", &meta), EINVAL);
        close(dfd);
}

static uint64_t dir_bytes(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        uint64_t sum = 0;

        ASSERT_TRUE(d);
        while ((de = readdir(d))) {
                struct stat st;

                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                        sum += (uint64_t) st.st_size;
        }
        closedir(d);
        return sum;
}

static bool ends_with(const char *s, size_t len, const char *suffix) {
        size_t n = strlen(suffix);
        return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

#define MARKER "session-scripts: output truncated: the log spool is full (MaxSpoolSize=1048576)\n"

static void test_bound(const char *dir) {
        _cleanup_(spool_entry_freep) SpoolEntry *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        SpoolMeta meta = { .key = "k", .session_id = "s", .event = "SessionStart", .context = "user",
                           .user = "alice" };
        static char chunk[64 * 1024];
        uint64_t max = 1024 * 1024;     /* reserve R = 64 KiB: flood up to M − 64K, first bytes to M − 32K */
        char path[4096];
        _cleanup_(freep) char *l = NULL;
        size_t len;
        int r = 0, n;
        FILE *f;

        /* A stranger's 100 KiB in the directory count, too. */
        ASSERT_OK(spool_entry_create(dir, &meta, &a));
        snprintf(path, sizeof path, "%s/stranger", dir);
        f = fopen(path, "we");
        ASSERT_TRUE(f);
        for (int i = 0; i < 100; i++)
                ASSERT_EQ(fwrite(chunk, 1, 1024, f), 1024u);
        fclose(f);

        spool_set_max_size(&max);

        /* The flood: every append succeeds until the bound, then 1 and nothing more. */
        memset(chunk, 'y', sizeof chunk);
        for (n = 0; n < 64 && (r = spool_entry_append(a, chunk, sizeof chunk)) == 0; n++)
                ;
        ASSERT_EQ(r, 1);
        ASSERT_TRUE(spool_entry_get_truncated(a));
        ASSERT_EQ(spool_entry_append(a, "more\n", 5), 1);
        ASSERT_TRUE(dir_bytes(dir) <= max - 64 * 1024 + 200);
        ASSERT_TRUE(dir_bytes(dir) >= max - 64 * 1024 - 1024);
        l = read_file(dir, spool_entry_get_id(a), ".log", &len);
        ASSERT_TRUE(ends_with(l, len, "yyy\n" MARKER));  /* the cut part line gets its own '\n' */
        ASSERT_EQ((uint64_t) len, spool_entry_get_size(a));

        /* A later run: its first bytes fit (the reserve), beyond SPOOL_FIRST_BYTES (16 KiB) not. */
        ASSERT_OK(spool_entry_create(dir, &meta, &b));
        ASSERT_EQ(spool_entry_append(b, "bob's first line\n", 17), 0);
        ASSERT_EQ(spool_entry_append(b, chunk, 10 * 1024), 0);
        ASSERT_EQ(spool_entry_append(b, chunk, 10 * 1024), 1);
        free(l);
        l = read_file(dir, spool_entry_get_id(b), ".log", &len);
        ASSERT_EQ(len, 16u * 1024 + 1 + strlen(MARKER));
        ASSERT_TRUE(memcmp(l, "bob's first line\n", 17) == 0);
        ASSERT_TRUE(ends_with(l, len, "y\n" MARKER));
        ASSERT_TRUE(dir_bytes(dir) <= max);

        /* The uploader deleted the stranger: the count does not know yet, a re-scan (at most once a
         * second) does. */
        ASSERT_EQ(unlink(path), 0);
        sleep(1);
        ASSERT_OK(spool_entry_create(dir, &meta, &c));
        ASSERT_EQ(spool_entry_append(c, chunk, 20 * 1024), 0);
        ASSERT_EQ(spool_entry_append(c, chunk, 60 * 1024), 0);
        ASSERT_TRUE(dir_bytes(dir) <= max);

        /* A lowered bound applies at once; an entry that cannot get its .meta is refused. */
        max = dir_bytes(dir);
        ASSERT_ERROR(spool_entry_create(dir, &meta, &d), EDQUOT);
        ASSERT_EQ(spool_entry_append(c, "x\n", 2), 1);

        ASSERT_OK(spool_entry_finish(a));
        ASSERT_OK(spool_entry_finish(b));
        ASSERT_OK(spool_entry_finish(c));
        spool_set_max_size(NULL);
}

static void test_sync_worker(const char *dir) {
        SpoolMeta meta = { .key = "k", .session_id = "s", .event = "SessionStart", .context = "system",
                           .user = "root" };
        char ids[50][SPOOL_RUN_ID_LEN + 1];

        ASSERT_OK(spool_sync_start());
        ASSERT_OK(spool_sync_start());  /* once */
        for (int i = 0; i < 50; i++) {
                _cleanup_(spool_entry_freep) SpoolEntry *e = NULL;

                ASSERT_OK(spool_entry_create(dir, &meta, &e));
                ASSERT_OK(spool_entry_append(e, "line\n", 5));
                ASSERT_OK(spool_entry_finish(e));
                ASSERT_OK(spool_entry_finish(e));
                memcpy(ids[i], spool_entry_get_id(e), sizeof ids[i]);
                /* freed right away: the worker has its own copy */
        }
        spool_sync_stop();
        spool_sync_stop();

        for (int i = 0; i < 50; i++) {
                _cleanup_(freep) char *m = read_file(dir, ids[i], ".meta", NULL), *l = NULL;
                size_t len;

                ASSERT_TRUE(m);
                ASSERT_TRUE(strstr(m, "\nSTATE=finished\n"));
                l = read_file(dir, ids[i], ".log", &len);
                ASSERT_EQ(len, 5u);
        }
        ASSERT_EQ(count_entries(dir), 100u);
}

int main(void) {
        char tmpl[] = "/tmp/test-output-spool-XXXXXX", sub[256], sub2[256], sub3[256], sub4[256], sub5[256],
             cmd[512];

        ASSERT_TRUE(mkdtemp(tmpl));
        /* The spool directory itself is created (with its parent) when missing. */
        snprintf(sub, sizeof sub, "%s/state/spool", tmpl);
        snprintf(sub2, sizeof sub2, "%s/state/spool2", tmpl);
        snprintf(sub3, sizeof sub3, "%s/state/spool3", tmpl);
        snprintf(sub4, sizeof sub4, "%s/state/spool4", tmpl);
        snprintf(sub5, sizeof sub5, "%s/state/spool5", tmpl);

        fprintf(stderr, "== %s\n", "test_entry");
        test_entry(sub);
        fprintf(stderr, "== %s\n", "test_recover");
        test_recover(sub2);
        fprintf(stderr, "== %s\n", "test_meta_before_log");
        test_meta_before_log(sub3);
        fprintf(stderr, "== %s\n", "test_meta_write_invalid");
        test_meta_write_invalid(sub2);
        fprintf(stderr, "== %s\n", "test_bound");
        test_bound(sub4);
        fprintf(stderr, "== %s\n", "test_sync_worker");
        test_sync_worker(sub5);

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
        ASSERT_EQ(system(cmd), 0);
        return 0;
}
