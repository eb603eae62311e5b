#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Loads the bash completion of session-scripts (argument 1) with a minimal stand-in for
# bash-completion's helpers and checks what it offers for verbs, options and `run`'s events, and
# that session ids come from `sessions --json --no-auto-start` (a TAB must not start the daemon).

set -euo pipefail
export LC_ALL=C
# Stand-ins for bash-completion (the real ones need an interactive shell's COMP_* state).
_init_completion() {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]:-}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
}
_filedir() { COMPREPLY=(FILES); }
# A stand-in for the tool: records how the completion calls it, answers like `sessions --json`.
SESSIONS_CALLS=$(mktemp)
trap 'rm -f "$SESSIONS_CALLS"' EXIT
session-scripts() {
        echo "$*" >>"$SESSIONS_CALLS"
        printf '[\n  {\n    "id": "sess-a1",\n    "user": "alice"\n  },\n  {\n    "id": "sess-b2",\n    "user": "bob"\n  }\n]\n'
}
# shellcheck source=/dev/null
source "$1"

# complete WORDS… — runs the completion function for the command line WORDS (the last one is the
# word being completed) and prints the offers, sorted, on one line.
complete_line() {
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMPREPLY=()
        _session_scripts
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

check() {
        local expected=$1
        shift
        local got
        got=$(complete_line "$@")
        if [ "$got" != "$expected" ]; then
                echo "FAIL: '$*' completes to '$got', expected '$expected'" >&2
                exit 1
        fi
        echo "ok: '$*' → $got"
}

check "--help --version -h install-bundle logs run sessions status validate wait-home-folder" session-scripts ""
check "run" session-scripts ru
check "SessionStart SessionTermination" session-scripts run ""
check "SessionTermination" session-scripts run SessionT
check "--help --json --session-id --user -h -u" session-scripts run -
check "--follow --help --json -f -h" session-scripts logs -
check "--failures --help --json -h" session-scripts status -
check "--help --json --no-auto-start -h" session-scripts sessions -
check "--help --json --no-reload -h" session-scripts install-bundle -
check "FILES" session-scripts install-bundle ""
check "--help --json --no-file-checks -h" session-scripts validate -
check "--help --home --json --timeout -h" session-scripts wait-home-folder -
check "root" session-scripts run SessionStart --user roo
check "sess-a1 sess-b2" session-scripts logs ""
check "sess-b2" session-scripts logs sess-b
calls=$(sort -u "$SESSIONS_CALLS")
if [ "$calls" != "sessions --json --no-auto-start" ]; then
        echo "FAIL: the completion called the tool as '$calls', expected 'sessions --json --no-auto-start'" >&2
        exit 1
fi
echo "ok: session ids from 'sessions --json --no-auto-start'"
