#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Who sees which sessions: alice (two sessions) and bob (one) are logged in. A normal user calling
# ListSessions with plain busctl sees exactly her own sessions, a user without sessions sees none,
# root sees all; ListRuns works on one's own session and reports someone else's as unknown; the
# bus policy keeps normal users away from the privileged methods (AccessDenied) but lets them
# introspect.

source "$MESON_SOURCE_ROOT/tests/integration/policy/policy-lib.sh"
scenario_begin

ss_prepare_out
pol_install_id_recorder start-system.sh
ss_install_config_system 10 "$SS_DIR/start-system.sh"
pol_pam_stack ss-vis optional
ss_start_daemon

# open_session only: the sessions stay registered with the daemon (no close comes).
for u in alice alice bob; do
        out=$(ss_login ss-vis $u open_session)
        ss_assert_eq "$(ss_result_field "$out" rc)" 0 "login of $u"
done
alice_ids=$(ss_file $SS_OUT/ids.alice | sort)
bob_id=$(ss_file $SS_OUT/ids.bob)
ss_assert_eq "$(wc -l <<<"$alice_ids")" 2 "alice has two sessions"

# The exact command of the documentation, as alice.
raw=$(bed_exec_user alice busctl --system call org.sessionscripts.SessionScripts1 \
        /org/sessionscripts/SessionScripts1 org.sessionscripts.Manager1 ListSessions)
echo "alice: $raw"
ss_assert_contains "$raw" "a(ssutss) 2 " "alice's listing has two entries"
ss_assert_eq "$(pol_list_ids alice | sort)" "$alice_ids" "alice sees exactly her sessions"
ss_assert_not_contains "$raw" "\"bob\"" "alice does not see bob"
ss_assert_eq "$(pol_list_ids bob)" "$bob_id" "bob sees exactly his session"
ss_assert_eq "$(bed_exec_user user01 busctl --system call "${SS_BUS_ARGS[@]}" ListSessions)" "a(ssutss) 0" \
        "a user without sessions sees none"
all=$(pol_list_ids | sort)
echo "root: $(tr '\n' ' ' <<<"$all")"
ss_assert_eq "$all" "$(sort <<<"$alice_ids"$'\n'"$bob_id")" "root sees every session"
json=$(bed_exec_user alice busctl --system --json=short call "${SS_BUS_ARGS[@]}" ListSessions)
echo "alice (JSON): $json"
ss_assert_contains "$json" '"type":"a(ssutss)"' "JSON listing"

# ListRuns: own session yes, bob's is "no such session" for alice, root sees both.
a1=$(head -n1 <<<"$alice_ids")
ss_assert_contains "$(bed_exec_user alice busctl --system call "${SS_BUS_ARGS[@]}" ListRuns s "$a1")" \
        "\"SessionStart\" \"system\"" "alice's ListRuns of her session"
other=$(bed_exec_user alice busctl --system call "${SS_BUS_ARGS[@]}" ListRuns s "$bob_id" 2>&1 || true)
ss_assert_contains "$other" "No such session" "alice's ListRuns of bob's session"
ss_assert_contains "$(ss_call ListRuns s "$bob_id")" "\"SessionStart\" \"system\"" "root's ListRuns of bob's session"

# The privileged methods are root's, by the bus policy (and the daemon's own check).
for call in "OpenSession ssa{ss} alice x 0" "CloseSession sa{ss} $a1 0" "WaitSessionEvent ss $a1 SessionStart" \
            "RefuseSession s $bob_id" "Reload"; do
        # shellcheck disable=SC2086
        res=$(bed_exec_user alice busctl --system call "${SS_BUS_ARGS[@]}" $call 2>&1 || true)
        ss_assert_contains "$res" "Access denied" "alice calling ${call%% *}"
done
ss_assert_eq "$(pol_list_ids bob)" "$bob_id" "bob's session is still there"
ss_assert_contains "$(bed_exec_user alice busctl --system introspect "${SS_BUS_ARGS[0]}" "${SS_BUS_ARGS[1]}")" \
        ".RefuseSession" "introspection by a normal user"

echo "OK: a normal user sees only her sessions (alice 2, bob 1, user01 0, root 3); privileged methods denied"
