#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Stacks without pam_systemd: nothing but our scopes keeps the user's slice (user-UID.slice,
# StopWhenUnneeded=yes) alive, so when the SessionStart scopes are gone systemd queues a stop job
# for it, and SessionTermination's user-context scope must start anyway (no "Transaction … is
# destructive" failure). First a plain login (open, close); then a login whose close_session
# comes while alice's slice certainly has a stop job queued: a hook before our module in the
# stack logs alice in and out through pam_systemd (UserStopDelaySec=0, and user@.service takes
# 8 s to stop), queues the slice's stop job (which then waits for user@) and returns once
# `systemctl list-jobs` shows it. Each time both contexts of both events must run, with result "success" in
# their summary entries, and the user-context termination script's output must be there.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"

slow_user_stop() {
        mkdir -p "$1/etc/systemd/logind.conf.d" "$1/etc/systemd/system/user@.service.d"
        printf '[Login]\nUserStopDelaySec=0\n' >"$1/etc/systemd/logind.conf.d/ss-test.conf"
        printf '[Service]\nExecStopPost=/bin/sleep 8\n' >"$1/etc/systemd/system/user@.service.d/ss-slow-stop.conf"
}
scenario_begin slow_user_stop

ss_prepare_out
ss_install_recording_scripts 30 '$AppStream_Session_ID $(id -un)'
uid=$(bed_exec id -u alice)
cat >"$BED_ROOT/usr/local/bin/ss-queue-slice-stop" <<EOF
#!/bin/sh
# A pam_systemd login and logout of the same user: with UserStopDelaySec=0 logind stops
# user@UID.service at once, which takes 8 s here. The slice (StopWhenUnneeded=yes) would get its
# stop job once that is done; queue it now, as systemd does for an unneeded slice, so that it
# waits for user@ and stays queued for seconds. Returns once list-jobs shows it.
pamtester ss-logind alice open_session close_session >/dev/null 2>&1
systemctl stop --no-block user-$uid.slice
for i in \$(seq 100); do
        systemctl list-jobs --no-legend --no-pager | grep -q 'user-$uid\.slice *stop' && break
        sleep 0.05
done
systemctl list-jobs --no-legend --no-pager > $SS_OUT/jobs-at-close
EOF
chmod 0755 "$BED_ROOT/usr/local/bin/ss-queue-slice-stop"
bed_pam_service ss-logind "session required pam_systemd.so class=user"
bed_pam_service ss-plain "session optional pam_session_scripts.so debug"
bed_pam_service ss-plain-race "session optional pam_exec.so type=close_session /usr/local/bin/ss-queue-slice-stop
session optional pam_session_scripts.so debug"
ss_start_daemon

# plain_login NAME SERVICE — one pamtester login; asserts every run of its session succeeded.
plain_login() {
        local name=$1 service=$2 out sid sums jobs problems=()
        out=$(ss_login "$service" alice open_session close_session)
        ss_assert_eq "$(ss_result_field "$out" rc)" 0 "$name: pamtester exit status"
        if [ "$service" = ss-plain-race ]; then
                jobs=$(ss_file "$SS_OUT/jobs-at-close")
                echo "$name: jobs when our close_session began:"
                sed 's/^/  /' <<<"$jobs"
                grep -Eq "user-$uid\.slice +stop" <<<"$jobs" ||
                        bed_fail "$name: alice's slice had no stop job queued at close_session: the race was not set up"
        fi
        sid=$(bed_exec tail -n 1 "$SS_OUT/start.system.log" | cut -d' ' -f1)
        [ -n "$sid" ] || bed_fail "$name: SessionStart did not run"
        bed_wait_until 10 bed_exec grep -q "^$sid " "$SS_OUT/term.system.log" || true
        sums=$(ss_summaries "$sid")
        echo "$name: session $sid, summaries:"
        sed 's/^/  /' <<<"$sums"
        for want in "SessionStart system success" "SessionStart user success" \
                    "SessionTermination system success" "SessionTermination user success"; do
                [ "$(grep -cxF "$want" <<<"$sums")" = 1 ] || problems+=("no single '$want' summary")
        done
        [ "$(bed_exec grep -c "^$sid alice$" "$SS_OUT/term.user.log" || true)" = 1 ] ||
                problems+=("the user-context termination script did not run once as alice")
        if [ ${#problems[@]} -gt 0 ]; then
                bed_journal -o cat -u session-scripts.service | grep -F "$sid" | grep -iE 'fail|destructive|could not' >&2 || true
                bed_fail "$name: $(printf '%s; ' "${problems[@]}")"
        fi
        echo "ok: $name"
}

plain_login plain ss-plain

plain_login slice-stop-queued ss-plain-race

echo "OK: user-context SessionTermination runs without pam_systemd, also while the user's slice is stopping"
