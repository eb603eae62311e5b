#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The opt-in veto (PAM option require_success) at real logins (pamtester through pam_systemd and
# pam_session_scripts):
#   - on a "required" line, a failing start script refuses the login: pamtester fails, the user
#     sees "Session refused: " and the script's last non-empty stdout line (not its stderr); the
#     daemon was told (RefuseSession): the session is not listed, its state file is gone, its
#     termination never runs, CloseSession does not know it, SessionEnded was emitted after its
#     RunFinished; a passing script is allowed;
#   - a start script stopped at waitingTime refuses the login the same way (its last line shown);
#   - without the option, both the failing and the passing script allow the login (the failure is
#     only shown), and the termination runs;
#   - on an "optional" line the refusal is only shown: the login goes on (the documented trap);
#   - the module twice in one stack (an optional line without the option, then a required line
#     with it — and the other way round): the login is refused, the start scripts ran once, the
#     session is not listed and never terminated;
#   - ListRuns of a refused session: NoSuchSession, as it is not listed;
#   - RefuseSession is root's: a normal user gets AccessDenied; on the bus, a refusal while the
#     start still runs forgets the session only once the start has ended; a daemon restarted in
#     between forgets it too (and never terminates it).

source "$MESON_SOURCE_ROOT/tests/integration/policy/policy-lib.sh"
scenario_begin

WAIT=4
ss_prepare_out

# alice fails (reason on stdout, then noise on stderr), user01 hangs past waitingTime, everyone
# else passes. The session's PAM user comes from AppStream_Session_User (USER is root here).
ss_install_script start-system.sh <<'EOF'
#!/bin/sh
u=$AppStream_Session_User
echo "$AppStream_Session_ID" >> /var/tmp/ss-out/ids.$u
case "$u" in
alice)
        echo "checking licence"
        echo "Your licence has expired."
        echo ""
        echo "this goes to stderr and is no reason" >&2
        exit 3 ;;
user01)
        echo "still checking the licence server"
        exec sleep 60 ;;
*)
        echo "welcome $u"
        exit 0 ;;
esac
EOF
ss_install_script term-system.sh <<'EOF'
#!/bin/sh
echo "$AppStream_Session_ID" >> /var/tmp/ss-out/term.log
EOF
ss_install_config_system "$WAIT" "$SS_DIR/start-system.sh" "$SS_DIR/term-system.sh"
pol_pam_stack ss-req required require_success
pol_pam_stack ss-plain required
pol_pam_stack ss-opt optional require_success
bed_pam_service ss-twice "session required pam_systemd.so
session optional pam_session_scripts.so debug timeout_grace=2
session required pam_session_scripts.so debug timeout_grace=2 require_success"
bed_pam_service ss-twice-rev "session required pam_systemd.so
session required pam_session_scripts.so debug timeout_grace=2 require_success
session optional pam_session_scripts.so debug timeout_grace=2"
ss_start_daemon
pol_monitor_start

# --- with require_success on a required line: a failing script refuses the login.
out=$(ss_login ss-req alice open_session close_session)
echo "$out"
rc=$(ss_result_field "$out" rc)
[ "$rc" -ne 0 ] || bed_fail "pamtester succeeded although the start script failed (require_success)"
ss_assert_contains "$out" "Session refused: Your licence has expired." "the script's last stdout line is the reason"
ss_assert_not_contains "$out" "successfully opened a session" "refused login"
ss_assert_not_contains "$out" "stderr and is no reason" "stderr is never the reason"
ss_assert_not_contains "$out" "successfully closed" "no close after a refused open"
refused=$(pol_last_id alice)
[ -n "$refused" ] || bed_fail "alice's start script did not record the session id"
echo "refused session: $refused (pamtester rc=$rc, $(ss_result_field "$out" ms) ms)"

ss_assert_not_contains "$(pol_list_ids)" "$refused" "a refused session is not listed (root)"
runs=$(ss_call ListRuns s "$refused" 2>&1 || true)
ss_assert_contains "$runs" "No such session" "ListRuns of a refused session"
ss_assert_eq "$(pol_state_file "$refused")" absent "the refused session's state file is removed"
closed=$(ss_call CloseSession 'sa{ss}' "$refused" 0 2>&1 || true)
ss_assert_contains "$closed" "No such session" "CloseSession of a refused session"
ss_assert_not_contains "$(ss_file $SS_OUT/term.log)" "$refused" "the refused session's termination never ran"
bed_journal -o cat | grep -F "Session $refused of user alice was refused by the PAM module" >/dev/null ||
        bed_fail "the daemon did not journal the refusal"

