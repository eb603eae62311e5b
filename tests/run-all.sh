#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the whole test suite from a fresh Debian 12 machine (as root): installs what the build and
# the tests need, builds with -Dwerror=true, runs every suite (unit, pam, fuzz corpus replay,
# integration in a booted systemd container against a real S3 server), then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the unit, pam and fuzz suites there.
#
# Fails when any test fails, and also when the integration suite was skipped or ran nothing (a skip
# is not a pass). The last line is the summary: "summary: N passed, N failed, N skipped".
#
# Environment: BUILD_DIR (default: build/ in the source tree), ASAN_BUILD_DIR (default: build-asan/).

set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$src/build}
asan_build=${ASAN_BUILD_DIR:-$src/build-asan}

bash "$src/tests/install-deps.sh" || { echo "tests/run-all.sh: installing dependencies failed" >&2; exit 1; }

configure() {
        local dir=$1; shift
        if [ -f "$dir/build.ninja" ]; then
                meson configure "$dir" "$@" >/dev/null
        else
                meson setup "$dir" "$src" "$@" >/dev/null
        fi
}

status=0

echo "== build (-Dwerror=true): $build"
configure "$build" -Dwerror=true || exit 1
meson compile -C "$build" || exit 1

echo "== tests: every suite"
meson test -C "$build" --print-errorlogs --num-processes 2 || status=1

echo "== build (ASan + UBSan): $asan_build"
configure "$asan_build" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dintegration=false \
        || exit 1
meson compile -C "$asan_build" || exit 1

echo "== tests under ASan + UBSan: unit, pam, fuzz"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        meson test -C "$asan_build" --print-errorlogs --num-processes 2 --suite unit --suite pam --suite fuzz \
        || status=1

# Count results of both runs from meson's machine-readable logs and insist that the integration
# suite really ran.
python3 - "$build/meson-logs/testlog.json" "$asan_build/meson-logs/testlog.json" <<'PY' || status=1
import json, sys
passed = failed = skipped = integration_ran = integration_skipped = 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            r = t["result"]
            # meson 1.0 writes no "suite" key; its test names are "PROJECT:SUITE / NAME".
            suites = t.get("suite") or [t["name"].split(" / ", 1)[0]]
            integ = any(s.endswith(":integration") for s in suites)
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
                integration_ran += integ
            elif r == "SKIP":
                skipped += 1
                integration_skipped += integ
            else:
                failed += 1
                print(f"failed: {t['name']} ({r})")
bad = False
if integration_ran == 0:
    print("error: the integration suite ran no test")
    bad = True
if integration_skipped:
    print(f"error: {integration_skipped} integration test(s) skipped; a skip is not a pass here")
    bad = True
print(f"summary: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if bad or failed else 0)
PY
exit $status
