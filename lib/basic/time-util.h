/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Time in microseconds, the unit of sd-event, sd-bus and systemd's unit properties: the one set of
 * constants and the one clock reader of the tree (libc only; lib/basic/ is dependency-free).
 */
#pragma once

#include <stdint.h>
#include <time.h>

typedef uint64_t usec_t;

#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define NSEC_PER_USEC ((uint64_t) 1000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)

/* The time of the given clock in microseconds (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME…).
 * A clock that cannot be read (an unknown clock id) gives 0. */
usec_t now(clockid_t clock);

/* A struct timespec in microseconds (nanoseconds rounded down); USEC_INFINITY when it does not
 * fit. */
usec_t timespec_load(const struct timespec *ts);
