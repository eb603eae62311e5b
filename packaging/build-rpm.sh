#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the RPM packages with rpmbuild from a clean copy of the source tree: makes
# session-scripts-VERSION.tar.gz from the files git knows about (tracked, plus untracked files that
# are not ignored), runs `rpmbuild -ba packaging/rpm/session-scripts.spec` in a temporary _topdir
# and moves the resulting RPMs into the output directory.
#
# Usage: packaging/build-rpm.sh [-o OUTDIR] [-- RPMBUILD-OPTIONS...]
#   OUTDIR defaults to ./session-scripts-rpm in the current directory (outside the source tree).
#   On a machine whose package manager is not RPM (e.g. Debian with the "rpm" package), the build
#   dependencies cannot be checked by rpmbuild, so --nodeps is added automatically, and the meson
#   and systemd macros such a machine lacks come from packaging/rpm/macros.non-rpm-host.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outdir=$PWD/session-scripts-rpm
while [ $# -gt 0 ]; do
        case $1 in
        -o) outdir=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '3,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "build-rpm.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
        esac
done

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
case $outdir/ in
"$src"/*) echo "build-rpm.sh: the output directory must be outside the source tree" >&2; exit 2 ;;
esac

spec=$src/packaging/rpm/session-scripts.spec
version=$(rpmspec -q --qf '%{version}\n' --srpm "$spec" 2>/dev/null || sed -n 's/^Version:[[:space:]]*//p' "$spec")

work=$(mktemp -d "${TMPDIR:-/tmp}/session-scripts-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}

(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$src" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
        (cd "$src" && tar --null -T - --transform "s,^,session-scripts-$version/," -czf \
                "$work/SOURCES/session-scripts-$version.tar.gz")
cp "$spec" "$work/SPECS/"

extra=()
rpm -q rpm >/dev/null 2>&1 || extra+=(--nodeps)
# Without the distribution's meson and systemd macros (rpm on Debian) the spec refuses to build;
# load equivalent definitions, loudly (see packaging/rpm/macros.non-rpm-host).
if [ -z "$(rpm --eval '%{?systemd_post:yes}')" ]; then
        echo "build-rpm.sh: this rpm has no systemd-rpm-macros; using packaging/rpm/macros.non-rpm-host" >&2
        extra+=(--load "$src/packaging/rpm/macros.non-rpm-host")
fi
rpmbuild -ba --define "_topdir $work" "${extra[@]}" "$@" "$work/SPECS/session-scripts.spec"

find "$work/RPMS" "$work/SRPMS" -name '*.rpm' -exec mv -f {} "$outdir/" \;
echo "build-rpm.sh: packages in $outdir:"
ls -1 "$outdir"
