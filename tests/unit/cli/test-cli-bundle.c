/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the Elastic-fleet bundle installer (cli/bundle.c) with zips crafted by libarchive's
 * writer: a valid bundle (modes, ownership, the atomic replacement of an older one), and every kind
 * of refusal (absolute path, "..", symlink, special file, oversize entry and total, too
 * many entries, missing or invalid config.json, an executable missing from the bundle, a symlinked
 * target, not a zip), each leaving the installed bundle intact and no temporary directory behind.
 * config.json naming an executable that climbs out of the bundle ("SessionScript/../../etc/shadow"
 * shape) or lies outside it is refused with the named file's mode unchanged; the resolver of those
 * names refuses "..", absolute paths and symlinks both with openat2() and with its fallback walk.
 *
 * (Hard links: the zip format cannot carry them — libarchive's writer stores such an entry as a
 * plain file — so there is no zip to test that check with; the installer refuses them anyway.)
 *
 * The file-security checks are off here: the scratch directory belongs to whoever runs the test
 * (not always root); the integration scenario runs them for real.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "cleanup.h"
#include "tests.h"

const char *program_name = "test-cli-bundle";

static char scratch[] = "/tmp/test-cli-bundle.XXXXXX";
static char target[300], parent[256];

typedef struct ZipEntry {
        const char *name;
        char type;              /* 'f' file, 'd' directory, 'l' symlink */
        unsigned perm;
        const char *content;    /* for 'f' (NULL: size bytes of 'x'); link target for 'l' */
        size_t size;
} ZipEntry;

static int make_zip(const char *path, const ZipEntry *e, size_t n) {
        struct archive *a = archive_write_new();
        int fd;

        ASSERT_TRUE(a);
        ASSERT_EQ(archive_write_set_format_zip(a), ARCHIVE_OK);
        ASSERT_EQ(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *x = archive_entry_new();
                size_t size = 0;

                archive_entry_set_pathname(x, e[i].name);
                archive_entry_set_perm(x, e[i].perm ?: 0644);
                switch (e[i].type) {
                case 'd':
                        archive_entry_set_filetype(x, AE_IFDIR);
                        break;
                case 'l':
                        archive_entry_set_filetype(x, AE_IFLNK);
                        archive_entry_set_symlink(x, e[i].content);
                        break;
                default:
                        archive_entry_set_filetype(x, AE_IFREG);
                        size = e[i].content ? strlen(e[i].content) : e[i].size;
                        archive_entry_set_size(x, (la_int64_t) size);
                }
                ASSERT_TRUE(archive_write_header(a, x) >= ARCHIVE_WARN);
                if (e[i].type == 'f' || e[i].type == 0) {
                        if (e[i].content)
                                ASSERT_EQ(archive_write_data(a, e[i].content, size), (long long) size);
                        else {
                                char *buf = malloc(size ?: 1);
                                ASSERT_TRUE(buf);
                                memset(buf, 'x', size);
                                ASSERT_EQ(archive_write_data(a, buf, size), (long long) size);
                                free(buf);
                        }
                }
                archive_entry_free(x);
        }
        ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);

        fd = open(path, O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        return fd;
}

/* A config.json whose one executable is filename, as written (absolute). */
static char *config_json_abs(const char *filename) {
        char *s;

        ASSERT_TRUE(asprintf(&s,
                             "{ \"SessionStart\": { \"executables\": [ { \"context\": \"system\", "
                             "\"filename\": \"%s\", \"arguments\": \"\" } ], \"waitingTime\": 10 } }",
                             filename) > 0);
        return s;
}

static char *config_json(const char *exe_rel) {
        _cleanup_(freep) char *f = NULL;

        ASSERT_TRUE(asprintf(&f, "%s/%s", target, exe_rel) > 0);
        return config_json_abs(f);
}

/*
 * libarchive's zip writer stores only files, directories and symlinks; a zip made elsewhere can
 * claim any file type in the Unix mode of its central directory (external attributes, high 16
 * bits). Rewrites that mode of entry name in the zip at path.
 */
