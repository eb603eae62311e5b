#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Integration scenario of the runner (daemon/runner.c): in the booted bed container, runner-driver
# performs one run_start() per case exactly as session-scriptsd does, and we check what the script
# saw and what the runner reported:
#   system context: uid 0, own scope under system.slice, cwd /, stdin /dev/null, no leaked fds,
#     signals and RLIMIT_NOFILE reset, clean environment; journalctl -u <scope> shows the lines
#   user context: alice's uid/gid/groups, cwd $HOME, scope under user-UID.slice
#   an ELF executable sees exactly fds 0, 1, 2 (a shebang script also sees 3: itself, see runner.c)
#   timeout: a script sleeping 10 s with waitingTime 2 s and a forked `sleep 100 &` → timeout at
#     ~2 s; the scope carries RuntimeMaxUSec=2s and systemd itself ends it (Result=timeout), both
#     processes gone before deadline + 2 s (the runner's own SIGKILL backstop comes only 3 s after
#     the deadline, so a scope without RuntimeMaxUSec cannot pass)
#   exit 3 → exit-code 3 with the last stdout line; stderr at warning priority
#   killed by a signal → signal 15; a non-executable file → failed
#   a modified executable → tampered, the exact sentence of docs/behaviour.md §3 in the journal and
#   the spool log
#   spool: 10 MiB of random bytes plus a long line without newline, byte-exact in RUNID.log
#   20 runs of a 2 s script at once in one event loop finish in ~2 s
source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

install -D -m 0755 -o root -g root "$MESON_BUILD_ROOT/tests/integration/runner/runner-driver" \
        "$BED_ROOT/usr/local/bin/runner-driver"

DIR=/opt/appstream/SessionScripts/runner-test
install -d -m 0755 -o root -g root "$BED_ROOT/opt/appstream" "$BED_ROOT/opt/appstream/SessionScripts" \
        "$BED_ROOT$DIR"
OUT=$(mktemp -d)
# Session ids unique per scenario run, so journal queries see this run's entries only.
TAG=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
# Like the daemon's StateDirectory: the parent exists, each case's spool directory is created by the
# runner.
SPOOL=/var/lib/session-scripts-runner-test
rm -rf "${BED_ROOT:?}$SPOOL"
install -d -m 0755 -o root -g root "$BED_ROOT$SPOOL"

# The driver starts with a raised RLIMIT_NOFILE soft limit (like a daemon may have); scripts must get
# the soft limit 1024 back, with the hard limit kept.
NOFILE_HARD=$(bed_exec sh -c 'ulimit -Hn')
NOFILE_SOFT=$(( NOFILE_HARD < 4096 ? NOFILE_HARD : 4096 ))
NOFILE_EXPECTED="$(( NOFILE_HARD < 1024 ? NOFILE_HARD : 1024 )):$NOFILE_HARD"

TAMPERED_TEXT="The session script was not executed because the executable was modified after the instance was provisioned. For security reasons, the execution was skipped."

# script NAME [MODE] < CONTENT: installs an executable into the bed, root-owned.
script() {
    local path="$BED_ROOT$DIR/$1"
    cat > "$path"
    chown root:root "$path"
    chmod "${2:-0755}" "$path"
}

# drive CASE [driver options…] -- EXE [ARG…]: one run; key=value results in $OUT/CASE. Every case
# spools into its own directory $SPOOL/CASE.
drive() {
    local name=$1
    shift
    bed_exec /usr/bin/env RUNNER_TEST_CANARY=leaked /usr/bin/prlimit --nofile="$NOFILE_SOFT:$NOFILE_HARD" \
        /usr/local/bin/runner-driver --spool-dir "$SPOOL/$name" \
        --spool-key "stack/fleet/userpool/0123/sess-$name/SessionScriptsLogs/SessionStart/$name.log" \
        --session-id "sess-$name-$TAG" "$@" > "$OUT/$name" ||
        bed_fail "runner-driver failed in case $name"
    echo "--- $name:"
    cat "$OUT/$name"
}

# get CASE KEY: a value of the driver's output.
get() {
    sed -n "s/^$2=//p" "$OUT/$1" | head -n1
}

