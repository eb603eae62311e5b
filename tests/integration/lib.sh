# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# The start of every integration scenario and benchmark, and the helpers they share:
#
#   source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"   # or a suite's own *-lib.sh, which sources it
#   scenario_begin [PRE-BOOT-FUNCTION]                        # bed_init + bed_boot
#
# Sourcing it sets strict mode (set -euo pipefail) and sources the test bed (bed.sh). The helpers:
# installing scripts and config.json into the booted container with the ownership and modes the
# security checks demand, a PAM stack with pam_systemd + pam_session_scripts, timed pamtester
# logins, bus calls, the daemon's resources (descriptors, RSS, state files, scopes), login storms
# and soaks, and small assertions that fail through bed_fail (which dumps the journal). Sourcing it
# twice is harmless (suite libraries each source it).

[ -z "${SS_LIB_SOURCED:-}" ] || return 0
SS_LIB_SOURCED=1

set -euo pipefail
# shellcheck source=tests/integration/bed.sh
source "$(dirname "${BASH_SOURCE[0]}")/bed.sh"

# scenario_begin [PRE-BOOT-FUNCTION] — re-executes the scenario in its private namespaces (what ran
# before is run again there: only definitions belong before it), then boots the container
# (bed_init, bed_boot; PRE-BOOT-FUNCTION as bed_boot's).
scenario_begin() {
        bed_init
        bed_boot "$@"
}

SS_DIR=/opt/appstream/SessionScripts
SS_OUT=/var/tmp/ss-out
SS_BUS_ARGS=(org.sessionscripts.SessionScripts1 /org/sessionscripts/SessionScripts1 org.sessionscripts.Manager1)

# ss_install_script NAME < content — an executable root:root 0755 in SS_DIR.
ss_install_script() {
        local path="$BED_ROOT$SS_DIR/$1"
        mkdir -p "$BED_ROOT$SS_DIR"
        chmod 0755 "$BED_ROOT/opt" "$BED_ROOT/opt/appstream" "$BED_ROOT$SS_DIR"
        cat > "$path"
        chown 0:0 "$path"
        chmod 0755 "$path"
}

# ss_install_config < json — config.json root:root 0644.
ss_install_config() {
        local path="$BED_ROOT$SS_DIR/config.json"
        mkdir -p "$BED_ROOT$SS_DIR"
        cat > "$path"
        chown 0:0 "$path"
        chmod 0644 "$path"
}

# ss_install_settings < ini — /etc/session-scripts/session-scripts.conf.
ss_install_settings() {
        mkdir -p "$BED_ROOT/etc/session-scripts"
        cat > "$BED_ROOT/etc/session-scripts/session-scripts.conf"
        chmod 0644 "$BED_ROOT/etc/session-scripts/session-scripts.conf"
}

# ss_prepare_out — a world-writable (sticky) directory the scripts of both contexts report into.
ss_prepare_out() {
        bed_exec sh -c "rm -rf $SS_OUT && mkdir -p $SS_OUT && chmod 1777 $SS_OUT"
}

# ss_pam_stack SERVICE [MODULE-OPTIONS] [EXTRA-LINES-BEFORE-OUR-MODULE]
ss_pam_stack() {
        local service=$1 opts=${2:-} before=${3:-}
        local lines="session required pam_systemd.so"
        [ -n "$before" ] && lines+=$'\n'"$before"
        lines+=$'\n'"session optional pam_session_scripts.so debug $opts"
        bed_pam_service "$service" "$lines"
}

ss_start_daemon() {
        bed_exec systemctl start session-scripts.service || bed_fail "session-scripts.service did not start"
}

# ss_login SERVICE USER OPERATION… — runs pamtester inside, prints its output, then a line
# "SS_RESULT rc=N ms=N" with its exit status and wall-clock time in milliseconds.
ss_login() {
        local service=$1 user=$2
        shift 2
        bed_exec bash -c '
                s=$(date +%s%N)
                pamtester -v "$@" 2>&1
                rc=$?
                e=$(date +%s%N)
                echo "SS_RESULT rc=$rc ms=$(( (e - s) / 1000000 ))"' bash "$service" "$user" "$@"
}

# ss_result_field OUTPUT rc|ms
ss_result_field() {
        sed -n "s/^SS_RESULT .*$2=\([0-9]*\).*/\1/p" <<<"$1" | tail -n1
}

