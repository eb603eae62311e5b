#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian package end to end: builds the .deb from a clean copy of the tree
# (packaging/build-deb.sh, unit tests skipped: they ran in this suite already), boots a container
# *without* the meson install layer, installs the package with dpkg, and checks what a fresh image
# gets: both units enabled and running, the PAM module added to common-session after pam_systemd by
# pam-auth-update (and not to common-session-noninteractive), the man pages, the catalog. A
# config.json written by hand after that runs at the next login (no restart needed). Then an
# Elastic-fleet bundle is installed with `session-scripts install-bundle`, and a login through
# Debian's own "login" stack runs its scripts. Removing the package takes the module out of the PAM
# stack; purging removes the state and keeps the administrator's scripts.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
bed_init

for tool in dpkg-buildpackage dh git; do
        command -v "$tool" >/dev/null || bed_skip "$tool is not installed (tests/install-deps.sh installs it)"
done

# Build the package first: the container must not wait for it.
DEB_OUT=$BED_TMP/deb
bed_log "building the .deb"
DEB_BUILD_OPTIONS=nocheck bash "$MESON_SOURCE_ROOT/packaging/build-deb.sh" -o "$DEB_OUT" \
        >"$BED_TMP/build-deb.log" 2>&1 || { tail -n 40 "$BED_TMP/build-deb.log" >&2; bed_fail "building the .deb failed"; }
deb=$(ls "$DEB_OUT"/session-scripts_*.deb)

BED_INSTALL=none bed_boot

bed_exec test ! -e /usr/libexec/session-scriptsd || bed_fail "the daemon is there before the package"
cp "$deb" "$BED_ROOT/var/tmp/session-scripts.deb"
out=$(bed_exec env DEBIAN_FRONTEND=noninteractive dpkg -i /var/tmp/session-scripts.deb 2>&1) || { echo "$out"; bed_fail "dpkg -i failed"; }
echo "$out"

# ---- what the package installed and set up ------------------------------------------------------
for unit in session-scripts.service session-scripts-upload.service; do
        ss_assert_eq "$(bed_exec systemctl is-enabled "$unit" || true)" enabled "$unit enabled"
done
bed_wait_until 10 bed_exec systemctl is-active --quiet session-scripts.service ||
        bed_fail "session-scripts.service is not running after install"
bed_exec getent passwd session-scripts-upload >/dev/null || bed_fail "no session-scripts-upload user"
bed_exec test -d /var/lib/session-scripts/spool || bed_fail "no spool directory"
bed_exec sh -c 'ls /usr/lib/*/security/pam_session_scripts.so' >/dev/null || bed_fail "no PAM module"
bed_exec test -f /usr/share/man/man8/pam_session_scripts.8.gz || bed_fail "no man page"
ss_assert_contains "$(bed_exec journalctl --list-catalog)" "7ec314af1ab0431aab9db584883c9563 session-scripts:" \
        "the journald catalog was rebuilt with our entries"

session=$(bed_exec cat /etc/pam.d/common-session)
echo "$session"
ss_assert_contains "$session" "pam_session_scripts.so" "pam-auth-update added the module"
systemd_line=$(grep -n 'pam_systemd.so' <<<"$session" | cut -d: -f1)
ours_line=$(grep -n 'pam_session_scripts.so' <<<"$session" | cut -d: -f1)
[ -n "$systemd_line" ] && [ "$ours_line" -gt "$systemd_line" ] ||
        bed_fail "pam_session_scripts.so is not after pam_systemd.so in common-session"
ss_assert_not_contains "$(bed_exec cat /etc/pam.d/common-session-noninteractive)" "pam_session_scripts.so" \
        "the module must not be in common-session-noninteractive (user@.service, cron)"

# ---- config.json written by hand after the package started the daemon: the next login runs it ----
ss_prepare_out
ss_install_script hand-start.sh <<'EOS'
#!/bin/sh
echo "hand-written config runs for $AppStream_Session_User"
touch /var/tmp/ss-out/hand-start
EOS
ss_install_config <<EOS
{ "SessionStart": { "executables": [ { "context": "system", "filename": "$SS_DIR/hand-start.sh" } ],
                    "waitingTime": 10 } }
