/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the lib/basic/ helpers that the config.json engine and the settings loader brought:
 * unhexchar() (hexdecoct.c), read_regular_fd() (regular-file.c) and file_type_name()
 * (file-type.c).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "file-type.h"
#include "hexdecoct.h"
#include "regular-file.h"
#include "tests.h"

static void test_unhexchar(void) {
        ASSERT_EQ(unhexchar('0'), 0);
        ASSERT_EQ(unhexchar('9'), 9);
        ASSERT_EQ(unhexchar('a'), 10);
        ASSERT_EQ(unhexchar('F'), 15);
        ASSERT_ERROR(unhexchar('g'), EINVAL);
        ASSERT_ERROR(unhexchar('/'), EINVAL);
        ASSERT_ERROR(unhexchar(0), EINVAL);
}

static void test_read_regular_fd(void) {
        char dir[] = "/tmp/test-basic-helpers-XXXXXX", file[64], fifo[64];
        _cleanup_(closep) int fd = -EBADF, dir_fd = -EBADF, fifo_fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        char *untouched = NULL;
        size_t len = 0;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(file, sizeof(file), "%s/file", dir);
        snprintf(fifo, sizeof(fifo), "%s/fifo", dir);

        fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "hello", 5), 5);
        ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
        ASSERT_OK(read_regular_fd(fd, 5, &buf, &len));
        ASSERT_STREQ(buf, "hello");
        ASSERT_EQ(len, 5);

        ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
        ASSERT_ERROR(read_regular_fd(fd, 4, &untouched, &len), EFBIG);
        ASSERT_TRUE(!untouched);

        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);
        ASSERT_ERROR(read_regular_fd(dir_fd, 100, &untouched, &len), EISDIR);

        ASSERT_OK(mkfifo(fifo, 0600));
        fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        ASSERT_TRUE(fifo_fd >= 0);
        ASSERT_ERROR(read_regular_fd(fifo_fd, 100, &untouched, &len), EBADFD);
        ASSERT_TRUE(!untouched);

        ASSERT_OK(unlink(fifo));
        ASSERT_OK(unlink(file));
        ASSERT_OK(rmdir(dir));
}

static void test_file_type_name(void) {
        ASSERT_STREQ(file_type_name(S_IFREG | 0644), "a regular file");
        ASSERT_STREQ(file_type_name(S_IFDIR | 01777), "a directory");
        ASSERT_STREQ(file_type_name(S_IFLNK), "a symbolic link");
        ASSERT_STREQ(file_type_name(S_IFIFO), "a FIFO");
        ASSERT_STREQ(file_type_name(S_IFSOCK), "a socket");
        ASSERT_STREQ(file_type_name(S_IFCHR), "a character device");
        ASSERT_STREQ(file_type_name(S_IFBLK), "a block device");
        ASSERT_TRUE(file_type_name(0) == NULL);
}

int main(void) {
        TEST_RUN(test_unhexchar);
        TEST_RUN(test_read_regular_fd);
        TEST_RUN(test_file_type_name);
        return 0;
}