static void zip_patch_mode(const char *path, const char *name, uint32_t mode) {
        FILE *f = fopen(path, "r+e");
        unsigned char *buf;
        long size;
        size_t nl = strlen(name);
        bool found = false;

        ASSERT_TRUE(f);
        ASSERT_EQ(fseek(f, 0, SEEK_END), 0);
        size = ftell(f);
        ASSERT_TRUE(size > 0);
        buf = malloc((size_t) size);
        ASSERT_TRUE(buf);
        rewind(f);
        ASSERT_EQ(fread(buf, 1, (size_t) size, f), (size_t) size);
        for (long i = 0; i + 46 + (long) nl <= size; i++) {
                uint32_t attr = mode << 16;
                /* Central directory file header: "PK\1\2", name length at 28, name at 46. */
                if (memcmp(buf + i, "PK\1\2", 4) != 0 || (size_t) (buf[i + 28] | buf[i + 29] << 8) != nl ||
                    memcmp(buf + i + 46, name, nl) != 0)
                        continue;
                buf[i + 5] = 3; /* "made by" Unix, so the mode is taken from there */
                for (int k = 0; k < 4; k++)
                        buf[i + 38 + k] = (unsigned char) (attr >> (8 * k));
                found = true;
        }
        ASSERT_TRUE(found);
        rewind(f);
        ASSERT_EQ(fwrite(buf, 1, (size_t) size, f), (size_t) size);
        fclose(f);
        free(buf);
}

/* Name of an entry whose file type the next install() patches (NULL: none), and the mode. */
static const char *patch_name = NULL;
static uint32_t patch_mode = 0;

/* Installs the zip with report (may be NULL); returns bundle_install()'s result. */
static int install_reported(const ZipEntry *e, size_t n, const BundleLimits *limits, FindingList *f,
                            BundleReport *report) {
        _cleanup_(closep) int fd = -EBADF;
        char path[600], reason[1024] = "";
        int r;

        snprintf(path, sizeof path, "%s/bundle.zip", scratch);
        (void) unlink(path);
        fd = make_zip(path, e, n);
        if (patch_name) {
                zip_patch_mode(path, patch_name, patch_mode);
                patch_name = NULL;
        }
        r = bundle_install(fd, target, limits ?: &BUNDLE_LIMITS_DEFAULT, false, f, report, reason,
                           sizeof reason);
        fprintf(stderr, "   install → %d%s%s\n", r, reason[0] ? ": " : "", reason);
        if (r < 0)
                ASSERT_TRUE(reason[0]);
        return r;
}

static int install(const ZipEntry *e, size_t n, const BundleLimits *limits, FindingList *f) {
        return install_reported(e, n, limits, f, NULL);
}

static mode_t mode_of(const char *rel) {
        char p[1024];
        struct stat st;

        snprintf(p, sizeof p, "%s/%s", target, rel);
        if (lstat(p, &st) < 0)
                return (mode_t) -1;
        ASSERT_EQ(st.st_uid, geteuid());
        return st.st_mode;
}

static bool exists(const char *rel) {
        char p[1024];
        struct stat st;

        snprintf(p, sizeof p, "%s/%s", target, rel);
        return lstat(p, &st) >= 0;
}

/* No ".SessionScript.new-*" left next to the target. */
static void assert_no_leftovers(void) {
        DIR *d = opendir(parent);
        struct dirent *de;

        ASSERT_TRUE(d);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, ".SessionScript.new-", 19) == 0) {
                        fprintf(stderr, "leftover: %s\n", de->d_name);
                        ASSERT_TRUE(false);
                }
        closedir(d);
}

