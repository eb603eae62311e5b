/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Write-then-read test of the spool format (lib/spool-format.h): entries written by the daemon's
 * writer (daemon/output.c) are read back with the uploader's reader (upload/spool.c and the
 * format's parser) — fields, states and logs as written, the largest key and .meta the format
 * allows, what the writer refuses, names that are no entry, a .meta cut at every length, files of
 * the wrong type at entry names, and the leftovers of a crashed daemon (running entries, temporary
 * files).
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "output.h"
#include "spool.h"
#include "tests.h"

static int dir_open(const char *dir) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        return fd;
}

static size_t dir_count(int dir_fd) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;

        d = fdopendir(fcntl(dir_fd, F_DUPFD_CLOEXEC, 3));
        ASSERT_TRUE(d);
        rewinddir(d);   /* the duplicate shares its position with dir_fd */
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

static char *file_read(int dir_fd, const char *run_id, SpoolFileKind kind, size_t *ret_len) {
        _cleanup_(closep) int fd = -EBADF;
        char name[SPOOL_NAME_SIZE], *text = NULL;

        ASSERT_OK(spool_name_format(name, run_id, kind));
        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(read_fd_bounded(fd, 1024 * 1024, &text, ret_len));
        return text;
}

static void file_write(int dir_fd, const char *name, const char *content, size_t len) {
        _cleanup_(closep) int fd = -EBADF;

        fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(loop_write(fd, content, len));
}

static void file_truncate(int dir_fd, const char *name, size_t len) {
        _cleanup_(closep) int fd = -EBADF;

        fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(ftruncate(fd, (off_t) len), 0);
}

static void assert_meta_eq(const SpoolMeta *a, const SpoolMeta *b) {
        ASSERT_STREQ(a->key, b->key);
        ASSERT_EQ(a->finished, b->finished);
        ASSERT_STREQ(a->session_id, b->session_id);
        ASSERT_STREQ(a->event, b->event);
        ASSERT_STREQ(a->context, b->context);
        ASSERT_STREQ(a->user, b->user);
}

/* Entries in every state, read back by the uploader's scan and parser as the daemon wrote them. */
static void test_roundtrip(const char *dir) {
        SpoolMeta m1 = { .key = "stack/fleet/custom/abc/sess-1/SessionScriptsLogs/SessionStart/user.log",
                         .session_id = "sess-1", .event = "SessionStart", .context = "user",
                         .user = "alice" },
                  m2 = { .key = "s/f/custom/abc/sess-2/SessionScriptsLogs/SessionTermination/system.log",
                         .session_id = "sess-2", .event = "SessionTermination", .context = "system",
                         .user = "bob@example.com" };
        _cleanup_(spool_entry_freep) SpoolEntry *a = NULL, *b = NULL;
        _cleanup_(freep) SpoolScanItem *items = NULL;
        _cleanup_(freep) char *log = NULL;
        _cleanup_(closep) int dir_fd = -EBADF;
        size_t n, len;

        ASSERT_OK(spool_entry_create(dir, &m1, &a));
        ASSERT_OK(spool_entry_create(dir, &m2, &b));
        dir_fd = dir_open(dir);
        ASSERT_OK(spool_entry_append(a, "line 1\n\0binary\r\n", 16));
        ASSERT_OK(spool_entry_append(b, "partial", 7));
        ASSERT_OK(spool_entry_finish(b));

        ASSERT_OK(spool_scan(dir_fd, &items, &n));
        ASSERT_EQ(n, 2u);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(spool_meta_done) SpoolMeta got = {};
                bool is_a = streq(items[i].run_id, spool_entry_get_id(a));

                ASSERT_TRUE(is_a || streq(items[i].run_id, spool_entry_get_id(b)));
                ASSERT_TRUE(items[i].has_log);
                ASSERT_EQ(items[i].log_size, is_a ? 16u : 7u);

                ASSERT_OK(spool_meta_load(dir_fd, items[i].run_id, &got));
                if (is_a)
                        assert_meta_eq(&got, &m1);
                else {
                        m2.finished = true;
                        assert_meta_eq(&got, &m2);
                }
        }

        log = file_read(dir_fd, spool_entry_get_id(a), SPOOL_FILE_LOG, &len);
        ASSERT_EQ(len, 16u);
        ASSERT_TRUE(memcmp(log, "line 1\n\0binary\r\n", 16) == 0);

        /* Finished later: the reader sees the new state, the same fields. */
        ASSERT_OK(spool_entry_finish(a));
        _cleanup_(spool_meta_done) SpoolMeta got = {};
        ASSERT_OK(spool_meta_load(dir_fd, spool_entry_get_id(a), &got));
        m1.finished = true;
        assert_meta_eq(&got, &m1);

        /* No orphans among what the daemon wrote, no temporary file left. */
        free(items);
        items = NULL;
        ASSERT_OK(spool_scan_orphan_logs(dir_fd, UINT64_MAX, 0, &items, &n));
        ASSERT_EQ(n, 0u);
        ASSERT_EQ(dir_count(dir_fd), 4u);
}

