/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The home-folder mount-status file (docs/behaviour.md §3): ~/.config/appstream-home-folder/
 * appstream-home-folder-mount-status holds a line "appstream_home_folder_mount_status=True" (or
 * False). Used by the daemon (read at session start) and by `session-scripts wait-home-folder`.
 */
#pragma once

#include <stddef.h>

typedef enum HomeFolderStatus {
        HOME_FOLDER_STATUS_UNKNOWN,     /* file absent, unreadable or without the key */
        HOME_FOLDER_STATUS_TRUE,
        HOME_FOLDER_STATUS_FALSE,
} HomeFolderStatus;

/* "True", "False", "Unknown". */
const char *home_folder_status_to_string(HomeFolderStatus s);

/* Pure: finds the key=value line in buf (other lines, blanks around '=', CRLF, and case of
 * True/False tolerated; the last assignment wins). Never fails. */
HomeFolderStatus home_folder_status_parse(const char *buf, size_t len);

/*
 * Reads the status file below the home directory `home`, opening every path component with
 * O_NOFOLLOW (a user must not be able to point the daemon, which runs as root, at another file)
 * and reading at most 4 KiB. Returns 0 and the status in *ret (UNKNOWN when the file is absent),
 * or -errno for unexpected errors (then *ret is untouched).
 */
int home_folder_status_read(const char *home, HomeFolderStatus *ret);