static void install_v1(void) {
        _cleanup_(freep) char *cfg = config_json("start.sh");
        _cleanup_(finding_list_done) FindingList f = {};
        const ZipEntry e[] = {
                { "config.json", 'f', 0666, cfg, 0 },
                /* No execute bit in the zip, but named by config.json: 0755. */
                { "start.sh", 'f', 0644, "#!/bin/sh\necho v1\n", 0 },
                { "lib/", 'd', 0777, NULL, 0 },
                { "lib/helper.sh", 'f', 0775, "#!/bin/sh\n", 0 },
                { "lib/data/readme.txt", 'f', 0666, "v1 data\n", 0 },
                { "./lib/./other.txt", 'f', 04777, "setuid bits are dropped\n", 0 },
        };

        ASSERT_OK(install(e, ELEMENTSOF(e), NULL, &f));
        ASSERT_EQ(f.n_errors, 0);
}

static void test_valid(void) {
        install_v1();
        ASSERT_EQ(mode_of("") & 07777, 0755);
        ASSERT_EQ(mode_of("config.json") & 07777, 0644);
        ASSERT_TRUE(S_ISREG(mode_of("config.json")));
        ASSERT_EQ(mode_of("start.sh") & 07777, 0755);
        ASSERT_EQ(mode_of("lib") & 07777, 0755);
        ASSERT_EQ(mode_of("lib/helper.sh") & 07777, 0755);
        ASSERT_EQ(mode_of("lib/data") & 07777, 0755);
        ASSERT_EQ(mode_of("lib/data/readme.txt") & 07777, 0644);
        ASSERT_EQ(mode_of("lib/other.txt") & 07777, 0755);
        assert_no_leftovers();
}

static void test_replace(void) {
        _cleanup_(freep) char *cfg = config_json("bin/start2.sh");
        _cleanup_(finding_list_done) FindingList f = {};
        const ZipEntry e[] = {
                { "config.json", 'f', 0644, cfg, 0 },
                { "bin/start2.sh", 'f', 0755, "#!/bin/sh\necho v2\n", 0 },
        };
        char p[1024], buf[64] = "";
        FILE *fp;

        install_v1();
        ASSERT_OK(install(e, ELEMENTSOF(e), NULL, &f));
        ASSERT_TRUE(!exists("start.sh"));
        ASSERT_TRUE(!exists("lib"));
        ASSERT_EQ(mode_of("bin/start2.sh") & 07777, 0755);
        snprintf(p, sizeof p, "%s/bin/start2.sh", target);
        fp = fopen(p, "re");
        ASSERT_TRUE(fp);
        ASSERT_TRUE(fread(buf, 1, sizeof buf - 1, fp) > 0);
        fclose(fp);
        ASSERT_STREQ(buf, "#!/bin/sh\necho v2\n");
        assert_no_leftovers();
}

/* Installs v1, then the evil zip e (must be refused), then checks v1 is intact. */
static void refused(const ZipEntry *e, size_t n, const BundleLimits *limits) {
        _cleanup_(finding_list_done) FindingList f = {};
        const char *pn = patch_name;

        /* The patch is for the evil zip, not for the good one installed first. */
        patch_name = NULL;
        install_v1();
        patch_name = pn;
        ASSERT_ERROR(install(e, n, limits, &f), EINVAL);
        ASSERT_TRUE(exists("start.sh"));
        ASSERT_TRUE(exists("lib/data/readme.txt"));
        ASSERT_EQ(mode_of("start.sh") & 07777, 0755);
        assert_no_leftovers();
}

