#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The container boots to "running" with the build installed and a fresh machine ID, the test users
# exist, and systemd enforces RuntimeMaxSec= on a transient scope: `sleep 10` in a scope with
# RuntimeMaxSec=2 is stopped after about 2 s and the scope's result is "timeout" — the mechanism
# the daemon's hard timeouts rely on.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

state=$(bed_exec systemctl is-system-running) || true
[ "$state" = running ] || bed_fail "is-system-running: $state"

machine_id=$(bed_exec cat /etc/machine-id)
[[ "$machine_id" =~ ^[0-9a-f]{32}$ ]] || bed_fail "no machine ID generated at boot: '$machine_id'"

for u in alice bob user01 user20; do
        home=$(bed_exec getent passwd "$u" | cut -d: -f6)
        [ "$home" = "/home/$u" ] && [ -d "$BED_ROOT$home" ] || bed_fail "user $u or its home is missing"
done
[ "$(bed_exec_user alice id -un)" = alice ] || bed_fail "bed_exec_user does not run as the user"
[ "$(bed_exec_user bob pwd)" = /home/bob ] || bed_fail "bed_exec_user does not start in the home directory"

# Everything `meson install` put into the install layer is visible in the container.
n=0
while IFS= read -r -d '' f; do
        rel=${f#"$BED_TMP/install"}
        [ -e "$BED_ROOT$rel" ] || [ -L "$BED_ROOT$rel" ] || bed_fail "installed file $rel missing in the container"
        n=$((n + 1))
done < <(find "$BED_TMP/install" \( -type f -o -type l \) -print0)
bed_log "$n installed files present in the container"

# A transient scope with a hard runtime limit. Named, so its result can be read after it ended:
# a scope that failed (Result=timeout) stays loaded until reset-failed.
start=$EPOCHREALTIME
rc=0
bed_exec systemd-run --quiet --scope --unit=bed-runtime-max -p RuntimeMaxSec=2 sleep 10 || rc=$?
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }')
bed_log "scope with RuntimeMaxSec=2 ended after $elapsed s (exit status $rc)"
[ "$rc" -ne 0 ] || bed_fail "sleep 10 in a scope with RuntimeMaxSec=2 exited 0"
awk -v e="$elapsed" 'BEGIN { exit !(e >= 1.5 && e <= 4) }' \
        || bed_fail "scope with RuntimeMaxSec=2 ended after $elapsed s, expected 1.5–4 s"
result=$(bed_exec systemctl show -P Result bed-runtime-max.scope)
[ "$result" = timeout ] || bed_fail "scope result is '$result', expected 'timeout'"
bed_wait_journal 5 'bed-runtime-max.scope: .*(timed out|timeout)' -u bed-runtime-max.scope \
        || bed_fail "no timeout message for the scope in the journal"

echo "ok: booted to running, RuntimeMaxSec=2 scope stopped after $elapsed s with result timeout"
