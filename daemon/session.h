/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One user session as the daemon knows it (docs/behaviour.md §3): who it belongs to, its metadata,
 * and the state of its two events (SessionStart, SessionTermination) with the runs of each. This
 * file holds the parts without an event loop — the Session object, the session id rules, the
 * persistent state file under SESSION_SCRIPTS_SESSIONS_DIR, the user-facing result sentence and
 * the resolution of CloseSession's session id — so the unit tests can drive them. The events are
 * run by the state machine of session-event.h; manager.h keeps the set of sessions.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "home-folder.h"
#include "home-probe.h"
#include "runner.h"
#include "session-event.h"
#include "session-id.h"
#include "script-config.h"
#include "unit-watch.h"

typedef struct Manager Manager;
typedef struct Session Session;


/* Bound of each metadata value taken from the PAM environment (bytes). */
#define SESSION_METADATA_MAX 256

/* Bound of the user-facing message of an event (bytes, without NUL). */
#define SESSION_MESSAGE_MAX 2048

/* At most this many callers may wait for one event of one session at a time. */
#define SESSION_EVENT_WAITERS_MAX 64

/* One executable of one event: what was started and how it ended. */
typedef struct SessionRun {
        Session *session;
        ScriptEvent event;
        ScriptContext context;
        bool used;              /* an executable of this context was to run */
        /* The run has finished (session-event.h): the runner reported, or it counted as timed out;
         * the result below is valid. Its scope may still hold processes. */
        bool finished;
        char *executable;
        Run *run;               /* the runner's object (one reference), NULL when none was started */
        RunResultKind kind;
        int exit_status;
        int signal;
        uint64_t duration_usec;
        unsigned waiting_time_sec;
        /* The run's scope. After a daemon restart also set (with used false) for a run of the
         * previous instance whose scope may still be active: then only the scope is waited for. */
        char *unit;
        char *last_line;        /* sanitised, ≤ OUTPUT_LAST_LINE_MAX bytes */
        char *error;            /* the runner's sentence for FAILED/TAMPERED */
        /* Set while the daemon waits for the scope to be gone (inactive, failed or unloaded): an
         * event is over only when no process of it is left, not when the runner reported. */
        UnitWatch *scope_watch;
} SessionRun;

struct SessionEvent {
        EventState state;
        unsigned waiting_time_sec;      /* of the runs started (0 when nothing ran) */
        /* CLOCK_MONOTONIC, when RUNNING: start + waiting time. Kept in the state file: the clock is
         * the same for a restarted daemon of the same boot. */
        uint64_t deadline_usec;
        SessionRun runs[_SCRIPT_CONTEXT_MAX];
        /* When DONE, or when result_recorded: */
        bool success;
        char *message;                  /* "" on success */
        char *last_line;                /* "" when none */
        /* The result above was composed from this event's runs (once all had reported) and may
         * have been given to a waiter already: kept in the state file, so that a restarted daemon
         * answers later waiters the same rather than "unknown, successful". */
        bool result_recorded;
        /* Pending WaitSessionEvent() calls (each holds a message reference). */
        sd_bus_message **waiters;
        size_t n_waiters;
        /* Fires at the deadline plus the scopes' stop timeout: a run that never reported back
         * counts as timed out, and a scope that is still not gone is no longer waited for. */
        sd_event_source *overdue_source;
};

struct Session {
        Manager *manager;
        Session *prev, *next;

        char *id;
        char *user;                     /* PAM user name */
        char *service;                  /* PAM service */
        char *xdg_session_id;           /* logind's id from the PAM environment, or NULL */
        uid_t uid;
        gid_t gid;
        char *home;
        char *shell;
        gid_t *groups;
        size_t n_groups;
        bool user_resolved;             /* uid…groups come from a successful lookup */

        /* The metadata of docs/behaviour.md §3, always set (from the PAM environment, else
         * settings). */
        char *user_name;
        char *access_mode;
        char *stack_name;
        char *resource_name;
        HomeFolderStatus home_folder_status;

        uint64_t since_realtime_usec;
        SessionEvent events[_SCRIPT_EVENT_MAX];

        /* RefuseSession: the PAM module refused the session (require_success). It is never
         * terminated, not listed, and forgotten as soon as its start runs have ended. Kept in the
         * state file, so that a restarted daemon forgets it too instead of terminating it. */
        bool refused;

        /* A refused session that is over (its start ended): state file removed, SessionEnded
         * emitted, invisible to every method but OpenSession and WaitSessionEvent. It lingers
         * MANAGER_FORGET_DELAY_USEC so that an OpenSession with its id — a second
         * pam_session_scripts line of the same stack, or another login program with the same
         * AppStream_Session_ID — finds it refused instead of registering it anew and running its
         * start scripts again. */
        bool hidden;

