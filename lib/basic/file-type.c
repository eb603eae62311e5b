/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of the types of files (file-type.h). */

#include <sys/stat.h>

#include "file-type.h"
#include "macro.h"

const char *file_type_name(mode_t m) {
        static const struct {
                mode_t type;
                const char *name;
        } table[] = {
                { S_IFREG,  "a regular file" },
                { S_IFDIR,  "a directory" },
                { S_IFLNK,  "a symbolic link" },
                { S_IFCHR,  "a character device" },
                { S_IFBLK,  "a block device" },
                { S_IFIFO,  "a FIFO" },
                { S_IFSOCK, "a socket" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if ((m & S_IFMT) == table[i].type)
                        return table[i].name;
        return NULL;
}
