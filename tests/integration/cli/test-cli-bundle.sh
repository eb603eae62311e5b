#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Elastic-fleet bundles: `install-bundle FILE.zip` unpacks into /opt/appstream/SessionScripts/
# SessionScript (root-owned, safe modes), activates it (settings drop-in), reloads the daemon, and a
# real login then runs the bundle's script; evil zips ("..", absolute path, symlink, too many
# entries, invalid config.json) are refused and leave the installed bundle as it was; an invalid
# config.json written behind the tool's back is refused by the daemon's Reload, which keeps the last
# good one (and `status` says so); a second bundle replaces the first; an s3:// bundle is fetched
# with SigV4 from the real S3 server, with credentials from the uploader's chain: the environment, a
# shared credentials file with a profile (AWS_PROFILE or [S3] Profile=; ~/.aws/credentials), IMDSv2
# (a local fixture). --json documents every outcome; the refusal message on stderr is coloured only
# when stderr is a terminal; a Reload the daemon refuses (InvalidConfig) is reported as such.

set -euo pipefail
source "$MESON_SOURCE_ROOT/tests/integration/bed.sh"
source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
bed_init
bed_boot

BUNDLE=$SS_DIR/SessionScript
ZIPS=$BED_TMP/zips

# json_get EXPR < JSON — evaluates a Python expression over the document d (on the host).
json_get() {
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
mkdir -p "$ZIPS"

# make_zip NAME VERSION [EVIL] — a bundle whose start script leaves a marker with VERSION; EVIL adds
# one bad entry: dotdot, absolute, symlink, many, invalid.
make_zip() {
        python3 - "$ZIPS/$1" "$2" "${3:-}" "$BUNDLE" <<'EOP'
import json, stat, sys, zipfile
path, version, evil, bundle = sys.argv[1:5]
config = {"SessionStart": {"executables": [
            {"context": "system", "filename": bundle + "/bin/start.sh", "arguments": version}],
          "waitingTime": 10}}
if evil == "invalid":
    config["SessionStart"]["waitingTime"] = 600
def add(z, name, data, mode):
    zi = zipfile.ZipInfo(name)
    zi.create_system = 3
    zi.external_attr = mode << 16
    z.writestr(zi, data)
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    add(z, "config.json", json.dumps(config), stat.S_IFREG | 0o666)
    # No execute bit in the zip: config.json names it, so it becomes 0755.
    add(z, "bin/start.sh", '#!/bin/sh\necho "bundle $1 runs for $USER"\ntouch /var/tmp/ss-out/bundle-$1\n',
        stat.S_IFREG | 0o600)
    add(z, "share/readme.txt", "version " + version + "\n", stat.S_IFREG | 0o777)
    if evil == "dotdot":
        add(z, "share/../../evil.sh", "evil\n", stat.S_IFREG | 0o755)
    elif evil == "absolute":
        add(z, "/etc/evil.conf", "evil\n", stat.S_IFREG | 0o644)
    elif evil == "symlink":
        add(z, "share/link", "/etc/shadow", stat.S_IFLNK | 0o777)
    elif evil == "many":
        for i in range(1001):
            add(z, "many/f%d" % i, "x", stat.S_IFREG | 0o644)
EOP
        cp "$ZIPS/$1" "$BED_ROOT/var/tmp/$1"
}

ss_prepare_out
ss_pam_stack ss-bundle
mkdir -p "$BED_ROOT$SS_DIR"
chmod 0755 "$BED_ROOT/opt" "$BED_ROOT/opt/appstream" "$BED_ROOT$SS_DIR"
ss_start_daemon

# ---- a good bundle --------------------------------------------------------------------------------
make_zip v1.zip v1
rc=0; out=$(bed_exec session-scripts install-bundle /var/tmp/v1.zip 2>&1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "install-bundle v1"
ss_assert_contains "$out" "Activated" "activation"
ss_assert_contains "$out" "The daemon reloaded its configuration." "reload"
ss_assert_contains "$out" "Installed /var/tmp/v1.zip into $BUNDLE (3 files, 0 warnings)." "install summary"
modes=$(bed_exec stat -c '%n %a %U:%G %F' "$BUNDLE" "$BUNDLE/config.json" "$BUNDLE/bin" "$BUNDLE/bin/start.sh" "$BUNDLE/share/readme.txt")
echo "$modes"
ss_assert_contains "$modes" "$BUNDLE 755 root:root directory" "bundle dir mode"
ss_assert_contains "$modes" "$BUNDLE/config.json 644 root:root regular file" "config mode"
ss_assert_contains "$modes" "$BUNDLE/bin 755 root:root directory" "subdir mode"
ss_assert_contains "$modes" "$BUNDLE/bin/start.sh 755 root:root regular file" "executable mode"
ss_assert_contains "$modes" "$BUNDLE/share/readme.txt 755 root:root regular file" "x bit kept, nothing more"
ss_assert_contains "$(bed_exec cat /etc/session-scripts/session-scripts.conf.d/50-install-bundle.conf)" \
        "ConfigFile=$BUNDLE/config.json" "drop-in"
out=$(bed_exec session-scripts status) || bed_fail "status after install: $out"
ss_assert_contains "$out" "$BUNDLE/config.json: valid" "status shows the bundle config"

out=$(ss_login ss-bundle alice open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login with the bundle"
ss_wait_for 10 test -e "$SS_OUT/bundle-v1" || bed_fail "the bundle's script did not run at login"

# ---- evil bundles are refused, v1 stays -------------------------------------------------------------
for evil in dotdot absolute symlink many invalid; do
        make_zip "evil-$evil.zip" "evil-$evil" "$evil"
        rc=0; out=$(bed_exec session-scripts install-bundle "/var/tmp/evil-$evil.zip" 2>&1) || rc=$?
        echo "$out"
        ss_assert_eq "$rc" 1 "evil bundle $evil refused"
        ss_assert_contains "$out" "refused" "evil bundle $evil message"
        ss_assert_eq "$(bed_exec cat "$BUNDLE/share/readme.txt")" "version v1" "v1 intact after $evil"
        ss_assert_eq "$(bed_exec sh -c "ls -A $SS_DIR | grep -c '^\.SessionScript' || true")" 0 "no leftovers after $evil"
done
# --json for a refusal: one document on stdout, the reason in it.
rc=0; json=$(bed_exec session-scripts install-bundle --json /var/tmp/evil-dotdot.zip 2>/dev/null) || rc=$?
echo "$json"
ss_assert_eq "$rc" 1 "evil bundle --json exit status"
ss_assert_eq "$(json_get "d['installed'], d['files'], d['reloaded']" <<<"$json")" "(False, [], False)" "evil --json"
ss_assert_contains "$(json_get "d['error']" <<<"$json")" "not a safe relative path" "evil --json error"
rc=0; json=$(bed_exec session-scripts install-bundle --json /var/tmp/evil-invalid.zip 2>/dev/null) || rc=$?
ss_assert_eq "$rc" 1 "invalid config --json exit status"
ss_assert_eq "$(json_get "[e['path'] for e in d['errors']]" <<<"$json")" "['SessionStart.waitingTime']" "invalid --json errors"
# Colours per stream: with stdout on a terminal (script(1)) but stderr in a file, the refusal in
# the file has no escape sequences; with stderr on the terminal it is red; NO_COLOR turns that off.
bed_exec env -u SYSTEMD_COLORS TERM=xterm script -qec \
        "session-scripts install-bundle /var/tmp/evil-dotdot.zip 2>/var/tmp/refused.err" /dev/null >/dev/null || true
ss_assert_contains "$(ss_file /var/tmp/refused.err)" "refused" "refusal on stderr (a file)"
bed_exec sh -c '! grep -q "$(printf "\033")" /var/tmp/refused.err' || bed_fail "colour codes in a stderr that is no terminal"
out=$(bed_exec env -u SYSTEMD_COLORS TERM=xterm script -qec \
        "session-scripts install-bundle /var/tmp/evil-dotdot.zip >/var/tmp/refused.out" /dev/null || true)
ss_assert_contains "$out" $'\e[0;31m' "red refusal on a terminal stderr"
out=$(bed_exec env -u SYSTEMD_COLORS TERM=xterm NO_COLOR=1 script -qec \
        "session-scripts install-bundle /var/tmp/evil-dotdot.zip" /dev/null || true)
ss_assert_contains "$out" "refused" "refusal with NO_COLOR"
ss_assert_not_contains "$out" $'\e[' "NO_COLOR"
bed_exec test ! -e "$SS_DIR/evil.sh" || bed_fail "a .. entry escaped the bundle"
bed_exec test ! -e /etc/evil.conf || bed_fail "an absolute entry was written"
rc=0; bed_exec session-scripts install-bundle /var/tmp/no-such.zip >/dev/null 2>&1 || rc=$?
ss_assert_eq "$rc" 2 "missing file"
rc=0; bed_exec_user alice session-scripts install-bundle /var/tmp/v1.zip >/dev/null 2>&1 || rc=$?
ss_assert_eq "$rc" 2 "not root"

# ---- Reload keeps the last good config ------------------------------------------------------------
bed_exec sh -c "echo '{ \"SessionStart\": { \"waitingTime\": 0 } }' > $BUNDLE/config.json"
# A daemon that answers an invalid config with org.sessionscripts.Error.InvalidConfig makes the
# reload job fail; either way it must keep the last good configuration.
bed_exec systemctl reload session-scripts.service || true
bed_wait_journal 10 "keeping the previous configuration" -u session-scripts.service ||
        bed_fail "the daemon did not say it keeps the previous configuration"
rc=0; out=$(bed_exec session-scripts status) || rc=$?
echo "$out"
ss_assert_eq "$rc" 1 "status with an invalid config"
ss_assert_contains "$out" "invalid" "status says invalid"
ss_assert_contains "$out" "keeps the previous one" "status says the previous one is kept"
bed_exec rm -f "$SS_OUT/bundle-v1"
out=$(ss_login ss-bundle bob open_session close_session)
ss_wait_for 10 test -e "$SS_OUT/bundle-v1" || bed_fail "the last good config did not run after a bad reload"

# ---- a second bundle replaces the first; --no-reload --------------------------------------------
make_zip v2.zip v2
rc=0; out=$(bed_exec session-scripts install-bundle --no-reload /var/tmp/v2.zip 2>&1) || rc=$?
ss_assert_eq "$rc" 0 "install-bundle v2"
ss_assert_not_contains "$out" "reloaded" "--no-reload"
ss_assert_eq "$(bed_exec cat "$BUNDLE/share/readme.txt")" "version v2" "v2 installed"
# The same with --json: the document lists the files with their installed modes, the drop-in, and
# that no reload was asked for.
rc=0; json=$(bed_exec session-scripts install-bundle --no-reload --json /var/tmp/v2.zip) || rc=$?
echo "$json"
ss_assert_eq "$rc" 0 "install-bundle v2 --json"
ss_assert_eq "$(json_get "d['installed'], d['path'], d['error'], d['warnings']" <<<"$json")" \
        "(True, '$BUNDLE', None, [])" "--json installed"
ss_assert_eq "$(json_get "sorted((f['path'], f['mode']) for f in d['files'])" <<<"$json")" \
        "[('bin/start.sh', '0755'), ('config.json', '0644'), ('share/readme.txt', '0755')]" "--json files"
ss_assert_eq "$(json_get "d['dropin'], d['active']" <<<"$json")" \
        "('/etc/session-scripts/session-scripts.conf.d/50-install-bundle.conf', True)" "--json drop-in"
ss_assert_eq "$(json_get "d['reload_requested'], d['reloaded'], d['reload_error']" <<<"$json")" \
        "(False, False, None)" "--json --no-reload"
bed_exec systemctl reload session-scripts.service
rc=0; out=$(bed_exec session-scripts run SessionStart --user alice) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "run with v2"
ss_assert_contains "$out" "SessionStart/system: bundle v2 runs for root" "v2 runs"

# ---- another ConfigFile= (invalid): not activated, the note says so; Reload refused or not ---------
bed_exec sh -c "echo '{ \"SessionStart\": { \"waitingTime\": 0 } }' > $SS_DIR/other.json && chmod 0644 $SS_DIR/other.json"
printf '[Session]\nConfigFile=%s/other.json\n' "$SS_DIR" > "$BED_ROOT/etc/session-scripts/session-scripts.conf.d/60-other.conf"
rc=0; out=$(bed_exec session-scripts install-bundle /var/tmp/v2.zip 2>&1) || rc=$?
echo "$out"
ss_assert_contains "$out" "Note: ConfigFile=$SS_DIR/other.json is configured, so the bundle is not what runs" "note"
ss_assert_not_contains "$out" $'\e[' "no colours without a terminal"
# The daemon either accepts the Reload (and logs that it keeps the previous config) or fails it
# with InvalidConfig; then the tool says so and exits 3.
if [ "$rc" = 3 ]; then
        ss_assert_contains "$out" "the daemon refused the configuration" "InvalidConfig reported"
        ss_assert_contains "$out" "keeps the previous one" "InvalidConfig: previous config kept"
else
        ss_assert_eq "$rc" 0 "install-bundle with another ConfigFile="
fi
rc=0; json=$(bed_exec session-scripts install-bundle --json /var/tmp/v2.zip) || rc=$?
ss_assert_eq "$(json_get "d['installed'], d['active'], d['dropin'], d['reload_requested']" <<<"$json")" \
        "(True, False, None, True)" "--json with another ConfigFile="
if [ "$rc" = 3 ]; then
        ss_assert_contains "$(json_get "d['reload_error']" <<<"$json")" "keeps the previous one" "--json InvalidConfig"
else
        ss_assert_eq "$rc,$(json_get "d['reloaded']" <<<"$json")" "0,True" "--json reload"
fi
rm -f "$BED_ROOT/etc/session-scripts/session-scripts.conf.d/60-other.conf"
bed_exec systemctl reload session-scripts.service

# ---- s3:// ----------------------------------------------------------------------------------------
s3_start
make_zip v3.zip v3
s3_put bundles/v3.zip "$ZIPS/v3.zip"
cat > "$BED_ROOT/etc/session-scripts/session-scripts.conf.d/60-s3.conf" <<EOC
[S3]
Endpoint=$S3_ENDPOINT
Region=$S3_REGION
EOC
url="s3://$S3_BUCKET/bundles/v3.zip"
# No instance metadata service in the bed unless a test points the chain at the fixture.
noimds=(env AWS_EC2_METADATA_DISABLED=true)

# The environment.
rc=0; out=$(bed_exec "${noimds[@]}" AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
        session-scripts install-bundle "$url" 2>&1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "install-bundle s3://"
ss_assert_eq "$(bed_exec cat "$BUNDLE/share/readme.txt")" "version v3" "v3 installed from S3"
rc=0; out=$(bed_exec "${noimds[@]}" AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY=wrong \
        session-scripts install-bundle "$url" 2>&1) || rc=$?
ss_assert_eq "$rc" 2 "bad credentials"
ss_assert_contains "$out" "HTTP status 403" "bad credentials message"
rc=0; out=$(bed_exec "${noimds[@]}" session-scripts install-bundle "$url" 2>&1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 2 "no credentials"
ss_assert_contains "$out" "no AWS credentials" "no credentials message"

# A shared credentials file with a profile: AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE. Its
# [default] is wrong, so a success proves the profile was used.
mkdir -p "$BED_ROOT/root/creds"
cat > "$BED_ROOT/root/creds/credentials" <<EOC
[default]
aws_access_key_id = $S3_ACCESS_KEY
aws_secret_access_key = wrong

[bundles]
aws_access_key_id = $S3_ACCESS_KEY
aws_secret_access_key = $S3_SECRET_KEY
EOC
chmod 0600 "$BED_ROOT/root/creds/credentials"
bed_exec sh -c "echo v2 > $BUNDLE/share/readme.txt"
rc=0; json=$(bed_exec "${noimds[@]}" AWS_SHARED_CREDENTIALS_FILE=/root/creds/credentials AWS_PROFILE=bundles \
        session-scripts install-bundle --json "$url") || rc=$?
echo "$json"
ss_assert_eq "$rc" 0 "s3:// with a credentials file profile (AWS_PROFILE)"
ss_assert_eq "$(json_get "d['credentials'], d['installed'], d['reloaded']" <<<"$json")" \
        "('credentials file', True, True)" "s3:// --json credentials file"
ss_assert_eq "$(bed_exec cat "$BUNDLE/share/readme.txt")" "version v3" "v3 installed with file credentials"
rc=0; out=$(bed_exec "${noimds[@]}" AWS_SHARED_CREDENTIALS_FILE=/root/creds/credentials \
        session-scripts install-bundle "$url" 2>&1) || rc=$?
ss_assert_eq "$rc" 2 "the file's [default] profile (wrong secret)"
ss_assert_contains "$out" "HTTP status 403" "[default] profile used without AWS_PROFILE"
# The profile from [S3] Profile= of the settings.
echo "Profile=bundles" >> "$BED_ROOT/etc/session-scripts/session-scripts.conf.d/60-s3.conf"
rc=0; out=$(bed_exec "${noimds[@]}" AWS_SHARED_CREDENTIALS_FILE=/root/creds/credentials \
        session-scripts install-bundle "$url" 2>&1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "s3:// with [S3] Profile="
# The environment comes first: wrong keys there win over a good file.
rc=0; out=$(bed_exec "${noimds[@]}" AWS_SHARED_CREDENTIALS_FILE=/root/creds/credentials \
        AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY=wrong session-scripts install-bundle "$url" 2>&1) || rc=$?
ss_assert_eq "$rc" 2 "environment before the file"
# ~/.aws/credentials when AWS_SHARED_CREDENTIALS_FILE is unset (HOME=/root).
mkdir -p "$BED_ROOT/root/.aws"
cp "$BED_ROOT/root/creds/credentials" "$BED_ROOT/root/.aws/credentials"
rc=0; json=$(bed_exec "${noimds[@]}" session-scripts install-bundle --json "$url") || rc=$?
ss_assert_eq "$rc,$(json_get "d['credentials']" <<<"$json")" "0,credentials file" "s3:// with ~/.aws/credentials"
rm -rf "$BED_ROOT/root/.aws"
sed -i '/^Profile=/d' "$BED_ROOT/etc/session-scripts/session-scripts.conf.d/60-s3.conf"

# IMDSv2 last: a local fixture (on the host; the container shares its network) serves the keys with
# a session token; the chain asks it (token PUT, role, credentials) and signs with what it got.
work=$BED_TMP/imds
mkdir -p "$work"
port=$((20000 + RANDOM % 20000))
printf '{"AccessKeyId": "%s", "SecretAccessKey": "%s", "Token": "bed-token", "LifetimeSeconds": 3600}\n' \
        "$S3_ACCESS_KEY" "$S3_SECRET_KEY" > "$work/creds.json"
: > "$work/imds.log"
python3 "$MESON_SOURCE_ROOT/tests/integration/upload/imds-fixture.py" "$port" bed-bundle-role \
        "$work/creds.json" "$work/imds.log" &
for _ in $(seq 50); do
        curl -s -o /dev/null -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "http://127.0.0.1:$port/latest/api/token" && break
        sleep 0.1
done
: > "$work/imds.log"
rc=0; json=$(bed_exec env AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port" \
        session-scripts install-bundle --json "$url") || rc=$?
echo "$json"
cat "$work/imds.log"
grep -q '^PUT /latest/api/token no-token$' "$work/imds.log" || bed_fail "no IMDSv2 token request"
grep -q '^GET /latest/meta-data/iam/security-credentials/ token-ok$' "$work/imds.log" || bed_fail "no IMDS role request"
grep -q '^GET /latest/meta-data/iam/security-credentials/bed-bundle-role token-ok$' "$work/imds.log" ||
        bed_fail "no IMDS credentials request"
# The bed's radosgw has no STS configured, so it accepts the keys and ignores the session token.
ss_assert_eq "$rc" 0 "s3:// with IMDS credentials"
ss_assert_eq "$(json_get "d['credentials'], d['installed']" <<<"$json")" "('instance metadata (IMDSv2)', True)" \
        "--json IMDS source"

echo "PASS"
