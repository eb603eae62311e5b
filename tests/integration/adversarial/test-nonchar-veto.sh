#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A user tries to get past the veto (`session required pam_session_scripts.so require_success`
# after pam_systemd, a start script exiting 7) with values the module cannot send as they are.
# pam_systemd is on an optional line, as in Debian's common-session: it fails itself on a PAM_RHOST
# that sd-bus refuses, and on a required line that alone would refuse the login and hide what our
# module does.
#   - a PAM_RHOST (`pamtester -I rhost=…`, as a remote login program sets it from what the client
#     says) or an AppStream_* value (through a pam_env line before the module) that contains a
#     Unicode non-character (U+FFFE, U+FDD0, U+FFFF, U+10FFFF) or an invalid byte: sd-bus refuses
#     such a string, and a module that put it into its call would fail open. The login is refused
#     all the same: the module leaves the value out (journaled), the start script runs without it
#     and its failure refuses the login. With a passing script the same login is let in (the value
#     is dropped, the call is not failed).
#   - a PAM user name that is not UTF-8 (latin-1 "jörg", written into /etc/passwd): without
#     require_success the login goes on (fail-open, journaled by the module); with require_success
#     it is refused.
# And the daemon's side: an executable named with a non-character in config.json does not make
# ListRuns fail (every string the daemon sends goes through the same validator).

source "$MESON_SOURCE_ROOT/tests/integration/adversarial/adversarial-lib.sh"
scenario_begin

ss_prepare_out
# Fails (exit 7) while $SS_OUT/veto exists; records its run and the metadata it was given.
ss_install_script start.sh <<'EOF'
#!/bin/sh
out=/var/tmp/ss-out
printf '%s stack=%s resource=%s\n' "$AppStream_Session_ID" "${AppStream_Stack_Name-}" \
        "${AppStream_Resource_Name-}" >> "$out/runs.$AppStream_Session_User"
if [ -e "$out/veto" ]; then
        echo "Not today."
        exit 7
fi
exit 0
EOF
ss_install_config_system 5 "$SS_DIR/start.sh"
bed_pam_service ss-veto "session optional pam_systemd.so
session required pam_session_scripts.so debug require_success"
ss_start_daemon

# login SERVICE USER [PAMTESTER-OPTIONS…] — open_session close_session; prints pamtester's output
# and the SS_RESULT line (see ss_login).
login() {
        local service=$1 user=$2
        shift 2
        bed_exec bash -c '
                service=$1 user=$2; shift 2
                pamtester -v "$@" "$service" "$user" open_session close_session 2>&1
                echo "SS_RESULT rc=$?"' bash "$service" "$user" "$@"
}

runs() {
        ss_file "$SS_OUT/runs.$1" | wc -l
}

# expect_refused WHAT SERVICE USER [PAMTESTER-OPTIONS…] — the login fails, and because the start
# script ran and failed (one more run recorded, its reason shown), not because the call failed.
expect_refused() {
        local what=$1 service=$2 user=$3 before out rc
        shift 3
        before=$(runs "$user")
        out=$(login "$service" "$user" "$@")
        echo "$what: $out"
        rc=$(ss_result_field "$out" rc)
        [ "$rc" != 0 ] || bed_fail "$what: the login succeeded although the start script failed (require_success)"
        ss_assert_eq "$(runs "$user")" $((before + 1)) "$what: start script runs"
        ss_assert_contains "$out" "Not today." "$what: the script's reason shown"
}

# expect_allowed WHAT SERVICE USER [PAMTESTER-OPTIONS…] — with a passing script, the login goes on
# and the script ran.
expect_allowed() {
        local what=$1 service=$2 user=$3 before out
        shift 3
        before=$(runs "$user")
        out=$(login "$service" "$user" "$@")
        echo "$what: $out"
        ss_assert_eq "$(ss_result_field "$out" rc)" 0 "$what: login with a passing start script"
        ss_assert_eq "$(runs "$user")" $((before + 1)) "$what: start script runs"
}

declare -A bad=(
        [U+FFFE]=$'\xef\xbf\xbe'
        [U+FFFF]=$'\xef\xbf\xbf'
        [U+FDD0]=$'\xef\xb7\x90'
        [U+10FFFF]=$'\xf4\x8f\xbf\xbf'
        [invalid-byte]=$'\xff'
)

# ---- the veto holds for a plain login -------------------------------------------------------------
bed_exec touch "$SS_OUT/veto"
expect_refused "plain login" ss-veto alice

# ---- PAM_RHOST --------------------------------------------------------------------------------------
for name in "${!bad[@]}"; do
        expect_refused "PAM_RHOST with $name" ss-veto alice -I "rhost=attacker${bad[$name]}.example"
done

