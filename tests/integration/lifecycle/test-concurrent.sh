#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Multi-session: 20 users (user01…user20) log in at the same time, each session's start script
# takes 2 s. Sessions are independent, so all logins finish in far less than the 40 s a serialised
# daemon would need; the daemon answers the bus meanwhile.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

N=20
LIMIT_MS=15000  # 20 × 2 s = 40 s serialised; independent sessions need a little over 2 s

ss_prepare_out
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
sleep 2
echo "$AppStream_Session_ID" > /var/tmp/ss-out/$USER.start
EOF
ss_install_script term-system.sh <<'EOF'
#!/bin/sh
echo "$AppStream_UserName" > /var/tmp/ss-out/$AppStream_UserName.term
EOF
ss_install_config <<EOF
{
  "SessionStart": { "executables": [ { "context": "user", "filename": "$SS_DIR/start-user.sh" } ], "waitingTime": 30 },
  "SessionTermination": { "executables": [ { "context": "system", "filename": "$SS_DIR/term-system.sh" } ], "waitingTime": 30 }
}
EOF
ss_pam_stack ss-multi
ss_start_daemon

out=$(bed_exec bash -c '
        n=$1
        s=$(date +%s%N)
        for i in $(seq -f "%02g" 1 "$n"); do
                pamtester ss-multi "user$i" open_session close_session > /var/tmp/ss-out/pamtester.user$i 2>&1 &
        done
        # While they run, the daemon answers the bus at once: poll ListSessions, keep the listing
        # that showed the most sessions and the slowest answer.
        best=0 slowest=0
        for _ in $(seq 30); do
                b=$(date +%s%N)
                l=$(busctl call org.sessionscripts.SessionScripts1 /org/sessionscripts/SessionScripts1 \
                        org.sessionscripts.Manager1 ListSessions)
                d=$(( ($(date +%s%N) - b) / 1000000 ))
                [ $d -gt $slowest ] && slowest=$d
                c=$(grep -o "\"user[0-9][0-9]\"" <<<"$l" | sort -u | wc -l)
                if [ $c -gt $best ]; then best=$c; echo "$l" > /var/tmp/ss-out/list-during; fi
                [ $c -ge $n ] && break
                sleep 0.1
        done
        echo "ListSessions while the scripts ran: up to $best sessions listed, slowest answer $slowest ms"
        echo "SS_LIST best=$best slowest=$slowest"
        fail=0
        for job in $(jobs -p); do wait "$job" || fail=$((fail + 1)); done
        e=$(date +%s%N)
        echo "SS_RESULT rc=$fail ms=$(( (e - s) / 1000000 ))"' bash $N)
echo "$out"
ms=$(ss_result_field "$out" ms)
echo "$N concurrent logins with a 2 s start script each took $ms ms"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "every pamtester succeeded"
[ "$ms" -lt $LIMIT_MS ] || bed_fail "$N concurrent logins took $ms ms (limit $LIMIT_MS ms): sessions are serialised"
[ "$ms" -ge 2000 ] || bed_fail "logins returned after $ms ms, before their 2 s start scripts ended"

best=$(sed -n 's/^SS_LIST best=\([0-9]*\).*/\1/p' <<<"$out")
slowest=$(sed -n 's/^SS_LIST .*slowest=\([0-9]*\).*/\1/p' <<<"$out")
[ "${best:-0}" -ge 1 ] || bed_fail "ListSessions never showed a session while the logins ran"
[ "${slowest:-99999}" -lt 1000 ] || bed_fail "the daemon took $slowest ms to answer ListSessions while scripts ran"

for i in $(seq -f "%02g" 1 $N); do
        [ -n "$(ss_file $SS_OUT/user$i.start)" ] || bed_fail "start script of user$i did not run"
        ss_assert_eq "$(ss_file $SS_OUT/user$i.term)" "user$i" "termination of user$i"
        ss_assert_contains "$(ss_file $SS_OUT/pamtester.user$i)" "successfully opened a session" "user$i"
done

echo "OK: $N concurrent sessions in $ms ms"