# ss_busctl ARGS… — busctl on the system bus inside, as root.
ss_call() {
        local method=$1
        shift
        bed_exec busctl call "${SS_BUS_ARGS[@]}" "$method" "$@"
}

ss_assert_eq() {
        [ "$1" = "$2" ] || bed_fail "${3:-assertion}: expected '$2', got '$1'"
}

ss_assert_contains() {
        grep -qF -- "$2" <<<"$1" || bed_fail "${3:-assertion}: '$2' not found in: $1"
}

ss_assert_not_contains() {
        ! grep -qF -- "$2" <<<"$1" || bed_fail "${3:-assertion}: '$2' unexpectedly found in: $1"
}

# ss_call_as USER METHOD [DBUS-SEND-ARGS…] — calls METHOD of the manager as USER (dbus-send, with
# its typed arguments such as string:alice); prints the reply or the error, returns dbus-send's
# status.
ss_call_as() {
        local user=$1 method=$2
        shift 2
        bed_exec_user "$user" dbus-send --system --print-reply --dest=org.sessionscripts.SessionScripts1 \
                /org/sessionscripts/SessionScripts1 "org.sessionscripts.Manager1.$method" "$@" 2>&1
}

# ss_assert_refused USER "METHOD ARGS…" WHAT [by-daemon] — USER's call (ss_call_as; the words of the
# second argument split on blanks) must fail with AccessDenied; with by-daemon the refusal must be
# the daemon's own ("Only root may call this method."), not the bus policy's ("Rejected send
# message").
ss_assert_refused() {
        local user=$1 call=$2 what=$3 by=${4:-} err rc=0
        # shellcheck disable=SC2086 # the call's words are meant to be split
        err=$(ss_call_as "$user" $call) || rc=$?
        echo "$user → $call: $err"
        [ "$rc" != 0 ] || bed_fail "$what: $user's $call succeeded: $err"
        ss_assert_contains "$err" "org.freedesktop.DBus.Error.AccessDenied" "$what"
        if [ "$by" = by-daemon ]; then
                ss_assert_contains "$err" "Only root may call this method." "$what: refused by the daemon"
                ss_assert_not_contains "$err" "Rejected send message" "$what: refused by the daemon"
        fi
}

# ss_lax_bus_policy USER on|off — a D-Bus policy that lets USER send anything to the daemon (on), or
# the installed policy alone again (off); the bus reloads its configuration either way. With it on,
# only the daemon's own checks stand between USER and the root-only methods.
ss_lax_bus_policy() {
        local conf="$BED_ROOT/etc/dbus-1/system.d/zz-ss-lax-$1.conf"
        if [ "$2" = on ]; then
                cat > "$conf" <<EOS
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="$1">
    <allow send_destination="org.sessionscripts.SessionScripts1"/>
  </policy>
</busconfig>
EOS
        else
                rm -f "$conf"
        fi
        bed_exec systemctl reload dbus.service
        sleep 0.5
}

# ss_install_config_system WAITING_TIME START [TERM] — config.json with one system-context
# executable: START at SessionStart and, when given, TERM at SessionTermination.
ss_install_config_system() {
        local wait=$1 start=$2 term=${3:-} events
        events="\"SessionStart\": { \"executables\": [ { \"context\": \"system\", \"filename\": \"$start\" } ], \"waitingTime\": $wait }"
        [ -z "$term" ] ||
                events+=$',\n'"  \"SessionTermination\": { \"executables\": [ { \"context\": \"system\", \"filename\": \"$term\" } ], \"waitingTime\": $wait }"
        printf '{\n  %s\n}\n' "$events" | ss_install_config
}

# ss_prepare_log FILE… — empty files in SS_OUT that the scripts of both contexts may append to.
ss_prepare_log() {
        local f
        for f in "$@"; do
                bed_exec sh -c ': > "$1" && chmod 0666 "$1"' sh "$SS_OUT/$f"
        done
}

# ss_wait_for SECONDS CMD… — polls CMD (inside) every 0.1 s until it succeeds.
ss_wait_for() {
        local limit=$1
        shift
        bed_exec bash -c '
                limit=$1; shift
                end=$(( $(date +%s%N) + limit * 1000000000 ))
                while [ "$(date +%s%N)" -lt "$end" ]; do
                        "$@" && exit 0
                        sleep 0.1
                done
                exit 1' bash "$limit" "$@"
}

