/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control plane of session-scriptsd: the settings, the last good config.json and its tamper
 * baseline (kept in MANAGER_BASELINE_FILE across daemon restarts), and the set of sessions
 * (docs/behaviour.md §3) — open starts the SessionStart runs, close starts SessionTermination once
 * (after the start is done, i.e. its scopes are gone), results are handed to waiting callers, state
 * is kept under SESSION_SCRIPTS_SESSIONS_DIR so that a restarted daemon still runs each termination
 * exactly once, and in order. The events themselves are run by the state machine of
 * session-event.h; manager-dbus.h is the bus face. Everything is driven by the sd-event loop;
 * nothing here blocks on a script.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-subscribers.h"
#include "script-config.h"
#include "logind-watch.h"
#include "session-scripts/session-scripts.h"
#include "session.h"
#include "settings.h"
#include "tamper.h"
#include "time-util.h"

/* Most sessions the daemon keeps at once (a hard bound on what callers can make it hold). */
#define MANAGER_SESSIONS_MAX 4096

/* How long a session stays known after its termination finished: a repeated CloseSession or a late
 * WaitSessionEvent still gets the recorded answer, and `ListSessions` shows the result. */
#define MANAGER_FORGET_DELAY_USEC (30 * USEC_PER_SEC)

/* How long after a session was forgotten the heap is trimmed (coalescing a burst of them). */
#define MANAGER_TRIM_DELAY_USEC (2 * USEC_PER_SEC)

/* An event is over when its runs reported and their scopes are gone. systemd stops a scope at the
 * deadline (RuntimeMaxSec) and SIGKILLs what is left RUN_TIMEOUT_STOP_USEC later; this margin
 * beyond both covers systemd noticing and telling us. Then the daemon stops waiting: a run that did
 * not report counts as timed out, a scope that is not gone is journaled and no longer waited for.
 * Small, because a login may be waiting (timeout_grace of the PAM module, 3 s by default). */
#define MANAGER_OVERDUE_GRACE_USEC (500 * USEC_PER_MSEC)

/* The tamper baseline of the provisioned instance (tamper.h), root-only, on /run: it survives
 * daemon restarts, not a reboot. */
#define MANAGER_BASELINE_FILE SESSION_SCRIPTS_RUNTIME_DIR "/tamper-baseline"

struct Manager {
        sd_event *event;
        sd_bus *bus;
        SystemdWatch *systemd_watch;    /* systemd's signals on bus (unit-watch.h); from main() */
        RunnerContext *runner;          /* what the runs share (runner.h); from main() */
        BusSubscribers *subscribers;    /* who gets the signals (bus-subscribers.h); from manager_dbus_setup() */

        char *settings_path;            /* --settings; NULL = SESSION_SCRIPTS_SETTINGS_PATH */
        char *config_path_override;     /* --config; NULL = settings' ConfigFile= */
        char *sessions_dir;             /* SESSION_SCRIPTS_SESSIONS_DIR */
        char *spool_dir;                /* SESSION_SCRIPTS_SPOOL_DIR */

        Settings settings;
        ScriptConfig *config;           /* the last good config, NULL when there never was one */
        char *config_path;              /* where config was read from */
        TamperBaseline baseline;        /* of config_path and config's executables */
        char *baseline_path;            /* MANAGER_BASELINE_FILE */
        char *waiting_times_path;       /* SESSION_SCRIPTS_WAIT_FILE; NULL: not written (tests) */
        /* config.json does not match the baseline of the provisioned instance (a restarted daemon
         * found it changed): every run counts as tampered until a reload provisions it. */
        bool config_tampered;
        /* While there is no good config: the identity of config.json at the last attempt to load
         * it (st_ino 0 = none yet), so that a session start tries again only when it changed. */
        struct stat config_retry_stat;
        char *lang;                     /* LANG for scripts, NULL = default */
        bool bucket_logged;             /* "no Bucket=" said once */

        Session *sessions;              /* doubly linked list, most recent first */
        size_t n_sessions;

        sd_event_source *trim_source;   /* pending malloc_trim() after sessions were forgotten */
        LogindWatch *logind_watch;      /* ends sessions whose login session logind says is over */
};

/* The parts of an OpenSession/CloseSession request taken from the PAM environment. Values not
 * given are NULL. */
typedef struct SessionRequest {
        const char *user;
        const char *service;
        const char *session_id;         /* AppStream_Session_ID */
        const char *user_name;          /* AppStream_UserName */
        const char *access_mode;        /* AppStream_User_Access_Mode */
        const char *stack_name;         /* AppStream_Stack_Name */
        const char *resource_name;      /* AppStream_Resource_Name */
        const char *xdg_session_id;     /* XDG_SESSION_ID */
        /* RunEvent: a transient session (see Session.transient) that runs only transient_event;
         * for SessionTermination its start counts as done without running. false for logins. */
        bool transient;
        ScriptEvent transient_event;
} SessionRequest;

