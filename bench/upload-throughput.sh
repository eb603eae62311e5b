#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Uploader throughput in the test bed against the real S3 server (radosgw on loopback):
#   1. one 256 MiB log: MiB/s from the uploader's start to the spool being empty (hashing + PUT),
#      and the uploader's peak RSS (VmHWM);
#   2. 1,000 small logs (~200 bytes each): objects/s, spool-full to spool-empty;
#   3. the same 1,000 files with a `curl -T` loop (one process per object, SigV4 by curl, the
#      payload hash computed by sha256sum as the uploader does), same server, same run.
# With the daemon and the PAM module in the build, also: a login whose SessionStart script writes
# 256 MiB — capture rate (the PAM call's duration) and the daemon's peak RSS.
#
# Run: meson test -C BUILD --benchmark upload-throughput (needs root, like the integration suite).
# Figures are printed as "BENCH name value unit" lines; nothing is asserted.

source "$MESON_SOURCE_ROOT/tests/integration/upload/upload-lib.sh"
scenario_begin
up_setup
up_env_keys

ms_now() {
        echo $(( $(date +%s%N) / 1000000 ))
}

# A journal cursor inside the container, to look at what the uploader logged after it.
journal_cursor() {
        bed_exec journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p'
}

# uploader_span CURSOR: milliseconds from the uploader's "Watching …" (spool scanned) to its last
# "Uploaded …" after CURSOR: its own throughput, without service start-up and our polling.
uploader_span() {
        bed_exec journalctl -u "$UP_UNIT" --after-cursor="$1" -o export |
                awk '/^__MONOTONIC_TIMESTAMP=/ { t = substr($0, 23) }
                     /^MESSAGE=Watching/ { s = t }
                     /^MESSAGE=Uploaded/ { e = t }
                     END { printf "%d\n", (e - s) / 1000 }'
}

# ---- 1. 256 MiB ---------------------------------------------------------------------------------
up_stop
id=$(up_new_id)
key="bench/big/SessionScriptsLogs/SessionStart/system.log"
sum=$(up_big_entry "$id" "$key" 256)
t0=$(ms_now)
up_start
pid=$(up_main_pid)
up_wait_empty 600
t1=$(ms_now)
hwm=$(bed_exec sh -c "awk '/^VmHWM/ { print \$2 }' /proc/$pid/status")
[ "$(up_object_sha "$key")" = "$sum" ] || up_fail "256 MiB object differs"
echo "BENCH upload_256MiB_ms $((t1 - t0)) ms"
echo "BENCH upload_256MiB_rate $(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", 256 * 1000 / ms }') MiB/s"
echo "BENCH uploader_peak_rss $((hwm / 1024)).$(( (hwm % 1024) * 10 / 1024 )) MiB"

