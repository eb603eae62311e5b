#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A session id presented by somebody else's login. The PAM environment can come from places a user
# controls, so bob (and alice's own second login) present the id of alice's live session through
# pam_env. A session belongs to one login of one user: bob's login is registered under an id of
# its own (the daemon journals "already in use" with the id), his start and termination scripts run
# with that id, alice's SessionTermination does not run at his logout (nor when he closes the id
# again), and runs exactly once at hers. A second login of alice presenting her live id with
# require_success runs its start scripts for itself: when they fail, the login is refused (the
# first login's stored success is not handed to it).
#
# The stacks have no pam_systemd: without a logind session to follow, alice's session stays open
# between a pamtester that only opens it and a later one that only closes it (pam_env sets the id
# at setcred for the close, as it does at open_session).

source "$MESON_SOURCE_ROOT/tests/integration/adversarial/adversarial-lib.sh"
scenario_begin

# Every run appends its session id to a file named after the event and the session's user. When
# armed for a user, the first start after arming succeeds and every later one fails.
ss_prepare_out
ss_install_script start.sh <<'EOF2'
#!/bin/sh
out=/var/tmp/ss-out
echo "$AppStream_Session_ID" >> "$out/start-$AppStream_Session_User"
if [ -e "$out/armed-$AppStream_Session_User" ]; then
        [ -e "$out/ran-$AppStream_Session_User" ] && { echo "not the first login"; exit 1; }
        touch "$out/ran-$AppStream_Session_User"
fi
exit 0
EOF2
ss_install_script term.sh <<'EOF2'
#!/bin/sh
echo "$AppStream_Session_ID" >> "/var/tmp/ss-out/term-$AppStream_Session_User"
EOF2
ss_install_config_system 10 "$SS_DIR/start.sh" "$SS_DIR/term.sh"

# env_stack SERVICE ID [MODULE-OPTIONS] — a stack whose pam_env sets AppStream_Session_ID=ID (at
# setcred and at open_session) before our module.
env_stack() {
        local service=$1 id=$2 opts=${3:-}
        printf 'AppStream_Session_ID DEFAULT=%s\n' "$id" > "$BED_ROOT/etc/ss-env-$service.conf"
        bed_pam_service "$service" "auth optional pam_env.so conffile=/etc/ss-env-$service.conf readenv=0
session optional pam_env.so conffile=/etc/ss-env-$service.conf readenv=0
session required pam_session_scripts.so debug $opts"
}
env_stack ss-shared shared-1
env_stack ss-req shared-2 require_success
ss_start_daemon

# lines FILE — the lines of FILE inside, space-separated ("" when absent).
lines() {
        ss_file "$1" | tr '\n' ' ' | sed 's/ $//'
}

# session_of ID — the ListSessions entry (as root) of session ID, "" when none.
session_of() {
        ss_call ListSessions | grep -o "\"$1\" \"[a-z0-9]*\" [0-9]* [0-9]* \"[a-z-]*\" \"[a-z-]*\"" || true
}

# ---- alice opens with shared-1 and stays logged in ----------------------------------------------
out=$(ss_login ss-shared alice open_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice opens"
ss_assert_eq "$(lines $SS_OUT/start-alice)" "shared-1" "alice's start ran with shared-1"
ss_assert_contains "$(session_of shared-1)" "\"shared-1\" \"alice\"" "shared-1 is alice's"

# ---- bob presents shared-1: a login of his own -------------------------------------------------
cursor=$(ss_journal_mark)
out=$(ss_login ss-shared bob open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's login"
# The harm first: alice's termination must not run while she is logged in.
sleep 1
ss_assert_eq "$(lines $SS_OUT/term-alice)" "" "alice's SessionTermination at bob's logout"
ss_assert_contains "$(session_of shared-1)" "\"shared-1\" \"alice\"" "alice's session after bob's logout"
ss_assert_contains "$(session_of shared-1)" "\"not-run\"" "alice's termination state after bob's logout"
bob_start=$(lines $SS_OUT/start-bob)
[ -n "$bob_start" ] || bed_fail "bob's start scripts did not run (his login was attached to alice's session)"
[ "$bob_start" != shared-1 ] || bed_fail "bob's start ran with alice's id shared-1"
ss_assert_eq "$(wc -w <<<"$bob_start")" 1 "bob's start runs: $bob_start"
ss_wait_for 10 test -s "$SS_OUT/term-bob" || bed_fail "bob's SessionTermination did not run"
ss_assert_eq "$(lines $SS_OUT/term-bob)" "$bob_start" "bob's termination ran once, under his own id"
refusal=$(bed_journal --cursor="$cursor" -u session-scripts.service -o cat | grep -F "already in use" || true)
echo "journal: $refusal"
ss_assert_contains "$refusal" "shared-1" "the daemon journals the reused id"
ss_assert_contains "$refusal" "$bob_start" "the journal names bob's own id"

# bob closes shared-1 once more, on its own (the id his PAM environment names).
out=$(ss_login ss-shared bob setcred close_session)
echo "$out"
sleep 1
ss_assert_eq "$(lines $SS_OUT/term-alice)" "" "alice's SessionTermination at bob's close of shared-1"
ss_assert_contains "$(session_of shared-1)" "\"not-run\"" "alice's termination state after bob's close of shared-1"

# ---- alice's own logout: her termination, exactly once ------------------------------------------
out=$(ss_login ss-shared alice setcred close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice closes"
ss_assert_not_contains "$out" "requested before" "alice's close"
ss_wait_for 10 test -s "$SS_OUT/term-alice" || bed_fail "alice's SessionTermination did not run at her logout"
out=$(ss_login ss-shared alice setcred close_session)
sleep 1
ss_assert_eq "$(lines $SS_OUT/term-alice)" "shared-1" "alice's termination ran exactly once"
ss_assert_eq "$(lines $SS_OUT/term-bob)" "$bob_start" "bob's termination still once"

# ---- a second login of alice presenting her live id, with require_success ----------------------
bed_exec touch "$SS_OUT/armed-alice"
bed_exec rm -f "$SS_OUT/start-alice" "$SS_OUT/term-alice"
out=$(ss_login ss-req alice open_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice's first login with require_success"
ss_assert_eq "$(lines $SS_OUT/start-alice)" "shared-2" "the first login's start"
cursor=$(ss_journal_mark)
out=$(ss_login ss-req alice open_session)
echo "$out"
[ "$(ss_result_field "$out" rc)" != 0 ] ||
        bed_fail "the second login presenting shared-2 was let in (handed the first login's stored success)"
second=$(ss_file "$SS_OUT/start-alice" | sed -n 2p)
[ -n "$second" ] || bed_fail "the second login's start scripts did not run"
[ "$second" != shared-2 ] || bed_fail "the second login's start ran with the first login's id"
ss_assert_contains "$(bed_journal --cursor="$cursor" -u session-scripts.service -o cat | grep -F "already in use" || true)" \
        "shared-2" "the daemon journals the reused id"
# The first login is untouched and ends once, at its own logout.
ss_assert_contains "$(session_of shared-2)" "\"shared-2\" \"alice\"" "the first login's session"
ss_assert_eq "$(lines $SS_OUT/term-alice)" "" "no termination for the refused login"
out=$(ss_login ss-req alice setcred close_session)
ss_wait_for 10 test -s "$SS_OUT/term-alice" || bed_fail "the first login's termination did not run"
sleep 1
ss_assert_eq "$(lines $SS_OUT/term-alice)" "shared-2" "the first login's termination, once"

echo "PASS"
