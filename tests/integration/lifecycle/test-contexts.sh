#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A real login (pamtester through pam_systemd + pam_session_scripts): both contexts of SessionStart
# run with the right uid/gid/groups/cwd, each in its own scope in the right slice (user context
# under user-UID.slice, system context under system.slice), argv and a clean environment (metadata from the PAM
# environment, else the settings; the home-folder status; LANG from /etc/default/locale), stdin is
# /dev/null and no daemon descriptor leaks; the output is in the journal under the scope unit;
# the session-opened and home-folder entries are journaled; SessionTermination runs exactly once
# (also when CloseSession is called again); unprivileged ListSessions shows only one's own.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

SID=ctx-session-1
ss_prepare_out

ss_install_settings <<'EOF'
[Session]
StackName=stack-from-settings
FleetName=fleet-from-settings
AccessMode=userpool
EOF
printf 'LANG=en_US.UTF-8\n' > "$BED_ROOT/etc/default/locale"

# Each script reports who and where it is, what it got, and what it holds open.
report='
ctx=$AppStream_Session_Context
out=/var/tmp/ss-out/$ctx
id -u > $out.uid
id -g > $out.gid
id -G | tr " " "\n" | sort -n > $out.groups
pwd > $out.cwd
tr "\0" "\n" < /proc/$$/environ | sort > $out.env
for a in "$@"; do printf "%s\n" "$a"; done > $out.argv
readlink /proc/$$/fd/0 > $out.stdin
# The hierarchy systemd manages: the unified one, or name=systemd on pure cgroup v1 (BED_CGROUP=legacy).
if [ -e /sys/fs/cgroup/cgroup.controllers ] || [ -d /sys/fs/cgroup/unified ]; then h="0:"; else h="[0-9]*:name=systemd"; fi
sed -n "s/^$h://p" /proc/$$/cgroup > $out.cgroup
ls -l /proc/self/fd | sed -n "s/.* \([0-9]*\) -> \(.*\)/\1 \2/p" > $out.fds
'
ss_install_script start-system.sh <<EOF
#!/bin/bash
$report
echo "system-start-line for \$AppStream_UserName"
EOF
ss_install_script start-user.sh <<EOF
#!/bin/bash
$report
echo "user-start-line"
echo "user-stderr-line" >&2
EOF
ss_install_script term-system.sh <<'EOF'
#!/bin/sh
echo "term $AppStream_Session_ID $AppStream_Session_Event" >> /var/tmp/ss-out/term.log
EOF
ss_install_config <<'EOF'
{
  "SessionStart": {
    "Executables": [
      { "context": "system", "filename": "/opt/appstream/SessionScripts/start-system.sh", "arguments": "" },
      { "context": "user", "filename": "/opt/appstream/SessionScripts/start-user.sh",
        "arguments": "--flag \"a b\" 'c d'" }
    ],
    "WaitingTime": 20
  },
  "SessionTermination": {
    "executables": [ { "context": "system", "filename": "/opt/appstream/SessionScripts/term-system.sh" } ],
    "waitingTime": 20
  }
}
EOF

# Metadata from the PAM environment (pam_env runs before our module); the rest from the settings.
cat > "$BED_ROOT/etc/ss-test-env.conf" <<EOF
AppStream_Session_ID DEFAULT=$SID
AppStream_Stack_Name DEFAULT=stack-from-pam
EOF
ss_pam_stack ss-test "" "session required pam_env.so readenv=0 conffile=/etc/ss-test-env.conf"

# The home-folder status the daemon reads at session start.
bed_exec_user alice sh -c 'mkdir -p ~/.config/appstream-home-folder &&
        echo appstream_home_folder_mount_status=True > ~/.config/appstream-home-folder/appstream-home-folder-mount-status'

ss_start_daemon

out=$(ss_login ss-test alice open_session close_session)
echo "$out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "pamtester exit status"
ss_assert_contains "$out" "successfully opened a session"
ss_assert_not_contains "$out" "Session script" "no failure message expected"

uid=$(bed_exec id -u alice)
gid=$(bed_exec id -g alice)
groups=$(bed_exec id -G alice | tr ' ' '\n' | sort -n)

# expected_env CONTEXT HOME USER SHELL [XDG_RUNTIME_DIR] — the environment (sorted) the SessionStart
# script of CONTEXT must get in alice's session SID: nothing of the daemon's own.
expected_env() {
        sort <<EOF
HOME=$2
USER=$3
LOGNAME=$3
SHELL=$4
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LANG=en_US.UTF-8
${5:+XDG_RUNTIME_DIR=$5
}AppStream_Session_ID=$SID
AppStream_UserName=alice
AppStream_User_Access_Mode=userpool
AppStream_Stack_Name=stack-from-pam
AppStream_Resource_Name=fleet-from-settings
AppStream_Home_Folder_Mount_Status=True
AppStream_Session_Event=SessionStart
AppStream_Session_Context=$1
AppStream_Session_Script=/opt/appstream/SessionScripts/start-$1.sh
AppStream_Session_User=alice
EOF
}

# --- user context
ss_assert_eq "$(ss_file $SS_OUT/user.uid)" "$uid" "user context uid"
ss_assert_eq "$(ss_file $SS_OUT/user.gid)" "$gid" "user context gid"
ss_assert_eq "$(ss_file $SS_OUT/user.groups)" "$groups" "user context groups"
ss_assert_eq "$(ss_file $SS_OUT/user.cwd)" "/home/alice" "user context cwd"
ss_assert_eq "$(ss_file $SS_OUT/user.argv)" $'--flag\na b\nc d' "user context argv"
ss_assert_eq "$(ss_file $SS_OUT/user.env)" "$(expected_env user /home/alice alice /bin/bash "/run/user/$uid")" \
        "user context environment"