# --- a passing script is allowed (and terminated) with the same stack.
out=$(ss_login ss-req bob open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's login with require_success"
ss_assert_contains "$out" "successfully opened a session"
ss_assert_not_contains "$out" "Session refused"
bob1=$(pol_last_id bob)
ss_assert_contains "$(ss_file $SS_OUT/term.log)" "$bob1" "bob's termination ran"

# --- a script stopped at waitingTime refuses the login too; its last line is the reason.
out=$(ss_login ss-req user01 open_session)
echo "$out"
rc=$(ss_result_field "$out" rc)
ms=$(ss_result_field "$out" ms)
[ "$rc" -ne 0 ] || bed_fail "pamtester succeeded although the start script timed out (require_success)"
ss_assert_contains "$out" "Session refused: still checking the licence server" "timeout: last line as the reason"
[ "$ms" -ge $(( WAIT * 1000 - 300 )) ] && [ "$ms" -le $(( (WAIT + 2) * 1000 + 1000 )) ] ||
        bed_fail "timed-out refusal took $ms ms (waitingTime ${WAIT}s, grace 2s)"
timed_out=$(pol_last_id user01)
ss_assert_not_contains "$(pol_list_ids)" "$timed_out" "a refused (timed-out) session is not listed"
ss_assert_eq "$(pol_state_file "$timed_out")" absent "the timed-out session's state file is removed"
echo "timed-out start refused after $ms ms"

# --- without the option: both the failing and the passing script allow the login.
out=$(ss_login ss-plain alice open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice's login without require_success"
ss_assert_contains "$out" "successfully opened a session"
ss_assert_contains "$out" "Session script $SS_DIR/start-system.sh (system context) exited with status 3." \
        "the failure is shown"
ss_assert_not_contains "$out" "Session refused"
plain=$(pol_last_id alice)
ss_assert_contains "$(ss_file $SS_OUT/term.log)" "$plain" "termination ran for the allowed session"
out=$(ss_login ss-plain bob open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's login without require_success"
ss_assert_contains "$out" "successfully opened a session"

# --- optional + require_success: the refusal is shown, but libpam lets the login go on.
out=$(ss_login ss-opt alice open_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "optional line: the login goes on"
ss_assert_contains "$out" "Session refused: Your licence has expired." "optional line: the refusal is shown"
optional=$(pol_last_id alice)
ss_assert_not_contains "$(pol_list_ids)" "$optional" "optional line: the daemon still dropped the session"

# --- the module twice in one stack: the second line must not let in what the first saw fail, and
# the refusal of the first stands for the second; the start runs once either way.
for service in ss-twice ss-twice-rev; do
        before=$(ss_file "$SS_OUT/ids.alice" | wc -l)
        out=$(ss_login $service alice open_session)
        echo "$out"
        rc=$(ss_result_field "$out" rc)
        [ "$rc" -ne 0 ] || bed_fail "$service: the login was let in although the start script failed"
        ss_assert_contains "$out" "Session refused: Your licence has expired." "$service: the reason"
        ss_assert_not_contains "$out" "successfully opened a session" "$service: refused"
        after=$(ss_file "$SS_OUT/ids.alice" | wc -l)
        ss_assert_eq "$(( after - before ))" 1 "$service: the start scripts ran once"
        twice=$(pol_last_id alice)
        ss_assert_not_contains "$(pol_list_ids)" "$twice" "$service: the refused session is not listed"
        closed=$(ss_call CloseSession 'sa{ss}' "$twice" 0 2>&1 || true)
        ss_assert_contains "$closed" "No such session" "$service: CloseSession of the refused session"
        ss_assert_not_contains "$(ss_file $SS_OUT/term.log)" "$twice" "$service: no termination"
done
# Another login presenting the refused id (here: another login program's module with the same
# AppStream_Session_ID) is a login of its own: it is never handed the stored result, but gets an
# id of its own, its start runs (and fails) again, and it is refused on its own merits.
before=$(ss_file "$SS_OUT/ids.alice" | wc -l)
printf 'AppStream_Session_ID DEFAULT=%s\n' "$twice" > "$BED_ROOT/etc/ss-same-id.conf"
bed_pam_service ss-same-id "session required pam_env.so readenv=0 conffile=/etc/ss-same-id.conf
session required pam_systemd.so
session required pam_session_scripts.so debug timeout_grace=2 require_success"
out=$(ss_login ss-same-id alice open_session)
echo "$out"
[ "$(ss_result_field "$out" rc)" -ne 0 ] || bed_fail "a refused session id was let in by another login"
ss_assert_eq "$(ss_file "$SS_OUT/ids.alice" | wc -l)" "$(( before + 1 ))" "a refused session id: another login runs its own start"
ss_assert_not_contains "$(ss_file "$SS_OUT/ids.alice" | tail -n 1)" "$twice" "another login gets an id of its own"
bed_journal -u session-scripts.service | grep -q "Session id $twice presented by a login of user alice .* is already in use" ||
        bed_fail "the reuse of a session id by another login was not journaled"
ss_assert_not_contains "$(pol_list_ids)" "$twice" "a refused session id is not listed after another login"

# --- RefuseSession is root's; refusing on the bus while the start runs.
denied=$(bed_exec_user alice busctl --system call "${SS_BUS_ARGS[@]}" RefuseSession s "$bob1" 2>&1 || true)
ss_assert_contains "$denied" "Access denied" "RefuseSession by a normal user"
opened=$(ss_call OpenSession 'ssa{ss}' user01 ss-bus 1 AppStream_Session_ID bus-refuse-1)
ss_assert_eq "$opened" "st \"bus-refuse-1\" $(( WAIT * 1000000 ))" "OpenSession reply"
ss_call RefuseSession s bus-refuse-1
ss_assert_not_contains "$(pol_list_ids)" bus-refuse-1 "refused while starting: not listed"
ss_assert_eq "$(pol_state_file bus-refuse-1)" present "refused while starting: kept until the start ends"
ss_call RefuseSession s bus-refuse-1   # a second call is a no-op
ss_wait_for $(( WAIT + 3 )) sh -c '! test -e /run/session-scripts/sessions/bus-refuse-1' ||
        bed_fail "the session refused during its start was not forgotten after the start ended"
gone=$(ss_call RefuseSession s bus-refuse-1 2>&1 || true)
ss_assert_contains "$gone" "No such session" "RefuseSession of a forgotten session"

# --- signals: each refused session ends with SessionEnded, after its RunFinished.
sleep 0.5
pol_monitor_stop
signals=$(pol_signals)
echo "signals:"
echo "$signals"
for id in "$refused" "$timed_out" bus-refuse-1; do
        seq=$(awk -F'\t' -v id="$id" '$2 == id { print $1 "/" $3 "/" $6 }' <<<"$signals" | tr '\n' ' ')
        echo "$id: $seq"
        case "$seq" in
        "SessionStarted/"*" RunStarted/SessionStart/ RunFinished/SessionStart/"*" SessionEnded/"*" ") ;;
        *) bed_fail "signals of refused session $id out of order or missing: $seq" ;;
        esac
        ss_assert_not_contains "$seq" SessionTermination "no termination run for refused session $id"
done
ss_assert_contains "$(awk -F'\t' -v id="$refused" '$1 == "RunFinished" && $2 == id' <<<"$signals")" \
        $'exit-code\t3' "RunFinished of the failed start"
ss_assert_contains "$(awk -F'\t' -v id="$timed_out" '$1 == "RunFinished" && $2 == id' <<<"$signals")" \
        $'\ttimeout\t' "RunFinished of the timed-out start"

# --- a refusal survives a daemon restart: the new daemon forgets the session, never terminates it.
ss_call OpenSession 'ssa{ss}' user01 ss-bus 1 AppStream_Session_ID bus-refuse-2 >/dev/null
ss_call RefuseSession s bus-refuse-2
ss_assert_eq "$(pol_state_file bus-refuse-2)" present "refused while starting (before the restart)"
bed_exec systemctl restart session-scripts.service || bed_fail "daemon restart failed"
ss_assert_eq "$(pol_state_file bus-refuse-2)" absent "a restarted daemon forgets a refused session"
ss_assert_not_contains "$(pol_list_ids)" bus-refuse-2 "not listed after the restart"
bed_journal -o cat | grep -F "Session bus-refuse-2 of user user01 was refused; forgetting it." >/dev/null ||
        bed_fail "the restarted daemon did not say it forgot the refused session"
ss_assert_not_contains "$(ss_file $SS_OUT/term.log)" bus-refuse-2 "no termination after the restart"

echo "OK: require_success refuses failing (exit 3) and timed-out starts with the script's line, allows passing ones; without it both allow; optional only shows; RefuseSession forgets"
