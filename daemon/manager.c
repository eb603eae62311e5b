/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control plane of session-scriptsd (docs/behaviour.md §3): loading settings and config.json
 * (with the tamper baseline of the provisioned instance), and the set of sessions — lookup,
 * opening, closing, refusing, forgetting, trimming, the state directory of a restarted daemon —
 * wired to the event state machine (session-event.h), which runs the events. See manager.h.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "alloc-util.h"
#include "cleanup.h"
#include "fileio.h"
#include "home-folder.h"
#include "home-probe.h"
#include "log.h"
#include "logind-watch.h"
#include "manager.h"
#include "manager-dbus.h"
#include "output.h"
#include "runner.h"
#include "session-scripts/session-scripts.h"
#include "session-event.h"
#include "time-util.h"
#include "unit-watch.h"
#include "user-env.h"

int manager_new(sd_event *event, const char *settings_path, const char *config_path, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(Manager));

        if (!m)
                return -ENOMEM;

        m->event = sd_event_ref(event);
        m->settings_path = strdup_or_null(settings_path);
        m->config_path_override = strdup_or_null(config_path);
        m->sessions_dir = strdup(SESSION_SCRIPTS_SESSIONS_DIR);
        m->spool_dir = strdup(SESSION_SCRIPTS_SPOOL_DIR);
        m->baseline_path = strdup(MANAGER_BASELINE_FILE);
        m->waiting_times_path = strdup(SESSION_SCRIPTS_WAIT_FILE);
        if ((settings_path && !m->settings_path) || (config_path && !m->config_path_override) ||
            !m->sessions_dir || !m->spool_dir || !m->baseline_path || !m->waiting_times_path)
                return -ENOMEM;

        *ret = TAKE_PTR(m);
        return 0;
}

static void manager_unlink_session(Manager *m, Session *s) {
        if (s->prev)
                s->prev->next = s->next;
        else
                m->sessions = s->next;
        if (s->next)
                s->next->prev = s->prev;
        s->prev = s->next = NULL;
        m->n_sessions--;
}

