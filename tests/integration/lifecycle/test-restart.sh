#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A session opened, the daemon restarted, the session closed → its termination runs (exactly
# once): the per-session state under /run/session-scripts survives the restart. The restart
# happens between open_session and close_session of one real pamtester login: pam_exec
# (type=close_session) before our module in the stack restarts the daemon at close time.
# Then: the daemon restarted while a start still runs → the new daemon knows the start's scope
# from the state file and treats the start as running until the scope is gone, so a close after
# the restart waits for it and the termination begins only after the start's process ended.
# Last: Reload() with an invalid config.json fails with org.sessionscripts.Error.InvalidConfig
# (`systemctl reload` fails), the unit stays active and the last good config goes on running.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

ss_prepare_out
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
case $AppStream_Session_ID in
slow-*)
        # Nothing on stdout after the sleep: the daemon that read it is gone by then.
        out=/var/tmp/ss-out/$AppStream_Session_ID
        date +%s%N > $out.start-begin
        sleep 4
        date +%s%N > $out.start-end
        exit 0 ;;
esac
echo "start $AppStream_Session_ID" >> /var/tmp/ss-out/start.log
EOF
ss_install_script term-user.sh <<'EOF'
#!/bin/sh
case $AppStream_Session_ID in
slow-*) date +%s%N > /var/tmp/ss-out/$AppStream_Session_ID.term-begin; exit 0 ;;
esac
echo "term $AppStream_Session_ID $(id -un)" >> /var/tmp/ss-out/term.log
EOF
ss_install_config <<EOF
{
  "SessionStart": { "executables": [ { "context": "user", "filename": "$SS_DIR/start-user.sh" } ], "waitingTime": 10 },
  "SessionTermination": { "executables": [ { "context": "user", "filename": "$SS_DIR/term-user.sh" } ], "waitingTime": 10 }
}
EOF

# The hook records the daemon's PID before and after restarting it.
mkdir -p "$BED_ROOT/usr/local/bin"
cat > "$BED_ROOT/usr/local/bin/ss-restart-daemon" <<'EOF'
#!/bin/sh
systemctl show -P MainPID session-scripts.service > /var/tmp/ss-out/pid.before
ls /run/session-scripts/sessions > /var/tmp/ss-out/state.before
systemctl restart session-scripts.service
systemctl show -P MainPID session-scripts.service > /var/tmp/ss-out/pid.after
EOF
chmod 0755 "$BED_ROOT/usr/local/bin/ss-restart-daemon"
cat > "$BED_ROOT/etc/ss-restart-env.conf" <<'EOF'
AppStream_Session_ID DEFAULT=restart-session-1
EOF
ss_pam_stack ss-restart "" "session required pam_env.so readenv=0 conffile=/etc/ss-restart-env.conf
session required pam_exec.so type=close_session /usr/local/bin/ss-restart-daemon"

ss_pam_stack ss-restart-plain
ss_start_daemon

