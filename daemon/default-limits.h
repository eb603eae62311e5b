/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The resource limits every script starts with: the ones systemd gives the units it starts (the
 * DefaultLimit*= of PID 1, asked for once over the bus), not whatever the daemon's own unit has
 * (LimitNOFILE=, a drop-in's LimitCORE=, …). Until PID 1 answered, or when it does not, PID 1's own
 * limits (/proc/1/limits: the kernel's defaults as systemd left them, which is what units inherit
 * where no DefaultLimit is set), else the daemon's hard limits; the RLIMIT_NOFILE soft limit then at
 * most 1024, as systemd does (select() breaks with descriptors ≥ FD_SETSIZE).
 */
#pragma once

#include <sys/resource.h>
#include <systemd/sd-bus.h>

/* The number of limits in the table (RLIMIT_CPU … RLIMIT_RTTIME). */
#define DEFAULT_LIMITS_N RLIMIT_NLIMITS

/* Fills the table from the fallbacks (synchronous, cheap). Call once at start. */
void default_limits_init(void);

/* Asks PID 1 for its Manager's DefaultLimit* properties, asynchronously; the answer (on bus's
 * event loop) replaces the table's values it has. Returns 0 or -errno (then the fallback stays). */
int default_limits_query(sd_bus *bus);

/* The table: DEFAULT_LIMITS_N entries indexed by RLIMIT_*, soft ≤ hard. Filled by
 * default_limits_init() on first use if nobody called it. */
const struct rlimit *default_limits_get(void);