static void manager_link_session(Manager *m, Session *s) {
        s->manager = m;
        s->prev = NULL;
        s->next = m->sessions;
        if (m->sessions)
                m->sessions->prev = s;
        m->sessions = s;
        m->n_sessions++;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        while (m->sessions) {
                Session *s = m->sessions;
                manager_unlink_session(m, s);
                session_free(s);
        }

        m->trim_source = sd_event_source_disable_unref(m->trim_source);
        m->logind_watch = logind_watch_free(m->logind_watch);
        m->subscribers = bus_subscribers_free(m->subscribers);  /* holds a bus reference */
        m->runner = runner_context_unref(m->runner);
        m->systemd_watch = systemd_watch_unref(m->systemd_watch);
        script_config_free(m->config);
        tamper_baseline_done(&m->baseline);
        settings_done(&m->settings);
        free(m->config_path);
        free(m->lang);
        free(m->settings_path);
        free(m->config_path_override);
        free(m->sessions_dir);
        free(m->spool_dir);
        free(m->baseline_path);
        free(m->waiting_times_path);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

Session *manager_find_session(Manager *m, const char *id) {
        Session *s = session_find(m->sessions, id);

        return s && !s->hidden ? s : NULL;
}

Session *manager_find_session_any(Manager *m, const char *id) {
        return session_find(m->sessions, id);
}

/* ---- Settings and config --------------------------------------------------------------------- */

static void settings_report(const char *file, unsigned line, const char *message, void *userdata) {
        log_warning("%s:%u: %s", file ?: "(settings)", line, message);
}

static void log_findings(const char *path, const FindingList *f) {
        for (size_t i = 0; i < f->n; i++) {
                const Finding *x = &f->items[i];
                int prio = x->severity == FINDING_ERROR ? LOG_ERR : LOG_WARNING;
                const char *what = x->severity == FINDING_ERROR ? "error" : "warning";

                if (x->line > 0)
                        log_full_errno(prio, 0, "%s:%u:%u: %s: %s%s%s", path, x->line, x->column, what,
                                       x->message, x->json_path && x->json_path[0] ? " at " : "",
                                       x->json_path ?: "");
                else
                        log_full_errno(prio, 0, "%s: %s: %s%s%s", x->file ?: path, what, x->message,
                                       x->json_path && x->json_path[0] ? " at " : "", x->json_path ?: "");
        }
}

/* Collects config_path and every executable that runs, for the tamper baseline. */
static int config_collect_paths(const ScriptConfig *c, const char *config_path, char ***ret) {
        char **l = calloc(1 + _SCRIPT_EVENT_MAX * _SCRIPT_CONTEXT_MAX + 1, sizeof(char *));
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        if (!(l[n++] = strdup(config_path))) {
                strv_free(l);
                return -ENOMEM;
        }
        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (ScriptContext x = 0; x < _SCRIPT_CONTEXT_MAX; x++) {
                        const ScriptExecutable *exe = &c->events[e].executables[x];
                        if (!c->events[e].present || !script_executable_runs(exe))
                                continue;
                        if (!(l[n++] = strdup(exe->filename))) {
                                strv_free(l);
                                return -ENOMEM;
                        }
                }
        *ret = l;
        return 0;
}

/* Opens the configuration file for reading: through the stored baseline when there is one (so
 * that the bytes read are the bytes verified), else plainly. *ret_tampered tells that it does not
 * match the baseline. Returns the fd or -errno. */
static int config_open(const char *path, const TamperBaseline *stored, bool *ret_tampered) {
        int fd;

        *ret_tampered = false;
        if (stored) {
                fd = tamper_verify_open(stored, path);
                if (fd != -EBADMSG)
                        return fd;
                *ret_tampered = true;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

uint64_t manager_event_wait_usec(Manager *m, ScriptEvent e) {
        const ScriptEventConfig *ec = m->config ? &m->config->events[e] : NULL;

        if (!ec || !ec->present)
                return 0;
        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++)
                if (script_executable_runs(&ec->executables[c]))
                        return ec->waiting_time_sec * USEC_PER_SEC;
        return 0;
}

/* Publishes the events' waiting times for the PAM module (SESSION_SCRIPTS_WAIT_FILE), atomically.
 * Best effort: without it the module bounds a busy registration by the largest waiting time. */
static void manager_write_waiting_times(Manager *m) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(closep) int fd = -EBADF;
        char buf[128];
        int n;

        if (!m->waiting_times_path)
                return;
        n = snprintf(buf, sizeof buf, "%s=%u\n%s=%u\n", SESSION_SCRIPTS_EVENT_START,
                     (unsigned) (manager_event_wait_usec(m, SCRIPT_EVENT_START) / USEC_PER_SEC),
                     SESSION_SCRIPTS_EVENT_TERMINATION,
                     (unsigned) (manager_event_wait_usec(m, SCRIPT_EVENT_TERMINATION) / USEC_PER_SEC));
        if (asprintf(&tmp, "%s.tmp", m->waiting_times_path) < 0) {
                tmp = NULL;
                return;
        }
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || loop_write(fd, buf, (size_t) n) < 0 || rename(tmp, m->waiting_times_path) < 0) {
                log_debug_errno(errno, "Failed to write %s, ignoring: %m", m->waiting_times_path);
                (void) unlink(tmp);
        }
}

