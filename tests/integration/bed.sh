# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# The integration test bed: a booted systemd (systemd-nspawn) with the freshly built project
# installed, real PAM logins (pamtester, pam_systemd, logind) and a real S3 server (Ceph radosgw,
# tests/integration/s3-server.sh) on the host's loopback. Sourced by every scenario:
#
#   source "$MESON_SOURCE_ROOT/tests/integration/bed.sh"
#   bed_init        # re-executes the scenario in private PID + mount namespaces; exit 77 when unusable
#   bed_boot        # overlay (cached Debian rootfs + `meson install` + scratch), boot, wait for "running"
#   bed_exec systemctl …; bed_exec_user alice …; bed_journal …; s3_start; s3_get …
#
# The API is described in tests/integration/README.md. Everything a scenario starts (container,
# S3 server, mounts) is torn down when the scenario exits, also on failure and on meson's timeout:
# the scenario itself runs as PID 1 of a private PID namespace and in a private mount namespace, so
# even a SIGKILL leaves no process and no mount behind on the host.

# ---- Settings ------------------------------------------------------------------------------------

# Bump to rebuild every cached rootfs (part of the cache key, with the package list and the
# rootfs configuration code).
BED_VERSION=1

# The Debian release of the container: the host's own (VERSION_CODENAME of /etc/os-release), since
# the build installed into it was linked against the host's libraries; BED_SUITE=trixie (etc.)
# boots another one, for a build made for that release (tests/integration/debian13). What it needs
# at run time: systemd as PID 1, D-Bus, logind via pam_systemd, pamtester for logins, the project's
# runtime libraries (json-c, curl, libarchive, OpenSSL: renamed with a "t64" suffix from Debian 13
# on, the 64-bit time_t transition), curl for signed S3 requests from inside, procps/psmisc for
# assertions. The suite and the package list are part of the cache key: one cached rootfs each.
BED_SUITE=${BED_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}
BED_SUITE=${BED_SUITE:-bookworm}
case $BED_SUITE in
buster|bullseye|bookworm) bed__runtime_libs="libjson-c5 libcurl4 libarchive13 libssl3" ;;
*) bed__runtime_libs="libjson-c5 libcurl4t64 libarchive13t64 libssl3t64" ;;
esac
BED_PACKAGES="systemd systemd-sysv dbus libpam-systemd libpam-modules pamtester
$bed__runtime_libs ca-certificates curl procps psmisc util-linux"

BED_CACHE_DIR=${BED_CACHE_DIR:-/var/cache/session-scripts-testbed}

# Hard bounds (seconds): building the rootfs (debootstrap downloads ~100 MB), booting to
# is-system-running, and the container's exit after its PID 1 was killed.
BED_BUILD_TIMEOUT=${BED_BUILD_TIMEOUT:-900}
BED_BOOT_TIMEOUT=${BED_BOOT_TIMEOUT:-90}
BED_JOURNAL_DUMP_LINES=${BED_JOURNAL_DUMP_LINES:-300}

# The cgroup setup the container boots with (see README.md, "cgroup hierarchy"): "unified" (pure
# cgroup v2, what every Debian 12/13 host runs; the default), "legacy" (pure cgroup v1: the
# daemon's path without cgroup.events) or "hybrid" (whatever nspawn derives from a hybrid host).
# A scenario sets it before bed_boot.
BED_CGROUP=${BED_CGROUP:-unified}

BED_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

BED_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# ---- Small helpers -------------------------------------------------------------------------------

# bed_log MSG…: progress line on stderr (meson shows it with --print-errorlogs or -v).
bed_log() {
        echo "bed: $*" >&2
}

# Seconds since the epoch with milliseconds, for timings.
bed__now() {
        local t=${EPOCHREALTIME}
        printf '%s\n' "${t%???}"
}

# bed__elapsed START: seconds since START (from bed__now), two decimals.
bed__elapsed() {
        awk -v a="$1" -v b="$(bed__now)" 'BEGIN { printf "%.2f\n", b - a }'
}

# bed_fail MSG: prints MSG, exits 1 (the EXIT trap then dumps the container's journal and tears
# everything down).
bed_fail() {
        echo "FAIL: $*" >&2
        exit 1
}

