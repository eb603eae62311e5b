#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Absent, stuck and busy daemons, as the PAM module sees them on the daemon's own socket:
#   - stuck (SIGSTOP: it holds its socket and never answers): the login goes on without scripts
#     within about a second (the module watches the daemon's process and gives up when it has not
#     run at all for 0.9 s), logged as "… not running session scripts …";
#   - stopped (socket gone): the login goes on at once through the system bus, which activates it;
#   - busy but making progress: a daemon slowed down (SIGSTOP/SIGCONT in 0.3 s turns, so it keeps
#     running in between) is waited for and the scripts run — busy is not stuck.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

ss_prepare_out
ss_install_script start.sh <<'EOF'
#!/bin/sh
echo "$AppStream_Session_Context $AppStream_Session_User" >> /var/tmp/ss-out/start.log
EOF
ss_prepare_log start.log
ss_install_config_system 10 "$SS_DIR/start.sh"
ss_pam_stack ss-test
ss_start_daemon
pid=$(bed_exec systemctl show -p MainPID --value session-scripts.service)

# A normal login first: it goes through the daemon's own socket.
out=$(ss_login ss-test alice open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login with a healthy daemon"
bed_journal -o cat | grep -q "pam_session_scripts(ss-test:session): Connected to org.sessionscripts.SessionScripts1 on its own socket" ||
        bed_fail "the module did not use the daemon's own socket"
ss_assert_eq "$(bed_exec grep -c 'system alice' /var/tmp/ss-out/start.log)" 1 "alice's start ran"

# --- stuck: SIGSTOP. The login must not wait for the event's waiting time (10 s + grace).
bed_exec kill -STOP "$pid"
out=$(ss_login ss-test bob open_session)
bed_exec kill -CONT "$pid"
echo "$out"
ms=$(ss_result_field "$out" ms)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "a stuck daemon: the login goes on"
[ "$ms" -lt 2500 ] || bed_fail "a stuck daemon held the login for $ms ms (bound: 0.9 s without progress)"
bed_wait_journal 5 "pam_session_scripts\(ss-test:session\): Failed to open session with .* not running session scripts: the daemon made no progress" ||
        bed_fail "the module did not say why it failed open"
bed_log "stuck daemon: the login went on after $ms ms"

# --- busy: the daemon runs only 0.3 s of every 0.6 s while a login waits: slow, not stuck.
bed_exec sh -c "(for i in \$(seq 1 10); do kill -STOP $pid; sleep 0.3; kill -CONT $pid; sleep 0.3; done) >/dev/null 2>&1 &"
out=$(ss_login ss-test user01 open_session close_session)
echo "$out"
sleep 6
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "a busy daemon: the login succeeds"
ss_assert_eq "$(bed_exec grep -c 'system user01' /var/tmp/ss-out/start.log)" 1 "a slowed-down daemon still ran user01's start"
fails=$(bed_journal -o cat | grep -c "pam_session_scripts(ss-test:session): Failed to open session" || true)
ss_assert_eq "$fails" 1 "only the stuck daemon made the module fail open"

# --- stopped: no socket, the system bus activates the daemon again.
bed_exec systemctl stop session-scripts.service
bed_exec test ! -e /run/session-scripts/private || bed_fail "the daemon left its socket behind"
out=$(ss_login ss-test user02 open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "a stopped daemon: the login goes on"
ss_assert_eq "$(bed_exec grep -c 'system user02' /var/tmp/ss-out/start.log)" 1 "the system bus activated the daemon for user02's start"
echo "OK"
