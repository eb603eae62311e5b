#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A user fills the log spool: S3 is unreachable (the endpoint refuses connections, the uploader
# keeps failing), MaxSpoolSize=64M, and alice's user-context start script writes as fast as it can
# for a while — first `yes | head -c 300M` (many short lines), then 20 MiB blocks of short lines
# and 4 MiB lines without a newline. Asserted: the spool (the sum of its files' sizes, sampled
# every 0.2 s from the host and at the end) never exceeds 64 MiB plus 64 KiB of slack (a .meta
# being rewritten has a temporary copy for a moment); alice's log was filled (≥ 56 MiB: the
# flood did reach the spool) and ends with the truncation line; her run's summary is journaled;
# bob, logging in during the flood, still gets his script's line into his own spool entry, whole,
# and the uploader evicts nothing. Without the daemon's bound the spool passed 160 MiB within
# seconds and the failing uploader evicted bob's finished log to make room.

source "$MESON_SOURCE_ROOT/tests/integration/adversarial/adversarial-lib.sh"
scenario_begin

SPOOL=/var/lib/session-scripts/spool
MAX=$((64 * 1024 * 1024))
SLACK=$((64 * 1024))
MARKER="session-scripts: output truncated: the log spool is full (MaxSpoolSize=$MAX)"
FLOOD_SECS=20

# S3 "configured" but unreachable: nothing listens on port 9 (discard) of the shared network.
ss_install_settings <<'EOF2'
[S3]
Bucket=flood-bucket
Region=us-east-1
Endpoint=http://127.0.0.1:9
MaxSpoolSize=64M
EOF2
printf 'AWS_ACCESS_KEY_ID=AKIAFLOODTEST\nAWS_SECRET_ACCESS_KEY=flood-secret\nAWS_EC2_METADATA_DISABLED=true\n' \
        > "$BED_ROOT/etc/session-scripts/upload.env"
chmod 0600 "$BED_ROOT/etc/session-scripts/upload.env"
bed_exec systemd-sysusers >/dev/null 2>&1 || true

ss_prepare_out
ss_install_script start-user.sh <<EOF2
#!/bin/bash
if [ "\$AppStream_Session_ID" = flood-alice ]; then
        echo "flood starts"
        touch $SS_OUT/flooding
        yes | head -c 300M
        end=\$((SECONDS + $FLOOD_SECS))
        while [ \$SECONDS -lt \$end ]; do
                yes "flood flood flood flood" | head -c 20M
                head -c 4M /dev/zero | tr '\\0' x
        done
        echo "flood ends"
        touch $SS_OUT/flood-done
        exit 0
fi
echo "bob-line \$AppStream_Session_ID as \$(id -un)"
EOF2
ss_install_config <<EOF2
{ "SessionStart": { "executables": [ { "context": "user", "filename": "$SS_DIR/start-user.sh", "s3LogEnabled": true } ],
                    "waitingTime": 60 } }
EOF2
for u in alice bob; do
        printf 'AppStream_Session_ID DEFAULT=flood-%s\n' "$u" > "$BED_ROOT/etc/ss-flood-$u.conf"
        ss_pam_stack "ss-flood-$u" "" "session required pam_env.so readenv=0 conffile=/etc/ss-flood-$u.conf"
done

ss_start_daemon
bed_exec systemctl start session-scripts-upload.service || bed_fail "the uploader did not start"