static int manager_load_config(Manager *m, bool provision) {
        _cleanup_(script_config_freep) ScriptConfig *c = NULL;
        _cleanup_(finding_list_done) FindingList findings = {};
        _cleanup_(freep) char *buf = NULL, *path = NULL;
        _cleanup_(strv_freep) char **paths = NULL;
        _cleanup_(tamper_baseline_done) TamperBaseline stored = {};
        _cleanup_(closep) int fd = -EBADF;
        TamperBaseline baseline = {};
        bool reuse = false, tampered = false;
        size_t len = 0;
        int r;

        path = strdup(m->config_path_override ?: m->settings.config_file ?: SESSION_SCRIPTS_CONFIG_PATH);
        if (!path)
                return log_oom();

        /* A daemon restarted after its predecessor died (crash, watchdog) checks against what was
         * provisioned (that one's start, or its last reload), not against what is on disk now:
         * otherwise making it crash would bless a modified executable. A clean stop removes the
         * stored baseline (main.c), so a deliberate start or restart provisions anew. */
        if (!provision) {
                r = tamper_baseline_load(m->baseline_path, &stored);
                if (r == -ENOMEM)
                        return log_oom();
                if (r >= 0)
                        reuse = true;
                else if (r != -ENOENT && r != -ESTALE)
                        log_warning_errno(r, "Ignoring the stored tamper baseline %s, recording a new one: %m",
                                          m->baseline_path);
        }

        fd = config_open(path, reuse ? &stored : NULL, &tampered);
        if (fd >= 0)
                r = read_fd_bounded(fd, SCRIPT_CONFIG_MAX_FILE_SIZE, &buf, &len);
        else
                r = fd;
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                if (r == -ENOENT)
                        log_notice("No configuration file %s; %s", path,
                                   m->config ? "keeping the previous configuration." :
                                               "no session scripts will run.");
                else
                        log_error_errno(r, "Failed to read configuration file %s%s: %m; %s", path,
                                        r == -EFBIG ? " (too large)" : "",
                                        m->config ? "keeping the previous configuration." :
                                                    "no session scripts will run.");
                return -EBADMSG;
        }

        r = script_config_parse(buf, len, &c, &findings);
        if (r == -ENOMEM)
                return log_oom();
        if (r >= 0) {
                r = script_config_check_files(c, path, &findings);
                if (r < 0)
                        return log_oom();
        }
        log_findings(path, &findings);

        if (findings.n_errors > 0 || !c) {
                log_error("Configuration %s has %zu error(s); %s", path, findings.n_errors,
                          m->config ? "keeping the previous configuration." : "no session scripts will run.");
                return -EBADMSG;
        }

        if (reuse) {
                baseline = stored;
                stored = (TamperBaseline) {};
        } else {
                /* The instance is "provisioned" now: record what the executables are, so that a
                 * later change is caught before a run (docs/behaviour.md §3, tamper check), and keep
                 * the record for a restarted daemon. */
                r = config_collect_paths(c, path, &paths);
                if (r < 0)
                        return log_oom();
                r = tamper_baseline_record(&baseline, paths);
                if (r < 0)
                        return log_error_errno(r, "Failed to record the tamper baseline: %m");
                r = tamper_baseline_save(&baseline, m->baseline_path);
                if (r < 0)
                        log_warning_errno(r, "Failed to store the tamper baseline in %s, a restarted daemon will record a new one: %m",
                                          m->baseline_path);
        }

        tamper_baseline_done(&m->baseline);
        m->baseline = baseline;
        m->config_tampered = tampered;
        script_config_free(m->config);
        m->config = TAKE_PTR(c);
        free(m->config_path);
        m->config_path = TAKE_PTR(path);
        manager_write_waiting_times(m);

        if (tampered)
                log_error("Configuration %s was modified after the instance was provisioned; none of its executables will run until the daemon is reloaded (systemctl reload session-scripts.service).",
                          m->config_path);
        else if (reuse)
                /* Not "Loaded configuration …": `session-scripts status` reads the time of the last
                 * recording from that entry, and nothing was recorded now. */
                log_info("Using configuration %s (%zu warning(s)) with the tamper baseline of %zu file(s) recorded when the instance was provisioned.",
                         m->config_path, findings.n_warnings, m->baseline.n);
        else
                log_info("Loaded configuration %s (%zu warning(s)); tamper baseline of %zu file(s) recorded.",
                         m->config_path, findings.n_warnings, m->baseline.n);
        return 0;
}

int manager_load(Manager *m, bool provision) {
        Settings s = {};
        char *lang = NULL;
        bool settings_failed = false;
        int r;

        r = settings_load(m->settings_path, &s, settings_report, m);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_error_errno(r, "Failed to read settings %s: %m; keeping the previous settings.",
                                m->settings_path ?: SESSION_SCRIPTS_SETTINGS_PATH);
                settings_failed = true;
        } else {
                settings_done(&m->settings);
                m->settings = s;
        }

        if (!m->settings.bucket && !m->bucket_logged) {
                log_info("No Bucket= configured in [S3]; session script logs go to the journal only.");
                m->bucket_logged = true;
        }

        r = locale_lang_read(USER_ENV_LOCALE_PATH, &lang);
        if (r < 0)
                log_warning_errno(r, "Failed to read %s, using LANG=%s: %m", USER_ENV_LOCALE_PATH,
                                  USER_ENV_LANG_DEFAULT);
        free(m->lang);
        m->lang = r > 0 ? lang : NULL;

        r = manager_load_config(m, provision);
        if (r < 0)
                return r;
        return settings_failed ? -EBADMSG : 0;
}

int manager_reload(Manager *m) {
        int r;

        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration…");
        r = manager_load(m, true);
        (void) sd_notify(false, "READY=1\nSTATUS=Processing requests…");
        return r;
}

/* ---- Forgetting sessions --------------------------------------------------------------------- */

static int on_trim(sd_event_source *source, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->trim_source = sd_event_source_disable_unref(m->trim_source);
        /* A burst of logins leaves the heap fragmented: free pages in the middle of it go back to
         * the kernel only when asked, so the daemon's memory would otherwise stay at what its
         * busiest moment needed. */
        (void) malloc_trim(0);
        return 0;
}

