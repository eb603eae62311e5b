/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads the home-folder mount status of a session's user off the event loop: in a short-lived
 * helper process that runs as the user (so it reads with the user's rights, also on a root-squashed
 * network home) and is given at most a bounded time. A home on a hung NFS or FUSE mount then costs
 * one stuck child and an "Unknown" status, never a stalled daemon.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "home-folder.h"
#include "time-util.h"

/* How long the status may take to read. Short: a login waits for it, and a home that needs longer
 * is not ready anyway (scripts that need it wait with `session-scripts wait-home-folder`). */
#define HOME_PROBE_TIMEOUT_USEC (500 * USEC_PER_MSEC)

typedef struct HomeProbe HomeProbe;

/* Called once from the event loop with the status: what the file says, or UNKNOWN when it is
 * absent, unreadable, or took longer than HOME_PROBE_TIMEOUT_USEC. */
typedef void (*HomeProbeFn)(HomeFolderStatus status, void *userdata);

/*
 * Starts the reader (session-scripts-exec home-status): it drops to uid/gid/groups and reads the
 * status file below home (home_folder_status_read()). Returns 0 and the probe in *ret (owned by the caller until the
 * callback fired; the callback is never called from within this function), or -errno when no child
 * could be started (then the caller decides without it).
 */
int home_probe_start(sd_event *event, const char *home, uid_t uid, gid_t gid, const gid_t *groups,
                     size_t n_groups, HomeProbeFn callback, void *userdata, HomeProbe **ret);

/* Cancels the callback. The child, if still there, is killed and reaped later by the probe itself,
 * which then frees itself. Accepts NULL. Returns NULL. */
HomeProbe *home_probe_cancel(HomeProbe *p);
