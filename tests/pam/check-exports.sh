#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks the dynamic symbol table of the built PAM module: it defines exactly the two session
# hooks (pam_session_scripts.sym) and needs no library beyond libpam, libsystemd and libc.
set -eu

module="$1"

defined=$(nm -D --defined-only "$module" | awk '{ print $3 }' | sort | tr '\n' ' ')
if [ "$defined" != "pam_sm_close_session pam_sm_open_session " ]; then
        echo "unexpected exported symbols: $defined" >&2
        exit 1
fi

needed=$(readelf -d "$module" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [ "$needed" != "libc.so.6 libpam.so.0 libsystemd.so.0 " ]; then
        echo "unexpected libraries: $needed" >&2
        exit 1
fi