/* Trims the heap once forgetting has quietened down: at most one trim per MANAGER_TRIM_DELAY_USEC,
 * coalesced so that a burst of ending sessions costs one trim, not one each. */
static void manager_schedule_trim(Manager *m) {
        int r;

        if (m->trim_source)
                return;
        r = sd_event_add_time_relative(m->event, &m->trim_source, CLOCK_MONOTONIC, MANAGER_TRIM_DELAY_USEC,
                                       USEC_PER_SEC, on_trim, m);
        if (r < 0)
                log_debug_errno(r, "Failed to arm the heap trim timer, ignoring: %m");
}

/* Drops a session: its state file, its entry in the list, the object. A refused session announces
 * its end now (an accepted one did so when its termination finished) and is only hidden at first
 * (see Session.hidden); the next call, MANAGER_FORGET_DELAY_USEC later, frees it. The caller must
 * not be inside a callback of one of s's runs (use manager_arm_forget_session() with delay 0 there). */
static void manager_forget_session(Manager *m, Session *s) {
        int r;

        if (!s->hidden) {
                r = session_state_remove(s->id, m->sessions_dir);
                if (r < 0)
                        log_warning_errno(r, "Failed to remove state of session %s, ignoring: %m", s->id);
        }

        if (s->refused && !s->hidden) {
                manager_dbus_emit_session_ended(m, s);
                log_debug("Forgetting refused session %s; its id stays refused for a while.", s->id);
                s->hidden = true;
                s->forget_source = sd_event_source_disable_unref(s->forget_source);
                manager_arm_forget_session(m, s, MANAGER_FORGET_DELAY_USEC);
                return;
        }

        log_debug("Forgetting session %s.", s->id);
        manager_unlink_session(m, s);
        session_free(s);
        manager_schedule_trim(m);
}

static int on_forget(sd_event_source *source, uint64_t usec, void *userdata) {
        Session *s = userdata;

        manager_forget_session(s->manager, s);
        return 0;
}

/* The late forget may be coalesced by a second; an immediate one gets accuracy 1 µs (0 would mean
 * sd-event's default of 250 ms), so a refused session is gone without delay. */
void manager_arm_forget_session(Manager *m, Session *s, uint64_t delay_usec) {
        int r;

        if (s->forget_source)
                return;
        r = sd_event_add_time_relative(m->event, &s->forget_source, CLOCK_MONOTONIC, delay_usec,
                                       delay_usec > 0 ? USEC_PER_SEC : 1, on_forget, s);
        if (r < 0)
                log_warning_errno(r, "Failed to arm forget timer of session %s, ignoring: %m", s->id);
}

/* ---- Sessions -------------------------------------------------------------------------------- */

/* A metadata value from the PAM environment when usable, else the setting. Values that become S3 key
 * components must not contain '/'. */
