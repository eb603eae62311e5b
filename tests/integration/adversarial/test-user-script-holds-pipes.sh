#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A user-context start script that forks a background child holding its stdout and stderr open and
# exits 0 at once — as a user could write to keep the daemon reading (or the login waiting) for as
# long as the child lives. With require_success: alice's login is let in (the start's result is the
# script's success, not a timeout) within waitingTime + timeout_grace; the child is killed at the
# deadline (RuntimeMaxSec of the script's scope), never printing its last line; bob, logging in at
# the same time and while the child still holds the pipes, is not delayed.

source "$MESON_SOURCE_ROOT/tests/integration/adversarial/adversarial-lib.sh"
scenario_begin

WAIT=6          # waitingTime of SessionStart, seconds
GRACE=3         # the module's default timeout_grace

ss_prepare_out
ss_install_script start-user.sh <<'EOF2'
#!/bin/sh
echo "start $USER $AppStream_Session_ID"
if [ "$USER" = alice ]; then
        # Inherits stdout and stderr, and outlives the script by far.
        (sleep 301; echo "holder still alive") &
fi
exit 0
EOF2
ss_install_config <<EOF2
{ "SessionStart": { "executables": [ { "context": "user", "filename": "$SS_DIR/start-user.sh" } ], "waitingTime": $WAIT } }
EOF2
bed_pam_service ss-pipes "session required pam_systemd.so
session required pam_session_scripts.so debug require_success"
ss_start_daemon

now_ms() {
        echo $(( $(date +%s%N) / 1000000 ))
}

holder_alive() {
        bed_exec pgrep -u alice -f "sleep 301" >/dev/null
}

# ---- alice and bob log in at the same time -----------------------------------------------------
t0=$(now_ms)
ss_login ss-pipes alice open_session > "$BED_TMP/alice.out" &
alice_pid=$!
sleep 0.2
ss_login ss-pipes bob open_session close_session > "$BED_TMP/bob.out" &
bob_pid=$!
wait "$bob_pid" || true
wait "$alice_pid" || true
alice_done=$(( $(now_ms) - t0 ))
cat "$BED_TMP/alice.out" "$BED_TMP/bob.out"
alice_ms=$(ss_result_field "$(cat "$BED_TMP/alice.out")" ms)
bob_ms=$(ss_result_field "$(cat "$BED_TMP/bob.out")" ms)
echo "alice's login: ${alice_ms} ms (returned ${alice_done} ms after the start); bob's login: ${bob_ms} ms"

ss_assert_eq "$(ss_result_field "$(cat "$BED_TMP/alice.out")" rc)" 0 "alice's login (require_success)"
ss_assert_contains "$(cat "$BED_TMP/alice.out")" "successfully opened a session" "alice's login"
ss_assert_not_contains "$(cat "$BED_TMP/alice.out")" "did not finish in time" "alice's login"
[ "$alice_ms" -le $(( (WAIT + GRACE) * 1000 )) ] || bed_fail "alice's login took ${alice_ms} ms (> waitingTime + grace)"
ss_assert_eq "$(ss_result_field "$(cat "$BED_TMP/bob.out")" rc)" 0 "bob's login"
[ "$bob_ms" -lt $(( WAIT * 1000 / 2 )) ] || bed_fail "bob's login took ${bob_ms} ms while alice's child held its pipes"

# The daemon's journal about alice's start: success, not a timeout.
start_line=$(bed_journal -u session-scripts.service -o cat | grep "SessionStart script $SS_DIR/start-user.sh (user context) for alice" || true)
echo "journal: $start_line"
ss_assert_contains "$start_line" "exited successfully" "alice's start result"

# ---- the child still holds the pipes; another login meanwhile is not delayed ------------------
if [ "$(( $(now_ms) - t0 ))" -lt $(( (WAIT - 2) * 1000 )) ]; then
        holder_alive || bed_fail "the child was gone before the deadline (nothing left to prove)"
        out=$(ss_login ss-pipes bob open_session close_session)
        bob2_ms=$(ss_result_field "$out" ms)
        echo "bob's second login, while alice's child holds the pipes: ${bob2_ms} ms"
        ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's second login"
        [ "$bob2_ms" -lt $(( WAIT * 1000 / 2 )) ] || bed_fail "bob's second login took ${bob2_ms} ms"
fi

# ---- killed at the deadline ---------------------------------------------------------------------
while holder_alive; do
        [ "$(( $(now_ms) - t0 ))" -lt $(( (WAIT + 5) * 1000 )) ] || bed_fail "the child outlived the deadline"
        sleep 0.1
done
gone_ms=$(( $(now_ms) - t0 ))
echo "the child was gone ${gone_ms} ms after the login started (deadline: $(( WAIT * 1000 )) ms)"
[ "$gone_ms" -ge $(( WAIT * 1000 - 1000 )) ] || bed_fail "the child was killed before the deadline (${gone_ms} ms)"
sleep 0.5
ss_assert_not_contains "$(bed_journal -o cat)" "holder still alive" "the child's last line"

echo "PASS"
