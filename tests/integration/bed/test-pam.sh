#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Real PAM logins in the container get logind sessions: `pamtester login alice open_session
# close_session` (Debian's login stack, with pam_systemd) makes logind announce a new session for
# alice; a test service written with bed_pam_service sees XDG_SESSION_ID from pam_systemd during
# open_session, and the session is gone once closed.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

bed_exec pamtester login alice open_session close_session >/dev/null \
        || bed_fail "pamtester login alice open_session close_session failed"
# Without a TTY pam_systemd registers a "background" session, which logind announces only at debug
# level; systemd's line about the session's scope shows it was created.
bed_wait_journal 5 'Started session-[0-9a-z]+\.scope - Session [0-9a-z]+ of User alice\.' \
        || bed_fail "no logind session scope was started for alice"

# A service of our own: pam_systemd, then pam_exec running a probe while the session is open (it
# gets the PAM environment, so XDG_SESSION_ID).
cat >"$BED_ROOT/usr/local/bin/bed-session-probe" <<'SH'
#!/bin/sh
{
        echo "XDG_SESSION_ID=$XDG_SESSION_ID"
        loginctl show-session "$XDG_SESSION_ID" -p Name -p Active -p Class
        # The hierarchy systemd manages: the unified one on a cgroup2 /sys/fs/cgroup (the bed's
        # default), name=systemd on legacy/hybrid.
        if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
                grep '^0::' /proc/self/cgroup
        else
                grep 'name=systemd' /proc/self/cgroup
        fi
} >/run/bed-session-probe 2>&1
SH
chmod 0755 "$BED_ROOT/usr/local/bin/bed-session-probe"
bed_pam_service bed-test "session required pam_systemd.so class=user
session required pam_exec.so /usr/local/bin/bed-session-probe"

bed_exec pamtester bed-test bob open_session close_session >/dev/null \
        || bed_fail "pamtester bed-test bob open_session close_session failed"
probe=$(cat "$BED_ROOT/run/bed-session-probe")
echo "$probe" | sed 's/^/  probe: /' >&2
grep -q '^XDG_SESSION_ID=.' <<<"$probe" || bed_fail "no XDG_SESSION_ID during open_session"
grep -q '^Name=bob$' <<<"$probe" || bed_fail "logind does not know the session as bob's"
grep -q '^Class=user$' <<<"$probe" || bed_fail "the session is not a user session"
grep -Eq 'user-[0-9]+\.slice/session-[^/]+\.scope' <<<"$probe" || bed_fail "the session's process is not in its scope"
bed_wait_journal 5 "New session $(sed -n 's/^XDG_SESSION_ID=//p' <<<"$probe") of user bob\." -u systemd-logind.service \
        || bed_fail "logind did not announce bob's session"

id=$(sed -n 's/^XDG_SESSION_ID=//p' <<<"$probe")
session_gone() { ! bed_exec loginctl show-session "$id" -p State >/dev/null 2>&1 \
                 || [ "$(bed_exec loginctl show-session "$id" -P State)" = closing ]; }
bed_wait_until 10 session_gone || bed_fail "session $id still open after close_session"

echo "ok: pamtester logins open logind sessions (XDG_SESSION_ID=$id for bob)"