static int pick_metadata(const char *name, const char *from_env, const char *from_settings, bool key_component,
                         char **ret) {
        const char *v = from_settings ?: "default";

        if (from_env && from_env[0]) {
                if (session_metadata_is_valid(from_env) && !(key_component && strchr(from_env, '/')))
                        v = from_env;
                else
                        log_warning("Ignoring invalid %s from the PAM environment.", name);
        }
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static void session_journal_opened(const Session *s) {
        const char *hf = home_folder_status_to_string(s->home_folder_status);

        (void) sd_journal_send("MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_HOME_FOLDER,
                               "MESSAGE=Home folder mount status of session %s (user %s): %s", s->id, s->user, hf,
                               "PRIORITY=%i", LOG_INFO,
                               SESSION_SCRIPTS_FIELD_HOME_FOLDER_STATUS "=%s", hf,
                               SESSION_SCRIPTS_FIELD_SESSION_ID "=%s", s->id,
                               SESSION_SCRIPTS_FIELD_USER "=%s", s->user,
                               NULL);
        (void) sd_journal_send("MESSAGE_ID=" SESSION_SCRIPTS_MESSAGE_SESSION_OPENED,
                               "MESSAGE=Session %s of user %s opened (PAM service %s).", s->id, s->user,
                               s->service && s->service[0] ? s->service : "unknown",
                               "PRIORITY=%i", LOG_INFO,
                               SESSION_SCRIPTS_FIELD_SESSION_ID "=%s", s->id,
                               SESSION_SCRIPTS_FIELD_USER "=%s", s->user,
                               "SESSION_SCRIPTS_SERVICE=%s", s->service ?: "",
                               "SESSION_SCRIPTS_USER_NAME=%s", s->user_name,
                               "SESSION_SCRIPTS_ACCESS_MODE=%s", s->access_mode,
                               "SESSION_SCRIPTS_STACK_NAME=%s", s->stack_name,
                               "SESSION_SCRIPTS_RESOURCE_NAME=%s", s->resource_name,
                               NULL);
}

/*
 * Only when the table is full: drops the oldest session that is over and only lingers for late
 * callers (its termination done, a manual run finished, a refused session keeping its id refused:
 * every such session has its forget timer armed). A session whose login ended without a close is
 * not among the live ones for long: logind's word ends it (logind-watch.h). Returns true when one
 * was dropped.
 */
static bool manager_evict_ended_session(Manager *m) {
        Session *victim = NULL;

        for (Session *s = m->sessions; s; s = s->next)
                if (s->forget_source && (!victim || s->since_realtime_usec < victim->since_realtime_usec))
                        victim = s;
        if (!victim)
                return false;

        log_debug("Session table full; forgetting ended session %s early.", victim->id);
        if (!victim->hidden)
                (void) session_state_remove(victim->id, m->sessions_dir);
        manager_unlink_session(m, victim);
        session_free(victim);
        return true;
}

/* With no good configuration (none when the daemon started, or an invalid one), the instance is
 * provisioned when one appears: an image builder or a package's first install starts the daemon
 * before config.json is in place, and the next login must not silently run nothing. Retried at
 * each session start, but read only when config.json changed since the last attempt (identity and
 * times), so a missing or broken file costs one stat(). */
static void manager_retry_config(Manager *m) {
        const char *path = m->config_path_override ?: m->settings.config_file ?: SESSION_SCRIPTS_CONFIG_PATH;
        struct stat st, *last = &m->config_retry_stat;

        if (m->config)
                return;
        if (stat(path, &st) < 0)
                return;
        if (last->st_ino != 0 && st.st_dev == last->st_dev && st.st_ino == last->st_ino &&
            st.st_size == last->st_size && st.st_mtim.tv_sec == last->st_mtim.tv_sec &&
            st.st_mtim.tv_nsec == last->st_mtim.tv_nsec && st.st_ctim.tv_sec == last->st_ctim.tv_sec &&
            st.st_ctim.tv_nsec == last->st_ctim.tv_nsec)
                return;
        *last = st;
        log_info("No configuration was loaded yet and %s is there now; loading it.", path);
        /* Not a provisioning when a crashed predecessor left its baseline: checked against that
         * one, so that removing config.json around a crash cannot bless modified files. */
        (void) manager_load_config(m, false);
}

/* The home-folder status is known: journal it with the opened session, and let the runs of the
 * first event (started already, held until now) execute their scripts with it. */
static void on_home_probe_done(HomeFolderStatus status, void *userdata) {
        Session *s = userdata;
        SessionEvent *ev = &s->events[s->probe_event];

        s->home_probe = NULL;   /* frees itself */
        s->probe_pending = false;
        s->home_folder_status = status;
        session_journal_opened(s);

        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++)
                run_release(ev->runs[c].run, home_folder_status_to_string(status));
}

