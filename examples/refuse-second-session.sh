#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# refuse-second-session.sh — a SessionStart script that refuses a second concurrent session of
# the same user (Janssen's "Please, end active session first!"). Install it root:root 0755 under
# /opt/appstream/SessionScripts/, name it in config.json as the "system" executable of
# SessionStart, and put the PAM module on a *required* line with require_success:
#
#     session  required  pam_session_scripts.so require_success
#
# (with "optional" the refusal is only shown, the login goes on; see examples/README.md).
#
# How it decides. The daemon registers every session before any of its start scripts run, so two
# logins at the same instant each see the other one in ListSessions; a lock alone cannot pick a
# winner. Instead the sessions of a user are ordered — by the time they were opened
# (since_realtime_usec, recorded once by the daemon) and then by session id — and a session is
# refused when an *earlier* session of the same user is still active. Both scripts read the same
# listing, so exactly one of any number of simultaneous logins wins, whatever order the scripts run
# in, and running the script again gives the same answer (idempotent; no state of its own).
#
# "Active" means: listed (sessions refused through RefuseSession are never listed), termination
# not started (term_state "not-run"), and no SessionStart run that already failed (such a session
# is being refused right now; its RefuseSession may still be on its way). A manual run of the
# scripts (`session-scripts run`, the daemon's RunEvent) is no login: the daemon lists it with
# term_state "done" from the start (no termination ever follows it), so it never counts — a
# running manual start reads start_state "running", term_state "done", which no login shows (a
# login's termination waits for its start: "pending").
#
# Output: on refusal the last line on stdout is the reason the user sees ("Session refused: …");
# details for the administrator go to stderr (the journal). Exit 1 refuses, 0 allows.

set -u
export LC_ALL=C

readonly REASON="Please end your other session first."
# What to do when the daemon cannot be asked (should not happen: the daemon runs this script).
# 0 = let the session in (a broken policy must not lock every user out), 1 = refuse.
readonly FAIL_CLOSED=0
readonly BUS=(org.sessionscripts.SessionScripts1 /org/sessionscripts/SessionScripts1 org.sessionscripts.Manager1)
# Bound on each bus call; the script as a whole is bounded by the event's waitingTime anyway.
readonly BUS_TIMEOUT=5

log() {
        echo "refuse-second-session: $*" >&2
}

cannot_decide() {
        log "$*"
        if [ "$FAIL_CLOSED" = 1 ]; then
                echo "$REASON"
                exit 1
        fi
        exit 0
}

# tokens TEXT: splits busctl's plain output into one token per line; quoted strings (with their
# C escapes) stay one token, the quotes removed. Session ids and states never contain blanks or
# quotes; user names are not relied upon (sessions are matched by uid).
tokens() {
        local rest=$1 tok
        while [[ $rest =~ ^[[:space:]]*(\"([^\"\\]|\\.)*\"|[^[:space:]]+) ]]; do
                tok=${BASH_REMATCH[1]}
                rest=${rest:${#BASH_REMATCH[0]}}
                if [[ $tok == \"*\" ]]; then
                        tok=${tok:1:${#tok}-2}
                fi
                printf '%s\n' "$tok"
        done
}

me=${AppStream_Session_ID:-}
[ -n "$me" ] || cannot_decide "AppStream_Session_ID is not set; not a session script?"

listing=$(busctl --system --timeout="$BUS_TIMEOUT" call "${BUS[@]}" ListSessions) ||
        cannot_decide "ListSessions failed."
mapfile -t t < <(tokens "$listing")
# a(ssutss) N, then N × (id user uid since start_state term_state)
[ "${t[0]:-}" = "a(ssutss)" ] || cannot_decide "unexpected ListSessions reply: $listing"
n=${t[1]:-0}
[ "${#t[@]}" -eq $((2 + 6 * n)) ] || cannot_decide "unexpected ListSessions reply: $listing"

# Our own entry: its uid and opening time (the daemon's, not ours to guess).
my_uid='' my_since=''
for ((i = 2; i < ${#t[@]}; i += 6)); do
        if [ "${t[i]}" = "$me" ]; then
                my_uid=${t[i + 2]}
                my_since=${t[i + 3]}
        fi
done
if [ -z "$my_uid" ]; then
        # Not listed: refused already (a rerun), or the listing changed meanwhile. The session's
        # PAM user names the uid; treat our session as the newest (largest 64-bit signed value:
        # bash arithmetic is signed).
        my_uid=$(id -u -- "${AppStream_Session_User:-}" 2>/dev/null) ||
                cannot_decide "session $me is not listed and AppStream_Session_User is not a user."
        my_since=9223372036854775807
fi

# failed_start ID: true when a SessionStart run of session ID has already ended unsuccessfully.
failed_start() {
        local runs r
        runs=$(busctl --system --timeout="$BUS_TIMEOUT" call "${BUS[@]}" ListRuns s "$1" 2>/dev/null) || return 1
        mapfile -t r < <(tokens "$runs")
        # a(ssssstit) N, then N × (event context unit executable result exit_status signal duration)
        for ((j = 2; j + 8 <= ${#r[@]}; j += 8)); do
                [ "${r[j]}" = SessionStart ] || continue
                case "${r[j + 4]}" in
                        running|success) ;;
                        *) return 0 ;;
                esac
        done
        return 1
}

for ((i = 2; i < ${#t[@]}; i += 6)); do
        id=${t[i]} user=${t[i + 1]} uid=${t[i + 2]} since=${t[i + 3]} start=${t[i + 4]} term=${t[i + 5]}

        [ "$id" != "$me" ] || continue
        [ "$uid" = "$my_uid" ] || continue
        # Closing or closed, or a manual run (term_state "done" from the start): not active.
        [ "$term" = not-run ] || continue
        # Only an earlier session counts; a later one yields to us (it sees us as earlier).
        if ((since > my_since)) || { ((since == my_since)) && [[ $id > $me ]]; }; then
                continue
        fi
        # Its start already failed: it is being refused, it does not count.
        if failed_start "$id"; then
                log "ignoring session $id of $user: its start failed (being refused)."
                continue
        fi

        log "refusing session $me of $user: session $id (start $start) is still active."
        echo "$REASON"
        exit 1
done

log "session $me allowed: no other active session of uid $my_uid."
exit 0
