#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Benchmark: open_session latency with /usr/bin/true in both contexts, through
# pam_session_scripts, vs. the same stack without it (pam_systemd alone: what the module adds), vs.
# pam_exec running the same two commands (as root, and as the user via setpriv), in the same booted
# test bed, logins interleaved. All three stacks start with pam_systemd. Prints p50/p99 of
# open_session (and close_session) for each and the differences; asserts nothing (figures only;
# target: p50 at most 8 ms over the stack without the module). Next to them, the floor: what
# systemd and the kernel alone take for the two scopes and two processes of an open
# (bench/scope-floor, no daemon), and so what the module itself adds over it.
#
# Usage: meson test --benchmark -C BUILD open-session-latency  (or run with MESON_SOURCE_ROOT,
# MESON_BUILD_ROOT set, as root). ITERATIONS (default 200) logins per stack.

ITERATIONS=${ITERATIONS:-200}
source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

ss_install_timer
ss_install_floor

dir=/opt/appstream/SessionScripts
mkdir -p "$BED_ROOT$dir"
chmod 0755 "$BED_ROOT/opt" "$BED_ROOT/opt/appstream" "$BED_ROOT$dir"
cat > "$BED_ROOT$dir/config.json" <<'EOF2'
{
  "SessionStart": {
    "executables": [
      { "context": "system", "filename": "/usr/bin/true", "s3LogEnabled": false },
      { "context": "user", "filename": "/usr/bin/true", "s3LogEnabled": false }
    ],
    "waitingTime": 30
  },
  "SessionTermination": {
    "executables": [
      { "context": "system", "filename": "/usr/bin/true", "s3LogEnabled": false },
      { "context": "user", "filename": "/usr/bin/true", "s3LogEnabled": false }
    ],
    "waitingTime": 30
  }
}
EOF2
chown 0:0 "$BED_ROOT$dir/config.json"
chmod 0644 "$BED_ROOT$dir/config.json"

bed_pam_service bench-ss "session required pam_systemd.so
session optional pam_session_scripts.so"
bed_pam_service bench-base "session required pam_systemd.so"
bed_pam_service bench-exec "session required pam_systemd.so
session optional pam_exec.so /usr/bin/true
session optional pam_exec.so /usr/bin/setpriv --reuid=alice --regid=alice --init-groups /usr/bin/true"

bed_exec systemctl start session-scripts.service
# Warm-up (page cache, first activation of user@.service and slices), not counted.
bed_exec pam-session-timer 5 alice bench-ss bench-base bench-exec > /dev/null

data="${TMPDIR:-/tmp}/open-session-latency.$$"
bed_exec pam-session-timer "$ITERATIONS" alice bench-ss bench-base bench-exec > "$data" ||
        echo "warning: some logins failed" >&2

# The floor: what systemd and the kernel alone take for the two scopes and two processes of an
# open (bench/scope-floor.c), with alice's slice up as pam_systemd's session keeps it during a login.
bed_exec systemd-run --quiet --unit=floor-hold --slice="user-$(bed_exec id -u alice).slice" sleep 3600
bed_exec scope-floor latency 5 alice > /dev/null || true
bed_exec scope-floor latency "$ITERATIONS" alice >> "$data" ||
        echo "warning: some floor sessions failed (not counted)" >&2
bed_exec systemctl stop floor-hold.service
failed=$(grep -v '^floor ' "$data" | grep -c ' failed$' || true)
floor_failed=$(grep -c '^floor .* failed$' "$data" || true)

# percentile FILE-OF-NUMBERS P → the value at rank ceil(P/100 × n) (nearest rank).
percentile() {
        sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int((p * NR + 99) / 100); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 }'
}
summary() {
        local service=$1 col=$2
        awk -v s="$service" -v c="$col" '$1 == s && $NF == "ok" { print $c }' "$data" > "$data.$service.$col"
        echo "$(percentile "$data.$service.$col" 50) $(percentile "$data.$service.$col" 99)"
}
read -r ss50 ss99 < <(summary bench-ss 2)
read -r ba50 ba99 < <(summary bench-base 2)
read -r ex50 ex99 < <(summary bench-exec 2)
read -r fl50 fl99 < <(summary floor 2)
read -r ssc50 ssc99 < <(summary bench-ss 3)
read -r bac50 bac99 < <(summary bench-base 3)
read -r exc50 exc99 < <(summary bench-exec 3)

echo "open_session latency over $ITERATIONS logins each (ms), /usr/bin/true in both contexts:"
printf '  %-40s p50 %8s   p99 %8s\n' "pam_systemd + pam_session_scripts" "$ss50" "$ss99"
printf '  %-40s p50 %8s   p99 %8s\n' "pam_systemd alone (without the module)" "$ba50" "$ba99"
printf '  %-40s p50 %8s   p99 %8s\n' "pam_systemd + 2 pam_exec (root, setpriv)" "$ex50" "$ex99"
printf '  %-40s p50 %8s   p99 %8s\n' "floor: 2 scopes + 2 execs, no daemon" "$fl50" "$fl99"
awk -v a="$ss50" -v b="$ba50" -v c="$ss99" -v d="$ba99" 'BEGIN {
        printf "  module vs without it: p50 %+.2f ms (ratio %.2f), p99 %+.2f ms; target: p50 at most +8 ms\n",
                a - b, (b > 0 ? a / b : 0), c - d }'
awk -v a="$ss50" -v b="$ba50" -v f="$fl50" 'BEGIN {
        printf "  of the p50 difference, systemd and the kernel alone (floor) take %.2f ms; the module itself %+.2f ms\n",
                f, a - b - f }'
awk -v a="$ss50" -v b="$ex50" -v c="$ss99" -v d="$ex99" 'BEGIN {
        printf "  module vs 2 pam_exec:  p50 %+.2f ms (ratio %.2f), p99 %+.2f ms\n",
                a - b, (b > 0 ? a / b : 0), c - d }'
echo "close_session latency (ms):"
printf '  %-40s p50 %8s   p99 %8s\n' "pam_systemd + pam_session_scripts" "$ssc50" "$ssc99"
printf '  %-40s p50 %8s   p99 %8s\n' "pam_systemd alone" "$bac50" "$bac99"
printf '  %-40s p50 %8s   p99 %8s\n' "pam_systemd + 2 pam_exec" "$exc50" "$exc99"
echo "BENCH open_p50_module $ss50 ms"
echo "BENCH open_p99_module $ss99 ms"
echo "BENCH open_p50_without_module $ba50 ms"
echo "BENCH open_p99_without_module $ba99 ms"
echo "BENCH open_p50_pam_exec $ex50 ms"
echo "BENCH open_p99_pam_exec $ex99 ms"
echo "BENCH open_p50_floor $fl50 ms"
echo "BENCH open_p99_floor $fl99 ms"
echo "BENCH open_p50_module_overhead $(awk -v a="$ss50" -v b="$ba50" 'BEGIN { printf "%.2f", a - b }') ms"
[ "$failed" = 0 ] || echo "  ($failed logins reported a failure; not counted)"
[ "$floor_failed" = 0 ] || echo "  ($floor_failed floor sessions failed; not counted)"
rm -f "$data" "$data".*
