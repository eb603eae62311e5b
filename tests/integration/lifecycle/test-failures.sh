#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Failing scripts at a real login: a script sleeping past waitingTime is stopped at the deadline
# together with a child it forked — by systemd (its scope has RuntimeMaxUSec=waitingTime and ends
# with Result=timeout), both gone before deadline + 2 s, i.e. before the daemon's own backstop
# could have killed them — and open_session returns by deadline + grace; a script exiting non-zero
# makes the module show the error message (pamtester prints the conversation) while the session
# still opens. Then, on the bus directly: CloseSession during a still-running start waits for it
# (termination starts only after the start ended, and wait_usec covers both); a start whose
# processes ignore SIGTERM is over only when systemd has SIGKILLed them (its scope is gone), so
# the termination never overlaps with them, while its waiter has the result at the deadline; a
# start that leaves a process behind answers its waiter at once but holds the termination until
# its scope is gone.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

WAIT=3          # waitingTime of both events
GRACE=2         # timeout_grace= of the module
ss_prepare_out

ss_install_script start-system.sh <<'EOF'
#!/bin/bash
out=/var/tmp/ss-out/$AppStream_Session_ID
# Ignored signals are inherited: the sleeps below ignore SIGTERM too, and only SIGKILL ends them.
case $AppStream_Session_ID in stubborn-*) trap '' TERM ;; esac
date +%s%N > $out.start-begin
# linger-*: exits at once, leaving a process in its scope that no longer writes to the capture.
case $AppStream_Session_ID in linger-*)
        sleep 300 >/dev/null 2>&1 &
        echo $! > $out.child.pid
        exit 0 ;;
esac
sleep 300 &
echo $! > $out.child.pid
echo $$ > $out.main.pid
echo "going to sleep"
sleep 300
echo "never reached" > $out.not-stopped
EOF
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
echo "checking quota"
echo "quota exceeded for $USER"
exit 3
EOF
ss_install_script term-system.sh <<'EOF'
#!/bin/sh
date +%s%N > /var/tmp/ss-out/$AppStream_Session_ID.term-begin
EOF
ss_install_config <<EOF
{
  "SessionStart": {
    "executables": [
      { "context": "system", "filename": "$SS_DIR/start-system.sh" },
      { "context": "user", "filename": "$SS_DIR/start-user.sh" }
    ],
    "waitingTime": $WAIT
  },
  "SessionTermination": {
    "executables": [ { "context": "system", "filename": "$SS_DIR/term-system.sh" } ],
    "waitingTime": $WAIT
  }
}
EOF
cat > "$BED_ROOT/etc/ss-fail-env.conf" <<'EOF'
AppStream_Session_ID DEFAULT=fail-session-1
EOF
ss_pam_stack ss-fail "timeout_grace=$GRACE" "session required pam_env.so readenv=0 conffile=/etc/ss-fail-env.conf"
ss_start_daemon

# --- open_session only: the module waits for the start (deadline), then returns.
out=$(ss_login ss-fail alice open_session)
echo "$out"
ms=$(ss_result_field "$out" ms)
echo "open_session with a script sleeping past waitingTime=${WAIT}s returned after ${ms} ms (grace ${GRACE}s)"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "pamtester exit status"
ss_assert_contains "$out" "successfully opened a session" "the session opens despite failures"
ss_assert_contains "$out" "Session script $SS_DIR/start-user.sh (user context) exited with status 3." \
        "non-zero exit message shown to the user"
ss_assert_contains "$out" "Session script $SS_DIR/start-system.sh (system context) did not finish within $WAIT seconds and was stopped." \
        "timeout message shown to the user"
[ "$ms" -ge $(( WAIT * 1000 - 300 )) ] || bed_fail "open_session returned after $ms ms, before the deadline"
[ "$ms" -le $(( (WAIT + GRACE) * 1000 )) ] || bed_fail "open_session took $ms ms, more than deadline + grace"

# --- the script and the child it forked are gone (systemd stopped the scope at RuntimeMaxSec).
main=$(ss_file $SS_OUT/fail-session-1.main.pid)
child=$(ss_file $SS_OUT/fail-session-1.child.pid)
[ -n "$main" ] && [ -n "$child" ] || bed_fail "the sleeping script did not record its pids"
ss_wait_for 3 sh -c "! kill -0 $main 2>/dev/null && ! kill -0 $child 2>/dev/null && date +%s%N > $SS_OUT/fail-session-1.main.gone" ||
        bed_fail "script $main or its child $child still runs after the deadline"
begin=$(ss_file $SS_OUT/fail-session-1.start-begin)
gone=$(ss_file $SS_OUT/fail-session-1.main.gone)
[ -n "$gone" ] || bed_fail "the script's end was not recorded"
gone_ms=$(( (gone - begin) / 1000000 ))
echo "the script and its child were gone $gone_ms ms after the script began (deadline ${WAIT}s)"
# systemd's SIGTERM at RuntimeMaxSec ends them at once (SIGKILL would follow 2 s later); the
# daemon's own backstop (KillUnit) would come only 3 s after the deadline.
[ "$gone_ms" -lt $(( (WAIT + 2) * 1000 )) ] ||
        bed_fail "script and child lived until $gone_ms ms, not stopped by systemd at the ${WAIT}s deadline"