int manager_open_session(Manager *m, const SessionRequest *req, Session **ret, uint64_t *ret_wait_usec) {
        _cleanup_(session_freep) Session *s = NULL;
        char uuid[SESSION_SCRIPTS_SESSION_ID_UUID_LEN + 1];
        const char *id;
        Session *existing;
        int r;

        if (!req->user || !req->user[0])
                return -EINVAL;

        if (req->session_id && session_id_is_valid(req->session_id))
                id = req->session_id;
        else {
                if (req->session_id && req->session_id[0])
                        log_warning("Ignoring invalid %s from the PAM environment of user %s; generating one.",
                                    SESSION_SCRIPTS_ENV_SESSION_ID, req->user);
                r = session_id_generate(uuid);
                if (r < 0)
                        return log_error_errno(r, "Failed to generate a session id: %m");
                id = uuid;
        }

        manager_retry_config(m);

        if (m->n_sessions >= MANAGER_SESSIONS_MAX && !manager_evict_ended_session(m))
                return log_error_errno(EUSERS, "Too many sessions (%u), refusing session of user %s.",
                                       MANAGER_SESSIONS_MAX, req->user);

        s = session_new();
        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->transient = req->transient;
        s->id = strdup(id);
        s->user = strdup(req->user);
        s->service = strdup(req->service ?: "");
        if (!s->id || !s->user || !s->service)
                return -ENOMEM;
        if (req->xdg_session_id && session_metadata_is_valid(req->xdg_session_id) &&
            !(s->xdg_session_id = strdup(req->xdg_session_id)))
                return -ENOMEM;

        r = session_resolve_user(s);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return log_error_errno(r == -ESRCH ? ESRCH : r, "Failed to look up user %s: %m", req->user);

        /* XDG_SESSION_ID is followed (the session ends when logind says so) only when logind knows
         * it as a session of this very user. */
        if (s->xdg_session_id) {
                r = logind_session_belongs_to(s->xdg_session_id, s->uid);
                if (r <= 0) {
                        if (r < 0)
                                log_debug_errno(r, "Failed to ask logind about session %s: %m", s->xdg_session_id);
                        else
                                log_warning("Ignoring XDG_SESSION_ID=%s of user %s: logind knows no such session of that user.",
                                            s->xdg_session_id, s->user);
                        free(s->xdg_session_id);
                        s->xdg_session_id = NULL;
                } else if (m->logind_watch)
                        (void) logind_watch_ensure(m->logind_watch);
        }

        /* A session id names one login of one user. The same id again from the same login (a
         * second line of this module in its stack: same user, same logind session) gets the
         * session as it is, a refused one stays refused. Any other login presenting it — another
         * user, or another login of the same user — never reaches that session nor its stored
         * result: it is registered under an id of its own, and the attempt is journaled. */
        existing = manager_find_session_any(m, id);
        if (existing) {
                if (existing->uid == s->uid && strcmp(existing->user, s->user) == 0 && !existing->transient &&
                    existing->xdg_session_id && s->xdg_session_id &&
                    strcmp(existing->xdg_session_id, s->xdg_session_id) == 0) {
                        if (existing->refused)
                                log_info("Session %s was refused; not registering it again.", id);
                        else
                                log_info("Session %s is already open; not running its start again.", id);
                        *ret = existing;
                        *ret_wait_usec = session_event_remaining_usec(existing, SCRIPT_EVENT_START);
                        return 0;
                }

                r = session_id_generate(uuid);
                if (r < 0)
                        return log_error_errno(r, "Failed to generate a session id: %m");
                log_warning("Session id %s presented by a login of user %s (PAM service %s) is already in use by %s; registering this login as session %s instead.",
                            id, s->user, s->service[0] ? s->service : "unknown",
                            existing->uid == s->uid ? "another login of the same user" : "another user's session",
                            uuid);
                free(s->id);
                s->id = strdup(uuid);
                if (!s->id)
                        return -ENOMEM;
        }

        if (pick_metadata(SESSION_SCRIPTS_ENV_USER_NAME, req->user_name, req->user, false, &s->user_name) < 0 ||
            pick_metadata(SESSION_SCRIPTS_ENV_ACCESS_MODE, req->access_mode, m->settings.access_mode, true,
                          &s->access_mode) < 0 ||
            pick_metadata(SESSION_SCRIPTS_ENV_STACK_NAME, req->stack_name, m->settings.stack_name, true,
                          &s->stack_name) < 0 ||
            pick_metadata(SESSION_SCRIPTS_ENV_RESOURCE_NAME, req->resource_name, m->settings.fleet_name, true,
                          &s->resource_name) < 0)
                return -ENOMEM;

        s->since_realtime_usec = now(CLOCK_REALTIME);

        manager_link_session(m, s);
        manager_dbus_emit_session_started(m, s);

        /* The session is the manager's from here on. */
        Session *t = TAKE_PTR(s);
        ScriptEvent first = SCRIPT_EVENT_START;
        if (t->transient && req->transient_event == SCRIPT_EVENT_START) {
                /* RunEvent SessionStart: no termination follows a manual run. Marked done from the
                 * outset, so that a running manual start lists as start "running", termination
                 * "done" — a login's termination reads "not-run" or "pending" then — and a policy
                 * script that counts a user's active sessions does not count it. */
                session_event_skip(&t->events[SCRIPT_EVENT_TERMINATION]);
        }
        if (t->transient && req->transient_event == SCRIPT_EVENT_TERMINATION) {
                /* RunEvent SessionTermination without a start: the start counts as done, unrun. */
                session_event_skip(&t->events[SCRIPT_EVENT_START]);
                first = SCRIPT_EVENT_TERMINATION;
        }
        /* The home-folder status is read off the event loop, as the user, bounded (home-probe.h).
         * Its reader starts first and the first event's runs right after, so that the reader runs
         * while systemd sets up the runs' scopes; the runs execute their scripts once the status is
         * known, with it in their environment (RunParams.hold, released by on_home_probe_done(),
         * which is never called from within home_probe_start()). */
        t->probe_event = first;
        t->probe_pending = true;
        int probe_r = home_probe_start(m->event, t->home, t->uid, t->gid, t->groups, t->n_groups,
                                       on_home_probe_done, t, &t->home_probe);

        r = session_event_start(t, first);
        if (r < 0)
                log_warning_errno(r, "Starting the scripts of session %s failed partly: %m", t->id);

        if (probe_r < 0) {
                log_warning_errno(probe_r, "Failed to start reading the home-folder status of user %s, assuming Unknown: %m",
                                  t->user);
                on_home_probe_done(HOME_FOLDER_STATUS_UNKNOWN, t);
        }

        /* The login may be over already (a PAMName= unit whose process exited at once): its
         * termination then follows the start. */
        session_logind_check(t);

        *ret = t;
        *ret_wait_usec = session_event_remaining_usec(t, first);
        return 0;
}

