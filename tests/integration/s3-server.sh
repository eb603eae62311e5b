# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# The test bed's S3 server: Ceph radosgw (Debian's radosgw, ceph-mon, ceph-osd) on 127.0.0.1,
# which checks AWS Signature V4 *and* the payload hash (x-amz-content-sha256) like S3 does. One
# ceph-mon and one ceph-osd (memstore: objects live in the OSD's memory), no mgr, no cephx, all data
# under the scenario's scratch directory; ports are picked free at run time. Sourced by bed.sh; one
# server per scenario process, started on the first s3_start. From nothing to the first signed PUT
# takes about 3 s (see README.md).
#
#   s3_start                  start (once); exports S3_ENDPOINT S3_REGION S3_BUCKET S3_ACCESS_KEY
#                             S3_SECRET_KEY; the bucket exists
#   s3_stop                   stop radosgw (connections refused); objects are kept
#   s3_pause                  freeze radosgw (SIGSTOP: connections hang, requests time out)
#   s3_resume                 undo s3_stop or s3_pause; the same objects are there
#   s3_get KEY                object to stdout; exit status != 0 when absent
#   s3_put KEY FILE           upload FILE as KEY
#   s3_list [PREFIX]          object keys, one per line
#   s3_curl METHOD PATH-AND-QUERY [CURL ARGS…]  any signed request (empty payload), body to stdout
#   s3_shutdown               stop everything (the bed's teardown does it)

# Fixed test credentials (they protect nothing: the server lives for one scenario on loopback).
S3_REGION=us-east-1
S3_BUCKET=session-scripts-test
S3_ACCESS_KEY=SSTESTBEDACCESSKEY01
S3_SECRET_KEY=ssTestbedSecretKey0000000000000000000001
S3_EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# Bounds (seconds): the cluster's start-up and radosgw's readiness.
S3_START_TIMEOUT=${S3_START_TIMEOUT:-60}

S3_DIR=
S3_RGW_PORT=
S3_STATE=

