# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Helpers shared by the adversarial scenarios (sourced first, in place of tests/integration/lib.sh):
# the shared helpers of lib.sh (ss_install_script, ss_pam_stack, ss_login, …) plus what an
# attack scenario needs to prove that nothing happened: a file's identity, and a listing of the
# container's persistent file systems to compare before and after.

# shellcheck source=tests/integration/lib.sh
source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"

# adv_stat PATH — type, mode, owner, size, inode, ctime (a chmod or chown to the same values still
# moves it) and SHA-256 of PATH inside the container, on one line.
adv_stat() {
        bed_exec sh -c 'printf "%s %s\n" "$(stat -c "%F %a %u:%g %s %i %Z" "$1")" "$(sha256sum < "$1" | cut -c1-64)"' \
                sh "$1"
}

# adv_fs_snapshot — one sorted line per file of the container (type, mode, owner, path; for what
# is not a directory also size and ctime), leaving out what changes by itself while a scenario
# runs: the virtual and volatile file systems, logs, caches, systemd's state and the daemon's spool,
# and /var/tmp where the scenarios keep their files. Two snapshots that differ show what an attempt
# changed anywhere else. (A directory's size and ctime move whenever an entry comes and goes, as
# the installer's temporary directory does next to the bundle; its mode and owner must not.)
adv_fs_snapshot() {
        bed_exec find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
                -o -path /var/tmp -o -path /var/log -o -path /var/cache -o -path /var/lib/systemd \
                -o -path /var/lib/session-scripts \) -prune \
                -o -type d -printf '%y %m %U:%G %p\n' -o -printf '%y %m %U:%G %s %C@ %p\n' | sort
}

# adv_assert_same_snapshot BEFORE-FILE WHAT — fails with the differences when the container's files
# are no longer what adv_fs_snapshot wrote into BEFORE-FILE (on the host).
adv_assert_same_snapshot() {
        local before=$1 what=$2 diff
        diff=$(adv_fs_snapshot | diff "$before" - || true)
        [ -z "$diff" ] || bed_fail "$what changed files outside what it may touch:"$'\n'"$diff"
}
