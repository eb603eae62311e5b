#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Elastic-fleet bundles: `install-bundle FILE.zip` unpacks into /opt/appstream/SessionScripts/
# SessionScript (root-owned, safe modes), activates it (settings drop-in), reloads the daemon, and a
# real login then runs the bundle's script; evil zips ("..", absolute path, symlink, too many
# entries, invalid config.json) are refused and leave the installed bundle as it was; an invalid
# config.json written behind the tool's back is refused by the daemon's Reload, which keeps the last
# good one (and `status` says so); a second bundle replaces the first; an s3:// bundle is fetched
# with SigV4 from the real S3 server.

set -euo pipefail
source "$MESON_SOURCE_ROOT/tests/integration/bed.sh"
source "$MESON_SOURCE_ROOT/tests/integration/lifecycle/lifecycle-lib.sh"
bed_init
bed_boot

BUNDLE=$SS_DIR/SessionScript
ZIPS=$BED_TMP/zips
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
bed_exec test ! -e "$SS_DIR/evil.sh" || bed_fail "a .. entry escaped the bundle"
bed_exec test ! -e /etc/evil.conf || bed_fail "an absolute entry was written"
rc=0; bed_exec session-scripts install-bundle /var/tmp/no-such.zip >/dev/null 2>&1 || rc=$?
ss_assert_eq "$rc" 2 "missing file"
rc=0; bed_exec_user alice session-scripts install-bundle /var/tmp/v1.zip >/dev/null 2>&1 || rc=$?
ss_assert_eq "$rc" 2 "not root"

# ---- Reload keeps the last good config ------------------------------------------------------------
bed_exec sh -c "echo '{ \"SessionStart\": { \"waitingTime\": 0 } }' > $BUNDLE/config.json"
bed_exec systemctl reload session-scripts.service
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
bed_exec systemctl reload session-scripts.service
rc=0; out=$(bed_exec session-scripts run SessionStart --user alice) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "run with v2"
ss_assert_contains "$out" "SessionStart/system: bundle v2 runs for root" "v2 runs"

# ---- s3:// ----------------------------------------------------------------------------------------
s3_start
make_zip v3.zip v3
s3_put bundles/v3.zip "$ZIPS/v3.zip"
cat >> "$BED_ROOT/etc/session-scripts/session-scripts.conf.d/50-install-bundle.conf" <<EOC
[S3]
Endpoint=$S3_ENDPOINT
Region=$S3_REGION
EOC
rc=0; out=$(bed_exec env AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
        session-scripts install-bundle "s3://$S3_BUCKET/bundles/v3.zip" 2>&1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "install-bundle s3://"
ss_assert_eq "$(bed_exec cat "$BUNDLE/share/readme.txt")" "version v3" "v3 installed from S3"
rc=0; out=$(bed_exec env AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY=wrong \
        session-scripts install-bundle "s3://$S3_BUCKET/bundles/v3.zip" 2>&1) || rc=$?
ss_assert_eq "$rc" 2 "bad credentials"
ss_assert_contains "$out" "HTTP status 403" "bad credentials message"
rc=0; out=$(bed_exec session-scripts install-bundle "s3://$S3_BUCKET/bundles/v3.zip" 2>&1) || rc=$?
ss_assert_eq "$rc" 2 "no credentials"

echo "PASS"
