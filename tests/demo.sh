#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job, end to end, on a fresh Debian 12 machine (as root): installs the build and test
# dependencies, builds the project, boots a Debian 12 systemd container with it installed (the
# integration test bed, tests/integration/bed.sh), starts a real S3 server (Ceph radosgw, checks
# SigV4) on loopback, installs a config.json with SessionStart and SessionTermination scripts in
# both contexts, and logs a user in and out through a real PAM stack (pamtester → pam_systemd →
# pam_session_scripts.so → session-scriptsd). Then it shows what an operator sees: the scripts'
# output lines in the journal, the exit summaries, and the keys of the logs uploaded to S3.
#
# Environment: BUILD_DIR (default: build/ in the source tree), DEMO_USER (default: alice).

set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$src/build}

if [ -z "${BED_INSIDE_NS:-}" ]; then
        # Only the first pass builds; bed_init re-executes this script in private namespaces.
        bash "$src/tests/install-deps.sh"
        if [ ! -f "$build/build.ninja" ]; then
                meson setup "$build" "$src" >/dev/null
        fi
        meson compile -C "$build" >/dev/null
fi

export MESON_BUILD_ROOT=$build MESON_SOURCE_ROOT=$src
export BED_CACHE_DIR=${BED_CACHE_DIR:-/var/cache/session-scripts-testbed}

# shellcheck source=integration/lib.sh
source "$src/tests/integration/lib.sh"

bed_init
echo "== booting a Debian 12 container with session-scripts installed"
bed_boot
echo "== starting the S3 server (Ceph radosgw on 127.0.0.1)"
s3_start

user=${DEMO_USER:-alice}
session_id=$(cat /proc/sys/kernel/random/uuid)

ss_install_script start-system.sh <<'EOF'
#!/bin/sh
echo "system context: preparing the session of $AppStream_UserName as $(id -un)"
echo "home folder mounted: $AppStream_Home_Folder_Mount_Status"
EOF
ss_install_script start-user.sh <<'EOF'
#!/bin/bash
echo "user context: hello $USER, working in $PWD, arguments: $*"
echo "this line goes to stderr" >&2
EOF
ss_install_script end-user.sh <<'EOF'
#!/bin/sh
echo "user context: goodbye $USER"
exit 3
EOF
ss_install_config <<'EOF'
{
  "SessionStart": {
    "executables": [
      { "context": "system", "filename": "/opt/appstream/SessionScripts/start-system.sh", "arguments": "", "s3LogEnabled": true },
      { "context": "user", "filename": "/opt/appstream/SessionScripts/start-user.sh", "arguments": "--verbose \"a b\"", "s3LogEnabled": true }
    ],
    "waitingTime": 30
  },
  "SessionTermination": {
    "executables": [
      { "context": "user", "filename": "/opt/appstream/SessionScripts/end-user.sh", "arguments": "", "s3LogEnabled": true }
    ],
    "waitingTime": 30
  }
}
EOF
ss_install_settings <<EOF
[Session]
StackName=demo-stack
FleetName=demo-fleet
AccessMode=custom

[S3]
Bucket=$S3_BUCKET
Region=$S3_REGION
Endpoint=$S3_ENDPOINT
EOF
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_EC2_METADATA_DISABLED=true\n' \
        "$S3_ACCESS_KEY" "$S3_SECRET_KEY" > "$BED_ROOT/etc/session-scripts/upload.env"
chmod 0600 "$BED_ROOT/etc/session-scripts/upload.env"

echo "== session-scripts validate (what an image builder runs before creating the image)"
bed_exec session-scripts validate

# The AppStream metadata comes from the PAM environment when an earlier module sets it (here
# pam_env); the user id that is hashed into the S3 key is the seed's test vector.
cat > "$BED_ROOT/etc/demo-env.conf" <<EOF
AppStream_Session_ID DEFAULT=$session_id
AppStream_UserName DEFAULT=testuser@mydomain.com
EOF
ss_pam_stack demo "" "session required pam_env.so readenv=0 conffile=/etc/demo-env.conf"
bed_exec systemctl start session-scripts.service session-scripts-upload.service

echo "== login and logout of $user: pamtester demo $user open_session close_session"
bed_exec pamtester -v demo "$user" open_session close_session || true

echo
echo "== the scripts' output, as the journal has it (journalctl SESSION_SCRIPTS_SESSION_ID=$session_id)"
bed_exec journalctl -q --no-pager -o short-precise SESSION_SCRIPTS_SESSION_ID="$session_id" \
        SESSION_SCRIPTS_STREAM=stdout + SESSION_SCRIPTS_SESSION_ID="$session_id" SESSION_SCRIPTS_STREAM=stderr

echo
echo "== the exit summaries (MESSAGE_ID=7ec314af1ab0431aab9db584883c9563)"
bed_exec journalctl -q --no-pager -o short-precise SESSION_SCRIPTS_SESSION_ID="$session_id" \
        MESSAGE_ID=7ec314af1ab0431aab9db584883c9563

echo
echo "== the logs uploaded to S3 (bucket $S3_BUCKET)"
end=$((SECONDS + 60))
while [ "$SECONDS" -lt "$end" ]; do
        [ "$(s3_list | grep -c "/$session_id/")" -ge 3 ] && break
        sleep 0.5
done
for key in $(s3_list | grep "/$session_id/"); do
        echo "s3://$S3_BUCKET/$key"
        s3_get "$key" | sed 's/^/    | /'
done