        /* RunEvent (`session-scripts run`): the session exists for one event of a manual run only.
         * Not persisted, not closable, never terminated after a start; forgotten
         * MANAGER_FORGET_DELAY_USEC after that event ended. */
        bool transient;

        /* The termination was started because logind said the login session was over (not by a
         * CloseSession); and whether the login program's CloseSession came. A CloseSession that
         * arrives after logind's word still waits for the termination, once. */
        bool termination_by_logind;
        bool close_seen;

        /* Reading the home-folder status (home-probe.h): the runs of probe_event are held until it
         * is known (probe_pending); home_probe is NULL when no reader is running. */
        HomeProbe *home_probe;
        ScriptEvent probe_event;
        bool probe_pending;

        sd_event_source *forget_source; /* armed once termination is done (or the refusal) */
};

/* Allocates an empty session (all states NOT_RUN, no strings). Returns NULL on OOM. */
Session *session_new(void);

/* Detaches and drops the runs, unrefs waiters (without replying), frees everything; accepts NULL.
 * Does not unlink the session from a manager's list (manager.c does). Returns NULL. */
Session *session_free(Session *s);
static inline void session_freep(Session **s) {
        session_free(*s);
}

/* Looks up s->user with getpwnam_r() and getgrouplist() and fills uid, gid, home, shell, groups.
 * Returns 0, -ESRCH when there is no such user, or another -errno. */
int session_resolve_user(Session *s);

/* True when v is a usable metadata value: 1…SESSION_METADATA_MAX bytes of valid UTF-8 without
 * control characters. */
bool session_metadata_is_valid(const char *v);

/* ---- State file ------------------------------------------------------------------------------ */

/*
 * Serialises what must survive a daemon restart (id, user, uid, service, XDG session id, metadata,
 * home-folder status, since, refused, and per event: state, success, message, last line; while it
 * runs also its deadline and the scope unit of each run that may still have processes) as
 * KEY=VALUE lines, values escaped (\\, \n and other control characters as \xHH). Returns 0 and a
 * new string in *ret, or -ENOMEM.
 */
int session_state_serialize(const Session *s, char **ret);

/*
 * Parses what session_state_serialize() wrote into a new Session (user not resolved, no runs; the
 * scope units of a running event are in runs[].unit with used false). Unknown keys, and scope names
 * that are not valid scope unit names, are ignored. Returns 0 and the session in *ret, -EBADMSG
 * when the id is missing or invalid or a value is malformed, -ENOMEM.
 */
int session_state_deserialize(const char *buf, size_t len, Session **ret);

/* Writes the state file dir/ID atomically (temp file mode 0600, fsync, rename, fsync of dir).
 * Returns 0 or -errno. */
int session_state_save(const Session *s, const char *dir);

/* Removes dir/ID; a missing file is fine. Returns 0 or -errno. */
int session_state_remove(const char *id, const char *dir);

/* Reads and parses dir/name (at most 64 KiB). Returns 0 and a new Session, or -errno. */
int session_state_load(const char *dir, const char *name, Session **ret);

/* ---- Results --------------------------------------------------------------------------------- */

/*
 * Composes the user-facing sentence about one finished run that did not succeed, e.g.
 * "Session script /opt/x.sh (user context) exited with status 3." Returns 0 and a new string in
 * *ret, 0 and NULL when the run succeeded (or was not used), -ENOMEM.
 */
int session_run_describe_failure(const SessionRun *run, char **ret);

/* The run's scope unit: recorded when it finished (or by a previous daemon instance), else the
 * running Run's; NULL before systemd was asked for one. Owned by r. */
const char *session_run_get_unit(const SessionRun *r);

/*
 * Once every used run of e has finished: sets e->success (all succeeded, or none ran),
 * e->message (the failure sentences joined by a space, bounded by SESSION_MESSAGE_MAX, "" on
 * success) and e->last_line (of the first failed run that has one, else ""). Does not change
 * e->state. Returns 0 or -ENOMEM.
 */
int session_event_compose_result(SessionEvent *e);

/* ---- Lookup ---------------------------------------------------------------------------------- */

/*
 * Resolves the session a CloseSession() call means, in the list starting at first: by id when
 * id is non-empty; else by env_session_id (AppStream_Session_ID from the PAM environment) when
 * non-empty; else the most recently opened session whose XDG session id is xdg_session_id, never
 * a refused one (a refused session has no close of its own; the login's XDG id may belong to a
 * later, accepted session). Returns the session or NULL.
 */
Session *session_resolve(Session *first, const char *id, const char *env_session_id,
                         const char *xdg_session_id);

/* Finds a session by id in the list starting at first, or NULL. */
Session *session_find(Session *first, const char *id);
