#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The second-session policy example (examples/refuse-second-session.sh) as the system SessionStart
# script, with `session required pam_session_scripts.so require_success`:
#   - alice's first login is allowed, her second is refused with "Please end your other session
#     first." (pamtester fails, the message reaches the conversation), and so is a third; the
#     refused ones are not listed and do not count;
#   - bob's login is allowed while alice is logged in;
#   - concurrency: five users log in four times each, all twenty at the same instant: exactly one
#     login per user wins;
#   - the script is idempotent: run again for a session, it gives the same verdict;
#   - a manual run (`session-scripts run`, RunEvent) is no login: while it runs it is listed with
#     termination "done" and does not count, so the user's login is allowed;
#   - once alice's first session is closed (pamtester close_session), she can log in again.

source "$MESON_SOURCE_ROOT/tests/integration/policy/policy-lib.sh"
scenario_begin

REASON="Please end your other session first."
ss_prepare_out
ss_install_script refuse-second-session.sh < "$MESON_SOURCE_ROOT/examples/refuse-second-session.sh"
# A user-context start script that is slow only when asked to (for the manual run below).
ss_install_script slow-user.sh <<'EOF'
#!/bin/sh
if [ -e /var/tmp/ss-out/slow.$USER ]; then
        touch /var/tmp/ss-out/sleeping.$USER
        sleep 6
fi
exit 0
EOF
ss_install_config <<EOF
{ "SessionStart": { "executables": [ { "context": "system", "filename": "$SS_DIR/refuse-second-session.sh" },
                                     { "context": "user", "filename": "$SS_DIR/slow-user.sh" } ], "waitingTime": 15 } }
EOF
# No pam_systemd in this stack: pamtester's open_session process exits right away, and with a
# logind session that is the end of the login (logind closes it, and the daemon ends the session,
# as it must for a login program that went away). Without logind a session lives until its
# close_session, like a login that stays open.
bed_pam_service ss-one "session required pam_session_scripts.so debug timeout_grace=2 require_success"
ss_start_daemon

# user_ids USER — USER's listed sessions (as root), one id per line.
user_ids() {
        ss_call ListSessions | grep -o "\"[^\"]*\" \"$1\" [0-9]* [0-9]* \"[a-z-]*\" \"not-run\"" |
                cut -d'"' -f2 || true
}

