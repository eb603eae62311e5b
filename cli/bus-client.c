/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command line tool's bus calls; see bus-client.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bus-client.h"
#include "cleanup.h"
#include "session-scripts/session-scripts.h"
#include "verbs.h"

/* A bound on what we keep from a reply (the daemon holds at most 4096 sessions). */
#define CLI_SESSIONS_MAX 8192U

static bool arg_auto_start = true;

int cli_bus_open(sd_bus **ret) {
        return sd_bus_open_system(ret);
}

void cli_bus_set_auto_start(bool b) {
        arg_auto_start = b;
}

int cli_bus_call(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **ret_reply,
                 const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SESSION_SCRIPTS_BUS_NAME, SESSION_SCRIPTS_BUS_PATH,
                                           SESSION_SCRIPTS_BUS_INTERFACE, method);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        r = sd_bus_message_set_auto_start(m, arg_auto_start);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return sd_bus_error_set_errno(error, r);
        }
        return sd_bus_call(bus, m, CLI_BUS_TIMEOUT_USEC, error, ret_reply);
}

bool cli_bus_error_is_invalid_config(const sd_bus_error *error) {
        return sd_bus_error_has_name(error, SESSION_SCRIPTS_ERROR_INVALID_CONFIG);
}

static int strdup_to(const char *s, char **ret) {
        *ret = strdup(s ?: "");
        return *ret ? 0 : -ENOMEM;
}

int cli_bus_list_runs(sd_bus *bus, const char *session_id, RunInfo **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        RunInfo *runs = NULL;
        size_t n = 0;
        int r;

        r = cli_bus_call(bus, "ListRuns", error, &reply, "s", session_id);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssssstit)");
        if (r < 0)
                return r;
        for (;;) {
                const char *ev, *cx, *unit, *exe, *res;
                uint64_t status, dur;
                int32_t sig;
                RunInfo *l;

                r = sd_bus_message_read(reply, "(ssssstit)", &ev, &cx, &unit, &exe, &res, &status, &sig, &dur);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
                /* The daemon has at most 2 events × 2 contexts. */
                if (n >= 16)
                        continue;
                l = reallocarray(runs, n + 1, sizeof(RunInfo));
                if (!l) {
                        r = -ENOMEM;
                        goto fail;
                }
                runs = l;
                runs[n] = (RunInfo) { .exit_status = status, .signal = sig, .duration_usec = dur };
                n++;
                if (strdup_to(ev, &runs[n - 1].event) < 0 || strdup_to(cx, &runs[n - 1].context) < 0 ||
                    strdup_to(unit, &runs[n - 1].unit) < 0 || strdup_to(exe, &runs[n - 1].executable) < 0 ||
                    strdup_to(res, &runs[n - 1].result) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        *ret = runs;
        *ret_n = n;
        return 0;

fail:
        for (size_t i = 0; i < n; i++)
                run_info_done(&runs[i]);
        free(runs);
        return r;
}

int cli_bus_list_sessions(sd_bus *bus, SessionInfo **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        SessionInfo *s = NULL;
        size_t n = 0;
        int r;

        r = cli_bus_call(bus, "ListSessions", error, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssutss)");
        if (r < 0)
                return r;
        for (;;) {
                const char *id, *user, *st, *tt;
                uint32_t uid;
                uint64_t since;
                SessionInfo *l;

                r = sd_bus_message_read(reply, "(ssutss)", &id, &user, &uid, &since, &st, &tt);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
                if (n >= CLI_SESSIONS_MAX)
                        continue;
                l = reallocarray(s, n + 1, sizeof(SessionInfo));
                if (!l) {
                        r = -ENOMEM;
                        goto fail;
                }
                s = l;
                s[n] = (SessionInfo) { .uid = uid, .since_usec = since };
                n++;
                if (strdup_to(id, &s[n - 1].id) < 0 || strdup_to(user, &s[n - 1].user) < 0 ||
                    strdup_to(st, &s[n - 1].start_state) < 0 || strdup_to(tt, &s[n - 1].term_state) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
        }

        /* Oldest first, like a log. The daemon lists the most recent first. */
        for (size_t i = 0; i < n / 2; i++) {
                SessionInfo t = s[i];
                s[i] = s[n - 1 - i];
                s[n - 1 - i] = t;
        }

        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                r = cli_bus_list_runs(bus, s[i].id, &s[i].runs, &s[i].n_runs, &e);
                if (r == -ENOMEM)
                        goto fail;
                /* Gone meanwhile (forgotten 30 s after its end): listed without runs. */
        }

        *ret = s;
        *ret_n = n;
        return 0;

fail:
        session_infos_free(s, n);
        return r;
}

int cli_bus_log_error(const char *verb, const char *what, int r, const sd_bus_error *error, int exit_status) {
        if (error && sd_bus_error_is_set(error))
                return cli_error(verb, exit_status, "%s: %s", what, error->message ?: error->name);
        return cli_error(verb, exit_status, "%s: %s", what, strerror(r < 0 ? -r : r));
}
