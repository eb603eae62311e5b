/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Session object and its event-loop-free parts: id rules, user lookup, the state file that
 * lets a restarted daemon still run a session's termination exactly once, the user-facing result
 * sentences, and CloseSession's id resolution. See session.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc-util.h"
#include "cleanup.h"
#include "fileio.h"
#include "hexdecoct.h"
#include "output.h"
#include "regular-file.h"
#include "session.h"

/* A state file is a few short lines; anything bigger is not ours. */
#define SESSION_STATE_FILE_MAX (64U * 1024U)

/* Bounds of the user database lookups (a sane NSS entry is far smaller). */
#define PASSWD_BUFFER_MAX (1024U * 1024U)
#define GROUPS_MAX 65536

Session *session_new(void) {
        Session *s = calloc(1, sizeof(Session));
        if (!s)
                return NULL;

        s->uid = (uid_t) -1;
        s->gid = (gid_t) -1;
        s->home_folder_status = HOME_FOLDER_STATUS_UNKNOWN;
        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++)
                for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                        s->events[e].runs[c].session = s;
                        s->events[e].runs[c].event = e;
                        s->events[e].runs[c].context = c;
                }
        return s;
}

static void session_run_done(SessionRun *r) {
        r->scope_watch = unit_watch_free(r->scope_watch);
        if (r->run) {
                /* The run goes on capturing to its end, but must not call back into a freed session. */
                run_detach(r->run);
                r->run = run_unref(r->run);
        }
        r->executable = mfree(r->executable);
        r->unit = mfree(r->unit);
        r->last_line = mfree(r->last_line);
        r->error = mfree(r->error);
}

Session *session_free(Session *s) {
        if (!s)
                return NULL;

        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++) {
                SessionEvent *ev = &s->events[e];

                for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++)
                        session_run_done(&ev->runs[c]);
                for (size_t i = 0; i < ev->n_waiters; i++)
                        sd_bus_message_unref(ev->waiters[i]);
                free(ev->waiters);
                sd_event_source_disable_unref(ev->overdue_source);
                free(ev->message);
                free(ev->last_line);
        }

        home_probe_cancel(s->home_probe);
        sd_event_source_disable_unref(s->forget_source);
        free(s->id);
        free(s->user);
        free(s->service);
        free(s->xdg_session_id);
        free(s->home);
        free(s->shell);
        free(s->groups);
        free(s->user_name);
        free(s->access_mode);
        free(s->stack_name);
        free(s->resource_name);
        free(s);
        return NULL;
}

int session_resolve_user(Session *s) {
        _cleanup_(freep) char *buf = NULL, *home = NULL, *shell = NULL;
        _cleanup_(freep) gid_t *groups = NULL;
        struct passwd pw, *result = NULL;
        long sz;
        size_t bufsize;
        int ngroups, r;

        if (!s || !s->user)
                return -EINVAL;

        sz = sysconf(_SC_GETPW_R_SIZE_MAX);
        bufsize = sz > 0 ? (size_t) sz : 16384;
        for (;;) {
                free(buf);
                buf = malloc(bufsize);
                if (!buf)
                        return -ENOMEM;

                r = getpwnam_r(s->user, &pw, buf, bufsize, &result);
                if (r == 0)
                        break;
                if (r != ERANGE || bufsize >= PASSWD_BUFFER_MAX)
                        return -r;
                bufsize *= 2;
        }
        if (!result)
                return -ESRCH;

        home = strdup(pw.pw_dir && pw.pw_dir[0] == '/' ? pw.pw_dir : "/");
        shell = strdup(pw.pw_shell && pw.pw_shell[0] == '/' ? pw.pw_shell : "/bin/sh");
        if (!home || !shell)
                return -ENOMEM;

        /* getgrouplist() includes the primary group; it tells us the size it needs when the buffer
         * is too small. */
        ngroups = 64;
        for (;;) {
                int n = ngroups;

                free(groups);
                groups = calloc((size_t) n, sizeof(gid_t));
                if (!groups)
                        return -ENOMEM;

                if (getgrouplist(s->user, pw.pw_gid, groups, &n) >= 0) {
                        ngroups = n;
                        break;
                }
                if (n <= ngroups || n > GROUPS_MAX)
                        return -E2BIG;
                ngroups = n;
        }

        s->uid = pw.pw_uid;
        s->gid = pw.pw_gid;
        free_and_replace(s->home, home);
        free_and_replace(s->shell, shell);
        free_and_replace(s->groups, groups);
        s->n_groups = (size_t) ngroups;
        s->user_resolved = true;
        return 0;
}