# The spool's size as the daemon and the uploader count it: the sum of its regular files' sizes.
spool_bytes() {
        find "$BED_ROOT$SPOOL" -maxdepth 1 -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# spool_entry SESSION_ID — the run id of the session's entry (from its .meta).
spool_entry() {
        bed_exec sh -c 'grep -lx "SESSION_ID=$1" '"$SPOOL"'/*.meta | head -n1 | xargs -r basename -s .meta' sh "$1"
}

# Sampler: the largest size seen, every 0.2 s until told to stop.
rm -f "$BED_TMP/sampler-stop"
(
        peak=0 n=0
        while [ ! -e "$BED_TMP/sampler-stop" ]; do
                b=$(spool_bytes)
                [ "$b" -gt "$peak" ] && peak=$b
                n=$((n + 1))
                echo "$peak $n" > "$BED_TMP/sampler-peak.tmp"
                mv "$BED_TMP/sampler-peak.tmp" "$BED_TMP/sampler-peak"
                sleep 0.2
        done
) &
sampler=$!

ss_login ss-flood-alice alice open_session close_session > "$BED_TMP/alice.out" 2>&1 &
alice_login=$!

ss_wait_for 30 test -e "$SS_OUT/flooding" || bed_fail "alice's flood never started"
sleep 5
bed_log "flooding; spool now $(spool_bytes) bytes; bob logs in"
out=$(ss_login ss-flood-bob bob open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "bob's login during the flood"
bob_ms=$(ss_result_field "$out" ms)
ss_assert_eq "$(bed_exec test -e "$SS_OUT/flood-done" && echo done || echo running)" running \
        "the flood was still going on during bob's login"

wait "$alice_login" || true
cat "$BED_TMP/alice.out"
ss_assert_eq "$(ss_result_field "$(cat "$BED_TMP/alice.out")" rc)" 0 "alice's login"
ss_wait_for 30 test -e "$SS_OUT/flood-done" || bed_fail "alice's flood did not end"

# The run's summary is journaled (the daemon saw the run end, after all of its output).
ss_wait_for 30 sh -c 'journalctl -q -o export MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 \
        SESSION_SCRIPTS_SESSION_ID=flood-alice | grep -q "^SESSION_SCRIPTS_RESULT="' ||
        bed_fail "no summary entry of alice's run"
summary=$(ss_summaries flood-alice)
echo "alice's summary: $summary"
ss_assert_eq "$summary" "SessionStart user success" "alice's run summary"
ss_assert_eq "$(bed_journal -o cat | grep -cx "flood starts" || true)" 1 "the flood's first line in the journal"

# Entries are marked finished by the daemon's sync thread: wait for alice's (bob's finished long
# ago), then stop sampling.
alice_id=$(spool_entry flood-alice)
[ -n "$alice_id" ] || bed_fail "alice's run has no spool entry"
ss_wait_for 30 grep -qx STATE=finished "$SPOOL/$alice_id.meta" || bed_fail "alice's entry never finished"

touch "$BED_TMP/sampler-stop"
wait "$sampler" || true
read -r peak samples < "$BED_TMP/sampler-peak"
final=$(spool_bytes)
alice_size=$(stat -c %s "$BED_ROOT$SPOOL/$alice_id.log")
bed_exec ls -l "$SPOOL"
bed_log "spool: peak $peak bytes over $samples samples, final $final bytes (bound $MAX + $SLACK); alice's log $alice_size bytes; bob's login $bob_ms ms"

[ "$samples" -ge 20 ] || bed_fail "only $samples samples of the spool's size"
[ "$peak" -le $((MAX + SLACK)) ] || bed_fail "the spool reached $peak bytes, above MaxSpoolSize=$MAX (+ $SLACK)"
[ "$final" -le "$MAX" ] || bed_fail "the spool holds $final bytes at the end, above MaxSpoolSize=$MAX"
[ "$alice_size" -ge $((56 * 1024 * 1024)) ] || bed_fail "alice's log has only $alice_size bytes: the flood did not fill the spool"

# Bob's log is there (not evicted by the uploader to make room, as it was before the daemon held
# the bound) and finished.
bob_id=$(spool_entry flood-bob)
[ -n "$bob_id" ] || bed_fail "bob's run has no spool entry"
ss_wait_for 30 grep -qx STATE=finished "$SPOOL/$bob_id.meta" || bed_fail "bob's entry never finished"

last=$(tail -n 1 "$BED_ROOT$SPOOL/$alice_id.log")
ss_assert_eq "$last" "$MARKER" "the last line of alice's log"
ss_assert_eq "$(grep -cF "session-scripts: output truncated" "$BED_ROOT$SPOOL/$alice_id.log")" 1 "truncation lines in alice's log"
ss_assert_eq "$(grep -c "flood ends" "$BED_ROOT$SPOOL/$alice_id.log" || true)" 0 "alice's output after the cut in the spool"

bob_log=$(cat "$BED_ROOT$SPOOL/$bob_id.log")
ss_assert_eq "$bob_log" "bob-line flood-bob as bob" "bob's spooled log"
ss_assert_contains "$(cat "$BED_ROOT$SPOOL/$bob_id.meta")" "USER=bob" "bob's entry is his"

# The uploader kept failing and evicted nothing (the daemon kept the spool within the bound).
ss_assert_eq "$(bed_journal -o cat -u session-scripts-upload.service | grep -c "evicted" || true)" 0 "evictions"
bed_log "spool flood contained"
