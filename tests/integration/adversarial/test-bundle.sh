#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A hostile bundle, installed by root with `session-scripts install-bundle`: config.json naming
# ".../SessionScript/../../../../etc/shadow" (the installer used to make it 0755), config.json naming
# /etc/shadow itself, symlinks planted in the installed bundle directory (a file and a directory,
# both pointing into /etc) that config.json then names, and zip entries that try the same by
# themselves ("../../../../etc/shadow", "/etc/shadow", a symlink as the executable, a symlinked
# directory with a file below it). Each is refused with a sentence saying why (exit 1); /etc/shadow
# keeps its mode, owner, inode, ctime and content; no file of the container outside the volatile
# trees changed (the installed bundle included); no temporary directory is left behind.

source "$MESON_SOURCE_ROOT/tests/integration/adversarial/adversarial-lib.sh"
scenario_begin

BUNDLE=$SS_DIR/SessionScript
ZIPS=$BED_TMP/zips
mkdir -p "$ZIPS"

# make_zip KIND — $ZIPS/KIND.zip, a bundle with config.json, bin/start.sh and share/readme.txt
# (saying KIND), made hostile as KIND says; copied to /var/tmp/KIND.zip inside.
make_zip() {
        python3 - "$ZIPS/$1.zip" "$1" "$BUNDLE" <<'EOP'
import json, stat, sys, zipfile
path, kind, bundle = sys.argv[1:4]
exe = {
    "config-dotdot": bundle + "/../../../../etc/shadow",
    "config-absolute": "/etc/shadow",
    "config-planted-file": bundle + "/planted.sh",
    "config-planted-dir": bundle + "/planted-dir/shadow",
}.get(kind, bundle + "/bin/start.sh")
config = {"SessionStart": {"executables": [{"context": "system", "filename": exe, "arguments": ""}],
                           "waitingTime": 10}}
def add(z, name, data, mode):
    zi = zipfile.ZipInfo(name)
    zi.create_system = 3
    zi.external_attr = mode << 16
    z.writestr(zi, data)
evil = "root::0:0:99999:7:::\n"
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    add(z, "config.json", json.dumps(config), stat.S_IFREG | 0o644)
    if kind == "entry-symlink-exe":
        add(z, "bin/start.sh", "/etc/shadow", stat.S_IFLNK | 0o777)
    else:
        add(z, "bin/start.sh", "#!/bin/sh\ntouch /var/tmp/ss-out/bundle-ran\n", stat.S_IFREG | 0o755)
    add(z, "share/readme.txt", kind + "\n", stat.S_IFREG | 0o644)
    if kind == "entry-dotdot":
        add(z, "../../../../etc/shadow", evil, stat.S_IFREG | 0o777)
    elif kind == "entry-absolute":
        add(z, "/etc/shadow", evil, stat.S_IFREG | 0o777)
    elif kind == "entry-symlink-dir":
        add(z, "etc", "/etc", stat.S_IFLNK | 0o777)
        add(z, "etc/shadow", evil, stat.S_IFREG | 0o777)
EOP
        cp "$ZIPS/$1.zip" "$BED_ROOT/var/tmp/$1.zip"
}

ss_prepare_out
mkdir -p "$BED_ROOT$SS_DIR"
chmod 0755 "$BED_ROOT/opt" "$BED_ROOT/opt/appstream" "$BED_ROOT$SS_DIR"
ss_start_daemon

# ---- a good bundle first: what is installed must stay as it is ----------------------------------
make_zip good
rc=0; out=$(bed_exec session-scripts install-bundle /var/tmp/good.zip 2>&1) || rc=$?
echo "$out"
ss_assert_eq "$rc" 0 "the good bundle installs"
ss_assert_eq "$(bed_exec cat "$BUNDLE/share/readme.txt")" "good" "good bundle installed"
# Symlinks planted in the installed bundle directory (as if left by an earlier tool): a bundle that
# names them must not reach /etc through them.
bed_exec ln -s /etc/shadow "$BUNDLE/planted.sh"
bed_exec ln -s /etc "$BUNDLE/planted-dir"

shadow_before=$(adv_stat /etc/shadow)
echo "/etc/shadow: $shadow_before"
ss_assert_contains "$shadow_before" "regular file 640 0:42" "/etc/shadow as Debian ships it"
adv_fs_snapshot > "$BED_TMP/before.snapshot"
[ "$(wc -l < "$BED_TMP/before.snapshot")" -gt 1000 ] || bed_fail "the snapshot lists too few files"
# Nothing changes by itself between two snapshots (else the comparison below would prove nothing).
adv_assert_same_snapshot "$BED_TMP/before.snapshot" "the idle container"

# ---- the attempts -----------------------------------------------------------------------------
declare -A expect=(
        [config-dotdot]="which is not a plain path inside the bundle"
        [config-absolute]="which is outside the bundle directory"
        [config-planted-file]="which the bundle does not contain"
        [config-planted-dir]="which the bundle does not contain"
        [entry-dotdot]="not a safe relative path"
        [entry-absolute]="not a safe relative path"
        [entry-symlink-exe]="symbolic links are not allowed"
        [entry-symlink-dir]="symbolic links are not allowed"
)
for kind in config-dotdot config-absolute config-planted-file config-planted-dir \
            entry-dotdot entry-absolute entry-symlink-exe entry-symlink-dir; do
        make_zip "$kind"
        rc=0; out=$(bed_exec session-scripts install-bundle "/var/tmp/$kind.zip" 2>&1) || rc=$?
        echo "$kind → $rc: $out"
        # The harm first, then the refusal.
        ss_assert_eq "$(adv_stat /etc/shadow)" "$shadow_before" "$kind: /etc/shadow (mode, owner, inode, ctime, content)"
        ss_assert_eq "$rc" 1 "$kind: install-bundle exit status"
        ss_assert_contains "$out" "bundle /var/tmp/$kind.zip refused" "$kind: refusal"
        ss_assert_contains "$out" "${expect[$kind]}" "$kind: reason"
        ss_assert_eq "$(bed_exec cat "$BUNDLE/share/readme.txt")" "good" "$kind: the installed bundle"
        ss_assert_eq "$(bed_exec sh -c "ls -A $SS_DIR | grep -c '^\.SessionScript' || true")" 0 "$kind: leftovers"
        adv_assert_same_snapshot "$BED_TMP/before.snapshot" "install-bundle of $kind"
done

# The same refusal in --json: not installed, the reason in the document.
rc=0; json=$(bed_exec session-scripts install-bundle --json /var/tmp/config-dotdot.zip 2>/dev/null) || rc=$?
ss_assert_eq "$rc" 1 "config-dotdot --json exit status"
ss_assert_eq "$(python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["installed"], d["files"])' <<<"$json")" \
        "False []" "config-dotdot --json"
ss_assert_contains "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["error"])' <<<"$json")" \
        "not a plain path inside the bundle" "config-dotdot --json reason"
ss_assert_eq "$(adv_stat /etc/shadow)" "$shadow_before" "/etc/shadow after --json"
bed_exec test ! -e "$SS_OUT/bundle-ran" || bed_fail "a refused bundle's script ran"

echo "PASS"
