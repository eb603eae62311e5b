/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the uploader's side of the spool: which names are spool entries, .meta parsing
 * (what the daemon writes, and junk) and key validation (lib/spool-format.c); the start-up scan of
 * a real directory (ordering, .meta without .log, strangers), crash leftovers (.log without .meta)
 * and the eviction order under MaxSpoolSize (stuck backlog only: never in flight, never untried,
 * never the newest) of upload/spool.c. tests/unit/daemon/dataplane/test-spool-roundtrip.c reads
 * what the daemon's writer wrote.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "spool.h"
#include "tests.h"
#include "time-util.h"

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "ffffffffffffffffffffffffffffffff"
#define ID_C "00000000000000000000000000000001"

static void test_name_parse(void) {
        char id[SPOOL_RUN_ID_LEN + 1];
        SpoolFileKind kind;

        ASSERT_OK(spool_name_parse(ID_A ".log", id, &kind));
        ASSERT_STREQ(id, ID_A);
        ASSERT_EQ(kind, SPOOL_FILE_LOG);
        ASSERT_OK(spool_name_parse(ID_B ".meta", id, &kind));
        ASSERT_STREQ(id, ID_B);
        ASSERT_EQ(kind, SPOOL_FILE_META);

        ASSERT_ERROR(spool_name_parse("." ID_A ".meta.tmp", id, &kind), EINVAL);
        ASSERT_ERROR(spool_name_parse(ID_A ".meta.tmp", id, &kind), EINVAL);
        ASSERT_ERROR(spool_name_parse("0123456789ABCDEF0123456789abcdef.log", id, &kind), EINVAL);
        ASSERT_ERROR(spool_name_parse("0123456789abcdef0123456789abcde.log", id, &kind), EINVAL);
        ASSERT_ERROR(spool_name_parse(ID_A "0.log", id, &kind), EINVAL);
        ASSERT_ERROR(spool_name_parse(ID_A, id, &kind), EINVAL);
        ASSERT_ERROR(spool_name_parse(ID_A ".txt", id, &kind), EINVAL);
        ASSERT_ERROR(spool_name_parse("", id, &kind), EINVAL);
        ASSERT_ERROR(spool_name_parse(NULL, id, &kind), EINVAL);
}

static void test_key_valid(void) {
        ASSERT_TRUE(spool_key_is_valid("s/f/custom/a0bcb1da/sess/SessionScriptsLogs/SessionStart/user.log"));
        ASSERT_TRUE(spool_key_is_valid("x"));
        ASSERT_TRUE(spool_key_is_valid("with space/and+plus"));
        ASSERT_TRUE(!spool_key_is_valid(NULL));
        ASSERT_TRUE(!spool_key_is_valid(""));
        ASSERT_TRUE(!spool_key_is_valid("/abs"));
        ASSERT_TRUE(!spool_key_is_valid("a//b"));
        ASSERT_TRUE(!spool_key_is_valid("a/"));
        ASSERT_TRUE(!spool_key_is_valid("a/../b"));
        ASSERT_TRUE(!spool_key_is_valid("a/./b"));
        ASSERT_TRUE(!spool_key_is_valid(".."));
        ASSERT_TRUE(!spool_key_is_valid("a\nb"));
        ASSERT_TRUE(!spool_key_is_valid("a\x7f"));
        ASSERT_TRUE(spool_key_is_valid("a/..b/.c"));

        char big[SPOOL_KEY_MAX + 2];
        memset(big, 'k', sizeof big - 1);
        big[sizeof big - 1] = 0;
        ASSERT_TRUE(!spool_key_is_valid(big));
        big[SPOOL_KEY_MAX] = 0;
        ASSERT_TRUE(spool_key_is_valid(big));
}

