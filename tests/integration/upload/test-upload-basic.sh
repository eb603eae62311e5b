#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The uploader as its real sandboxed unit against the bed's radosgw:
#  - without Bucket= it says so once in the journal and idles;
#  - the sandbox is as tight as `systemd-analyze security` can tell;
#  - entries left before start-up are caught up (scan), new ones noticed without polling (inotify);
#  - keys with characters that need encoding arrive at exactly that key with exactly the bytes;
#  - an empty finished log becomes an empty object; a running log is uploaded while it grows (the
#    same object overwritten with the longer content) and completely once it finished; delivered
#    entries are removed from the spool (.log and .meta);
#  - a 256 MiB log arrives with the same SHA-256, with a small peak RSS of the uploader;
#  - above MaxSpoolSize the oldest finished entries are evicted with a journal warning.

set -euo pipefail
source "$MESON_SOURCE_ROOT/tests/integration/bed.sh"
source "$MESON_SOURCE_ROOT/tests/integration/upload/upload-lib.sh"
bed_init
bed_boot
up_setup
up_env_keys

# ---- No Bucket=: journal once, stay idle, touch nothing ----------------------------------------
mkdir -p "$BED_ROOT/etc/session-scripts"
printf '[S3]\nRegion=%s\n' "$S3_REGION" > "$BED_ROOT/etc/session-scripts/session-scripts.conf"
idle_id=$(up_new_id)
echo "kept" | up_entry "$idle_id" "idle/never.log" finished
up_start
up_wait_journal 20 "No Bucket= configured"
up_assert_eq "$(bed_exec systemctl is-active "$UP_UNIT")" active "uploader without Bucket= stays up"
up_assert_eq "$(up_spool_count)" 2 "without Bucket= nothing is touched"
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

# ---- MaxSpoolSize: the oldest finished entries go first ------------------------------------------
up_stop
up_settings "MaxSpoolSize=1M"
keys=()
for i in 1 2 3; do
        id=$(up_new_id)
        keys[$i]="stack/fleet/custom/$hash/evict-$i/SessionScriptsLogs/SessionStart/system.log"
        head -c $((600 * 1024)) /dev/urandom | up_entry "$id" "${keys[$i]}" finished
        # Ages 3, 2 and 1 hours: entry 1 is the oldest.
        bed_exec touch -d "-$((4 - i)) hours" "$UP_SPOOL/$id.log"
done
up_start
up_wait_empty 30
up_wait_journal 10 "evicted the oldest finished log" MESSAGE_ID=$UP_EVICTED_ID
evicted=$(bed_exec journalctl -q -u "$UP_UNIT" MESSAGE_ID=$UP_EVICTED_ID -o export | grep -c '^SESSION_SCRIPTS_OBJECT_KEY=' || true)
up_assert_eq "$evicted" 2 "two entries evicted"
s3_get "${keys[1]}" >/dev/null 2>&1 && up_fail "oldest entry was uploaded instead of evicted"
s3_get "${keys[2]}" >/dev/null 2>&1 && up_fail "second oldest entry was uploaded instead of evicted"
s3_get "${keys[3]}" >/dev/null 2>&1 || up_fail "newest entry was not delivered"

echo "upload-basic: OK"
