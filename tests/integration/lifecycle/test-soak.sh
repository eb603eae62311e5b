#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Soak: SOAK_CYCLES (2,000) login/logout cycles, SOAK_PARALLEL (8) at a time, /usr/bin/true in
# both contexts of both events. The daemon's memory and descriptors follow its live sessions, not
# its history: once the forget delay (30 s, MANAGER_FORGET_DELAY_USEC in daemon/manager.h) has
# passed after the last cycle it holds exactly the descriptors it had freshly started, no pidfd
# more (and no pidfd already 5 s after the last cycle: a run's pidfd goes when the run ends), its
# RSS is within 2 MiB of the fresh one, /run/session-scripts/sessions is empty and
# systemd has no session-scripts scope left. Prints the figures (fresh, peak during the run,
# after) and the logins per second.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

CYCLES=${SOAK_CYCLES:-2000}
PARALLEL=${SOAK_PARALLEL:-8}
FORGET=30
RSS_SLACK_KIB=2048

ss_soak_prepare ss-soak
ss_start_daemon
pid=$(ss_daemon_pid)
sleep 1
fresh_fds=$(ss_daemon_fds "$pid")
fresh_pidfds=$(ss_daemon_pidfds "$pid")
fresh_rss=$(ss_daemon_rss_kib "$pid")
echo "fresh daemon (PID $pid): $fresh_fds descriptors ($fresh_pidfds pidfds), VmRSS $fresh_rss KiB"

# The run: PARALLEL streams of pam-session-timer, one user each, while the daemon's descriptors
# are sampled.
per=$(( (CYCLES + PARALLEL - 1) / PARALLEL ))
read -r ok ms peak_fds < <(ss_soak_cycles ss-soak "$pid" "$per" "$PARALLEL")
total=$((per * PARALLEL))
end=$(bed__now)
rate=$(awk -v n="$total" -v ms="$ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
rss_end=$(ss_daemon_rss_kib "$pid")
echo "soak: $total cycles ($PARALLEL in parallel) in $ms ms = $rate cycles/s; $ok succeeded"
echo "      peak descriptors during the run $peak_fds; at its end $(ss_daemon_fds "$pid") descriptors, $(ss_daemon_pidfds "$pid") pidfds, VmRSS $rss_end KiB, $(ss_state_files | wc -l) state files"
[ "$ok" = "$total" ] || bed_fail "$((total - ok)) of $total logins failed"
[ "$(ss_daemon_pid)" = "$pid" ] || bed_fail "the daemon restarted during the soak ($pid → $(ss_daemon_pid))"

# Every run has ended (each close_session waited for its termination): a run's pidfd goes with
# the run, not with its session 30 s later.
problems=()
pidfds_released() { [ "$(ss_daemon_pidfds "$pid")" -le "$fresh_pidfds" ]; }
bed_wait_until 5 pidfds_released ||
        problems+=("$(ss_daemon_pidfds "$pid") pidfds held 5 s after the last cycle, when every run had ended (fresh $fresh_pidfds)")

# After the forget delay: wait (bounded) for the state to go, then for the descriptors to settle.
settled() { [ -z "$(ss_state_files)" ] && [ -z "$(ss_leftover_scopes)" ] && [ "$(ss_daemon_fds "$pid")" -le "$fresh_fds" ]; }
bed_wait_until $((FORGET + 20)) settled || true
# State files go with each termination; the sessions' results stay in memory for the forget delay
# and the heap is trimmed (MANAGER_TRIM_DELAY_USEC, 2 s) after they are forgotten: measure after both.
while awk -v e="$(bed__elapsed "$end")" -v f="$FORGET" 'BEGIN { exit !(e < f + 4) }'; do sleep 1; done
after=$(bed__elapsed "$end")
fds=$(ss_daemon_fds "$pid")
pidfds=$(ss_daemon_pidfds "$pid")
rss=$(ss_daemon_rss_kib "$pid")
state=$(ss_state_files)
scopes=$(ss_leftover_scopes)
echo "after ${after} s: $fds descriptors (fresh $fresh_fds), $pidfds pidfds (fresh $fresh_pidfds), VmRSS $rss KiB (fresh $fresh_rss KiB, delta $((rss - fresh_rss)) KiB), $(grep -c . <<<"$state" || true) state files, $(grep -c . <<<"$scopes" || true) scopes"

[ "$fds" = "$fresh_fds" ] || problems+=("$fds descriptors, fresh $fresh_fds")
[ "$pidfds" = "$fresh_pidfds" ] || problems+=("$pidfds pidfds, fresh $fresh_pidfds")
[ "$rss" -le $((fresh_rss + RSS_SLACK_KIB)) ] || problems+=("VmRSS $rss KiB, over fresh $fresh_rss KiB + $RSS_SLACK_KIB KiB")
if [ -n "$state" ]; then
        problems+=("$(wc -l <<<"$state") state files in /run/session-scripts/sessions: $(head -n 3 <<<"$state" | tr '\n' ' ')")
        # What the daemon said about (up to) three of them, for the report.
        for f in $(head -n 3 <<<"$state"); do
                echo "---- state file $f:" >&2
                bed_exec cat "/run/session-scripts/sessions/$f" >&2 || true
                echo >&2
                bed_journal -o short-monotonic -u session-scripts.service | grep -F "${f%%.*}" | tail -n 15 >&2 || true
        done
fi
[ -z "$scopes" ] || problems+=("$(wc -l <<<"$scopes") session-scripts scopes: $(head -n 3 <<<"$scopes" | tr '\n' ' ')")
[ ${#problems[@]} = 0 ] || bed_fail "after $total cycles and ${after} s (forget delay ${FORGET} s): $(printf '%s; ' "${problems[@]}")"
echo "OK: $total cycles leave nothing behind"
