/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd's default resource limits for the units it starts, for the scripts the daemon starts.
 * A user's session processes and services get these (pam_limits aside), while the daemon's own
 * unit may raise or lower its limits: scripts must not inherit those. See default-limits.h.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "default-limits.h"
#include "log.h"


/* Names of the limits: systemd's property suffix (DefaultLimit<NAME>[Soft]) and the kernel's text
 * in /proc/PID/limits. */
static const struct {
        const char *bus;
        const char *proc;
} limit_names[DEFAULT_LIMITS_N] = {
        [RLIMIT_CPU] = { "CPU", "Max cpu time" },
        [RLIMIT_FSIZE] = { "FSIZE", "Max file size" },
        [RLIMIT_DATA] = { "DATA", "Max data size" },
        [RLIMIT_STACK] = { "STACK", "Max stack size" },
        [RLIMIT_CORE] = { "CORE", "Max core file size" },
        [RLIMIT_RSS] = { "RSS", "Max resident set" },
        [RLIMIT_NPROC] = { "NPROC", "Max processes" },
        [RLIMIT_NOFILE] = { "NOFILE", "Max open files" },
        [RLIMIT_MEMLOCK] = { "MEMLOCK", "Max locked memory" },
        [RLIMIT_AS] = { "AS", "Max address space" },
        [RLIMIT_LOCKS] = { "LOCKS", "Max file locks" },
        [RLIMIT_SIGPENDING] = { "SIGPENDING", "Max pending signals" },
        [RLIMIT_MSGQUEUE] = { "MSGQUEUE", "Max msgqueue size" },
        [RLIMIT_NICE] = { "NICE", "Max nice priority" },
        [RLIMIT_RTPRIO] = { "RTPRIO", "Max realtime priority" },
        [RLIMIT_RTTIME] = { "RTTIME", "Max realtime timeout" },
};

static struct rlimit limits[DEFAULT_LIMITS_N];
static bool initialized;

static void limit_fix(struct rlimit *rl) {
        if (rl->rlim_cur > rl->rlim_max)
                rl->rlim_cur = rl->rlim_max;
}

static bool parse_value(const char *s, rlim_t *ret) {
        unsigned long long v;
        char *end;

        if (streq(s, "unlimited")) {
                *ret = RLIM_INFINITY;
                return true;
        }
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != 0)
                return false;
        *ret = (rlim_t) v;
        return true;
}

/* PID 1's limits from /proc/1/limits ("Max open files  1024  524288  files" lines, the name
 * left-aligned in 25 columns). Lines that do not parse leave their entry alone. */
static void read_pid1_limits(void) {
        _cleanup_(fclosep) FILE *f = NULL;
        char line[256];

        f = fopen("/proc/1/limits", "re");
        if (!f)
                return;

        while (fgets(line, sizeof line, f)) {
                char soft[32], hard[32];
                struct rlimit rl;

                if (strlen(line) < 26)
                        continue;
                for (size_t i = 0; i < DEFAULT_LIMITS_N; i++) {
                        size_t n = strlen(limit_names[i].proc);

                        if (strncmp(line, limit_names[i].proc, n) != 0 || line[n] != ' ')
                                continue;
                        if (sscanf(line + 25, "%31s %31s", soft, hard) == 2 && parse_value(soft, &rl.rlim_cur) &&
                            parse_value(hard, &rl.rlim_max)) {
                                limit_fix(&rl);
                                limits[i] = rl;
                        }
                        break;
                }
        }
}

void default_limits_init(void) {
        for (size_t i = 0; i < DEFAULT_LIMITS_N; i++) {
                /* The daemon's own hard limit as both values: never more than it may give. */
                if (getrlimit((int) i, &limits[i]) < 0)
                        limits[i] = (struct rlimit) { RLIM_INFINITY, RLIM_INFINITY };
                limits[i].rlim_cur = limits[i].rlim_max;
        }
        read_pid1_limits();

        /* systemd's built-in DefaultLimitNOFILESoft= (PID 1 itself runs with a huge one). */
        limits[RLIMIT_NOFILE].rlim_cur = MIN(limits[RLIMIT_NOFILE].rlim_max, (rlim_t) 1024);
        initialized = true;
}

const struct rlimit *default_limits_get(void) {
        if (!initialized)
                default_limits_init();
        return limits;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        struct rlimit got[DEFAULT_LIMITS_N];
        unsigned have[DEFAULT_LIMITS_N] = {};   /* bit 0: soft, bit 1: hard */
        const sd_bus_error *e;
        unsigned n = 0;
        int r;

        e = sd_bus_message_get_error(m);
        if (e) {
                log_warning("Failed to read systemd's default resource limits (%s), scripts start with "
                            "PID 1's own limits.", e->message ?: e->name);
                return 0;
        }

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                goto fail;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *p;
                size_t i, len;
                uint64_t v;
                bool soft;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        goto fail;

                for (i = 0; i < DEFAULT_LIMITS_N; i++) {
                        if (strncmp(name, "DefaultLimit", 12) != 0)
                                break;
                        p = name + 12;
                        len = strlen(limit_names[i].bus);
                        if (strncmp(p, limit_names[i].bus, len) == 0 &&
                            (p[len] == 0 || streq(p + len, "Soft")))
                                break;
                }
                if (i >= DEFAULT_LIMITS_N || strncmp(name, "DefaultLimit", 12) != 0) {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                goto fail;
                } else {
                        r = sd_bus_message_read(m, "v", "t", &v);
                        if (r < 0)
                                goto fail;
                        soft = name[12 + strlen(limit_names[i].bus)] != 0;
                        /* systemd says (uint64_t) -1 for infinity, the same as RLIM_INFINITY. */
                        if (soft)
                                got[i].rlim_cur = v == UINT64_MAX ? RLIM_INFINITY : (rlim_t) v;
                        else
                                got[i].rlim_max = v == UINT64_MAX ? RLIM_INFINITY : (rlim_t) v;
                        have[i] |= soft ? 1U : 2U;
                }

                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        goto fail;
        }
        if (r < 0)
                goto fail;

        /* Only complete pairs: a soft value alone might exceed the fallback's hard one. */
        for (size_t i = 0; i < DEFAULT_LIMITS_N; i++)
                if (have[i] == 3) {
                        limit_fix(&got[i]);
                        limits[i] = got[i];
                        n++;
                }
        log_debug("Scripts start with systemd's default resource limits (%u of %u known).", n,
                  (unsigned) DEFAULT_LIMITS_N);
        return 0;

fail:
        log_warning_errno(r, "Failed to parse systemd's default resource limits, scripts start with PID 1's "
                          "own limits: %m");
        return 0;
}

int default_limits_query(sd_bus *bus) {
        if (!initialized)
                default_limits_init();

        /* Floating slot: the answer comes once, shortly after start. Until then (and for scripts
         * started in that moment) the fallback applies. */
        return sd_bus_call_method_async(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.DBus.Properties", "GetAll", on_reply, NULL, "s",
                                        "org.freedesktop.systemd1.Manager");
}
