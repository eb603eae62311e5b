#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs every Debian package that building session-scripts and running all of its test suites
# need on the host (Debian 12 or 13, as root). Idempotent and quiet when everything is there: the
# package index is refreshed ("apt-get update") only when a package is missing, and apt-get install
# runs only then. The mirror comes from the host's own apt configuration; no host name is written
# here. Package names that differ between releases are picked by what the release has (apt-cache),
# not by a table of release names, so the next release needs no edit as long as the names follow.
#
# Not root: prints what is missing and exits 0 when nothing is, 1 otherwise.
# --missing: prints the missing packages, one a line, and installs nothing (clang's runtime, whose
#   name is only known once clang is installed, see dependent_packages, may show up on the next run).
# --unit: only what building and the 'unit' and 'pam' suites need (no sanitizer runtime, no
#   packaging tools, no test bed, no S3 server); tests/integration/debian13 uses it for its build
#   root. Combines with --missing.

set -euo pipefail

only_unit=0
print_missing=0
for arg in "$@"; do
        case $arg in
        --missing) print_missing=1 ;;
        --unit) only_unit=1 ;;
        *) echo "tests/install-deps.sh: unknown argument '$arg'" >&2; exit 2 ;;
        esac
done

# True when the package index knows PKG as a real package (not only as a virtual one).
apt_has() {
        apt-cache show --no-all-versions "$1" 2>/dev/null | grep "^Package:" >/dev/null
}

# Package names below depend on what the index says; with an empty index (a fresh machine, or a
# fresh debootstrap) they cannot be picked, so refresh it first when we may.
if ! apt_has dpkg && [ "$(id -u)" -eq 0 ]; then
        apt-get update -q >/dev/null
fi

# Major version of the clang that is (or would be) installed: clang's own answer if it is there,
# else the version the "clang" package depends on (clang-14 on Debian 12, clang-19 on Debian 13).
clang_major() {
        if command -v clang >/dev/null 2>&1; then
                clang -dumpversion | cut -d. -f1
        else
                apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n1
        fi
}

# Build: compiler, meson, the libraries of the top-level meson.build. libaudit-dev: Linux-PAM >= 1.6
# (Debian 13) names "audit" in pam.pc (Requires.private), but libpam0g-dev does not pull it in, so
# pkg-config (and meson setup) fail without it; the .deb's Build-Depends name it on every release.
build_packages=(
        meson ninja-build pkg-config gcc
        libsystemd-dev libjson-c-dev libcurl4-openssl-dev libpam0g-dev libaudit-dev libssl-dev libarchive-dev
)

# Unit and pam suites: dbus-daemon for the pam suite's bus cases; scdoc, man-db and groff-base for
# the man pages and their render test.
unit_packages=(dbus scdoc man-db groff-base)

# Tests: clang for the sanitizer and libFuzzer builds; pamtester for logins in the integration bed
# (tests/integration/bed.sh), a Debian rootfs (debootstrap), a booted systemd (systemd-nspawn from
# systemd-container), nsenter/flock/mount (util-linux), curl for signed S3 requests and Ceph's
# radosgw + one monitor + one OSD as the S3 server; python3 for tests/run-all.sh's summary; git,
# debhelper, dpkg-dev, fakeroot and rpm to build the .deb and the RPM.
test_packages=(
        clang
        pamtester curl python3 util-linux procps psmisc
        git debhelper dpkg-dev fakeroot rpm
        debootstrap systemd-container
        radosgw ceph-mon ceph-osd ceph-common
)

# Packages whose name depends on what is installed, so they are decided before and again after
# installing the rest: clang's runtime for the sanitizers and libFuzzer carries clang's major
# version in its name (libclang-rt-14-dev on Debian 12, libclang-rt-19-dev on Debian 13); releases
# before that split ship it in libclang-common-N-dev, which clang itself depends on.
dependent_packages() {
        local major
        [ "$only_unit" = 0 ] || return 0
        major=$(clang_major || true)
        if [ -n "$major" ] && apt_has "libclang-rt-$major-dev"; then
                echo "libclang-rt-$major-dev"
        fi
}

# Prints the wanted packages that are not installed, one a line.
missing_packages() {
        local p wanted=("${build_packages[@]}" "${unit_packages[@]}")

        [ "$only_unit" = 1 ] || wanted+=("${test_packages[@]}")
        for p in "${wanted[@]}" $(dependent_packages); do
                # "install ok installed" is the only state in which a package's files are really
                # there.
                if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
                        echo "$p"
                fi
        done
}

mapfile -t missing < <(missing_packages)

# --missing: only print what is missing, one package a line (for .ci/run, which installs it).
if [ "$print_missing" = 1 ]; then
        [ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
        exit 0
fi

if [ ${#missing[@]} -eq 0 ]; then
        exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
        echo "tests/install-deps.sh: missing packages (run as root to install): ${missing[*]}" >&2
        exit 1
fi

echo "tests/install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Only refresh the index when installing straight from it fails (e.g. a fresh machine whose lists
# are empty or stale).
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# clang's runtime may only now be known (see dependent_packages).
mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -gt 0 ]; then
        echo "tests/install-deps.sh: installing ${missing[*]}" >&2
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