static void test_meta_parse(void) {
        const char *daemon_meta =
                "KEY=stack/fleet/custom/a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13/"
                "s-1/SessionScriptsLogs/SessionStart/system.log\n"
                "STATE=running\n"
                "SESSION_ID=s-1\n"
                "EVENT=SessionStart\n"
                "CONTEXT=system\n"
                "USER=testuser@mydomain.com\n";
        SpoolMeta m = {};

        ASSERT_OK(spool_meta_parse(daemon_meta, strlen(daemon_meta), &m));
        ASSERT_TRUE(!m.finished);
        ASSERT_STREQ(m.key, "stack/fleet/custom/a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13/"
                            "s-1/SessionScriptsLogs/SessionStart/system.log");
        ASSERT_STREQ(m.session_id, "s-1");
        ASSERT_STREQ(m.event, "SessionStart");
        ASSERT_STREQ(m.context, "system");
        ASSERT_STREQ(m.user, "testuser@mydomain.com");
        spool_meta_done(&m);

        /* finished; CRLF; no trailing newline; unknown keys; last assignment wins; '=' in values */
        const char *t = "X=1\r\nSTATE=running\r\nKEY=a/b=c\r\nSTATE=finished\r\nno assignment here\nUSER=u=v";
        ASSERT_OK(spool_meta_parse(t, strlen(t), &m));
        ASSERT_TRUE(m.finished);
        ASSERT_STREQ(m.key, "a/b=c");
        ASSERT_STREQ(m.user, "u=v");
        ASSERT_TRUE(m.session_id == NULL);
        spool_meta_done(&m);

        /* Only the first len bytes count. */
        const char *cut = "KEY=k\nSTATE=finished\nKEY=/bad";
        ASSERT_OK(spool_meta_parse(cut, 21, &m));
        ASSERT_STREQ(m.key, "k");
        spool_meta_done(&m);
        ASSERT_ERROR(spool_meta_parse(cut, strlen(cut), &m), EBADMSG);

        ASSERT_ERROR(spool_meta_parse("STATE=finished\n", 15, &m), EBADMSG);             /* no KEY */
        ASSERT_ERROR(spool_meta_parse("KEY=k\n", 6, &m), EBADMSG);                       /* no STATE */
        ASSERT_ERROR(spool_meta_parse("KEY=k\nSTATE=done\n", 17, &m), EBADMSG);          /* bad STATE */
        ASSERT_ERROR(spool_meta_parse("KEY=../x\nSTATE=finished\n", 24, &m), EBADMSG);   /* bad KEY */
        ASSERT_ERROR(spool_meta_parse("KEY=\nSTATE=finished\n", 20, &m), EBADMSG);
        ASSERT_ERROR(spool_meta_parse("", 0, &m), EBADMSG);
        /* A NUL inside a line makes the line junk. */
        ASSERT_ERROR(spool_meta_parse("KEY=a\0b\nSTATE=finished\n", 23, &m), EBADMSG);

        char *huge = malloc(SPOOL_META_SIZE_MAX + 1);
        ASSERT_TRUE(huge);
        memset(huge, '#', SPOOL_META_SIZE_MAX + 1);
        ASSERT_ERROR(spool_meta_parse(huge, SPOOL_META_SIZE_MAX + 1, &m), EFBIG);
        free(huge);
}

static void write_file(int dir_fd, const char *name, const char *content, time_t mtime) {
        int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ASSERT_OK(futimens(fd, ts) < 0 ? -errno : 0);
        close(fd);
}

static void test_scan(void) {
        char dir[] = "/tmp/test-upload-spool-XXXXXX";
        _cleanup_(freep) SpoolScanItem *items = NULL;
        _cleanup_(closep) int dir_fd = -EBADF;
        SpoolMeta m = {};
        size_t n = 0;

        ASSERT_TRUE(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);

        /* B is older than A (by the .log's mtime); C has no .log (completed); strangers ignored. */
        write_file(dir_fd, ID_A ".log", "hello\n", 2000);
        write_file(dir_fd, ID_A ".meta", "KEY=a\nSTATE=running\n", 100);
        write_file(dir_fd, ID_B ".log", "0123456789", 1000);
        write_file(dir_fd, ID_B ".meta", "KEY=b\nSTATE=finished\n", 3000);
        write_file(dir_fd, ID_C ".meta", "KEY=c\nSTATE=finished\n", 500);
        write_file(dir_fd, "." ID_A ".meta.tmp", "KEY=z\nSTATE=finished\n", 10);
        write_file(dir_fd, "README", "x", 10);
        write_file(dir_fd, "00000000000000000000000000000002.log", "orphan log without meta", 10);
        ASSERT_OK(symlinkat("/etc/passwd", dir_fd, "00000000000000000000000000000003.meta") < 0 ? -errno : 0);

        ASSERT_OK(spool_scan(dir_fd, &items, &n));
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(items[0].run_id, ID_C);
        ASSERT_TRUE(!items[0].has_log);
        ASSERT_EQ(items[0].mtime_usec, 500ULL * 1000000ULL);
        ASSERT_STREQ(items[1].run_id, ID_B);
        ASSERT_TRUE(items[1].has_log);
        ASSERT_EQ(items[1].log_size, 10);
        ASSERT_EQ(items[1].meta_size, strlen("KEY=b\nSTATE=finished\n"));
        ASSERT_EQ(items[1].mtime_usec, 1000ULL * 1000000ULL);
        ASSERT_STREQ(items[2].run_id, ID_A);
        ASSERT_EQ(items[2].log_size, 6);

        ASSERT_OK(spool_meta_load(dir_fd, ID_B, &m));
        ASSERT_STREQ(m.key, "b");
        ASSERT_TRUE(m.finished);
        spool_meta_done(&m);
        ASSERT_ERROR(spool_meta_load(dir_fd, "00000000000000000000000000000009", &m), ENOENT);
        /* Symlinks are never followed. */
        ASSERT_ERROR(spool_meta_load(dir_fd, "00000000000000000000000000000003", &m), ELOOP);

        /* Empty directory. */
        free(items);
        items = NULL;
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
}

