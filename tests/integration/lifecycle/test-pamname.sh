#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# PAMName= units (how run0, machinectl shell and services with PAMName= log in):
# `systemd-run --uid=alice -p PAMName=ss-test --wait true` opens the session as root, but systemd
# calls close_session from its unprivileged (sd-pam) helper, so the daemon refuses that
# CloseSession; the session has a logind session (pam_systemd is in the stack) and ends when logind
# says it is closing or gone. SessionStart and SessionTermination each run exactly once, in both
# contexts: for a unit that ends at once (`true`) and for one that lives 2 s (`sleep 2`).
# An unprivileged caller still cannot end a session: alice's own CloseSession of a session that
# is open is refused and the termination does not run before the session really ends.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

ss_prepare_out
ss_install_recording_scripts 10 '$AppStream_Session_ID $AppStream_UserName $(date +%s%N)'
ss_pam_stack ss-test
ss_start_daemon

# count FILE SESSION-ID — lines of a session in $SS_OUT/FILE.log.
count() {
        bed_exec sh -c 'grep -c "^$2 " "$1" || true' sh "$SS_OUT/$1.log" "$2"
}

# pamname_unit NAME CMD… — one PAMName= unit for alice; checks that each of the four scripts ran
# exactly once for its session, the terminations within 10 s of the unit's end.
pamname_unit() {
        local name=$1 sid before ended f n
        shift
        before=$(bed_exec sh -c "cat $SS_OUT/start.system.log | wc -l")
        bed_log "$name: systemd-run --uid=alice -p PAMName=ss-test --wait $*"
        bed_exec systemd-run --quiet --uid=alice -p PAMName=ss-test --unit="$name" --wait "$@" ||
                bed_fail "$name: systemd-run failed"
        ended=$(bed__now)
        sid=$(bed_exec sed -n "$((before + 1))p" "$SS_OUT/start.system.log" | cut -d' ' -f1)
        [ -n "$sid" ] || bed_fail "$name: SessionStart did not run"
        # The termination comes from logind's word on the session (close_session from the
        # unprivileged helper is refused): allow it a few seconds.
        term_ran() { [ "$(count term.system "$sid")" -ge 1 ] && [ "$(count term.user "$sid")" -ge 1 ]; }
        bed_wait_until 10 term_ran ||
                bed_fail "$name: SessionTermination of session $sid did not run within 10 s of the unit's end"
        bed_log "$name: session $sid terminated $(bed__elapsed "$ended") s after the unit ended"
        # Late duplicates (close_session retried, logind's "closing" and "gone" both seen, …).
        sleep 3
        for f in start.system start.user term.system term.user; do
                n=$(count "$f" "$sid")
                [ "$n" = 1 ] || bed_fail "$name: $f ran $n times for session $sid (expected exactly once)"
        done
        ss_assert_eq "$(bed_exec sh -c "grep -h '^$sid ' $SS_OUT/*.log | cut -d' ' -f2 | sort -u")" alice "$name: user"
        echo "ok: $name (session $sid): start and termination each ran once in both contexts"
}

pamname_unit ss-pamname-true true
pamname_unit ss-pamname-sleep sleep 2

# The logind path must not give unprivileged callers a way to end a session: alice's CloseSession
# of her own open session is refused and runs nothing.
bed_exec systemd-run --quiet --uid=alice -p PAMName=ss-test --unit=ss-pamname-long sleep 30 ||
        bed_fail "cannot start ss-pamname-long"
bed_wait_until 10 bed_exec sh -c "[ \$(wc -l < $SS_OUT/start.user.log) -ge 3 ]" || bed_fail "ss-pamname-long: no SessionStart"
sid=$(bed_exec tail -n 1 "$SS_OUT/start.system.log" | cut -d' ' -f1)
out=$(bed_exec_user alice busctl call "${SS_BUS_ARGS[@]}" CloseSession "sa{ss}" "$sid" 0 2>&1) &&
        bed_fail "alice's own CloseSession of session $sid succeeded: $out"
sleep 2
ss_assert_eq "$(count term.system "$sid")" 0 "termination after alice's refused CloseSession"
bed_exec systemctl stop ss-pamname-long.service
bed_wait_until 10 bed_exec sh -c "grep -q '^$sid ' $SS_OUT/term.user.log" ||
        bed_fail "ss-pamname-long: SessionTermination did not run after the unit was stopped"
sleep 2
ss_assert_eq "$(count term.system "$sid")" 1 "ss-pamname-long: system termination runs"
ss_assert_eq "$(count term.user "$sid")" 1 "ss-pamname-long: user termination runs"

echo "OK: PAMName= sessions end exactly once"