int manager_close_session(Manager *m, const char *id, const SessionRequest *req, Session **ret,
                          uint64_t *ret_wait_usec) {
        Session *s;
        int r;

        s = session_resolve(m->sessions, id, req ? req->session_id : NULL, req ? req->xdg_session_id : NULL);
        /* A refused session never existed for the user: there is nothing to terminate. */
        if (!s || s->refused || s->transient)
                return -ESRCH;

        /* A session belongs to the user who opened it: a close that names it for somebody else (a
         * session id taken from a PAM environment another user could influence) never ends it. */
        if (req && req->user && strcmp(req->user, s->user) != 0) {
                log_warning("Refusing to close session %s of user %s for user %s: the session id is not theirs.",
                            s->id, s->user, req->user);
                return -EPERM;
        }

        r = session_begin_termination(s);
        if (r == -EALREADY) {
                if (s->termination_by_logind && !s->close_seen) {
                        /* logind told us first that the session ended (its record may be written
                         * before close_session reaches us): this is still the login program's own
                         * close, and it waits for the termination as always. */
                        s->close_seen = true;
                        if (s->events[SCRIPT_EVENT_TERMINATION].state != EVENT_STATE_DONE)
                                session_save(s);        /* a done one has no state file any more */
                        *ret = s;
                        *ret_wait_usec = session_termination_wait_usec(s);
                        return 0;
                }
                log_info("Termination of session %s was requested before; not running it again.", s->id);
                *ret = s;
                *ret_wait_usec = 0;
                return 0;
        }

        s->close_seen = true;
        *ret = s;
        *ret_wait_usec = session_termination_wait_usec(s);
        return 0;
}

static void on_logind_changed(const char *logind_session_id, void *userdata) {
        Manager *m = userdata;
        Session *next;

        for (Session *s = m->sessions; s; s = next) {
                next = s->next;
                if (s->xdg_session_id && (!logind_session_id || strcmp(s->xdg_session_id, logind_session_id) == 0))
                        session_logind_check(s);
        }
}

int manager_wait_session_event(Manager *m, Session *s, ScriptEvent e, sd_bus_message *msg) {
        return session_event_wait(s, e, msg);
}

int manager_refuse_session(Manager *m, Session *s) {
        SessionEvent *start = &s->events[SCRIPT_EVENT_START];
        int r;

        if (s->refused)
                return 0; /* said before: nothing changes */

        /* Once termination scripts run, the session existed for the user; too late to refuse. A
         * CloseSession that came during the start is cancelled: nothing will run for it. */
        r = session_termination_refuse(s);
        if (r < 0)
                return r;

        s->refused = true;
        log_notice("Session %s of user %s was refused by the PAM module; its termination will not run.", s->id,
                   s->user);

        if (start->state == EVENT_STATE_RUNNING) {
                /* The module gave up waiting (timeout), or its scripts are done but left processes
                 * behind. Those leftovers must not keep running as the user of a refused session:
                 * stop them now rather than at the deadline. A script still running is left to
                 * its deadline, so that its result is the script's own. Forget the session when
                 * the start ends, so that its RunFinished signals still come before SessionEnded.
                 * Saved, so a restarted daemon forgets it too. */
                for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                        const SessionRun *sr = &start->runs[c];

                        if (sr->finished && sr->scope_watch && sr->unit)
                                (void) unit_stop(m->bus, sr->unit);
                }
                session_save(s);
                return 0;
        }

        /* Called from a bus handler, not from a run's callback: safe to free right away, so that
         * the very next ListSessions no longer shows it. */
        manager_forget_session(m, s);
        return 0;
}

/* ---- Restart --------------------------------------------------------------------------------- */

