#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The daemon's D-Bus signals, watched with `busctl monitor` while alice and bob log in and out at
# the same time (pamtester open_session close_session, both at once). For each session, in order:
# SessionStarted(id, user); RunStarted of both SessionStart runs (system, user) with their scope
# units; their RunFinished with the same units, the right result / exit status and a plausible
# duration; then RunStarted/RunFinished of the SessionTermination run; SessionEnded last. The two
# sessions' signals interleave (they run concurrently). Units match the journal's summary entries,
# durations match ListRuns.

source "$MESON_SOURCE_ROOT/tests/integration/policy/policy-lib.sh"
scenario_begin

ss_prepare_out
# The user-context start takes 2 s, so both sessions' starts overlap; bob's exits 2.
pol_install_id_recorder start-system.sh
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
sleep 2
[ "$USER" = bob ] && exit 2
exit 0
EOF
ss_install_script term-system.sh <<'EOF'
#!/bin/sh
exit 0
EOF
ss_install_config <<EOF
{
  "SessionStart": { "executables": [
      { "context": "system", "filename": "$SS_DIR/start-system.sh" },
      { "context": "user", "filename": "$SS_DIR/start-user.sh" } ], "waitingTime": 20 },
  "SessionTermination": { "executables": [ { "context": "system", "filename": "$SS_DIR/term-system.sh" } ], "waitingTime": 20 }
}
EOF
pol_pam_stack ss-sig optional
ss_start_daemon
pol_monitor_start

