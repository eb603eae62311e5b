/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of script_config_check_files() (lib/config-check-files.c): the file-security findings of
 * docs/behaviour.md §2 on real files — regular file, owned by root, not group/other-writable, the
 * same for every directory above (also directories reached through a symlink; root's sticky
 * directories like /tmp are fine), execute bit, symlinked executables refused naming their target,
 * the 100 MB warning; and that every finding about an executable names it and points at its
 * "filename" value. Needs root (to own files as root and as others): skipped with exit status 77
 * otherwise.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "script-config.h"
#include "tests.h"

static char base[64];   /* root-owned 0755 directory of this test run */

static char *pathf(const char *name) {
        char *p = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s", base, name) > 0);
        return p;
}

static void make_file(const char *name, mode_t mode, uid_t uid, const char *content) {
        _cleanup_(freep) char *p = pathf(name);
        _cleanup_(closep) int fd = -EBADF;

        (void) unlink(p);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ASSERT_OK(fchown(fd, uid, 0));
        ASSERT_OK(fchmod(fd, mode));      /* after chown, which may clear bits */
}

static void make_dir(const char *name, mode_t mode, uid_t uid) {
        _cleanup_(freep) char *p = pathf(name);

        ASSERT_OK(mkdir(p, 0700));
        ASSERT_OK(chown(p, uid, 0));
        ASSERT_OK(chmod(p, mode));
}

static void dump(const FindingList *f) {
        for (size_t i = 0; i < f->n; i++)
                fprintf(stderr, "  %s: %s: %s [%s]\n", f->items[i].file ?: "-",
                        f->items[i].severity == FINDING_ERROR ? "error" : "warning", f->items[i].message,
                        f->items[i].json_path);
}

/* The files of the last check() and the columns of their "filename" values (on lines 2 and 3). */
static const char *checked_files[2];
static unsigned checked_columns[2];

/* Builds a config whose SessionStart runs `system_file` (system) and `user_file` (user; may be
 * NULL), checks it, and returns the findings. config.json itself is not checked here. */
static void check(const char *system_file, const char *user_file, FindingList *ret) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        _cleanup_(finding_list_done) FindingList pf = {};
        _cleanup_(freep) char *text = NULL;

        /* The system entry is on line 2, the user entry on line 3. */
        ASSERT_TRUE(asprintf(&text,
                             "{\"SessionStart\": {\"executables\": [\n"
                             "{\"context\": \"system\", \"filename\": \"%s\"}%s%s%s]}}",
                             system_file, user_file ? ",\n{\"context\": \"user\", \"filename\": \"" : "",
                             user_file ?: "", user_file ? "\"}" : "") > 0);
        /* Column of the value's opening quote: 1 + the length of `{"context": "…", "filename": `. */
        checked_columns[0] = (unsigned) strlen("{\"context\": \"system\", \"filename\": ") + 1;
        checked_columns[1] = (unsigned) strlen("{\"context\": \"user\", \"filename\": ") + 1;
        ASSERT_OK(script_config_parse(text, strlen(text), &c, &pf));
        checked_files[0] = system_file;
        checked_files[1] = user_file;
        ASSERT_OK(script_config_check_files(c, NULL, ret));
        dump(ret);
}

/*
 * Asserts a finding of that severity about `file` containing `fragment`. A finding about one of the
 * executables of check() must name it in the message and carry the position of its "filename";
 * one about anything else (config.json) has no position.
 */
static void expect(const FindingList *f, FindingSeverity sev, const char *file, const char *fragment) {
        unsigned line = 0, column = 0;

        for (size_t k = 0; k < ELEMENTSOF(checked_files); k++)
                if (checked_files[k] && strcmp(checked_files[k], file) == 0) {
                        line = 2 + (unsigned) k;
                        column = checked_columns[k];
                }

        for (size_t i = 0; i < f->n; i++) {
                const Finding *x = &f->items[i];

                if (x->severity == sev && x->file && strcmp(x->file, file) == 0 &&
                    strstr(x->message, fragment)) {
                        ASSERT_EQ(x->line, line);
                        ASSERT_EQ(x->column, column);
                        if (line > 0)
                                ASSERT_TRUE(strstr(x->message, file));
                        return;
                }
        }
        fprintf(stderr, "expected %s about %s containing \"%s\"\n",
                sev == FINDING_ERROR ? "error" : "warning", file, fragment);
        abort();
}