static int mkdir_safe(const char *path, mode_t mode) {
        struct stat st;

        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return -errno;
        /* Session state is root's: refuse a directory that is a symlink or someone else's. */
        if (lstat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
                return -ENOTDIR;
        if (chmod(path, mode) < 0)
                return -errno;
        return 0;
}

int manager_load_sessions(Manager *m) {
        _cleanup_(closedirp) DIR *d = NULL;
        Session *loaded = NULL;
        struct dirent *de;
        size_t n = 0;
        int r;

        /* /run/session-scripts is the unit's RuntimeDirectory (preserved across restarts). */
        r = mkdir_safe(SESSION_SCRIPTS_RUNTIME_DIR, 0755);
        if (r >= 0)
                r = mkdir_safe(m->sessions_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to prepare %s: %m", m->sessions_dir);

        d = opendir(m->sessions_dir);
        if (!d)
                return log_error_errno(errno, "Failed to open %s: %m", m->sessions_dir);

        /* Before the sessions are resumed: one that ended while no daemon ran is found below. */
        if (!m->logind_watch) {
                r = logind_watch_new(m->event, on_logind_changed, m, &m->logind_watch);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        log_warning_errno(r, "Failed to follow logind's sessions, sessions end at close_session only: %m");
        }

        while ((de = readdir(d))) {
                Session *s = NULL;

                if (de->d_name[0] == '.') {
                        /* Leftovers of an interrupted atomic write. */
                        if (strncmp(de->d_name, ".#", 2) == 0)
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                if (n >= MANAGER_SESSIONS_MAX) {
                        log_warning("More than %u session state files; ignoring the rest.", MANAGER_SESSIONS_MAX);
                        break;
                }

                r = session_state_load(m->sessions_dir, de->d_name, &s);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0 || strcmp(s->id, de->d_name) != 0) {
                        log_warning_errno(r < 0 ? r : EBADMSG, "Removing unusable session state %s/%s: %m",
                                          m->sessions_dir, de->d_name);
                        session_free(s);
                        (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }

                s->next = loaded;
                loaded = s;
                n++;
        }

        while (loaded) {
                Session *s = loaded;
                SessionEvent *start = &s->events[SCRIPT_EVENT_START], *term = &s->events[SCRIPT_EVENT_TERMINATION];

                loaded = s->next;
                s->next = NULL;
                manager_link_session(m, s);

                r = session_resolve_user(s);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        log_warning_errno(r, "Failed to look up user %s of session %s, its scripts cannot run: %m",
                                          s->user, s->id);

                /* Fill metadata a damaged file may lack. */
                if ((!s->user_name && !(s->user_name = strdup(s->user))) ||
                    (!s->access_mode && !(s->access_mode = strdup(m->settings.access_mode ?: "custom"))) ||
                    (!s->stack_name && !(s->stack_name = strdup(m->settings.stack_name ?: "default"))) ||
                    (!s->resource_name && !(s->resource_name = strdup(m->settings.fleet_name ?: "default"))))
                        return log_oom();

                if (s->refused) {
                        /* Refused before the restart: nothing more happens to it (no termination),
                         * so there is nothing to wait for either. Forget it, as the previous
                         * daemon would have, and never terminate it. */
                        if (session_event_mark_done_unknown(start) < 0 ||
                            (term->state != EVENT_STATE_NOT_RUN &&
                             session_event_mark_done_unknown(term) < 0))
                                return log_oom();
                        log_info("Session %s of user %s was refused; forgetting it.", s->id, s->user);
                        manager_forget_session(m, s);
                        continue;
                }

                /* An event that was running when the previous daemon ended goes on while its scopes
                 * do (systemd stops them at their deadline); a close must wait for that. A start
                 * that was not running is past. */
                for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++) {
                        r = session_event_resume(s, e);
                        if (r < 0)
                                return r;
                }

                log_info("Resumed session %s of user %s (start %s, termination %s).", s->id, s->user,
                         event_state_to_string(start->state), event_state_to_string(term->state));

                if (term->state == EVENT_STATE_PENDING && start->state == EVENT_STATE_DONE)
                        /* CloseSession came before the restart; the start is over now. */
                        (void) session_event_start(s, SCRIPT_EVENT_TERMINATION);
                else {
                        /* A pending termination starts when the resumed start is over. */
                        session_save(s);
                        if (term->state == EVENT_STATE_DONE)
                                manager_arm_forget_session(m, s, MANAGER_FORGET_DELAY_USEC);
                }
        }

        /* Login sessions that ended while no daemon was running (a killed login program, a
         * PAMName= unit that stopped meanwhile) end here, exactly once: their termination state is
         * in the state files. */
        on_logind_changed(NULL, m);
        return 0;
}