static void test_evictions(void) {
        SpoolUsage u[] = {
                { .size = 100, .mtime_usec = 50, .finished = true, .stuck = true },     /* 0 */
                { .size = 100, .mtime_usec = 10, .finished = false, .stuck = true },    /* 1: oldest, but running */
                { .size = 100, .mtime_usec = 30, .finished = true, .stuck = true },     /* 2 */
                { .size = 100, .mtime_usec = 30, .finished = true, .stuck = true },     /* 3: same age as 2 */
                { .size = 100, .mtime_usec = 90, .finished = true, .stuck = true },     /* 4: newest */
        };
        size_t picked[ELEMENTSOF(u)], n = 99;

        /* Under the limit: nothing. */
        ASSERT_EQ(spool_pick_evictions(u, ELEMENTSOF(u), 500, picked, &n), 500);
        ASSERT_EQ(n, 0);

        /* 150 over: the two oldest finished ones (2 then 3, ties by index), not the running one. */
        ASSERT_EQ(spool_pick_evictions(u, ELEMENTSOF(u), 350, picked, &n), 300);
        ASSERT_EQ(n, 2);
        ASSERT_EQ(picked[0], 2);
        ASSERT_EQ(picked[1], 3);

        /* Limit below what running entries hold: every finished one goes but the newest entry; the
         * rest stays. */
        ASSERT_EQ(spool_pick_evictions(u, ELEMENTSOF(u), 50, picked, &n), 200);
        ASSERT_EQ(n, 3);
        ASSERT_EQ(picked[0], 2);
        ASSERT_EQ(picked[1], 3);
        ASSERT_EQ(picked[2], 0);

        ASSERT_EQ(spool_pick_evictions(u, 0, 0, picked, &n), 0);
        ASSERT_EQ(n, 0);

        /* A single entry is the newest: never evicted, however big. */
        SpoolUsage one = { .size = 1000, .mtime_usec = 5, .finished = true, .stuck = true };
        ASSERT_EQ(spool_pick_evictions(&one, 1, 10, picked, &n), 1000);
        ASSERT_EQ(n, 0);
}

/* The bound is on the backlog: entries whose upload is under way, and entries that never had their
 * chance while S3 works, are not evicted, whatever their age. */