static void test_good(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *sys = pathf("scripts/good-system.sh"), *usr = pathf("scripts/good-user.sh"),
                              *cfg = pathf("scripts/config.json");

        make_file("scripts/good-system.sh", 0700, 0, "#!/bin/sh\nexit 0\n");
        make_file("scripts/good-user.sh", 0755, 0, "#!/bin/sh\nexit 0\n");
        make_file("scripts/config.json", 0644, 0, "{}");
        check(sys, usr, &f);
        ASSERT_EQ(f.n, 0);

        ASSERT_OK(script_config_check_files(NULL, cfg, &f));
        ASSERT_EQ(f.n, 0);
}

static void test_json_path(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *sys = pathf("scripts/good-system.sh"), *usr = pathf("scripts/missing.sh");

        check(sys, usr, &f);
        ASSERT_EQ(f.n_errors, 1);
        expect(&f, FINDING_ERROR, usr, "does not exist");
        ASSERT_STREQ(f.items[0].json_path, "SessionStart.executables[1].filename");
        ASSERT_EQ(f.items[0].line, 3);
        ASSERT_EQ(f.items[0].column, 33);
        ASSERT_TRUE(strstr(f.items[0].message, "The executable ") && strstr(f.items[0].message, usr));
}

static void test_file_problems(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *noexec = pathf("scripts/noexec.sh"), *gw = pathf("scripts/group-writable.sh"),
                              *ow = pathf("scripts/other-writable.sh"), *nobody = pathf("scripts/nobody.sh"),
                              *userx = pathf("scripts/user-no-ox.sh"), *dir = pathf("scripts"),
                              *fifo = pathf("scripts/fifo");

        make_file("scripts/noexec.sh", 0644, 0, "#!/bin/sh\n");
        make_file("scripts/group-writable.sh", 0775, 0, "#!/bin/sh\n");
        make_file("scripts/other-writable.sh", 0757, 0, "#!/bin/sh\n");
        make_file("scripts/nobody.sh", 0755, 65534, "#!/bin/sh\n");
        make_file("scripts/user-no-ox.sh", 0750, 0, "#!/bin/sh\n");
        ASSERT_OK(mkfifo(fifo, 0644));

        check(noexec, gw, &f);
        expect(&f, FINDING_ERROR, noexec, "no execute permission");
        expect(&f, FINDING_ERROR, gw, "writable by its group");
        ASSERT_EQ(f.n_errors, 2);
        finding_list_done(&f);

        check(ow, nobody, &f);
        expect(&f, FINDING_ERROR, ow, "writable by others");
        expect(&f, FINDING_ERROR, nobody, "owned by uid 65534");
        ASSERT_EQ(f.n_errors, 2);
        finding_list_done(&f);

        /* A user-context script that "others" cannot execute: a warning. */
        check(noexec, userx, &f);
        expect(&f, FINDING_WARNING, userx, "not executable by others");
        finding_list_done(&f);

        check(dir, fifo, &f);
        expect(&f, FINDING_ERROR, dir, "is a directory");
        expect(&f, FINDING_ERROR, fifo, "is a FIFO");
}

