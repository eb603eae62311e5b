#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The people-facing verbs against a running daemon: `status` (exit 0, daemon active, config valid;
# JSON), `run SessionStart --user alice` (the scripts' lines live, stderr marked, the summary; exit 0,
# exit 1 for a failing script; --json; SessionTermination alone; root only), `sessions` during an
# open login and a running start (runs listed; JSON; an unprivileged user sees only their own),
# `logs SESSION` (stdout, stderr and result lines; JSON lines; all sessions; -f follows a run as it
# happens), that a run's transient session cannot be closed, that journal entries forged by an
# unprivileged user (logger --journald, systemd-cat) with a real session's id or our MESSAGE_IDs are
# shown by neither `logs` nor `status`, and that `sessions --no-auto-start` (what shell completion
# calls) does not start a stopped daemon.

set -euo pipefail
source "$MESON_SOURCE_ROOT/tests/integration/bed.sh"
source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
bed_init
bed_boot

ss_prepare_out
ss_install_script start-system.sh <<'EOS'
#!/bin/sh
echo "system start for $AppStream_UserName in $AppStream_Session_ID"
echo "a warning on stderr" >&2
EOS
ss_install_script start-user.sh <<'EOS'
#!/bin/sh
echo "user line 1 ($USER)"
[ -e /var/tmp/ss-out/slow ] && sleep 4
echo "user line 2"
[ -e /var/tmp/ss-out/fail ] && { echo "quota exceeded"; exit 4; }
exit 0
EOS
ss_install_script term-system.sh <<'EOS'
#!/bin/sh
echo "terminating $AppStream_Session_ID of $AppStream_UserName"
EOS
ss_install_config <<EOS
{
  "SessionStart": {
    "executables": [
      { "context": "system", "filename": "$SS_DIR/start-system.sh" },
      { "context": "user", "filename": "$SS_DIR/start-user.sh" }
    ],
    "waitingTime": 20
  },
  "SessionTermination": {
    "executables": [ { "context": "system", "filename": "$SS_DIR/term-system.sh" } ],
    "waitingTime": 10
  }
}
EOS
ss_pam_stack ss-cli
ss_start_daemon