/* Allocates a manager on event (takes a reference). Paths may be NULL (defaults). Returns 0 or
 * -ENOMEM. */
int manager_new(sd_event *event, const char *settings_path, const char *config_path, Manager **ret);

/* Frees every session (detaching their runs, dropping waiters), the config and the settings.
 * Accepts NULL. Returns NULL. */
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}

/*
 * (Re)loads settings and config.json. With provision, the tamper baseline is recorded anew and
 * stored in m->baseline_path (the instance is provisioned: an explicit reload); without, the
 * stored baseline is used when there is one (a daemon restarted after its predecessor died:
 * config.json and the executables are checked against what was provisioned, not taken as they are
 * now), else it is recorded and stored (a start after a clean stop, or the first of the boot). An invalid config keeps the last good one
 * (and its baseline); every finding is journaled. Returns 0, -EBADMSG when the settings or
 * config.json could not be (re)loaded (journaled; the previous ones stay, and with none the daemon
 * runs nothing), -ENOMEM.
 */
int manager_load(Manager *m, bool provision);

/* Reload() / SIGHUP: manager_load(m, true) framed by sd_notify RELOADING=1 / READY=1. Returns as
 * manager_load(). */
int manager_reload(Manager *m);

/*
 * Reads the state files of a previous daemon instance and resumes. An event that was running is
 * still running while one of its scopes (named in the state file) is active — bounded by its
 * deadline plus the stop timeout — and then counts as done, its result unknown (docs/behaviour.md §3
 * asks the termination to run once and after the start, not the start twice); a pending termination starts
 * when the start is over; a refused session is forgotten. Needs m->bus. Returns 0, or -errno when
 * the directory cannot be prepared.
 */
int manager_load_sessions(Manager *m);

/*
 * OpenSession: registers the session and starts its SessionStart runs. An existing session with
 * the same id is returned as is (nothing runs twice) — also a refused one, which stays refused
 * (WaitSessionEvent answers its start as failed). On success *ret is the session (owned by the
 * manager) and *ret_wait_usec the longest the event may take from now (0 when nothing runs or it
 * is over). Returns 0, -ESRCH (no such user), -EUSERS (too many sessions), -ENOMEM.
 */
int manager_open_session(Manager *m, const SessionRequest *req, Session **ret, uint64_t *ret_wait_usec);

/*
 * CloseSession: resolves the session (id, else req->session_id, else req->xdg_session_id) and
 * starts its SessionTermination runs once — right away, or when a still-running start finishes.
 * When req->user is set (the PAM user of the login that closes), the session must be that user's.
 * *ret_wait_usec covers the rest of the start plus the termination's waiting time; 0 when the
 * termination was requested before (by an earlier close) or nothing runs. A termination that logind's
 * word started (the login session was over before the close arrived) is waited for by the first
 * close. Returns 0, -ESRCH (unknown session), -EPERM (another user's session, journaled), -ENOMEM.
 */
int manager_close_session(Manager *m, const char *id, const SessionRequest *req, Session **ret,
                          uint64_t *ret_wait_usec);

/*
 * WaitSessionEvent: answers msg (a method call) with (b success, s message, s last_line) at once
 * when the event is done (or will never run), else keeps a reference and answers when it is. The
 * start of a refused session is answered as failed. Returns ≥ 0, -EBUSY (too many waiters), or
 * -errno from sending.
 */
int manager_wait_session_event(Manager *m, Session *s, ScriptEvent e, sd_bus_message *msg);

/*
 * RefuseSession: the PAM module refused the session (require_success). Its SessionTermination
 * will never run (a pending one is cancelled; its waiters get success, nothing ran), it is no
 * longer listed, closable or shown by ListRuns, and it is forgotten — state file removed,
 * SessionEnded emitted, hidden (Session.hidden) — at once when its start is over, else as soon as
 * the start is. The caller must not use s afterwards. Returns 0 (also when it was refused before),
 * -EBUSY when its termination already started (too late to refuse).
 */
int manager_refuse_session(Manager *m, Session *s);

/* For the session state machine (session-event.h). */

/* Forgets s after delay_usec (0: on the next turn of the event loop, outside of any callback of its
 * runs); does nothing when that is armed already. */
void manager_arm_forget_session(Manager *m, Session *s, uint64_t delay_usec);

/* The waiting time the configured event would have if it started now (0 when nothing runs). */
uint64_t manager_event_wait_usec(Manager *m, ScriptEvent e);

/* Finds a session by id, or NULL; a refused session that is over (hidden) is not found. */
Session *manager_find_session(Manager *m, const char *id);

/* Finds a session by id, also a hidden one (for OpenSession, WaitSessionEvent and RunEvent's
 * "id in use" check), or NULL. */
Session *manager_find_session_any(Manager *m, const char *id);
