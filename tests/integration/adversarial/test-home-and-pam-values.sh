#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A user's $HOME and PAM environment as the attacker arranges them:
#   - the home-folder status file is a FIFO nobody writes to: the login is not held up, the status
#     reads Unknown;
#   - ~/.config is a symlink to a directory the user cannot read (root's), holding a status file
#     that says True: the status is read with the user's rights and without following the link,
#     so it stays Unknown — root's file is never what the daemon reports;
#   - the status file is a symlink to a file the user may read that says True: not followed;
#   - a real status file says True: read as True (the control case);
#   - a PAM environment value over the module's bound (a 6,000-byte AppStream_Stack_Name, what
#     pam_env still passes on): left out and logged, the scripts run with the settings' default,
#     the login succeeds.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
scenario_begin

STATUS_DIR=.config/appstream-home-folder
STATUS_FILE=$STATUS_DIR/appstream-home-folder-mount-status

ss_prepare_out
ss_install_script start.sh <<'EOF'
#!/bin/sh
echo "$AppStream_Session_User status=$AppStream_Home_Folder_Mount_Status stack=$AppStream_Stack_Name" >> /var/tmp/ss-out/start.log
EOF
ss_prepare_log start.log
ss_install_config_system 10 "$SS_DIR/start.sh"
ss_pam_stack ss-test
ss_start_daemon

# status_of USER — the status the start script of USER's last login saw.
status_of() {
        bed_exec grep "^$1 " /var/tmp/ss-out/start.log | tail -n 1 | sed 's/.* status=\([A-Za-z]*\) .*/\1/'
}

# --- a FIFO in place of the status file
bed_exec_user alice sh -c "mkdir -p ~/$STATUS_DIR && mkfifo ~/$STATUS_FILE"
out=$(ss_login ss-test alice open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login with a FIFO as status file"
ms=$(ss_result_field "$out" ms)
[ "$ms" -lt 3000 ] || bed_fail "a FIFO as status file held the login for $ms ms"
ss_assert_eq "$(status_of alice)" Unknown "a FIFO reads as Unknown"

# --- ~/.config a symlink into root's directory, where a status file says True
bed_exec sh -c "mkdir -p /root/$STATUS_DIR && echo appstream_home_folder_mount_status=True > /root/$STATUS_FILE"
bed_exec_user bob sh -c 'rm -rf ~/.config && ln -s /root/.config ~/.config'
out=$(ss_login ss-test bob open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login with ~/.config a symlink to root's"
ss_assert_eq "$(status_of bob)" Unknown "a symlinked ~/.config is not followed"

# --- the status file a symlink to a readable file that says True
bed_exec sh -c "echo appstream_home_folder_mount_status=True > /var/tmp/ss-out/fake-status && chmod 0644 /var/tmp/ss-out/fake-status"
bed_exec_user user01 sh -c "mkdir -p ~/$STATUS_DIR && ln -s /var/tmp/ss-out/fake-status ~/$STATUS_FILE"
ss_login ss-test user01 open_session close_session >/dev/null
ss_assert_eq "$(status_of user01)" Unknown "a symlinked status file is not followed"

# --- the control: a real status file
bed_exec_user user02 sh -c "mkdir -p ~/$STATUS_DIR && echo appstream_home_folder_mount_status=True > ~/$STATUS_FILE"
ss_login ss-test user02 open_session close_session >/dev/null
ss_assert_eq "$(status_of user02)" True "a real status file reads as True"

# --- oversized and multi-line PAM environment values
huge=$(head -c 6000 /dev/zero | tr '\0' 'x')
printf 'AppStream_Stack_Name DEFAULT=%s\n' "$huge" > "$BED_ROOT/etc/ss-huge.conf"
bed_pam_service ss-huge "session required pam_env.so readenv=0 conffile=/etc/ss-huge.conf
session required pam_systemd.so
session optional pam_session_scripts.so debug"
out=$(ss_login ss-huge user03 open_session close_session)
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login with an oversized PAM environment value"
line=$(bed_exec grep '^user03 ' /var/tmp/ss-out/start.log | tail -n 1)
ss_assert_contains "$line" "stack=default" "the oversized value was left out, the default used"
ss_assert_not_contains "$line" "xxxxxxxxxx" "no part of the oversized value reached the script"
bed_journal -o cat | grep -q "Value of AppStream_Stack_Name is too long or not UTF-8, not passing it on." ||
        bed_fail "the module did not say it dropped the oversized value"
echo "OK"
