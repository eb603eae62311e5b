/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Follows logind's sessions, so that a session ends when logind says it did, whoever ended it: the
 * login program's close_session, systemd's own PAM handling for units with PAMName= (whose
 * close_session runs unprivileged and cannot reach the daemon), a login program killed before
 * close_session. logind is the authority on when a login session is over; this file only watches
 * its session records (/run/systemd/sessions/, the files the sd-login API reads) with inotify and
 * asks sd-login for the state of the one that changed.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

typedef struct LogindWatch LogindWatch;

/* Called with the logind session id whose record changed or went away, or with NULL when changes
 * may have been missed (the inotify queue overflowed): then every followed session is to be
 * checked again. */
typedef void (*LogindChangedFn)(const char *logind_session_id, void *userdata);

/*
 * Starts watching logind's session records on event. Without logind (no /run/systemd/sessions yet)
 * the watch is set up later, by logind_watch_ensure(). Returns 0 and the watch in *ret (owned by
 * the caller), or -errno.
 */
int logind_watch_new(sd_event *event, LogindChangedFn callback, void *userdata, LogindWatch **ret);

/* Adds the inotify watch when it is not there yet (logind started after the daemon). Returns 1
 * when watching, 0 when logind's directory does not exist, -errno on failure. */
int logind_watch_ensure(LogindWatch *w);

/* Stops watching and frees w; accepts NULL. Returns NULL. */
LogindWatch *logind_watch_free(LogindWatch *w);

/*
 * Whether logind's session id is over: 1 when logind says it is closing (its login program
 * released it or died) or knows it no longer, 0 while it is opening, online or active, -errno
 * when it cannot tell (e.g. no logind on this machine).
 */
int logind_session_is_over(const char *logind_session_id);

/* Whether logind knows the session id as a session of uid: 1 yes, 0 no (another user's, or no
 * such session), -errno when it cannot tell. An XDG_SESSION_ID from the PAM environment is followed
 * only when it names a session of the user who logs in: otherwise whoever set it could make the
 * daemon end the session when some other login ends. */
int logind_session_belongs_to(const char *logind_session_id, uid_t uid);
