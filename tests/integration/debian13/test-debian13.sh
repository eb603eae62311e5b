#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Debian 13 (trixie) from source to login, on whatever Debian the host runs (CI runs Debian 12):
#
#  1. a cached Debian 13 build root: debootstrap trixie plus the project's own dependency list
#     (tests/install-deps.sh --unit, run inside it, so the list itself is tested on Debian 13);
#  2. the tree is built there (gcc 14, meson 1.7, json-c 0.18, Linux-PAM 1.7) with -Dwerror=true,
#     on a scratch overlay over the cached root, and its 'unit' and 'pam' suites run there; a
#     skipped test fails the scenario;
#  3. that build is installed (meson install) into a booted trixie container (the bed with
#     BED_SUITE=trixie, the Debian 13 build as its only install layer) and a real login runs
#     through pam_systemd + pam_session_scripts (pamtester): SessionStart and SessionTermination
#     executables of both contexts run, their output and summaries are in the journal, and the
#     module was found by its relative name (so the PAM module directory meson derived is the one
#     Debian 13's libpam searches); with README.md's settings example (only bucket, region and
#     endpoint replaced by the bed's S3 server) every run's log reaches S3, `status` says uploads
#     work, and a trailing comment in a drop-in is reported with file:line by `validate --settings`
#     and `status`.
#
# Measured on a 2-core machine (Debian 12 host, the mirror over the internet): cold, i.e. neither the
# build root nor the trixie rootfs cached, about 12 minutes (build root 351 s: debootstrap and the
# build dependencies; trixie rootfs for the bed about 280 s; the rest as warm); warm 72 s (build
# 26 s, unit + pam suites 30 s, boot 4 s, login with uploads 10 s). Both caches are rebuilt only
# when what makes them changes (install-deps.sh, the package lists). The "debian13 timings" line at
# the end says how long each step took.
#
# BED_MIRROR picks the mirror; by default it is the one the host's apt sources use for trixie, else
# the one they use for the host's own release.

BED_SUITE=trixie
BED_INSTALL=none
source "$MESON_SOURCE_ROOT/tests/integration/upload/upload-lib.sh"
bed_init

D13_BUILD_TIMEOUT=${D13_BUILD_TIMEOUT:-1200}
d13_start=$(bed__now)
timings=()

# The host's apt sources name only the host's release; Debian serves every release from the same
# mirror, so without a trixie line the host release's mirror is used.
if [ -z "${BED_MIRROR:-}" ]; then
        host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
        BED_MIRROR=$(bed__mirror 2>/dev/null || BED_SUITE=$host_suite bed__mirror) ||
                bed_fail "no Debian mirror in the host's apt sources (set BED_MIRROR)"
fi
export BED_MIRROR

