#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A login program SIGKILLed while its session is open never calls close_session. The session has a
# logind session (pam_systemd is in the stack): when logind says it is closing (the PAM
# application's session FIFO closed) the daemon runs SessionTermination, exactly once, within a
# few seconds; logind's later "gone" does not run it again. The login program is a pamtester whose
# stack has, after our module, pam_exec running a hook that records the session and then sleeps:
# pamtester hangs in open_session after SessionStart ran. Then the same with
# `systemctl restart session-scripts` while the session is open, before the kill: the restarted
# daemon follows the session it found in its state and still runs the termination exactly once.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

TERM_WITHIN=5   # seconds from logind's "closing" to the termination scripts' lines

ss_prepare_out
ss_install_recording_scripts 10 '$AppStream_Session_ID $(date +%s%N)'
# The hook runs in open_session after our module: it notes the login program's PID (its parent),
# the logind session and ours, then keeps open_session from returning.
cat >"$BED_ROOT/usr/local/bin/ss-hang" <<EOF
#!/bin/sh
echo "\$PPID \$XDG_SESSION_ID \$AppStream_Session_ID" > $SS_OUT/hang.new
mv $SS_OUT/hang.new $SS_OUT/hang
exec sleep 60
EOF
chmod 0755 "$BED_ROOT/usr/local/bin/ss-hang"
bed_pam_service ss-kill "session required pam_systemd.so class=user
session optional pam_session_scripts.so debug
session optional pam_exec.so /usr/local/bin/ss-hang"
ss_start_daemon

# count FILE SESSION-ID — lines of a session in $SS_OUT/FILE.log.
count() {
        bed_exec sh -c 'grep -c "^$2 " "$1" || true' sh "$SS_OUT/$1.log" "$2"
}

# killed_login NAME [restart] — one login, SIGKILLed while open (after restarting the daemon when
# asked); asserts the termination ran once, within TERM_WITHIN s of logind's "closing".
killed_login() {
        local name=$1 restart=${2:-} lpid xdg sid state closing f n job pid_before
        bed_exec rm -f "$SS_OUT/hang"
        bed_exec pamtester ss-kill alice open_session close_session >/dev/null 2>&1 &
        job=$!
        bed_wait_until 15 test -s "$BED_ROOT$SS_OUT/hang" || bed_fail "$name: the login did not reach the hook"
        read -r lpid xdg sid <"$BED_ROOT$SS_OUT/hang"
        [ -n "$xdg" ] && [ -n "$sid" ] || bed_fail "$name: no logind session ($xdg) or no session-scripts session ($sid)"
        ss_assert_eq "$(count start.system "$sid") $(count start.user "$sid")" "1 1" "$name: SessionStart ran once in both contexts"
        ss_assert_eq "$(bed_exec loginctl show-session "$xdg" -P State)" active "$name: logind session $xdg while the login hangs"
        if [ "$restart" = restart ]; then
                pid_before=$(ss_daemon_pid)
                bed_exec systemctl restart session-scripts.service || bed_fail "$name: restart failed"
                [ "$(ss_daemon_pid)" != "$pid_before" ] || bed_fail "$name: the daemon did not restart"
                sleep 1
                ss_assert_eq "$(count term.system "$sid") $(count term.user "$sid")" "0 0" "$name: no termination from the restart alone"
        fi

        bed_log "$name: SIGKILL to the login program (PID $lpid, logind session $xdg, session $sid)"
        bed_exec kill -KILL "$lpid"
        wait "$job" 2>/dev/null || true
        closing_seen() {
                state=$(bed_exec loginctl show-session "$xdg" -P State 2>/dev/null || echo gone)
                [ "$state" != active ] && [ "$state" != online ]
        }
        bed_wait_until 10 closing_seen || bed_fail "$name: logind still has session $xdg $state after the kill"
        closing=$(bed__now)
        term_ran() { [ "$(count term.system "$sid")" -ge 1 ] && [ "$(count term.user "$sid")" -ge 1 ]; }
        bed_wait_until "$TERM_WITHIN" term_ran ||
                bed_fail "$name: no SessionTermination for session $sid within $TERM_WITHIN s of logind's '$state' (term lines: $(count term.system "$sid") system, $(count term.user "$sid") user)"
        bed_log "$name: termination ran $(bed__elapsed "$closing") s after logind said '$state'"

        # The session's leftover (the hook's sleep) ends: logind's "gone" must not run it again.
        # (terminate-session does nothing to a session that is already closing.)
        bed_exec loginctl kill-session --signal=KILL "$xdg" 2>/dev/null || true
        gone() { ! bed_exec loginctl show-session "$xdg" >/dev/null 2>&1; }
        bed_wait_until 10 gone || bed_fail "$name: logind session $xdg not gone after kill-session"
        sleep 3
        for f in start.system start.user term.system term.user; do
                n=$(count "$f" "$sid")
                [ "$n" = 1 ] || bed_fail "$name: $f ran $n times for session $sid (expected exactly once)"
        done
        echo "ok: $name: session $sid (logind $xdg) terminated exactly once after its login program was killed"
}

killed_login killed
killed_login killed-after-restart restart

state=$(ss_state_files)
echo "state files now: ${state:-none}"
echo "OK: killed login programs' sessions end exactly once"
