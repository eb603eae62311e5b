#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Scripts start with the resource limits systemd gives the units it starts, not the daemon's: the
# /proc/self/limits of alice's user-context start script equals that of
# `systemd-run --wait --pipe -p User=alice cat /proc/self/limits` (a service running as alice) in
# the same container, and the system-context script's equals a root service's — every line, soft
# and hard. Then session-scripts.service gets drop-ins with very different limits
# (LimitNOFILE=100:infinity, LimitCORE=infinity, LimitSTACK=1M:infinity; and, where the container
# lets root raise hard limits, LimitNOFILE=100:200, LimitNPROC=77, LimitMEMLOCK=64K); the daemon
# runs with them (checked in its /proc/PID/limits) and the scripts of the next login still have
# exactly the reference limits. Before, a script inherited all of the daemon's limits but the
# RLIMIT_NOFILE soft limit: the drop-in's CORE and STACK reached the scripts (and on a machine
# whose root may raise hard limits, the unit's LimitNOFILE= was the scripts' hard limit).

source "$MESON_SOURCE_ROOT/tests/integration/adversarial/adversarial-lib.sh"
scenario_begin

ss_prepare_out
ss_install_script start.sh <<EOF2
#!/bin/sh
cat /proc/self/limits > $SS_OUT/limits.\$AppStream_Session_Context.\$AppStream_Session_ID
echo "limits recorded"
EOF2
ss_install_config <<EOF2
{ "SessionStart": { "executables": [ { "context": "system", "filename": "$SS_DIR/start.sh" },
                                     { "context": "user", "filename": "$SS_DIR/start.sh" } ],
                    "waitingTime": 20 } }
EOF2
ss_pam_stack ss-rlimits "" "session required pam_env.so readenv=0 conffile=/etc/ss-rlimits.conf"

ref_user=$(bed_exec systemd-run --wait --pipe --quiet -p User=alice cat /proc/self/limits)
ref_root=$(bed_exec systemd-run --wait --pipe --quiet cat /proc/self/limits)
echo "reference (a service as alice):"
echo "$ref_user"

# limit_line LIMITS NAME — the "Max …" line of NAME, blanks squeezed.
limit_line() {
        grep -F "$2" <<<"$1" | tr -s ' '
}

# login SID — alice logs in; prints nothing, fails unless both scripts recorded their limits.
login() {
        printf 'AppStream_Session_ID DEFAULT=%s\n' "$1" > "$BED_ROOT/etc/ss-rlimits.conf"
        local out
        out=$(ss_login ss-rlimits alice open_session close_session)
        ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice's login ($1)"
        ss_wait_for 20 test -s "$SS_OUT/limits.user.$1" || bed_fail "the user-context script did not record its limits ($1)"
        ss_wait_for 20 test -s "$SS_OUT/limits.system.$1" || bed_fail "the system-context script did not record its limits ($1)"
}

# check SID WHAT — both scripts' limits equal the references, every line.
check() {
        local user system
        user=$(ss_file "$SS_OUT/limits.user.$1")
        system=$(ss_file "$SS_OUT/limits.system.$1")
        echo "user-context script ($2):"
        echo "$user"
        [ "$user" = "$ref_user" ] ||
                bed_fail "$2: the user-context script's limits differ from a service's as alice:"$'\n'"$(diff <(echo "$ref_user") <(echo "$user") || true)"
        [ "$system" = "$ref_root" ] ||
                bed_fail "$2: the system-context script's limits differ from a root service's:"$'\n'"$(diff <(echo "$ref_root") <(echo "$system") || true)"
}

daemon_limits() {
        bed_exec cat "/proc/$(ss_daemon_pid)/limits"
}

# ---- The packaged unit (it raises LimitNOFILE=) --------------------------------------------------
ss_start_daemon
own=$(daemon_limits)
echo "the daemon's own limits:"
echo "$own"
[ "$(limit_line "$own" "Max open files")" != "$(limit_line "$ref_user" "Max open files")" ] ||
        bed_fail "the reference NOFILE equals the daemon's: this scenario would prove nothing"
login rl-packaged
check rl-packaged "packaged unit"

# ---- Drop-ins with very different limits on the daemon -------------------------------------------
# dropin NAME LINES — the daemon restarted with these Limit…= lines; prints its limits.
dropin() {
        mkdir -p "$BED_ROOT/etc/systemd/system/session-scripts.service.d"
        printf '[Service]\n%s\n' "$2" > "$BED_ROOT/etc/systemd/system/session-scripts.service.d/50-limits.conf"
        bed_exec systemctl daemon-reload
        bed_exec systemctl restart session-scripts.service || bed_fail "the daemon did not restart with the $1 drop-in"
        daemon_limits
}

# Soft limits far from the defaults (a hard limit can only be raised where the container lets
# PID 1 raise it, so "infinity" means as high as it goes here).
own=$(dropin soft "LimitNOFILE=100:infinity
LimitCORE=infinity
LimitSTACK=1M:infinity")
echo "the daemon's own limits now:"
echo "$own"
ss_assert_contains "$(limit_line "$own" "Max open files")" "Max open files 100 " "the daemon's NOFILE from the drop-in"
ss_assert_eq "$(limit_line "$own" "Max core file size")" "Max core file size unlimited unlimited bytes " "the daemon's CORE from the drop-in"
ss_assert_contains "$(limit_line "$own" "Max stack size")" "Max stack size 1048576 " "the daemon's STACK from the drop-in"
login rl-soft
check rl-soft "daemon with low and high soft limits"

# Hard limits below the defaults: the scripts get the defaults back only when the daemon may raise
# hard limits (CAP_SYS_RESOURCE; a booted machine's root has it, the test bed's container may not).
if bed_exec sh -c 'cap=$(sed -n "s/^CapEff:[[:space:]]*//p" /proc/1/status); [ $(( (0x$cap >> 24) & 1 )) = 1 ]'; then
        own=$(dropin hard "LimitNOFILE=100:200
LimitNPROC=77
LimitMEMLOCK=64K")
        echo "$own"
        ss_assert_eq "$(limit_line "$own" "Max open files")" "Max open files 100 200 files " "the daemon's NOFILE from the drop-in"
        ss_assert_eq "$(limit_line "$own" "Max processes")" "Max processes 77 77 processes " "the daemon's NPROC from the drop-in"
        login rl-hard
        check rl-hard "daemon with low hard limits"
else
        bed_log "the container has no CAP_SYS_RESOURCE: lowered hard limits cannot be raised back here, not tried"
fi

bed_log "scripts start with systemd's default limits, whatever the daemon's unit sets"