# ss_file PATH — a file's content from inside the container ("" when absent).
ss_file() {
        bed_exec cat "$1" 2>/dev/null || true
}

# ss_run_unit SESSION_ID EVENT CONTEXT — the scope unit of a run, from its summary journal entry.
ss_run_unit() {
        bed_journal -o export MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 \
                SESSION_SCRIPTS_SESSION_ID="$1" SESSION_SCRIPTS_EVENT="$2" SESSION_SCRIPTS_CONTEXT="$3" |
                sed -n 's/^OBJECT_SYSTEMD_UNIT=//p' | tail -n1
}

# ss_journal_mark — writes a marker entry into the journal and prints its cursor. Entries logged
# after the mark are `bed_journal --cursor="$(ss_journal_mark)" MATCHES…` (the marker itself
# matches none of them). Not --after-cursor: journalctl 252 with matches skips the first matching
# entry after a cursor that does not match.
ss_journal_mark() {
        bed_exec logger -t ss-test-mark "mark $RANDOM$RANDOM"
        bed_exec journalctl --sync
        bed_exec journalctl -n 1 --show-cursor -q -o cat -t ss-test-mark | sed -n 's/^-- cursor: //p'
}

# ---- Load and resource helpers (storm, soak, killed-login, PAMName= scenarios) ----

# ss_add_users PREFIX N — creates users PREFIX001 … PREFIXnnn inside (home dirs, /bin/bash), for
# scenarios that need more logins than the bed's alice, bob, user01…user20.
ss_add_users() {
        bed_exec bash -c '
                for i in $(seq -f "%03g" 1 "$2"); do
                        id "$1$i" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$1$i" || exit 1
                done' bash "$1" "$2" || bed_fail "cannot create the users $1001…"
}

# ss_install_timer — copies bench/pam-session-timer (a libpam driver that times pam_open_session()
# and pam_close_session() separately) into the container as /usr/local/bin/pam-session-timer.
ss_install_timer() {
        local timer=${PAM_SESSION_TIMER:-$MESON_BUILD_ROOT/bench/pam-session-timer}
        [ -x "$timer" ] || bed_fail "$timer is not built (meson compile -C $MESON_BUILD_ROOT)"
        install -m 0755 "$timer" "$BED_ROOT/usr/local/bin/pam-session-timer"
}

# ss_install_floor — copies bench/scope-floor (what systemd and the kernel alone take for a
# session's scopes and processes, see bench/README.md) into the container as
# /usr/local/bin/scope-floor.
ss_install_floor() {
        local floor=${SCOPE_FLOOR:-$MESON_BUILD_ROOT/bench/scope-floor}
        [ -x "$floor" ] || bed_fail "$floor is not built (meson compile -C $MESON_BUILD_ROOT)"
        install -m 0755 "$floor" "$BED_ROOT/usr/local/bin/scope-floor"
}

# ss_daemon_pid — the daemon's main PID inside the container (0 when it is not running).
ss_daemon_pid() {
        bed_exec systemctl show -P MainPID session-scripts.service
}

# ss_daemon_fds PID — how many descriptors the daemon holds.
ss_daemon_fds() {
        bed_exec sh -c 'ls "/proc/$1/fd" | wc -l' sh "$1"
}

# ss_daemon_pidfds PID — how many of them are pidfds.
ss_daemon_pidfds() {
        bed_exec sh -c 'for f in /proc/"$1"/fd/*; do readlink "$f"; done | grep -c "anon_inode:\[pidfd\]" || true' sh "$1"
}

# ss_daemon_rss_kib PID — the daemon's VmRSS in KiB.
ss_daemon_rss_kib() {
        bed_exec sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}

# ss_state_files — the per-session state files the daemon keeps in /run/session-scripts/sessions.
ss_state_files() {
        bed_exec sh -c 'ls -A /run/session-scripts/sessions 2>/dev/null || true'
}

# ss_leftover_scopes — session-scripts-*.scope units systemd still knows (any state).
ss_leftover_scopes() {
        bed_exec systemctl list-units --all --plain --no-legend --no-pager 'session-scripts-*.scope' |
                awk '{ print $1 }'
}

# ss_fail_open_lines [JOURNALCTL ARGS…] — the module's fail-open messages ("… not running session
# scripts …"); the debug line about a skipped service says the same words and is not one.
ss_fail_open_lines() {
        bed_journal -o cat "$@" | grep -F 'not running session scripts' | grep -vF 'is in the skip list' || true
}

