#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Benchmark: a login storm. N (200) users open a session at the same instant, through
# a stack without the module and then through the same stack with pam_session_scripts (1 s
# scripts in both contexts of both events), in one booted test bed. Prints for both: the time
# from the release until every open_session had returned and until every login had ended, their
# ratio and difference (goal: every open_session back within +2.5 s of the run without the
# module), open_session p50/p99/max, and the sessions whose start or termination scripts did not
# run in both contexts, and the module's fail-open messages (goal: 0). Next to them, the floor: the
# same start scripts of all N sessions run in their scopes at once by bench/scope-floor, without
# logins and without session-scripts; what session-scripts adds is the difference to it.
# Asserts nothing.
#
# Run: meson test -C BUILD --benchmark storm -v (root, like the integration suite).
# Knobs: STORM_N (200), STORM_PAM_SYSTEMD=1 (pam_systemd first in both stacks).
# Figures are "BENCH name value unit" lines.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"

N=${STORM_N:-200}
PAM_SYSTEMD=${STORM_PAM_SYSTEMD:-0}

scenario_begin ss_storm_pre_boot

ss_storm_prepare "$N" 20 bench-storm-base bench-storm

# storm SERVICE DIR → "OPENS_DONE_MS WALL_MS P50_MS P99_MS MAX_MS FAILED"
storm() {
        local out release wall
        out=$(bed_exec ss-storm-run "$1" storm "$N" "$2")
        release=$(sed -n 's/.*release_us=\([0-9]*\).*/\1/p' <<<"$out")
        wall=$(sed -n 's/.*wall_ms=\([0-9]*\).*/\1/p' <<<"$out")
        ss_storm_results "$2" | awk -v r="$release" -v w="$wall" '
                { o[NR] = $2 / 1000; e = $5 + $2; if (e > last) last = e; if ($4 != "ok") f++ }
                END {
                        # nearest rank on sorted values (insertion sort: N is small)
                        for (i = 2; i <= NR; i++) { v = o[i]; j = i - 1; while (j > 0 && o[j] > v) { o[j + 1] = o[j]; j-- } o[j + 1] = v }
                        p50 = o[int((50 * NR + 99) / 100)]; p99 = o[int((99 * NR + 99) / 100)]
                        printf "%d %d %.1f %.1f %.1f %d\n", (last - r) / 1000, w, p50, p99, o[NR], f
                }'
}

bed_log "storm of $N logins without the module"
read -r b_open b_wall b_p50 b_p99 b_max b_failed < <(storm bench-storm-base /var/tmp/storm-base)

# The floor, before the daemon starts: the N sessions' start scripts (both contexts) in their
# scopes, all at once, with nothing of session-scripts (bench/scope-floor.c). They report into
# start.floor-*.log, not into the logs counted below.
ss_install_floor
ss_prepare_log start.floor-system.log start.floor-user.log
bed_log "floor: the start scripts of $N sessions in their scopes, without session-scripts"
read -r _ f_usec f_ok < <(bed_exec scope-floor storm "$N" storm "$SS_DIR/start.sh" || true) || true
f_open=$(( ${f_usec:-0} / 1000 ))
f_lines=$(bed_exec cat "$SS_OUT/start.floor-system.log" "$SS_OUT/start.floor-user.log" | grep -c . || true)
[ "${f_ok:-}" = ok ] && [ "$f_lines" = $((2 * N)) ] ||
        echo "  warning: the floor run failed (${f_ok:-no result}, $f_lines of $((2 * N)) scripts reported)" >&2
# systemd stops the floor's scopes and slices before the module's storm begins.
ss_wait_for 120 sh -c '! systemctl list-units --all --plain --no-legend "scope-floor-*" | grep -q .' ||
        echo "  warning: scopes of the floor still there after 120 s" >&2

ss_start_daemon
cursor=$(ss_journal_mark)
bed_log "storm of $N logins with the module"
read -r m_open m_wall m_p50 m_p99 m_max m_failed < <(storm bench-storm /var/tmp/storm)
sleep 2

# Sessions (users) whose scripts did not run exactly once per event and context.
read -r no_start no_term < <(ss_recorded_lines |
        awk -v n="$N" '{ c[$1 " " $2]++ }
                END { for (i = 1; i <= n; i++) { u = sprintf("storm%03d", i)
                                if (c["start.system " u] != 1 || c["start.user " u] != 1) s++
                                if (c["term.system " u] != 1 || c["term.user " u] != 1) t++ }
                      printf "%d %d\n", s, t }')
failopen=$(ss_fail_open_lines --cursor="$cursor" | grep -c . || true)

echo "login storm: $N sessions released at once ($([ "$PAM_SYSTEMD" = 1 ] && echo "pam_systemd + " )pam_permit stack; 1 s scripts, both contexts, both events)"
printf '  %-22s %12s %12s %10s %10s %10s %7s\n' "" "opens done" "all ended" "open p50" "open p99" "open max" "failed"
printf '  %-22s %9s ms %9s ms %7s ms %7s ms %7s ms %7s\n' "without the module" "$b_open" "$b_wall" "$b_p50" "$b_p99" "$b_max" "$b_failed"
printf '  %-22s %9s ms %9s ms %7s ms %7s ms %7s ms %7s\n' "with the module" "$m_open" "$m_wall" "$m_p50" "$m_p99" "$m_max" "$m_failed"
printf '  %-22s %9s ms\n' "floor (no daemon)" "$f_open"
awk -v a="$m_open" -v b="$b_open" 'BEGIN { printf "  every open_session back: %+.2f s over the run without the module (ratio %.2f; goal: within +2.5 s)\n", (a - b) / 1000, (b > 0 ? a / b : 0) }'
awk -v a="$m_open" -v b="$b_open" -v f="$f_open" 'BEGIN { printf "  of that, the start scripts in their scopes alone (floor, %.2f s) take %+.2f s; session-scripts itself %+.2f s\n", f / 1000, (f - b) / 1000, (a - f) / 1000 }'
echo "  sessions whose start scripts did not run once in both contexts: $no_start; termination: $no_term (goal: 0)"
echo "  fail-open messages (\"not running session scripts\"): $failopen (goal: 0)"
echo "BENCH storm_sessions $N sessions"
echo "BENCH storm_opens_done_without_module $b_open ms"
echo "BENCH storm_opens_done_with_module $m_open ms"
echo "BENCH storm_floor $f_open ms"
echo "BENCH storm_opens_done_delta $((m_open - b_open)) ms"
echo "BENCH storm_all_ended_without_module $b_wall ms"
echo "BENCH storm_all_ended_with_module $m_wall ms"
echo "BENCH storm_open_p50_with_module $m_p50 ms"
echo "BENCH storm_open_p99_with_module $m_p99 ms"
echo "BENCH storm_sessions_without_start $no_start sessions"
echo "BENCH storm_sessions_without_termination $no_term sessions"
echo "BENCH storm_fail_open_messages $failopen lines"