bool session_metadata_is_valid(const char *v) {
        char buf[SESSION_METADATA_MAX + 1];
        size_t n;

        if (!v)
                return false;
        n = strlen(v);
        if (n < 1 || n > SESSION_METADATA_MAX)
                return false;

        /* Valid exactly when sanitising (UTF-8 repair, control characters dropped) changes nothing. */
        return utf8_sanitize(buf, sizeof buf, v, n, true) == n && memcmp(buf, v, n) == 0;
}

/* ---- State file ------------------------------------------------------------------------------ */

static int escape_value(FILE *f, const char *v) {
        for (const unsigned char *p = (const unsigned char *) (v ?: ""); *p; p++) {
                if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        return 0;
}

/* Reverses escape_value() on s[0..len). Returns 0 and a new string, -EBADMSG, -ENOMEM. */
static int unescape_value(const char *s, size_t len, char **ret) {
        _cleanup_(freep) char *out = malloc(len + 1);
        size_t j = 0;

        if (!out)
                return -ENOMEM;

        for (size_t i = 0; i < len; i++) {
                if (s[i] != '\\') {
                        out[j++] = s[i];
                        continue;
                }
                if (++i >= len)
                        return -EBADMSG;
                if (s[i] == '\\')
                        out[j++] = '\\';
                else if (s[i] == 'n')
                        out[j++] = '\n';
                else if (s[i] == 'x' && i + 2 < len) {
                        int a = unhexchar(s[i + 1]), b = unhexchar(s[i + 2]);
                        if (a < 0 || b < 0 || (a == 0 && b == 0))
                                return -EBADMSG;
                        out[j++] = (char) (a << 4 | b);
                        i += 2;
                } else
                        return -EBADMSG;
        }
        out[j] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static void write_field(FILE *f, const char *key, const char *value) {
        fputs(key, f);
        fputc('=', f);
        escape_value(f, value);
        fputc('\n', f);
}

static const char *const event_key_prefix[_SCRIPT_EVENT_MAX] = {
        [SCRIPT_EVENT_START] = "START",
        [SCRIPT_EVENT_TERMINATION] = "TERMINATION",
};

int session_state_serialize(const Session *s, char **ret) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0;
        FILE *f;
        char num[64];

        if (!s || !s->id)
                return -EINVAL;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fputs("# session-scriptsd session state; do not edit\n", f);
        write_field(f, "ID", s->id);
        write_field(f, "USER", s->user);
        (void) snprintf(num, sizeof num, "%" PRIu32, (uint32_t) s->uid);
        write_field(f, "UID", num);
        write_field(f, "SERVICE", s->service);
        if (s->xdg_session_id)
                write_field(f, "XDG_SESSION_ID", s->xdg_session_id);
        write_field(f, "USER_NAME", s->user_name);
        write_field(f, "ACCESS_MODE", s->access_mode);
        write_field(f, "STACK_NAME", s->stack_name);
        write_field(f, "RESOURCE_NAME", s->resource_name);
        write_field(f, "HOME_FOLDER_STATUS", home_folder_status_to_string(s->home_folder_status));
        (void) snprintf(num, sizeof num, "%" PRIu64, s->since_realtime_usec);
        write_field(f, "SINCE_REALTIME_USEC", num);
        if (s->refused)
                write_field(f, "REFUSED", "yes");
        /* A close that comes after a restart still waits for a termination logind's word started. */
        if (s->termination_by_logind && !s->close_seen)
                write_field(f, "TERMINATION_BY_LOGIND", "yes");

        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++) {
                const SessionEvent *ev = &s->events[e];

                fprintf(f, "%s_STATE=%s\n", event_key_prefix[e], event_state_to_string(ev->state));
                if (ev->state == EVENT_STATE_RUNNING) {
                        /* What a restarted daemon needs to wait for the runs of this instance. */
                        fprintf(f, "%s_DEADLINE_USEC=%" PRIu64 "\n", event_key_prefix[e], ev->deadline_usec);
                        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                                const SessionRun *r = &ev->runs[c];
                                const char *unit = session_run_get_unit(r);

                                if (unit && (r->scope_watch || (r->used && !r->finished)))
                                        fprintf(f, "%s_UNIT_%s=%s\n", event_key_prefix[e],
                                                c == SCRIPT_CONTEXT_SYSTEM ? "SYSTEM" : "USER", unit);
                        }
                }
                if (ev->state != EVENT_STATE_DONE && !ev->result_recorded)
                        continue;
                fprintf(f, "%s_SUCCESS=%s\n", event_key_prefix[e], ev->success ? "yes" : "no");
                fprintf(f, "%s_MESSAGE=", event_key_prefix[e]);
                escape_value(f, ev->message);
                fputc('\n', f);
                fprintf(f, "%s_LAST_LINE=", event_key_prefix[e]);
                escape_value(f, ev->last_line);
                fputc('\n', f);
        }

        if (fclose(f) != 0 || !buf)
                return -ENOMEM;

        *ret = TAKE_PTR(buf);
        return 0;
}

