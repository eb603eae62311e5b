#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Credentials from IMDSv2 (the last link of the chain) against a local fixture serving the documented
# paths (imds-fixture.py, token required), with temporary credentials from radosgw's STS
# (GetSessionToken), so the session token is checked by the real server:
#  - no environment keys, no credentials file: the uploader asks IMDS (PUT token with TTL, role, role
#    credentials, each GET with the token) and delivers, sending x-amz-security-token;
#  - a wrong session token is rejected by S3: nothing deleted; once IMDS serves the right one the
#    uploader fetches again by itself and delivers, without a restart;
#  - short-lived credentials are fetched again before they expire.

source "$MESON_SOURCE_ROOT/tests/integration/upload/upload-lib.sh"
scenario_begin
up_setup

python=$(command -v python3) || up_fail "python3 is needed on the host for the IMDS fixture"
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
# The fixture runs on the host (the container shares its network) and exits with this script.

# Temporary credentials from the server itself (radosgw STS, GetSessionToken). STS must be on
# (rgw_s3_auth_use_sts, rgw_sts_key: read by radosgw at start, so set in the monitor's config
# database and radosgw restarted) and the test user needs a policy allowing sts:GetSessionToken (set
# through radosgw's IAM API, which needs the user-policy capability).
ceph_conf=(-c "$S3_DIR/ceph.conf")
timeout 30 ceph "${ceph_conf[@]}" config set client.rgw rgw_s3_auth_use_sts true >/dev/null
timeout 30 ceph "${ceph_conf[@]}" config set client.rgw rgw_sts_key sessionscripts01 >/dev/null
timeout 30 radosgw-admin "${ceph_conf[@]}" -n client.rgw caps add --uid=session-scripts-test \
        --caps="user-policy=*" >/dev/null 2>&1 || up_fail "cannot grant user-policy caps"
s3_stop
s3_resume
policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetSessionToken"],"Resource":"*"}]}'
curl -sS -f -o /dev/null --aws-sigv4 "aws:amz:$S3_REGION:iam" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        --data-urlencode "Action=PutUserPolicy" --data-urlencode "PolicyDocument=$policy" \
        --data-urlencode "PolicyName=allow-sts" --data-urlencode "UserName=session-scripts-test" \
        --data-urlencode "Version=2010-05-08" "$S3_ENDPOINT/" || up_fail "PutUserPolicy failed"
sts=$(curl -sS --aws-sigv4 "aws:amz:$S3_REGION:sts" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -d "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=3600" "$S3_ENDPOINT/" || true)
xml() {
        sed -n "s:.*<$1>\([^<]*\)</$1>.*:\1:p" <<<"$sts" | head -n1
}
AK=$(xml AccessKeyId)
SK=$(xml SecretAccessKey)
TOKEN=$(xml SessionToken)
if [ -z "$AK" ] || [ -z "$SK" ] || [ -z "$TOKEN" ]; then
        echo "radosgw STS answered: $sts"
        up_fail "no temporary credentials from the bed's radosgw (STS: rgw_s3_auth_use_sts, rgw_sts_key)"
fi

write_creds() {         # ACCESS SECRET TOKEN LIFETIME
        printf '{"AccessKeyId": "%s", "SecretAccessKey": "%s", "Token": "%s", "LifetimeSeconds": %s}\n' \
                "$1" "$2" "$3" "$4" > "$work/creds.json.tmp"
        mv "$work/creds.json.tmp" "$work/creds.json"
}
write_creds "$AK" "$SK" "$TOKEN" 21600
: > "$work/imds.log"
"$python" "$MESON_SOURCE_ROOT/tests/integration/upload/imds-fixture.py" "$port" bed-upload-role \
        "$work/creds.json" "$work/imds.log" &
for _ in $(seq 50); do
        curl -s -o /dev/null -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "http://127.0.0.1:$port/latest/api/token" && break
        sleep 0.1
done

# Only IMDS: no keys in the environment, no credentials file.
up_env "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$port"
up_start

prefix="stack/fleet/federated/a0bcb1da11f480d9b5b3e90f91243143eac04cfccfbdc777e740fab628a1cd13"
id=$(up_new_id)
echo "delivered with IMDS credentials" | up_entry "$id" "$prefix/imds-1/SessionScriptsLogs/SessionStart/system.log" finished
up_wait_empty 30
up_assert_eq "$(up_object "$prefix/imds-1/SessionScriptsLogs/SessionStart/system.log")" \
        "delivered with IMDS credentials" "object via IMDS credentials"
cat "$work/imds.log"
grep -q '^PUT /latest/api/token no-token$' "$work/imds.log" || up_fail "no IMDSv2 token request"
grep -q '^GET /latest/meta-data/iam/security-credentials/ token-ok$' "$work/imds.log" || up_fail "no role request with token"
grep -q '^GET /latest/meta-data/iam/security-credentials/bed-upload-role token-ok$' "$work/imds.log" ||
        up_fail "no credentials request with token"
grep -q 'no-token$' <(grep '^GET' "$work/imds.log") && up_fail "a GET without the IMDSv2 token"

# A wrong session token: S3 rejects it, nothing is deleted; the right one from IMDS delivers.
write_creds "$AK" "$SK" "${TOKEN}broken" 21600
bed_exec systemctl restart "$UP_UNIT"
id=$(up_new_id)
echo "second" | up_entry "$id" "$prefix/imds-2/SessionScriptsLogs/SessionStart/user.log" finished
up_wait_journal 30 "HTTP 4[0-9][0-9]" MESSAGE_ID=$UP_FAILED_ID
sleep 3
up_assert_eq "$(up_spool_count)" 2 "nothing deleted with a wrong session token"
write_creds "$AK" "$SK" "$TOKEN" 21600
up_wait_empty 60
up_assert_eq "$(up_object "$prefix/imds-2/SessionScriptsLogs/SessionStart/user.log")" "second" \
        "object after IMDS served the right token"
bed_exec journalctl -q -u "$UP_UNIT" -o verbose | grep -qF -- "$SK" && up_fail "the secret appeared in the journal"
bed_exec journalctl -q -u "$UP_UNIT" -o verbose | grep -qF -- "$TOKEN" && up_fail "the token appeared in the journal"

# Short-lived credentials (75 s: usable while more than a minute is left) are fetched again.
write_creds "$AK" "$SK" "$TOKEN" 75
bed_exec systemctl restart "$UP_UNIT"
id=$(up_new_id)
echo "third" | up_entry "$id" "$prefix/imds-3/SessionScriptsLogs/SessionStart/user.log" finished
up_wait_empty 30
before=$(grep -c 'security-credentials/bed-upload-role' "$work/imds.log")
sleep 20
id=$(up_new_id)
echo "fourth" | up_entry "$id" "$prefix/imds-4/SessionScriptsLogs/SessionStart/user.log" finished
up_wait_empty 30
after=$(grep -c 'security-credentials/bed-upload-role' "$work/imds.log")
[ "$after" -gt "$before" ] || up_fail "expiring credentials were not fetched again ($before → $after)"
up_assert_eq "$(up_object "$prefix/imds-4/SessionScriptsLogs/SessionStart/user.log")" "fourth" "object after refresh"

rm -rf "$work"
echo "upload-imds: OK"