/* Values that would break the line format are written so that the reader gets them harmlessly;
 * missing values come back empty. */
static void test_hostile_values(const char *dir) {
        SpoolMeta m = { .key = "k/x", .session_id = "s\nKEY=/etc", .user = "alice\nSTATE=finished\r",
                        .context = "a\tb\x7f" };
        _cleanup_(spool_entry_freep) SpoolEntry *e = NULL;
        _cleanup_(spool_meta_done) SpoolMeta got = {};
        _cleanup_(closep) int dir_fd = -EBADF;

        ASSERT_OK(spool_entry_create(dir, &m, &e));
        dir_fd = dir_open(dir);
        ASSERT_OK(spool_meta_load(dir_fd, spool_entry_get_id(e), &got));
        ASSERT_STREQ(got.key, "k/x");
        ASSERT_TRUE(!got.finished);
        ASSERT_STREQ(got.session_id, "s_KEY=/etc");
        ASSERT_STREQ(got.user, "alice_STATE=finished_");
        ASSERT_STREQ(got.context, "a_b_");
        ASSERT_STREQ(got.event, "");
}

/* The largest key and the largest .meta the format allows go through; one byte more is refused by
 * the writer, with nothing left in the spool, rather than written for the reader to refuse. */
static void test_max_sizes(const char *dir) {
        static const char fixed[] = "KEY=k\nSTATE=" SESSION_SCRIPTS_SPOOL_STATE_FINISHED "\n"
                                    "SESSION_ID=\nEVENT=\nCONTEXT=\nUSER=\n";
        _cleanup_(freep) char *key = NULL, *user = NULL;
        _cleanup_(closep) int dir_fd = -EBADF;
        size_t user_max = SPOOL_META_SIZE_MAX - (sizeof fixed - 1);
        SpoolEntry *e = NULL;

        ASSERT_TRUE(mkdir(dir, 0770) == 0);
        dir_fd = dir_open(dir);

        key = malloc(SPOOL_KEY_MAX + 2);
        ASSERT_TRUE(key);
        memset(key, 'k', SPOOL_KEY_MAX + 1);
        key[SPOOL_KEY_MAX] = 0;

        {
                _cleanup_(spool_meta_done) SpoolMeta got = {};
                SpoolMeta m = { .key = key };

                ASSERT_OK(spool_entry_create(dir, &m, &e));
                ASSERT_OK(spool_entry_finish(e));
                ASSERT_OK(spool_meta_load(dir_fd, spool_entry_get_id(e), &got));
                ASSERT_STREQ(got.key, key);
                ASSERT_TRUE(got.finished);
                e = spool_entry_free(e);
        }

        key[SPOOL_KEY_MAX] = 'k';
        key[SPOOL_KEY_MAX + 1] = 0;
        ASSERT_ERROR(spool_entry_create(dir, &(SpoolMeta) { .key = key }, &e), EINVAL);
        ASSERT_ERROR(spool_entry_create(dir, &(SpoolMeta) { .key = "../up" }, &e), EINVAL);
        ASSERT_ERROR(spool_entry_create(dir, &(SpoolMeta) {}, &e), EINVAL);
        ASSERT_EQ(dir_count(dir_fd), 2u);

        /* A .meta of exactly SPOOL_META_SIZE_MAX bytes once finished. */
        user = malloc(user_max + 2);
        ASSERT_TRUE(user);
        memset(user, 'u', user_max + 1);
        user[user_max] = 0;
        {
                _cleanup_(spool_meta_done) SpoolMeta got = {};
                _cleanup_(freep) char *text = NULL;
                SpoolMeta m = { .key = "k", .user = user };
                size_t len;

                ASSERT_OK(spool_entry_create(dir, &m, &e));
                ASSERT_OK(spool_meta_load(dir_fd, spool_entry_get_id(e), &got));
                ASSERT_STREQ(got.user, user);
                ASSERT_OK(spool_entry_finish(e));
                text = file_read(dir_fd, spool_entry_get_id(e), SPOOL_FILE_META, &len);
                ASSERT_EQ(len, (size_t) SPOOL_META_SIZE_MAX);
                spool_meta_done(&got);
                ASSERT_OK(spool_meta_load(dir_fd, spool_entry_get_id(e), &got));
                ASSERT_TRUE(got.finished);
                ASSERT_STREQ(got.user, user);
                e = spool_entry_free(e);
        }

        user[user_max] = 'u';
        user[user_max + 1] = 0;
        ASSERT_ERROR(spool_entry_create(dir, &(SpoolMeta) { .key = "k", .user = user }, &e), EFBIG);
        ASSERT_EQ(dir_count(dir_fd), 4u);

        /* The reader's bound: one byte over is refused, whoever wrote it. */
        char name[SPOOL_NAME_SIZE];
        _cleanup_(freep) char *big = malloc(SPOOL_META_SIZE_MAX + 1);
        SpoolMeta got = {};

        ASSERT_TRUE(big);
        memset(big, '#', SPOOL_META_SIZE_MAX + 1);
        memcpy(big, "KEY=k\nSTATE=running\n", 20);
        ASSERT_OK(spool_name_format(name, "0000000000000000000000000000000a", SPOOL_FILE_META));
        file_write(dir_fd, name, big, SPOOL_META_SIZE_MAX + 1);
        ASSERT_ERROR(spool_meta_load(dir_fd, "0000000000000000000000000000000a", &got), EFBIG);
        file_write(dir_fd, name, big, SPOOL_META_SIZE_MAX);
        ASSERT_OK(spool_meta_load(dir_fd, "0000000000000000000000000000000a", &got));
        spool_meta_done(&got);

        /* The marker line fits its buffer for any bound, and is a line of its own. */
        char marker[SPOOL_MARKER_SIZE];
        size_t k = spool_marker_format(marker, UINT64_MAX, true);
        ASSERT_EQ(k, strlen(marker));
        ASSERT_TRUE(marker[0] == '\n' && marker[k - 1] == '\n');
        ASSERT_TRUE(strstr(marker, SPOOL_MARKER_TEXT ": the log spool is full "
                                   "(MaxSpoolSize=18446744073709551615)\n"));
}

