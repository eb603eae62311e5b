#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# packaging/rpm/session-scripts.spec builds with rpmbuild (packaging/build-rpm.sh, from a clean copy
# of the tree) and the binary RPM holds the pieces an RPM-based image needs: the PAM module, the
# daemon, the uploader, the CLI, both units, the D-Bus files, tmpfiles/sysusers, the catalog and the
# man pages. Skips (77) without rpmbuild (tests/install-deps.sh installs the "rpm" package).
set -euo pipefail

src=${MESON_SOURCE_ROOT:?}
command -v rpmbuild >/dev/null || { echo "SKIP: rpmbuild is not installed"; exit 77; }
command -v git >/dev/null || { echo "SKIP: git is not installed"; exit 77; }

out=$(mktemp -d "${TMPDIR:-/tmp}/session-scripts-rpm-test.XXXXXX")
trap 'rm -rf "$out"' EXIT

if ! bash "$src/packaging/build-rpm.sh" -o "$out" >"$out/build.log" 2>&1; then
        tail -n 40 "$out/build.log"
        echo "FAIL: rpmbuild failed"
        exit 1
fi

rpm_file=$(ls "$out"/session-scripts-[0-9]*.x86_64.rpm "$out"/session-scripts-[0-9]*.*.rpm 2>/dev/null |
        grep -v '\.src\.rpm$' | head -n1)
[ -n "$rpm_file" ] || { echo "FAIL: no binary RPM in $out"; ls "$out"; exit 1; }
ls "$out"/*.src.rpm >/dev/null || { echo "FAIL: no source RPM"; exit 1; }

files=$(rpm -qlp "$rpm_file" 2>/dev/null)
status=0
for want in '/security/pam_session_scripts\.so$' '/session-scriptsd$' '/session-scripts-exec$' '/session-scripts-upload$' \
            '/bin/session-scripts$' '/session-scripts\.service$' '/session-scripts-upload\.service$' \
            '/system\.d/org\.sessionscripts\.SessionScripts1\.conf$' \
            '/system-services/org\.sessionscripts\.SessionScripts1\.service$' \
            '/interfaces/org\.sessionscripts\.Manager1\.xml$' '/tmpfiles\.d/session-scripts\.conf$' \
            '/sysusers\.d/session-scripts\.conf$' '/catalog/session-scripts\.catalog$' \
            '/man8/pam_session_scripts\.8' '/man5/session-scripts-config\.json\.5' '/man1/session-scripts\.1'; do
        if ! grep -qE "$want" <<<"$files"; then
                echo "FAIL: the RPM lacks a file matching $want"
                status=1
        fi
done
[ "$status" = 0 ] && echo "PASS: $(basename "$rpm_file") ($(grep -c . <<<"$files") files)"
exit $status