sys_unit=$(ss_run_unit fail-session-1 SessionStart system)
[ -n "$sys_unit" ] || bed_fail "no scope unit in the timeout summary"
bed_wait_journal 5 "$sys_unit: .*Failed with result 'timeout'" -u "$sys_unit" ||
        bed_fail "systemd did not stop $sys_unit for its runtime limit (Result=timeout)"
[ -z "$(ss_file $SS_OUT/fail-session-1.not-stopped)" ] || bed_fail "the script was not stopped"
summary=$(bed_journal -o export MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 \
        SESSION_SCRIPTS_SESSION_ID=fail-session-1 SESSION_SCRIPTS_CONTEXT=system)
ss_assert_contains "$summary" "SESSION_SCRIPTS_RESULT=timeout" "timeout summary entry"
summary=$(bed_journal -o export MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 \
        SESSION_SCRIPTS_SESSION_ID=fail-session-1 SESSION_SCRIPTS_CONTEXT=user)
ss_assert_contains "$summary" "SESSION_SCRIPTS_EXIT_STATUS=3" "exit-code summary entry"
# The start's recorded result, as the module got it.
waited=$(ss_call WaitSessionEvent ss fail-session-1 SessionStart)
ss_assert_contains "$waited" 'bss false "Session script' "WaitSessionEvent result"
ss_assert_contains "$waited" '"going to sleep"' "last line of the first failed run (system comes first)"