out=$(ss_login ss-restart alice open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "pamtester exit status"
ss_assert_not_contains "$out" "Session script" "no failure message expected"

before=$(ss_file $SS_OUT/pid.before)
after=$(ss_file $SS_OUT/pid.after)
echo "daemon PID before the restart: $before, after: $after"
[ -n "$before" ] && [ -n "$after" ] && [ "$before" != 0 ] && [ "$after" != 0 ] && [ "$before" != "$after" ] ||
        bed_fail "the daemon was not restarted between open and close ($before → $after)"
ss_assert_eq "$(ss_file $SS_OUT/state.before)" "restart-session-1" "session state file before the restart"
ss_assert_eq "$(ss_file $SS_OUT/start.log)" "start restart-session-1" "start ran once"
ss_assert_eq "$(ss_file $SS_OUT/term.log)" "term restart-session-1 alice" "termination ran after the restart"
ss_assert_contains "$(bed_journal -o cat -u session-scripts.service)" \
        "Resumed session restart-session-1 of user alice" "the new daemon resumed the session"

# Another restart after the termination: the session's state went with its termination, so a
# later CloseSession finds nothing (the module takes that as nothing to close) and nothing runs.
bed_exec test ! -e /run/session-scripts/sessions/restart-session-1 ||
        bed_fail "the state file outlived the session's termination"
bed_exec systemctl restart session-scripts.service
closed=$(ss_call CloseSession 'sa{ss}' restart-session-1 0 2>&1 || true)
ss_assert_contains "$closed" "No such session" "CloseSession after termination and another restart"
sleep 0.5
ss_assert_eq "$(ss_file $SS_OUT/term.log)" "term restart-session-1 alice" "termination ran exactly once"

# --- a restart while the start runs: the new daemon waits for the start's scope before it
# terminates the session.
opened=$(ss_call OpenSession 'ssa{ss}' alice ss-restart 1 AppStream_Session_ID slow-1)
ss_assert_eq "$opened" 'st "slow-1" 10000000' "OpenSession of the slow session"
ss_wait_for 5 test -e $SS_OUT/slow-1.start-begin || bed_fail "the slow start did not begin"
ss_assert_contains "$(bed_exec cat /run/session-scripts/sessions/slow-1)" "START_UNIT_USER=session-scripts-start-user-slow-1-" \
        "the state file names the running start's scope"
bed_exec systemctl restart session-scripts.service
ss_assert_contains "$(bed_journal -o cat -u session-scripts.service)" \
        "SessionStart of session slow-1 was running when the daemon stopped; waiting for its 1 scope to end" \
        "the new daemon waits for the start of the previous one"
ss_assert_contains "$(ss_call ListSessions)" '"slow-1" "alice"' "the slow session is listed after the restart"
ss_assert_contains "$(ss_call ListSessions | grep -o '"slow-1" "alice" [0-9]* [0-9]* "[a-z-]*" "[a-z-]*"')" '"running" "not-run"' \
        "its start is still running after the restart"
closed=$(ss_call CloseSession 'sa{ss}' slow-1 0)
wait_usec=${closed##* }
echo "CloseSession after the restart, during the start: $closed"
[ "$wait_usec" -gt 10000000 ] || bed_fail "CloseSession wait_usec $wait_usec does not cover the rest of the start"
ss_assert_contains "$(ss_call ListSessions)" '"running" "pending"' "termination pending behind the resumed start"
ss_call WaitSessionEvent ss slow-1 SessionTermination >/dev/null
start_end=$(ss_file $SS_OUT/slow-1.start-end)
term_begin=$(ss_file $SS_OUT/slow-1.term-begin)
[ -n "$start_end" ] && [ -n "$term_begin" ] || bed_fail "the slow start did not end ($start_end) or the termination did not run ($term_begin)"
echo "termination began $(( (term_begin - start_end) / 1000000 )) ms after the start's script ended"
[ "$term_begin" -gt "$start_end" ] || bed_fail "the termination began before the start's script ended"

# --- Reload() with an invalid config.json: the caller is told, the last good config stays.
cp "$BED_ROOT$SS_DIR/config.json" "$BED_TMP/config.json.good"
echo '{ "SessionStart": { "waitingTime": 0 } }' > "$BED_ROOT$SS_DIR/config.json"
rc=0; err=$(bed_exec dbus-send --system --print-reply --dest=org.sessionscripts.SessionScripts1 \
        /org/sessionscripts/SessionScripts1 org.sessionscripts.Manager1.Reload 2>&1) || rc=$?
echo "Reload with an invalid config: rc=$rc: $err"
[ "$rc" -ne 0 ] || bed_fail "Reload with an invalid config succeeded"
ss_assert_contains "$err" "org.sessionscripts.Error.InvalidConfig" "Reload's error"
ss_assert_contains "$err" "keeping the previous configuration" "Reload's error message"
rc=0; bed_exec systemctl reload session-scripts.service || rc=$?
[ "$rc" -ne 0 ] || bed_fail "systemctl reload with an invalid config succeeded"
ss_assert_eq "$(bed_exec systemctl show -P ActiveState session-scripts.service)" active "the unit after a failed reload"
bed_exec systemctl kill -s HUP session-scripts.service
ss_wait_for 5 sh -c 'journalctl -b -u session-scripts.service -o cat | grep -q "Received SIGHUP, reloading."' ||
        bed_fail "no SIGHUP reload"
ss_assert_eq "$(bed_exec systemctl show -P ActiveState session-scripts.service)" active "the unit after SIGHUP with an invalid config"
bed_exec rm -f $SS_OUT/start.log
out=$(ss_login ss-restart-plain alice open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login after the failed reload"
ss_wait_for 5 grep -q "start " $SS_OUT/start.log || bed_fail "the last good config did not run after the failed reload"
cp "$BED_TMP/config.json.good" "$BED_ROOT$SS_DIR/config.json"
bed_exec systemctl reload session-scripts.service || bed_fail "reload with the good config again failed"

echo "OK: termination runs once across a daemon restart, after a start that outlived the old daemon; a bad reload is refused"