# ---- AppStream_* through pam_env ----------------------------------------------------------------
for name in "${!bad[@]}"; do
        # libpam lowercases service names: so must the file names in /etc/pam.d.
        service=ss-env-${name//+/}
        service=${service,,}
        conf=/etc/$service.conf
        printf 'AppStream_Stack_Name DEFAULT="stack%s"\nAppStream_Resource_Name DEFAULT="res%s"\n' \
                "${bad[$name]}" "${bad[$name]}" > "$BED_ROOT$conf"
        bed_pam_service "$service" "session optional pam_systemd.so
session required pam_env.so conffile=$conf readenv=0
session required pam_session_scripts.so debug require_success"
        expect_refused "AppStream_Stack_Name/AppStream_Resource_Name with $name" "$service" bob
        last=$(ss_file "$SS_OUT/runs.bob" | tail -n1)
        ss_assert_not_contains "$last" "${bad[$name]}" "the unusable value reached the script ($name)"
done
# A valid non-ASCII value still arrives (the check drops only what sd-bus refuses).
printf 'AppStream_Stack_Name DEFAULT="st\xc3\xa4ck\xef\xbf\xbd"\n' > "$BED_ROOT/etc/ss-env-good.conf"
bed_pam_service ss-env-good "session optional pam_systemd.so
session required pam_env.so conffile=/etc/ss-env-good.conf readenv=0
session required pam_session_scripts.so debug require_success"
expect_refused "AppStream_Stack_Name with ä and U+FFFD" ss-env-good bob
ss_assert_contains "$(ss_file "$SS_OUT/runs.bob" | tail -n1)" $'stack=st\xc3\xa4ck\xef\xbf\xbd' \
        "a valid value reached the script"

# ---- the value is dropped, the call is not failed: a passing script lets the login in ---------------
bed_exec rm -f "$SS_OUT/veto"
expect_allowed "PAM_RHOST with U+FFFE, passing script" ss-veto alice -I "rhost=attacker${bad[U+FFFE]}.example"
expect_allowed "AppStream_* with U+FDD0, passing script" ss-env-ufdd0 bob
journal=$(bed_journal -o cat)
grep -qF 'PAM_RHOST' <<<"$journal" || bed_fail "the module did not journal the PAM_RHOST it left out"
grep -qF 'AppStream_Stack_Name' <<<"$journal" || bed_fail "the module did not journal the AppStream value it left out"

# ---- a PAM user name that is not UTF-8 -------------------------------------------------------------
latin1=$'j\xf6rg'
bed_exec sh -c 'printf "%s:x:1500:100::/home/jorg:/bin/bash\n" "$1" >> /etc/passwd &&
        printf "%s:!:19000:0:99999:7:::\n" "$1" >> /etc/shadow && mkdir -p /home/jorg && chown 1500:100 /home/jorg' \
        sh "$latin1"
bed_exec getent passwd 1500 | grep -q "^$latin1:" || bed_fail "the latin-1 user was not created"
# pam_systemd would refuse such a user before our module is asked: the module alone.
bed_pam_service ss-user-open "session required pam_session_scripts.so debug"
bed_pam_service ss-user-veto "session required pam_session_scripts.so debug require_success"
mark=$(ss_journal_mark)
out=$(login ss-user-open "$latin1")
echo "latin-1 user, no require_success: $out"
ss_assert_eq "$(ss_result_field "$out" rc)" 0 "a non-UTF-8 user name without require_success fails open"
bed_journal --cursor="$mark" -o cat | grep -i 'utf-8' ||
        bed_fail "the module did not journal why it let the non-UTF-8 user in without scripts"
out=$(login ss-user-veto "$latin1")
echo "latin-1 user, require_success: $out"
[ "$(ss_result_field "$out" rc)" != 0 ] || bed_fail "a non-UTF-8 user name got past require_success"
ss_assert_not_contains "$(ss_call ListSessions)" " 1500 " "a session of the latin-1 user"

# ---- a non-character the daemon itself would put on the bus ---------------------------------------
# config.json may name an executable with a non-character (JSON allows it, here as a \ufffe escape):
# ListRuns, which sends the name, still answers (the name made valid), and the login goes on.
bad_script="start-${bad[U+FFFE]}.sh"
ss_install_script "$bad_script" < "$BED_ROOT$SS_DIR/start.sh"
ss_install_config <<EOF
{
  "SessionStart": { "executables": [ { "context": "system", "filename": "$SS_DIR/start-\\ufffe.sh" } ], "waitingTime": 5 }
}
EOF
bed_exec systemctl reload session-scripts.service || bed_fail "the config naming $bad_script was refused"
expect_allowed "executable with U+FFFE in its name" ss-veto alice
id=$(ss_file "$SS_OUT/runs.alice" | tail -n1 | cut -d' ' -f1)
runs=$(ss_call ListRuns s "$id" 2>&1) || bed_fail "ListRuns of a session whose executable has U+FFFE failed: $runs"
echo "ListRuns $id: $runs"
ss_assert_contains "$runs" "\"$SS_DIR/start-?.sh\" \"success\"" "ListRuns names the executable, made valid"

echo "OK: non-characters and invalid bytes in PAM_RHOST and AppStream_* never turned the veto into" \
        "fail-open; a non-UTF-8 user name fails open without require_success and is refused with it"
