# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Helpers shared by the uploader scenarios and the upload benchmark (sourced first, in place of
# tests/integration/lib.sh; the up_* functions need the booted bed): [S3] settings pointing at the
# bed's radosgw, credentials in upload.env, spool entries made by hand as the daemon writes them
# (.meta atomically, root:session-scripts-upload 0640; the daemon writes a running .meta before it
# creates the .log, scenarios that make a finished entry in one go write the .log first so that the
# uploader never sees a finished .meta without its .log), starting/stopping the uploader as its real
# sandboxed unit, waiting for the spool to drain, and object checks through s3_get.

# shellcheck source=tests/integration/lib.sh
source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"

UP_SPOOL=/var/lib/session-scripts/spool
UP_UNIT=session-scripts-upload.service
UP_FAILED_ID=1c15c4c75e664df5a6ffb895fb4b8175
UP_EVICTED_ID=ec4b37213cc24187b5868d6849f26b07

up_fail() {
        bed_fail "$*"
}

up_assert_eq() {
        [ "$1" = "$2" ] || up_fail "${3:-assertion}: expected '$2', got '$1'"
}

# up_setup [EXTRA-S3-LINES] — starts the S3 server, writes [S3] settings for it, makes sure the
# service user exists (sysusers) and the spool directory has the contract's ownership and mode.
up_setup() {
        s3_start
        up_settings "${1:-}"
        bed_exec systemd-sysusers >/dev/null 2>&1 || true
        if ! bed_exec getent passwd session-scripts-upload >/dev/null; then
                # units/ ships the sysusers.d entry; until it is installed, create the same user.
                bed_exec sh -c 'echo "u session-scripts-upload - \"session-scripts uploader\"" | systemd-sysusers -' \
                        || up_fail "cannot create the session-scripts-upload user"
        fi
        bed_exec install -d -m 0770 -o root -g session-scripts-upload "$UP_SPOOL"
}

# up_settings [EXTRA-S3-LINES] — (re)writes session-scripts.conf with [S3] for the bed's server.
# The AES256 server-side encryption header is sent (the bed's radosgw allows it over http) unless UP_SSE=no.
up_settings() {
        mkdir -p "$BED_ROOT/etc/session-scripts"
        cat > "$BED_ROOT/etc/session-scripts/session-scripts.conf" <<EOF
[S3]
Bucket=$S3_BUCKET
Region=$S3_REGION
Endpoint=$S3_ENDPOINT
ServerSideEncryption=${UP_SSE:-yes}
${1:-}
EOF
        chmod 0644 "$BED_ROOT/etc/session-scripts/session-scripts.conf"
}

# up_env LINES — writes /etc/session-scripts/upload.env (root 0600), the unit's EnvironmentFile=.
up_env() {
        mkdir -p "$BED_ROOT/etc/session-scripts"
        printf '%s\n' "$1" > "$BED_ROOT/etc/session-scripts/upload.env"
        chown 0:0 "$BED_ROOT/etc/session-scripts/upload.env"
        chmod 0600 "$BED_ROOT/etc/session-scripts/upload.env"
}

# up_env_keys [SECRET] — the bed's access key with the right (or the given) secret.
up_env_keys() {
        up_env "AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
AWS_SECRET_ACCESS_KEY=${1:-$S3_SECRET_KEY}
AWS_EC2_METADATA_DISABLED=true"
}

# up_new_id — a fresh run id (32 lowercase hex digits).
up_new_id() {
        od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# up_meta ID KEY STATE — writes ID.meta atomically (temp file, rename), like the daemon.
up_meta() {
        bed_exec sh -c '
                cd '"$UP_SPOOL"' &&
                printf "KEY=%s\nSTATE=%s\nSESSION_ID=up-test\nEVENT=SessionStart\nCONTEXT=system\nUSER=tester\n" "$2" "$3" > ".$1.meta.tmp" &&
                chown root:session-scripts-upload ".$1.meta.tmp" && chmod 0640 ".$1.meta.tmp" &&
                mv ".$1.meta.tmp" "$1.meta"' sh "$1" "$2" "$3"
}

# up_log_append ID < data — appends stdin to ID.log (created root:session-scripts-upload 0640).
up_log_append() {
        local tmp
        tmp=$(mktemp)
        cat > "$tmp"
        cat "$tmp" >> "$BED_ROOT$UP_SPOOL/$1.log"
        rm -f "$tmp"
        bed_exec sh -c "chown root:session-scripts-upload $UP_SPOOL/$1.log && chmod 0640 $UP_SPOOL/$1.log"
}

# up_entry ID KEY STATE < data — a whole entry in one go: the .log first, then the .meta (a finished
# .meta without its .log would be a completed upload).
up_entry() {
        up_log_append "$1"
        up_meta "$1" "$2" "$3"
}

# up_big_entry ID KEY MIB — an entry whose log is MIB MiB of random bytes, written inside; prints the
# log's sha256.
up_big_entry() {
        bed_exec sh -c "head -c $(($3 * 1024 * 1024)) /dev/urandom > $UP_SPOOL/$1.log &&
                        chown root:session-scripts-upload $UP_SPOOL/$1.log && chmod 0640 $UP_SPOOL/$1.log"
        up_meta "$1" "$2" finished
        bed_exec sha256sum "$UP_SPOOL/$1.log" | cut -d' ' -f1
}

up_start() {
        bed_exec systemctl start "$UP_UNIT" || up_fail "$UP_UNIT did not start"
}

up_stop() {
        bed_exec systemctl stop "$UP_UNIT" || true
}

up_main_pid() {
        bed_exec systemctl show -P MainPID "$UP_UNIT"
}

# up_spool_count — number of files (.log and .meta) in the spool.
up_spool_count() {
        bed_exec sh -c "ls -A $UP_SPOOL | grep -cE '^[0-9a-f]{32}\\.(log|meta)\$' || true"
}

# up_wait_empty SECONDS — waits until the spool holds no entry; fails otherwise.
up_wait_empty() {
        local end=$((SECONDS + $1))
        while [ "$SECONDS" -lt "$end" ]; do
                [ "$(up_spool_count)" = 0 ] && return 0
                sleep 0.1
        done
        bed_exec ls -la "$UP_SPOOL" || true
        bed_exec systemctl status --no-pager "$UP_UNIT" || true
        up_fail "spool not empty after $1 s"
}

# up_wait_journal SECONDS PATTERN [JOURNALCTL-ARGS] — waits until the uploader's journal matches.
up_wait_journal() {
        local end=$((SECONDS + $1)) pattern=$2
        shift 2
        while [ "$SECONDS" -lt "$end" ]; do
                bed_exec journalctl -q -u "$UP_UNIT" "$@" 2>/dev/null | grep -qE -- "$pattern" && return 0
                sleep 0.5
        done
        up_fail "journal of $UP_UNIT never matched '$pattern'"
}

# up_object_sha KEY — sha256 of the object (fails the test when it is absent).
up_object_sha() {
        local tmp sum
        tmp=$(mktemp)
        s3_get "$1" > "$tmp" || { rm -f "$tmp"; up_fail "object $1 is missing"; }
        sum=$(sha256sum "$tmp" | cut -d' ' -f1)
        rm -f "$tmp"
        echo "$sum"
}

# up_object KEY — the object's content on stdout (fails the test when it is absent).
up_object() {
        s3_get "$1" || up_fail "object $1 is missing"
}
