#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Nothing is lost, whatever goes wrong ("Durability"):
#  - a wrong secret: nothing is deleted, the journal says why (S3's error code, catalog MESSAGE_ID,
#    once — not per retry) and never shows a secret; fixing upload.env and restarting delivers
#    everything; a wrong secret in the shared credentials file is picked up when the file is fixed,
#    without a restart;
#  - the S3 server unreachable while several entries arrive — frozen (connections hang, requests time
#    out) and stopped (connections refused) — all delivered after it is back, nothing evicted;
#  - the uploader SIGKILLed in the middle of a 256 MiB upload: systemd restarts it and the object
#    arrives complete (same SHA-256).

source "$MESON_SOURCE_ROOT/tests/integration/upload/upload-lib.sh"
scenario_begin
up_setup

prefix="stack/fleet/custom/a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13"
wrong_secret="WRONG-secret-$(up_new_id)"

# ---- A wrong secret in upload.env ----------------------------------------------------------------
up_env_keys "$wrong_secret"
up_start
ids=()
for i in 1 2 3; do
        id=$(up_new_id)
        ids+=("$id")
        echo "wrong secret entry $i" | up_entry "$id" "$prefix/wrong-$i/SessionScriptsLogs/SessionStart/system.log" finished
done
up_wait_journal 30 "SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied" MESSAGE_ID=$UP_FAILED_ID
sleep 8         # several retries (backoff 1 s, 2 s, 4 s …)
up_assert_eq "$(up_spool_count)" 6 "nothing deleted after 403s"
for i in 1 2 3; do
        s3_get "$prefix/wrong-$i/SessionScriptsLogs/SessionStart/system.log" >/dev/null 2>&1 &&
                up_fail "object uploaded with a wrong secret?"
done
journal=$(bed_exec journalctl -q -u "$UP_UNIT" -o verbose)
grep -qF -- "$wrong_secret" <<<"$journal" && up_fail "the secret appeared in the journal"
grep -qF -- "$S3_SECRET_KEY" <<<"$journal" && up_fail "the real secret appeared in the journal"
failures=$(bed_exec journalctl -q -u "$UP_UNIT" MESSAGE_ID=$UP_FAILED_ID | wc -l)
[ "$failures" -le 2 ] || up_fail "upload failure journaled $failures times (rate limit: once per change)"
bed_exec systemctl show -P StatusText "$UP_UNIT" | grep -q "failing" || up_fail "STATUS= does not show the failure"

up_env_keys
bed_exec systemctl restart "$UP_UNIT"
up_wait_empty 30
for i in 1 2 3; do
        up_assert_eq "$(up_object "$prefix/wrong-$i/SessionScriptsLogs/SessionStart/system.log")" \
                "wrong secret entry $i" "entry $i after fixing upload.env"
done

# ---- A wrong secret in the shared credentials file, fixed without a restart ---------------------
creds=/etc/session-scripts/aws-credentials
write_creds() {
        printf '# test\n[appstream_machine_role]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
                "$S3_ACCESS_KEY" "$1" > "$BED_ROOT$creds.tmp"
        bed_exec sh -c "chown root:session-scripts-upload $creds.tmp && chmod 0640 $creds.tmp && mv $creds.tmp $creds"
}
write_creds "$wrong_secret"
up_env "AWS_SHARED_CREDENTIALS_FILE=$creds
AWS_EC2_METADATA_DISABLED=true"
up_settings "Profile=appstream_machine_role"
bed_exec systemctl restart "$UP_UNIT"
id=$(up_new_id)
echo "credentials file entry" | up_entry "$id" "$prefix/file/SessionScriptsLogs/SessionStart/user.log" finished
sleep 5
up_assert_eq "$(up_spool_count)" 2 "nothing deleted with a wrong secret in the credentials file"
pid_before=$(up_main_pid)
write_creds "$S3_SECRET_KEY"
up_wait_empty 60
up_assert_eq "$(up_main_pid)" "$pid_before" "fixed without a restart"
up_assert_eq "$(up_object "$prefix/file/SessionScriptsLogs/SessionStart/user.log")" "credentials file entry" \
        "entry after fixing the credentials file"