# Prints a TCP port on 127.0.0.1 that nobody listens on (nothing connects and /proc/net/tcp shows
# no socket on it). Racy by nature; s3_start retries when a daemon fails to bind.
s3__free_port() {
        local p hex i
        for i in $(seq 100); do
                p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
                hex=$(printf ':%04X ' "$p")
                grep -qF "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null && continue
                (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
                echo "$p"
                return 0
        done
        return 1
}

# s3__urlencode STRING [path]: RFC 3986 percent-encoding (as SigV4 wants it); with "path", '/'
# stays as is.
s3__urlencode() {
        local LC_ALL=C s=$1 keep_slash=${2:-} i c out=
        for ((i = 0; i < ${#s}; i++)); do
                c=${s:i:1}
                case "$c" in
                        [A-Za-z0-9._~-]) out+=$c ;;
                        /) if [ "$keep_slash" = path ]; then out+=/; else out+=%2F; fi ;;
                        *) out+=$(printf '%%%02X' "'$c") ;;
                esac
        done
        printf '%s\n' "$out"
}

# s3__xml_unescape: decodes the five XML entities on stdin.
s3__xml_unescape() {
        sed -e 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/'"'"'/g; s/&#39;/'"'"'/g; s/&amp;/\&/g'
}

s3__write_conf() {
        local d=$S3_DIR
        cat >"$d/ceph.conf" <<EOF
# Written by tests/integration/s3-server.sh: a one-node throw-away cluster on loopback.
[global]
fsid = $S3_FSID
mon host = v2:127.0.0.1:$S3_MON_PORT
mon initial members = a
public network = 127.0.0.0/8
# No cephx: under auth none the messenger must not ask for "secure" mode, else radosgw retries
# forever with -13.
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
# One OSD: size-1 pools, placement across OSDs (not hosts), no warnings about it.
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
# Without this every pool creation waits for a ~1 s paxos round.
paxos propose interval = 0.01
# A nearly full disk on the host must not stop the monitor.
mon data avail crit = 0
mon data avail warn = 0
client mount timeout = 30
run dir = $d/run
admin socket = $d/run/\$name.asok
log file = $d/log/\$name.log
pid file = $d/run/\$name.pid
keyring = $d/keyring
[mon]
mon data = $d/mon
[osd]
osd data = $d/osd
# Objects in memory: fast, and nothing to clean up. Lost if the OSD restarts, so it never does.
osd objectstore = memstore
memstore device bytes = 1073741824
osd op num shards = 1
osd op num threads per shard = 2
[client.rgw]
rgw data = $d/rgw
rgw frontends = beast endpoint=127.0.0.1:$S3_RGW_PORT
rgw thread pool size = 32
# Allow SSE headers over plain http.
rgw crypt require ssl = false
EOF
}

# s3__daemon NAME CMD…: starts a Ceph daemon in the foreground of its own session (meson's signals
# to the scenario's process group are for the bed, not for it), output to log/NAME.out; its pid
# goes to S3_DIR/NAME.pid.
s3__daemon() {
        local name=$1
        shift
        setsid "$@" </dev/null >"$S3_DIR/log/$name.out" 2>&1 &
        echo $! >"$S3_DIR/$name.pid"
}

s3__pid() {
        cat "$S3_DIR/$1.pid" 2>/dev/null
}

s3__alive() {
        local pid
        pid=$(s3__pid "$1") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Waits until radosgw answers on its port; fails when it exits or after S3_START_TIMEOUT.
s3__wait_rgw() {
        s3__rgw_up() {
                s3__alive rgw || return 0
                curl -s -o /dev/null -m 2 "http://127.0.0.1:$S3_RGW_PORT/"
        }
        bed_wait_until "$S3_START_TIMEOUT" s3__rgw_up && s3__alive rgw
}

s3__start_rgw() {
        s3__daemon rgw radosgw -f -c "$S3_DIR/ceph.conf" -n client.rgw
        s3__wait_rgw
}

# One attempt at bringing the cluster up on fresh ports.
s3__start_cluster() {
        local osd_uuid osd_id
        rm -rf "$S3_DIR"
        mkdir -p "$S3_DIR"/{run,log,mon,osd,rgw}
        S3_FSID=$(cat /proc/sys/kernel/random/uuid)
        S3_MON_PORT=$(s3__free_port) || return 1
        S3_RGW_PORT=$(s3__free_port) || return 1
        [ "$S3_MON_PORT" != "$S3_RGW_PORT" ] || return 1
        s3__write_conf
        local conf=(-c "$S3_DIR/ceph.conf")
        ceph-authtool --create-keyring "$S3_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' \
                >/dev/null 2>&1 || return 1
        monmaptool --create --fsid "$S3_FSID" --addv a "[v2:127.0.0.1:$S3_MON_PORT]" "$S3_DIR/monmap" \
                >/dev/null 2>&1 || return 1
        ceph-mon "${conf[@]}" --mkfs -i a --monmap "$S3_DIR/monmap" --keyring "$S3_DIR/keyring" \
                >"$S3_DIR/log/mon-mkfs.out" 2>&1 || return 1
        s3__daemon mon ceph-mon -f "${conf[@]}" -i a
        osd_uuid=$(cat /proc/sys/kernel/random/uuid)
        osd_id=$(timeout 30 ceph "${conf[@]}" osd new "$osd_uuid" 2>>"$S3_DIR/log/ceph-cli.out") || return 1
        ceph-osd "${conf[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" \
                >"$S3_DIR/log/osd-mkfs.out" 2>&1 || return 1
        s3__daemon osd ceph-osd -f "${conf[@]}" -i "$osd_id"
        timeout 30 radosgw-admin "${conf[@]}" -n client.rgw user create --uid=session-scripts-test \
                --display-name="session-scripts test bed" \
                --access-key="$S3_ACCESS_KEY" --secret="$S3_SECRET_KEY" \
                >"$S3_DIR/log/user-create.out" 2>&1 || return 1
        s3__start_rgw || return 1
        S3_ENDPOINT=http://127.0.0.1:$S3_RGW_PORT
        export S3_ENDPOINT S3_REGION S3_BUCKET S3_ACCESS_KEY S3_SECRET_KEY
        local code
        code=$(s3_curl PUT "/$S3_BUCKET" -o /dev/null -w '%{http_code}') && [ "$code" = 200 ]
}

# s3_start: starts the server once per scenario process and creates the bucket.
s3_start() {
        local start attempt
        if [ -n "$S3_STATE" ]; then
                return 0
        fi
        [ -n "${BED_TMP:-}" ] || bed_fail "s3_start before bed_init"
        for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool; do
                command -v "$tool" >/dev/null 2>&1 || bed_skip "$tool is not installed (see tests/install-deps.sh)"
        done
        start=$(bed__now)
        S3_DIR=$BED_TMP/s3
        for attempt in 1 2 3; do
                S3_STATE=running
                s3__start_cluster && break
                bed_log "S3 server start, attempt $attempt, failed"
                s3__dump_logs
                s3_shutdown
                [ "$attempt" = 3 ] && bed_fail "cannot start the S3 server"
        done
        bed_log "S3 server (radosgw) at $S3_ENDPOINT, bucket $S3_BUCKET, up in $(bed__elapsed "$start") s"
}

# s3_stop: stops radosgw; the monitor and the OSD (with the objects) stay.
s3_stop() {
        [ "$S3_STATE" != "" ] || bed_fail "s3_stop without s3_start"
        local pid
        pid=$(s3__pid rgw)
        if [ -n "$pid" ]; then
                kill -CONT "$pid" 2>/dev/null || true
                kill -KILL "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        fi
        S3_STATE=stopped
}

# s3_pause: freezes radosgw: the port still accepts connections but nothing answers.
s3_pause() {
        [ "$S3_STATE" = running ] || bed_fail "s3_pause while the S3 server is $S3_STATE"
        kill -STOP "$(s3__pid rgw)"
        S3_STATE=paused
}

# s3_resume: undoes s3_pause or s3_stop and waits until radosgw answers again.
s3_resume() {
        case "$S3_STATE" in
                paused)
                        kill -CONT "$(s3__pid rgw)"
                        ;;
                stopped)
                        s3__start_rgw || bed_fail "cannot restart radosgw"
                        ;;
                running) return 0 ;;
                *) bed_fail "s3_resume without s3_start" ;;
        esac
        S3_STATE=running
        s3__wait_rgw || bed_fail "radosgw does not answer after s3_resume"
}