/* Names: what the writer produces, the reader accepts, and nothing else. */
static void test_names(void) {
        char id[SPOOL_RUN_ID_LEN + 1], id2[SPOOL_RUN_ID_LEN + 1], name[SPOOL_NAME_SIZE];
        SpoolFileKind kind;

        spool_run_id_generate(id);
        spool_run_id_generate(id2);
        ASSERT_TRUE(spool_run_id_is_valid(id));
        ASSERT_TRUE(!streq(id, id2));

        ASSERT_OK(spool_name_format(name, id, SPOOL_FILE_LOG));
        ASSERT_OK(spool_name_parse(name, id2, &kind));
        ASSERT_STREQ(id2, id);
        ASSERT_EQ(kind, SPOOL_FILE_LOG);
        ASSERT_OK(spool_name_format(name, id, SPOOL_FILE_META));
        ASSERT_OK(spool_name_parse(name, id2, &kind));
        ASSERT_EQ(kind, SPOOL_FILE_META);
        ASSERT_TRUE(!spool_name_is_meta_temp(name));

        /* The temporary name is the longest, and no entry file. */
        ASSERT_OK(spool_name_format(name, id, SPOOL_FILE_META_TEMP));
        ASSERT_EQ(strlen(name), SPOOL_NAME_SIZE - 1);
        ASSERT_TRUE(spool_name_is_meta_temp(name));
        ASSERT_ERROR(spool_name_parse(name, id2, &kind), EINVAL);

        static const char *const bad[] = {
                "", "0123456789abcdef0123456789ABCDEF", "0123456789abcdef0123456789abcde",
                "0123456789abcdef0123456789abcdef0", "../3456789abcdef0123456789abcdef",
                "0123456789abcdef 123456789abcdef",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char s[64];

                ASSERT_TRUE(!spool_run_id_is_valid(bad[i]));
                ASSERT_ERROR(spool_name_format(name, bad[i], SPOOL_FILE_META), EINVAL);
                snprintf(s, sizeof s, "%s.meta", bad[i]);
                ASSERT_ERROR(spool_name_parse(s, id2, &kind), EINVAL);
                snprintf(s, sizeof s, ".%s.meta.tmp", bad[i]);
                ASSERT_TRUE(!spool_name_is_meta_temp(s));
        }
        ASSERT_TRUE(!spool_run_id_is_valid(NULL));
        ASSERT_TRUE(!spool_name_is_meta_temp(NULL));
        ASSERT_TRUE(!spool_name_is_meta_temp("." "0123456789abcdef0123456789abcdef" ".meta.tmp~"));
        ASSERT_TRUE(!spool_name_is_meta_temp("0123456789abcdef0123456789abcdef" ".meta.tmp"));
}

