#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The uploader as its real sandboxed unit against the bed's radosgw:
#  - without Bucket= it says so in the journal exactly once per service start (not per reload) and
#    idles;
#  - the sandbox is as tight as `systemd-analyze security` can tell;
#  - entries left before start-up are caught up (scan), new ones noticed without polling (inotify);
#  - keys with characters that need encoding arrive at exactly that key with exactly the bytes;
#  - an empty finished log becomes an empty object; a running log is uploaded while it grows (the
#    same object overwritten with the longer content) and completely once it finished; delivered
#    entries are removed from the spool (.log and .meta);
#  - a 256 MiB log arrives with the same SHA-256, with a small peak RSS of the uploader;
#  - the daemon's order (.meta first, .log right after): a running .meta alone is kept and delivered
#    once its log comes; crash leftovers (a .log without .meta, a running .meta without .log, both
#    older than 10 min) are removed with a journal line, young ones are left alone;
#  - an entry the uploader cannot read is kept and retried on its own; the entries beside it are
#    delivered and S3 is not reported failing;
#  - MaxSpoolSize bounds the backlog, not logs in transit: with S3 healthy nothing is evicted even
#    when the spool starts above the bound; with S3 unreachable the oldest undelivered entries are
#    evicted with a journal warning, never the newest, which is delivered once S3 is back.

source "$MESON_SOURCE_ROOT/tests/integration/upload/upload-lib.sh"
scenario_begin
up_setup
up_env_keys

# ---- No Bucket=: journal once, stay idle, touch nothing ----------------------------------------
mkdir -p "$BED_ROOT/etc/session-scripts"
printf '[S3]\nRegion=%s\n' "$S3_REGION" > "$BED_ROOT/etc/session-scripts/session-scripts.conf"
idle_id=$(up_new_id)
echo "kept" | up_entry "$idle_id" "idle/never.log" finished
no_bucket_count() {
        bed_exec journalctl -q -u "$UP_UNIT" -o cat | grep -c "No Bucket= configured" || true
}
# wait_no_bucket_count N — waits until the notice was journaled N times, then a little longer to see
# that no further one follows.
wait_no_bucket_count() {
        local end=$((SECONDS + 20))
        until [ "$(no_bucket_count)" -ge "$1" ]; do
                [ "$SECONDS" -lt "$end" ] || up_fail "no-Bucket= notice journaled $(no_bucket_count) times, want $1"
                sleep 0.5
        done
        sleep 3
        up_assert_eq "$(no_bucket_count)" "$1" "no-Bucket= notice exactly once per service start"
}
up_start
up_wait_journal 20 "No Bucket= configured"
wait_no_bucket_count 1
up_assert_eq "$(bed_exec systemctl is-active "$UP_UNIT")" active "uploader without Bucket= stays up"
up_assert_eq "$(up_spool_count)" 2 "without Bucket= nothing is touched"
# A reload (SIGHUP) is not a start: no second notice; a restart is.
bed_exec systemctl reload "$UP_UNIT" || up_fail "reload without Bucket= failed"
sleep 1
up_assert_eq "$(bed_exec systemctl is-active "$UP_UNIT")" active "uploader without Bucket= survives a reload"
wait_no_bucket_count 1
bed_exec systemctl restart "$UP_UNIT"
wait_no_bucket_count 2
up_assert_eq "$(up_spool_count)" 2 "without Bucket= nothing is touched after a restart"
up_stop
bed_exec rm -f "$UP_SPOOL/$idle_id.log" "$UP_SPOOL/$idle_id.meta"
up_settings

# ---- The sandbox ----------------------------------------------------------------------------------
security=$(bed_exec systemd-analyze security --no-pager "$UP_UNIT" 2>&1 || true)
echo "$security" | tail -n 3
exposure=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' <<<"$security")
[ -n "$exposure" ] || up_fail "systemd-analyze security printed no exposure level"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || up_fail "sandbox exposure $exposure > 2.0"

# ---- Catch-up at start-up and inotify afterwards ------------------------------------------------
hash=a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13
key_a="st ack/fl+eet/custom/$hash/sess=1&x/SessionScriptsLogs/SessionStart/system.log"
key_b="stack/fleet/custom/$hash/sess-2/SessionScriptsLogs/SessionTermination/user.log"
key_c="stack/fleet/custom/$hash/sess-3/SessionScriptsLogs/SessionStart/user.log"

id_a=$(up_new_id)
printf 'line one\nline two with ünïcode and \x01 control\n' | up_entry "$id_a" "$key_a" finished
id_b=$(up_new_id)
printf '' | up_entry "$id_b" "$key_b" finished

up_start
up_wait_empty 30
up_assert_eq "$(up_object "$key_a" | od -An -c | tr -s ' ')" \
        "$(printf 'line one\nline two with ünïcode and \x01 control\n' | od -An -c | tr -s ' ')" "object A content"
up_assert_eq "$(up_object_sha "$key_b")" "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
        "empty log → empty object"
s3_list "st ack/" | grep -qxF "$key_a" || up_fail "key A not listed exactly"