static void test_refusals(void) {
        _cleanup_(freep) char *cfg = config_json("start.sh");
        char abs_name[600];

        {
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "/etc/evil", 'f', 0, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                snprintf(abs_name, sizeof abs_name, "%s/evil", scratch);
                const ZipEntry e[] = { { abs_name, 'f', 0, "x", 0 }, { "config.json", 'f', 0, cfg, 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "lib/../../evil", 'f', 0, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                const ZipEntry e[] = { { "../evil", 'f', 0, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'l', 0777, "/etc/shadow", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                /* Devices and sockets, by their Unix mode (libarchive itself reads a FIFO mode as a
                 * plain file, which is then created as one). */
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, "x", 0 },
                                       { "dev", 'f', 0, "", 0 } };
                patch_name = "dev";
                patch_mode = S_IFCHR | 0644;
                refused(e, ELEMENTSOF(e), NULL);
                patch_name = "dev";
                patch_mode = S_IFBLK | 0644;
                refused(e, ELEMENTSOF(e), NULL);
                patch_name = "dev";
                patch_mode = S_IFSOCK | 0644;
                refused(e, ELEMENTSOF(e), NULL);
                /* A symlink declared only by its Unix mode. */
                patch_name = "dev";
                patch_mode = S_IFLNK | 0777;
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                /* Backslashes (Windows paths) and control characters. */
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "a\\..\\..\\x", 'f', 0, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                /* The same name twice. */
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "config.json", 'f', 0, cfg, 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                /* A file where a directory must go. */
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "lib", 'f', 0, "x", 0 },
                                       { "lib/x", 'f', 0, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
}

static void test_limits(void) {
        _cleanup_(freep) char *cfg = config_json("start.sh");
        const BundleLimits small = { .max_entries = 3, .max_entry_size = 4096, .max_total_size = 10000 };

        {
                /* One entry over the per-file limit. */
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, NULL, 4097 } };
                refused(e, ELEMENTSOF(e), &small);
        }
        {
                /* Each entry fine, the sum too big. */
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "a", 'f', 0, NULL, 4000 },
                                       { "b", 'f', 0, NULL, 4000 }, };
                const BundleLimits l = { .max_entries = 10, .max_entry_size = 4096, .max_total_size = 6000 };
                refused(e, ELEMENTSOF(e), &l);
        }
        {
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, "x", 0 },
                                       { "a", 'f', 0, "a", 0 }, { "b", 'f', 0, "b", 0 } };
                refused(e, ELEMENTSOF(e), &small);
        }
        {
                /* The real default: 1001 entries. */
                ZipEntry *e = calloc(BUNDLE_MAX_ENTRIES + 1, sizeof(ZipEntry));
                char (*names)[16] = calloc(BUNDLE_MAX_ENTRIES + 1, 16);
                ASSERT_TRUE(e && names);
                for (size_t i = 0; i <= BUNDLE_MAX_ENTRIES; i++) {
                        snprintf(names[i], 16, "f%zu", i);
                        e[i] = (ZipEntry) { names[i], 'f', 0, "x", 0 };
                }
                refused(e, BUNDLE_MAX_ENTRIES + 1, NULL);
                free(e);
                free(names);
        }
}

static void test_config(void) {
        _cleanup_(freep) char *cfg_missing_exe = config_json("nothere.sh");
        _cleanup_(finding_list_done) FindingList f = {};

        {
                /* No config.json at the top (only in a subdirectory). */
                _cleanup_(freep) char *cfg = config_json("start.sh");
                const ZipEntry e[] = { { "sub/config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg_missing_exe, 0 }, { "start.sh", 'f', 0755, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }

        /* Invalid config.json: refused, with the findings of the engine. */
        install_v1();
        {
                const ZipEntry e[] = { { "config.json", 'f', 0,
                                         "{ \"SessionStart\": { \"executables\": [], \"waitingTime\": 600 } }", 0 } };
                ASSERT_ERROR(install(e, ELEMENTSOF(e), NULL, &f), EINVAL);
                ASSERT_TRUE(f.n_errors >= 1);
                ASSERT_TRUE(exists("start.sh"));
                assert_no_leftovers();
        }
}

static void test_not_zip(void) {
        _cleanup_(finding_list_done) FindingList f = {};
        _cleanup_(closep) int fd = -EBADF;
        char path[600], reason[512] = "";

        install_v1();
        snprintf(path, sizeof path, "%s/not.zip", scratch);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "hello, this is no zip", 21), 21);
        ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
        ASSERT_ERROR(bundle_install(fd, target, &BUNDLE_LIMITS_DEFAULT, false, &f, NULL, reason, sizeof reason),
                     EINVAL);
        ASSERT_TRUE(exists("start.sh"));
        assert_no_leftovers();
}

static void test_symlinked_target(void) {
        _cleanup_(freep) char *cfg = config_json("start.sh");
        _cleanup_(finding_list_done) FindingList f = {};
        char elsewhere[1024], old[1024];
        const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, "x", 0 } };
        struct stat st;

        install_v1();
        snprintf(old, sizeof old, "%s.moved", target);
        ASSERT_EQ(rename(target, old), 0);
        snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", scratch);
        ASSERT_EQ(mkdir(elsewhere, 0755), 0);
        ASSERT_EQ(symlink(elsewhere, target), 0);
        ASSERT_ERROR(install(e, ELEMENTSOF(e), NULL, &f), EINVAL);
        /* Not followed, not replaced. */
        ASSERT_EQ(lstat(target, &st), 0);
        ASSERT_TRUE(S_ISLNK(st.st_mode));
        ASSERT_EQ(unlink(target), 0);
        ASSERT_EQ(rename(old, target), 0);
        assert_no_leftovers();
}