# --- ordering: CloseSession while the start still runs (bus calls return at once, unlike PAM).
t0=$(bed_exec date +%s%N)
opened=$(ss_call OpenSession 'ssa{ss}' bob ss-order 1 AppStream_Session_ID order-1)
ss_assert_eq "$opened" "st \"order-1\" $(( WAIT * 1000000 ))" "OpenSession reply"
closed=$(ss_call CloseSession 'sa{ss}' "" 1 AppStream_Session_ID order-1)
wait_usec=${closed##* }
echo "CloseSession during the start: $closed"
ss_assert_contains "$closed" 'st "order-1"' "CloseSession resolves the id from the environment"
[ "$wait_usec" -gt $(( (2 * WAIT - 1) * 1000000 )) ] && [ "$wait_usec" -le $(( 2 * WAIT * 1000000 )) ] ||
        bed_fail "CloseSession wait_usec $wait_usec does not cover the rest of the start plus the termination"
ss_assert_contains "$(ss_call ListSessions)" '"order-1" "bob"' "ListSessions shows the session"
ss_assert_contains "$(ss_call ListSessions)" '"running" "pending"' "termination pending behind the start"
# The running start's scope carries the waiting time as RuntimeMaxUSec (systemd enforces it).
unit=$(ss_call ListRuns s order-1 | grep -o 'session-scripts-start-system-order-1-[0-9a-f]*\.scope' | head -n1)
[ -n "$unit" ] || bed_fail "ListRuns shows no scope for the running start: $(ss_call ListRuns s order-1)"
ss_assert_eq "$(bed_exec systemctl show -P RuntimeMaxUSec "$unit")" "${WAIT}s" "RuntimeMaxUSec of $unit"
ss_assert_eq "$(bed_exec systemctl show -P TimeoutStopUSec "$unit")" "2s" "TimeoutStopUSec of $unit"
ss_call WaitSessionEvent ss order-1 SessionTermination
start_begin=$(ss_file $SS_OUT/order-1.start-begin)
term_begin=$(ss_file $SS_OUT/order-1.term-begin)
[ -n "$term_begin" ] || bed_fail "termination did not run after the start"
gap_ms=$(( (term_begin - start_begin) / 1000000 ))
echo "termination began $gap_ms ms after the start began (start stopped at ${WAIT}s)"
[ "$gap_ms" -ge $(( WAIT * 1000 - 300 )) ] || bed_fail "termination did not wait for the start ($gap_ms ms)"

# --- a start that ignores SIGTERM is over only when its scope is gone (SIGKILL 2 s after the
# deadline): the termination starts after that, never next to the start's processes.
ss_call OpenSession 'ssa{ss}' bob ss-order 1 AppStream_Session_ID stubborn-1 >/dev/null
ss_call CloseSession 'sa{ss}' stubborn-1 0 >/dev/null
t0=$(bed_exec date +%s%N)
ss_call WaitSessionEvent ss stubborn-1 SessionStart >/dev/null
t1=$(bed_exec date +%s%N)
ss_call WaitSessionEvent ss stubborn-1 SessionTermination >/dev/null
start_begin=$(ss_file $SS_OUT/stubborn-1.start-begin)
term_begin=$(ss_file $SS_OUT/stubborn-1.term-begin)
main=$(ss_file $SS_OUT/stubborn-1.main.pid)
[ -n "$term_begin" ] && [ -n "$main" ] || bed_fail "stubborn-1: the start or the termination did not run"
start_ms=$(( (t1 - start_begin) / 1000000 ))
gap_ms=$(( (term_begin - start_begin) / 1000000 ))
echo "stubborn start: over $start_ms ms after it began, termination began after $gap_ms ms (deadline ${WAIT}s, SIGKILL 2 s later)"
# The waiter (the PAM module) gets the start's result at the deadline (docs/behaviour.md §3: it waits until the
# scripts exited or waitingTime passed); the termination waits until the scope is really gone.
[ "$start_ms" -ge $(( WAIT * 1000 - 300 )) ] && [ "$start_ms" -le $(( (WAIT + 1) * 1000 )) ] ||
        bed_fail "WaitSessionEvent(SessionStart) answered after $start_ms ms, not at the ${WAIT}s deadline"
[ "$gap_ms" -ge $(( (WAIT + 2) * 1000 - 300 )) ] || bed_fail "termination began after $gap_ms ms, before the start's scope was gone"
[ "$gap_ms" -le $(( (WAIT + 4) * 1000 )) ] || bed_fail "termination began after $gap_ms ms, beyond deadline + stop timeout"
bed_exec sh -c "! kill -0 $main 2>/dev/null" || bed_fail "the stubborn start script still runs"

# --- a start script that exits at once but leaves a process in its scope: the waiter is answered
# at once (the script has exited), the start counts as running until systemd stopped the scope at
# the deadline, and only then does the termination begin.
ss_call OpenSession 'ssa{ss}' bob ss-order 1 AppStream_Session_ID linger-1 >/dev/null
t0=$(bed_exec date +%s%N)
waited=$(ss_call WaitSessionEvent ss linger-1 SessionStart)
t1=$(bed_exec date +%s%N)
wait_ms=$(( (t1 - t0) / 1000000 ))
echo "lingering child: WaitSessionEvent(SessionStart) answered after $wait_ms ms: $waited"
# (The user-context start script always exits 3; the system one, which left the process, exited 0.)
ss_assert_not_contains "$waited" "start-system.sh" "the lingering start's system script succeeded"
ss_assert_contains "$waited" "start-user.sh (user context) exited with status 3." "the user script's result is in"
[ "$wait_ms" -lt 1500 ] || bed_fail "the waiter waited $wait_ms ms for a process the script left behind"
ss_assert_contains "$(ss_call ListSessions)" '"linger-1" "bob"' "ListSessions shows the lingering session"
ss_call CloseSession 'sa{ss}' linger-1 0 >/dev/null
ss_call WaitSessionEvent ss linger-1 SessionTermination >/dev/null
start_begin=$(ss_file $SS_OUT/linger-1.start-begin)
term_begin=$(ss_file $SS_OUT/linger-1.term-begin)
child=$(ss_file $SS_OUT/linger-1.child.pid)
[ -n "$term_begin" ] && [ -n "$child" ] || bed_fail "linger-1: the start or the termination did not run"
gap_ms=$(( (term_begin - start_begin) / 1000000 ))
echo "lingering child: termination began $gap_ms ms after the start began (deadline ${WAIT}s)"
[ "$gap_ms" -ge $(( WAIT * 1000 - 300 )) ] || bed_fail "termination began after $gap_ms ms, next to the start's leftover process"
bed_exec sh -c "! kill -0 $child 2>/dev/null" || bed_fail "the start's leftover process survived its scope"

# --- the result given to a waiter is recorded: a daemon restarted while the start's leftover still
# runs answers a later waiter the same (not "unknown, successful").
ss_call OpenSession 'ssa{ss}' bob ss-order 1 AppStream_Session_ID linger-2 >/dev/null
first=$(ss_call WaitSessionEvent ss linger-2 SessionStart)
ss_assert_contains "$first" 'bss false' "linger-2: the start failed (user script)"
bed_exec systemctl restart session-scripts.service
second=$(ss_call WaitSessionEvent ss linger-2 SessionStart)
ss_assert_eq "$second" "$first" "the same answer after a daemon restart"

# --- a refused session does not keep running as the user until its deadline: RefuseSession stops
# what its start left behind at once.
ss_call OpenSession 'ssa{ss}' bob ss-order 1 AppStream_Session_ID linger-3 >/dev/null
ss_call WaitSessionEvent ss linger-3 SessionStart >/dev/null
child=$(ss_file $SS_OUT/linger-3.child.pid)
[ -n "$child" ] && bed_exec kill -0 "$child" || bed_fail "linger-3: no leftover process to stop"
t0=$(bed_exec date +%s%N)
ss_call RefuseSession s linger-3 >/dev/null
ss_wait_for 2 sh -c "! kill -0 $child 2>/dev/null" || bed_fail "the refused session's leftover process still runs"
t1=$(bed_exec date +%s%N)
echo "refused session: leftover process gone $(( (t1 - t0) / 1000000 )) ms after RefuseSession (deadline ${WAIT}s)"

echo "OK: timeout kills script and child at the deadline, error message shown, session opens, ordering"