# spool_log CASE: the run's spool log, as bytes (exactly one entry per case directory).
spool_log() {
    cat "$BED_ROOT$SPOOL/$1"/*.log
}

# line CASE KEY: a "KEY=value" line the script wrote (from its spool log).
line() {
    spool_log "$1" | sed -n "s/^$2=//p" | head -n1
}

expect_eq() {
    [[ "$1" == "$2" ]] || bed_fail "$3: expected '$2', got '$1'"
}

expect_match() {
    [[ "$1" =~ $2 ]] || bed_fail "$3: '$1' does not match '$2'"
}

expect_finished() {
    local meta
    meta=$(cat "$BED_ROOT$SPOOL/$1"/*.meta)
    grep -qx 'STATE=finished' <<< "$meta" || bed_fail "$1: spool entry not finished: $meta"
    grep -qx "SESSION_ID=sess-$1-$TAG" <<< "$meta" || bed_fail "$1: spool meta lacks the session: $meta"
}

# journal_unit UNIT [ARGS…]: the journal lines of a scope (after journald caught up).
journal_unit() {
    local unit=$1
    shift
    bed_exec journalctl --sync
    bed_journal -u "$unit" -o cat "$@"
}

usec_between() {
    (( $1 >= $2 && $1 < $3 )) || bed_fail "$4: $1 µs not in [$2, $3)"
}

# ---- system context, shebang script ------------------------------------------------------------
script info.sh << 'EOF'
#!/bin/sh
echo "uid=$(id -u)"
echo "gid=$(id -g)"
echo "groups=$(id -G)"
echo "cwd=$(pwd)"
echo "cgroup=$(grep '^0::' /proc/self/cgroup | cut -c4-)"
echo "stdin=$(readlink /proc/$$/fd/0)"
echo "fd3=$(readlink /proc/$$/fd/3)"
t=$(mktemp)
ls /proc/$$/fd > "$t"        # listed by a child: the shell's own fds, nothing added for the listing
echo "fds=$(tr '\n' ' ' < "$t")"
rm -f "$t"
echo "sigign=$(sed -n 's/^SigIgn:\t//p' /proc/$$/status)"
echo "sigblk=$(sed -n 's/^SigBlk:\t//p' /proc/$$/status)"
echo "nofile=$(ulimit -Sn):$(ulimit -Hn)"
echo "canary=${RUNNER_TEST_CANARY:-none}"
echo "home=$HOME user=$USER"
echo "warning line" >&2
echo "100% literal %s %n"
EOF

drive system --context system --user root --wait 10 -- "$DIR/info.sh"
expect_eq "$(get system result)" success "system result"
unit=$(get system unit)
expect_match "$unit" '^session-scripts-start-system-sess-system-[0-9a-f]{8}-[0-9a-f]{8}\.scope$' "system unit name"
expect_eq "$(line system uid)" 0 "system uid"
expect_eq "$(line system cwd)" / "system cwd"
expect_eq "$(line system cgroup)" "/system.slice/$unit" "system cgroup"
expect_eq "$(line system stdin)" /dev/null "system stdin"
expect_eq "$(line system fd3)" "$DIR/info.sh" "system fd 3 is the script itself"
# 0-2, 3 = the script (kept for the interpreter), ≥ 10 = the shell's own copy of its script.
for fd in $(line system fds); do
    (( fd <= 3 || fd >= 10 )) || bed_fail "system: unexpected fd $fd in the script: $(line system fds)"
done
expect_eq "$(line system sigign)" 0000000000000000 "system ignored signals"
expect_eq "$(line system sigblk)" 0000000000000000 "system blocked signals"
expect_eq "$(line system nofile)" "$NOFILE_EXPECTED" "system RLIMIT_NOFILE"
expect_eq "$(line system canary)" none "system environment leak"
expect_eq "$(line system home)" "/root user=root" "system HOME/USER"
expect_finished system
jl=$(journal_unit "$unit")
grep -qx 'uid=0' <<< "$jl" || bed_fail "journalctl -u $unit lacks the script's lines: $jl"
grep -qxF '100% literal %s %n' <<< "$jl" || bed_fail "journal mangled a line with % signs: $jl"
jw=$(journal_unit "$unit" -p warning)
grep -qx 'warning line' <<< "$jw" || bed_fail "stderr line not at warning priority: $jw"
grep -q '^uid=0' <<< "$jw" && bed_fail "stdout line at warning priority: $jw"
bed_journal -o verbose MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 "SESSION_SCRIPTS_SESSION_ID=sess-system-$TAG" |
    grep -q 'SESSION_SCRIPTS_RESULT=success' || bed_fail "no summary entry for the system run"

# ---- user context ------------------------------------------------------------------------------
alice_uid=$(bed_exec id -u alice)
alice_gid=$(bed_exec id -g alice)
alice_groups=$(bed_exec id -G alice)
alice_home=$(bed_exec getent passwd alice | cut -d: -f6)

drive user --context user --user alice --wait 10 -- "$DIR/info.sh"
expect_eq "$(get user result)" success "user result"
unit=$(get user unit)
expect_match "$unit" '^session-scripts-start-user-sess-user-[0-9a-f]{8}-[0-9a-f]{8}\.scope$' "user unit name"
expect_eq "$(line user uid)" "$alice_uid" "user uid"
expect_eq "$(line user gid)" "$alice_gid" "user gid"
expect_eq "$(line user groups)" "$alice_groups" "user groups"
expect_eq "$(line user cwd)" "$alice_home" "user cwd"
expect_eq "$(line user cgroup)" "/user.slice/user-$alice_uid.slice/$unit" "user cgroup"
expect_eq "$(line user home)" "$alice_home user=alice" "user HOME/USER"
expect_eq "$(line user nofile)" "$NOFILE_EXPECTED" "user RLIMIT_NOFILE"
expect_finished user

# ---- an ELF executable sees exactly 0, 1, 2 ------------------------------------------------------
# ls itself opens the listed directory (the "3 -> /proc/N/fd" entry); nothing else may be there.
drive elf --context system --user root --wait 10 -- /usr/bin/ls -l /proc/self/fd
expect_eq "$(get elf result)" success "elf result"
fds=$(spool_log elf | grep -- '->' | sed 's/.* \([0-9]*\) -> \(.*\)$/\1=\2/' | tr '\n' ' ')
expect_match "$fds" '^0=/dev/null 1=pipe:\[[0-9]+\] 2=pipe:\[[0-9]+\] 3=/proc/[0-9]+/fd $' "elf fds"

# ---- timeout, with a forked child ------------------------------------------------------------------
script sleepy.sh << 'EOF'
#!/bin/sh
sleep 100 &
echo "forked $!"
sleep 10
echo "not reached"
EOF

# The scope is looked at while it runs: once stopped it is garbage-collected (CollectMode=).
drive timeout --context system --user root --wait 2 -- "$DIR/sleepy.sh" &
driver_pid=$!
unit=''
for _ in $(seq 40); do
    unit=$(bed_exec systemctl list-units --all --plain --no-legend "session-scripts-start-system-sess-timeout-$TAG-*" |
           awk '{ print $1 }' | head -n1)
    [[ -n "$unit" ]] && break
    sleep 0.05
done
[[ -n "$unit" ]] || bed_fail "timeout: the run's scope never showed up"
expect_eq "$(bed_exec systemctl show -P RuntimeMaxUSec "$unit")" 2s "timeout: RuntimeMaxUSec of $unit"
expect_eq "$(bed_exec systemctl show -P TimeoutStopUSec "$unit")" 2s "timeout: TimeoutStopUSec of $unit"
wait "$driver_pid" || bed_fail "runner-driver failed in case timeout"
expect_eq "$(get timeout unit)" "$unit" "timeout: the scope looked at is the run's"
expect_eq "$(get timeout result)" timeout "timeout result"
usec_between "$(get timeout callback_usec)" 2000000 2500000 "timeout reported at the deadline"
# Capture ends when the scope is gone: SIGTERM at RuntimeMaxSec ends both processes at once, and
# anything ignoring it would get SIGKILL from systemd 2 s later — before the runner's own backstop
# (3 s after the deadline) could have done it.
usec_between "$(get timeout capture_usec)" 2000000 4000000 "timeout scope stopped by systemd"
bed_wait_journal 5 "$unit: .*Failed with result 'timeout'" -u "$unit" ||
    bed_fail "timeout: systemd did not end $unit for its runtime limit (Result=timeout)"
expect_eq "$(get timeout last_line)" "forked $(spool_log timeout | sed -n 's/^forked //p')" "timeout last line"
spool_log timeout | grep -q 'not reached' && bed_fail "timeout: the script ran past its deadline"
left=$(bed_exec sh -c 'for p in /proc/[0-9]*; do tr "\0" " " < "$p/cmdline" 2>/dev/null; echo; done' |
       grep -E '^sleep (100|10) ' || true)
[[ -z "$left" ]] || bed_fail "timeout: processes survived the scope: $left"
unit=$(get timeout unit)
state=$(bed_exec systemctl show -P ActiveState "$unit" || true)
[[ "$state" != active ]] || bed_fail "timeout: $unit still active"
expect_finished timeout

# ---- exit status, last line -------------------------------------------------------------------------
script exit3.sh << 'EOF'
#!/bin/sh
echo first
echo "the last line"
echo "an error" >&2
printf '\n'
exit 3
EOF

drive exit3 --context user --user alice --wait 10 -- "$DIR/exit3.sh"
expect_eq "$(get exit3 result)" exit-code "exit3 result"
expect_eq "$(get exit3 exit_status)" 3 "exit3 status"
expect_eq "$(get exit3 last_line)" "the last line" "exit3 last line (empty lines do not count)"
bed_journal -o verbose MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 "SESSION_SCRIPTS_SESSION_ID=sess-exit3-$TAG" |
    grep -q 'SESSION_SCRIPTS_EXIT_STATUS=3' || bed_fail "exit3: summary without the exit status"

# ---- killed by a signal ------------------------------------------------------------------------------
script killed.sh << 'EOF'
#!/bin/sh
echo "about to die"
kill -TERM $$
EOF
drive signal --context system --user root --wait 10 -- "$DIR/killed.sh"
expect_eq "$(get signal result)" signal "signal result"
expect_eq "$(get signal signal)" 15 "signal number"

# ---- not executable: exec fails ----------------------------------------------------------------------
script noexec.sh 0644 << 'EOF'
#!/bin/sh
echo "must not run"
EOF
drive noexec --context system --user root --wait 10 -- "$DIR/noexec.sh"
expect_eq "$(get noexec result)" failed "noexec result"
expect_match "$(get noexec error)" 'failed to execute .*noexec.sh: Permission denied' "noexec error"
expect_finished noexec

# ---- tampered ---------------------------------------------------------------------------------------
script tampered.sh << 'EOF'
#!/bin/sh
echo "must not run"
EOF
drive tampered --context system --user root --wait 10 --tamper -- "$DIR/tampered.sh"
expect_eq "$(get tampered result)" tampered "tampered result"
expect_eq "$(get tampered error)" "$TAMPERED_TEXT" "tampered error text"
expect_eq "$(get tampered unit)" "" "tampered: no scope"
expect_eq "$(spool_log tampered)" "$TAMPERED_TEXT" "tampered spool log"
[[ "$(spool_log tampered | tail -c1 | od -An -c | tr -d ' ')" == '\n' ]] || bed_fail "tampered log lacks newline"
expect_finished tampered
bed_exec journalctl --sync
msg=$(bed_journal -o cat MESSAGE_ID=6b877395a34d4e2e87a68a09ccdee32a "SESSION_SCRIPTS_SESSION_ID=sess-tampered-$TAG")
expect_eq "$msg" "$TAMPERED_TEXT" "tampered journal message"

# ---- spool: byte-exact ------------------------------------------------------------------------------
script bytes.sh << 'EOF'
#!/bin/sh
{ head -c 10485760 /dev/urandom; head -c 300000 /dev/zero | tr '\0' x; } | tee /var/tmp/runner-expected.bin
EOF
drive bytes --context system --user root --wait 30 -- "$DIR/bytes.sh"
expect_eq "$(get bytes result)" success "bytes result"
expected=$(sha256sum < "$BED_ROOT/var/tmp/runner-expected.bin")
got=$(spool_log bytes | sha256sum)
expect_eq "$got" "$expected" "bytes: spool log differs from what the script wrote"
expect_finished bytes
mode=$(stat -c %a "$BED_ROOT$SPOOL"/bytes/*.log)
expect_eq "$mode" 640 "spool log mode"
# Readable by the uploader's group when the package's sysusers created it.
if upload_gid=$(bed_exec getent group session-scripts-upload | cut -d: -f3) && [[ -n "$upload_gid" ]]; then
    expect_eq "$(stat -c %g "$BED_ROOT$SPOOL"/bytes/*.log)" "$upload_gid" "spool log group"
    expect_eq "$(stat -c %g "$BED_ROOT$SPOOL"/bytes/*.meta)" "$upload_gid" "spool meta group"
fi
echo "bytes: $(( 10485760 + 300000 )) bytes captured in $(get bytes capture_usec) µs"

# ---- 20 runs at once in one loop ----------------------------------------------------------------------
script two.sh << 'EOF'
#!/bin/sh
echo "start $AppStream_Session_ID"
sleep 2
echo done
EOF
drive concurrent --context user --user alice --wait 10 --count 20 -- "$DIR/two.sh"
n_ok=$(grep -c '^[0-9]*\.result=success$' "$OUT/concurrent" || true)
expect_eq "$n_ok" 20 "concurrent: successful runs"
usec_between "$(get concurrent max_callback_usec)" 2000000 4000000 "concurrent: 20 runs of 2 s"
n_logs=$(ls "$BED_ROOT$SPOOL/concurrent"/*.log | wc -l)
expect_eq "$n_logs" 20 "concurrent: spool entries"
n_fin=$(cat "$BED_ROOT$SPOOL/concurrent"/*.meta | grep -cx 'STATE=finished' || true)
expect_eq "$n_fin" 20 "concurrent: finished spool entries"

rm -rf "$OUT"
echo "runner scenario: all cases passed"