static int parse_uint64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

static HomeFolderStatus home_folder_status_from_string(const char *s) {
        if (strcmp(s, "True") == 0)
                return HOME_FOLDER_STATUS_TRUE;
        if (strcmp(s, "False") == 0)
                return HOME_FOLDER_STATUS_FALSE;
        return HOME_FOLDER_STATUS_UNKNOWN;
}

/* Applies one KEY=value to s. Returns 0, -EBADMSG, -ENOMEM. */
static int session_state_apply(Session *s, const char *key, size_t klen, char *value) {
        static const struct {
                const char *key;
                size_t offset;
        } strings[] = {
                { "ID", offsetof(Session, id) },
                { "USER", offsetof(Session, user) },
                { "SERVICE", offsetof(Session, service) },
                { "XDG_SESSION_ID", offsetof(Session, xdg_session_id) },
                { "USER_NAME", offsetof(Session, user_name) },
                { "ACCESS_MODE", offsetof(Session, access_mode) },
                { "STACK_NAME", offsetof(Session, stack_name) },
                { "RESOURCE_NAME", offsetof(Session, resource_name) },
        };
        uint64_t u;

#define KEY_IS(k) (klen == strlen(k) && memcmp(key, k, klen) == 0)

        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (KEY_IS(strings[i].key)) {
                        char **p = (char **) ((uint8_t *) s + strings[i].offset);
                        free(*p);
                        *p = value;
                        return 1; /* value taken */
                }

        if (KEY_IS("UID")) {
                if (parse_uint64(value, &u) < 0 || u >= (uid_t) -1)
                        return -EBADMSG;
                s->uid = (uid_t) u;
                return 0;
        }
        if (KEY_IS("SINCE_REALTIME_USEC")) {
                if (parse_uint64(value, &u) < 0)
                        return -EBADMSG;
                s->since_realtime_usec = u;
                return 0;
        }
        if (KEY_IS("HOME_FOLDER_STATUS")) {
                s->home_folder_status = home_folder_status_from_string(value);
                return 0;
        }
        if (KEY_IS("REFUSED")) {
                s->refused = strcmp(value, "yes") == 0;
                return 0;
        }
        if (KEY_IS("TERMINATION_BY_LOGIND")) {
                s->termination_by_logind = strcmp(value, "yes") == 0;
                return 0;
        }

        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++) {
                size_t pl = strlen(event_key_prefix[e]);
                SessionEvent *ev = &s->events[e];
                const char *rest;
                size_t rl;

                if (klen <= pl + 1 || memcmp(key, event_key_prefix[e], pl) != 0 || key[pl] != '_')
                        continue;
                rest = key + pl + 1;
                rl = klen - pl - 1;

                if (rl == 5 && memcmp(rest, "STATE", 5) == 0) {
                        int st = event_state_from_string(value);
                        if (st < 0)
                                return -EBADMSG;
                        ev->state = st;
                        return 0;
                }
                if (rl == 7 && memcmp(rest, "SUCCESS", 7) == 0) {
                        ev->success = strcmp(value, "yes") == 0;
                        ev->result_recorded = true;
                        return 0;
                }
                if (rl == 7 && memcmp(rest, "MESSAGE", 7) == 0) {
                        free_and_replace(ev->message, value);
                        return 1;
                }
                if (rl == 9 && memcmp(rest, "LAST_LINE", 9) == 0) {
                        free_and_replace(ev->last_line, value);
                        return 1;
                }
                if (rl == 13 && memcmp(rest, "DEADLINE_USEC", 13) == 0) {
                        if (parse_uint64(value, &u) < 0)
                                return -EBADMSG;
                        ev->deadline_usec = u;
                        return 0;
                }
                if ((rl == 11 && memcmp(rest, "UNIT_SYSTEM", 11) == 0) ||
                    (rl == 9 && memcmp(rest, "UNIT_USER", 9) == 0)) {
                        SessionRun *r = &ev->runs[rest[5] == 'S' ? SCRIPT_CONTEXT_SYSTEM : SCRIPT_CONTEXT_USER];

                        /* Only a name that can be ours is ever asked about (it came from a file). */
                        if (!unit_name_is_scope(value))
                                return 0;
                        free_and_replace(r->unit, value);
                        return 1;
                }
        }