# ---- S3 unreachable while entries arrive ---------------------------------------------------------
up_env_keys
up_settings
bed_exec systemctl restart "$UP_UNIT"
s3_pause
for i in 1 2 3 4 5; do
        id=$(up_new_id)
        echo "paused entry $i" | up_entry "$id" "$prefix/paused-$i/SessionScriptsLogs/SessionTermination/system.log" finished
        sleep 3
done
up_assert_eq "$(up_spool_count)" 10 "nothing deleted while S3 is away"
s3_resume
up_wait_empty 120
for i in 1 2 3 4 5; do
        up_assert_eq "$(up_object "$prefix/paused-$i/SessionScriptsLogs/SessionTermination/system.log")" \
                "paused entry $i" "entry $i after S3 came back"
done

# ---- S3 stopped (connection refused) while several sessions end ----------------------------------
s3_stop
for i in 1 2 3 4 5; do
        id=$(up_new_id)
        echo "stopped entry $i" | up_entry "$id" "$prefix/stopped-$i/SessionScriptsLogs/SessionStart/user.log" finished
        # A running entry of another session that finishes while S3 is away.
        if [ "$i" = 3 ]; then
                rid=$(up_new_id)
                up_meta "$rid" "$prefix/stopped-running/SessionScriptsLogs/SessionTermination/system.log" running
                echo "running while stopped" | up_log_append "$rid"
        fi
        sleep 2
done
up_meta "$rid" "$prefix/stopped-running/SessionScriptsLogs/SessionTermination/system.log" finished
up_wait_journal 20 "[Cc]onnect" MESSAGE_ID=$UP_FAILED_ID
up_assert_eq "$(up_spool_count)" 12 "nothing deleted while S3 refuses connections"
up_assert_eq "$(bed_exec systemctl is-active "$UP_UNIT")" active "uploader keeps running while S3 refuses connections"
s3_resume
up_wait_empty 120
for i in 1 2 3 4 5; do
        up_assert_eq "$(up_object "$prefix/stopped-$i/SessionScriptsLogs/SessionStart/user.log")" \
                "stopped entry $i" "entry $i after S3 was restarted"
done
up_assert_eq "$(up_object "$prefix/stopped-running/SessionScriptsLogs/SessionTermination/system.log")" \
        "running while stopped" "running entry after S3 was restarted"
evicted=$(bed_exec journalctl -q -u "$UP_UNIT" MESSAGE_ID=$UP_EVICTED_ID | wc -l)
up_assert_eq "$evicted" 0 "evictions while S3 was away (the spool stayed far below MaxSpoolSize)"

# ---- SIGKILL in the middle of a 256 MiB upload ---------------------------------------------------
key_big="$prefix/killed/SessionScriptsLogs/SessionStart/system.log"
killed=no
for attempt in 1 2 3; do
        up_stop
        id=$(up_new_id)
        sum=$(up_big_entry "$id" "$key_big" 256)
        restarts_before=$(bed_exec systemctl show -P NRestarts "$UP_UNIT")
        up_start
        pid=$(up_main_pid)
        # Wait until it read the whole log once (hashing) and is sending: then kill it.
        end=$((SECONDS + 30))
        while [ "$SECONDS" -lt "$end" ]; do
                rchar=$(bed_exec sh -c "sed -n 's/^rchar: //p' /proc/$pid/io 2>/dev/null" || true)
                [ -n "$rchar" ] && [ "$rchar" -gt $((256 * 1024 * 1024 + 8 * 1024 * 1024)) ] && break
                sleep 0.05
        done
        if [ "$(up_spool_count)" = 2 ]; then
                bed_exec kill -KILL "$pid"
                killed=yes
                echo "killed the uploader after it read ${rchar:-?} bytes"
                break
        fi
        echo "attempt $attempt: the upload finished before the kill; again"
done
[ "$killed" = yes ] || up_fail "could not kill the uploader mid-upload"
up_wait_empty 120
[ "$(bed_exec systemctl show -P NRestarts "$UP_UNIT")" -gt "$restarts_before" ] || up_fail "not restarted by systemd"
up_assert_eq "$(up_object_sha "$key_big")" "$sum" "256 MiB object after SIGKILL and restart"

echo "upload-durability: OK"