# --- alice: first login allowed, second (and third) refused with the script's reason.
out=$(ss_login ss-one alice open_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice's first login"
ss_assert_contains "$out" "successfully opened a session"
first=$(user_ids alice)
ss_assert_eq "$(wc -l <<<"$first")" 1 "alice has one listed session"
echo "alice's first session: $first"

for n in 2 3; do
        out=$(ss_login ss-one alice open_session)
        echo "$out"
        rc=$(ss_result_field "$out" rc)
        [ "$rc" -ne 0 ] || bed_fail "alice's login #$n was allowed while her first session is active"
        ss_assert_contains "$out" "Session refused: $REASON" "alice's login #$n: reason shown"
        ss_assert_not_contains "$out" "successfully opened a session" "alice's login #$n"
        ss_assert_eq "$(user_ids alice)" "$first" "after refusal #$n only alice's first session is listed"
done
refusals=$(bed_journal -o cat | grep -c "of user alice was refused by the PAM module" || true)
ss_assert_eq "$refusals" 2 "the daemon forgot both refused sessions"

# --- bob is another user: allowed.
out=$(ss_login ss-one bob open_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's login while alice is logged in"
ss_assert_contains "$out" "successfully opened a session"
bob=$(user_ids bob)

# --- the same verdicts when the script runs again (idempotent): as the daemon would run it.
verdict() {
        bed_exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin AppStream_Session_ID="$1" AppStream_Session_User="$2" \
                "$SS_DIR/refuse-second-session.sh" >/dev/null 2>&1 && echo allowed || echo refused
}
ss_assert_eq "$(verdict "$first" alice)" allowed "rerun for alice's first session"
ss_assert_eq "$(verdict "$bob" bob)" allowed "rerun for bob's session"
ss_assert_eq "$(verdict not-listed-1 alice)" refused "rerun for another (unlisted) session of alice"
ss_assert_eq "$(verdict not-listed-2 user06)" allowed "rerun for a user without sessions"

# --- a manual run of user07's start (RunEvent) is going on: it is no session of user07's, her
# login is allowed.
bed_exec touch "$SS_OUT/slow.user07"
bed_exec bash -c 'session-scripts run SessionStart --user user07 --session-id run-07 > /var/tmp/ss-out/run-07.out 2>&1 &'
ss_wait_for 10 sh -c 'busctl call org.sessionscripts.SessionScripts1 /org/sessionscripts/SessionScripts1 org.sessionscripts.Manager1 ListSessions | grep -q "\"run-07\" \"user07\" [0-9]* [0-9]* \"running\" \"done\""' ||
        bed_fail "the running manual start is not listed as start running, termination done: $(ss_call ListSessions)"
ss_wait_for 10 test -e "$SS_OUT/sleeping.user07" || bed_fail "the manual run's user script did not start"
bed_exec rm -f "$SS_OUT/slow.user07"   # the run sleeps on; the login need not
out=$(ss_login ss-one user07 open_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "user07's login while a manual run of hers goes on"
ss_assert_contains "$out" "successfully opened a session"
ss_assert_eq "$(user_ids user07 | wc -l)" 1 "user07 has one active session (the run is none)"
ss_assert_contains "$(ss_call ListSessions | grep -o '"run-07" "user07" [0-9]* [0-9]* "[a-z-]*" "[a-z-]*"')" \
        '"running" "done"' "the manual run was still going on during the login"

# --- concurrency: user01…user05 log in four times each, all at the same instant.
out=$(bed_exec bash -c '
        for u in user01 user02 user03 user04 user05; do
                for n in 1 2 3 4; do
                        pamtester -v ss-one $u open_session > /var/tmp/ss-out/race.$u.$n 2>&1 &
                done
        done
        wait
        for f in /var/tmp/ss-out/race.*; do
                if grep -q "successfully opened a session" $f; then echo "WON ${f#*race.}"
                elif grep -q "Session refused: Please end your other session first." $f; then echo "LOST ${f#*race.}"
                else echo "ODD ${f#*race.}: $(tr "\n" " " < $f)"; fi
        done')
echo "$out"
ss_assert_not_contains "$out" "ODD" "every racing login was either allowed or refused with the reason"
for u in user01 user02 user03 user04 user05; do
        won=$(grep -c "^WON $u\." <<<"$out" || true)
        lost=$(grep -c "^LOST $u\." <<<"$out" || true)
        echo "$u: $won allowed, $lost refused"
        ss_assert_eq "$won" 1 "exactly one of $u's four simultaneous logins wins"
        ss_assert_eq "$lost" 3 "the other three logins of $u are refused"
        ss_assert_eq "$(user_ids $u | wc -l)" 1 "$u has one listed session"
done

# --- alice ends her first session, then logs in again. pamtester's open_session process is gone,
# so a new one closes it through PAM: pam_env (at setcred, as login programs call it) puts the
# session's id into the PAM environment, where our close_session finds it.
printf 'AppStream_Session_ID DEFAULT=%s\n' "$first" > "$BED_ROOT/etc/ss-close-env.conf"
cat > "$BED_ROOT/etc/pam.d/ss-close" <<'EOF'
# Written by the policy scenario: closes a session that another process opened.
auth     required pam_env.so readenv=0 conffile=/etc/ss-close-env.conf
account  required pam_permit.so
session  required pam_session_scripts.so debug require_success
EOF
chmod 0644 "$BED_ROOT/etc/pam.d/ss-close"
out=$(ss_login ss-close alice setcred close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice's close_session"
ss_assert_contains "$(ss_call ListSessions)" "\"$first\" \"alice\"" "the closed session is still listed for a while"
ss_assert_eq "$(user_ids alice)" "" "but it is not active any more"
out=$(ss_login ss-one alice open_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice's login after her first session closed"
ss_assert_contains "$out" "successfully opened a session"
ss_assert_eq "$(user_ids alice | wc -l)" 1 "alice has one active session again"
ss_assert_eq "$(user_ids bob)" "$bob" "bob's session was never touched"

echo "OK: second session refused (alice 2×), other user allowed, 5 users × 4 simultaneous logins → exactly 1 each, idempotent, login again after close"