# Runs inside the fresh build root (chroot) once, at cache time; part of the cache key.
d13__configure_buildroot() {
        set -e
        export DEBIAN_FRONTEND=noninteractive
        bash /tmp/install-deps.sh --unit
        apt-get clean
        rm -rf /var/lib/apt/lists/*
}

# d13__mount ROOT / d13__umount ROOT: /proc, /dev and a fresh /tmp for a chroot into ROOT (this
# scenario's mount namespace is private, so the mounts never reach the host and vanish with it).
d13__mount() {
        mount -t proc proc "$1/proc"
        mount --rbind /dev "$1/dev"
        mount --make-rslave "$1/dev"
        mount -t tmpfs -o mode=1777 tmpfs "$1/tmp"
}
d13__umount() {
        umount "$1/tmp" 2>/dev/null || true
        umount -R "$1/dev" 2>/dev/null || umount -lR "$1/dev" 2>/dev/null || true
        umount "$1/proc" 2>/dev/null || true
}

# d13__build_buildroot TMP: debootstrap of BED_SUITE into TMP/root with the build dependencies.
d13__build_buildroot() {
        local tmp=$1
        bed_log "building the $BED_SUITE build root (debootstrap from $BED_MIRROR)"
        if ! timeout "$D13_BUILD_TIMEOUT" debootstrap --variant=minbase "$BED_SUITE" "$tmp/root" \
                "$BED_MIRROR" >"$tmp/debootstrap.log" 2>&1; then
                tail -n 30 "$tmp/debootstrap.log" >&2
                bed_log "debootstrap failed"
                return 1
        fi
        cat /etc/resolv.conf >"$tmp/root/etc/resolv.conf"
        d13__mount "$tmp/root"
        cp "$MESON_SOURCE_ROOT/tests/install-deps.sh" "$tmp/root/tmp/install-deps.sh"
        if ! timeout "$D13_BUILD_TIMEOUT" chroot "$tmp/root" /bin/bash -c \
                "$(declare -f d13__configure_buildroot); d13__configure_buildroot" \
                >"$tmp/configure.log" 2>&1; then
                d13__umount "$tmp/root"
                tail -n 40 "$tmp/configure.log" >&2
                bed_log "installing the build dependencies in the build root failed"
                return 1
        fi
        d13__umount "$tmp/root"
}

# Prints the cached build root, building it first when missing (bed_cached_tree).
d13_buildroot() {
        local key
        key=$({ echo "buildroot 1 $BED_SUITE"; cat "$MESON_SOURCE_ROOT/tests/install-deps.sh";
                declare -f d13__configure_buildroot; } | sha256sum | cut -c1-16)
        bed_cached_tree buildroot "$BED_CACHE_DIR/buildroot-$BED_SUITE-$key" .d13-complete d13__build_buildroot
}

# The source tree as git would commit it (tracked and untracked-but-not-ignored files), else
# everything but build directories.
d13__copy_source() {
        local src=$MESON_SOURCE_ROOT dest=$1
        mkdir -p "$dest"
        if command -v git >/dev/null && git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
                (cd "$src" && git ls-files -z --cached --others --exclude-standard) |
                        (cd "$src" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
                        (cd "$src" && tar --null -T - -cf -) | tar -C "$dest" -xf -
        else
                tar -C "$src" --exclude='./build*' -cf - . | tar -C "$dest" -xf -
        fi
}

# ---- 1. the build root
t=$(bed__now)
buildroot=$(d13_buildroot) || bed_fail "cannot build the $BED_SUITE build root"
timings+=("buildroot $(bed__elapsed "$t")s")

# ---- 2. build and unit + pam suites, on a scratch overlay over the cached build root
t=$(bed__now)
mkdir "$BED_TMP/d13" "$BED_TMP/d13/upper" "$BED_TMP/d13/work" "$BED_TMP/d13/root"
mount -t overlay overlay -o "lowerdir=$buildroot,upperdir=$BED_TMP/d13/upper,workdir=$BED_TMP/d13/work" \
        "$BED_TMP/d13/root" || bed_fail "cannot mount the build root's overlay"
broot=$BED_TMP/d13/root
d13__copy_source "$broot/src"
d13__mount "$broot"
chroot "$broot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 /bin/bash -c '
        set -e
        . /etc/os-release
        echo "build root: $PRETTY_NAME, $(gcc --version | head -n1), meson $(meson --version)," \
             "json-c $(pkg-config --modversion json-c), libpam $(pkg-config --modversion pam)"
        meson setup -Dwerror=true -Dintegration=false -Dfuzz=false /build /src >/build.log 2>&1 ||
                { tail -n 40 /build.log; exit 1; }
        grep "PAM module directory" /build.log || true
        meson compile -C /build >>/build.log 2>&1 || { grep -E -B2 -A8 "error|warning" /build.log | tail -n 60; exit 1; }
        echo "built"
' || bed_fail "the tree does not build on $BED_SUITE"
timings+=("build $(bed__elapsed "$t")s")

t=$(bed__now)
set +e
tests_out=$(chroot "$broot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        meson test -C /build --suite unit --suite pam --print-errorlogs --num-processes 2 2>&1)
tests_rc=$?
set -e
echo "$tests_out"
[ "$tests_rc" = 0 ] || bed_fail "the unit or pam suite failed on $BED_SUITE"
grep -Eq '^Skipped: +0 *$' <<<"$tests_out" || bed_fail "a unit or pam test was skipped on $BED_SUITE (a skip is not a pass)"
grep -Eq '^Ok: +[1-9][0-9]* *$' <<<"$tests_out" || bed_fail "no unit or pam test ran on $BED_SUITE"
grep -Eq 'pam-module-dir +OK' <<<"$tests_out" || bed_fail "pam-module-dir did not pass on $BED_SUITE"
timings+=("unit+pam $(bed__elapsed "$t")s")

chroot "$broot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin meson install --quiet --no-rebuild -C /build \
        --destdir /install >"$BED_TMP/d13/install.log" 2>&1 ||
        { cat "$BED_TMP/d13/install.log" >&2; bed_fail "meson install of the $BED_SUITE build failed"; }
pamlibdir=$(cd "$broot/install" && find . -name pam_session_scripts.so -printf '%h\n' | sed 's|^\.||')
[ -n "$pamlibdir" ] || bed_fail "the $BED_SUITE build installs no pam_session_scripts.so"
echo "$BED_SUITE build installs the PAM module into $pamlibdir"
mv "$broot/install" "$BED_TMP/d13/install"
d13__umount "$broot"
umount "$broot" || umount -l "$broot"

# ---- 3. boot trixie with that build installed, and log in
# The container is merged-/usr: the install tree is folded into usr/ as the bed does its own.
d13_install() {
        local layer=$BED_TMP/d13/install
        bed_fold_merged_usr "$layer"
        cp -a "$layer/." "$1/"
}
t=$(bed__now)
bed_boot d13_install
timings+=("boot $(bed__elapsed "$t")s")
t=$(bed__now)

codename=$(bed_exec sh -c '. /etc/os-release && echo "$VERSION_CODENAME"')
ss_assert_eq "$codename" "$BED_SUITE" "the container's release"
missing_libs=$(bed_exec sh -c 'ldd /usr/libexec/session-scriptsd /usr/libexec/session-scripts-upload \
        /usr/bin/session-scripts '"$pamlibdir"'/pam_session_scripts.so | grep "not found" || true')
[ -z "$missing_libs" ] || bed_fail "the $BED_SUITE build lacks libraries in the $BED_SUITE container: $missing_libs"

SID=d13-session-1
ss_prepare_out
for ev in start term; do
        for ctx in system user; do
                ss_install_script "$ev-$ctx.sh" <<EOF
#!/bin/sh
echo "\$AppStream_Session_Event \$AppStream_Session_Context \$(id -un)" >> $SS_OUT/$ev-$ctx
echo "debian13-$ev-$ctx-line"
EOF
        done
done
ss_install_config <<EOF
{
  "SessionStart": { "executables": [
      { "context": "system", "filename": "$SS_DIR/start-system.sh" },
      { "context": "user", "filename": "$SS_DIR/start-user.sh" } ], "waitingTime": 20 },
  "SessionTermination": { "executables": [
      { "context": "system", "filename": "$SS_DIR/term-system.sh" },
      { "context": "user", "filename": "$SS_DIR/term-user.sh" } ], "waitingTime": 20 }
}
EOF
bed_exec session-scripts validate "$SS_DIR/config.json" || bed_fail "config.json is not valid on $BED_SUITE"

# The settings: README.md's example as it stands, with only the site's values (bucket, region,
# endpoint) replaced by the bed's S3 server. A settings problem would show in validate and status;
# the uploads below prove the example works as written.
s3_start
mkdir -p "$BED_ROOT/etc/session-scripts"
awk '/^## Settings/ { s = 1 } s && /^```ini/ { p = 1; next } p && /^```/ { exit } p' "$MESON_SOURCE_ROOT/README.md" |
        sed -e "s|^Bucket=.*|Bucket=$S3_BUCKET|" -e "s|^Region=.*|Region=$S3_REGION|" \
            -e "s|^#Endpoint=.*|Endpoint=$S3_ENDPOINT|" >"$BED_ROOT/etc/session-scripts/session-scripts.conf"
grep -q '^StackName=my-stack$' "$BED_ROOT/etc/session-scripts/session-scripts.conf" ||
        bed_fail "no settings example with StackName=my-stack in README.md"
out=$(bed_exec session-scripts validate --settings) || { echo "$out"; bed_fail "README's settings example is not valid"; }
echo "$out"
bed_exec systemd-sysusers >/dev/null 2>&1 || true
bed_exec install -d -m 0770 -o root -g session-scripts-upload "$UP_SPOOL"
up_env_keys
up_start
cat > "$BED_ROOT/etc/ss-test-env.conf" <<EOF
AppStream_Session_ID DEFAULT=$SID
EOF
ss_pam_stack ss-test "" "session required pam_env.so readenv=0 conffile=/etc/ss-test-env.conf"
ss_start_daemon

out=$(ss_login ss-test alice open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "pamtester exit status"
ss_assert_contains "$out" "successfully opened a session"
ss_assert_not_contains "$out" "Session script" "no failure message expected"
# A module libpam could not load is only a journal line from "session optional": insist on it.
if bed_journal -o cat | grep -E 'PAM unable to dlopen|pam_session_scripts.so.*(cannot open|No such file)'; then
        bed_fail "libpam did not load pam_session_scripts.so on $BED_SUITE"
fi

ss_assert_eq "$(ss_file $SS_OUT/start-system)" "SessionStart system root" "SessionStart, system context"
ss_assert_eq "$(ss_file $SS_OUT/start-user)" "SessionStart user alice" "SessionStart, user context"
ss_wait_for 20 test -s $SS_OUT/term-user || bed_fail "SessionTermination, user context did not run"
ss_assert_eq "$(ss_file $SS_OUT/term-system)" "SessionTermination system root" "SessionTermination, system context"
ss_assert_eq "$(ss_file $SS_OUT/term-user)" "SessionTermination user alice" "SessionTermination, user context"

bed_wait_journal 20 'debian13-term-user-line' -o cat || bed_fail "the last run's output is not in the journal"
for ev in SessionStart SessionTermination; do
        for ctx in system user; do
                unit=$(ss_run_unit $SID $ev $ctx)
                [[ "$unit" == *.scope ]] || bed_fail "no summary entry with a scope for $ev/$ctx: '$unit'"
                case $ev in SessionStart) e=start ;; *) e=term ;; esac
                ss_assert_contains "$(bed_journal -o cat -u "$unit")" "debian13-$e-$ctx-line" \
                        "journalctl -u $unit shows the $ev/$ctx output"
        done
done
# Every run's log reached S3 under the README example's stack name, and status says uploads work.
up_wait_empty 60
objects=$(s3_list "my-stack/" | sort)
echo "$objects"
for ev in SessionStart SessionTermination; do
        for ctx in system user; do
                grep -q "/$SID/SessionScriptsLogs/$ev/$ctx\.log\$" <<<"$objects" || bed_fail "no S3 object for $ev/$ctx"
        done
done
case $(up_object "$(grep "/SessionStart/user\.log\$" <<<"$objects")") in
*debian13-start-user-line*) ;;
*) bed_fail "the uploaded SessionStart/user log lacks the script's output" ;;
esac
status=$(bed_exec session-scripts status || true)
echo "$status"
ss_assert_contains "$status" "Settings:  /etc/session-scripts/session-scripts.conf: no problems" "status: settings"
ss_assert_contains "$status" "Uploads:   s3://$S3_BUCKET/ (Region=$S3_REGION, Endpoint=$S3_ENDPOINT): working" "status: uploads"
ss_assert_contains "$status" "last upload at" "status: last upload"

# A trailing comment is refused, and both validate --settings and status say where.
mkdir -p "$BED_ROOT/etc/session-scripts/session-scripts.conf.d"
printf '[S3]\nBucket=%s   # the logs bucket\n' "$S3_BUCKET" \
        >"$BED_ROOT/etc/session-scripts/session-scripts.conf.d/50-comment.conf"
rc=0; out=$(bed_exec session-scripts validate --settings) || rc=$?
echo "$out"
ss_assert_eq "$rc" 1 "validate --settings with a trailing comment"
ss_assert_contains "$out" "/etc/session-scripts/session-scripts.conf.d/50-comment.conf:2: error: Bucket= has a trailing comment" \
        "validate --settings names file and line"
status=$(bed_exec session-scripts status || true)
ss_assert_contains "$status" "Settings:  1 problem: these assignments are ignored" "status: settings problem"
ss_assert_contains "$status" "50-comment.conf:2: Bucket= has a trailing comment" "status: settings problem's place"

summaries=$(ss_summaries $SID | sort)
echo "summaries:"
echo "$summaries"
ss_assert_eq "$summaries" "SessionStart system success
SessionStart user success
SessionTermination system success
SessionTermination user success" "one successful run per event and context"
timings+=("login $(bed__elapsed "$t")s")

echo "debian13 timings: ${timings[*]} total $(bed__elapsed "$d13_start")s"
echo "OK: built, tested and logged in on $BED_SUITE"
