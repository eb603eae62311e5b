#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Renders every manual page given as an argument the way a user reads it (man-db + groff, UTF-8,
# at two terminal widths) with all warnings enabled. Any diagnostic on stderr fails the test; a
# machine without man(1) skips it (exit 77).
set -uo pipefail

if ! command -v man >/dev/null 2>&1; then
        echo "man(1) not installed (packages man-db, groff-base): skipping"
        exit 77
fi
if [ $# -eq 0 ]; then
        echo "usage: $0 PAGE..." >&2
        exit 2
fi

status=0
for page in "$@"; do
        for width in 80 120; do
                # man writes the formatted page to stdout (not a terminal: no pager) and every
                # groff warning to stderr.
                # groff >= 1.23 (Debian 13) also reports every line it cannot justify ("cannot
                # adjust line", e.g. one holding a long path): typography, not a defect, so not
                # counted.
                if ! err=$(MANWIDTH=$width man --warnings -l -E UTF-8 "$page" 2>&1 >/dev/null); then
                        echo "FAIL: $page: man exited with an error: $err"
                        status=1
                elif err=$(grep -v 'warning \[[^]]*\]: cannot adjust line$' <<<"$err"); [ -n "$err" ]; then
                        echo "FAIL: $page (MANWIDTH=$width):"
                        printf '%s\n' "$err"
                        status=1
                fi
        done
        if ! MANWIDTH=80 man -l -E UTF-8 "$page" 2>/dev/null | grep -q .; then
                echo "FAIL: $page rendered to nothing"
                status=1
        fi
done
[ $status -eq 0 ] && echo "all $# pages render without warnings"
exit $status