# json_get EXPR < JSON — evaluates a Python expression over the document d (on the host).
json_get() {
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# ---- status -------------------------------------------------------------------------------------
rc=0; out=$(bed_exec session-scripts status) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "status exit code"
ss_assert_contains "$out" "session-scripts.service: active (running)" "status daemon"
ss_assert_contains "$out" "answers on org.sessionscripts.SessionScripts1" "status bus"
ss_assert_contains "$out" "$SS_DIR/config.json: valid" "status config"
ss_assert_contains "$out" "baseline recorded by the daemon at" "status baseline"
ss_assert_contains "$out" "Spool:" "status spool"
json=$(bed_exec session-scripts status --json)
ss_assert_eq "$(json_get "d['healthy']" <<<"$json")" True "status --json healthy"
ss_assert_eq "$(json_get "d['daemon']['active_state']" <<<"$json")" active "status --json daemon"
ss_assert_eq "$(json_get "d['daemon']['main_pid'] > 0" <<<"$json")" True "status --json pid"
ss_assert_eq "$(json_get "len(d['baseline']['sha256'])" <<<"$json")" 64 "status --json sha256"

# ---- run ----------------------------------------------------------------------------------------
rc=0; out=$(bed_exec session-scripts run SessionStart --user alice --session-id cli-run-1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "run exit code (success)"
ss_assert_contains "$out" "SessionStart/user: user line 1 (alice)" "run live user line"
ss_assert_contains "$out" "SessionStart/user: user line 2" "run live user line 2"
ss_assert_contains "$out" "SessionStart/system: system start for alice in cli-run-1" "run system line"
ss_assert_contains "$out" "SessionStart/system [stderr]: a warning on stderr" "run stderr marked"
ss_assert_contains "$out" "All scripts succeeded." "run verdict"
ss_assert_contains "$(grep -F "$SS_DIR/start-user.sh" <<<"$out")" "success" "run summary"
# The run goes through the login path: same journal fields and scope units as a login.
unit=$(ss_run_unit cli-run-1 SessionStart user)
[[ "$unit" == *.scope ]] || bed_fail "the run had no scope unit: '$unit'"
# Its session is listed (termination marked done: it never runs), and cannot be closed.
out=$(bed_exec session-scripts sessions)
ss_assert_contains "$(grep -F cli-run-1 <<<"$out")" "done     done" "transient session listed"
if ss_call CloseSession "sa{ss}" cli-run-1 0 >/dev/null 2>&1; then
        bed_fail "CloseSession of a run's session succeeded"
fi

bed_exec touch "$SS_OUT/fail"
rc=0; out=$(bed_exec session-scripts run SessionStart --user alice --session-id cli-run-2) || rc=$?
echo "$out"
ss_assert_eq "$rc" 1 "run exit code (failing script)"
ss_assert_contains "$out" "SessionStart/user: quota exceeded" "run failing line"
ss_assert_contains "$out" "exit status 4" "run failing summary"
rc=0; json=$(bed_exec session-scripts run sessionstart --user alice --json) || rc=$?
ss_assert_eq "$rc" 1 "run --json exit code"
ss_assert_eq "$(json_get "d['success']" <<<"$json")" False "run --json success"
ss_assert_eq "$(json_get "sorted(r['result'] for r in d['runs'])" <<<"$json")" "['exit-code', 'success']" "run --json runs"
ss_assert_eq "$(json_get "any(o['message'] == 'quota exceeded' for o in d['output'])" <<<"$json")" True "run --json output"
bed_exec rm -f "$SS_OUT/fail"

rc=0; out=$(bed_exec session-scripts run SessionTermination --user bob --session-id cli-term-1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "run SessionTermination exit code"
ss_assert_contains "$out" "SessionTermination/system: terminating cli-term-1 of bob" "run termination line"
ss_assert_not_contains "$out" "SessionStart/" "termination alone"

rc=0; bed_exec_user alice session-scripts run SessionStart --user alice >/dev/null 2>&1 || rc=$?
ss_assert_eq "$rc" 2 "run as non-root"
rc=0; bed_exec session-scripts run SessionStart --user nosuchuser >/dev/null 2>&1 || rc=$?
ss_assert_eq "$rc" 2 "run for an unknown user"
rc=0; bed_exec session-scripts run SessionStart --user alice --session-id cli-run-1 >/dev/null 2>&1 || rc=$?
ss_assert_eq "$rc" 2 "run with a session id in use"
rc=0; bed_exec session-scripts run Bogus --user alice >/dev/null 2>&1 || rc=$?
ss_assert_eq "$rc" 2 "run with an unknown event"

# ---- logs ---------------------------------------------------------------------------------------
out=$(bed_exec session-scripts logs cli-run-2)
echo "$out"
ss_assert_contains "$out" "SessionStart/user: user line 1 (alice)" "logs stdout line"
ss_assert_contains "$out" "SessionStart/system [stderr]: a warning on stderr" "logs stderr line"
ss_assert_contains "$out" "SessionStart/user [result]: " "logs result line"
ss_assert_contains "$out" "exited with status 4" "logs result text"
ss_assert_contains "$out" "session: " "logs session entries"
ss_assert_not_contains "$out" "in cli-run-1" "logs shows only that session"
json=$(bed_exec session-scripts logs --json cli-run-2)
python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin if l.strip()]
assert lines and all(l["session_id"] == "cli-run-2" for l in lines), lines
assert any(l["stream"] == "stderr" and l["message"] == "a warning on stderr" for l in lines), lines
assert any(l["result"] == "exit-code" for l in lines), lines
' <<<"$json" || bed_fail "logs --json: $json"
# Forgery: any user can write journal entries with our fields (logger --journald, systemd-cat);
# they must not show up as the daemon's. The positive control: journalctl does see them.
forged_fields="MESSAGE=FORGED line of alice
SESSION_SCRIPTS_SESSION_ID=cli-run-2
SESSION_SCRIPTS_EVENT=SessionStart
SESSION_SCRIPTS_CONTEXT=system
SESSION_SCRIPTS_STREAM=stdout
_SYSTEMD_UNIT=session-scripts.service
_UID=0"
bed_exec_user alice sh -c 'printf "%s\n" "$1" | logger --journald' sh "$forged_fields"
forged_failure="MESSAGE=FORGED failure of alice
MESSAGE_ID=7ec314af1ab0431aab9db584883c9563
SESSION_SCRIPTS_SESSION_ID=cli-run-2
SESSION_SCRIPTS_EVENT=SessionStart
SESSION_SCRIPTS_CONTEXT=user
SESSION_SCRIPTS_RESULT=exit-code"
bed_exec_user alice sh -c 'printf "%s\n" "$1" | logger --journald' sh "$forged_failure"
bed_exec_user alice sh -c 'printf "%s\n" "$1" | logger --journald' sh \
        "$(printf 'MESSAGE=FORGED upload failure\nMESSAGE_ID=1c15c4c75e664df5a6ffb895fb4b8175')"
bed_exec_user alice sh -c 'echo "FORGED via systemd-cat" | systemd-cat -t session-scriptsd'
bed_wait_journal 10 "FORGED line of alice" SESSION_SCRIPTS_SESSION_ID=cli-run-2 ||
        bed_fail "the forged entry is not in the journal (the test would prove nothing)"
bed_wait_journal 10 "FORGED failure of alice" MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 ||
        bed_fail "the forged failure is not in the journal"
bed_wait_journal 10 "FORGED via systemd-cat" || bed_fail "the systemd-cat entry is not in the journal"
out=$(bed_exec session-scripts logs cli-run-2)
ss_assert_contains "$out" "SessionStart/user: user line 1 (alice)" "logs still shows the daemon's lines"
ss_assert_not_contains "$out" "FORGED" "logs does not show forged entries"
json=$(bed_exec session-scripts logs --json cli-run-2)
ss_assert_not_contains "$json" "FORGED" "logs --json does not show forged entries"
out=$(bed_exec session-scripts logs)
ss_assert_not_contains "$out" "FORGED" "logs of all sessions does not show forged entries"
out=$(bed_exec session-scripts status --failures 10)
ss_assert_contains "$out" "exited with status 4" "status still lists the real failure"
ss_assert_not_contains "$out" "FORGED" "status does not list forged failures"

out=$(bed_exec session-scripts logs)
ss_assert_contains "$out" "cli-run-1 SessionStart/user: user line 1 (alice)" "logs of all sessions"
ss_assert_contains "$out" "cli-term-1 SessionTermination/system: terminating" "logs of all sessions (2)"

# -f: a follower started before a run sees its lines as they come.
bed_exec bash -c 'timeout 15 session-scripts logs -f cli-follow-1 > /var/tmp/follow.out 2>&1 &'
sleep 1
bed_exec session-scripts run SessionStart --user alice --session-id cli-follow-1 >/dev/null
ss_wait_for 10 grep -q 'SessionStart/user \[result\]' /var/tmp/follow.out || bed_fail "logs -f: $(ss_file /var/tmp/follow.out)"
ss_assert_contains "$(ss_file /var/tmp/follow.out)" "SessionStart/user: user line 2" "logs -f lines"

# ---- sessions -----------------------------------------------------------------------------------
# A real login that is still open (pamtester opens the session and exits without closing it; with
# no pam_systemd in this stack there is no logind session whose end would end it), and a slow run
# that is still going while we look.
bed_pam_service ss-cli-open "session optional pam_session_scripts.so debug"
out=$(ss_login ss-cli-open bob open_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's login"
bed_exec touch "$SS_OUT/slow"
bed_exec bash -c 'session-scripts run SessionStart --user alice --session-id cli-slow-1 > /var/tmp/slow.out 2>&1 &'
ss_wait_for 10 sh -c 'session-scripts sessions | grep -q "^cli-slow-1 .* running "' ||
        bed_fail "sessions: no running start: $(bed_exec session-scripts sessions)"
out=$(bed_exec session-scripts sessions)
echo "$out"
ss_assert_contains "$(grep -F 'cli-slow-1' <<<"$out")" "alice" "sessions user"
ss_assert_contains "$out" "SessionStart/user" "sessions runs"
ss_assert_contains "$out" "running" "sessions running run"
json=$(bed_exec session-scripts sessions --json)
ss_assert_eq "$(json_get "[s for s in d if s['user'] == 'bob' and not s['id'].startswith('cli-')][0]['termination_state']" <<<"$json")" not-run "sessions --json bob"
ss_assert_eq "$(json_get "sorted(r['result'] for r in [s for s in d if s['user'] == 'bob' and not s['id'].startswith('cli-')][0]['runs'])" <<<"$json")" "['success', 'success']" "sessions --json runs"
# bob sees his own sessions only (his login and the run of his termination), not alice's.
json=$(bed_exec_user bob session-scripts sessions --json)
ss_assert_eq "$(json_get "sorted(set(s['user'] for s in d))" <<<"$json")" "['bob']" "sessions as bob"
ss_wait_for 15 grep -q "All scripts succeeded" /var/tmp/slow.out || bed_fail "slow run: $(ss_file /var/tmp/slow.out)"
bed_exec rm -f "$SS_OUT/slow"

# ---- status again: the failures of the runs above are listed --------------------------------------
out=$(bed_exec session-scripts status --failures 3)
echo "$out"
ss_assert_contains "$out" "exited with status 4" "status failures"
ss_assert_not_contains "$out" "FORGED" "status failures without forged entries"

# ---- sessions --no-auto-start (shell completion) does not start a stopped daemon -------------------
bed_exec systemctl stop session-scripts.service
rc=0; out=$(bed_exec session-scripts sessions --json --no-auto-start 2>&1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 1 "sessions --no-auto-start with the daemon stopped"
# The real completion function (with a stand-in for bash-completion's _init_completion), as a TAB
# after `session-scripts logs ` would run it.
cp "$MESON_SOURCE_ROOT/shell-completion/bash/session-scripts" "$BED_ROOT/var/tmp/completion.bash"
out=$(bed_exec bash -c '_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
        source /var/tmp/completion.bash; COMP_WORDS=(session-scripts logs ""); COMP_CWORD=2
        _session_scripts || true; echo "offers: ${COMPREPLY[*]}"')
ss_assert_eq "$out" "offers: " "no session ids offered while the daemon is stopped"
sleep 1
state=$(bed_exec systemctl is-active session-scripts.service || true)
ss_assert_eq "$state" inactive "no bus activation by --no-auto-start or the completion"
# Without the option the daemon is bus-activated as before.
bed_exec session-scripts sessions >/dev/null
ss_assert_eq "$(bed_exec systemctl is-active session-scripts.service)" active "sessions still activates the daemon"

echo "PASS"
