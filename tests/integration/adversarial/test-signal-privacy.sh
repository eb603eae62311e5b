#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bob, an unprivileged user, listens to the daemon's signals to learn other users' session ids:
#   - with the attacker's own command, `dbus-monitor --system "type='signal',sender=…"`;
#   - with a client that calls Subscribe() and prints whatever reaches its connection;
#   - with a client that only adds the match rule (no Subscribe).
# alice logs in and out meanwhile. None of bob's listeners sees alice's session id or her user name.
# The subscriptions do work: bob's subscriber sees his own session's signals, alice's subscriber
# sees her own (and not bob's), root's subscriber and root's `busctl monitor` see both sessions.
# A subscriber that disconnected gets nothing more, and Unsubscribe() ends a subscription (and only
# the caller's).

source "$MESON_SOURCE_ROOT/tests/integration/adversarial/adversarial-lib.sh"
source "$MESON_SOURCE_ROOT/tests/integration/policy/policy-lib.sh"
scenario_begin

TAB=$'\t'
SUBSCRIBER=$MESON_BUILD_ROOT/tests/integration/adversarial/ss-subscriber
[ -x "$SUBSCRIBER" ] || bed_fail "$SUBSCRIBER is not built (meson compile -C $MESON_BUILD_ROOT)"
install -D -m 0755 -o root -g root "$SUBSCRIBER" "$BED_ROOT/usr/local/bin/ss-subscriber"

ss_prepare_out
ss_install_script start.sh <<'EOF'
#!/bin/sh
echo "$AppStream_Session_ID" >> "/var/tmp/ss-out/ids.$AppStream_Session_User"
EOF
ss_install_script term.sh <<'EOF'
#!/bin/sh
exit 0
EOF
ss_install_config <<EOF
{
  "SessionStart": { "executables": [ { "context": "system", "filename": "$SS_DIR/start.sh" },
                                     { "context": "user", "filename": "$SS_DIR/term.sh" } ], "waitingTime": 10 },
  "SessionTermination": { "executables": [ { "context": "system", "filename": "$SS_DIR/term.sh" } ], "waitingTime": 10 }
}
EOF
ss_pam_stack ss-priv
ss_start_daemon
pol_monitor_start

# listen NAME USER CMD… — CMD as USER, a transient service writing its stdout to $SS_OUT/NAME.
listen() {
        local name=$1 user=$2
        shift 2
        bed_exec systemd-run --quiet --unit="ss-listen-$name" --collect -p User="$user" \
                -p StandardOutput="file:$SS_OUT/$name" -p StandardError="file:$SS_OUT/$name.err" "$@" ||
                bed_fail "cannot start the listener $name"
}

# wait_ready NAME — until the subscriber NAME printed READY (it subscribed and listens).
wait_ready() {
        ss_wait_for 10 grep -qx READY "$SS_OUT/$1" ||
                bed_fail "listener $1 did not get ready: $(ss_file "$SS_OUT/$1.err")"
}

listen bob-dbus-monitor bob dbus-monitor --system "type='signal',sender='org.sessionscripts.SessionScripts1'"
listen bob-subscriber bob /usr/local/bin/ss-subscriber
listen bob-match bob /usr/local/bin/ss-subscriber --no-subscribe
listen alice-subscriber alice /usr/local/bin/ss-subscriber
listen root-subscriber root /usr/local/bin/ss-subscriber
for n in bob-subscriber bob-match alice-subscriber root-subscriber; do
        wait_ready "$n"
done
# dbus-monitor prints its own NameAcquired once it is connected and its match is in place.
ss_wait_for 10 grep -q NameAcquired "$SS_OUT/bob-dbus-monitor" ||
        bed_fail "bob's dbus-monitor did not start: $(ss_file "$SS_OUT/bob-dbus-monitor.err")"