# A running entry, appearing while the uploader runs: uploaded while it grows, then completely.
id_c=$(up_new_id)
printf 'part 1\n' | up_log_append "$id_c"
up_meta "$id_c" "$key_c" running
end=$((SECONDS + 20))
until [ "$(s3_get "$key_c" 2>/dev/null || true)" = "part 1" ]; do
        [ "$SECONDS" -lt "$end" ] || up_fail "running entry not uploaded within 20 s"
        sleep 0.5
done
up_assert_eq "$(up_spool_count)" 2 "a running entry stays in the spool after its upload"
printf 'part 2\n' | up_log_append "$id_c"
end=$((SECONDS + 20))
until [ "$(s3_get "$key_c" 2>/dev/null || true)" = "$(printf 'part 1\npart 2')" ]; do
        [ "$SECONDS" -lt "$end" ] || up_fail "grown running entry not uploaded again within 20 s"
        sleep 0.5
done
printf 'part 3\n' | up_log_append "$id_c"
up_meta "$id_c" "$key_c" finished
up_wait_empty 20
up_assert_eq "$(up_object "$key_c")" "$(printf 'part 1\npart 2\npart 3')" "finished entry's final content"
bed_journal -u "$UP_UNIT" | grep -qF "Uploaded s3://$S3_BUCKET/$key_c" || up_fail "delivery not journaled"
# The uploader's own messages carry its identifier (journald does not add one to native messages).
bed_journal -t session-scripts-upload | grep -qF "Uploaded s3://$S3_BUCKET/$key_c" ||
        up_fail "the uploader's messages lack SYSLOG_IDENTIFIER=session-scripts-upload"

# ---- 256 MiB ----------------------------------------------------------------------------------------
key_big="stack/fleet/custom/$hash/sess-big/SessionScriptsLogs/SessionStart/system.log"
id_big=$(up_new_id)
pid=$(up_main_pid)
start=$(date +%s%N)
sum=$(up_big_entry "$id_big" "$key_big" 256)
up_wait_empty 180
ms=$(( ($(date +%s%N) - start) / 1000000 ))
up_assert_eq "$(up_object_sha "$key_big")" "$sum" "256 MiB object's SHA-256"
hwm=$(bed_exec sh -c "awk '/^VmHWM/ { print \$2 }' /proc/$pid/status")
echo "256 MiB log: delivered in ${ms} ms (incl. writing it), uploader VmHWM ${hwm} KiB"
[ "$hwm" -le $((32 * 1024)) ] || up_fail "uploader peak RSS ${hwm} KiB > 32 MiB while uploading 256 MiB"

# ---- The daemon's order and crash leftovers ----------------------------------------------------
up_stop
key_r="stack/fleet/custom/$hash/sess-meta-first/SessionScriptsLogs/SessionStart/system.log"
id_r=$(up_new_id)               # a running .meta whose .log is about to come: kept
up_meta "$id_r" "$key_r" running
id_stale=$(up_new_id)           # a running .meta without .log for 20 min: the daemon died in between
up_meta "$id_stale" "stack/fleet/custom/$hash/sess-stale/SessionScriptsLogs/SessionStart/user.log" running
bed_exec touch -d "-20 min" "$UP_SPOOL/$id_stale.meta"
id_orphan=$(up_new_id)          # a .log without .meta for 20 min: never uploadable (no key)
echo "orphan output" | up_log_append "$id_orphan"
bed_exec touch -d "-20 min" "$UP_SPOOL/$id_orphan.log"
id_young=$(up_new_id)           # a .log without .meta for a minute: its .meta may still come
echo "young output" | up_log_append "$id_young"
bed_exec touch -d "-1 min" "$UP_SPOOL/$id_young.log"
up_start
up_wait_journal 20 "Removed .*/$id_orphan\\.log .*without its \\.meta"
up_wait_journal 20 "Removed .*/$id_stale\\.meta"
sleep 2
bed_exec test -e "$UP_SPOOL/$id_orphan.log" && up_fail "leftover .log without .meta not removed"
bed_exec test -e "$UP_SPOOL/$id_stale.meta" && up_fail "leftover running .meta without .log not removed"
bed_exec test -e "$UP_SPOOL/$id_young.log" || up_fail "a young .log without .meta was removed"
bed_exec test -e "$UP_SPOOL/$id_r.meta" || up_fail "a running .meta waiting for its .log was removed"
# Now the daemon creates the .log, writes, finishes: delivered.
printf 'meta first\n' | up_log_append "$id_r"
up_meta "$id_r" "$key_r" finished
end=$((SECONDS + 20))
while bed_exec test -e "$UP_SPOOL/$id_r.meta"; do
        [ "$SECONDS" -lt "$end" ] || up_fail "entry whose .meta came first not delivered within 20 s"
        sleep 0.5
done
up_assert_eq "$(up_object "$key_r")" "meta first" "entry whose .meta came first"
bed_exec rm -f "$UP_SPOOL/$id_young.log"
up_assert_eq "$(up_spool_count)" 0 "spool empty after the leftovers"