# --- system context
ss_assert_eq "$(ss_file $SS_OUT/system.uid)" 0 "system context uid"
ss_assert_eq "$(ss_file $SS_OUT/system.gid)" 0 "system context gid"
ss_assert_eq "$(ss_file $SS_OUT/system.groups)" 0 "system context groups"
ss_assert_eq "$(ss_file $SS_OUT/system.cwd)" / "system context cwd"
ss_assert_eq "$(ss_file $SS_OUT/system.argv)" "" "system context argv"
ss_assert_eq "$(ss_file $SS_OUT/system.env)" "$(expected_env system /root root /bin/sh)" "system context environment"

# --- cgroups: each run in its own transient scope, in the slice of its context; the scope is the
# unit its journal entries name.
user_unit=$(ss_run_unit $SID SessionStart user)
system_unit=$(ss_run_unit $SID SessionStart system)
echo "scopes: $user_unit, $system_unit"
[[ "$user_unit" =~ ^session-scripts-start-user-$SID-[0-9a-f]{8}\.scope$ ]] || bed_fail "user run's scope: '$user_unit'"
[[ "$system_unit" =~ ^session-scripts-start-system-$SID-[0-9a-f]{8}\.scope$ ]] || bed_fail "system run's scope: '$system_unit'"
ss_assert_eq "$(ss_file $SS_OUT/user.cgroup)" "/user.slice/user-$uid.slice/$user_unit" "user context cgroup"
ss_assert_eq "$(ss_file $SS_OUT/system.cgroup)" "/system.slice/$system_unit" "system context cgroup"

# --- stdin and descriptors: 0 is /dev/null, 2 is the capture pipe (1 is the pipe to sed here);
# besides, only the script itself (the verified fd the interpreter was
# started from) and ls's own directory fd may be open.
for ctx in user system; do
        ss_assert_eq "$(ss_file $SS_OUT/$ctx.stdin)" /dev/null "$ctx context stdin"
        fds=$(ss_file $SS_OUT/$ctx.fds)
        ss_assert_contains "$fds" "0 /dev/null" "$ctx fd 0"
        ss_assert_contains "$fds" "2 pipe:" "$ctx fd 2"
        leaked=$(grep -v -E "^(0 /dev/null|1 pipe:.*|2 pipe:.*|[0-9]+ /proc/[0-9]+/fd|[0-9]+ $SS_DIR/start-$ctx.sh)\$" <<<"$fds" || true)
        [ -z "$leaked" ] || bed_fail "$ctx context inherited descriptors: $leaked"
done

# --- journal: output lines under the scope unit, summary, session-opened and home-folder entries
unit=$(ss_run_unit $SID SessionStart user)
[ -n "$unit" ] || bed_fail "no summary entry with the user run's scope unit"
case "$unit" in *.scope) ;; *) bed_fail "run unit '$unit' is not a scope" ;; esac
scope_log=$(bed_journal -o cat -u "$unit")
echo "journalctl -u $unit:"
echo "$scope_log"
ss_assert_contains "$scope_log" "user-start-line" "journalctl -u <scope> shows stdout"
ss_assert_contains "$scope_log" "user-stderr-line" "journalctl -u <scope> shows stderr"
sys_unit=$(ss_run_unit $SID SessionStart system)
ss_assert_contains "$(bed_journal -o cat -u "$sys_unit")" "system-start-line for alice"

opened=$(bed_journal -o cat MESSAGE_ID=0049255b643448e4aadbb7be32ceede5 SESSION_SCRIPTS_SESSION_ID=$SID)
ss_assert_contains "$opened" "Session $SID of user alice opened" "session-opened entry"
home=$(bed_journal -o export MESSAGE_ID=139fdb3195f543c48a54218f82b00bf9 SESSION_SCRIPTS_SESSION_ID=$SID)
ss_assert_contains "$home" "SESSION_SCRIPTS_HOME_FOLDER_MOUNT_STATUS=True" "home-folder entry"

# --- termination ran exactly once, and a second CloseSession runs nothing
ss_assert_eq "$(ss_file $SS_OUT/term.log)" "term $SID SessionTermination" "termination ran once"
again=$(ss_call CloseSession 'sa{ss}' $SID 0)
ss_assert_eq "$again" "st \"$SID\" 0" "second CloseSession"
waited=$(ss_call WaitSessionEvent ss $SID SessionTermination)
ss_assert_eq "$waited" 'bss true "" ""' "WaitSessionEvent after termination"
sleep 0.5
ss_assert_eq "$(ss_file $SS_OUT/term.log)" "term $SID SessionTermination" "termination still ran once"

# --- ListSessions: root sees the session, its user too, another user does not
ss_assert_contains "$(ss_call ListSessions)" "\"$SID\" \"alice\"" "root ListSessions"
ss_assert_contains "$(bed_exec_user alice busctl call "${SS_BUS_ARGS[@]}" ListSessions)" "\"$SID\"" \
        "alice ListSessions"
ss_assert_eq "$(bed_exec_user bob busctl call "${SS_BUS_ARGS[@]}" ListSessions)" "a(ssutss) 0" "bob ListSessions"
ss_assert_contains "$(ss_call ListRuns s $SID)" "\"SessionTermination\" \"system\"" "ListRuns"

echo "OK: contexts, environment, descriptors, journal, termination once"