/* A .meta cut at any length (what a writer without the atomic rename would leave) is either
 * refused or, once the STATE= line is complete, read with the full key: never misread. */
static void test_truncated_meta(const char *dir) {
        SpoolMeta m = { .key = "stack/fleet/custom/abc/sess/SessionScriptsLogs/SessionStart/user.log",
                        .session_id = "sess", .event = "SessionStart", .context = "user", .user = "alice" };
        _cleanup_(spool_entry_freep) SpoolEntry *e = NULL;
        _cleanup_(freep) char *text = NULL;
        _cleanup_(closep) int dir_fd = -EBADF;
        char name[SPOOL_NAME_SIZE];
        size_t len, state_end;

        ASSERT_OK(spool_entry_create(dir, &m, &e));
        dir_fd = dir_open(dir);
        text = file_read(dir_fd, spool_entry_get_id(e), SPOOL_FILE_META, &len);
        state_end = (size_t) (strstr(text, "STATE=running\n") - text) + strlen("STATE=running");

        for (size_t l = 0; l <= len; l++) {
                _cleanup_(spool_meta_done) SpoolMeta got = {};
                int r = spool_meta_parse(text, l, &got);

                if (l < state_end)
                        ASSERT_ERROR(r, EBADMSG);
                else {
                        ASSERT_OK(r);
                        ASSERT_STREQ(got.key, m.key);
                        ASSERT_TRUE(!got.finished);
                }
        }

        /* On disk: the reader refuses it, the daemon's recovery leaves it as it is, the uploader's
         * scan still lists the entry (it is kept, not uploaded). */
        _cleanup_(freep) SpoolScanItem *items = NULL;
        SpoolMeta got = {};
        size_t n;

        ASSERT_OK(spool_name_format(name, spool_entry_get_id(e), SPOOL_FILE_META));
        file_truncate(dir_fd, name, state_end - 1);
        ASSERT_ERROR(spool_meta_load(dir_fd, spool_entry_get_id(e), &got), EBADMSG);
        ASSERT_EQ(spool_recover(dir), 0);
        ASSERT_ERROR(spool_meta_load(dir_fd, spool_entry_get_id(e), &got), EBADMSG);
        ASSERT_OK(spool_scan(dir_fd, &items, &n));
        ASSERT_EQ(n, 1u);
        ASSERT_STREQ(items[0].run_id, spool_entry_get_id(e));
}