# ss_summaries SESSION_ID — the summary entries (one per run) of a session as
# "EVENT CONTEXT RESULT" lines.
ss_summaries() {
        bed_journal -o export MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 SESSION_SCRIPTS_SESSION_ID="$1" |
                awk -F= '/^SESSION_SCRIPTS_EVENT=/ { e = $2 } /^SESSION_SCRIPTS_CONTEXT=/ { c = $2 }
                         /^SESSION_SCRIPTS_RESULT=/ { r = $2 }
                         /^$/ { if (e != "") print e, c, r; e = c = r = "" }
                         END { if (e != "") print e, c, r }'
}

# ss_install_storm_runner — installs /usr/local/bin/ss-storm-run (needs ss_install_timer):
#   ss-storm-run SERVICE PREFIX N DIR
# N logins (pam-session-timer, one cycle each) of PREFIX001 … PREFIXnnn through SERVICE, released
# at once: each is a subshell blocked opening a FIFO until the runner, once all N exist, opens
# and closes its other end. Per login DIR/USER.t0 (µs, when it was released: no fork between the
# release and t0, so the t0s show the storm's real spread) and DIR/USER.res ("SERVICE OPEN_USEC
# CLOSE_USEC ok|failed"). Prints "release_us=… wall_ms=…" (wall: until the last login ended).
ss_install_storm_runner() {
        cat >"$BED_ROOT/usr/local/bin/ss-storm-run" <<'EOF'
#!/bin/bash
service=$1 prefix=$2 n=$3 dir=$4
rm -rf "$dir" && mkdir -p "$dir" && mkfifo "$dir/.go"
for i in $(seq -f '%03g' 1 "$n"); do
        (
                read -r _ < "$dir/.go"
                echo "${EPOCHREALTIME/./}" > "$dir/$prefix$i.t0"
                exec pam-session-timer 1 "$prefix$i" "$service" > "$dir/$prefix$i.res" 2>&1
        ) &
done
while [ "$(pgrep -c -P $$)" -lt "$n" ]; do sleep 0.05; done
sleep 0.5
s=${EPOCHREALTIME/./}
: > "$dir/.go"
wait
e=${EPOCHREALTIME/./}
echo "release_us=$s wall_ms=$(( (e - s) / 1000 ))"
EOF
        chmod 0755 "$BED_ROOT/usr/local/bin/ss-storm-run"
}

# ss_storm_results DIR — one line per login of an ss-storm-run: "USER OPEN_USEC CLOSE_USEC
# ok|failed|missing T0_USEC".
ss_storm_results() {
        bed_exec bash -c 'cd "$1" && for t in *.t0; do u=${t%.t0}; echo "$u $(cut -d" " -f2- "$u.res" 2>/dev/null || echo "- - missing") $(cat "$t")"; done' bash "$1"
}

# ss_install_recording_scripts WAITING_TIME FIELDS [PREFIX] — start.sh and term.sh for both contexts
# of both events (waitingTime WAITING_TIME, no S3 upload). Each runs the shell text PREFIX (e.g.
# "sleep 1"), then appends one line of FIELDS (shell words expanded by the script, e.g.
# '$AppStream_Session_ID $(date +%s%N)') to $SS_OUT/EVENT.CONTEXT.log (EVENT: start or term),
# created empty and writable for both contexts. Needs ss_prepare_out first.
ss_install_recording_scripts() {
        local wait=$1 fields=$2 prefix=${3:-} ev
        ss_prepare_log start.system.log start.user.log term.system.log term.user.log
        for ev in start term; do
                ss_install_script "$ev.sh" <<EOS
#!/bin/sh
$prefix
echo "$fields" >> $SS_OUT/$ev.\$AppStream_Session_Context.log
EOS
        done
        ss_install_config_everywhere "$SS_DIR/start.sh" "$SS_DIR/term.sh" "$wait"
}

# ss_install_config_everywhere START TERM WAITING_TIME — config.json running the executable START
# at SessionStart and TERM at SessionTermination, each in both contexts, with waitingTime
# WAITING_TIME and no S3 upload.
ss_install_config_everywhere() {
        ss_install_config <<EOS
{
  "SessionStart": { "executables": [
        { "context": "system", "filename": "$1", "s3LogEnabled": false },
        { "context": "user", "filename": "$1", "s3LogEnabled": false } ], "waitingTime": $3 },
  "SessionTermination": { "executables": [
        { "context": "system", "filename": "$2", "s3LogEnabled": false },
        { "context": "user", "filename": "$2", "s3LogEnabled": false } ], "waitingTime": $3 }
}
EOS
}

