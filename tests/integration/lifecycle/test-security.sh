#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The refusals: an unprivileged user calling the methods that start sessions (or reload) gets
# AccessDenied and nothing runs — from the bus policy, and with a lax policy from the daemon's own
# check; an executable replaced after the daemon recorded its baseline is not run, the exact
# sentence is journaled and the user is told; the baseline survives a daemon that crashed (a change
# made before the crash is still caught, the baseline file is root's, mode 0600) while a deliberate
# restart provisions anew, a deleted
# executable counts as modified; with the daemon stopped and its bus activation disabled, a login
# returns within 1 s (fail-open) and the module logs why.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

TAMPERED_TEXT="The session script was not executed because the executable was modified after the instance was provisioned. For security reasons, the execution was skipped."

ss_prepare_out
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
echo "original $AppStream_Session_ID" >> /var/tmp/ss-out/start.log
EOF
ss_install_script start-system.sh <<'EOF'
#!/bin/sh
echo "system $AppStream_Session_ID" >> /var/tmp/ss-out/system.log
EOF
ss_install_config <<EOF
{
  "SessionStart": {
    "executables": [
      { "context": "system", "filename": "$SS_DIR/start-system.sh" },
      { "context": "user", "filename": "$SS_DIR/start-user.sh" }
    ],
    "waitingTime": 10
  }
}
EOF
ss_pam_stack ss-sec
ss_start_daemon

# --- an unprivileged caller is refused (bus policy and the daemon's own check)
for method in "OpenSession string:alice string:evil dict:string:string:AppStream_Session_ID,evil-1" \
              "CloseSession string:evil-1 dict:string:string:" \
              "WaitSessionEvent string:evil-1 string:SessionStart" \
              "Reload"; do
        ss_assert_refused alice "$method" "unprivileged ${method%% *}"
done
ss_assert_not_contains "$(ss_call ListSessions)" "evil-1" "no session was opened for the unprivileged caller"
[ -z "$(ss_file $SS_OUT/start.log)$(ss_file $SS_OUT/system.log)" ] || bed_fail "a script ran for an unprivileged call"
# The daemon refuses by itself too: with a lax bus policy that lets alice through, the refusal
# comes from the daemon (not "Rejected send message" from the bus).
ss_lax_bus_policy alice on
# Every root-only method; the daemon's own sentence proves it was bus_check_root() that refused
# (not the bus, and not sd-bus's generic capability check, which says "Access to … not permitted").
for method in "OpenSession string:alice string:evil dict:string:string:AppStream_Session_ID,evil-2" \
              "CloseSession string:evil-2 dict:string:string:" \
              "WaitSessionEvent string:evil-2 string:SessionStart" \
              "RefuseSession string:evil-2" \
              "RunEvent string:alice string:SessionStart dict:string:string:AppStream_Session_ID,evil-3" \
              "Reload"; do
        ss_assert_refused alice "$method" "the daemon's own check (${method%% *}, lax policy)" by-daemon
done
ss_lax_bus_policy alice off
ss_assert_not_contains "$(ss_call ListSessions)" "evil-2" "no session was opened through the lax policy"
ss_assert_not_contains "$(ss_call ListSessions)" "evil-3" "no event was run through the lax policy"

# ... while listing stays open to everyone.
ss_assert_eq "$(bed_exec_user alice busctl call "${SS_BUS_ARGS[@]}" ListSessions)" "a(ssutss) 0" "unprivileged ListSessions"