/* Files of the wrong type at entry names are never followed, read or waited on. */
static void test_wrong_types(const char *dir) {
        static const char fifo_id[] = "0000000000000000000000000000000f",
                          dir_id[] = "0000000000000000000000000000000d",
                          link_id[] = "0000000000000000000000000000000c";
        _cleanup_(freep) SpoolScanItem *items = NULL;
        _cleanup_(closep) int dir_fd = -EBADF;
        char name[SPOOL_NAME_SIZE];
        SpoolMeta got = {};
        size_t n;

        ASSERT_TRUE(mkdir(dir, 0770) == 0);
        dir_fd = dir_open(dir);

        ASSERT_OK(spool_name_format(name, fifo_id, SPOOL_FILE_META));
        ASSERT_EQ(mkfifoat(dir_fd, name, 0600), 0);
        ASSERT_ERROR(spool_meta_load(dir_fd, fifo_id, &got), EBADFD);
        ASSERT_OK(spool_name_format(name, dir_id, SPOOL_FILE_META));
        ASSERT_EQ(mkdirat(dir_fd, name, 0700), 0);
        ASSERT_ERROR(spool_meta_load(dir_fd, dir_id, &got), EISDIR);
        ASSERT_OK(spool_name_format(name, link_id, SPOOL_FILE_META));
        ASSERT_EQ(symlinkat("/etc/passwd", dir_fd, name), 0);
        ASSERT_ERROR(spool_meta_load(dir_fd, link_id, &got), ELOOP);
        ASSERT_ERROR(spool_meta_load(dir_fd, "../../../etc/passwd", &got), EINVAL);

        ASSERT_OK(spool_scan(dir_fd, &items, &n));
        ASSERT_EQ(n, 0u);
        ASSERT_EQ(spool_recover(dir), 0);
}

/* What a crashed daemon leaves: an entry never finished, a temporary file of an interrupted .meta
 * write (of that entry and of none). The reader sees the entry running and ignores the temporary
 * files; after the next daemon's recovery it sees it finished, fields and log intact, and the
 * temporary files are gone. */
static void test_crash_leftovers(const char *dir) {
        SpoolMeta m = { .key = "k/crash", .session_id = "s", .event = "SessionStart", .context = "system",
                        .user = "root" };
        _cleanup_(freep) SpoolScanItem *items = NULL;
        _cleanup_(freep) char *log = NULL;
        _cleanup_(closep) int dir_fd = -EBADF;
        char id[SPOOL_RUN_ID_LEN + 1], tmp[SPOOL_NAME_SIZE], tmp2[SPOOL_NAME_SIZE];
        SpoolEntry *e = NULL;
        SpoolMeta got = {};
        size_t n, len;

        ASSERT_OK(spool_entry_create(dir, &m, &e));
        ASSERT_OK(spool_entry_append(e, "before the crash\n", 17));
        strcpy(id, spool_entry_get_id(e));
        e = spool_entry_free(e);

        dir_fd = dir_open(dir);
        ASSERT_OK(spool_name_format(tmp, id, SPOOL_FILE_META_TEMP));
        file_write(dir_fd, tmp, "KEY=k/crash\nSTATE=fini", 22);
        ASSERT_OK(spool_name_format(tmp2, "0123456789abcdef0123456789abcdef", SPOOL_FILE_META_TEMP));
        file_write(dir_fd, tmp2, "", 0);

        ASSERT_OK(spool_scan(dir_fd, &items, &n));
        ASSERT_EQ(n, 1u);
        ASSERT_STREQ(items[0].run_id, id);
        ASSERT_OK(spool_meta_load(dir_fd, id, &got));
        ASSERT_TRUE(!got.finished);
        spool_meta_done(&got);

        ASSERT_EQ(spool_recover(dir), 1);
        ASSERT_TRUE(faccessat(dir_fd, tmp, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        ASSERT_TRUE(faccessat(dir_fd, tmp2, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        ASSERT_OK(spool_meta_load(dir_fd, id, &got));
        m.finished = true;
        assert_meta_eq(&got, &m);
        spool_meta_done(&got);
        log = file_read(dir_fd, id, SPOOL_FILE_LOG, &len);
        ASSERT_EQ(len, 17u);
        ASSERT_EQ(dir_count(dir_fd), 2u);
        ASSERT_EQ(spool_recover(dir), 0);
}

int main(void) {
        char tmpl[] = "/tmp/test-spool-roundtrip-XXXXXX", sub[256], cmd[512];

        ASSERT_TRUE(mkdtemp(tmpl));

        TEST_RUN(test_names);
#define RUN_IN(fn)                                                      \
        do {                                                            \
                snprintf(sub, sizeof sub, "%s/%s", tmpl, #fn);          \
                fprintf(stderr, "== %s\n", #fn);                        \
                fn(sub);                                                \
        } while (0)
        RUN_IN(test_roundtrip);
        RUN_IN(test_hostile_values);
        RUN_IN(test_max_sizes);
        RUN_IN(test_truncated_meta);
        RUN_IN(test_wrong_types);
        RUN_IN(test_crash_leftovers);
#undef RUN_IN

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
        ASSERT_EQ(system(cmd), 0);
        return 0;
}