#undef KEY_IS

        return 0; /* unknown keys are ignored: a newer daemon may write more */
}

int session_state_deserialize(const char *buf, size_t len, Session **ret) {
        _cleanup_(session_freep) Session *s = session_new();
        const char *p = buf, *end = buf + len;
        int r;

        if (!s)
                return -ENOMEM;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)) ?: end;
                const char *eq;
                char *value = NULL;

                if (eol > p && *p != '#') {
                        eq = memchr(p, '=', (size_t) (eol - p));
                        if (!eq)
                                return -EBADMSG;
                        r = unescape_value(eq + 1, (size_t) (eol - eq - 1), &value);
                        if (r < 0)
                                return r;
                        r = session_state_apply(s, p, (size_t) (eq - p), value);
                        if (r <= 0)
                                free(value);
                        if (r < 0)
                                return r;
                }
                p = eol + 1;
        }

        if (!session_id_is_valid(s->id) || !s->user || !s->user[0])
                return -EBADMSG;

        /* Fill what an older or damaged file may lack, so the rest of the daemon can rely on it. */
        for (ScriptEvent e = 0; e < _SCRIPT_EVENT_MAX; e++) {
                SessionEvent *ev = &s->events[e];
                if (ev->state == EVENT_STATE_DONE) {
                        if (!ev->message && !(ev->message = strdup("")))
                                return -ENOMEM;
                        if (!ev->last_line && !(ev->last_line = strdup("")))
                                return -ENOMEM;
                }
        }
        if (!s->service && !(s->service = strdup("")))
                return -ENOMEM;

        *ret = TAKE_PTR(s);
        return 0;
}

int session_state_save(const Session *s, const char *dir) {
        _cleanup_(freep) char *buf = NULL, *tmp = NULL, *path = NULL;
        _cleanup_(closep) int fd = -EBADF, dfd = -EBADF;
        size_t len;
        int r;

        r = session_state_serialize(s, &buf);
        if (r < 0)
                return r;
        len = strlen(buf);

        if (asprintf(&path, "%s/%s", dir, s->id) < 0 || asprintf(&tmp, "%s/.#%s.tmp", dir, s->id) < 0)
                return -ENOMEM;

        /* The state names users and metadata: root only (0600). O_NOFOLLOW: never write through a
         * link someone placed there. */
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;

        r = loop_write(fd, buf, len);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        if (fsync(fd) < 0 || rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }

        /* Make the rename itself durable (matters little on /run, but costs nothing). */
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}