/* A stand-in for /etc/shadow in the scratch directory: path, mode 0640. */
static void make_victim(char *path, size_t size) {
        int fd;

        snprintf(path, size, "%s/etc", scratch);
        (void) mkdir(path, 0755);
        snprintf(path, size, "%s/etc/shadow", scratch);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "root:*:1::::::\n", 15), 15);
        ASSERT_EQ(fchmod(fd, 0640), 0);
        close(fd);
}

static mode_t victim_mode(const char *path) {
        struct stat st;

        ASSERT_EQ(lstat(path, &st), 0);
        return st.st_mode & 07777;
}

/*
 * config.json naming executables that are not files of the bundle. Each is refused, and the file
 * named keeps its mode: testing "inside the bundle" as a string prefix and then chmod 0755 of the
 * name would make "/opt/appstream/SessionScripts/SessionScript/../../../../etc/shadow"
 * world-readable. Here the same climb lands on a stand-in below the scratch directory (the bundle's
 * temporary tree is scratch/opt/SessionScripts/.SessionScript.new-X, so "../../../etc/shadow" from
 * there, or from the installed SessionScript, is scratch/etc/shadow).
 */
static void test_config_escapes(void) {
        char victim[600];

        make_victim(victim, sizeof victim);
        {
                _cleanup_(freep) char *cfg = config_json("../../../etc/shadow");
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
                ASSERT_EQ(victim_mode(victim), 0640);
        }
        {
                /* Climbing out and back in: still not a plain path below the bundle. */
                _cleanup_(freep) char *cfg = config_json("lib/../../SessionScript/start.sh");
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, "x", 0 },
                                       { "lib/x", 'f', 0, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                /* An absolute name outside the bundle directory. */
                _cleanup_(freep) char *cfg = config_json_abs(victim);
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
                ASSERT_EQ(victim_mode(victim), 0640);
        }
        {
                /* A sibling whose name starts like the bundle's. */
                char sibling[700];
                _cleanup_(freep) char *cfg = NULL;

                snprintf(sibling, sizeof sibling, "%s.other/start.sh", target);
                cfg = config_json_abs(sibling);
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "start.sh", 'f', 0755, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        {
                /* A directory of the bundle is not an executable. */
                _cleanup_(freep) char *cfg = config_json("lib");
                const ZipEntry e[] = { { "config.json", 'f', 0, cfg, 0 }, { "lib/x", 'f', 0, "x", 0 } };
                refused(e, ELEMENTSOF(e), NULL);
        }
        ASSERT_EQ(victim_mode(victim), 0640);
}

/* Both ways of resolving a name beneath the bundle root refuse what would leave it. */
static void test_open_beneath(void) {
        int (*const fns[])(int, const char *, int) = { bundle_open_beneath, bundle_open_beneath_walk };
        char dir[600], p[700], victim[600];
        _cleanup_(closep) int root = -EBADF;
        int fd;

        make_victim(victim, sizeof victim);
        snprintf(dir, sizeof dir, "%s/beneath", scratch);
        ASSERT_EQ(mkdir(dir, 0755), 0);
        snprintf(p, sizeof p, "%s/sub", dir);
        ASSERT_EQ(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/sub/file.sh", dir);
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        /* A symlink inside the tree pointing outside it, one pointing inside it, and a symlinked
         * directory. */
        snprintf(p, sizeof p, "%s/evil.sh", dir);
        ASSERT_EQ(symlink(victim, p), 0);
        snprintf(p, sizeof p, "%s/inner.sh", dir);
        ASSERT_EQ(symlink("sub/file.sh", p), 0);
        snprintf(p, sizeof p, "%s/etc", dir);
        ASSERT_EQ(symlink("../etc", p), 0);

        root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(root >= 0);
        for (size_t i = 0; i < ELEMENTSOF(fns); i++) {
                fprintf(stderr, "   %s\n", i == 0 ? "openat2" : "walk");
                fd = fns[i](root, "sub/file.sh", O_RDONLY);
                ASSERT_TRUE(fd >= 0);
                close(fd);
                fd = fns[i](root, "./sub//file.sh", O_RDONLY);
                ASSERT_TRUE(fd >= 0);
                close(fd);
                ASSERT_ERROR(fns[i](root, "evil.sh", O_RDONLY), ELOOP);
                ASSERT_ERROR(fns[i](root, "inner.sh", O_RDONLY), ELOOP);
                ASSERT_ERROR(fns[i](root, "etc/shadow", O_RDONLY), ELOOP);
                ASSERT_ERROR(fns[i](root, "../etc/shadow", O_RDONLY), EINVAL);
                ASSERT_ERROR(fns[i](root, "sub/../../etc/shadow", O_RDONLY), EINVAL);
                ASSERT_ERROR(fns[i](root, victim, O_RDONLY), EINVAL);
                ASSERT_ERROR(fns[i](root, "sub/nothere", O_RDONLY), ENOENT);
                ASSERT_ERROR(fns[i](root, "sub/file.sh/x", O_RDONLY), ENOTDIR);
        }
        ASSERT_EQ(victim_mode(victim), 0640);
}

typedef struct ProgressSeen {
        unsigned calls;
        uint64_t last_bytes;
        size_t last_entries;
        bool monotonic;
} ProgressSeen;

static void on_progress(uint64_t bytes, size_t entries, void *userdata) {
        ProgressSeen *p = userdata;

        if (bytes < p->last_bytes || entries < p->last_entries)
                p->monotonic = false;
        p->calls++;
        p->last_bytes = bytes;
        p->last_entries = entries;
}

static const BundleFile *report_find(const BundleReport *r, const char *path) {
        for (size_t i = 0; i < r->n_files; i++)
                if (strcmp(r->files[i].path, path) == 0)
                        return &r->files[i];
        return NULL;
}

/* The report: progress while unpacking, and the installed files with their final modes (after
 * config.json made its executable 0755) and sizes; empty after a refusal. */
static void test_report(void) {
        _cleanup_(freep) char *cfg = config_json("start.sh");
        _cleanup_(finding_list_done) FindingList f = {}, f2 = {};
        ProgressSeen seen = { .monotonic = true };
        BundleReport report = { .progress = on_progress, .userdata = &seen };
        const BundleFile *x;
        const ZipEntry e[] = {
                { "config.json", 'f', 0666, cfg, 0 },
                { "start.sh", 'f', 0644, "#!/bin/sh\necho v1\n", 0 },
                { "lib/", 'd', 0777, NULL, 0 },
                { "./lib/./big.bin", 'f', 0600, NULL, 300 * 1024 },
                { "lib/run.sh", 'f', 0700, "#!/bin/sh\n", 0 },
        };
        const ZipEntry evil[] = {
                { "config.json", 'f', 0666, cfg, 0 },
                { "start.sh", 'f', 0644, "#!/bin/sh\n", 0 },
                { "../escape", 'f', 0644, "x", 0 },
        };

        ASSERT_OK(install_reported(e, ELEMENTSOF(e), NULL, &f, &report));
        ASSERT_EQ(report.n_files, 4);
        ASSERT_STREQ(report.files[0].path, "config.json");
        ASSERT_EQ(report.files[0].mode, 0644);
        ASSERT_EQ(report.files[0].size, strlen(cfg));
        ASSERT_TRUE((x = report_find(&report, "start.sh")));
        ASSERT_EQ(x->mode, 0755);
        ASSERT_TRUE((x = report_find(&report, "lib/big.bin")));
        ASSERT_EQ(x->mode, 0644);
        ASSERT_EQ(x->size, 300 * 1024);
        ASSERT_TRUE((x = report_find(&report, "lib/run.sh")));
        ASSERT_EQ(x->mode, 0755);
        ASSERT_TRUE(report_find(&report, "lib") == NULL);
        /* At least once per file, more for the one bigger than a copy buffer. */
        ASSERT_TRUE(seen.calls >= 5);
        ASSERT_TRUE(seen.monotonic);
        ASSERT_EQ(seen.last_entries, ELEMENTSOF(e));
        ASSERT_EQ(seen.last_bytes,
                  strlen(cfg) + strlen("#!/bin/sh\necho v1\n") + 300 * 1024 + strlen("#!/bin/sh\n"));

        ASSERT_ERROR(install_reported(evil, ELEMENTSOF(evil), NULL, &f2, &report), EINVAL);
        ASSERT_EQ(report.n_files, 0);
        ASSERT_TRUE(report.files == NULL);
        bundle_report_done(&report);
        assert_no_leftovers();
}

static void test_path_split(void) {
        const char *c[BUNDLE_MAX_DEPTH + 1];
        char *buf = NULL;

        ASSERT_EQ(bundle_path_split("a/b/c.sh", &buf, c), 3);
        ASSERT_STREQ(c[0], "a");
        ASSERT_STREQ(c[2], "c.sh");
        free(buf);
        ASSERT_EQ(bundle_path_split("./dir/", &buf, c), 1);
        ASSERT_STREQ(c[0], "dir");
        free(buf);
        ASSERT_EQ(bundle_path_split("/abs", &buf, c), -EINVAL);
        ASSERT_EQ(bundle_path_split("a/../b", &buf, c), -EINVAL);
        ASSERT_EQ(bundle_path_split("..", &buf, c), -EINVAL);
        ASSERT_EQ(bundle_path_split("./", &buf, c), -EINVAL);
        ASSERT_EQ(bundle_path_split("", &buf, c), -EINVAL);
        ASSERT_EQ(bundle_path_split("a\nb", &buf, c), -EINVAL);
        ASSERT_EQ(bundle_path_split("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", &buf, c), -EINVAL);
        ASSERT_EQ(bundle_path_split("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", &buf, c), 16);
        free(buf);
}

int main(void) {
        char cmd[700];

        umask(022);
        ASSERT_TRUE(mkdtemp(scratch));
        snprintf(parent, sizeof parent, "%s/opt/SessionScripts", scratch);
        snprintf(target, sizeof target, "%s/SessionScript", parent);

        TEST_RUN(test_path_split);
        TEST_RUN(test_valid);
        TEST_RUN(test_replace);
        TEST_RUN(test_refusals);
        TEST_RUN(test_limits);
        TEST_RUN(test_config);
        TEST_RUN(test_config_escapes);
        TEST_RUN(test_open_beneath);
        TEST_RUN(test_not_zip);
        TEST_RUN(test_symlinked_target);
        TEST_RUN(test_report);

        snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", scratch);
        return system(cmd) == 0 ? 0 : 1;
}
