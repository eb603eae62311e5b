# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Helpers of the session-policy scenarios, sourced first, in place of
# tests/integration/lib.sh; they build on its helpers (script/config installation, timed pamtester logins, bus calls,
# assertions): PAM stacks with a chosen control flag, a bus monitor recording the daemon's signals,
# and the session ids a start script recorded.

# shellcheck source=tests/integration/lib.sh
source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"

# pol_pam_stack SERVICE CONTROL [MODULE-OPTIONS] — pam_systemd (required), then our module on a
# CONTROL (required, requisite, optional) line.
pol_pam_stack() {
        local service=$1 control=$2 opts=${3:-}
        bed_pam_service "$service" "session required pam_systemd.so
session $control pam_session_scripts.so debug timeout_grace=2 $opts"
}

# pol_monitor_start — records every message to and from the daemon (busctl monitor, JSON lines)
# into $SS_OUT/monitor.json, as a transient service of the container's systemd.
pol_monitor_start() {
        bed_exec systemd-run --quiet --unit=ss-policy-monitor --collect \
                -p StandardOutput=file:$SS_OUT/monitor.json -p StandardError=journal \
                busctl monitor --json=short org.sessionscripts.SessionScripts1 ||
                bed_fail "cannot start busctl monitor"
        # busctl prints nothing to stdout before its first message; wait until it is subscribed:
        # its BecomeMonitor call makes it a monitor of the bus, after which a ping shows up.
        local _
        for _ in $(seq 50); do
                bed_exec busctl call org.sessionscripts.SessionScripts1 /org/sessionscripts/SessionScripts1 \
                        org.freedesktop.DBus.Peer Ping >/dev/null 2>&1 || true
                grep -q '"member":"Ping"' "$BED_ROOT$SS_OUT/monitor.json" 2>/dev/null && return 0
                sleep 0.1
        done
        bed_fail "busctl monitor did not start recording"
}

# pol_monitor_stop — stops the recording (busctl writes each message as it sees it).
pol_monitor_stop() {
        bed_exec systemctl stop ss-policy-monitor.service || true
}

# pol_signals — the recorded signals of org.sessionscripts.Manager1, one per line:
# MEMBER<TAB>ARG<TAB>ARG…. Signals are unicast (to each subscriber allowed to see them, see
# Subscribe in session-scriptsd(8)); the monitor sees each once in the copy the daemon addresses to
# itself, and that copy is what is listed, so subscribers do not make duplicates.
pol_signals() {
        python3 - "$BED_ROOT$SS_OUT/monitor.json" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m.get("type") != "signal" or m.get("interface") != "org.sessionscripts.Manager1":
        continue
    if m.get("destination") != m.get("sender"):
        continue
    print("\t".join([m["member"]] + [str(a) for a in m["payload"]["data"]]))
EOF
}

# pol_install_id_recorder NAME — installs the script NAME in SS_DIR, which appends the session id to
# $SS_OUT/ids.USER (what pol_last_id reads).
pol_install_id_recorder() {
        ss_install_script "$1" <<'EOS'
#!/bin/sh
echo "$AppStream_Session_ID" >> /var/tmp/ss-out/ids.$AppStream_Session_User
EOS
}

# pol_last_id USER — the id of USER's most recent session, as its start script recorded it in
# $SS_OUT/ids.USER (the scripts of these scenarios do that).
pol_last_id() {
        ss_file "$SS_OUT/ids.$1" | tail -n1
}

# pol_list_ids [USER] — the session ids ListSessions shows (as root, or as USER), one per line.
pol_list_ids() {
        local out
        if [ $# -gt 0 ]; then
                out=$(bed_exec_user "$1" busctl --system call "${SS_BUS_ARGS[@]}" ListSessions) || return 1
        else
                out=$(ss_call ListSessions) || return 1
        fi
        # a(ssutss) N "id" "user" uid since "start" "term" …: ids are the quoted tokens at 0, 4, …
        grep -o '"[^"]*"' <<<"$out" | awk 'NR % 4 == 1' | tr -d '"'
}

# pol_state_file ID — prints "present" or "absent" for the daemon's state file of session ID.
pol_state_file() {
        if bed_exec test -e "/run/session-scripts/sessions/$1"; then echo present; else echo absent; fi
}