# bed_skip MSG: the scenario cannot run here (meson counts exit 77 as a skip).
bed_skip() {
        echo "SKIP: $*" >&2
        exit 77
}

# bed_wait_until SECONDS CMD…: runs CMD every 0.1 s until it succeeds; returns 1 after SECONDS.
bed_wait_until() {
        local deadline
        deadline=$(awk -v n="$(bed__now)" -v t="$1" 'BEGIN { printf "%.3f\n", n + t }')
        shift
        while :; do
                "$@" && return 0
                awk -v n="$(bed__now)" -v d="$deadline" 'BEGIN { exit !(n >= d) }' && return 1
                sleep 0.1
        done
}

# ---- Initialisation ------------------------------------------------------------------------------

# bed_init: checks that the bed can run here (root, systemd-nspawn, debootstrap, nsenter, unshare,
# overlayfs) and exits 77 otherwise. Then re-executes the scenario ($0, without arguments) as PID 1
# of a new PID namespace with a private mount namespace and a private /proc — once that process is
# gone, for whatever reason, the kernel kills everything the scenario started (container, S3 server)
# and drops every mount it made. In there it creates the scratch directory and the EXIT trap.
bed_init() {
        if [ -z "${BED_INSIDE_NS:-}" ]; then
                [ "$(id -u)" -eq 0 ] || bed_skip "the integration test bed needs root"
                local tool
                for tool in systemd-nspawn debootstrap nsenter unshare setpriv flock mount umount curl; do
                        command -v "$tool" >/dev/null 2>&1 || bed_skip "$tool is not installed (see tests/install-deps.sh)"
                done
                grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
                grep -qw overlay /proc/filesystems || bed_skip "the kernel has no overlayfs"
                [ -n "${MESON_BUILD_ROOT:-}" ] && [ -n "${MESON_SOURCE_ROOT:-}" ] \
                        || bed_fail "MESON_BUILD_ROOT and MESON_SOURCE_ROOT must be set (run through meson test)"
                export BED_INSIDE_NS=1 BED_CACHE_DIR
                # --kill-child: if unshare itself dies, the scenario (and so the whole namespace)
                # dies with it. Private propagation keeps our mounts away from the host.
                exec unshare --pid --fork --kill-child --mount --propagation private --mount-proc \
                        -- bash "$0"
        fi

        umask 022
        BED_TMP=$(mktemp -d "${BED_TMPDIR:-/tmp}/ssbed.XXXXXX") || bed_fail "cannot create a scratch directory"
        chmod 0755 "$BED_TMP"
        # Held for the scenario's lifetime: marks the scratch directory as in use (see
        # bed__cleanup_stale).
        exec {BED_LOCK_FD}>"$BED_TMP/lock"
        flock -n "$BED_LOCK_FD" || bed_fail "cannot lock $BED_TMP/lock"
        BED_MACHINE=ssbed-${BED_TMP##*.}
        BED_NSPAWN_PID=
        BED_PID1=
        BED_ROOT=
        BED_OVERLAY=
        BED_BOOTED=0
        export BED_TMP BED_MACHINE
        trap 'bed__on_exit' EXIT
        # meson sends SIGTERM to the process group on timeout and SIGKILL 0.5 s later; handle
        # SIGTERM/SIGINT as a failure so the EXIT trap runs (as far as it gets).
        trap 'echo "bed: interrupted by SIGTERM (meson timeout?)" >&2; exit 143' TERM
        trap 'echo "bed: interrupted by SIGINT" >&2; exit 130' INT
        bed__cleanup_stale
}

# Removes what earlier runs that were SIGKILLed may have left outside their namespaces: empty
# cgroups of containers and nspawn's bookkeeping directories of machines named ssbed-*. Only
# removes what is unused (rmdir of a cgroup fails while it has processes).
bed__cleanup_stale() {
        local d
        # A scratch directory is stale when no process holds its lock (and it is not brand new:
        # its owner takes the lock right after creating it).
        while IFS= read -r -d '' d; do
                [ -f "$d/lock" ] || continue
                if flock -n "$d/lock" true 2>/dev/null; then
                        if ! findmnt -rn -o TARGET | grep -qF "$d/"; then
                                rm -rf --one-file-system "$d"
                        fi
                fi
        done < <(find "${BED_TMPDIR:-/tmp}" -maxdepth 1 -name 'ssbed.*' -type d -mmin +1 -print0 2>/dev/null)
        # Cgroups of containers whose scenario is gone (its scratch directory was removed).
        for d in /sys/fs/cgroup/systemd/ssbed-* /sys/fs/cgroup/unified/ssbed-* /sys/fs/cgroup/ssbed-*; do
                [ -d "$d" ] || continue
                [ -d "${BED_TMPDIR:-/tmp}/ssbed.${d##*/ssbed-}" ] && continue
                find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
        done
        # nspawn's bookkeeping of a container that was SIGKILLed along with its scenario.
        for d in /run/systemd/nspawn/propagate/ssbed-*; do
                [ -d "$d" ] || continue
                [ -d "${BED_TMPDIR:-/tmp}/ssbed.${d##*/ssbed-}" ] || rm -rf "$d"
        done
}

# ---- The cached rootfs ---------------------------------------------------------------------------

# Prints the mirror URL of the main Debian archive from the host's apt sources (one-line
# sources.list format and deb822 .sources files), skipping the security archive. BED_MIRROR
# overrides it.
bed__mirror() {
        if [ -n "${BED_MIRROR:-}" ]; then
                echo "$BED_MIRROR"
                return 0
        fi
        local f
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                [ -f "$f" ] || continue
                # deb [options] URL SUITE COMPONENTS…
                awk -v suite="$BED_SUITE" '
                        $1 == "deb" {
                                i = 2
                                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                                if ($(i + 1) == suite && $i !~ /security/) { print $i; exit }
                        }' "$f"
        done | head -n1 | grep . && return 0
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -f "$f" ] || continue
                # Stanzas are separated by empty lines; take URIs of one with Types: deb and the
                # plain suite in Suites:.
                awk -v suite="$BED_SUITE" '
                        function flush() {
                                if (deb && has_suite && uri != "" && uri !~ /security/ && enabled) { print uri; found = 1; exit }
                                deb = 0; has_suite = 0; uri = ""; enabled = 1
                        }
                        BEGIN { enabled = 1 }
                        /^[ \t]*$/ { flush(); next }
                        /^#/ { next }
                        tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
                        tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has_suite = 1 }
                        tolower($1) == "uris:" { uri = $2 }
                        tolower($1) == "enabled:" { enabled = (tolower($2) != "no") }
                        END { if (!found) flush() }' "$f"
        done | head -n1 | grep .
}