out=$(bed_exec bash -c '
        for u in alice bob; do
                pamtester -v ss-sig "$u" open_session close_session > /var/tmp/ss-out/pamtester.$u 2>&1 &
        done
        fail=0
        for job in $(jobs -p); do wait "$job" || fail=$((fail + 1)); done
        echo "SS_RESULT rc=$fail"')
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "both logins succeeded"
sleep 0.5
pol_monitor_stop

signals=$(pol_signals)
echo "signals (member, arguments):"
echo "$signals"

alice=$(pol_last_id alice)
bob=$(pol_last_id bob)
[ -n "$alice" ] && [ -n "$bob" ] && [ "$alice" != "$bob" ] || bed_fail "session ids not recorded ($alice, $bob)"

# The checks, on the recorded signals (tab-separated) plus the expected session ids and users.
printf '%s\n' "$signals" > "$BED_TMP/signals.tsv"
python3 - "$BED_TMP/signals.tsv" "$alice" alice 0 "$bob" bob 2 <<'EOF' || bed_fail "signal order or contents wrong (see above)"
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
errors = []
def err(msg):
    errors.append(msg)
    print("ERROR: " + msg)

args = sys.argv[2:]
sessions = [(args[i], args[i + 1], int(args[i + 2])) for i in range(0, len(args), 3)]
positions = {}
for sid, user, user_exit in sessions:
    mine = [(i, r) for i, r in enumerate(rows) if len(r) > 1 and r[1] == sid]
    names = [r[0] for _, r in mine]
    positions[sid] = [i for i, _ in mine]
    print(f"{sid} ({user}): " + " ".join(
        r[0] + ("(" + "/".join(r[2:4]) + ")" if r[0].startswith("Run") else "") for _, r in mine))
    expected = ["SessionStarted", "RunStarted", "RunStarted", "RunFinished", "RunFinished",
                "RunStarted", "RunFinished", "SessionEnded"]
    if names != expected:
        err(f"{sid}: sequence {names}, expected {expected}")
        continue
    r = [row for _, row in mine]
    if r[0][2:] != [user] or r[7][2:] != [user]:
        err(f"{sid}: SessionStarted/SessionEnded name user {r[0][2:]} / {r[7][2:]}, expected {user}")
    starts = {row[3]: row for row in r[1:3] if row[2] == "SessionStart"}
    finishes = {row[3]: row for row in r[3:5] if row[2] == "SessionStart"}
    if set(starts) != {"system", "user"} or set(finishes) != {"system", "user"}:
        err(f"{sid}: SessionStart runs {sorted(starts)} / {sorted(finishes)}, expected system and user")
        continue
    for ctx in ("system", "user"):
        unit = starts[ctx][4]
        if not (unit.startswith("session-scripts-") and unit.endswith(".scope")):
            err(f"{sid}: {ctx} RunStarted unit {unit!r} is not our scope")
        f = finishes[ctx]
        # RunFinished: id event context unit result exit_status duration_usec
        if f[4] != unit:
            err(f"{sid}: {ctx} RunFinished unit {f[4]!r} differs from RunStarted's {unit!r}")
        exit_status, duration = int(f[6]), int(f[7])
        want = 0 if ctx == "system" else user_exit
        want_result = "success" if want == 0 else "exit-code"
        if f[5] != want_result or exit_status != want:
            err(f"{sid}: {ctx} result {f[5]}/{exit_status}, expected {want_result}/{want}")
        lo, hi = (0, 1_500_000) if ctx == "system" else (1_900_000, 4_000_000)
        if not lo < duration < hi:
            err(f"{sid}: {ctx} duration {duration} µs outside ({lo}, {hi})")
        print(f"{sid}: {ctx} unit {unit} result {f[5]} exit {exit_status} duration {duration} µs")
    t_start, t_fin = r[5], r[6]
    if t_start[2:4] != ["SessionTermination", "system"] or t_fin[2:4] != ["SessionTermination", "system"]:
        err(f"{sid}: termination runs {t_start[2:4]} / {t_fin[2:4]}")
    elif t_fin[4] != t_start[4] or not t_start[4].endswith(".scope") or t_fin[5:7] != ["success", "0"]:
        err(f"{sid}: termination RunStarted/RunFinished {t_start[4:]} / {t_fin[4:]}")
    if len({row[4] for row in (starts["system"], starts["user"], t_start)}) != 3:
        err(f"{sid}: runs share a unit")

# Concurrency: each session's start ran while the other one was open.
a, b = positions[sessions[0][0]], positions[sessions[1][0]]
if a and b and not (a[0] < b[0] < a[4] or b[0] < a[0] < b[4]):
    err("the two sessions did not overlap: one started after the other's start had ended")
print("signal checks:", "FAILED" if errors else "passed", f"({len(rows)} signals)")
sys.exit(1 if errors else 0)
EOF

# The units and durations agree with the journal and with ListRuns.
for pair in "$alice:alice" "$bob:bob"; do
        id=${pair%%:*}
        for ctx in system user; do
                unit=$(ss_run_unit "$id" SessionStart $ctx)
                [ -n "$unit" ] || bed_fail "no journal summary for $id SessionStart $ctx"
                sig=$(awk -F'\t' -v id="$id" -v c="$ctx" '$1 == "RunFinished" && $2 == id && $3 == "SessionStart" && $4 == c { print $5 }' <<<"$signals")
                ss_assert_eq "$sig" "$unit" "RunFinished unit of $id $ctx = journal OBJECT_SYSTEMD_UNIT"
        done
        runs=$(ss_call ListRuns s "$id")
        echo "ListRuns $id: $runs"
        n=0
        while read -r event ctx unit result status duration; do
                ss_assert_contains "$runs" "\"$event\" \"$ctx\" \"$unit\" \"$SS_DIR/" "ListRuns entry of $id $event $ctx"
                ss_assert_contains "$runs" "\"$result\" $status 0 $duration" "ListRuns result/duration of $id $event $ctx"
                n=$((n + 1))
        done < <(awk -F'\t' -v id="$id" '$1 == "RunFinished" && $2 == id { print $3, $4, $5, $6, $7, $8 }' <<<"$signals")
        ss_assert_eq "$n" 3 "RunFinished signals of $id checked against ListRuns"
done

echo "OK: signals in order with the right ids, users, events, contexts, units, results, exit statuses and durations for two concurrent sessions"