# ---- 2. 1,000 small logs through the uploader -------------------------------------------------
up_stop
bed_exec sh -c '
        mkdir -p /var/tmp/bench-small && cd /var/tmp/bench-small && rm -f ./* &&
        for i in $(seq 1 1000); do
                printf "run %04d: some output of a session script, %s\n" $i "$(date +%s%N)" > $i.txt
                printf "%s\n" "line two of run $i with a little more text to make it a typical short log" >> $i.txt
        done'
bed_exec sh -c '
        cd '"$UP_SPOOL"' &&
        for i in $(seq 1 1000); do
                id=$(printf "%032x" $((0xbe00000000 + i)))
                cp /var/tmp/bench-small/$i.txt $id.log
                printf "KEY=bench/small/%04d/SessionScriptsLogs/SessionStart/user.log\nSTATE=finished\n" $i > $id.meta
        done
        chown root:session-scripts-upload ./* && chmod 0640 ./*'
cursor=$(journal_cursor)
t0=$(ms_now)
up_start
pid=$(up_main_pid)
up_wait_empty 600
t1=$(ms_now)
n=$(s3_list "bench/small/" | wc -l)
[ "$n" = 1000 ] || up_fail "expected 1000 small objects, found $n"
up_rate=$(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", 1000 * 1000 / ms }')
span=$(uploader_span "$cursor")
echo "BENCH uploader_1000_small_ms $((t1 - t0)) ms (systemctl start to empty spool, polled)"
echo "BENCH uploader_small_rate $up_rate objects/s"
echo "BENCH uploader_1000_small_own_ms $span ms (spool scanned to last object uploaded, from its journal)"
echo "BENCH uploader_small_own_rate $(awk -v ms="$span" 'BEGIN { printf "%.1f", 1000 * 1000 / ms }') objects/s"
echo "BENCH uploader_peak_rss_small $(bed_exec sh -c "awk '/^VmHWM/ { print \$2 }' /proc/$pid/status") KiB"

# ---- 3. The same 1,000 files with a curl -T loop ------------------------------------------------
t0=$(ms_now)
bed_exec env AK="$S3_ACCESS_KEY" SK="$S3_SECRET_KEY" EP="$S3_ENDPOINT" B="$S3_BUCKET" R="$S3_REGION" sh -c '
        cd /var/tmp/bench-small &&
        for i in $(seq 1 1000); do
                f=$i.txt
                h=$(sha256sum $f | cut -d" " -f1)
                curl -sS -f -o /dev/null --aws-sigv4 "aws:amz:$R:s3" --user "$AK:$SK" \
                        -H "x-amz-content-sha256: $h" -T $f "$EP/$B/bench/curl/$(printf %04d $i)/SessionScriptsLogs/SessionStart/user.log" ||
                        exit 1
        done'
t1=$(ms_now)
n=$(s3_list "bench/curl/" | wc -l)
[ "$n" = 1000 ] || up_fail "expected 1000 curl objects, found $n"
curl_rate=$(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", 1000 * 1000 / ms }')
echo "BENCH curl_loop_1000_small_ms $((t1 - t0)) ms"
echo "BENCH curl_loop_small_rate $curl_rate objects/s"
echo "BENCH uploader_vs_curl_loop $(awk -v a="$up_rate" -v b="$curl_rate" 'BEGIN { printf "%.1f", a / b }') x (own: $(awk -v ms="$span" -v b="$curl_rate" 'BEGIN { printf "%.1f", 1000 * 1000 / ms / b }') x)"

# ---- 4. Capture + upload of a 256 MiB script output (needs the daemon and the PAM module) ------
if bed_exec test -x /usr/libexec/session-scriptsd &&
   bed_exec sh -c 'ls /usr/lib/*/security/pam_session_scripts.so 2>/dev/null | grep -q .'; then
        cat >> "$BED_ROOT/etc/session-scripts/session-scripts.conf" <<'EOF'
[Session]
StackName=bench
FleetName=bench
AccessMode=custom
EOF
        ss_install_script big.sh <<'EOF'
#!/bin/sh
head -c 268435456 /dev/zero | tr '\0' 'x'
EOF
        ss_install_config <<'EOF'
{ "SessionStart": { "executables": [ { "context": "system", "filename": "/opt/appstream/SessionScripts/big.sh" } ],
                    "waitingTime": 60 } }
EOF
        printf 'AppStream_Session_ID DEFAULT=bench-capture\nAppStream_UserName DEFAULT=bench@example.com\n' \
                > "$BED_ROOT/etc/ss-bench-env.conf"
        ss_pam_stack ss-bench "" "session required pam_env.so readenv=0 conffile=/etc/ss-bench-env.conf"
        # reload-or-restart: the tamper baseline is recorded anew with big.sh in it (a reload of
        # the running daemon, else its start).
        bed_exec systemctl reload-or-restart session-scripts.service
        t0=$(ms_now)
        out=$(ss_login ss-bench alice open_session)
        ms=$(ss_result_field "$out" ms)
        up_wait_empty 600
        t1=$(ms_now)
        dpid=$(bed_exec systemctl show -P MainPID session-scripts.service)
        dhwm=$(bed_exec sh -c "awk '/^VmHWM/ { print \$2 }' /proc/$dpid/status")
        uhwm=$(bed_exec sh -c "awk '/^VmHWM/ { print \$2 }' /proc/$(up_main_pid)/status")
        echo "BENCH capture_256MiB_ms $ms ms"
        echo "BENCH capture_256MiB_rate $(awk -v ms="$ms" 'BEGIN { printf "%.1f", 256 * 1000 / ms }') MiB/s"
        echo "BENCH capture_and_upload_256MiB_ms $((t1 - t0)) ms"
        echo "BENCH daemon_peak_rss $dhwm KiB"
        echo "BENCH uploader_peak_rss_after_capture $uhwm KiB"
        key=$(s3_list "bench/bench/custom/" | grep 'SessionStart/system.log$' | head -n1)
        want=$(head -c 268435456 /dev/zero | tr '\0' 'x' | sha256sum | cut -d' ' -f1)
        [ "$(up_object_sha "$key")" = "$want" ] && echo "BENCH capture_byte_exact yes" || echo "BENCH capture_byte_exact NO"
else
        echo "BENCH capture skipped: daemon/PAM module not in this build"
fi