EOS
out=$(ss_login login bob open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login with a hand-written config"
ss_wait_for 10 test -e $SS_OUT/hand-start ||
        bed_fail "a config.json written after the daemon started did not run at the next login"

# ---- a bundle, then a real login through Debian's "login" stack ----------------------------------
ss_prepare_out
python3 - "$BED_ROOT/var/tmp/bundle.zip" "$SS_DIR/SessionScript" <<'EOP'
import json, stat, sys, zipfile
path, bundle = sys.argv[1:3]
config = {"SessionStart": {"executables": [
              {"context": "system", "filename": bundle + "/start-system.sh", "arguments": ""},
              {"context": "user", "filename": bundle + "/start-user.sh", "arguments": "'from the bundle'"}],
              "waitingTime": 10},
          "SessionTermination": {"executables": [
              {"context": "system", "filename": bundle + "/end-system.sh", "arguments": ""}],
              "waitingTime": 10}}
scripts = {
    "start-system.sh": '#!/bin/sh\necho "system start for $AppStream_Session_User"\nid -u > /var/tmp/ss-out/start-system\n',
    "start-user.sh": '#!/bin/sh\necho "user start: $1"\nid -un > /var/tmp/ss-out/start-user\n',
    "end-system.sh": '#!/bin/sh\necho "system end"\ntouch /var/tmp/ss-out/end-system\n',
}
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    def add(name, data, mode):
        zi = zipfile.ZipInfo(name)
        zi.create_system = 3
        zi.external_attr = (stat.S_IFREG | mode) << 16
        z.writestr(zi, data)
    add("config.json", json.dumps(config), 0o644)
    for name, data in scripts.items():
        add(name, data, 0o755)
EOP
out=$(bed_exec session-scripts install-bundle /var/tmp/bundle.zip 2>&1) || { echo "$out"; bed_fail "install-bundle failed"; }
echo "$out"
ss_assert_contains "$out" "The daemon reloaded its configuration." "reload after install-bundle"

out=$(ss_login login alice open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login through the packaged PAM configuration"
ss_assert_eq "$(ss_file $SS_OUT/start-system)" 0 "system start script ran as root"
ss_assert_eq "$(ss_file $SS_OUT/start-user)" alice "user start script ran as alice"
ss_wait_for 10 test -e $SS_OUT/end-system || bed_fail "the termination script did not run"
bed_wait_journal 10 '^user start: from the bundle$' -o cat SESSION_SCRIPTS_USER=alice ||
        bed_fail "the user script's line is not in the journal"
bed_wait_journal 10 '^system end$' -o cat SESSION_SCRIPTS_EVENT=SessionTermination ||
        bed_fail "the termination script's line is not in the journal"
# Exactly one SessionStart per login: user@.service's own PAM session (systemd-user) is skipped.
starts=$(bed_journal -o cat MESSAGE_ID=7ec314af1ab0431aab9db584883c9563 SESSION_SCRIPTS_EVENT=SessionStart \
        SESSION_SCRIPTS_CONTEXT=system SESSION_SCRIPTS_USER=alice | grep -c . || true)
ss_assert_eq "$starts" 1 "SessionStart system runs for one login"
out=$(bed_exec session-scripts status 2>&1) || true
echo "$out"
ss_assert_contains "$out" "$SS_DIR/SessionScript/config.json: valid" "status shows the bundle's config"

# ---- remove and purge -------------------------------------------------------------------------
bed_exec env DEBIAN_FRONTEND=noninteractive dpkg -r session-scripts >/dev/null 2>&1 || bed_fail "dpkg -r failed"
ss_assert_not_contains "$(bed_exec cat /etc/pam.d/common-session)" "pam_session_scripts.so" \
        "removal takes the module out of common-session"
out=$(ss_login login bob open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login after removal"
bed_exec env DEBIAN_FRONTEND=noninteractive dpkg -P session-scripts >/dev/null 2>&1 || bed_fail "dpkg -P failed"
bed_exec test ! -e /var/lib/session-scripts || bed_fail "purge left /var/lib/session-scripts"
bed_exec test ! -e /etc/session-scripts || bed_fail "purge left /etc/session-scripts"
bed_exec test -f "$SS_DIR/SessionScript/config.json" || bed_fail "purge removed the administrator's scripts"

echo "PASS"