static void test_directories(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *a = pathf("open/a.sh"), *b = pathf("owned/b.sh"), *opendir = pathf("open"),
                              *owneddir = pathf("owned"), *c = pathf("via-link/c.sh");

        make_dir("open", 0777, 0);
        make_dir("owned", 0755, 65534);
        make_file("open/a.sh", 0755, 0, "#!/bin/sh\n");
        make_file("owned/b.sh", 0755, 0, "#!/bin/sh\n");
        make_file("open/c.sh", 0755, 0, "#!/bin/sh\n");

        check(a, b, &f);
        expect(&f, FINDING_ERROR, a, opendir);
        expect(&f, FINDING_ERROR, a, "writable by group and others");
        expect(&f, FINDING_ERROR, b, owneddir);
        expect(&f, FINDING_ERROR, b, "owned by uid 65534");
        finding_list_done(&f);

        /* A directory reached through a symlink is checked too (the symlink itself is fine: it sits
         * in a root-owned directory). */
        {
                _cleanup_(freep) char *link = pathf("via-link");
                ASSERT_OK(symlink("open", link));
        }
        check(c, NULL, &f);
        expect(&f, FINDING_ERROR, c, opendir);
        finding_list_done(&f);

        /* Files below /tmp (root's, mode 1777) are fine: the sticky bit keeps others from renaming
         * or replacing root's entries there. */
        {
                char tmp[] = "/tmp/test-check-files-XXXXXX";
                _cleanup_(freep) char *file = NULL, *cmd = NULL;
                _cleanup_(closep) int fd = -EBADF;
                struct stat st;

                ASSERT_OK(stat("/tmp", &st));
                ASSERT_TRUE(mkdtemp(tmp));
                ASSERT_TRUE(asprintf(&file, "%s/x.sh", tmp) > 0);
                fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
                ASSERT_TRUE(fd >= 0);
                check(file, NULL, &f);
                if (st.st_uid == 0 && (st.st_mode & S_ISVTX))
                        ASSERT_EQ(f.n, 0);
                finding_list_done(&f);
                ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", tmp) > 0);
                ASSERT_EQ(system(cmd), 0);
        }
}

/* A root-owned sticky directory may be writable by others; everything passed through in it must be
 * root's. Without the sticky bit, or owned by someone else, it is an error. */
static void test_sticky_directories(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *a = pathf("sticky/a.sh"), *b = pathf("sticky/sub/b.sh"),
                              *theirs = pathf("sticky/theirs.sh"), *nd = pathf("sticky-nobody"),
                              *c = pathf("sticky-nobody/c.sh"), *g = pathf("sticky-group/g.sh"),
                              *rootlink = pathf("sticky/rootlink"), *userlink = pathf("sticky/userlink"),
                              *via_root = pathf("sticky/rootlink/b.sh"),
                              *via_user = pathf("sticky/userlink/b.sh"),
                              *open_file = pathf("open-sticky-not/o.sh"), *od = pathf("open-sticky-not");

        make_dir("sticky", 01777, 0);
        make_dir("sticky/sub", 0755, 0);
        make_dir("sticky-nobody", 01777, 65534);
        make_dir("sticky-group", 01775, 0);
        make_dir("open-sticky-not", 0777, 0);
        make_file("sticky/a.sh", 0755, 0, "#!/bin/sh\n");
        make_file("sticky/sub/b.sh", 0755, 0, "#!/bin/sh\n");
        make_file("sticky/theirs.sh", 0755, 65534, "#!/bin/sh\n");
        make_file("sticky-nobody/c.sh", 0755, 0, "#!/bin/sh\n");
        make_file("sticky-group/g.sh", 0755, 0, "#!/bin/sh\n");
        make_file("open-sticky-not/o.sh", 0755, 0, "#!/bin/sh\n");

        check(a, b, &f);
        ASSERT_EQ(f.n, 0);
        finding_list_done(&f);

        check(g, NULL, &f);
        ASSERT_EQ(f.n, 0);
        finding_list_done(&f);

        /* A file of someone else's in the sticky directory: they can replace it. */
        check(theirs, NULL, &f);
        ASSERT_EQ(f.n_errors, 1);
        expect(&f, FINDING_ERROR, theirs, "owned by uid 65534");
        finding_list_done(&f);

        /* A sticky directory of someone else's: its owner can do anything in it. */
        check(c, open_file, &f);
        ASSERT_EQ(f.n_errors, 3);
        expect(&f, FINDING_ERROR, c, nd);
        expect(&f, FINDING_ERROR, c, "owned by uid 65534");
        expect(&f, FINDING_ERROR, c, "writable by group and others (mode 1777)");
        expect(&f, FINDING_ERROR, open_file, od);
        expect(&f, FINDING_ERROR, open_file, "writable by group and others (mode 0777)");
        finding_list_done(&f);

        /* A symbolic link in a sticky directory is followed if it is root's; someone else's could be
         * replaced by its owner. */
        ASSERT_OK(symlink("sub", rootlink));
        ASSERT_OK(symlink("sub", userlink));
        ASSERT_OK(lchown(userlink, 65534, 0));
        check(via_root, via_user, &f);
        ASSERT_EQ(f.n_errors, 1);
        expect(&f, FINDING_ERROR, via_user, "the symbolic link");
        expect(&f, FINDING_ERROR, via_user, "owned by uid 65534");
}

