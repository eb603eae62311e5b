#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs every Debian package that building session-scripts and running all of its test suites
# need on the host (Debian 12, as root). Idempotent and quiet when everything is there: the package
# index is refreshed ("apt-get update") only when a package is missing, and apt-get install runs only
# then. The mirror comes from the host's own apt configuration; no host name is written here.
#
# Not root: prints what is missing and exits 0 when nothing is, 1 otherwise.
# --missing: prints the missing packages, one a line, and installs nothing.

set -euo pipefail

# Build: compiler, meson, the libraries of the top-level meson.build, and clang's runtime for the
# sanitizer and libFuzzer builds.
build_packages=(
        meson ninja-build pkg-config gcc clang libclang-rt-14-dev
        libsystemd-dev libjson-c-dev libcurl4-openssl-dev libpam0g-dev libssl-dev libarchive-dev
)

# Tests: pamtester for the 'pam' suite; for the integration bed (tests/integration/bed.sh) a Debian
# rootfs (debootstrap), a booted systemd (systemd-nspawn from systemd-container), nsenter/flock/mount
# (util-linux), curl for signed S3 requests and Ceph's radosgw + one monitor + one OSD as the S3
# server; python3 for tests/run-all.sh's summary; scdoc, man-db and groff-base for the man pages and
# their render test; git, debhelper, dpkg-dev, fakeroot and rpm to build the .deb and the RPM.
test_packages=(
        pamtester curl python3 util-linux procps psmisc scdoc man-db groff-base
        git debhelper dpkg-dev fakeroot rpm
        debootstrap systemd-container
        radosgw ceph-mon ceph-osd ceph-common
)

missing=()
for p in "${build_packages[@]}" "${test_packages[@]}"; do
        # "install ok installed" is the only state in which a package's files are really there.
        if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
                missing+=("$p")
        fi
done

# --missing: only print what is missing, one package a line (for .ci/run, which installs it).
if [ "${1:-}" = --missing ]; then
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
