#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A session opened, the daemon restarted, the session closed → its termination runs (exactly
# once): the per-session state under /run/session-scripts survives the restart. The restart
# happens between open_session and close_session of one real pamtester login: pam_exec
# (type=close_session) before our module in the stack restarts the daemon at close time.

set -euo pipefail
source "$MESON_SOURCE_ROOT/tests/integration/bed.sh"
source "$MESON_SOURCE_ROOT/tests/integration/lifecycle/lifecycle-lib.sh"
bed_init
bed_boot

ss_prepare_out
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
echo "start $AppStream_Session_ID" >> /var/tmp/ss-out/start.log
EOF
ss_install_script term-user.sh <<'EOF'
#!/bin/sh
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

# Another restart after the termination: nothing runs again, and a CloseSession answers wait 0.
bed_exec systemctl restart session-scripts.service
ss_assert_eq "$(ss_call CloseSession 'sa{ss}' restart-session-1 0)" 'st "restart-session-1" 0' \
        "CloseSession after termination and another restart"
sleep 0.5
ss_assert_eq "$(ss_file $SS_OUT/term.log)" "term restart-session-1 alice" "termination ran exactly once"

echo "OK: termination runs once across a daemon restart"