# alice logs in and out; then bob, for the positive control of his own subscriber.
out=$(ss_login ss-priv alice open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice's login"
out=$(ss_login ss-priv bob open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's login"
alice=$(pol_last_id alice)
bob=$(pol_last_id bob)
[ -n "$alice" ] && [ -n "$bob" ] || bed_fail "session ids not recorded (alice '$alice', bob '$bob')"
echo "alice's session: $alice, bob's session: $bob"
ss_wait_for 15 grep -q "^SessionEnded$TAB$bob" "$SS_OUT/root-subscriber" ||
        bed_fail "root's subscriber never got bob's SessionEnded"
sleep 1

for n in bob-dbus-monitor bob-subscriber bob-match alice-subscriber root-subscriber; do
        echo "---- $n:"
        ss_file "$SS_OUT/$n"
done

# ---- bob learns nothing about alice --------------------------------------------------------------
for n in bob-dbus-monitor bob-subscriber bob-match; do
        seen=$(ss_file "$SS_OUT/$n")
        ss_assert_not_contains "$seen" "$alice" "alice's session id in bob's $n"
        ss_assert_not_contains "$seen" "alice" "alice's user name in bob's $n"
done
ss_assert_not_contains "$(ss_file "$SS_OUT/bob-dbus-monitor")" "org.sessionscripts.Manager1" \
        "a signal of the daemon reached bob's dbus-monitor"
ss_assert_eq "$(ss_file "$SS_OUT/bob-match" | grep -cv '^READY$' || true)" 0 "signals reaching bob's match-only client"

# ---- the subscriptions work ----------------------------------------------------------------------
# Each subscriber sees the full sequence of its own sessions: SessionStarted, two RunStarted, two
# RunFinished, the termination's RunStarted/RunFinished, SessionEnded.
sequence() {
        ss_file "$SS_OUT/$1" | awk -F'\t' -v id="$2" '$2 == id { printf "%s ", $1 }' | sed 's/ $//'
}
expected="SessionStarted RunStarted RunStarted RunFinished RunFinished RunStarted RunFinished SessionEnded"
ss_assert_eq "$(sequence bob-subscriber "$bob")" "$expected" "bob's subscriber, bob's session"
ss_assert_eq "$(sequence alice-subscriber "$alice")" "$expected" "alice's subscriber, alice's session"
ss_assert_eq "$(sequence alice-subscriber "$bob")" "" "alice's subscriber, bob's session"
ss_assert_not_contains "$(ss_file "$SS_OUT/alice-subscriber")" "bob" "bob's user name in alice's subscriber"
ss_assert_contains "$(ss_file "$SS_OUT/alice-subscriber")" "SessionStarted$TAB$alice${TAB}alice" "alice's SessionStarted"
ss_assert_eq "$(sequence root-subscriber "$alice")" "$expected" "root's subscriber, alice's session"
ss_assert_eq "$(sequence root-subscriber "$bob")" "$expected" "root's subscriber, bob's session"

# root's busctl monitor sees every signal once (the daemon's own copy).
pol_monitor_stop
signals=$(pol_signals)
echo "root's monitor:"
echo "$signals"
for id in "$alice" "$bob"; do
        ss_assert_eq "$(awk -F'\t' -v id="$id" '$2 == id { printf "%s ", $1 }' <<<"$signals" | sed 's/ $//')" \
                "$expected" "root's busctl monitor, session $id"
done

# ---- leaving: a disconnected subscriber is dropped, Unsubscribe ends a subscription --------------
bed_exec systemctl stop ss-listen-alice-subscriber.service
before=$(ss_file "$SS_OUT/bob-subscriber" | wc -l)
bed_exec_user bob busctl --system call "${SS_BUS_ARGS[@]}" Unsubscribe || bed_fail "bob's Unsubscribe failed"
# (busctl is a new connection, not the subscriber: bob's subscriber stays subscribed.)
out=$(ss_login ss-priv bob open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's second login"
bob2=$(pol_last_id bob)
ss_wait_for 15 grep -q "^SessionEnded$TAB$bob2" "$SS_OUT/bob-subscriber" ||
        bed_fail "bob's subscriber did not get his second session's signals"
ss_assert_eq "$(sequence bob-subscriber "$bob2")" "$expected" "bob's subscriber, bob's second session"
ss_assert_eq "$(ss_file "$SS_OUT/bob-subscriber" | wc -l)" $((before + 8)) "lines of bob's subscriber"

# A client that subscribed and unsubscribed gets nothing more; nor does one that disconnected
# (alice's subscriber, stopped above: alice logs in again).
listen bob-unsubscribed bob /usr/local/bin/ss-subscriber --unsubscribe
wait_ready bob-unsubscribed
out=$(ss_login ss-priv bob open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's third login"
out=$(ss_login ss-priv alice open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "alice's second login"
bob3=$(pol_last_id bob)
alice2=$(pol_last_id alice)
ss_wait_for 15 grep -q "^SessionEnded$TAB$alice2" "$SS_OUT/root-subscriber" ||
        bed_fail "root's subscriber never got alice's second SessionEnded"
sleep 1
ss_assert_eq "$(ss_file "$SS_OUT/bob-unsubscribed" | grep -cv '^READY$' || true)" 0 \
        "signals reaching bob's unsubscribed client"
ss_assert_eq "$(sequence alice-subscriber "$alice2")" "" "alice's disconnected subscriber"

echo "OK: bob saw neither alice's session id nor her name (dbus-monitor, subscriber, match rule);" \
        "alice's and bob's subscribers saw their own sessions, root's subscriber and busctl monitor both"