# --- a replaced executable is not run (the other one still is)
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
echo "replaced $AppStream_Session_ID" >> /var/tmp/ss-out/start.log
EOF
out=$(ss_login ss-sec alice open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "pamtester exit status"
ss_assert_contains "$out" "successfully opened a session"
ss_assert_contains "$out" "Session script $SS_DIR/start-user.sh (user context) was not run: the executable was modified after the instance was provisioned." \
        "the user is told"
[ -z "$(ss_file $SS_OUT/start.log)" ] || bed_fail "the replaced executable ran: $(ss_file $SS_OUT/start.log)"
ss_assert_contains "$(ss_file $SS_OUT/system.log)" "system " "the unchanged executable still runs"
tampered=$(bed_journal -o cat MESSAGE_ID=6b877395a34d4e2e87a68a09ccdee32a SESSION_SCRIPTS_CONTEXT=user)
echo "journal: $tampered"
ss_assert_contains "$(bed_journal -o cat SESSION_SCRIPTS_CONTEXT=user)" "$TAMPERED_TEXT" \
        "the exact sentence of docs/behaviour.md §3 is journaled"
[ -n "$tampered" ] || bed_fail "no RUN_TAMPERED entry"

# A reload records the new executable as provisioned; then it runs.
bed_exec systemctl reload session-scripts.service
out=$(ss_login ss-sec alice open_session close_session)
ss_assert_not_contains "$out" "Session script" "no failure after reload"
ss_assert_contains "$(ss_file $SS_OUT/start.log)" "replaced " "the re-recorded executable runs after a reload"

# --- the baseline survives a daemon that died (crash, watchdog): a change made before is still
# caught by the instance systemd restarts (Restart=on-failure) — otherwise making the daemon crash
# would bless it. A deliberate stop or restart, like a reload, provisions anew (further below).
ss_assert_eq "$(bed_exec stat -c '%a %U' /run/session-scripts/tamper-baseline)" "600 root" "baseline file"
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
echo "modified-before-restart $AppStream_Session_ID" >> /var/tmp/ss-out/start.log
EOF
cursor=$(ss_journal_mark)
[ -n "$cursor" ] || bed_fail "no journal cursor"
old_pid=$(bed_exec systemctl show -P MainPID session-scripts.service)
bed_exec kill -KILL "$old_pid"
daemon_restarted() {
        local p
        p=$(bed_exec systemctl show -P MainPID session-scripts.service)
        [ "$p" != 0 ] && [ "$p" != "$old_pid" ] && bed_exec systemctl is-active --quiet session-scripts.service
}
bed_wait_until 15 daemon_restarted || bed_fail "systemd did not restart the crashed daemon"
out=$(ss_login ss-sec alice open_session close_session)
echo "$out"
ss_assert_contains "$out" "Session script $SS_DIR/start-user.sh (user context) was not run: the executable was modified after the instance was provisioned." \
        "after a crash, the user is told"
ss_assert_not_contains "$(ss_file $SS_OUT/start.log)" "modified-before-restart" "the modified executable did not run after the crash"
ss_assert_contains "$(bed_journal -o cat --cursor="$cursor" MESSAGE_ID=6b877395a34d4e2e87a68a09ccdee32a SESSION_SCRIPTS_CONTEXT=user)" \
        "$TAMPERED_TEXT" "after a crash, the exact sentence of docs/behaviour.md §3 is journaled"
ss_assert_contains "$(bed_journal -o cat --cursor="$cursor" -u session-scripts.service)" \
        "tamper baseline of 3 file(s) recorded when the instance was provisioned" "the restarted daemon reused the baseline"

# --- a deleted executable counts as modified (the sentence of docs/behaviour.md §3), not as "could not be started"
bed_exec rm -f "$SS_DIR/start-system.sh"
cursor=$(ss_journal_mark)
out=$(ss_login ss-sec alice open_session close_session)
echo "$out"
ss_assert_contains "$out" "Session script $SS_DIR/start-system.sh (system context) was not run: the executable was modified after the instance was provisioned." \
        "a deleted executable: the user is told it was modified"
ss_assert_not_contains "$out" "could not be started" "a deleted executable is no start failure"
ss_assert_contains "$(bed_journal -o cat --cursor="$cursor" MESSAGE_ID=6b877395a34d4e2e87a68a09ccdee32a SESSION_SCRIPTS_CONTEXT=system)" \
        "$TAMPERED_TEXT" "a deleted executable: the exact sentence of docs/behaviour.md §3 is journaled"

# Provisioned again by a deliberate restart (systemctl restart: a clean stop drops the baseline,
# the new instance records one): both scripts back, both run.
ss_install_script start-system.sh <<'EOF'
#!/bin/sh
echo "system $AppStream_Session_ID" >> /var/tmp/ss-out/system.log
EOF
cursor=$(ss_journal_mark)
bed_exec systemctl restart session-scripts.service
bed_exec rm -f $SS_OUT/system.log
out=$(ss_login ss-sec alice open_session close_session)
ss_assert_not_contains "$out" "Session script" "no failure after a deliberate restart"
ss_assert_contains "$(ss_file $SS_OUT/start.log)" "modified-before-restart" "the re-provisioned executable runs"
ss_assert_contains "$(ss_file $SS_OUT/system.log)" "system " "the restored executable runs"
ss_assert_contains "$(bed_journal -o cat --cursor="$cursor" -u session-scripts.service)" \
        "tamper baseline of 3 file(s) recorded." "a deliberate restart records a new baseline"

# --- daemon stopped and its activation disabled: PAM returns within 1 s, the session opens
bed_exec systemctl mask --runtime session-scripts.service
bed_exec systemctl stop session-scripts.service
# Only what is logged from here on counts as the module's explanation (earlier logins logged debug
# lines of their own, which would match anything less specific).
cursor=$(ss_journal_mark)
[ -n "$cursor" ] || bed_fail "no journal cursor"
for ops in open_session close_session; do
        out=$(ss_login ss-sec alice $ops)
        echo "$out"
        ms=$(ss_result_field "$out" ms)
        echo "$ops with the daemon unreachable returned after $ms ms"
        ss_assert_eq "$(ss_result_field "$out" rc)" 0 "pamtester exit status ($ops)"
        [ "$ms" -le 1000 ] || bed_fail "$ops took $ms ms with the daemon unreachable (limit 1000 ms)"
done
why=$(bed_journal -o cat --cursor="$cursor" -t pamtester)
echo "the module logged: $why"
ss_assert_contains "$why" "Failed to open session with org.sessionscripts.SessionScripts1, not running session scripts: " \
        "the module logged why open_session could not reach the daemon"
ss_assert_contains "$why" "Failed to close session '' with org.sessionscripts.SessionScripts1: " \
        "the module logged why close_session could not reach the daemon"
bed_exec systemctl unmask --runtime session-scripts.service

echo "OK: unprivileged calls refused, replaced executable skipped and journaled, fail-open within 1 s"
