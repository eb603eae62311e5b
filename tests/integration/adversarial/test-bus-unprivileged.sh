#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# alice, an unprivileged user, goes after bob's live session over the system bus, knowing its id:
# every root-only method (OpenSession with bob's id, CloseSession and WaitSessionEvent and
# RefuseSession of bob's session, Reload, RunEvent for bob) is refused with AccessDenied — by the
# bus policy, and with a policy that lets her through by the daemon's own check — and changes
# nothing: bob's session is still open, its termination not run, no script ran for her calls, the
# configuration was not reloaded, and bob's SessionTermination runs exactly once, at his logout.
# ListSessions and ListRuns answer alice about her own session only: bob's never shows.

source "$MESON_SOURCE_ROOT/tests/integration/adversarial/adversarial-lib.sh"
scenario_begin

ss_prepare_out
ss_install_script start.sh <<'EOF2'
#!/bin/sh
echo "$AppStream_Session_ID" >> "/var/tmp/ss-out/start-$AppStream_Session_User"
EOF2
ss_install_script term.sh <<'EOF2'
#!/bin/sh
echo "$AppStream_Session_ID" >> "/var/tmp/ss-out/term-$AppStream_Session_User"
EOF2
ss_install_config_system 10 "$SS_DIR/start.sh" "$SS_DIR/term.sh"

# A stack per user whose pam_env names the session id (no pam_systemd: the session stays open
# between a pamtester that opens it and one that closes it).
for u in alice bob; do
        printf 'AppStream_Session_ID DEFAULT=%s-1\n' "$u" > "$BED_ROOT/etc/ss-env-$u.conf"
        bed_pam_service "ss-$u" "auth optional pam_env.so conffile=/etc/ss-env-$u.conf readenv=0
session optional pam_env.so conffile=/etc/ss-env-$u.conf readenv=0
session required pam_session_scripts.so debug"
done
ss_start_daemon

lines() {
        ss_file "$1" | tr '\n' ' ' | sed 's/ $//'
}

# bob_unharmed WHEN — bob's session is open with its start done and its termination not run, and
# no script ran since his login.
bob_unharmed() {
        ss_assert_contains "$(ss_call ListSessions)" "\"bob-1\" \"bob\" $(bed_exec id -u bob)" "bob's session ($1)"
        ss_assert_contains "$(ss_call ListSessions | grep -o '"bob-1" [^"]*"[^"]*" [0-9]* [0-9]* "[a-z-]*" "[a-z-]*"')" \
                '"done" "not-run"' "bob's session state ($1)"
        ss_assert_eq "$(lines $SS_OUT/start-bob)" "bob-1" "bob's start runs ($1)"
        ss_assert_eq "$(lines $SS_OUT/term-bob)" "" "bob's termination runs ($1)"
        ss_assert_eq "$(lines $SS_OUT/start-alice)" "alice-1" "alice's start runs ($1)"
        ss_assert_eq "$(lines $SS_OUT/term-alice)" "" "alice's termination runs ($1)"
}

out=$(ss_login ss-bob bob open_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob opens"
out=$(ss_login ss-alice alice open_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice opens"
bob_unharmed "before the attempts"
loads_before=$(bed_journal -u session-scripts.service -o cat | grep -c "Loaded configuration" || true)

attempts=(
        "OpenSession string:bob string:sshd dict:string:string:AppStream_Session_ID,bob-1"
        "OpenSession string:alice string:sshd dict:string:string:AppStream_Session_ID,bob-1"
        "CloseSession string:bob-1 dict:string:string:PAM_USER,bob"
        "CloseSession string:bob-1 dict:string:string:PAM_USER,alice"
        "CloseSession string: dict:string:string:AppStream_Session_ID,bob-1"
        "WaitSessionEvent string:bob-1 string:SessionTermination"
        "RefuseSession string:bob-1"
        "Reload"
        "RunEvent string:bob string:SessionTermination dict:string:string:AppStream_Session_ID,bob-1"
        "RunEvent string:bob string:SessionStart dict:string:string:AppStream_Session_ID,bob-1"
)

# ---- through the bus policy ---------------------------------------------------------------------
for attempt in "${attempts[@]}"; do
        ss_assert_refused alice "$attempt" "alice's ${attempt%% *}"
done
sleep 1
bob_unharmed "after the attempts through the bus policy"

# ---- with a policy that lets alice through: the daemon's own check ------------------------------
ss_lax_bus_policy alice on
for attempt in "${attempts[@]}"; do
        ss_assert_refused alice "$attempt" "alice's ${attempt%% *} (lax policy)" by-daemon
done
sleep 1
bob_unharmed "after the attempts through a lax policy"
ss_assert_eq "$(bed_journal -u session-scripts.service -o cat | grep -c "Loaded configuration" || true)" \
        "$loads_before" "configuration loads (alice's Reload)"

# ---- the listings: alice sees her own session, never bob's ---------------------------------------
list=$(bed_exec_user alice busctl --system call "${SS_BUS_ARGS[@]}" ListSessions)
echo "alice's ListSessions: $list"
ss_assert_contains "$list" '"alice-1" "alice"' "alice's ListSessions shows her session"
ss_assert_not_contains "$list" "bob" "alice's ListSessions"
ss_assert_contains "$(ss_call ListSessions)" '"bob-1" "bob"' "root's ListSessions shows bob's session"
rc=0; runs=$(bed_exec_user alice busctl --system call "${SS_BUS_ARGS[@]}" ListRuns s bob-1 2>&1) || rc=$?
echo "alice's ListRuns bob-1: $runs"
[ "$rc" != 0 ] || bed_fail "alice's ListRuns of bob's session answered: $runs"
ss_assert_not_contains "$runs" "start.sh" "alice's ListRuns of bob's session"
nosuch=$(bed_exec_user alice busctl --system call "${SS_BUS_ARGS[@]}" ListRuns s no-such-1 2>&1 || true)
ss_assert_eq "${runs//bob-1/ID}" "${nosuch//no-such-1/ID}" "bob's session looks like no session to alice"
ss_assert_contains "$(bed_exec_user alice busctl --system call "${SS_BUS_ARGS[@]}" ListRuns s alice-1)" "start.sh" \
        "alice's ListRuns of her own session"
ss_assert_contains "$(ss_call ListRuns s bob-1)" "start.sh" "root's ListRuns of bob's session"
ss_lax_bus_policy alice off

# ---- bob's logout: his termination, exactly once -----------------------------------------------
out=$(ss_login ss-bob bob setcred close_session)
echo "$out"
ss_wait_for 10 test -s "$SS_OUT/term-bob" || bed_fail "bob's SessionTermination did not run at his logout"
out=$(ss_login ss-bob bob setcred close_session)
sleep 1
ss_assert_eq "$(lines $SS_OUT/term-bob)" "bob-1" "bob's termination ran exactly once"
ss_assert_eq "$(lines $SS_OUT/term-alice)" "" "alice's session was not ended"

echo "PASS"