# ---- One entry's own failure holds back only that entry -----------------------------------------
global_failures() {
        bed_exec journalctl -q -u "$UP_UNIT" -o cat | grep -c "^Uploading to s3://$S3_BUCKET failed" || true
}
failures_before=$(global_failures)
id_bad=$(up_new_id)
key_bad="stack/fleet/custom/$hash/sess-unreadable/SessionScriptsLogs/SessionStart/system.log"
echo "unreadable for the uploader" | up_log_append "$id_bad"
bed_exec chmod 0600 "$UP_SPOOL/$id_bad.log"
up_meta "$id_bad" "$key_bad" finished
up_wait_journal 20 "cannot read spool entry $id_bad"
ids_ok=()
for i in 1 2 3; do
        id=$(up_new_id)
        ids_ok+=("$id")
        echo "beside a broken entry $i" | up_entry "$id" "stack/fleet/custom/$hash/sess-beside-$i/SessionScriptsLogs/SessionStart/user.log" finished
done
end=$((SECONDS + 20))
until [ "$(up_spool_count)" = 2 ]; do
        [ "$SECONDS" -lt "$end" ] || up_fail "entries beside an unreadable one not delivered within 20 s"
        sleep 0.5
done
for i in 1 2 3; do
        up_assert_eq "$(up_object "stack/fleet/custom/$hash/sess-beside-$i/SessionScriptsLogs/SessionStart/user.log")" \
                "beside a broken entry $i" "entry $i beside an unreadable one"
done
up_assert_eq "$(global_failures)" "$failures_before" "one entry's failure reported as S3's"
bed_exec systemctl show -P StatusText "$UP_UNIT" | grep -q "failing" && up_fail "STATUS= shows S3 failing for one entry's trouble"
bed_exec test -e "$UP_SPOOL/$id_bad.log" || up_fail "the unreadable entry was removed"
bed_exec rm -f "$UP_SPOOL/$id_bad.log" "$UP_SPOOL/$id_bad.meta"

# ---- MaxSpoolSize bounds the backlog, not logs in transit ----------------------------------------
evicted_count() {
        bed_exec journalctl -q -u "$UP_UNIT" MESSAGE_ID=$UP_EVICTED_ID -o export | grep -c '^SESSION_SCRIPTS_OBJECT_KEY=' || true
}
# spool_entries ID-PREFIX — 3 finished entries of 600 KiB (1.8 MiB against MaxSpoolSize=1M), aged 3,
# 2 and 1 hours (entry 1 is the oldest); keys in keys[1..3], sha256s in sums[1..3].
spool_entries() {
        local i id data
        data=$(mktemp)
        for i in 1 2 3; do
                id=$(up_new_id)
                keys[$i]="stack/fleet/custom/$hash/$1-$i/SessionScriptsLogs/SessionStart/system.log"
                head -c $((600 * 1024)) /dev/urandom > "$data"
                sums[$i]=$(sha256sum < "$data" | cut -d' ' -f1)
                up_entry "$id" "${keys[$i]}" finished < "$data"
                bed_exec touch -d "-$((4 - i)) hours" "$UP_SPOOL/$id.log"
        done
        rm -f "$data"
}
keys=()
sums=()

# S3 healthy: the spool starts above the bound, but everything is delivered, nothing evicted.
up_stop
up_settings "MaxSpoolSize=1M"
spool_entries fits
up_start
up_wait_empty 30
sleep 1
up_assert_eq "$(evicted_count)" 0 "evictions while S3 is healthy"
for i in 1 2 3; do
        up_assert_eq "$(up_object_sha "${keys[$i]}")" "${sums[$i]}" "entry $i delivered while S3 is healthy"
done

# S3 unreachable (connection refused): the oldest undelivered entries go, the newest stays.
up_stop
s3_stop
spool_entries evict
up_start
up_wait_journal 30 "evicted the oldest undelivered log" MESSAGE_ID=$UP_EVICTED_ID
end=$((SECONDS + 30))
until [ "$(up_spool_count)" = 2 ]; do
        [ "$SECONDS" -lt "$end" ] || up_fail "spool not down to one entry while S3 is unreachable ($(up_spool_count) files)"
        sleep 0.5
done
sleep 2
up_assert_eq "$(evicted_count)" 2 "two entries evicted while S3 is unreachable"
bed_exec journalctl -q -u "$UP_UNIT" MESSAGE_ID=$UP_EVICTED_ID -o export | grep -qxF "SESSION_SCRIPTS_OBJECT_KEY=${keys[3]}" &&
        up_fail "the newest entry was evicted"
up_assert_eq "$(up_spool_count)" 2 "the newest entry is kept while S3 is unreachable"
s3_resume
up_wait_empty 60
s3_get "${keys[1]}" >/dev/null 2>&1 && up_fail "oldest entry was uploaded instead of evicted"
s3_get "${keys[2]}" >/dev/null 2>&1 && up_fail "second oldest entry was uploaded instead of evicted"
up_assert_eq "$(up_object_sha "${keys[3]}")" "${sums[3]}" "newest entry delivered after S3 came back"
up_assert_eq "$(evicted_count)" 2 "no eviction after S3 came back"

echo "upload-basic: OK"
