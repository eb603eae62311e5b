/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public contract of session-scripts: file system paths, D-Bus names,
 * environment variables handed to scripts, journal fields and catalog
 * message IDs, and the names of the spool files shared by the daemon and the uploader.
 *
 * Other programs (and the acceptance tests, and administrators' scripts)
 * rely on every name in this file. Change nothing here without a new
 * interface version.
 */
#pragma once

/* ---- Paths ------------------------------------------------------------------------------------- */

/* The administrator's config.json (docs/behaviour.md §2). The daemon setting ConfigFile= overrides it. */
#define SESSION_SCRIPTS_CONFIG_PATH "/opt/appstream/SessionScripts/config.json"
/* Where `session-scripts install-bundle` unpacks Elastic-fleet bundles. */
#define SESSION_SCRIPTS_BUNDLE_DIR "/opt/appstream/SessionScripts/SessionScript"

/* Daemon and uploader settings (INI), plus drop-ins in SESSION_SCRIPTS_SETTINGS_DROPIN_DIR/\*.conf,
 * applied in lexical order after the main file. */
#define SESSION_SCRIPTS_SETTINGS_PATH "/etc/session-scripts/session-scripts.conf"
#define SESSION_SCRIPTS_SETTINGS_DROPIN_DIR "/etc/session-scripts/session-scripts.conf.d"

/* Volatile per-session state of the daemon (survives a daemon restart, not a reboot). */
#define SESSION_SCRIPTS_RUNTIME_DIR "/run/session-scripts"
#define SESSION_SCRIPTS_SESSIONS_DIR SESSION_SCRIPTS_RUNTIME_DIR "/sessions"

/* The daemon's own socket (mode 0600, root only): direct D-Bus connections serving the methods of
 * SESSION_SCRIPTS_BUS_INTERFACE without the system bus broker. The PAM module uses it when it is
 * there and falls back to the system bus otherwise. */
#define SESSION_SCRIPTS_PRIVATE_SOCKET SESSION_SCRIPTS_RUNTIME_DIR "/private"

/* Written by the daemon whenever it loads a configuration (mode 0644): the waiting time in seconds
 * of each event as lines "SessionStart=N" and "SessionTermination=N" (0 when nothing runs). The
 * PAM module bounds a login's whole wait — registration included, while the daemon is busy — by
 * the event's waiting time plus its grace. */
#define SESSION_SCRIPTS_WAIT_FILE SESSION_SCRIPTS_RUNTIME_DIR "/waiting-times"

/* Persistent state (systemd StateDirectory=session-scripts) and the upload spool inside it. */
#define SESSION_SCRIPTS_STATE_DIR "/var/lib/session-scripts"
#define SESSION_SCRIPTS_SPOOL_DIR SESSION_SCRIPTS_STATE_DIR "/spool"

/* The unprivileged system user (and group) of session-scripts-upload.service. It owns nothing;
 * the spool directory is root:SESSION_SCRIPTS_UPLOAD_USER mode 0770, spool files mode 0640. */
#define SESSION_SCRIPTS_UPLOAD_USER "session-scripts-upload"

/* Home-folder mount status, relative to the user's home directory (docs/behaviour.md §3). */
#define SESSION_SCRIPTS_HOME_FOLDER_STATUS_FILE \
        ".config/appstream-home-folder/appstream-home-folder-mount-status"
#define SESSION_SCRIPTS_HOME_FOLDER_STATUS_KEY "appstream_home_folder_mount_status"

/* ---- Session ids -------------------------------------------------------------------------------- */

/* A session id (AppStream_Session_ID, the daemon's key, a file name under SESSION_SCRIPTS_SESSIONS_DIR
 * and a component of the S3 object key) is 1…SESSION_SCRIPTS_SESSION_ID_MAX characters of
 * SESSION_SCRIPTS_SESSION_ID_CHARS, and neither "." nor "..". One the daemon generates is a random
 * UUID (lowercase, 8-4-4-4-12), SESSION_SCRIPTS_SESSION_ID_UUID_LEN characters long.
 * lib/basic/session-id.h checks and generates them. */
#define SESSION_SCRIPTS_SESSION_ID_MAX 64
#define SESSION_SCRIPTS_SESSION_ID_UUID_LEN 36
#define SESSION_SCRIPTS_SESSION_ID_CHARS \
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* ---- Events and contexts ----------------------------------------------------------------------- */

#define SESSION_SCRIPTS_EVENT_START "SessionStart"
#define SESSION_SCRIPTS_EVENT_TERMINATION "SessionTermination"
#define SESSION_SCRIPTS_CONTEXT_SYSTEM "system"
#define SESSION_SCRIPTS_CONTEXT_USER "user"

/* ---- D-Bus API (system bus) -------------------------------------------------------------------- */

#define SESSION_SCRIPTS_BUS_NAME "org.sessionscripts.SessionScripts1"
#define SESSION_SCRIPTS_BUS_PATH "/org/sessionscripts/SessionScripts1"
#define SESSION_SCRIPTS_BUS_INTERFACE "org.sessionscripts.Manager1"

/*
 * Methods of SESSION_SCRIPTS_BUS_INTERFACE (see units/org.sessionscripts.Manager1.xml):
 *
 *   OpenSession(s user, s service, a{ss} environment) → (s session_id, t wait_usec)
 *       Root only. Registers a session for `user` (PAM service `service`; the PAM environment
 *       in `environment`, of which the AppStream_* metadata and XDG_SESSION_ID are used) and
 *       starts its SessionStart executables. Returns at once with the session id (taken from
 *       AppStream_Session_ID, else a fresh UUID; a fresh one too when that id belongs to another
 *       user's session or another login) and how long the event may take at most (waitingTime;
 *       0 when nothing runs). The session also ends when logind says its XDG_SESSION_ID is over.
 *
 *   WaitSessionEvent(s session_id, s event) → (b success, s message, s last_line)
 *       Root only. Replies once every run of `event` of that session has ended (or its
 *       deadline passed): success is true when every run exited 0 (or none ran); message is a
 *       sentence for the user naming what failed; last_line is the last non-empty stdout line
 *       of the first failed run (control characters stripped, bounded), or "".
 *
 *   CloseSession(s session_id, a{ss} environment) → (s session_id, t wait_usec)
 *       Root only. Starts the SessionTermination executables once per session (a second call
 *       runs nothing and returns wait_usec 0). An empty session_id is resolved from the
 *       environment (AppStream_Session_ID, then XDG_SESSION_ID). With PAM_USER in the
 *       environment, the session must be that user's (else AccessDenied). Waits for a
 *       still-running SessionStart of the same session before the termination scripts start.
 *
 *   ListSessions() → a(ssutss) (session_id, user, uid, since_realtime_usec, start_state, term_state)
 *       Any caller; an unprivileged caller sees only its own sessions.
 *
 *   ListRuns(s session_id) → a(ssssstit) (event, context, unit, executable, result, exit_status,
 *                                          signal_or_0, duration_usec)
 *       Root, or the session's own user.
 *
 *   RefuseSession(s session_id)
 *       Root only. The PAM module refused the session (option require_success and a failed or
 *       timed-out SessionStart): the daemon forgets it once its start runs ended, never runs its
 *       SessionTermination (the session never existed for the user), and emits SessionEnded.
 *
 *   Reload()   Root only. Re-reads settings and config.json and re-records the tamper baseline;
 *              when the new config is invalid it keeps the last good one (and its baseline) and
 *              fails with SESSION_SCRIPTS_ERROR_INVALID_CONFIG. The baseline is otherwise recorded
 *              when the daemon starts; one restarted after a crash or watchdog kill reuses the
 *              baseline its predecessor recorded.
 *
 *   Subscribe()   Any caller, on the system bus. The caller's connection receives the signals below
 *                 about its own sessions (of its effective uid), all of them when it is root, each
 *                 sent to it alone, until Unsubscribe() or until it disconnects.
 *   Unsubscribe() Any caller. Ends the caller's subscription.
 *
 * Signals (never broadcast: sent to the subscribers that are root or the session's user):
 *          SessionStarted(s session_id, s user), SessionEnded(s session_id, s user),
 *          RunStarted(s session_id, s event, s context, s unit),
 *          RunFinished(s session_id, s event, s context, s unit, s result, i exit_status,
 *                      t duration_usec)
 */
#define SESSION_SCRIPTS_ERROR_NO_SUCH_SESSION "org.sessionscripts.Error.NoSuchSession"
#define SESSION_SCRIPTS_ERROR_INVALID_CONFIG "org.sessionscripts.Error.InvalidConfig"

/* ---- Environment given to scripts (and read from the PAM environment) ------------------------- */

#define SESSION_SCRIPTS_ENV_SESSION_ID "AppStream_Session_ID"
#define SESSION_SCRIPTS_ENV_USER_NAME "AppStream_UserName"
#define SESSION_SCRIPTS_ENV_ACCESS_MODE "AppStream_User_Access_Mode"
#define SESSION_SCRIPTS_ENV_STACK_NAME "AppStream_Stack_Name"
#define SESSION_SCRIPTS_ENV_RESOURCE_NAME "AppStream_Resource_Name"
/* "True", "False", or "Unknown" when the status file is absent or unreadable. */
#define SESSION_SCRIPTS_ENV_HOME_FOLDER_STATUS "AppStream_Home_Folder_Mount_Status"
/* The path of the running executable as named in config.json. Scripts run from the verified file
 * descriptor (tamper check), so their $0 is /dev/fd/N; this variable says where they live. */
#define SESSION_SCRIPTS_ENV_SCRIPT_PATH "AppStream_Session_Script"
/* SessionStart or SessionTermination, and user or system. */
#define SESSION_SCRIPTS_ENV_EVENT "AppStream_Session_Event"
#define SESSION_SCRIPTS_ENV_CONTEXT "AppStream_Session_Context"
/* The session's PAM user name, in both contexts: a system-context script runs as root (USER=root)
 * and AppStream_UserName need not be a local account, so this is how a system script learns whose
 * session it acts for (e.g. to find that user's other sessions with ListSessions). */
#define SESSION_SCRIPTS_ENV_SESSION_USER "AppStream_Session_User"

/* ---- Journal ----------------------------------------------------------------------------------- */

#define SESSION_SCRIPTS_FIELD_SESSION_ID "SESSION_SCRIPTS_SESSION_ID"
#define SESSION_SCRIPTS_FIELD_EVENT "SESSION_SCRIPTS_EVENT"
#define SESSION_SCRIPTS_FIELD_CONTEXT "SESSION_SCRIPTS_CONTEXT"
#define SESSION_SCRIPTS_FIELD_USER "SESSION_SCRIPTS_USER"
#define SESSION_SCRIPTS_FIELD_EXECUTABLE "SESSION_SCRIPTS_EXECUTABLE"
#define SESSION_SCRIPTS_FIELD_STREAM "SESSION_SCRIPTS_STREAM"          /* stdout | stderr */
/* success | exit-code | signal | timeout | tampered | failed */
#define SESSION_SCRIPTS_FIELD_RESULT "SESSION_SCRIPTS_RESULT"
#define SESSION_SCRIPTS_FIELD_EXIT_STATUS "SESSION_SCRIPTS_EXIT_STATUS"
#define SESSION_SCRIPTS_FIELD_SIGNAL "SESSION_SCRIPTS_SIGNAL"
#define SESSION_SCRIPTS_FIELD_DURATION_USEC "SESSION_SCRIPTS_DURATION_USEC"
#define SESSION_SCRIPTS_FIELD_HOME_FOLDER_STATUS "SESSION_SCRIPTS_HOME_FOLDER_MOUNT_STATUS"
#define SESSION_SCRIPTS_FIELD_OBJECT_KEY "SESSION_SCRIPTS_OBJECT_KEY"
/* journalctl -u UNIT matches OBJECT_SYSTEMD_UNIT= on entries logged by root. */
#define SESSION_SCRIPTS_FIELD_UNIT "OBJECT_SYSTEMD_UNIT"

/* Catalog message IDs (units/session-scripts.catalog). */
#define SESSION_SCRIPTS_MESSAGE_RUN_FINISHED "7ec314af1ab0431aab9db584883c9563"
#define SESSION_SCRIPTS_MESSAGE_RUN_TAMPERED "6b877395a34d4e2e87a68a09ccdee32a"
#define SESSION_SCRIPTS_MESSAGE_SESSION_OPENED "0049255b643448e4aadbb7be32ceede5"
#define SESSION_SCRIPTS_MESSAGE_HOME_FOLDER "139fdb3195f543c48a54218f82b00bf9"
#define SESSION_SCRIPTS_MESSAGE_UPLOAD_FAILED "1c15c4c75e664df5a6ffb895fb4b8175"
#define SESSION_SCRIPTS_MESSAGE_SPOOL_EVICTED "ec4b37213cc24187b5868d6849f26b07"

/* The exact sentence of docs/behaviour.md §3, journaled and written into the run's log. */
#define SESSION_SCRIPTS_TAMPERED_TEXT                                                                  \
        "The session script was not executed because the executable was modified after the instance " \
        "was provisioned. For security reasons, the execution was skipped."

/* ---- Spool (daemon → uploader) ----------------------------------------------------------------- */

/* One run = RUNID.meta (KEY=VALUE lines: KEY, STATE, SESSION_ID, EVENT, CONTEXT, USER) and RUNID.log
 * (the run's output, byte for byte) in SESSION_SCRIPTS_SPOOL_DIR. The format, who writes what in
 * which order, and what the reader tolerates are stated in lib/spool-format.h, the one module that
 * writes (daemon) and reads (uploader) it. */
#define SESSION_SCRIPTS_SPOOL_LOG_SUFFIX ".log"
#define SESSION_SCRIPTS_SPOOL_META_SUFFIX ".meta"
#define SESSION_SCRIPTS_SPOOL_STATE_RUNNING "running"
#define SESSION_SCRIPTS_SPOOL_STATE_FINISHED "finished"