# Runs inside the fresh rootfs (chroot) once, at cache time. Part of the cache key: editing it
# rebuilds the cache.
bed__configure_rootfs() {
        set -e
        echo testbed >/etc/hostname
        printf '127.0.0.1\tlocalhost\n127.0.1.1\ttestbed\n::1\tlocalhost ip6-localhost ip6-loopback\n' >/etc/hosts
        # Empty machine-id: every boot gets a fresh one (nspawn hands the container's random UUID).
        : >/etc/machine-id
        ln -sf /etc/machine-id /var/lib/dbus/machine-id
        echo 'LANG=C.UTF-8' >/etc/default/locale
        # Quiet logins: no motd, no uname banner.
        : >/etc/motd
        rm -f /etc/update-motd.d/*
        mkdir -p /etc/systemd/journald.conf.d /etc/systemd/system.conf.d
        # Volatile journal (nothing to keep: the overlay's upper layer is scratch) and no rate
        # limit, so assertions on log lines never miss one.
        printf '[Journal]\nStorage=volatile\nRateLimitIntervalSec=0\nRuntimeMaxUse=64M\n' \
                >/etc/systemd/journald.conf.d/testbed.conf
        # A unit that hangs on stop must not hold up a test for 90 s.
        printf '[Manager]\nDefaultTimeoutStopSec=10s\n' >/etc/systemd/system.conf.d/testbed.conf
        # Nothing reads a console, and timers/maintenance jobs only slow the boot down or fire
        # in the middle of a test.
        systemctl mask --quiet console-getty.service container-getty@.service getty@.service \
                apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
                e2scrub_reap.service fstrim.timer systemd-pstore.service systemd-tmpfiles-clean.timer
        systemctl set-default --quiet multi-user.target
        local u
        for u in alice bob $(seq -f 'user%02g' 1 20); do
                useradd --create-home --shell /bin/bash "$u"
        done
        apt-get clean
        rm -rf /var/lib/apt/lists/*
}

# Prints the cache key: hash of the bed version, suite, package list and configuration code.
bed__cache_key() {
        { echo "$BED_VERSION $BED_SUITE"; echo $BED_PACKAGES; declare -f bed__configure_rootfs; } \
                | sha256sum | cut -c1-16
}

# bed_cached_tree KIND DIR MARKER BUILD-FUNCTION: prints DIR, a cached tree, building it first when
# DIR/MARKER is missing. BUILD-FUNCTION TMP builds the tree in TMP/root (TMP is a fresh directory in
# BED_CACHE_DIR; failing, it returns non-zero and the cache is left as it was); the tree then gets
# MARKER and is renamed into place. Under an exclusive lock per KIND, so parallel runs neither race
# nor see a half-built tree; leftovers of an interrupted build of the same KIND are removed first.
bed_cached_tree() {
        local kind=$1 dir=$2 marker=$3 build=$4 tmp fd start
        if [ -f "$dir/$marker" ]; then
                echo "$dir"
                return 0
        fi
        mkdir -p "$BED_CACHE_DIR" && chmod 0755 "$BED_CACHE_DIR" || return 1
        exec {fd}>"$BED_CACHE_DIR/.lock-$kind"
        flock "$fd"
        if [ ! -f "$dir/$marker" ]; then
                # Nobody else builds this KIND while we hold the lock.
                rm -rf --one-file-system "$BED_CACHE_DIR/.tmp-$kind-"*
                tmp=$BED_CACHE_DIR/.tmp-$kind-$$
                mkdir -p "$tmp"
                start=$(bed__now)
                "$build" "$tmp" || { exec {fd}>&-; return 1; }
                touch "$tmp/root/$marker"
                mv -T "$tmp/root" "$dir"
                rm -rf "$tmp"
                bed_log "$kind built in $(bed__elapsed "$start") s"
        fi
        exec {fd}>&-
        echo "$dir"
}

# bed__build_rootfs TMP: debootstrap of BED_SUITE with BED_PACKAGES into TMP/root, configured.
bed__build_rootfs() {
        local tmp=$1 mirror
        mirror=$(bed__mirror) || { bed_log "no Debian mirror found in the apt sources (set BED_MIRROR)"; return 1; }
        bed_log "building the rootfs (debootstrap $BED_SUITE from $mirror)"
        if ! timeout "$BED_BUILD_TIMEOUT" debootstrap --variant=minbase \
                --include="$(echo $BED_PACKAGES | tr ' ' ,)" "$BED_SUITE" "$tmp/root" "$mirror" \
                >"$tmp/debootstrap.log" 2>&1; then
                tail -n 30 "$tmp/debootstrap.log" >&2
                bed_log "debootstrap failed"
                return 1
        fi
        # Debootstrap leaves /proc and /sys mounted only in our private mount namespace.
        if ! chroot "$tmp/root" /bin/bash -c "$(declare -f bed__configure_rootfs); bed__configure_rootfs" \
                >"$tmp/configure.log" 2>&1; then
                cat "$tmp/configure.log" >&2
                bed_log "configuring the rootfs failed"
                return 1
        fi
}

# bed__rootfs: prints the cached rootfs directory, building it first when missing.
bed__rootfs() {
        bed_cached_tree rootfs "$BED_CACHE_DIR/rootfs-$(bed__cache_key)" .bed-complete bed__build_rootfs
}

# ---- Booting -------------------------------------------------------------------------------------

# Installs the build into $BED_TMP/install (a layer of its own above the cached rootfs). The
# container is merged-usr: top-level bin/sbin/lib in the layer would hide the rootfs' symlinks,
# so they are folded into usr/.
bed__install_build() {
        local layer=$BED_TMP/install d
        mkdir "$layer" && chmod 0755 "$layer"
        # BED_INSTALL=none: an empty layer, for scenarios that install the project themselves (the
        # .deb scenario must see only what the package brings).
        [ "${BED_INSTALL:-build}" != none ] || return 0
        # One `meson install` at a time per build directory (it writes its install log there).
        if ! flock "$MESON_BUILD_ROOT/meson-private/bed-install.lock" \
                meson install --quiet --no-rebuild -C "$MESON_BUILD_ROOT" --destdir "$layer" \
                >"$BED_TMP/install.log" 2>&1; then
                cat "$BED_TMP/install.log" >&2
                return 1
        fi
        bed_fold_merged_usr "$layer"
}

# bed_fold_merged_usr LAYER: moves a top-level bin, sbin, lib or lib64 of the install tree LAYER into
# LAYER/usr: the container is merged-/usr, and a real directory there would hide its symlinks.
bed_fold_merged_usr() {
        local layer=$1 d
        for d in bin sbin lib lib64; do
                if [ -d "$layer/$d" ] && [ ! -L "$layer/$d" ]; then
                        mkdir -p "$layer/usr/$d"
                        cp -a "$layer/$d/." "$layer/usr/$d/"
                        rm -rf "${layer:?}/$d"
                fi
        done
}

# Prints the cgroup directories the container's nspawn gets moved into on a host whose PID 1 is
# not systemd (without this every such container on the machine would share one "payload" cgroup,
# and two systemds would manage the same tree).
bed__cgroup_dirs() {
        if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
                echo "/sys/fs/cgroup/$BED_MACHINE"
                return
        fi
        [ -d /sys/fs/cgroup/systemd ] && echo "/sys/fs/cgroup/systemd/$BED_MACHINE"
        [ -d /sys/fs/cgroup/unified ] && echo "/sys/fs/cgroup/unified/$BED_MACHINE"
}

# bed_boot [FUNC]: mounts the overlay (install layer + cached rootfs, scratch upper), calls FUNC
# with the overlay's root directory (files placed there are in the container from its first
# instant, e.g. configuration read at boot), boots it with systemd-nspawn and waits until
# `systemctl is-system-running --wait` says "running". Sets BED_ROOT (the container's / as seen
# from the host: /proc/PID1/root, so it includes the container's own tmpfs /run and /tmp),
# BED_OVERLAY (the overlay's root: the same files except /run and /tmp), BED_PID1 (its PID 1 in
# the scenario's PID namespace) and BED_MACHINE.
bed_boot() {
        local pre_boot=${1:-} rootfs start state cg nspawn_args cgroup_env host_systemd=0

        [ -n "${BED_TMP:-}" ] || bed_fail "bed_boot before bed_init"
        [ "$BED_BOOTED" = 0 ] || bed_fail "bed_boot called twice"
        start=$(bed__now)
        rootfs=$(bed__rootfs) || bed_fail "cannot build the rootfs"
        bed__install_build || bed_fail "meson install into the test bed failed"

        mkdir "$BED_TMP/upper" "$BED_TMP/work" "$BED_TMP/root"
        chmod 0755 "$BED_TMP/upper" "$BED_TMP/work" "$BED_TMP/root"
        mount -t overlay overlay \
                -o "lowerdir=$BED_TMP/install:$rootfs,upperdir=$BED_TMP/upper,workdir=$BED_TMP/work" \
                "$BED_TMP/root" || bed_fail "cannot mount the overlay"
        BED_OVERLAY=$BED_TMP/root
        export BED_OVERLAY
        if [ -n "$pre_boot" ]; then
                "$pre_boot" "$BED_OVERLAY" || bed_fail "$pre_boot $BED_OVERLAY failed"
        fi

        # --register=no: no machined on the host. The host network is shared (no
        # --private-network) so 127.0.0.1 inside reaches the S3 server outside.
        nspawn_args=(-q -b -D "$BED_OVERLAY" -M "$BED_MACHINE" --register=no --private-users=no
                     --link-journal=no --console=pipe)
        [ -d /run/systemd/system ] && host_systemd=1
        # nspawn reads the container's cgroup mode from the environment; unset, it copies the
        # host's, which here is a hybrid v1 setup no real host of ours uses.
        case "$BED_CGROUP" in
                unified) cgroup_env=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1) ;;
                legacy) cgroup_env=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0) ;;
                hybrid) cgroup_env=(-u SYSTEMD_NSPAWN_UNIFIED_HIERARCHY -u UNIFIED_CGROUP_HIERARCHY) ;;
                *) bed_fail "BED_CGROUP=$BED_CGROUP: expected unified, legacy or hybrid" ;;
        esac
        if [ "$host_systemd" = 0 ]; then
                # No systemd on the host to create a scope for the container: stay in our own
                # cgroup, which we create first so the container owns a subtree of its own.
                nspawn_args+=(--keep-unit)
                : >"$BED_TMP/cgroups"
                for cg in $(bed__cgroup_dirs); do
                        mkdir -p "$cg" && echo "$cg" >>"$BED_TMP/cgroups"
                done
        fi
        # setsid: the container is stopped by the bed, not by the signals meson sends to the
        # scenario's process group.
        setsid bash -c 'for cg in $(cat "$1"/cgroups 2>/dev/null); do echo $$ >"$cg/cgroup.procs" || exit 1; done
                        shift; exec env "$@"' \
                bed-nspawn "$BED_TMP" "${cgroup_env[@]}" systemd-nspawn "${nspawn_args[@]}" \
                </dev/null >"$BED_TMP/console.log" 2>&1 &
        BED_NSPAWN_PID=$!
        echo "$BED_NSPAWN_PID" >"$BED_TMP/nspawn.pid"

        # The container's PID 1 is nspawn's child in a new PID namespace, once it runs systemd.
        bed__find_pid1() {
                local c
                kill -0 "$BED_NSPAWN_PID" 2>/dev/null || return 2
                for c in $(ps --ppid "$BED_NSPAWN_PID" -o pid= 2>/dev/null); do
                        if [ "$(readlink "/proc/$c/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] &&
                           [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ]; then
                                BED_PID1=$c
                                return 0
                        fi
                done
                return 1
        }
        bed_wait_until 30 bed__find_pid1 || { BED_BOOTED=1; bed_fail "the container did not start (see console log above)"; }
        echo "$BED_PID1" >"$BED_TMP/pid1"
        BED_ROOT=/proc/$BED_PID1/root
        export BED_PID1 BED_ROOT
        BED_BOOTED=1

        # Until systemd listens on its private socket, systemctl says "offline"; then --wait
        # waits for the end of the boot transaction.
        bed__boot_done() {
                state=$(timeout "$BED_BOOT_TIMEOUT" nsenter -t "$BED_PID1" -a -- \
                        env -i PATH="$BED_PATH" systemctl is-system-running --wait 2>/dev/null)
                case "$state" in
                        running|degraded|maintenance|stopping) return 0 ;;
                        *) kill -0 "$BED_NSPAWN_PID" 2>/dev/null || return 0; return 1 ;;
                esac
        }
        bed_wait_until "$BED_BOOT_TIMEOUT" bed__boot_done || bed_fail "the container did not finish booting in ${BED_BOOT_TIMEOUT} s"
        if [ "$state" != running ]; then
                bed_exec systemctl --failed --no-pager >&2 || true
                bed_fail "the container booted to '$state', not 'running'"
        fi
        bed__check_cgroup
        bed_log "container $BED_MACHINE booted in $(bed__elapsed "$start") s (cgroup: $BED_CGROUP)"
}

# Fails unless the container's /sys/fs/cgroup is what BED_CGROUP asked for: a scenario meant for
# one hierarchy must not pass on another because nspawn silently chose differently.
bed__check_cgroup() {
        local top unified
        top=$(bed_exec stat -f -c %T /sys/fs/cgroup)
        unified=$(bed_exec sh -c 'stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || echo none')
        case "$BED_CGROUP/$top/$unified" in
                unified/cgroup2fs/none|legacy/tmpfs/none|hybrid/tmpfs/cgroup2fs) ;;
                *) bed_fail "BED_CGROUP=$BED_CGROUP, but the container has /sys/fs/cgroup $top, /sys/fs/cgroup/unified $unified" ;;
        esac
}

# ---- Running things inside -----------------------------------------------------------------------

# bed_exec CMD ARGS…: runs CMD as root inside the container (all its namespaces; a clean
# environment, cwd /). stdin/stdout/stderr pass through; returns CMD's exit status. The process
# stays in the host's cgroup until something (logind's session scope, systemd-run --scope) moves
# it; on this cgroup-v1-hybrid host that works, see README.md.
bed_exec() {
        [ -n "${BED_PID1:-}" ] || bed_fail "bed_exec before bed_boot"
        nsenter -t "$BED_PID1" -a -- env -i PATH="$BED_PATH" HOME=/root USER=root LOGNAME=root \
                SHELL=/bin/bash LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 "$@"
}

# bed_exec_user USER CMD ARGS…: like bed_exec but as USER (uid, gid and supplementary groups of
# USER, HOME/USER/LOGNAME set, cwd = home). No PAM session is opened.
bed_exec_user() {
        local user=$1 home
        shift
        [ -n "${BED_PID1:-}" ] || bed_fail "bed_exec_user before bed_boot"
        home=$(bed_exec getent passwd "$user" | cut -d: -f6) || bed_fail "no user $user in the container"
        nsenter -t "$BED_PID1" -a -- env -i PATH="$BED_PATH" HOME="$home" USER="$user" LOGNAME="$user" \
                SHELL=/bin/bash LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 \
                setpriv --reuid="$user" --regid="$user" --init-groups -- \
                /bin/sh -c 'cd "$HOME" 2>/dev/null || cd /; exec "$@"' bed_exec_user "$@"
}

# bed_exec_service CMD ARGS…: runs CMD as a transient service of the container's systemd
# (systemd-run --wait --pipe), i.e. inside the container's cgroup tree with a service's clean
# environment, when it matters that the process is a proper unit (bed_exec's processes stay in the
# host's cgroup). stdin/stdout/stderr are piped through; returns CMD's exit status.
bed_exec_service() {
        bed_exec systemd-run --quiet --wait --pipe --collect --service-type=exec -- "$@"
}

# bed_pam_service NAME LINES: writes /etc/pam.d/NAME inside: auth/account/password via
# pam_permit, then LINES (one PAM line per line, usually "session …" lines).
bed_pam_service() {
        local name=$1 lines=$2
        [ -n "${BED_ROOT:-}" ] || bed_fail "bed_pam_service before bed_boot"
        {
                echo "# Written by the integration test bed for one scenario."
                echo "auth     required pam_permit.so"
                echo "account  required pam_permit.so"
                echo "password required pam_permit.so"
                printf '%s\n' "$lines"
        } >"$BED_ROOT/etc/pam.d/$name"
        chmod 0644 "$BED_ROOT/etc/pam.d/$name"
}

# bed_journal [ARGS…]: journalctl inside the container over this boot (no pager, all fields
# printable), after asking journald to write out everything it has received.
bed_journal() {
        bed_exec journalctl --sync >/dev/null 2>&1 || true
        bed_exec journalctl -b --no-pager -q "$@"
}

# bed_wait_journal SECONDS PATTERN [JOURNALCTL ARGS…]: waits until a journal line matches the
# extended regular expression PATTERN.
bed_wait_journal() {
        local secs=$1 pattern=$2
        shift 2
        bed__journal_has() { bed_journal "$@" | grep -Eq -- "$pattern"; }
        bed_wait_until "$secs" bed__journal_has "$@"
}

# ---- Teardown ------------------------------------------------------------------------------------

bed__dump_journal() {
        [ -n "${BED_PID1:-}" ] && kill -0 "$BED_PID1" 2>/dev/null || {
                if [ -s "$BED_TMP/console.log" ]; then
                        echo "---- container console (last 50 lines) ----" >&2
                        tail -n 50 "$BED_TMP/console.log" >&2
                fi
                return 0
        }
        echo "---- container journal (last $BED_JOURNAL_DUMP_LINES lines) ----" >&2
        timeout 10 nsenter -t "$BED_PID1" -a -- env -i PATH="$BED_PATH" \
                journalctl -b --no-pager -q -o short-monotonic -n "$BED_JOURNAL_DUMP_LINES" >&2 || true
        echo "---- end of container journal ----" >&2
}

bed__on_exit() {
        local status=$?
        # Scenarios run with `set -e`; teardown must go on past every failed step.
        set +e
        trap - EXIT
        # A second SIGTERM during teardown must not cut it short.
        trap '' TERM INT
        if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
                [ "${BED_BOOTED:-0}" = 1 ] && bed__dump_journal
                declare -F s3__dump_rgw_log >/dev/null && s3__dump_rgw_log
                if [ "${BED_KEEP:-0}" = 1 ] && [ -n "${BED_PID1:-}" ]; then
                        bed__keep
                fi
        fi
        bed_teardown
        exit "$status"
}

# BED_KEEP=1: on failure, keep the container up until the scenario is interrupted, and say how to
# get a shell in it from the host.
bed__keep() {
        cat >"$BED_TMP/enter" <<EOF
#!/bin/bash
# Opens a shell in the kept test container $BED_MACHINE (run on the host as root).
nspawn=\$(pgrep -o -f -- '-M $BED_MACHINE ') || { echo "container $BED_MACHINE is gone" >&2; exit 1; }
exec nsenter -t "\$(pgrep -P "\$nspawn" -x systemd)" -a -- env -i PATH=$BED_PATH TERM=\${TERM:-dumb} HOME=/root bash -l
EOF
        cat >"$BED_TMP/stop" <<EOF
#!/bin/bash
# Ends the kept test container $BED_MACHINE: interrupts its scenario, which then tears down.
nspawn=\$(pgrep -o -f -- '-M $BED_MACHINE ') || { echo "container $BED_MACHINE is gone" >&2; exit 1; }
kill -TERM "\$(ps -o ppid= -p "\$nspawn")"
EOF
        chmod 0755 "$BED_TMP/enter" "$BED_TMP/stop"
        bed_log "BED_KEEP=1: container $BED_MACHINE kept; overlay at $BED_OVERLAY (visible only in the scenario's mount namespace)"
        bed_log "  shell inside: bash $BED_TMP/enter     tear down: bash $BED_TMP/stop"
        trap 'true' INT TERM
        sleep infinity &
        wait $! || true
        kill $! 2>/dev/null || true
        trap '' INT TERM
}

# bed_teardown: stops the container and the S3 server, unmounts, removes the scratch directory.
# Idempotent; runs from the EXIT trap. (Should all of this be cut short, the PID and mount
# namespaces still take every process and mount with them.)
bed_teardown() {
        local i cg
        if [ -n "${BED_NSPAWN_PID:-}" ]; then
                # The container's data is scratch: no orderly shutdown, SIGKILL its PID 1 (which
                # kills its whole PID namespace) and let nspawn notice and clean up after itself.
                [ -n "${BED_PID1:-}" ] && kill -KILL "$BED_PID1" 2>/dev/null
                for i in $(seq 50); do
                        kill -0 "$BED_NSPAWN_PID" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$BED_NSPAWN_PID" 2>/dev/null
                wait "$BED_NSPAWN_PID" 2>/dev/null
                rm -rf "/run/systemd/nspawn/propagate/$BED_MACHINE"
                BED_NSPAWN_PID=
                BED_PID1=
        fi
        declare -F s3_shutdown >/dev/null && s3_shutdown
        if [ -n "${BED_TMP:-}" ] && [ -d "$BED_TMP" ]; then
                if mountpoint -q "$BED_TMP/root"; then
                        umount "$BED_TMP/root" 2>/dev/null || umount -l "$BED_TMP/root"
                fi
                if [ -f "$BED_TMP/cgroups" ]; then
                        for cg in $(cat "$BED_TMP/cgroups"); do
                                [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
                        done
                fi
                # Never delete through a mount that is still there.
                if ! findmnt -rn -o TARGET | grep -qF "$BED_TMP/"; then
                        rm -rf --one-file-system "$BED_TMP"
                fi
        fi
        return 0
}

# The S3 server (s3_start, s3_stop, s3_pause, s3_resume, s3_get, s3_put, s3_list, s3_curl).
# shellcheck source=tests/integration/s3-server.sh
source "$BED_SRC_DIR/s3-server.sh"
