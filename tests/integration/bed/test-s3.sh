#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The bed's first test: the S3 server really checks requests, seen from inside the container. A
# correctly signed PUT succeeds; a PUT signed with a wrong secret gets 403 SignatureDoesNotMatch; a
# PUT whose x-amz-content-sha256 does not match the body gets 400 XAmzContentSHA256Mismatch; only
# the good object exists afterwards. s3_stop/s3_pause/s3_resume make the server unreachable and
# bring it back with the same objects.

source "$MESON_SOURCE_ROOT/tests/integration/lib.sh"
bed_init
s3_start
bed_boot

# A signed PUT from inside: curl's SigV4 does not add x-amz-content-sha256 itself (7.88), so the
# caller does. Prints "HTTP-CODE BODY".
cat >"$BED_ROOT/usr/local/bin/bed-s3-put" <<'SH'
#!/bin/sh
# bed-s3-put SECRET PAYLOAD-HASH FILE KEY
set -u
curl -sS -o /root/bed-s3-put.body -w '%{http_code}' -T "$3" \
        --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$1" \
        -H "x-amz-content-sha256: $2" "$S3_ENDPOINT/$S3_BUCKET/$4"
echo " $(cat /root/bed-s3-put.body)"
SH
chmod 0755 "$BED_ROOT/usr/local/bin/bed-s3-put"

s3_put_inside() {
        bed_exec env S3_REGION="$S3_REGION" S3_ACCESS_KEY="$S3_ACCESS_KEY" S3_ENDPOINT="$S3_ENDPOINT" \
                S3_BUCKET="$S3_BUCKET" bed-s3-put "$@"
}

echo "hello from the container $RANDOM" >"$BED_ROOT/root/object"
good_hash=$(sha256sum <"$BED_ROOT/root/object" | cut -d' ' -f1)

out=$(s3_put_inside "$S3_SECRET_KEY" "$good_hash" /root/object bed/good.txt)
[[ "$out" == "200 "* ]] || bed_fail "correctly signed PUT: $out"

out=$(s3_put_inside "wrong$S3_SECRET_KEY" "$good_hash" /root/object bed/wrong-secret.txt)
[[ "$out" == "403 "* && "$out" == *"<Code>SignatureDoesNotMatch</Code>"* ]] \
        || bed_fail "PUT signed with a wrong secret was not rejected with 403 SignatureDoesNotMatch: $out"

out=$(s3_put_inside "$S3_SECRET_KEY" "$S3_EMPTY_SHA256" /root/object bed/wrong-hash.txt)
[[ "$out" == "400 "* && "$out" == *"<Code>XAmzContentSHA256Mismatch</Code>"* ]] \
        || bed_fail "PUT with a wrong x-amz-content-sha256 was not rejected with 400 XAmzContentSHA256Mismatch: $out"

# From the host: the good object has the right content, the rejected ones do not exist.
s3_get bed/good.txt >"$BED_TMP/got" || bed_fail "s3_get of the uploaded object failed"
cmp -s "$BED_TMP/got" "$BED_ROOT/root/object" || bed_fail "downloaded object differs from the upload"
! s3_get bed/wrong-secret.txt >/dev/null 2>&1 || bed_fail "the PUT with a wrong secret stored an object"
keys=$(s3_list bed/)
[ "$keys" = "bed/good.txt" ] || bed_fail "unexpected keys under bed/: $keys"

# Keys that need percent-encoding, listing with a prefix and pagination-free listing.
echo x >"$BED_TMP/x"
s3_put "odd key/ä b+c=d.txt" "$BED_TMP/x" || bed_fail "s3_put of a key with special characters"
[ "$(s3_get "odd key/ä b+c=d.txt")" = x ] || bed_fail "s3_get of a key with special characters"
[ "$(s3_list "odd key/")" = "odd key/ä b+c=d.txt" ] || bed_fail "s3_list with a prefix: $(s3_list "odd key/")"

# Stopped: connection refused inside; resumed: the same objects are there.
s3_stop
rc=0; bed_exec curl -s -o /dev/null -m 5 "$S3_ENDPOINT/" || rc=$?
[ "$rc" = 7 ] || bed_fail "after s3_stop curl should fail to connect (7), got $rc"
s3_resume
s3_get bed/good.txt | cmp -s - "$BED_ROOT/root/object" || bed_fail "object lost across s3_stop/s3_resume"

# Paused: requests time out; resumed: answered again.
s3_pause
rc=0; bed_exec curl -s -o /dev/null -m 2 "$S3_ENDPOINT/" || rc=$?
[ "$rc" = 28 ] || bed_fail "after s3_pause curl should time out (28), got $rc"
s3_resume
s3_get bed/good.txt | cmp -s - "$BED_ROOT/root/object" || bed_fail "object lost across s3_pause/s3_resume"

echo "ok: signed PUT accepted, wrong secret 403, wrong payload hash 400, stop/pause/resume keep data"
