#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# End to end (first test): a real login and logout (pamtester through pam_systemd +
# pam_session_scripts) with scripts in both contexts of both events; the daemon spools their output,
# the uploader (its real unit) delivers it: objects at exactly the docs/behaviour.md §4 keys — the user id
# testuser@mydomain.com from AppStream_UserName in the PAM environment hashes to the seed's test
# vector — holding exactly the scripts' output; an executable with s3LogEnabled=false produces no
# object; the spool is empty afterwards. Then a second login whose SessionStart script writes 256 MiB
# to stdout: the object's SHA-256 equals the SHA-256 of exactly what the script wrote (byte-exact
# through the daemon's capture and the upload).
#
# Guarded: skips (77) while the daemon or the PAM module is not part of the build yet.

source "$MESON_SOURCE_ROOT/tests/integration/upload/upload-lib.sh"
scenario_begin

if ! bed_exec test -x /usr/libexec/session-scriptsd ||
   ! bed_exec sh -c 'ls /usr/lib/*/security/pam_session_scripts.so /usr/lib/security/pam_session_scripts.so 2>/dev/null | grep -q .'; then
        echo "SKIP: the daemon or the PAM module is not installed by this build yet"
        exit 77
fi

SID=e2e-upload-session-1
HASH=a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13
PREFIX="e2e-stack/e2e-fleet/userpool/$HASH/$SID/SessionScriptsLogs"

up_setup
up_env_keys
cat >> "$BED_ROOT/etc/session-scripts/session-scripts.conf" <<'EOF'
[Session]
StackName=e2e-stack
FleetName=e2e-fleet
AccessMode=userpool
EOF

# In the second session ($SID2) the same script writes 256 MiB instead: random bytes with the newlines
# turned into blanks (the journal gets 16 KiB pieces rather than a million lines), and the SHA-256 of
# exactly what went to stdout beside it (tee into a FIFO). One script for both sessions: installing
# another one later would trip the daemon's tamper check.
ss_install_script start-system.sh <<'EOF'
#!/bin/bash
set -euo pipefail
if [ "$AppStream_Session_ID" = e2e-upload-session-big ]; then
        rm -f /var/tmp/start-big.fifo /var/tmp/start-big.sha /var/tmp/start-big.sha.tmp
        mkfifo -m 0600 /var/tmp/start-big.fifo
        sha256sum < /var/tmp/start-big.fifo | cut -d' ' -f1 > /var/tmp/start-big.sha.tmp &
        head -c 268435456 /dev/urandom | tr '\n' ' ' | tee /var/tmp/start-big.fifo
        wait
        rm -f /var/tmp/start-big.fifo
        mv /var/tmp/start-big.sha.tmp /var/tmp/start-big.sha
        exit 0
fi
echo "system start: user $AppStream_UserName session $AppStream_Session_ID"
printf 'no newline at the end'
EOF
ss_install_script start-user.sh <<'EOF'
#!/bin/sh
echo "user start as $(id -un)"
echo "second line"
EOF
ss_install_script term-system.sh <<'EOF'
#!/bin/sh
echo "system termination"
EOF
ss_install_script term-user.sh <<'EOF'
#!/bin/sh
echo "user termination: journal only"
EOF
ss_install_config <<'EOF'
{
  "SessionStart": {
    "executables": [
      { "context": "system", "filename": "/opt/appstream/SessionScripts/start-system.sh", "arguments": "", "s3LogEnabled": true },
      { "context": "user", "filename": "/opt/appstream/SessionScripts/start-user.sh", "arguments": "" }
    ],
    "waitingTime": 60
  },
  "SessionTermination": {
    "executables": [
      { "context": "system", "filename": "/opt/appstream/SessionScripts/term-system.sh", "arguments": "" },
      { "context": "user", "filename": "/opt/appstream/SessionScripts/term-user.sh", "arguments": "", "s3LogEnabled": false }
    ],
    "waitingTime": 20
  }
}
EOF

cat > "$BED_ROOT/etc/ss-upload-env.conf" <<EOF
AppStream_Session_ID DEFAULT=$SID
AppStream_UserName DEFAULT=testuser@mydomain.com
EOF
ss_pam_stack ss-upload "" "session required pam_env.so readenv=0 conffile=/etc/ss-upload-env.conf"

ss_start_daemon
up_start

out=$(ss_login ss-upload alice open_session close_session)
echo "$out"
up_assert_eq "$(ss_result_field "$out" rc)" 0 "pamtester exit status"

up_wait_empty 60
expect() {
        local key=$1 want=$2 got
        got=$(up_object "$PREFIX/$key"; echo x)
        got=${got%x}
        up_assert_eq "$got" "$want" "object $PREFIX/$key"
}
expect SessionStart/system.log "system start: user testuser@mydomain.com session $SID
no newline at the end"
expect SessionStart/user.log "user start as alice
second line
"
expect SessionTermination/system.log "system termination
"
s3_get "$PREFIX/SessionTermination/user.log" >/dev/null 2>&1 && up_fail "s3LogEnabled=false run was uploaded"
# journald may still be reading the run's stream when the uploads are done: wait for the line.
ss_wait_for 10 sh -c 'journalctl -q -o cat | grep -qF "user termination: journal only"' ||
        up_fail "s3LogEnabled=false run not journaled"

listed=$(s3_list "e2e-stack/" | sort)
echo "$listed"
up_assert_eq "$listed" "$(printf '%s\n' "$PREFIX/SessionStart/system.log" "$PREFIX/SessionStart/user.log" \
        "$PREFIX/SessionTermination/system.log" | sort)" "exactly the expected objects"

# ---- 256 MiB through a real login ----------------------------------------------------------------
SID2=e2e-upload-session-big
PREFIX2="e2e-stack/e2e-fleet/userpool/$HASH/$SID2/SessionScriptsLogs"
cat > "$BED_ROOT/etc/ss-upload-big-env.conf" <<EOF
AppStream_Session_ID DEFAULT=$SID2
AppStream_UserName DEFAULT=testuser@mydomain.com
EOF
ss_pam_stack ss-upload-big "" "session required pam_env.so readenv=0 conffile=/etc/ss-upload-big-env.conf"

start=$(date +%s%N)
out=$(ss_login ss-upload-big alice open_session close_session)
up_assert_eq "$(ss_result_field "$out" rc)" 0 "pamtester exit status (256 MiB script)"
bed_exec test -s /var/tmp/start-big.sha || up_fail "the 256 MiB script did not finish (no SHA-256 of its output)"
want=$(bed_exec cat /var/tmp/start-big.sha)
[[ "$want" =~ ^[0-9a-f]{64}$ ]] || up_fail "unusable SHA-256 from the script: '$want'"
up_wait_empty 180
ms=$(( ($(date +%s%N) - start) / 1000000 ))
got=$(up_object_sha "$PREFIX2/SessionStart/system.log")
echo "256 MiB script output: captured and delivered in $ms ms (open_session took $(ss_result_field "$out" ms) ms)"
up_assert_eq "$got" "$want" "SHA-256 of the 256 MiB object vs what the script wrote"
bed_exec rm -f /var/tmp/start-big.sha

echo "upload-login: OK"