int session_state_remove(const char *id, const char *dir) {
        _cleanup_(freep) char *path = NULL;

        if (!session_id_is_valid(id))
                return -EINVAL;
        if (asprintf(&path, "%s/%s", dir, id) < 0)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int session_state_load(const char *dir, const char *name, Session **ret) {
        _cleanup_(freep) char *path = NULL, *buf = NULL;
        size_t n;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;

        r = read_regular_file_at(AT_FDCWD, path, O_NOFOLLOW, SESSION_STATE_FILE_MAX - 1, &buf, &n);
        if (r == -EBADFD || r == -EISDIR)
                return -EBADMSG;        /* not a state file */
        if (r < 0)
                return r;

        return session_state_deserialize(buf, n, ret);
}

/* ---- Results --------------------------------------------------------------------------------- */

int session_run_describe_failure(const SessionRun *run, char **ret) {
        const char *ctx = script_context_to_string(run->context) ?: "unknown";
        const char *exe = run->executable ?: "(unknown)";
        char *m = NULL;
        int r = 0;

        if (!run->used || !run->finished || run->kind == RUN_RESULT_SUCCESS) {
                *ret = NULL;
                return 0;
        }

        switch (run->kind) {
        case RUN_RESULT_EXIT_CODE:
                r = asprintf(&m, "Session script %s (%s context) exited with status %d.", exe, ctx,
                             run->exit_status);
                break;
        case RUN_RESULT_SIGNAL: {
                const char *name = run->signal > 0 ? sigabbrev_np(run->signal) : NULL;
                if (name)
                        r = asprintf(&m, "Session script %s (%s context) was killed by signal SIG%s.", exe,
                                     ctx, name);
                else
                        r = asprintf(&m, "Session script %s (%s context) was killed by signal %d.", exe,
                                     ctx, run->signal);
                break;
        }
        case RUN_RESULT_TIMEOUT:
                r = asprintf(&m, "Session script %s (%s context) did not finish within %u seconds and was stopped.",
                             exe, ctx, run->waiting_time_sec);
                break;
        case RUN_RESULT_TAMPERED:
                r = asprintf(&m,
                             "Session script %s (%s context) was not run: the executable was modified after the instance was provisioned.",
                             exe, ctx);
                break;
        case RUN_RESULT_FAILED:
        default:
                if (run->error && run->error[0]) {
                        size_t el = strlen(run->error);
                        /* The runner's sentence may or may not end with a period. */
                        r = asprintf(&m, "Session script %s (%s context) could not be started: %s%s", exe, ctx,
                                     run->error, run->error[el - 1] == '.' ? "" : ".");
                } else
                        r = asprintf(&m, "Session script %s (%s context) could not be started.", exe, ctx);
                break;
        }
        if (r < 0)
                return -ENOMEM;

        *ret = m;
        return 0;
}

const char *session_run_get_unit(const SessionRun *r) {
        return r->unit ?: (r->run ? run_get_unit(r->run) : NULL);
}

int session_event_compose_result(SessionEvent *e) {
        char message[SESSION_MESSAGE_MAX + 1] = "";
        const char *last_line = NULL;
        _cleanup_(freep) char *m_copy = NULL, *l_copy = NULL;
        bool success = true;
        size_t n = 0;
        int r;

        for (ScriptContext c = 0; c < _SCRIPT_CONTEXT_MAX; c++) {
                const SessionRun *run = &e->runs[c];
                _cleanup_(freep) char *sentence = NULL;
                size_t sl;

                r = session_run_describe_failure(run, &sentence);
                if (r < 0)
                        return r;
                if (!sentence)
                        continue;

                success = false;
                if (!last_line && run->last_line && run->last_line[0])
                        last_line = run->last_line;

                /* Join the sentences with a space; drop what does not fit the bound, whole sentences
                 * only (the first always fits: its parts are bounded well below the limit, but cut
                 * it at a character boundary if it does not). */
                sl = strlen(sentence);
                if (n > 0) {
                        if (n + 1 + sl > SESSION_MESSAGE_MAX)
                                continue;
                        message[n++] = ' ';
                }
                n += utf8_sanitize(message + n, sizeof message - n, sentence, sl, true);
        }

        m_copy = strdup(message);
        l_copy = strdup(last_line ?: "");
        if (!m_copy || !l_copy)
                return -ENOMEM;

        e->success = success;
        free_and_replace(e->message, m_copy);
        free_and_replace(e->last_line, l_copy);
        return 0;
}

/* ---- Lookup ---------------------------------------------------------------------------------- */

Session *session_find(Session *first, const char *id) {
        if (!id || !id[0])
                return NULL;
        for (Session *s = first; s; s = s->next)
                if (strcmp(s->id, id) == 0)
                        return s;
        return NULL;
}

Session *session_resolve(Session *first, const char *id, const char *env_session_id,
                         const char *xdg_session_id) {
        Session *best = NULL;

        if (id && id[0])
                return session_find(first, id);
        if (env_session_id && env_session_id[0])
                return session_find(first, env_session_id);
        if (!xdg_session_id || !xdg_session_id[0])
                return NULL;

        /* logind may reuse an XDG session id after a reboot only, but a session whose termination
         * has not run is the one meant; among several, the most recent. */
        for (Session *s = first; s; s = s->next) {
                if (s->refused || !s->xdg_session_id || strcmp(s->xdg_session_id, xdg_session_id) != 0)
                        continue;
                if (!best) {
                        best = s;
                        continue;
                }
                bool s_open = s->events[SCRIPT_EVENT_TERMINATION].state == EVENT_STATE_NOT_RUN;
                bool b_open = best->events[SCRIPT_EVENT_TERMINATION].state == EVENT_STATE_NOT_RUN;
                if ((s_open && !b_open) ||
                    (s_open == b_open && s->since_realtime_usec >= best->since_realtime_usec))
                        best = s;
        }
        return best;
}