# s3_shutdown: kills radosgw, the OSD and the monitor and removes their data.
s3_shutdown() {
        [ -n "$S3_STATE" ] || return 0
        local name pid
        for name in rgw osd mon; do
                pid=$(s3__pid "$name") || continue
                [ -n "$pid" ] || continue
                kill -CONT "$pid" 2>/dev/null || true
                kill -KILL "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$S3_DIR"
        S3_STATE=
}

# Tails of the daemons' logs, on failure.
s3__dump_logs() {
        [ -n "$S3_DIR" ] && [ -d "$S3_DIR/log" ] || return 0
        local f
        for f in "$S3_DIR"/log/*.out "$S3_DIR"/log/client.rgw.log; do
                [ -s "$f" ] || continue
                echo "---- $f (last 15 lines) ----" >&2
                tail -n 15 "$f" >&2
        done
}

# The end of radosgw's log (one line per request, with the HTTP status), on a scenario's failure.
s3__dump_rgw_log() {
        [ -n "$S3_DIR" ] && [ -s "$S3_DIR/log/client.rgw.log" ] || return 0
        echo "---- radosgw log (last 20 lines) ----" >&2
        tail -n 20 "$S3_DIR/log/client.rgw.log" >&2
}

# s3_curl METHOD PATH [CURL ARGS…]: a SigV4-signed request with an empty payload against the
# server; PATH includes the bucket and an already encoded, sorted query (curl 7.88 signs the
# query as given and does not sort it). The body goes to stdout; curl's exit status (-f: 22 on
# HTTP errors unless overridden by the caller's -w/-o handling).
s3_curl() {
        local method=$1 path=$2
        shift 2
        curl -sS -X "$method" --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
                -H "x-amz-content-sha256: $S3_EMPTY_SHA256" "$@" "$S3_ENDPOINT$path"
}

# s3_get KEY: prints the object; exit status 22 when absent (or on any HTTP error).
s3_get() {
        [ "$S3_STATE" = running ] || bed_fail "s3_get while the S3 server is ${S3_STATE:-not started}"
        s3_curl GET "/$S3_BUCKET/$(s3__urlencode "$1" path)" -f
}

# s3_put KEY FILE: uploads FILE as KEY with its real payload hash.
s3_put() {
        [ "$S3_STATE" = running ] || bed_fail "s3_put while the S3 server is ${S3_STATE:-not started}"
        local hash
        hash=$(sha256sum <"$2" | cut -d' ' -f1)
        curl -sS -f -o /dev/null -T "$2" --aws-sigv4 "aws:amz:$S3_REGION:s3" \
                --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H "x-amz-content-sha256: $hash" \
                "$S3_ENDPOINT/$S3_BUCKET/$(s3__urlencode "$1" path)"
}

# s3_list [PREFIX]: prints the keys of the bucket (under PREFIX), one per line, in S3's order
# (ListObjectsV2, following continuation tokens).
s3_list() {
        [ "$S3_STATE" = running ] || bed_fail "s3_list while the S3 server is ${S3_STATE:-not started}"
        local prefix=${1:-} token='' query body
        while :; do
                # Canonical order of the query parameters: sorted by name.
                query="list-type=2"
                [ -n "$token" ] && query="continuation-token=$(s3__urlencode "$token")&$query"
                [ -n "$prefix" ] && query="$query&prefix=$(s3__urlencode "$prefix")"
                body=$(s3_curl GET "/$S3_BUCKET?$query" -f) || return 1
                grep -o '<Key>[^<]*</Key>' <<<"$body" | sed -e 's/^<Key>//; s/<\/Key>$//' | s3__xml_unescape
                grep -q '<IsTruncated>true</IsTruncated>' <<<"$body" || break
                token=$(grep -o '<NextContinuationToken>[^<]*</NextContinuationToken>' <<<"$body" \
                        | sed -e 's/<[^>]*>//g' | s3__xml_unescape)
                [ -n "$token" ] || break
        done
}