# ss_recorded_lines — the lines the recording scripts wrote, each prefixed with the name of its
# file: "start.system LINE", "start.user LINE", "term.system LINE", "term.user LINE".
ss_recorded_lines() {
        bed_exec sh -c "cd $SS_OUT && for f in start.system start.user term.system term.user; do sed \"s/^/\$f /\" \$f.log; done"
}

# ---- Storms and soaks (lifecycle scenarios and their benchmarks) ----

# ss_storm_pre_boot OVERLAY-ROOT — the pre-boot function of a login storm (scenario_begin
# ss_storm_pre_boot): logind stops a user's manager as soon as its last session ends
# (UserStopDelaySec=0), or with pam_systemd in the stack 200 user managers would linger for 10 s.
ss_storm_pre_boot() {
        mkdir -p "$1/etc/systemd/logind.conf.d"
        printf '[Login]\nUserStopDelaySec=0\n' >"$1/etc/systemd/logind.conf.d/storm.conf"
}

# ss_storm_prepare N WAITING_TIME BASE-SERVICE SERVICE — everything a storm of N logins needs: the
# users storm001 … stormNNN, pam-session-timer and ss-storm-run, recording scripts that sleep 1 s
# and then write "USER SESSION-ID" (ss_install_recording_scripts), and two PAM stacks:
# BASE-SERVICE without the module (pam_permit) and SERVICE with it; with STORM_PAM_SYSTEMD=1 both
# start with pam_systemd.
ss_storm_prepare() {
        local n=$1 wait=$2 base=$3 service=$4 first=""
        ss_add_users storm "$n"
        ss_install_timer
        ss_install_storm_runner
        ss_prepare_out
        ss_install_recording_scripts "$wait" '$AppStream_UserName $AppStream_Session_ID' 'sleep 1'
        [ "${STORM_PAM_SYSTEMD:-0}" = 1 ] && first="session required pam_systemd.so"
        bed_pam_service "$base" "${first:-session required pam_permit.so}"
        bed_pam_service "$service" "${first:+$first
}session optional pam_session_scripts.so"
}

# ss_soak_prepare SERVICE [BASE-SERVICE] — a soak's setup: pam-session-timer, /usr/bin/true in both
# contexts of both events (waitingTime 30, no upload), the PAM stack SERVICE with the module alone
# and, when given, BASE-SERVICE with pam_permit alone.
ss_soak_prepare() {
        ss_install_timer
        ss_install_config_everywhere /usr/bin/true /usr/bin/true 30
        bed_pam_service "$1" "session optional pam_session_scripts.so"
        [ -z "${2:-}" ] || bed_pam_service "$2" "session required pam_permit.so"
}

# ss_soak_cycles SERVICE PID PER PARALLEL — PARALLEL streams of PER login/logout cycles each
# (pam-session-timer; stream i logs in userII), while the descriptors of process PID (the daemon;
# 0: none) are sampled every 0.2 s. Prints "OK MS PEAK_FDS": the cycles that succeeded, the wall
# time, the most descriptors seen (0 without sampling).
ss_soak_cycles() {
        bed_exec bash -c '
                service=$1 pid=$2 per=$3 par=$4 pids=
                : > /var/tmp/soak.fds
                if [ "$pid" != 0 ]; then
                        ( while :; do ls /proc/$pid/fd 2>/dev/null | wc -l; sleep 0.2; done > /var/tmp/soak.fds ) &
                        sampler=$!
                fi
                s=$(date +%s%N)
                for i in $(seq -f "%02g" 1 "$par"); do
                        pam-session-timer "$per" "user$i" "$service" > /var/tmp/soak.$i 2>&1 &
                        pids="$pids $!"
                done
                for j in $pids; do wait "$j" || true; done
                e=$(date +%s%N)
                [ -n "${sampler:-}" ] && kill "$sampler"
                ok=$(cat /var/tmp/soak.[0-9]* | grep -c " ok$" || true)
                peak=$(sort -n /var/tmp/soak.fds | tail -n 1)
                echo "$ok $(( (e - s) / 1000000 )) ${peak:-0}"' bash "$@"
}
