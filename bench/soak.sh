#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Benchmark: the daemon over CYCLES (10,000) login/logout cycles, PARALLEL (8) at a
# time, /usr/bin/true in both contexts of both events (pam_permit + pam_session_scripts, timed by
# pam-session-timer). First a baseline in the same run: the same cycles through the stack without
# the module (cycles/s), and the freshly started daemon's descriptors, RSS and wakeups during a
# minute of idleness. Then the soak: cycles/s (and the ratio to the baseline), peak descriptors
# during the run; once the forget delay (30 s) has passed: the descriptor and RSS delta to the
# fresh daemon (goal: 0 and ≤ 2 MiB), state files and scopes left, and the wakeups per minute
# while idle (context switches from /proc/PID/status over IDLE_SECS; goal: the watchdog's pings
# only, like the fresh daemon). Asserts nothing.
#
# Run: meson test -C BUILD --benchmark soak -v (root). Knobs: CYCLES, PARALLEL, IDLE_SECS (60).
# Figures are "BENCH name value unit" lines.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

CYCLES=${CYCLES:-10000}
PARALLEL=${PARALLEL:-8}
IDLE_SECS=${IDLE_SECS:-60}
FORGET=30

ss_soak_prepare bench-soak bench-soak-base

per=$(( (CYCLES + PARALLEL - 1) / PARALLEL ))
total=$((per * PARALLEL))

# switches PID → voluntary + involuntary context switches so far (each is a wakeup or a preemption).
switches() {
        bed_exec awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n }' "/proc/$1/status"
}

# idle_wakeups PID → context switches per minute over IDLE_SECS of idleness.
idle_wakeups() {
        local a b
        a=$(switches "$1")
        sleep "$IDLE_SECS"
        b=$(switches "$1")
        awk -v a="$a" -v b="$b" -v s="$IDLE_SECS" 'BEGIN { printf "%.1f\n", (b - a) * 60 / s }'
}

bed_log "baseline: $total cycles without the module"
read -r b_ok b_ms _ < <(ss_soak_cycles bench-soak-base 0 "$per" "$PARALLEL")

ss_start_daemon
pid=$(ss_daemon_pid)
sleep 1
fresh_fds=$(ss_daemon_fds "$pid")
fresh_rss=$(ss_daemon_rss_kib "$pid")
watchdog=$(bed_exec systemctl show -P WatchdogUSec session-scripts.service)
bed_log "fresh daemon: $fresh_fds descriptors, VmRSS $fresh_rss KiB; $IDLE_SECS s idle"
fresh_wakeups=$(idle_wakeups "$pid")

bed_log "soak: $total cycles with the module"
read -r m_ok m_ms peak_fds < <(ss_soak_cycles bench-soak "$pid" "$per" "$PARALLEL")
end_fds=$(ss_daemon_fds "$pid")
end_rss=$(ss_daemon_rss_kib "$pid")
end_state=$(ss_state_files | grep -c . || true)
bed_log "waiting for the forget delay (${FORGET} s) to pass"
sleep $((FORGET + 5))
fds=$(ss_daemon_fds "$pid")
pidfds=$(ss_daemon_pidfds "$pid")
rss=$(ss_daemon_rss_kib "$pid")
state=$(ss_state_files | grep -c . || true)
scopes=$(ss_leftover_scopes | grep -c . || true)
bed_log "after the forget delay: $IDLE_SECS s idle"
wakeups=$(idle_wakeups "$pid")
results=$(bed_journal -o export --output-fields=SESSION_SCRIPTS_RESULT MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 |
        sed -n 's/^SESSION_SCRIPTS_RESULT=//p' | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')

b_rate=$(awk -v n="$total" -v ms="$b_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
m_rate=$(awk -v n="$total" -v ms="$m_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
echo "soak: $total login/logout cycles, $PARALLEL in parallel, /usr/bin/true in both contexts of both events"
echo "  without the module: $b_rate cycles/s ($b_ok ok); with it: $m_rate cycles/s ($m_ok ok), ratio $(awk -v a="$m_rate" -v b="$b_rate" 'BEGIN { printf "%.3f", a / b }')"
echo "  runs by result, from the summary entries the journal still holds (volatile, 64 MiB: of $((total * 4)) runs the oldest are gone): ${results:-none}"
echo "  descriptors: fresh $fresh_fds, peak during the run $peak_fds, at its end $end_fds ($end_state state files);"
echo "               $((FORGET + 5)) s later $fds (delta $((fds - fresh_fds)); goal 0), $pidfds pidfds, $state state files, $scopes scopes"
echo "  VmRSS: fresh $fresh_rss KiB, at the end of the run $end_rss KiB, after the forget delay $rss KiB (delta $((rss - fresh_rss)) KiB; goal ≤ 2048)"
echo "  idle wakeups/min (context switches over ${IDLE_SECS} s): fresh $fresh_wakeups, after the soak $wakeups (watchdog $watchdog)"
echo "BENCH soak_cycles $total cycles"
echo "BENCH soak_rate_without_module $b_rate cycles/s"
echo "BENCH soak_rate_with_module $m_rate cycles/s"
echo "BENCH soak_peak_fds $peak_fds fds"
echo "BENCH soak_fd_delta $((fds - fresh_fds)) fds"
echo "BENCH soak_rss_fresh $fresh_rss KiB"
echo "BENCH soak_rss_delta $((rss - fresh_rss)) KiB"
echo "BENCH soak_state_files_after $state files"
echo "BENCH soak_scopes_after $scopes scopes"
echo "BENCH soak_idle_wakeups_fresh $fresh_wakeups /min"
echo "BENCH soak_idle_wakeups_after $wakeups /min"