static void test_symlink_refused(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *link = pathf("scripts/link.sh"),
                              *dotdot = pathf("scripts/../scripts/good-user.sh");

        _cleanup_(freep) char *target = pathf("scripts/good-system.sh"), *fragment = NULL,
                              *dangling = pathf("scripts/dangling.sh");

        ASSERT_OK(symlink("good-system.sh", link));
        check(link, dotdot, &f);
        /* The message names where the link leads and what to do. */
        ASSERT_TRUE(asprintf(&fragment, "%s is a symbolic link to %s; name the real file", link,
                             target) > 0);
        expect(&f, FINDING_ERROR, link, fragment);
        ASSERT_EQ(f.n, 1);      /* the ".." path is resolved and fine */
        finding_list_done(&f);

        ASSERT_OK(symlink("nothing-here.sh", dangling));
        check(dangling, NULL, &f);
        expect(&f, FINDING_ERROR, dangling, "is a symbolic link to nothing-here.sh, which does not lead");
}

static void test_big_file(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *big = pathf("scripts/big.bin");
        _cleanup_(closep) int fd = -EBADF;

        make_file("scripts/big.bin", 0755, 0, "\x7f" "ELF");
        fd = open(big, O_WRONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        /* Sparse: 100 MB + 1 byte without writing them. */
        ASSERT_OK(ftruncate(fd, 100 * 1000 * 1000 + 1));
        check(big, NULL, &f);
        ASSERT_EQ(f.n_errors, 0);
        expect(&f, FINDING_WARNING, big, "100000001 bytes large, over 100 MB");
}

static void test_config_path(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(freep) char *cfg = pathf("open/config.json"), *missing = pathf("nothing/config.json");

        make_file("open/config.json", 0666, 65534, "{}");
        checked_files[0] = checked_files[1] = NULL;
        ASSERT_OK(script_config_check_files(NULL, cfg, &f));
        dump(&f);
        expect(&f, FINDING_ERROR, cfg, "The config file is owned by uid 65534");
        expect(&f, FINDING_ERROR, cfg, "The config file is writable by group and others");
        expect(&f, FINDING_ERROR, cfg, "The directory ");
        ASSERT_STREQ(f.items[0].json_path, "");
        finding_list_done(&f);

        ASSERT_OK(script_config_check_files(NULL, missing, &f));
        expect(&f, FINDING_ERROR, missing, "does not exist");
}

int main(void) {
        _cleanup_(freep) char *cmd = NULL;

        if (geteuid() != 0) {
                fprintf(stderr, "Not root: the ownership checks need root, skipping.\n");
                return 77;
        }

        /* /run is root-owned and not world-writable, unlike /tmp, so a clean chain exists. */
        strcpy(base, "/run/test-check-files-XXXXXX");
        ASSERT_TRUE(mkdtemp(base));
        ASSERT_OK(chmod(base, 0755));
        make_dir("scripts", 0755, 0);

        TEST_RUN(test_good);
        TEST_RUN(test_json_path);
        TEST_RUN(test_file_problems);
        TEST_RUN(test_directories);
        TEST_RUN(test_sticky_directories);
        TEST_RUN(test_symlink_refused);
        TEST_RUN(test_big_file);
        TEST_RUN(test_config_path);

        ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", base) > 0);
        ASSERT_EQ(system(cmd), 0);
        return 0;
}
