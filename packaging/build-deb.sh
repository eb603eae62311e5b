#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the Debian package from a clean copy of the source tree, never touching the tree itself:
# copies the files git knows about (tracked, plus untracked files that are not ignored) into a
# temporary directory, adds packaging/debian as debian/, runs `dpkg-buildpackage -b -us -uc` there
# and moves the resulting .deb (and .buildinfo/.changes) into the output directory.
#
# Usage: packaging/build-deb.sh [-o OUTDIR] [-- DPKG-BUILDPACKAGE-OPTIONS...]
#   OUTDIR defaults to ./session-scripts-deb in the current directory (must not be inside the
#   source tree). DEB_BUILD_OPTIONS is passed through (e.g. DEB_BUILD_OPTIONS=nocheck).
# Needs: git, dpkg-dev, debhelper, fakeroot and the Build-Depends of packaging/debian/control
# (`apt-get build-dep ./packaging/debian` does not work for a non-root debian dir; use
# `dpkg-checkbuilddeps packaging/debian/control` to see what is missing).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outdir=$PWD/session-scripts-deb
while [ $# -gt 0 ]; do
        case $1 in
        -o) outdir=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '3,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "build-deb.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
        esac
done

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
case $outdir/ in
"$src"/*) echo "build-deb.sh: the output directory must be outside the source tree" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/session-scripts-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/session-scripts

# The clean tree: what git would commit, no build directories, no editor droppings.
mkdir -p "$tree"
(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$src" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
        (cd "$src" && tar --null -T - -cf -) | tar -C "$tree" -xf -
rm -rf "$tree/debian"
cp -a "$tree/packaging/debian" "$tree/debian"

dpkg-checkbuilddeps "$tree/debian/control"
(cd "$tree" && dpkg-buildpackage -b -us -uc "$@")

shopt -s nullglob
files=("$work"/*.deb "$work"/*.ddeb "$work"/*.buildinfo "$work"/*.changes)
[ ${#files[@]} -gt 0 ] || { echo "build-deb.sh: dpkg-buildpackage produced no package" >&2; exit 1; }
mv -f "${files[@]}" "$outdir/"
echo "build-deb.sh: packages in $outdir:"
ls -1 "$outdir"