static void test_evictions_backlog_only(void) {
        SpoolUsage u[] = {
                { .size = 600, .mtime_usec = 10, .finished = true, .stuck = true, .in_flight = true }, /* 0: PUT under way */
                { .size = 600, .mtime_usec = 20, .finished = true, .stuck = false },                   /* 1: not tried yet */
                { .size = 600, .mtime_usec = 30, .finished = true, .stuck = true },                    /* 2: failed */
                { .size = 600, .mtime_usec = 40, .finished = true, .stuck = true },                    /* 3: failed */
                { .size = 600, .mtime_usec = 50, .finished = true, .stuck = true },                    /* 4: newest */
        };
        size_t picked[ELEMENTSOF(u)], n = 99;

        /* 3000 bytes against 1000: only 2 and 3 may go (0 in flight, 1 not tried, 4 newest). */
        ASSERT_EQ(spool_pick_evictions(u, ELEMENTSOF(u), 1000, picked, &n), 1800);
        ASSERT_EQ(n, 2);
        ASSERT_EQ(picked[0], 2);
        ASSERT_EQ(picked[1], 3);

        /* S3 healthy and nothing failed yet (the start-up catch-up): nothing is evicted at all. */
        for (size_t i = 0; i < ELEMENTSOF(u); i++) {
                u[i].stuck = false;
                u[i].in_flight = false;
        }
        ASSERT_EQ(spool_pick_evictions(u, ELEMENTSOF(u), 1000, picked, &n), 3000);
        ASSERT_EQ(n, 0);

        /* S3 unreachable: all stuck; oldest first, the newest stays. */
        for (size_t i = 0; i < ELEMENTSOF(u); i++)
                u[i].stuck = true;
        ASSERT_EQ(spool_pick_evictions(u, ELEMENTSOF(u), 1000, picked, &n), 600);
        ASSERT_EQ(n, 4);
        for (size_t i = 0; i < 4; i++)
                ASSERT_EQ(picked[i], i);
}

static void test_orphan_logs(void) {
        char dir[] = "/tmp/test-upload-spool-orphans-XXXXXX";
        _cleanup_(freep) SpoolScanItem *items = NULL;
        _cleanup_(closep) int dir_fd = -EBADF;
        const usec_t S = USEC_PER_SEC, now = 100000ULL * S;
        size_t n = 99;

        ASSERT_TRUE(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);

        /* A: .log alone, 20 min old → orphan. B: .log alone, 1 min old → may still get its .meta.
         * C: .log with .meta, old → an entry. D: .log alone, older than A → orphan, listed first.
         * E: .log alone from the future (clock set back) → left alone. A .meta alone and strangers
         * are not listed either. */
        write_file(dir_fd, ID_A ".log", "orphan a", (time_t) (now / S - 20 * 60));
        write_file(dir_fd, ID_B ".log", "young b", (time_t) (now / S - 60));
        write_file(dir_fd, ID_C ".log", "entry c", (time_t) (now / S - 3600));
        write_file(dir_fd, ID_C ".meta", "KEY=c\nSTATE=finished\n", (time_t) (now / S - 3600));
        write_file(dir_fd, "00000000000000000000000000000004.log", "orphan d!", (time_t) (now / S - 7200));
        write_file(dir_fd, "00000000000000000000000000000005.log", "future", (time_t) (now / S + 7200));
        write_file(dir_fd, "00000000000000000000000000000006.meta", "KEY=f\nSTATE=running\n", 10);
        write_file(dir_fd, "junk.log", "x", 10);
        ASSERT_OK(symlinkat("/etc/passwd", dir_fd, "00000000000000000000000000000007.log") < 0 ? -errno : 0);

        ASSERT_OK(spool_scan_orphan_logs(dir_fd, now, SPOOL_ORPHAN_AGE_USEC, &items, &n));
        ASSERT_EQ(n, 2);
        ASSERT_STREQ(items[0].run_id, "00000000000000000000000000000004");
        ASSERT_EQ(items[0].log_size, 9);
        ASSERT_TRUE(items[0].has_log);
        ASSERT_STREQ(items[1].run_id, ID_A);
        ASSERT_EQ(items[1].mtime_usec, now - 20 * 60 * S);
        free(items);
        items = NULL;

        /* With a shorter age the young one counts too; with a .meta appearing, A no longer does. */
        ASSERT_OK(spool_scan_orphan_logs(dir_fd, now, 30 * S, &items, &n));
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(items[2].run_id, ID_B);
        free(items);
        items = NULL;
        write_file(dir_fd, ID_A ".meta", "KEY=a\nSTATE=running\n", 10);
        ASSERT_OK(spool_scan_orphan_logs(dir_fd, now, SPOOL_ORPHAN_AGE_USEC, &items, &n));
        ASSERT_EQ(n, 1);
        ASSERT_STREQ(items[0].run_id, "00000000000000000000000000000004");

        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
}

int main(void) {
        TEST_RUN(test_name_parse);
        TEST_RUN(test_key_valid);
        TEST_RUN(test_meta_parse);
        TEST_RUN(test_scan);
        TEST_RUN(test_evictions);
        TEST_RUN(test_evictions_backlog_only);
        TEST_RUN(test_orphan_logs);
        return 0;
}
